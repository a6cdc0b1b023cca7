// SPDX-License-Identifier: Apache-2.0
//! Project automation, in Rust so it runs wherever cargo does.
//!
//!   cargo xtask licenses            fail unless every third-party crate has an allow-listed licence
//!   cargo xtask dependencies        regenerate DEPENDENCIES from Cargo.lock (`--check`: fail if stale)
//!   cargo xtask spdx                fail unless every source file carries an SPDX licence header
//!   cargo xtask unused-deps         fail when a crate declares a dependency its sources never name
//!   cargo xtask layering            fail when a lower crate names Kafka or a dependency points up (`--pending`:
//!                                   also the crates still being cleaned)
//!   cargo xtask bench               start-up, memory and Management API throughput figures

mod bench;
mod comments;
mod layering;
mod licenses;
mod unused_deps;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("licenses") => licenses::check(),
        Some("dependencies") => licenses::dependencies(args.iter().any(|a| a == "--check")),
        Some("spdx") => licenses::spdx(),
        Some("unused-deps") => unused_deps::check(),
        Some("layering") => layering::check(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        _ => Err("usage: cargo xtask licenses | dependencies [--check] | spdx | unused-deps | layering [--pending] \
                  | bench [--requests N]"
            .to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
