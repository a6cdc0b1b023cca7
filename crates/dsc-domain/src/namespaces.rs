// SPDX-License-Identifier: Apache-2.0
//! Namespace IRIs shared by every layer.

pub const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";
pub const ODRL: &str = "http://www.w3.org/ns/odrl/2/";
pub const DCAT: &str = "http://www.w3.org/ns/dcat#";
pub const DCT: &str = "http://purl.org/dc/terms/";
pub const DSPACE_2025_1: &str = "https://w3id.org/dspace/2025/1/";
pub const TX: &str = "https://w3id.org/tractusx/v0.0.1/ns/";
pub const TX_AUTH: &str = "https://w3id.org/tractusx/auth/";
pub const CX_POLICY: &str = "https://w3id.org/catenax/2025/9/policy/";

/// `edc:<local>` as a full IRI.
pub fn edc(local: &str) -> String {
    format!("{EDC}{local}")
}

/// `odrl:<local>` as a full IRI.
pub fn odrl(local: &str) -> String {
    format!("{ODRL}{local}")
}
