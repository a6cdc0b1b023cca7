// SPDX-License-Identifier: Apache-2.0
//! Issuing credentials in either DCP profile: for tests today, for the issuer service later.

use serde_json::{Map, Value, json};

use crate::DcpError;
use crate::credential::{BASE_TYPE, Profile, VCDM_11_CONTEXT, VCDM_20_CONTEXT};
use crate::jws::SigningKey;

/// What an issuer puts into a credential.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialDraft {
    pub id: String,
    /// Specific types; `VerifiableCredential` is added.
    pub types: Vec<String>,
    pub holder: String,
    /// Subject fields besides `id`.
    pub subject: Map<String, Value>,
    pub valid_from: i64,
    pub valid_until: i64,
    pub status: Option<Value>,
    /// Extra `@context` entries after the VCDM one (the Catena-X credentials context, for instance).
    pub contexts: Vec<String>,
}

/// Signs credentials as an issuer DID.
#[derive(Debug, Clone)]
pub struct CredentialIssuer {
    key: SigningKey,
}

impl CredentialIssuer {
    pub fn new(key: SigningKey) -> Self {
        CredentialIssuer { key }
    }

    pub fn issue(&self, profile: Profile, draft: &CredentialDraft) -> Result<String, DcpError> {
        let issuer = self.key.did();
        let mut subject = draft.subject.clone();
        subject.insert("id".into(), json!(draft.holder));
        let types: Vec<&str> = std::iter::once(BASE_TYPE).chain(draft.types.iter().map(String::as_str)).collect();
        let date = |secs: i64| {
            chrono::DateTime::from_timestamp(secs, 0)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .ok_or_else(|| DcpError::InvalidInput(format!("date {secs} is out of range")))
        };
        let (from, until) = (date(draft.valid_from)?, date(draft.valid_until)?);
        let registered = json!({"iss": issuer, "sub": draft.holder, "jti": draft.id,
            "iat": draft.valid_from, "nbf": draft.valid_from, "exp": draft.valid_until});
        let mut body = Map::new();
        match profile {
            Profile::Vc11Sl2021Jwt => {
                let context: Vec<&str> =
                    std::iter::once(VCDM_11_CONTEXT).chain(draft.contexts.iter().map(String::as_str)).collect();
                body.insert("@context".into(), json!(context));
                body.insert("id".into(), json!(draft.id));
                body.insert("type".into(), json!(types));
                body.insert("issuer".into(), json!(issuer));
                body.insert("issuanceDate".into(), json!(from));
                body.insert("expirationDate".into(), json!(until));
            }
            Profile::Vc20BsslJwt => {
                let context: Vec<&str> =
                    std::iter::once(VCDM_20_CONTEXT).chain(draft.contexts.iter().map(String::as_str)).collect();
                body.insert("@context".into(), json!(context));
                body.insert("id".into(), json!(draft.id));
                body.insert("type".into(), json!(types));
                body.insert("issuer".into(), json!(issuer));
                body.insert("validFrom".into(), json!(from));
                body.insert("validUntil".into(), json!(until));
            }
        }
        body.insert("credentialSubject".into(), Value::Object(subject));
        if let Some(status) = &draft.status {
            body.insert("credentialStatus".into(), status.clone());
        }
        match profile {
            Profile::Vc11Sl2021Jwt => {
                let mut claims = registered;
                claims["vc"] = Value::Object(body);
                self.key.sign("JWT", &claims)
            }
            Profile::Vc20BsslJwt => {
                let mut claims = Value::Object(body);
                if let (Some(claims), Value::Object(registered)) = (claims.as_object_mut(), registered) {
                    claims.extend(registered);
                }
                self.key.sign_with_content_type("vc+jwt", Some("vc"), &claims)
            }
        }
    }
}
