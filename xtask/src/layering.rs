// SPDX-License-Identifier: Apache-2.0
//! `cargo xtask layering`: the layering rules of ARCHITECTURE.md and the design brief, checked.
//!
//! 1. The shared lower floors and both planes know no concrete transfer type: no crate in [`BELOW_TRANSFER_TYPES`]
//!    names Kafka (any case) outside comments, in its Rust sources, SQL or Cargo.toml. Transfer types plug in from
//!    above through registries.
//! 2. Dependencies point down ([`dependency_rule`], read from `cargo metadata`, every dependency kind).
//!
//! Every finding names the crate, the file and the line.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::comments::{Language, strip_comments};

/// Crates below the transfer-type crates.
const BELOW_TRANSFER_TYPES: &[&str] = &[
    "dsc-domain",
    "dsc-jsonld",
    "dsc-transform",
    "dsc-store",
    "dsc-vault",
    "dsc-vault-sql",
    "dsc-web",
    "dsc-telemetry",
    "dsc-policy",
    "dsc-identity",
    "dsc-signaling",
    "dsc-controlplane",
    "dsc-dataplane",
    "dsc-management-api",
    "dsc-dsp",
    "dsc-control-api",
    "dsc-config",
    "dsc-dcp",
];

/// Below the transfer types too, but still holding Kafka parts that are being moved out; checked only with
/// `--pending` until then. Move a crate up into [`BELOW_TRANSFER_TYPES`] once `--pending` passes for it.
const PENDING: &[&str] = &[];

/// The word lower crates must not use; checked case-insensitively.
const TRANSFER_TYPE_WORD: &str = "kafka";

/// The crates a Kafka crate may be a dependency of (besides the Kafka crates themselves).
/// `dsc-fuzz` is a tests-only crate at the top, like `dsc-infra-tests`: it fuzzes the Kafka data address parser.
const KAFKA_USERS: &[&str] = &["dsc", "dsc-demo", "dsc-infra-tests", "dsc-fuzz"];

/// The shared lower floors: neither plane, nor an API or wire crate above them, may be their dependency.
const LOWER_FLOORS: &[&str] = &[
    "dsc-domain",
    "dsc-jsonld",
    "dsc-transform",
    "dsc-store",
    "dsc-vault",
    "dsc-vault-sql",
    "dsc-web",
    "dsc-telemetry",
    "dsc-policy",
    "dsc-identity",
    "dsc-signaling",
    "dsc-config",
];
const ABOVE_LOWER_FLOORS: &[&str] =
    &["dsc-controlplane", "dsc-dataplane", "dsc-management-api", "dsc-dsp", "dsc-control-api"];

/// Why `from` must not depend on `to`, or `None` when it may.
fn dependency_rule(from: &str, to: &str) -> Option<&'static str> {
    let is_kafka = |name: &str| name.starts_with("dsc-kafka-");
    if from == "dsc-domain" && to.starts_with("dsc") {
        return Some("dsc-domain depends on no dsc crate");
    }
    if matches!((from, to), ("dsc-controlplane", "dsc-dataplane") | ("dsc-dataplane", "dsc-controlplane")) {
        return Some("the control plane and the data plane never depend on each other (they meet in DPS messages)");
    }
    if matches!((from, to), ("dsc-dsp", "dsc-dataplane") | ("dsc-dataplane", "dsc-dsp")) {
        return Some("nothing DSP-specific in the data plane, no data plane in the DSP binding");
    }
    if is_kafka(to) && !is_kafka(from) && !KAFKA_USERS.contains(&from) {
        return Some(
            "transfer types plug in from above: only the binary, the demo and the infrastructure tests use them",
        );
    }
    if matches!(to, "dsc" | "dsc-demo") && from != "dsc" {
        return Some("no library crate depends on the binary or the demo");
    }
    if LOWER_FLOORS.contains(&from) && ABOVE_LOWER_FLOORS.contains(&to) {
        return Some("dependencies point down: the shared lower floors depend on no plane and no API crate");
    }
    None
}

pub fn check(args: &[String]) -> Result<(), String> {
    let root = root();
    let mut names: Vec<&str> = BELOW_TRANSFER_TYPES.to_vec();
    if args.iter().any(|a| a == "--pending") {
        names.extend(PENDING);
    }
    let mut findings = Vec::new();
    for name in &names {
        findings.extend(word_findings(&root, name)?);
    }
    findings.extend(dependency_findings(&root)?);
    if findings.is_empty() {
        println!("layering: {} lower crates name no transfer type; every dependency points down", names.len());
        return Ok(());
    }
    for finding in &findings {
        eprintln!("{finding}");
    }
    Err(format!("{} layering violation(s)", findings.len()))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// Lines of the crate's Rust, SQL and Cargo.toml files that name the transfer type outside comments.
fn word_findings(root: &Path, name: &str) -> Result<Vec<String>, String> {
    let dir = root.join("crates").join(name);
    if !dir.is_dir() {
        return Err(format!("crate {name}: no directory {}", dir.display()));
    }
    let mut files = Vec::new();
    collect_files(&dir, &mut files)?;
    files.sort();
    let mut findings = Vec::new();
    for file in files {
        let language = match file.extension().and_then(|e| e.to_str()) {
            Some("rs") => Language::Rust,
            Some("sql") => Language::Sql,
            _ if file.file_name().is_some_and(|f| f == "Cargo.toml") => Language::Toml,
            _ => continue,
        };
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let relative = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        for (index, line) in strip_comments(&text, language).lines().enumerate() {
            if line.to_ascii_lowercase().contains(TRANSFER_TYPE_WORD) {
                let shown = text.lines().nth(index).unwrap_or(line).trim();
                findings.push(format!("crate {name}: {relative}:{}: names Kafka: {shown}", index + 1));
            }
        }
    }
    Ok(findings)
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.')) {
                continue;
            }
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Dependencies of workspace crates that break a rule, each with its Cargo.toml line.
fn dependency_findings(root: &Path) -> Result<Vec<String>, String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    let mut findings = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let from = package["name"].as_str().unwrap_or_default();
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let manifest_text = std::fs::read_to_string(&manifest).unwrap_or_default();
        let relative = manifest.strip_prefix(root).unwrap_or(&manifest).display().to_string();
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            let to = dependency["name"].as_str().unwrap_or_default();
            if to == from {
                continue;
            }
            if let Some(rule) = dependency_rule(from, to) {
                let kind = dependency["kind"].as_str().unwrap_or("normal");
                let line = manifest_text
                    .lines()
                    .position(|l| {
                        l.trim_start().starts_with(&format!("{to} ")) || l.trim_start().starts_with(&format!("{to}="))
                    })
                    .map_or(0, |p| p + 1);
                findings.push(format!("crate {from}: {relative}:{line}: depends on {to} ({kind}): {rule}"));
            }
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_rules() {
        assert!(dependency_rule("dsc-domain", "dsc-jsonld").is_some());
        assert!(dependency_rule("dsc-domain", "serde").is_none());
        assert!(dependency_rule("dsc-controlplane", "dsc-dataplane").is_some());
        assert!(dependency_rule("dsc-dataplane", "dsc-controlplane").is_some());
        assert!(dependency_rule("dsc-dsp", "dsc-dataplane").is_some());
        assert!(dependency_rule("dsc-dataplane", "dsc-dsp").is_some());
        assert!(dependency_rule("dsc-management-api", "dsc-kafka-pull").is_some());
        assert!(dependency_rule("dsc", "dsc-kafka-pull").is_none());
        assert!(dependency_rule("dsc-kafka-pull", "dsc-kafka-admin").is_none());
        assert!(dependency_rule("dsc-demo", "dsc-kafka-client").is_none());
        assert!(dependency_rule("dsc-kafka-client", "dsc-demo").is_some());
        assert!(dependency_rule("dsc-web", "dsc").is_some());
        assert!(dependency_rule("dsc-store", "dsc-controlplane").is_some());
        assert!(dependency_rule("dsc-controlplane", "dsc-store").is_none());
    }
}
