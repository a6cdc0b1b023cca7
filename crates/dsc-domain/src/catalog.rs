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
    /// The id exactly as another connector wrote it, when it is not in the base64 form (the DSP TCK uses
    /// `CD123:ACN0101:456`): a consumer must send back the id it was offered, byte for byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbatim: Option<String>,
}

impl ContractOfferId {
    pub fn new(definition_id: &str, asset_id: &str, nonce: &str) -> Self {
        ContractOfferId {
            definition_id: definition_id.into(),
            asset_id: asset_id.into(),
            nonce: nonce.into(),
            verbatim: None,
        }
    }

    /// An offer id of another connector that is not in EDC's form (`offer-42`): kept verbatim, for `asset_id`.
    pub fn opaque(text: &str, asset_id: &str) -> Self {
        ContractOfferId {
            definition_id: String::new(),
            asset_id: asset_id.into(),
            nonce: String::new(),
            verbatim: Some(text.into()),
        }
    }

    fn encoded(&self) -> String {
        format!(
            "{}:{}:{}",
            STANDARD.encode(&self.definition_id),
            STANDARD.encode(&self.asset_id),
            STANDARD.encode(&self.nonce)
        )
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
        let mut id = ContractOfferId {
            definition_id: decode(definition),
            asset_id: decode(asset),
            nonce: decode(nonce),
            verbatim: None,
        };
        if id.encoded() != text {
            id.verbatim = Some(text.to_string());
        }
        (!id.definition_id.is_empty() && !id.asset_id.is_empty()).then_some(id)
    }
}

impl std::fmt::Display for ContractOfferId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.verbatim {
            Some(text) => f.write_str(text),
            None => f.write_str(&self.encoded()),
        }
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
        // Parts that are not base64 are taken as they are, and the id is written back exactly as it came.
        let foreign = ContractOfferId::parse("CD123:ACN0101:456").unwrap_or_else(|| panic!("parses"));
        assert_eq!((foreign.definition_id.as_str(), foreign.asset_id.as_str()), ("CD123", "ACN0101"));
        assert_eq!(foreign.to_string(), "CD123:ACN0101:456");
        assert_eq!(ContractOfferId::parse("cd#1:asset-1:n").map(|id| id.asset_id), Some("asset-1".to_string()));
        assert_eq!(ContractOfferId::opaque("offer-42", "asset-1").to_string(), "offer-42");
        assert_eq!(ContractOfferId::parse("only:two"), None);
        assert_eq!(ContractOfferId::parse("::x"), None);
    }
}
