// SPDX-License-Identifier: Apache-2.0
//! DPS 1.0 messages (RC3, with the RC4 and EDC spellings accepted on input).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointProperty {
    #[serde(rename = "@type", default = "endpoint_property_type")]
    pub kind: String,
    pub name: String,
    pub value: Value,
}

fn endpoint_property_type() -> String {
    "EndpointProperty".into()
}

fn data_address_type() -> String {
    "DataAddress".into()
}

/// A DataAddress in the DSP 2025-1 shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireDataAddress {
    #[serde(rename = "@type", default = "data_address_type")]
    pub kind: String,
    pub endpoint_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub endpoint_properties: Vec<EndpointProperty>,
}

/// DataFlowStartMessage and DataFlowPrepareMessage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFlowStartMessage {
    pub message_id: String,
    pub participant_id: String,
    pub counter_party_id: String,
    #[serde(default)]
    pub dataspace_context: String,
    #[serde(alias = "dataFlowId")]
    pub process_id: String,
    pub agreement_id: String,
    pub dataset_id: String,
    #[serde(alias = "transferType")]
    pub profile: String,
    #[serde(default)]
    pub claims: Value,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Only for push transfers (the consumer's destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_address: Option<WireDataAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFlowStatusMessage {
    pub message_id: String,
    pub data_flow_id: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_address: Option<WireDataAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// DataFlowSuspendMessage and DataFlowTerminateMessage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFlowReasonMessage {
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFlowResumeMessage {
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_address: Option<WireDataAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFlowStatusResponseMessage {
    pub data_flow_id: String,
    pub state: String,
}

/// DataPlaneRegistrationMessage (RC3 `profiles`, RC2/EDC `transferTypes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataPlaneRegistrationMessage {
    pub dataplane_id: String,
    pub endpoint: String,
    #[serde(alias = "transferTypes")]
    pub profiles: Vec<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub authorization: Option<Value>,
}

pub fn message_id() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn start_messages_are_read_in_every_spelling() {
        let rc3 = json!({"messageId":"m","participantId":"p","counterPartyId":"c","dataspaceContext":"x",
            "processId":"tp-1","agreementId":"a","datasetId":"d","profile":"HttpData-PULL","claims":{}});
        let rc4 = json!({"messageId":"m","participantId":"p","counterPartyId":"c",
            "dataFlowId":"tp-1","agreementId":"a","datasetId":"d","transferType":"HttpData-PULL",
            "callbackAddress":"ignored"});
        for body in [rc3, rc4] {
            let message: DataFlowStartMessage =
                serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}: {body}"));
            assert_eq!((message.process_id.as_str(), message.profile.as_str()), ("tp-1", "HttpData-PULL"));
        }
        let missing = serde_json::from_value::<DataFlowStartMessage>(json!({"messageId":"m"}));
        assert!(missing.is_err());
    }
}
