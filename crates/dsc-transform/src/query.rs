// SPDX-License-Identifier: Apache-2.0
//! QuerySpec and Criterion.

use dsc_domain::query::{MAX_LIMIT, PropertyPath};
use dsc_domain::validation::join_path;
use dsc_domain::{Criterion, Operator, QuerySpec, SortOrder, Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};
use dsc_jsonld::simplified;
use serde_json::{Map, Value};

use crate::reader::{self, Violations};

/// Reads a QuerySpec; an absent body (`None`) is the default query.
pub fn query_spec_from_expanded(node: Option<&Node>) -> Result<QuerySpec, Violations> {
    let mut spec = QuerySpec::default();
    let Some(node) = node else { return Ok(spec) };
    let mut violations = Vec::new();
    reader::check_type(node, &namespaces::edc("QuerySpec"), "", &mut violations);
    if let Some(offset) = number(node, "offset", &mut violations) {
        match u32::try_from(offset) {
            Ok(offset) => spec.offset = offset,
            Err(_) => violations.push(
                Violation::new("offset must be a whole number from 0", namespaces::edc("offset"))
                    .with_value(offset.into()),
            ),
        }
    }
    if let Some(limit) = number(node, "limit", &mut violations) {
        match u32::try_from(limit) {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => spec.limit = limit,
            _ => violations.push(
                Violation::new(format!("limit must be a whole number from 1 to {MAX_LIMIT}"), namespaces::edc("limit"))
                    .with_value(limit.into()),
            ),
        }
    }
    if let Some(order) = expanded::first_str(node, &namespaces::edc("sortOrder")) {
        match SortOrder::parse(order) {
            Some(order) => spec.sort_order = order,
            None => violations.push(
                Violation::new("sortOrder must be 'ASC' or 'DESC'", namespaces::edc("sortOrder"))
                    .with_value(order.into()),
            ),
        }
    }
    if let Some(field) = expanded::first_str(node, &namespaces::edc("sortField")) {
        match PropertyPath::parse(field) {
            Ok(_) => spec.sort_field = Some(field.to_string()),
            Err(e) => violations.push(
                Violation::new(format!("sortField is not a property path: {e}"), namespaces::edc("sortField"))
                    .with_value(field.into()),
            ),
        }
    }
    let filter_iri = namespaces::edc("filterExpression");
    spec.filter_expression = expanded::nodes(node, &filter_iri)
        .enumerate()
        .filter_map(|(index, criterion)| {
            criterion_from_expanded(criterion, &format!("{filter_iri}[{index}]"), &mut violations)
        })
        .collect();
    if violations.is_empty() { Ok(spec) } else { Err(violations) }
}

fn number(node: &Node, local: &str, violations: &mut Violations) -> Option<i64> {
    let iri = namespaces::edc(local);
    let value = expanded::values(node, &iri).first()?;
    let literal = expanded::literal(value)?;
    let parsed = match literal {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    if parsed.is_none() {
        violations.push(Violation::new(format!("{local} must be a whole number"), iri).with_value(literal.clone()));
    }
    parsed
}

pub fn criterion_from_expanded(node: &Node, path: &str, violations: &mut Violations) -> Option<Criterion> {
    let before = violations.len();
    let left_iri = namespaces::edc("operandLeft");
    let operand_left = match expanded::first_str(node, &left_iri) {
        Some(left) => match PropertyPath::parse(left) {
            Ok(_) => Some(left.to_string()),
            Err(e) => {
                violations.push(
                    Violation::new(format!("operandLeft is not a property path: {e}"), join_path(path, &left_iri))
                        .with_value(left.into()),
                );
                None
            }
        },
        None => {
            violations.push(Violation::mandatory_value(&join_path(path, &left_iri)));
            None
        }
    };
    let operator_iri = namespaces::edc("operator");
    let operator = match expanded::first_str(node, &operator_iri) {
        Some(text) => match Operator::parse(text) {
            Some(op) => Some(op),
            None => {
                violations.push(
                    Violation::new(
                        format!("operator '{text}' is not supported; expected one of {}", Operator::accepted()),
                        join_path(path, &operator_iri),
                    )
                    .with_value(text.into()),
                );
                None
            }
        },
        None => {
            violations.push(Violation::mandatory_value(&join_path(path, &operator_iri)));
            None
        }
    };
    let right_iri = namespaces::edc("operandRight");
    let right_values = expanded::values(node, &right_iri);
    let mut operand_right = simplified::simplify(right_values);
    if matches!(operator, Some(Operator::In | Operator::NotIn)) && !operand_right.is_array() {
        operand_right = Value::Array(vec![operand_right]);
    }
    if right_values.is_empty() && !matches!(operator, Some(Operator::In | Operator::NotIn)) {
        violations.push(Violation::mandatory_value(&join_path(path, &right_iri)));
    }
    if violations.len() > before {
        return None;
    }
    Some(Criterion { operand_left: operand_left?, operator: operator?, operand_right })
}

pub fn criterion_to_expanded(criterion: &Criterion) -> Value {
    let mut node = Map::new();
    node.insert("@type".into(), Value::Array(vec![Value::String(namespaces::edc("Criterion"))]));
    node.insert(namespaces::edc("operandLeft"), reader::literal(criterion.operand_left.clone()));
    node.insert(namespaces::edc("operator"), reader::literal(criterion.operator.symbol()));
    node.insert(namespaces::edc("operandRight"), Value::Array(simplified::to_expanded(&criterion.operand_right)));
    Value::Object(node)
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

    #[test]
    fn absent_body_is_the_default_query() {
        assert_eq!(query_spec_from_expanded(None), Ok(QuerySpec::default()));
    }

    #[test]
    fn reads_paging_sorting_and_filters() {
        let spec = query_spec_from_expanded(Some(&node(json!({
            edc("offset"): [{"@value": 5}], edc("limit"): [{"@value": "10"}],
            edc("sortOrder"): [{"@value": "DESC"}], edc("sortField"): [{"@value": "createdAt"}],
            edc("filterExpression"): [{ edc("operandLeft"): [{"@value": edc("id")}], edc("operator"): [{"@value": "in"}],
                                        edc("operandRight"): [{"@value": "a"}] }]
        }))))
        .unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!((spec.offset, spec.limit, spec.sort_order), (5, 10, SortOrder::Desc));
        assert_eq!(spec.filter_expression[0].operand_right, json!(["a"]));
    }

    #[test]
    fn reports_bad_operators_and_ranges_with_paths() {
        let violations = query_spec_from_expanded(Some(&node(json!({
            edc("offset"): [{"@value": -1}], edc("limit"): [{"@value": 0}], edc("sortOrder"): [{"@value": "UP"}],
            edc("filterExpression"): [{ edc("operandLeft"): [{"@value": "id"}], edc("operator"): [{"@value": "=="}],
                                        edc("operandRight"): [{"@value": "a"}] }]
        }))))
        .err()
        .unwrap_or_default();
        let paths: Vec<_> = violations.iter().filter_map(|v| v.path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                edc("offset"),
                edc("limit"),
                edc("sortOrder"),
                format!("{}[0]/{}", edc("filterExpression"), edc("operator"))
            ]
        );
        assert_eq!(
            violations[3].message,
            "operator '==' is not supported; expected one of '=', '!=', 'in', 'not in', 'like', 'ilike', 'contains', '<', '<=', '>', '>='"
        );
    }
}
