// SPDX-License-Identifier: Apache-2.0
//! Domain model of the connector.
//!
//! Invariant: this crate performs no I/O and knows no wire format. Property maps use full IRIs as keys and
//! "simplified expanded" JSON-LD values (see [`property`]), so that every other crate can compare and query them
//! without re-running JSON-LD processing.

pub mod address_validation;
pub mod asset;
pub mod clock;
pub mod contract_definition;
pub mod namespaces;
pub mod odrl;
pub mod policy_definition;
pub mod property;
pub mod query;
pub mod validation;

pub use address_validation::{DataAddressValidator, DataAddressValidators};
pub use asset::{Approval, Asset, DataAddress};
pub use clock::{Clock, ManualClock, SystemClock};
pub use contract_definition::ContractDefinition;
pub use policy_definition::PolicyDefinition;
pub use property::Properties;
pub use query::{Criterion, Operator, QuerySpec, SortOrder};
pub use validation::Violation;
pub mod participant;
pub use participant::ParticipantAgent;
pub mod catalog;
pub use catalog::{Catalog, ContractOfferId, Dataset, Offer};
pub mod negotiation;
pub use negotiation::{CallbackAddress, ContractAgreement, ContractNegotiation, NegotiationRole, NegotiationState};
pub mod transfer;
pub use transfer::{DataFlow, DataFlowState, TransferProcess, TransferRole, TransferState};
pub mod transfer_type;
pub use transfer_type::{FlowType, TransferType, TransferTypeDescriptor, TransferTypeRegistry};
