// SPDX-License-Identifier: Apache-2.0
//! The Decentralized Claims Protocol TCK (1.0.0-RC5) against this connector, in two runs: as a verifier (the TCK
//! plays holder, credential service and issuer, and triggers our verifier) and as a credential service with its
//! secure token service (the TCK plays verifier and issuer). Prints a table per test and fails on any failure
//! that `scripts/peers/dcp-tck/expected-failures.txt` does not list with a reason, and on any listed test that
//! passes now (so the list only shrinks).
//!
//! Needs `scripts/harness.sh up dcp-tck` (skipped otherwise, unless TEST_REQUIRE_DCP_TCK is set).
//! `DCP_TCK_DEBUG=<dir>` keeps the TCK's output and JUnit reports there.

use crate::support;

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::json;
use support::dcp::dcp_participant;
use support::peers::{EDC, free_port};

const STS_SECRET: &str = "sts-client-secret-for-the-tck";

fn expected_failures() -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/peers/dcp-tck/expected-failures.txt");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('|').map(|(id, reason)| (id.trim().to_string(), reason.trim().to_string())))
        .collect()
}

/// One test's outcome from the JUnit XML report: (method name, PASS/FAIL/SKIP, detail).
fn outcomes(report: &str) -> Vec<(String, &'static str, String)> {
    let attribute = |tag: &str, name: &str| -> String {
        tag.split_once(&format!("{name}=\""))
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(v, _)| v.to_string())
            .unwrap_or_default()
    };
    report
        .split("<testcase ")
        .skip(1)
        .map(|case| {
            let (open, body) = case.split_once('>').unwrap_or((case, ""));
            let body = body.split("</testcase>").next().unwrap_or("");
            let name = attribute(open, "name");
            let name = name.split('(').next().unwrap_or_default().to_string();
            let (outcome, detail) = if open.trim_end().ends_with('/') {
                ("PASS", String::new())
            } else if body.contains("<skipped") {
                ("SKIP", "disabled in the TCK".to_string())
            } else if let Some(failure) = body.split("<failure").nth(1).or_else(|| body.split("<error").nth(1)) {
                let message = attribute(failure, "message");
                (
                    "FAIL",
                    message
                        .replace("&quot;", "\"")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&amp;", "&")
                        .chars()
                        .take(160)
                        .collect(),
                )
            } else {
                ("PASS", String::new())
            };
            (name, outcome, detail)
        })
        .collect()
}

async fn run_tck(classpath: &str, package: &str, properties: &[String], reports: &std::path::Path) -> String {
    let mut command = tokio::process::Command::new("java");
    command.args(properties.iter().map(|p| format!("-D{p}")));
    command.args([
        "-cp",
        classpath,
        "org.junit.platform.console.ConsoleLauncher",
        "execute",
        "--select-package",
        package,
        "--reports-dir",
        &reports.to_string_lossy(),
        "--details=tree",
        "--disable-banner",
        "--disable-ansi-colors",
    ]);
    let output = command.output().await.expect("cannot run java");
    let text = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    std::fs::read_to_string(reports.join("TEST-junit-jupiter.xml"))
        .unwrap_or_else(|_| panic!("the TCK wrote no report:\n{text}"))
}

fn tck_properties(port: u16) -> Vec<String> {
    vec![
        "dataspacetck.launcher=org.eclipse.dataspacetck.dcp.system.DcpSystemLauncher".into(),
        format!("dataspacetck.callback.address=http://localhost:{port}"),
        format!("dataspacetck.port={port}"),
        "dataspacetck.host=127.0.0.1".into(),
    ]
}

#[tokio::test]
async fn dcp_tck_table() {
    let Ok(classpath) = std::env::var("TEST_DCP_TCK_CLASSPATH") else {
        assert!(
            std::env::var("TEST_REQUIRE_DCP_TCK").is_err(),
            "TEST_REQUIRE_DCP_TCK is set but the TCK is not assembled"
        );
        eprintln!("skipped: no DCP TCK (scripts/harness.sh up dcp-tck)");
        return;
    };
    let started = Instant::now();
    let kept = std::env::var("DCP_TCK_DEBUG").ok().map(std::path::PathBuf::from);
    let scratch = tempfile::tempdir().unwrap();
    let reports = kept.unwrap_or_else(|| scratch.path().to_path_buf());
    let mut rows = Vec::new();

    // Verifier: the TCK asks for exactly the membership credential in the DCP scope form, and changes the
    // credentials between tests, so presentations are not reused.
    let port = free_port();
    let tck_issuer = format!("did:web:localhost%3A{port}:issuer");
    let verifier = dcp_participant(
        &tck_issuer,
        &[
            ("dsc.iam.dcp.scope.alias", "org.eclipse.dspace.dcp.vc.type"),
            ("dsc.iam.dcp.default.credentials", "MembershipCredential"),
            ("dsc.iam.dcp.presentation.cache.seconds", "0"),
            ("edc.iam.credential.revocation.cache.validity", "0"),
            ("dsc.iam.dcp.verification.endpoint.enabled", "true"),
        ],
    )
    .await;
    let trigger = format!("{}/dcp/v1/verification", verifier.protocol.split("/api/").next().unwrap());
    let mut properties = tck_properties(port);
    properties.push(format!("dataspacetck.did.verifier={}", verifier.did));
    properties.push(format!("dataspacetck.vpp.trigger.endpoint={trigger}"));
    let dir = reports.join("verifier");
    let report =
        run_tck(&classpath, "org.eclipse.dataspacetck.dcp.verification.presentation.verifier", &properties, &dir).await;
    rows.extend(outcomes(&report).into_iter().map(|(name, outcome, detail)| ("verifier", name, outcome, detail)));
    verifier.connector.stop().await;

    // Credential service: a fresh wallet, which the TCK's issuer fills through the Storage API, and the STS.
    let port = free_port();
    let tck_issuer = format!("did:web:localhost%3A{port}:issuer");
    let holder = dcp_participant(&tck_issuer, &[("dsc.iam.sts.client.secret.alias", "sts-secret")]).await;
    let secret = json!({"@context": {"@vocab": EDC}, "@id": "sts-secret", "value": STS_SECRET});
    assert_eq!(holder.connector.post("/v3/secrets", &secret).await.status, 200);
    let mut properties = tck_properties(port);
    properties.push(format!("dataspacetck.did.holder={}", holder.did));
    properties.push(format!("dataspacetck.sts.url={}/sts", holder.connector.management));
    properties.push(format!("dataspacetck.sts.client.id={}", holder.did));
    properties.push(format!("dataspacetck.sts.client.secret={STS_SECRET}"));
    let dir = reports.join("cs");
    let report =
        run_tck(&classpath, "org.eclipse.dataspacetck.dcp.verification.presentation.cs", &properties, &dir).await;
    rows.extend(outcomes(&report).into_iter().map(|(name, outcome, detail)| ("cs", name, outcome, detail)));

    assert!(!rows.is_empty(), "the TCK ran no test");
    let expected = expected_failures();
    let mut unexpected = Vec::new();
    println!("DCP TCK 1.0.0-RC5 ({} tests in {:.0?})", rows.len(), started.elapsed());
    println!("{:<9} {:<66} {:<6} detail", "package", "test", "result");
    for (package, name, outcome, detail) in &rows {
        let verdict = match (*outcome, expected.get(name)) {
            ("FAIL", Some(reason)) => format!("expected: {reason}"),
            ("FAIL", None) => {
                unexpected.push(format!("{name} failed: {detail}"));
                format!("UNEXPECTED: {detail}")
            }
            ("PASS", Some(_)) => {
                unexpected.push(format!("{name} passes now: remove it from expected-failures.txt"));
                "passes, but is listed as expected to fail".into()
            }
            _ => detail.clone(),
        };
        println!("{package:<9} {name:<66} {outcome:<6} {verdict}");
    }
    assert!(unexpected.is_empty(), "DCP TCK:\n{}", unexpected.join("\n"));
}
