// SPDX-License-Identifier: Apache-2.0
//! The client's contract suite (feature `contract-tests`): the same checks run against every authorization server
//! the connector supports (the harness's oidc-provider and Keycloak, the built-in server).
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dsc_vault::SecretString;

use crate::{OAuthClient, OAuthError, OAuthSettings};

/// Register → token → principal → revoke → delete → the deleted client is refused.
pub async fn client_lifecycle(settings: OAuthSettings) {
    let client = OAuthClient::new(settings).unwrap();
    let registered = client.register("dsc-contract-test").await.expect("register");
    assert!(!registered.client_id.is_empty());

    let token = client.token(&registered).await.expect("token");
    assert!(token.expires_in.is_some_and(|s| s > 0), "a lifetime is announced");
    assert_eq!(
        client.principal(&token.access_token).unwrap(),
        registered.client_id,
        "the broker's principal is the client"
    );
    let second = client.token(&registered).await.expect("token");
    assert_ne!(second.access_token.expose(), token.access_token.expose(), "every request gets a fresh token");

    // JWT access tokens for a resource server are self-contained: oidc-provider neither introspects them for other
    // clients nor can it revoke them (the broker checks them itself, which is why Kafka access is cut by ACLs).
    // Both calls must be answered as the RFCs describe: a result, or `unsupported_token_type` (RFC 7009 §2.2.1).
    let acceptable = |result: &Result<(), OAuthError>| {
        result.is_ok() || result.as_ref().err().and_then(OAuthError::code) == Some("unsupported_token_type")
    };
    if client.settings().introspection_endpoint.is_some() {
        let introspected = client.introspect(&registered, &token.access_token).await.map(|_| ());
        assert!(acceptable(&introspected), "introspection: {introspected:?}");
    }
    let revoked = client.revoke(&registered, &token.access_token, "access_token").await;
    assert!(acceptable(&revoked), "revocation: {revoked:?}");
    client
        .revoke(&registered, &SecretString::new("unknown-token"), "access_token")
        .await
        .expect("revoking an unknown token succeeds (RFC 7009 §2.2)");

    client.delete(&registered).await.expect("delete");
    let after = client.token(&registered).await.err();
    assert_eq!(after.as_ref().and_then(OAuthError::code), Some("invalid_client"), "{after:?}");
}

/// A wrong initial access token and a wrong client secret get the standard error codes.
pub async fn bad_credentials(settings: OAuthSettings) {
    let mut wrong_initial = settings.clone();
    wrong_initial.initial_access_token = SecretString::new("not-the-initial-access-token");
    let refused = OAuthClient::new(wrong_initial).unwrap().register("x").await.err();
    assert!(matches!(refused, Some(OAuthError::Refused { status: 401, .. })), "{refused:?}");
    assert_eq!(refused.as_ref().and_then(OAuthError::code), Some("invalid_token"), "RFC 6750 for a bad bearer token");

    let client = OAuthClient::new(settings).unwrap();
    let mut registered = client.register("dsc-contract-test").await.expect("register");
    let real_secret = registered.client_secret.clone();
    registered.client_secret = SecretString::new("wrong-secret");
    let refused = client.token(&registered).await.err();
    assert_eq!(refused.as_ref().and_then(OAuthError::code), Some("invalid_client"), "{refused:?}");
    registered.client_secret = real_secret;
    let _ = client.delete(&registered).await;
}
