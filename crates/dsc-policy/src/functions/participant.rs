// SPDX-License-Identifier: Apache-2.0
//! Operands checked against the counter-party's claims.

use dsc_domain::odrl::ConstraintOperator::{self, *};
use dsc_domain::participant::claims;
use serde_json::Value;

use super::{check_operator, strings};
use crate::{ConstraintFunction, PolicyContext};

/// Compares the participant's values with the right operand's list.
fn compare(operator: ConstraintOperator, have: &[&str], want: &[String]) -> bool {
    let has = |w: &String| have.contains(&w.as_str());
    match operator {
        Eq => {
            want.len() == 1 && has(&want[0]) || (!want.is_empty() && want.iter().all(has) && have.len() == want.len())
        }
        Neq => !want.iter().any(has),
        IsAnyOf | IsPartOf => want.iter().any(has),
        IsAllOf | HasPart => !want.is_empty() && want.iter().all(has),
        IsNoneOf => !want.iter().any(has),
        _ => false,
    }
}

/// `BusinessPartnerNumber`: the participant's BPN against one BPN or a list.
pub struct BusinessPartnerNumber;

impl ConstraintFunction for BusinessPartnerNumber {
    fn evaluate(&self, operator: ConstraintOperator, right: &Value, context: &PolicyContext) -> Result<bool, String> {
        check_operator(operator, &[Eq, Neq, IsAnyOf, IsPartOf, IsNoneOf])?;
        let want = strings(right)?;
        let Some(bpn) = context.participant.claim_str(claims::BPN) else {
            return Ok(matches!(operator, Neq | IsNoneOf));
        };
        Ok(compare(operator, &[bpn], &want))
    }
}

/// `BusinessPartnerGroup`: the groups the provider put the participant in.
pub struct BusinessPartnerGroup;

impl ConstraintFunction for BusinessPartnerGroup {
    fn evaluate(&self, operator: ConstraintOperator, right: &Value, context: &PolicyContext) -> Result<bool, String> {
        check_operator(operator, &[Eq, Neq, IsAnyOf, IsAllOf, IsPartOf, IsNoneOf])?;
        let want = strings(right)?;
        let groups = context.participant.claim_strings(claims::GROUPS);
        Ok(compare(operator, &groups, &want))
    }
}

/// `Membership`: `eq "active"` holds for participants with an active membership.
pub struct Membership;

impl ConstraintFunction for Membership {
    fn evaluate(&self, operator: ConstraintOperator, right: &Value, context: &PolicyContext) -> Result<bool, String> {
        check_operator(operator, &[Eq])?;
        if right.as_str() != Some("active") {
            return Err(format!("the only Membership value is \"active\", not {right}"));
        }
        Ok(context.participant.claim_str(claims::MEMBERSHIP) == Some("active"))
    }
}

/// `FrameworkAgreement`: `eq "Name:version"` (or just `"Name"`, any version) against the signed agreements.
pub struct FrameworkAgreement;

impl ConstraintFunction for FrameworkAgreement {
    fn evaluate(&self, operator: ConstraintOperator, right: &Value, context: &PolicyContext) -> Result<bool, String> {
        check_operator(operator, &[Eq])?;
        let Some(wanted) = right.as_str().filter(|w| !w.trim().is_empty()) else {
            return Err(format!(
                "FrameworkAgreement needs a string such as \"DataExchangeGovernance:1.0\", not {right}"
            ));
        };
        let signed = context.participant.claim_strings(claims::FRAMEWORK_AGREEMENTS);
        Ok(signed.iter().any(|agreement| {
            *agreement == wanted || (!wanted.contains(':') && agreement.split(':').next() == Some(wanted))
        }))
    }
}
