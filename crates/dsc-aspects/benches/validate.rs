// SPDX-License-Identifier: Apache-2.0
//! Validation throughput per model and version on generated records (what `dsc produce --aspect` and
//! `dsc consume --validate` do per record). The baseline, measured in the same run on the same records, is parsing
//! the record text into a `serde_json::Value`, which every consumer of JSON pays anyway; the ratio says how many
//! parses one validation costs. An invalid record (report with pointers) is measured too.
//!
//! `cargo bench -p dsc-aspects --bench validate` (`--records N` changes the count per model).
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use dsc_aspects::generate::Generator;
use dsc_aspects::{Aspect, Validator};
use serde_json::Value;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo test --all-targets` runs benches without --bench: nothing to measure then.
    if !args.iter().any(|arg| arg == "--bench") {
        return;
    }
    let count: usize = args
        .iter()
        .position(|arg| arg == "--records")
        .and_then(|index| args.get(index + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(20_000);
    let mut generator = Generator::new(1);
    println!(
        "validation of {count} generated records per aspect, in records/s; ratio = validate rate / parse rate (above 1: \
         checking a record costs less than parsing it)"
    );
    println!("{:<78} {:>12} {:>12} {:>7} {:>14}", "aspect", "parse", "validate", "ratio", "invalid+report");
    for aspect in Aspect::all() {
        let validator = match Validator::new(aspect) {
            Ok(validator) => validator,
            Err(error) => {
                eprintln!("{error}");
                std::process::exit(1);
            }
        };
        let texts: Vec<String> = (0..count).map(|_| generator.payload(aspect).to_value().to_string()).collect();
        let values: Vec<Value> = texts.iter().filter_map(|text| serde_json::from_str(text).ok()).collect();

        let started = Instant::now();
        for text in &texts {
            black_box(serde_json::from_str::<Value>(text).ok());
        }
        let parse = count as f64 / started.elapsed().as_secs_f64();

        let started = Instant::now();
        let mut valid = 0usize;
        for value in &values {
            valid += usize::from(validator.is_valid(black_box(value)));
        }
        let validate = count as f64 / started.elapsed().as_secs_f64();
        assert_eq!(valid, count, "generated records must be valid");

        let mut broken = values[0].clone();
        broken[aspect.id_field()] = Value::from("not-an-id");
        let rounds = (count / 10).max(1);
        let started = Instant::now();
        for _ in 0..rounds {
            black_box(validator.validate(black_box(&broken)));
        }
        let invalid = rounds as f64 / started.elapsed().as_secs_f64();
        println!("{:<78} {parse:>12.0} {validate:>12.0} {:>6.2}x {invalid:>14.0}", aspect.urn(), validate / parse);
    }
}
