// SPDX-License-Identifier: Apache-2.0
//! The settings this binary accepts: the core ones and those of every transfer type it can run.

use dsc_config::{ConfigError, SettingsRegistry};

pub fn registry() -> Result<SettingsRegistry, ConfigError> {
    SettingsRegistry::default().register::<dsc_kafka_pull::KafkaPullConfig>()?.register::<dsc_dcp_service::DcpConfig>()
}
