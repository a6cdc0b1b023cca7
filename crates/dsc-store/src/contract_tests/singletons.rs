// SPDX-License-Identifier: Apache-2.0
//! Singleton leases: one holder of a role at a time, renewals, takeover after expiry, release.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::SqlStore;

pub async fn singleton_roles_have_one_holder_at_a_time(store: &SqlStore) {
    assert!(store.hold_singleton("reconciler", "a", 1_000, 100).await.unwrap());
    assert!(!store.hold_singleton("reconciler", "b", 1_050, 100).await.unwrap(), "a's lease runs");
    assert!(store.hold_singleton("reconciler", "a", 1_050, 100).await.unwrap(), "a renews");
    assert!(!store.hold_singleton("reconciler", "b", 1_149, 100).await.unwrap(), "renewed until 1150");
    assert!(store.hold_singleton("other", "b", 1_149, 100).await.unwrap(), "roles are independent");
    assert!(store.hold_singleton("reconciler", "b", 1_150, 100).await.unwrap(), "a died: b takes over");
    assert!(!store.hold_singleton("reconciler", "a", 1_160, 100).await.unwrap(), "a came back too late");
    store.release_singleton("reconciler", "a").await.unwrap();
    assert!(!store.hold_singleton("reconciler", "a", 1_160, 100).await.unwrap(), "only the holder lets go");
    store.release_singleton("reconciler", "b").await.unwrap();
    assert!(store.hold_singleton("reconciler", "a", 1_160, 100).await.unwrap(), "released: free at once");
}
