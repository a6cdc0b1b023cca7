// SPDX-License-Identifier: Apache-2.0
//! The consumer examples in `examples/` (Python with confluent-kafka, Java with kafka-clients) read a transfer
//! through the consumer connector's EDR, as a Catena-X application would.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::kafka::{self, *};
use crate::support;
use crate::support::process::*;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `seq` of every JSON line on stdout (other lines, such as client logs, are skipped).
fn sequence(stdout: &[u8]) -> Vec<u64> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|record| record["value"]["seq"].as_u64())
        .collect()
}

async fn produce(h: &KafkaHarness, topic: &str, count: u64) {
    let args = [
        "produce",
        "--bootstrap",
        &h.admin_bootstrap,
        "--topic",
        topic,
        "--user",
        &h.admin_user,
        "--password",
        &h.admin_password,
        "--generate",
        "--count",
        &count.to_string(),
    ]
    .map(str::to_string);
    let output =
        tokio::task::spawn_blocking(move || dsc(&args.iter().map(String::as_str).collect::<Vec<_>>()).output())
            .await
            .unwrap()
            .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

async fn run(mut command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_python_and_java_examples_read_a_transfer_through_its_edr() {
    let Some(h) = kafka::harness() else { return };
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(python), Some(kafka_lib)) = (var("TEST_PYTHON"), var("TEST_KAFKA_LIB_DIR")) else {
        assert!(
            var("TEST_REQUIRE_KAFKA").is_none(),
            "TEST_REQUIRE_KAFKA is set but TEST_PYTHON (scripts/test.sh) is not"
        );
        eprintln!("notice: TEST_PYTHON not set; the example consumers are run by scripts/test.sh");
        return;
    };
    let (topic, pair, transfer) = topic_transfer(&h, "kafka-pull-examples").await;
    produce(&h, &topic, 5).await;
    let management = pair.consumer.management_url("");

    let mut command = Command::new(&python);
    command
        .arg(repository().join("examples/python/edr_consumer.py"))
        .args(["--management-url", &management, "--transfer", &transfer, "--from-beginning", "--max-records", "5"])
        .env("DSC_CLIENT_API_KEY", support::API_KEY);
    let output =
        tokio::time::timeout(Duration::from_secs(60), run(command)).await.unwrap_or_else(|_| panic!("python hung"));
    assert!(output.status.success(), "python: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(sequence(&output.stdout), vec![0, 1, 2, 3, 4], "python example");

    let classes = tempfile::tempdir().unwrap();
    let classpath = format!("{kafka_lib}/*");
    let compiled = Command::new("javac")
        .args(["-cp", &classpath, "-d"])
        .arg(classes.path())
        .arg(repository().join("examples/java/EdrConsumer.java"))
        .output()
        .expect("javac (JDK 17+)");
    assert!(compiled.status.success(), "javac: {}", String::from_utf8_lossy(&compiled.stderr));
    let mut command = Command::new("java");
    command
        .arg("-cp")
        .arg(format!("{}:{classpath}", classes.path().display()))
        .arg("EdrConsumer")
        .args([management.as_str(), transfer.as_str(), "5"])
        .env("DSC_CLIENT_API_KEY", support::API_KEY);
    let output =
        tokio::time::timeout(Duration::from_secs(90), run(command)).await.unwrap_or_else(|_| panic!("java hung"));
    assert!(output.status.success(), "java: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(sequence(&output.stdout), vec![0, 1, 2, 3, 4], "java example");
}
