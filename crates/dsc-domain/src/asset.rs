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
