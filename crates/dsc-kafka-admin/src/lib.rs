// SPDX-License-Identifier: Apache-2.0
//! A small Kafka admin client for ACLs.
//!
//! rdkafka's safe API has no ACL operations, and its FFI needs `unsafe`, which this workspace forbids. The Kafka
//! protocol messages come from the `kafka-protocol` crate; this crate only frames them over one TCP connection,
//! authenticates (SASL PLAIN, SCRAM-SHA-256/512 or OAUTHBEARER, over TCP or TLS) and maps the answers to typed results. One connection is opened per operation:
//! ACL changes are rare (one per transfer start, suspend or end) and must not share state between callers; many of them
//! at once (a partner's membership ended, a reconciliation pass) go as one request per thousand grants.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse, DescribeAclsRequest,
    DescribeAclsResponse, MetadataRequest, MetadataResponse, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod login;
pub mod scram;
mod tls;

pub use login::Credentials;

/// Kafka's enum values on the wire (`org.apache.kafka.common.acl` / `resource`).
mod wire {
    pub const ANY: i8 = 1;
    pub const TOPIC: i8 = 2;
    pub const GROUP: i8 = 3;
    pub const LITERAL: i8 = 3;
    pub const PREFIXED: i8 = 4;
    pub const READ: i8 = 3;
    pub const DESCRIBE: i8 = 8;
    pub const ALLOW: i8 = 3;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    #[error("cannot reach the Kafka admin listener {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("Kafka refused the admin login: {0}")]
    Authentication(String),
    #[error("Kafka refused the ACL change ({code}): {message}")]
    Refused { code: i16, message: String },
    #[error("unexpected answer from Kafka: {0}")]
    Protocol(String),
    #[error("Kafka admin TLS: {0}")]
    Tls(String),
    #[error("the Kafka admin listener {address} did not answer within {seconds} s")]
    Timeout { address: String, seconds: u64 },
}

/// Kafka's error code for a topic that does not exist.
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
/// How long one admin operation (connect, login and the request) may take: a broker that hangs must not hold a
/// transfer start forever.
const OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Most grants (or principals) per CreateAcls or DeleteAcls request. Each stands for three ACL records, and the
/// broker's controller accepts at most 10,000 records in one atomic metadata batch.
pub const GRANTS_PER_REQUEST: usize = 1000;

/// Matches every ACL of one principal, on any resource.
fn principal_filter(principal: &str) -> DeleteAclsFilter {
    DeleteAclsFilter::default()
        .with_resource_type_filter(wire::ANY)
        .with_resource_name_filter(None)
        .with_pattern_type_filter(wire::ANY)
        .with_principal_filter(Some(text(principal)))
        .with_host_filter(None)
        .with_operation(wire::ANY)
        .with_permission_type(wire::ANY)
}

/// What a consumer principal may do: read one topic and use consumer groups starting with a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGrant {
    /// `User:<name>`, as the broker's principal builder names the token's subject.
    pub principal: String,
    pub topic: String,
    pub group_prefix: String,
}

/// One ACL binding as Kafka reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AclBinding {
    pub resource: String,
    pub name: String,
    pub pattern: String,
    pub principal: String,
    pub operation: String,
}

#[derive(Clone)]
pub struct KafkaAdmin {
    address: String,
    login: Credentials,
    tls: Option<tls::Tls>,
    timeout: std::time::Duration,
}

impl std::fmt::Debug for KafkaAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let user = match &self.login {
            Credentials::Plain { user, .. } | Credentials::Scram { user, .. } => user.as_str(),
            Credentials::Bearer { .. } => "(bearer token)",
        };
        f.debug_struct("KafkaAdmin").field("address", &self.address).field("user", &user).finish_non_exhaustive()
    }
}

pub(crate) fn text(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_string())
}

fn names(resource: i8, pattern: i8, operation: i8) -> (String, String, String) {
    let resource = match resource {
        wire::TOPIC => "TOPIC",
        wire::GROUP => "GROUP",
        _ => "OTHER",
    };
    let pattern = match pattern {
        wire::LITERAL => "LITERAL",
        wire::PREFIXED => "PREFIXED",
        _ => "OTHER",
    };
    let operation = match operation {
        wire::READ => "READ",
        wire::DESCRIBE => "DESCRIBE",
        _ => "OTHER",
    };
    (resource.into(), pattern.into(), operation.into())
}

/// The ACLs of a consumer grant, as (resource, pattern, operation); the resource's name is the grant's topic or
/// group prefix. A consumer needs DESCRIBE besides READ on the topic to fetch its metadata, and its groups are
/// matched by prefix so that the application picks the group name. Every check of a grant derives from this one
/// list ([`ConsumerGrant::bindings`]), so what is created and what is verified cannot drift apart.
const GRANT_ACLS: [(i8, i8, i8); 3] = [
    (wire::TOPIC, wire::LITERAL, wire::READ),
    (wire::TOPIC, wire::LITERAL, wire::DESCRIBE),
    (wire::GROUP, wire::PREFIXED, wire::READ),
];

impl ConsumerGrant {
    fn resource_name(&self, resource: i8) -> &str {
        if resource == wire::GROUP { &self.group_prefix } else { &self.topic }
    }

    /// The ACLs this grant consists of, as the broker reports them and sorted like [`KafkaAdmin::acls_of`]:
    /// GROUP `<group prefix>` PREFIXED READ, TOPIC `<topic>` LITERAL DESCRIBE and READ.
    pub fn bindings(&self) -> Vec<AclBinding> {
        let mut bindings: Vec<AclBinding> = GRANT_ACLS
            .iter()
            .map(|&(resource, pattern, operation)| {
                let (kind, pattern, operation) = names(resource, pattern, operation);
                AclBinding {
                    resource: kind,
                    name: self.resource_name(resource).to_string(),
                    pattern,
                    principal: self.principal.clone(),
                    operation,
                }
            })
            .collect();
        bindings.sort();
        bindings
    }
}

fn creations(grant: &ConsumerGrant) -> Vec<AclCreation> {
    GRANT_ACLS
        .iter()
        .map(|&(resource, pattern, operation)| {
            AclCreation::default()
                .with_resource_type(resource)
                .with_resource_name(text(grant.resource_name(resource)))
                .with_resource_pattern_type(pattern)
                .with_principal(text(&grant.principal))
                .with_host(text("*"))
                .with_operation(operation)
                .with_permission_type(wire::ALLOW)
        })
        .collect()
}

pub(crate) struct Connection {
    stream: Box<dyn tls::Stream>,
    correlation: i32,
    address: String,
}

impl Connection {
    pub(crate) async fn call<Req: Encodable, Resp: Decodable>(
        &mut self,
        key: ApiKey,
        version: i16,
        request: &Req,
    ) -> Result<Resp, AdminError> {
        let protocol = |e: anyhow_like::Error| AdminError::Protocol(e.0);
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(text("dsc-kafka-admin")));
        let mut body = BytesMut::new();
        header.encode(&mut body, key.request_header_version(version)).map_err(|e| protocol(e.into()))?;
        request.encode(&mut body, version).map_err(|e| protocol(e.into()))?;
        let mut frame = BytesMut::with_capacity(body.len() + 4);
        frame.put_i32(i32::try_from(body.len()).map_err(|_| AdminError::Protocol("request too large".into()))?);
        frame.extend_from_slice(&body);
        let unreachable =
            |e: std::io::Error| AdminError::Unreachable { address: self.address.clone(), reason: e.to_string() };
        self.stream.write_all(&frame).await.map_err(unreachable)?;
        let length = self
            .stream
            .read_i32()
            .await
            .map_err(|e| AdminError::Unreachable { address: self.address.clone(), reason: e.to_string() })?;
        let length = usize::try_from(length).map_err(|_| AdminError::Protocol("negative frame length".into()))?;
        let mut answer = vec![0u8; length];
        self.stream
            .read_exact(&mut answer)
            .await
            .map_err(|e| AdminError::Unreachable { address: self.address.clone(), reason: e.to_string() })?;
        let mut answer = Bytes::from(answer);
        let header = ResponseHeader::decode(&mut answer, key.response_header_version(version))
            .map_err(|e| protocol(e.into()))?;
        if header.correlation_id != self.correlation {
            return Err(AdminError::Protocol("correlation id mismatch".into()));
        }
        let response = Resp::decode(&mut answer, version).map_err(|e| protocol(e.into()))?;
        if answer.has_remaining() {
            tracing::debug!(remaining = answer.remaining(), "trailing bytes after a Kafka response");
        }
        Ok(response)
    }
}

/// kafka-protocol reports errors as `anyhow::Error`; only their text is kept.
mod anyhow_like {
    pub struct Error(pub String);
    impl<E: std::fmt::Display> From<E> for Error {
        fn from(error: E) -> Self {
            Error(error.to_string())
        }
    }
}

impl KafkaAdmin {
    /// An admin client for `address` (`host:port` of a SASL_PLAINTEXT listener) with SASL/PLAIN credentials.
    pub fn new(address: impl Into<String>, user: impl Into<String>, password: impl Into<String>) -> Self {
        KafkaAdmin::with_credentials(address, Credentials::Plain { user: user.into(), password: password.into() })
    }

    /// A client for `address` (a SASL_PLAINTEXT listener) that logs in with an OAuth bearer token.
    pub fn with_bearer_token(address: impl Into<String>, token: impl Into<String>) -> Self {
        KafkaAdmin::with_credentials(address, Credentials::Bearer { token: token.into() })
    }

    /// A client for `address` logging in with `credentials` (SASL_PLAINTEXT until [`KafkaAdmin::with_tls`]).
    pub fn with_credentials(address: impl Into<String>, credentials: Credentials) -> Self {
        KafkaAdmin { address: address.into(), login: credentials, tls: None, timeout: OPERATION_TIMEOUT }
    }

    /// The same client over TLS (SASL_SSL), trusting the CA certificates in `ca_file` (PEM), or the Mozilla
    /// roots without one.
    pub fn with_tls(mut self, ca_file: Option<&std::path::Path>) -> Result<Self, AdminError> {
        self.tls = Some(tls::Tls::new(ca_file)?);
        Ok(self)
    }

    /// The same client with another per-operation time limit.
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    async fn bounded<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, AdminError>>,
    ) -> Result<T, AdminError> {
        tokio::time::timeout(self.timeout, operation)
            .await
            .map_err(|_| AdminError::Timeout { address: self.address.clone(), seconds: self.timeout.as_secs() })?
    }

    async fn connect(&self) -> Result<Connection, AdminError> {
        let unreachable =
            |e: std::io::Error| AdminError::Unreachable { address: self.address.clone(), reason: e.to_string() };
        let tcp = TcpStream::connect(&self.address).await.map_err(unreachable)?;
        let stream: Box<dyn tls::Stream> = match &self.tls {
            Some(tls) => tls.wrap(&self.address, tcp).await?,
            None => Box::new(tcp),
        };
        let mut connection = Connection { stream, correlation: 0, address: self.address.clone() };
        login::log_in(&mut connection, &self.login).await?;
        Ok(connection)
    }

    /// Creates the grant's ACLs. Creating an existing binding again is harmless (Kafka keeps one).
    pub async fn grant(&self, grant: &ConsumerGrant) -> Result<(), AdminError> {
        self.grant_all(std::slice::from_ref(grant)).await
    }

    /// Creates the ACLs of many grants with one CreateAcls request per [`GRANTS_PER_REQUEST`] grants over one
    /// connection: the broker commits each request as one metadata batch, so a thousand grants cost about what one
    /// does.
    pub async fn grant_all(&self, grants: &[ConsumerGrant]) -> Result<(), AdminError> {
        if grants.is_empty() {
            return Ok(());
        }
        let mut connection = self.bounded(self.connect()).await?;
        for chunk in grants.chunks(GRANTS_PER_REQUEST) {
            let request = CreateAclsRequest::default().with_creations(chunk.iter().flat_map(creations).collect());
            let response: CreateAclsResponse = self.bounded(connection.call(ApiKey::CreateAcls, 3, &request)).await?;
            if let Some(failed) = response.results.iter().find(|r| r.error_code != 0) {
                return Err(AdminError::Refused {
                    code: failed.error_code,
                    message: failed.error_message.as_ref().map(|m| m.to_string()).unwrap_or_default(),
                });
            }
        }
        Ok(())
    }

    /// Deletes every ACL of `principal` (all resources): the broker refuses its next request at once.
    pub async fn revoke_principal(&self, principal: &str) -> Result<usize, AdminError> {
        let removed = self.revoke_principals(&[principal.to_string()]).await?;
        Ok(removed.into_iter().sum())
    }

    /// Deletes every ACL of each principal, one DeleteAcls request (one filter per principal) per
    /// [`GRANTS_PER_REQUEST`] principals over one connection; answers how many ACLs each principal lost, in order.
    pub async fn revoke_principals(&self, principals: &[String]) -> Result<Vec<usize>, AdminError> {
        let mut removed = Vec::with_capacity(principals.len());
        if principals.is_empty() {
            return Ok(removed);
        }
        let mut connection = self.bounded(self.connect()).await?;
        for chunk in principals.chunks(GRANTS_PER_REQUEST) {
            let filters = chunk.iter().map(|principal| principal_filter(principal)).collect();
            let request = DeleteAclsRequest::default().with_filters(filters);
            let response: DeleteAclsResponse = self.bounded(connection.call(ApiKey::DeleteAcls, 3, &request)).await?;
            if response.filter_results.len() != chunk.len() {
                return Err(AdminError::Protocol(format!(
                    "{} results for {} DeleteAcls filters",
                    response.filter_results.len(),
                    chunk.len()
                )));
            }
            for result in response.filter_results {
                if result.error_code != 0 {
                    return Err(AdminError::Refused {
                        code: result.error_code,
                        message: result.error_message.map(|m| m.to_string()).unwrap_or_default(),
                    });
                }
                removed.push(result.matching_acls.len());
            }
        }
        Ok(removed)
    }

    /// Every ACL of `principal`, sorted (for checks).
    pub async fn acls_of(&self, principal: &str) -> Result<Vec<AclBinding>, AdminError> {
        self.bounded(self.describe(Some(principal))).await
    }

    /// Every ACL on the broker, sorted (for reconciliation: one request instead of one per grant).
    pub async fn all_acls(&self) -> Result<Vec<AclBinding>, AdminError> {
        self.bounded(self.describe(None)).await
    }

    /// Whether `topic` exists, asked without letting the broker auto-create it.
    pub async fn topic_exists(&self, topic: &str) -> Result<bool, AdminError> {
        self.bounded(async {
            let mut connection = self.connect().await?;
            let request = MetadataRequest::default()
                .with_topics(Some(vec![MetadataRequestTopic::default().with_name(Some(TopicName(text(topic))))]))
                .with_allow_auto_topic_creation(false);
            let response: MetadataResponse = connection.call(ApiKey::Metadata, 12, &request).await?;
            match response.topics.first().map(|t| t.error_code) {
                Some(0) => Ok(true),
                Some(UNKNOWN_TOPIC_OR_PARTITION) | None => Ok(false),
                Some(code) => Err(AdminError::Refused { code, message: format!("metadata for topic '{topic}'") }),
            }
        })
        .await
    }

    async fn describe(&self, principal: Option<&str>) -> Result<Vec<AclBinding>, AdminError> {
        let mut connection = self.connect().await?;
        let request = DescribeAclsRequest::default()
            .with_resource_type_filter(wire::ANY)
            .with_resource_name_filter(None)
            .with_pattern_type_filter(wire::ANY)
            .with_principal_filter(principal.map(text))
            .with_host_filter(None)
            .with_operation(wire::ANY)
            .with_permission_type(wire::ANY);
        let response: DescribeAclsResponse = connection.call(ApiKey::DescribeAcls, 3, &request).await?;
        if response.error_code != 0 {
            return Err(AdminError::Refused {
                code: response.error_code,
                message: response.error_message.map(|m| m.to_string()).unwrap_or_default(),
            });
        }
        let mut bindings: Vec<AclBinding> = response
            .resources
            .iter()
            .flat_map(|resource| {
                resource.acls.iter().map(move |acl| {
                    let (kind, pattern, operation) =
                        names(resource.resource_type, resource.pattern_type, acl.operation);
                    AclBinding {
                        resource: kind,
                        name: resource.resource_name.to_string(),
                        pattern,
                        principal: acl.principal.to_string(),
                        operation,
                    }
                })
            })
            .collect();
        bindings.sort();
        Ok(bindings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_is_topic_read_and_describe_plus_a_prefixed_group() {
        let grant = ConsumerGrant { principal: "User:c1".into(), topic: "t".into(), group_prefix: "g-".into() };
        let acls = creations(&grant);
        let summary: Vec<(i8, String, i8, i8)> = acls
            .iter()
            .map(|a| (a.resource_type, a.resource_name.to_string(), a.resource_pattern_type, a.operation))
            .collect();
        assert_eq!(
            summary,
            vec![
                (wire::TOPIC, "t".into(), wire::LITERAL, wire::READ),
                (wire::TOPIC, "t".into(), wire::LITERAL, wire::DESCRIBE),
                (wire::GROUP, "g-".into(), wire::PREFIXED, wire::READ),
            ]
        );
        assert!(acls.iter().all(|a| a.permission_type == wire::ALLOW && a.principal.to_string() == "User:c1"));
    }

    #[test]
    fn a_grant_s_bindings_are_named_as_the_broker_reports_them() {
        let grant = ConsumerGrant { principal: "User:c1".into(), topic: "t".into(), group_prefix: "g-".into() };
        let binding = |resource: &str, name: &str, pattern: &str, operation: &str| AclBinding {
            resource: resource.into(),
            name: name.into(),
            pattern: pattern.into(),
            principal: "User:c1".into(),
            operation: operation.into(),
        };
        assert_eq!(
            grant.bindings(),
            vec![
                binding("GROUP", "g-", "PREFIXED", "READ"),
                binding("TOPIC", "t", "LITERAL", "DESCRIBE"),
                binding("TOPIC", "t", "LITERAL", "READ"),
            ]
        );
    }
}
