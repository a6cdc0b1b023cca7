// SPDX-License-Identifier: Apache-2.0
//! Verifiable credentials in the two DCP profiles: `vc11-sl2021/jwt` (VCDM 1.1 in a `vc` claim) and
//! `vc20-bssl/jwt` (VCDM 2.0 as the JWS payload itself). Issued here for tests and a future issuer, verified here
//! for the provider side: issuer signature, validity dates, holder binding and issuer trust per type. Revocation is
//! checked separately ([`crate::status`]) because it needs I/O.

use std::sync::Arc;

use dsc_domain::Clock;
use serde_json::{Map, Value, json};

pub use crate::issue::{CredentialDraft, CredentialIssuer};
pub use crate::trust::TrustedIssuers;

use crate::did::relationship;
use crate::error::credential_error;
use crate::jws::{self, DidDocuments, JwsFailure};
use crate::status::StatusEntry;
use crate::{CredentialProblem, DcpError};

pub const VCDM_11_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";
pub const VCDM_20_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
pub(crate) const BASE_TYPE: &str = "VerifiableCredential";

/// A DCP credential profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// `vc11-sl2021/jwt`: what Catena-X uses today.
    Vc11Sl2021Jwt,
    /// `vc20-bssl/jwt`: VCDM 2.0 secured with JOSE; EDC-based peers cannot verify it yet.
    Vc20BsslJwt,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Vc11Sl2021Jwt => "vc11-sl2021/jwt",
            Profile::Vc20BsslJwt => "vc20-bssl/jwt",
        }
    }

    /// Parses a profile alias; the spec's own examples spell the first one `vc10-sl2021/jwt`.
    pub fn parse(alias: &str) -> Option<Self> {
        match alias {
            "vc11-sl2021/jwt" | "vc10-sl2021/jwt" => Some(Profile::Vc11Sl2021Jwt),
            "vc20-bssl/jwt" => Some(Profile::Vc20BsslJwt),
            _ => None,
        }
    }
}

/// A credential's content, read from its JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub id: Option<String>,
    /// `type` values as written (short names or IRIs), `VerifiableCredential` included.
    pub types: Vec<String>,
    pub issuer: String,
    pub subjects: Vec<Map<String, Value>>,
    /// Epoch seconds: the later of `nbf` and `issuanceDate`/`validFrom`.
    pub valid_from: Option<i64>,
    /// Epoch seconds: the earlier of `exp` and `expirationDate`/`validUntil`.
    pub valid_until: Option<i64>,
    pub status: Vec<StatusEntry>,
    /// The `credentialSchema` URLs (JSON Schemas each subject must satisfy); checked by the caller, which fetches.
    pub schemas: Vec<String>,
    pub profile: Profile,
}

/// The short name of a credential type: Tractus-X matches `MembershipCredential` and
/// `https://w3id.org/catenax/credentials/MembershipCredential` alike.
pub fn short_type(credential_type: &str) -> &str {
    credential_type.rsplit(['/', '#']).next().unwrap_or(credential_type)
}

impl Credential {
    /// Whether this credential is of `credential_type` (short name).
    pub fn has_type(&self, credential_type: &str) -> bool {
        self.types.iter().any(|t| short_type(t) == credential_type)
    }

    /// The specific types (short names), without `VerifiableCredential`.
    pub fn specific_types(&self) -> impl Iterator<Item = &str> {
        self.types.iter().map(|t| short_type(t)).filter(|t| *t != BASE_TYPE)
    }

    /// How errors name this credential: its id and specific types, never its content.
    pub fn label(&self) -> String {
        self.label_or("without id or type")
    }

    fn label_or(&self, fallback: &str) -> String {
        label(self.id.as_deref(), &self.specific_types().collect::<Vec<_>>(), fallback)
    }

    /// Reads a credential JWT without verifying it; `fallback` names it in errors when it has no id or type.
    pub fn from_jwt(jwt: &str, fallback: &str) -> Result<Self, DcpError> {
        let unverified = jws::decode_unverified(jwt).map_err(|why| malformed(fallback, why))?;
        parse(&unverified.payload, fallback)
    }
}

fn label(id: Option<&str>, types: &[&str], fallback: &str) -> String {
    match (id, types.is_empty()) {
        (Some(id), false) => format!("{id} ({})", types.join(", ")),
        (Some(id), true) => id.to_string(),
        (None, false) => format!("({})", types.join(", ")),
        (None, true) => fallback.to_string(),
    }
}

fn malformed(credential: &str, why: impl Into<String>) -> DcpError {
    credential_error(credential, CredentialProblem::Malformed(why.into()))
}

fn parse(payload: &Map<String, Value>, fallback: &str) -> Result<Credential, DcpError> {
    let (body, profile) = match payload.get("vc") {
        Some(Value::Object(vc)) => (vc, Profile::Vc11Sl2021Jwt),
        Some(_) => return Err(malformed(fallback, "the 'vc' claim is not an object")),
        None if contexts(payload).first().map(String::as_str) == Some(VCDM_20_CONTEXT) => {
            (payload, Profile::Vc20BsslJwt)
        }
        None => return Err(malformed(fallback, "neither a 'vc' claim nor a VCDM 2.0 credential")),
    };
    let id = body.get("id").and_then(Value::as_str).or_else(|| jws::str_claim(payload, "jti")).map(str::to_string);
    let types = strings(body.get("type"));
    let specific: Vec<&str> = types.iter().map(|t| short_type(t)).filter(|t| *t != BASE_TYPE).collect();
    let name = label(id.as_deref(), &specific, fallback);
    let fail = |why: &str| malformed(&name, why);
    // The base type `VerifiableCredential` is not required: it says nothing the signature does not, and the DCP
    // TCK up to RC6 issues credentials without it.
    if types.is_empty() {
        return Err(fail("it has no type"));
    }
    let issuer = match body.get("issuer") {
        Some(Value::String(issuer)) => Some(issuer.as_str()),
        Some(Value::Object(issuer)) => issuer.get("id").and_then(Value::as_str),
        _ => None,
    };
    let iss = jws::str_claim(payload, "iss");
    let issuer = match (iss, issuer) {
        (Some(a), Some(b)) if a != b => return Err(fail("iss and issuer differ")),
        (Some(a), _) | (None, Some(a)) => a.to_string(),
        (None, None) => return Err(fail("no issuer")),
    };
    let sub = jws::str_claim(payload, "sub");
    let mut subjects = match body.get("credentialSubject") {
        Some(Value::Object(subject)) => vec![subject.clone()],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|s| s.as_object().cloned().ok_or_else(|| fail("a credentialSubject is not an object")))
            .collect::<Result<_, _>>()?,
        _ => return Err(fail("no credentialSubject")),
    };
    // VC-JWT moves the subject id into `sub`; EDC puts it back the same way.
    for subject in subjects.iter_mut().filter(|s| !s.contains_key("id")) {
        if let Some(sub) = sub {
            subject.insert("id".into(), json!(sub));
        }
    }
    let time = |name| jws::time_claim(payload, name).map_err(|why| fail(&why));
    let (nbf, exp) = (time("nbf")?, time("exp")?);
    let date = |keys: &[&str]| -> Result<Option<i64>, DcpError> {
        match keys.iter().find_map(|k| body.get(*k)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|d| Some(d.timestamp()))
                .map_err(|_| fail(&format!("'{}' is not an RFC 3339 date", keys.join("/")))),
            Some(_) => Err(fail(&format!("'{}' is not a date string", keys.join("/")))),
        }
    };
    let valid_from = [nbf, date(&["issuanceDate", "validFrom"])?].into_iter().flatten().max();
    let valid_until = [exp, date(&["expirationDate", "validUntil"])?].into_iter().flatten().min();
    let status = match body.get("credentialStatus") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(entries)) => entries.iter().map(StatusEntry::parse).collect::<Result<Vec<_>, _>>(),
        Some(entry) => StatusEntry::parse(entry).map(|e| vec![e]),
    }
    .map_err(|why| fail(&format!("credentialStatus: {why}")))?
    .into_iter()
    .flatten()
    .collect();
    let schemas = match body.get("credentialSchema") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    }
    .into_iter()
    .filter_map(|schema| schema.get("id").and_then(Value::as_str).map(str::to_string))
    .collect();
    Ok(Credential { id, types, issuer, subjects, valid_from, valid_until, status, schemas, profile })
}

fn contexts(body: &Map<String, Value>) -> Vec<String> {
    strings(body.get("@context"))
}

/// A string or an array of strings (other array items are skipped).
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Verifies credential JWTs.
#[derive(Debug, Clone)]
pub struct CredentialVerifier {
    trusted: TrustedIssuers,
    clock: Arc<dyn Clock>,
    check_relationship: bool,
}

impl CredentialVerifier {
    pub fn new(trusted: TrustedIssuers, clock: Arc<dyn Clock>) -> Self {
        CredentialVerifier { trusted, clock, check_relationship: false }
    }

    /// Whether the issuer's signing key must be listed under `assertionMethod`. Off by default, like the token's
    /// and presentation's checks.
    pub fn with_relationship_check(mut self, check: bool) -> Self {
        self.check_relationship = check;
        self
    }

    /// Verifies one credential presented by `holder`; `fallback` names it in errors when it has no id or type
    /// (its position in the presentation, say). `documents` must hold its issuer's DID document.
    pub fn verify(
        &self,
        jwt: &str,
        fallback: &str,
        holder: &str,
        documents: &dyn DidDocuments,
    ) -> Result<Credential, DcpError> {
        let unverified = jws::decode_unverified(jwt).map_err(|why| malformed(fallback, why))?;
        let credential = parse(&unverified.payload, fallback)?;
        let name = credential.label_or(fallback);
        let fail = |problem| credential_error(&name, problem);
        let issuer = credential.issuer.clone();
        let required = self.check_relationship.then_some(relationship::ASSERTION_METHOD);
        jws::verify_signature(jwt, &unverified, &issuer, documents, required).map_err(|failure| {
            fail(match failure {
                JwsFailure::Malformed(why) => CredentialProblem::Malformed(why),
                JwsFailure::MissingKid => CredentialProblem::Malformed("the header names no kid".into()),
                JwsFailure::Algorithm(alg) => CredentialProblem::Malformed(format!("algorithm {alg} is not accepted")),
                JwsFailure::KidNotOfSigner(kid) => CredentialProblem::KeyNotOfIssuer { kid, issuer: issuer.clone() },
                JwsFailure::UnknownDid => CredentialProblem::UnknownIssuer(issuer.clone()),
                JwsFailure::UnknownKey(kid) => CredentialProblem::UnknownIssuerKey { issuer: issuer.clone(), kid },
                JwsFailure::BadSignature => CredentialProblem::BadSignature,
                JwsFailure::NotAuthorized { kid, relationship } => {
                    CredentialProblem::IssuerKeyNotAuthorized { kid, relationship }
                }
            })
        })?;
        // EDC applies no leeway to credential dates: they span months, a few seconds of skew do not matter.
        let now = self.clock.now_seconds();
        if credential.valid_from.is_some_and(|from| from > now) {
            return Err(fail(CredentialProblem::NotYetValid));
        }
        if credential.valid_until.is_some_and(|until| until < now) {
            return Err(fail(CredentialProblem::Expired));
        }
        for subject in &credential.subjects {
            match subject.get("id").and_then(Value::as_str) {
                Some(id) if id == holder => {}
                Some(id) => {
                    let problem = CredentialProblem::SubjectNotHolder { subject: id.into(), holder: holder.into() };
                    return Err(fail(problem));
                }
                None => return Err(fail(CredentialProblem::SubjectWithoutId)),
            }
        }
        if !self.trusted.allows(&issuer, &credential) {
            return Err(fail(CredentialProblem::UntrustedIssuer(issuer)));
        }
        Ok(credential)
    }
}

#[cfg(test)]
#[path = "credential_tests.rs"]
pub(crate) mod tests;
