// SPDX-License-Identifier: Apache-2.0
//! The Kafka PULL transfer type in the binary: registering it. Building and running it is the Kafka crate's
//! (`dsc_kafka_pull::setup`).

use std::sync::Arc;

/// Registers the Kafka PULL transfer type (with its `Kafka-PULL` alias) and the `KafkaBroker` address validator.
pub fn register(
    transfer_types: &mut dsc_domain::TransferTypeRegistry,
    validators: &mut dsc_domain::DataAddressValidators,
) -> Result<(), crate::runtime::StartError> {
    let failed = |e: String| crate::runtime::StartError::Plugin(e);
    transfer_types.register(dsc_kafka_pull::transfer_type()).map_err(|e| failed(e.to_string()))?;
    validators.register(Arc::new(dsc_kafka_pull::KafkaBrokerValidator)).map_err(|e| failed(e.to_string()))
}
