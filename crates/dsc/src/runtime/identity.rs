// SPDX-License-Identifier: Apache-2.0
//! The participant's identity: the signing key for its DID, and how protocol requests are signed and verified.

use std::sync::Arc;

use async_trait::async_trait;
use dsc_config::ConnectorConfig;
use dsc_identity::{HttpDidResolver, ParticipantVerifier, RequestSigner, SigningIdentity, TokenVerifier};
use dsc_vault::Vault;

use super::StartError;
use super::common::trust_list;

/// What the protocol binding authenticates with: the DID's key (when there is one), the verifier of incoming
/// requests and the signer of outgoing ones.
pub(super) struct ProtocolIdentity {
    pub identity: Option<Arc<SigningIdentity>>,
    pub verifier: Option<Arc<dyn ParticipantVerifier>>,
    pub signer: Option<Arc<dyn RequestSigner>>,
}

impl ProtocolIdentity {
    pub async fn load(
        config: &ConnectorConfig,
        vault: &Arc<dyn Vault>,
        http: &reqwest::Client,
    ) -> Result<Self, StartError> {
        let identity = participant_identity(config, vault).await?;
        let trust = trust_list(config)?;
        // EDC's unsigned mock identity replaces both directions, for interoperability tests only.
        if config.mock_identity {
            tracing::warn!(
                participant = %config.participant_id,
                "dsc.iam.mock.enabled: protocol requests are authenticated with EDC's UNSIGNED mock identity; never use this outside tests"
            );
            let mock = Arc::new(dsc_identity::MockIdentity::new(config.participant_id.clone(), Arc::new(trust)));
            return Ok(ProtocolIdentity {
                identity,
                verifier: Some(mock.clone() as Arc<dyn ParticipantVerifier>),
                signer: Some(mock as Arc<dyn RequestSigner>),
            });
        }
        let verifier = identity.as_ref().map(|identity| {
            let resolver =
                HttpDidResolver::new(http.clone(), config.did_web_use_https, std::time::Duration::from_secs(300));
            Arc::new(TokenVerifier::new(identity.did(), Arc::new(resolver), Arc::new(trust)))
                as Arc<dyn ParticipantVerifier>
        });
        let signer = identity.clone().map(|identity| identity as Arc<dyn RequestSigner>);
        Ok(ProtocolIdentity { identity, verifier, signer })
    }
}

/// The verifier a standalone data plane checks refresh clients with: their self-issued token must be addressed to
/// this participant.
pub(super) fn refresh_client_verifier(
    config: &ConnectorConfig,
    http: &reqwest::Client,
) -> Result<Arc<dyn ParticipantVerifier>, StartError> {
    let resolver = HttpDidResolver::new(http.clone(), config.did_web_use_https, std::time::Duration::from_secs(300));
    Ok(Arc::new(TokenVerifier::new(&config.participant_id, Arc::new(resolver), Arc::new(trust_list(config)?))))
}

/// The participant's signing identity, when `edc.participant.id` is a did:web DID. The private key lives in the
/// vault; a missing key is generated once and stored there.
async fn participant_identity(
    config: &ConnectorConfig,
    vault: &Arc<dyn Vault>,
) -> Result<Option<Arc<SigningIdentity>>, StartError> {
    if !config.participant_id.starts_with("did:web:") {
        tracing::warn!(
            participant = %config.participant_id,
            "edc.participant.id is not a did:web DID: the Dataspace Protocol API refuses every request and no requests to other connectors can be signed"
        );
        return Ok(None);
    }
    let alias = &config.participant_key_alias;
    let identity = match vault.resolve(alias).await? {
        Some(pem) => SigningIdentity::from_pem(&config.participant_id, pem.expose())?,
        None => {
            let (identity, pem) = SigningIdentity::generate(&config.participant_id)?;
            vault.store(alias, dsc_vault::SecretString::new(pem)).await?;
            tracing::info!(vault_key = %alias, "generated the participant's signing key");
            identity
        }
    };
    Ok(Some(Arc::new(identity)))
}

/// Authenticates refresh requests with the participant token verifier: the client's self-issued token names its
/// DID, which must be the DID the refresh token was issued to.
pub(super) struct ParticipantClients(pub Option<Arc<dyn ParticipantVerifier>>);

#[async_trait]
impl dsc_dataplane::ClientAuthenticator for ParticipantClients {
    async fn authenticate(&self, authorization: Option<&str>) -> Result<String, String> {
        let verifier = self.0.as_ref().ok_or("this connector has no participant identity to verify clients with")?;
        verifier.verify(authorization).await.map(|agent| agent.id).map_err(|e| e.to_string())
    }
}
