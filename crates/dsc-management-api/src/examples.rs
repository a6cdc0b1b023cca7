// SPDX-License-Identifier: Apache-2.0
//! The request examples of the endpoint table: shown in the OpenAPI document, and the bodies its readers start from.

use serde_json::{Value, json};

pub(crate) fn transfer_request_example() -> Value {
    json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" },
        "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1",
        "counterPartyAddress": "http://localhost:19194/api/v1/dsp/2025-1",
        "contractId": "b9a2c1d4-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
        "transferType": "HttpData-PULL",
        "dataDestination": { "type": "HttpProxy" }
    })
}

pub(crate) fn asset_example() -> Value {
    json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/", "dct": "http://purl.org/dc/terms/" },
        "@type": "Asset",
        "@id": "asset-1",
        "properties": { "name": "Serial parts stream", "dct:type": { "@id": "https://w3id.org/catenax/taxonomy#Submodel" } },
        "privateProperties": { "owner": "team-a" },
        "dataAddress": { "@type": "DataAddress", "type": "HttpData", "baseUrl": "https://backend.example/api",
                         "oauth2:clientSecretKey": "backend-client-secret" }
    })
}

pub(crate) fn policy_example() -> Value {
    json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" },
        "@type": "PolicyDefinition",
        "@id": "usage-framework-agreement",
        "policy": {
            "@context": "http://www.w3.org/ns/odrl.jsonld",
            "@type": "Set",
            "permission": [{ "action": "use", "constraint": [{
                "leftOperand": "https://w3id.org/catenax/2025/9/policy/FrameworkAgreement",
                "operator": "eq", "rightOperand": "DataExchangeGovernance:1.0" }] }]
        }
    })
}

pub(crate) fn contract_definition_example() -> Value {
    json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" },
        "@type": "ContractDefinition",
        "@id": "cd-1",
        "accessPolicyId": "usage-framework-agreement",
        "contractPolicyId": "usage-framework-agreement",
        "assetsSelector": [{ "@type": "Criterion", "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id",
                             "operator": "=", "operandRight": "asset-1" }]
    })
}

pub(crate) fn query_example() -> Value {
    json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" },
        "@type": "QuerySpec", "offset": 0, "limit": 10, "sortOrder": "DESC", "sortField": "createdAt",
        "filterExpression": [{ "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id", "operator": "=", "operandRight": "asset-1" }]
    })
}

pub(crate) fn catalog_request_example() -> Value {
    json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" },
        "@type": "CatalogRequest",
        "counterPartyAddress": "http://localhost:19194/api/v1/dsp/2025-1",
        "counterPartyId": "did:web:localhost%3A19194",
        "protocol": "dataspace-protocol-http:2025-1",
        "querySpec": { "offset": 0, "limit": 50 }
    })
}

pub(crate) fn dataset_request_example() -> Value {
    json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" },
        "@type": "DatasetRequest", "@id": "asset-1",
        "counterPartyAddress": "http://localhost:19194/api/v1/dsp/2025-1",
        "counterPartyId": "did:web:localhost%3A19194",
        "protocol": "dataspace-protocol-http:2025-1"
    })
}

pub(crate) fn contract_request_example() -> Value {
    json!({
        "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }],
        "@type": "ContractRequest",
        "counterPartyAddress": "http://localhost:19194/api/v1/dsp/2025-1",
        "counterPartyId": "did:web:localhost%3A19194",
        "protocol": "dataspace-protocol-http:2025-1",
        "policy": { "@id": "<offer id from the catalog>", "@type": "Offer", "assigner": "did:web:localhost%3A19194",
                    "target": "asset-1", "permission": [{ "action": "use" }] }
    })
}

pub(crate) fn reason_example() -> Value {
    json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@type": "TerminateTransfer", "reason": "contract ended" })
}

pub(crate) fn offer_first_example() -> Value {
    json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@type": "ProviderOffer",
            "counterPartyAddress": "http://localhost:29194/api/v1/dsp/2025-1", "counterPartyId": "did:web:localhost%3A29194",
            "assetId": "asset-1", "policyId": "usage-framework-agreement" })
}

pub(crate) fn decision_example() -> Value {
    json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "policyId": "usage-framework-agreement" })
}

pub(crate) fn secret_example() -> Value {
    json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@type": "Secret", "@id": "backend-client-secret", "value": "s3cr3t" })
}
