// SPDX-License-Identifier: Apache-2.0
//! The 4.0.0 payloads: optional for CX-0127 2.0.0; `catenaXId` became `globalAssetId`, `date` became
//! `productionDate` (a date), `catenaXsiteId` became `siteId`, and the classification fields were shortened.

use serde::{Deserialize, Serialize};

use super::{LocalIdentifier, Quantity, SiteFunction};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// A BPNS.
    #[serde(rename = "siteId")]
    pub site_id: String,
    pub function: SiteFunction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManufacturingInformation {
    /// A date (`format: date`).
    #[serde(rename = "productionDate")]
    pub production_date: String,
    /// Three capital letters (ISO 3166 alpha-3 shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sites: Option<Vec<Site>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartClassification {
    pub standard: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// 4.0.0 requires the customer's view and the classification; the manufacturer's fields became optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SerialPartTypeInformation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_part_id: Option<String>,
    pub customer_part_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_at_manufacturer: Option<String>,
    pub name_at_customer: String,
    pub part_classification: Vec<PartClassification>,
}

/// Batch 2.0.0 dropped the customer fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchPartTypeInformation {
    pub manufacturer_part_id: String,
    pub name_at_manufacturer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_classification: Option<Vec<PartClassification>>,
}

/// Only the manufacturer's name is required for a JIS part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JisPartTypeInformation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer_part_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_part_id: Option<String>,
    pub name_at_manufacturer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_at_customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_classification: Option<Vec<PartClassification>>,
}

/// `urn:samm:io.catenax.serial_part:4.0.0#SerialPart`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SerialPart {
    pub global_asset_id: String,
    pub local_identifiers: Vec<LocalIdentifier>,
    pub manufacturing_information: ManufacturingInformation,
    pub part_type_information: SerialPartTypeInformation,
}

/// `urn:samm:io.catenax.batch:4.0.0#Batch`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    pub global_asset_id: String,
    pub local_identifiers: Vec<LocalIdentifier>,
    pub manufacturing_information: ManufacturingInformation,
    pub part_type_information: BatchPartTypeInformation,
}

/// `urn:samm:io.catenax.just_in_sequence_part:4.0.0#JustInSequencePart`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JustInSequencePart {
    pub global_asset_id: String,
    pub local_identifiers: Vec<LocalIdentifier>,
    pub manufacturing_information: ManufacturingInformation,
    pub part_type_information: JisPartTypeInformation,
}

/// A child built into the part (`childItems[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildItem {
    pub global_asset_id: String,
    pub quantity: Quantity,
    pub has_alternatives: bool,
    pub created_on: String,
    /// The child supplier's BPNL.
    pub business_partner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_on: Option<String>,
}

/// `urn:samm:io.catenax.single_level_bom_as_built:4.0.0#SingleLevelBomAsBuilt`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SingleLevelBomAsBuilt {
    pub global_asset_id: String,
    pub child_items: Vec<ChildItem>,
}

/// A part this one was built into (`parentItems[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentItem {
    pub global_asset_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Quantity>,
    pub is_only_potential_parent: bool,
    pub created_on: String,
    /// The parent manufacturer's BPNL.
    pub business_partner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_on: Option<String>,
}

/// `urn:samm:io.catenax.single_level_usage_as_built:4.0.0#SingleLevelUsageAsBuilt`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SingleLevelUsageAsBuilt {
    pub global_asset_id: String,
    /// BPNLs of the customers, as the parent twin may be unknown.
    pub customers: Vec<String>,
    pub parent_items: Vec<ParentItem>,
}
