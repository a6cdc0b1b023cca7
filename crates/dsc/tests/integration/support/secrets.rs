// SPDX-License-Identifier: Apache-2.0
//! The secret scan shared by the HTTP and Kafka flows: which log and database files of connectors' data
//! directories hold a secret, a credential, or any JWT at all (a log must hold none).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Searches the logs (`*.log`) and databases (`dsc.db*`) under `dirs` for each `(what, value)` in `secrets`, logs
/// also for `log_only` values (credentials, which the holder's own table keeps by design) and for any JWT.
/// Returns where each was found, and how many bytes were read.
pub fn scan(dirs: &[&Path], secrets: &[(String, String)], log_only: &[(String, String)]) -> (Vec<String>, u64) {
    let mut hits = Vec::new();
    let mut scanned = 0u64;
    for dir in dirs {
        for file in files_under(dir) {
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let is_log = name.ends_with(".log");
            if !is_log && !name.starts_with("dsc.db") {
                continue;
            }
            let bytes = std::fs::read(&file).unwrap_or_default();
            scanned += bytes.len() as u64;
            let text = String::from_utf8_lossy(&bytes);
            let mut look_for: Vec<&(String, String)> = secrets.iter().collect();
            if is_log {
                look_for.extend(log_only);
            }
            for (what, value) in look_for {
                if text.contains(value.as_str()) {
                    hits.push(format!("{what} in {}", file.display()));
                }
            }
            if is_log && let Some(at) = text.find("eyJ") {
                let line = text[..at].rfind('\n').map(|s| s + 1).unwrap_or(0);
                hits.push(format!("a JWT in {}: {}", file.display(), &text[line..(at + 40).min(text.len())]));
            }
        }
    }
    (hits, scanned)
}
