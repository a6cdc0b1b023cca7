// SPDX-License-Identifier: Apache-2.0
//! What the binary registers for this transfer type: its name and aliases, the `KafkaBroker` address validator,
//! and its store migrations ([`crate::store::MIGRATIONS`]).

use dsc_domain::transfer_type::{FlowType, TransferTypeDescriptor};
use dsc_domain::{DataAddress, DataAddressValidator, Violation};

use crate::address::{KAFKA_BROKER, KAFKA_PULL, KAFKA_PULL_ALIAS, KafkaBrokerAddress};

/// `KafkaBroker-PULL` for `KafkaBroker` addresses; Mobility Data Space peers ask for it as `Kafka-PULL`.
pub fn transfer_type() -> TransferTypeDescriptor {
    TransferTypeDescriptor::new(KAFKA_PULL, KAFKA_BROKER, FlowType::Pull).with_alias(KAFKA_PULL_ALIAS)
}

/// Checks `KafkaBroker` asset addresses when they are created, so a bad one is refused at the Management API
/// rather than when a transfer starts.
pub struct KafkaBrokerValidator;

impl DataAddressValidator for KafkaBrokerValidator {
    fn address_type(&self) -> &str {
        KAFKA_BROKER
    }

    fn validate(&self, address: &DataAddress, path: &str) -> Vec<Violation> {
        KafkaBrokerAddress::from_data_address(address, path).err().unwrap_or_default()
    }

    /// A SASL password in an asset would be a shared credential in clear text; each transfer gets its own.
    fn secret_properties(&self) -> Vec<String> {
        vec!["kafka.sasl.password".into()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::{DataAddressValidators, TransferTypeRegistry, namespaces};
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn kafka_pull_is_an_alias_of_kafka_broker_pull() {
        let mut registry = TransferTypeRegistry::new();
        registry.register(transfer_type()).unwrap();
        assert_eq!(registry.canonical("Kafka-PULL"), "KafkaBroker-PULL");
        assert_eq!(registry.canonical("KafkaBroker-PULL"), "KafkaBroker-PULL");
        assert_eq!(registry.canonical("HttpData-PULL"), "HttpData-PULL");
        assert_eq!(registry.canonical("kafka-pull"), "kafka-pull");
        assert_eq!(registry.for_address_type("KafkaBroker"), vec!["KafkaBroker-PULL"]);
        assert_eq!(registry.flow_type_of("Kafka-PULL"), Some(FlowType::Pull));
    }

    #[test]
    fn the_validator_checks_kafka_broker_addresses_only() {
        let mut validators = DataAddressValidators::new();
        validators.register(Arc::new(KafkaBrokerValidator)).unwrap();
        let mut properties = dsc_domain::Properties::new();
        properties.insert(DataAddress::type_iri(), json!(KAFKA_BROKER));
        properties.insert(namespaces::edc("topic"), json!("parts/events"));
        let violations = validators.validate(&DataAddress { properties: properties.clone() }, "dataAddress");
        assert_eq!(violations.len(), 3, "bad topic, no servers, no protocol: {violations:?}");
        properties.insert(DataAddress::type_iri(), json!("HttpData"));
        assert!(validators.validate(&DataAddress { properties }, "dataAddress").is_empty());
        assert_eq!(validators.secret_properties(), vec!["kafka.sasl.password"]);
    }

    #[test]
    fn a_sasl_password_in_an_asset_is_refused_by_asset_validation() {
        let mut validators = DataAddressValidators::new();
        validators.register(Arc::new(KafkaBrokerValidator)).unwrap();
        let edc = namespaces::edc;
        let asset = json!({
            edc("properties"): [{}],
            edc("dataAddress"): [{ edc("type"): [{"@value": "HttpData"}], edc("kafka.sasl.password"): [{"@value": "s3cr3t"}] }]
        });
        let node = asset.as_object().cloned().unwrap_or_default();
        let violations = dsc_transform::asset::asset_from_expanded(&node, &validators).err().unwrap_or_default();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].invalid_value, Some(json!("<redacted>")));
    }
}
