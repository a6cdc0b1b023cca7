// SPDX-License-Identifier: Apache-2.0
//! Contract negotiations and agreements, with EDC's states, codes and allowed transitions.

use serde::{Deserialize, Serialize};

use crate::catalog::Offer;
use crate::odrl::Policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NegotiationRole {
    Consumer,
    Provider,
}

impl NegotiationRole {
    pub fn name(self) -> &'static str {
        match self {
            NegotiationRole::Consumer => "CONSUMER",
            NegotiationRole::Provider => "PROVIDER",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "CONSUMER" => Some(NegotiationRole::Consumer),
            "PROVIDER" => Some(NegotiationRole::Provider),
            _ => None,
        }
    }
}

/// EDC's negotiation states; `-ING` states mean "a message is about to be sent".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NegotiationState {
    Initial,
    Requesting,
    Requested,
    Offering,
    Offered,
    Accepting,
    Accepted,
    Agreeing,
    Agreed,
    Verifying,
    Verified,
    Finalizing,
    Finalized,
    Terminating,
    Terminated,
}

impl NegotiationState {
    pub const ALL: [NegotiationState; 15] = [
        NegotiationState::Initial,
        NegotiationState::Requesting,
        NegotiationState::Requested,
        NegotiationState::Offering,
        NegotiationState::Offered,
        NegotiationState::Accepting,
        NegotiationState::Accepted,
        NegotiationState::Agreeing,
        NegotiationState::Agreed,
        NegotiationState::Verifying,
        NegotiationState::Verified,
        NegotiationState::Finalizing,
        NegotiationState::Finalized,
        NegotiationState::Terminating,
        NegotiationState::Terminated,
    ];

    /// EDC's numeric code (stored in the database, shown nowhere else).
    pub fn code(self) -> i32 {
        use NegotiationState::*;
        match self {
            Initial => 50,
            Requesting => 100,
            Requested => 200,
            Offering => 300,
            Offered => 400,
            Accepting => 700,
            Accepted => 800,
            Agreeing => 825,
            Agreed => 850,
            Verifying => 1050,
            Verified => 1100,
            Finalizing => 1150,
            Finalized => 1200,
            Terminating => 1300,
            Terminated => 1400,
        }
    }

    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.code() == code)
    }

    /// The name the Management API shows (`FINALIZED`, ...).
    pub fn name(self) -> &'static str {
        use NegotiationState::*;
        match self {
            Initial => "INITIAL",
            Requesting => "REQUESTING",
            Requested => "REQUESTED",
            Offering => "OFFERING",
            Offered => "OFFERED",
            Accepting => "ACCEPTING",
            Accepted => "ACCEPTED",
            Agreeing => "AGREEING",
            Agreed => "AGREED",
            Verifying => "VERIFYING",
            Verified => "VERIFIED",
            Finalizing => "FINALIZING",
            Finalized => "FINALIZED",
            Terminating => "TERMINATING",
            Terminated => "TERMINATED",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, NegotiationState::Finalized | NegotiationState::Terminated)
    }

    /// The state as the Dataspace Protocol names it: internal "about to send" states show the state they lead
    /// from, as EDC maps them.
    pub fn protocol_state(self) -> &'static str {
        use NegotiationState::*;
        match self {
            Initial | Requesting | Requested | Offering | Agreeing => "REQUESTED",
            Offered | Accepting => "OFFERED",
            Accepted => "ACCEPTED",
            Agreed | Verifying => "AGREED",
            Verified | Finalizing => "VERIFIED",
            Finalized => "FINALIZED",
            Terminating | Terminated => "TERMINATED",
        }
    }

    /// Whether `role` may move from `self` to `next`. Staying in a state (a retry) is always allowed for
    /// non-terminal states; any non-terminal state may move to TERMINATING or TERMINATED.
    pub fn can_become(self, next: NegotiationState, role: NegotiationRole) -> bool {
        use NegotiationState::*;
        if self.is_terminal() {
            return false;
        }
        if next == self || matches!(next, Terminating | Terminated) {
            return true;
        }
        match role {
            NegotiationRole::Consumer => matches!(
                (self, next),
                (Initial, Requesting | Offered)
                    | (Requesting, Requested)
                    | (Requested, Offered | Agreed)
                    | (Offered, Accepting | Requesting)
                    | (Accepting, Accepted)
                    | (Accepted, Agreed)
                    | (Agreed, Verifying)
                    | (Verifying, Verified)
                    | (Verified, Finalized)
            ),
            NegotiationRole::Provider => matches!(
                (self, next),
                (Initial, Requested | Offering)
                    | (Requested, Agreeing | Offering)
                    | (Offering, Offered)
                    | (Offered, Requested | Accepted)
                    | (Accepted, Agreeing)
                    | (Agreeing, Agreed)
                    | (Agreed, Verified)
                    | (Verified, Finalizing)
                    | (Finalizing, Finalized)
            ),
        }
    }
}

/// The signed result of a negotiation. Immutable once created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractAgreement {
    pub id: String,
    pub provider_id: String,
    pub consumer_id: String,
    /// Epoch seconds, as EDC stores it.
    pub contract_signing_date: i64,
    pub asset_id: String,
    /// The offer's policy as an ODRL `Agreement` (EDC consumers compare it with what they offered).
    pub policy: Policy,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {role} negotiation cannot go from {from} to {to}", role = .role.name(), from = .from.name(), to = .to.name())]
pub struct InvalidTransition {
    pub role: NegotiationRole,
    pub from: NegotiationState,
    pub to: NegotiationState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractNegotiation {
    pub id: String,
    /// The counter-party's id for the same process (`providerPid` on the consumer side, `consumerPid` on the
    /// provider side) once known.
    pub correlation_id: Option<String>,
    pub counter_party_id: String,
    pub counter_party_address: String,
    pub protocol: String,
    pub role: NegotiationRole,
    pub state: NegotiationState,
    /// How many times the current state was entered in a row (retries).
    pub state_count: u32,
    /// Waiting for its operator (manual approval): the state machine leaves it alone until a Management API
    /// command decides (EDC's `pending`).
    #[serde(default)]
    pub pending: bool,
    /// Epoch milliseconds of the last state change; work is processed oldest first.
    pub state_timestamp: i64,
    pub error_detail: Option<String>,
    /// Offers exchanged so far; the last one is current.
    pub offers: Vec<Offer>,
    pub agreement: Option<ContractAgreement>,
    pub callback_addresses: Vec<CallbackAddress>,
    /// The W3C trace context of the request that began the process: its later steps continue that trace (EDC's
    /// `traceContext`). `None` when tracing is off.
    #[serde(default)]
    pub trace_context: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ContractNegotiation {
    /// A new process `id` of `role` in INITIAL at `now`, with `counter_party` (id, protocol address, protocol) and
    /// the first offer; the caller moves it to its first state.
    pub fn begin(
        id: String,
        role: NegotiationRole,
        counter_party: (String, String, String),
        correlation_id: Option<String>,
        offer: Offer,
        now: i64,
    ) -> Self {
        let (counter_party_id, counter_party_address, protocol) = counter_party;
        ContractNegotiation {
            id,
            correlation_id,
            counter_party_id,
            counter_party_address,
            protocol,
            role,
            state: NegotiationState::Initial,
            state_count: 1,
            pending: false,
            state_timestamp: now,
            error_detail: None,
            offers: vec![offer],
            agreement: None,
            callback_addresses: Vec::new(),
            trace_context: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Moves to `next` at `now` (epoch ms), counting re-entries of the same state.
    pub fn transition(&mut self, next: NegotiationState, now: i64) -> Result<(), InvalidTransition> {
        if !self.state.can_become(next, self.role) {
            return Err(InvalidTransition { role: self.role, from: self.state, to: next });
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

    pub fn last_offer(&self) -> Option<&Offer> {
        self.offers.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NegotiationState::*;

    #[test]
    fn codes_and_names_are_edcs() {
        assert_eq!(Agreeing.code(), 825);
        assert_eq!(NegotiationState::from_code(1200), Some(Finalized));
        assert_eq!(NegotiationState::from_code(1), None);
        for state in NegotiationState::ALL {
            assert_eq!(NegotiationState::from_code(state.code()), Some(state));
        }
        assert_eq!(Verifying.protocol_state(), "AGREED");
        assert_eq!(Agreeing.protocol_state(), "REQUESTED", "the agreement has not been sent yet");
        assert_eq!(Finalizing.protocol_state(), "VERIFIED");
    }

    #[test]
    fn the_happy_paths_are_allowed_and_shortcuts_are_not() {
        let consumer = [Initial, Requesting, Requested, Agreed, Verifying, Verified, Finalized];
        for pair in consumer.windows(2) {
            assert!(pair[0].can_become(pair[1], NegotiationRole::Consumer), "{pair:?}");
        }
        let provider = [Requested, Agreeing, Agreed, Verified, Finalizing, Finalized];
        for pair in provider.windows(2) {
            assert!(pair[0].can_become(pair[1], NegotiationRole::Provider), "{pair:?}");
        }
        assert!(!Requested.can_become(Verified, NegotiationRole::Provider), "verification before an agreement");
        assert!(!Requesting.can_become(Finalized, NegotiationRole::Consumer));
        assert!(!Finalized.can_become(Terminated, NegotiationRole::Consumer), "terminal states stay");
        assert!(Agreed.can_become(Terminating, NegotiationRole::Provider));
    }

    #[test]
    fn transitions_count_retries_and_refuse_invalid_moves() {
        let mut negotiation = ContractNegotiation {
            id: "n".into(),
            correlation_id: None,
            counter_party_id: "did:web:p".into(),
            counter_party_address: "http://p/api/v1/dsp/2025-1".into(),
            protocol: "dataspace-protocol-http:2025-1".into(),
            role: NegotiationRole::Consumer,
            state: Initial,
            state_count: 1,
            pending: false,
            state_timestamp: 0,
            error_detail: None,
            offers: vec![],
            agreement: None,
            callback_addresses: vec![],
            trace_context: None,
            created_at: 0,
            updated_at: 0,
        };
        assert!(negotiation.transition(Requesting, 10).is_ok());
        assert!(negotiation.transition(Requesting, 20).is_ok());
        assert_eq!((negotiation.state, negotiation.state_count, negotiation.state_timestamp), (Requesting, 2, 20));
        let refused = negotiation.transition(Finalized, 30).err().map(|e| e.to_string());
        assert_eq!(refused.as_deref(), Some("a CONSUMER negotiation cannot go from REQUESTING to FINALIZED"));
        assert_eq!(negotiation.state, Requesting);
    }
}

/// Where to notify about a process's events (EDC's `callbackAddresses`). An event goes to a callback when its
/// name starts with one of `events` (`contract.negotiation` matches every negotiation event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackAddress {
    pub uri: String,
    pub events: Vec<String>,
    pub transactional: bool,
    /// Header name carrying the secret named by `auth_code_id` (a vault key).
    pub auth_key: Option<String>,
    pub auth_code_id: Option<String>,
}

impl CallbackAddress {
    pub fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|prefix| event.starts_with(prefix.as_str()))
    }
}

/// The negotiation milestones that produce events, in order.
fn milestone(state: NegotiationState) -> Option<(usize, &'static str)> {
    use NegotiationState::*;
    match state {
        Requested | Offering | Offered | Accepting | Accepted | Agreeing => Some((0, "requested")),
        Agreed | Verifying => Some((1, "agreed")),
        Verified | Finalizing => Some((2, "verified")),
        Finalized => Some((3, "finalized")),
        _ => None,
    }
}

/// Event names (`contract.negotiation.<milestone>`) a save from `before` to `after` produces, in order. Several
/// transitions can be saved at once; every milestone passed is reported.
pub fn negotiation_events(
    before: Option<NegotiationState>,
    after: NegotiationState,
    role: NegotiationRole,
) -> Vec<String> {
    let name = |m: &str| format!("contract.negotiation.{m}");
    if before == Some(after) {
        return Vec::new();
    }
    if after == NegotiationState::Terminated {
        return vec![name("terminated")];
    }
    let mut events = Vec::new();
    if before.is_none() && role == NegotiationRole::Consumer {
        events.push(name("initiated"));
    }
    let from = before.and_then(milestone).map(|(index, _)| index as isize).unwrap_or(-1);
    if let Some((to, _)) = milestone(after) {
        for index in (from + 1).max(0) as usize..=to {
            let label = ["requested", "agreed", "verified", "finalized"][index];
            events.push(name(label));
        }
    }
    events
}

/// EDC's event type name for an event (`contract.negotiation.finalized` → `ContractNegotiationFinalized`).
pub fn event_type(event: &str) -> String {
    event
        .split('.')
        .flat_map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        })
        .collect()
}

#[cfg(test)]
mod event_tests {
    use super::*;
    use NegotiationState::*;

    #[test]
    fn saves_report_every_milestone_they_pass() {
        assert_eq!(
            negotiation_events(None, Requesting, NegotiationRole::Consumer),
            vec!["contract.negotiation.initiated"]
        );
        assert_eq!(
            negotiation_events(None, Requested, NegotiationRole::Provider),
            vec!["contract.negotiation.requested"]
        );
        assert_eq!(
            negotiation_events(Some(Requesting), Verifying, NegotiationRole::Consumer),
            vec!["contract.negotiation.requested", "contract.negotiation.agreed"]
        );
        assert!(negotiation_events(Some(Agreeing), Agreeing, NegotiationRole::Provider).is_empty());
        assert!(negotiation_events(Some(Requested), Agreeing, NegotiationRole::Provider).is_empty());
        assert_eq!(
            negotiation_events(Some(Finalizing), Finalized, NegotiationRole::Provider),
            vec!["contract.negotiation.finalized"]
        );
        assert_eq!(
            negotiation_events(Some(Requested), Terminated, NegotiationRole::Consumer),
            vec!["contract.negotiation.terminated"]
        );
        assert_eq!(event_type("contract.negotiation.finalized"), "ContractNegotiationFinalized");
    }

    #[test]
    fn callbacks_match_by_prefix() {
        let callback = CallbackAddress {
            uri: "http://x".into(),
            events: vec!["contract.negotiation.final".into()],
            transactional: false,
            auth_key: None,
            auth_code_id: None,
        };
        assert!(callback.wants("contract.negotiation.finalized"));
        assert!(!callback.wants("contract.negotiation.agreed"));
    }
}

/// The JSON body of a negotiation event as EDC delivers it: `{id, at, type, payload}`.
pub fn negotiation_event_envelope(
    negotiation: &ContractNegotiation,
    event: &str,
    id: &str,
    at: i64,
) -> serde_json::Value {
    use serde_json::json;
    let offer = |offer: &Offer| json!({ "id": offer.id.to_string(), "assetId": offer.id.asset_id });
    let mut payload = json!({
        "contractNegotiationId": negotiation.id,
        "counterPartyAddress": negotiation.counter_party_address,
        "counterPartyId": negotiation.counter_party_id,
        "callbackAddresses": negotiation.callback_addresses.iter().map(|c| json!({
            "uri": c.uri, "events": c.events, "transactional": c.transactional, "authKey": c.auth_key, "authCodeId": c.auth_code_id,
        })).collect::<Vec<_>>(),
        "contractOffers": negotiation.offers.iter().map(offer).collect::<Vec<_>>(),
        "lastContractOffer": negotiation.last_offer().map(offer),
        "protocol": negotiation.protocol,
        "type": negotiation.role.name(),
    });
    if event.ends_with(".finalized")
        && let (Some(agreement), Some(object)) = (&negotiation.agreement, payload.as_object_mut())
    {
        object.insert(
            "contractAgreement".into(),
            json!({
                "id": agreement.id, "providerId": agreement.provider_id, "consumerId": agreement.consumer_id,
                "contractSigningDate": agreement.contract_signing_date, "assetId": agreement.asset_id,
                "policy": agreement.policy,
            }),
        );
    }
    if event.ends_with(".terminated")
        && let Some(object) = payload.as_object_mut()
    {
        object.insert("reason".into(), json!(negotiation.error_detail));
    }
    json!({ "id": id, "at": at, "type": event_type(event), "payload": payload })
}
