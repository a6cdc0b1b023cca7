// SPDX-License-Identifier: Apache-2.0
//! The aspect models and versions this crate knows, and how a user names them.

use std::fmt;

/// One of the five CX-0127 Part Instance aspect models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    SerialPart,
    Batch,
    JustInSequencePart,
    SingleLevelBomAsBuilt,
    SingleLevelUsageAsBuilt,
}

impl Model {
    pub const ALL: [Model; 5] = [
        Model::SerialPart,
        Model::Batch,
        Model::JustInSequencePart,
        Model::SingleLevelBomAsBuilt,
        Model::SingleLevelUsageAsBuilt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Model::SerialPart => "SerialPart",
            Model::Batch => "Batch",
            Model::JustInSequencePart => "JustInSequencePart",
            Model::SingleLevelBomAsBuilt => "SingleLevelBomAsBuilt",
            Model::SingleLevelUsageAsBuilt => "SingleLevelUsageAsBuilt",
        }
    }

    /// The SAMM namespace, e.g. `io.catenax.serial_part`.
    pub fn namespace(self) -> &'static str {
        match self {
            Model::SerialPart => "io.catenax.serial_part",
            Model::Batch => "io.catenax.batch",
            Model::JustInSequencePart => "io.catenax.just_in_sequence_part",
            Model::SingleLevelBomAsBuilt => "io.catenax.single_level_bom_as_built",
            Model::SingleLevelUsageAsBuilt => "io.catenax.single_level_usage_as_built",
        }
    }

    /// Whether the model identifies a part (exactly one of these per twin) rather than relating parts.
    pub fn identifies_part(self) -> bool {
        matches!(self, Model::SerialPart | Model::Batch | Model::JustInSequencePart)
    }
}

/// A released version of a model. 3.0.0 is the one CX-0127 2.0.0 makes mandatory; 3.0.1 only fixes the example
/// of SerialPart and Batch; 4.0.0 renames fields and is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    V3_0_0,
    V3_0_1,
    V4_0_0,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V3_0_0 => "3.0.0",
            Version::V3_0_1 => "3.0.1",
            Version::V4_0_0 => "4.0.0",
        }
    }

    fn parse(text: &str) -> Option<Version> {
        match text {
            "3.0.0" => Some(Version::V3_0_0),
            "3.0.1" => Some(Version::V3_0_1),
            "4.0.0" => Some(Version::V4_0_0),
            _ => None,
        }
    }

    /// 3.0.x payloads share one shape; 4.0.0 renamed fields.
    pub fn is_v4(self) -> bool {
        self == Version::V4_0_0
    }
}

/// A model at a version: what a semantic id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aspect {
    pub model: Model,
    pub version: Version,
}

impl Aspect {
    pub const fn new(model: Model, version: Version) -> Aspect {
        Aspect { model, version }
    }

    /// Every model at every version bundled with this crate.
    pub fn all() -> Vec<Aspect> {
        let mut all = Vec::new();
        for model in Model::ALL {
            for version in [Version::V3_0_0, Version::V3_0_1, Version::V4_0_0] {
                let aspect = Aspect::new(model, version);
                if aspect.is_bundled() {
                    all.push(aspect);
                }
            }
        }
        all
    }

    /// Whether this crate carries the schema of this model version.
    pub fn is_bundled(self) -> bool {
        crate::schemas::schema_text(self).is_some()
    }

    /// The semantic id, e.g. `urn:samm:io.catenax.serial_part:3.0.0#SerialPart`.
    pub fn urn(self) -> String {
        format!("urn:samm:{}:{}#{}", self.model.namespace(), self.version.as_str(), self.model.name())
    }

    /// The name of the field holding the part's Catena-X id (renamed in 4.0.0).
    pub fn id_field(self) -> &'static str {
        if self.version.is_v4() { "globalAssetId" } else { "catenaXId" }
    }

    /// Resolves what a user or an asset says: a semantic id (`urn:samm:io.catenax.batch:3.0.0#Batch`, also without
    /// the `#Name` part), a model name (`SerialPart`, any case: the version CX-0127 requires), or a model name with a
    /// version (`SerialPart:4.0.0`, `SerialPart@4.0.0`).
    pub fn resolve(text: &str) -> Result<Aspect, UnknownAspect> {
        let unknown = || UnknownAspect(text.to_string());
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("urn:samm:") {
            let (namespace_version, element) = match rest.split_once('#') {
                Some((left, element)) => (left, Some(element)),
                None => (rest, None),
            };
            let (namespace, version) = namespace_version.rsplit_once(':').ok_or_else(unknown)?;
            let model = Model::ALL.into_iter().find(|model| model.namespace() == namespace).ok_or_else(unknown)?;
            let version = Version::parse(version).ok_or_else(unknown)?;
            if element.is_some_and(|element| element != model.name()) {
                return Err(unknown());
            }
            let aspect = Aspect::new(model, version);
            return if aspect.is_bundled() { Ok(aspect) } else { Err(unknown()) };
        }
        let (name, version) = match text.split_once([':', '@']) {
            Some((name, version)) => (name, Version::parse(version).ok_or_else(unknown)?),
            None => (text, Version::V3_0_0),
        };
        let model = Model::ALL.into_iter().find(|model| model.name().eq_ignore_ascii_case(name)).ok_or_else(unknown)?;
        let aspect = Aspect::new(model, version);
        if aspect.is_bundled() { Ok(aspect) } else { Err(unknown()) }
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.urn())
    }
}

/// A name that is none of the bundled aspect models; the message lists what is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown aspect model {0:?}; known: {known} (a model name alone means its CX-0127 version 3.0.0; add :<version> for another)",
    known = known_names()
)]
pub struct UnknownAspect(pub String);

fn known_names() -> String {
    Aspect::all().into_iter().map(Aspect::urn).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semantic_ids_resolve_to_their_model_and_version() {
        for aspect in Aspect::all() {
            assert_eq!(Aspect::resolve(&aspect.urn()), Ok(aspect));
        }
        assert_eq!(
            Aspect::resolve("urn:samm:io.catenax.single_level_bom_as_built:3.0.0#SingleLevelBomAsBuilt"),
            Ok(Aspect::new(Model::SingleLevelBomAsBuilt, Version::V3_0_0))
        );
        assert_eq!(Aspect::resolve("urn:samm:io.catenax.batch:4.0.0"), Ok(Aspect::new(Model::Batch, Version::V4_0_0)));
    }

    #[test]
    fn a_bare_name_means_the_mandatory_version() {
        assert_eq!(Aspect::resolve("SerialPart"), Ok(Aspect::new(Model::SerialPart, Version::V3_0_0)));
        assert_eq!(Aspect::resolve("serialpart"), Ok(Aspect::new(Model::SerialPart, Version::V3_0_0)));
        assert_eq!(Aspect::resolve("Batch:3.0.1"), Ok(Aspect::new(Model::Batch, Version::V3_0_1)));
        assert_eq!(
            Aspect::resolve("JustInSequencePart@4.0.0"),
            Ok(Aspect::new(Model::JustInSequencePart, Version::V4_0_0))
        );
    }

    #[test]
    fn unknown_names_and_versions_are_refused_with_the_known_list() {
        for text in [
            "Wheel",
            "SerialPart:2.0.0",
            "JustInSequencePart:3.0.1",
            "urn:samm:io.catenax.serial_part:3.0.0#Batch",
            "urn:samm:io.catenax.wheel:1.0.0#Wheel",
            "urn:samm:io.catenax.serial_part",
        ] {
            let Err(error) = Aspect::resolve(text) else { panic!("{text} resolved") };
            let message = error.to_string();
            assert!(message.starts_with(&format!("unknown aspect model {text:?}; known: ")), "{message}");
            assert!(message.contains("urn:samm:io.catenax.serial_part:3.0.0#SerialPart"), "{message}");
        }
    }
}
