// SPDX-License-Identifier: Apache-2.0
//! `dsc validate`: checks a JSON document, or JSON lines, against a CX-0127 aspect model's official schema.

use std::io::{Read, Write};
use std::process::ExitCode;

use dsc_aspects::lines::payload_of;
use serde_json::Value;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The aspect model: a semantic id (urn:samm:io.catenax.serial_part:3.0.0#SerialPart) or a model name
    /// (SerialPart means its CX-0127 version 3.0.0; SerialPart:4.0.0 another version).
    #[arg(long)]
    aspect: String,
    /// A JSON document or JSON lines (`dsc consume` lines are checked by their `value`); `-` or nothing for stdin.
    file: Option<String>,
    /// Reports as text, or as one JSON object per record.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

/// Exit codes: 0 every record valid, 1 at least one invalid, 2 bad arguments or unreadable input.
pub fn run(args: ValidateArgs) -> ExitCode {
    let bad = |message: String| {
        eprintln!("dsc validate: {message}");
        ExitCode::from(2)
    };
    let validator = match super::validator_for(&args.aspect) {
        Ok(validator) => validator,
        Err(exit) => {
            eprintln!("dsc validate: {}", exit.message);
            return ExitCode::from(exit.code);
        }
    };
    let aspect = validator.aspect();
    let mut text = String::new();
    let read = match args.file.as_deref() {
        None | Some("-") => std::io::stdin().read_to_string(&mut text).map(|_| ()),
        Some(path) => std::fs::read_to_string(path).map(|content| text = content),
    };
    if let Err(error) = read {
        return bad(format!("cannot read {}: {error}", args.file.as_deref().unwrap_or("stdin")));
    }
    let records = split_records(&text);
    if records.is_empty() {
        return bad("no JSON in the input".into());
    }
    let json = args.format == "json";
    let mut out = std::io::stdout().lock();
    let mut invalid = 0usize;
    for (line, record) in &records {
        let report = match record {
            Ok(value) => validator.validate(payload_of(value)),
            Err(text) => validator.validate_text(text),
        };
        if !report.is_valid() {
            invalid += 1;
        }
        let printed = if json {
            let mut object = report.to_json();
            object["line"] = Value::from(*line);
            writeln!(out, "{object}")
        } else if report.is_valid() {
            Ok(())
        } else if records.len() == 1 {
            writeln!(out, "{report}")
        } else {
            writeln!(out, "line {line}: {report}")
        };
        if printed.is_err() {
            return ExitCode::FAILURE;
        }
    }
    let total = records.len();
    eprintln!("dsc validate: {total} record(s) against {aspect}: {} valid, {invalid} invalid", total - invalid);
    if invalid == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// A whole document when the input is one JSON value, JSON lines otherwise (numbered from 1; lines that are no
/// JSON are kept as text to be reported).
fn split_records(text: &str) -> Vec<(usize, Result<Value, String>)> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return vec![(1, Ok(value))];
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| (index + 1, serde_json::from_str(line).map_err(|_| line.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_document_or_numbered_lines() {
        let pretty = "{\n  \"a\": 1\n}\n";
        assert_eq!(split_records(pretty).len(), 1);
        let lines = split_records("{\"a\":1}\n\n{\"b\":\nnot json\n");
        let numbers: Vec<usize> = lines.iter().map(|(line, _)| *line).collect();
        assert_eq!(numbers, vec![1, 3, 4]);
        assert!(lines[1].1.is_err() && lines[2].1.is_err());
    }
}
