// SPDX-License-Identifier: Apache-2.0
//! Validation of payloads against the bundled official schemas (draft-04, with `format` checked), reported as
//! JSON pointer, rule and offending value.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::model::{Aspect, Model, Version};
use crate::schemas::schema_text;

/// Added to the report when a 3.0.x `manufacturingInformation/date` fails only because it lacks an offset: the
/// official 3.0.0 examples of SerialPart, Batch and JustInSequencePart fail their own schema in exactly this way.
pub const KNOWN_DEFECT: &str = "a local date-time without `Z` or a UTC offset: the 3.0.x schema allows a date alone or a \
date-time with `Z` or an offset such as +01:00; this is the known defect of the official 3.0.0 examples of \
SerialPart, Batch and JustInSequencePart (the 3.0.1 examples were fixed)";

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// JSON pointer (RFC 6901) of the offending value; for a missing property, where it should be.
    pub pointer: String,
    /// The schema keyword that failed: `required`, `pattern`, `enum`, `type`, `format`, `uniqueItems`, ...
    pub rule: String,
    /// The offending value; absent for a missing property.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'static str>,
}

/// The outcome of validating one payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    #[serde(serialize_with = "as_urn")]
    pub aspect: Aspect,
    pub valid: bool,
    pub violations: Vec<Violation>,
}

fn as_urn<S: serde::Serializer>(aspect: &Aspect, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&aspect.urn())
}

impl Report {
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.valid {
            return write!(f, "valid {}", self.aspect);
        }
        write!(f, "invalid {} ({} violation(s))", self.aspect, self.violations.len())?;
        for violation in &self.violations {
            write!(f, "\n  {violation}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() { "(document)" } else { &self.pointer };
        write!(f, "{pointer}: {}: {}", self.rule, self.message)?;
        if let Some(hint) = self.hint {
            write!(f, "\n    hint: {hint}")?;
        }
        Ok(())
    }
}

/// A bundled schema that does not compile; a bug in this crate, never the user's input.
#[derive(Debug, thiserror::Error)]
#[error("the bundled schema of {aspect} cannot be used: {reason}")]
pub struct SchemaError {
    pub aspect: Aspect,
    pub reason: String,
}

/// A compiled schema of one aspect; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Validator {
    aspect: Aspect,
    schema: jsonschema::Validator,
}

impl Validator {
    pub fn new(aspect: Aspect) -> Result<Validator, SchemaError> {
        let broken = |reason: String| SchemaError { aspect, reason };
        let text = schema_text(aspect).ok_or_else(|| broken("not bundled".into()))?;
        let schema: Value = serde_json::from_str(text).map_err(|error| broken(error.to_string()))?;
        let schema = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|error| broken(error.to_string()))?;
        Ok(Validator { aspect, schema })
    }

    pub fn aspect(&self) -> Aspect {
        self.aspect
    }

    /// Fast path for streams: no report is built for valid payloads.
    pub fn is_valid(&self, payload: &Value) -> bool {
        self.schema.is_valid(payload)
    }

    pub fn validate(&self, payload: &Value) -> Report {
        if self.schema.is_valid(payload) {
            return Report { aspect: self.aspect, valid: true, violations: Vec::new() };
        }
        let mut violations: Vec<Violation> =
            self.schema.iter_errors(payload).map(|error| self.violation(&error)).collect();
        violations.sort_by(|a, b| a.pointer.cmp(&b.pointer).then_with(|| a.rule.cmp(&b.rule)));
        violations.dedup();
        Report { aspect: self.aspect, valid: violations.is_empty(), violations }
    }

    /// Validates JSON text; text that is not JSON is reported as a violation of the document itself.
    pub fn validate_text(&self, text: &str) -> Report {
        match serde_json::from_str::<Value>(text) {
            Ok(payload) => self.validate(&payload),
            Err(error) => Report {
                aspect: self.aspect,
                valid: false,
                violations: vec![Violation {
                    pointer: String::new(),
                    rule: "json".into(),
                    value: None,
                    message: format!("not JSON: {error}"),
                    hint: None,
                }],
            },
        }
    }

    fn violation(&self, error: &jsonschema::ValidationError<'_>) -> Violation {
        let rule = error.kind().keyword().to_string();
        let mut pointer = error.instance_path().as_str().to_string();
        let value = match error.kind() {
            jsonschema::error::ValidationErrorKind::Required { property } => {
                let name = property.as_str().map_or_else(|| property.to_string(), str::to_string);
                pointer.push('/');
                pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
                None
            }
            _ => Some(error.instance().clone().into_owned()),
        };
        let hint = self.hint(&rule, &pointer, value.as_ref());
        Violation { pointer, rule, value, message: error.to_string(), hint }
    }

    fn hint(&self, rule: &str, pointer: &str, value: Option<&Value>) -> Option<&'static str> {
        let dated_model = matches!(self.aspect.model, Model::SerialPart | Model::Batch | Model::JustInSequencePart);
        let local_date_time = value.and_then(Value::as_str).is_some_and(is_local_date_time);
        (dated_model
            && self.aspect.version != Version::V4_0_0
            && rule == "pattern"
            && pointer == "/manufacturingInformation/date"
            && local_date_time)
            .then_some(KNOWN_DEFECT)
    }
}

/// `YYYY-MM-DDThh:mm:ss` with optional fraction and nothing after it.
fn is_local_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 19 {
        return false;
    }
    let shape_ok = bytes[..19].iter().enumerate().all(|(index, byte)| match index {
        4 | 7 => *byte == b'-',
        10 => *byte == b'T',
        13 | 16 => *byte == b':',
        _ => byte.is_ascii_digit(),
    });
    let rest = &bytes[19..];
    let fraction_ok =
        rest.is_empty() || (rest[0] == b'.' && rest.len() > 1 && rest[1..].iter().all(u8::is_ascii_digit));
    shape_ok && fraction_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_date_times_are_recognised() {
        assert!(is_local_date_time("2022-02-04T14:48:54"));
        assert!(is_local_date_time("2022-02-04T14:48:54.123"));
        assert!(!is_local_date_time("2022-02-04T14:48:54Z"));
        assert!(!is_local_date_time("2022-02-04T14:48:54+01:00"));
        assert!(!is_local_date_time("2022-02-04"));
        assert!(!is_local_date_time("2022-02-04T14:48:54."));
    }

    #[test]
    fn text_that_is_not_json_is_a_violation_of_the_document() {
        let aspect = Aspect::new(Model::SerialPart, Version::V3_0_0);
        let validator = Validator::new(aspect).unwrap();
        let report = validator.validate_text("{\"catenaXId\": ");
        assert!(!report.is_valid());
        assert_eq!(report.violations[0].pointer, "");
        assert_eq!(report.violations[0].rule, "json");
        assert!(report.to_string().starts_with("invalid urn:samm:io.catenax.serial_part:3.0.0#SerialPart (1 violation(s))\n  (document): json: not JSON: "), "{report}");
    }
}
