// SPDX-License-Identifier: Apache-2.0
//! The live view: what the consumers have read, per use case, and the steps announced so far, drawn in at most 80
//! columns. On a terminal it is redrawn in place; otherwise (CI, a pipe) steps are printed as lines and the view as
//! a snapshot at chosen moments.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::time::Instant;

use serde_json::Value;

use crate::plant::{PRESSES, STATIONS, Topic};

pub const WIDTH: usize = 80;
/// The view is 24 lines tall, so it can be redrawn in place on a 80x25 terminal.
const STEP_LINES: usize = 7;

#[derive(Debug, Clone, Default)]
struct Station {
    status: String,
    cycle_ms: Option<u64>,
    good: u64,
    scrap: u64,
}

#[derive(Debug, Clone, Default)]
struct Press {
    temperature: f64,
    vibration: f64,
    alert: Option<String>,
}

/// What a step turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Running,
    Done,
    Failed,
}

#[derive(Debug)]
pub struct View {
    started: Instant,
    stations: BTreeMap<String, Station>,
    presses: BTreeMap<String, Press>,
    records: HashMap<Topic, u64>,
    invalid: HashMap<Topic, u64>,
    access: HashMap<Topic, String>,
    last_part: Option<String>,
    alerts: VecDeque<String>,
    denied: Option<String>,
    steps: Vec<(Mark, String)>,
}

impl Default for View {
    fn default() -> Self {
        View {
            started: Instant::now(),
            stations: STATIONS
                .iter()
                .map(|s| (s.to_string(), Station { status: "-".into(), ..Station::default() }))
                .collect(),
            presses: PRESSES.iter().map(|p| (p.to_string(), Press::default())).collect(),
            records: HashMap::new(),
            invalid: HashMap::new(),
            access: HashMap::new(),
            last_part: None,
            alerts: VecDeque::new(),
            denied: None,
            steps: Vec::new(),
        }
    }
}

impl View {
    /// A record a consumer read; `valid` is the aspect validation's verdict for part records.
    pub fn record(&mut self, topic: Topic, value: &Value, valid: Option<bool>) {
        *self.records.entry(topic).or_default() += 1;
        if valid == Some(false) {
            *self.invalid.entry(topic).or_default() += 1;
        }
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_string();
        match topic {
            Topic::StationEvents => {
                let station = self.stations.entry(text("station")).or_default();
                station.status = text("status");
                if let Some(cycle) = value["cycleTimeMs"].as_u64() {
                    station.cycle_ms = Some(cycle);
                }
                station.good = value["counts"]["good"].as_u64().unwrap_or(station.good);
                station.scrap = value["counts"]["scrap"].as_u64().unwrap_or(station.scrap);
            }
            Topic::SerialParts => self.last_part = Some(text("catenaXId")),
            Topic::Batches => {}
            Topic::Telemetry => {
                let press = self.presses.entry(text("machine")).or_default();
                press.temperature = value["bearingTempC"].as_f64().unwrap_or_default();
                press.vibration = value["vibrationRmsMmS"].as_f64().unwrap_or_default();
            }
            Topic::Alerts => {
                let (severity, state) = (text("severity"), text("state"));
                let time = text("raisedAt").get(11..19).unwrap_or_default().to_string();
                let parts = value["affectedParts"].as_array().map(Vec::len).unwrap_or_default();
                let press = self.presses.entry(text("machine")).or_default();
                press.alert = (state == "OPEN").then(|| format!("{severity} {state}"));
                self.alerts
                    .push_front(format!("{time} {} {severity} {state}, {parts} parts affected", text("machine")));
                self.alerts.truncate(1);
            }
        }
    }

    pub fn records(&self, topic: Topic) -> u64 {
        self.records.get(&topic).copied().unwrap_or_default()
    }

    pub fn invalid(&self, topic: Topic) -> u64 {
        self.invalid.get(&topic).copied().unwrap_or_default()
    }

    pub fn alerts_seen(&self) -> usize {
        self.alerts.len()
    }

    /// How the consumer's access to a topic stands (`reading`, `SUSPENDED`, ...).
    pub fn set_access(&mut self, topic: Topic, state: &str) {
        self.access.insert(topic, state.to_string());
    }

    pub fn set_denied(&mut self, reason: &str) {
        self.denied = Some(reason.to_string());
    }

    pub fn step(&mut self, mark: Mark, text: &str) {
        if let Some(last) = self.steps.last_mut()
            && last.0 == Mark::Running
            && last.1 == text
        {
            last.0 = mark;
            return;
        }
        self.steps.push((mark, text.to_string()));
    }

    /// Records read and the consumer's access per topic, on one line.
    fn access_line(&self, topics: &[Topic]) -> String {
        let parts: Vec<String> = topics
            .iter()
            .map(|topic| {
                let access = self.access.get(topic).map(String::as_str).unwrap_or("-");
                format!("{} {} {access}", short(*topic), self.records(*topic))
            })
            .collect();
        format!("  Read: {}", parts.join(", "))
    }

    /// The view as lines of at most [`WIDTH`] characters.
    pub fn render(&self) -> Vec<String> {
        let elapsed = self.started.elapsed().as_secs();
        let mut lines = vec![
            format!(
                "dsc demo: Kafka PULL from Supplier A to three consumers{:>24}",
                format!("{:02}:{:02}", elapsed / 60, elapsed % 60)
            ),
            format!("(a) Line 3 -> OEM  {:<9}{:>8}{:>8}{:>7}", "Status", "Cycle s", "Good", "Scrap"),
        ];
        for (name, station) in &self.stations {
            let cycle = station.cycle_ms.map(|ms| format!("{:.1}", ms as f64 / 1000.0)).unwrap_or_else(|| "-".into());
            lines.push(format!("  {name:<17}{:<9}{cycle:>8}{:>8}{:>7}", station.status, station.good, station.scrap));
        }
        let parts = self.records(Topic::SerialParts);
        let batches = self.records(Topic::Batches);
        lines.push(format!(
            "  {parts} SerialPart ({} valid), {batches} Batch ({} valid); last {}",
            parts - self.invalid(Topic::SerialParts),
            batches - self.invalid(Topic::Batches),
            // The id's first groups tell parts apart; the whole one would not fit.
            self.last_part.as_deref().map(|id| format!("{}...", id.get(..22).unwrap_or(id))).unwrap_or("-".into())
        ));
        lines.push(self.access_line(&[Topic::StationEvents, Topic::SerialParts, Topic::Batches]));
        lines.push("(b) Line 3 presses -> Machine builder".to_string());
        for (name, press) in &self.presses {
            lines.push(format!(
                "  {name:<13}{:>6.1} C bearing {:>5.1} mm/s  {}",
                press.temperature,
                press.vibration,
                press.alert.as_deref().unwrap_or("ok")
            ));
        }
        lines.push(format!("  Latest alert: {}", self.alerts.front().map(String::as_str).unwrap_or("none")));
        lines.push(self.access_line(&[Topic::Telemetry, Topic::Alerts]));
        lines.push(format!("  Analytics firm: {}", self.denied.as_deref().unwrap_or("not asked yet")));
        lines.push("Steps".to_string());
        let steps: Vec<String> = self.steps.iter().flat_map(|(mark, text)| step_lines(*mark, text)).collect();
        lines.extend(steps[steps.len().saturating_sub(STEP_LINES)..].iter().cloned());
        lines.into_iter().map(|line| fit(&line)).collect()
    }
}

fn short(topic: Topic) -> &'static str {
    match topic {
        Topic::StationEvents => "events",
        Topic::SerialParts => "parts",
        Topic::Batches => "batches",
        Topic::Telemetry => "telemetry",
        Topic::Alerts => "alerts",
    }
}

/// A step as lines of at most [`WIDTH`] characters: `[ok] text`, continued under the text.
pub fn step_lines(mark: Mark, text: &str) -> Vec<String> {
    let sign = match mark {
        Mark::Running => "..",
        Mark::Done => "ok",
        Mark::Failed => "!!",
    };
    let indent = if text.starts_with("  ") { "       " } else { "     " };
    wrap(text.trim_start(), WIDTH - indent.len())
        .into_iter()
        .enumerate()
        .map(|(i, line)| if i == 0 { format!("[{sign}] {}{line}", &indent[5..]) } else { format!("{indent}{line}") })
        .collect()
}

/// Breaks `text` at spaces into lines of at most `width` characters (a longer word is cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let needed = current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if needed > width && !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines.into_iter().map(|line| if line.chars().count() > width { fit_to(&line, width) } else { line }).collect()
}

/// Cuts a line to [`WIDTH`] characters, marking the cut.
pub fn fit(line: &str) -> String {
    fit_to(line, WIDTH)
}

fn fit_to(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(width - 3).collect();
    cut.push_str("...");
    cut
}

/// Where the view goes: redrawn in place on a terminal, or printed line by line.
pub struct Screen {
    terminal: bool,
    drawn: usize,
}

impl Screen {
    pub fn new(terminal: bool) -> Screen {
        Screen { terminal, drawn: 0 }
    }

    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Redraws the view over the previous drawing (terminal only).
    pub fn redraw(&mut self, view: &View) {
        if !self.terminal {
            return;
        }
        let lines = view.render();
        let mut out = std::io::stdout().lock();
        let mut text = String::new();
        if self.drawn > 0 {
            text.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for line in &lines {
            text.push_str("\x1b[2K");
            text.push_str(line);
            text.push('\n');
        }
        // A shorter frame must not leave the old frame's tail behind.
        text.push_str("\x1b[J");
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        self.drawn = lines.len();
    }

    /// A step announced or finished: part of the next redraw on a terminal, a line of its own elsewhere.
    pub fn step(&mut self, view: &mut View, mark: Mark, text: &str) {
        view.step(mark, text);
        if self.terminal {
            self.redraw(view);
        } else if mark != Mark::Running {
            for line in step_lines(mark, text) {
                println!("{line}");
            }
        }
    }

    /// The whole view, printed once (not on a terminal, where it is always visible).
    pub fn snapshot(&mut self, view: &View) {
        if !self.terminal {
            for line in view.render() {
                if line == "Steps" {
                    break;
                }
                println!("{line}");
            }
        }
    }

    /// Text that stays on screen below the view (terminal) or is printed (elsewhere).
    pub fn message(&mut self, text: &str) {
        println!("{text}");
        self.drawn = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_line_of_a_busy_view_fits_80_columns() {
        let mut view = View::default();
        for topic in Topic::ALL {
            view.set_access(topic, "TERMINATED");
        }
        view.record(
            Topic::StationEvents,
            &json!({ "station": "L3-ST040", "status": "RUNNING", "cycleTimeMs": 41800, "counts": { "good": 123456789, "scrap": 99999 } }),
            None,
        );
        view.record(
            Topic::SerialParts,
            &json!({ "catenaXId": "urn:uuid:5f0a3c1e-7b9d-4e2a-9c61-2d8f4b7a1e03" }),
            Some(false),
        );
        view.record(
            Topic::Alerts,
            &json!({ "machine": "PRESS-L3-02", "severity": "CRITICAL", "state": "OPEN", "raisedAt": "2026-03-02T09:02:11Z",
                     "affectedParts": ["a", "b"] }),
            None,
        );
        view.set_denied(
            "refused: provider did:web:127.0.0.1%3A31004 offers no asset press-telemetry (dataset 404) and more text",
        );
        for i in 0..20 {
            view.step(
                Mark::Done,
                &format!("step {i} with a very long description that goes on and on past the edge of the screen"),
            );
        }
        let lines = view.render();
        for line in &lines {
            assert!(line.chars().count() <= WIDTH, "{} columns: {line}", line.chars().count());
        }
        assert!(lines.iter().any(|l| l.contains("L3-ST040") && l.contains("RUNNING") && l.contains("41.8")));
        assert!(lines.iter().any(|l| l.contains("1 SerialPart (0 valid)")));
        assert!(lines.iter().any(|l| l == "  Read: events 1 TERMINATED, parts 1 TERMINATED, batches 0 TERMINATED"));
        assert_eq!(lines.len(), 24, "tall enough for the steps, short enough for a 25-line terminal");
        assert!(lines.iter().any(|l| l.contains("PRESS-L3-02") && l.contains("CRITICAL OPEN")));
        let steps = lines.iter().position(|l| l == "Steps").map(|at| lines.len() - at - 1);
        assert_eq!(steps, Some(STEP_LINES), "only the latest step lines");
    }

    #[test]
    fn long_steps_wrap_under_their_text_instead_of_being_cut() {
        let text = "  catalog without press offers; contract request TERMINATED: the counter-party refused (400): policy not satisfied";
        let lines = step_lines(Mark::Done, text);
        assert_eq!(lines[0], "[ok]   catalog without press offers; contract request TERMINATED: the");
        assert_eq!(lines[1], "       counter-party refused (400): policy not satisfied");
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
        assert_eq!(wrap("a-very-long-word", 6), vec!["a-v...".to_string()]);
    }

    #[test]
    fn a_finished_step_replaces_its_running_line() {
        let mut view = View::default();
        view.step(Mark::Running, "negotiate");
        view.step(Mark::Done, "negotiate");
        view.step(Mark::Running, "suspend");
        let lines = view.render();
        assert!(lines.contains(&"[ok] negotiate".to_string()));
        assert!(lines.contains(&"[..] suspend".to_string()));
        assert_eq!(lines.iter().filter(|l| l.ends_with("negotiate")).count(), 1);
    }

    #[test]
    fn a_resolved_alert_clears_the_press_flag() {
        let mut view = View::default();
        let alert = |state: &str| json!({ "machine": "PRESS-L3-02", "severity": "WARNING", "state": state, "raisedAt": "2026-03-02T09:02:11Z" });
        view.record(Topic::Alerts, &alert("OPEN"), None);
        assert!(view.render().iter().any(|l| l.contains("PRESS-L3-02") && l.ends_with("WARNING OPEN")));
        view.record(Topic::Alerts, &alert("RESOLVED"), None);
        assert!(view.render().iter().any(|l| l.starts_with("  PRESS-L3-02") && l.ends_with("ok")));
    }
}
