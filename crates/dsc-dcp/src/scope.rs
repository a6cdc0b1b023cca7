// SPDX-License-Identifier: Apache-2.0
//! Scope strings: what a verifier asks a credential service for, `<alias>:<CredentialType>:<operation>`.
//!
//! Peers disagree on the alias: the DCP spec and the TCK use `org.eclipse.dspace.dcp.vc.type`, EDC/IdentityHub up
//! to 0.16 `org.eclipse.edc.vc.type`, Tractus-X (and so every Catena-X verifier) `org.eclipse.tractusx.vc.type`.
//! Parsing accepts all three; formatting uses the one the caller's dataspace needs.

use std::collections::BTreeSet;
use std::fmt;

use crate::DcpError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeAlias {
    /// `org.eclipse.dspace.dcp.vc.type`: the spec's alias, the one the DCP TCK requests.
    Dspace,
    /// `org.eclipse.edc.vc.type`: EDC's default.
    Edc,
    /// `org.eclipse.tractusx.vc.type`: Catena-X.
    TractusX,
}

impl ScopeAlias {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeAlias::Dspace => "org.eclipse.dspace.dcp.vc.type",
            ScopeAlias::Edc => "org.eclipse.edc.vc.type",
            ScopeAlias::TractusX => "org.eclipse.tractusx.vc.type",
        }
    }

    pub fn parse(alias: &str) -> Option<Self> {
        [ScopeAlias::Dspace, ScopeAlias::Edc, ScopeAlias::TractusX].into_iter().find(|a| a.as_str() == alias)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    Read,
    Write,
    All,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::All => "*",
        }
    }
}

/// One credential-type scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub alias: ScopeAlias,
    pub credential_type: String,
    pub operation: Operation,
}

impl Scope {
    /// A read scope for `credential_type`.
    pub fn read(alias: ScopeAlias, credential_type: &str) -> Self {
        Scope { alias, credential_type: credential_type.to_string(), operation: Operation::Read }
    }

    pub fn parse(scope: &str) -> Result<Self, DcpError> {
        let invalid = |why| DcpError::InvalidScope { scope: scope.to_string(), why };
        let mut parts = scope.split(':');
        let (Some(alias), Some(credential_type), Some(operation), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("expected <alias>:<CredentialType>:<operation>"));
        };
        let alias = ScopeAlias::parse(alias).ok_or_else(|| invalid("unknown alias"))?;
        let valid_type = !credential_type.is_empty()
            && credential_type.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid_type {
            return Err(invalid("the credential type must be a non-empty name"));
        }
        let operation = match operation {
            "read" => Operation::Read,
            "write" => Operation::Write,
            // IdentityHub also takes `all` for `*`.
            "*" | "all" => Operation::All,
            _ => return Err(invalid("the operation must be read, write or *")),
        };
        Ok(Scope { alias, credential_type: credential_type.to_string(), operation })
    }

    /// Whether this scope lets its holder read credentials of `credential_type`.
    pub fn grants_read_of(&self, credential_type: &str) -> bool {
        self.credential_type == credential_type && matches!(self.operation, Operation::Read | Operation::All)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.alias.as_str(), self.credential_type, self.operation.as_str())
    }
}

/// The read scopes a verifier must request to see credentials of `types`: one per distinct type, sorted, so two
/// connectors asked for the same types produce the same scope list (the credential service compares them).
pub fn scopes_for<'a>(alias: ScopeAlias, types: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let distinct: BTreeSet<&str> = types.into_iter().collect();
    distinct.into_iter().map(|t| Scope::read(alias, t).to_string()).collect()
}

/// The credential types a list of scope strings asks to read; the first unparseable scope is an error.
pub fn requested_types(scopes: &[String]) -> Result<BTreeSet<String>, DcpError> {
    scopes
        .iter()
        .map(|s| Scope::parse(s))
        .filter(|s| !s.as_ref().is_ok_and(|s| s.operation == Operation::Write))
        .map(|s| s.map(|s| s.credential_type))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_in_every_alias() {
        for (text, alias) in [
            ("org.eclipse.edc.vc.type:MembershipCredential:read", ScopeAlias::Edc),
            ("org.eclipse.tractusx.vc.type:BpnCredential:read", ScopeAlias::TractusX),
            ("org.eclipse.dspace.dcp.vc.type:MembershipCredential:read", ScopeAlias::Dspace),
        ] {
            let scope = Scope::parse(text).unwrap();
            assert_eq!((scope.alias, scope.operation), (alias, Operation::Read));
            assert_eq!(scope.to_string(), text);
        }
        assert_eq!(
            Scope::parse("org.eclipse.edc.vc.type:X:all").map(|s| s.to_string()).ok().as_deref(),
            Some("org.eclipse.edc.vc.type:X:*")
        );
    }

    #[test]
    fn malformed_scopes_say_what_is_wrong() {
        for (text, message) in [
            ("org.eclipse.edc.vc.type:MembershipCredential", "expected <alias>:<CredentialType>:<operation>"),
            ("a:b:c:d", "expected <alias>:<CredentialType>:<operation>"),
            ("com.example:MembershipCredential:read", "unknown alias"),
            ("org.eclipse.edc.vc.type::read", "the credential type must be a non-empty name"),
            ("org.eclipse.edc.vc.type:Bad Type:read", "the credential type must be a non-empty name"),
            ("org.eclipse.edc.vc.type:MembershipCredential:delete", "the operation must be read, write or *"),
        ] {
            let err = Scope::parse(text).err().map(|e| e.to_string());
            assert_eq!(err, Some(format!("invalid scope '{text}': {message}")));
        }
    }

    #[test]
    fn catena_x_types_map_to_tractusx_scopes_once_each() {
        let scopes = scopes_for(
            ScopeAlias::TractusX,
            ["MembershipCredential", "DataExchangeGovernanceCredential", "BpnCredential", "MembershipCredential"],
        );
        assert_eq!(
            scopes,
            [
                "org.eclipse.tractusx.vc.type:BpnCredential:read",
                "org.eclipse.tractusx.vc.type:DataExchangeGovernanceCredential:read",
                "org.eclipse.tractusx.vc.type:MembershipCredential:read",
            ]
        );
        let types = requested_types(&scopes).unwrap();
        assert_eq!(
            types.into_iter().collect::<Vec<_>>(),
            ["BpnCredential", "DataExchangeGovernanceCredential", "MembershipCredential"]
        );
    }

    #[test]
    fn write_scopes_request_nothing_to_read() {
        let scopes = vec!["org.eclipse.edc.vc.type:A:write".to_string(), "org.eclipse.edc.vc.type:B:*".to_string()];
        let types = requested_types(&scopes).unwrap();
        assert_eq!(types.into_iter().collect::<Vec<_>>(), ["B"]);
        let scope = Scope::parse("org.eclipse.edc.vc.type:A:write").unwrap();
        assert!(!scope.grants_read_of("A"));
        assert!(Scope::read(ScopeAlias::Edc, "A").grants_read_of("A"));
        assert!(requested_types(&["nope".to_string()]).is_err());
    }
}
