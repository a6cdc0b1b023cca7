// SPDX-License-Identifier: Apache-2.0
//! Transfer types (`HttpData-PULL`, ...): how the name reads, and the registry the binary fills from each transfer
//! type's crate.
//!
//! EDC names a transfer type `<destination type>-<flow type>`. The registry adds what the name alone cannot say:
//! other names peers use for the same type and the data address type it serves. Transfer types plug in from above,
//! so nothing at this level names a concrete one beyond the HTTP pull every data plane has.

use serde::{Deserialize, Serialize};

/// Whether the consumer fetches the data (PULL: the provider hands out an address with credentials) or the
/// provider delivers it to the consumer's destination (PUSH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FlowType {
    Pull,
    Push,
}

impl FlowType {
    pub fn name(self) -> &'static str {
        match self {
            FlowType::Pull => "PULL",
            FlowType::Push => "PUSH",
        }
    }

    /// `PULL` or `PUSH`, exactly: EDC's names are upper case.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "PULL" => Some(FlowType::Pull),
            "PUSH" => Some(FlowType::Push),
            _ => None,
        }
    }

    /// The flow type a transfer type's name ends with; `None` when it names none.
    pub fn of(transfer_type: &str) -> Option<Self> {
        TransferType::parse(transfer_type).map(|parsed| parsed.flow_type)
    }

    /// Whether the transfer type's name says PULL.
    pub fn is_pull(transfer_type: &str) -> bool {
        Self::of(transfer_type) == Some(FlowType::Pull)
    }
}

/// A transfer type's name taken apart: `HttpData-PULL` → (`HttpData`, PULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferType<'a> {
    pub destination_type: &'a str,
    pub flow_type: FlowType,
}

impl<'a> TransferType<'a> {
    /// `None` unless the name is `<non-empty destination>-PULL` or `-PUSH`.
    pub fn parse(name: &'a str) -> Option<Self> {
        let (destination_type, flow) = name.rsplit_once('-')?;
        let flow_type = FlowType::parse(flow)?;
        (!destination_type.is_empty()).then_some(TransferType { destination_type, flow_type })
    }
}

/// What a transfer type's crate tells the registry about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferTypeDescriptor {
    /// The name it is served and offered under (`HttpData-PULL`).
    pub name: String,
    /// Other names peers ask for it by; they are answered as `name`.
    pub aliases: Vec<String>,
    /// The type of the asset data addresses it serves (`HttpData`).
    pub address_type: String,
    pub flow_type: FlowType,
}

impl TransferTypeDescriptor {
    pub fn new(name: impl Into<String>, address_type: impl Into<String>, flow_type: FlowType) -> Self {
        TransferTypeDescriptor { name: name.into(), aliases: Vec::new(), address_type: address_type.into(), flow_type }
    }

    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }
}

/// Refusals of [`TransferTypeRegistry::register`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("transfer type name '{0}' is registered twice")]
    Duplicate(String),
}

/// The transfer types this connector knows, filled at start.
#[derive(Debug, Clone, Default)]
pub struct TransferTypeRegistry {
    types: Vec<TransferTypeDescriptor>,
}

impl TransferTypeRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a type. Names and aliases must be unique across all types, or one name would mean two things.
    pub fn register(&mut self, descriptor: TransferTypeDescriptor) -> Result<(), RegistryError> {
        let taken = |name: &str| self.types.iter().any(|t| t.name == name || t.aliases.iter().any(|a| a == name));
        if let Some(name) = std::iter::once(&descriptor.name).chain(&descriptor.aliases).find(|name| taken(name)) {
            return Err(RegistryError::Duplicate(name.clone()));
        }
        self.types.push(descriptor);
        Ok(())
    }

    /// The registered type a name (or alias) stands for.
    pub fn find(&self, name: &str) -> Option<&TransferTypeDescriptor> {
        self.types.iter().find(|t| t.name == name || t.aliases.iter().any(|alias| alias == name))
    }

    /// The name a transfer type is served under: an alias becomes its type's name, anything else stays as it is.
    pub fn canonical<'a>(&'a self, name: &'a str) -> &'a str {
        self.find(name).map_or(name, |t| t.name.as_str())
    }

    /// Registered types serving data addresses of `address_type`, in registration order.
    pub fn for_address_type(&self, address_type: &str) -> Vec<String> {
        self.types.iter().filter(|t| t.address_type == address_type).map(|t| t.name.clone()).collect()
    }

    /// The address type a transfer type serves: the registered one, else the destination its name starts with.
    pub fn address_type_of<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        match self.find(name) {
            Some(t) => Some(t.address_type.as_str()),
            None => TransferType::parse(name).map(|parsed| parsed.destination_type),
        }
    }

    /// PULL or PUSH: the registered flow type, else what the name ends with.
    pub fn flow_type_of(&self, name: &str) -> Option<FlowType> {
        self.find(name).map(|t| t.flow_type).or_else(|| FlowType::of(name))
    }

    pub fn descriptors(&self) -> &[TransferTypeDescriptor] {
        &self.types
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> TransferTypeRegistry {
        let mut registry = TransferTypeRegistry::new();
        let stream = TransferTypeDescriptor::new("Stream-PULL", "StreamSource", FlowType::Pull).with_alias("Old-PULL");
        registry.register(stream).unwrap();
        registry.register(TransferTypeDescriptor::new("HttpData-PULL", "HttpData", FlowType::Pull)).unwrap();
        registry
    }

    #[test]
    fn names_parse_into_destination_and_flow_type() {
        let parsed = TransferType::parse("HttpData-PULL");
        assert_eq!(parsed, Some(TransferType { destination_type: "HttpData", flow_type: FlowType::Pull }));
        assert_eq!(FlowType::of("AmazonS3-PUSH"), Some(FlowType::Push));
        assert_eq!(FlowType::of("Http-Data-PULL"), Some(FlowType::Pull), "only the last dash separates");
        for bad in ["HttpData", "HttpData-pull", "-PULL", "HttpData-PULL ", "HttpData-STREAM", ""] {
            assert_eq!(TransferType::parse(bad), None, "{bad:?}");
        }
        assert_eq!(FlowType::parse(FlowType::Push.name()), Some(FlowType::Push));
        assert!(
            FlowType::is_pull("HttpData-PULL") && !FlowType::is_pull("HttpData-PUSH") && !FlowType::is_pull("PULL")
        );
    }

    #[test]
    fn aliases_answer_as_their_type() {
        let registry = registry();
        assert_eq!(registry.canonical("Old-PULL"), "Stream-PULL");
        assert_eq!(registry.canonical("Stream-PULL"), "Stream-PULL");
        assert_eq!(registry.canonical("old-pull"), "old-pull", "names are case-sensitive");
        assert_eq!(registry.canonical("Unknown-PUSH"), "Unknown-PUSH");
    }

    #[test]
    fn address_and_flow_types_come_from_the_registration() {
        let registry = registry();
        assert_eq!(registry.for_address_type("StreamSource"), vec!["Stream-PULL"]);
        assert!(registry.for_address_type("Stream").is_empty(), "the address type is registered, not derived");
        assert_eq!(registry.address_type_of("Old-PULL"), Some("StreamSource"));
        assert_eq!(registry.address_type_of("AmazonS3-PUSH"), Some("AmazonS3"), "unregistered: from the name");
        assert_eq!(registry.flow_type_of("Old-PULL"), Some(FlowType::Pull));
        assert_eq!(registry.flow_type_of("nothing"), None);
    }

    #[test]
    fn a_name_means_one_type() {
        let mut registry = registry();
        let clash = TransferTypeDescriptor::new("Other-PULL", "Other", FlowType::Pull).with_alias("Old-PULL");
        assert_eq!(registry.register(clash), Err(RegistryError::Duplicate("Old-PULL".into())));
        let twice = TransferTypeDescriptor::new("HttpData-PULL", "HttpData", FlowType::Pull);
        assert_eq!(registry.register(twice), Err(RegistryError::Duplicate("HttpData-PULL".into())));
        assert_eq!(registry.descriptors().len(), 2);
    }
}
