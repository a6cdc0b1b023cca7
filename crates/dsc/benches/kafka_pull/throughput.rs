// SPDX-License-Identifier: Apache-2.0
//! Consumer throughput through the EDR path against a static credential, and the CPU each way of reading costs.
//!
//! On a small machine the consumer, its client threads and the broker share the same cores, so a rate alone
//! moves with whatever else runs; CPU time per record (this process, all its threads, and the broker's) tells
//! whether a way of reading costs more, or merely met a busier machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::Message;

use crate::kafka::{self, KafkaHarness, TokenSource, edr, reader_with, unique};
use crate::support;

pub const RECORDS: u64 = 2_000_000;
/// Rounds of the comparison; medians are compared, and each round's library/static ratio.
const ROUNDS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// SASL/PLAIN, a user with the same three ACLs a transfer gets, the library's fetch setting.
    Static,
    /// The transfer's token in a bare rdkafka consumer on the OAUTHBEARER listener, the library's fetch setting.
    BareEdrToken,
    /// `dsc-kafka-client`: the EDR from the connector's API, tokens renewed through it, offsets stored and committed.
    Library,
    /// The static credential with librdkafka's defaults: what a plain application gets without tuning.
    StaticDefaults,
}

const WAYS: [Way; 4] = [Way::Static, Way::BareEdrToken, Way::Library, Way::StaticDefaults];

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Static => "static",
            Way::BareEdrToken => "bare",
            Way::Library => "library",
            Way::StaticDefaults => "defaults",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Way::Static => "static credential, fetch setting",
            Way::BareEdrToken => "bare consumer, EDR token",
            Way::Library => "EDR path (dsc-kafka-client)",
            Way::StaticDefaults => "static credential, defaults",
        }
    }

    /// The ways `--ways a,b` names (all when it is absent), e.g. to profile one of them alone.
    pub fn chosen(args: &[String]) -> Vec<Way> {
        match args.windows(2).find(|w| w[0] == "--ways") {
            Some(w) => {
                let names: Vec<&str> = w[1].split(',').collect();
                for name in &names {
                    assert!(
                        WAYS.iter().any(|way| way.name() == *name),
                        "--ways: unknown way {name}: static, bare, library or defaults"
                    );
                }
                WAYS.into_iter().filter(|way| names.contains(&way.name())).collect()
            }
            None => WAYS.to_vec(),
        }
    }
}

/// CPU time used so far by a process (all its threads, including ended ones): user + system, from
/// `/proc/<pid>/stat`, in Linux's fixed 100 ticks per second.
fn cpu_used(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are fixed: state is the first, utime the 12th.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// A moment of a read: the time and the CPU used so far here and by the broker.
#[derive(Debug, Clone, Copy)]
struct Mark {
    at: Instant,
    own_cpu: Option<Duration>,
    broker_cpu: Option<Duration>,
}

impl Mark {
    fn now(broker: Option<&str>) -> Mark {
        Mark { at: Instant::now(), own_cpu: cpu_used("self"), broker_cpu: broker.and_then(cpu_used) }
    }
}

/// From the first record to the last: connecting, logging in and joining the group are start-up (measured as
/// transfer request -> first record), not throughput.
#[derive(Debug, Clone, Copy)]
struct Read {
    elapsed: Duration,
    own_cpu: Option<Duration>,
    broker_cpu: Option<Duration>,
}

impl Read {
    fn between(first: Mark, last: Mark) -> Read {
        let used = |a: Option<Duration>, b: Option<Duration>| Some(b?.saturating_sub(a?));
        Read {
            elapsed: last.at.duration_since(first.at),
            own_cpu: used(first.own_cpu, last.own_cpu),
            broker_cpu: used(first.broker_cpu, last.broker_cpu),
        }
    }

    fn rate(&self) -> f64 {
        RECORDS as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// Nanoseconds of CPU per record, as a median over the reads that have it.
fn cpu_per_record(reads: &[Read], pick: impl Fn(&Read) -> Option<Duration>) -> String {
    let values: Vec<f64> = reads.iter().filter_map(&pick).map(|cpu| cpu.as_nanos() as f64 / RECORDS as f64).collect();
    if values.is_empty() { "n/a".into() } else { format!("{:.0} ns", median(values)) }
}

/// The broker's process id, when the harness says where it keeps it.
fn broker_pid() -> Option<String> {
    let file = std::env::var("TEST_KAFKA_PID_FILE").ok()?;
    Some(std::fs::read_to_string(file).ok()?.trim().to_string())
}

struct Bench<'a> {
    h: &'a Arc<KafkaHarness>,
    pair: &'a kafka::Pair,
    topic: String,
    transfer: String,
    static_user: Vec<(&'static str, String)>,
    broker: Option<String>,
}

/// Fills the asset's topic, then reads it ROUNDS times each way, in an order that changes every round, and prints
/// the rates and CPU per record.
pub async fn run(h: &Arc<KafkaHarness>, pair: &kafka::Pair, agreement: &str, topic: &str, ways: &[Way]) {
    let payload = fill(h, topic);
    let transfer = kafka::started_transfer(pair, agreement, "KafkaBroker-PULL").await;
    // The static credential of an application is no super user: the broker checks its ACLs like the EDR
    // principal's. The harness's `reader` user gets the same three ACLs a transfer gets.
    let reader_user = std::env::var("TEST_KAFKA_READER_USER").unwrap_or_else(|_| panic!("TEST_KAFKA_READER_USER"));
    let reader_password = std::env::var("TEST_KAFKA_READER_PASSWORD").unwrap_or_default();
    let grant = dsc_kafka_admin::ConsumerGrant {
        principal: format!("User:{reader_user}"),
        topic: topic.to_string(),
        group_prefix: "bench-static-".into(),
    };
    h.acl_admin().grant(&grant).await.expect("reader ACLs");
    let bench = Bench {
        h,
        pair,
        topic: topic.to_string(),
        transfer,
        static_user: vec![("sasl.username", reader_user), ("sasl.password", reader_password)],
        broker: broker_pid(),
    };
    let mut reads: Vec<(Way, Read)> = Vec::new();
    let mut paired = Vec::new();
    for round in 0..ROUNDS {
        // Rotated every round and reversed every other one, so each way follows every other way now and then
        // (the broker collects the previous read's garbage during the next one).
        let mut order: Vec<Way> = (0..ways.len()).map(|i| ways[(round + i) % ways.len()]).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        let mut this_round = Vec::new();
        for way in order {
            let read = bench.read(way, round).await;
            this_round.push((way, read));
            reads.push((way, read));
        }
        let rate_of = |wanted: Way| this_round.iter().find(|(way, _)| *way == wanted).map(|(_, read)| read.rate());
        if let (Some(library), Some(fixed)) = (rate_of(Way::Library), rate_of(Way::Static)) {
            paired.push(library / fixed);
        }
    }
    let of = |wanted: Way| reads.iter().filter(|(way, _)| *way == wanted).map(|(_, read)| *read).collect::<Vec<_>>();
    let rate = |wanted: Way| median(of(wanted).iter().map(Read::rate).collect());
    if ways.len() == WAYS.len() {
        let (library, fixed, bare, defaults) =
            (rate(Way::Library), rate(Way::Static), rate(Way::BareEdrToken), rate(Way::StaticDefaults));
        println!(
            "consumer throughput (EDR path)    {library:>9.0} records/s = {:.2} x a static-credential rdkafka consumer with the same ACLs and fetch setting ({fixed:.0} records/s; goal >= 0.95; median of the rounds' own ratios {:.2}) = {:.2} x a bare rdkafka consumer with the EDR's token ({bare:.0} records/s) = {:.2} x the static consumer with librdkafka's defaults ({defaults:.0} records/s) ({RECORDS} records of {} bytes, medians of {ROUNDS} rounds in changing order)",
            library / fixed,
            median(paired),
            library / bare,
            library / defaults,
            payload.len()
        );
    }
    for way in ways {
        let reads = of(*way);
        println!(
            "  {:<34} {:>9.0} records/s, cpu per record: this process {:>6}, broker {:>6}",
            way.label(),
            rate(*way),
            cpu_per_record(&reads, |read| read.own_cpu),
            cpu_per_record(&reads, |read| read.broker_cpu)
        );
    }
}

/// Adds RECORDS records to the topic; returns their payload.
fn fill(h: &KafkaHarness, topic: &str) -> String {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let producer: ThreadedProducer<DefaultProducerContext> =
        h.admin_config().set("queue.buffering.max.messages", "1000000").set("linger.ms", "20").create().unwrap();
    let payload = format!("{{\"catenaXId\":\"urn:uuid:{}\",\"value\":42.5}}", unique("part"));
    for _ in 0..RECORDS {
        while producer.send(BaseRecord::<(), _>::to(topic).payload(&payload)).is_err() {
            producer.poll(Duration::from_millis(10));
        }
    }
    producer.flush(Duration::from_secs(60)).unwrap();
    payload
}

impl Bench<'_> {
    async fn read(&self, way: Way, round: usize) -> Read {
        let fetch = ("fetch.queue.backoff.ms", dsc_kafka_client::FETCH_QUEUE_BACKOFF_MS.to_string());
        match way {
            Way::Static => {
                let mut settings = self.static_user.clone();
                settings.push(fetch);
                self.static_credential(settings).await
            }
            Way::StaticDefaults => self.static_credential(self.static_user.clone()).await,
            Way::BareEdrToken => self.edr_token_only(round).await,
            Way::Library => self.library(round).await,
        }
    }

    /// A static SASL/PLAIN credential with `settings` over librdkafka's defaults.
    async fn static_credential(&self, settings: Vec<(&'static str, String)>) -> Read {
        let (h, topic, broker) = (self.h.clone(), self.topic.clone(), self.broker.clone());
        kafka::blocking(move || {
            let settings: Vec<(&str, &str)> = settings.iter().map(|(key, value)| (*key, value.as_str())).collect();
            let consumer = crate::plain_consumer_with(&h, &topic, "bench-static", &settings);
            poll_all(
                |timeout| consumer.poll(timeout).map(|polled| polled.is_ok_and(|m| has_payload(&m))),
                broker.as_deref(),
            )
        })
        .await
    }

    /// The transfer's current token in a bare rdkafka consumer on the OAUTHBEARER listener.
    async fn edr_token_only(&self, round: usize) -> Read {
        let edr = edr(&self.pair.consumer, &self.transfer).await;
        let token = edr["authorization"].as_str().unwrap_or_default().to_string();
        let group = format!("{}bare-{round}", edr["kafka.group.prefix"].as_str().unwrap_or_default());
        let broker = self.broker.clone();
        kafka::blocking(move || {
            let lifetime_ms = kafka::claims(&token)["exp"].as_i64().unwrap_or_default() * 1000;
            let tuned = [("fetch.queue.backoff.ms", dsc_kafka_client::FETCH_QUEUE_BACKOFF_MS)];
            let reader = reader_with(&edr, TokenSource::Fixed { token, lifetime_ms }, &group, &tuned);
            poll_all(
                |timeout| reader.consumer.poll(timeout).map(|polled| polled.is_ok_and(|m| has_payload(&m))),
                broker.as_deref(),
            )
        })
        .await
    }

    async fn library(&self, round: usize) -> Read {
        let api =
            dsc_kafka_client::ConnectorApi::new(&self.pair.consumer.management_url(""), support::API_KEY).unwrap();
        let settings = dsc_kafka_client::StreamSettings {
            group: format!("bench-{round}"),
            from_beginning: true,
            max_records: Some(RECORDS),
            idle_timeout: Some(Duration::from_secs(30)),
        };
        let marks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = marks.clone();
        let broker = self.broker.clone();
        let mut received = 0u64;
        let summary = dsc_kafka_client::consume(
            api,
            &self.transfer,
            settings,
            Arc::new(std::sync::atomic::AtomicBool::new(false)),
            move |record| {
                std::hint::black_box(record.value);
                received += 1;
                if received == 1 || received == RECORDS {
                    let mark = Mark::now(broker.as_deref());
                    if let Ok(mut marks) = seen.lock() {
                        marks.push(mark);
                    }
                }
            },
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(summary.records, RECORDS);
        let marks = marks.lock().map(|marks| marks.clone()).unwrap_or_default();
        match marks[..] {
            [first, last] => Read::between(first, last),
            _ => panic!("the EDR path did not deliver {RECORDS} records"),
        }
    }
}

fn has_payload(message: &rdkafka::message::BorrowedMessage<'_>) -> bool {
    std::hint::black_box(message.payload()).is_some()
}

/// Polls until RECORDS records arrived (two minutes at most); `poll` tells whether one did.
fn poll_all(mut poll: impl FnMut(Duration) -> Option<bool>, broker: Option<&str>) -> Read {
    let started = Instant::now();
    let mut first = None;
    let mut received = 0u64;
    while received < RECORDS {
        if poll(Duration::from_millis(100)) == Some(true) {
            received += 1;
            if received == 1 {
                first = Some(Mark::now(broker));
            }
        }
        // The clock is read rarely: reading it per record would cost this loop what the library saves.
        if received.is_multiple_of(65_536) {
            assert!(started.elapsed() < Duration::from_secs(120), "got {received} of {RECORDS} records in 120 s");
        }
    }
    let last = Mark::now(broker);
    Read::between(first.unwrap_or(last), last)
}
