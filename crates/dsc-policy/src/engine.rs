// SPDX-License-Identifier: Apache-2.0
//! The registry of constraint functions and the evaluator.

use std::collections::HashMap;
use std::sync::Arc;

use dsc_domain::odrl::{Constraint, ConstraintOperator, LogicalOperator, Policy, Rule};
use serde_json::Value;

use crate::{PolicyContext, Scope};

/// Decides one atomic constraint. `Ok(false)`: not satisfied; `Err`: cannot be decided (unsupported operator,
/// malformed right operand), which also counts as not satisfied and is reported with its reason.
pub trait ConstraintFunction: Send + Sync {
    fn evaluate(&self, operator: ConstraintOperator, right: &Value, context: &PolicyContext) -> Result<bool, String>;
}

/// Why a policy does not hold: one line per failing rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy not satisfied in scope {scope}: {}", problems.join("; "))]
pub struct PolicyViolation {
    pub scope: Scope,
    pub problems: Vec<String>,
}

#[derive(Default, Clone)]
pub struct PolicyEngine {
    functions: HashMap<(Scope, String), Arc<dyn ConstraintFunction>>,
}

impl PolicyEngine {
    pub fn new() -> Self {
        PolicyEngine::default()
    }

    /// Binds `function` to the left operand (a full IRI) in `scope`.
    pub fn register(&mut self, scope: Scope, left_operand: &str, function: Arc<dyn ConstraintFunction>) {
        self.functions.insert((scope, left_operand.to_string()), function);
    }

    /// Binds `function` in every scope.
    pub fn register_everywhere(&mut self, left_operand: &str, function: Arc<dyn ConstraintFunction>) {
        for scope in Scope::ALL {
            self.register(scope, left_operand, function.clone());
        }
    }

    pub fn is_bound(&self, scope: Scope, left_operand: &str) -> bool {
        self.functions.contains_key(&(scope, left_operand.to_string()))
    }

    pub fn evaluate(&self, policy: &Policy, context: &PolicyContext) -> Result<(), PolicyViolation> {
        let mut problems = Vec::new();
        for (index, permission) in policy.permissions.iter().enumerate() {
            if let Some(reason) = self.unsatisfied(permission, context) {
                problems.push(format!("permission {index} ({}): {reason}", local(&permission.action.action_type)));
            }
            for (duty_index, duty) in permission.duties.iter().enumerate() {
                if let Some(reason) = self.unsatisfied(duty, context) {
                    problems.push(format!("permission {index}, duty {duty_index}: {reason}"));
                }
            }
        }
        for (index, prohibition) in policy.prohibitions.iter().enumerate() {
            match self.all_hold(&prohibition.constraints, context) {
                Ok(true) => {
                    problems.push(format!("prohibition {index} ({}) applies", local(&prohibition.action.action_type)))
                }
                Ok(false) => {}
                Err(reason) => problems.push(format!("prohibition {index} cannot be decided: {reason}")),
            }
        }
        for (index, obligation) in policy.obligations.iter().enumerate() {
            if let Some(reason) = self.unsatisfied(obligation, context) {
                problems.push(format!("obligation {index}: {reason}"));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(PolicyViolation { scope: context.scope, problems }) }
    }

    /// `None` when every constraint of the rule holds, otherwise why not.
    fn unsatisfied(&self, rule: &Rule, context: &PolicyContext) -> Option<String> {
        for constraint in &rule.constraints {
            match self.holds(constraint, context) {
                Ok(true) => {}
                Ok(false) => return Some(format!("constraint {} is not satisfied", describe(constraint))),
                Err(reason) => return Some(reason),
            }
        }
        None
    }

    fn all_hold(&self, constraints: &[Constraint], context: &PolicyContext) -> Result<bool, String> {
        for constraint in constraints {
            if !self.holds(constraint, context)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn holds(&self, constraint: &Constraint, context: &PolicyContext) -> Result<bool, String> {
        match constraint {
            Constraint::Atomic { left_operand, operator, right_operand } => {
                let function = self.functions.get(&(context.scope, left_operand.clone())).ok_or_else(|| {
                    format!("left operand '{left_operand}' has no evaluation function in scope {}", context.scope)
                })?;
                function
                    .evaluate(*operator, right_operand, context)
                    .map_err(|reason| format!("constraint {} cannot be evaluated: {reason}", describe(constraint)))
            }
            Constraint::Logical { operator, constraints } => match operator {
                LogicalOperator::And | LogicalOperator::AndSequence => self.all_hold(constraints, context),
                LogicalOperator::Or => {
                    let mut failures = Vec::new();
                    for member in constraints {
                        match self.holds(member, context) {
                            Ok(true) => return Ok(true),
                            Ok(false) => {}
                            Err(reason) => failures.push(reason),
                        }
                    }
                    if failures.len() == constraints.len() && !failures.is_empty() {
                        Err(failures.join("; "))
                    } else {
                        Ok(false)
                    }
                }
                LogicalOperator::Xone => {
                    let mut satisfied = 0;
                    for member in constraints {
                        if self.holds(member, context)? {
                            satisfied += 1;
                        }
                    }
                    Ok(satisfied == 1)
                }
            },
        }
    }
}

fn local(iri: &str) -> &str {
    iri.rsplit(['/', '#']).next().unwrap_or(iri)
}

fn describe(constraint: &Constraint) -> String {
    match constraint {
        Constraint::Atomic { left_operand, operator, right_operand } => {
            format!("'{} {} {}'", local(left_operand), operator.local_name(), right_operand)
        }
        Constraint::Logical { operator, constraints } => {
            let members: Vec<String> = constraints.iter().map(describe).collect();
            format!("{}({})", operator.local_name(), members.join(", "))
        }
    }
}
