// SPDX-License-Identifier: Apache-2.0
//! What a provider offers one participant: datasets (assets) with their contract offers and distributions.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::odrl::Policy;
use crate::property::Properties;

/// EDC's offer id: `base64(contract definition id):base64(asset id):base64(nonce)`. Consumers must echo it
/// exactly; providers find the contract definition from it and never trust the policy a consumer sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractOfferId {
    pub definition_id: String,
    pub asset_id: String,
    pub nonce: String,
}

impl ContractOfferId {
    pub fn new(definition_id: &str, asset_id: &str, nonce: &str) -> Self {
        ContractOfferId { definition_id: definition_id.into(), asset_id: asset_id.into(), nonce: nonce.into() }
    }

    /// Parses an offer id. Like EDC, a part that is not valid base64 (or not UTF-8 once decoded) is taken as is.
    pub fn parse(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.split(':').collect();
        let [definition, asset, nonce] = parts.as_slice() else { return None };
        let decode = |part: &str| {
            STANDARD
                .decode(part)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .unwrap_or_else(|| part.to_string())
        };
        let id = ContractOfferId { definition_id: decode(definition), asset_id: decode(asset), nonce: decode(nonce) };
        (!id.definition_id.is_empty() && !id.asset_id.is_empty()).then_some(id)
    }
}

impl std::fmt::Display for ContractOfferId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            STANDARD.encode(&self.definition_id),
            STANDARD.encode(&self.asset_id),
            STANDARD.encode(&self.nonce)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    pub id: ContractOfferId,
    /// The contract policy, as an ODRL `Offer`.
    pub policy: Policy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub asset_id: String,
    /// The asset's public properties (never its private ones or its data address).
    pub properties: Properties,
    pub offers: Vec<Offer>,
    /// Transfer types (`HttpData-PULL`, `KafkaBroker-PULL`, ...) the asset can be transferred with.
    pub distributions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub participant_id: String,
    pub datasets: Vec<Dataset>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_ids_use_edc_format_and_round_trip() {
        let id = ContractOfferId::new("cd-gold", "asset-1", "f1c6f5b2");
        assert_eq!(id.to_string(), "Y2QtZ29sZA==:YXNzZXQtMQ==:ZjFjNmY1YjI=");
        assert_eq!(ContractOfferId::parse(&id.to_string()), Some(id));
        // Parts that are not base64 are taken as they are.
        assert_eq!(ContractOfferId::parse("cd#1:asset-1:n"), Some(ContractOfferId::new("cd#1", "asset-1", "n")));
        assert_eq!(ContractOfferId::parse("only:two"), None);
        assert_eq!(ContractOfferId::parse("::x"), None);
    }
}
