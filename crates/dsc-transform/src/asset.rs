// SPDX-License-Identifier: Apache-2.0
//! Assets and data addresses.

use dsc_domain::validation::join_path;
use dsc_domain::{Asset, DataAddress, DataAddressValidators, Properties, Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};
use dsc_jsonld::simplified;
use serde_json::{Map, Value};

use crate::reader::{self, Violations};

/// Local names of data-address properties that would carry a secret in clear text, whatever the address type
/// (each type's validator adds its own). Data addresses must reference secrets in the vault instead (`keyName`,
/// `...SecretKey`, `...Alias`).
const CLEAR_TEXT_SECRET_NAMES: &[&str] = &[
    "password",
    "secret",
    "clientsecret",
    "apikey",
    "token",
    "accesstoken",
    "refreshtoken",
    "privatekey",
    "authorization",
];

/// Reads an asset; its data address is checked by the validator registered for its type, if any.
pub fn asset_from_expanded(node: &Node, validators: &DataAddressValidators) -> Result<Asset, Violations> {
    let mut violations = Vec::new();
    reader::check_type(node, &namespaces::edc("Asset"), "", &mut violations);
    let id = reader::id_or_new(node, "", &mut violations);

    let properties_iri = namespaces::edc("properties");
    let mut properties = match expanded::first_node(node, &properties_iri) {
        Some(properties) => simplified::simplify_node(properties),
        None => {
            violations.push(Violation::mandatory_object(&properties_iri));
            Properties::new()
        }
    };
    let private_properties = reader::property_map(node, "privateProperties");
    for key in properties.keys().filter(|key| private_properties.contains_key(*key)) {
        violations.push(
            Violation::new(
                format!("property '{key}' is both a public and a private property"),
                join_path(&namespaces::edc("privateProperties"), key),
            )
            .with_value(Value::String(key.clone())),
        );
    }
    let approval_iri = dsc_domain::Approval::property();
    if let Some(approval) = private_properties.get(&approval_iri) {
        let unknown = match approval.as_str() {
            Some(text) => dsc_domain::Approval::parse(text).err(),
            None => Some(approval.to_string()),
        };
        if let Some(word) = unknown {
            violations.push(
                Violation::new(
                    format!("approval '{word}' is unknown: name 'negotiation', 'finalization' and/or 'transfer'"),
                    join_path(&namespaces::edc("privateProperties"), &approval_iri),
                )
                .with_value(approval.clone()),
            );
        }
    }

    let data_address_iri = namespaces::edc("dataAddress");
    let data_address = match expanded::first_node(node, &data_address_iri) {
        Some(address) => data_address_from_expanded(address, &data_address_iri, validators, &mut violations),
        None => {
            violations.push(Violation::mandatory_object(&data_address_iri));
            DataAddress { properties: Properties::new() }
        }
    };

    if !violations.is_empty() {
        return Err(violations);
    }
    // EDC keeps the id among the properties too, and catalog clients read it from there.
    properties.insert(namespaces::edc("id"), Value::String(id.clone()));
    Ok(Asset { id, created_at: 0, properties, private_properties, data_address })
}

pub fn data_address_from_expanded(
    node: &Node,
    path: &str,
    validators: &DataAddressValidators,
    violations: &mut Violations,
) -> DataAddress {
    reader::check_type(node, &namespaces::edc("DataAddress"), path, violations);
    let properties = simplified::simplify_node(node);
    let type_iri = DataAddress::type_iri();
    match properties.get(&type_iri) {
        Some(Value::String(kind)) if !kind.trim().is_empty() => {}
        _ => violations.push(Violation::mandatory_value(&join_path(path, &type_iri))),
    }
    let type_secrets = validators.secret_properties();
    for key in properties.keys() {
        if carries_clear_text_secret(key, &type_secrets) {
            violations.push(
                Violation::new(
                    format!(
                        "data address property '{key}' would store a secret in clear text; put the secret in the \
                         vault and reference it by key (e.g. 'keyName' or '<name>Key')"
                    ),
                    join_path(path, key),
                )
                .with_value(Value::String("<redacted>".into())),
            );
        }
    }
    let address = DataAddress { properties };
    violations.extend(validators.validate(&address, path));
    address
}

fn carries_clear_text_secret(key: &str, type_secrets: &[String]) -> bool {
    let local = key.rsplit(['/', '#', ':']).next().unwrap_or(key).to_ascii_lowercase();
    let full_local = key.strip_prefix(namespaces::EDC).unwrap_or(key).to_ascii_lowercase();
    let named = |name: &str| {
        CLEAR_TEXT_SECRET_NAMES.contains(&name) || type_secrets.iter().any(|secret| secret.eq_ignore_ascii_case(name))
    };
    named(&local) || named(&full_local)
}

pub fn asset_to_expanded(asset: &Asset) -> Value {
    let mut node = Map::new();
    node.insert("@id".into(), Value::String(asset.id.clone()));
    node.insert("@type".into(), Value::Array(vec![Value::String(namespaces::edc("Asset"))]));
    node.insert(namespaces::edc("properties"), Value::Array(vec![properties_node(&asset.properties)]));
    if !asset.private_properties.is_empty() {
        node.insert(
            namespaces::edc("privateProperties"),
            Value::Array(vec![properties_node(&asset.private_properties)]),
        );
    }
    node.insert(namespaces::edc("dataAddress"), Value::Array(vec![data_address_to_expanded(&asset.data_address)]));
    node.insert(namespaces::edc("createdAt"), reader::literal(asset.created_at));
    Value::Array(vec![Value::Object(node)])
}

pub fn data_address_to_expanded(address: &DataAddress) -> Value {
    let mut node = simplified::node_to_expanded(&address.properties);
    node.insert("@type".into(), Value::Array(vec![Value::String(namespaces::edc("DataAddress"))]));
    Value::Object(node)
}

fn properties_node(properties: &Properties) -> Value {
    Value::Object(simplified::node_to_expanded(properties))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edc(local: &str) -> String {
        namespaces::edc(local)
    }

    fn node(value: Value) -> Node {
        value.as_object().cloned().unwrap_or_default()
    }

    /// A stand-in for a transfer type's validator: `Stream` addresses need an `edc:stream` and must not carry
    /// an `edc:stream.passphrase`.
    struct StreamValidator;

    impl dsc_domain::DataAddressValidator for StreamValidator {
        fn address_type(&self) -> &str {
            "Stream"
        }
        fn validate(&self, address: &DataAddress, path: &str) -> Vec<Violation> {
            match address.properties.get(&edc("stream")) {
                Some(_) => Vec::new(),
                None => vec![Violation::mandatory_value(&join_path(path, &edc("stream")))],
            }
        }
        fn secret_properties(&self) -> Vec<String> {
            vec!["stream.passphrase".into()]
        }
    }

    fn validators() -> DataAddressValidators {
        let mut validators = DataAddressValidators::new();
        validators.register(std::sync::Arc::new(StreamValidator)).unwrap();
        validators
    }

    fn asset_from_expanded(node: &Node) -> Result<Asset, Violations> {
        super::asset_from_expanded(node, &validators())
    }

    #[test]
    fn reads_a_complete_asset() {
        let input = node(json!({
            "@id": "asset-1",
            "@type": [edc("Asset")],
            edc("properties"): [{ edc("name"): [{"@value": "Parts"}] }],
            edc("privateProperties"): [{ edc("owner"): [{"@value": "team-a"}] }],
            edc("dataAddress"): [{ "@type": [edc("DataAddress")], edc("type"): [{"@value": "HttpData"}],
                                   edc("baseUrl"): [{"@value": "https://backend.example"}] }]
        }));
        let asset = asset_from_expanded(&input).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(asset.id, "asset-1");
        assert_eq!(asset.properties.get(&edc("name")), Some(&json!("Parts")));
        assert_eq!(asset.properties.get(&edc("id")), Some(&json!("asset-1")));
        assert_eq!(asset.private_properties.get(&edc("owner")), Some(&json!("team-a")));
        assert_eq!(asset.data_address.address_type(), Some("HttpData"));
    }

    #[test]
    fn reports_every_missing_part_with_its_path() {
        let violations = asset_from_expanded(&node(json!({"@id": "a"}))).err().unwrap_or_default();
        let paths: Vec<_> = violations.iter().filter_map(|v| v.path.clone()).collect();
        assert_eq!(paths, vec![edc("properties"), edc("dataAddress")]);
        assert_eq!(violations[1].message, format!("mandatory object '{}' is missing", edc("dataAddress")));
    }

    #[test]
    fn data_address_needs_a_type() {
        let violations = asset_from_expanded(&node(json!({
            edc("properties"): [{}],
            edc("dataAddress"): [{ edc("baseUrl"): [{"@value": "x"}] }]
        })))
        .err()
        .unwrap_or_default();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].path.as_deref(), Some(format!("{}/{}", edc("dataAddress"), edc("type")).as_str()));
    }

    #[test]
    fn wrong_type_and_blank_id_are_refused() {
        let violations = asset_from_expanded(&node(json!({
            "@id": " ", "@type": [edc("Policy")],
            edc("properties"): [{}],
            edc("dataAddress"): [{ edc("type"): [{"@value": "HttpData"}] }]
        })))
        .err()
        .unwrap_or_default();
        let paths: Vec<_> = violations.iter().filter_map(|v| v.path.clone()).collect();
        assert_eq!(paths, vec!["@type".to_string(), "@id".to_string()]);
    }

    #[test]
    fn clear_text_secrets_in_data_addresses_are_refused() {
        for key in ["oauth2:clientSecret", "header:Authorization", &edc("password"), &edc("stream.passphrase")] {
            let violations = asset_from_expanded(&node(json!({
                edc("properties"): [{}],
                edc("dataAddress"): [{ edc("type"): [{"@value": "HttpData"}], key: [{"@value": "s3cr3t"}] }]
            })))
            .err()
            .unwrap_or_default();
            assert_eq!(violations.len(), 1, "{key}");
            assert_eq!(violations[0].invalid_value, Some(json!("<redacted>")));
        }
        let ok = asset_from_expanded(&node(json!({
            edc("properties"): [{}],
            edc("dataAddress"): [{ edc("type"): [{"@value": "HttpData"}],
                                   "oauth2:clientSecretKey": [{"@value": "alias"}], edc("keyName"): [{"@value": "k"}],
                                   "oauth2:tokenUrl": [{"@value": "https://idp"}] }]
        })));
        assert!(ok.is_ok());
    }

    #[test]
    fn the_validator_of_the_address_type_is_consulted() {
        let read = |address_type: &str| {
            asset_from_expanded(&node(json!({
                edc("properties"): [{}],
                edc("dataAddress"): [{ edc("type"): [{"@value": address_type}] }]
            })))
        };
        let violations = read("Stream").err().unwrap_or_default();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].path, Some(format!("{}/{}", edc("dataAddress"), edc("stream"))));
        assert!(read("HttpData").is_ok(), "no validator registered for HttpData: generic checks only");
        let unchecked = super::asset_from_expanded(
            &node(json!({ edc("properties"): [{}], edc("dataAddress"): [{ edc("type"): [{"@value": "Stream"}] }] })),
            &DataAddressValidators::new(),
        );
        assert!(unchecked.is_ok(), "without the registration the type has no rules");
    }

    #[test]
    fn public_and_private_keys_must_not_overlap() {
        let violations = asset_from_expanded(&node(json!({
            edc("properties"): [{ edc("x"): [{"@value": 1}] }],
            edc("privateProperties"): [{ edc("x"): [{"@value": 2}] }],
            edc("dataAddress"): [{ edc("type"): [{"@value": "HttpData"}] }]
        })))
        .err()
        .unwrap_or_default();
        assert_eq!(violations.len(), 1);
    }

    #[test]
    fn approval_names_known_decisions_only() {
        let read = |approval: Value| {
            asset_from_expanded(&node(json!({
                edc("properties"): [{}],
                edc("privateProperties"): [{ edc("approval"): [{"@value": approval}] }],
                edc("dataAddress"): [{ edc("type"): [{"@value": "HttpData"}] }]
            })))
        };
        let asset = read(json!("negotiation transfer")).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(asset.approval(), dsc_domain::Approval { negotiation: true, finalization: false, transfer: true });
        let violations = read(json!("negotiation, always")).err().unwrap_or_default();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(
            violations[0].message,
            "approval 'always' is unknown: name 'negotiation', 'finalization' and/or 'transfer'"
        );
        assert_eq!(violations[0].path, Some(format!("{}/{}", edc("privateProperties"), edc("approval"))));
        let violations = read(json!(true)).err().unwrap_or_default();
        assert_eq!(
            violations[0].message,
            "approval 'true' is unknown: name 'negotiation', 'finalization' and/or 'transfer'"
        );
    }

    #[test]
    fn round_trips_through_expanded_form() {
        let input = node(json!({
            "@id": "asset-1",
            edc("properties"): [{ edc("name"): [{"@value": "Parts"}], "http://purl.org/dc/terms/type": [{"@id": "urn:t"}] }],
            edc("dataAddress"): [{ edc("type"): [{"@value": "HttpData"}] }]
        }));
        let asset = asset_from_expanded(&input).unwrap_or_else(|v| panic!("{v:?}"));
        let again = asset_to_expanded(&asset);
        let again = asset_from_expanded(dsc_jsonld::expanded::single_node(&again).unwrap_or_else(|| panic!()))
            .unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(again, asset);
    }
}
