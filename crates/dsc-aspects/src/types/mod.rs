// SPDX-License-Identifier: Apache-2.0
//! Typed payloads (serde) of every bundled model and version. Unknown properties are ignored on reading, as the
//! schemas allow them; optional fields are left out on writing rather than written as `null` (which the schemas
//! would refuse).

pub mod v3;
pub mod v4;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Aspect, Model, Version};

/// Where a part was made or kept (`function` of a site).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SiteFunction {
    #[serde(rename = "production")]
    Production,
    #[serde(rename = "warehouse")]
    Warehouse,
    #[serde(rename = "spare part warehouse")]
    SparePartWarehouse,
}

/// A local identifier of a part (`localIdentifiers[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalIdentifier {
    pub key: String,
    pub value: String,
}

/// An amount of a child in its parent (`quantity`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    pub value: f64,
    /// One of [`QUANTITY_UNITS`] (the schema also accepts any `prefix:name`).
    pub unit: String,
}

/// The enumeration of quantity units of the shared quantity model, in the schemas' order.
pub const QUANTITY_UNITS: [&str; 35] = [
    "unit:piece",
    "unit:set",
    "unit:pair",
    "unit:page",
    "unit:cycle",
    "unit:kilowattHour",
    "unit:gram",
    "unit:kilogram",
    "unit:tonneMetricTon",
    "unit:tonUsOrShortTonUkorus",
    "unit:ounceAvoirdupois",
    "unit:pound",
    "unit:metre",
    "unit:centimetre",
    "unit:kilometre",
    "unit:inch",
    "unit:foot",
    "unit:yard",
    "unit:squareCentimetre",
    "unit:squareMetre",
    "unit:squareInch",
    "unit:squareFoot",
    "unit:squareYard",
    "unit:cubicCentimetre",
    "unit:cubicMetre",
    "unit:cubicInch",
    "unit:cubicFoot",
    "unit:cubicYard",
    "unit:litre",
    "unit:millilitre",
    "unit:hectolitre",
    "unit:secondUnitOfTime",
    "unit:minuteUnitOfTime",
    "unit:hourUnitOfTime",
    "unit:day",
];

/// A typed payload of any bundled aspect.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    SerialPartV3(v3::SerialPart),
    BatchV3(v3::Batch),
    JustInSequencePartV3(v3::JustInSequencePart),
    BomV3(v3::SingleLevelBomAsBuilt),
    UsageV3(v3::SingleLevelUsageAsBuilt),
    SerialPartV4(v4::SerialPart),
    BatchV4(v4::Batch),
    JustInSequencePartV4(v4::JustInSequencePart),
    BomV4(v4::SingleLevelBomAsBuilt),
    UsageV4(v4::SingleLevelUsageAsBuilt),
}

impl Payload {
    /// Reads a payload as the given aspect (3.0.0 and 3.0.1 share one shape).
    pub fn from_value(aspect: Aspect, value: Value) -> Result<Payload, serde_json::Error> {
        use serde_json::from_value as read;
        Ok(match (aspect.model, aspect.version) {
            (Model::SerialPart, Version::V4_0_0) => Payload::SerialPartV4(read(value)?),
            (Model::Batch, Version::V4_0_0) => Payload::BatchV4(read(value)?),
            (Model::JustInSequencePart, Version::V4_0_0) => Payload::JustInSequencePartV4(read(value)?),
            (Model::SingleLevelBomAsBuilt, Version::V4_0_0) => Payload::BomV4(read(value)?),
            (Model::SingleLevelUsageAsBuilt, Version::V4_0_0) => Payload::UsageV4(read(value)?),
            (Model::SerialPart, _) => Payload::SerialPartV3(read(value)?),
            (Model::Batch, _) => Payload::BatchV3(read(value)?),
            (Model::JustInSequencePart, _) => Payload::JustInSequencePartV3(read(value)?),
            (Model::SingleLevelBomAsBuilt, _) => Payload::BomV3(read(value)?),
            (Model::SingleLevelUsageAsBuilt, _) => Payload::UsageV3(read(value)?),
        })
    }

    pub fn to_value(&self) -> Value {
        let value = match self {
            Payload::SerialPartV3(payload) => serde_json::to_value(payload),
            Payload::BatchV3(payload) => serde_json::to_value(payload),
            Payload::JustInSequencePartV3(payload) => serde_json::to_value(payload),
            Payload::BomV3(payload) => serde_json::to_value(payload),
            Payload::UsageV3(payload) => serde_json::to_value(payload),
            Payload::SerialPartV4(payload) => serde_json::to_value(payload),
            Payload::BatchV4(payload) => serde_json::to_value(payload),
            Payload::JustInSequencePartV4(payload) => serde_json::to_value(payload),
            Payload::BomV4(payload) => serde_json::to_value(payload),
            Payload::UsageV4(payload) => serde_json::to_value(payload),
        };
        // Plain structs of strings, numbers and booleans always serialize.
        value.unwrap_or(Value::Null)
    }

    pub fn model(&self) -> Model {
        match self {
            Payload::SerialPartV3(_) | Payload::SerialPartV4(_) => Model::SerialPart,
            Payload::BatchV3(_) | Payload::BatchV4(_) => Model::Batch,
            Payload::JustInSequencePartV3(_) | Payload::JustInSequencePartV4(_) => Model::JustInSequencePart,
            Payload::BomV3(_) | Payload::BomV4(_) => Model::SingleLevelBomAsBuilt,
            Payload::UsageV3(_) | Payload::UsageV4(_) => Model::SingleLevelUsageAsBuilt,
        }
    }

    /// The Catena-X id (`catenaXId`, `globalAssetId` in 4.0.0) of the part the payload is about.
    pub fn catena_x_id(&self) -> &str {
        match self {
            Payload::SerialPartV3(payload) => &payload.catena_x_id,
            Payload::BatchV3(payload) => &payload.catena_x_id,
            Payload::JustInSequencePartV3(payload) => &payload.catena_x_id,
            Payload::BomV3(payload) => &payload.catena_x_id,
            Payload::UsageV3(payload) => &payload.catena_x_id,
            Payload::SerialPartV4(payload) => &payload.global_asset_id,
            Payload::BatchV4(payload) => &payload.global_asset_id,
            Payload::JustInSequencePartV4(payload) => &payload.global_asset_id,
            Payload::BomV4(payload) => &payload.global_asset_id,
            Payload::UsageV4(payload) => &payload.global_asset_id,
        }
    }
}
