// SPDX-License-Identifier: Apache-2.0
//! `dsc demo` as a user runs it: every step behaves as announced, the Insomnia collection in
//! `examples/insomnia/` replays against the running demo with every response checked, and Ctrl-C stops everything.
//! Needs Kafka's jars (`TEST_KAFKA_LIB_DIR` from `scripts/harness.sh env`); `TEST_REQUIRE_KAFKA=1` turns their
//! absence into a failure.

use crate::support::insomnia;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const DSC: &str = env!("CARGO_BIN_EXE_dsc");
const COLLECTION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/insomnia/dsc-demo.json");
/// Below the kernel's ephemeral range and the other tests' ports (20000-29000, the harness's 29092-29095).
const PORT_BASE: u16 = 30000;

#[test]
fn the_collection_only_refers_to_what_exists_before_it() {
    let collection = insomnia::Collection::load(COLLECTION);
    assert!(collection.requests.len() >= 20, "{} requests", collection.requests.len());
    // Every request renders with the base environment once the responses it names exist (here: placeholders).
    let mut sent: HashMap<String, Value> = HashMap::new();
    for request in &collection.requests {
        for text in [Some(&request.url), request.body.as_ref()].into_iter().flatten() {
            let placeholder =
                json!({ "@id": "x", "contractAgreementId": "y", "hasPolicy": [{ "@id": "z", "permission": [] }] });
            // Query answers are lists: a tag may read the first element.
            let rendered = [placeholder.clone(), json!([placeholder])].into_iter().map(|answer| {
                let known: HashMap<String, Value> = sent.keys().map(|k| (k.clone(), answer.clone())).collect();
                insomnia::render(text, &collection.environment, &known)
            });
            let mut errors = Vec::new();
            if !rendered.into_iter().any(|r| r.map_err(|e| errors.push(e)).is_ok()) {
                panic!("{}: {} (a tag naming a later request, or a missing variable)", request.name, errors[0]);
            }
        }
        assert!(!request.checks.is_empty(), "{} checks nothing", request.name);
        assert!(request.checks.iter().any(|c| matches!(c, insomnia::Check::Status(_))), "{}: no status", request.name);
        sent.insert(request.id.clone(), Value::Null);
    }
    let names: Vec<&str> = collection.requests.iter().map(|r| r.name.as_str()).collect();
    for step in [
        "Create asset",
        "Catalog",
        "Start contract negotiation",
        "Contract agreement",
        "Start transfer",
        "EDR with auto-refresh",
        "Suspend",
        "Resume",
        "Terminate",
    ] {
        assert!(names.iter().any(|n| n.starts_with(step)), "no request for {step}: {names:?}");
    }
}

#[test]
fn the_replayer_resolves_paths_tags_and_variables_and_names_what_it_cannot() {
    let body = json!({ "@id": "n-1", "hasPolicy": [{ "@id": "offer-1", "permission": [{ "action": "use" }] }] });
    assert_eq!(insomnia::json_path(&body, "$.hasPolicy[0]['@id']"), Some(&json!("offer-1")));
    assert_eq!(insomnia::json_path(&body, "$.hasPolicy[1]"), None);
    let responses = HashMap::from([("req_a".to_string(), body)]);
    let environment = json!({ "provider": { "id": "did:web:p" } });
    let tag = "{% response 'body', 'req_a', 'b64::JC5oYXNQb2xpY3lbMF0ucGVybWlzc2lvbg==::46b', 'never', 60 %}";
    assert_eq!(
        insomnia::render(&format!("{{\"p\": {tag}, \"a\": \"{{{{ _.provider.id }}}}\"}}"), &environment, &responses),
        Ok(r#"{"p": [{"action":"use"}], "a": "did:web:p"}"#.to_string())
    );
    assert_eq!(
        insomnia::render("{{ _.consumer.key }}", &environment, &responses),
        Err("environment has no consumer.key".to_string())
    );
    assert_eq!(
        insomnia::render("{% response 'body', 'req_b', '$.x', 'never', 60 %}", &environment, &responses),
        Err("req_b has not been sent yet".to_string())
    );
}

/// The demo process: interrupted (as Ctrl-C would) when the test ends early, so it stops what it started; a
/// SIGKILL would leave its broker and connectors behind.
struct Running(std::process::Child);

impl Running {
    fn interrupt(&self) -> bool {
        Command::new("kill").args(["-INT", &self.0.id().to_string()]).status().is_ok_and(|s| s.success())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) && self.interrupt() {
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(self.0.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_every_step_and_the_insomnia_collection_replays_against_it() {
    let Some(lib) = std::env::var("TEST_KAFKA_LIB_DIR").ok().filter(|v| !v.is_empty()) else {
        assert!(
            std::env::var("TEST_REQUIRE_KAFKA").as_deref() != Ok("1"),
            "TEST_REQUIRE_KAFKA=1 but TEST_KAFKA_LIB_DIR is not set"
        );
        eprintln!("skipped: TEST_KAFKA_LIB_DIR is not set (eval \"$(scripts/harness.sh env)\")");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("demo");
    let output = dir.path().join("demo.out");
    let out = std::fs::File::create(&output).unwrap();
    let err = out.try_clone().unwrap();
    let started = Instant::now();
    let mut demo = Running(
        Command::new(DSC)
            .args([
                "demo",
                "--kafka-lib",
                &lib,
                "--dir",
                &work.display().to_string(),
                "--port-base",
                &PORT_BASE.to_string(),
                "--keep-running",
            ])
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap(),
    );
    let info_file = work.join("demo.json");
    let text = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();
    while !info_file.exists() || serde_json::from_str::<Value>(&text(&info_file)).is_err() {
        if let Ok(Some(status)) = demo.0.try_wait() {
            panic!("the demo exited with {status} before it was ready:\n{}", text(&output));
        }
        if started.elapsed() > Duration::from_secs(180) {
            panic!("the demo is not ready after 180 s:\n{}", text(&output));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let printed = text(&output);
    assert!(printed.contains("All steps behaved as announced"), "{printed}");
    // A path is as long as it is; everything else fits 80 columns.
    for line in printed.lines().filter(|line| !line.contains(&work.display().to_string())) {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line}");
    }
    for step in [
        "12 credentials, each stored in its holder's connector",
        "OEM cut off",
        "continued at offset",
        "refused on its BPN credential: no offer, contract TERMINATED",
        "access revoked",
    ] {
        assert!(printed.contains(step), "no '{step}' in:\n{printed}");
    }
    let info: Value = serde_json::from_str(&text(&info_file)).unwrap_or_default();
    assert_eq!(info["transfers"].as_array().map(Vec::len), Some(4), "the four transfers still running: {info}");

    let collection = insomnia::Collection::load(COLLECTION);
    let mut environment = collection.environment.clone();
    let values = &info["insomnia"];
    environment["provider"]["management"] = values["provider_management"].clone();
    environment["provider"]["key"] = values["provider_key"].clone();
    environment["provider"]["dsp"] = values["provider_dsp"].clone();
    environment["provider"]["id"] = values["provider_id"].clone();
    environment["provider"]["kafka"] = info["kafka"]["oauthBootstrap"].clone();
    environment["consumer"]["management"] = values["consumer_management"].clone();
    environment["consumer"]["key"] = values["consumer_key"].clone();
    let replayed = insomnia::replay(&collection, &environment).await;
    assert_eq!(replayed.len(), collection.requests.len());

    // Ctrl-C: the demo stops everything it started and exits 0.
    assert!(demo.interrupt());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(Some(status)) = demo.0.try_wait() {
            break status;
        }
        assert!(Instant::now() < deadline, "the demo did not stop within 30 s of Ctrl-C");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "exit {status}:\n{}", text(&output));
    tokio::time::sleep(Duration::from_millis(500)).await;
    for port in [PORT_BASE + 3, PORT_BASE + 13, PORT_BASE + 40, PORT_BASE + 41] {
        assert!(port_is_free(port), "port {port} still taken after Ctrl-C: something the demo started still runs");
    }
}
