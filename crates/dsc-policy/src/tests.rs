// SPDX-License-Identifier: Apache-2.0

use chrono::{TimeZone, Utc};
use dsc_domain::ParticipantAgent;
use dsc_domain::namespaces;
use dsc_domain::odrl::{Action, Constraint, ConstraintOperator, LogicalOperator, Policy, PolicyType, Rule};
use dsc_domain::participant::claims;
use serde_json::{Value, json};

use crate::{PolicyContext, PolicyEngine, Scope};

const CX: &str = namespaces::CX_POLICY;

fn atomic(left: &str, operator: ConstraintOperator, right: Value) -> Constraint {
    Constraint::Atomic { left_operand: left.to_string(), operator, right_operand: right }
}

fn cx(local: &str, operator: ConstraintOperator, right: Value) -> Constraint {
    atomic(&format!("{CX}{local}"), operator, right)
}

fn rule(constraints: Vec<Constraint>) -> Rule {
    Rule {
        action: Action { action_type: namespaces::odrl("use"), included_in: None, refinements: vec![] },
        constraints,
        duties: vec![],
    }
}

fn permission(constraints: Vec<Constraint>) -> Policy {
    let mut policy = Policy::new(PolicyType::Set);
    policy.permissions.push(rule(constraints));
    policy
}

fn member(bpn: &str) -> ParticipantAgent {
    ParticipantAgent::new(format!("did:web:{bpn}"))
        .with_claim(claims::BPN, json!(bpn))
        .with_claim(claims::MEMBERSHIP, json!("active"))
        .with_claim(claims::FRAMEWORK_AGREEMENTS, json!(["DataExchangeGovernance:1.0", "traceability:1.0"]))
        .with_claim(claims::GROUPS, json!(["gold-partners"]))
}

fn evaluate(policy: &Policy, scope: Scope, participant: ParticipantAgent) -> Result<(), Vec<String>> {
    PolicyEngine::with_defaults()
        .evaluate(policy, &PolicyContext::new(scope, participant))
        .map_err(|violation| violation.problems)
}

#[test]
fn catena_x_usage_policy_holds_for_a_member_with_the_framework_agreement() {
    let policy = permission(vec![Constraint::Logical {
        operator: LogicalOperator::And,
        constraints: vec![
            cx("Membership", ConstraintOperator::Eq, json!("active")),
            cx("FrameworkAgreement", ConstraintOperator::Eq, json!("DataExchangeGovernance:1.0")),
            cx("UsagePurpose", ConstraintOperator::IsAnyOf, json!(["cx.core.industrycore:1"])),
        ],
    }]);
    assert_eq!(evaluate(&policy, Scope::ContractNegotiation, member("BPNL000000000001")), Ok(()));
    let outsider = ParticipantAgent::new("did:web:outsider").with_claim(claims::MEMBERSHIP, json!("active"));
    let problems = evaluate(&policy, Scope::ContractNegotiation, outsider).err().unwrap_or_default();
    assert_eq!(
        problems,
        vec![format!(
            "permission 0 (use): constraint and('Membership eq \"active\"', 'FrameworkAgreement eq \"DataExchangeGovernance:1.0\"', 'UsagePurpose isAnyOf [\"cx.core.industrycore:1\"]') is not satisfied"
        )]
    );
}

#[test]
fn business_partner_numbers_and_groups() {
    let only_one = permission(vec![cx("BusinessPartnerNumber", ConstraintOperator::Eq, json!("BPNL000000000001"))]);
    assert!(evaluate(&only_one, Scope::Catalog, member("BPNL000000000001")).is_ok());
    assert!(evaluate(&only_one, Scope::Catalog, member("BPNL000000000002")).is_err());
    assert!(evaluate(&only_one, Scope::Catalog, ParticipantAgent::new("did:web:no-bpn")).is_err());
    let listed = permission(vec![cx(
        "BusinessPartnerNumber",
        ConstraintOperator::IsAnyOf,
        json!(["BPNL1", "BPNL000000000002"]),
    )]);
    assert!(evaluate(&listed, Scope::Catalog, member("BPNL000000000002")).is_ok());
    let comma_list = permission(vec![cx("BusinessPartnerNumber", ConstraintOperator::IsNoneOf, json!("BPNL1, BPNL2"))]);
    assert!(evaluate(&comma_list, Scope::Catalog, member("BPNL2")).is_err());
    assert!(evaluate(&comma_list, Scope::Catalog, member("BPNL3")).is_ok());
    let group =
        permission(vec![cx("BusinessPartnerGroup", ConstraintOperator::IsAnyOf, json!(["gold-partners", "silver"]))]);
    assert!(evaluate(&group, Scope::ContractNegotiation, member("BPNL1")).is_ok());
    assert!(evaluate(&group, Scope::ContractNegotiation, ParticipantAgent::new("x")).is_err());
    let legacy = permission(vec![atomic(
        "https://w3id.org/tractusx/v0.0.1/ns/BusinessPartnerNumber",
        ConstraintOperator::Eq,
        json!("BPNL1"),
    )]);
    assert!(evaluate(&legacy, Scope::Catalog, member("BPNL1")).is_ok());
}

#[test]
fn unknown_left_operands_fail_clearly_instead_of_passing() {
    let policy = permission(vec![atomic("https://example.com/headquarters", ConstraintOperator::Eq, json!("EU"))]);
    let problems = evaluate(&policy, Scope::Catalog, member("BPNL1")).err().unwrap_or_default();
    assert_eq!(problems, vec![
        "permission 0 (use): left operand 'https://example.com/headquarters' has no evaluation function in scope catalog".to_string()
    ]);
}

#[test]
fn unsupported_operators_and_values_are_evaluation_failures() {
    let policy = permission(vec![cx("Membership", ConstraintOperator::Gt, json!("active"))]);
    let problems = evaluate(&policy, Scope::Catalog, member("BPNL1")).err().unwrap_or_default();
    assert_eq!(problems, vec![
        "permission 0 (use): constraint 'Membership gt \"active\"' cannot be evaluated: operator 'gt' is not supported here; expected one of eq".to_string()
    ]);
    let policy = permission(vec![cx("Membership", ConstraintOperator::Eq, json!("inactive"))]);
    assert!(evaluate(&policy, Scope::Catalog, member("BPNL1")).is_err());
    let policy = permission(vec![cx("UsagePurpose", ConstraintOperator::Lt, json!("x"))]);
    assert!(evaluate(&policy, Scope::Catalog, member("BPNL1")).is_err());
}

#[test]
fn logical_or_and_xone() {
    let bpn = |b: &str| cx("BusinessPartnerNumber", ConstraintOperator::Eq, json!(b));
    let either = permission(vec![Constraint::Logical {
        operator: LogicalOperator::Or,
        constraints: vec![bpn("BPNL1"), bpn("BPNL2")],
    }]);
    assert!(evaluate(&either, Scope::Catalog, member("BPNL2")).is_ok());
    assert!(evaluate(&either, Scope::Catalog, member("BPNL3")).is_err());
    let exactly_one = permission(vec![Constraint::Logical {
        operator: LogicalOperator::Xone,
        constraints: vec![bpn("BPNL1"), cx("Membership", ConstraintOperator::Eq, json!("active"))],
    }]);
    assert!(evaluate(&exactly_one, Scope::Catalog, member("BPNL2")).is_ok(), "only membership holds");
    assert!(evaluate(&exactly_one, Scope::Catalog, member("BPNL1")).is_err(), "both hold");
}

#[test]
fn prohibitions_apply_when_their_constraints_hold_and_obligations_must_hold() {
    let mut policy = Policy::new(PolicyType::Set);
    policy.prohibitions.push(rule(vec![cx("BusinessPartnerNumber", ConstraintOperator::Eq, json!("BPNL-BANNED"))]));
    assert!(evaluate(&policy, Scope::ContractNegotiation, member("BPNL1")).is_ok());
    let problems = evaluate(&policy, Scope::ContractNegotiation, member("BPNL-BANNED")).err().unwrap_or_default();
    assert_eq!(problems, vec!["prohibition 0 (use) applies".to_string()]);
    let mut obliged = Policy::new(PolicyType::Set);
    obliged.obligations.push(rule(vec![cx("Membership", ConstraintOperator::Eq, json!("active"))]));
    assert!(evaluate(&obliged, Scope::ContractNegotiation, member("BPNL1")).is_ok());
    assert!(evaluate(&obliged, Scope::ContractNegotiation, ParticipantAgent::new("x")).is_err());
    let mut with_duty = permission(vec![]);
    with_duty.permissions[0].duties.push(rule(vec![cx("FrameworkAgreement", ConstraintOperator::Eq, json!("pcf"))]));
    let problems = evaluate(&with_duty, Scope::ContractNegotiation, member("BPNL1")).err().unwrap_or_default();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("permission 0, duty 0:"), "{problems:?}");
}

#[test]
fn contract_dates_are_checked_once_there_is_an_agreement() {
    let in_force = namespaces::edc("inForceDate");
    let policy = permission(vec![
        atomic(&in_force, ConstraintOperator::Gteq, json!("contractAgreement+0s")),
        atomic(&in_force, ConstraintOperator::Lteq, json!("contractAgreement+30d")),
    ]);
    let signed = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let engine = PolicyEngine::with_defaults();
    let context = |scope, days| {
        PolicyContext::new(scope, member("BPNL1"))
            .with_agreement_signed_at(signed)
            .at(signed + chrono::Duration::days(days))
    };
    assert!(engine.evaluate(&policy, &context(Scope::TransferProcess, 10)).is_ok());
    let expired =
        engine.evaluate(&policy, &context(Scope::PolicyMonitor, 31)).err().map(|v| v.problems).unwrap_or_default();
    assert_eq!(
        expired,
        vec![
            "permission 0 (use): constraint 'inForceDate lteq \"contractAgreement+30d\"' is not satisfied".to_string()
        ]
    );
    // Before a contract exists the date cannot be checked, by explicit choice.
    assert!(engine.evaluate(&policy, &PolicyContext::new(Scope::ContractNegotiation, member("BPNL1"))).is_ok());
    let absolute = permission(vec![atomic(&in_force, ConstraintOperator::Lt, json!("2026-02-01"))]);
    assert!(engine.evaluate(&absolute, &context(Scope::TransferProcess, 10)).is_ok());
    assert!(engine.evaluate(&absolute, &context(Scope::TransferProcess, 40)).is_err());
    let malformed = permission(vec![atomic(&in_force, ConstraintOperator::Gteq, json!("next tuesday"))]);
    let problems =
        engine.evaluate(&malformed, &context(Scope::TransferProcess, 1)).err().map(|v| v.problems).unwrap_or_default();
    assert!(
        problems[0].ends_with("'next tuesday' is neither an ISO-8601 date nor 'contractAgreement+<duration>'"),
        "{problems:?}"
    );
}

#[test]
fn violation_message_names_scope_and_problems() {
    let policy = permission(vec![cx("Membership", ConstraintOperator::Eq, json!("active"))]);
    let violation = PolicyEngine::with_defaults()
        .evaluate(&policy, &PolicyContext::new(Scope::Catalog, ParticipantAgent::new("x")))
        .err()
        .map(|v| v.to_string());
    assert_eq!(
        violation.as_deref(),
        Some(
            "policy not satisfied in scope catalog: permission 0 (use): constraint 'Membership eq \"active\"' is not satisfied"
        )
    );
}

#[test]
fn the_policy_monitor_rechecks_time_but_not_the_participant() {
    let in_force = namespaces::edc("inForceDate");
    let policy = permission(vec![
        cx("Membership", ConstraintOperator::Eq, json!("active")),
        atomic(&in_force, ConstraintOperator::Lteq, json!("contractAgreement+1d")),
    ]);
    let signed = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let engine = PolicyEngine::with_defaults();
    let anonymous = |days| {
        PolicyContext::new(Scope::PolicyMonitor, ParticipantAgent::new("did:web:consumer"))
            .with_agreement_signed_at(signed)
            .at(signed + chrono::Duration::hours(days))
    };
    assert!(engine.evaluate(&policy, &anonymous(1)).is_ok(), "claims are not re-checked by the monitor");
    assert!(engine.evaluate(&policy, &anonymous(25)).is_err(), "the contract end is");
    let at_start = PolicyContext::new(Scope::TransferProcess, ParticipantAgent::new("did:web:consumer"))
        .with_agreement_signed_at(signed)
        .at(signed);
    assert!(engine.evaluate(&policy, &at_start).is_err(), "a transfer start still needs the membership");
}
