// SPDX-License-Identifier: Apache-2.0
//! The data plane.
//!
//! - [`signaling`]: the Data Plane Signaling 1.0 endpoints a control plane calls (`/dataflows/...`), behind the
//!   shared signaling key.
//! - [`public`]: the public API consumers call with their access token: the HTTP pull proxy and the token
//!   refresh endpoint.
//! - [`tokens`]: access tokens bound to a flow and revocable at once, refresh tokens stored hashed.
//!
//! Flows are persisted ([`dsc_store::DataFlowStore`]); the data plane keeps no state of its own in memory, so
//! several replicas can serve one database. Transfer types plug in through [`TransferTypeHandler`]; HTTP pull is
//! built in, Kafka pull joins with its own handler.

pub mod public;
pub mod signaling;
pub mod tokens;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use dsc_domain::{DataAddress, DataFlow, DataFlowState, Properties, namespaces};
use dsc_store::{DataFlowStore, StoreError};
use dsc_vault::Vault;
use serde_json::json;

use tokens::{TokenIssuer, TokenPair};

pub const HTTP_PULL: &str = "HttpData-PULL";
/// The endpoint type of HTTP pull addresses, as EDC names it.
pub const HTTP_ENDPOINT_TYPE: &str = "https://w3id.org/idsa/v4.1/HTTP";

/// An access token a transfer type obtained elsewhere (Kafka's come from the OAuth service the broker trusts).
#[derive(Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

/// What granting access produced: the address properties beyond the token pair, and the access token when the
/// transfer type brings its own (otherwise the data plane's flow-bound token is the access token).
#[derive(Debug, Default)]
pub struct AccessGrant {
    pub properties: Properties,
    pub token: Option<IssuedToken>,
}

/// What a transfer type adds to the data plane's generic flow handling. Errors are [`FlowError`]s so the control
/// plane can tell a bad asset (`Invalid`: the transfer ends) from an outage (`Unavailable`: it retries).
#[async_trait]
pub trait TransferTypeHandler: Send + Sync {
    /// Grants access for a started or resumed flow.
    async fn grant(&self, flow: &DataFlow) -> Result<AccessGrant, FlowError>;
    /// Cuts access for a suspended, terminated or completed flow.
    async fn revoke(&self, flow: &DataFlow) -> Result<(), FlowError>;
    /// A new access token for a STARTED flow at refresh time, when the transfer type brings its own.
    async fn renew(&self, _flow: &DataFlow) -> Result<Option<IssuedToken>, FlowError> {
        Ok(None)
    }
}

/// HTTP pull: consumers call the public API, which checks the token against the flow on every request, so
/// granting and revoking need nothing beyond the token bookkeeping.
pub struct HttpPull {
    pub public_url: String,
}

#[async_trait]
impl TransferTypeHandler for HttpPull {
    async fn grant(&self, _flow: &DataFlow) -> Result<AccessGrant, FlowError> {
        let mut properties = Properties::new();
        properties.insert(DataAddress::type_iri(), json!(HTTP_ENDPOINT_TYPE));
        properties.insert(namespaces::edc("endpointType"), json!(HTTP_ENDPOINT_TYPE));
        properties.insert(namespaces::edc("endpoint"), json!(self.public_url));
        Ok(AccessGrant { properties, token: None })
    }

    async fn revoke(&self, _flow: &DataFlow) -> Result<(), FlowError> {
        Ok(())
    }
}

/// Verifies the consumer's client authentication on the refresh endpoint (a self-signed JWT bound to its DID)
/// and returns the DID.
#[async_trait]
pub trait ClientAuthenticator: Send + Sync {
    async fn authenticate(&self, authorization: Option<&str>) -> Result<String, String>;
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("data flow '{0}' not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for FlowError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { id, .. } => FlowError::NotFound(id),
            StoreError::AlreadyExists { id, .. } => FlowError::Conflict(format!("data flow '{id}' already exists")),
            other => FlowError::Unavailable(other.to_string()),
        }
    }
}

pub struct DataPlane {
    pub participant_id: String,
    /// Base URL of the public API as consumers reach it.
    pub public_url: String,
    pub store: Arc<dyn DataFlowStore>,
    pub vault: Arc<dyn Vault>,
    pub tokens: TokenIssuer,
    pub handlers: HashMap<String, Arc<dyn TransferTypeHandler>>,
    pub clients: Arc<dyn ClientAuthenticator>,
    pub http: reqwest::Client,
}

impl DataPlane {
    pub fn profiles(&self) -> Vec<String> {
        let mut profiles: Vec<String> = self.handlers.keys().cloned().collect();
        profiles.sort();
        profiles
    }

    fn handler(&self, profile: &str) -> Result<&Arc<dyn TransferTypeHandler>, FlowError> {
        self.handlers
            .get(profile)
            .ok_or_else(|| FlowError::Invalid(format!("transfer type '{profile}' is not supported")))
    }

    /// The EDR for a flow with a fresh token pair; the pair's ids are recorded on the flow by the caller.
    async fn address(&self, flow: &DataFlow, pair: &TokenPair) -> Result<DataAddress, FlowError> {
        let AccessGrant { mut properties, token } = self.handler(&flow.profile)?.grant(flow).await?;
        let (access_token, expires_in) = match token {
            Some(token) => (token.access_token, token.expires_in),
            None => (pair.access_token.clone(), pair.expires_in),
        };
        let tx_auth = |local: &str| format!("{}{local}", namespaces::TX_AUTH);
        properties.insert(namespaces::edc("authorization"), json!(access_token));
        properties.insert(namespaces::edc("authType"), json!("bearer"));
        properties.insert(tx_auth("refreshToken"), json!(pair.refresh_token));
        properties.insert(tx_auth("expiresIn"), json!(expires_in.to_string()));
        properties
            .insert(tx_auth("refreshEndpoint"), json!(format!("{}/token", self.public_url.trim_end_matches('/'))));
        properties.insert(tx_auth("refreshAudience"), json!(self.participant_id));
        Ok(DataAddress { properties })
    }

    fn issue_pair(&self, flow: &DataFlow) -> Result<TokenPair, String> {
        let mut pair = self.tokens.issue(&flow.id, &flow.counter_party_id)?;
        pair.refresh_token = bind_refresh_token(&flow.id, &pair.refresh_token);
        pair.refresh_token_hash = tokens::hash_refresh_token(&pair.refresh_token);
        Ok(pair)
    }

    /// Issues a token pair for the flow, records it, and returns the address.
    async fn grant(&self, flow: &mut DataFlow) -> Result<DataAddress, FlowError> {
        let pair = self.issue_pair(flow).map_err(FlowError::Unavailable)?;
        let address = self.address(flow, &pair).await?;
        flow.access_token_id = Some(pair.access_token_id);
        flow.refresh_token_hash = Some(pair.refresh_token_hash);
        Ok(address)
    }

    pub async fn start(
        &self,
        id: &str,
        profile: &str,
        counter_party_id: &str,
        agreement_id: &str,
        dataset_id: &str,
        source: DataAddress,
    ) -> Result<(DataFlow, DataAddress), FlowError> {
        self.handler(profile)?;
        if self.store.find_flow(id).await?.is_some() {
            return Err(FlowError::Conflict(format!("data flow '{id}' already exists")));
        }
        let now = dsc_domain::clock::system_now_millis();
        let mut flow = DataFlow {
            id: id.to_string(),
            state: DataFlowState::Started,
            profile: profile.to_string(),
            participant_id: self.participant_id.clone(),
            counter_party_id: counter_party_id.to_string(),
            agreement_id: agreement_id.to_string(),
            dataset_id: dataset_id.to_string(),
            source,
            access_token_id: None,
            refresh_token_hash: None,
            created_at: now,
            updated_at: now,
        };
        let address = self.grant(&mut flow).await?;
        self.store.create_flow(&flow).await?;
        tracing::debug!(flow = %id, consumer = %counter_party_id, profile, "data flow started");
        Ok((flow, address))
    }

    async fn find(&self, id: &str) -> Result<DataFlow, FlowError> {
        self.store.find_flow(id).await?.ok_or_else(|| FlowError::NotFound(id.to_string()))
    }

    /// Revokes access and moves the flow to `state`. Revocation happens before the answer, so a consumer is cut
    /// off by the time the control plane hears "done".
    async fn end_access(&self, id: &str, state: DataFlowState) -> Result<DataFlow, FlowError> {
        let mut flow = self.find(id).await?;
        if flow.state.is_terminal() {
            if flow.state == state {
                return Ok(flow);
            }
            return Err(FlowError::Conflict(format!("data flow '{id}' is already {}", flow.state.name())));
        }
        if state == DataFlowState::Suspended && !matches!(flow.state, DataFlowState::Started | DataFlowState::Suspended)
        {
            return Err(FlowError::Conflict(format!(
                "only a STARTED flow can be suspended (it is {})",
                flow.state.name()
            )));
        }
        flow.access_token_id = None;
        flow.refresh_token_hash = None;
        flow.state = state;
        flow.updated_at = dsc_domain::clock::system_now_millis();
        self.store.save_flow(&flow).await?;
        self.handler(&flow.profile)?.revoke(&flow).await?;
        tracing::info!(flow = %id, state = state.name(), "data flow access revoked");
        Ok(flow)
    }

    pub async fn suspend(&self, id: &str) -> Result<DataFlow, FlowError> {
        self.end_access(id, DataFlowState::Suspended).await
    }

    pub async fn terminate(&self, id: &str) -> Result<DataFlow, FlowError> {
        self.end_access(id, DataFlowState::Terminated).await
    }

    pub async fn complete(&self, id: &str) -> Result<DataFlow, FlowError> {
        self.end_access(id, DataFlowState::Completed).await
    }

    /// Resumes a suspended flow (or re-issues credentials for a started one) with a new token pair.
    pub async fn resume(&self, id: &str) -> Result<(DataFlow, DataAddress), FlowError> {
        let mut flow = self.find(id).await?;
        if !matches!(flow.state, DataFlowState::Suspended | DataFlowState::Started) {
            return Err(FlowError::Conflict(format!(
                "only a SUSPENDED flow can be resumed (it is {})",
                flow.state.name()
            )));
        }
        let address = self.grant(&mut flow).await?;
        flow.state = DataFlowState::Started;
        flow.updated_at = dsc_domain::clock::system_now_millis();
        self.store.save_flow(&flow).await?;
        tracing::debug!(flow = %id, "data flow resumed");
        Ok((flow, address))
    }

    pub async fn status(&self, id: &str) -> Result<DataFlow, FlowError> {
        self.find(id).await
    }

    /// The flow an access token gives access to right now, or why not.
    pub async fn authorize(&self, token: &str) -> Result<DataFlow, AccessDenied> {
        let claims = self.tokens.verify(token).map_err(|_| AccessDenied::InvalidToken)?;
        let flow = self.store.find_flow(&claims.sub).await.map_err(|e| AccessDenied::Unavailable(e.to_string()))?;
        match flow {
            Some(flow)
                if flow.state == DataFlowState::Started && flow.access_token_id.as_deref() == Some(&claims.jti) =>
            {
                Ok(flow)
            }
            Some(_) => Err(AccessDenied::Revoked),
            None => Err(AccessDenied::InvalidToken),
        }
    }

    /// The refresh grant: a new pair for a STARTED flow whose refresh token matches and whose consumer is the
    /// authenticated client. The old access and refresh tokens stop working.
    pub async fn refresh(&self, refresh_token: &str, client: &str) -> Result<(DataFlow, TokenPair), AccessDenied> {
        let hash = tokens::hash_refresh_token(refresh_token);
        let flow_id = refresh_token_flow(refresh_token).ok_or(AccessDenied::InvalidToken)?;
        let mut flow = self
            .store
            .find_flow(&flow_id)
            .await
            .map_err(|e| AccessDenied::Unavailable(e.to_string()))?
            .ok_or(AccessDenied::InvalidToken)?;
        if flow.refresh_token_hash.as_deref() != Some(&hash) {
            return Err(AccessDenied::InvalidToken);
        }
        if flow.counter_party_id != client {
            return Err(AccessDenied::WrongClient);
        }
        if flow.state != DataFlowState::Started {
            return Err(AccessDenied::Revoked);
        }
        let mut pair = self.issue_pair(&flow).map_err(AccessDenied::Unavailable)?;
        let renewed =
            self.handler(&flow.profile).map_err(|e| AccessDenied::Unavailable(e.to_string()))?.renew(&flow).await;
        match renewed {
            Ok(Some(token)) => {
                pair.access_token = token.access_token;
                pair.expires_in = token.expires_in;
            }
            Ok(None) => {}
            Err(FlowError::Unavailable(reason)) => return Err(AccessDenied::Unavailable(reason)),
            Err(_) => return Err(AccessDenied::Revoked),
        }
        flow.access_token_id = Some(pair.access_token_id.clone());
        flow.refresh_token_hash = Some(pair.refresh_token_hash.clone());
        flow.updated_at = dsc_domain::clock::system_now_millis();
        let saved =
            self.store.save_refreshed_flow(&flow, &hash).await.map_err(|e| AccessDenied::Unavailable(e.to_string()))?;
        if !saved {
            return Err(self.why_not_saved(&flow_id).await);
        }
        Ok((flow, pair))
    }

    /// Why a refreshed flow could not be saved: it was suspended or ended meanwhile (its renewal must not undo
    /// that), or a concurrent refresh with the same refresh token won.
    async fn why_not_saved(&self, flow_id: &str) -> AccessDenied {
        match self.store.find_flow(flow_id).await {
            Ok(Some(flow)) if flow.state == DataFlowState::Started => AccessDenied::Superseded,
            Ok(_) => AccessDenied::Revoked,
            Err(error) => AccessDenied::Unavailable(error.to_string()),
        }
    }
}

/// Refresh tokens name their flow (`<flow id>.<random>`) so the refresh endpoint finds it without a lookup table;
/// only the hash of the whole token is stored.
fn bind_refresh_token(flow_id: &str, random: &str) -> String {
    use base64::Engine;
    format!("{}.{random}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(flow_id))
}

fn refresh_token_flow(token: &str) -> Option<String> {
    use base64::Engine;
    let (flow, _) = token.split_once('.')?;
    String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(flow).ok()?).ok()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    #[error("the token is missing, malformed, expired or unknown")]
    InvalidToken,
    #[error("access for this token has been revoked (the transfer is suspended or ended)")]
    Revoked,
    #[error("the refresh token was issued to another participant")]
    WrongClient,
    /// Two refreshes with the same refresh token raced and the other one won: its token pair is the valid one.
    #[error("the refresh token was used by a concurrent refresh; use the token pair that refresh returned")]
    Superseded,
    #[error("{0}")]
    Unavailable(String),
}
