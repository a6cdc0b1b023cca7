// SPDX-License-Identifier: Apache-2.0
//! The README's walkthroughs (Quick start, two connectors, HTTP pull, Kafka PULL), run as written: every command
//! between the README's `walkthrough` markers runs with bash against the example connectors on the ports the README
//! names, and each answer's status and key fields are checked. Only the placeholders the README names
//! (`<offer id from the catalog>`, `<agreement id>`, ...) are replaced, by values from earlier answers or, for the
//! harness's credentials, from the environment the README tells the user to export. A command in the README that
//! this test does not know fails it, so the README and the product cannot drift apart unnoticed.
//!
//! `TEST_README=<file>` runs another README (to see the test fail on a broken command). The Kafka PULL walkthrough
//! needs the harness's Kafka and OAuth server (`eval "$(scripts/harness.sh env)"`; `TEST_REQUIRE_KAFKA=1` turns
//! their absence into a failure). The example connectors take fixed ports (19191-19194, 19291, 29191-29194, 29291),
//! below the range other tests take free ports from and below the kernel's ephemeral range.

use crate::support;
mod walkthrough;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use walkthrough::{Answer, Session, words};

const WALKTHROUGHS: [&str; 4] = ["quick-start", "two-connectors", "http-pull", "kafka-pull"];

/// Commands the test leaves out, by how they start, and why.
const SKIPPED: [(&str, &str); 5] = [
    ("scripts/demo.sh", "the demo has its own test (crates/dsc/tests/integration/demo.rs) and takes minutes"),
    ("scripts/test.sh", "the test command is the suite this test runs in"),
    ("cargo build --release -p dsc", "cargo test built dsc already; its directory leads the PATH instead"),
    ("scripts/harness.sh up", "the suite starts the harness before the tests (scripts/test.sh)"),
    ("eval \"$(scripts/harness.sh env)\"", "the suite exported the harness's environment; its TEST_* are passed on"),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kafka_available() -> bool {
    let present = ["TEST_KAFKA_ADMIN_BOOTSTRAP", "TEST_KAFKA_OAUTH_BOOTSTRAP", "TEST_OAUTH_ISSUER"]
        .iter()
        .all(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()));
    if !present {
        assert!(
            std::env::var("TEST_REQUIRE_KAFKA").as_deref() != Ok("1"),
            "TEST_REQUIRE_KAFKA=1 but the Kafka/OAuth harness environment is missing (eval \"$(scripts/harness.sh env)\")"
        );
        eprintln!("notice: Kafka harness not configured; the README's Kafka PULL walkthrough is not run here");
    }
    present
}

#[test]
fn readme_walkthroughs_run_as_written() {
    let path = std::env::var("TEST_README").map(PathBuf::from).unwrap_or_else(|_| repo().join("README.md"));
    let readme = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let walkthroughs = walkthrough::extract(&readme).unwrap();
    let names: Vec<&str> = walkthroughs.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, WALKTHROUGHS, "the README's walkthrough markers");
    let dsc = Path::new(support::process::DSC).parent().unwrap_or_else(|| Path::new("."));
    let mut session = Session::new(&repo(), dsc);
    let mut values: HashMap<String, String> = HashMap::new();
    for (placeholder, variable) in [
        ("admin password", "TEST_KAFKA_ADMIN_PASSWORD"),
        ("initial access token", "TEST_OAUTH_INITIAL_ACCESS_TOKEN"),
        ("bootstrap servers for consumers", "TEST_KAFKA_OAUTH_BOOTSTRAP"),
    ] {
        if let Ok(value) = std::env::var(variable) {
            values.insert(placeholder.into(), value);
        }
    }
    for walkthrough in &walkthroughs {
        assert!(!walkthrough.commands.is_empty(), "walkthrough '{}' has no commands", walkthrough.name);
        if walkthrough.name == "kafka-pull" && !kafka_available() {
            continue;
        }
        for written in &walkthrough.commands {
            if let Some((_, why)) = SKIPPED.iter().find(|(start, _)| written.starts_with(start)) {
                eprintln!("[{}] skipped: {written}\n    ({why})", walkthrough.name);
                continue;
            }
            let command = substitute(written, &values)
                .unwrap_or_else(|e| panic!("[{}] {e}\ncommand: {written}", walkthrough.name));
            eprintln!("[{}] {}", walkthrough.name, written.lines().next().unwrap_or_default());
            // The README's text, not the substituted one: a substituted value may be a credential of the harness.
            run_step(&mut session, &command, &mut values)
                .unwrap_or_else(|e| panic!("[{}] {e}\ncommand: {written}\n{}", walkthrough.name, session.logs()));
        }
    }
}

/// Runs one command, again while its answer says "not yet" (a state still moving), and checks the answer.
fn run_step(session: &mut Session, command: &str, values: &mut HashMap<String, String>) -> Result<(), String> {
    let words = words(command);
    let program: Vec<&str> =
        words.iter().map(String::as_str).skip_while(|w| w.contains('=') && !w.starts_with('-')).collect();
    if let ["dsc", "run", "--config", config] = program.as_slice() {
        session.start_connector(command, config);
        return Ok(());
    }
    if let ["dsc", "issuer", "serve", ..] = program.as_slice() {
        let did = program.iter().position(|w| *w == "--did").and_then(|i| program.get(i + 1)).ok_or("no --did")?;
        session.start_issuer(command, did);
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = session.run(command, Duration::from_secs(120));
        match check(&program, &answer, values) {
            Ok(Verdict::Done) => return Ok(()),
            Ok(Verdict::NotYet(why)) if Instant::now() < deadline => {
                eprintln!("    not yet: {why}");
                std::thread::sleep(Duration::from_millis(500));
            }
            Ok(Verdict::NotYet(why)) => return Err(format!("still not as expected after 60 s: {why}")),
            Err(why) => {
                return Err(format!(
                    "{why}\nexit: {:?}\nstdout: {}\nstderr: {}",
                    answer.exit, answer.stdout, answer.stderr
                ));
            }
        }
    }
}

/// Replaces each `<placeholder>` with its value; one without a value yet is an error (a step is missing before it).
fn substitute(command: &str, values: &HashMap<String, String>) -> Result<String, String> {
    let (mut out, mut rest) = (String::new(), command);
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').map(|end| start + end);
        let name = end.map(|end| &rest[start + 1..end]).filter(|n| n.chars().all(|c| c.is_alphanumeric() || c == ' '));
        let (Some(end), Some(name)) = (end, name) else {
            out.push_str(&rest[..=start]);
            rest = &rest[start + 1..];
            continue;
        };
        let value =
            values.get(name).ok_or_else(|| format!("placeholder <{name}> has no value from an earlier step"))?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

enum Verdict {
    Done,
    NotYet(String),
}

fn check(program: &[&str], answer: &Answer, values: &mut HashMap<String, String>) -> Result<Verdict, String> {
    let flag = |name: &str| program.iter().position(|w| *w == name).and_then(|i| program.get(i + 1)).copied();
    if answer.exit != Some(0) {
        return Err("the command did not exit with 0 (curl: 7 cannot connect, 28 timed out)".into());
    }
    match program {
        ["curl", ..] => check_http(program, answer, values),
        ["scripts/harness.sh", "kafka-topic", _] => Ok(Verdict::Done),
        ["dsc", "produce", ..] => {
            let count = flag("--count").unwrap_or_default();
            let topic = flag("--topic").unwrap_or_default();
            let said = format!("{count} records sent to {topic}");
            if answer.stderr.contains(&said) { Ok(Verdict::Done) } else { Err(format!("expected \"{said}\"")) }
        }
        ["dsc", "consume", ..] => {
            let records: Vec<Value> =
                answer.stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
            let wanted: usize = flag("--max-records").and_then(|n| n.parse().ok()).unwrap_or(1);
            if records.len() != wanted || records.iter().any(|r| r["topic"] != "parts.telemetry") {
                return Err(format!("expected {wanted} records of parts.telemetry as JSON lines"));
            }
            if flag("--asset").is_some() {
                let started = answer.stderr.split_whitespace().skip_while(|w| *w != "transfer").nth(1);
                let id = started.ok_or("no \"transfer <id> started\" on stderr")?;
                values.insert("Kafka transfer id".into(), id.to_string());
            }
            Ok(Verdict::Done)
        }
        ["export", assignment] if assignment.contains('=') => Ok(Verdict::Done),
        // A loop over `dsc issuer issue --store-at`: one stored credential (its metadata, never the JWT) per type.
        ["for", "type", "in", ..] if program.contains(&"issue") => {
            let stored: Vec<Value> = answer.stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
            let kinds = program.iter().skip(3).take_while(|w| **w != "do").count();
            if stored.len() != kinds || stored.iter().any(|c| c["types"].as_array().is_none_or(|t| t.len() != 1)) {
                return Err(format!("expected {kinds} stored credentials as JSON lines"));
            }
            if answer.stdout.contains("eyJ") {
                return Err("a credential was printed".into());
            }
            Ok(Verdict::Done)
        }
        _ => Err("no expectation for this command in crates/dsc/tests/integration/readme/mod.rs: add one".into()),
    }
}

fn check_http(program: &[&str], answer: &Answer, values: &mut HashMap<String, String>) -> Result<Verdict, String> {
    let (body, status) = answer.stdout.rsplit_once('\n').ok_or("curl printed no status")?;
    let status: u16 = status.trim().parse().map_err(|_| "curl printed no status")?;
    let body: Value = serde_json::from_str(body).unwrap_or(Value::String(body.to_string()));
    let data: Value = program
        .iter()
        .position(|w| *w == "-d")
        .and_then(|i| program.get(i + 1))
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null);
    let method = program.iter().position(|w| *w == "-X").and_then(|i| program.get(i + 1)).copied().unwrap_or("GET");
    let url = program[1..].iter().find(|w| !w.starts_with('-') && w.contains("localhost:")).ok_or("no URL")?;
    let path = url.trim_start_matches("http://").split_once('/').map(|(_, p)| p).unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    let expect = |ok: bool, what: &str| if ok { Ok(Verdict::Done) } else { Err(format!("expected {what}")) };
    if status == 404 && segments.ends_with(&["dataaddress"]) {
        return Ok(Verdict::NotYet("no EDR yet (the transfer is starting)".into()));
    }
    if status != 200 {
        return Err(format!("expected status 200, got {status}"));
    }
    match (method, segments.as_slice()) {
        ("POST", [.., "v3", "assets" | "policydefinitions" | "contractdefinitions" | "secrets"]) => expect(
            body["@type"] == "IdResponse" && body["@id"] == data["@id"],
            &format!("an IdResponse for {}", data["@id"]),
        ),
        ("GET", [.., "v3", "assets", id]) => {
            expect(body["@id"] == *id && body["properties"]["name"] == "Serial parts", "asset-1 named Serial parts")
        }
        ("GET", ["api", "check", "health"]) | ("GET", ["public"]) => {
            expect(body["isSystemHealthy"] == true, "a healthy health report (the asset's backend)")
        }
        ("GET", [.., "v3", "credentials"]) => {
            let types: Vec<&str> =
                body.as_array().into_iter().flatten().filter_map(|c| c["types"][0].as_str()).collect();
            expect(types.len() == 3 && !answer.stdout.contains("eyJ"), "three credentials, none shown in full")
        }
        ("POST", [.., "v3", "catalog", "request"]) => {
            if body["@type"] != "Catalog" || body["participantId"] != data["counterPartyId"] {
                return Err("expected the provider's catalog".into());
            }
            let datasets = body["dataset"].as_array().cloned().unwrap_or_default();
            let offer = datasets.iter().find(|d| d["@id"] == "asset-1").map(|d| &d["hasPolicy"][0]["@id"]);
            let offer = offer.filter(|o| o.is_string()).ok_or("expected an offer for asset-1 in the catalog")?;
            values.insert("offer id from the catalog".into(), text(offer));
            Ok(Verdict::Done)
        }
        ("POST", [.., "v3", "contractnegotiations"]) => {
            values.insert("negotiation id".into(), text(&body["@id"]));
            expect(body["@type"] == "IdResponse", "an IdResponse")
        }
        ("GET", [.., "v3", "contractnegotiations", _]) => match body["state"].as_str() {
            Some("FINALIZED") => Ok(Verdict::Done),
            Some("TERMINATED") => Err(format!("the negotiation was terminated: {}", body["errorDetail"])),
            state => Ok(Verdict::NotYet(format!("negotiation {state:?}"))),
        },
        ("GET", [.., "v3", "contractnegotiations", _, "agreement"]) => {
            values.insert("agreement id".into(), text(&body["@id"]));
            expect(body["@type"] == "ContractAgreement" && body["assetId"] == "asset-1", "the agreement for asset-1")
        }
        ("POST", [.., "v3", "transferprocesses"]) => {
            values.insert("transfer id".into(), text(&body["@id"]));
            expect(body["@type"] == "IdResponse", "an IdResponse")
        }
        ("GET", [.., "v3", "edrs", _, "dataaddress"]) if body["topic"].is_string() => expect(
            body["topic"] == "parts.telemetry"
                && values.get("bootstrap servers for consumers").is_some_and(|b| body["endpoint"] == b.as_str())
                && text(&body["kafka.group.prefix"]).starts_with("dsc-")
                && !text(&body["authorization"]).is_empty(),
            "a Kafka EDR: the topic, the consumers' bootstrap servers, a group prefix and a token",
        ),
        ("GET", [.., "v3", "edrs", _, "dataaddress"]) => {
            let endpoint = text(&body["endpoint"]);
            values.insert("endpoint from the EDR".into(), endpoint.clone());
            values.insert("authorization from the EDR".into(), text(&body["authorization"]));
            expect(
                endpoint == "http://localhost:19291/public" && !text(&body["authorization"]).is_empty(),
                "an EDR for the provider's public API (http://localhost:19291/public) with a token",
            )
        }
        _ => Err("no expectation for this request in crates/dsc/tests/integration/readme/mod.rs: add one".into()),
    }
}

#[test]
fn commands_split_at_line_ends_outside_quotes_and_continuations() {
    let block =
        "# a comment\ncurl -s -d '{\n  \"a\": 1}' x   # don't split here\n\ndsc consume --a \\\n    --b\necho done\n";
    let commands = walkthrough::split_commands(block).unwrap();
    assert_eq!(commands.len(), 3, "{commands:?}");
    assert_eq!(words(&commands[0]), ["curl", "-s", "-d", "{\n  \"a\": 1}", "x"]);
    assert_eq!(words(&commands[1]), ["dsc", "consume", "--a", "--b"]);
    assert!(walkthrough::split_commands("curl -d '{").is_err());
}
