// SPDX-License-Identifier: Apache-2.0
//! The built-in OAuth server in the binary: its keys and initial access token from the vault (generated once), and
//! the rotation of its signing key by age.

use std::sync::Arc;
use std::time::Duration;

use dsc_oauth_server::OAuthServer;
use dsc_store::{SingletonLease, SqlStore};
use dsc_vault::Vault;

use crate::runtime::StartError;

/// The server, its vault and the signing key's maximum age in seconds (0: never rotate).
pub type Rotation = (Arc<OAuthServer>, Arc<dyn Vault>, u64);

/// The singleton role of the key rotation among replicas sharing a (database) vault.
const ROTATION_ROLE: &str = "oauth-key-rotation";
/// How often a replica looks at the vault's key ring: a key another replica rotated in is signed with from then on.
const KEY_CHECK_SECONDS: u64 = 30;

pub async fn oauth_server(
    settings: &dsc_config::OAuthServerConfig,
    store: Arc<SqlStore>,
    vault: &Arc<dyn Vault>,
) -> Result<Arc<OAuthServer>, StartError> {
    let oauth = |e: dsc_oauth_server::ServerError| StartError::OAuth(e.to_string());
    let stored = dsc_oauth_server::load_keys(vault.as_ref()).await.map_err(oauth)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    let keys = dsc_oauth_server::KeyRing::from_stored(&stored, now).map_err(oauth)?;
    if vault.resolve(&settings.initial_access_token_alias).await?.is_none() {
        let token = dsc_dataplane::tokens::new_secret();
        vault.store_if_absent(&settings.initial_access_token_alias, dsc_vault::SecretString::new(token)).await?;
        tracing::info!(
            vault_key = %settings.initial_access_token_alias,
            "generated the OAuth server's initial access token (RFC 7591); replace it with PUT /v3/secrets to choose one"
        );
    }
    let initial_access_token = dsc_oauth_server::InitialAccessToken::Vault {
        vault: vault.clone(),
        key: settings.initial_access_token_alias.clone(),
    };
    tracing::info!(issuer = %settings.issuer, kid = %keys.current.kid, "built-in OAuth server enabled");
    if settings.access_token_seconds < SHORTEST_COMFORTABLE_TOKEN_SECONDS {
        tracing::warn!(
            seconds = settings.access_token_seconds,
            "dsc.oauth.server.token.expiry is below {SHORTEST_COMFORTABLE_TOKEN_SECONDS} s: Kafka clients re-authenticate \
             so often that the broker refuses some re-authentications and drops their connections \
             (docs/kafka-pull-profile.md, section 7)"
        );
    }
    Ok(Arc::new(OAuthServer {
        issuer: settings.issuer.clone(),
        audience: settings.audience.clone(),
        scope: "kafka".into(),
        access_token_seconds: i64::try_from(settings.access_token_seconds).unwrap_or(300),
        refresh_token_seconds: i64::try_from(settings.refresh_token_seconds).unwrap_or(86_400),
        initial_access_token,
        keys: std::sync::RwLock::new(keys),
        store,
    }))
}

/// Below this token lifetime librdkafka's and the broker's re-authentication rules make Kafka connections drop.
const SHORTEST_COMFORTABLE_TOKEN_SECONDS: u64 = 10;

/// Checks the signing key at start and every [`KEY_CHECK_SECONDS`] (or every max age, when shorter) until `stop`.
/// Among replicas on one database only the holder of the rotation's lease rotates a key that is due; every replica
/// takes up the ring the vault holds, so all sign with, and publish, the same keys.
pub async fn run_rotation(
    rotation: Rotation,
    store: SqlStore,
    holder: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let (server, vault, max_age) = rotation;
    if max_age == 0 {
        return;
    }
    let every = Duration::from_secs(max_age.clamp(1, KEY_CHECK_SECONDS));
    // Every replica checks once per `every`, so a key published two checks ahead is in every replica's JWKS
    // before the first token it signs (brokers also fetch the JWKS again when they meet an unknown key id).
    let publish_ahead = i64::try_from(every.as_secs() * 2).unwrap_or(i64::MAX);
    let lease = SingletonLease::new(store, ROTATION_ROLE, holder, every);
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => break,
        }
        let now = dsc_domain::clock::system_now_millis();
        let rotates = lease.hold(now).await.unwrap_or(false);
        // A replica that does not rotate still reads the ring: a key that is never due only refreshes it.
        let age = if rotates { i64::try_from(max_age).unwrap_or(i64::MAX) } else { i64::MAX };
        if let Err(error) = server.rotate_if_due(vault.as_ref(), age, publish_ahead).await {
            tracing::warn!("rotating the OAuth server's signing key failed, trying again later: {error}");
        }
    }
    let _ = lease.release().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_store::StoreSettings;
    use dsc_vault::VaultKey;
    use dsc_vault_sql::DatabaseVault;

    fn server(store: &Arc<SqlStore>, keys: dsc_oauth_server::KeyRing) -> Arc<OAuthServer> {
        Arc::new(OAuthServer {
            issuer: "http://127.0.0.1:1/oauth".into(),
            audience: "urn:kafka".into(),
            scope: "kafka".into(),
            access_token_seconds: 60,
            refresh_token_seconds: 3600,
            initial_access_token: dsc_oauth_server::InitialAccessToken::Fixed("t".into()),
            keys: std::sync::RwLock::new(keys),
            store: store.clone(),
        })
    }

    fn current_kid(server: &OAuthServer) -> String {
        server.keys.read().map(|keys| keys.current.kid.clone()).unwrap_or_default()
    }

    /// Two replicas on one database vault: the due key is rotated (by the holder of the rotation's lease), and at its
    /// next check the other replica signs with the rotated key too (until then it signs with the previous key, which
    /// stays published until its tokens expire).
    #[tokio::test]
    async fn replicas_rotate_the_due_signing_key_and_both_sign_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/store.db?mode=rwc", dir.path().display());
        let store = SqlStore::connect(&StoreSettings::new(url)).await.unwrap();
        let (vault, _) = DatabaseVault::open(store.clone(), &VaultKey::generate(), &[]).await.unwrap();
        let vault: Arc<dyn Vault> = Arc::new(vault);
        let stored = dsc_oauth_server::load_keys(vault.as_ref()).await.unwrap();
        let ring = || dsc_oauth_server::KeyRing::from_stored(&stored, 0).unwrap();
        let shared = Arc::new(store.clone());
        let (a, b) = (server(&shared, ring()), server(&shared, ring()));
        let first = current_kid(&a);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = [("a", a.clone()), ("b", b.clone())].map(|(holder, server)| {
            tokio::spawn(run_rotation((server, vault.clone(), 2), store.clone(), holder.into(), stopped.clone()))
        });
        // Checks every 2 s: the next key is published at the first (it is due within the 4 s it is published
        // ahead) and signs from the check at 4 s or 6 s (ages are counted in whole seconds).
        tokio::time::sleep(Duration::from_millis(6_500)).await;
        let _ = stop.send(true);
        for task in tasks {
            task.await.unwrap();
        }
        // The next check of each (what a replica that does not rotate does at every tick).
        for replica in [&a, &b] {
            assert!(!replica.rotate_if_due(vault.as_ref(), i64::MAX, 0).await.unwrap());
        }
        let (kid_a, kid_b) = (current_kid(&a), current_kid(&b));
        assert_ne!(kid_a, first, "the 2-second-old key was rotated");
        assert_eq!(kid_a, kid_b, "both replicas sign with the same key");
        let stored = dsc_oauth_server::load_keys(vault.as_ref()).await.unwrap();
        assert!(!stored.previous.is_empty(), "the old key stays published until its tokens expire");
        assert_eq!(dsc_oauth_server::KeyRing::from_stored(&stored, 0).unwrap().current.kid, kid_a);
    }
}
