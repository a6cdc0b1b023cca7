// SPDX-License-Identifier: Apache-2.0
//! The verifier side of DCP: every inbound protocol request carries the caller's self-issued token; the caller's
//! credential service (found through its DID document) is asked for the credentials the policies in play need,
//! and the verified credentials become the claims the policy engine evaluates.
//!
//! Verified credentials are reused for a while per participant (never beyond their expiry), so a negotiation does
//! not cost a presentation query per message; their revocation status is checked on every use through the status
//! list cache, so a revoked credential is noticed within the status list's cache time.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use dsc_dcp::DcpError;
use dsc_dcp::claims::{missing_types, participant_agent};
use dsc_dcp::credential::Credential;
use dsc_dcp::presentation::{PresentationVerifier, dids_to_resolve};
use dsc_dcp::query::PresentationResponseMessage;
use dsc_dcp::scope::{ScopeAlias, scopes_for};
use dsc_dcp::status::StatusListCache;
use dsc_dcp::token::TokenVerifier;
use dsc_domain::{Clock, ParticipantAgent};
use dsc_identity::{DidResolver, IdentityError, ParticipantVerifier};
use serde_json::Value;

use crate::authenticate::TokenAuthenticator;
use crate::schemas::SchemaCache;

/// The credential types the policies this connector offers are decided on (catalog access and contract policies
/// alike): a verifier asks for these besides the default ones, and for nothing else.
#[async_trait]
pub trait PolicyCredentialTypes: Send + Sync {
    async fn credential_types(&self) -> BTreeSet<String>;
}

/// No policy-derived types: only the defaults are asked for.
pub struct DefaultsOnly;

#[async_trait]
impl PolicyCredentialTypes for DefaultsOnly {
    async fn credential_types(&self) -> BTreeSet<String> {
        BTreeSet::new()
    }
}

pub struct VerifierSettings {
    pub scope_alias: ScopeAlias,
    /// Types every request must present; a missing one refuses the request.
    pub default_credentials: BTreeSet<String>,
    pub presentation_cache_seconds: i64,
    pub query_timeout: Duration,
}

struct Known {
    /// The scopes the credentials were asked for.
    scopes: Vec<String>,
    credentials: Vec<Credential>,
    /// Epoch seconds until which the credentials may be reused without a new query.
    reuse_until: i64,
}

pub struct Verifier {
    own_did: String,
    authenticator: Arc<TokenAuthenticator>,
    own_tokens: Arc<dyn crate::sts::TokenSource>,
    presentations: PresentationVerifier,
    status: Arc<StatusListCache>,
    resolver: Arc<dyn DidResolver>,
    http: reqwest::Client,
    settings: VerifierSettings,
    policy_types: Arc<dyn PolicyCredentialTypes>,
    schemas: SchemaCache,
    known: Mutex<HashMap<String, Known>>,
    clock: Arc<dyn Clock>,
}

fn rejected(error: DcpError) -> IdentityError {
    IdentityError::Credentials(error.to_string())
}

impl Verifier {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tokens: TokenVerifier,
        own_tokens: Arc<dyn crate::sts::TokenSource>,
        presentations: PresentationVerifier,
        status: Arc<StatusListCache>,
        resolver: Arc<dyn DidResolver>,
        http: reqwest::Client,
        settings: VerifierSettings,
        policy_types: Arc<dyn PolicyCredentialTypes>,
        clock: Arc<dyn Clock>,
        own_did: &str,
    ) -> Self {
        let schemas = SchemaCache::new(http.clone(), settings.query_timeout);
        Verifier {
            own_did: own_did.to_string(),
            authenticator: Arc::new(TokenAuthenticator::new(tokens, resolver.clone())),
            own_tokens,
            presentations,
            status,
            resolver,
            http,
            settings,
            policy_types,
            schemas,
            known: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// Who a caller is from its token alone, with the replay protection of this verifier: for refresh clients,
    /// verified with their credentials when their transfer started.
    pub fn authenticator(&self) -> Arc<TokenAuthenticator> {
        self.authenticator.clone()
    }

    /// The scopes asked of every caller right now: the default credentials and those of the offered policies.
    async fn scopes(&self) -> Vec<String> {
        let policy_types = self.policy_types.credential_types().await;
        let types = self.settings.default_credentials.iter().chain(policy_types.iter()).map(String::as_str);
        scopes_for(self.settings.scope_alias, types)
    }

    async fn verify_request(&self, authorization: Option<&str>) -> Result<ParticipantAgent, IdentityError> {
        let (verified, holder_document) = self.authenticator.verify_token(authorization).await?;
        let holder = verified.did.clone();
        let scopes = self.scopes().await;
        let now = self.clock.now_seconds();
        let reusable = self.known.lock().ok().and_then(|known| {
            known
                .get(&holder)
                .filter(|k| k.reuse_until > now && scopes.iter().all(|s| k.scopes.contains(s)))
                .map(|k| k.credentials.clone())
        });
        let credentials = match reusable {
            Some(credentials) => credentials,
            None => {
                let access_token =
                    verified.access_token.as_deref().ok_or_else(|| rejected(DcpError::MissingAccessToken))?;
                let credentials = self.query(&holder, &holder_document, access_token, &scopes).await?;
                let expiry = credentials.iter().filter_map(|c| c.valid_until).min();
                let reuse_until = (now + self.settings.presentation_cache_seconds).min(expiry.unwrap_or(i64::MAX));
                if let Ok(mut known) = self.known.lock() {
                    known.insert(
                        holder.clone(),
                        Known { scopes: scopes.clone(), credentials: credentials.clone(), reuse_until },
                    );
                }
                credentials
            }
        };
        // Revocation and expiry are checked on every use, cached credentials or not.
        for credential in &credentials {
            if let Err(error) = self.still_valid(credential, now).await {
                // Asked again next time; kept for the policy monitor, which re-checks what it knew.
                if let Ok(mut known) = self.known.lock()
                    && let Some(entry) = known.get_mut(&holder)
                {
                    entry.reuse_until = 0;
                }
                return Err(rejected(error));
            }
        }
        Ok(participant_agent(&holder, &credentials))
    }

    async fn still_valid(&self, credential: &Credential, now: i64) -> Result<(), DcpError> {
        if credential.valid_until.is_some_and(|until| until < now) {
            let problem = dsc_dcp::CredentialProblem::Expired;
            return Err(DcpError::Credential { credential: credential.label(), problem });
        }
        self.status.check(credential).await
    }

    /// Asks the holder's credential service for `scopes` and verifies what it presents.
    async fn query(
        &self,
        holder: &str,
        holder_document: &Value,
        access_token: &str,
        scopes: &[String],
    ) -> Result<Vec<Credential>, IdentityError> {
        let fail = |why: String| IdentityError::Credentials(why);
        let own_token =
            self.own_tokens.token(holder, &[], Some(access_token)).await.map_err(IdentityError::Credentials)?;
        let whose = format!("the credential service of {holder}");
        let body = crate::query::query_presentations(
            &self.http,
            &whose,
            holder_document,
            &own_token,
            scopes.to_vec(),
            self.settings.query_timeout,
        )
        .await
        .map_err(fail)?;
        // An empty answer is a holder without the credentials asked for: reported below as what is missing.
        let presentations = match PresentationResponseMessage::parse(&body) {
            Ok(answer) => answer.presentation,
            Err(DcpError::InvalidResponse("presentation must not be empty")) => Vec::new(),
            Err(error) => return Err(rejected(error)),
        };
        let mut credentials = Vec::new();
        for presentation in &presentations {
            let presentation = presentation
                .as_str()
                .ok_or_else(|| rejected(DcpError::InvalidResponse("JSON-LD presentations are not supported")))?;
            let mut documents = HashMap::new();
            for did in dids_to_resolve(presentation).map_err(rejected)? {
                // An unresolvable issuer is reported by verification as an unknown issuer, naming the credential.
                if let Ok(document) = self.resolver.resolve(&did).await {
                    documents.insert(did, document);
                }
            }
            let verified = self.presentations.verify(presentation, holder, &documents).map_err(rejected)?;
            for credential in &verified.credentials {
                self.schemas.check(credential).await.map_err(rejected)?;
            }
            credentials.extend(verified.credentials);
        }
        let required: BTreeSet<String> = self.settings.default_credentials.clone();
        let missing = missing_types(&required, &credentials);
        if !missing.is_empty() {
            return Err(fail(format!("the credential service of {holder} presented no {}", missing.join(", "))));
        }
        Ok(credentials)
    }

    /// The participant as its last verified credentials describe it now, with why any of them no longer counts
    /// (revoked, suspended, expired); `Ok(None)` when this connector has not verified the participant since it
    /// started; `Err` when a credential every request must present no longer counts. For the policy monitor,
    /// which has no request to ask the participant's credential service with.
    pub async fn recheck(&self, participant: &str) -> Result<Option<(ParticipantAgent, Vec<String>)>, String> {
        let known = self.known.lock().ok().and_then(|known| known.get(participant).map(|k| k.credentials.clone()));
        let Some(credentials) = known else { return Ok(None) };
        let now = self.clock.now_seconds();
        let mut valid = Vec::new();
        let mut problems = Vec::new();
        for credential in credentials {
            match self.still_valid(&credential, now).await {
                Ok(()) => valid.push(credential),
                Err(error) => problems.push(error.to_string()),
            }
        }
        let missing = missing_types(&self.settings.default_credentials, &valid);
        if !missing.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(Some((participant_agent(participant, &valid), problems)))
    }

    pub fn own_did(&self) -> &str {
        &self.own_did
    }
}

#[async_trait]
impl ParticipantVerifier for Verifier {
    async fn verify(&self, authorization: Option<&str>) -> Result<ParticipantAgent, IdentityError> {
        self.verify_request(authorization).await
    }
}

/// Status lists over HTTP, JSON or JWT.
pub struct HttpStatusLists {
    pub http: reqwest::Client,
    pub timeout: Duration,
}

#[async_trait]
impl dsc_dcp::status::StatusListFetcher for HttpStatusLists {
    async fn fetch(&self, url: &str) -> Result<String, String> {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/vc+jwt, application/json;q=0.9, */*;q=0.5")
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() { format!("no answer within {} ms", self.timeout.as_millis()) } else { e.to_string() }
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        crate::http::bounded_text(response).await
    }
}
