// SPDX-License-Identifier: Apache-2.0
//! Request metrics and the request span per context: `dsc_http_requests_total{context, method, route, status}` and
//! `dsc_http_request_duration_seconds{context, route}`. The route is the matched route template
//! (`/v3/assets/{id}`), never the path itself: an id in a label would let any client grow the metrics without bound
//! and would put identifiers into a system that is not meant to hold them.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Records every request a route of `router` answers under the context's name.
pub fn measured(context: &'static str, router: Router) -> Router {
    router.route_layer(axum::middleware::from_fn(move |request: Request, next: Next| observe(context, request, next)))
}

async fn observe(context: &'static str, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_string()).unwrap_or_default();
    // The request's span, named by the route template too (OpenTelemetry's `{method} {http.route}`, never a path
    // full of ids), continues the caller's trace (a DSP peer, a control plane) when it sent one.
    let span = dsc_telemetry::request_span(method, &route, request.headers());
    let response = next.run(request).instrument(span.clone()).await;
    dsc_telemetry::record_response(&span, response.status());
    let status = response.status().as_u16().to_string();
    metrics::counter!("dsc_http_requests_total", "context" => context, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("dsc_http_request_duration_seconds", "context" => context, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Only the methods an API answers; anything else is one label value, so odd methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    #[tokio::test]
    async fn counts_requests_by_route_template_and_status_never_by_path() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let router =
            measured("management", Router::new().route("/v3/assets/{id}", axum::routing::get(|| async { "found" })));
        let _guard = metrics::set_default_local_recorder(&recorder);
        for id in ["a", "b"] {
            let request = Request::get(format!("/v3/assets/{id}")).body(axum::body::Body::empty()).unwrap();
            let response = tower::ServiceExt::oneshot(router.clone(), request).await.unwrap();
            assert_eq!(response.status(), 200);
        }
        let counters: Vec<_> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(key, ..)| key.key().name() == "dsc_http_requests_total")
            .map(|(key, _, _, value)| {
                let labels: Vec<String> = key.key().labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
                (labels, value)
            })
            .collect();
        assert_eq!(
            counters,
            vec![(
                vec![
                    "context=management".into(),
                    "method=GET".into(),
                    "route=/v3/assets/{id}".into(),
                    "status=200".into()
                ],
                DebugValue::Counter(2)
            )]
        );
    }
}
