// SPDX-License-Identifier: Apache-2.0
//! The issuer over HTTP: its DID document, the admin API's checks, and revocation as verifiers see it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dsc_dcp::credential::Credential;
use dsc_dcp::status::{StatusList, bit_at};
use dsc_dcp_issuer::{Issuer, router};
use serde_json::{Value, json};

const KEY: &str = "admin-key-for-issuer-tests";

async fn serve(dir: &std::path::Path) -> (String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (did, url) = (format!("did:web:127.0.0.1%3A{port}"), format!("http://127.0.0.1:{port}"));
    let issuer = Issuer::open(&did, &url, dir).unwrap();
    let app = router(issuer, "/.well-known/did.json", dsc_web::ApiKey::new(KEY));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (did, url)
}

#[tokio::test]
async fn issues_revokes_and_remembers() {
    let dir = tempfile::tempdir().unwrap();
    let (did, url) = serve(dir.path()).await;
    let http = reqwest::Client::new();
    let document: Value = http.get(format!("{url}/.well-known/did.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(document["id"], did.as_str());
    assert_eq!(document["assertionMethod"][0], format!("{did}#key-1"));

    let issue = |body: Value, key: &'static str| {
        let (http, url) = (http.clone(), url.clone());
        async move { http.post(format!("{url}/admin/credentials")).bearer_auth(key).json(&body).send().await.unwrap() }
    };
    let holder = "did:web:holder.example";
    let membership = json!({"holder": holder, "type": "MembershipCredential", "bpn": "BPNL000000000002"});
    assert_eq!(issue(membership.clone(), "wrong-key").await.status(), 401);
    let refused = issue(json!({"holder": holder, "type": "BpnCredential", "bpn": "BPN1"}), KEY).await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body[0]["message"], "'BPN1' is not a legal entity BPN (BPNL and 12 characters)");
    let refused: Value =
        issue(json!({"holder": holder, "type": "MembershipCredential"}), KEY).await.json().await.unwrap();
    assert_eq!(refused[0]["message"], "a MembershipCredential needs the holder's bpn");
    let refused: Value = issue(json!({"holder": "holder", "type": "X"}), KEY).await.json().await.unwrap();
    assert_eq!(refused[0]["message"], "holder 'holder' is not a DID");

    let issued = issue(membership, KEY).await;
    assert_eq!(issued.status(), 201);
    let issued: Value = issued.json().await.unwrap();
    let credential = Credential::from_jwt(issued["credential"].as_str().unwrap(), "#0").unwrap();
    assert_eq!(credential.issuer, did);
    assert_eq!(credential.subjects[0]["holderIdentifier"], "BPNL000000000002");
    assert_eq!(credential.subjects[0]["memberOf"], "Catena-X");
    let entry = &credential.status[0];
    let list_of = |http: reqwest::Client, url: String| async move {
        StatusList::parse(&http.get(url).send().await.unwrap().text().await.unwrap()).unwrap()
    };
    assert!(!bit_at(&list_of(http.clone(), entry.list_url.clone()).await.bits, entry.index).unwrap());

    let id = issued["issued"]["id"].as_str().unwrap();
    let revoked = http.post(format!("{url}/admin/credentials/{id}/revoke")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(bit_at(&list_of(http.clone(), entry.list_url.clone()).await.bits, entry.index).unwrap());
    let unknown =
        http.post(format!("{url}/admin/credentials/urn:uuid:nope/revoke")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(unknown.status(), 404);

    // A restarted issuer keeps its key, its records and the revocation.
    let (_, again) = serve(dir.path()).await;
    let list: Value =
        http.get(format!("{again}/admin/credentials")).bearer_auth(KEY).send().await.unwrap().json().await.unwrap();
    assert_eq!(list[0]["revoked"], true);
    assert_eq!(list[0]["statusListIndex"], 0);
}
