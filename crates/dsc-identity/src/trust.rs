// SPDX-License-Identifier: Apache-2.0
//! Which participants are known, and what is known about them.

use std::collections::HashMap;
use std::path::Path;

use async_trait::async_trait;
use dsc_domain::ParticipantAgent;
use dsc_domain::participant::claims;
use serde::Deserialize;
use serde_json::json;

use crate::IdentityError;

/// Where verified DIDs get their claims. Today a configured list; with DCP, a verifier of the participant's
/// verifiable presentations.
#[async_trait]
pub trait ClaimsSource: Send + Sync {
    /// The participant with its claims, or `None` when the DID is not trusted.
    async fn claims_for(&self, did: &str) -> Result<Option<ParticipantAgent>, IdentityError>;
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    did: String,
    bpn: Option<String>,
    membership: Option<String>,
    #[serde(default, rename = "framework_agreements")]
    framework_agreements: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    participant: Vec<Entry>,
}

/// A configured list of trusted participants (TOML, `[[participant]]` tables with `did`, `bpn`, `membership`,
/// `framework_agreements`, `groups`).
#[derive(Debug, Default, Clone)]
pub struct TrustList {
    participants: HashMap<String, ParticipantAgent>,
}

impl TrustList {
    pub fn from_toml(text: &str) -> Result<Self, IdentityError> {
        let file: File = toml::from_str(text).map_err(|e| IdentityError::TrustList(e.to_string()))?;
        let mut participants = HashMap::new();
        for entry in file.participant {
            if !entry.did.starts_with("did:") {
                return Err(IdentityError::TrustList(format!("'{}' is not a DID", entry.did)));
            }
            let mut agent = ParticipantAgent::new(entry.did.clone());
            if let Some(bpn) = entry.bpn {
                agent = agent.with_claim(claims::BPN, json!(bpn));
            }
            if let Some(membership) = entry.membership {
                agent = agent.with_claim(claims::MEMBERSHIP, json!(membership));
            }
            agent = agent
                .with_claim(claims::FRAMEWORK_AGREEMENTS, json!(entry.framework_agreements))
                .with_claim(claims::GROUPS, json!(entry.groups));
            if participants.insert(entry.did.clone(), agent).is_some() {
                return Err(IdentityError::TrustList(format!("'{}' is listed twice", entry.did)));
            }
        }
        Ok(TrustList { participants })
    }

    pub fn from_file(path: &Path) -> Result<Self, IdentityError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| IdentityError::TrustList(format!("{}: {e}", path.display())))?;
        Self::from_toml(&text)
    }

    pub fn len(&self) -> usize {
        self.participants.len()
    }

    pub fn is_empty(&self) -> bool {
        self.participants.is_empty()
    }
}

#[async_trait]
impl ClaimsSource for TrustList {
    async fn claims_for(&self, did: &str) -> Result<Option<ParticipantAgent>, IdentityError> {
        Ok(self.participants.get(did).cloned())
    }
}
