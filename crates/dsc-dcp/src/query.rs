// SPDX-License-Identifier: Apache-2.0
//! The presentation query API's messages: `PresentationQueryMessage` (verifier → credential service) and
//! `PresentationResponseMessage` (the answer).
//!
//! Peers differ in small ways, so reading is lenient where the spec leaves no doubt about the meaning: `@type` is
//! accepted for `type` (EDC up to 0.16 sends it), a single `@context` string or `presentation` entry for an array.
//! Writing always follows the DCP schema.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::DcpError;

pub const DCP_CONTEXT: &str = "https://w3id.org/dspace-dcp/v1.0/dcp.jsonld";
const DCP_NAMESPACE: &str = "https://w3id.org/dspace-dcp/v1.0/";
const QUERY_TYPE: &str = "PresentationQueryMessage";
const RESPONSE_TYPE: &str = "PresentationResponseMessage";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PresentationQueryMessage {
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    #[serde(rename = "type")]
    pub message_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<String>>,
    #[serde(rename = "presentationDefinition", skip_serializing_if = "Option::is_none")]
    pub presentation_definition: Option<Value>,
}

impl PresentationQueryMessage {
    /// A query for `scopes` (see [`crate::scope`]).
    pub fn for_scopes(scopes: Vec<String>) -> Self {
        PresentationQueryMessage {
            context: vec![DCP_CONTEXT.to_string()],
            message_type: QUERY_TYPE.to_string(),
            scope: Some(scopes),
            presentation_definition: None,
        }
    }

    /// Reads and validates a query: exactly one of a non-empty `scope` and a `presentationDefinition`.
    pub fn parse(json: &str) -> Result<Self, DcpError> {
        let object = object(json, "presentation query")?;
        let invalid = DcpError::InvalidQuery;
        let context = contexts(&object).ok_or(invalid("@context must contain the DCP context"))?;
        check_type(&object, QUERY_TYPE).ok_or(invalid("type must be PresentationQueryMessage"))?;
        let scope = match object.get("scope") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|s| s.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or(invalid("scope must be an array of strings"))?,
            ),
            Some(_) => return Err(invalid("scope must be an array of strings")),
        };
        let presentation_definition = object.get("presentationDefinition").filter(|d| !d.is_null()).cloned();
        match (&scope, &presentation_definition) {
            (Some(_), Some(_)) => return Err(invalid("scope and presentationDefinition are mutually exclusive")),
            (None, None) => return Err(invalid("one of scope and presentationDefinition is required")),
            (Some(scope), None) if scope.is_empty() => return Err(invalid("scope must not be empty")),
            (None, Some(definition)) if definition.as_object().is_none_or(Map::is_empty) => {
                return Err(invalid("presentationDefinition must be a non-empty object"));
            }
            _ => {}
        }
        Ok(PresentationQueryMessage { context, message_type: QUERY_TYPE.to_string(), scope, presentation_definition })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PresentationResponseMessage {
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    #[serde(rename = "type")]
    pub message_type: String,
    /// JWT presentations as strings; JSON-LD presentations as objects.
    pub presentation: Vec<Value>,
    #[serde(rename = "presentationSubmission", skip_serializing_if = "Option::is_none")]
    pub presentation_submission: Option<Value>,
}

impl PresentationResponseMessage {
    /// A response carrying JWT presentations.
    pub fn with_jwts(presentations: Vec<String>) -> Self {
        PresentationResponseMessage {
            context: vec![DCP_CONTEXT.to_string()],
            message_type: RESPONSE_TYPE.to_string(),
            presentation: presentations.into_iter().map(Value::String).collect(),
            presentation_submission: None,
        }
    }

    /// Reads a response; one without any presentation is refused, since nothing in it could be verified.
    pub fn parse(json: &str) -> Result<Self, DcpError> {
        let object = object(json, "presentation response")?;
        let invalid = DcpError::InvalidResponse;
        let context = contexts(&object).ok_or(invalid("@context must contain the DCP context"))?;
        check_type(&object, RESPONSE_TYPE).ok_or(invalid("type must be PresentationResponseMessage"))?;
        let presentation = match object.get("presentation") {
            Some(Value::Array(items)) => items.clone(),
            Some(single @ (Value::String(_) | Value::Object(_))) => vec![single.clone()],
            _ => return Err(invalid("presentation is required")),
        };
        if presentation.is_empty() {
            return Err(invalid("presentation must not be empty"));
        }
        if presentation.iter().any(|p| !p.is_string() && !p.is_object()) {
            return Err(invalid("a presentation must be a JWT string or an object"));
        }
        let presentation_submission = object.get("presentationSubmission").filter(|s| !s.is_null()).cloned();
        Ok(PresentationResponseMessage {
            context,
            message_type: RESPONSE_TYPE.to_string(),
            presentation,
            presentation_submission,
        })
    }

    /// The JWT presentations; `Err` for the first JSON-LD one, which this crate cannot verify.
    pub fn jwts(&self) -> Result<Vec<&str>, DcpError> {
        self.presentation
            .iter()
            .map(|p| p.as_str().ok_or(DcpError::InvalidResponse("JSON-LD presentations are not supported")))
            .collect()
    }
}

fn object(json: &str, what: &'static str) -> Result<Map<String, Value>, DcpError> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(DcpError::Malformed { what, why: "not a JSON object".into() }),
        Err(e) => Err(DcpError::Malformed { what, why: e.to_string() }),
    }
}

fn contexts(object: &Map<String, Value>) -> Option<Vec<String>> {
    let contexts = match object.get("@context")? {
        Value::String(context) => vec![context.clone()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => return None,
    };
    contexts.iter().any(|c| c == DCP_CONTEXT).then_some(contexts)
}

fn check_type(object: &Map<String, Value>, expected: &str) -> Option<()> {
    let value = object.get("type").or_else(|| object.get("@type"))?.as_str()?;
    (value == expected || value.strip_prefix(DCP_NAMESPACE) == Some(expected)).then_some(())
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
