// SPDX-License-Identifier: Apache-2.0
//! The benchmarks' HTTP side: a minimal keep-alive client, throughput runs, request bodies and a backend.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use super::*;

/// A minimal keep-alive HTTP/1.1 client, so the benchmark measures the connector and not a client library.
pub(super) struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    pub(super) fn open(port: u16) -> std::io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(Connection { reader: BufReader::new(stream) })
    }

    pub(super) fn request(&mut self, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
        self.request_with(method, path, body, &format!("X-Api-Key: {API_KEY}"))
    }

    /// A request with one extra header line (`Name: value`).
    pub(super) fn request_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
        header: &str,
    ) -> std::io::Result<(u16, String)> {
        let body = body.unwrap_or("");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line)?;
        let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).to_string()))
    }
}

/// Runs `total` requests over `THREADS` keep-alive connections; returns requests per second.
pub(super) fn throughput(
    port: u16,
    total: usize,
    make: impl Fn(usize) -> (String, String, Option<String>) + Sync,
) -> Result<f64, String> {
    throughput_with(port, total, &format!("X-Api-Key: {API_KEY}"), make)
}

pub(super) fn throughput_with(
    port: u16,
    total: usize,
    header: &str,
    make: impl Fn(usize) -> (String, String, Option<String>) + Sync,
) -> Result<f64, String> {
    let started = Instant::now();
    let failures = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (make, failures) = (&make, &failures);
            scope.spawn(move || {
                let Ok(mut connection) = Connection::open(port) else {
                    failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return;
                };
                for index in (thread..total).step_by(THREADS) {
                    let (method, path, body) = make(index);
                    match connection.request_with(&method, &path, body.as_deref(), header) {
                        Ok((200, _)) => {}
                        _ => {
                            failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let failed = failures.load(std::sync::atomic::Ordering::Relaxed);
    if failed > 0 {
        return Err(format!("{failed} of {total} requests failed"));
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

pub(super) fn asset_body(index: usize) -> String {
    format!(
        r#"{{"@context":{{"@vocab":"https://w3id.org/edc/v0.0.1/ns/"}},"@id":"bench-{index}","properties":{{"name":"Asset {index}","line":"L{}"}},"dataAddress":{{"type":"HttpData","baseUrl":"https://backend.example/{index}"}}}}"#,
        index % 10
    )
}

pub(super) fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_default()
}

/// A backend answering every request with a small JSON body, on keep-alive connections; returns its port.
pub(super) fn backend() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let Ok(writer) = stream.try_clone() else { return };
                let mut writer = writer;
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    // Read one request head (GETs carry no body).
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line.trim_end().is_empty() => break,
                            Ok(_) => {}
                        }
                    }
                    let body = r#"{"serial":"SN-4711","lot":7}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if writer.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}
