// SPDX-License-Identifier: Apache-2.0
//! How each entity maps to its table, and which query paths address which column.

use dsc_domain::query::PropertyPath;
use dsc_domain::{
    Asset, ContractAgreement, ContractDefinition, ContractNegotiation, DataAddress, DataFlow, DataFlowState,
    NegotiationRole, NegotiationState, PolicyDefinition, TransferProcess, TransferState, namespaces,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;

use super::column;
use super::filter::{Arg, Field};
use crate::StoreError;

pub(crate) trait Entity: Sized + Send + Sync {
    const TABLE: &'static str;
    const NAME: &'static str;
    fn id(&self) -> &str;
    fn created_at(&self) -> i64;
    /// Every column except `id` and `created_at`, which never change after creation.
    fn columns(&self) -> Vec<(&'static str, Arg)>;
    fn from_row(row: &AnyRow) -> Result<Self, StoreError>;
    /// The column (and JSON path inside it) a query path addresses, or `None` if the entity has no such field.
    fn field(path: &PropertyPath) -> Option<Field>;
}

fn json_arg(value: &impl Serialize) -> Arg {
    // Serializing plain data maps cannot fail; keep an empty object rather than panic if it ever did.
    Arg::Text(serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string()))
}

fn json_column<T: DeserializeOwned>(row: &AnyRow, name: &str, entity: &'static str) -> Result<T, StoreError> {
    let text: String = column(row, name)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        entity,
        id: column::<String>(row, "id").unwrap_or_default(),
        reason: format!("column {name}: {e}"),
    })
}

/// `id`, `edc:id` → `id`; `createdAt` → `created_at`; the camel-case EDC names of other plain columns.
fn plain_column(segment: &str, known: &[(&'static str, &'static str)]) -> Option<Field> {
    let local = segment.strip_prefix(namespaces::EDC).unwrap_or(segment);
    if local == "createdAt" {
        return Some(Field::Number("created_at"));
    }
    [("id", "id")].iter().chain(known).find(|(name, _)| *name == local).map(|(_, column)| Field::Column(column))
}

/// `properties.x`-style paths into a JSON column.
fn json_field(path: &PropertyPath, prefixes: &[(&'static str, &'static str)]) -> Option<Field> {
    let (first, rest) = path.0.split_first()?;
    let local = first.strip_prefix(namespaces::EDC).unwrap_or(first);
    let (_, column) = prefixes.iter().find(|(name, _)| *name == local)?;
    if rest.is_empty() {
        return None;
    }
    Some(Field::Json(column, rest.iter().map(|k| expand_term(k)).collect()))
}

/// Query paths may use bare EDC terms (`name`) and the usual prefixes (`dct:type`); stored keys are full IRIs.
fn expand_term(segment: &str) -> String {
    const PREFIXES: &[(&str, &str)] = &[
        ("edc", namespaces::EDC),
        ("odrl", namespaces::ODRL),
        ("dct", namespaces::DCT),
        ("dcat", namespaces::DCAT),
        ("tx", namespaces::TX),
        ("tx-auth", namespaces::TX_AUTH),
        ("cx-policy", namespaces::CX_POLICY),
    ];
    if segment.starts_with('@') || segment.contains("://") || segment.starts_with("urn:") {
        return segment.to_string();
    }
    if let Some((prefix, local)) = segment.split_once(':') {
        return match PREFIXES.iter().find(|(p, _)| *p == prefix) {
            Some((_, iri)) => format!("{iri}{local}"),
            None => segment.to_string(),
        };
    }
    namespaces::edc(segment)
}

impl Entity for Asset {
    const TABLE: &'static str = "edc_asset";
    const NAME: &'static str = "Asset";

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> i64 {
        self.created_at
    }

    fn columns(&self) -> Vec<(&'static str, Arg)> {
        vec![
            ("properties", json_arg(&self.properties)),
            ("private_properties", json_arg(&self.private_properties)),
            ("data_address", json_arg(&self.data_address.properties)),
        ]
    }

    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Asset {
            id: column(row, "id")?,
            created_at: column(row, "created_at")?,
            properties: json_column(row, "properties", Self::NAME)?,
            private_properties: json_column(row, "private_properties", Self::NAME)?,
            data_address: DataAddress { properties: json_column(row, "data_address", Self::NAME)? },
        })
    }

    fn field(path: &PropertyPath) -> Option<Field> {
        if let [single] = path.0.as_slice()
            && let Some(field) = plain_column(single, &[])
        {
            return Some(field);
        }
        json_field(
            path,
            &[
                ("properties", "properties"),
                ("privateProperties", "private_properties"),
                ("dataAddress", "data_address"),
            ],
        )
        // EDC's asset queries name property keys directly: `https://…/ns/name`, `'dct:type'.'@id'`.
        .or_else(|| Some(Field::Json("properties", path.0.iter().map(|k| expand_term(k)).collect())))
    }
}

impl Entity for PolicyDefinition {
    const TABLE: &'static str = "edc_policy_definition";
    const NAME: &'static str = "PolicyDefinition";

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> i64 {
        self.created_at
    }

    fn columns(&self) -> Vec<(&'static str, Arg)> {
        vec![("policy", json_arg(&self.policy)), ("private_properties", json_arg(&self.private_properties))]
    }

    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(PolicyDefinition {
            id: column(row, "id")?,
            created_at: column(row, "created_at")?,
            policy: json_column(row, "policy", Self::NAME)?,
            private_properties: json_column(row, "private_properties", Self::NAME)?,
        })
    }

    fn field(path: &PropertyPath) -> Option<Field> {
        if let [single] = path.0.as_slice()
            && let Some(field) = plain_column(single, &[])
        {
            return Some(field);
        }
        if path.0.first().is_some_and(|first| first == "policy") && path.0.len() > 1 {
            // The policy column holds the typed model; its field names are used verbatim.
            return Some(Field::Json("policy", path.0[1..].to_vec()));
        }
        json_field(path, &[("privateProperties", "private_properties")])
    }
}

impl Entity for ContractDefinition {
    const TABLE: &'static str = "edc_contract_definition";
    const NAME: &'static str = "ContractDefinition";

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> i64 {
        self.created_at
    }

    fn columns(&self) -> Vec<(&'static str, Arg)> {
        vec![
            ("access_policy_id", Arg::Text(self.access_policy_id.clone())),
            ("contract_policy_id", Arg::Text(self.contract_policy_id.clone())),
            ("assets_selector", json_arg(&self.assets_selector)),
            ("private_properties", json_arg(&self.private_properties)),
        ]
    }

    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(ContractDefinition {
            id: column(row, "id")?,
            created_at: column(row, "created_at")?,
            access_policy_id: column(row, "access_policy_id")?,
            contract_policy_id: column(row, "contract_policy_id")?,
            assets_selector: json_column(row, "assets_selector", Self::NAME)?,
            private_properties: json_column(row, "private_properties", Self::NAME)?,
        })
    }

    fn field(path: &PropertyPath) -> Option<Field> {
        if let [single] = path.0.as_slice()
            && let Some(field) = plain_column(
                single,
                &[("accessPolicyId", "access_policy_id"), ("contractPolicyId", "contract_policy_id")],
            )
        {
            return Some(field);
        }
        json_field(path, &[("privateProperties", "private_properties")])
    }
}

fn optional_json<T: DeserializeOwned>(row: &AnyRow, name: &str, entity: &'static str) -> Result<Option<T>, StoreError> {
    let text: Option<String> = column(row, name)?;
    text.map(|text| {
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            entity,
            id: column::<String>(row, "id").unwrap_or_default(),
            reason: format!("column {name}: {e}"),
        })
    })
    .transpose()
}

impl Entity for ContractNegotiation {
    const TABLE: &'static str = "edc_contract_negotiation";
    const NAME: &'static str = "ContractNegotiation";

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> i64 {
        self.created_at
    }

    fn columns(&self) -> Vec<(&'static str, Arg)> {
        vec![
            ("updated_at", Arg::Int(self.updated_at)),
            ("correlation_id", Arg::OptText(self.correlation_id.clone())),
            ("counter_party_id", Arg::Text(self.counter_party_id.clone())),
            ("counter_party_address", Arg::Text(self.counter_party_address.clone())),
            ("protocol", Arg::Text(self.protocol.clone())),
            ("role", Arg::Text(self.role.name().to_string())),
            ("state", Arg::Int(i64::from(self.state.code()))),
            ("state_name", Arg::Text(self.state.name().to_string())),
            ("state_count", Arg::Int(i64::from(self.state_count))),
            ("pending", Arg::Int(i64::from(self.pending))),
            ("state_timestamp", Arg::Int(self.state_timestamp)),
            ("error_detail", Arg::OptText(self.error_detail.clone())),
            ("offers", json_arg(&self.offers)),
            ("agreement", Arg::OptText(self.agreement.as_ref().map(|a| serde_json::to_string(a).unwrap_or_default()))),
            ("callback_addresses", json_arg(&self.callback_addresses)),
            ("trace_context", Arg::OptText(self.trace_context.clone())),
        ]
    }

    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        let id: String = column(row, "id")?;
        let corrupt = |reason: String| StoreError::Corrupt { entity: Self::NAME, id: id.clone(), reason };
        let role: String = column(row, "role")?;
        let state: i64 = column(row, "state")?;
        let state_count: i64 = column(row, "state_count")?;
        Ok(ContractNegotiation {
            correlation_id: column(row, "correlation_id")?,
            counter_party_id: column(row, "counter_party_id")?,
            counter_party_address: column(row, "counter_party_address")?,
            protocol: column(row, "protocol")?,
            role: NegotiationRole::parse(&role).ok_or_else(|| corrupt(format!("unknown role {role}")))?,
            state: i32::try_from(state)
                .ok()
                .and_then(NegotiationState::from_code)
                .ok_or_else(|| corrupt(format!("unknown state code {state}")))?,
            state_count: u32::try_from(state_count).unwrap_or(u32::MAX),
            pending: column::<i64>(row, "pending")? != 0,
            state_timestamp: column(row, "state_timestamp")?,
            error_detail: column(row, "error_detail")?,
            offers: json_column(row, "offers", Self::NAME)?,
            agreement: optional_json(row, "agreement", Self::NAME)?,
            callback_addresses: json_column(row, "callback_addresses", Self::NAME)?,
            trace_context: column(row, "trace_context")?,
            created_at: column(row, "created_at")?,
            updated_at: column(row, "updated_at")?,
            id,
        })
    }

    fn field(path: &PropertyPath) -> Option<Field> {
        let [single] = path.0.as_slice() else {
            return (path.0.first().map(String::as_str) == Some("agreement"))
                .then(|| Field::Json("agreement", path.0[1..].to_vec()));
        };
        let local = single.strip_prefix(namespaces::EDC).unwrap_or(single);
        Some(match local {
            "id" => Field::Column("id"),
            "createdAt" => Field::Number("created_at"),
            "updatedAt" => Field::Number("updated_at"),
            "pending" => Field::Number("pending"),
            "stateTimestamp" => Field::Number("state_timestamp"),
            "state" => Field::Column("state_name"),
            "type" => Field::Column("role"),
            "correlationId" => Field::Column("correlation_id"),
            "counterPartyId" => Field::Column("counter_party_id"),
            "counterPartyAddress" => Field::Column("counter_party_address"),
            "protocol" => Field::Column("protocol"),
            "contractAgreementId" => Field::Json("agreement", vec!["id".into()]),
            "assetId" => Field::Json("agreement", vec!["asset_id".into()]),
            _ => return None,
        })
    }
}

impl Entity for ContractAgreement {
    const TABLE: &'static str = "edc_contract_agreement";
    const NAME: &'static str = "ContractAgreement";

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> i64 {
        self.contract_signing_date * 1000
    }

    /// Agreements are written by the negotiation store together with their negotiation (see `negotiations.rs`).
    fn columns(&self) -> Vec<(&'static str, Arg)> {
        vec![
            ("provider_id", Arg::Text(self.provider_id.clone())),
            ("consumer_id", Arg::Text(self.consumer_id.clone())),
            ("contract_signing_date", Arg::Int(self.contract_signing_date)),
            ("asset_id", Arg::Text(self.asset_id.clone())),
            ("policy", json_arg(&self.policy)),
        ]
    }

    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(ContractAgreement {
            id: column(row, "id")?,
            provider_id: column(row, "provider_id")?,
            consumer_id: column(row, "consumer_id")?,
            contract_signing_date: column(row, "contract_signing_date")?,
            asset_id: column(row, "asset_id")?,
            policy: json_column(row, "policy", Self::NAME)?,
        })
    }

    fn field(path: &PropertyPath) -> Option<Field> {
        let [single] = path.0.as_slice() else { return None };
        let local = single.strip_prefix(namespaces::EDC).unwrap_or(single);
        Some(match local {
            "id" => Field::Column("id"),
            "assetId" => Field::Column("asset_id"),
            "providerId" => Field::Column("provider_id"),
            "consumerId" => Field::Column("consumer_id"),
            "contractSigningDate" => Field::Number("contract_signing_date"),
            "negotiationId" => Field::Column("negotiation_id"),
            _ => return None,
        })
    }
}

impl Entity for TransferProcess {
    const TABLE: &'static str = "edc_transfer_process";
    const NAME: &'static str = "TransferProcess";

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> i64 {
        self.created_at
    }

    fn columns(&self) -> Vec<(&'static str, Arg)> {
        vec![
            ("updated_at", Arg::Int(self.updated_at)),
            ("correlation_id", Arg::OptText(self.correlation_id.clone())),
            ("counter_party_id", Arg::Text(self.counter_party_id.clone())),
            ("counter_party_address", Arg::Text(self.counter_party_address.clone())),
            ("protocol", Arg::Text(self.protocol.clone())),
            ("role", Arg::Text(self.role.name().to_string())),
            ("state", Arg::Int(i64::from(self.state.code()))),
            ("state_name", Arg::Text(self.state.name().to_string())),
            ("state_count", Arg::Int(i64::from(self.state_count))),
            ("pending", Arg::Int(i64::from(self.pending))),
            ("state_timestamp", Arg::Int(self.state_timestamp)),
            ("error_detail", Arg::OptText(self.error_detail.clone())),
            ("agreement_id", Arg::Text(self.agreement_id.clone())),
            ("asset_id", Arg::Text(self.asset_id.clone())),
            ("transfer_type", Arg::Text(self.transfer_type.clone())),
            (
                "data_destination",
                Arg::OptText(
                    self.data_destination.as_ref().map(|d| serde_json::to_string(&d.properties).unwrap_or_default()),
                ),
            ),
            ("data_address_key", Arg::OptText(self.data_address_key.clone())),
            ("suspended_by", Arg::OptText(self.suspended_by.map(|r| r.name().to_string()))),
            ("counter_party_informed", Arg::Int(i64::from(self.counter_party_informed))),
            ("data_flow_started", Arg::Int(i64::from(self.data_flow_started))),
            ("callback_addresses", json_arg(&self.callback_addresses)),
            ("trace_context", Arg::OptText(self.trace_context.clone())),
        ]
    }

    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        let id: String = column(row, "id")?;
        let corrupt = |reason: String| StoreError::Corrupt { entity: Self::NAME, id: id.clone(), reason };
        let role: String = column(row, "role")?;
        let state: i64 = column(row, "state")?;
        let state_count: i64 = column(row, "state_count")?;
        let suspended_by: Option<String> = column(row, "suspended_by")?;
        let flag = |name: &str| column::<i64>(row, name).map(|v| v != 0);
        Ok(TransferProcess {
            correlation_id: column(row, "correlation_id")?,
            counter_party_id: column(row, "counter_party_id")?,
            counter_party_address: column(row, "counter_party_address")?,
            protocol: column(row, "protocol")?,
            role: NegotiationRole::parse(&role).ok_or_else(|| corrupt(format!("unknown role {role}")))?,
            state: i32::try_from(state)
                .ok()
                .and_then(TransferState::from_code)
                .ok_or_else(|| corrupt(format!("unknown state code {state}")))?,
            state_count: u32::try_from(state_count).unwrap_or(u32::MAX),
            pending: column::<i64>(row, "pending")? != 0,
            state_timestamp: column(row, "state_timestamp")?,
            error_detail: column(row, "error_detail")?,
            agreement_id: column(row, "agreement_id")?,
            asset_id: column(row, "asset_id")?,
            transfer_type: column(row, "transfer_type")?,
            data_destination: optional_json(row, "data_destination", Self::NAME)?
                .map(|properties| DataAddress { properties }),
            data_address_key: column(row, "data_address_key")?,
            suspended_by: suspended_by.as_deref().and_then(NegotiationRole::parse),
            counter_party_informed: flag("counter_party_informed")?,
            data_flow_started: flag("data_flow_started")?,
            callback_addresses: json_column(row, "callback_addresses", Self::NAME)?,
            trace_context: column(row, "trace_context")?,
            created_at: column(row, "created_at")?,
            updated_at: column(row, "updated_at")?,
            id,
        })
    }

    fn field(path: &PropertyPath) -> Option<Field> {
        let [single] = path.0.as_slice() else { return None };
        let local = single.strip_prefix(namespaces::EDC).unwrap_or(single);
        Some(match local {
            "id" => Field::Column("id"),
            "createdAt" => Field::Number("created_at"),
            "updatedAt" => Field::Number("updated_at"),
            "pending" => Field::Number("pending"),
            "stateTimestamp" => Field::Number("state_timestamp"),
            "state" => Field::Column("state_name"),
            "type" => Field::Column("role"),
            "correlationId" => Field::Column("correlation_id"),
            "counterPartyId" => Field::Column("counter_party_id"),
            "counterPartyAddress" => Field::Column("counter_party_address"),
            "protocol" => Field::Column("protocol"),
            "contractId" | "contractAgreementId" | "agreementId" => Field::Column("agreement_id"),
            "assetId" => Field::Column("asset_id"),
            "transferType" => Field::Column("transfer_type"),
            _ => return None,
        })
    }
}

impl Entity for DataFlow {
    const TABLE: &'static str = "dsc_data_flow";
    const NAME: &'static str = "DataFlow";

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> i64 {
        self.created_at
    }

    fn columns(&self) -> Vec<(&'static str, Arg)> {
        vec![
            ("updated_at", Arg::Int(self.updated_at)),
            ("state", Arg::Text(self.state.name().to_string())),
            ("profile", Arg::Text(self.profile.clone())),
            ("participant_id", Arg::Text(self.participant_id.clone())),
            ("counter_party_id", Arg::Text(self.counter_party_id.clone())),
            ("agreement_id", Arg::Text(self.agreement_id.clone())),
            ("dataset_id", Arg::Text(self.dataset_id.clone())),
            ("source", json_arg(&self.source.properties)),
            ("access_token_id", Arg::OptText(self.access_token_id.clone())),
            ("refresh_token_hash", Arg::OptText(self.refresh_token_hash.clone())),
        ]
    }

    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        let id: String = column(row, "id")?;
        let state: String = column(row, "state")?;
        Ok(DataFlow {
            state: DataFlowState::parse(&state).ok_or_else(|| StoreError::Corrupt {
                entity: Self::NAME,
                id: id.clone(),
                reason: format!("unknown state {state}"),
            })?,
            profile: column(row, "profile")?,
            participant_id: column(row, "participant_id")?,
            counter_party_id: column(row, "counter_party_id")?,
            agreement_id: column(row, "agreement_id")?,
            dataset_id: column(row, "dataset_id")?,
            source: DataAddress { properties: json_column(row, "source", Self::NAME)? },
            access_token_id: column(row, "access_token_id")?,
            refresh_token_hash: column(row, "refresh_token_hash")?,
            created_at: column(row, "created_at")?,
            updated_at: column(row, "updated_at")?,
            id,
        })
    }

    fn field(path: &PropertyPath) -> Option<Field> {
        let [single] = path.0.as_slice() else { return None };
        (single == "id").then_some(Field::Column("id"))
    }
}
