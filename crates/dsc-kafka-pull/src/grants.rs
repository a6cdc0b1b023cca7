// SPDX-License-Identifier: Apache-2.0
//! Provisioning and revocation of a transfer's Kafka access.
//!
//! Order matters for crash safety: the grant is saved before anything exists outside the store, and again after
//! each external step with what that step created (client id, vault aliases, principal), so whatever a crash
//! leaves behind is named by a saved grant that the reconciler can finish revoking. The one gap is a crash between
//! the OAuth registration and the save after it: the server then holds a client nobody knows (it cannot obtain
//! ACLs, so it can read nothing).

use crate::{KafkaBrokerAddress, KafkaGrant, KafkaGrantState};
use dsc_dataplane::FlowError;
use dsc_domain::DataFlow;
use dsc_kafka_admin::ConsumerGrant;
use dsc_oauth::{OAuthError, RegisteredClient, TokenResponse};
use dsc_vault::SecretString;

use crate::{KafkaPull, oauth_error};

/// What a successful provisioning produced.
pub struct Provisioned {
    pub grant: KafkaGrant,
    pub client: RegisteredClient,
    pub token: TokenResponse,
    pub token_endpoint: String,
}

fn store_error(error: dsc_store::StoreError) -> FlowError {
    FlowError::Unavailable(format!("store: {error}"))
}

/// The group prefix for a flow: the asset's (or the configured) start plus the flow id, so prefixes of different
/// transfers never overlap and a resumed transfer keeps its consumer groups.
pub fn group_prefix(base: &str, flow_id: &str) -> String {
    format!("{base}{flow_id}.")
}

impl KafkaPull {
    async fn save(&self, grant: &mut KafkaGrant) -> Result<(), FlowError> {
        grant.updated_at = dsc_domain::clock::system_now_millis();
        self.grants.save_grant(grant).await.map_err(store_error)
    }

    /// Creates the flow's client, token and ACLs. Live grants of the flow (a resume, or a start retried after a
    /// crash) are revoked first, so the old principal loses access before the new one gains it.
    pub(crate) async fn provision(
        &self,
        flow: &DataFlow,
        address: &KafkaBrokerAddress,
    ) -> Result<Provisioned, FlowError> {
        let topic = address.topic.clone();
        if !self
            .with_admin(|admin| {
                let topic = topic.clone();
                async move { admin.topic_exists(&topic).await }
            })
            .await?
        {
            return Err(FlowError::Invalid(format!(
                "topic '{topic}' does not exist on the Kafka cluster at {}",
                self.settings.admin_bootstrap
            )));
        }
        self.revoke_flow(&flow.id).await?;
        let base = address.group_prefix_base.as_deref().unwrap_or(&self.settings.group_prefix);
        let now = dsc_domain::clock::system_now_millis();
        let mut grant = KafkaGrant {
            id: uuid::Uuid::new_v4().to_string(),
            flow_id: flow.id.clone(),
            state: KafkaGrantState::Provisioning,
            topic: topic.clone(),
            group_prefix: group_prefix(base, &flow.id),
            principal: None,
            client_id: None,
            client_secret_alias: None,
            registration_token_alias: None,
            registration_client_uri: None,
            error_detail: None,
            created_at: now,
            updated_at: now,
        };
        self.grants.create_grant(&grant).await.map_err(store_error)?;
        match self.provision_steps(&mut grant).await {
            Ok(provisioned) => {
                tracing::info!(flow = %flow.id, principal = grant.principal.as_deref().unwrap_or(""),
                    topic = %grant.topic, group_prefix = %grant.group_prefix, "Kafka access granted");
                Ok(provisioned)
            }
            Err(error) => {
                grant.error_detail = Some(error.to_string());
                if let Err(rollback) = self.revoke_grant(&mut grant).await {
                    tracing::warn!(flow = %flow.id, grant = %grant.id,
                        "rolling back a failed Kafka grant failed; the reconciler will retry: {rollback}");
                }
                Err(error)
            }
        }
    }

    async fn provision_steps(&self, grant: &mut KafkaGrant) -> Result<Provisioned, FlowError> {
        let oauth = self.oauth().await?;
        let client = oauth.register(&format!("dsc-kafka-{}", grant.flow_id)).await.map_err(oauth_error)?;
        let secret_alias = format!("dsc-kafka-grant-{}-client-secret", grant.id);
        let registration_alias = format!("dsc-kafka-grant-{}-registration-token", grant.id);
        grant.client_id = Some(client.client_id.clone());
        grant.registration_client_uri = client.registration_client_uri.clone();
        self.save(grant).await?;
        self.keep(&secret_alias, client.client_secret.clone()).await?;
        grant.client_secret_alias = Some(secret_alias);
        if let Some(token) = &client.registration_access_token {
            self.keep(&registration_alias, token.clone()).await?;
            grant.registration_token_alias = Some(registration_alias);
        }
        self.save(grant).await?;
        let token = oauth.token(&client).await.map_err(oauth_error)?;
        let principal = format!("User:{}", oauth.principal(&token.access_token).map_err(oauth_error)?);
        grant.principal = Some(principal.clone());
        self.save(grant).await?;
        let acl = ConsumerGrant { principal, topic: grant.topic.clone(), group_prefix: grant.group_prefix.clone() };
        self.with_admin(|admin| {
            let acl = acl.clone();
            async move { admin.grant(&acl).await }
        })
        .await?;
        grant.state = KafkaGrantState::Active;
        self.save(grant).await?;
        Ok(Provisioned { grant: grant.clone(), client, token, token_endpoint: oauth.settings().token_endpoint.clone() })
    }

    async fn keep(&self, alias: &str, secret: SecretString) -> Result<(), FlowError> {
        self.vault.store(alias, secret).await.map_err(|e| FlowError::Unavailable(format!("vault: {e}")))
    }

    /// Revokes every live grant of a flow.
    pub(crate) async fn revoke_flow(&self, flow_id: &str) -> Result<(), FlowError> {
        for mut grant in self.grants.live_grants_of_flow(flow_id).await.map_err(store_error)? {
            self.revoke_grant(&mut grant).await?;
        }
        Ok(())
    }

    /// ACLs first (the cut-off), then the OAuth client, then the vault secrets; the grant records each step, so a
    /// failure leaves a REVOKING grant that the reconciler finishes.
    pub(crate) async fn revoke_grant(&self, grant: &mut KafkaGrant) -> Result<(), FlowError> {
        if grant.state != KafkaGrantState::Revoking {
            grant.state = KafkaGrantState::Revoking;
            self.save(grant).await?;
        }
        if let Some(principal) = grant.principal.clone() {
            let started = std::time::Instant::now();
            let removed = self.revoke_acls(&principal).await?;
            // The cut-off: from the decision to revoke until the broker refuses the principal.
            metrics::histogram!("dsc_kafka_revocation_seconds").record(started.elapsed().as_secs_f64());
            tracing::debug!(grant = %grant.id, %principal, removed, "Kafka ACLs deleted");
        }
        if let Some(client_id) = grant.client_id.clone() {
            self.delete_client(grant, &client_id).await?;
        }
        for alias in [grant.client_secret_alias.take(), grant.registration_token_alias.take()].into_iter().flatten() {
            self.vault.delete(&alias).await.map_err(|e| FlowError::Unavailable(format!("vault: {e}")))?;
        }
        grant.state = KafkaGrantState::Revoked;
        self.save(grant).await?;
        tracing::info!(flow = %grant.flow_id, principal = grant.principal.as_deref().unwrap_or(""), "Kafka access revoked");
        Ok(())
    }

    /// Deletes the registration (RFC 7592). A registration the server no longer knows counts as deleted.
    async fn delete_client(&self, grant: &KafkaGrant, client_id: &str) -> Result<(), FlowError> {
        let (Some(secret_alias), Some(token_alias)) = (&grant.client_secret_alias, &grant.registration_token_alias)
        else {
            tracing::warn!(grant = %grant.id, client = client_id,
                "the OAuth client cannot be deleted: its registration token was never kept");
            return Ok(());
        };
        let secret =
            self.vault.resolve(secret_alias).await.map_err(|e| FlowError::Unavailable(format!("vault: {e}")))?;
        let token = self.vault.resolve(token_alias).await.map_err(|e| FlowError::Unavailable(format!("vault: {e}")))?;
        let (Some(secret), Some(token)) = (secret, token) else { return Ok(()) };
        let client = RegisteredClient {
            client_id: client_id.to_string(),
            client_secret: secret,
            registration_access_token: Some(token),
            registration_client_uri: grant.registration_client_uri.clone(),
        };
        match self.oauth().await?.delete(&client).await {
            Ok(()) => Ok(()),
            // Already gone (404), or the registration token is no longer accepted because the client is gone.
            Err(OAuthError::Refused { status: 401 | 403 | 404, .. }) => Ok(()),
            Err(error) => Err(oauth_error(error)),
        }
    }

    /// A fresh access token from the flow's active client.
    pub(crate) async fn renew_token(&self, flow_id: &str) -> Result<TokenResponse, FlowError> {
        let grants = self.grants.live_grants_of_flow(flow_id).await.map_err(store_error)?;
        let Some(grant) = grants.iter().find(|g| g.state == KafkaGrantState::Active) else {
            return Err(FlowError::Conflict(format!("flow '{flow_id}' has no active Kafka grant")));
        };
        let (Some(client_id), Some(alias)) = (&grant.client_id, &grant.client_secret_alias) else {
            return Err(FlowError::Conflict(format!("the Kafka grant of flow '{flow_id}' has no client")));
        };
        let secret = self.secret(alias, "the transfer's OAuth client secret").await?;
        let client = RegisteredClient {
            client_id: client_id.clone(),
            client_secret: secret,
            registration_access_token: None,
            registration_client_uri: None,
        };
        self.oauth().await?.token(&client).await.map_err(|error| match error {
            OAuthError::Refused { .. } => FlowError::Conflict(format!("the OAuth service refused a token: {error}")),
            other => oauth_error(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_prefixes_of_different_flows_never_overlap() {
        let a = group_prefix("dsc-", "1");
        let b = group_prefix("dsc-", "12");
        assert_eq!(a, "dsc-1.");
        assert!(!b.starts_with(&a), "a prefix ends with a separator, so flow 1 cannot claim flow 12's groups");
    }
}
