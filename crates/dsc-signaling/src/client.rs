// SPDX-License-Identifier: Apache-2.0
//! The control plane's DPS client over HTTP.

use std::sync::RwLock;

use async_trait::async_trait;
use dsc_domain::DataAddress;
use serde::Serialize;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::address::address_from_wire;
use crate::wire::{self, DataFlowReasonMessage, DataFlowResumeMessage, DataFlowStartMessage, DataFlowStatusMessage};
use crate::{DataPlaneClient, SignalingError, StartRequest};

/// A data plane the control plane may signal.
#[derive(Clone)]
pub struct DataPlaneEntry {
    pub id: String,
    /// Signaling base URL; the DPS paths (`/dataflows/...`) are appended to it.
    pub endpoint: String,
    pub transfer_types: Vec<String>,
    /// The shared signaling key this data plane expects.
    pub auth_key: String,
}

impl std::fmt::Debug for DataPlaneEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPlaneEntry")
            .field("id", &self.id)
            .field("endpoint", &self.endpoint)
            .field("transfer_types", &self.transfer_types)
            .finish_non_exhaustive()
    }
}

/// Where data planes that registered themselves are kept, so that every control-plane replica (and a restarted
/// one) knows them. Entries come back without their signaling key, which is configuration.
#[async_trait]
pub trait RegistrationStore: Send + Sync {
    async fn save(&self, entry: &DataPlaneEntry) -> Result<(), String>;
    async fn delete(&self, id: &str) -> Result<bool, String>;
    /// (id, endpoint, transfer types) of every registration.
    async fn load(&self) -> Result<Vec<(String, String, Vec<String>)>, String>;
}

/// Data planes the control plane may signal: those its configuration names (the embedded one, a remote URL) and
/// those that registered themselves (`PUT /dataplanes`), kept in a [`RegistrationStore`] when there is one.
/// Selection takes the first that serves the transfer type, configured ones first.
#[derive(Default)]
pub struct DataPlaneRegistry {
    entries: RwLock<Vec<DataPlaneEntry>>,
    registered: RwLock<Vec<DataPlaneEntry>>,
    store: Option<(std::sync::Arc<dyn RegistrationStore>, String)>,
}

impl std::fmt::Debug for DataPlaneRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPlaneRegistry")
            .field("entries", &self.entries)
            .field("registered", &self.registered)
            .finish()
    }
}

impl DataPlaneRegistry {
    pub fn new(entries: Vec<DataPlaneEntry>) -> Self {
        DataPlaneRegistry { entries: RwLock::new(entries), ..Default::default() }
    }

    /// Registrations go to `store`; those read back are signaled with `auth_key`.
    pub fn persistent(store: std::sync::Arc<dyn RegistrationStore>, auth_key: String) -> Self {
        DataPlaneRegistry { store: Some((store, auth_key)), ..Default::default() }
    }

    /// A data plane registering itself: saved first (an error leaves the registry as it was), then known here.
    pub async fn register_saved(&self, entry: DataPlaneEntry) -> Result<(), String> {
        if let Some((store, _)) = &self.store {
            store.save(&entry).await?;
        }
        if let Ok(mut registered) = self.registered.write() {
            registered.retain(|known| known.id != entry.id);
            registered.push(entry);
        }
        Ok(())
    }

    /// Removes a registration; whether there was one (here or in the store).
    pub async fn unregister_saved(&self, id: &str) -> Result<bool, String> {
        let stored = match &self.store {
            Some((store, _)) => store.delete(id).await?,
            None => false,
        };
        let known = self
            .registered
            .write()
            .map(|mut registered| {
                let before = registered.len();
                registered.retain(|known| known.id != id);
                registered.len() != before
            })
            .unwrap_or(false);
        Ok(stored || known)
    }

    /// Reads the registrations again (at start, periodically, and when a transfer type has no data plane here): one
    /// another replica received, or one that ended, shows.
    pub async fn reload(&self) -> Result<(), String> {
        let Some((store, auth_key)) = &self.store else { return Ok(()) };
        let loaded: Vec<DataPlaneEntry> = store
            .load()
            .await?
            .into_iter()
            .map(|(id, endpoint, transfer_types)| DataPlaneEntry {
                id,
                endpoint,
                transfer_types,
                auth_key: auth_key.clone(),
            })
            .collect();
        if let Ok(mut registered) = self.registered.write() {
            *registered = loaded;
        }
        Ok(())
    }

    /// [`select`](Self::select), reading the registrations again on a miss.
    pub async fn select_fresh(&self, transfer_type: &str) -> Option<DataPlaneEntry> {
        if let Some(found) = self.select(transfer_type) {
            return Some(found);
        }
        if let Err(error) = self.reload().await {
            tracing::warn!("cannot read the registered data planes: {error}");
        }
        self.select(transfer_type)
    }

    /// Adds a data plane the configuration names, replacing one with the same id.
    pub fn register(&self, entry: DataPlaneEntry) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|known| known.id != entry.id);
            entries.push(entry);
        }
    }

    /// Removes a data plane; returns whether it was registered.
    pub fn unregister(&self, id: &str) -> bool {
        self.entries
            .write()
            .map(|mut entries| {
                let before = entries.len();
                entries.retain(|known| known.id != id);
                entries.len() != before
            })
            .unwrap_or(false)
    }

    pub fn select(&self, transfer_type: &str) -> Option<DataPlaneEntry> {
        let serves = |e: &&DataPlaneEntry| e.transfer_types.iter().any(|t| t == transfer_type);
        if let Some(found) = self.entries.read().ok()?.iter().find(serves) {
            return Some(found.clone());
        }
        self.registered.read().ok()?.iter().find(serves).cloned()
    }

    pub fn transfer_types(&self) -> Vec<String> {
        let mut types: Vec<String> = Vec::new();
        for list in [&self.entries, &self.registered] {
            if let Ok(entries) = list.read() {
                types.extend(entries.iter().flat_map(|e| e.transfer_types.clone()));
            }
        }
        types.sort();
        types.dedup();
        types
    }
}

pub struct HttpDataPlaneClient {
    http: reqwest::Client,
    registry: std::sync::Arc<DataPlaneRegistry>,
}

impl HttpDataPlaneClient {
    pub fn new(http: reqwest::Client, registry: std::sync::Arc<DataPlaneRegistry>) -> Self {
        HttpDataPlaneClient { http, registry }
    }

    async fn post(
        &self,
        profile: &str,
        path: &[&str],
        body: &impl Serialize,
    ) -> Result<(u16, Vec<u8>), SignalingError> {
        let plane = self
            .registry
            .select_fresh(profile)
            .await
            .ok_or_else(|| SignalingError::NoDataPlane(profile.to_string()))?;
        let mut url = reqwest::Url::parse(plane.endpoint.trim_end_matches('/'))
            .map_err(|e| SignalingError::Unreachable(format!("data plane {}: bad endpoint: {e}", plane.id)))?;
        url.path_segments_mut()
            .map_err(|_| SignalingError::Unreachable(format!("data plane {}: not a base URL", plane.id)))?
            .pop_if_empty()
            .push("dataflows")
            .extend(path);
        // Named by the operation (`start`, `suspend`, ...), the last segment: never by the flow's id.
        let span = dsc_telemetry::client_span(&format!("DPS {}", path.last().copied().unwrap_or("message")));
        let mut headers = reqwest::header::HeaderMap::new();
        dsc_telemetry::inject(&span, &mut headers);
        let (status, body) = async {
            let response = self
                .http
                .post(url)
                .bearer_auth(&plane.auth_key)
                .headers(headers)
                .json(body)
                .send()
                .await
                .map_err(|e| SignalingError::Unreachable(format!("data plane {}: {e}", plane.id)))?;
            let status = response.status().as_u16();
            Ok::<_, SignalingError>((status, response.bytes().await.map(|b| b.to_vec()).unwrap_or_default()))
        }
        .instrument(span)
        .await?;
        match status {
            200..=299 => Ok((status, body)),
            400..=499 => Err(SignalingError::Rejected {
                status,
                reason: String::from_utf8_lossy(&body).chars().take(300).collect(),
            }),
            _ => Err(SignalingError::Unreachable(format!(
                "data plane {} answered HTTP {status}: {}",
                plane.id,
                String::from_utf8_lossy(&body).chars().take(300).collect::<String>()
            ))),
        }
    }

    fn address_of(body: &[u8]) -> Result<Option<DataAddress>, SignalingError> {
        if body.is_empty() {
            return Ok(None);
        }
        let status: DataFlowStatusMessage = serde_json::from_slice(body)
            .map_err(|e| SignalingError::Unreachable(format!("unreadable data plane answer: {e}")))?;
        Ok(status.data_address.as_ref().map(address_from_wire))
    }
}

#[async_trait]
impl DataPlaneClient for HttpDataPlaneClient {
    fn transfer_types(&self) -> Vec<String> {
        self.registry.transfer_types()
    }

    async fn supports(&self, transfer_type: &str) -> bool {
        self.registry.select_fresh(transfer_type).await.is_some()
    }

    async fn start(&self, request: &StartRequest) -> Result<Option<DataAddress>, SignalingError> {
        let mut metadata = Map::new();
        metadata.insert(
            "source".into(),
            serde_json::to_value(&request.source.properties).unwrap_or(Value::Object(Map::new())),
        );
        let message = DataFlowStartMessage {
            message_id: wire::message_id(),
            participant_id: request.participant_id.clone(),
            counter_party_id: request.counter_party_id.clone(),
            dataspace_context: "dsp-2025-1".into(),
            process_id: request.process_id.clone(),
            agreement_id: request.agreement_id.clone(),
            dataset_id: request.dataset_id.clone(),
            profile: request.profile.clone(),
            claims: Value::Object(Map::new()),
            labels: Vec::new(),
            metadata,
            data_address: None,
        };
        let (_, body) = self.post(&request.profile, &["start"], &message).await?;
        Self::address_of(&body)
    }

    async fn suspend(&self, profile: &str, process_id: &str, reason: Option<&str>) -> Result<(), SignalingError> {
        let message =
            DataFlowReasonMessage { message_id: Some(wire::message_id()), reason: reason.map(str::to_string) };
        self.post(profile, &[process_id, "suspend"], &message).await.map(|_| ())
    }

    async fn resume(&self, profile: &str, process_id: &str) -> Result<Option<DataAddress>, SignalingError> {
        let message = DataFlowResumeMessage { message_id: Some(wire::message_id()), data_address: None };
        let (_, body) = self.post(profile, &[process_id, "resume"], &message).await?;
        Self::address_of(&body)
    }

    async fn terminate(&self, profile: &str, process_id: &str, reason: Option<&str>) -> Result<(), SignalingError> {
        let message =
            DataFlowReasonMessage { message_id: Some(wire::message_id()), reason: reason.map(str::to_string) };
        match self.post(profile, &[process_id, "terminate"], &message).await {
            Err(SignalingError::Rejected { status: 404, .. }) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    async fn completed(&self, profile: &str, process_id: &str) -> Result<(), SignalingError> {
        self.post(profile, &[process_id, "completed"], &Value::Object(Map::new())).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_is_by_transfer_type_and_registration_replaces() {
        let plane = |id: &str, types: &[&str]| DataPlaneEntry {
            id: id.into(),
            endpoint: format!("http://{id}/control"),
            transfer_types: types.iter().map(|t| t.to_string()).collect(),
            auth_key: "the-shared-secret".into(),
        };
        let registry = DataPlaneRegistry::new(vec![plane("a", &["HttpData-PULL"])]);
        assert_eq!(registry.select("HttpData-PULL").map(|e| e.id), Some("a".into()));
        assert!(registry.select("AmazonS3-PUSH").is_none());
        registry.register(plane("a", &["AmazonS3-PUSH"]));
        assert!(registry.select("HttpData-PULL").is_none(), "re-registering replaces");
        assert!(!registry.unregister("b"));
        assert_eq!(registry.transfer_types(), vec!["AmazonS3-PUSH".to_string()]);
        assert!(registry.unregister("a"));
        assert!(registry.transfer_types().is_empty());
        assert!(!format!("{:?}", plane("a", &[])).contains("the-shared-secret"), "the key is never printed");
    }
}
