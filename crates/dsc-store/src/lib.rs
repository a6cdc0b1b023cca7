// SPDX-License-Identifier: Apache-2.0
//! Persistence behind store traits.
//!
//! One SQL implementation serves SQLite (embedded default) and PostgreSQL (production, replicas): queries are
//! built at run time for the connected backend, and each backend has its own versioned migrations, applied at
//! start. QuerySpecs are translated to SQL, so filtering, sorting and paging happen in the database.
//!
//! The contract test suite (feature `contract-tests`) runs unchanged against every backend.

mod error;
pub mod sql;

#[cfg(feature = "contract-tests")]
pub mod contract_tests;

use async_trait::async_trait;
use dsc_domain::{
    Asset, ContractAgreement, ContractDefinition, ContractNegotiation, DataFlow, NegotiationRole, NegotiationState,
    PolicyDefinition, QuerySpec, TransferProcess, TransferRole, TransferState,
};

pub use error::StoreError;
pub use sql::{
    Arg, DataPlaneRecord, Dialect, PluginMigration, PluginMigrations, PluginSql, PoolUse, SingletonLease, SqlBuilder,
    SqlStore, StateCount, StoreSettings, column,
};
/// A fetched row, for plug-ins reading their own tables ([`column`]).
pub use sqlx::any::AnyRow;

/// Create/read/update/delete/query of one entity type.
#[async_trait]
pub trait Repository<E>: Send + Sync {
    /// Fails with [`StoreError::AlreadyExists`] when the id is taken.
    async fn create(&self, entity: &E) -> Result<(), StoreError>;
    /// Replaces the entity with the same id, keeping its creation time; [`StoreError::NotFound`] if absent.
    async fn update(&self, entity: &E) -> Result<(), StoreError>;
    async fn find(&self, id: &str) -> Result<Option<E>, StoreError>;
    /// Removes and returns the entity; [`StoreError::NotFound`] if absent.
    async fn delete(&self, id: &str) -> Result<E, StoreError>;
    /// Fails with [`StoreError::InvalidQuery`] when a criterion names a property the entity cannot be queried by.
    async fn query(&self, spec: &QuerySpec) -> Result<Vec<E>, StoreError>;
    /// For every entity (among `among`, when given) that at least one of `filters` selects: its id and the
    /// positions of the filters that select it, ordered by id, the page `(offset, limit)` of them when given. One
    /// pass over the table however many filters there are (a catalog's contract definitions).
    async fn matching(
        &self,
        filters: &[Vec<dsc_domain::Criterion>],
        among: Option<&[&str]>,
        page: Option<(u32, u32)>,
    ) -> Result<Vec<(String, Vec<usize>)>, StoreError>;
}

pub trait AssetStore: Repository<Asset> {}
impl<T: Repository<Asset>> AssetStore for T {}

pub trait PolicyDefinitionStore: Repository<PolicyDefinition> {}
impl<T: Repository<PolicyDefinition>> PolicyDefinitionStore for T {}

#[async_trait]
pub trait ContractDefinitionStore: Repository<ContractDefinition> {
    /// Ids of the contract definitions that use the policy as access or contract policy.
    async fn referencing_policy(&self, policy_id: &str) -> Result<Vec<String>, StoreError>;
    /// Ids of the contract definitions whose selector names the asset by id.
    async fn naming_asset(&self, asset_id: &str) -> Result<Vec<String>, StoreError>;
}

/// Liveness of the backing database, for readiness checks.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    async fn ping(&self) -> Result<(), StoreError>;
}

/// An entity processed by a state machine under leases: contract negotiations and transfer processes.
pub trait LeasedEntity: Send + Sync + 'static {
    type State: Copy + Send + Sync + 'static;
}

impl LeasedEntity for ContractNegotiation {
    type State = NegotiationState;
}

impl LeasedEntity for TransferProcess {
    type State = TransferState;
}

/// The leased state-entity operations, written once for every [`LeasedEntity`].
///
/// A lease is a pessimistic lock with a holder id and an expiry; an expired lease counts as free, so a crashed
/// holder's work is picked up again. Saving releases the holder's lease. `now` (epoch ms) is the caller's: a state
/// machine with its own clock decides what is due and which leases have expired.
#[async_trait]
pub trait LeasedStore<E: LeasedEntity>: Send + Sync {
    /// Writes the entity and the events of its initial state in one transaction; [`StoreError::AlreadyExists`]
    /// when its id, or its (role, counter-party, correlation id), is taken.
    async fn create_leased(&self, entity: &E) -> Result<(), StoreError>;
    /// Saves the entity, the events of its state change and anything else the change brings (an agreement) in one
    /// transaction and releases `holder`'s lease. [`StoreError::LeaseHeld`] while another holder's lease is
    /// valid, [`StoreError::NotFound`] when the entity does not exist.
    async fn save_leased(&self, entity: &E, holder: &str, now: i64) -> Result<(), StoreError>;
    /// Takes (or extends) the lease on one entity for `lease_ms`; `None` when it does not exist,
    /// [`StoreError::LeaseHeld`] when another holder's lease is valid.
    async fn lease_one(&self, id: &str, holder: &str, lease_ms: i64, now: i64) -> Result<Option<E>, StoreError>;
    /// Leases up to `limit` entities of `role` in `states` that nobody holds and whose state timestamp has passed
    /// (a retry is scheduled by moving it into the future), oldest first.
    async fn claim_due(
        &self,
        role: NegotiationRole,
        states: &[E::State],
        limit: u32,
        holder: &str,
        lease_ms: i64,
        now: i64,
    ) -> Result<Vec<E>, StoreError>;
    /// The entity our counter-party knows under `correlation_id` (its own process id).
    async fn find_by_correlation(
        &self,
        role: NegotiationRole,
        counter_party_id: &str,
        correlation_id: &str,
    ) -> Result<Option<E>, StoreError>;
}

/// Contract negotiations with leases: one replica processes an entity at a time (see [`LeasedStore`], whose
/// operations these are, on the system clock).
#[async_trait]
pub trait NegotiationStore: LeasedStore<ContractNegotiation> {
    async fn create_negotiation(&self, negotiation: &ContractNegotiation) -> Result<(), StoreError>;
    /// Saves the negotiation (and, in the same transaction, its agreement once it has one) and releases
    /// `holder`'s lease. Fails with [`StoreError::LeaseHeld`] when another holder's lease is still valid.
    async fn save_negotiation(&self, negotiation: &ContractNegotiation, holder: &str) -> Result<(), StoreError>;
    async fn find_negotiation(&self, id: &str) -> Result<Option<ContractNegotiation>, StoreError>;
    /// The negotiation our counter-party knows under `correlation_id` (its own process id).
    async fn find_negotiation_by_correlation(
        &self,
        role: NegotiationRole,
        counter_party_id: &str,
        correlation_id: &str,
    ) -> Result<Option<ContractNegotiation>, StoreError>;
    /// Takes the lease on one negotiation for `lease_ms`; `None` when it does not exist.
    async fn lease_negotiation(
        &self,
        id: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Option<ContractNegotiation>, StoreError>;
    /// Claims up to `limit` unleased negotiations of `role` in `states` whose `state_timestamp` has passed (a
    /// retry is scheduled by moving it into the future), oldest first.
    async fn claim_negotiations(
        &self,
        role: NegotiationRole,
        states: &[NegotiationState],
        limit: u32,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Vec<ContractNegotiation>, StoreError>;
    async fn query_negotiations(&self, spec: &QuerySpec) -> Result<Vec<ContractNegotiation>, StoreError>;
    async fn find_agreement(&self, id: &str) -> Result<Option<ContractAgreement>, StoreError>;
    async fn query_agreements(&self, spec: &QuerySpec) -> Result<Vec<ContractAgreement>, StoreError>;
}

/// Transfer processes with leases, on the same terms as [`NegotiationStore`].
#[async_trait]
pub trait TransferStore: LeasedStore<TransferProcess> {
    /// Fails with [`StoreError::AlreadyExists`] for a second process with the same (role, counter-party,
    /// correlation id).
    async fn create_transfer(&self, transfer: &TransferProcess) -> Result<(), StoreError>;
    /// Saves and releases `holder`'s lease; [`StoreError::LeaseHeld`] when another holder's lease is valid.
    async fn save_transfer(&self, transfer: &TransferProcess, holder: &str) -> Result<(), StoreError>;
    async fn find_transfer(&self, id: &str) -> Result<Option<TransferProcess>, StoreError>;
    async fn find_transfer_by_correlation(
        &self,
        role: TransferRole,
        counter_party_id: &str,
        correlation_id: &str,
    ) -> Result<Option<TransferProcess>, StoreError>;
    async fn lease_transfer(
        &self,
        id: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Option<TransferProcess>, StoreError>;
    async fn claim_transfers(
        &self,
        role: TransferRole,
        states: &[TransferState],
        limit: u32,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Vec<TransferProcess>, StoreError>;
    async fn query_transfers(&self, spec: &QuerySpec) -> Result<Vec<TransferProcess>, StoreError>;
}

/// The data plane's flows. A flow is changed by one signaling call at a time; writes are plain replacements.
#[async_trait]
pub trait DataFlowStore: Send + Sync {
    /// Fails with [`StoreError::AlreadyExists`] when a flow with the id exists.
    async fn create_flow(&self, flow: &DataFlow) -> Result<(), StoreError>;
    /// [`StoreError::NotFound`] when absent.
    async fn save_flow(&self, flow: &DataFlow) -> Result<(), StoreError>;
    async fn find_flow(&self, id: &str) -> Result<Option<DataFlow>, StoreError>;
    /// Saves a refreshed flow only while it is still STARTED with the refresh token hash `expected_refresh_hash`
    /// (compare-and-set): false when a concurrent refresh, suspend or terminate changed it since it was read, so
    /// neither a second renewal with the same refresh token nor a revoked flow's renewal can be written.
    async fn save_refreshed_flow(&self, flow: &DataFlow, expected_refresh_hash: &str) -> Result<bool, StoreError>;
}

/// A client registered at the built-in OAuth server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClientRecord {
    pub client_id: String,
    pub client_name: String,
    pub secret_hash: String,
    pub registration_token_hash: String,
    pub created_at: i64,
}

/// A refresh token of the built-in OAuth server, by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_hash: String,
    pub client_id: String,
    pub family: String,
    pub used: bool,
    pub revoked: bool,
    pub expires_at: i64,
}

/// Persistence of the built-in OAuth authorization server.
#[async_trait]
pub trait OAuthServerStore: Send + Sync {
    async fn create_oauth_client(&self, client: &OAuthClientRecord) -> Result<(), StoreError>;
    async fn find_oauth_client(&self, client_id: &str) -> Result<Option<OAuthClientRecord>, StoreError>;
    /// Removes the client and its refresh tokens; false when it did not exist.
    async fn delete_oauth_client(&self, client_id: &str) -> Result<bool, StoreError>;
    async fn create_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError>;
    async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>, StoreError>;
    /// Marks the token used; false when it was used already (so exactly one rotation wins a race).
    async fn use_refresh_token(&self, token_hash: &str) -> Result<bool, StoreError>;
    async fn revoke_refresh_family(&self, family: &str) -> Result<(), StoreError>;
    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError>;
    async fn access_token_revoked(&self, jti: &str) -> Result<bool, StoreError>;
}

/// An event waiting to be delivered to a callback address.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub id: String,
    pub uri: String,
    pub auth_key: Option<String>,
    pub auth_code_id: Option<String>,
    /// The JSON envelope.
    pub body: String,
    pub attempts: u32,
}

/// Events are written in the same transaction as the state change that caused them (so none is lost on a
/// crash) and delivered afterwards, with retries.
#[async_trait]
pub trait CallbackOutbox: Send + Sync {
    /// Claims up to `limit` due entries (oldest first) under a lease.
    async fn claim_callbacks(&self, limit: u32, holder: &str, lease_ms: i64) -> Result<Vec<OutboxEntry>, StoreError>;
    async fn callback_delivered(&self, id: &str) -> Result<(), StoreError>;
    /// Schedules another attempt at `next_attempt_at` (epoch ms) and releases the lease.
    async fn callback_failed(&self, id: &str, attempts: u32, next_attempt_at: i64) -> Result<(), StoreError>;
}
