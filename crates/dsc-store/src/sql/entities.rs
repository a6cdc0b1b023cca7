// SPDX-License-Identifier: Apache-2.0
//! How each entity maps to its table, and which query paths address which column.

use dsc_domain::query::PropertyPath;
use dsc_domain::{Asset, ContractDefinition, DataAddress, PolicyDefinition, namespaces};
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
fn plain_column(segment: &str, known: &[(&'static str, &'static str)]) -> Option<&'static str> {
    let local = segment.strip_prefix(namespaces::EDC).unwrap_or(segment);
    [("id", "id"), ("createdAt", "created_at")]
        .iter()
        .chain(known)
        .find(|(name, _)| *name == local)
        .map(|(_, column)| *column)
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
            && let Some(column) = plain_column(single, &[])
        {
            return Some(Field::Column(column));
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
            && let Some(column) = plain_column(single, &[])
        {
            return Some(Field::Column(column));
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
            && let Some(column) = plain_column(
                single,
                &[("accessPolicyId", "access_policy_id"), ("contractPolicyId", "contract_policy_id")],
            )
        {
            return Some(Field::Column(column));
        }
        json_field(path, &[("privateProperties", "private_properties")])
    }
}
