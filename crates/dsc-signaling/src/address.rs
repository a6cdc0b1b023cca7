// SPDX-License-Identifier: Apache-2.0
//! Domain data addresses ↔ the DSP 2025-1 / DPS wire shape.
//!
//! Like EDC, every property travels in `endpointProperties` under its full IRI (EDC and Tractus-X consumers look
//! for `https://w3id.org/edc/v0.0.1/ns/endpoint`, `…/authorization` and the `tx-auth:` names), the address type
//! becomes `endpointType`, and `endpoint` is also given as the spec's own field. Reading accepts both: short
//! names are taken as EDC terms.

use dsc_domain::{DataAddress, namespaces};
use serde_json::Value;

use crate::wire::{EndpointProperty, WireDataAddress};

pub fn address_to_wire(address: &DataAddress) -> WireDataAddress {
    let endpoint_type = address.address_type().unwrap_or_default().to_string();
    let endpoint = address.edc_property("endpoint").map(str::to_string);
    let endpoint_properties = address
        .properties
        .iter()
        .filter(|(name, _)| **name != DataAddress::type_iri())
        .map(|(name, value)| EndpointProperty {
            kind: "EndpointProperty".into(),
            name: name.clone(),
            value: match value {
                Value::String(_) => value.clone(),
                other => Value::String(other.to_string()),
            },
        })
        .collect();
    WireDataAddress { kind: "DataAddress".into(), endpoint_type, endpoint, endpoint_properties }
}

pub fn address_from_wire(wire: &WireDataAddress) -> DataAddress {
    let mut properties = dsc_domain::Properties::new();
    properties.insert(DataAddress::type_iri(), Value::String(wire.endpoint_type.clone()));
    properties.insert(namespaces::edc("endpointType"), Value::String(wire.endpoint_type.clone()));
    if let Some(endpoint) = &wire.endpoint {
        properties.insert(namespaces::edc("endpoint"), Value::String(endpoint.clone()));
    }
    for property in &wire.endpoint_properties {
        let name = if property.name.contains("://") || property.name.starts_with("urn:") {
            property.name.clone()
        } else {
            namespaces::edc(&property.name)
        };
        properties.insert(name, property.value.clone());
    }
    DataAddress { properties }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn addresses_survive_the_wire_and_short_names_become_edc_terms() {
        let mut properties = dsc_domain::Properties::new();
        properties.insert(DataAddress::type_iri(), json!("https://w3id.org/idsa/v4.1/HTTP"));
        properties.insert(namespaces::edc("endpointType"), json!("https://w3id.org/idsa/v4.1/HTTP"));
        properties.insert(namespaces::edc("endpoint"), json!("http://dp/public"));
        properties.insert(namespaces::edc("authorization"), json!("token"));
        properties.insert(format!("{}expiresIn", namespaces::TX_AUTH), json!("300"));
        let address = DataAddress { properties };
        let wire = address_to_wire(&address);
        assert_eq!(wire.endpoint.as_deref(), Some("http://dp/public"));
        assert_eq!(address_from_wire(&wire), address);

        let short = WireDataAddress {
            kind: "DataAddress".into(),
            endpoint_type: "HttpData".into(),
            endpoint: Some("http://x".into()),
            endpoint_properties: vec![EndpointProperty {
                kind: "EndpointProperty".into(),
                name: "authorization".into(),
                value: json!("t"),
            }],
        };
        let read = address_from_wire(&short);
        assert_eq!(read.edc_property("authorization"), Some("t"));
        assert_eq!(read.address_type(), Some("HttpData"));
    }
}
