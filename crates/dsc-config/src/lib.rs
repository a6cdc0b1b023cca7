// SPDX-License-Identifier: Apache-2.0
//! Configuration.
//!
//! Every setting is declared once with its type, default and description: the core ones in
//! [`settings::SETTINGS`], a plug-in's (a transfer type's) in its [`Section`], registered in a [`SettingsRegistry`];
//! `dsc settings` prints that table. Values come from a TOML file (dotted keys or nested tables, EDC names such as
//! `edc.participant.id`) and are overridden by environment variables named after the key (`EDC_PARTICIPANT_ID`).
//! Unknown keys and invalid values stop the start with a message naming the key, the value, where it came from
//! and what is expected. Values of secret settings never appear in messages.

mod connector;
mod loader;
mod registry;
pub mod settings;
mod telemetry;
mod vault;

pub use connector::{
    ApiKeySource, ConnectorConfig, LogFormat, NegotiationRoleConfig, OAuthServerConfig, StateMachineConfig, WebContext,
};
pub use loader::{ConfigError, RawConfig, env_name};
pub use registry::{Section, SettingsRegistry};
pub use telemetry::TraceExport;
pub use vault::{VaultBackend, VaultKeySource};
