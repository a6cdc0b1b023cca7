// SPDX-License-Identifier: Apache-2.0
//! EDC's QuerySpec: paging, sorting and filter criteria over entity properties.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::namespaces;

pub const DEFAULT_LIMIT: u32 = 50;
/// Upper bound for one page; a larger request is refused rather than silently truncated.
pub const MAX_LIMIT: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuerySpec {
    pub offset: u32,
    pub limit: u32,
    pub sort_order: SortOrder,
    pub sort_field: Option<String>,
    pub filter_expression: Vec<Criterion>,
}

impl Default for QuerySpec {
    fn default() -> Self {
        QuerySpec {
            offset: 0,
            limit: DEFAULT_LIMIT,
            sort_order: SortOrder::Asc,
            sort_field: None,
            filter_expression: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "ASC" => Some(SortOrder::Asc),
            "DESC" => Some(SortOrder::Desc),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// A property path such as `https://w3id.org/edc/v0.0.1/ns/id` or `privateProperties.'https://…/owner'`.
    pub operand_left: String,
    pub operator: Operator,
    /// Simplified expanded value; an array for `in`/`not in`.
    pub operand_right: Value,
}

impl Criterion {
    pub fn new(operand_left: impl Into<String>, operator: Operator, operand_right: Value) -> Self {
        Criterion { operand_left: operand_left.into(), operator, operand_right }
    }

    /// True when the left operand addresses an asset's id (`id`, `edc:id` in full).
    pub fn is_asset_id_path(&self) -> bool {
        self.operand_left == "id" || self.operand_left == namespaces::edc("id")
    }
}

/// The criterion operators EDC's Management API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    Eq,
    NotEq,
    In,
    NotIn,
    Like,
    ILike,
    Contains,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl Operator {
    pub const ALL: [Operator; 11] = [
        Operator::Eq,
        Operator::NotEq,
        Operator::In,
        Operator::NotIn,
        Operator::Like,
        Operator::ILike,
        Operator::Contains,
        Operator::Lt,
        Operator::LtEq,
        Operator::Gt,
        Operator::GtEq,
    ];

    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::NotEq => "!=",
            Operator::In => "in",
            Operator::NotIn => "not in",
            Operator::Like => "like",
            Operator::ILike => "ilike",
            Operator::Contains => "contains",
            Operator::Lt => "<",
            Operator::LtEq => "<=",
            Operator::Gt => ">",
            Operator::GtEq => ">=",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let normalized = text.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|op| op.symbol() == normalized)
    }

    /// All accepted spellings, for error messages.
    pub fn accepted() -> String {
        Self::ALL.iter().map(|op| format!("'{}'", op.symbol())).collect::<Vec<_>>().join(", ")
    }
}

/// A parsed property path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyPath(pub Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("property path is empty")]
    Empty,
    #[error("property path has an unterminated quote")]
    UnterminatedQuote,
    #[error("property path has an empty segment")]
    EmptySegment,
}

impl PropertyPath {
    /// Parses `a.b`, `'iri with dots'.b` and bare IRIs (`https://…/ns/id`, whose dots do not split).
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PathError::Empty);
        }
        let mut segments = Vec::new();
        let mut rest = text;
        loop {
            if let Some(quoted) = rest.strip_prefix('\'') {
                let end = quoted.find('\'').ok_or(PathError::UnterminatedQuote)?;
                segments.push(quoted[..end].to_string());
                rest = &quoted[end + 1..];
            } else if looks_like_iri(rest) {
                segments.push(rest.to_string());
                rest = "";
            } else {
                let end = rest.find('.').unwrap_or(rest.len());
                segments.push(rest[..end].to_string());
                rest = &rest[end..];
            }
            if segments.last().is_some_and(String::is_empty) {
                return Err(PathError::EmptySegment);
            }
            match rest.strip_prefix('.') {
                Some(next) if !next.is_empty() => rest = next,
                Some(_) => return Err(PathError::EmptySegment),
                None if rest.is_empty() => break,
                None => return Err(PathError::EmptySegment),
            }
        }
        Ok(PropertyPath(segments))
    }
}

fn looks_like_iri(text: &str) -> bool {
    match text.find("://") {
        Some(pos) => pos > 0 && text[..pos].chars().all(|c| c.is_ascii_alphanumeric() || "+-".contains(c)),
        None => text.starts_with("urn:"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<String> {
        PropertyPath::parse(text).map(|p| p.0).unwrap_or_default()
    }

    #[test]
    fn bare_iri_is_one_segment() {
        assert_eq!(path("https://w3id.org/edc/v0.0.1/ns/id"), vec!["https://w3id.org/edc/v0.0.1/ns/id"]);
    }

    #[test]
    fn quoted_segments_keep_their_dots() {
        assert_eq!(
            path("privateProperties.'https://w3id.org/edc/v0.0.1/ns/owner'"),
            vec!["privateProperties", "https://w3id.org/edc/v0.0.1/ns/owner"]
        );
        assert_eq!(path("'http://purl.org/dc/terms/type'.'@id'"), vec!["http://purl.org/dc/terms/type", "@id"]);
        assert_eq!(
            path("dataAddress.https://w3id.org/edc/v0.0.1/ns/type"),
            vec!["dataAddress", "https://w3id.org/edc/v0.0.1/ns/type"]
        );
    }

    #[test]
    fn malformed_paths_are_errors() {
        assert_eq!(PropertyPath::parse(""), Err(PathError::Empty));
        assert_eq!(PropertyPath::parse("'abc"), Err(PathError::UnterminatedQuote));
        assert_eq!(PropertyPath::parse("a..b"), Err(PathError::EmptySegment));
        assert_eq!(PropertyPath::parse("a."), Err(PathError::EmptySegment));
        assert_eq!(PropertyPath::parse("'a'b"), Err(PathError::EmptySegment));
    }

    #[test]
    fn operators_parse_case_insensitively() {
        assert_eq!(Operator::parse("NOT IN"), Some(Operator::NotIn));
        assert_eq!(Operator::parse("="), Some(Operator::Eq));
        assert_eq!(Operator::parse("=="), None);
        for op in Operator::ALL {
            assert_eq!(Operator::parse(op.symbol()), Some(op));
        }
    }

    #[test]
    fn definitions_name_assets_only_by_id() {
        use crate::ContractDefinition;
        let definition = |criteria| ContractDefinition {
            id: "cd".into(),
            created_at: 0,
            access_policy_id: "a".into(),
            contract_policy_id: "c".into(),
            assets_selector: criteria,
            private_properties: Default::default(),
        };
        let by_eq = definition(vec![Criterion::new(namespaces::edc("id"), Operator::Eq, "asset-1".into())]);
        assert!(by_eq.names_asset("asset-1"));
        assert!(!by_eq.names_asset("asset-2"));
        let by_in = definition(vec![Criterion::new("id", Operator::In, serde_json::json!(["x", "asset-2"]))]);
        assert!(by_in.names_asset("asset-2"));
        assert!(!definition(vec![]).names_asset("asset-1"));
        let by_name = definition(vec![Criterion::new(namespaces::edc("name"), Operator::Eq, "asset-1".into())]);
        assert!(!by_name.names_asset("asset-1"));
    }
}
