// SPDX-License-Identifier: Apache-2.0
//! `cargo xtask bench`: builds the release binary and prints
//! - time from process start to readiness (first 200 from /api/check/readiness), median of several starts,
//! - idle resident memory,
//! - Management API create and query throughput on SQLite and PostgreSQL, each also as a ratio to the health
//!   endpoint's throughput measured in the same run (the HTTP stack without a database).
//!
//! PostgreSQL figures need `TEST_POSTGRES_URL` (scripts/harness.sh up postgres); without it they are skipped.
//! The load goes to loopback only and is bounded in count.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const API_KEY: &str = "bench-key";
const STARTS: usize = 7;
const THREADS: usize = 8;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).map_err(|e| e.to_string())
}

struct Running {
    child: Child,
    health: u16,
    management: u16,
    /// The data plane's public API.
    public: u16,
    _dir: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

fn start(binary: &Path, database: Option<&str>) -> Result<(Running, Duration), String> {
    start_with(binary, database, free_port()?, &[])
}

/// Starts `dsc` with its protocol on `protocol_port` and extra environment settings.
fn start_with(
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

/// A minimal keep-alive HTTP/1.1 client, so the benchmark measures the connector and not a client library.
struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(port: u16) -> std::io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(Connection { reader: BufReader::new(stream) })
    }

    fn request(&mut self, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
        self.request_with(method, path, body, &format!("X-Api-Key: {API_KEY}"))
    }

    /// A request with one extra header line (`Name: value`).
    fn request_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
        header: &str,
    ) -> std::io::Result<(u16, String)> {
        let body = body.unwrap_or("");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line)?;
        let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).to_string()))
    }
}

/// Runs `total` requests over `THREADS` keep-alive connections; returns requests per second.
fn throughput(
    port: u16,
    total: usize,
    make: impl Fn(usize) -> (String, String, Option<String>) + Sync,
) -> Result<f64, String> {
    throughput_with(port, total, &format!("X-Api-Key: {API_KEY}"), make)
}

fn throughput_with(
    port: u16,
    total: usize,
    header: &str,
    make: impl Fn(usize) -> (String, String, Option<String>) + Sync,
) -> Result<f64, String> {
    let started = Instant::now();
    let failures = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (make, failures) = (&make, &failures);
            scope.spawn(move || {
                let Ok(mut connection) = Connection::open(port) else {
                    failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return;
                };
                for index in (thread..total).step_by(THREADS) {
                    let (method, path, body) = make(index);
                    match connection.request_with(&method, &path, body.as_deref(), header) {
                        Ok((200, _)) => {}
                        _ => {
                            failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let failed = failures.load(std::sync::atomic::Ordering::Relaxed);
    if failed > 0 {
        return Err(format!("{failed} of {total} requests failed"));
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn asset_body(index: usize) -> String {
    format!(
        r#"{{"@context":{{"@vocab":"https://w3id.org/edc/v0.0.1/ns/"}},"@id":"bench-{index}","properties":{{"name":"Asset {index}","line":"L{}"}},"dataAddress":{{"type":"HttpData","baseUrl":"https://backend.example/{index}"}}}}"#,
        index % 10
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_default()
}

/// Starts a provider and a consumer that trust each other, provisions one offer and returns both with the
/// contract request body for that offer.
/// A consumer and a provider that trust each other, the provider offering `asset-1` (data at `base_url`); returns
/// them and the consumer's contract request body.
fn negotiation_pair(
    binary: &Path,
    databases: Option<(&str, &str)>,
    base_url: &str,
) -> Result<(Running, Running, String), String> {
    let (consumer_port, provider_port) = (free_port()?, free_port()?);
    let did = |port: u16| format!("did:web:127.0.0.1%3A{port}");
    let participant = |own: u16, other: u16, bpn: &str| -> Vec<(&'static str, String)> {
        vec![
            ("EDC_PARTICIPANT_ID", did(own)),
            ("EDC_HOSTNAME", "127.0.0.1".into()),
            ("EDC_IAM_DID_WEB_USE_HTTPS", "false".into()),
            (
                "DSC_IAM_TRUST_FILE",
                format!("{{data}}/trust.toml\n[[participant]]\ndid = \"{}\"\nbpn = \"{bpn}\"\n", did(other)),
            ),
        ]
    };
    let (consumer, _) = start_with(
        binary,
        databases.map(|d| d.0),
        consumer_port,
        &participant(consumer_port, provider_port, "BPNL000000000001"),
    )?;
    let (provider, _) = start_with(
        binary,
        databases.map(|d| d.1),
        provider_port,
        &participant(provider_port, consumer_port, "BPNL000000000002"),
    )?;
    let mut admin = Connection::open(provider.management).map_err(|e| e.to_string())?;
    let edc = "https://w3id.org/edc/v0.0.1/ns/";
    for (path, body) in [
        (
            "/management/v3/assets",
            format!(
                r#"{{"@context":{{"@vocab":"{edc}"}},"@id":"asset-1","properties":{{}},"dataAddress":{{"type":"HttpData","baseUrl":"{base_url}","proxyPath":"true"}}}}"#
            ),
        ),
        (
            "/management/v3/policydefinitions",
            format!(
                r#"{{"@context":{{"@vocab":"{edc}"}},"@id":"bpn","policy":{{"@context":"http://www.w3.org/ns/odrl.jsonld","@type":"Set","permission":[{{"action":"use","constraint":[{{"leftOperand":"https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber","operator":"eq","rightOperand":"BPNL000000000002"}}]}}]}}}}"#
            ),
        ),
        (
            "/management/v3/contractdefinitions",
            format!(
                r#"{{"@context":{{"@vocab":"{edc}"}},"@id":"cd-1","accessPolicyId":"bpn","contractPolicyId":"bpn","assetsSelector":[{{"operandLeft":"{edc}id","operator":"=","operandRight":"asset-1"}}]}}"#
            ),
        ),
    ] {
        let (status, answer) = admin.request("POST", path, Some(&body)).map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("provisioning {path}: {status} {answer}"));
        }
    }
    let address = format!("http://127.0.0.1:{provider_port}/api/v1/dsp/2025-1");
    let mut client = Connection::open(consumer.management).map_err(|e| e.to_string())?;
    let catalog_request = format!(
        r#"{{"@context":{{"@vocab":"{edc}"}},"counterPartyAddress":"{address}","counterPartyId":"{}","protocol":"dataspace-protocol-http:2025-1"}}"#,
        did(provider_port)
    );
    let (status, catalog) =
        client.request("POST", "/management/v3/catalog/request", Some(&catalog_request)).map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("catalog: {status} {catalog}"));
    }
    let catalog = json(&catalog);
    let dataset =
        if catalog["dataset"].is_array() { catalog["dataset"][0].clone() } else { catalog["dataset"].clone() };
    let mut offer =
        if dataset["hasPolicy"].is_array() { dataset["hasPolicy"][0].clone() } else { dataset["hasPolicy"].clone() };
    offer["assigner"] = serde_json::Value::String(did(provider_port));
    offer["target"] = serde_json::Value::String("asset-1".into());
    let request = serde_json::json!({
        "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": edc }],
        "counterPartyAddress": address, "counterPartyId": did(provider_port),
        "protocol": "dataspace-protocol-http:2025-1", "policy": offer,
    });
    Ok((consumer, provider, request.to_string()))
}

fn negotiation_bench(
    label: &str,
    binary: &Path,
    databases: Option<(&str, &str)>,
    sequential: usize,
    concurrent: usize,
) -> Result<(), String> {
    let (consumer, _provider, request) = negotiation_pair(binary, databases, "http://127.0.0.1:9/unused")?;
    let mut connection = Connection::open(consumer.management).map_err(|e| e.to_string())?;
    let mut latencies = Vec::new();
    for _ in 0..sequential {
        let started = Instant::now();
        let (status, created) = connection
            .request("POST", "/management/v3/contractnegotiations", Some(&request))
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("negotiation: {status} {created}"));
        }
        let id = json(&created)["@id"].as_str().unwrap_or_default().to_string();
        loop {
            let (_, state) = connection
                .request("GET", &format!("/management/v3/contractnegotiations/{id}/state"), None)
                .map_err(|e| e.to_string())?;
            match json(&state)["state"].as_str() {
                Some("FINALIZED") => break,
                Some("TERMINATED") => return Err(format!("negotiation {id} terminated")),
                _ if started.elapsed() > Duration::from_secs(30) => return Err(format!("negotiation {id} stuck")),
                _ => std::thread::sleep(Duration::from_micros(500)),
            }
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;

    let started = Instant::now();
    throughput(consumer.management, concurrent, |_| {
        ("POST".into(), "/management/v3/contractnegotiations".into(), Some(request.clone()))
    })?;
    // "Are there `wanted` finalized negotiations?" asked as one element at offset wanted-1, so polling costs the
    // connector next to nothing and does not slow down what is measured.
    let wanted = sequential + concurrent;
    let query = format!(
        r#"{{"@context":{{"@vocab":"https://w3id.org/edc/v0.0.1/ns/"}},"offset":{},"limit":1,"filterExpression":[{{"operandLeft":"state","operator":"=","operandRight":"FINALIZED"}}]}}"#,
        wanted - 1
    );
    loop {
        let (_, finished) = connection
            .request("POST", "/management/v3/contractnegotiations/request", Some(&query))
            .map_err(|e| e.to_string())?;
        if json(&finished).as_array().is_some_and(|found| !found.is_empty()) {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Err(format!("fewer than {wanted} negotiations finalized in 120 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let rate = concurrent as f64 / started.elapsed().as_secs_f64();
    println!(
        "{label:<11} negotiation request -> FINALIZED seen by the consumer: p50 {:.1} ms, p99 {:.1} ms ({sequential} sequential) | {rate:.0} negotiations/s ({concurrent} concurrent)",
        percentile(0.5),
        percentile(0.99)
    );
    Ok(())
}

/// A backend answering every request with a small JSON body, on keep-alive connections; returns its port.
fn backend() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let Ok(writer) = stream.try_clone() else { return };
                let mut writer = writer;
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    // Read one request head (GETs carry no body).
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line.trim_end().is_empty() => break,
                            Ok(_) => {}
                        }
                    }
                    let body = r#"{"serial":"SN-4711","lot":7}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if writer.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

/// Transfer request → EDR available at the consumer (p50/p99), and the public API proxy's throughput against
/// calling the backend directly.
fn transfer_bench(
    label: &str,
    binary: &Path,
    databases: Option<(&str, &str)>,
    sequential: usize,
    requests: usize,
) -> Result<(), String> {
    let backend_port = backend()?;
    let (consumer, provider, request) =
        negotiation_pair(binary, databases, &format!("http://127.0.0.1:{backend_port}/parts"))?;
    let mut connection = Connection::open(consumer.management).map_err(|e| e.to_string())?;
    let wait =
        |connection: &mut Connection, path: &str, field: &str, wanted: &str| -> Result<serde_json::Value, String> {
            let started = Instant::now();
            loop {
                let (status, body) = connection.request("GET", path, None).map_err(|e| e.to_string())?;
                let body = json(&body);
                if status == 200 && (wanted.is_empty() || body[field] == wanted) {
                    return Ok(body);
                }
                if started.elapsed() > Duration::from_secs(30) {
                    return Err(format!("{path}: {body}"));
                }
                std::thread::sleep(Duration::from_micros(500));
            }
        };
    let (_, created) =
        connection.request("POST", "/management/v3/contractnegotiations", Some(&request)).map_err(|e| e.to_string())?;
    let negotiation = json(&created)["@id"].as_str().unwrap_or_default().to_string();
    let finalized =
        wait(&mut connection, &format!("/management/v3/contractnegotiations/{negotiation}"), "state", "FINALIZED")?;
    let agreement = finalized["contractAgreementId"].as_str().unwrap_or_default().to_string();
    let provider_address = json(&request)["counterPartyAddress"].as_str().unwrap_or_default().to_string();
    let transfer_request = serde_json::json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider_address,
        "contractId": agreement, "transferType": "HttpData-PULL",
    })
    .to_string();
    let mut latencies = Vec::new();
    let mut edr = serde_json::Value::Null;
    for _ in 0..sequential {
        let started = Instant::now();
        let (status, created) = connection
            .request("POST", "/management/v3/transferprocesses", Some(&transfer_request))
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("transfer: {status} {created}"));
        }
        let id = json(&created)["@id"].as_str().unwrap_or_default().to_string();
        edr = wait(&mut connection, &format!("/management/v3/edrs/{id}/dataaddress"), "", "")?;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    let token = edr["authorization"].as_str().unwrap_or_default().to_string();
    let direct =
        throughput_with(backend_port, requests, "Accept: */*", |_| ("GET".into(), "/parts/lot/7".into(), None))?;
    let proxied = throughput_with(provider.public, requests, &format!("Authorization: {token}"), |_| {
        ("GET".into(), "/public/lot/7".into(), None)
    })?;
    println!(
        "{label:<11} transfer request -> EDR at the consumer: p50 {:.1} ms, p99 {:.1} ms ({sequential} sequential; goal p50 < 20 ms) | public API proxy {proxied:.0} req/s vs backend direct {direct:.0} req/s ({:.2}x)",
        percentile(0.5),
        percentile(0.99),
        proxied / direct
    );
    Ok(())
}

/// The built-in OAuth server: registration latency (RFC 7591, p50/p99) and client_credentials token throughput,
/// the latter as a ratio to the health endpoint's throughput in the same run.
fn oauth_bench(binary: &Path, requests: usize) -> Result<(), String> {
    use base64::Engine;
    let oauth = free_port()?;
    let extra = [("DSC_OAUTH_SERVER_ENABLED", "true".to_string()), ("WEB_HTTP_OAUTH_PORT", oauth.to_string())];
    let (running, _) = start_with(binary, None, free_port()?, &extra)?;
    let initial = "bench-initial-access-token";
    let mut admin = Connection::open(running.management).map_err(|e| e.to_string())?;
    let secret = format!(
        r#"{{"@context":{{"@vocab":"https://w3id.org/edc/v0.0.1/ns/"}},"@id":"dsc-oauth-initial-access-token","value":"{initial}"}}"#
    );
    let (status, body) = admin.request("PUT", "/management/v3/secrets", Some(&secret)).map_err(|e| e.to_string())?;
    if status != 204 {
        return Err(format!("setting the initial access token: {status} {body}"));
    }
    let mut connection = Connection::open(oauth).map_err(|e| e.to_string())?;
    let registration = r#"{"client_name":"bench","grant_types":["client_credentials"]}"#;
    let mut latencies = Vec::new();
    let mut client = serde_json::Value::Null;
    for _ in 0..50 {
        let started = Instant::now();
        let (status, body) = connection
            .request_with("POST", "/oauth/register", Some(registration), &format!("Authorization: Bearer {initial}"))
            .map_err(|e| e.to_string())?;
        if status != 201 {
            return Err(format!("registration: {status} {body}"));
        }
        latencies.push(started.elapsed());
        client = json(&body);
    }
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        client["client_id"].as_str().unwrap_or_default(),
        client["client_secret"].as_str().unwrap_or_default()
    ));
    let health = throughput(running.health, requests, |_| ("GET".into(), "/api/check/liveness".into(), None))?;
    let tokens = throughput_with(oauth, requests, &format!("Authorization: Basic {credentials}"), |_| {
        ("POST".into(), "/oauth/token".into(), Some("grant_type=client_credentials".into()))
    })?;
    println!(
        "OAuth       registration p50 {:.1} ms, p99 {:.1} ms (50 sequential) | client_credentials tokens {tokens:.0}/s ({:.2}x the health endpoint's {health:.0} req/s)",
        percentile(0.5),
        percentile(0.99),
        tokens / health
    );
    Ok(())
}

const QUERY: &str = r#"{"@context":{"@vocab":"https://w3id.org/edc/v0.0.1/ns/"},"limit":10,"filterExpression":[{"operandLeft":"line","operator":"=","operandRight":"L3"}]}"#;

fn load(label: &str, binary: &Path, database: Option<&str>, requests: usize) -> Result<(), String> {
    let (running, _) = start(binary, database)?;
    let health = throughput(running.health, requests, |_| ("GET".into(), "/api/check/liveness".into(), None))?;
    let create = throughput(running.management, requests, |i| {
        ("POST".into(), "/management/v3/assets".into(), Some(asset_body(i)))
    })?;
    let query = throughput(running.management, requests, |_| {
        ("POST".into(), "/management/v3/assets/request".into(), Some(QUERY.into()))
    })?;
    println!(
        "{label:<11} baseline GET liveness {health:>8.0} req/s | create asset {create:>7.0} req/s ({:.2}x baseline) | query 10 of {requests} {query:>7.0} req/s ({:.2}x baseline)",
        create / health,
        query / health
    );
    Ok(())
}

pub fn run(args: &[String]) -> Result<(), String> {
    let requests = args.windows(2).find(|w| w[0] == "--requests").and_then(|w| w[1].parse().ok()).unwrap_or(2000usize);
    // `--binary` measures a prebuilt binary, e.g. one built with symbols for `perf record`.
    let binary = match args.windows(2).find(|w| w[0] == "--binary") {
        Some(pair) => PathBuf::from(&pair[1]),
        None => {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--release", "--locked", "-p", "dsc"])
                .current_dir(root())
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err("release build failed".into());
            }
            root().join("target/release/dsc")
        }
    };
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    println!(
        "dsc benchmark ({} CPUs, release binary {:.1} MiB)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        size as f64 / 1048576.0
    );

    let mut times = Vec::new();
    for _ in 0..STARTS {
        let (_, elapsed) = start(&binary, None)?;
        times.push(elapsed);
    }
    times.sort();
    let (first, median) = (times[0], times[times.len() / 2]);
    println!(
        "readiness   median {:>6.1} ms, best {:.1} ms over {STARTS} starts (SQLite, fresh data dir; goal < 100 ms)",
        median.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3
    );

    let (running, _) = start(&binary, None)?;
    std::thread::sleep(Duration::from_secs(2));
    let idle = rss_kib(running.child.id()).ok_or("cannot read /proc status")?;
    println!("idle RSS    {:>6.1} MiB after start (goal < 40 MiB)", idle as f64 / 1024.0);
    drop(running);

    load("SQLite", &binary, None, requests)?;
    oauth_bench(&binary, requests)?;
    negotiation_bench("SQLite", &binary, None, 50, 200)?;
    transfer_bench("SQLite", &binary, None, 50, requests)?;
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(admin) => {
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
            let names: Vec<String> = ["load", "consumer", "provider", "transfer_consumer", "transfer_provider"]
                .iter()
                .map(|n| format!("dsc_bench_{n}_{}", std::process::id()))
                .collect();
            for name in &names {
                let created = Command::new("psql")
                    .args([admin.as_str(), "-q", "-c", &format!("CREATE DATABASE {name}")])
                    .status();
                if !created.is_ok_and(|s| s.success()) {
                    return Err("cannot create the benchmark databases".into());
                }
            }
            let url = |name: &str| format!("{base}/{name}");
            let result = load("PostgreSQL", &binary, Some(&url(&names[0])), requests)
                .and_then(|_| {
                    negotiation_bench("PostgreSQL", &binary, Some((&url(&names[1]), &url(&names[2]))), 50, 1000)
                })
                .and_then(|_| {
                    transfer_bench("PostgreSQL", &binary, Some((&url(&names[3]), &url(&names[4]))), 50, requests)
                });
            for name in &names {
                let _ = Command::new("psql")
                    .args([admin.as_str(), "-q", "-c", &format!("DROP DATABASE {name} WITH (FORCE)")])
                    .status();
            }
            result?;
        }
        Err(_) => println!(
            "PostgreSQL  skipped: TEST_POSTGRES_URL not set (scripts/harness.sh up postgres; eval \"$(scripts/harness.sh env)\")"
        ),
    }
    // CX-0127 validation throughput per model (no infrastructure needed).
    cargo_bench("dsc-aspects", "validate")?;
    kafka_benches()
}

/// Runs a cargo bench of another crate: benchmarks that need its dependencies (librdkafka, JSON schema) live
/// there rather than in this dependency-light tool.
fn cargo_bench(package: &str, bench: &str) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["bench", "--locked", "-q", "-p", package, "--bench", bench])
        .current_dir(root())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("cargo bench -p {package} --bench {bench} failed")) }
}

/// The Kafka PULL benchmarks, when the harness is up.
fn kafka_benches() -> Result<(), String> {
    if std::env::var("TEST_KAFKA_ADMIN_BOOTSTRAP").is_err() {
        println!(
            "Kafka       skipped: no harness (scripts/harness.sh up oauth kafka; eval \"$(scripts/harness.sh env)\")"
        );
        return Ok(());
    }
    cargo_bench("dsc", "kafka_pull")?;
    cargo_bench("dsc-kafka-pull", "reconcile")
}
