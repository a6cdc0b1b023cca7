// SPDX-License-Identifier: Apache-2.0
//! `edc:inForceDate`: contract validity in time.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use dsc_domain::odrl::ConstraintOperator::{self, *};
use serde_json::Value;

use super::check_operator;
use crate::{ConstraintFunction, PolicyContext};

/// Compares "now" with the right operand: an ISO-8601 date or date-time, or `contractAgreement+<n><s|m|h|d>`
/// relative to when the contract was signed. `gteq` expresses a start, `lteq` an end.
pub struct InForceDate;

impl InForceDate {
    fn bound(right: &Value, context: &PolicyContext) -> Result<DateTime<Utc>, String> {
        let text = right
            .as_str()
            .or_else(|| right.get("@value").and_then(Value::as_str))
            .ok_or_else(|| format!("inForceDate needs a date or 'contractAgreement+<duration>', not {right}"))?;
        if let Some(offset) = text.strip_prefix("contractAgreement") {
            let signed = context
                .agreement_signed_at
                .ok_or_else(|| "a date relative to the agreement needs an agreement".to_string())?;
            return Ok(signed + parse_offset(offset)?);
        }
        if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
            return Ok(instant.with_timezone(&Utc));
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|naive| naive.and_utc())
            .ok_or_else(|| format!("'{text}' is neither an ISO-8601 date nor 'contractAgreement+<duration>'"))
    }
}

fn parse_offset(offset: &str) -> Result<Duration, String> {
    let offset = offset.trim();
    if offset.is_empty() {
        return Ok(Duration::zero());
    }
    let (sign, rest) = match offset.split_at(1) {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return Err(format!("'{offset}' must start with + or -")),
    };
    let unit = rest.chars().last().ok_or("missing duration")?;
    let amount: i64 = rest[..rest.len() - 1].parse().map_err(|_| format!("'{rest}' is not <number><s|m|h|d>"))?;
    let duration = match unit {
        's' => Duration::seconds(amount),
        'm' => Duration::minutes(amount),
        'h' => Duration::hours(amount),
        'd' => Duration::days(amount),
        other => return Err(format!("unknown duration unit '{other}'; use s, m, h or d")),
    };
    Ok(duration * sign)
}

impl ConstraintFunction for InForceDate {
    fn evaluate(&self, operator: ConstraintOperator, right: &Value, context: &PolicyContext) -> Result<bool, String> {
        check_operator(operator, &[Eq, Gt, Gteq, Lt, Lteq])?;
        let bound = Self::bound(right, context)?;
        let now = context.now;
        Ok(match operator {
            Eq => now == bound,
            Gt => now > bound,
            Gteq => now >= bound,
            Lt => now < bound,
            _ => now <= bound,
        })
    }
}
