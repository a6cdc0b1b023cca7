// SPDX-License-Identifier: Apache-2.0
//! Expansion and compaction.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use iref::IriBuf;
use json_ld::rdf_types::BlankIdBuf;
use json_ld::syntax::{IntoJsonWithContext, TryFromJson, Value as LdValue};
use json_ld::{Context, Expand, JsonLdProcessor, Process, RemoteContextReference, RemoteDocument};
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

const UNEXPANDABLE: &str =
    "the document cannot be expanded: one of its IRIs is malformed (a percent-escape that is not UTF-8?)";

/// Keys that hold IRIs (or IRI-like terms) in their string values.
const IRI_KEYWORDS: [&str; 5] = ["@id", "@type", "@vocab", "@base", "@reverse"];

/// Refuses percent-escapes that do not decode to UTF-8 (`%80`, `%C3` alone, `%FF`) wherever the expansion turns a
/// string into an IRI: keys, the values of IRI keywords, and anything inside `@context`. The JSON-LD library
/// compares and hashes IRIs by their decoded characters and panics on such an escape. Plain string values (a
/// `baseUrl` with a Latin-1 query, say) stay literals and are not checked.
fn check_percent_escapes(value: &Value, iri_position: bool) -> Result<(), JsonLdError> {
    match value {
        Value::Object(object) => object.iter().try_for_each(|(key, child)| {
            check_escapes_of(key)?;
            let holds_iris = iri_position || key == "@context" || IRI_KEYWORDS.contains(&key.as_str());
            check_percent_escapes(child, holds_iris)
        }),
        Value::Array(items) => items.iter().try_for_each(|item| check_percent_escapes(item, iri_position)),
        Value::String(text) if iri_position => check_escapes_of(text),
        _ => Ok(()),
    }
}

fn check_escapes_of(text: &str) -> Result<(), JsonLdError> {
    if !text.contains('%') {
        return Ok(());
    }
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    match String::from_utf8(decoded) {
        Ok(_) => Ok(()),
        Err(_) => {
            let shown: String = text.chars().take(80).collect();
            let more = if shown.len() < text.len() { "..." } else { "" };
            Err(JsonLdError::Invalid(format!("'{shown}{more}' holds percent-escapes that are not UTF-8")))
        }
    }
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

    /// Compacts against bundled remote contexts and writes their URLs as the `@context` array (DSP style).
    pub fn remote(name: &str, urls: &[&str]) -> Result<Self, JsonLdError> {
        let urls: Vec<Value> = urls.iter().map(|u| Value::String((*u).to_string())).collect();
        Self::inline(name, Value::Array(urls))
    }

    pub fn output(&self) -> &Value {
        &self.output
    }
}

type ActiveContext = Context<IriBuf, BlankIdBuf>;

/// Most documents start with one of a few top-level contexts (DSP, EDC, ODRL, a client's inline `@vocab`).
/// Processing that context is the larger part of expanding a small message, so the processed result is kept, keyed
/// by the `@context` value's text. The cache stops growing at the limit; later contexts are then processed each time.
const PROCESSED_CONTEXT_LIMIT: usize = 64;

/// The JSON-LD processor. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct JsonLd {
    documents: HashMap<IriBuf, RemoteDocument>,
    processed: RwLock<HashMap<String, Arc<ActiveContext>>>,
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
        Ok(JsonLd { documents, processed: RwLock::new(HashMap::new()) })
    }

    pub fn is_bundled(&self, url: &str) -> bool {
        BUNDLED.iter().any(|(known, _)| *known == url)
    }

    /// Expands a document. The result is the expanded form: an array of node objects with full-IRI keys.
    pub fn expand(&self, mut document: Value) -> Result<Value, JsonLdError> {
        self.check_contexts(&document)?;
        check_percent_escapes(&document, false)?;
        // Applying a top-level context to the empty initial context is exactly what the expansion algorithm does
        // first, so starting from the already processed context and dropping the entry gives the same result.
        let initial = match self.processed_top_level_context(&document)? {
            Some(context) => {
                if let Value::Object(object) = &mut document {
                    object.shift_remove("@context");
                }
                ActiveContext::clone(&context)
            }
            None => ActiveContext::new(None),
        };
        let loader = BundledLoader { documents: &self.documents, extra: None };
        let options = json_ld::Options::<IriBuf>::default().expansion_options();
        let document = LdValue::from_serde_json(document);
        // The expansion library panics on IRIs it cannot hash; the check above refuses the ones known to do that,
        // and whatever else makes it panic must still be a refused document, not a dropped connection.
        let expansion = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            futures::executor::block_on(document.expand_full(&mut (), initial, None, &loader, options, ()))
        }))
        .map_err(|_| JsonLdError::Invalid(UNEXPANDABLE.into()))?;
        let expanded = expansion.map_err(|e| self.describe(e))?;
        let objects: Vec<_> = expanded.into_objects().into_iter().collect();
        Ok(objects.into_json_with(&()).into_serde_json())
    }

    /// The processed form of the document's top-level `@context`. Remote contexts in it are already known to be
    /// bundled (`check_contexts`), and no base IRI is involved, so the result depends on the value's text alone.
    fn processed_top_level_context(&self, document: &Value) -> Result<Option<Arc<ActiveContext>>, JsonLdError> {
        let Some(context) = document.get("@context") else { return Ok(None) };
        let key = context.to_string();
        if let Some(found) = self.processed.read().ok().and_then(|cache| cache.get(&key).cloned()) {
            return Ok(Some(found));
        }
        let syntax = json_ld::syntax::context::Context::try_from_json(LdValue::from_serde_json(context.clone()))
            .map_err(|e| self.describe(e))?;
        let loader = BundledLoader { documents: &self.documents, extra: None };
        let initial = ActiveContext::new(None);
        let options = json_ld::Options::<IriBuf>::default().context_processing_options();
        let processed = futures::executor::block_on(syntax.process_full(&mut (), &initial, &loader, None, options, ()))
            .map_err(|e| self.describe(e))?;
        let processed = Arc::new(processed.into_processed());
        if let Ok(mut cache) = self.processed.write()
            && cache.len() < PROCESSED_CONTEXT_LIMIT
        {
            cache.insert(key, Arc::clone(&processed));
        }
        Ok(Some(processed))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_that_are_not_utf8_are_refused_where_they_would_become_iris() {
        let jsonld = JsonLd::new().unwrap();
        let vocab = json!({"@vocab": "https://w3id.org/edc/v0.0.1/ns/"});
        for (document, text) in [
            (json!({"@context": vocab, "%80": []}), "%80"),
            (json!({"@context": vocab, "@type": "Asset%C3"}), "Asset%C3"),
            (json!({"@context": vocab, "@id": "urn:x:%FF%FE"}), "urn:x:%FF%FE"),
            (json!({"@context": {"@vocab": "https://example.com/%E2%82"}, "name": "x"}), "https://example.com/%E2%82"),
            (json!({"@context": vocab, "properties": {"@type": ["a", "b%ff"]}}), "b%ff"),
        ] {
            let error = jsonld.expand(document.clone()).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("invalid JSON-LD: '{text}' holds percent-escapes that are not UTF-8"),
                "{document}"
            );
        }
        let long = format!("{}%80", "k".repeat(200));
        let error = jsonld.expand(json!({"@context": vocab, long: 1})).unwrap_err().to_string();
        assert!(error.starts_with(&format!("invalid JSON-LD: '{}...'", "k".repeat(80))), "{error}");
        // Valid escapes, and literals that never become IRIs, pass.
        let fine = json!({"@context": vocab, "@id": "urn:x:caf%C3%A9", "baseUrl": "http://h/?q=%FF", "%41b": 1});
        assert!(jsonld.expand(fine).is_ok());
    }

    #[test]
    fn an_iri_valued_term_with_a_bad_escape_is_refused_not_a_panic() {
        let jsonld = JsonLd::new().unwrap();
        let policy = json!({
            "@context": ["http://www.w3.org/ns/odrl.jsonld"],
            "@type": "Offer",
            "target": "urn:asset:%80",
        });
        // `target` holds an IRI through the ODRL context's term definition, which the check before expansion does
        // not follow; the library's panic is caught instead.
        assert_eq!(jsonld.expand(policy).unwrap_err(), JsonLdError::Invalid(UNEXPANDABLE.into()));
    }
    use serde_json::json;

    /// Expansion exactly as the library does it for a whole document, context processing included.
    fn reference_expansion(processor: &JsonLd, document: Value) -> Value {
        let remote = RemoteDocument::new(None, None, LdValue::from_serde_json(document));
        let loader = BundledLoader { documents: &processor.documents, extra: None };
        let expanded =
            futures::executor::block_on(JsonLdProcessor::expand(&remote, &loader)).expect("reference expansion failed");
        let objects: Vec<_> = expanded.into_objects().into_iter().collect();
        objects.into_json_with(&()).into_serde_json()
    }

    fn documents() -> Vec<Value> {
        vec![
            json!({
                "@context": "https://w3id.org/dspace/2025/1/context.jsonld",
                "@type": "ContractAgreementMessage", "providerPid": "p", "consumerPid": "c",
                "callbackAddress": "https://provider.example/dsp",
                "agreement": { "@id": "a", "@type": "Agreement", "target": "asset", "assigner": "did:web:p",
                    "assignee": "did:web:c", "timestamp": "2026-01-01T00:00:00Z",
                    "permission": [{ "action": "use", "constraint": [
                        { "leftOperand": "FrameworkAgreement", "operator": "eq", "rightOperand": "x" }] }] }
            }),
            json!({
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld",
                             "https://w3id.org/catenax/2025/9/policy/context.jsonld"],
                "@type": "ContractRequestMessage", "consumerPid": "c",
                "offer": { "@id": "o", "target": "asset", "permission": [{ "action": "use", "constraint": [
                    { "leftOperand": "FrameworkAgreement", "operator": "eq", "rightOperand": "x" }] }] },
                // A nested reset must fall back to the empty initial context, not to the cached one.
                "extra": { "@context": null, "https://example.org/p": "v" }
            }),
            json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "name": "inline is not cached" }),
            json!({ "https://example.org/p": "no context at all" }),
        ]
    }

    #[test]
    fn expansion_from_a_processed_context_equals_full_expansion() {
        let processor = JsonLd::new().unwrap();
        for document in documents() {
            let expected = reference_expansion(&processor, document.clone());
            for attempt in ["first (cache miss)", "second (cache hit)"] {
                let actual = processor.expand(document.clone()).unwrap();
                assert_eq!(actual, expected, "{attempt} for {document}");
            }
        }
        let cached = processor.processed.read().map(|cache| cache.len()).unwrap_or_default();
        assert_eq!(cached, 3, "one processed context per distinct top-level context");
    }
}
