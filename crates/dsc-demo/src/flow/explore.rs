// SPDX-License-Identifier: Apache-2.0
//! `--keep-running`: what an explorer with Insomnia needs (URLs, API keys, Kafka address, running transfers),
//! printed and written to `demo.json`, then waiting for a signal.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Demo, interrupted};
use crate::DemoError;
use crate::stack::Participant;

impl Demo {
    /// After the last step: what an explorer with Insomnia needs, printed and written to `demo.json`; then waits.
    pub(super) async fn keep_running(&mut self) -> Result<(), DemoError> {
        let ports = self.ports;
        let connectors: Vec<Value> = Participant::ALL
            .iter()
            .map(|p| {
                json!({ "name": p.title(), "bpn": p.bpn(), "did": ports.did(*p),
                    "management": ports.management_url(*p), "apiKey": p.api_key(), "dsp": ports.protocol_url(*p) })
            })
            .collect();
        let transfers: Vec<Value> = self
            .readers
            .iter()
            .filter(|r| r.is_running())
            .map(|r| json!({ "asset": r.topic.asset(), "topic": r.topic.name(), "transfer": r.transfer }))
            .collect();
        let info = json!({ "connectors": connectors, "transfers": transfers,
            "kafka": { "oauthBootstrap": format!("127.0.0.1:{}", ports.kafka_oauth()),
                       "providerBootstrap": format!("127.0.0.1:{}", ports.kafka_internal()) },
            "insomnia": { "provider_management": ports.management_url(Participant::SupplierA),
                          "provider_key": Participant::SupplierA.api_key(),
                          "provider_dsp": ports.protocol_url(Participant::SupplierA),
                          "provider_id": ports.did(Participant::SupplierA),
                          "consumer_management": ports.management_url(Participant::Oem),
                          "consumer_key": Participant::Oem.api_key() } });
        let mut text = vec![String::new(), "Still running (Ctrl-C stops everything):".to_string()];
        for connector in &connectors {
            text.push(format!(
                "  {:<22} {}",
                connector["name"].as_str().unwrap_or_default(),
                connector["management"].as_str().unwrap_or_default()
            ));
            text.push(format!("  {:<22} X-Api-Key: {}", "", connector["apiKey"].as_str().unwrap_or_default()));
        }
        text.push(format!("  Kafka (OAUTHBEARER)    127.0.0.1:{}", ports.kafka_oauth()));
        for transfer in &transfers {
            text.push(format!(
                "  transfer {} {}",
                transfer["transfer"].as_str().unwrap_or_default(),
                transfer["asset"].as_str().unwrap_or_default()
            ));
        }
        text.push("  Insomnia collection: examples/insomnia/dsc-demo.json".to_string());
        text.push(format!("  All of this as JSON: {}", self.options.dir.join("demo.json").display()));
        if let Ok(mut screen) = self.screen.lock() {
            screen.message(&text.join("\n"));
        }
        let file = self.options.dir.join("demo.json");
        let pretty = serde_json::to_string_pretty(&info).unwrap_or_default();
        std::fs::write(&file, pretty)
            .map_err(|e| DemoError::step("keep running", format!("{}: {e}", file.display())))?;
        let mut check = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = interrupted() => return Ok(()),
                _ = check.tick() => {
                    for process in &mut self.processes {
                        process.check_alive()?;
                    }
                }
            }
        }
    }
}
