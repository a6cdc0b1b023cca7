// SPDX-License-Identifier: Apache-2.0
//! The HTTP fuzzing campaign: schemathesis (PyPI), a fuzzer we did not write, drives every operation of the
//! Management API from the connector's own OpenAPI document against a running `dsc` process, for a bounded time
//! (`DSC_HTTP_FUZZ_SECONDS`, 60 by default; longer by hand). The document is first checked by
//! openapi-spec-validator. Then, from schemathesis's NDJSON report:
//! - every request got an answer (a handler that panicked or a dropped connection shows up as none);
//! - no 5xx but the documented ones: 503 (a dependency down) and 502 from the catalog requests, whose examples
//!   name a counter-party that is not there;
//! - every answer is one the document promises (status, content type, schema), and every request that breaks
//!   the document is refused;
//! - the process still serves afterwards, within a memory bound.
//!
//! Needs `TEST_SCHEMATHESIS` (the schemathesis executable, installed by the test command into its Python venv);
//! skipped without it unless `TEST_REQUIRE_SCHEMATHESIS` is set.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;
use support::process::Node;

/// Checks whose failures are not failures of the connector: random objects are valid "JSON-LD objects" for the
/// document (its bodies are free-form), and the connector rightly refuses most of them.
const NOT_APPLICABLE: &[&str] = &["positive_data_acceptance"];
/// 5xx statuses the document promises, by operation (any operation may answer 503).
const DOCUMENTED_5XX: &[(&str, u16)] = &[("POST /v3/catalog/request", 502), ("POST /v3/catalog/dataset/request", 502)];
/// What the process may hold after the campaign (it idles at about 30 MiB).
const RSS_BOUND_KIB: u64 = 256 * 1024;

fn schemathesis() -> Option<PathBuf> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match var("TEST_SCHEMATHESIS") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            assert!(
                var("TEST_REQUIRE_SCHEMATHESIS").is_none(),
                "TEST_REQUIRE_SCHEMATHESIS is set but TEST_SCHEMATHESIS is not"
            );
            eprintln!("skipped: no schemathesis (the test command installs it; TEST_SCHEMATHESIS names it)");
            None
        }
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// What the report says, per operation.
#[derive(Default)]
struct Campaign {
    requests: usize,
    statuses: BTreeMap<String, BTreeMap<String, usize>>,
    unanswered: Vec<String>,
    server_errors: Vec<String>,
    failed_checks: BTreeMap<String, BTreeSet<String>>,
}

fn read_report(dir: &Path) -> Campaign {
    let mut campaign = Campaign::default();
    let mut seen = BTreeSet::new();
    let report = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "ndjson"))
        .expect("schemathesis wrote no NDJSON report");
    for line in std::fs::read_to_string(report).unwrap().lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let Some(recorder) = event.get("ScenarioFinished").map(|s| &s["recorder"]) else { continue };
        let label = recorder["label"].as_str().unwrap_or_default().to_string();
        for (id, interaction) in recorder["interactions"].as_object().into_iter().flatten() {
            if !seen.insert(id.clone()) {
                continue;
            }
            campaign.requests += 1;
            let request = &interaction["request"];
            let described =
                format!("{} {}", request["method"].as_str().unwrap_or("?"), request["uri"].as_str().unwrap_or("?"));
            let status = interaction["response"]["status_code"].as_u64();
            let key = status.map_or("no answer".to_string(), |s| s.to_string());
            *campaign.statuses.entry(label.clone()).or_default().entry(key).or_default() += 1;
            match status {
                None => campaign.unanswered.push(described),
                Some(code @ 500..) => {
                    let code = u16::try_from(code).unwrap_or(u16::MAX);
                    if code != 503 && !DOCUMENTED_5XX.contains(&(label.as_str(), code)) {
                        campaign.server_errors.push(format!("{code} for {described}"));
                    }
                }
                Some(_) => {}
            }
        }
        for checks in recorder["checks"].as_object().into_iter().flatten().map(|(_, checks)| checks) {
            for check in checks.as_array().into_iter().flatten() {
                let name = check["name"].as_str().unwrap_or_default();
                // Server errors are judged above, with the documented ones allowed.
                if check["status"] == "failure" && name != "not_a_server_error" && !NOT_APPLICABLE.contains(&name) {
                    campaign.failed_checks.entry(name.to_string()).or_default().insert(label.clone());
                }
            }
        }
    }
    campaign
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_drives_every_management_operation_without_a_crash_or_an_undocumented_answer() {
    let Some(schemathesis) = schemathesis() else { return };
    let seconds: u64 = std::env::var("DSC_HTTP_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::new(dir.path(), "fuzzed", &[], "");
    node.start().await;
    let pid = node.pid().unwrap();
    let rss_before = rss_kib(pid);

    let document_url = node.management_url("/openapi.json");
    let document = support::client().get(&document_url).send().await.unwrap().text().await.unwrap();
    let document_file = dir.path().join("openapi.json");
    std::fs::write(&document_file, &document).unwrap();
    let operations: usize = serde_json::from_str::<Value>(&document).unwrap()["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().map_or(0, |methods| methods.len()))
        .sum();
    let python = schemathesis.parent().unwrap().join("python");
    let validated = std::process::Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&document_file)
        .output()
        .unwrap();
    assert!(
        validated.status.success(),
        "openapi-spec-validator refuses the document:\n{}{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );

    let reports = dir.path().join("reports");
    let started = Instant::now();
    let run = tokio::process::Command::new(&schemathesis)
        .args(["run", &document_url, "--url", &node.management_url("")])
        .args(["-H", &format!("X-Api-Key: {}", support::API_KEY)])
        .args(["--checks", "all", "--exclude-checks", &NOT_APPLICABLE.join(",")])
        .args(["--phases", "examples,coverage,fuzzing", "--continue-on-failure", "-w", "1", "--no-color"])
        .args(["--max-time", &seconds.to_string(), "--report", "ndjson", "--report-dir"])
        .arg(&reports)
        // Its cache of past failures stays with this run, not in the checkout.
        .current_dir(dir.path())
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .await
        .unwrap();
    let output = String::from_utf8_lossy(&run.stdout).to_string();
    let campaign = read_report(&reports);
    let tested = campaign.statuses.len();
    println!(
        "http fuzz: {} requests over {tested} of {operations} Management API operations in {:.0} s (schemathesis, --max-time {seconds})",
        campaign.requests,
        started.elapsed().as_secs_f64()
    );
    for (operation, statuses) in &campaign.statuses {
        println!("http fuzz:   {operation:50} {statuses:?}");
    }
    assert_eq!(tested, operations, "operations schemathesis could not drive:\n{output}");
    assert!(
        campaign.unanswered.is_empty(),
        "requests without an answer: {:?}\n{}",
        campaign.unanswered,
        node.log_tail()
    );
    assert!(
        campaign.server_errors.is_empty(),
        "undocumented server errors: {:?}\n{}",
        campaign.server_errors,
        node.log_tail()
    );
    assert!(campaign.failed_checks.is_empty(), "failed checks: {:?}\n{output}", campaign.failed_checks);

    let health =
        support::client().get(format!("http://127.0.0.1:{}/api/check/health", node.health)).send().await.unwrap();
    assert_eq!(health.status(), 200, "the connector stopped serving");
    let rss_after = rss_kib(pid);
    println!("http fuzz: RSS {} MiB before, {} MiB after", rss_before / 1024, rss_after / 1024);
    assert!(rss_after < RSS_BOUND_KIB, "RSS grew to {} MiB", rss_after / 1024);
    let log = std::fs::read_to_string(&node.log).unwrap_or_default();
    assert!(!log.contains("panicked"), "a handler panicked:\n{}", node.log_tail());
}
