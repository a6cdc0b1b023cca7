// SPDX-License-Identifier: Apache-2.0
//! The demo's steps, in order. Each announces what it does, checks that it happened, and fails naming itself
//! otherwise; Ctrl-C at any point stops everything started so far.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dsc_kafka_client::{ConnectorApi, ConsumeError, Provider};
use serde_json::{Value, json};

use crate::feed::{self, Produced};
use crate::management::{EDC, Management, PROTOCOL};
use crate::plant::Topic;
use crate::reader::Reader;
use crate::stack::{self, Participant, Ports, Process};
use crate::view::{Mark, Screen, View};
use crate::{DemoError, DemoOptions};

mod explore;
mod lifecycle;

const CONSUMERS: [Participant; 3] = [Participant::Oem, Participant::MachineBuilder, Participant::AnalyticsFirm];

struct Demo {
    options: DemoOptions,
    ports: Ports,
    view: Arc<Mutex<View>>,
    screen: Arc<Mutex<Screen>>,
    processes: Vec<Process>,
    plant_stop: Arc<AtomicBool>,
    produced: Produced,
    plant: Option<tokio::task::JoinHandle<Result<(), DemoError>>>,
    readers: Vec<Reader>,
    started: Instant,
    /// The step under way and since when, for the watchdog; `None` once the steps are over.
    progress: Arc<Mutex<Option<(String, Instant)>>>,
    pids: Arc<Mutex<Vec<u32>>>,
}

/// Runs the demo; with `keep_running`, waits for Ctrl-C after the last step. Everything started is stopped before
/// this returns.
pub async fn run(options: DemoOptions) -> Result<(), DemoError> {
    let mut demo = Demo::new(options);
    let redraw = demo.redraw_task();
    demo.watchdog();
    let outcome = tokio::select! {
        outcome = demo.steps() => outcome,
        signal = interrupted() => Err(DemoError::step("interrupted", signal)),
    };
    if let Ok(mut progress) = demo.progress.lock() {
        *progress = None;
    }
    let outcome = match outcome {
        Ok(()) if demo.options.keep_running => demo.keep_running().await,
        other => other,
    };
    redraw.abort();
    demo.shutdown().await;
    outcome
}

/// Ctrl-C, SIGTERM or SIGHUP: each must stop what the demo started (a signal's default action would leave the
/// broker and the connectors running).
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
        let _ = tokio::signal::ctrl_c().await;
        return "Ctrl-C";
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = terminate.recv() => "SIGTERM",
        _ = hangup.recv() => "SIGHUP",
    }
}

/// A step that has shown no outcome for this long is reported as stuck (every step has its own, shorter limits).
const STUCK: Duration = Duration::from_secs(150);

impl Demo {
    /// A thread outside the async runtime that ends the demo, naming the step, if a step hangs beyond its own time
    /// limits (as a starved runtime would): it kills the processes the demo started and exits with 1.
    fn watchdog(&self) {
        let (progress, pids) = (self.progress.clone(), self.pids.clone());
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let stuck = match progress.lock() {
                    Ok(progress) => {
                        progress.as_ref().filter(|(_, since)| since.elapsed() > STUCK).map(|(step, _)| step.clone())
                    }
                    Err(_) => None,
                };
                if let Some(step) = stuck {
                    for pid in pids.lock().map(|p| p.clone()).unwrap_or_default() {
                        let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
                    }
                    eprintln!("dsc demo: step '{step}' failed: no outcome within {} s (stuck)", STUCK.as_secs());
                    std::process::exit(1);
                }
            }
        });
    }

    fn started_process(&mut self, process: Process) {
        if let (Some(pid), Ok(mut pids)) = (process.pid(), self.pids.lock()) {
            pids.push(pid);
        }
        self.processes.push(process);
    }

    fn new(options: DemoOptions) -> Demo {
        let terminal = options.terminal;
        Demo {
            ports: Ports { base: options.port_base },
            options,
            view: Arc::new(Mutex::new(View::default())),
            screen: Arc::new(Mutex::new(Screen::new(terminal))),
            processes: Vec::new(),
            plant_stop: Arc::new(AtomicBool::new(false)),
            produced: Produced::default(),
            plant: None,
            readers: Vec::new(),
            started: Instant::now(),
            progress: Arc::new(Mutex::new(None)),
            pids: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn redraw_task(&self) -> tokio::task::JoinHandle<()> {
        let (view, screen) = (self.view.clone(), self.screen.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(250));
            loop {
                every.tick().await;
                if let (Ok(mut screen), Ok(view)) = (screen.lock(), view.lock()) {
                    screen.redraw(&view);
                }
            }
        })
    }

    fn mark(&self, mark: Mark, text: &str) {
        if mark == Mark::Running
            && let Ok(mut progress) = self.progress.lock()
        {
            *progress = Some((text.to_string(), Instant::now()));
        }
        if let (Ok(mut screen), Ok(mut view)) = (self.screen.lock(), self.view.lock()) {
            screen.step(&mut view, mark, text);
        }
    }

    fn snapshot(&self) {
        if let (Ok(mut screen), Ok(view)) = (self.screen.lock(), self.view.lock()) {
            screen.snapshot(&view);
        }
    }

    fn with_view(&self, change: impl FnOnce(&mut View)) {
        if let Ok(mut view) = self.view.lock() {
            change(&mut view);
        }
    }

    /// Announces `name`, runs it, and marks it as [`Demo::finish`] says.
    async fn step(&self, name: &str, work: impl Future<Output = Result<String, DemoError>>) -> Result<(), DemoError> {
        self.mark(Mark::Running, name);
        let outcome = work.await;
        self.finish(name, outcome)
    }

    fn management(&self, participant: Participant) -> Management {
        Management::new(self.ports.management_url(participant), participant.api_key())
    }

    fn client(&self, participant: Participant) -> Result<ConnectorApi, DemoError> {
        ConnectorApi::new(&self.ports.management_url(participant), &participant.api_key())
            .map_err(|e| DemoError::step(participant.title(), e.to_string()))
    }

    fn provider(&self) -> Provider {
        Provider {
            address: self.ports.protocol_url(Participant::SupplierA),
            id: self.ports.did(Participant::SupplierA),
        }
    }

    fn reader(&mut self, topic: Topic) -> Result<&mut Reader, DemoError> {
        self.readers
            .iter_mut()
            .find(|r| r.topic == topic)
            .ok_or_else(|| DemoError::step("demo", format!("no reader of {}", topic.name())))
    }

    async fn steps(&mut self) -> Result<(), DemoError> {
        self.ports.check_free()?;
        let dir = self.options.dir.clone();
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| DemoError::step("start", format!("{}: {e}", dir.display())))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| DemoError::step("start", format!("{}: {e}", dir.display())))?;
        let (dsc, ports) = (self.options.dsc.clone(), self.ports);

        let issuer = stack::start_issuer(&dsc, ports, &dir);
        let process = self.step_value("start the dataspace's credential issuer", issuer).await?;
        self.started_process(process);

        let provider = stack::start_connector(&dsc, ports, Participant::SupplierA, &dir);
        let process = self.step_value("start Supplier A's connector (built-in OAuth server)", provider).await?;
        self.started_process(process);

        let broker = stack::start_broker(&self.options.java, &self.options.kafka_lib, ports, &dir);
        let broker = self.step_value("start Kafka, trusting Supplier A's OAuth server", broker).await?;
        self.started_process(broker);

        let consumers = futures::future::join_all(CONSUMERS.map(|p| stack::start_connector(&dsc, ports, p, &dir)));
        let started = self
            .step_value("start the OEM's, machine builder's and analytics firm's connectors", async {
                consumers.await.into_iter().collect::<Result<Vec<_>, _>>()
            })
            .await?;
        for process in started {
            self.started_process(process);
        }

        self.step("the issuer gives every participant its Membership, BPN and framework credentials", async {
            let stored = crate::credentials::onboard(ports).await?;
            Ok(format!("{stored} credentials, each stored in its holder's connector"))
        })
        .await?;

        let provider = self.management(Participant::SupplierA);
        self.step("Supplier A sets up its offers through its Management API", async {
            feed::create_topics(ports).await?;
            let created = crate::provision::provision(&provider, ports).await?;
            Ok(format!(
                "5 topics; the Kafka admin secret, 5 assets, 5 policies, 3 contract definitions ({created} calls)"
            ))
        })
        .await?;

        let name = "Supplier A's line 3 produces station events, parts, telemetry, alerts";
        let plant = feed::start(ports, self.plant_stop.clone(), self.produced.clone());
        self.plant = Some(plant.map_err(|e| DemoError::step(name, e.reason))?);
        self.step(name, async {
            self.wait_until("first records", Duration::from_secs(20), || {
                feed::produced(&self.produced, Topic::StationEvents) > 0
            })
            .await?;
            Ok(String::new())
        })
        .await?;

        self.use_case_a().await?;
        self.use_case_b().await?;
        self.denied_consumer().await?;
        self.snapshot();
        self.lifecycle().await?;
        self.snapshot();
        let seconds = self.started.elapsed().as_secs_f64();
        if let Ok(mut screen) = self.screen.lock() {
            screen.message(&format!("All steps behaved as announced ({seconds:.0} s)."));
        }
        Ok(())
    }

    async fn step_value<T>(
        &self,
        name: &str,
        work: impl Future<Output = Result<T, DemoError>>,
    ) -> Result<T, DemoError> {
        let slot = Mutex::new(None);
        self.step(name, async {
            let value = work.await?;
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(value);
            }
            Ok(String::new())
        })
        .await?;
        slot.into_inner().ok().flatten().ok_or_else(|| DemoError::step(name, "no result"))
    }

    /// Polls `done` every 100 ms; fails naming `what` after `timeout`. A process that died fails it at once.
    async fn wait_until(&self, what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> Result<(), DemoError> {
        let deadline = Instant::now() + timeout;
        while !done() {
            if Instant::now() > deadline {
                return Err(DemoError::step(what, format!("not seen within {} s", timeout.as_secs())));
            }
            if let Some(plant) = &self.plant
                && plant.is_finished()
            {
                return Err(DemoError::step(what, "the plant's producer stopped"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    fn count(&self, topic: Topic) -> u64 {
        self.view.lock().map(|v| v.records(topic)).unwrap_or_default()
    }

    /// Negotiates `topic`'s asset for `consumer`, starts the transfer and a reader on it.
    async fn subscribe(&mut self, consumer: Participant, topic: Topic) -> Result<String, DemoError> {
        let client = self.client(consumer)?;
        let transfer = client
            .negotiate(topic.asset(), &self.provider(), Duration::from_secs(30))
            .await
            .map_err(|e| DemoError::step(consumer.title(), e.to_string()))?;
        self.readers.push(Reader::spawn(client, &transfer, topic, self.view.clone()));
        self.with_view(|v| v.set_access(topic, "reading"));
        Ok(transfer)
    }

    async fn use_case_a(&mut self) -> Result<(), DemoError> {
        let name = "(a) OEM negotiates line 3's three topics and reads them";
        self.mark(Mark::Running, name);
        let outcome = async {
            for topic in [Topic::StationEvents, Topic::SerialParts, Topic::Batches] {
                self.subscribe(Participant::Oem, topic).await?;
            }
            self.wait_until("station events, parts and a batch", Duration::from_secs(30), || {
                self.count(Topic::StationEvents) >= 30
                    && self.count(Topic::SerialParts) >= 5
                    && self.count(Topic::Batches) >= 1
            })
            .await?;
            let invalid =
                self.view.lock().map(|v| v.invalid(Topic::SerialParts) + v.invalid(Topic::Batches)).unwrap_or(0);
            if invalid > 0 {
                return Err(DemoError::step(name, format!("{invalid} part records failed CX-0127 validation")));
            }
            Ok(format!(
                "{} station events, {} SerialPart and {} Batch records, all valid CX-0127 3.0.0",
                self.count(Topic::StationEvents),
                self.count(Topic::SerialParts),
                self.count(Topic::Batches)
            ))
        }
        .await;
        self.finish(name, outcome)
    }

    async fn use_case_b(&mut self) -> Result<(), DemoError> {
        let name = "(b) Machine builder negotiates the press topics and reads them";
        self.mark(Mark::Running, name);
        let outcome = async {
            for topic in [Topic::Telemetry, Topic::Alerts] {
                self.subscribe(Participant::MachineBuilder, topic).await?;
            }
            self.wait_until("telemetry and an alert", Duration::from_secs(40), || {
                self.count(Topic::Telemetry) >= 10 && self.count(Topic::Alerts) >= 1
            })
            .await?;
            Ok(format!(
                "{} telemetry records, {} alert records",
                self.count(Topic::Telemetry),
                self.count(Topic::Alerts)
            ))
        }
        .await;
        self.finish(name, outcome)
    }

    /// Marks `name` done, with the text the step returned on a line of its own, or failed (the error then names
    /// `name`, keeping the inner step's name as context).
    fn finish(&self, name: &str, outcome: Result<String, DemoError>) -> Result<(), DemoError> {
        match outcome {
            Ok(result) => {
                self.mark(Mark::Done, name);
                if !result.is_empty() {
                    self.mark(Mark::Done, &format!("  {result}"));
                }
                Ok(())
            }
            Err(error) => {
                self.mark(Mark::Failed, name);
                let reason =
                    if error.step == name { error.reason } else { format!("{}: {}", error.step, error.reason) };
                Err(DemoError::step(name, reason))
            }
        }
    }

    /// The analytics firm: a member with the framework agreement, but the BPN its BpnCredential states is not the
    /// one the policies name: no press offer in its catalog, and a contract request with the machine builder's offer
    /// ends TERMINATED.
    async fn denied_consumer(&mut self) -> Result<(), DemoError> {
        let name = "(b) Analytics firm asks for the press telemetry and is refused";
        let (analytics, builder, provider) = (
            self.management(Participant::AnalyticsFirm),
            self.management(Participant::MachineBuilder),
            self.provider(),
        );
        let client = self.client(Participant::AnalyticsFirm)?;
        let outcome = async {
            let request = json!({ "@context": { "@vocab": EDC }, "@type": "CatalogRequest", "protocol": PROTOCOL,
                "counterPartyAddress": provider.address, "counterPartyId": provider.id });
            let catalog = analytics.post(name, "/v3/catalog/request", &request).await?;
            let datasets = match &catalog["dataset"] {
                Value::Array(all) => all.clone(),
                Value::Null => Vec::new(),
                one => vec![one.clone()],
            };
            let offered: Vec<&str> = datasets.iter().filter_map(|d| d["@id"].as_str()).collect();
            if offered.iter().any(|id| id.starts_with("press-")) {
                return Err(DemoError::step(name, format!("its catalog offers {offered:?}")));
            }
            match client.negotiate(Topic::Telemetry.asset(), &provider, Duration::from_secs(20)).await {
                Err(ConsumeError::UnknownAsset { .. }) => {}
                other => return Err(DemoError::step(name, format!("asking for the dataset gave {other:?}"))),
            }
            // What if it had learned the offer elsewhere? The contract request carries the machine builder's offer.
            let mut dataset_request = request.clone();
            dataset_request["@id"] = json!(Topic::Telemetry.asset());
            let dataset = builder.post(name, "/v3/catalog/dataset/request", &dataset_request).await?;
            let contract = dsc_kafka_client::contract_request(&dataset, Topic::Telemetry.asset(), &provider)
                .ok_or_else(|| {
                    DemoError::step(name, format!("the machine builder's dataset has no offer: {dataset}"))
                })?;
            let created = analytics.post(name, "/v3/contractnegotiations", &contract).await?;
            let id = created["@id"].as_str().unwrap_or_default().to_string();
            let deadline = Instant::now() + Duration::from_secs(20);
            let detail = loop {
                let negotiation = analytics.get(name, &format!("/v3/contractnegotiations/{id}")).await?;
                match negotiation["state"].as_str() {
                    Some("TERMINATED") => break negotiation["errorDetail"].as_str().unwrap_or_default().to_string(),
                    Some("FINALIZED") => return Err(DemoError::step(name, "the analytics firm got an agreement")),
                    _ if Instant::now() > deadline => {
                        return Err(DemoError::step(name, format!("negotiation {id} did not end: {negotiation}")));
                    }
                    _ => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            };
            Ok(format!("catalog without press offers; dataset not found; contract request TERMINATED: {detail}"))
        };
        self.mark(Mark::Running, name);
        let outcome = outcome.await;
        if outcome.is_ok() {
            self.with_view(|v| v.set_denied("refused on its BPN credential: no offer, contract TERMINATED"));
        }
        self.finish(name, outcome)
    }

    /// Stops readers and producer together (each commits or flushes what it has), then the processes. A reader
    /// that takes longer than 5 s is left to the runtime's shutdown.
    async fn shutdown(&mut self) {
        let started = Instant::now();
        self.plant_stop.store(true, Ordering::Relaxed);
        let readers = futures::future::join_all(self.readers.drain(..).map(Reader::stop));
        let plant = async {
            if let Some(plant) = self.plant.take() {
                let _ = plant.await;
            }
        };
        let stopped = tokio::time::timeout(Duration::from_secs(5), futures::future::join(readers, plant)).await;
        for process in self.processes.drain(..).rev() {
            process.stop().await;
        }
        if self.options.keep_running {
            let late = if stopped.is_err() { " (a Kafka client did not close within 5 s)" } else { "" };
            eprintln!("Stopped everything in {:.1} s{late}.", started.elapsed().as_secs_f64());
        }
    }
}
