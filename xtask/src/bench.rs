// SPDX-License-Identifier: Apache-2.0
//! `cargo xtask bench`: builds the release binary and prints
//! - time from process start to readiness (first 200 from /api/check/readiness), median of several starts,
//! - idle resident memory,
//! - Management API create and query throughput on SQLite and PostgreSQL, each also as a ratio to the health
//!   endpoint's throughput measured in the same run (the HTTP stack without a database),
//! - contract negotiation latency and throughput with a trust list and with DCP (verifiable credentials from a
//!   `dsc issuer` process), and their ratio in the same run,
//! - catalog request latency with 10,000 assets and 3,000 contract definitions.
//!
//! PostgreSQL figures need `TEST_POSTGRES_URL` (scripts/harness.sh up postgres); without it they are skipped.
//! The load goes to loopback only and is bounded in count.

mod catalog;
mod http;
mod negotiation;
mod process;
mod replicas;
mod transfer;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use catalog::*;
use http::*;
use negotiation::*;
use process::*;
use replicas::*;
use transfer::*;

const API_KEY: &str = "bench-key";
const STARTS: usize = 7;
const THREADS: usize = 8;
const QUERY: &str = r#"{"@context":{"@vocab":"https://w3id.org/edc/v0.0.1/ns/"},"limit":10,"filterExpression":[{"operandLeft":"line","operator":"=","operandRight":"L3"}]}"#;

fn load(label: &str, binary: &Path, database: Option<&str>, requests: usize) -> Result<(), String> {
    let (running, _) = start(binary, database)?;
    let health = throughput(running.health, requests, |_| ("GET".into(), "/api/check/liveness".into(), None))?;
    let create = throughput(running.management, requests, |i| {
        ("POST".into(), "/management/v3/assets".into(), Some(asset_body(i)))
    })?;
    let query = throughput(running.management, requests, |_| {
        ("POST".into(), "/management/v3/assets/request".into(), Some(QUERY.into()))
    })?;
    println!(
        "{label:<11} baseline GET liveness {health:>8.0} req/s | create asset {create:>7.0} req/s ({:.2}x baseline) | query 10 of {requests} {query:>7.0} req/s ({:.2}x baseline)",
        create / health,
        query / health
    );
    Ok(())
}

pub fn run(args: &[String]) -> Result<(), String> {
    let requests = args.windows(2).find(|w| w[0] == "--requests").and_then(|w| w[1].parse().ok()).unwrap_or(2000usize);
    // `--binary` measures a prebuilt binary, e.g. one built with symbols for `perf record`.
    let binary = match args.windows(2).find(|w| w[0] == "--binary") {
        Some(pair) => PathBuf::from(&pair[1]),
        None => {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--release", "--locked", "-p", "dsc"])
                .current_dir(root())
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err("release build failed".into());
            }
            root().join("target/release/dsc")
        }
    };
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    println!(
        "dsc benchmark ({} CPUs, release binary {:.1} MiB)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        size as f64 / 1048576.0
    );

    // `--only identity` runs just the trust-list/DCP negotiation comparison, `--only replicas` the replica scaling,
    // `--only catalog` the catalog at scale, `--only negotiation [--concurrent N]` negotiations on SQLite.
    if args.windows(2).any(|w| w[0] == "--only" && w[1] == "identity") {
        return identity_bench(&binary);
    }
    if args.windows(2).any(|w| w[0] == "--only" && w[1] == "catalog") {
        return catalog_bench(&binary);
    }
    if args.windows(2).any(|w| w[0] == "--only" && w[1] == "negotiation") {
        let concurrent =
            args.windows(2).find(|w| w[0] == "--concurrent").and_then(|w| w[1].parse().ok()).unwrap_or(200usize);
        negotiation_bench("SQLite", &binary, None, 50, concurrent, &Identity::TrustList)?;
        return Ok(());
    }
    if args.windows(2).any(|w| w[0] == "--only" && w[1] == "replicas") {
        let admin = std::env::var("TEST_POSTGRES_URL").map_err(|_| "replicas need TEST_POSTGRES_URL".to_string())?;
        return replicas_bench(&binary, &admin);
    }
    let mut times = Vec::new();
    for _ in 0..STARTS {
        let (_, elapsed) = start(&binary, None)?;
        times.push(elapsed);
    }
    times.sort();
    let (first, median) = (times[0], times[times.len() / 2]);
    println!(
        "readiness   median {:>6.1} ms, best {:.1} ms over {STARTS} starts (SQLite, fresh data dir; goal < 100 ms)",
        median.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3
    );

    let (running, _) = start(&binary, None)?;
    std::thread::sleep(Duration::from_secs(2));
    let idle = rss_kib(running.child.id()).ok_or("cannot read /proc status")?;
    println!("idle RSS    {:>6.1} MiB after start (goal < 40 MiB)", idle as f64 / 1024.0);
    drop(running);

    load("SQLite", &binary, None, requests)?;
    oauth_bench(&binary, requests)?;
    identity_bench(&binary)?;
    catalog_bench(&binary)?;
    transfer_bench("SQLite", &binary, None, 50, requests)?;
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(admin) => {
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
            let names: Vec<String> = ["load", "consumer", "provider", "transfer_consumer", "transfer_provider"]
                .iter()
                .map(|n| format!("dsc_bench_{n}_{}", std::process::id()))
                .collect();
            for name in &names {
                let created = Command::new("psql")
                    .args([admin.as_str(), "-q", "-c", &format!("CREATE DATABASE {name}")])
                    .status();
                if !created.is_ok_and(|s| s.success()) {
                    return Err("cannot create the benchmark databases".into());
                }
            }
            let url = |name: &str| format!("{base}/{name}");
            let result = load("PostgreSQL", &binary, Some(&url(&names[0])), requests)
                .and_then(|_| {
                    let databases = Some((url(&names[1]), url(&names[2])));
                    let databases = databases.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
                    negotiation_bench("PostgreSQL", &binary, databases, 50, 1000, &Identity::TrustList).map(|_| ())
                })
                .and_then(|_| {
                    transfer_bench("PostgreSQL", &binary, Some((&url(&names[3]), &url(&names[4]))), 50, requests)
                });
            for name in &names {
                let _ = Command::new("psql")
                    .args([admin.as_str(), "-q", "-c", &format!("DROP DATABASE {name} WITH (FORCE)")])
                    .status();
            }
            result?;
            replicas_bench(&binary, &admin)?;
        }
        Err(_) => println!(
            "PostgreSQL  skipped: TEST_POSTGRES_URL not set (scripts/harness.sh up postgres; eval \"$(scripts/harness.sh env)\")"
        ),
    }
    // CX-0127 validation throughput per model (no infrastructure needed).
    cargo_bench("dsc-aspects", "validate")?;
    kafka_benches()
}

/// Negotiations with a trust list and with DCP, on SQLite, and their ratio.
fn identity_bench(binary: &Path) -> Result<(), String> {
    let trust_list = negotiation_bench("SQLite", binary, None, 50, 200, &Identity::TrustList)?;
    let issuer = Issuer::start(binary)?;
    let dcp = negotiation_bench("SQLite DCP", binary, None, 50, 200, &Identity::Dcp(&issuer))?;
    println!(
        "DCP/trust   negotiation p50 {:.2}x, negotiations/s {:.2}x the trust list's in this run (goal: DCP costs at most 2x)",
        dcp.0 / trust_list.0,
        dcp.1 / trust_list.1
    );
    Ok(())
}

/// Runs a cargo bench of another crate: benchmarks that need its dependencies (librdkafka, JSON schema) live
/// there rather than in this dependency-light tool.
fn cargo_bench(package: &str, bench: &str) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["bench", "--locked", "-q", "-p", package, "--bench", bench])
        .current_dir(root())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("cargo bench -p {package} --bench {bench} failed")) }
}

/// The Kafka PULL benchmarks, when the harness is up.
fn kafka_benches() -> Result<(), String> {
    if std::env::var("TEST_KAFKA_ADMIN_BOOTSTRAP").is_err() {
        println!(
            "Kafka       skipped: no harness (scripts/harness.sh up oauth kafka; eval \"$(scripts/harness.sh env)\")"
        );
        return Ok(());
    }
    cargo_bench("dsc", "kafka_pull")?;
    cargo_bench("dsc-kafka-pull", "reconcile")
}
