// SPDX-License-Identifier: Apache-2.0
//! The README's walkthroughs as data (the `sh` blocks between `<!-- walkthrough: NAME -->` and
//! `<!-- /walkthrough -->`, split into commands), and a shell session that runs them as a user would: with bash, in
//! a directory of its own that holds `examples/` and `scripts/` of this checkout, with exports carried from one
//! command to the next and `dsc run` kept running in the background.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Walkthrough {
    pub name: String,
    pub commands: Vec<String>,
}

/// Every marked walkthrough in README order; a marker out of place is an error rather than a silently skipped block.
pub fn extract(readme: &str) -> Result<Vec<Walkthrough>, String> {
    let (mut walkthroughs, mut current, mut block) = (Vec::new(), None::<Walkthrough>, None::<String>);
    for (index, line) in readme.lines().enumerate() {
        let trimmed = line.trim();
        let at = || format!("README line {}", index + 1);
        if let Some(name) = trimmed.strip_prefix("<!-- walkthrough:").and_then(|rest| rest.strip_suffix("-->")) {
            if current.is_some() {
                return Err(format!("{}: a walkthrough starts inside another", at()));
            }
            current = Some(Walkthrough { name: name.trim().to_string(), commands: Vec::new() });
        } else if trimmed == "<!-- /walkthrough -->" {
            match (current.take(), &block) {
                (Some(walkthrough), None) => walkthroughs.push(walkthrough),
                _ => return Err(format!("{}: an end marker without a walkthrough, or inside a code block", at())),
            }
        } else if let Some(walkthrough) = current.as_mut() {
            match block.as_mut() {
                None if trimmed == "```sh" => block = Some(String::new()),
                Some(text) if trimmed == "```" => {
                    walkthrough.commands.extend(split_commands(text).map_err(|e| format!("{}: {e}", at()))?);
                    block = None;
                }
                Some(text) => {
                    text.push_str(line);
                    text.push('\n');
                }
                None => {}
            }
        }
    }
    match current {
        Some(open) => Err(format!("walkthrough '{}' has no end marker", open.name)),
        None => Ok(walkthroughs),
    }
}

/// A shell block's commands: a command goes on while a quote is open or a line ends with a backslash; comment lines
/// and blank lines between commands are dropped.
pub fn split_commands(block: &str) -> Result<Vec<String>, String> {
    let (mut commands, mut pending, mut quote) = (Vec::new(), String::new(), None::<char>);
    for line in block.lines() {
        if pending.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        pending.push_str(line);
        pending.push('\n');
        let mut chars = line.chars().peekable();
        let mut previous = ' ';
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, '#') if previous.is_whitespace() => break,
                (None, '\'' | '"') => quote = Some(c),
                (Some(open), _) if open == c => quote = None,
                (None | Some('"'), '\\') => {
                    chars.next();
                }
                _ => {}
            }
            previous = c;
        }
        if quote.is_none() && !line.trim_end().ends_with('\\') {
            commands.push(pending.trim_end().to_string());
            pending.clear();
        }
    }
    if pending.is_empty() { Ok(commands) } else { Err(format!("unterminated command: {pending}")) }
}

/// A command's words as bash would see them (quotes removed, line continuations joined, no expansion).
pub fn words(command: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut started) = (Vec::new(), String::new(), None::<char>, false);
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\\') => match chars.next() {
                Some('\n') | None => {}
                Some(next) => {
                    word.push(next);
                    started = true;
                }
            },
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(open), _) if open == c => quote = None,
            (None, '#') if !started => break,
            (None, _) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            _ => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// What a command answered.
pub struct Answer {
    pub exit: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// A background server of the walkthrough (a connector or the issuer) and the URL that answers once it is ready.
struct Connector {
    config: String,
    ready: String,
    child: Child,
    log: PathBuf,
}

pub struct Session {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    connectors: Vec<Connector>,
}

/// curl reports the HTTP status after the body, so that the test can check it without the commands saying so.
const PRELUDE: &str = "curl() { command curl --write-out '\\n%{http_code}' \"$@\"; }\n";
const STATE: &str = ".walkthrough-env";

impl Session {
    /// A scratch directory with `examples` and `scripts` of `repo`, and an environment holding only what a user's
    /// shell would: `PATH` (with `dsc_dir` first), `HOME`, the harness's directory and its `TEST_*` exports.
    pub fn new(repo: &Path, dsc_dir: &Path) -> Self {
        let dir = tempfile::tempdir().expect("scratch directory");
        for name in ["examples", "scripts"] {
            std::os::unix::fs::symlink(repo.join(name), dir.path().join(name))
                .unwrap_or_else(|e| panic!("symlink {name}: {e}"));
        }
        let path = format!("{}:{}", dsc_dir.display(), std::env::var("PATH").unwrap_or_default());
        let harness = std::env::var("HARNESS_DIR").unwrap_or_else(|_| repo.join(".harness").display().to_string());
        let mut env = vec![("PATH".to_string(), path), ("HARNESS_DIR".to_string(), harness)];
        env.extend(std::env::vars().filter(|(name, _)| name == "HOME" || name.starts_with("TEST_")));
        Session { dir, env, connectors: Vec::new() }
    }

    fn bash(&self, command: &str) -> Command {
        let script = format!(
            "[ -f {STATE} ] && . ./{STATE}\n{PRELUDE}{command}\nstatus=$?\nexport -p > {STATE}\nexit $status\n"
        );
        let mut bash = Command::new("bash");
        bash.arg("-c").arg(script).current_dir(self.dir.path()).env_clear().envs(self.env.iter().cloned());
        bash
    }

    /// Runs one command to its end (at most `limit`).
    pub fn run(&self, command: &str, limit: Duration) -> Answer {
        let (out, err) = (self.dir.path().join(".stdout"), self.dir.path().join(".stderr"));
        let file = |path: &Path| std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut child = self
            .bash(command)
            .stdin(Stdio::null())
            .stdout(file(&out))
            .stderr(file(&err))
            .process_group(0)
            .spawn()
            .expect("bash");
        let deadline = Instant::now() + limit;
        let exit = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.code(),
                _ if Instant::now() > deadline => {
                    stop_group(&mut child);
                    break None;
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        Answer { exit, stdout: read(&out), stderr: read(&err) }
    }

    /// Starts `dsc run --config <config>` (as `command` says, environment included) in the background; a connector
    /// already running on that configuration is stopped first, as the README asks (Ctrl-C in its terminal).
    pub fn start_connector(&mut self, command: &str, config: &str) {
        if let Some(index) = self.connectors.iter().position(|c| c.config == config) {
            let mut old = self.connectors.remove(index);
            stop_group(&mut old.child);
        }
        let ports = ports_of(&self.dir.path().join(config));
        for (key, port) in &ports {
            if std::net::TcpListener::bind(("0.0.0.0", *port)).is_err() {
                panic!(
                    "port {port} ({key} in {config}) is taken by another process: the README's walkthrough runs the \
                     example connectors on the ports it names, so they must be free"
                );
            }
        }
        let health = ports.get("web.http.port").copied().unwrap_or(19191);
        let ready = format!("http://localhost:{health}/api/check/readiness");
        let log = self.dir.path().join(format!("{}.log", config.replace('/', "_")));
        let file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let stderr = file.try_clone().unwrap();
        let child =
            self.bash(command).stdin(Stdio::null()).stdout(file).stderr(stderr).process_group(0).spawn().expect("bash");
        self.connectors.push(Connector { config: config.to_string(), ready, child, log });
        self.wait_ready(config);
    }

    /// Starts `dsc issuer serve --did <did>` in the background and waits until its DID document is served.
    pub fn start_issuer(&mut self, command: &str, did: &str) {
        let url = dsc_identity::did_document_url(did, false).unwrap_or_else(|e| panic!("{did}: {e}"));
        let port: u16 =
            url.split(':').nth(2).and_then(|p| p.split('/').next()).and_then(|p| p.parse().ok()).unwrap_or(0);
        if std::net::TcpListener::bind(("0.0.0.0", port)).is_err() {
            panic!("port {port} of the README's issuer is taken by another process");
        }
        let name = format!("issuer {did}");
        let log = self.dir.path().join("issuer.log");
        let file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let stderr = file.try_clone().unwrap();
        let child =
            self.bash(command).stdin(Stdio::null()).stdout(file).stderr(stderr).process_group(0).spawn().expect("bash");
        self.connectors.push(Connector { config: name.clone(), ready: url, child, log });
        self.wait_ready(&name);
    }

    fn wait_ready(&mut self, config: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let Some(connector) = self.connectors.iter_mut().find(|c| c.config == config) else { return };
        let url = connector.ready.clone();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = connector.child.try_wait() {
                let log = std::fs::read_to_string(&connector.log).unwrap_or_default();
                panic!("`dsc run --config {config}` exited with {status}:\n{log}");
            }
            let probe = Command::new("curl").args(["-sf", "-o", "/dev/null", &url]).status();
            if probe.is_ok_and(|status| status.success()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("`dsc run --config {config}` not ready within 30 s:\n{}", self.logs());
    }

    /// The end of every connector's log, for a failure message.
    pub fn logs(&self) -> String {
        let tail = |path: &Path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(25)..].join("\n")
        };
        self.connectors.iter().map(|c| format!("--- {} ---\n{}\n", c.config, tail(&c.log))).collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for connector in &mut self.connectors {
            stop_group(&mut connector.child);
        }
    }
}

/// SIGTERM to the process group (bash and what it started), SIGKILL if it is not gone after 10 s. Waiting for bash
/// is not enough: the connector it started may still be shutting down, holding its ports.
fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let signal = |signal: &str| Command::new("kill").args([signal, "--", &group]).stderr(Stdio::null()).status();
    for (name, patience) in [("-TERM", 100), ("-KILL", 50)] {
        let _ = signal(name);
        for _ in 0..patience {
            let _ = child.try_wait();
            if !signal("-0").is_ok_and(|status| status.success()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The `web.http.*port` keys of an example configuration (quoted dotted keys, as the examples write them).
fn ports_of(config: &Path) -> HashMap<String, u16> {
    let text = std::fs::read_to_string(config).unwrap_or_else(|e| panic!("{}: {e}", config.display()));
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            let key = key.trim().trim_matches('"');
            let port = value.trim().parse().ok()?;
            (key.starts_with("web.http.") && key.ends_with("port")).then(|| (key.to_string(), port))
        })
        .collect()
}
