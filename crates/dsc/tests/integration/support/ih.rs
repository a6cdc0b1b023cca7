// SPDX-License-Identifier: Apache-2.0
//! An Eclipse Identity Hub 0.15.1 as the wallet of EDC peers (and of a `dsc` connector with an external wallet):
//! credential service, STS and did:web documents, assembled by `scripts/harness.sh up identityhub` (class path in
//! `TEST_IH_CLASSPATH`, with the harness's one-class extension that creates the admin account IH no longer creates).

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::{Value, json};

use super::peers::free_port;

/// The admin's API key: base64 of its id, a dot, anything.
const SUPER_USER_KEY: &str = "c3VwZXItdXNlcg==.c3VwZXItc2VjcmV0LWtleQ==";

pub struct IdentityHub {
    identity: u16,
    credentials: u16,
    did: u16,
    sts: u16,
    child: Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// A participant context in the hub: its DID, STS and credential service.
pub struct IhParticipant {
    pub context: String,
    pub did: String,
    /// The STS base URL (`…/api/sts`; the token endpoint is `/token`).
    pub sts: String,
    pub client_secret: String,
}

impl Drop for IdentityHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A P-256 key pair as PKCS#8 and SPKI PEM (an EDC data plane's EDR signing key).
pub fn key_pair_pem() -> (String, String) {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let secret = loop {
        if let Ok(key) = p256::SecretKey::from_bytes(&rand::random::<[u8; 32]>().into()) {
            break key;
        }
    };
    let private = secret.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public = secret.public_key().to_public_key_pem(LineEnding::LF).unwrap();
    (private, public)
}

impl IdentityHub {
    /// Starts the hub, or `None` when its class path is not assembled (and `TEST_REQUIRE_EDC_DCP` is not set).
    pub async fn start() -> Option<Self> {
        let Ok(classpath) = std::env::var("TEST_IH_CLASSPATH") else {
            assert!(
                std::env::var("TEST_REQUIRE_EDC_DCP").is_err(),
                "TEST_REQUIRE_EDC_DCP is set but TEST_IH_CLASSPATH is not: run scripts/harness.sh up identityhub"
            );
            eprintln!("skipped: no Identity Hub (scripts/harness.sh up identityhub edc-dcp)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let (health, identity, credentials, did, sts, version) =
            (free_port(), free_port(), free_port(), free_port(), free_port(), free_port());
        let properties = format!(
            "edc.participant.id=identityhub\nedc.hostname=127.0.0.1\n\
             web.http.port={health}\nweb.http.path=/api\n\
             web.http.identity.port={identity}\nweb.http.identity.path=/api/identity\n\
             web.http.credentials.port={credentials}\nweb.http.credentials.path=/api/credentials\n\
             web.http.did.port={did}\nweb.http.did.path=/\n\
             web.http.sts.port={sts}\nweb.http.sts.path=/api/sts\n\
             web.http.version.port={version}\nweb.http.version.path=/api/version\n\
             edc.iam.did.web.use.https=false\nedc.iam.accesstoken.jti.validation=true\n\
             edc.ih.api.superuser.id=super-user\nedc.ih.api.superuser.key={SUPER_USER_KEY}\n"
        );
        let config = dir.path().join("ih.properties");
        std::fs::write(&config, properties).unwrap();
        let log = dir.path().join("ih.log");
        let output = std::fs::File::create(&log).unwrap();
        let mut child = Command::new("java")
            .args(["-Xmx384m", "-XX:+UseSerialGC", &format!("-Dedc.fs.config={}", config.display()), "-cp", &classpath])
            .arg("org.eclipse.edc.boot.system.runtime.BaseRuntime")
            .stdout(Stdio::from(output.try_clone().unwrap()))
            .stderr(Stdio::from(output))
            .spawn()
            .expect("cannot start java");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Error booting runtime") || matches!(child.try_wait(), Ok(Some(_))) {
                panic!("the Identity Hub did not start: {text}");
            }
            if text.lines().any(|line| line.contains(" Runtime ") && line.contains(" ready")) {
                break;
            }
            assert!(Instant::now() < deadline, "the Identity Hub is not ready in 90 s: {text}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Some(IdentityHub { identity, credentials, did, sts, child, log, _dir: dir })
    }

    fn api(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/api/identity/v1alpha{path}", self.identity)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Creates participant context `context` with a P-256 key, its published DID document (naming its credential
    /// service) and its STS account.
    pub async fn create_participant(&self, context: &str) -> IhParticipant {
        let did = format!("did:web:127.0.0.1%3A{}:{context}", self.did);
        let encoded = STANDARD.encode(context);
        let body = json!({
            "participantContextId": context, "did": did, "active": true, "roles": [],
            "serviceEndpoints": [{ "id": format!("{did}#credential-service"), "type": "CredentialService",
                "serviceEndpoint": format!("http://127.0.0.1:{}/api/credentials/v1/participants/{encoded}", self.credentials) }],
            "key": { "keyId": format!("{did}#key-1"), "privateKeyAlias": format!("{context}-alias"),
                "keyGeneratorParams": { "algorithm": "EC", "curve": "secp256r1" } },
        });
        let response = super::client()
            .post(self.api("/participants"))
            .header("x-api-key", SUPER_USER_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let created: Value = response.json().await.unwrap_or_default();
        assert!(status.is_success(), "creating {context} in the Identity Hub: {status} {created}\n{}", self.log_tail());
        // The DID document is published right after the key pair is activated.
        let url = format!("http://127.0.0.1:{}/{context}/did.json", self.did);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !super::client().get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
            assert!(Instant::now() < deadline, "{url} is not served");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        IhParticipant {
            context: context.to_string(),
            did,
            sts: format!("http://127.0.0.1:{}/api/sts", self.sts),
            client_secret: created["clientSecret"].as_str().unwrap().to_string(),
        }
    }

    /// Stores a VC JWT (profile `vc11-sl2021/jwt`) for the participant. The Identity API wants the credential's
    /// content beside the JWT, in EDC's model; it checks nothing itself (the verifier does).
    pub async fn store_credential(&self, participant: &IhParticipant, jwt: &str) -> String {
        let payload = jwt.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).unwrap(),
        )
        .unwrap();
        let vc = &claims["vc"];
        let as_array = |value: &Value| if value.is_array() { value.clone() } else { json!([value]) };
        let id =
            format!("{}-{}", participant.context, vc["id"].as_str().unwrap_or_default().rsplit(':').next().unwrap());
        let manifest = json!({
            "id": id, "participantContextId": participant.context,
            "verifiableCredentialContainer": { "rawVc": jwt, "format": "VC1_0_JWT", "credential": {
                "id": vc["id"], "type": vc["type"], "issuer": { "id": vc["issuer"], "additionalProperties": {} },
                "issuanceDate": vc["issuanceDate"], "expirationDate": vc["expirationDate"],
                "credentialSubject": as_array(&vc["credentialSubject"]),
                "credentialStatus": as_array(&vc["credentialStatus"]), "dataModelVersion": "V_1_1" } },
        });
        let path = format!("/participants/{}/credentials", URL_SAFE.encode(&participant.context));
        let response = super::client()
            .post(self.api(&path))
            .header("x-api-key", SUPER_USER_KEY)
            .json(&manifest)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            status.is_success(),
            "storing a credential: {status} {}\n{}",
            response.text().await.unwrap_or_default(),
            self.log_tail()
        );
        id
    }
}
