// SPDX-License-Identifier: Apache-2.0
//! The official JSON schemas and example payloads, bundled verbatim from eclipse-tractusx/sldt-semantic-models
//! (CC-BY-4.0; attribution in `models/SOURCES.md`), so validation never needs the network.

use crate::model::{Aspect, Model, Version};

/// One bundled model version: its schema and its official example, read from `models/<Model>/<version>/`.
struct Bundled {
    model: Model,
    version: Version,
    schema: &'static str,
    example: &'static str,
}

macro_rules! bundled {
    ($model:ident, $version:ident, $dir:literal) => {
        Bundled {
            model: Model::$model,
            version: Version::$version,
            schema: include_str!(concat!("../models/", $dir, "/schema.json")),
            example: include_str!(concat!("../models/", $dir, "/example.json")),
        }
    };
}

/// Every bundled model version (3.0.1 exists for SerialPart and Batch only).
const BUNDLED: [Bundled; 12] = [
    bundled!(SerialPart, V3_0_0, "SerialPart/3.0.0"),
    bundled!(SerialPart, V3_0_1, "SerialPart/3.0.1"),
    bundled!(SerialPart, V4_0_0, "SerialPart/4.0.0"),
    bundled!(Batch, V3_0_0, "Batch/3.0.0"),
    bundled!(Batch, V3_0_1, "Batch/3.0.1"),
    bundled!(Batch, V4_0_0, "Batch/4.0.0"),
    bundled!(JustInSequencePart, V3_0_0, "JustInSequencePart/3.0.0"),
    bundled!(JustInSequencePart, V4_0_0, "JustInSequencePart/4.0.0"),
    bundled!(SingleLevelBomAsBuilt, V3_0_0, "SingleLevelBomAsBuilt/3.0.0"),
    bundled!(SingleLevelBomAsBuilt, V4_0_0, "SingleLevelBomAsBuilt/4.0.0"),
    bundled!(SingleLevelUsageAsBuilt, V3_0_0, "SingleLevelUsageAsBuilt/3.0.0"),
    bundled!(SingleLevelUsageAsBuilt, V4_0_0, "SingleLevelUsageAsBuilt/4.0.0"),
];

fn bundled(aspect: Aspect) -> Option<&'static Bundled> {
    BUNDLED.iter().find(|entry| entry.model == aspect.model && entry.version == aspect.version)
}

/// The JSON schema text of an aspect (OpenAPI-style `components/schemas`, draft-04).
pub fn schema_text(aspect: Aspect) -> Option<&'static str> {
    bundled(aspect).map(|entry| entry.schema)
}

/// The official example payload of an aspect. The 3.0.0 examples of SerialPart, Batch and JustInSequencePart are
/// not valid against their own schema (a local date-time without an offset); see `validate::KNOWN_DEFECT`.
pub fn example_text(aspect: Aspect) -> Option<&'static str> {
    bundled(aspect).map(|entry| entry.example)
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
