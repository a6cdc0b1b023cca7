// SPDX-License-Identifier: Apache-2.0
//! The context documents bundled in the binary, keyed by the URL peers use for them.

/// `(url, document)` for every context the connector resolves offline. `contexts/index.json` lists the same set
/// with a purpose for each; a unit test keeps the two in step.
pub const BUNDLED: &[(&str, &str)] = &[
    ("http://www.w3.org/ns/odrl.jsonld", include_str!("../contexts/odrl.jsonld")),
    ("https://w3id.org/dspace/2025/1/context.jsonld", include_str!("../contexts/dspace-2025-1.jsonld")),
    (
        "https://w3id.org/dspace/2025/1/odrl-profile.jsonld",
        include_str!("../contexts/dspace-2025-1-odrl-profile.jsonld"),
    ),
    ("https://w3id.org/dspace/2024/1/context.json", include_str!("../contexts/dspace-2024-1.jsonld")),
    ("https://w3id.org/edc/dspace/v0.0.1", include_str!("../contexts/edc-dspace-v1.jsonld")),
    ("https://w3id.org/edc/connector/management/v0.0.1", include_str!("../contexts/edc-management-v1.jsonld")),
    ("https://w3id.org/edc/v0.0.1", include_str!("../contexts/edc-v1.jsonld")),
    ("https://w3id.org/tractusx/auth/v1.0.0", include_str!("../contexts/tx-auth-v1.jsonld")),
    (
        "https://w3id.org/catenax/2025/9/policy/context.jsonld",
        include_str!("../contexts/cx-policy-2025-9-context.jsonld"),
    ),
    ("https://w3id.org/catenax/2025/9/policy/odrl.jsonld", include_str!("../contexts/cx-policy-2025-9-odrl.jsonld")),
    ("https://w3id.org/tractusx/policy/v1.0.0", include_str!("../contexts/tx-policy-v1.jsonld")),
    ("https://w3id.org/tractusx/edc/v0.0.1", include_str!("../contexts/tx-edc-v1.jsonld")),
];

pub const INDEX: &str = include_str!("../contexts/index.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lists_exactly_the_bundled_documents() {
        let index: serde_json::Value = serde_json::from_str(INDEX).unwrap_or_default();
        let mut listed: Vec<&str> = index
            .as_array()
            .map(|entries| entries.iter().filter_map(|e| e.get("url")?.as_str()).collect())
            .unwrap_or_default();
        let mut bundled: Vec<&str> = BUNDLED.iter().map(|(url, _)| *url).collect();
        listed.sort_unstable();
        bundled.sort_unstable();
        assert_eq!(listed, bundled);
    }

    #[test]
    fn every_bundled_document_is_a_json_object_with_a_context() {
        for (url, text) in BUNDLED {
            let doc: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(doc.get("@context").is_some(), "{url} has no @context");
        }
    }
}
