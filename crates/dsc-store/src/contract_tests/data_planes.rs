// SPDX-License-Identifier: Apache-2.0
//! Registered data planes: saved, replaced by id, listed oldest first, removed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::SqlStore;
use crate::sql::DataPlaneRecord;

pub async fn data_plane_registrations_round_trip(store: &SqlStore) {
    let record = |id: &str, endpoint: &str, types: &[&str]| DataPlaneRecord {
        id: id.into(),
        endpoint: endpoint.into(),
        transfer_types: types.iter().map(|t| t.to_string()).collect(),
    };
    assert!(store.data_planes().await.unwrap().is_empty());
    store.save_data_plane(&record("a", "http://a/control", &["HttpData-PULL"])).await.unwrap();
    store.save_data_plane(&record("b", "http://b/control", &["AmazonS3-PUSH"])).await.unwrap();
    store.save_data_plane(&record("a", "http://a2/control", &["HttpData-PULL", "HttpData-PUSH"])).await.unwrap();
    let mut all = store.data_planes().await.unwrap();
    all.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(
        all,
        vec![
            record("a", "http://a2/control", &["HttpData-PULL", "HttpData-PUSH"]),
            record("b", "http://b/control", &["AmazonS3-PUSH"])
        ]
    );
    assert!(store.delete_data_plane("a").await.unwrap());
    assert!(!store.delete_data_plane("a").await.unwrap());
    assert_eq!(store.data_planes().await.unwrap(), vec![record("b", "http://b/control", &["AmazonS3-PUSH"])]);
}
