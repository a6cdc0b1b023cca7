// SPDX-License-Identifier: Apache-2.0
//! The ODRL 2.2 policy model as EDC uses it: policies with permissions, prohibitions and obligations, rules with an
//! action and constraints, atomic and logical constraints. IRIs are kept in full.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::namespaces::ODRL;
use crate::property::Properties;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyType {
    Set,
    Offer,
    Agreement,
}

impl PolicyType {
    pub fn iri(self) -> String {
        let local = match self {
            PolicyType::Set => "Set",
            PolicyType::Offer => "Offer",
            PolicyType::Agreement => "Agreement",
        };
        format!("{ODRL}{local}")
    }

    pub fn from_iri(iri: &str) -> Option<Self> {
        match iri.strip_prefix(ODRL)? {
            "Set" => Some(PolicyType::Set),
            "Offer" => Some(PolicyType::Offer),
            "Agreement" => Some(PolicyType::Agreement),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// The policy's own `@id`, when it has one.
    pub uid: Option<String>,
    pub policy_type: PolicyType,
    pub permissions: Vec<Rule>,
    pub prohibitions: Vec<Rule>,
    pub obligations: Vec<Rule>,
    pub assigner: Option<String>,
    pub assignee: Option<String>,
    pub target: Option<String>,
    pub profiles: Vec<String>,
    /// Anything else on the policy node (full-IRI keys), carried through unchanged.
    pub extensible_properties: Properties,
}

impl Policy {
    pub fn new(policy_type: PolicyType) -> Self {
        Policy {
            uid: None,
            policy_type,
            permissions: Vec::new(),
            prohibitions: Vec::new(),
            obligations: Vec::new(),
            assigner: None,
            assignee: None,
            target: None,
            profiles: Vec::new(),
            extensible_properties: Properties::new(),
        }
    }
}

/// A permission, prohibition or duty. `duties` holds a permission's duties, a prohibition's remedies or a duty's
/// consequences: ODRL gives them different names but the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub action: Action,
    pub constraints: Vec<Constraint>,
    pub duties: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Full IRI, e.g. `http://www.w3.org/ns/odrl/2/use`.
    pub action_type: String,
    pub included_in: Option<String>,
    pub refinements: Vec<Constraint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Constraint {
    Atomic {
        left_operand: String,
        operator: ConstraintOperator,
        /// Simplified expanded value (see [`crate::property`]).
        right_operand: Value,
    },
    Logical {
        operator: LogicalOperator,
        constraints: Vec<Constraint>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogicalOperator {
    And,
    Or,
    Xone,
    AndSequence,
}

impl LogicalOperator {
    pub const ALL: [LogicalOperator; 4] =
        [LogicalOperator::And, LogicalOperator::Or, LogicalOperator::Xone, LogicalOperator::AndSequence];

    pub fn local_name(self) -> &'static str {
        match self {
            LogicalOperator::And => "and",
            LogicalOperator::Or => "or",
            LogicalOperator::Xone => "xone",
            LogicalOperator::AndSequence => "andSequence",
        }
    }

    pub fn iri(self) -> String {
        format!("{ODRL}{}", self.local_name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConstraintOperator {
    Eq,
    Neq,
    Gt,
    Gteq,
    Lt,
    Lteq,
    IsA,
    HasPart,
    IsPartOf,
    IsAllOf,
    IsAnyOf,
    IsNoneOf,
}

impl ConstraintOperator {
    pub const ALL: [ConstraintOperator; 12] = [
        ConstraintOperator::Eq,
        ConstraintOperator::Neq,
        ConstraintOperator::Gt,
        ConstraintOperator::Gteq,
        ConstraintOperator::Lt,
        ConstraintOperator::Lteq,
        ConstraintOperator::IsA,
        ConstraintOperator::HasPart,
        ConstraintOperator::IsPartOf,
        ConstraintOperator::IsAllOf,
        ConstraintOperator::IsAnyOf,
        ConstraintOperator::IsNoneOf,
    ];

    pub fn local_name(self) -> &'static str {
        match self {
            ConstraintOperator::Eq => "eq",
            ConstraintOperator::Neq => "neq",
            ConstraintOperator::Gt => "gt",
            ConstraintOperator::Gteq => "gteq",
            ConstraintOperator::Lt => "lt",
            ConstraintOperator::Lteq => "lteq",
            ConstraintOperator::IsA => "isA",
            ConstraintOperator::HasPart => "hasPart",
            ConstraintOperator::IsPartOf => "isPartOf",
            ConstraintOperator::IsAllOf => "isAllOf",
            ConstraintOperator::IsAnyOf => "isAnyOf",
            ConstraintOperator::IsNoneOf => "isNoneOf",
        }
    }

    pub fn iri(self) -> String {
        format!("{ODRL}{}", self.local_name())
    }

    pub fn from_iri(iri: &str) -> Option<Self> {
        let local = iri.strip_prefix(ODRL)?;
        Self::ALL.into_iter().find(|op| op.local_name() == local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_iris_round_trip() {
        for op in ConstraintOperator::ALL {
            assert_eq!(ConstraintOperator::from_iri(&op.iri()), Some(op));
        }
        assert_eq!(ConstraintOperator::from_iri("http://www.w3.org/ns/odrl/2/equals"), None);
        assert_eq!(ConstraintOperator::from_iri("eq"), None);
    }

    #[test]
    fn policy_types_are_odrl_classes() {
        assert_eq!(PolicyType::from_iri("http://www.w3.org/ns/odrl/2/Set"), Some(PolicyType::Set));
        assert_eq!(PolicyType::from_iri("http://www.w3.org/ns/odrl/2/Policy"), None);
        assert_eq!(PolicyType::Agreement.iri(), "http://www.w3.org/ns/odrl/2/Agreement");
    }
}
