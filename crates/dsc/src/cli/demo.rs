// SPDX-License-Identifier: Apache-2.0
//! `dsc demo`: the two shop-floor use cases end to end on this machine (see the `dsc-demo` crate).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Directory holding Apache Kafka's jars (`scripts/harness.sh fetch kafka` prints it).
    #[arg(long, env = "DSC_DEMO_KAFKA_LIB")]
    pub kafka_lib: PathBuf,
    /// Java runtime for the broker.
    #[arg(long, default_value = "java")]
    pub java: String,
    /// Working directory for configurations, databases and logs; emptied at start.
    #[arg(long, default_value = ".demo")]
    pub dir: PathBuf,
    /// First of the ports the demo uses (base .. base+42, all on 127.0.0.1).
    #[arg(long, default_value_t = 31000, value_parser = clap::value_parser!(u16).range(1024..=65000))]
    pub port_base: u16,
    /// Leave everything running after the last step (for Insomnia), until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
}

pub fn run(args: DemoArgs) -> ExitCode {
    let dsc = match std::env::current_exe() {
        Ok(path) => path,
        Err(error) => {
            eprintln!("dsc demo: cannot find the dsc executable: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = dsc_demo::DemoOptions {
        dsc,
        kafka_lib: args.kafka_lib,
        java: args.java,
        dir: args.dir,
        port_base: args.port_base,
        keep_running: args.keep_running,
        terminal: std::io::stdout().is_terminal(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsc demo: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(dsc_demo::run(options));
    // Everything the demo started is stopped by now; a Kafka client still closing (librdkafka can wait long for a
    // broker that is gone) must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.step == "interrupted" => {
            eprintln!("dsc demo: interrupted; everything it started is stopped");
            ExitCode::from(130)
        }
        Err(error) => {
            eprintln!("dsc demo: {error}");
            ExitCode::FAILURE
        }
    }
}
