// SPDX-License-Identifier: Apache-2.0
//! The consumer connector's Management API, as far as a Kafka consumer needs it: the EDR of a transfer (refreshed
//! on demand), the transfer's state, and negotiating a transfer for an asset.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::ConsumeError;
use crate::edr::Edr;

const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";
const PROTOCOL: &str = "dataspace-protocol-http:2025-1";

/// A consumer connector's Management API (`http://host:19193/management`) and its API key.
#[derive(Clone)]
pub struct ConnectorApi {
    http: reqwest::Client,
    base: String,
    api_key: String,
}

/// Where the provider is, for negotiating a transfer.
#[derive(Debug, Clone)]
pub struct Provider {
    /// Its DSP address (`http://provider:19194/api/v1/dsp/2025-1`).
    pub address: String,
    /// Its participant id (DID or BPN).
    pub id: String,
}

impl ConnectorApi {
    pub fn new(base: &str, api_key: &str) -> Result<Self, ConsumeError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ConsumeError::Unreachable { url: base.to_string(), reason: e.to_string() })?;
        Ok(ConnectorApi { http, base: base.trim_end_matches('/').to_string(), api_key: api_key.to_string() })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), ConsumeError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).header("X-Api-Key", &self.api_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response =
            request.send().await.map_err(|e| ConsumeError::Unreachable { url: url.clone(), reason: e.to_string() })?;
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        if status == 401 || status == 403 {
            return Err(ConsumeError::Unauthorized { url: self.base.clone() });
        }
        Ok((status, body))
    }

    /// The EDR of a started transfer; `refresh` renews its token first when it is about to expire.
    pub async fn edr(&self, transfer: &str, refresh: bool) -> Result<Edr, ConsumeError> {
        let (status, body) = self
            .call(reqwest::Method::GET, &format!("/v3/edrs/{transfer}/dataaddress?auto_refresh={refresh}"), None)
            .await?;
        match status {
            200 => {
                let address = if body.is_array() { body[0].clone() } else { body };
                Edr::from_json(transfer, &address)
            }
            404 => match self.transfer_state(transfer).await {
                Ok(state) => Err(ConsumeError::Revoked { transfer: transfer.to_string(), state }),
                Err(ConsumeError::UnknownTransfer(id)) => Err(ConsumeError::UnknownTransfer(id)),
                Err(other) => Err(other),
            },
            // The connector answers 503 when it could not renew a due token at the provider.
            503 if refresh => {
                Err(ConsumeError::TokenRenewal { transfer: transfer.to_string(), reason: error_message(&body) })
            }
            _ => Err(ConsumeError::Refused {
                what: format!("the EDR of transfer {transfer}"),
                status,
                body: body.to_string(),
            }),
        }
    }

    /// The transfer's state name (`STARTED`, `SUSPENDED`, `TERMINATED`, ...).
    pub async fn transfer_state(&self, transfer: &str) -> Result<String, ConsumeError> {
        let (status, body) =
            self.call(reqwest::Method::GET, &format!("/v3/transferprocesses/{transfer}/state"), None).await?;
        match status {
            200 => Ok(body["state"].as_str().unwrap_or_default().to_string()),
            404 => Err(ConsumeError::UnknownTransfer(transfer.to_string())),
            _ => Err(ConsumeError::Refused {
                what: format!("the state of transfer {transfer}"),
                status,
                body: body.to_string(),
            }),
        }
    }

    /// The provider's dataset of `asset`, through the consumer connector.
    async fn dataset(&self, asset: &str, provider: &Provider) -> Result<Value, ConsumeError> {
        let request = json!({ "@context": { "@vocab": EDC }, "@type": "DatasetRequest", "@id": asset,
            "counterPartyAddress": provider.address, "counterPartyId": provider.id, "protocol": PROTOCOL });
        let (status, dataset) = self.call(reqwest::Method::POST, "/v3/catalog/dataset/request", Some(request)).await?;
        if status != 200 {
            return Err(dataset_refusal(asset, provider, status, &dataset));
        }
        Ok(dataset)
    }

    /// The semantic id (`aas-semantics:semanticId`) the provider declares on the transfer's asset, read from the
    /// provider's dataset through the consumer connector; `None` when the asset declares none.
    pub async fn semantic_id(&self, transfer: &str) -> Result<Option<String>, ConsumeError> {
        let (status, process) =
            self.call(reqwest::Method::GET, &format!("/v3/transferprocesses/{transfer}"), None).await?;
        match status {
            200 => {}
            404 => return Err(ConsumeError::UnknownTransfer(transfer.to_string())),
            _ => {
                return Err(ConsumeError::Refused {
                    what: format!("transfer {transfer}"),
                    status,
                    body: process.to_string(),
                });
            }
        }
        let field = |name: &str| process[name].as_str().unwrap_or_default().to_string();
        let (asset, provider) =
            (field("assetId"), Provider { address: field("counterPartyAddress"), id: field("counterPartyId") });
        Ok(declared_semantic_id(&self.dataset(&asset, &provider).await?))
    }

    /// Negotiates the provider's first offer for `asset` and starts a `KafkaBroker-PULL` transfer under the
    /// agreement; returns the transfer id once it is STARTED.
    pub async fn negotiate(&self, asset: &str, provider: &Provider, timeout: Duration) -> Result<String, ConsumeError> {
        let failed = |reason: String| ConsumeError::Negotiation { asset: asset.to_string(), reason };
        let dataset = self.dataset(asset, provider).await?;
        let contract = contract_request(&dataset, asset, provider)
            .ok_or_else(|| failed("the provider offers this asset to us under no policy".into()))?;
        let (status, created) = self.call(reqwest::Method::POST, "/v3/contractnegotiations", Some(contract)).await?;
        let negotiation =
            created["@id"].as_str().filter(|_| status == 200).ok_or_else(|| failed(format!("{status}: {created}")))?;
        let deadline = Instant::now() + timeout;
        let agreement = loop {
            let (_, state) =
                self.call(reqwest::Method::GET, &format!("/v3/contractnegotiations/{negotiation}"), None).await?;
            match state["state"].as_str() {
                Some("FINALIZED") => break state["contractAgreementId"].as_str().unwrap_or_default().to_string(),
                Some("TERMINATED") => {
                    return Err(failed(
                        state["errorDetail"].as_str().unwrap_or("terminated by the provider").to_string(),
                    ));
                }
                _ if Instant::now() > deadline => return Err(failed("the negotiation did not finish in time".into())),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest", "protocol": PROTOCOL,
            "counterPartyAddress": provider.address, "contractId": agreement, "transferType": "KafkaBroker-PULL" });
        let (status, created) = self.call(reqwest::Method::POST, "/v3/transferprocesses", Some(request)).await?;
        let transfer =
            created["@id"].as_str().filter(|_| status == 200).ok_or_else(|| failed(format!("{status}: {created}")))?;
        loop {
            match self.transfer_state(transfer).await?.as_str() {
                "STARTED" => return Ok(transfer.to_string()),
                state @ ("TERMINATED" | "TERMINATING") => {
                    let (_, detail) =
                        self.call(reqwest::Method::GET, &format!("/v3/transferprocesses/{transfer}"), None).await?;
                    let reason = detail["errorDetail"].as_str().unwrap_or(state).to_string();
                    return Err(failed(format!("the transfer ended: {reason}")));
                }
                _ if Instant::now() > deadline => return Err(failed("the transfer did not start in time".into())),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

/// The Management API's contract request for the first offer of a catalog `dataset`: the offer sent back with its
/// assigner (the provider) and target (the asset), as EDC requires; `None` when the dataset has no offer.
pub fn contract_request(dataset: &Value, asset: &str, provider: &Provider) -> Option<Value> {
    let policies = &dataset["hasPolicy"];
    let mut offer = if policies.is_array() { policies[0].clone() } else { policies.clone() };
    if !offer.is_object() {
        return None;
    }
    offer["assigner"] = json!(provider.id);
    offer["target"] = json!(asset);
    Some(json!({ "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }], "@type": "ContractRequest",
        "counterPartyAddress": provider.address, "counterPartyId": provider.id, "protocol": PROTOCOL, "policy": offer }))
}

/// The message of an EDC error body (`[{"message": ...}]`), or the body itself.
fn error_message(body: &Value) -> String {
    let first = if body.is_array() { &body[0] } else { body };
    first["message"].as_str().map(str::to_string).unwrap_or_else(|| body.to_string())
}

/// The Catena-X asset property naming the aspect model of an asset's data.
const SEMANTIC_ID: &str = "https://admin-shell.io/aas/3/0/HasSemantics/semanticId";

/// The semantic id on a dataset, whether the provider compacted the property to its IRI or to a prefix, and the
/// value to an `@id` node or a string.
fn declared_semantic_id(dataset: &Value) -> Option<String> {
    let object = dataset.as_object()?;
    let value = object.get(SEMANTIC_ID).or_else(|| {
        object.iter().find(|(key, _)| key.ends_with(":semanticId") || key.as_str() == "semanticId").map(|(_, v)| v)
    })?;
    let value = if value.is_array() { &value[0] } else { value };
    value.get("@id").or(Some(value)).and_then(Value::as_str).map(str::to_string)
}

/// What the consumer connector's answer to a dataset request means: it relays a provider that cannot be reached,
/// or that does not know the asset, as 502 with the reason in EDC's error shape.
fn dataset_refusal(asset: &str, provider: &Provider, status: u16, body: &Value) -> ConsumeError {
    let message = body[0]["message"].as_str().or_else(|| body["message"].as_str()).unwrap_or_default().to_string();
    if status == 502
        && let Some(rest) = message.strip_prefix("cannot reach ")
    {
        // "cannot reach <the URL it called>: <why>": the URL is the provider's, named by the error itself.
        let reason = rest.split_once(": ").map_or(rest, |(_, why)| why).to_string();
        return ConsumeError::Unreachable { url: provider.address.clone(), reason };
    }
    if status == 502 && message.starts_with("the counter-party answered HTTP 404") {
        return ConsumeError::UnknownAsset { asset: asset.to_string(), provider: provider.id.clone() };
    }
    ConsumeError::Negotiation {
        asset: asset.to_string(),
        reason: format!("the provider's dataset answer was {status}: {body}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_semantic_id_is_found_in_every_compaction() {
        let urn = "urn:samm:io.catenax.batch:3.0.0#Batch";
        for dataset in [
            json!({ SEMANTIC_ID: { "@id": urn } }),
            json!({ "aas-semantics:semanticId": { "@id": urn } }),
            json!({ "aas-semantics:semanticId": urn }),
            json!({ SEMANTIC_ID: [{ "@id": urn }] }),
        ] {
            assert_eq!(declared_semantic_id(&dataset).as_deref(), Some(urn), "{dataset}");
        }
        assert_eq!(declared_semantic_id(&json!({ "dct:type": "x" })), None);
    }

    #[test]
    fn a_contract_request_sends_the_first_offer_back_with_assigner_and_target() {
        let provider = Provider { address: "http://p/dsp".into(), id: "did:web:p".into() };
        let offer = json!({ "@id": "offer-1", "@type": "Offer", "permission": [{ "action": "use" }] });
        for dataset in [json!({ "hasPolicy": offer }), json!({ "hasPolicy": [offer, { "@id": "offer-2" }] })] {
            let request = contract_request(&dataset, "asset-1", &provider).unwrap_or_else(|| panic!("{dataset}"));
            assert_eq!(request["policy"]["@id"], "offer-1");
            assert_eq!(request["policy"]["assigner"], "did:web:p");
            assert_eq!(request["policy"]["target"], "asset-1");
            assert_eq!(request["policy"]["permission"], offer["permission"]);
            assert_eq!(request["counterPartyAddress"], "http://p/dsp");
        }
        assert_eq!(contract_request(&json!({ "@id": "asset-1" }), "asset-1", &provider), None);
        assert_eq!(contract_request(&json!({ "hasPolicy": [] }), "asset-1", &provider), None);
    }
}
