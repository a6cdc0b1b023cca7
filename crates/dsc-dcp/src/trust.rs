// SPDX-License-Identifier: Apache-2.0
//! The verifier's trusted issuers: which issuer DIDs may issue which credential types (EDC's
//! `edc.iam.trusted-issuer.<alias>.supportedtypes`, Tractus-X's `iatp.trustedIssuers`).

use std::collections::{HashMap, HashSet};

use crate::credential::Credential;

/// Which issuers the verifier trusts, and for which credential types.
#[derive(Debug, Clone, Default)]
pub struct TrustedIssuers {
    issuers: HashMap<String, Option<HashSet<String>>>,
}

impl TrustedIssuers {
    /// Trusts `issuer` for the listed types (short names).
    pub fn trust<'a>(mut self, issuer: &str, types: impl IntoIterator<Item = &'a str>) -> Self {
        let types = types.into_iter().map(str::to_string).collect();
        self.issuers.insert(issuer.to_string(), Some(types));
        self
    }

    /// Trusts `issuer` for every type (EDC's `supportedtypes=["*"]`).
    pub fn trust_all_types(mut self, issuer: &str) -> Self {
        self.issuers.insert(issuer.to_string(), None);
        self
    }

    /// Whether `issuer` may issue `credential`: it is trusted for one of its specific types.
    pub fn allows(&self, issuer: &str, credential: &Credential) -> bool {
        match self.issuers.get(issuer) {
            Some(None) => true,
            Some(Some(types)) => credential.specific_types().any(|t| types.contains(t)),
            None => false,
        }
    }
}
