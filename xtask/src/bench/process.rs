// SPDX-License-Identifier: Apache-2.0
//! Starting `dsc` processes for the benchmarks and reading their memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

pub(super) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

pub(super) fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).map_err(|e| e.to_string())
}

pub(super) struct Running {
    pub(super) child: Child,
    pub(super) health: u16,
    pub(super) management: u16,
    /// The data plane's public API.
    pub(super) public: u16,
    pub(super) _dir: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// `dsc issuer serve` for the DCP benchmarks: a did:web credential issuer on a free port.
pub(super) struct Issuer {
    child: Child,
    pub(super) port: u16,
    pub(super) did: String,
    dir: PathBuf,
}

pub(super) const ISSUER_KEY: &str = "bench-issuer-admin-key";

impl Issuer {
    pub(super) fn start(binary: &Path) -> Result<Issuer, String> {
        let port = free_port()?;
        let did = format!("did:web:127.0.0.1%3A{port}");
        let dir = std::env::temp_dir().join(format!("dsc-bench-issuer-{}-{port}", std::process::id()));
        let child = Command::new(binary)
            .args(["issuer", "serve", "--http", "--did", &did, "--state-dir"])
            .arg(&dir)
            .env("DSC_ISSUER_ADMIN_KEY", ISSUER_KEY)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the issuer: {e}"))?;
        let issuer = Issuer { child, port, did, dir };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(mut connection) = Connection::open(port)
                && connection.request("GET", "/.well-known/did.json", None).is_ok_and(|(status, _)| status == 200)
            {
                return Ok(issuer);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err("the issuer did not serve its DID document within 30 s".into())
    }

    /// Issues `holder` the three credentials every Catena-X request presents and stores them at its connector.
    pub(super) fn onboard(&self, holder: &str, bpn: &str, management: u16) -> Result<(), String> {
        let mut issuer = Connection::open(self.port).map_err(|e| e.to_string())?;
        let mut connector = Connection::open(management).map_err(|e| e.to_string())?;
        for kind in ["MembershipCredential", "BpnCredential", "DataExchangeGovernanceCredential"] {
            let body = format!(r#"{{"holder":"{holder}","type":"{kind}","bpn":"{bpn}"}}"#);
            let (status, issued) = issuer
                .request_with("POST", "/admin/credentials", Some(&body), &format!("Authorization: Bearer {ISSUER_KEY}"))
                .map_err(|e| e.to_string())?;
            if status != 201 {
                return Err(format!("issuing {kind}: {status} {issued}"));
            }
            let credential = json(&issued)["credential"].as_str().unwrap_or_default().to_string();
            let body = serde_json::json!({ "credential": credential }).to_string();
            let (status, stored) =
                connector.request("POST", "/management/v3/credentials", Some(&body)).map_err(|e| e.to_string())?;
            if status != 201 {
                return Err(format!("storing {kind}: {status} {stored}"));
            }
        }
        Ok(())
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(super) fn start(binary: &Path, database: Option<&str>) -> Result<(Running, Duration), String> {
    start_with(binary, database, free_port()?, &[])
}

/// Starts `dsc` with its protocol on `protocol_port` and extra environment settings.
pub(super) fn start_with(
    binary: &Path,
    database: Option<&str>,
    protocol_port: u16,
    extra: &[(&str, String)],
) -> Result<(Running, Duration), String> {
    let dir = std::env::temp_dir().join(format!("dsc-bench-{}-{}", std::process::id(), free_port()?));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (health, management, public) = (free_port()?, free_port()?, free_port()?);
    let mut command = Command::new(binary);
    command
        .args(["run"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("EDC_PARTICIPANT_ID", "BPNLBENCH")
        .env("EDC_API_AUTH_KEY", API_KEY)
        .env("DSC_DATA_DIR", &dir)
        .env("DSC_HTTP_BIND_ADDRESS", "127.0.0.1")
        .env("DSC_LOG_LEVEL", "warn")
        .env("WEB_HTTP_PORT", health.to_string())
        .env("WEB_HTTP_MANAGEMENT_PORT", management.to_string())
        .env("WEB_HTTP_PROTOCOL_PORT", protocol_port.to_string())
        .env("WEB_HTTP_CONTROL_PORT", free_port()?.to_string())
        .env("WEB_HTTP_PUBLIC_PORT", public.to_string())
        .env("EDC_DATAPLANE_API_PUBLIC_BASEURL", format!("http://127.0.0.1:{public}/public"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // `DSC_BENCH_LOGS=<dir>` keeps each connector's log there (`<protocol port>.log`), e.g. to weigh a log level.
    if let Ok(logs) = std::env::var("DSC_BENCH_LOGS") {
        let file = std::fs::File::create(Path::new(&logs).join(format!("{protocol_port}.log")))
            .map_err(|e| format!("DSC_BENCH_LOGS: {e}"))?;
        command.stderr(Stdio::from(file));
    }
    // `DSC_BENCH_SET_<SETTING>=value` gives every benchmarked connector that setting (e.g. a pool size to compare).
    for (name, value) in std::env::vars() {
        if let Some(setting) = name.strip_prefix("DSC_BENCH_SET_") {
            command.env(setting, value);
        }
    }
    if let Some(url) = database {
        command.env("EDC_DATASOURCE_DEFAULT_URL", url);
    }
    for (name, value) in extra {
        // A file the settings point at (the trust list) lives in the data directory.
        let value = value.replace("{data}", &dir.display().to_string());
        if name.ends_with("_TRUST_FILE") {
            let (path, content) = value.split_once('\n').unwrap_or((&value, ""));
            std::fs::write(path, content).map_err(|e| e.to_string())?;
            command.env(name, path);
        } else {
            command.env(name, value);
        }
    }
    let started = Instant::now();
    let child = command.spawn().map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let mut running = Running { child, health, management, public, _dir: dir };
    loop {
        if started.elapsed() > Duration::from_secs(30) {
            return Err("dsc did not become ready within 30 s".into());
        }
        if let Ok(Some(status)) = running.child.try_wait() {
            return Err(format!("dsc exited with {status} before it was ready"));
        }
        if let Ok(mut connection) = Connection::open(health)
            && connection.request("GET", "/api/check/readiness", None).is_ok_and(|(status, _)| status == 200)
        {
            return Ok((running, started.elapsed()));
        }
        // Sub-millisecond polling keeps the measurement honest for a target of < 100 ms.
        std::thread::sleep(Duration::from_micros(500));
        let _ = &mut running;
    }
}

pub(super) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}
