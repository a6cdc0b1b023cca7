// SPDX-License-Identifier: Apache-2.0
//! A stock Eclipse EDC runtime as a peer: control plane, HTTP data plane and EDC's mock identity, assembled by
//! `scripts/harness.sh up edc` (class path in `TEST_EDC_CLASSPATH`). Each test starts its own on free ports.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::peers::free_port;

pub const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";
const KEY: &str = "password";

pub struct EdcPeer {
    pub participant_id: String,
    pub management: u16,
    pub protocol: u16,
    pub public: u16,
    child: Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for EdcPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Java properties values: newlines escaped so a PEM survives on one line.
fn property(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

impl EdcPeer {
    /// Starts EDC, or `None` when the class path is not assembled (and `TEST_REQUIRE_EDC` is not set).
    pub async fn start(participant_id: &str) -> Option<Self> {
        let Ok(classpath) = std::env::var("TEST_EDC_CLASSPATH") else {
            assert!(
                std::env::var("TEST_REQUIRE_EDC").is_err(),
                "TEST_REQUIRE_EDC is set but TEST_EDC_CLASSPATH is not: run scripts/harness.sh up edc"
            );
            eprintln!("skipped: no EDC runtime (scripts/harness.sh up edc; eval \"$(scripts/harness.sh env)\")");
            return None;
        };
        // The data plane signs the EDR tokens it hands out with this key.
        let (identity, private_pem) = dsc_identity::SigningIdentity::generate("did:web:edc.test").unwrap();
        let mut public_jwk = identity.did_document()["verificationMethod"][0]["publicKeyJwk"].clone();
        public_jwk["kid"] = json!("public-key");
        let keys = format!(
            "edc.transfer.proxy.token.signer.privatekey.alias=private-key\n\
             edc.transfer.proxy.token.verifier.publickey.alias=public-key\n\
             private-key={}\n\
             edc.iam.publickeys.proxy.id=public-key\nedc.iam.publickeys.proxy.value={}\n",
            property(&private_pem),
            property(&public_jwk.to_string()),
        );
        Some(Self::launch(&classpath, participant_id, &keys, "INFO").await)
    }

    /// Starts EDC with DCP (`TEST_EDC_DCP_CLASSPATH`): its DID and keys in an Identity Hub participant context, its
    /// self-issued tokens from the hub's STS, trusting `issuer` for every credential type; `None` when the class
    /// path is not assembled (and `TEST_REQUIRE_EDC_DCP` is not set).
    pub async fn start_dcp(participant: &super::ih::IhParticipant, issuer: &str) -> Option<Self> {
        let Ok(classpath) = std::env::var("TEST_EDC_DCP_CLASSPATH") else {
            assert!(
                std::env::var("TEST_REQUIRE_EDC_DCP").is_err(),
                "TEST_REQUIRE_EDC_DCP is set but TEST_EDC_DCP_CLASSPATH is not: run scripts/harness.sh up edc-dcp"
            );
            eprintln!("skipped: no EDC with DCP (scripts/harness.sh up edc-dcp identityhub)");
            return None;
        };
        let (private_pem, public_pem) = super::ih::key_pair_pem();
        let did = &participant.did;
        // The vault seeds are read by the harness's one-class extension (scripts/peers/seeds/edc-dcp).
        let extra = format!(
            "edc.iam.issuer.id={did}\nedc.iam.did.web.use.https=false\n\
             edc.iam.sts.oauth.token.url={sts}/token\nedc.iam.sts.oauth.client.id={did}\n\
             edc.iam.sts.oauth.client.secret.alias=sts-client-secret\nedc.vault.seed.sts-client-secret={secret}\n\
             edc.iam.trusted-issuer.dsc.id={issuer}\n\
             edc.iam.credential.revocation.mimetype=application/json\nedc.iam.credential.revocation.cache.validity=300\n\
             tx.edc.iam.iatp.default-scopes.membership.alias=org.eclipse.edc.vc.type\n\
             tx.edc.iam.iatp.default-scopes.membership.type=MembershipCredential\n\
             tx.edc.iam.iatp.default-scopes.membership.operation=read\n\
             edc.transfer.proxy.token.signer.privatekey.alias=dp-private-key\n\
             edc.transfer.proxy.token.verifier.publickey.alias=dp-public-key\n\
             edc.vault.seed.dp-private-key={}\nedc.vault.seed.dp-public-key={}\n",
            property(&private_pem),
            property(&public_pem),
            sts = participant.sts,
            secret = participant.client_secret,
        );
        Some(Self::launch(&classpath, did, &extra, "DEBUG").await)
    }

    async fn launch(classpath: &str, participant_id: &str, extra: &str, log_level: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (health, management, protocol, control, public, version) =
            (free_port(), free_port(), free_port(), free_port(), free_port(), free_port());
        let properties = format!(
            "edc.participant.id={participant_id}\nedc.component.id={participant_id}\nedc.hostname=127.0.0.1\n\
             web.http.port={health}\nweb.http.path=/api\n\
             web.http.management.port={management}\nweb.http.management.path=/management\n\
             web.http.management.auth.type=tokenbased\nweb.http.management.auth.key={KEY}\n\
             web.http.protocol.port={protocol}\nweb.http.protocol.path=/protocol\n\
             web.http.control.port={control}\nweb.http.control.path=/control\n\
             web.http.public.port={public}\nweb.http.public.path=/public\n\
             web.http.version.port={version}\nweb.http.version.path=/version\n\
             edc.dsp.callback.address=http://127.0.0.1:{protocol}/protocol\n\
             edc.dataplane.api.public.baseurl=http://127.0.0.1:{public}/public\n\
             edc.jsonld.http.enabled=false\n{extra}",
        );
        let config = dir.path().join("edc.properties");
        std::fs::write(&config, properties).unwrap();
        let log = dir.path().join("edc.log");
        let output = std::fs::File::create(&log).unwrap();
        let mut child = Command::new("java")
            .args(["-Xmx512m", &format!("-Dedc.fs.config={}", config.display()), "-cp", classpath])
            .arg("org.eclipse.edc.boot.system.runtime.BaseRuntime")
            // DCP refusals are logged at debug level only ("Unauthorized: <reason>").
            .arg(format!("--log-level={log_level}"))
            .stdout(Stdio::from(output.try_clone().unwrap()))
            .stderr(Stdio::from(output))
            .spawn()
            .expect("cannot start java");
        // EDC logs "Runtime <id> ready" once every extension has started (its health check answers earlier).
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Error booting runtime") || matches!(child.try_wait(), Ok(Some(_))) {
                let errors: Vec<&str> =
                    text.lines().filter(|l| l.contains("SEVERE") || l.contains("Caused by")).collect();
                panic!("EDC did not start: {}", errors.join("\n"));
            }
            if text.lines().any(|line| line.contains(" Runtime ") && line.contains(" ready")) {
                break;
            }
            assert!(Instant::now() < deadline, "EDC not ready in 90 s: {text}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        EdcPeer { participant_id: participant_id.to_string(), management, protocol, public, child, log, _dir: dir }
    }

    pub fn protocol_address(&self) -> String {
        format!("http://127.0.0.1:{}/protocol/2025-1", self.protocol)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> super::Reply {
        let mut request = super::client()
            .request(method, format!("http://127.0.0.1:{}/management{path}", self.management))
            .header("x-api-key", KEY);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        super::Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }

    pub async fn post(&self, path: &str, body: &Value) -> super::Reply {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> super::Reply {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Polls `path` until its `state` is `wanted`.
    pub async fn wait_state(&self, path: &str, wanted: &str) -> Value {
        self.wait_state_in(path, &[wanted]).await
    }

    /// Polls `path` until its `state` is one of `wanted`.
    pub async fn wait_state_in(&self, path: &str, wanted: &[&str]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let reply = self.get(path).await;
            if wanted.iter().any(|w| reply.body["state"] == *w) {
                return reply.body;
            }
            assert!(
                Instant::now() < deadline,
                "EDC {path} never became {wanted:?}: {}\n{}",
                reply.body,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An HTTP asset under an open contract.
    pub async fn offer(&self, asset: &str, base_url: &str) {
        let bodies = [
            (
                "/v3/assets",
                json!({ "@context": { "@vocab": EDC }, "@id": asset, "properties": { "name": asset },
                        "dataAddress": { "type": "HttpData", "baseUrl": base_url, "proxyPath": "true" } }),
            ),
            (
                "/v3/policydefinitions",
                json!({ "@context": { "@vocab": EDC }, "@id": "open", "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld",
                        "@type": "Set", "permission": [{ "action": "use" }] } }),
            ),
            (
                "/v3/contractdefinitions",
                json!({ "@context": { "@vocab": EDC }, "@id": "cd-open", "accessPolicyId": "open", "contractPolicyId": "open",
                        "assetsSelector": [] }),
            ),
        ];
        for (path, body) in bodies {
            let reply = self.post(path, &body).await;
            assert_eq!(reply.status, 200, "EDC {path}: {}", reply.body);
        }
    }
}

/// A backend for HTTP pull tests: `GET /data` answers `{"serial": "SN-1"}`, `GET /data/<path>` adds the path.
pub async fn backend() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/data", axum::routing::get(|| async { axum::Json(json!({ "serial": "SN-1" })) }))
        .route(
            "/data/{*rest}",
            axum::routing::get(|axum::extract::Path(rest): axum::extract::Path<String>| async move {
                axum::Json(json!({ "serial": "SN-1", "path": rest }))
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}/data")
}

/// GET `url` with an EDR's `Authorization` value: the status and the JSON body (null when none).
pub async fn fetch(url: &str, token: &str) -> (u16, Value) {
    let response = super::client().get(url).header("Authorization", token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Offers `asset` (with `data_address`) at one of our connectors under an open policy.
pub async fn offer_openly(connector: &super::TestConnector, asset: &str, data_address: Value) {
    let bodies = [
        (
            "/v3/assets",
            json!({ "@context": { "@vocab": EDC }, "@id": asset, "properties": { "name": asset }, "dataAddress": data_address }),
        ),
        (
            "/v3/policydefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "open", "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld",
                    "@type": "Set", "permission": [{ "action": "use" }] } }),
        ),
        (
            "/v3/contractdefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": format!("cd-{asset}"), "accessPolicyId": "open", "contractPolicyId": "open",
                    "assetsSelector": [{ "operandLeft": format!("{EDC}id"), "operator": "=", "operandRight": asset }] }),
        ),
    ];
    for (path, body) in bodies {
        let reply = connector.post(path, &body).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
}
