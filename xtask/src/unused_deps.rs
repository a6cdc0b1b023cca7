// SPDX-License-Identifier: Apache-2.0
//! `cargo xtask unused-deps`: fails when a workspace crate declares a dependency its code never names.
//!
//! A dependency is used when its crate name (`-` as `_`, or its rename) appears as a whole identifier in the
//! crate's sources: `src`, `tests`, `benches`, `examples` and `build.rs`, whole-line comments left out. That is a
//! text check, not a compiler's (cargo-udeps needs a nightly toolchain), so it errs towards "used": a crate named
//! in code that is compiled out still counts. The rare dependency used only for its features or for linking is
//! listed in [`EXCEPTIONS`] with the reason.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// (crate, dependency, why it stays though no source names it).
const EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "dsc-jsonld",
    "json-syntax",
    "its `serde_json` feature gives json-ld's values `from_serde_json`; the code names them through json_ld",
)];

/// One declared dependency of a workspace crate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Declared {
    krate: String,
    /// The name the crate's code uses: the rename, or the package name with `-` as `_`.
    name: String,
    /// `dependencies`, `dev-dependencies` or `build-dependencies`.
    kind: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

pub fn check() -> Result<(), String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    let mut unused = Vec::new();
    let mut checked = 0;
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let krate = package["name"].as_str().unwrap_or_default();
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
        let identifiers = identifiers_in(&sources(&dir))?;
        for declared in declared(krate, package) {
            checked += 1;
            let excepted =
                EXCEPTIONS.iter().any(|(c, d, _)| *c == declared.krate && d.replace('-', "_") == declared.name);
            if !excepted && !identifiers.contains(&declared.name) {
                unused.push(declared);
            }
        }
    }
    if unused.is_empty() {
        println!(
            "unused-deps: {checked} declared dependencies, each named in its crate's sources or listed as an exception"
        );
        return Ok(());
    }
    unused.sort();
    let lines: Vec<String> = unused
        .iter()
        .map(|d| format!("  {}: [{}] {} is never named in its sources", d.krate, d.kind, d.name))
        .collect();
    Err(format!(
        "unused dependencies (remove them, or list them in xtask/src/unused_deps.rs EXCEPTIONS with the reason):\n{}",
        lines.join("\n")
    ))
}

fn declared(krate: &str, package: &Value) -> Vec<Declared> {
    package["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|dependency| {
            let name = dependency["rename"]
                .as_str()
                .or_else(|| dependency["name"].as_str())
                .unwrap_or_default()
                .replace('-', "_");
            let kind = match dependency["kind"].as_str() {
                Some("dev") => "dev-dependencies",
                Some("build") => "build-dependencies",
                _ => "dependencies",
            };
            Declared { krate: krate.to_string(), name, kind: kind.to_string() }
        })
        .collect()
}

/// The crate's Rust sources: everything under src, tests, benches and examples, and build.rs.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["src", "tests", "benches", "examples"] {
        collect(&dir.join(sub), &mut files);
    }
    let build = dir.join("build.rs");
    if build.is_file() {
        files.push(build);
    }
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Every identifier in the files, whole-line comments left out (a crate mentioned in prose is not used).
fn identifiers_in(files: &[PathBuf]) -> Result<BTreeSet<String>, String> {
    let mut identifiers = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        for line in text.lines().filter(|line| !line.trim_start().starts_with("//")) {
            identifiers.extend(identifiers_of(line));
        }
    }
    Ok(identifiers)
}

fn identifiers_of(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|word| !word.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_whole_words() {
        let words: Vec<String> = identifiers_of("use serde_json::Value; #[tokio::test] r#\"x\"#").collect();
        assert_eq!(words, ["use", "serde_json", "Value", "tokio", "test", "r", "x"]);
        assert!(!identifiers_of("serde_json::json!").any(|w| w == "serde"), "a prefix is not a use");
    }

    #[test]
    fn renames_and_dashes_give_the_name_code_uses() {
        let package = serde_json::json!({ "dependencies": [
            { "name": "tracing-subscriber", "kind": null, "rename": null },
            { "name": "dsc-oauth", "kind": "dev", "rename": "oauth" },
        ]});
        let names: Vec<(String, String)> = declared("c", &package).into_iter().map(|d| (d.name, d.kind)).collect();
        assert_eq!(
            names,
            [
                ("tracing_subscriber".to_string(), "dependencies".to_string()),
                ("oauth".to_string(), "dev-dependencies".to_string())
            ]
        );
    }
}
