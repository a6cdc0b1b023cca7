// SPDX-License-Identifier: Apache-2.0
//! The control plane: entity services, the negotiation and transfer state machines, the policy monitor, callback
//! delivery with its in-process listeners, and the state the Management API and the DSP binding serve from.

use std::sync::Arc;

use async_trait::async_trait;
use dsc_config::ConnectorConfig;
use dsc_controlplane::callbacks::{CallbackDispatcher, CallbackSender};
use dsc_controlplane::catalog::{CatalogService, DataPlaneTransferTypes};
use dsc_controlplane::edr::{self, EdrService, EdrTransferStarter};
use dsc_controlplane::negotiation::{
    NegotiationManager, NegotiationProtocolService, NegotiationService, NegotiationSettings,
};
use dsc_controlplane::transfer::{
    DataFlowCallbackService, PolicyMonitor, TransferManager, TransferProtocolService, TransferService, TransferSettings,
};
use dsc_controlplane::{EntityService, NoReferences, ReferencedBy};
use dsc_dsp::DspState;
use dsc_dsp::client::DspClient;
use dsc_dsp::edr_refresh::HttpEdrRefresher;
use dsc_jsonld::JsonLd;
use dsc_management_api::ManagementState;
use dsc_policy::PolicyEngine;
use dsc_signaling::HttpDataPlaneClient;
use dsc_store::SqlStore;
use dsc_vault::Vault;

use super::StartError;
use super::identity::ProtocolIdentity;
use crate::plugins::Plugins;

/// Delivers callback events over HTTP.
struct HttpCallbackSender(reqwest::Client);

#[async_trait]
impl CallbackSender for HttpCallbackSender {
    async fn post(&self, uri: &str, headers: &[(String, String)], body: &str) -> Result<(), String> {
        let mut request = self.0.post(uri).body(body.to_string());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        if response.status().is_success() { Ok(()) } else { Err(format!("HTTP {}", response.status().as_u16())) }
    }
}

/// The assembled control plane: what its web contexts serve and the tasks that drive it.
pub(super) struct ControlPlane {
    pub management: ManagementState,
    pub dsp: DspState,
    /// The data plane's callbacks (DPS `/transfers/{id}/dataflow/...`).
    pub flow_callbacks: Arc<DataFlowCallbackService>,
    pub negotiation_manager: Arc<NegotiationManager>,
    pub transfer_manager: Arc<TransferManager>,
    pub policy_monitor: Arc<PolicyMonitor>,
    pub callback_dispatcher: Arc<CallbackDispatcher>,
}

/// Everything the control plane is built from.
pub(super) struct Inputs<'a> {
    pub config: &'a ConnectorConfig,
    pub shared: Arc<SqlStore>,
    pub vault: Arc<dyn Vault>,
    pub http: reqwest::Client,
    pub plugins: &'a Plugins,
    pub identity: &'a ProtocolIdentity,
    pub data_planes: Arc<HttpDataPlaneClient>,
}

pub(super) fn build(inputs: Inputs<'_>) -> Result<ControlPlane, StartError> {
    let Inputs { config, shared, vault, http, plugins, identity, data_planes } = inputs;
    let jsonld = Arc::new(JsonLd::new()?);
    let catalog = Arc::new(CatalogService::new(
        config.participant_id.clone(),
        shared.clone(),
        shared.clone(),
        shared.clone(),
        Arc::new(PolicyEngine::with_defaults()),
        Arc::new(DataPlaneTransferTypes::new(data_planes.clone(), plugins.transfer_types.clone())),
    ));
    let versioned_address = format!("{}{}", config.protocol_address, dsc_dsp::VERSION_PATH);
    let message_context = Arc::new(dsc_dsp::message_context()?);
    let engine = Arc::new(PolicyEngine::with_defaults());
    let client =
        Arc::new(DspClient::new(http.clone(), identity.signer.clone(), jsonld.clone(), message_context.clone()));
    let wake = Arc::new(tokio::sync::Notify::new());
    let clock = dsc_domain::clock::system_clock();
    let mut settings = NegotiationSettings::new(config.participant_id.clone(), versioned_address.clone());
    if config.offers_for_operator {
        settings.consumer_offers = dsc_controlplane::negotiation::OfferDecision::Operator;
    }
    settings.clock = clock.clone();
    settings.iteration_wait = std::time::Duration::from_millis(config.negotiation_iteration_wait_ms);
    for (role, from) in
        [(&mut settings.consumer, &config.negotiation_consumer), (&mut settings.provider, &config.negotiation_provider)]
    {
        role.batch_size = from.batch_size;
        role.retry = dsc_controlplane::state_machine::RetryPolicy::new(from.retry_limit, from.retry_base_ms);
    }
    let mut negotiations = NegotiationService::new(settings.clone(), shared.clone(), wake.clone(), clock.clone());
    if let Some(directory) = identity.dcp.as_ref().and_then(|dcp| dcp.directory.clone()) {
        negotiations = negotiations.with_directory(Arc::new(super::dcp::BpnDirectory(directory)));
    }
    let negotiations = Arc::new(negotiations);
    let negotiation_protocol = Arc::new(NegotiationProtocolService::new(
        settings.clone(),
        shared.clone(),
        shared.clone(),
        shared.clone(),
        shared.clone(),
        engine.clone(),
        wake.clone(),
        clock.clone(),
    ));
    let holder = settings.holder.clone();
    let negotiation_manager = Arc::new(NegotiationManager::new(settings, shared.clone(), client.clone(), wake));

    let transfer_wake = Arc::new(tokio::sync::Notify::new());
    let mut transfer_settings =
        TransferSettings::new(config.participant_id.clone(), versioned_address.clone(), holder.clone());
    transfer_settings.clock = clock.clone();
    transfer_settings.max_attempts = config.transfer_retry_limit;
    transfer_settings.retry_base_ms = config.transfer_retry_base_ms;
    transfer_settings.batch_size = config.transfer_state_machine.batch_size;
    transfer_settings.iteration_wait =
        std::time::Duration::from_millis(config.transfer_state_machine.iteration_wait_ms);
    transfer_settings.transfer_types = plugins.transfer_types.clone();
    transfer_settings.monitor_interval = std::time::Duration::from_millis(config.policy_monitor.iteration_wait_ms);
    transfer_settings.monitor_page = config.policy_monitor.batch_size;
    let transfers = Arc::new(TransferService::new(
        transfer_settings.clone(),
        shared.clone(),
        shared.clone(),
        vault.clone(),
        transfer_wake.clone(),
        clock.clone(),
    ));
    let transfer_protocol = Arc::new(TransferProtocolService::new(
        transfer_settings.clone(),
        shared.clone(),
        shared.clone(),
        shared.clone(),
        data_planes.clone(),
        vault.clone(),
        engine.clone(),
        transfer_wake.clone(),
        clock.clone(),
    ));
    let edr_starter = EdrTransferStarter::new(negotiations.clone(), transfers.clone(), dsc_dataplane::HTTP_PULL);
    let callback_dispatcher = Arc::new(
        CallbackDispatcher::new(
            shared.clone(),
            Arc::new(HttpCallbackSender(http.clone())),
            vault.clone(),
            holder.clone(),
        )
        .with_listener(edr::EDR_CALLBACK, Arc::new(edr_starter)),
    );
    let flow_callbacks = Arc::new(DataFlowCallbackService::new(
        transfer_settings.clone(),
        shared.clone(),
        vault.clone(),
        transfer_wake.clone(),
        clock.clone(),
    ));
    let transfer_manager = Arc::new(TransferManager::new(
        transfer_settings.clone(),
        shared.clone(),
        shared.clone(),
        client.clone(),
        data_planes,
        vault.clone(),
        transfer_wake.clone(),
    ));
    let mut policy_monitor =
        PolicyMonitor::new(transfer_settings, shared.clone(), shared.clone(), engine.clone(), transfer_wake);
    if let Some(dcp) = &identity.dcp {
        policy_monitor =
            policy_monitor.with_current_claims(Arc::new(super::dcp::VerifiedCredentials(dcp.verifier.clone())));
    }
    let policy_monitor = Arc::new(policy_monitor);
    let dsp_state = DspState {
        jsonld: jsonld.clone(),
        message_context,
        catalog,
        negotiations: negotiation_protocol,
        transfers: transfer_protocol,
        protocol_address: versioned_address,
        version_auth: identity.dcp.as_ref().map(|_| dsc_dsp::dcp_auth()),
    };
    let state = ManagementState {
        jsonld,
        response_context: Arc::new(dsc_management_api::response_context()?),
        assets: Arc::new(EntityService::new(
            shared.clone(),
            Arc::new(ReferencedBy::SelectorsNamingAsset(shared.clone())),
        )),
        policy_definitions: Arc::new(EntityService::new(
            shared.clone(),
            Arc::new(ReferencedBy::DefinitionsUsingPolicy(shared.clone())),
        )),
        contract_definitions: Arc::new(EntityService::new(shared.clone(), Arc::new(NoReferences))),
        address_validators: plugins.address_validators.clone(),
        vault: vault.clone(),
        protocol: client.clone(),
        negotiations,
        transfers,
        edrs: Arc::new(EdrService::new(
            shared.clone(),
            vault.clone(),
            Arc::new(HttpEdrRefresher { http: http.clone(), signer: identity.signer.clone(), clock: clock.clone() }),
            holder.clone(),
        )),
    };
    Ok(ControlPlane {
        management: state,
        dsp: dsp_state,
        flow_callbacks,
        negotiation_manager,
        transfer_manager,
        policy_monitor,
        callback_dispatcher,
    })
}
