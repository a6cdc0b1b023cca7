// SPDX-License-Identifier: Apache-2.0
//! A Kafka EDR as the consumer connector's Management API returns it (compacted, Tractus-X property names).

use base64::Engine;
use serde_json::Value;

use crate::ConsumeError;

const KAFKA_ENDPOINT_TYPE: &str = "https://w3id.org/idsa/v4.1/Kafka";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edr {
    /// Bootstrap servers.
    pub endpoint: String,
    pub topic: String,
    /// Every consumer group of this transfer must start with it.
    pub group_prefix: String,
    pub security_protocol: String,
    pub sasl_mechanism: String,
    /// The JWT for SASL/OAUTHBEARER.
    pub token: String,
    /// The token's `exp` (Unix seconds), when it has one.
    pub expires_at: Option<i64>,
    /// The token's subject: the principal the broker sees.
    pub principal: String,
}

fn claims(token: &str) -> Value {
    token
        .split('.')
        .nth(1)
        .and_then(|part| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

impl Edr {
    pub fn from_json(transfer: &str, address: &Value) -> Result<Self, ConsumeError> {
        let text = |key: &str| address.get(key).and_then(Value::as_str).map(str::to_string);
        let endpoint_type = text("endpointType").or_else(|| text("type")).unwrap_or_default();
        if endpoint_type != KAFKA_ENDPOINT_TYPE {
            return Err(ConsumeError::NotKafka { transfer: transfer.to_string(), endpoint_type });
        }
        let required = |key: &str| {
            text(key).filter(|v| !v.is_empty()).ok_or_else(|| ConsumeError::Malformed {
                transfer: transfer.to_string(),
                reason: format!("the EDR has no {key}"),
            })
        };
        let token = required("authorization")?;
        let claims = claims(&token);
        Ok(Edr {
            endpoint: required("endpoint")?,
            topic: required("topic")?,
            group_prefix: required("kafka.group.prefix")?,
            security_protocol: text("kafka.security.protocol").unwrap_or_else(|| "SASL_SSL".into()),
            sasl_mechanism: text("kafka.sasl.mechanism").unwrap_or_else(|| "OAUTHBEARER".into()),
            expires_at: claims["exp"].as_i64(),
            principal: claims["sub"].as_str().unwrap_or("unknown").to_string(),
            token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(claims: Value) -> String {
        let part = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("eyJhbGciOiJFUzI1NiJ9.{part}.c2ln")
    }

    #[test]
    fn a_kafka_edr_is_read_with_its_token_claims() {
        let address = json!({ "endpointType": KAFKA_ENDPOINT_TYPE, "endpoint": "kafka:9094", "topic": "t",
            "kafka.group.prefix": "dsc-1.", "kafka.security.protocol": "SASL_PLAINTEXT",
            "authorization": jwt(json!({ "sub": "client-7", "exp": 1_800_000_000 })) });
        let edr = Edr::from_json("tp-1", &address).unwrap();
        assert_eq!(
            (edr.endpoint.as_str(), edr.group_prefix.as_str(), edr.principal.as_str(), edr.expires_at),
            ("kafka:9094", "dsc-1.", "client-7", Some(1_800_000_000))
        );
        assert_eq!(edr.sasl_mechanism, "OAUTHBEARER");
    }

    #[test]
    fn other_edrs_are_named_for_what_they_are() {
        let http = json!({ "endpointType": "https://w3id.org/idsa/v4.1/HTTP", "endpoint": "http://x" });
        assert_eq!(
            Edr::from_json("tp-2", &http).err().map(|e| e.to_string()).as_deref(),
            Some("transfer tp-2 is not a Kafka transfer (its EDR is of type https://w3id.org/idsa/v4.1/HTTP)")
        );
        let partial =
            json!({ "endpointType": KAFKA_ENDPOINT_TYPE, "endpoint": "kafka:9094", "authorization": "a.b.c" });
        assert_eq!(
            Edr::from_json("tp-3", &partial).err().map(|e| e.to_string()).as_deref(),
            Some("the EDR of transfer tp-3 is unusable: the EDR has no topic")
        );
    }
}

/// How much earlier than its `exp` librdkafka is told a token expires, at most.
pub const TOKEN_EXPIRY_MARGIN_MS: i64 = 2_500;

/// The lifetime (epoch ms) to report to librdkafka for a token expiring at `exp_seconds`.
///
/// librdkafka asks for a new token at 80 % of the lifetime it was told, checking once a second, and re-authenticates
/// at 90 % of the session the broker granted, which ends at the token's real `exp`; the broker refuses a
/// re-authentication less than a second after the previous one. With a short token the old one is then presented
/// again and the connection is dropped. Reporting an earlier expiry makes the new token arrive first; half the
/// remaining time at most, so a token about to expire is still used.
pub fn reported_lifetime_ms(exp_seconds: i64, now_ms: i64) -> i64 {
    let expires_ms = exp_seconds.saturating_mul(1000);
    let margin = TOKEN_EXPIRY_MARGIN_MS.min((expires_ms - now_ms).max(0) / 2);
    expires_ms - margin
}

#[cfg(test)]
mod lifetime_tests {
    use super::*;

    #[test]
    fn librdkafka_hears_of_the_expiry_early_but_never_past_half_the_remaining_time() {
        let now = 1_000_000_000_000;
        assert_eq!(reported_lifetime_ms(now / 1000 + 60, now), now + 60_000 - 2_500);
        assert_eq!(reported_lifetime_ms(now / 1000 + 4, now), now + 4_000 - 2_000);
        assert_eq!(reported_lifetime_ms(now / 1000, now), now, "an expired token stays expired");
        assert_eq!(reported_lifetime_ms(now / 1000 - 5, now), now - 5_000);
    }
}
