// SPDX-License-Identifier: Apache-2.0
//! The official JSON schemas and example payloads, bundled verbatim from eclipse-tractusx/sldt-semantic-models
//! (CC-BY-4.0; attribution in `models/SOURCES.md`), so validation never needs the network.

use crate::model::{Aspect, Model, Version};

/// The JSON schema text of an aspect (OpenAPI-style `components/schemas`, draft-04).
pub fn schema_text(aspect: Aspect) -> Option<&'static str> {
    match (aspect.model, aspect.version) {
        (Model::SerialPart, Version::V3_0_0) => Some(include_str!("../models/SerialPart/3.0.0/schema.json")),
        (Model::SerialPart, Version::V3_0_1) => Some(include_str!("../models/SerialPart/3.0.1/schema.json")),
        (Model::SerialPart, Version::V4_0_0) => Some(include_str!("../models/SerialPart/4.0.0/schema.json")),
        (Model::Batch, Version::V3_0_0) => Some(include_str!("../models/Batch/3.0.0/schema.json")),
        (Model::Batch, Version::V3_0_1) => Some(include_str!("../models/Batch/3.0.1/schema.json")),
        (Model::Batch, Version::V4_0_0) => Some(include_str!("../models/Batch/4.0.0/schema.json")),
        (Model::JustInSequencePart, Version::V3_0_0) => {
            Some(include_str!("../models/JustInSequencePart/3.0.0/schema.json"))
        }
        (Model::JustInSequencePart, Version::V4_0_0) => {
            Some(include_str!("../models/JustInSequencePart/4.0.0/schema.json"))
        }
        (Model::SingleLevelBomAsBuilt, Version::V3_0_0) => {
            Some(include_str!("../models/SingleLevelBomAsBuilt/3.0.0/schema.json"))
        }
        (Model::SingleLevelBomAsBuilt, Version::V4_0_0) => {
            Some(include_str!("../models/SingleLevelBomAsBuilt/4.0.0/schema.json"))
        }
        (Model::SingleLevelUsageAsBuilt, Version::V3_0_0) => {
            Some(include_str!("../models/SingleLevelUsageAsBuilt/3.0.0/schema.json"))
        }
        (Model::SingleLevelUsageAsBuilt, Version::V4_0_0) => {
            Some(include_str!("../models/SingleLevelUsageAsBuilt/4.0.0/schema.json"))
        }
        _ => None,
    }
}

/// The official example payload of an aspect. The 3.0.0 examples of SerialPart, Batch and JustInSequencePart are
/// not valid against their own schema (a local date-time without an offset); see `validate::KNOWN_DEFECT`.
pub fn example_text(aspect: Aspect) -> Option<&'static str> {
    match (aspect.model, aspect.version) {
        (Model::SerialPart, Version::V3_0_0) => Some(include_str!("../models/SerialPart/3.0.0/example.json")),
        (Model::SerialPart, Version::V3_0_1) => Some(include_str!("../models/SerialPart/3.0.1/example.json")),
        (Model::SerialPart, Version::V4_0_0) => Some(include_str!("../models/SerialPart/4.0.0/example.json")),
        (Model::Batch, Version::V3_0_0) => Some(include_str!("../models/Batch/3.0.0/example.json")),
        (Model::Batch, Version::V3_0_1) => Some(include_str!("../models/Batch/3.0.1/example.json")),
        (Model::Batch, Version::V4_0_0) => Some(include_str!("../models/Batch/4.0.0/example.json")),
        (Model::JustInSequencePart, Version::V3_0_0) => {
            Some(include_str!("../models/JustInSequencePart/3.0.0/example.json"))
        }
        (Model::JustInSequencePart, Version::V4_0_0) => {
            Some(include_str!("../models/JustInSequencePart/4.0.0/example.json"))
        }
        (Model::SingleLevelBomAsBuilt, Version::V3_0_0) => {
            Some(include_str!("../models/SingleLevelBomAsBuilt/3.0.0/example.json"))
        }
        (Model::SingleLevelBomAsBuilt, Version::V4_0_0) => {
            Some(include_str!("../models/SingleLevelBomAsBuilt/4.0.0/example.json"))
        }
        (Model::SingleLevelUsageAsBuilt, Version::V3_0_0) => {
            Some(include_str!("../models/SingleLevelUsageAsBuilt/3.0.0/example.json"))
        }
        (Model::SingleLevelUsageAsBuilt, Version::V4_0_0) => {
            Some(include_str!("../models/SingleLevelUsageAsBuilt/4.0.0/example.json"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_aspect_has_a_schema_naming_its_own_semantic_id_and_an_example() {
        for aspect in Aspect::all() {
            let schema: serde_json::Value = serde_json::from_str(schema_text(aspect).unwrap_or_default())
                .unwrap_or_else(|error| panic!("{aspect}: {error}"));
            assert_eq!(schema["x-samm-aspect-model-urn"], aspect.urn().as_str(), "{aspect}");
            assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema", "{aspect}");
            serde_json::from_str::<serde_json::Value>(example_text(aspect).unwrap_or_default())
                .unwrap_or_else(|error| panic!("{aspect}: {error}"));
        }
        assert!(schema_text(Aspect::new(Model::JustInSequencePart, Version::V3_0_1)).is_none());
    }
}
