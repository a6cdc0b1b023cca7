// SPDX-License-Identifier: Apache-2.0
//! System tests of the `dsc` binary as a real process: command line, configuration errors, fail-fast start,
//! readiness, graceful shutdown, and where secrets may (not) end up.

use crate::support;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::process::{dsc, free_port, wait_ready};
use support::{API_KEY, fresh_postgres_database, send};

fn write_config(dir: &Path, extra: &str) -> (std::path::PathBuf, u16, u16) {
    let (health, management) = (free_port(), free_port());
    let text = format!(
        "\"edc.participant.id\" = \"BPNL000000000001\"\n\"edc.api.auth.key\" = \"{API_KEY}\"\n\"dsc.data.dir\" = \"{}\"\n\
         \"dsc.http.bind.address\" = \"127.0.0.1\"\n\"web.http.port\" = {health}\n\"web.http.management.port\" = {management}\n\
         \"web.http.protocol.port\" = {}\n\"web.http.control.port\" = {}\n\"web.http.public.port\" = {}\n{extra}",
        dir.display(),
        free_port(),
        free_port(),
        free_port()
    );
    let path = dir.join("dsc.toml");
    std::fs::write(&path, text).unwrap();
    (path, health, management)
}

fn output_of(command: &mut Command) -> (i32, String, String) {
    let output = command.output().expect("cannot run dsc");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

fn terminate(child: &mut Child) -> (i32, String) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        assert!(Instant::now() < deadline, "dsc did not stop within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut logs = String::new();
    if let Some(stderr) = child.stderr.as_mut() {
        let _ = stderr.read_to_string(&mut logs);
    }
    (status.code().unwrap_or(-1), logs)
}

#[test]
fn version_and_help() {
    let (code, stdout, _) = output_of(&mut dsc(&["--version"]));
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), format!("dsc {}", env!("CARGO_PKG_VERSION")));
    let (code, stdout, _) = output_of(&mut dsc(&["run", "--help"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("--config"));
    let (code, stdout, _) = output_of(&mut dsc(&["settings"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("edc.participant.id\n    env: EDC_PARTICIPANT_ID"));
}

#[test]
fn configuration_errors_stop_the_start_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, _) = write_config(dir.path(), "\"edc.participant.idd\" = \"x\"\n");
    let (code, _, stderr) = output_of(&mut dsc(&["run", "--config", &path.to_string_lossy()]));
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        format!(
            "dsc: configuration error: unknown setting 'edc.participant.idd' in {}; run `dsc settings` to list the settings",
            path.display()
        )
    );

    let (path, _, _) = write_config(dir.path(), "");
    let (code, _, stderr) =
        output_of(dsc(&["run", "--config", &path.to_string_lossy()]).env("WEB_HTTP_MANAGEMENT_PORT", "http"));
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "dsc: configuration error: invalid value 'http' for setting 'web.http.management.port' (from environment variable WEB_HTTP_MANAGEMENT_PORT): expected a port number from 1 to 65535"
    );
    let (code, _, stderr) = output_of(&mut dsc(&["run", "--config", "/nonexistent/dsc.toml"]));
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("dsc: configuration error: cannot read configuration file /nonexistent/dsc.toml:"),
        "{stderr}"
    );
}

#[test]
fn a_standalone_data_plane_that_cannot_register_stops_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dataplane.toml");
    let closed = free_port();
    let text = format!(
        "\"edc.participant.id\" = \"did:web:provider.example\"\n\"dsc.signaling.auth.key\" = \"k\"\n\
         \"dsc.data.dir\" = \"{}\"\n\"dsc.http.bind.address\" = \"127.0.0.1\"\n\"web.http.port\" = {}\n\
         \"web.http.control.port\" = {}\n\"web.http.public.port\" = {}\n\
         \"dsc.dataplane.controlplane.url\" = \"http://127.0.0.1:{closed}/control\"\n",
        dir.path().display(),
        free_port(),
        free_port(),
        free_port()
    );
    std::fs::write(&path, text).unwrap();
    let (code, _, stderr) = output_of(&mut dsc(&["dataplane", "--config", &path.to_string_lossy()]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "dsc: start failed: cannot register with the control plane at http://127.0.0.1:{closed}/control: error sending request"
        )),
        "{stderr}"
    );
}

#[test]
fn a_standalone_data_plane_refuses_to_start_without_the_signaling_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dataplane.toml");
    std::fs::write(&path, "\"edc.participant.id\" = \"did:web:provider.example\"\n").unwrap();
    let (code, _, stderr) = output_of(&mut dsc(&["dataplane", "--config", &path.to_string_lossy()]));
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        "dsc: configuration error: missing setting 'dsc.signaling.auth.key' (or environment variable DSC_SIGNALING_AUTH_KEY): a standalone data plane only accepts signals carrying the key its control plane shares"
    );
}

#[test]
fn an_unreachable_database_fails_the_start_fast_and_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, _) =
        write_config(dir.path(), "\"edc.datasource.default.url\" = \"postgres://dsc@127.0.0.1:1/dsc\"\n");
    let started = Instant::now();
    let (code, _, stderr) = output_of(
        dsc(&["run", "--config", &path.to_string_lossy()]).env("EDC_DATASOURCE_DEFAULT_PASSWORD", "db-secret-pw"),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    assert!(
        stderr.contains(
            "dsc: start failed: cannot use database postgres://dsc:***@127.0.0.1:1/dsc: database unavailable:"
        ) && stderr.contains("Connection refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("db-secret-pw"));
}

#[tokio::test]
async fn serves_until_sigterm_then_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (path, health, management) = write_config(dir.path(), "");
    let mut child = dsc(&["run", "--config", &path.to_string_lossy(), "--log-format", "json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(health, &mut child).await;
    let reply = send(
        reqwest::Method::POST,
        &format!("http://127.0.0.1:{management}/management/v3/assets/request"),
        Some(API_KEY),
        None,
    )
    .await;
    assert_eq!(reply.status, 200);
    let (code, logs) = terminate(&mut child);
    assert_eq!(code, 0, "{logs}");
    let lines: Vec<serde_json::Value> = logs.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(lines.iter().any(|l| l["message"] == "connector ready"), "JSON logs: {logs}");
    assert!(lines.iter().any(|l| l["message"] == "SIGTERM received, shutting down"));
    assert!(lines.iter().any(|l| l["message"] == "stopped"));
}

/// A request still open (a client that sent half its body and waits) cannot hold a SIGTERM up beyond
/// `dsc.shutdown.timeout.seconds`.
#[tokio::test]
async fn sigterm_is_bounded_by_the_shutdown_timeout_even_with_a_request_open() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (path, health, management) = write_config(dir.path(), "\"dsc.shutdown.timeout.seconds\" = 2\n");
    let mut child = dsc(&["run", "--config", &path.to_string_lossy(), "--log-format", "json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(health, &mut child).await;
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", management)).unwrap();
    let head = format!(
        "POST /management/v3/assets HTTP/1.1\r\nHost: dsc\r\nX-Api-Key: {API_KEY}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{\"@id\": "
    );
    slow.write_all(head.as_bytes()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let (code, logs) = terminate(&mut child);
    let took = started.elapsed();
    assert_eq!(code, 0, "{logs}");
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(6), "stopped after {took:?}: {logs}");
    assert!(logs.contains("still running after dsc.shutdown.timeout.seconds"), "{logs}");
    drop(slow);
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Puts a secret into the vault through the API, makes an asset reference it, and proves the value is in
/// neither the database nor the logs, and not readable from the vault file without the key.
async fn secret_stays_in_the_vault(database_url: Option<&str>) -> (tempfile::TempDir, String) {
    const SECRET: &str = "Zq8-unmistakable-secret-value-41";
    let dir = tempfile::tempdir().unwrap();
    let extra = database_url.map(|url| format!("\"edc.datasource.default.url\" = \"{url}\"\n")).unwrap_or_default();
    let (path, health, management) = write_config(dir.path(), &extra);
    let mut child = dsc(&["run", "--config", &path.to_string_lossy()])
        .env("RUST_LOG", "trace")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(health, &mut child).await;
    let base = format!("http://127.0.0.1:{management}/management");
    let edc = "https://w3id.org/edc/v0.0.1/ns/";
    let secret = json!({ "@context": { "@vocab": edc }, "@type": "Secret", "@id": "backend-secret", "value": SECRET });
    assert_eq!(
        send(reqwest::Method::POST, &format!("{base}/v3/secrets"), Some(API_KEY), Some(secret.to_string()))
            .await
            .status,
        200
    );
    let asset = json!({ "@context": { "@vocab": edc }, "@id": "a1", "properties": {},
        "dataAddress": { "type": "HttpData", "baseUrl": "https://backend", "oauth2:clientSecretKey": "backend-secret" } });
    assert_eq!(
        send(reqwest::Method::POST, &format!("{base}/v3/assets"), Some(API_KEY), Some(asset.to_string())).await.status,
        200
    );
    let fetched = send(reqwest::Method::GET, &format!("{base}/v3/secrets/backend-secret"), Some(API_KEY), None).await;
    assert!(!fetched.body.to_string().contains(SECRET));
    let (code, logs) = terminate(&mut child);
    assert_eq!(code, 0);
    assert!(logs.contains("secret stored"), "trace logs were captured");
    assert!(!logs.contains(SECRET), "the secret reached the logs");
    let vault = std::fs::read(dir.path().join("vault.json")).unwrap_or_default();
    assert!(!vault.is_empty() && !contains(&vault, SECRET), "the vault file holds the secret in clear text");
    if database_url.is_none() {
        for file in ["dsc.db", "dsc.db-wal", "dsc.db-shm"] {
            let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
            assert!(!contains(&bytes, SECRET), "{file} holds the secret");
        }
        assert!(
            contains(&std::fs::read(dir.path().join("dsc.db")).unwrap_or_default(), "backend-secret")
                || contains(&std::fs::read(dir.path().join("dsc.db-wal")).unwrap_or_default(), "backend-secret"),
            "the reference itself is stored"
        );
    }
    (dir, SECRET.to_string())
}

#[tokio::test]
async fn a_vault_secret_never_reaches_sqlite_or_the_logs() {
    secret_stays_in_the_vault(None).await;
}

#[tokio::test]
async fn a_vault_secret_never_reaches_postgresql_or_the_logs() {
    let Some(url) = fresh_postgres_database().await else { return };
    let (_dir, secret) = secret_stays_in_the_vault(Some(&url)).await;
    let dump = Command::new("pg_dump").args(["--data-only", &url]).output().expect("pg_dump");
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    assert!(contains(&dump.stdout, "backend-secret"), "the dump holds the reference");
    assert!(!contains(&dump.stdout, &secret), "PostgreSQL holds the secret");
}
