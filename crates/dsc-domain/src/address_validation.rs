// SPDX-License-Identifier: Apache-2.0
//! Validators of data addresses by type, registered by the transfer types that serve them.
//!
//! Asset validation checks what every address needs (a type, no secret in clear text) itself and asks the
//! validator registered for the address's type for the rest, so a new transfer type brings its own rules without
//! changing the shared transformers.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::asset::DataAddress;
use crate::validation::Violation;

/// Checks the data addresses of one type.
pub trait DataAddressValidator: Send + Sync {
    /// The `edc:type` value this validator is for.
    fn address_type(&self) -> &str;

    /// Every violation, each naming its property under `path`.
    fn validate(&self, address: &DataAddress, path: &str) -> Vec<Violation>;

    /// Local property names (lower case, without namespace) that would carry a secret in clear text in addresses
    /// of this type; they are refused like the generic ones (`password`, `token`, ...), whatever the type.
    fn secret_properties(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Refusals of [`DataAddressValidators::register`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorRegistryError {
    #[error("a data address validator for type '{0}' is registered already")]
    Duplicate(String),
}

/// The registered validators, keyed by address type. Types without a validator get the generic checks only.
#[derive(Clone, Default)]
pub struct DataAddressValidators {
    by_type: BTreeMap<String, Arc<dyn DataAddressValidator>>,
}

impl DataAddressValidators {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, validator: Arc<dyn DataAddressValidator>) -> Result<(), ValidatorRegistryError> {
        let address_type = validator.address_type().to_string();
        if self.by_type.contains_key(&address_type) {
            return Err(ValidatorRegistryError::Duplicate(address_type));
        }
        self.by_type.insert(address_type, validator);
        Ok(())
    }

    /// The violations of the validator for the address's type; none when no validator is registered for it.
    pub fn validate(&self, address: &DataAddress, path: &str) -> Vec<Violation> {
        address
            .address_type()
            .and_then(|address_type| self.by_type.get(address_type))
            .map(|validator| validator.validate(address, path))
            .unwrap_or_default()
    }

    /// The type-specific secret property names of every registered validator.
    pub fn secret_properties(&self) -> Vec<String> {
        let mut names: Vec<String> = self.by_type.values().flat_map(|v| v.secret_properties()).collect();
        names.sort();
        names.dedup();
        names
    }

    pub fn address_types(&self) -> Vec<&str> {
        self.by_type.keys().map(String::as_str).collect()
    }
}

impl std::fmt::Debug for DataAddressValidators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataAddressValidators").field("address_types", &self.address_types()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct NeedsPath;

    impl DataAddressValidator for NeedsPath {
        fn address_type(&self) -> &str {
            "File"
        }
        fn validate(&self, address: &DataAddress, path: &str) -> Vec<Violation> {
            let iri = crate::namespaces::edc("path");
            match address.properties.get(&iri) {
                Some(_) => Vec::new(),
                None => vec![Violation::mandatory_value(&format!("{path}/{iri}"))],
            }
        }
        fn secret_properties(&self) -> Vec<String> {
            vec!["file.passphrase".into()]
        }
    }

    fn address(address_type: &str) -> DataAddress {
        let mut properties = crate::Properties::new();
        properties.insert(DataAddress::type_iri(), json!(address_type));
        DataAddress { properties }
    }

    #[test]
    fn the_validator_of_the_type_decides() {
        let mut validators = DataAddressValidators::new();
        validators.register(Arc::new(NeedsPath)).unwrap();
        let violations = validators.validate(&address("File"), "dataAddress");
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].path, Some(format!("dataAddress/{}", crate::namespaces::edc("path"))));
        assert!(validators.validate(&address("HttpData"), "dataAddress").is_empty(), "no validator, no rules");
        assert_eq!(validators.secret_properties(), vec!["file.passphrase"]);
    }

    #[test]
    fn one_validator_per_type() {
        let mut validators = DataAddressValidators::new();
        validators.register(Arc::new(NeedsPath)).unwrap();
        let again = validators.register(Arc::new(NeedsPath)).err().map(|e| e.to_string());
        assert_eq!(again.as_deref(), Some("a data address validator for type 'File' is registered already"));
    }
}
