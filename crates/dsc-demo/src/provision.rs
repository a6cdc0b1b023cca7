// SPDX-License-Identifier: Apache-2.0
//! Supplier A's offers, set up through its Management API exactly as `docs/use-cases/` describes them: five topic
//! assets, the access and contract policies of both use cases, and three contract definitions.

use serde_json::{Value, json};

use crate::DemoError;
use crate::management::{EDC, Management};
use crate::plant::Topic;
use crate::stack::{KAFKA_ADMIN_PASSWORD, Participant, Ports};

const CX: &str = "https://w3id.org/catenax/2025/9/policy/";
const SEMANTIC_ID: &str = "https://admin-shell.io/aas/3/0/HasSemantics/";

fn constraint(operand: &str, operator: &str, right: Value) -> Value {
    let left = if operand.starts_with("http") { operand.to_string() } else { format!("{CX}{operand}") };
    json!({ "leftOperand": left, "operator": operator, "rightOperand": right })
}

fn policy(id: &str, constraints: Vec<Value>) -> Value {
    json!({ "@context": { "@vocab": EDC }, "@id": id, "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Set", "permission": [{ "action": "use", "constraint": constraints }] } })
}

/// The five assets: one per topic, the part topics naming their CX-0127 model.
pub fn assets(ports: Ports) -> Vec<Value> {
    Topic::ALL
        .iter()
        .map(|topic| {
            let (name, semantic_id) = match topic {
                Topic::StationEvents => ("Line 3: station status, cycle times and counts", None),
                Topic::SerialParts => {
                    ("Line 3: finished serialized parts", Some("urn:samm:io.catenax.serial_part:3.0.0#SerialPart"))
                }
                Topic::Batches => ("Line 3: closed batches of clips", Some("urn:samm:io.catenax.batch:3.0.0#Batch")),
                Topic::Telemetry => ("Line 3 presses: bearing vibration and temperature features", None),
                Topic::Alerts => ("Line 3 presses: maintenance and quality alerts", None),
            };
            let mut properties = json!({ "name": name });
            if let Some(urn) = semantic_id {
                properties["aas-semantics:semanticId"] = json!({ "@id": urn });
            }
            json!({ "@context": { "@vocab": EDC, "aas-semantics": SEMANTIC_ID }, "@id": topic.asset(),
                "properties": properties,
                "dataAddress": { "type": "KafkaBroker", "topic": topic.name(),
                    "kafka.bootstrap.servers": format!("127.0.0.1:{}", ports.kafka_oauth()),
                    "kafka.security.protocol": "SASL_PLAINTEXT", "kafka.sasl.mechanism": "OAUTHBEARER",
                    "kafka.poll.duration": "PT0.5S" } })
        })
        .collect()
}

pub fn policies() -> Vec<Value> {
    let oem = || constraint("BusinessPartnerNumber", "eq", json!(Participant::Oem.bpn()));
    let builder = || constraint("BusinessPartnerNumber", "eq", json!(Participant::MachineBuilder.bpn()));
    let framework = || constraint("FrameworkAgreement", "eq", json!("DataExchangeGovernance:1.0"));
    let member = || constraint("Membership", "eq", json!("active"));
    vec![
        policy("access-oem", vec![oem(), member()]),
        policy(
            "usage-oem-industrycore",
            vec![oem(), framework(), constraint("UsagePurpose", "isAnyOf", json!(["cx.core.industrycore:1"]))],
        ),
        policy(
            "usage-oem-line-monitoring",
            vec![oem(), framework(), constraint("ContractReference", "eq", json!("SA-OEM-2026-017"))],
        ),
        policy(
            "access-machine-builder",
            vec![constraint("BusinessPartnerNumber", "isAnyOf", json!([Participant::MachineBuilder.bpn()])), member()],
        ),
        policy(
            "usage-machine-builder-maintenance",
            vec![
                builder(),
                framework(),
                constraint("UsagePurpose", "isAnyOf", json!(["cx.quality.base:1"])),
                constraint(&format!("{EDC}inForceDate"), "lteq", json!("contractAgreement+90d")),
            ],
        ),
    ]
}

pub fn contract_definitions() -> Vec<Value> {
    let definition = |id: &str, access: &str, contract: &str, assets: &[Topic]| {
        let ids: Vec<&str> = assets.iter().map(|t| t.asset()).collect();
        json!({ "@context": { "@vocab": EDC }, "@id": id, "accessPolicyId": access, "contractPolicyId": contract,
            "assetsSelector": [{ "operandLeft": format!("{EDC}id"), "operator": "in", "operandRight": ids }] })
    };
    vec![
        definition("cd-line3-parts", "access-oem", "usage-oem-industrycore", &[Topic::SerialParts, Topic::Batches]),
        definition("cd-line3-events", "access-oem", "usage-oem-line-monitoring", &[Topic::StationEvents]),
        definition(
            "cd-press",
            "access-machine-builder",
            "usage-machine-builder-maintenance",
            &[Topic::Telemetry, Topic::Alerts],
        ),
    ]
}

/// Everything Supplier A sets up: the Kafka admin password into its vault, then assets, policies, definitions.
pub async fn provision(provider: &Management, ports: Ports) -> Result<usize, DemoError> {
    let step = "provision Supplier A";
    let secret = json!({ "@context": { "@vocab": EDC }, "@type": "Secret", "@id": "dsc-kafka-admin-password",
        "value": KAFKA_ADMIN_PASSWORD });
    provider.post(step, "/v3/secrets", &secret).await?;
    let mut created = 0;
    for (path, bodies) in [
        ("/v3/assets", assets(ports)),
        ("/v3/policydefinitions", policies()),
        ("/v3/contractdefinitions", contract_definitions()),
    ] {
        for body in bodies {
            provider.post(step, path, &body).await?;
            created += 1;
        }
    }
    Ok(created)
}
