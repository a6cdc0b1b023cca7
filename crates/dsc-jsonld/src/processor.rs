// SPDX-License-Identifier: Apache-2.0
//! Expansion and compaction.

use std::collections::HashMap;

use iref::IriBuf;
use json_ld::syntax::{IntoJsonWithContext, Value as LdValue};
use json_ld::{JsonLdProcessor, RemoteContextReference, RemoteDocument};
use serde_json::{Map, Value};

use crate::contexts::BUNDLED;
use crate::loader::BundledLoader;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonLdError {
    /// A remote context that is not bundled. Carries the URL exactly as the document named it.
    #[error("unknown remote JSON-LD context '{0}': only bundled contexts are resolved")]
    UnknownContext(String),
    #[error("invalid JSON-LD: {0}")]
    Invalid(String),
    #[error("bundled JSON-LD context '{url}' is broken: {reason}")]
    BrokenBundle { url: String, reason: String },
}

/// The context an outbound document is compacted against, and how `@context` is written in the result.
#[derive(Debug, Clone)]
pub struct CompactionContext {
    /// The `@context` value written into the output (an inline object, a URL or an array of URLs).
    output: Value,
    iri: IriBuf,
    document: RemoteDocument,
}

impl CompactionContext {
    /// Compacts against an inline context object, written verbatim into the output (EDC's Management API style).
    pub fn inline(name: &str, context: Value) -> Result<Self, JsonLdError> {
        let iri = IriBuf::new(format!("urn:dsc:context:{name}")).map_err(|e| JsonLdError::Invalid(e.0))?;
        let document = RemoteDocument::new(
            Some(iri.clone()),
            None,
            LdValue::from_serde_json(serde_json::json!({ "@context": context.clone() })),
        );
        Ok(CompactionContext { output: context, iri, document })
    }

    /// Compacts against bundled remote contexts and writes their URLs as `@context` (DSP style).
    pub fn remote(name: &str, urls: &[&str]) -> Result<Self, JsonLdError> {
        let urls: Vec<Value> = urls.iter().map(|u| Value::String((*u).to_string())).collect();
        let mut context = Self::inline(name, Value::Array(urls))?;
        if let Value::Array(list) = &context.output
            && list.len() == 1
        {
            context.output = list[0].clone();
        }
        Ok(context)
    }

    pub fn output(&self) -> &Value {
        &self.output
    }
}

/// The JSON-LD processor. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct JsonLd {
    documents: HashMap<IriBuf, RemoteDocument>,
}

impl JsonLd {
    /// A processor that knows every bundled context.
    pub fn new() -> Result<Self, JsonLdError> {
        let mut documents = HashMap::new();
        for (url, text) in BUNDLED {
            let broken = |reason: String| JsonLdError::BrokenBundle { url: (*url).to_string(), reason };
            let json: Value = serde_json::from_str(text).map_err(|e| broken(e.to_string()))?;
            let iri = IriBuf::new((*url).to_string()).map_err(|e| broken(e.0))?;
            documents.insert(iri.clone(), RemoteDocument::new(Some(iri), None, LdValue::from_serde_json(json)));
        }
        Ok(JsonLd { documents })
    }

    pub fn is_bundled(&self, url: &str) -> bool {
        BUNDLED.iter().any(|(known, _)| *known == url)
    }

    /// Expands a document. The result is the expanded form: an array of node objects with full-IRI keys.
    pub fn expand(&self, document: Value) -> Result<Value, JsonLdError> {
        self.check_contexts(&document)?;
        let remote = RemoteDocument::new(None, None, LdValue::from_serde_json(document));
        let loader = BundledLoader { documents: &self.documents, extra: None };
        let expanded = futures::executor::block_on(remote.expand(&loader)).map_err(|e| self.describe(e))?;
        let objects: Vec<_> = expanded.into_objects().into_iter().collect();
        Ok(objects.into_json_with(&()).into_serde_json())
    }

    /// Compacts an expanded document against `context`.
    pub fn compact(&self, expanded: Value, context: &CompactionContext) -> Result<Value, JsonLdError> {
        let remote = RemoteDocument::new(None, None, LdValue::from_serde_json(expanded));
        let loader = BundledLoader { documents: &self.documents, extra: Some((&context.iri, &context.document)) };
        let reference = RemoteContextReference::iri(context.iri.clone());
        let compacted =
            futures::executor::block_on(remote.compact(reference, &loader)).map_err(|e| self.describe(e))?;
        let mut compacted = compacted.into_serde_json();
        if let Value::Object(object) = &mut compacted {
            // The library inlines the resolved context; peers expect the context as we name it.
            object.shift_remove("@context");
            let mut with_context = Map::new();
            with_context.insert("@context".to_string(), context.output.clone());
            with_context.extend(std::mem::take(object));
            *object = with_context;
        }
        Ok(compacted)
    }

    /// Refuses documents that name a context we do not bundle, anywhere in the tree (including `@import` and
    /// scoped contexts), so the error names the URL instead of a generic loading failure.
    fn check_contexts(&self, value: &Value) -> Result<(), JsonLdError> {
        match value {
            Value::Object(object) => {
                for (key, child) in object {
                    if key == "@context" {
                        self.check_context_value(child)?;
                    }
                    self.check_contexts(child)?;
                }
                Ok(())
            }
            Value::Array(items) => items.iter().try_for_each(|item| self.check_contexts(item)),
            _ => Ok(()),
        }
    }

    fn check_context_value(&self, context: &Value) -> Result<(), JsonLdError> {
        match context {
            Value::String(url) if !self.is_bundled(url) => Err(JsonLdError::UnknownContext(url.clone())),
            Value::Array(items) => items.iter().try_for_each(|item| self.check_context_value(item)),
            Value::Object(object) => match object.get("@import") {
                Some(Value::String(url)) if !self.is_bundled(url) => Err(JsonLdError::UnknownContext(url.clone())),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn describe(&self, error: impl std::fmt::Display) -> JsonLdError {
        JsonLdError::Invalid(error.to_string())
    }
}

/// EDC treats an object `@context` without `@vocab` as if `@vocab` were the EDC namespace, so bare keys such as
/// `counterPartyAddress` mean `edc:counterPartyAddress`. Management API clients rely on that.
/// A document without any `@context` gets `{"@vocab": <vocab>}` for the same reason.
pub fn inject_vocab(document: &mut Value, vocab: &str) {
    let Value::Object(object) = document else { return };
    match object.get_mut("@context") {
        Some(Value::Object(context)) => {
            if !context.contains_key("@vocab") {
                context.insert("@vocab".to_string(), Value::String(vocab.to_string()));
            }
        }
        Some(_) => {}
        None => {
            object.insert("@context".to_string(), serde_json::json!({ "@vocab": vocab }));
        }
    }
}
