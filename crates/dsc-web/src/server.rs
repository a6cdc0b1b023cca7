// SPDX-License-Identifier: Apache-2.0
//! Hosting web contexts: each API under its own path on its own port, as EDC does. Contexts configured on the
//! same port share one listener.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower_http::trace::TraceLayer;

use crate::{ApiError, ErrorKind};

pub struct ContextRouter {
    pub name: &'static str,
    pub port: u16,
    /// Mount path without trailing slash; empty for the root.
    pub path: String,
    pub router: Router,
}

/// A bound set of listeners, ready to serve.
pub struct Bound {
    listeners: Vec<(TcpListener, Router, Vec<&'static str>)>,
}

async fn not_found(uri: Uri) -> impl IntoResponse {
    ApiError::new(StatusCode::NOT_FOUND, ErrorKind::ObjectNotFound, format!("no resource at {}", uri.path()))
}

/// Binds every port first, so a taken port fails the start before anything is served.
/// What any client may make a listener do, whoever it is: the largest request body and the longest a request may
/// take (a slow client sending its body byte by byte included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub body_bytes: usize,
    pub request_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { body_bytes: 1024 * 1024, request_timeout: std::time::Duration::from_secs(60) }
    }
}

/// Binds every context with the default [`Limits`].
pub async fn bind(address: &str, contexts: Vec<ContextRouter>) -> std::io::Result<Bound> {
    bind_with(address, contexts, Limits::default()).await
}

/// Binds every context (contexts that share a port share one listener) with `limits` on every request.
pub async fn bind_with(address: &str, contexts: Vec<ContextRouter>, limits: Limits) -> std::io::Result<Bound> {
    // Port 0 (tests) means "any free port": such contexts each get their own listener.
    let mut by_port: BTreeMap<(u16, usize), Vec<ContextRouter>> = BTreeMap::new();
    for (index, context) in contexts.into_iter().enumerate() {
        let key = if context.port == 0 { (0, index) } else { (context.port, 0) };
        by_port.entry(key).or_default().push(context);
    }
    let mut listeners = Vec::new();
    for ((port, _), contexts) in by_port {
        let listener = TcpListener::bind((address, port)).await.map_err(|e| {
            let names: Vec<_> = contexts.iter().map(|c| c.name).collect();
            std::io::Error::new(e.kind(), format!("cannot listen on {address}:{port} for {}: {e}", names.join("+")))
        })?;
        let mut router = Router::new();
        let mut names = Vec::new();
        for context in contexts {
            names.push(context.name);
            let measured = crate::measured(context.name, context.router);
            router =
                if context.path.is_empty() { router.merge(measured) } else { router.nest(&context.path, measured) };
        }
        // The body limit is the one every body extractor reads (each API answers an oversized body in its own error
        // format); handlers that stream a body set their own bound (the public API's proxy). The timeout answers 408.
        // A handler that panics answers 500 and is logged, instead of dropping the connection without a word.
        let router = router
            .fallback(not_found)
            .layer(axum::extract::DefaultBodyLimit::max(limits.body_bytes))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                limits.request_timeout,
            ))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
            .layer(TraceLayer::new_for_http());
        listeners.push((listener, router, names));
    }
    Ok(Bound { listeners })
}

fn panicked(detail: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = detail
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| detail.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!("a request handler panicked: {detail}");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorKind::InternalError, "internal error").into_response()
}

impl Bound {
    /// `(context names, local address)` of every listener.
    pub fn addresses(&self) -> Vec<(Vec<&'static str>, SocketAddr)> {
        self.listeners
            .iter()
            .filter_map(|(listener, _, names)| listener.local_addr().ok().map(|a| (names.clone(), a)))
            .collect()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
        let mut servers = JoinSet::new();
        for (listener, router, _) in self.listeners {
            let mut stopped = stop.subscribe();
            servers.spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.recv().await;
                    })
                    .await
            });
        }
        let trigger = stop.clone();
        servers.spawn(async move {
            shutdown.await;
            let _ = trigger.send(());
            Ok(())
        });
        while let Some(result) = servers.join_next().await {
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let _ = stop.send(());
                    return Err(e);
                }
                Err(join) => {
                    let _ = stop.send(());
                    return Err(std::io::Error::other(join.to_string()));
                }
            }
        }
        Ok(())
    }
}

/// Binds and serves in one call.
pub async fn serve<F>(address: &str, contexts: Vec<ContextRouter>, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    bind(address, contexts).await?.run(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn boom() -> &'static str {
        panic!("a bug")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_the_api_error_format_and_the_listener_keeps_serving() {
        let router = Router::new()
            .route("/boom", axum::routing::get(boom))
            .route("/fine", axum::routing::get(|| async { "ok" }));
        let context = ContextRouter { name: "test", port: 0, path: String::new(), router };
        let bound = bind("127.0.0.1", vec![context]).await.unwrap();
        let address = bound.addresses()[0].1;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(bound.run(async move {
            let _ = stopped.await;
        }));
        let get = |path: &'static str| async move {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            answer
        };
        let answer = get("/boom").await;
        assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
        assert!(
            answer
                .ends_with(r#"[{"message":"internal error","type":"InternalError","path":null,"invalidValue":null}]"#),
            "{answer}"
        );
        assert!(get("/fine").await.ends_with("ok"));
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
