// SPDX-License-Identifier: Apache-2.0
//! The Kafka PULL transfer type, plugged into the data plane's handler registry.
//!
//! Every transfer gets its own Kafka identity: an OAuth client registered for it at the OAuth service the broker
//! trusts (the client's token subject is the broker principal), and ACLs for exactly that principal — TOPIC LITERAL
//! `<topic>` READ and DESCRIBE, GROUP PREFIXED `<group prefix>` READ, with the group prefix that the EDR names.
//! Suspend and terminate delete the ACLs (the broker checks them on every request, so a polling consumer is cut
//! off at once), delete the client and its vault secrets. Renewal mints a new token from the transfer's client
//! while the flow is STARTED.
//!
//! - [`address`]: the `KafkaBroker` data address and its validation; [`grant`]: what one transfer was given.
//! - [`grants`]: provisioning and revocation, each step preceded by a saved grant state (crash safety).
//! - [`reconcile`]: compares saved grants with the broker's ACLs and repairs or removes what differs.
//! - [`store`]: the grant store, its table and migrations; [`plugin`]: what the binary registers (transfer type,
//!   address validator).
//!
//! Nothing here is known to the control plane: it sees a transfer type `KafkaBroker-PULL` and an EDR.

pub mod address;
pub mod config;
pub mod grant;
pub mod grants;
pub mod plugin;
pub mod reconcile;
mod revocations;
pub mod setup;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dsc_dataplane::{AccessGrant, FlowError, IssuedToken, TransferTypeHandler};
use dsc_domain::{DataAddress, DataFlow, namespaces};
use dsc_kafka_admin::scram::ScramMechanism;
use dsc_kafka_admin::{AdminError, Credentials, KafkaAdmin};
use dsc_oauth::{AudienceParameter, OAuthClient, OAuthError, OAuthSettings, ServerMetadata};
use dsc_store::DataFlowStore;
use dsc_vault::{SecretString, Vault};
use serde_json::json;
use tokio::sync::Mutex;

pub use address::{KAFKA_BROKER, KAFKA_PULL, KAFKA_PULL_ALIAS, KafkaBrokerAddress};
pub use config::KafkaPullConfig;
pub use grant::{KafkaGrant, KafkaGrantState};
pub use plugin::{KafkaBrokerValidator, transfer_type};
pub use store::{KafkaGrantStore, MIGRATIONS};

/// The endpoint type of Kafka EDRs, as Tractus-X names it.
pub const KAFKA_ENDPOINT_TYPE: &str = "https://w3id.org/idsa/v4.1/Kafka";

/// Where the data plane's Kafka administration and OAuth service are. Credentials are vault keys, read at each
/// use so that `PUT /v3/secrets` rotates them without a restart. They live in the data plane's configuration, not
/// in assets: an asset that could name an admin endpoint and a vault key could send the secret anywhere.
#[derive(Debug, Clone)]
pub struct KafkaPullSettings {
    /// `host:port` of the broker listener where the admin logs in.
    pub admin_bootstrap: String,
    /// The SASL user name; with OAUTHBEARER, the admin's OAuth client id.
    pub admin_user: String,
    /// Vault key of the password; with OAUTHBEARER, of the admin's OAuth client secret.
    pub admin_password_alias: String,
    pub admin_mechanism: AdminMechanism,
    /// TLS to the admin listener (SASL_SSL), trusting the CA file given or the Mozilla roots.
    pub admin_tls: Option<AdminTls>,
    /// The OAuth service's issuer; its endpoints are discovered (RFC 8414 / OpenID Connect).
    pub oauth_issuer: String,
    pub initial_access_token_alias: String,
    pub audience: String,
    pub audience_parameter: AudienceParameter,
    /// The token claim the broker takes the principal from (`sasl.oauthbearer.sub.claim.name`).
    pub principal_claim: String,
    /// Default start of the per-transfer group prefix, when the asset names none.
    pub group_prefix: String,
    /// Grants younger than this are left alone by the reconciler: a start may be under way.
    pub reconcile_grace: Duration,
    /// Per call to the broker or the OAuth service.
    pub timeout: Duration,
}

/// How the data plane logs in to the admin listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminMechanism {
    Plain,
    ScramSha256,
    ScramSha512,
    /// A client-credentials token of the admin's own OAuth client (its principal must be a super user).
    OAuthBearer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTls {
    pub ca_file: Option<std::path::PathBuf>,
}

pub struct KafkaPull {
    pub(crate) settings: KafkaPullSettings,
    pub(crate) grants: Arc<dyn KafkaGrantStore>,
    pub(crate) flows: Arc<dyn DataFlowStore>,
    pub(crate) vault: Arc<dyn Vault>,
    /// The OAuth client, rebuilt when the initial access token in the vault changes.
    oauth: Mutex<Option<(ServerMetadata, String, Arc<OAuthClient>)>>,
    /// The admin's OAUTHBEARER token, the secret it was obtained with, and when to get a new one.
    admin_token: Mutex<Option<(String, String, std::time::Instant)>>,
    revocations: Arc<revocations::Revocations>,
}

/// Attempts per broker operation before the step fails (the control plane retries the whole start later).
const ADMIN_ATTEMPTS: u32 = 3;

/// Runs a broker operation with `admin`, retrying while the broker is unreachable.
pub(crate) async fn retrying<T, F, Fut>(admin: &KafkaAdmin, operation: F) -> Result<T, FlowError>
where
    F: Fn(KafkaAdmin) -> Fut,
    Fut: std::future::Future<Output = Result<T, AdminError>>,
{
    let mut attempt = 0;
    loop {
        match operation(admin.clone()).await {
            Ok(value) => return Ok(value),
            Err(error @ (AdminError::Unreachable { .. } | AdminError::Timeout { .. }))
                if attempt + 1 < ADMIN_ATTEMPTS =>
            {
                attempt += 1;
                tracing::debug!(attempt, "Kafka admin call failed, retrying: {error}");
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
            }
            Err(error) => return Err(FlowError::Unavailable(format!("Kafka: {error}"))),
        }
    }
}

impl KafkaPull {
    pub fn new(
        settings: KafkaPullSettings,
        grants: Arc<dyn KafkaGrantStore>,
        flows: Arc<dyn DataFlowStore>,
        vault: Arc<dyn Vault>,
    ) -> Self {
        KafkaPull {
            settings,
            grants,
            flows,
            vault,
            oauth: Mutex::new(None),
            admin_token: Mutex::new(None),
            revocations: Arc::default(),
        }
    }

    pub fn settings(&self) -> &KafkaPullSettings {
        &self.settings
    }

    pub(crate) async fn secret(&self, alias: &str, what: &str) -> Result<SecretString, FlowError> {
        self.vault
            .resolve(alias)
            .await
            .map_err(|e| FlowError::Unavailable(format!("vault: {e}")))?
            .ok_or_else(|| FlowError::Unavailable(format!("the vault has no secret '{alias}' ({what})")))
    }

    /// An admin client with the credentials the vault holds now.
    pub async fn admin(&self) -> Result<KafkaAdmin, FlowError> {
        let password = self.secret(&self.settings.admin_password_alias, "the Kafka admin password").await?;
        let (user, password) = (self.settings.admin_user.clone(), password.expose().to_string());
        let credentials = match self.settings.admin_mechanism {
            AdminMechanism::Plain => Credentials::Plain { user, password },
            AdminMechanism::ScramSha256 => Credentials::Scram { mechanism: ScramMechanism::Sha256, user, password },
            AdminMechanism::ScramSha512 => Credentials::Scram { mechanism: ScramMechanism::Sha512, user, password },
            AdminMechanism::OAuthBearer => Credentials::Bearer { token: self.admin_token(user, password).await? },
        };
        let admin = KafkaAdmin::with_credentials(&self.settings.admin_bootstrap, credentials)
            .with_timeout(self.settings.timeout);
        match &self.settings.admin_tls {
            Some(tls) => {
                admin.with_tls(tls.ca_file.as_deref()).map_err(|e| FlowError::Unavailable(format!("Kafka: {e}")))
            }
            None => Ok(admin),
        }
    }

    /// The admin's client-credentials token, reused until a minute before it expires (or the secret changes).
    async fn admin_token(&self, client_id: String, secret: String) -> Result<String, FlowError> {
        let mut cached = self.admin_token.lock().await;
        if let Some((token, used_secret, renew_at)) = cached.as_ref()
            && *used_secret == secret
            && std::time::Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let client = dsc_oauth::RegisteredClient {
            client_id,
            client_secret: SecretString::new(secret.clone()),
            registration_access_token: None,
            registration_client_uri: None,
        };
        let answer = self.oauth().await?.token(&client).await.map_err(oauth_error)?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(60));
        let renew_at = std::time::Instant::now() + lifetime.saturating_sub(Duration::from_secs(60)).max(lifetime / 2);
        let token = answer.access_token.expose().to_string();
        *cached = Some((token.clone(), secret, renew_at));
        Ok(token)
    }

    /// Runs a broker operation, retrying while the broker is unreachable.
    pub(crate) async fn with_admin<T, F, Fut>(&self, operation: F) -> Result<T, FlowError>
    where
        F: Fn(KafkaAdmin) -> Fut,
        Fut: std::future::Future<Output = Result<T, AdminError>>,
    {
        retrying(&self.admin().await?, operation).await
    }

    /// Deletes every ACL of `principal`, in one request with the other revocations under way.
    pub(crate) async fn revoke_acls(&self, principal: &str) -> Result<usize, FlowError> {
        self.revocations.revoke(self.admin().await?, principal.to_string()).await
    }

    /// The OAuth client for the current initial access token.
    pub(crate) async fn oauth(&self) -> Result<Arc<OAuthClient>, FlowError> {
        let token = self.secret(&self.settings.initial_access_token_alias, "the OAuth initial access token").await?;
        let mut cached = self.oauth.lock().await;
        if let Some((_, current, client)) = cached.as_ref()
            && current == token.expose()
        {
            return Ok(client.clone());
        }
        let metadata = match cached.as_ref() {
            Some((metadata, _, _)) => metadata.clone(),
            None => {
                dsc_oauth::discover(&self.settings.oauth_issuer, self.settings.timeout).await.map_err(oauth_error)?
            }
        };
        let client = Arc::new(
            OAuthClient::new(OAuthSettings {
                issuer: metadata.issuer.clone(),
                token_endpoint: metadata.token_endpoint.clone(),
                registration_endpoint: metadata.registration_endpoint.clone(),
                revocation_endpoint: metadata.revocation_endpoint.clone(),
                introspection_endpoint: metadata.introspection_endpoint.clone(),
                initial_access_token: token.clone(),
                audience: self.settings.audience.clone(),
                audience_parameter: self.settings.audience_parameter.clone(),
                principal_claim: self.settings.principal_claim.clone(),
                timeout: self.settings.timeout,
                attempts: 3,
            })
            .map_err(oauth_error)?,
        );
        *cached = Some((metadata, token.expose().to_string(), client.clone()));
        Ok(client)
    }
}

pub(crate) fn oauth_error(error: OAuthError) -> FlowError {
    FlowError::Unavailable(format!("OAuth service: {error}"))
}

/// The asset's Kafka address, or why it cannot be served.
fn source(flow: &DataFlow) -> Result<KafkaBrokerAddress, FlowError> {
    KafkaBrokerAddress::from_data_address(&flow.source, "dataAddress").map_err(|violations| {
        let reasons: Vec<String> = violations
            .iter()
            .map(|v| format!("{} ({})", v.message, v.path.as_deref().unwrap_or("dataAddress")))
            .collect();
        FlowError::Invalid(format!("the asset's KafkaBroker address is invalid: {}", reasons.join("; ")))
    })
}

#[async_trait]
impl TransferTypeHandler for KafkaPull {
    async fn grant(&self, flow: &DataFlow) -> Result<AccessGrant, FlowError> {
        let address = source(flow)?;
        let provisioned = self.provision(flow, &address).await?;
        let edc = namespaces::edc;
        let mut properties = dsc_domain::Properties::new();
        properties.insert(DataAddress::type_iri(), json!(KAFKA_ENDPOINT_TYPE));
        properties.insert(edc("endpointType"), json!(KAFKA_ENDPOINT_TYPE));
        properties.insert(edc("endpoint"), json!(address.bootstrap_servers.join(",")));
        properties.insert(edc("topic"), json!(address.topic));
        properties.insert(edc("kafka.security.protocol"), json!(address.security_protocol));
        properties.insert(edc("kafka.sasl.mechanism"), json!(address.sasl_mechanism));
        properties.insert(edc("kafka.group.prefix"), json!(provisioned.grant.group_prefix));
        properties.insert(edc("kafka.poll.duration"), json!(address.poll_duration));
        properties.insert(edc("flowType"), json!("PULL"));
        if address.share_client_credentials {
            properties.insert(edc("clientId"), json!(provisioned.client.client_id));
            properties.insert(edc("clientSecret"), json!(provisioned.client.client_secret.expose()));
            properties.insert(edc("tokenEndpoint"), json!(provisioned.token_endpoint));
        }
        Ok(AccessGrant {
            properties,
            token: Some(IssuedToken {
                access_token: provisioned.token.access_token.expose().to_string(),
                expires_in: provisioned.token.expires_in.unwrap_or(0),
            }),
        })
    }

    async fn revoke(&self, flow: &DataFlow) -> Result<(), FlowError> {
        self.revoke_flow(&flow.id).await
    }

    async fn renew(&self, flow: &DataFlow) -> Result<Option<IssuedToken>, FlowError> {
        let token = self.renew_token(&flow.id).await?;
        Ok(Some(IssuedToken {
            access_token: token.access_token.expose().to_string(),
            expires_in: token.expires_in.unwrap_or(0),
        }))
    }
}
