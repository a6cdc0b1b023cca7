// SPDX-License-Identifier: Apache-2.0
//! TLS for SASL_SSL listeners (rustls on ring, like the rest of the workspace).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::AdminError;

pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

#[derive(Clone)]
pub(crate) struct Tls(tokio_rustls::TlsConnector);

impl Tls {
    /// Trusts the CA certificates of `ca_file` (PEM), or the Mozilla roots without one.
    pub(crate) fn new(ca_file: Option<&std::path::Path>) -> Result<Self, AdminError> {
        let bad = |reason: String| AdminError::Tls(reason);
        let mut roots = rustls::RootCertStore::empty();
        match ca_file {
            Some(path) => {
                let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                    .map_err(|e| bad(format!("cannot read CA file {}: {e}", path.display())))?
                    .collect::<Result<_, _>>()
                    .map_err(|e| bad(format!("bad certificate in {}: {e}", path.display())))?;
                if certificates.is_empty() {
                    return Err(bad(format!("no certificate in CA file {}", path.display())));
                }
                for certificate in certificates {
                    roots.add(certificate).map_err(|e| bad(format!("unusable CA certificate: {e}")))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls(tokio_rustls::TlsConnector::from(Arc::new(config))))
    }

    pub(crate) async fn wrap(&self, address: &str, tcp: TcpStream) -> Result<Box<dyn Stream>, AdminError> {
        let host = address.rsplit_once(':').map_or(address, |(host, _)| host).trim_matches(['[', ']']);
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| AdminError::Tls(format!("'{host}' is not a host name for TLS: {e}")))?;
        let stream = self
            .0
            .connect(name, tcp)
            .await
            .map_err(|e| AdminError::Tls(format!("TLS handshake with {address} failed: {e}")))?;
        Ok(Box::new(stream))
    }
}
