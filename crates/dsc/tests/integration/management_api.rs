// SPDX-License-Identifier: Apache-2.0
//! Component tests: the real connector (HTTP servers, SQLite store, vault) started in-process on free ports,
//! driven over HTTP. Every bad-input path asserts the exact error the user sees.

use crate::support;

use serde_json::{Value, json};
use support::{API_KEY, TestConnector, only_error, send};

const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";

fn context() -> Value {
    json!({
        "@vocab": EDC, "edc": EDC, "odrl": "http://www.w3.org/ns/odrl/2/", "dct": "http://purl.org/dc/terms/",
        "dcat": "http://www.w3.org/ns/dcat#", "tx": "https://w3id.org/tractusx/v0.0.1/ns/",
        "tx-auth": "https://w3id.org/tractusx/auth/", "cx-policy": "https://w3id.org/catenax/2025/9/policy/"
    })
}

fn asset(id: &str) -> Value {
    json!({
        "@context": { "@vocab": EDC, "dct": "http://purl.org/dc/terms/" },
        "@type": "Asset", "@id": id,
        "properties": { "name": "Serial parts", "dct:type": { "@id": "https://w3id.org/catenax/taxonomy#Submodel" } },
        "privateProperties": { "owner": "team-a" },
        "dataAddress": { "@type": "DataAddress", "type": "HttpData", "baseUrl": "https://backend.example/api" }
    })
}

fn policy(id: &str) -> Value {
    json!({
        "@context": { "@vocab": EDC },
        "@type": "PolicyDefinition", "@id": id,
        "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set",
            "permission": [{ "action": "use", "constraint": [{
                "leftOperand": "https://w3id.org/catenax/2025/9/policy/FrameworkAgreement",
                "operator": "eq", "rightOperand": "DataExchangeGovernance:1.0" }] }] }
    })
}

fn contract_definition(id: &str, asset_id: &str, policy_id: &str) -> Value {
    json!({
        "@context": { "@vocab": EDC },
        "@type": "ContractDefinition", "@id": id,
        "accessPolicyId": policy_id, "contractPolicyId": policy_id,
        "assetsSelector": [{ "@type": "Criterion", "operandLeft": format!("{EDC}id"), "operator": "=", "operandRight": asset_id }]
    })
}

fn assert_error(reply: &support::Reply, status: u16, kind: &str, message: &str, path: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let error = only_error(reply);
    assert_eq!(error["type"], kind, "{}", reply.body);
    assert_eq!(error["message"], message, "{}", reply.body);
    assert_eq!(error["path"].as_str(), path, "{}", reply.body);
}

#[tokio::test]
async fn every_management_call_needs_the_api_key() {
    let connector = TestConnector::start().await;
    for (method, path) in [
        (reqwest::Method::POST, "/v3/assets"),
        (reqwest::Method::POST, "/v3/assets/request"),
        (reqwest::Method::GET, "/v3/assets/x"),
        (reqwest::Method::DELETE, "/v3/policydefinitions/x"),
        (reqwest::Method::PUT, "/v3/contractdefinitions"),
        (reqwest::Method::GET, "/v3/secrets/x"),
    ] {
        for key in [None, Some("wrong-key")] {
            let reply = send(method.clone(), &format!("{}{path}", connector.management), key, Some("{}".into())).await;
            assert_error(&reply, 401, "AuthenticationFailed", "Request could not be authenticated", None);
        }
    }
    connector.stop().await;
}

#[tokio::test]
async fn asset_lifecycle_matches_edc_shapes() {
    let connector = TestConnector::start().await;
    let created = connector.post("/v3/assets", &asset("asset-1")).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["@type"], "IdResponse");
    assert_eq!(created.body["@id"], "asset-1");
    assert_eq!(created.body["@context"], context());
    let created_at = created.body["createdAt"].as_i64().unwrap_or_default();
    assert!(created_at > 1_700_000_000_000, "createdAt is epoch milliseconds");

    let fetched = connector.get("/v3/assets/asset-1").await;
    assert_eq!(fetched.status, 200);
    assert_eq!(
        fetched.body,
        json!({
            "@context": context(), "@id": "asset-1", "@type": "Asset",
            "properties": { "name": "Serial parts", "dct:type": { "@id": "https://w3id.org/catenax/taxonomy#Submodel" }, "id": "asset-1" },
            "privateProperties": { "owner": "team-a" },
            "dataAddress": { "@type": "DataAddress", "type": "HttpData", "baseUrl": "https://backend.example/api" },
            "createdAt": created_at
        })
    );

    let duplicate = connector.post("/v3/assets", &asset("asset-1")).await;
    assert_error(&duplicate, 409, "ObjectConflict", "Object of type Asset with ID=asset-1 already exists", None);

    let mut changed = asset("asset-1");
    changed["properties"]["name"] = json!("Renamed");
    assert_eq!(connector.put("/v3/assets", &changed).await.status, 204);
    let fetched = connector.get("/v3/assets/asset-1").await;
    assert_eq!(fetched.body["properties"]["name"], "Renamed");
    assert_eq!(fetched.body["createdAt"], created_at, "an update keeps the creation time");

    let missing = connector.put("/v3/assets", &asset("nope")).await;
    assert_error(&missing, 404, "ObjectNotFound", "Object of type Asset with ID=nope was not found", None);
    let mut no_id = asset("x");
    no_id.as_object_mut().map(|o| o.remove("@id"));
    let no_id = connector.put("/v3/assets", &no_id).await;
    assert_error(&no_id, 400, "ValidationFailure", "mandatory value '@id' is missing or it is blank", Some("@id"));

    assert_eq!(connector.delete("/v3/assets/asset-1").await.status, 204);
    let gone = connector.get("/v3/assets/asset-1").await;
    assert_error(&gone, 404, "ObjectNotFound", "Object of type Asset with ID=asset-1 was not found", None);
    let gone = connector.delete("/v3/assets/asset-1").await;
    assert_error(&gone, 404, "ObjectNotFound", "Object of type Asset with ID=asset-1 was not found", None);
    connector.stop().await;
}

#[tokio::test]
async fn asset_without_id_gets_a_generated_one() {
    let connector = TestConnector::start().await;
    let mut body = asset("x");
    body.as_object_mut().map(|o| o.remove("@id"));
    let created = connector.post("/v3/assets", &body).await;
    assert_eq!(created.status, 200);
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(connector.get(&format!("/v3/assets/{id}")).await.status, 200);
    connector.stop().await;
}

#[tokio::test]
async fn edc_input_forms_are_accepted() {
    let connector = TestConnector::start().await;
    // @type as array, prefixed and full IRIs, single-element arrays, an odrl-free @vocab body.
    let body = json!({
        "@context": { "edc": EDC },
        "@type": ["edc:Asset"], "@id": "forms",
        "edc:properties": [{ "edc:name": ["Parts"] }],
        format!("{EDC}dataAddress"): { "@type": format!("{EDC}DataAddress"), "edc:type": "HttpData" }
    });
    let created = connector.post("/v3/assets", &body).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let fetched = connector.get("/v3/assets/forms").await;
    assert_eq!(fetched.body["properties"]["name"], "Parts");
    // No @context at all: keys mean the EDC vocabulary, as with an object context without @vocab.
    let bare = json!({ "@id": "bare", "properties": {}, "dataAddress": { "type": "HttpData" } });
    assert_eq!(connector.post("/v3/assets", &bare).await.status, 200);
    connector.stop().await;
}

#[tokio::test]
async fn malformed_and_invalid_asset_bodies_are_rejected_with_paths() {
    let connector = TestConnector::start().await;
    let malformed = connector.post_raw("/v3/assets", "{\"@id\": ").await;
    assert_error(
        &malformed,
        400,
        "InvalidRequest",
        "malformed JSON: EOF while parsing a value at line 1 column 8",
        None,
    );
    let not_object = connector.post_raw("/v3/assets", "[1,2]").await;
    assert_error(&not_object, 400, "InvalidRequest", "request body must be a JSON object", None);
    let empty = connector.post_raw("/v3/assets", "").await;
    assert_error(&empty, 400, "InvalidRequest", "request body is missing", None);

    let mut no_address = asset("a");
    no_address.as_object_mut().map(|o| o.remove("dataAddress"));
    let reply = connector.post("/v3/assets", &no_address).await;
    let path = format!("{EDC}dataAddress");
    assert_error(&reply, 400, "ValidationFailure", &format!("mandatory object '{path}' is missing"), Some(&path));

    let mut no_type = asset("a");
    no_type["dataAddress"].as_object_mut().map(|o| o.remove("type"));
    let reply = connector.post("/v3/assets", &no_type).await;
    let path = format!("{EDC}dataAddress/{EDC}type");
    assert_error(
        &reply,
        400,
        "ValidationFailure",
        &format!("mandatory value '{path}' is missing or it is blank"),
        Some(&path),
    );

    let mut wrong_type = asset("a");
    wrong_type["@type"] = json!("PolicyDefinition");
    let reply = connector.post("/v3/assets", &wrong_type).await;
    assert_error(
        &reply,
        400,
        "ValidationFailure",
        &format!("@type was expected to be '{EDC}Asset' but was [\"{EDC}PolicyDefinition\"]"),
        Some("@type"),
    );

    let mut inline_secret = asset("a");
    inline_secret["dataAddress"]["oauth2:clientSecret"] = json!("s3cr3t");
    let reply = connector.post("/v3/assets", &inline_secret).await;
    assert_eq!(reply.status, 400);
    let error = only_error(&reply);
    assert_eq!(error["path"], format!("{EDC}dataAddress/oauth2:clientSecret"));
    assert_eq!(error["invalidValue"], "<redacted>", "the secret is not echoed back");

    let mut remote = asset("a");
    remote["@context"] = json!(["https://example.com/evil-context.jsonld", { "@vocab": EDC }]);
    let reply = connector.post("/v3/assets", &remote).await;
    assert_error(
        &reply,
        400,
        "InvalidRequest",
        "unknown remote JSON-LD context 'https://example.com/evil-context.jsonld': only bundled contexts are resolved",
        Some("@context"),
    );
    assert_eq!(only_error(&reply)["invalidValue"], "https://example.com/evil-context.jsonld");

    // Found by the HTTP fuzzing campaign: the JSON-LD library panicked on such escapes and the connection dropped.
    let mut bad_escape = asset("a");
    bad_escape["%80"] = json!([]);
    let reply = connector.post("/v3/assets", &bad_escape).await;
    assert_error(
        &reply,
        400,
        "InvalidRequest",
        "invalid JSON-LD: '%80' holds percent-escapes that are not UTF-8",
        None,
    );
    let mut bad_term = asset("a");
    bad_term["@context"] = json!(["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }]);
    bad_term["target"] = json!("urn:asset:%80");
    let reply = connector.post("/v3/assets", &bad_term).await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert_eq!(
        only_error(&reply)["message"],
        "invalid JSON-LD: the document cannot be expanded: one of its IRIs is malformed (a percent-escape that is not UTF-8?)"
    );
    connector.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_parsing() {
    let connector = TestConnector::start_with(&[("dsc.http.body.limit", "2048")]).await;
    let mut big = asset("big");
    big["properties"]["padding"] = json!("x".repeat(4096));
    let reply = connector.post("/v3/assets", &big).await;
    assert_error(&reply, 413, "InvalidRequest", "request body is too large", None);
    assert_eq!(connector.post("/v3/assets", &asset("small")).await.status, 200);
    connector.stop().await;
}

#[tokio::test]
async fn policy_definitions_round_trip_as_odrl() {
    let connector = TestConnector::start().await;
    assert_eq!(connector.post("/v3/policydefinitions", &policy("p1")).await.status, 200);
    let fetched = connector.get("/v3/policydefinitions/p1").await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body["@type"], "PolicyDefinition");
    assert_eq!(
        fetched.body["policy"],
        json!({
            "@type": "odrl:Set",
            "odrl:permission": { "odrl:action": { "@id": "odrl:use" }, "odrl:constraint": {
                "odrl:leftOperand": { "@id": "cx-policy:FrameworkAgreement" }, "odrl:operator": { "@id": "odrl:eq" },
                "odrl:rightOperand": "DataExchangeGovernance:1.0" } }
        })
    );
    let mut changed = policy("p1");
    changed["policy"]["permission"][0]["constraint"][0]["rightOperand"] = json!("DataExchangeGovernance:2.0");
    assert_eq!(connector.put("/v3/policydefinitions/p1", &changed).await.status, 204);
    let fetched = connector.get("/v3/policydefinitions/p1").await;
    assert_eq!(
        fetched.body["policy"]["odrl:permission"]["odrl:constraint"]["odrl:rightOperand"],
        "DataExchangeGovernance:2.0"
    );
    let mismatch = connector.put("/v3/policydefinitions/other", &changed).await;
    assert_error(
        &mismatch,
        400,
        "ValidationFailure",
        "@id 'p1' in the body differs from 'other' in the path",
        Some("@id"),
    );
    connector.stop().await;
}

#[tokio::test]
async fn invalid_policies_name_the_offending_part() {
    let connector = TestConnector::start().await;
    let mut wrong_type = policy("p");
    wrong_type["policy"]["@type"] = json!("Permission");
    let reply = connector.post("/v3/policydefinitions", &wrong_type).await;
    assert_eq!(reply.status, 400);
    assert_eq!(only_error(&reply)["path"], format!("{EDC}policy/@type"));

    let mut bad_operator = policy("p");
    bad_operator["policy"]["permission"][0]["constraint"][0]["operator"] = json!("equals");
    let reply = connector.post("/v3/policydefinitions", &bad_operator).await;
    assert_error(
        &reply,
        400,
        "ValidationFailure",
        "'https://w3id.org/edc/v0.0.1/ns/equals' is not an ODRL operator; expected one of eq, neq, gt, gteq, lt, lteq, isA, hasPart, isPartOf, isAllOf, isAnyOf, isNoneOf",
        Some(&format!(
            "{EDC}policy/http://www.w3.org/ns/odrl/2/permission[0]/http://www.w3.org/ns/odrl/2/constraint[0]/http://www.w3.org/ns/odrl/2/operator"
        )),
    );

    let missing = connector.post("/v3/policydefinitions", &json!({ "@context": { "@vocab": EDC }, "@id": "p" })).await;
    let path = format!("{EDC}policy");
    assert_error(&missing, 400, "ValidationFailure", &format!("mandatory object '{path}' is missing"), Some(&path));
    connector.stop().await;
}

#[tokio::test]
async fn contract_definitions_validate_and_protect_what_they_reference() {
    let connector = TestConnector::start().await;
    assert_eq!(connector.post("/v3/assets", &asset("asset-1")).await.status, 200);
    assert_eq!(connector.post("/v3/policydefinitions", &policy("p1")).await.status, 200);
    assert_eq!(
        connector.post("/v3/contractdefinitions", &contract_definition("cd1", "asset-1", "p1")).await.status,
        200
    );

    let fetched = connector.get("/v3/contractdefinitions/cd1").await;
    assert_eq!(fetched.body["accessPolicyId"], "p1");
    assert_eq!(
        fetched.body["assetsSelector"],
        json!({ "@type": "Criterion", "operandLeft": format!("{EDC}id"), "operator": "=", "operandRight": "asset-1" })
    );

    let reply = connector.delete("/v3/assets/asset-1").await;
    assert_error(
        &reply,
        409,
        "ObjectConflict",
        "Asset asset-1 cannot be deleted as it is referenced by contract definition(s) cd1",
        None,
    );
    let reply = connector.delete("/v3/policydefinitions/p1").await;
    assert_error(
        &reply,
        409,
        "ObjectConflict",
        "PolicyDefinition p1 cannot be deleted as it is referenced by contract definition(s) cd1",
        None,
    );

    let mut missing = contract_definition("cd2", "asset-1", "p1");
    missing.as_object_mut().map(|o| o.remove("accessPolicyId"));
    let reply = connector.post("/v3/contractdefinitions", &missing).await;
    let path = format!("{EDC}accessPolicyId");
    assert_error(
        &reply,
        400,
        "ValidationFailure",
        &format!("mandatory value '{path}' is missing or it is blank"),
        Some(&path),
    );

    let mut bad_selector = contract_definition("cd2", "asset-1", "p1");
    bad_selector["assetsSelector"][0]["operator"] = json!("~");
    let reply = connector.post("/v3/contractdefinitions", &bad_selector).await;
    assert_eq!(reply.status, 400);
    assert_eq!(only_error(&reply)["path"], format!("{EDC}assetsSelector[0]/{EDC}operator"));

    let mut changed = contract_definition("cd1", "asset-2", "p1");
    changed["contractPolicyId"] = json!("p1");
    assert_eq!(connector.put("/v3/contractdefinitions", &changed).await.status, 204);
    assert_eq!(connector.delete("/v3/assets/asset-1").await.status, 204, "no longer referenced");
    assert_eq!(connector.delete("/v3/contractdefinitions/cd1").await.status, 204);
    assert_eq!(connector.delete("/v3/policydefinitions/p1").await.status, 204);
    connector.stop().await;
}

#[tokio::test]
async fn queries_filter_sort_page_and_reject_bad_specs() {
    let connector = TestConnector::start().await;
    for id in ["q1", "q2", "q3"] {
        let mut body = asset(id);
        body["properties"]["rank"] = json!(id.trim_start_matches('q').parse::<i64>().unwrap_or_default());
        assert_eq!(connector.post("/v3/assets", &body).await.status, 200);
    }
    let all = connector.post_raw("/v3/assets/request", "").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body.as_array().map(Vec::len), Some(3));
    assert_eq!(all.body[0]["@context"], context(), "each element carries its own @context");

    let spec = json!({ "@context": { "@vocab": EDC }, "@type": "QuerySpec", "offset": 0, "limit": 2, "sortOrder": "DESC",
                       "sortField": "rank",
                       "filterExpression": [{ "operandLeft": format!("{EDC}rank"), "operator": ">", "operandRight": 1 }] });
    let reply = connector.post("/v3/assets/request", &spec).await;
    let ids: Vec<_> = reply.body.as_array().map(|a| a.iter().map(|x| x["@id"].clone()).collect()).unwrap_or_default();
    assert_eq!(ids, vec![json!("q3"), json!("q2")]);

    let bad = json!({ "@context": { "@vocab": EDC }, "filterExpression": [{ "operandLeft": "id", "operator": "===", "operandRight": "q1" }] });
    let reply = connector.post("/v3/assets/request", &bad).await;
    assert_error(
        &reply,
        400,
        "ValidationFailure",
        "operator '===' is not supported; expected one of '=', '!=', 'in', 'not in', 'like', 'ilike', 'contains', '<', '<=', '>', '>='",
        Some(&format!("{EDC}filterExpression[0]/{EDC}operator")),
    );
    let reply = connector.post("/v3/assets/request", &json!({ "@context": { "@vocab": EDC }, "limit": 0 })).await;
    assert_error(
        &reply,
        400,
        "ValidationFailure",
        "limit must be a whole number from 1 to 10000",
        Some(&format!("{EDC}limit")),
    );

    let unknown = json!({ "@context": { "@vocab": EDC }, "filterExpression": [{ "operandLeft": "colour", "operator": "=", "operandRight": "red" }] });
    let reply = connector.post("/v3/contractdefinitions/request", &unknown).await;
    assert_error(
        &reply,
        400,
        "ValidationFailure",
        "'colour' is not a property this entity can be queried by",
        Some(&format!("{EDC}filterExpression[0]/{EDC}operandLeft")),
    );
    connector.stop().await;
}

#[tokio::test]
async fn secrets_are_stored_but_never_returned() {
    let connector = TestConnector::start().await;
    let secret =
        json!({ "@context": { "@vocab": EDC }, "@type": "Secret", "@id": "backend-key", "value": "v3ry-s3cret" });
    assert_eq!(connector.post("/v3/secrets", &secret).await.status, 200);
    let duplicate = connector.post("/v3/secrets", &secret).await;
    assert_error(&duplicate, 409, "ObjectConflict", "Object of type Secret with ID=backend-key already exists", None);
    let fetched = connector.get("/v3/secrets/backend-key").await;
    assert_eq!(fetched.status, 200);
    assert!(!fetched.body.to_string().contains("v3ry-s3cret"));
    assert_eq!(fetched.body["@id"], "backend-key");
    assert_eq!(connector.put("/v3/secrets", &secret).await.status, 204);
    let missing_value =
        connector.post("/v3/secrets", &json!({ "@context": { "@vocab": EDC }, "@type": "Secret", "@id": "k2" })).await;
    let path = format!("{EDC}value");
    assert_error(
        &missing_value,
        400,
        "ValidationFailure",
        &format!("mandatory value '{path}' is missing or it is blank"),
        Some(&path),
    );
    let bad_key =
        connector.post("/v3/secrets", &json!({ "@context": { "@vocab": EDC }, "@id": "bad key", "value": "x" })).await;
    assert_eq!(bad_key.status, 400);
    assert_eq!(connector.delete("/v3/secrets/backend-key").await.status, 204);
    assert_eq!(connector.get("/v3/secrets/backend-key").await.status, 404);
    connector.stop().await;
}

#[tokio::test]
async fn openapi_document_is_public_and_lists_every_endpoint() {
    let connector = TestConnector::start().await;
    let reply = send(reqwest::Method::GET, &format!("{}/openapi.json", connector.management), None, None).await;
    assert_eq!(reply.status, 200);
    let paths = &reply.body["paths"];
    for path in [
        "/v3/assets",
        "/v3/assets/request",
        "/v3/assets/{id}",
        "/v3/policydefinitions/{id}",
        "/v3/contractdefinitions",
        "/v3/secrets/{id}",
    ] {
        assert!(paths.get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    assert!(paths["/v3/assets"]["post"]["requestBody"].is_object());
    assert_eq!(reply.body["components"]["securitySchemes"]["ApiKeyAuth"]["name"], "X-Api-Key");
    // What standard tools need to drive every operation (schemathesis in the test command does).
    let server = reply.body["servers"][0]["url"].as_str().unwrap_or_default();
    assert!(!server.is_empty() && connector.management.ends_with(server), "{server} vs {}", connector.management);
    assert_eq!(paths["/v3/assets/{id}"]["get"]["parameters"][0]["schema"]["type"], "string");
    assert_eq!(paths["/v3/assets"]["post"]["requestBody"]["required"], true);
    assert_eq!(paths["/v3/transferprocesses/{id}/terminate"]["post"]["requestBody"]["required"], false);
    assert_eq!(
        paths["/v3/assets/request"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["type"],
        "array"
    );
    assert_eq!(paths["/v3/edrs/{id}/dataaddress"]["get"]["parameters"][1]["name"], "auto_refresh");
    assert!(paths["/v3/transferprocesses/{id}/suspend"]["post"]["responses"]["409"].is_object());

    // A query parameter of the wrong type is answered in the API's error format, not as plain text.
    let reply = connector.get("/v3/edrs/t-1/dataaddress?auto_refresh=maybe").await;
    assert_error(
        &reply,
        400,
        "InvalidRequest",
        "Failed to deserialize query string: auto_refresh: provided string was not `true` or `false`",
        None,
    );
    connector.stop().await;
}

#[tokio::test]
async fn health_endpoints_report_components() {
    let connector = TestConnector::start().await;
    for check in ["health", "readiness", "startup", "liveness"] {
        let reply = send(reqwest::Method::GET, &format!("{}/check/{check}", connector.default), None, None).await;
        assert_eq!(reply.status, 200, "{check}");
        assert_eq!(reply.body["isSystemHealthy"], true);
    }
    let reply = send(reqwest::Method::GET, &format!("{}/check/health", connector.default), None, None).await;
    let components: Vec<_> = reply.body["componentResults"]
        .as_array()
        .map(|c| c.iter().map(|x| x["component"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(components, vec![json!("database"), json!("vault")]);
    let unknown = send(reqwest::Method::GET, &format!("{}/nothing-here", connector.default), Some(API_KEY), None).await;
    assert_error(&unknown, 404, "ObjectNotFound", "no resource at /api/nothing-here", None);
    connector.stop().await;
}

#[tokio::test]
async fn kafka_assets_are_validated_field_by_field() {
    let connector = TestConnector::start().await;
    let kafka = |address: Value| json!({ "@context": { "@vocab": EDC }, "@id": "stream", "properties": { "name": "telemetry" }, "dataAddress": address });
    let good =
        kafka(json!({ "type": "KafkaBroker", "topic": "telemetry", "kafka.bootstrap.servers": "127.0.0.1:29094",
        "kafka.security.protocol": "SASL_PLAINTEXT", "kafka.poll.duration": "PT0.5S" }));
    assert_eq!(connector.post("/v3/assets", &good).await.status, 200);

    let bad =
        kafka(json!({ "type": "KafkaBroker", "topic": "telemetry/raw", "kafka.bootstrap.servers": "127.0.0.1:29094",
        "kafka.security.protocol": "SASL_PLAINTEXT" }));
    let reply = connector.post("/v3/assets", &bad).await;
    let path = format!("{EDC}dataAddress/{EDC}topic");
    assert_error(
        &reply,
        400,
        "ValidationFailure",
        "topic must be 1-249 characters of letters, digits, '.', '_' and '-' (not '.' or '..')",
        Some(&path),
    );
    assert_eq!(only_error(&reply)["invalidValue"], "telemetry/raw");

    let missing = kafka(json!({ "type": "KafkaBroker", "topic": "telemetry", "kafka.security.protocol": "SSL" }));
    let reply = connector.post("/v3/assets", &missing).await;
    assert_eq!(reply.status, 400);
    let messages: Vec<String> =
        reply.body.as_array().into_iter().flatten().filter_map(|e| e["message"].as_str().map(str::to_string)).collect();
    assert_eq!(
        messages,
        vec![
            format!("mandatory value '{EDC}dataAddress/{EDC}kafka.bootstrap.servers' is missing or it is blank"),
            "kafka.security.protocol must be one of SASL_PLAINTEXT, SASL_SSL".to_string(),
        ]
    );
}
