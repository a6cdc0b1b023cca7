// SPDX-License-Identifier: Apache-2.0
//! A small replayer for Insomnia v4 exports: requests in the order Insomnia shows them, `{{ _.path }}` environment
//! variables and `{% response 'body', '<request id>', '<JSONPath>', ... %}` tags, and the checks each request's
//! description lists ("- status 200", "- `$.state` is `FINALIZED` (retried for 20 s)", "- `$.x` exists").
//! Insomnia's own CLI cannot be installed offline; this covers exactly what the collection uses.

#![allow(dead_code)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Status(u16),
    Equals { path: String, value: String, retry: Option<u64> },
    Exists(String),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub id: String,
    pub name: String,
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub checks: Vec<Check>,
}

pub struct Collection {
    pub requests: Vec<Request>,
    pub environment: Value,
}

fn sort_key(resource: &Value) -> f64 {
    resource["metaSortKey"].as_f64().unwrap_or_default()
}

fn checks(description: &str) -> Vec<Check> {
    let code = |text: &str| text.split('`').nth(1).unwrap_or_default().to_string();
    description
        .lines()
        .filter_map(|line| line.strip_prefix("- "))
        .filter_map(|check| {
            if let Some(status) = check.strip_prefix("status ") {
                return status.trim().parse().ok().map(Check::Status);
            }
            let parts: Vec<&str> = check.split('`').collect();
            if check.ends_with(" exists") {
                return Some(Check::Exists(code(check)));
            }
            if parts.len() >= 4 && parts[2].trim() == "is" {
                let retry = check
                    .split("(retried for ")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|n| n.parse().ok());
                return Some(Check::Equals { path: parts[1].into(), value: parts[3].into(), retry });
            }
            None
        })
        .collect()
}

impl Collection {
    pub fn load(path: &str) -> Collection {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let export: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(export["__export_format"], 4, "an Insomnia v4 export");
        let resources = export["resources"].as_array().cloned().unwrap_or_default();
        let of_type = |kind: &str| -> Vec<Value> {
            let mut all: Vec<Value> = resources.iter().filter(|r| r["_type"] == kind).cloned().collect();
            all.sort_by(|a, b| sort_key(a).total_cmp(&sort_key(b)));
            all
        };
        let workspace = of_type("workspace").first().cloned().unwrap_or_default();
        let environment = of_type("environment")
            .into_iter()
            .find(|e| e["parentId"] == workspace["_id"])
            .map(|e| e["data"].clone())
            .unwrap_or_default();
        let requests_of = |parent: &Value| -> Vec<Request> {
            of_type("request")
                .into_iter()
                .filter(|r| r["parentId"] == *parent)
                .map(|r| Request {
                    id: r["_id"].as_str().unwrap_or_default().into(),
                    name: r["name"].as_str().unwrap_or_default().into(),
                    method: r["method"].as_str().unwrap_or_default().into(),
                    url: r["url"].as_str().unwrap_or_default().into(),
                    headers: r["headers"]
                        .as_array()
                        .map(|all| {
                            all.iter()
                                .map(|h| {
                                    (
                                        h["name"].as_str().unwrap_or_default().into(),
                                        h["value"].as_str().unwrap_or_default().into(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    body: r["body"]["text"].as_str().map(str::to_string),
                    checks: checks(r["description"].as_str().unwrap_or_default()),
                })
                .collect()
        };
        let mut requests = requests_of(&workspace["_id"]);
        for folder in of_type("request_group") {
            requests.extend(requests_of(&folder["_id"]));
        }
        Collection { requests, environment }
    }
}

/// `$`, `.name`, `['name']` and `[n]` steps.
pub fn json_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut rest = path.strip_prefix('$')?;
    let mut current = value;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']")?;
            current = current.get(&after[..end])?;
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            current = current.get(after[..end].parse::<usize>().ok()?)?;
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            current = current.get(&after[..end])?;
            rest = &after[end..];
        } else {
            return None;
        }
    }
    Some(current)
}

/// The path inside a response tag argument: `b64::<base64>::46b` or the path itself.
fn tag_path(argument: &str) -> String {
    match argument.strip_prefix("b64::").and_then(|rest| rest.strip_suffix("::46b")) {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default(),
        None => argument.to_string(),
    }
}

/// Environment variables and response tags replaced; an unresolvable one is an error naming it.
pub fn render(text: &str, environment: &Value, responses: &HashMap<String, Value>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let next_var = rest.find("{{");
        let next_tag = rest.find("{%");
        let (start, is_tag) = match (next_var, next_tag) {
            (Some(v), Some(t)) if t < v => (t, true),
            (Some(v), _) => (v, false),
            (None, Some(t)) => (t, true),
            (None, None) => break,
        };
        out.push_str(&rest[..start]);
        let close = if is_tag { "%}" } else { "}}" };
        let end = rest[start..].find(close).ok_or_else(|| format!("unclosed template in {text}"))? + start;
        let inner = rest[start + 2..end].trim();
        if is_tag {
            let arguments: Vec<&str> = inner.split('\'').skip(1).step_by(2).collect();
            let (source, request, path) = match arguments.as_slice() {
                [source, request, path, ..] if inner.starts_with("response") => (*source, *request, tag_path(path)),
                _ => return Err(format!("unsupported tag {{% {inner} %}}")),
            };
            if source != "body" {
                return Err(format!("unsupported response source {source}"));
            }
            let response = responses.get(request).ok_or_else(|| format!("{request} has not been sent yet"))?;
            let value = json_path(response, &path).ok_or_else(|| format!("{path} not in the response of {request}"))?;
            out.push_str(&value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string()));
        } else {
            let path = inner.strip_prefix("_.").ok_or_else(|| format!("unsupported variable {inner}"))?;
            let value = json_path(environment, &format!("$.{path}")).and_then(Value::as_str);
            out.push_str(value.ok_or_else(|| format!("environment has no {path}"))?);
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Sends every request in order and asserts its checks; returns (request name, status) per request.
pub async fn replay(collection: &Collection, environment: &Value) -> Vec<(String, u16)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let mut responses: HashMap<String, Value> = HashMap::new();
    let mut log = Vec::new();
    for request in &collection.requests {
        let retry = request.checks.iter().find_map(|c| match c {
            Check::Equals { retry: Some(seconds), .. } => Some(*seconds),
            _ => None,
        });
        let deadline = Instant::now() + Duration::from_secs(retry.unwrap_or(0));
        loop {
            let fill =
                |text: &str| render(text, environment, &responses).unwrap_or_else(|e| panic!("{}: {e}", request.name));
            let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
            let mut call = http.request(method, fill(&request.url));
            for (name, value) in &request.headers {
                call = call.header(name, fill(value));
            }
            if let Some(body) = &request.body {
                let body = fill(body);
                serde_json::from_str::<Value>(&body)
                    .unwrap_or_else(|e| panic!("{}: the rendered body is not JSON ({e}): {body}", request.name));
                call = call.body(body);
            }
            let response = call.send().await.unwrap_or_else(|e| panic!("{}: {e}", request.name));
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let failures: Vec<String> = request
                .checks
                .iter()
                .filter_map(|check| match check {
                    Check::Status(expected) => {
                        (status != *expected).then(|| format!("status {status}, expected {expected}"))
                    }
                    Check::Exists(path) => json_path(&body, path).is_none().then(|| format!("{path} missing")),
                    Check::Equals { path, value, .. } => {
                        let found = json_path(&body, path)
                            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
                        (found.as_deref() != Some(value.as_str()))
                            .then(|| format!("{path} is {found:?}, expected {value}"))
                    }
                })
                .collect();
            if failures.is_empty() {
                responses.insert(request.id.clone(), body);
                log.push((request.name.clone(), status));
                break;
            }
            assert!(Instant::now() < deadline, "{}: {}\n{body}", request.name, failures.join("; "));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    log
}
