// SPDX-License-Identifier: Apache-2.0
//! What an outsider can make the connector do, bounded: request bodies on every API (413), deeply nested JSON (400,
//! the connector keeps serving), slow clients (408), and protocol requests in flight per counter-party (429, which
//! our own dispatcher retries).

use crate::support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::peers::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn port_of(url: &str) -> u16 {
    url.trim_start_matches("http://").split(['/', ':']).nth(1).and_then(|p| p.parse().ok()).unwrap()
}

/// Sends `head` and part of a body on a raw connection and returns it (the rest of the body never comes).
async fn stalled(port: u16, head: String) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"{\"partial\":").await.unwrap();
    stream
}

async fn status_line(stream: &mut tokio::net::TcpStream, within: Duration) -> String {
    let mut buffer = vec![0u8; 512];
    let read = tokio::time::timeout(within, stream.read(&mut buffer)).await.expect("no answer in time").unwrap();
    String::from_utf8_lossy(&buffer[..read]).lines().next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn oversized_and_deeply_nested_bodies_are_refused_and_the_connector_keeps_serving() {
    let (consumer, provider) = trusting_pair().await;
    let big = "x".repeat(2 * 1024 * 1024);
    // The protocol API: unauthenticated, the body is never read (401); authenticated, it is refused by size.
    let reply = support::client()
        .post(format!("{}/catalog/request", provider.protocol))
        .header("content-type", "application/json")
        .body(format!("{{\"filler\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    let peer = RawPeer::of(&consumer).await;
    let token = peer.identity.self_issued_token(&provider.did, Duration::from_secs(60)).unwrap();
    let reply = support::client()
        .post(format!("{}/catalog/request", provider.protocol))
        .header("Authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(format!("{{\"filler\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 413);
    // The Management API.
    let reply = provider.connector.post_raw("/v3/assets", &format!("{{\"filler\":\"{big}\"}}")).await;
    assert_eq!(reply.status, 413, "{}", reply.body);

    // 100,000 levels of nesting, well under the size limit: refused by the JSON parser's depth bound.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let reply = provider.connector.post_raw("/v3/assets", &deep).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let url = format!("{}/negotiations/request", provider.protocol);
    let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let reply = support::client()
        .post(&url)
        .header(
            "Authorization",
            format!("Bearer {}", peer.identity.self_issued_token(&provider.did, Duration::from_secs(60)).unwrap()),
        )
        .header("content-type", "application/json")
        .body(deep_object)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    // Still serving.
    assert_eq!(provider.connector.get("/v3/assets/nothing").await.status, 404);
    let catalog = consumer.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    assert_eq!(catalog.status, 200, "{}", catalog.body);
}

#[tokio::test]
async fn a_slow_client_is_cut_off_and_a_busy_counter_party_is_told_to_retry() {
    let (consumer_port, provider_port) = (free_port(), free_port());
    let consumer = participant_on(consumer_port, &[(&did(provider_port), "BPNL000000000001")]).await;
    let provider = participant_configured(provider_port, &[(&did(consumer_port), "BPNL000000000002")], |config| {
        config.request_timeout_seconds = 1;
        config.participant_concurrency = 1;
    })
    .await;
    provision_provider(&provider.connector, "BPNL000000000002").await;

    // A Management API client that sends half a body and stops: 408 after the timeout.
    let management = port_of(&provider.connector.management);
    let head = format!(
        "POST /management/v3/assets HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
        support::API_KEY
    );
    let started = Instant::now();
    let mut slow = stalled(management, head).await;
    assert_eq!(status_line(&mut slow, Duration::from_secs(5)).await, "HTTP/1.1 408 Request Timeout");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());

    // A verified counter-party holding its one slot with a stalled request: its next request is a 429 naming it.
    let peer = RawPeer::of(&consumer).await;
    let token = peer.identity.self_issued_token(&provider.did, Duration::from_secs(60)).unwrap();
    let head = format!(
        "POST /api/v1/dsp/2025-1/negotiations/request HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    );
    let _holding = stalled(provider_port, head).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let busy = peer
        .send(&provider.did, reqwest::Method::POST, &format!("{}/catalog/request", provider.protocol), Some(json!({})))
        .await;
    assert_dsp_error(
        &busy,
        "CatalogError",
        429,
        &format!("too many concurrent requests from {} (at most 1); try again", consumer.did),
    );
    // Once the stalled request timed out, the slot is free again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let catalog = consumer.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    assert_eq!(catalog.status, 200, "{}", catalog.body);
}
