// SPDX-License-Identifier: Apache-2.0
//! Transfer processes, with EDC's states, codes and allowed transitions.
//!
//! A pull transfer of a stream never completes on its own: it stays STARTED until a party suspends, completes or
//! terminates it, or the policy monitor ends it.

use serde::{Deserialize, Serialize};

use crate::asset::DataAddress;
use crate::negotiation::{CallbackAddress, NegotiationRole, event_type};

/// Consumer or provider; the same roles as in negotiations.
pub type TransferRole = NegotiationRole;

/// EDC's transfer states; `-ING` states mean "work (a message, a data plane call) is about to happen".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TransferState {
    Initial,
    Requesting,
    Requested,
    Starting,
    Started,
    Suspending,
    Suspended,
    Resuming,
    Resumed,
    Completing,
    Completed,
    Terminating,
    Terminated,
}

impl TransferState {
    pub const ALL: [TransferState; 13] = [
        TransferState::Initial,
        TransferState::Requesting,
        TransferState::Requested,
        TransferState::Starting,
        TransferState::Started,
        TransferState::Suspending,
        TransferState::Suspended,
        TransferState::Resuming,
        TransferState::Resumed,
        TransferState::Completing,
        TransferState::Completed,
        TransferState::Terminating,
        TransferState::Terminated,
    ];

    /// EDC's numeric code.
    pub fn code(self) -> i32 {
        use TransferState::*;
        match self {
            Initial => 100,
            Requesting => 400,
            Requested => 500,
            Starting => 550,
            Started => 600,
            Suspending => 650,
            Suspended => 700,
            Resuming => 720,
            Resumed => 725,
            Completing => 750,
            Completed => 800,
            Terminating => 825,
            Terminated => 850,
        }
    }

    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.code() == code)
    }

    pub fn name(self) -> &'static str {
        use TransferState::*;
        match self {
            Initial => "INITIAL",
            Requesting => "REQUESTING",
            Requested => "REQUESTED",
            Starting => "STARTING",
            Started => "STARTED",
            Suspending => "SUSPENDING",
            Suspended => "SUSPENDED",
            Resuming => "RESUMING",
            Resumed => "RESUMED",
            Completing => "COMPLETING",
            Completed => "COMPLETED",
            Terminating => "TERMINATING",
            Terminated => "TERMINATED",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.name() == name)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, TransferState::Completed | TransferState::Terminated)
    }

    /// The state as the Dataspace Protocol names it, mapped as EDC maps its internal states.
    pub fn protocol_state(self) -> &'static str {
        use TransferState::*;
        match self {
            Initial | Requesting | Requested => "REQUESTED",
            Starting | Started => "STARTED",
            Suspending | Suspended | Resuming | Resumed => "SUSPENDED",
            Completing | Completed => "COMPLETED",
            Terminating | Terminated => "TERMINATED",
        }
    }

    /// Whether `role` may move from `self` to `next`. Staying (a retry) is allowed for non-terminal states; any
    /// non-terminal state may move to TERMINATING or TERMINATED.
    pub fn can_become(self, next: TransferState, role: TransferRole) -> bool {
        use TransferState::*;
        if self.is_terminal() {
            return false;
        }
        if next == self || matches!(next, Terminating | Terminated) {
            return true;
        }
        let common = matches!(
            (self, next),
            (Started, Suspending | Suspended | Completing | Completed)
                | (Suspending, Suspended)
                | (Completing, Completed)
                | (Suspended, Resuming)
        );
        common
            || match role {
                NegotiationRole::Consumer => matches!(
                    (self, next),
                    (Initial, Requesting)
                        | (Requesting, Requested | Started)
                        | (Requested, Started)
                        | (Resuming, Resumed | Started)
                        | (Resumed, Started)
                        | (Suspended, Started)
                ),
                NegotiationRole::Provider => matches!(
                    (self, next),
                    (Initial, Requested)
                        | (Requested, Starting | Started)
                        | (Starting, Started)
                        | (Resuming, Started)
                        | (Suspended, Starting)
                ),
            }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {role} transfer cannot go from {from} to {to}", role = .role.name(), from = .from.name(), to = .to.name())]
pub struct InvalidTransferTransition {
    pub role: TransferRole,
    pub from: TransferState,
    pub to: TransferState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferProcess {
    pub id: String,
    /// The counter-party's id for the same process, once known.
    pub correlation_id: Option<String>,
    pub counter_party_id: String,
    /// The provider's protocol address (consumer side) or the consumer's callback address (provider side).
    pub counter_party_address: String,
    pub protocol: String,
    pub role: TransferRole,
    pub state: TransferState,
    pub state_count: u32,
    /// Waiting for its operator (a provider start on command): the state machine leaves it alone until a
    /// Management API command decides (EDC's `pending`).
    #[serde(default)]
    pub pending: bool,
    pub state_timestamp: i64,
    pub error_detail: Option<String>,
    pub agreement_id: String,
    pub asset_id: String,
    /// EDC transfer type, `<destination type>-<PUSH|PULL>` (`HttpData-PULL`).
    pub transfer_type: String,
    /// The destination of a push transfer (consumer's request); `None` for pull.
    pub data_destination: Option<DataAddress>,
    /// Vault key of the data address this transfer carries: on the consumer the EDR received from the provider,
    /// on the provider the address the data plane issued, kept until the start message is delivered. The address
    /// holds credentials, so it never lands in the database.
    pub data_address_key: Option<String>,
    /// Who suspended the transfer: only that party may resume it.
    pub suspended_by: Option<TransferRole>,
    /// The counter-party sent the message that led to the current `-ING` state, so only the data plane is told.
    pub counter_party_informed: bool,
    /// Provider: the data plane holds a flow for this transfer (so a restart is a resume, not a new start).
    pub data_flow_started: bool,
    pub callback_addresses: Vec<CallbackAddress>,
    /// The W3C trace context of the request that began the process: its later steps continue that trace (EDC's
    /// `traceContext`). `None` when tracing is off.
    #[serde(default)]
    pub trace_context: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TransferProcess {
    /// Moves to `next` at `now` (epoch ms), counting re-entries of the same state.
    pub fn transition(&mut self, next: TransferState, now: i64) -> Result<(), InvalidTransferTransition> {
        if !self.state.can_become(next, self.role) {
            return Err(InvalidTransferTransition { role: self.role, from: self.state, to: next });
        }
        self.state_count = if next == self.state { self.state_count + 1 } else { 1 };
        // A hold for the operator is a hold in one state: whatever moves the process on ends it.
        if next != self.state {
            self.pending = false;
        }
        self.state = next;
        self.state_timestamp = now;
        self.updated_at = now;
        Ok(())
    }

    /// (consumerPid, providerPid) as the protocol names them.
    pub fn pids(&self) -> (String, String) {
        let other = self.correlation_id.clone().unwrap_or_default();
        match self.role {
            NegotiationRole::Consumer => (self.id.clone(), other),
            NegotiationRole::Provider => (other, self.id.clone()),
        }
    }
}

/// Event names (`transfer.process.<milestone>`) a save from `before` to `after` produces.
pub fn transfer_events(before: Option<TransferState>, after: TransferState, role: TransferRole) -> Vec<String> {
    use TransferState::*;
    let name = |m: &str| format!("transfer.process.{m}");
    if before == Some(after) {
        return Vec::new();
    }
    let mut events = Vec::new();
    if before.is_none() && role == NegotiationRole::Consumer {
        events.push(name("initiated"));
    }
    let milestone = match after {
        Requested => Some("requested"),
        Started => Some("started"),
        Suspended => Some("suspended"),
        Completed => Some("completed"),
        Terminated => Some("terminated"),
        _ => None,
    };
    if let Some(milestone) = milestone {
        events.push(name(milestone));
    }
    events
}

/// The JSON body of a transfer event as EDC delivers it. `data_address` is the EDR for `started` events, in
/// EDC's Jackson form (`{type, properties}`); the caller resolves it from the vault.
pub fn transfer_event_envelope(
    transfer: &TransferProcess,
    event: &str,
    id: &str,
    at: i64,
    data_address: Option<&DataAddress>,
) -> serde_json::Value {
    use serde_json::json;
    let mut payload = json!({
        "transferProcessId": transfer.id,
        "callbackAddresses": transfer.callback_addresses.iter().map(|c| json!({
            "uri": c.uri, "events": c.events, "transactional": c.transactional, "authKey": c.auth_key, "authCodeId": c.auth_code_id,
        })).collect::<Vec<_>>(),
        "assetId": transfer.asset_id,
        "type": transfer.role.name(),
        "contractId": transfer.agreement_id,
        "transferType": transfer.transfer_type,
    });
    if let Some(object) = payload.as_object_mut() {
        if event.ends_with(".started")
            && let Some(address) = data_address
        {
            object.insert(
                "dataAddress".into(),
                json!({ "type": address.address_type(), "properties": address.properties }),
            );
        }
        if event.ends_with(".terminated") || event.ends_with(".suspended") {
            object.insert("reason".into(), json!(transfer.error_detail));
        }
    }
    json!({ "id": id, "at": at, "type": event_type(event), "payload": payload })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransferState::*;

    fn transfer(role: TransferRole, state: TransferState) -> TransferProcess {
        TransferProcess {
            id: "t".into(),
            correlation_id: Some("other".into()),
            counter_party_id: "did:web:p".into(),
            counter_party_address: "http://p/api/v1/dsp/2025-1".into(),
            protocol: "dataspace-protocol-http:2025-1".into(),
            role,
            state,
            state_count: 1,
            pending: false,
            state_timestamp: 0,
            error_detail: None,
            agreement_id: "a".into(),
            asset_id: "asset".into(),
            transfer_type: "HttpData-PULL".into(),
            data_destination: None,
            data_address_key: None,
            suspended_by: None,
            counter_party_informed: false,
            data_flow_started: false,
            callback_addresses: vec![],
            trace_context: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn codes_names_and_protocol_states_are_edcs() {
        assert_eq!(Started.code(), 600);
        assert_eq!(TransferState::from_code(850), Some(Terminated));
        for state in TransferState::ALL {
            assert_eq!(TransferState::from_code(state.code()), Some(state));
            assert_eq!(TransferState::parse(state.name()), Some(state));
        }
        assert_eq!(Resuming.protocol_state(), "SUSPENDED");
        assert_eq!(Starting.protocol_state(), "STARTED");
        assert_eq!(Requesting.protocol_state(), "REQUESTED");
    }

    #[test]
    fn happy_paths_and_refusals() {
        for pair in
            [Initial, Requesting, Requested, Started, Suspending, Suspended, Resuming, Resumed, Started].windows(2)
        {
            assert!(pair[0].can_become(pair[1], NegotiationRole::Consumer), "consumer {pair:?}");
        }
        for pair in [Requested, Starting, Started, Suspended, Starting, Started, Completing, Completed].windows(2) {
            assert!(pair[0].can_become(pair[1], NegotiationRole::Provider), "provider {pair:?}");
        }
        assert!(!Requested.can_become(Suspended, NegotiationRole::Provider), "nothing to suspend before the start");
        assert!(!Completed.can_become(Terminated, NegotiationRole::Consumer), "terminal states stay");
        let mut provider = transfer(NegotiationRole::Provider, Requested);
        let refused = provider.transition(Completed, 5).err().map(|e| e.to_string());
        assert_eq!(refused.as_deref(), Some("a PROVIDER transfer cannot go from REQUESTED to COMPLETED"));
        assert!(provider.clone().transition(Started, 6).is_ok(), "a provider starts in one step");
        assert!(provider.transition(Starting, 6).is_ok());
        assert_eq!(provider.pids(), ("other".to_string(), "t".to_string()));
    }

    #[test]
    fn events_follow_milestones() {
        assert_eq!(transfer_events(None, Requesting, NegotiationRole::Consumer), vec!["transfer.process.initiated"]);
        assert_eq!(
            transfer_events(Some(Requested), Started, NegotiationRole::Consumer),
            vec!["transfer.process.started"]
        );
        assert!(transfer_events(Some(Started), Started, NegotiationRole::Consumer).is_empty());
        assert!(transfer_events(Some(Started), Suspending, NegotiationRole::Provider).is_empty());
        let envelope = transfer_event_envelope(
            &transfer(NegotiationRole::Consumer, Terminated),
            "transfer.process.terminated",
            "e",
            7,
            None,
        );
        assert_eq!(envelope["type"], "TransferProcessTerminated");
        assert_eq!(envelope["payload"]["transferProcessId"], "t");
    }
}

/// The data plane's view of a transfer (Data Plane Signaling's data flow), keyed by the control plane's process id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFlow {
    pub id: String,
    pub state: DataFlowState,
    /// The transfer profile (EDC transfer type such as `HttpData-PULL`).
    pub profile: String,
    /// The participant the data plane serves (the provider).
    pub participant_id: String,
    /// The consumer: the only party its tokens are issued to.
    pub counter_party_id: String,
    pub agreement_id: String,
    pub dataset_id: String,
    /// Where the data comes from (the asset's data address; secrets stay vault references).
    pub source: DataAddress,
    pub access_token_id: Option<String>,
    pub refresh_token_hash: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Data Plane Signaling 1.0 flow states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataFlowState {
    Initialized,
    Preparing,
    Prepared,
    Starting,
    Started,
    Completed,
    Suspended,
    Terminated,
}

impl DataFlowState {
    pub const ALL: [DataFlowState; 8] = [
        DataFlowState::Initialized,
        DataFlowState::Preparing,
        DataFlowState::Prepared,
        DataFlowState::Starting,
        DataFlowState::Started,
        DataFlowState::Completed,
        DataFlowState::Suspended,
        DataFlowState::Terminated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DataFlowState::Initialized => "INITIALIZED",
            DataFlowState::Preparing => "PREPARING",
            DataFlowState::Prepared => "PREPARED",
            DataFlowState::Starting => "STARTING",
            DataFlowState::Started => "STARTED",
            DataFlowState::Completed => "COMPLETED",
            DataFlowState::Suspended => "SUSPENDED",
            DataFlowState::Terminated => "TERMINATED",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.name() == name)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, DataFlowState::Completed | DataFlowState::Terminated)
    }
}
