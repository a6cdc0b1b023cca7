// SPDX-License-Identifier: Apache-2.0
//! Assets and the data addresses that say where their data lives.

use serde::{Deserialize, Serialize};

use crate::namespaces;
use crate::property::{self, Properties};

/// Something a provider offers: public properties (shown in the catalog), private properties (never shown to
/// other participants) and the address of the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub id: String,
    /// Epoch milliseconds, set by the connector on creation.
    pub created_at: i64,
    pub properties: Properties,
    pub private_properties: Properties,
    pub data_address: DataAddress,
}

/// Which of a provider's decisions on an asset its operator takes by hand, from the asset's private property
/// `approval` (EDC namespace), words separated by spaces or commas: `negotiation` (a contract request, and a
/// consumer's acceptance of an offer, wait until the operator approves, offers or rejects), `finalization` (a
/// verified agreement waits until the operator finalizes or terminates it), `transfer` (a transfer request waits in
/// REQUESTED until the operator starts or terminates it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Approval {
    pub negotiation: bool,
    pub finalization: bool,
    pub transfer: bool,
}

impl Approval {
    /// The private property holding the approval words.
    pub fn property() -> String {
        namespaces::edc("approval")
    }

    /// Reads the words; an unknown word is returned as the error.
    pub fn parse(text: &str) -> Result<Approval, String> {
        let mut approval = Approval::default();
        for word in text.split([' ', ',']).filter(|w| !w.is_empty()) {
            match word {
                "negotiation" => approval.negotiation = true,
                "finalization" => approval.finalization = true,
                "transfer" => approval.transfer = true,
                other => return Err(other.to_string()),
            }
        }
        Ok(approval)
    }
}

impl Asset {
    /// What the asset's operator approves by hand (nothing when the property is absent or unreadable; assets are
    /// validated when created).
    pub fn approval(&self) -> Approval {
        property::str_value(&self.private_properties, &Approval::property())
            .and_then(|text| Approval::parse(text).ok())
            .unwrap_or_default()
    }
}

/// Where and how data is reached. Secrets are never inlined: properties hold vault keys (`keyName`,
/// `...SecretKey`, `...Alias`) and the data plane resolves them when it needs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataAddress {
    pub properties: Properties,
}

impl DataAddress {
    pub fn type_iri() -> String {
        namespaces::edc("type")
    }

    /// The data address type (`HttpData`, `KafkaBroker`, ...), if set.
    pub fn address_type(&self) -> Option<&str> {
        property::str_value(&self.properties, &Self::type_iri())
    }

    /// A property in the EDC namespace, looked up by its local name.
    pub fn edc_property(&self, local: &str) -> Option<&str> {
        property::str_value(&self.properties, &namespaces::edc(local))
    }
}

#[cfg(test)]
mod approval_tests {
    use super::*;

    #[test]
    fn approval_words_are_read_and_unknown_ones_named() {
        assert_eq!(Approval::parse(""), Ok(Approval::default()));
        assert_eq!(Approval::parse("negotiation"), Ok(Approval { negotiation: true, ..Approval::default() }));
        assert_eq!(
            Approval::parse("transfer, negotiation finalization"),
            Ok(Approval { negotiation: true, finalization: true, transfer: true })
        );
        assert_eq!(Approval::parse("negotiation manual"), Err("manual".to_string()));
    }
}
