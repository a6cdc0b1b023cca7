// SPDX-License-Identifier: Apache-2.0
//! Validation failures, shaped after EDC's `ApiErrorDetail` so the API can report them one-to-one.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub message: String,
    /// Where in the request the problem is: JSON-LD IRIs joined by `/`, as EDC reports them.
    pub path: Option<String>,
    pub invalid_value: Option<Value>,
}

impl Violation {
    pub fn new(message: impl Into<String>, path: impl Into<String>) -> Self {
        Violation { message: message.into(), path: Some(path.into()), invalid_value: None }
    }

    pub fn with_value(mut self, value: Value) -> Self {
        self.invalid_value = Some(value);
        self
    }

    /// EDC's wording for an absent or blank mandatory value.
    pub fn mandatory_value(path: &str) -> Self {
        Violation::new(format!("mandatory value '{path}' is missing or it is blank"), path)
    }

    /// EDC's wording for an absent mandatory object.
    pub fn mandatory_object(path: &str) -> Self {
        Violation::new(format!("mandatory object '{path}' is missing"), path)
    }
}

/// Joins path segments the way EDC's JSON-LD paths read.
pub fn join_path(parent: &str, child: &str) -> String {
    if parent.is_empty() { child.to_string() } else { format!("{parent}/{child}") }
}
