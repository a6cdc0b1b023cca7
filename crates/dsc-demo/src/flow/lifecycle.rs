// SPDX-License-Identifier: Apache-2.0
//! The last steps: Supplier A suspends, resumes and terminates the OEM's station-events transfer, each checked from
//! the OEM's side (its reader cut off, continuing without a gap, cut off for good).

use std::time::{Duration, Instant};

use dsc_kafka_client::ConsumeError;

use super::Demo;
use crate::DemoError;
use crate::feed;
use crate::plant::Topic;
use crate::reader::Reader;
use crate::stack::Participant;
use crate::view::Mark;

impl Demo {
    /// Suspend, resume and terminate the OEM's station-events transfer from Supplier A's side, each checked.
    pub(super) async fn lifecycle(&mut self) -> Result<(), DemoError> {
        let (provider, oem) = (self.management(Participant::SupplierA), self.management(Participant::Oem));
        let topic = Topic::StationEvents;
        let consumer_transfer = self.reader(topic)?.transfer.clone();
        let provider_transfer = provider.provider_transfer_of("suspend", &consumer_transfer).await?;

        let name = "Supplier A suspends the OEM's station-events transfer";
        self.mark(Mark::Running, name);
        let suspended = async {
            let asked = Instant::now();
            provider.command(name, &provider_transfer, "suspend", "line rebuild: not to be watched").await?;
            let ending = self.reader(topic)?.ending(Duration::from_secs(10)).await;
            let cut_off = asked.elapsed();
            match ending {
                Some(Err(ConsumeError::Revoked { .. })) => {}
                Some(other) => return Err(DemoError::step(name, format!("the OEM's reader ended with {other:?}"))),
                None => return Err(DemoError::step(name, "the OEM's reader still reads 10 s later")),
            }
            oem.wait_for_transfer(name, &consumer_transfer, "SUSPENDED", Duration::from_secs(10)).await?;
            Ok(cut_off)
        }
        .await;
        let cut_off = match suspended {
            Ok(cut_off) => cut_off,
            Err(error) => return self.finish(name, Err(error)),
        };
        let last_read = self.reader(topic)?.track().last.unwrap_or(-1);
        self.with_view(|v| v.set_access(topic, "SUSPENDED"));
        let produced_before = feed::produced(&self.produced, topic);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let during = feed::produced(&self.produced, topic) - produced_before;
        self.finish(
            name,
            Ok(format!("OEM cut off {} ms after the request; {during} events produced meanwhile", cut_off.as_millis())),
        )?;

        let name = "Supplier A resumes; the OEM continues where it stopped";
        self.mark(Mark::Running, name);
        let resumed = async {
            provider.command(name, &provider_transfer, "resume", "line rebuild finished").await?;
            oem.wait_for_transfer(name, &consumer_transfer, "STARTED", Duration::from_secs(20)).await?;
            self.readers.retain(|r| r.topic != topic);
            let client = self.client(Participant::Oem)?;
            self.readers.push(Reader::spawn(client, &consumer_transfer, topic, self.view.clone()));
            self.with_view(|v| v.set_access(topic, "resumed"));
            // Everything produced until now, including the suspension, must arrive: offsets are dense on one partition.
            let target = feed::produced(&self.produced, topic) as i64 - 1;
            let deadline = Instant::now() + Duration::from_secs(30);
            while self.reader(topic)?.track().last.unwrap_or(-1) < target {
                let reader = self.reader(topic)?;
                if !reader.is_running() {
                    let ending = reader.ending(Duration::from_secs(1)).await;
                    return Err(DemoError::step(name, format!("the OEM's new reader ended: {ending:?}")));
                }
                if Instant::now() > deadline {
                    let track = reader.track();
                    return Err(DemoError::step(
                        name,
                        format!("read up to offset {:?} of {target} within 30 s", track.last),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let first = self.reader(topic)?.track().first.unwrap_or(-1);
            if first > last_read + 1 {
                return Err(DemoError::step(name, format!("offsets {}..{} were skipped", last_read + 1, first - 1)));
            }
            Ok(format!(
                "continued at offset {first} (last read before: {last_read}), {} re-delivered, caught up to {target}",
                last_read + 1 - first
            ))
        }
        .await;
        self.finish(name, resumed)?;

        let name = "Supplier A terminates; the OEM's access is gone";
        self.mark(Mark::Running, name);
        let terminated = async {
            let asked = Instant::now();
            provider.command(name, &provider_transfer, "terminate", "demo over").await?;
            match self.reader(topic)?.ending(Duration::from_secs(10)).await {
                Some(Err(ConsumeError::Revoked { .. })) => {}
                Some(other) => return Err(DemoError::step(name, format!("the OEM's reader ended with {other:?}"))),
                None => return Err(DemoError::step(name, "the OEM's reader still reads 10 s later")),
            }
            let cut_off = asked.elapsed();
            self.with_view(|v| v.set_access(topic, "TERMINATED"));
            oem.wait_for_transfer(name, &consumer_transfer, "TERMINATED", Duration::from_secs(10)).await?;
            // A new reader on the same transfer gets nowhere: no token, no ACLs.
            let mut retry = Reader::spawn(self.client(Participant::Oem)?, &consumer_transfer, topic, self.view.clone());
            let again = match retry.ending(Duration::from_secs(15)).await {
                Some(Err(error)) => error.to_string(),
                Some(Ok(summary)) => {
                    return Err(DemoError::step(name, format!("a new reader ended normally: {summary:?}")));
                }
                None => {
                    let _ = retry.stop().await;
                    return Err(DemoError::step(name, "a new reader on the terminated transfer still runs 15 s later"));
                }
            };
            Ok(format!("OEM cut off {} ms after the request; a new reader: {again}", cut_off.as_millis()))
        }
        .await;
        self.readers.retain(|r| r.topic != topic);
        self.finish(name, terminated)
    }
}
