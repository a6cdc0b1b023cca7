// SPDX-License-Identifier: Apache-2.0
//! Changing an existing negotiation or transfer from outside its state machine (a Management API call, a
//! counter-party's message, a data plane callback): lease it, check who may change it, apply the change, save,
//! wake the state machine. On any refusal the lease is given back with the process unchanged, so a refused
//! message never leaves a half-applied change behind and never blocks the state machine until the lease expires.

use async_trait::async_trait;
use dsc_domain::{ContractNegotiation, NegotiationRole, TransferProcess};
use dsc_store::{NegotiationStore, StoreError, TransferStore};
use tokio::sync::Notify;

use crate::state_machine::StateEntity;
use crate::{ProtocolError, ServiceError};

/// Lease length for handlers and API calls: they finish within one request.
pub(crate) const HANDLER_LEASE_MS: i64 = 10_000;

/// What the helper needs to know of a process beyond what the state machine knows of it (its id).
pub(crate) trait Process: StateEntity + Send + Sync {
    /// The entity kind in Management API errors.
    const KIND: &'static str;
    /// How protocol messages call it.
    const NOUN: &'static str;
    fn role(&self) -> NegotiationRole;
    fn counter_party_id(&self) -> &str;
    fn correlation_id(&self) -> Option<&str>;
}

/// Negotiations and transfers carry the same party fields.
macro_rules! process {
    ($entity:ty, $kind:literal, $noun:literal) => {
        impl Process for $entity {
            const KIND: &'static str = $kind;
            const NOUN: &'static str = $noun;
            fn role(&self) -> NegotiationRole {
                self.role
            }
            fn counter_party_id(&self) -> &str {
                &self.counter_party_id
            }
            fn correlation_id(&self) -> Option<&str> {
                self.correlation_id.as_deref()
            }
        }
    };
}

process!(ContractNegotiation, "ContractNegotiation", "negotiation");
process!(TransferProcess, "TransferProcess", "transfer");

/// The three store calls the helper makes, over the store traits' own names.
#[async_trait]
pub(crate) trait LeaseStore<E>: Send + Sync {
    async fn lease(&self, id: &str, holder: &str, lease_ms: i64) -> Result<Option<E>, StoreError>;
    async fn save(&self, process: &E, holder: &str) -> Result<(), StoreError>;
    async fn find(&self, id: &str) -> Result<Option<E>, StoreError>;
}

#[async_trait]
impl LeaseStore<ContractNegotiation> for dyn NegotiationStore {
    async fn lease(&self, id: &str, holder: &str, lease_ms: i64) -> Result<Option<ContractNegotiation>, StoreError> {
        self.lease_negotiation(id, holder, lease_ms).await
    }
    async fn save(&self, process: &ContractNegotiation, holder: &str) -> Result<(), StoreError> {
        self.save_negotiation(process, holder).await
    }
    async fn find(&self, id: &str) -> Result<Option<ContractNegotiation>, StoreError> {
        self.find_negotiation(id).await
    }
}

#[async_trait]
impl LeaseStore<TransferProcess> for dyn TransferStore {
    async fn lease(&self, id: &str, holder: &str, lease_ms: i64) -> Result<Option<TransferProcess>, StoreError> {
        self.lease_transfer(id, holder, lease_ms).await
    }
    async fn save(&self, process: &TransferProcess, holder: &str) -> Result<(), StoreError> {
        self.save_transfer(process, holder).await
    }
    async fn find(&self, id: &str) -> Result<Option<TransferProcess>, StoreError> {
        self.find_transfer(id).await
    }
}

/// How a caller's errors say "not found" and "the process ids do not match".
pub(crate) trait Refusal: From<StoreError> {
    fn not_found(kind: &'static str, id: &str) -> Self;
    fn mismatch(reason: String) -> Self;
}

impl Refusal for ProtocolError {
    fn not_found(_kind: &'static str, id: &str) -> Self {
        ProtocolError::NotFound(id.to_string())
    }
    fn mismatch(reason: String) -> Self {
        ProtocolError::InvalidState(reason)
    }
}

impl Refusal for ServiceError {
    fn not_found(kind: &'static str, id: &str) -> Self {
        ServiceError::NotFound { kind, id: id.to_string() }
    }
    // Local callers name no counter-party process id, so a mismatch here would be a wiring bug.
    fn mismatch(reason: String) -> Self {
        ServiceError::Internal(reason)
    }
}

/// Who may change the process. A counter-party sees only its own processes of the role its message addresses
/// (anything else is "not found", so ids of others' processes reveal nothing), and must name the process id we
/// know for it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Expected<'a> {
    role: Option<NegotiationRole>,
    peer: Option<&'a str>,
    correlation: Option<&'a str>,
}

impl<'a> Expected<'a> {
    /// A local caller (the Management API) may change any process.
    pub fn anyone() -> Self {
        Expected::default()
    }

    /// A local caller that concerns one role only (the data plane signals about provider transfers).
    pub fn role(role: NegotiationRole) -> Self {
        Expected { role: Some(role), ..Expected::default() }
    }

    /// A message from `peer` to our process of `role`, naming `correlation` as the counter-party's process id.
    pub fn message(peer: &'a str, role: NegotiationRole, correlation: &'a str) -> Self {
        Expected { role: Some(role), peer: Some(peer), correlation: Some(correlation) }
    }

    fn admits<E: Process>(&self, process: &E) -> bool {
        self.role.is_none_or(|role| process.role() == role)
            && self.peer.is_none_or(|peer| process.counter_party_id() == peer)
    }

    /// A process whose counter-party id is still unknown (a consumer before the provider's first answer) takes
    /// any; the change records it.
    fn correlates<E: Process>(&self, process: &E) -> bool {
        match (self.correlation, process.correlation_id()) {
            (Some(named), Some(known)) => named == known,
            _ => true,
        }
    }
}

/// A process leased by `holder`, checked against [`Expected`]; it must be saved or released.
pub(crate) struct Leased<'s, E, S: ?Sized> {
    store: &'s S,
    holder: String,
    pub process: E,
}

impl<'s, E: Process, S: LeaseStore<E> + ?Sized> Leased<'s, E, S> {
    /// Takes the lease, waiting briefly while the state machine holds it (it does so for one message send), so a
    /// peer's message rarely has to be answered with 503 and retried.
    pub async fn take<Err: Refusal>(
        store: &'s S,
        id: &str,
        holder: String,
        expected: Expected<'_>,
    ) -> Result<Self, Err> {
        let mut attempt = 0;
        let leased = loop {
            match store.lease(id, &holder, HANDLER_LEASE_MS).await {
                Err(StoreError::LeaseHeld { .. }) if attempt < 20 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
                }
                other => break other?,
            }
        };
        let Some(process) = leased else { return Err(Err::not_found(E::KIND, id)) };
        let leased = Leased { store, holder, process };
        if !expected.admits(&leased.process) {
            let error = Err::not_found(E::KIND, id);
            return Err(leased.release(error).await);
        }
        if !expected.correlates(&leased.process) {
            let error = Err::mismatch(format!("the process ids do not match {} '{id}'", E::NOUN));
            return Err(leased.release(error).await);
        }
        Ok(leased)
    }

    /// Saves the change, which gives the lease back, and wakes the state machine to act on it.
    pub async fn save<Err: Refusal>(self, wake: &Notify) -> Result<E, Err> {
        self.store.save(&self.process, &self.holder).await?;
        wake.notify_one();
        Ok(self.process)
    }

    /// Gives the lease back with the process as stored, and passes `error` on. Should even that fail, the
    /// lease simply expires.
    pub async fn release<Err>(self, error: Err) -> Err {
        if let Ok(Some(unchanged)) = self.store.find(self.process.id()).await {
            let _ = self.store.save(&unchanged, &self.holder).await;
        }
        error
    }
}

/// The whole round for a change that needs nothing but the process: lease and check, `change`, save and wake;
/// the lease is given back unchanged when `change` refuses.
pub(crate) async fn update<E, S, T, Err>(
    store: &S,
    wake: &Notify,
    id: &str,
    holder: String,
    expected: Expected<'_>,
    change: impl FnOnce(&mut E) -> Result<T, Err>,
) -> Result<(E, T), Err>
where
    E: Process,
    S: LeaseStore<E> + ?Sized,
    Err: Refusal,
{
    let mut leased = Leased::take::<Err>(store, id, holder, expected).await?;
    match change(&mut leased.process) {
        Ok(value) => Ok((leased.save::<Err>(wake).await?, value)),
        Err(error) => Err(leased.release(error).await),
    }
}
