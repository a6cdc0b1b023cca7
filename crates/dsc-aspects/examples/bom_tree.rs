// SPDX-License-Identifier: Apache-2.0
//! Stream processing example: reads JSON lines (bare CX-0127 payloads or `dsc consume` output) from stdin and
//! prints the as-built bill-of-material trees they describe, with part data joined by Catena-X id, as JSON.
//!
//! ```sh
//! dsc consume --transfer <id> --from-beginning --timeout 5 | cargo run -q -p dsc-aspects --example bom_tree
//! cargo run -q -p dsc-aspects --example bom_tree -- --generate   # a generated 3-level vehicle instead of stdin
//! ```

use std::io::BufRead;

use dsc_aspects::bom::assemble_lines;
use dsc_aspects::generate::Generator;

fn main() -> std::process::ExitCode {
    let lines: Vec<String> = if std::env::args().any(|arg| arg == "--generate") {
        let structure = Generator::new(42).vehicle(3, 3);
        structure.records().map(|record| record.to_value().to_string()).collect()
    } else {
        match std::io::stdin().lock().lines().collect() {
            Ok(lines) => lines,
            Err(error) => {
                eprintln!("bom_tree: reading stdin: {error}");
                return std::process::ExitCode::FAILURE;
            }
        }
    };
    let assembly = assemble_lines(lines);
    match serde_json::to_string_pretty(&assembly) {
        Ok(text) => println!("{text}"),
        Err(error) => {
            eprintln!("bom_tree: {error}");
            return std::process::ExitCode::FAILURE;
        }
    }
    std::process::ExitCode::SUCCESS
}
