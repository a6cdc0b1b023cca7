// SPDX-License-Identifier: Apache-2.0
//! The simulated plant behind the demo: Supplier A's line 3 (six stations making door panels, a batch of clips now
//! and then) and its two presses, whose main-drive bearings report vibration and temperature. The record shapes are
//! the ones in `docs/use-cases/a-*.md` and `b-*.md`; part records are CX-0127 SerialPart and Batch 3.0.0.
//!
//! Seeded, so a demo run is reproducible; one press runs hot on purpose, so that alerts appear within seconds.

use std::collections::VecDeque;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

pub const SUPPLIER_BPN: &str = "BPNL1000000001SA";
pub const SITE: &str = "BPNS1000000001P1";
pub const STATIONS: [&str; 6] = ["L3-ST010", "L3-ST020", "L3-ST030", "L3-ST040", "L3-ST050", "L3-ST060"];
pub const PRESSES: [&str; 2] = ["PRESS-L3-01", "PRESS-L3-02"];
/// The press whose bearing heats up until maintenance resets it.
const HOT_PRESS: usize = 1;
const WARNING_C: f64 = 80.0;
const CRITICAL_C: f64 = 88.0;
const MAINTENANCE_C: f64 = 92.0;

/// The topics of the two use cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    StationEvents,
    SerialParts,
    Batches,
    Telemetry,
    Alerts,
}

impl Topic {
    pub const ALL: [Topic; 5] =
        [Topic::StationEvents, Topic::SerialParts, Topic::Batches, Topic::Telemetry, Topic::Alerts];

    pub fn name(self) -> &'static str {
        match self {
            Topic::StationEvents => "plant1.line3.station-events",
            Topic::SerialParts => "plant1.line3.parts.serial",
            Topic::Batches => "plant1.line3.parts.batch",
            Topic::Telemetry => "plant1.line3.press.telemetry",
            Topic::Alerts => "plant1.line3.press.alerts",
        }
    }

    /// The provider's asset offering the topic.
    pub fn asset(self) -> &'static str {
        match self {
            Topic::StationEvents => "line3-station-events",
            Topic::SerialParts => "line3-serial-parts",
            Topic::Batches => "line3-batches",
            Topic::Telemetry => "press-telemetry",
            Topic::Alerts => "press-alerts",
        }
    }
}

/// One record for a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    pub topic: Topic,
    pub key: String,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Running,
    Idle,
    Down,
    Setup,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Idle => "IDLE",
            Status::Down => "DOWN",
            Status::Setup => "SETUP",
        }
    }
}

struct Station {
    status: Status,
    /// Ticks until a stopped station runs again.
    stopped_for: u32,
    good: u64,
    scrap: u64,
}

struct Press {
    temperature: f64,
    strokes: u64,
}

struct OpenAlert {
    id: String,
    severity: &'static str,
    raised_at: String,
    evidence: Value,
    affected: Vec<String>,
}

/// Line 3 and its presses; each tick returns the records it produced.
pub struct Plant {
    rng: StdRng,
    stations: Vec<Station>,
    presses: Vec<Press>,
    serial: u64,
    batch: u64,
    line_ticks: u64,
    recent_parts: VecDeque<String>,
    alert: Option<OpenAlert>,
}

impl Plant {
    pub fn new(seed: u64) -> Plant {
        Plant {
            rng: StdRng::seed_from_u64(seed),
            stations: STATIONS
                .iter()
                .map(|_| Station { status: Status::Running, stopped_for: 0, good: 0, scrap: 0 })
                .collect(),
            presses: PRESSES
                .iter()
                .enumerate()
                .map(|(i, _)| Press {
                    temperature: if i == HOT_PRESS { 72.0 } else { 61.5 },
                    strokes: 1_834_000 + 97 * i as u64,
                })
                .collect(),
            serial: 150,
            batch: 41,
            line_ticks: 0,
            recent_parts: VecDeque::new(),
            alert: None,
        }
    }

    /// A seeded v4 UUID as a URN, as a MES would mint it.
    fn uuid(&mut self) -> String {
        let bytes: [u8; 16] = self.rng.random();
        format!("urn:uuid:{}", uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    /// One production tick: every station that runs completes a cycle; the last one hands a finished panel to the
    /// customer (a SerialPart record); a batch of clips closes every 25 ticks; now and then a station stops.
    pub fn line_tick(&mut self, now: DateTime<Utc>) -> Vec<Emitted> {
        self.line_ticks += 1;
        let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let shift = format!("{}/{}", now.format("%Y-%m-%d"), if chrono::Timelike::hour(&now) < 14 { "A" } else { "B" });
        let mut out = Vec::new();
        for (index, name) in STATIONS.iter().enumerate() {
            let roll: f64 = self.rng.random();
            let station = &mut self.stations[index];
            let event = if station.status != Status::Running {
                station.stopped_for = station.stopped_for.saturating_sub(1);
                if station.stopped_for > 0 {
                    continue;
                }
                station.status = Status::Running;
                None
            } else if roll < 0.015 {
                station.status = Status::Down;
                station.stopped_for = 8;
                None
            } else if roll < 0.025 {
                station.status = if roll < 0.02 { Status::Setup } else { Status::Idle };
                station.stopped_for = 5;
                None
            } else if roll < 0.035 {
                station.scrap += 1;
                Some(None)
            } else {
                station.good += 1;
                Some(Some(()))
            };
            let cycle_time = 41_800 + self.rng.random_range(-1_500..=1_500);
            let last_part = match event {
                Some(Some(())) if index == STATIONS.len() - 1 => {
                    let id = self.uuid();
                    out.push(self.serial_part(id.clone(), &at));
                    Some(id)
                }
                _ => None,
            };
            let station = &self.stations[index];
            let mut value = json!({ "station": name, "site": SITE, "at": at, "status": station.status.as_str(),
                "shift": shift, "counts": { "good": station.good, "scrap": station.scrap } });
            if event.is_some() {
                value["cycleTimeMs"] = json!(cycle_time);
            }
            if let Some(part) = last_part {
                value["lastPart"] = json!(part);
            }
            out.push(Emitted { topic: Topic::StationEvents, key: name.to_string(), value });
        }
        if self.line_ticks.is_multiple_of(25) {
            let id = self.uuid();
            out.push(self.batch_record(id, &at));
        }
        out
    }

    fn serial_part(&mut self, id: String, at: &str) -> Emitted {
        self.serial += 1;
        self.recent_parts.push_back(id.clone());
        if self.recent_parts.len() > 5 {
            self.recent_parts.pop_front();
        }
        let (part, name, customer, customer_name) = if self.serial.is_multiple_of(2) {
            ("SA-4711-B", "Door inner panel, left", "OEM-88-1120", "Door panel inner LH")
        } else {
            ("SA-4712-B", "Door inner panel, right", "OEM-88-1121", "Door panel inner RH")
        };
        let value = json!({
            "catenaXId": id,
            "localIdentifiers": [
                { "key": "manufacturerId", "value": SUPPLIER_BPN },
                { "key": "partInstanceId", "value": format!("L3-2026-{:06}", self.serial) }
            ],
            "manufacturingInformation": { "date": seconds(at), "country": "DEU",
                "sites": [{ "catenaXsiteId": SITE, "function": "production" }] },
            "partTypeInformation": { "manufacturerPartId": part, "nameAtManufacturer": name,
                "customerPartId": customer, "nameAtCustomer": customer_name }
        });
        Emitted { topic: Topic::SerialParts, key: id, value }
    }

    fn batch_record(&mut self, id: String, at: &str) -> Emitted {
        self.batch += 1;
        let value = json!({
            "catenaXId": id,
            "localIdentifiers": [
                { "key": "manufacturerId", "value": SUPPLIER_BPN },
                { "key": "batchId", "value": format!("CLIP-2026-{:04}", self.batch) }
            ],
            "manufacturingInformation": { "date": seconds(at), "country": "DEU",
                "sites": [{ "catenaXsiteId": SITE, "function": "production" }] },
            "partTypeInformation": { "manufacturerPartId": "SA-0815-C", "nameAtManufacturer": "Panel clip, 8 mm" }
        });
        Emitted { topic: Topic::Batches, key: id, value }
    }

    /// One telemetry tick: a feature vector per press; the hot press's bearing warms until an alert is raised, made
    /// critical, and resolved by maintenance.
    pub fn press_tick(&mut self, now: DateTime<Utc>) -> Vec<Emitted> {
        let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut out = Vec::new();
        for (index, machine) in PRESSES.iter().enumerate() {
            let noise: f64 = self.rng.random_range(-0.3..0.3);
            let press = &mut self.presses[index];
            press.strokes += 2;
            press.temperature = if index == HOT_PRESS { press.temperature + 0.8 + noise / 3.0 } else { 61.5 + noise };
            let temperature = round1(press.temperature);
            let rms = round1(2.1 + (temperature - 62.0).max(0.0) * 0.12 + noise / 2.0);
            let value = json!({ "machine": machine, "component": "main-drive-bearing", "at": at,
                "vibrationRmsMmS": rms, "vibrationPeakG": round1(rms * 0.41), "bearingTempC": temperature,
                "speedRpm": 1180, "strokes": press.strokes });
            out.push(Emitted { topic: Topic::Telemetry, key: format!("{machine}/main-drive-bearing"), value });
            if index == HOT_PRESS {
                out.extend(self.alerting(temperature, &at));
            }
        }
        out
    }

    fn alerting(&mut self, temperature: f64, at: &str) -> Option<Emitted> {
        let machine = PRESSES[HOT_PRESS];
        let severity = if temperature >= CRITICAL_C { "CRITICAL" } else { "WARNING" };
        if temperature >= MAINTENANCE_C {
            self.presses[HOT_PRESS].temperature = 68.0;
            let alert = self.alert.take()?;
            return Some(self.alert_record(machine, &alert, "RESOLVED", Some(at)));
        }
        if temperature < WARNING_C || self.alert.as_ref().is_some_and(|open| open.severity == severity) {
            return None;
        }
        let id = match self.alert.take() {
            Some(open) => open.id,
            None => self.uuid(),
        };
        let limit = if severity == "CRITICAL" { CRITICAL_C } else { WARNING_C };
        let alert = OpenAlert {
            id,
            severity,
            raised_at: seconds(at),
            evidence: json!({ "bearingTempC": temperature, "limitC": limit, "windowS": 600 }),
            affected: self.recent_parts.iter().cloned().collect(),
        };
        let record = self.alert_record(machine, &alert, "OPEN", None);
        self.alert = Some(alert);
        Some(record)
    }

    fn alert_record(&self, machine: &str, alert: &OpenAlert, state: &str, resolved_at: Option<&str>) -> Emitted {
        let mut value = json!({ "alert": alert.id, "machine": machine, "raisedAt": alert.raised_at,
            "kind": "BEARING_TEMPERATURE_TREND", "severity": alert.severity, "state": state,
            "evidence": alert.evidence, "affectedParts": alert.affected });
        if let Some(at) = resolved_at {
            value["resolvedAt"] = json!(seconds(at));
        }
        Emitted { topic: Topic::Alerts, key: machine.to_string(), value }
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// `2026-03-02T08:15:04.120Z` → `2026-03-02T08:15:04Z`.
fn seconds(at: &str) -> String {
    match at.split_once('.') {
        Some((whole, _)) => format!("{whole}Z"),
        None => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ticks: usize) -> Vec<Emitted> {
        let mut plant = Plant::new(7);
        let start = DateTime::parse_from_rfc3339("2026-03-02T08:15:04.120Z").map(|t| t.with_timezone(&Utc));
        let start = start.unwrap();
        (0..ticks)
            .flat_map(|tick| {
                let now = start + chrono::Duration::milliseconds(200 * tick as i64);
                let mut out = plant.line_tick(now);
                out.extend(plant.press_tick(now));
                out
            })
            .collect()
    }

    fn validator(name: &str) -> dsc_aspects::Validator {
        let aspect = dsc_aspects::Aspect::resolve(name).unwrap();
        dsc_aspects::Validator::new(aspect).unwrap()
    }

    #[test]
    fn part_records_are_valid_cx_0127_3_0_0_payloads() {
        let records = run(200);
        let (serial, batch) = (validator("SerialPart:3.0.0"), validator("Batch:3.0.0"));
        let parts: Vec<&Emitted> = records.iter().filter(|r| r.topic == Topic::SerialParts).collect();
        let batches: Vec<&Emitted> = records.iter().filter(|r| r.topic == Topic::Batches).collect();
        assert!(parts.len() > 100, "{} serial parts", parts.len());
        assert_eq!(batches.len(), 8);
        for record in &parts {
            let report = serial.validate(&record.value);
            assert!(report.is_valid(), "{}: {}", record.value, report.to_json());
            assert_eq!(record.key, record.value["catenaXId"].as_str().unwrap_or_default());
        }
        for record in &batches {
            let report = batch.validate(&record.value);
            assert!(report.is_valid(), "{}: {}", record.value, report.to_json());
        }
    }

    #[test]
    fn the_hot_press_raises_a_warning_then_a_critical_alert_then_resolves_it() {
        let alerts: Vec<Value> = run(60).into_iter().filter(|r| r.topic == Topic::Alerts).map(|r| r.value).collect();
        let states: Vec<(String, String)> = alerts
            .iter()
            .map(|a| {
                (a["severity"].as_str().unwrap_or_default().into(), a["state"].as_str().unwrap_or_default().into())
            })
            .collect();
        assert_eq!(
            states[..3],
            [
                ("WARNING".into(), "OPEN".into()),
                ("CRITICAL".into(), "OPEN".into()),
                ("CRITICAL".into(), "RESOLVED".into())
            ]
        );
        assert_eq!(alerts[0]["alert"], alerts[2]["alert"], "one alert, escalated and resolved");
        assert_eq!(alerts[0]["affectedParts"].as_array().map(Vec::len), Some(5), "linked to the latest parts");
    }

    #[test]
    fn station_events_carry_the_agreed_shape() {
        let events: Vec<Value> =
            run(50).into_iter().filter(|r| r.topic == Topic::StationEvents).map(|r| r.value).collect();
        assert!(events.iter().all(|e| STATIONS.contains(&e["station"].as_str().unwrap_or_default())));
        assert!(events.iter().any(|e| e["status"] == "DOWN" || e["status"] == "SETUP" || e["status"] == "IDLE"));
        let last = events.iter().rev().find(|e| e["station"] == "L3-ST060").cloned().unwrap_or_default();
        assert!(last["lastPart"].as_str().is_some_and(|id| id.starts_with("urn:uuid:")), "{last}");
    }
}
