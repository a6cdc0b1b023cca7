// SPDX-License-Identifier: Apache-2.0
//! Reading and checking raw settings.

use std::collections::BTreeMap;
use std::path::Path;

use crate::registry::SettingsRegistry;
use crate::settings::Setting;

/// Environment variables with these prefixes are read as settings; an unknown one is an error, as in a file.
const ENV_PREFIXES: &[&str] = &["EDC_", "WEB_HTTP_", "DSC_"];
/// Environment variables of the client subcommands; the connector leaves them alone.
const CLIENT_PREFIX: &str = "DSC_CLIENT_";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("configuration file {path} is not valid TOML: {reason}")]
    Syntax { path: String, reason: String },
    #[error("unknown setting '{key}' in {origin}; run `dsc settings` to list the settings")]
    Unknown { key: String, origin: String },
    #[error("invalid value '{value}' for setting '{key}' (from {origin}): expected {expected}")]
    Invalid { key: String, value: String, origin: String, expected: String },
    #[error("missing setting '{key}' (or environment variable {env}): {hint}")]
    Missing { key: String, env: String, hint: String },
    #[error("setting '{key}' cannot be registered: {reason}")]
    Conflict { key: String, reason: String },
}

/// `edc.participant.id` → `EDC_PARTICIPANT_ID`.
pub fn env_name(key: &str) -> String {
    key.chars().map(|c| if c == '.' || c == '-' { '_' } else { c.to_ascii_uppercase() }).collect()
}

#[derive(Debug, Clone)]
struct Entry {
    value: String,
    origin: String,
}

/// Checked settings: every key is registered and every value has the right form.
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    values: BTreeMap<&'static str, Entry>,
    registry: SettingsRegistry,
}

impl RawConfig {
    /// Reads the optional file, then the environment (which wins), knowing the core settings only.
    pub fn load(
        file: Option<&Path>,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::load_with(&SettingsRegistry::default(), file, environment)
    }

    /// Like [`RawConfig::load`], knowing the settings of `registry` (core and plug-ins).
    pub fn load_with(
        registry: &SettingsRegistry,
        file: Option<&Path>,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = RawConfig { values: BTreeMap::new(), registry: registry.clone() };
        if let Some(path) = file {
            let source = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::Read { path: source.clone(), reason: e.to_string() })?;
            config.merge_toml(&text, &source)?;
        }
        let by_env: BTreeMap<String, Setting> =
            config.registry.settings().iter().map(|s| (env_name(s.key), *s)).collect();
        let mut environment: Vec<(String, String)> = environment.into_iter().collect();
        environment.sort();
        for (name, value) in environment {
            match by_env.get(&name) {
                Some(setting) => config.set(*setting, value, format!("environment variable {name}"))?,
                // Read by the client subcommands (`dsc consume`, `dsc produce`), not by the connector.
                None if name.starts_with(CLIENT_PREFIX) => {}
                None if ENV_PREFIXES.iter().any(|prefix| name.starts_with(prefix)) => {
                    return Err(ConfigError::Unknown { key: name, origin: "the environment".into() });
                }
                None => {}
            }
        }
        Ok(config)
    }

    /// Parses TOML text on its own (used by tests and by `load`), knowing the core settings only.
    pub fn from_toml(text: &str, source: &str) -> Result<Self, ConfigError> {
        Self::from_toml_with(&SettingsRegistry::default(), text, source)
    }

    /// Like [`RawConfig::from_toml`], knowing the settings of `registry` (core and plug-ins).
    pub fn from_toml_with(registry: &SettingsRegistry, text: &str, source: &str) -> Result<Self, ConfigError> {
        let mut config = RawConfig { values: BTreeMap::new(), registry: registry.clone() };
        config.merge_toml(text, source)?;
        Ok(config)
    }

    /// The settings these values were checked against.
    pub fn registry(&self) -> &SettingsRegistry {
        &self.registry
    }

    fn merge_toml(&mut self, text: &str, source: &str) -> Result<(), ConfigError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax { path: source.into(), reason: e.to_string() })?;
        let mut flat = Vec::new();
        flatten("", &toml::Value::Table(table), &mut flat);
        for (key, value) in flat {
            let setting = *self
                .registry
                .find(&key)
                .ok_or_else(|| ConfigError::Unknown { key: key.clone(), origin: source.to_string() })?;
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => {
                    return Err(ConfigError::Invalid {
                        key,
                        value: other.to_string(),
                        origin: source.to_string(),
                        expected: setting.kind.describe(),
                    });
                }
            };
            self.set(setting, text, source.to_string())?;
        }
        Ok(())
    }

    fn set(&mut self, setting: Setting, value: String, origin: String) -> Result<(), ConfigError> {
        if !setting.kind.check(&value) {
            let shown = if setting.secret { "<redacted>".to_string() } else { value };
            return Err(ConfigError::Invalid {
                key: setting.key.to_string(),
                value: shown,
                origin,
                expected: setting.kind.describe(),
            });
        }
        self.values.insert(setting.key, Entry { value, origin });
        Ok(())
    }

    /// The value, or the registered default.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|e| e.value.as_str()).or_else(|| self.registry.find(key).and_then(|s| s.default))
    }

    /// Where a value came from, for messages.
    pub fn source(&self, key: &str) -> String {
        self.values.get(key).map(|e| e.origin.clone()).unwrap_or_else(|| "the default".into())
    }

    pub fn is_set(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    pub fn required(&self, key: &str, hint: &str) -> Result<&str, ConfigError> {
        self.get(key).ok_or_else(|| ConfigError::Missing { key: key.into(), env: env_name(key), hint: hint.into() })
    }

    /// A value whose form the registry already checked, parsed to a number. Registered defaults are valid.
    pub fn number<T: std::str::FromStr>(&self, key: &str) -> Result<T, ConfigError> {
        let value = self.get(key).unwrap_or_default();
        value.parse().map_err(|_| ConfigError::Invalid {
            key: key.into(),
            value: value.into(),
            origin: self.source(key),
            expected: self.registry.find(key).map(|s| s.kind.describe()).unwrap_or_default(),
        })
    }
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
    match value {
        toml::Value::Table(table) => {
            for (key, child) in table {
                let full = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                // A table that is also a setting's own key cannot happen: settings are leaves.
                flatten(&full, child, out);
            }
        }
        leaf => out.push((prefix.to_string(), leaf.clone())),
    }
}
