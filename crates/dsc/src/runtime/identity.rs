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
    /// Refresh clients of the data plane: the same verifier, except with DCP, where the token alone is checked.
    pub client_verifier: Option<Arc<dyn ParticipantVerifier>>,
    /// The holder and verifier, when requests are authenticated with DCP (no trust list, no mock identity).
    pub dcp: Option<super::dcp::Dcp>,
}

impl ProtocolIdentity {
    pub async fn load(
        config: &ConnectorConfig,
        vault: &Arc<dyn Vault>,
        http: &reqwest::Client,
        store: Arc<dsc_store::SqlStore>,
    ) -> Result<Self, StartError> {
        let (identity, pem) = match participant_identity(config, vault).await? {
            Some((identity, pem)) => (Some(identity), Some(pem)),
            None => (None, None),
        };
        let resolver: Arc<dyn dsc_identity::DidResolver> =
            Arc::new(HttpDidResolver::new(http.clone(), config.did_web_use_https, std::time::Duration::from_secs(300)));
        if let (Some(dcp), Some(identity), Some(pem)) =
            (dsc_dcp_service::DcpConfig::active(config), identity.as_ref(), pem.as_deref())
        {
            let dcp = super::dcp::build(config, dcp, identity, pem, resolver, store, vault.clone(), http)?;
            tracing::info!(participant = %identity.did(), "protocol requests are authenticated with DCP");
            return Ok(ProtocolIdentity {
                identity: Some(identity.clone()),
                verifier: Some(dcp.verifier.clone() as Arc<dyn ParticipantVerifier>),
                signer: Some(dcp.signer.clone() as Arc<dyn RequestSigner>),
                client_verifier: Some(dcp.verifier.authenticator() as Arc<dyn ParticipantVerifier>),
                dcp: Some(dcp),
            });
        }
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
                signer: Some(mock.clone() as Arc<dyn RequestSigner>),
                client_verifier: Some(mock as Arc<dyn ParticipantVerifier>),
                dcp: None,
            });
        }
        let verifier = identity.as_ref().map(|identity| {
            Arc::new(TokenVerifier::new(identity.did(), resolver.clone(), Arc::new(trust)))
                as Arc<dyn ParticipantVerifier>
        });
        let signer = identity.clone().map(|identity| identity as Arc<dyn RequestSigner>);
        Ok(ProtocolIdentity { identity, client_verifier: verifier.clone(), verifier, signer, dcp: None })
    }
}

/// The verifier a standalone data plane checks refresh clients with: their self-issued token must be addressed to
/// this participant. With DCP the token's signature decides who the client is (its credentials were verified
/// when the transfer started); with a trust list the client must also be listed.
pub(super) fn refresh_client_verifier(
    config: &ConnectorConfig,
    http: &reqwest::Client,
) -> Result<Arc<dyn ParticipantVerifier>, StartError> {
    let resolver =
        Arc::new(HttpDidResolver::new(http.clone(), config.did_web_use_https, std::time::Duration::from_secs(300)));
    if dsc_dcp_service::DcpConfig::active(config).is_some() {
        return Ok(Arc::new(super::dcp::refresh_clients(&config.participant_id, resolver)));
    }
    Ok(Arc::new(TokenVerifier::new(&config.participant_id, resolver, Arc::new(trust_list(config)?))))
}

/// The participant's signing identity, when `edc.participant.id` is a did:web DID. The private key lives in the
/// vault; a missing key is generated once and stored there.
async fn participant_identity(
    config: &ConnectorConfig,
    vault: &Arc<dyn Vault>,
) -> Result<Option<(Arc<SigningIdentity>, String)>, StartError> {
    if !config.participant_id.starts_with("did:web:") {
        tracing::warn!(
            participant = %config.participant_id,
            "edc.participant.id is not a did:web DID: the Dataspace Protocol API refuses every request and no requests to other connectors can be signed"
        );
        return Ok(None);
    }
    let alias = &config.participant_key_alias;
    let (identity, pem) = match vault.resolve(alias).await? {
        Some(pem) => (SigningIdentity::from_pem(&config.participant_id, pem.expose())?, pem.expose().to_string()),
        None => {
            // Replicas starting together on a shared vault keep whichever key was stored first.
            let (_, generated) = SigningIdentity::generate(&config.participant_id)?;
            let kept = vault.store_if_absent(alias, dsc_vault::SecretString::new(generated.clone())).await?;
            if kept.expose() == generated {
                tracing::info!(vault_key = %alias, "generated the participant's signing key");
            }
            (SigningIdentity::from_pem(&config.participant_id, kept.expose())?, kept.expose().to_string())
        }
    };
    // The PEM stays in memory only as long as start-up needs it (DCP derives its signing key from it).
    Ok(Some((Arc::new(identity), pem)))
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
