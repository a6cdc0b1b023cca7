// SPDX-License-Identifier: Apache-2.0
//! A topic that carries a CX-0127 aspect model: the asset's semantic id in the consumer's catalog, `dsc produce
//! --aspect` rejecting invalid records before Kafka, and `dsc consume --validate` counting invalid ones without
//! stopping.

use std::io::Write;
use std::process::{Output, Stdio};

use dsc_aspects::generate::Generator;
use dsc_aspects::{Aspect, Model, Version};
use serde_json::{Value, json};

use super::consume_cli::consume_args;
use crate::kafka::{self, *};
use crate::support::process::*;

const SEMANTIC_ID: &str = "https://admin-shell.io/aas/3/0/HasSemantics/semanticId";
const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";

async fn run_with_stdin(args: Vec<String>, stdin: String) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = dsc(&args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        if let Some(mut pipe) = child.stdin.take() {
            pipe.write_all(stdin.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_aspect_topic_is_declared_in_the_catalog_and_validated_on_both_sides() {
    let Some(h) = kafka::harness() else { return };
    let aspect = Aspect::new(Model::SerialPart, Version::V3_0_0);
    let topic = unique("kafka-pull-aspect");
    h.create_topic(&topic).await;
    let pair = pair(&h, &h.provider_config(None, ""), "").await;
    let properties = json!({ SEMANTIC_ID: { "@id": aspect.urn() } });
    h.offer_topic_with(&pair.provider, &topic, CONSUMER_BPN, false, properties).await;

    // The consumer sees what the topic carries before negotiating.
    let catalog = post(
        pair.consumer.management_url("/v3/catalog/request"),
        &json!({ "@context": { "@vocab": EDC }, "counterPartyAddress": pair.provider.protocol_address(),
                 "counterPartyId": pair.provider.did, "protocol": "dataspace-protocol-http:2025-1" }),
    )
    .await;
    assert_eq!(catalog.status, 200, "{}", catalog.body);
    let dataset = &catalog.body["dataset"];
    let dataset = if dataset.is_array() { &dataset[0] } else { dataset };
    assert_eq!(dataset[SEMANTIC_ID]["@id"], aspect.urn().as_str(), "{dataset:#}");

    // Two valid records and one without its Catena-X id: the invalid one never reaches Kafka.
    let mut generator = Generator::new(17);
    let valid: Vec<Value> = (0..2).map(|_| generator.payload(aspect).to_value()).collect();
    let mut broken = generator.payload(aspect).to_value();
    broken.as_object_mut().map(|object| object.remove("catenaXId"));
    let input = format!("{}\n{}\n{}\n", valid[0], broken, valid[1]);
    let produced = run_with_stdin(h.produce_args(&topic, &["--aspect", "SerialPart"]), input).await;
    let stderr = String::from_utf8_lossy(&produced.stderr).to_string();
    assert_eq!(produced.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "dsc produce: line 2 rejected, invalid {} (1 violation(s))\n  /catenaXId: required: \"catenaXId\" is a required property",
            aspect.urn()
        )),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("2 records sent to {topic}, 1 rejected as invalid")), "{stderr}");
    // A record of another shape, sent without --aspect, reaches the topic.
    let other = run_with_stdin(h.produce_args(&topic, &[]), "{\"temperature\": 71.5}\n".into()).await;
    assert!(other.status.success(), "{}", String::from_utf8_lossy(&other.stderr));

    let agreement = agreement(&pair).await;
    let transfer = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    let urn = aspect.urn();
    let consumed = run_with_stdin(
        consume_args(
            &pair.consumer,
            &["--transfer", &transfer, "--from-beginning", "--max-records", "3", "--validate", &urn],
        ),
        String::new(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&consumed.stderr).to_string();
    assert!(consumed.status.success(), "an invalid record does not stop consuming: {stderr}");
    let lines: Vec<Value> =
        String::from_utf8_lossy(&consumed.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(lines.len(), 3);
    for (line, expected) in lines.iter().zip(&valid) {
        assert_eq!(&line["value"], expected);
        assert_eq!(line["valid"], true);
        assert_eq!(line["key"], expected["catenaXId"], "the record key is the part's Catena-X id");
    }
    assert_eq!(lines[2]["valid"], false);
    assert!(
        stderr.contains(&format!("offset 2: invalid {} (4 violation(s))\n  /catenaXId: required", aspect.urn())),
        "{stderr}"
    );
    assert!(stderr.contains("dsc consume: 3 records, 1 invalid ("), "{stderr}");

    // `--validate auto` takes the aspect model from the asset's semantic id in the provider's catalog.
    let automatic = run_with_stdin(
        consume_args(
            &pair.consumer,
            &[
                "--transfer",
                &transfer,
                "--from-beginning",
                "--group",
                "automatic",
                "--max-records",
                "3",
                "--validate",
                "auto",
            ],
        ),
        String::new(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&automatic.stderr).to_string();
    assert!(automatic.status.success(), "{stderr}");
    assert!(
        stderr.starts_with(&format!("dsc consume: validating against {}, as the asset declares\n", aspect.urn())),
        "{stderr}"
    );
    let valid: Vec<Value> = String::from_utf8_lossy(&automatic.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|line| line["valid"].clone())
        .collect();
    assert_eq!(valid, vec![json!(true), json!(true), json!(false)]);

    let unknown = run_with_stdin(h.produce_args(&topic, &["--aspect", "Wheel", "--generate"]), String::new()).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).starts_with("dsc produce: unknown aspect model \"Wheel\"; known: "),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}
