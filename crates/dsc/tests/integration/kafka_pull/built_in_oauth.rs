// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL with the provider's built-in OAuth server: a broker of its own (started here from the harness's Kafka
//! jars, because a broker trusts one issuer, fixed at start) validates the tokens the provider issues.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::kafka::{self, *};
use crate::support;
use crate::support::process::*;

/// A single-node broker trusting `issuer`'s JWKS; killed on drop.
struct Broker {
    child: Child,
    internal: String,
    oauth: String,
    _dir: tempfile::TempDir,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn java(lib: &str, log4j: &str, jwks: &str) -> Command {
    let mut command = Command::new("java");
    command.args([
        "-Xms128m",
        "-Xmx512m",
        &format!("-Dlog4j2.configurationFile=file:{log4j}"),
        &format!("-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls={jwks}"),
        "-cp",
        &format!("{lib}/*"),
    ]);
    command
}

async fn broker_trusting(h: &KafkaHarness, issuer: &str) -> Option<Broker> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(lib), Some(template), Some(log4j), Some(keystore)) = (
        var("TEST_KAFKA_LIB_DIR"),
        var("TEST_KAFKA_TEMPLATE"),
        var("TEST_KAFKA_LOG4J"),
        var("TEST_KAFKA_TLS_KEYSTORE"),
    ) else {
        assert!(var("TEST_REQUIRE_KAFKA").is_none(), "TEST_REQUIRE_KAFKA is set but the Kafka jars are not named");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let (internal, controller, oauth, tls) = (free_port(), free_port(), free_port(), free_port());
    let jwks = format!("{issuer}/jwks");
    let text = std::fs::read_to_string(&template).unwrap_or_else(|e| panic!("{template}: {e}"));
    let properties = [
        ("@INTERNAL_PORT@", internal.to_string()),
        ("@CONTROLLER_PORT@", controller.to_string()),
        ("@OAUTH_PORT@", oauth.to_string()),
        ("@TLS_PORT@", tls.to_string()),
        ("@DATA_DIR@", dir.path().join("data").display().to_string()),
        ("@ADMIN_USER@", h.admin_user.clone()),
        ("@ADMIN_PASSWORD@", h.admin_password.clone()),
        ("@READER_USER@", "reader".to_string()),
        ("@READER_PASSWORD@", "reader-secret".to_string()),
        ("@JWKS_URL@", jwks.clone()),
        ("@ISSUER@", issuer.to_string()),
        ("@AUDIENCE@", "urn:kafka:broker".to_string()),
        ("@SUB_CLAIM@", "sub".to_string()),
        ("@REAUTH_MS@", "10000".to_string()),
        ("@CLOCK_SKEW_S@", "5".to_string()),
        ("@TLS_KEYSTORE@", keystore),
        ("@EXTRA_SUPER_USERS@", String::new()),
    ]
    .iter()
    .fold(text, |text, (placeholder, value)| text.replace(placeholder, value));
    let config = dir.path().join("server.properties");
    std::fs::write(&config, properties).unwrap();
    let id = java(&lib, &log4j, &jwks).args(["kafka.tools.StorageTool", "random-uuid"]).output().expect("java");
    let id = String::from_utf8_lossy(&id.stdout).trim().to_string();
    let formatted = java(&lib, &log4j, &jwks)
        .args(["kafka.tools.StorageTool", "format", "-t", &id, "-c", &config.display().to_string()])
        .output()
        .expect("java");
    assert!(formatted.status.success(), "format: {}", String::from_utf8_lossy(&formatted.stderr));
    let log = std::fs::File::create(dir.path().join("kafka.log")).unwrap();
    let child = java(&lib, &log4j, &jwks)
        .args(["kafka.Kafka", &config.display().to_string()])
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("java");
    let broker =
        Broker { child, internal: format!("127.0.0.1:{internal}"), oauth: format!("127.0.0.1:{oauth}"), _dir: dir };
    let admin = dsc_kafka_admin::KafkaAdmin::new(&broker.internal, &h.admin_user, &h.admin_password);
    let deadline = Instant::now() + Duration::from_secs(60);
    while admin.all_acls().await.is_err() {
        assert!(Instant::now() < deadline, "the broker trusting {issuer} did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Some(broker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kafka_trusts_the_built_in_oauth_server_and_a_consumer_reads_with_its_tokens() {
    let Some(h) = kafka::harness() else { return };
    let oauth_port = free_port();
    let issuer = format!("http://127.0.0.1:{oauth_port}/oauth");
    let provider_extra = format!(
        "\"dsc.oauth.server.enabled\" = \"true\"\n\"web.http.oauth.port\" = {oauth_port}\n\
         \"dsc.oauth.server.token.expiry\" = 60\n"
    );
    // The provider (and its OAuth server) must run before the broker, which fetches the JWKS at start.
    let placeholder = "127.0.0.1:1";
    let pair =
        pair(&h, &format!("{provider_extra}\"dsc.kafka.admin.bootstrap.servers\" = \"{placeholder}\"\n"), "").await;
    let Some(broker) = broker_trusting(&h, &issuer).await else { return };
    // Restart the provider pointing at the broker that trusts it (same data: same signing key and vault).
    let mut pair = pair;
    pair.provider.crash();
    let config = std::fs::read_to_string(&pair.provider.config).unwrap_or_default();
    std::fs::write(&pair.provider.config, config.replace(placeholder, &broker.internal)).unwrap();
    pair.provider.start().await;

    let topic = unique("kafka-pull-built-in");
    let mut own = KafkaHarness { admin_bootstrap: broker.internal.clone(), oauth_bootstrap: broker.oauth.clone(), ..h };
    own.resource = None;
    own.create_topic(&topic).await;
    let feeder = own.feed(&[&topic], Duration::from_millis(100));
    own.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = agreement(&pair).await;
    let transfer = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    let edr = edr(&pair.consumer, &transfer).await;
    let token = edr["authorization"].as_str().unwrap_or_default();
    assert_eq!(claims(token)["iss"], issuer.as_str(), "the token comes from the built-in server");

    let (reading, source, group) = (
        edr.clone(),
        TokenSource::edr(&pair.consumer, &transfer),
        format!("{}app", edr["kafka.group.prefix"].as_str().unwrap_or_default()),
    );
    let outcome = blocking(move || reader(&reading, source, &group).poll(3, Duration::from_secs(30))).await;
    assert_eq!(outcome, Outcome::Records(3), "a consumer reads with the built-in server's token");

    let provider_id = provider_transfer_of(&pair.provider, &transfer).await;
    command(&pair.provider, &provider_id, "suspend").await;
    let (reading, group) = (edr.clone(), format!("{}late", edr["kafka.group.prefix"].as_str().unwrap_or_default()));
    let fixed = TokenSource::Fixed { token: token.to_string(), lifetime_ms: i64::MAX / 4 };
    let outcome = blocking(move || reader(&reading, fixed, &group).poll(1, Duration::from_secs(20))).await;
    assert_denied(&outcome, "the suspended transfer's token");
    wait_for_transfer(&pair.consumer, &transfer, "SUSPENDED", Duration::from_secs(10)).await;
    let refresh = support::send(
        reqwest::Method::GET,
        &pair.consumer.management_url(&format!("/v3/edrs/{transfer}/dataaddress?auto_refresh=true")),
        Some(support::API_KEY),
        None,
    )
    .await;
    assert_eq!(refresh.status, 404, "no EDR while suspended: {}", refresh.body);
    feeder.abort();
}
