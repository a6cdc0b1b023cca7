// SPDX-License-Identifier: Apache-2.0
//! The settings a connector accepts: the core ones plus those plug-ins (transfer types) register.
//!
//! A plug-in declares its rows in the same [`Setting`] form as the core and reads its typed [`Section`] from the
//! checked values, so the core needs to know nothing about it: unknown keys stay errors, values are checked and
//! secrets redacted by the same loader.

use std::any::Any;
use std::sync::Arc;

use crate::connector::ConnectorConfig;
use crate::loader::{ConfigError, RawConfig};
use crate::settings::{SETTINGS, Setting};

/// A plug-in's typed part of the configuration.
pub trait Section: Any + std::fmt::Debug + Send + Sync + Sized {
    /// The plug-in's settings; a key the core or another plug-in declares already is refused.
    const SETTINGS: &'static [Setting];
    /// Defaults the plug-in gives core settings that have none of their own, as `(key, value)`: what the core can
    /// only leave open depends on the plug-ins that use it (e.g. the audience resource servers expect).
    const CORE_DEFAULTS: &'static [(&'static str, &'static str)] = &[];

    /// Reads the section once the core configuration is known; `None` when the plug-in is not configured.
    fn read(raw: &RawConfig, core: &ConnectorConfig) -> Result<Option<Self>, ConfigError>;
}

/// A section's value behind its type, as [`ConnectorConfig`] keeps it.
#[derive(Clone)]
pub(crate) struct SectionValue {
    pub(crate) name: &'static str,
    pub(crate) value: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for SectionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

type Reader = fn(&RawConfig, &ConnectorConfig) -> Result<Option<SectionValue>, ConfigError>;

fn read_section<S: Section>(raw: &RawConfig, core: &ConnectorConfig) -> Result<Option<SectionValue>, ConfigError> {
    Ok(S::read(raw, core)?.map(|section| SectionValue { name: std::any::type_name::<S>(), value: Arc::new(section) }))
}

#[derive(Clone)]
pub struct SettingsRegistry {
    settings: Vec<Setting>,
    readers: Vec<Reader>,
}

impl Default for SettingsRegistry {
    /// The core settings only.
    fn default() -> Self {
        SettingsRegistry { settings: SETTINGS.to_vec(), readers: Vec::new() }
    }
}

impl std::fmt::Debug for SettingsRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsRegistry")
            .field("settings", &self.settings.len())
            .field("sections", &self.readers.len())
            .finish()
    }
}

impl SettingsRegistry {
    /// Adds a plug-in's settings and section. Conflicts are programming errors, reported before anything is read.
    pub fn register<S: Section>(mut self) -> Result<Self, ConfigError> {
        for setting in S::SETTINGS {
            if self.find(setting.key).is_some() {
                return Err(conflict(setting.key, "it is declared twice"));
            }
            self.settings.push(*setting);
        }
        for (key, value) in S::CORE_DEFAULTS {
            let setting = self
                .settings
                .iter_mut()
                .find(|s| s.key == *key)
                .ok_or_else(|| conflict(key, "a default is given for a setting nobody declares"))?;
            if setting.default.is_some() {
                return Err(conflict(key, "it has a default already"));
            }
            if !setting.kind.check(value) {
                return Err(conflict(key, &format!("the default is not {}", setting.kind.describe())));
            }
            setting.default = Some(value);
        }
        self.readers.push(read_section::<S>);
        Ok(self)
    }

    pub fn find(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.key == key)
    }

    pub fn settings(&self) -> &[Setting] {
        &self.settings
    }

    /// Every registered section that is configured, in registration order.
    pub(crate) fn read_sections(
        &self,
        raw: &RawConfig,
        core: &ConnectorConfig,
    ) -> Result<Vec<SectionValue>, ConfigError> {
        let mut sections = Vec::new();
        for read in &self.readers {
            sections.extend(read(raw, core)?);
        }
        Ok(sections)
    }

    /// The settings table as text, for `dsc settings`.
    pub fn describe_all(&self) -> String {
        let mut out = String::new();
        for s in &self.settings {
            let default = s.default.unwrap_or("-");
            out.push_str(&format!(
                "{}\n    env: {}    default: {}    expects: {}\n    {}\n",
                s.key,
                crate::env_name(s.key),
                default,
                s.kind.describe(),
                s.description
            ));
        }
        out
    }
}

fn conflict(key: &str, reason: &str) -> ConfigError {
    ConfigError::Conflict { key: key.to_string(), reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Kind, secret, setting};

    /// A plug-in as a transfer type would write one.
    #[derive(Debug, PartialEq)]
    struct Echo {
        target: String,
        port: u16,
        audience: Option<String>,
    }

    impl Section for Echo {
        const SETTINGS: &'static [Setting] = &[
            setting("dsc.echo.target", Kind::HttpUrl, None, "Where echoes go; setting it enables the plug-in."),
            setting("dsc.echo.port", Kind::Port, Some("7"), "The echo port."),
            secret("dsc.echo.token", "The echo service's token."),
        ];
        const CORE_DEFAULTS: &'static [(&'static str, &'static str)] = &[("dsc.oauth.server.audience", "urn:echo")];

        fn read(raw: &RawConfig, core: &ConnectorConfig) -> Result<Option<Self>, ConfigError> {
            let Some(target) = raw.get("dsc.echo.target") else { return Ok(None) };
            if raw.get("dsc.echo.token").is_none() {
                return Err(ConfigError::Missing {
                    key: "dsc.echo.token".into(),
                    env: crate::env_name("dsc.echo.token"),
                    hint: "echoes are authenticated".into(),
                });
            }
            Ok(Some(Echo {
                target: target.to_string(),
                port: raw.number("dsc.echo.port")?,
                audience: core.oauth_server.as_ref().map(|server| server.audience.clone()),
            }))
        }
    }

    const MINIMAL: &str = "\"edc.participant.id\" = \"A\"\n\"edc.api.auth.key\" = \"k\"\n";

    fn registry() -> SettingsRegistry {
        SettingsRegistry::default().register::<Echo>().unwrap()
    }

    fn load(registry: &SettingsRegistry, toml: &str) -> Result<ConnectorConfig, ConfigError> {
        ConnectorConfig::from_raw(&RawConfig::from_toml_with(registry, toml, "test.toml")?)
    }

    #[test]
    fn a_plug_in_s_settings_are_unknown_until_it_is_registered() {
        let text = format!("{MINIMAL}\"dsc.echo.target\" = \"http://echo\"\n\"dsc.echo.token\" = \"t\"\n");
        let error = load(&SettingsRegistry::default(), &text).err();
        assert_eq!(error, Some(ConfigError::Unknown { key: "dsc.echo.target".into(), origin: "test.toml".into() }));
        let env = RawConfig::load(None, [("DSC_ECHO_PORT".to_string(), "8".to_string())]).err();
        assert_eq!(env, Some(ConfigError::Unknown { key: "DSC_ECHO_PORT".into(), origin: "the environment".into() }));
        let config = load(&registry(), &text).unwrap();
        assert_eq!(config.section::<Echo>(), Some(&Echo { target: "http://echo".into(), port: 7, audience: None }));
        let raw = RawConfig::load_with(&registry(), None, [("DSC_ECHO_PORT".to_string(), "8".to_string())]);
        assert_eq!(raw.map(|raw| raw.get("dsc.echo.port").map(str::to_string)), Ok(Some("8".into())));
    }

    #[test]
    fn a_plug_in_s_values_are_checked_and_its_secrets_redacted() {
        let text = format!("{MINIMAL}\"dsc.echo.target\" = \"echo\"\n");
        assert_eq!(
            load(&registry(), &text).err().map(|e| e.to_string()).as_deref(),
            Some(
                "invalid value 'echo' for setting 'dsc.echo.target' (from test.toml): expected an http:// or https:// URL"
            )
        );
        let raw = RawConfig::load_with(&registry(), None, [("DSC_ECHO_TOKEN".to_string(), " ".to_string())]);
        assert_eq!(
            raw.err().map(|e| e.to_string()).as_deref(),
            Some(
                "invalid value '<redacted>' for setting 'dsc.echo.token' (from environment variable DSC_ECHO_TOKEN): expected a non-empty string"
            )
        );
    }

    #[test]
    fn a_plug_in_reads_its_section_or_stops_the_start() {
        assert_eq!(load(&registry(), MINIMAL).map(|c| c.section::<Echo>().is_none()), Ok(true));
        let error = load(&registry(), &format!("{MINIMAL}\"dsc.echo.target\" = \"http://echo\"\n")).err();
        assert!(matches!(error, Some(ConfigError::Missing { key, .. }) if key == "dsc.echo.token"));
    }

    #[test]
    fn a_plug_in_may_give_a_core_setting_its_default() {
        let text = format!(
            "{MINIMAL}\"dsc.oauth.server.enabled\" = \"true\"\n\"dsc.oauth.server.issuer\" = \"http://as/oauth\"\n\
             \"dsc.echo.target\" = \"http://echo\"\n\"dsc.echo.token\" = \"t\"\n"
        );
        let core = load(&SettingsRegistry::default(), &text.replace("\"dsc.echo", "#"));
        assert_eq!(core.map(|c| c.oauth_server.map(|s| s.audience)), Ok(Some("http://as/oauth".into())));
        let config = load(&registry(), &text).unwrap();
        assert_eq!(config.oauth_server.map(|s| s.audience), Some("urn:echo".into()));
        assert!(
            registry()
                .describe_all()
                .contains("dsc.oauth.server.audience\n    env: DSC_OAUTH_SERVER_AUDIENCE    default: urn:echo")
        );
        assert!(registry().describe_all().contains("dsc.echo.port\n    env: DSC_ECHO_PORT    default: 7"));
    }

    #[test]
    fn conflicting_registrations_are_refused() {
        let twice = registry().register::<Echo>().err();
        assert_eq!(
            twice.map(|e| e.to_string()).as_deref(),
            Some("setting 'dsc.echo.target' cannot be registered: it is declared twice")
        );
        #[derive(Debug)]
        struct Rival;
        impl Section for Rival {
            const SETTINGS: &'static [Setting] = &[];
            const CORE_DEFAULTS: &'static [(&'static str, &'static str)] = &[("dsc.oauth.server.audience", "urn:x")];
            fn read(_: &RawConfig, _: &ConnectorConfig) -> Result<Option<Self>, ConfigError> {
                Ok(Some(Rival))
            }
        }
        let error = registry().register::<Rival>().err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("setting 'dsc.oauth.server.audience' cannot be registered: it has a default already")
        );
    }

    #[test]
    fn every_registered_default_is_valid() {
        for setting in registry().settings() {
            if let Some(default) = setting.default {
                assert!(setting.kind.check(default), "{}: {default}", setting.key);
            }
        }
    }
}
