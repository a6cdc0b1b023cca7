// SPDX-License-Identifier: Apache-2.0
//! Revocations that arrive together leave together: concurrent ACL deletions (a partner's transfers ended in one
//! policy-monitor round, a reconciliation pass, many terminates at once) are coalesced into one DeleteAcls request.
//!
//! No caller waits for a batch to fill: the first caller starts a flush at once, and whoever arrives while that
//! request is on the wire goes out in the next one. A single revocation therefore costs what it did before, and a
//! thousand cost a few broker round trips instead of a thousand (each DeleteAcls is one metadata commit on the
//! broker's controller). The flush runs in its own task, so a caller that gives up (an HTTP handler whose client
//! went away) cannot strand the others.

use std::sync::Arc;

use dsc_dataplane::FlowError;
use dsc_kafka_admin::KafkaAdmin;
use futures::FutureExt;
use tokio::sync::{Mutex, oneshot};

/// Deletes the ACLs of many principals at once; how many each lost, in order.
#[async_trait::async_trait]
pub(crate) trait DeleteAcls: Send + Sync + 'static {
    async fn delete(&self, principals: Vec<String>) -> Result<Vec<usize>, FlowError>;
}

#[async_trait::async_trait]
impl DeleteAcls for KafkaAdmin {
    async fn delete(&self, principals: Vec<String>) -> Result<Vec<usize>, FlowError> {
        crate::retrying(self, |admin| {
            let principals = principals.clone();
            async move { admin.revoke_principals(&principals).await }
        })
        .await
    }
}

type Answer = oneshot::Sender<Result<usize, FlowError>>;

/// One revocation waiting: the principal, where its answer goes, and the admin client its caller built (with the
/// credentials of that moment: each batch uses the newest).
type Waiting<D> = (String, Answer, D);

struct Queue<D> {
    waiting: Vec<Waiting<D>>,
    flushing: bool,
}

pub(crate) struct Revocations<D = KafkaAdmin> {
    queue: Mutex<Queue<D>>,
}

impl<D> Default for Revocations<D> {
    fn default() -> Self {
        Revocations { queue: Mutex::new(Queue { waiting: Vec::new(), flushing: false }) }
    }
}

impl<D: DeleteAcls> Revocations<D> {
    /// Deletes every ACL of `principal` (in a batch with whatever else is being revoked); how many it lost.
    pub(crate) async fn revoke(self: &Arc<Self>, admin: D, principal: String) -> Result<usize, FlowError> {
        let (answer, answered) = oneshot::channel();
        let lead = {
            let mut queue = self.queue.lock().await;
            queue.waiting.push((principal, answer, admin));
            !std::mem::replace(&mut queue.flushing, true)
        };
        if lead {
            tokio::spawn(Arc::clone(self).flush());
        }
        answered.await.map_err(|_| FlowError::Unavailable("the ACL revocation was interrupted; retry".into()))?
    }

    async fn flush(self: Arc<Self>) {
        loop {
            let batch = {
                let mut queue = self.queue.lock().await;
                if queue.waiting.is_empty() {
                    queue.flushing = false;
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
            // The newest caller's client: its credentials are the freshest.
            let Some((_, _, admin)) = batch.last() else { continue };
            let principals: Vec<String> = batch.iter().map(|(principal, _, _)| principal.clone()).collect();
            let expected = principals.len();
            // A panic in the call must not leave `flushing` set with nobody flushing: every later revocation would
            // wait for ever.
            let outcome = match std::panic::AssertUnwindSafe(admin.delete(principals)).catch_unwind().await {
                Ok(outcome) => outcome,
                Err(_) => Err(FlowError::Unavailable("the ACL revocation failed unexpectedly; retry".into())),
            };
            if batch.len() > 1 {
                tracing::debug!(principals = batch.len(), "Kafka ACLs of several principals deleted in one request");
            }
            match outcome {
                Ok(removed) if removed.len() == expected => {
                    for ((_, answer, _), count) in batch.into_iter().zip(removed) {
                        let _ = answer.send(Ok(count));
                    }
                }
                Ok(removed) => {
                    let message = format!("Kafka answered {} results for {expected} revocations", removed.len());
                    for (_, answer, _) in batch {
                        let _ = answer.send(Err(FlowError::Unavailable(message.clone())));
                    }
                }
                Err(error) => {
                    let message = match error {
                        FlowError::Unavailable(message) => message,
                        other => other.to_string(),
                    };
                    for (_, answer, _) in batch {
                        let _ = answer.send(Err(FlowError::Unavailable(message.clone())));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Records each request's principals; each takes 20 ms, like a broker committing its metadata.
    #[derive(Clone, Default)]
    struct Recorder {
        requests: Arc<std::sync::Mutex<Vec<Vec<String>>>>,
        fail: bool,
        panic: bool,
    }

    #[async_trait::async_trait]
    impl DeleteAcls for Recorder {
        async fn delete(&self, principals: Vec<String>) -> Result<Vec<usize>, FlowError> {
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!self.panic, "a bug in the admin client");
            self.requests.lock().unwrap().push(principals.clone());
            if self.fail {
                return Err(FlowError::Unavailable("Kafka: the broker went away".into()));
            }
            Ok(principals.iter().map(|p| p.len()).collect())
        }
    }

    #[tokio::test]
    async fn revocations_that_arrive_together_share_requests_and_each_caller_gets_its_own_answer() {
        let revocations = Arc::new(Revocations::default());
        let recorder = Recorder::default();
        let callers: Vec<_> = (0..50)
            .map(|i| {
                let (revocations, recorder) = (revocations.clone(), recorder.clone());
                tokio::spawn(async move { revocations.revoke(recorder, format!("User:{}", "x".repeat(i + 1))).await })
            })
            .collect();
        for (i, caller) in callers.into_iter().enumerate() {
            assert_eq!(caller.await.unwrap().unwrap(), "User:".len() + i + 1, "caller {i} got another's answer");
        }
        let requests = recorder.requests.lock().unwrap().clone();
        assert_eq!(requests.iter().map(Vec::len).sum::<usize>(), 50, "every principal revoked exactly once");
        assert!(requests.len() <= 3, "50 revocations at once took {} requests", requests.len());
    }

    #[tokio::test]
    async fn a_lone_revocation_goes_out_at_once() {
        let revocations = Arc::new(Revocations::default());
        let started = std::time::Instant::now();
        assert_eq!(revocations.revoke(Recorder::default(), "User:a".into()).await.unwrap(), 6);
        assert!(started.elapsed() < Duration::from_millis(500));
        // The queue is idle again: the next one starts its own flush.
        assert_eq!(revocations.revoke(Recorder::default(), "User:bb".into()).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_failed_request_fails_every_revocation_in_it_with_the_reason() {
        let revocations = Arc::new(Revocations::default());
        let recorder = Recorder { fail: true, ..Recorder::default() };
        let callers: Vec<_> = (0..10)
            .map(|i| {
                let (revocations, recorder) = (revocations.clone(), recorder.clone());
                tokio::spawn(async move { revocations.revoke(recorder, format!("User:{i}")).await })
            })
            .collect();
        for caller in callers {
            let error = caller.await.unwrap().unwrap_err();
            assert_eq!(error.to_string(), FlowError::Unavailable("Kafka: the broker went away".into()).to_string());
        }
    }

    #[tokio::test]
    async fn a_panicking_request_fails_its_batch_and_the_queue_keeps_working() {
        let revocations = Arc::new(Revocations::default());
        let panicking = Recorder { panic: true, ..Recorder::default() };
        let error = revocations.revoke(panicking, "User:a".into()).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            FlowError::Unavailable("the ACL revocation failed unexpectedly; retry".into()).to_string()
        );
        assert_eq!(revocations.revoke(Recorder::default(), "User:bb".into()).await.unwrap(), 7, "not stuck");
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_does_not_strand_the_others() {
        let revocations = Arc::new(Revocations::default());
        let recorder = Recorder::default();
        let leader = {
            let (revocations, recorder) = (revocations.clone(), recorder.clone());
            tokio::spawn(async move { revocations.revoke(recorder, "User:leader".into()).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let follower = {
            let (revocations, recorder) = (revocations.clone(), recorder.clone());
            tokio::spawn(async move { revocations.revoke(recorder, "User:follower".into()).await })
        };
        leader.abort();
        assert_eq!(follower.await.unwrap().unwrap(), "User:follower".len());
        let revoked: Vec<String> = recorder.requests.lock().unwrap().iter().flatten().cloned().collect();
        assert_eq!(revoked, vec!["User:leader", "User:follower"], "the abandoned revocation still happened");
    }
}
