// SPDX-License-Identifier: Apache-2.0
//! The `KafkaBroker` data address: a Kafka topic offered for pull, with the property names Tractus-X uses.
//!
//! Validation reports every bad field with its property IRI, so the Management API can name it. Credentials are
//! not part of the address: each transfer gets its own OAuth client and ACLs from the data plane's configuration.

use serde_json::Value;

use dsc_domain::{DataAddress, Violation, namespaces};

/// The data address type of Kafka assets.
pub const KAFKA_BROKER: &str = "KafkaBroker";
/// Transfer types served for it (`Kafka-PULL` is what Mobility Data Space peers ask for).
pub const KAFKA_PULL: &str = "KafkaBroker-PULL";
pub const KAFKA_PULL_ALIAS: &str = "Kafka-PULL";

const SECURITY_PROTOCOLS: [&str; 2] = ["SASL_PLAINTEXT", "SASL_SSL"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaBrokerAddress {
    pub topic: String,
    /// `host:port` pairs.
    pub bootstrap_servers: Vec<String>,
    pub security_protocol: String,
    /// Always `OAUTHBEARER`: every transfer has its own OAuth identity.
    pub sasl_mechanism: String,
    /// ISO-8601 duration the consumer is advised to poll with.
    pub poll_duration: String,
    /// The base of the per-transfer consumer group prefix.
    pub group_prefix_base: Option<String>,
    /// `kafka.share.client.credentials`: the EDR also carries the transfer's OAuth client id, secret and token
    /// endpoint, so that a Kafka client's own OAuth support can fetch tokens (Mobility Data Space style).
    pub share_client_credentials: bool,
}

fn edc(local: &str) -> String {
    namespaces::edc(local)
}

/// Kafka's topic rules: 1–249 characters of `[A-Za-z0-9._-]`, not `.` or `..`.
pub fn valid_topic(topic: &str) -> bool {
    (1..=249).contains(&topic.len())
        && topic != "."
        && topic != ".."
        && topic.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn valid_server(server: &str) -> bool {
    let Some((host, port)) = server.rsplit_once(':') else { return false };
    !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
        && port.parse::<u16>().is_ok_and(|p| p > 0)
}

/// ISO-8601 durations of the `PnDTnHnMn.nS` family (what Java's `Duration.parse` accepts).
pub fn valid_duration(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("PT").or_else(|| text.strip_prefix('P')) else { return false };
    if rest.is_empty() {
        return false;
    }
    let mut number = String::new();
    let mut seen_unit = false;
    let mut in_time = text.starts_with("PT");
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'T' if !in_time && number.is_empty() => in_time = true,
            'D' if !in_time => {
                if number.parse::<f64>().is_err() {
                    return false;
                }
                number.clear();
                seen_unit = true;
            }
            'H' | 'M' | 'S' if in_time => {
                if number.parse::<f64>().is_err() || (c != 'S' && number.contains('.')) {
                    return false;
                }
                number.clear();
                seen_unit = true;
            }
            _ => return false,
        }
    }
    seen_unit && number.is_empty()
}

impl KafkaBrokerAddress {
    /// Reads and checks a `KafkaBroker` data address; every violation names the property (under `path`).
    pub fn from_data_address(address: &DataAddress, path: &str) -> Result<Self, Vec<Violation>> {
        let mut violations = Vec::new();
        let at = |local: &str| format!("{path}/{}", edc(local));
        let text = |local: &str| address.properties.get(&edc(local)).and_then(Value::as_str).map(str::trim);
        let required = |local: &str, violations: &mut Vec<Violation>| match text(local) {
            Some(value) if !value.is_empty() => Some(value.to_string()),
            _ => {
                violations.push(Violation::mandatory_value(&at(local)));
                None
            }
        };
        let topic = required("topic", &mut violations);
        if let Some(topic) = topic.as_deref().filter(|t| !valid_topic(t)) {
            violations.push(
                Violation::new(
                    "topic must be 1-249 characters of letters, digits, '.', '_' and '-' (not '.' or '..')",
                    at("topic"),
                )
                .with_value(Value::String(topic.to_string())),
            );
        }
        let servers = required("kafka.bootstrap.servers", &mut violations);
        let bootstrap_servers: Vec<String> =
            servers.iter().flat_map(|s| s.split(',')).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if let Some(bad) = bootstrap_servers.iter().find(|s| !valid_server(s)) {
            violations.push(
                Violation::new(
                    "kafka.bootstrap.servers must be a comma-separated list of host:port",
                    at("kafka.bootstrap.servers"),
                )
                .with_value(Value::String(bad.clone())),
            );
        }
        let security_protocol = required("kafka.security.protocol", &mut violations);
        if let Some(protocol) = security_protocol.as_deref().filter(|p| !SECURITY_PROTOCOLS.contains(p)) {
            violations.push(
                Violation::new(
                    format!("kafka.security.protocol must be one of {}", SECURITY_PROTOCOLS.join(", ")),
                    at("kafka.security.protocol"),
                )
                .with_value(Value::String(protocol.to_string())),
            );
        }
        let sasl_mechanism = text("kafka.sasl.mechanism").unwrap_or("OAUTHBEARER").to_string();
        if sasl_mechanism != "OAUTHBEARER" {
            violations.push(
                Violation::new(
                    "kafka.sasl.mechanism must be OAUTHBEARER: every transfer gets its own OAuth identity",
                    at("kafka.sasl.mechanism"),
                )
                .with_value(Value::String(sasl_mechanism.clone())),
            );
        }
        let poll_duration = text("kafka.poll.duration").unwrap_or("PT1S").to_string();
        if !valid_duration(&poll_duration) {
            violations.push(
                Violation::new(
                    "kafka.poll.duration must be an ISO-8601 duration such as PT1S",
                    at("kafka.poll.duration"),
                )
                .with_value(Value::String(poll_duration.clone())),
            );
        }
        let group_prefix_base = text("kafka.group.prefix").filter(|p| !p.is_empty()).map(str::to_string);
        if let Some(prefix) = group_prefix_base
            .as_deref()
            .filter(|p| !p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            violations.push(
                Violation::new(
                    "kafka.group.prefix may contain letters, digits, '.', '_' and '-' only",
                    at("kafka.group.prefix"),
                )
                .with_value(Value::String(prefix.to_string())),
            );
        }
        let share_client_credentials = match text("kafka.share.client.credentials") {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                violations.push(
                    Violation::new(
                        "kafka.share.client.credentials must be true or false",
                        at("kafka.share.client.credentials"),
                    )
                    .with_value(Value::String(other.to_string())),
                );
                false
            }
        };
        match (violations.is_empty(), topic, security_protocol) {
            (true, Some(topic), Some(security_protocol)) => Ok(KafkaBrokerAddress {
                topic,
                bootstrap_servers,
                security_protocol,
                sasl_mechanism,
                poll_duration,
                group_prefix_base,
                share_client_credentials,
            }),
            _ => Err(violations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn address(pairs: &[(&str, &str)]) -> DataAddress {
        let mut properties = dsc_domain::Properties::new();
        properties.insert(DataAddress::type_iri(), json!(KAFKA_BROKER));
        for (key, value) in pairs {
            properties.insert(edc(key), json!(value));
        }
        DataAddress { properties }
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("topic", "parts.events-v1"),
            ("kafka.bootstrap.servers", "kafka-1:9093, kafka-2:9093"),
            ("kafka.security.protocol", "SASL_SSL"),
        ]
    }

    #[test]
    fn a_complete_address_reads_with_defaults() {
        let read =
            KafkaBrokerAddress::from_data_address(&address(&good()), "dataAddress").unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(read.bootstrap_servers, vec!["kafka-1:9093", "kafka-2:9093"]);
        assert_eq!((read.sasl_mechanism.as_str(), read.poll_duration.as_str()), ("OAUTHBEARER", "PT1S"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = address(&[
            ("topic", "parts/events"),
            ("kafka.bootstrap.servers", "kafka-1"),
            ("kafka.security.protocol", "PLAINTEXT"),
            ("kafka.sasl.mechanism", "PLAIN"),
            ("kafka.poll.duration", "1 second"),
            ("kafka.group.prefix", "group prefix"),
            ("kafka.share.client.credentials", "yes"),
        ]);
        let violations = KafkaBrokerAddress::from_data_address(&bad, "dataAddress").err().unwrap_or_default();
        let paths: Vec<String> = violations.iter().filter_map(|v| v.path.clone()).collect();
        let expected: Vec<String> = [
            "topic",
            "kafka.bootstrap.servers",
            "kafka.security.protocol",
            "kafka.sasl.mechanism",
            "kafka.poll.duration",
            "kafka.group.prefix",
            "kafka.share.client.credentials",
        ]
        .iter()
        .map(|local| format!("dataAddress/{}", edc(local)))
        .collect();
        assert_eq!(paths, expected);
        let missing = KafkaBrokerAddress::from_data_address(&address(&[]), "d").err().unwrap_or_default();
        assert_eq!(missing.len(), 3, "topic, servers and protocol are required: {missing:?}");
    }

    #[test]
    fn topic_and_duration_rules() {
        assert!(valid_topic("a.b_c-d"));
        assert!(!valid_topic(".."));
        assert!(!valid_topic(&"x".repeat(250)));
        for good in ["PT1S", "PT0.5S", "PT1M30S", "P1D", "P1DT2H", "PT10H"] {
            assert!(valid_duration(good), "{good}");
        }
        for bad in ["P", "PT", "1S", "PT1.5M", "PTS", "P1H", "PT1S2"] {
            assert!(!valid_duration(bad), "{bad}");
        }
    }
}
