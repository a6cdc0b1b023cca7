// SPDX-License-Identifier: Apache-2.0
//! Helpers for tests that run `dsc` as a real process.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";

pub const DSC: &str = env!("CARGO_BIN_EXE_dsc");

/// A port nobody listens on, chosen below the kernel's ephemeral range (32768+): a port taken from `:0` could be
/// handed out again to another test's `:0` listener or an outgoing connection before our process binds it.
/// Ports handed out in this process are never handed out twice; the harness's ports are avoided.
pub fn free_port() -> u16 {
    use std::sync::Mutex;
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let mut candidate = 20_000 + (seed ^ std::process::id().wrapping_mul(2_654_435_761)) % 9_000;
    let Ok(mut given) = GIVEN.lock() else { return 0 };
    for _ in 0..9_000 {
        candidate = 20_000 + (candidate - 20_000 + 7) % 9_000;
        let port = u16::try_from(candidate).unwrap_or(0);
        if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.push(port);
            return port;
        }
    }
    0
}

/// A command with a clean environment: no inherited EDC_/WEB_HTTP_/DSC_ variables.
pub fn dsc(args: &[&str]) -> Command {
    let mut command = Command::new(DSC);
    command.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

pub async fn wait_ready(health_port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = format!("http://127.0.0.1:{health_port}/api/check/readiness");
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("dsc exited early with {status}");
        }
        if let Ok(response) = super::client().get(&url).send().await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("dsc not ready within 20 s");
}

/// A connector process with its own ports, DID (`did:web:127.0.0.1%3A<protocol port>`) and data directory,
/// restartable on the same data.
pub struct Node {
    pub health: u16,
    pub management: u16,
    pub protocol: u16,
    pub did: String,
    pub config: PathBuf,
    pub log: PathBuf,
    /// `run` (a connector) or `dataplane` (a standalone data plane).
    pub subcommand: &'static str,
    child: Option<Child>,
}

impl Node {
    /// Writes the configuration; `trusted` are (DID, BPN) pairs; `extra` more TOML lines.
    pub fn new(dir: &Path, name: &str, trusted: &[(String, String)], extra: &str) -> Self {
        let (health, management, protocol, control) = (free_port(), free_port(), free_port(), free_port());
        Self::with_ports(dir, name, trusted, extra, (health, management, protocol, control))
    }

    pub fn with_ports(
        dir: &Path,
        name: &str,
        trusted: &[(String, String)],
        extra: &str,
        ports: (u16, u16, u16, u16),
    ) -> Self {
        let (health, management, protocol, control) = ports;
        let did = format!("did:web:127.0.0.1%3A{protocol}");
        let data = dir.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let trust: String = trusted
            .iter()
            .map(|(did, bpn)| format!("[[participant]]\ndid = \"{did}\"\nbpn = \"{bpn}\"\nmembership = \"active\"\nframework_agreements = [\"DataExchangeGovernance:1.0\"]\n"))
            .collect();
        let trust_file = data.join("trust.toml");
        std::fs::write(&trust_file, trust).unwrap();
        let config = data.join("dsc.toml");
        let text = format!(
            "\"edc.participant.id\" = \"{did}\"\n\"edc.api.auth.key\" = \"{key}\"\n\"dsc.data.dir\" = \"{data}\"\n\
             \"dsc.http.bind.address\" = \"127.0.0.1\"\n\"edc.hostname\" = \"127.0.0.1\"\n\"web.http.port\" = {health}\n\
             \"web.http.management.port\" = {management}\n\"web.http.protocol.port\" = {protocol}\n\
             \"web.http.control.port\" = {control}\n\"web.http.public.port\" = {public}\n\"edc.iam.did.web.use.https\" = \"false\"\n\
             \"dsc.iam.trust.file\" = \"{trust}\"\n{extra}",
            key = super::API_KEY,
            data = data.display(),
            trust = trust_file.display(),
            public = free_port(),
        );
        std::fs::write(&config, text).unwrap();
        Node { health, management, protocol, did, config, log: data.join("dsc.log"), subcommand: "run", child: None }
    }

    /// A connector on DCP (no trust list), trusting `issuer`'s credentials; `extra` more TOML lines.
    pub fn on_dcp(dir: &Path, name: &str, issuer: &str, extra: &str) -> Self {
        let (health, management, protocol, control) = (free_port(), free_port(), free_port(), free_port());
        let did = format!("did:web:127.0.0.1%3A{protocol}");
        let data = dir.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let config = data.join("dsc.toml");
        let text = format!(
            "\"edc.participant.id\" = \"{did}\"\n\"edc.api.auth.key\" = \"{key}\"\n\"dsc.data.dir\" = \"{data}\"\n\
             \"dsc.http.bind.address\" = \"127.0.0.1\"\n\"edc.hostname\" = \"127.0.0.1\"\n\"web.http.port\" = {health}\n\
             \"web.http.management.port\" = {management}\n\"web.http.protocol.port\" = {protocol}\n\
             \"web.http.control.port\" = {control}\n\"web.http.public.port\" = {public}\n\"edc.iam.did.web.use.https\" = \"false\"\n\
             \"dsc.iam.dcp.trusted.issuers\" = \"{issuer}\"\n{extra}",
            key = super::API_KEY,
            data = data.display(),
            public = free_port(),
        );
        std::fs::write(&config, text).unwrap();
        Node { health, management, protocol, did, config, log: data.join("dsc.log"), subcommand: "run", child: None }
    }

    /// A second replica of `primary`: same participant (DID, key via the shared vault file), same database (in
    /// `extra`), its own ports and log.
    pub fn replica_of(dir: &Path, name: &str, primary: &Node, extra: &str) -> Self {
        let (health, management, protocol, control) = (free_port(), free_port(), free_port(), free_port());
        let data = dir.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let primary_data = primary.config.parent().map(Path::to_path_buf).unwrap_or_default();
        let config = data.join("dsc.toml");
        let text = format!(
            "\"edc.participant.id\" = \"{did}\"\n\"edc.api.auth.key\" = \"{key}\"\n\"dsc.data.dir\" = \"{data}\"\n\
             \"dsc.vault.file\" = \"{vault}\"\n\"dsc.vault.key.file\" = \"{vault_key}\"\n\
             \"dsc.http.bind.address\" = \"127.0.0.1\"\n\"edc.hostname\" = \"127.0.0.1\"\n\"web.http.port\" = {health}\n\
             \"web.http.management.port\" = {management}\n\"web.http.protocol.port\" = {protocol}\n\
             \"web.http.control.port\" = {control}\n\"web.http.public.port\" = {public}\n\"edc.iam.did.web.use.https\" = \"false\"\n\
             \"dsc.iam.trust.file\" = \"{trust}\"\n{extra}",
            did = primary.did,
            public = free_port(),
            key = super::API_KEY,
            data = data.display(),
            vault = primary_data.join("vault.json").display(),
            vault_key = primary_data.join("vault.key").display(),
            trust = primary_data.join("trust.toml").display(),
        );
        std::fs::write(&config, text).unwrap();
        Node {
            health,
            management,
            protocol,
            did: primary.did.clone(),
            config,
            log: data.join("dsc.log"),
            subcommand: "run",
            child: None,
        }
    }

    /// A consumer and a provider (not started) that trust each other: the consumer knows the provider as
    /// BPNL000000000001, the provider the consumer as BPNL000000000002; each with its own extra settings.
    pub fn trusting_pair(dir: &Path, consumer_extra: &str, provider_extra: &str) -> (Node, Node) {
        let ports = || (free_port(), free_port(), free_port(), free_port());
        let (consumer_ports, provider_ports) = (ports(), ports());
        let did = |ports: (u16, u16, u16, u16)| format!("did:web:127.0.0.1%3A{}", ports.2);
        let consumer = Node::with_ports(
            dir,
            "consumer",
            &[(did(provider_ports), "BPNL000000000001".into())],
            consumer_extra,
            consumer_ports,
        );
        let provider = Node::with_ports(
            dir,
            "provider",
            &[(did(consumer_ports), "BPNL000000000002".into())],
            provider_extra,
            provider_ports,
        );
        (consumer, provider)
    }

    pub async fn start(&mut self) {
        self.start_logging("info").await;
    }

    /// Starts with this log filter (`RUST_LOG`), e.g. `trace` to see everything the process would ever log.
    pub async fn start_logging(&mut self, filter: &str) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let mut child = dsc(&[self.subcommand, "--config", &self.config.to_string_lossy()])
            .env("RUST_LOG", filter)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        wait_ready(self.health, &mut child).await;
        self.child = Some(child);
    }

    /// A standalone data plane serving `provider`'s participant: signaling on `control` (shared `key`), the public
    /// API on `public`, trusting the same participants as the provider; it registers with the control plane at
    /// `register_with` (a control port) when given.
    pub fn data_plane(
        dir: &Path,
        name: &str,
        provider: &Node,
        control: u16,
        public: u16,
        key: &str,
        register_with: Option<u16>,
    ) -> Self {
        let health = free_port();
        let data = dir.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let provider_data = provider.config.parent().map(Path::to_path_buf).unwrap_or_default();
        let config = data.join("dsc.toml");
        let text = format!(
            "\"edc.participant.id\" = \"{did}\"\n\"dsc.data.dir\" = \"{data}\"\n\"dsc.http.bind.address\" = \"127.0.0.1\"\n\
             \"edc.hostname\" = \"127.0.0.1\"\n\"web.http.port\" = {health}\n\"web.http.control.port\" = {control}\n\
             \"web.http.public.port\" = {public}\n\"dsc.signaling.auth.key\" = \"{key}\"\n\
             \"edc.iam.did.web.use.https\" = \"false\"\n\"dsc.iam.trust.file\" = \"{trust}\"\n{registration}",
            registration = register_with
                .map(|port| format!("\"dsc.dataplane.controlplane.url\" = \"http://127.0.0.1:{port}/control\"\n"))
                .unwrap_or_default(),
            did = provider.did,
            data = data.display(),
            trust = provider_data.join("trust.toml").display(),
        );
        std::fs::write(&config, text).unwrap();
        Node {
            health,
            management: 0,
            protocol: 0,
            did: provider.did.clone(),
            config,
            log: data.join("dsc.log"),
            subcommand: "dataplane",
            child: None,
        }
    }

    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `kill -9`: no shutdown, no flush.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn management_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/management{path}", self.management)
    }

    pub fn protocol_address(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1/dsp/2025-1", self.protocol)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.crash();
    }
}

// ---- Management API steps shared by the multi-process tests ----

pub async fn post(url: String, body: &Value) -> super::Reply {
    super::send(reqwest::Method::POST, &url, Some(super::API_KEY), Some(body.to_string())).await
}

pub async fn provision(provider: &Node, consumer_bpn: &str) {
    provision_with(provider, consumer_bpn, json!({ "type": "HttpData", "baseUrl": "https://backend.internal" })).await;
}

/// Asset `asset-1` with `data_address`, offered to `consumer_bpn` only.
pub async fn provision_with(provider: &Node, consumer_bpn: &str, data_address: Value) {
    provision_asset(provider, consumer_bpn, data_address, json!({})).await;
}

/// `provision_with`, the asset carrying `properties` (shown on its catalog dataset).
pub async fn provision_asset(provider: &Node, consumer_bpn: &str, data_address: Value, properties: Value) {
    let bodies = [
        (
            "/v3/assets",
            json!({ "@context": { "@vocab": EDC }, "@id": "asset-1", "properties": properties, "dataAddress": data_address }),
        ),
        (
            "/v3/policydefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "bpn", "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set",
            "permission": [{ "action": "use", "constraint": [{ "leftOperand": "https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber", "operator": "eq", "rightOperand": consumer_bpn }] }] } }),
        ),
        (
            "/v3/contractdefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "cd-1", "accessPolicyId": "bpn", "contractPolicyId": "bpn",
            "assetsSelector": [{ "operandLeft": format!("{EDC}id"), "operator": "=", "operandRight": "asset-1" }] }),
        ),
    ];
    for (path, body) in bodies {
        assert_eq!(post(provider.management_url(path), &body).await.status, 200, "{path}");
    }
}

pub async fn contract_request(consumer: &Node, provider: &Node) -> Value {
    let catalog = post(
        consumer.management_url("/v3/catalog/request"),
        &json!({ "@context": { "@vocab": EDC }, "counterPartyAddress": provider.protocol_address(), "counterPartyId": provider.did,
                 "protocol": "dataspace-protocol-http:2025-1" }),
    )
    .await;
    assert_eq!(catalog.status, 200, "{}", catalog.body);
    let dataset = &catalog.body["dataset"];
    let dataset = if dataset.is_array() { dataset[0].clone() } else { dataset.clone() };
    let counter_party = dsc_kafka_client::Provider { address: provider.protocol_address(), id: provider.did.clone() };
    dsc_kafka_client::contract_request(&dataset, "asset-1", &counter_party)
        .unwrap_or_else(|| panic!("the catalog offers asset-1 under no policy: {}", catalog.body))
}

pub async fn all(node: &Node, path: &str) -> Vec<Value> {
    let reply = post(node.management_url(path), &json!({ "@context": { "@vocab": EDC }, "limit": 10000 })).await;
    reply.body.as_array().cloned().unwrap_or_default()
}

/// Starts `count` negotiations for `request` on `consumer` at once; returns the tasks answering with the replies.
pub fn start_negotiations(
    consumer: &Node,
    request: &Value,
    count: usize,
) -> Vec<tokio::task::JoinHandle<super::Reply>> {
    let url = consumer.management_url("/v3/contractnegotiations");
    (0..count)
        .map(|_| {
            let (url, request) = (url.clone(), request.clone());
            tokio::spawn(async move { post(url, &request).await })
        })
        .collect()
}

/// Waits until `node` holds `count` negotiations, all FINALIZED or TERMINATED; panics with the logs otherwise.
pub async fn wait_until_all_ended(node: &Node, count: usize, others: &[&Node], timeout: Duration) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let negotiations = all(node, "/v3/contractnegotiations/request").await;
        let open =
            negotiations.iter().filter(|n| !matches!(n["state"].as_str(), Some("FINALIZED" | "TERMINATED"))).count();
        if open == 0 && negotiations.len() == count {
            return negotiations;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = others.iter().map(|other| other.log_tail()).collect();
            panic!("{open} negotiations still open\n{}\n{}", node.log_tail(), logs.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
