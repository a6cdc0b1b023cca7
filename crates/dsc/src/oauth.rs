// SPDX-License-Identifier: Apache-2.0
//! The built-in OAuth server in the binary: its keys and initial access token from the vault (generated once), and
//! the rotation of its signing key by age.

use std::sync::Arc;
use std::time::Duration;

use dsc_oauth_server::OAuthServer;
use dsc_store::SqlStore;
use dsc_vault::Vault;

use crate::runtime::StartError;

/// The server, its vault and the signing key's maximum age in seconds (0: never rotate).
pub type Rotation = (Arc<OAuthServer>, Arc<dyn Vault>, u64);

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
        vault.store(&settings.initial_access_token_alias, dsc_vault::SecretString::new(token)).await?;
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

/// Checks the signing key's age at start and every hour (or every max age, when shorter) until `stop`.
pub async fn run_rotation(rotation: Rotation, mut stop: tokio::sync::watch::Receiver<bool>) {
    let (server, vault, max_age) = rotation;
    if max_age == 0 {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(max_age.clamp(1, 3_600)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(error) = server.rotate_if_due(vault.as_ref(), i64::try_from(max_age).unwrap_or(i64::MAX)).await {
            tracing::warn!("rotating the OAuth server's signing key failed, trying again later: {error}");
        }
    }
}
