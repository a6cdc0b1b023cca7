// SPDX-License-Identifier: Apache-2.0
//! `dsc validate` as a process: exit codes, and the exact reports for a document, JSON lines, `dsc consume` lines
//! and every bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use dsc_aspects::generate::Generator;
use dsc_aspects::schemas::example_text;
use dsc_aspects::validate::KNOWN_DEFECT;
use dsc_aspects::{Aspect, Model, Version};
use serde_json::{Value, json};

fn validate(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dsc"))
        .arg("validate")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dsc starts");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("written");
    let Output { status, stdout, stderr } = child.wait_with_output().expect("dsc ends");
    (status.code(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

const SERIAL_PART: &str = "urn:samm:io.catenax.serial_part:3.0.0#SerialPart";

#[test]
fn a_valid_document_from_a_file_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("part.json");
    let record = Generator::new(1).payload(Aspect::new(Model::SerialPart, Version::V3_0_0)).to_value();
    std::fs::write(&file, serde_json::to_string_pretty(&record).expect("json")).expect("written");
    let (code, stdout, stderr) = validate(&["--aspect", "SerialPart", file.to_str().expect("utf-8")], "");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(stderr, format!("dsc validate: 1 record(s) against {SERIAL_PART}: 1 valid, 0 invalid\n"));
}

#[test]
fn the_official_3_0_0_example_is_reported_with_its_known_defect_and_exits_1() {
    let example = example_text(Aspect::new(Model::SerialPart, Version::V3_0_0)).expect("bundled");
    let (code, stdout, stderr) = validate(&["--aspect", SERIAL_PART, "-"], example);
    assert_eq!(code, Some(1));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("invalid {SERIAL_PART} (1 violation(s))"));
    assert!(
        lines[1]
            .starts_with("  /manufacturingInformation/date: pattern: \"2022-02-04T14:48:54\" does not match \"^(?:")
    );
    assert_eq!(lines[2], format!("    hint: {KNOWN_DEFECT}"));
    assert_eq!(stderr, format!("dsc validate: 1 record(s) against {SERIAL_PART}: 0 valid, 1 invalid\n"));
}

#[test]
fn json_lines_are_reported_by_line_number_and_consume_lines_by_their_value() {
    let aspect = Aspect::new(Model::Batch, Version::V3_0_0);
    let mut generator = Generator::new(2);
    let valid = generator.payload(aspect).to_value();
    let mut bad_site = generator.payload(aspect).to_value();
    bad_site["manufacturingInformation"]["sites"][0]["function"] = json!("assembly");
    let consumed = json!({"topic": "t", "partition": 0, "offset": 9, "value": generator.payload(aspect).to_value()});
    let input = format!("{valid}\n{bad_site}\n\n{consumed}\nnot json\n");
    let (code, stdout, stderr) = validate(&["--aspect", "batch"], &input);
    assert_eq!(code, Some(1));
    let urn = aspect.urn();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("line 2: invalid {urn} (1 violation(s))"));
    assert!(
        lines[1].starts_with("  /manufacturingInformation/sites/0/function: enum: \"assembly\" is not one of "),
        "{stdout}"
    );
    assert_eq!(lines[2], format!("line 5: invalid {urn} (1 violation(s))"));
    assert!(lines[3].starts_with("  (document): json: not JSON: expected ident at line 1 column 2"), "{stdout}");
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(stderr, format!("dsc validate: 4 record(s) against {urn}: 2 valid, 2 invalid\n"));

    let (code, stdout, _) = validate(&["--aspect", "Batch:3.0.0", "--format", "json"], &input);
    assert_eq!(code, Some(1));
    let reports: Vec<Value> = stdout.lines().map(|line| serde_json::from_str(line).expect("json")).collect();
    assert_eq!(reports.len(), 4);
    assert_eq!(reports[0], json!({"aspect": urn, "valid": true, "violations": [], "line": 1}));
    assert_eq!(reports[1]["line"], 2);
    assert_eq!(reports[1]["violations"][0]["pointer"], "/manufacturingInformation/sites/0/function");
    assert_eq!(reports[1]["violations"][0]["rule"], "enum");
    assert_eq!(reports[1]["violations"][0]["value"], "assembly");
    assert_eq!(reports[2]["valid"], true);
}

#[test]
fn bad_arguments_and_input_exit_2_with_the_reason() {
    let (code, _, stderr) = validate(&["--aspect", "Wheel"], "{}");
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with(
            "dsc validate: unknown aspect model \"Wheel\"; known: urn:samm:io.catenax.serial_part:3.0.0#SerialPart, "
        ),
        "{stderr}"
    );
    let (code, _, stderr) = validate(&["--aspect", "SerialPart", "/nonexistent/part.json"], "");
    assert_eq!(code, Some(2));
    assert_eq!(stderr, "dsc validate: cannot read /nonexistent/part.json: No such file or directory (os error 2)\n");
    let (code, _, stderr) = validate(&["--aspect", "SerialPart"], "\n  \n");
    assert_eq!(code, Some(2));
    assert_eq!(stderr, "dsc validate: no JSON in the input\n");
    let (code, _, _) = validate(&[], "{}");
    assert_eq!(code, Some(2), "clap refuses a missing --aspect with 2");
}
