//! `Proposer`: hands client writes to Raft in groups, so that writes arriving together become
//! one append to the log, one fsync and one replication round instead of one each.
//!
//! openraft merges the `ClientWrite` messages that are already queued when its core looks at
//! its channel, but a core that is idle wakes on the first message and takes it alone: under
//! load every write became its own log append. Here the handlers queue their writes; one task
//! takes the first, yields once to the runtime (which lets every request that has arrived
//! meanwhile be read and queued; no timer, so a lone write waits for nothing), then submits all
//! that are queued back to back, and openraft sees them as one batch. Each write keeps its own
//! responder, so each caller gets its own answer; the order in the log is the queue's order.

use openraft::errors::{ClientWriteError, Fatal};
use openraft::impls::ProgressResponder;
use openraft::raft::ClientWriteResponse;
use tokio::sync::mpsc;

use crate::state_machine::Raft;
use crate::types::{Request, TypeConfig};

/// The most writes submitted in one group.
const MOST_PER_GROUP: usize = 1024;

/// What Raft answers a write: applied (with its answer) or refused.
type Written = Result<ClientWriteResponse<TypeConfig>, ClientWriteError<TypeConfig>>;

/// What a write comes back with: Raft's answer, or Raft stopped.
pub(crate) type Outcome = Result<Written, Fatal<TypeConfig>>;

struct Queued {
    request: Request,
    /// Raft answers here; dropped unanswered when Raft stops.
    responder: ProgressResponder<TypeConfig, Written>,
}

/// The queue in front of one node's Raft (a cheap clone).
#[derive(Clone)]
pub(crate) struct Proposer {
    queue: mpsc::UnboundedSender<Queued>,
}

impl Proposer {
    /// Starts the task that submits queued writes to `raft`; it ends when every `Proposer` is
    /// dropped.
    pub(crate) fn start(raft: Raft) -> (Proposer, tokio::task::JoinHandle<()>) {
        let (queue, waiting) = mpsc::unbounded_channel();
        let task = tokio::spawn(submit_in_groups(raft, waiting));
        (Proposer { queue }, task)
    }

    /// Proposes `request` and waits until it is applied (or refused).
    pub(crate) async fn write(&self, request: Request) -> Outcome {
        let (responder, answer) = ProgressResponder::complete_only();
        if self.queue.send(Queued { request, responder }).is_err() {
            return Err(Fatal::Stopped);
        }
        answer.await.map_err(|_| Fatal::Stopped)
    }
}

async fn submit_in_groups(raft: Raft, mut waiting: mpsc::UnboundedReceiver<Queued>) {
    let mut group = Vec::new();
    while let Some(first) = waiting.recv().await {
        // Let the requests that arrived with this one be read and queued before submitting.
        tokio::task::yield_now().await;
        group.push(first);
        while group.len() < MOST_PER_GROUP {
            match waiting.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        for queued in group.drain(..) {
            // When Raft has stopped the responder is dropped, and its caller told so.
            let _ = raft.write(queued.request).responder(queued.responder).await;
        }
    }
}
