// SPDX-License-Identifier: Apache-2.0
//! The Management API's requests for another connector's catalog (`CatalogRequest`) or one of its datasets
//! (`DatasetRequest`). The answers are the peer's messages as they came, so there is no outbound form here.

use dsc_domain::{QuerySpec, Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};

use crate::process::mandatory_trimmed;
use crate::query::query_spec_from_expanded;
use crate::reader::Violations;

/// Whom to ask: every catalog request names the counter-party completely.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogPeer {
    pub counter_party_address: String,
    pub counter_party_id: String,
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogRequest {
    pub peer: CatalogPeer,
    pub query: QuerySpec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRequest {
    pub peer: CatalogPeer,
    pub dataset_id: String,
}

fn peer_from(node: &Node, violations: &mut Violations) -> CatalogPeer {
    let mut read = |local: &str| mandatory_trimmed(node, local, violations).unwrap_or_default();
    CatalogPeer {
        counter_party_address: read("counterPartyAddress"),
        counter_party_id: read("counterPartyId"),
        protocol: read("protocol"),
    }
}

pub fn catalog_request_from_expanded(node: &Node) -> Result<CatalogRequest, Violations> {
    let mut violations = Vec::new();
    let peer = peer_from(node, &mut violations);
    let query = match expanded::first_node(node, &namespaces::edc("querySpec")) {
        Some(spec) => query_spec_from_expanded(Some(spec)).unwrap_or_else(|more| {
            violations.extend(more);
            QuerySpec::default()
        }),
        None => QuerySpec::default(),
    };
    if violations.is_empty() { Ok(CatalogRequest { peer, query }) } else { Err(violations) }
}

pub fn dataset_request_from_expanded(node: &Node) -> Result<DatasetRequest, Violations> {
    let mut violations = Vec::new();
    let peer = peer_from(node, &mut violations);
    let dataset_id = expanded::id(node).filter(|id| !id.trim().is_empty()).map(str::to_string);
    if dataset_id.is_none() {
        violations.push(Violation::mandatory_value("@id"));
    }
    match dataset_id {
        Some(dataset_id) if violations.is_empty() => Ok(DatasetRequest { peer, dataset_id }),
        _ => Err(violations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn edc(local: &str) -> String {
        namespaces::edc(local)
    }

    fn node(value: Value) -> Node {
        value.as_object().cloned().unwrap_or_default()
    }

    fn peer() -> Node {
        node(json!({
            edc("counterPartyAddress"): [{"@value": "http://provider/api/v1/dsp"}],
            edc("counterPartyId"): [{"@value": " did:web:provider "}],
            edc("protocol"): [{"@value": "dataspace-protocol-http:2025-1"}],
        }))
    }

    #[test]
    fn reads_a_catalog_request_with_its_query() {
        let mut body = peer();
        body.insert(edc("querySpec"), json!([{ edc("limit"): [{"@value": 5}] }]));
        let read = catalog_request_from_expanded(&body).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(read.peer.counter_party_id, "did:web:provider");
        assert_eq!(read.peer.protocol, "dataspace-protocol-http:2025-1");
        assert_eq!(read.query.limit, 5);
        let read = catalog_request_from_expanded(&peer()).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(read.query, QuerySpec::default());
    }

    #[test]
    fn a_catalog_request_reports_the_peer_and_the_query_together() {
        let body = node(
            json!({ edc("counterPartyId"): [{"@value": "  "}], edc("querySpec"): [{ edc("limit"): [{"@value": 0}] }] }),
        );
        let violations = catalog_request_from_expanded(&body).err().unwrap_or_default();
        let paths: Vec<_> = violations.iter().filter_map(|v| v.path.clone()).collect();
        assert_eq!(paths, vec![edc("counterPartyAddress"), edc("counterPartyId"), edc("protocol"), edc("limit")]);
        assert_eq!(
            violations[0].message,
            format!("mandatory value '{}' is missing or it is blank", edc("counterPartyAddress"))
        );
    }

    #[test]
    fn a_dataset_request_needs_the_dataset_id() {
        let violations = dataset_request_from_expanded(&peer()).err().unwrap_or_default();
        assert_eq!(violations, vec![Violation::mandatory_value("@id")]);
        assert_eq!(violations[0].message, "mandatory value '@id' is missing or it is blank");
        let mut body = peer();
        body.insert("@id".into(), json!("asset-1"));
        let read = dataset_request_from_expanded(&body).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(read.dataset_id, "asset-1");
        assert_eq!(read.peer.counter_party_address, "http://provider/api/v1/dsp");
    }
}
