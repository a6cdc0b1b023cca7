// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL grants: what the data plane created at the broker and the OAuth service for one transfer.

/// Where a grant is in its life. Every external effect (OAuth client, vault secret, ACLs) is preceded by a saved
/// state that names it, so a crash at any point leaves a record the reconciler can finish or undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaGrantState {
    /// Written before anything is created outside the store; the fields filled so far say what exists.
    Provisioning,
    /// Client, secret and ACLs exist; the consumer may read.
    Active,
    /// Access is being withdrawn; whatever is still recorded must go.
    Revoking,
    /// Nothing of it is left on the broker, at the OAuth service or in the vault.
    Revoked,
}

impl KafkaGrantState {
    pub fn name(self) -> &'static str {
        match self {
            KafkaGrantState::Provisioning => "PROVISIONING",
            KafkaGrantState::Active => "ACTIVE",
            KafkaGrantState::Revoking => "REVOKING",
            KafkaGrantState::Revoked => "REVOKED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [KafkaGrantState::Provisioning, KafkaGrantState::Active, KafkaGrantState::Revoking, KafkaGrantState::Revoked]
            .into_iter()
            .find(|state| state.name() == text)
    }
}

/// One transfer's access to one topic: its own OAuth client (the broker principal) and ACLs. A resumed transfer
/// gets a new grant; the group prefix stays, so the consumer keeps its committed offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaGrant {
    pub id: String,
    pub flow_id: String,
    pub state: KafkaGrantState,
    pub topic: String,
    pub group_prefix: String,
    /// `User:<name>`, once the first token told which name the broker will see.
    pub principal: Option<String>,
    pub client_id: Option<String>,
    /// Vault key of the client secret.
    pub client_secret_alias: Option<String>,
    /// Vault key of the RFC 7592 registration access token.
    pub registration_token_alias: Option<String>,
    pub registration_client_uri: Option<String>,
    /// Why the last provisioning or revocation step failed, for operators.
    pub error_detail: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
