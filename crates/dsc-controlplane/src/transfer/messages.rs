// SPDX-License-Identifier: Apache-2.0
//! The transfer messages a counter-party sends, typed: the protocol binding validates and transforms the wire
//! form into these, so the service works on named fields only.

use dsc_domain::DataAddress;

use crate::ProcessIds;

/// Consumer → provider: a transfer under an agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequestMessage {
    pub consumer_pid: String,
    pub agreement_id: String,
    /// The transfer type (`dct:format`) as the consumer names it; aliases are resolved by the service.
    pub transfer_type: String,
    /// Where the provider sends its answers (the consumer's versioned protocol address).
    pub callback_address: String,
    /// The protocol the request arrived in.
    pub protocol: String,
}

/// Provider → consumer: the transfer started (or resumed), with the address to pull from. Consumer → provider:
/// the consumer resumes a transfer it suspended.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferStartMessage {
    pub process: ProcessIds,
    pub data_address: Option<DataAddress>,
}

/// Either party suspends the transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferSuspensionMessage {
    pub process: ProcessIds,
    /// Recorded as the transfer's error detail.
    pub reason: Option<String>,
}

/// Either party saw the transfer complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferCompletionMessage {
    pub process: ProcessIds,
}

/// Either party ends the transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferTerminationMessage {
    pub process: ProcessIds,
    /// Recorded as the transfer's error detail.
    pub reason: Option<String>,
}
