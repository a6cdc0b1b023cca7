// SPDX-License-Identifier: Apache-2.0
//! The processes of the demo: a single-node Kafka broker (Apache Kafka's own jars on a JVM) trusting the provider's
//! built-in OAuth server, the dataspace's credential issuer (`dsc issuer serve`) and one `dsc run` per participant,
//! each trusting that issuer (DCP). Everything is killed when dropped, so an error or Ctrl-C leaves nothing running.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::DemoError;

/// Who takes part, with their BPN (the issuer puts it into each participant's credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Participant {
    SupplierA,
    Oem,
    MachineBuilder,
    AnalyticsFirm,
}

impl Participant {
    pub const ALL: [Participant; 4] =
        [Participant::SupplierA, Participant::Oem, Participant::MachineBuilder, Participant::AnalyticsFirm];

    pub fn slug(self) -> &'static str {
        match self {
            Participant::SupplierA => "supplier-a",
            Participant::Oem => "oem",
            Participant::MachineBuilder => "machine-builder",
            Participant::AnalyticsFirm => "analytics-firm",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Participant::SupplierA => "Supplier A (provider)",
            Participant::Oem => "OEM",
            Participant::MachineBuilder => "Machine builder",
            Participant::AnalyticsFirm => "Analytics firm",
        }
    }

    pub fn bpn(self) -> &'static str {
        match self {
            Participant::SupplierA => "BPNL1000000001SA",
            Participant::Oem => "BPNL2000000002OE",
            Participant::MachineBuilder => "BPNL3000000003MB",
            Participant::AnalyticsFirm => "BPNL4000000004AN",
        }
    }

    fn index(self) -> u16 {
        match self {
            Participant::SupplierA => 0,
            Participant::Oem => 1,
            Participant::MachineBuilder => 2,
            Participant::AnalyticsFirm => 3,
        }
    }

    /// The Management API key; a demo value, printed by `--keep-running`.
    pub fn api_key(self) -> String {
        format!("{}-key", self.slug())
    }
}

/// Every port of the demo, laid out from one base: participant `i` uses `base + 10 i ..`, Kafka `base + 40 ..`.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub base: u16,
}

impl Ports {
    fn of(self, participant: Participant, offset: u16) -> u16 {
        self.base + 10 * participant.index() + offset
    }
    pub fn health(self, p: Participant) -> u16 {
        self.of(p, 1)
    }
    pub fn management(self, p: Participant) -> u16 {
        self.of(p, 3)
    }
    pub fn protocol(self, p: Participant) -> u16 {
        self.of(p, 4)
    }
    fn control(self, p: Participant) -> u16 {
        self.of(p, 2)
    }
    fn public(self, p: Participant) -> u16 {
        self.of(p, 5)
    }
    pub fn oauth(self) -> u16 {
        self.of(Participant::SupplierA, 6)
    }
    /// The provider's own listener (SASL/PLAIN admin and producer).
    pub fn kafka_internal(self) -> u16 {
        self.base + 40
    }
    /// The consumers' listener (SASL/OAUTHBEARER).
    pub fn kafka_oauth(self) -> u16 {
        self.base + 41
    }
    fn kafka_controller(self) -> u16 {
        self.base + 42
    }
    /// The dataspace's credential issuer.
    pub fn credential_issuer(self) -> u16 {
        self.base + 46
    }
    pub fn credential_issuer_url(self) -> String {
        format!("http://127.0.0.1:{}", self.credential_issuer())
    }
    pub fn credential_issuer_did(self) -> String {
        format!("did:web:127.0.0.1%3A{}", self.credential_issuer())
    }

    pub fn management_url(self, p: Participant) -> String {
        format!("http://127.0.0.1:{}/management", self.management(p))
    }
    pub fn protocol_url(self, p: Participant) -> String {
        format!("http://127.0.0.1:{}/api/v1/dsp/2025-1", self.protocol(p))
    }
    pub fn did(self, p: Participant) -> String {
        format!("did:web:127.0.0.1%3A{}", self.protocol(p))
    }
    pub fn issuer(self) -> String {
        format!("http://127.0.0.1:{}/oauth", self.oauth())
    }

    /// Fails naming the first port something else already listens on.
    pub fn check_free(self) -> Result<(), DemoError> {
        let mut ports: Vec<u16> = Participant::ALL
            .iter()
            .flat_map(|p| [self.health(*p), self.management(*p), self.protocol(*p), self.control(*p), self.public(*p)])
            .collect();
        ports.extend([
            self.oauth(),
            self.kafka_internal(),
            self.kafka_oauth(),
            self.kafka_controller(),
            self.credential_issuer(),
        ]);
        for port in ports {
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                return Err(DemoError::step(
                    "start",
                    format!("port {port} is in use (another demo still running? choose --port-base)"),
                ));
            }
        }
        Ok(())
    }
}

pub const KAFKA_ADMIN_USER: &str = "admin";
pub const KAFKA_ADMIN_PASSWORD: &str = "admin-secret";
/// The credential issuer's admin key; a demo value.
pub const ISSUER_ADMIN_KEY: &str = "demo-issuer-admin-key";

/// A child process killed on drop, with the log it writes to.
pub struct Process {
    pub name: String,
    pub log: PathBuf,
    child: Child,
}

impl Process {
    fn spawn(name: &str, mut command: Command, log: PathBuf) -> Result<Process, DemoError> {
        let file = std::fs::File::create(&log).map_err(|e| DemoError::step(name, format!("{}: {e}", log.display())))?;
        let copy = file.try_clone().map_err(|e| DemoError::step(name, e.to_string()))?;
        let child = command
            .stdout(Stdio::from(copy))
            .stderr(Stdio::from(file))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| DemoError::step(name, format!("cannot start: {e}")))?;
        Ok(Process { name: name.to_string(), log, child })
    }

    /// An error naming the process if it has exited.
    pub fn check_alive(&mut self) -> Result<(), DemoError> {
        match self.child.try_wait() {
            Ok(Some(status)) => {
                Err(DemoError::step(&self.name, format!("exited with {status}; its log is {}", self.log.display())))
            }
            _ => Ok(()),
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The connector configuration of `participant`: embedded data plane, SQLite, DCP trusting the demo's issuer, and
/// for the provider the built-in OAuth server and Kafka PULL against the demo broker.
fn connector_config(ports: Ports, participant: Participant, dir: &Path) -> String {
    let mut text = format!(
        "\"edc.participant.id\" = \"{did}\"\n\"edc.api.auth.key\" = \"{key}\"\n\"dsc.data.dir\" = \"{data}\"\n\
         \"dsc.http.bind.address\" = \"127.0.0.1\"\n\"edc.hostname\" = \"127.0.0.1\"\n\"web.http.port\" = {health}\n\
         \"web.http.management.port\" = {management}\n\"web.http.protocol.port\" = {protocol}\n\
         \"web.http.control.port\" = {control}\n\"web.http.public.port\" = {public}\n\
         \"edc.iam.did.web.use.https\" = \"false\"\n\"dsc.iam.dcp.trusted.issuers\" = \"{issuer}\"\n",
        did = ports.did(participant),
        key = participant.api_key(),
        data = dir.display(),
        health = ports.health(participant),
        management = ports.management(participant),
        protocol = ports.protocol(participant),
        control = ports.control(participant),
        public = ports.public(participant),
        issuer = ports.credential_issuer_did(),
    );
    if participant == Participant::SupplierA {
        text.push_str(&format!(
            "\"dsc.oauth.server.enabled\" = \"true\"\n\"web.http.oauth.port\" = {oauth}\n\
             \"dsc.kafka.admin.bootstrap.servers\" = \"127.0.0.1:{kafka}\"\n\"dsc.kafka.admin.username\" = \"{user}\"\n\
             \"dsc.kafka.reconciler.interval.seconds\" = 30\n",
            oauth = ports.oauth(),
            kafka = ports.kafka_internal(),
            user = KAFKA_ADMIN_USER,
        ));
    }
    text
}

/// Starts `dsc run` for `participant` and waits until it is ready.
pub async fn start_connector(
    dsc: &Path,
    ports: Ports,
    participant: Participant,
    work: &Path,
) -> Result<Process, DemoError> {
    let step = format!("start {}", participant.title());
    let dir = work.join(participant.slug());
    std::fs::create_dir_all(&dir).map_err(|e| DemoError::step(&step, format!("{}: {e}", dir.display())))?;
    let config = dir.join("dsc.toml");
    std::fs::write(&config, connector_config(ports, participant, &dir))
        .map_err(|e| DemoError::step(&step, format!("{}: {e}", config.display())))?;
    let mut command = Command::new(dsc);
    command.args(["run", "--config", &config.display().to_string()]).env("RUST_LOG", "info");
    clean_environment(&mut command);
    let mut process = Process::spawn(&step, command, dir.join("dsc.log"))?;
    let url = format!("http://127.0.0.1:{}/api/check/readiness", ports.health(participant));
    wait_ready(&mut process, &step, &url).await?;
    Ok(process)
}

/// Settings come from the files only: an EDC_/WEB_HTTP_ variable of the caller's shell must not move a port.
fn clean_environment(command: &mut Command) {
    for (name, _) in std::env::vars() {
        if name.starts_with("EDC_")
            || name.starts_with("WEB_HTTP_")
            || name.starts_with("DSC_")
            || name.starts_with("TX_")
        {
            command.env_remove(name);
        }
    }
}

/// Waits until `url` answers 2xx; fails when the process exits or after 30 s.
async fn wait_ready(process: &mut Process, step: &str, url: &str) -> Result<(), DemoError> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        process.check_alive()?;
        if let Ok(response) = http.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(DemoError::step(step, format!("not ready within 30 s; see {}", process.log.display())));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts the dataspace's credential issuer (`dsc issuer serve`) and waits until its DID document is served.
pub async fn start_issuer(dsc: &Path, ports: Ports, work: &Path) -> Result<Process, DemoError> {
    let step = "start the credential issuer";
    let dir = work.join("issuer");
    std::fs::create_dir_all(&dir).map_err(|e| DemoError::step(step, format!("{}: {e}", dir.display())))?;
    let mut command = Command::new(dsc);
    command
        .args(["issuer", "serve", "--http", "--did", &ports.credential_issuer_did(), "--state-dir"])
        .arg(&dir)
        .env("DSC_ISSUER_ADMIN_KEY", ISSUER_ADMIN_KEY)
        .env("RUST_LOG", "info");
    let mut process = Process::spawn(step, command, dir.join("issuer.log"))?;
    let url = format!("{}/.well-known/did.json", ports.credential_issuer_url());
    wait_ready(&mut process, step, &url).await?;
    Ok(process)
}

/// A single-node KRaft broker: SASL/PLAIN for the provider's own clients, SASL/OAUTHBEARER validated against the
/// provider's JWKS for consumers, ACLs enforced.
fn broker_properties(ports: Ports, data: &Path) -> String {
    let (internal, oauth, controller) = (ports.kafka_internal(), ports.kafka_oauth(), ports.kafka_controller());
    let issuer = ports.issuer();
    format!(
        "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:{controller}\n\
         controller.listener.names=CONTROLLER\n\
         listeners=INTERNAL://127.0.0.1:{internal},CONTROLLER://127.0.0.1:{controller},OAUTH://127.0.0.1:{oauth}\n\
         advertised.listeners=INTERNAL://127.0.0.1:{internal},OAUTH://127.0.0.1:{oauth}\n\
         listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT,OAUTH:SASL_PLAINTEXT\n\
         inter.broker.listener.name=INTERNAL\nsasl.mechanism.inter.broker.protocol=PLAIN\nsasl.enabled.mechanisms=PLAIN\n\
         log.dirs={data}\nnum.partitions=1\nauto.create.topics.enable=false\ngroup.initial.rebalance.delay.ms=0\n\
         offsets.topic.replication.factor=1\noffsets.topic.num.partitions=1\ntransaction.state.log.replication.factor=1\n\
         transaction.state.log.min.isr=1\nshare.coordinator.state.topic.replication.factor=1\n\
         share.coordinator.state.topic.min.isr=1\n\
         listener.name.internal.sasl.enabled.mechanisms=PLAIN\n\
         listener.name.internal.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
         username=\"{user}\" password=\"{password}\" user_{user}=\"{password}\";\n\
         listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER\n\
         listener.name.oauth.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;\n\
         listener.name.oauth.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler\n\
         listener.name.oauth.oauthbearer.sasl.oauthbearer.jwks.endpoint.url={issuer}/jwks\n\
         listener.name.oauth.oauthbearer.sasl.oauthbearer.expected.issuer={issuer}\n\
         listener.name.oauth.oauthbearer.sasl.oauthbearer.expected.audience=urn:kafka:broker\n\
         listener.name.oauth.oauthbearer.sasl.oauthbearer.sub.claim.name=sub\n\
         listener.name.oauth.oauthbearer.sasl.oauthbearer.clock.skew.seconds=5\n\
         listener.name.oauth.oauthbearer.connections.max.reauth.ms=10000\n\
         authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n\
         super.users=User:{user};User:ANONYMOUS\nallow.everyone.if.no.acl.found=false\n",
        data = data.display(),
        user = KAFKA_ADMIN_USER,
        password = KAFKA_ADMIN_PASSWORD,
    )
}

fn java(java: &str, lib: &Path, jwks: &str) -> Command {
    let mut command = Command::new(java);
    command.args([
        "-Xms128m",
        "-Xmx512m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        &format!("-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls={jwks}"),
        "-cp",
        &format!("{}/*", lib.display()),
    ]);
    command
}

/// Formats a fresh log directory and starts the broker; returns once the provider's admin login works.
pub async fn start_broker(java_path: &str, lib: &Path, ports: Ports, work: &Path) -> Result<Process, DemoError> {
    let step = "start Kafka";
    let fail = |reason: String| DemoError::step(step, reason);
    if !lib.join(".").is_dir() || std::fs::read_dir(lib).map(|mut d| d.next().is_none()).unwrap_or(true) {
        return Err(fail(format!(
            "no Kafka jars in {} (scripts/harness.sh fetch kafka puts them there)",
            lib.display()
        )));
    }
    let dir = work.join("kafka");
    std::fs::create_dir_all(&dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
    let config = dir.join("server.properties");
    std::fs::write(&config, broker_properties(ports, &dir.join("data"))).map_err(|e| fail(e.to_string()))?;
    let jwks = format!("{}/jwks", ports.issuer());
    let config_arg = config.display().to_string();
    let format = java(java_path, lib, &jwks)
        .args(["kafka.tools.StorageTool", "format", "-t", "ZGVtby1jbHVzdGVyLWlkAA", "-c", &config_arg])
        .output()
        .await
        .map_err(|e| fail(format!("cannot run {java_path}: {e}")))?;
    if !format.status.success() {
        return Err(fail(format!("formatting the log directory failed: {}", String::from_utf8_lossy(&format.stderr))));
    }
    let mut command = java(java_path, lib, &jwks);
    command.args(["kafka.Kafka", &config_arg]);
    let mut process = Process::spawn(step, command, dir.join("kafka.log"))?;
    let admin = dsc_kafka_admin::KafkaAdmin::new(
        format!("127.0.0.1:{}", ports.kafka_internal()),
        KAFKA_ADMIN_USER,
        KAFKA_ADMIN_PASSWORD,
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    while admin.all_acls().await.is_err() {
        process.check_alive()?;
        if Instant::now() > deadline {
            return Err(fail(format!("the broker is not ready after 90 s; see {}", process.log.display())));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(process)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_of_different_participants_never_overlap() {
        let ports = Ports { base: 31000 };
        let mut all: Vec<u16> = Participant::ALL
            .iter()
            .flat_map(|p| {
                [ports.health(*p), ports.management(*p), ports.protocol(*p), ports.control(*p), ports.public(*p)]
            })
            .collect();
        all.extend([
            ports.oauth(),
            ports.kafka_internal(),
            ports.kafka_oauth(),
            ports.kafka_controller(),
            ports.credential_issuer(),
        ]);
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count);
    }

    #[test]
    fn every_connector_trusts_the_demo_issuer_and_no_trust_list() {
        let ports = Ports { base: 31000 };
        let config = connector_config(ports, Participant::Oem, Path::new("/tmp/oem"));
        assert!(config.contains(&format!("\"dsc.iam.dcp.trusted.issuers\" = \"{}\"", ports.credential_issuer_did())));
        assert!(!config.contains("trust.file"));
    }
}
