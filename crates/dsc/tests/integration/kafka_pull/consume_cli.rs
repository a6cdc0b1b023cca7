// SPDX-License-Identifier: Apache-2.0
//! `dsc consume` and `dsc produce` as processes: records exactly once across a restart, the "revoked" exit code
//! within 2 s of the provider ending the transfer, negotiation from an asset id, and each bad input's message.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::kafka::{self, *};
use crate::support;
use crate::support::process::*;

pub(crate) fn consume_args<'a>(consumer: &'a Node, rest: &[&'a str]) -> Vec<String> {
    let mut args = vec![
        "consume".to_string(),
        "--management-url".into(),
        consumer.management_url(""),
        "--api-key".into(),
        support::API_KEY.into(),
    ];
    args.extend(rest.iter().map(|a| a.to_string()));
    args
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        dsc(&args).output().unwrap()
    })
    .await
    .unwrap()
}

fn lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap_or(Value::Null)).collect()
}

fn sequence(records: &[Value]) -> Vec<u64> {
    records.iter().filter_map(|r| r["value"]["seq"].as_u64()).collect()
}

async fn produce(h: &KafkaHarness, topic: &str, count: u64) {
    let output = run(h.produce_args(topic, &["--generate", "--count", &count.to_string()])).await;
    assert!(output.status.success(), "produce: {}", String::from_utf8_lossy(&output.stderr));
}

/// One record with a key and two headers, one of them without a value.
async fn produce_with_headers(h: &KafkaHarness, topic: &str) {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = h.admin_config().create().expect("producer");
    let headers = OwnedHeaders::new()
        .insert(Header { key: "source", value: Some("line-3") })
        .insert(Header { key: "trace", value: None::<&str> });
    let record = FutureRecord::to(topic).key("part-7").payload(r#"{"seq":20}"#).headers(headers);
    producer.send(record, Duration::from_secs(10)).await.unwrap_or_else(|(e, _)| panic!("produce: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dsc_consume_reads_exactly_once_across_a_restart_and_exits_revoked_when_the_provider_ends_the_transfer() {
    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-cli");
    h.create_topic(&topic).await;
    let pair = pair(&h, &h.provider_config(None, ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = agreement(&pair).await;
    let transfer = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    produce(&h, &topic, 20).await;

    let first =
        run(consume_args(&pair.consumer, &["--transfer", &transfer, "--from-beginning", "--max-records", "8"])).await;
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(sequence(&lines(&first)), (0..8).collect::<Vec<_>>());
    let record = &lines(&first)[0];
    assert_eq!(record["topic"], topic.as_str());
    assert!(record["offset"].is_u64() && record["partition"].is_u64() && record["timestamp"].is_u64(), "{record}");
    // The same group continues exactly after the last record printed.
    let second =
        run(consume_args(&pair.consumer, &["--transfer", &transfer, "--from-beginning", "--max-records", "12"])).await;
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert_eq!(sequence(&lines(&second)), (8..20).collect::<Vec<_>>());
    let drained =
        run(consume_args(&pair.consumer, &["--transfer", &transfer, "--from-beginning", "--timeout", "3"])).await;
    assert!(drained.status.success() && lines(&drained).is_empty(), "nothing is read twice");
    assert_eq!(lines(&first)[0]["headers"], serde_json::json!({}), "a record without headers");
    // Headers are read from the client only when asked for: they still reach the JSON line, in full.
    produce_with_headers(&h, &topic).await;
    let with_headers =
        run(consume_args(&pair.consumer, &["--transfer", &transfer, "--from-beginning", "--max-records", "1"])).await;
    assert!(with_headers.status.success(), "{}", String::from_utf8_lossy(&with_headers.stderr));
    let record = &lines(&with_headers)[0];
    assert_eq!(
        (&record["key"], &record["headers"], &record["value"]),
        (
            &Value::from("part-7"),
            &serde_json::json!({ "source": "line-3", "trace": null }),
            &serde_json::json!({ "seq": 20 })
        )
    );

    // A consumer that keeps reading exits with code 3 soon after the provider terminates the transfer.
    let args = consume_args(&pair.consumer, &["--transfer", &transfer]);
    let mut running = dsc(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    produce(&h, &topic, 3).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let provider_id = provider_transfer_of(&pair.provider, &transfer).await;
    let terminated_at = Instant::now();
    command(&pair.provider, &provider_id, "terminate").await;
    let status = loop {
        if let Ok(Some(status)) = running.try_wait() {
            break status;
        }
        assert!(terminated_at.elapsed() < Duration::from_secs(10), "dsc consume still runs after the termination");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = terminated_at.elapsed();
    let mut stderr = String::new();
    if let Some(mut pipe) = running.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    println!("dsc consume exited {} ms after the provider's terminate: {}", took.as_millis(), stderr.trim());
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(took < Duration::from_secs(2), "exit took {took:?}");
    assert!(stderr.contains(&format!("access revoked: transfer {transfer} is TERMINATED")), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dsc_consume_negotiates_an_asset_and_names_every_bad_input() {
    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-cli-asset");
    h.create_topic(&topic).await;
    let pair = pair(&h, &h.provider_config(None, ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    produce(&h, &topic, 2).await;
    let address = pair.provider.protocol_address();
    let negotiated = run(consume_args(
        &pair.consumer,
        &[
            "--asset",
            "asset-1",
            "--provider-address",
            &address,
            "--provider-id",
            &pair.provider.did,
            "--from-beginning",
            "--max-records",
            "2",
        ],
    ))
    .await;
    let stderr = String::from_utf8_lossy(&negotiated.stderr).to_string();
    assert!(negotiated.status.success(), "{stderr}");
    assert_eq!(sequence(&lines(&negotiated)), vec![0, 1]);
    assert!(stderr.contains("started for asset asset-1"), "{stderr}");

    let wrong_key = run(vec![
        "consume".into(),
        "--management-url".into(),
        pair.consumer.management_url(""),
        "--api-key".into(),
        "wrong".into(),
        "--transfer".into(),
        "t".into(),
    ])
    .await;
    assert_eq!(wrong_key.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&wrong_key.stderr).trim(),
        format!("dsc consume: the consumer connector at {} refused the API key", pair.consumer.management_url(""))
    );
    let unknown = run(consume_args(&pair.consumer, &["--transfer", "no-such-transfer"])).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr).trim(),
        "dsc consume: the consumer connector knows no transfer no-such-transfer"
    );
    let dead = format!("http://127.0.0.1:{}/management", free_port());
    let unreachable = run(vec![
        "consume".into(),
        "--management-url".into(),
        dead.clone(),
        "--api-key".into(),
        "k".into(),
        "--transfer".into(),
        "t".into(),
    ])
    .await;
    assert_eq!(unreachable.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&unreachable.stderr)
            .starts_with(&format!("dsc consume: cannot reach {dead}/v3/edrs/t/dataaddress")),
        "{}",
        String::from_utf8_lossy(&unreachable.stderr)
    );
    let unknown_asset = run(consume_args(
        &pair.consumer,
        &["--asset", "no-such-asset", "--provider-address", &address, "--provider-id", &pair.provider.did],
    ))
    .await;
    assert_eq!(unknown_asset.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&unknown_asset.stderr).trim(),
        format!("dsc consume: provider {} offers no asset no-such-asset", pair.provider.did)
    );
    let gone_provider = format!("http://127.0.0.1:{}/api/v1/dsp/2025-1", free_port());
    let unreachable_provider = run(consume_args(
        &pair.consumer,
        &["--asset", "asset-1", "--provider-address", &gone_provider, "--provider-id", &pair.provider.did],
    ))
    .await;
    assert_eq!(unreachable_provider.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&unreachable_provider.stderr).to_string();
    assert_eq!(
        stderr.trim(),
        format!(
            "dsc consume: cannot reach {gone_provider}: error sending request for url \
             ({gone_provider}/catalog/datasets/asset-1)"
        )
    );
    let no_transfer =
        run(vec!["consume".into(), "--management-url".into(), dead, "--api-key".into(), "k".into()]).await;
    assert_eq!(no_transfer.status.code(), Some(2), "clap refuses missing arguments with 2");
}

/// Starts `dsc consume` and returns it once it printed `records` lines (the lines are returned too).
fn running_consumer(args: &[String], records: usize) -> (std::process::Child, Vec<Value>) {
    use std::io::BufRead;
    let mut child = dsc(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(stdout).lines().take(records) {
        lines.push(serde_json::from_str(&line.unwrap_or_default()).unwrap_or(Value::Null));
    }
    (child, lines)
}

fn finish(mut child: std::process::Child, deadline: Duration) -> (Option<i32>, String) {
    let started = Instant::now();
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            panic!("dsc consume still ran after {deadline:?}: {stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    (status.code(), stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ctrl_c_commits_what_was_printed_and_a_deleted_topic_ends_consuming_with_the_reason() {
    let Some(h) = kafka::harness() else { return };
    let (topic, pair, transfer) = topic_transfer(&h, "kafka-pull-cli-interrupt").await;
    produce(&h, &topic, 5).await;

    // `--validate auto` needs the asset to declare its aspect model; this one declares none.
    let undeclared = run(consume_args(&pair.consumer, &["--transfer", &transfer, "--validate", "auto"])).await;
    assert_eq!(undeclared.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&undeclared.stderr).trim(),
        format!(
            "dsc consume: the asset of transfer {transfer} declares no aspect model (aas-semantics:semanticId); \
             name one with --validate <aspect>"
        )
    );

    // Ctrl-C while waiting for more: a clean stop that commits the five records printed.
    let args = consume_args(&pair.consumer, &["--transfer", &transfer, "--from-beginning", "--group", "interrupted"]);
    let (child, printed) = tokio::task::spawn_blocking(move || running_consumer(&args, 5)).await.unwrap();
    assert_eq!(sequence(&printed), (0..5).collect::<Vec<_>>());
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let (code, stderr) = tokio::task::spawn_blocking(move || finish(child, Duration::from_secs(10))).await.unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    let last_line = stderr.trim_end().lines().last().unwrap_or_default().to_string();
    assert!(last_line.starts_with("dsc consume: 5 records ("), "{stderr}");
    assert!(last_line.ends_with(" bytes); stopped by an interrupt, offsets committed"), "{stderr}");
    produce(&h, &topic, 2).await;
    let resumed = run(consume_args(
        &pair.consumer,
        &["--transfer", &transfer, "--from-beginning", "--group", "interrupted", "--max-records", "2"],
    ))
    .await;
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert_eq!(sequence(&lines(&resumed)), vec![0, 1], "the second batch only: nothing printed before is read again");

    // The topic deleted under a running consumer: it stops with the reason instead of waiting forever.
    let args = consume_args(&pair.consumer, &["--transfer", &transfer, "--from-beginning", "--group", "deleted"]);
    let (child, printed) = tokio::task::spawn_blocking(move || running_consumer(&args, 7)).await.unwrap();
    assert_eq!(printed.len(), 7);
    h.delete_topic(&topic).await;
    let (code, stderr) = tokio::task::spawn_blocking(move || finish(child, Duration::from_secs(30))).await.unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.trim_end().ends_with(&format!("dsc consume: topic {topic} no longer exists at the broker")),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_the_provider_cannot_renew_ends_consuming_with_the_reason_once_it_expired() {
    let Some(h) = kafka::harness() else { return };
    if !h.short_tokens() {
        eprintln!("skipped: the OAuth server cannot issue short-lived tokens");
        return;
    }
    let topic = unique("kafka-pull-cli-renewal");
    h.create_topic(&topic).await;
    let mut pair = pair(&h, &h.provider_config(Some(6), ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = agreement(&pair).await;
    let transfer = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    produce(&h, &topic, 3).await;
    let args = consume_args(&pair.consumer, &["--transfer", &transfer, "--from-beginning", "--group", "renewal"]);
    let (child, printed) = tokio::task::spawn_blocking(move || running_consumer(&args, 3)).await.unwrap();
    assert_eq!(printed.len(), 3);
    // The provider goes away: the transfer stays STARTED for the consumer, but no token can be renewed.
    pair.provider.crash();
    let stopped = Instant::now();
    let (code, stderr) = tokio::task::spawn_blocking(move || finish(child, Duration::from_secs(60))).await.unwrap();
    assert_eq!(code, Some(5), "{stderr}");
    let last_line = stderr.trim_end().lines().last().unwrap_or_default().to_string();
    assert!(
        last_line.starts_with(&format!("dsc consume: the token of transfer {transfer} cannot be renewed: ")),
        "{stderr}"
    );
    assert!(
        stopped.elapsed() < Duration::from_secs(40),
        "it ended {:?} after the provider went away",
        stopped.elapsed()
    );
    println!("{:.1} s after the provider went away: {last_line}", stopped.elapsed().as_secs_f64());
}
