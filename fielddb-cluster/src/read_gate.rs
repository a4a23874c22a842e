//! `ReadGate`: one read-index round for all the linearizable reads that wait together.
//!
//! A read-index barrier costs the leader a heartbeat round to a quorum. Reads that arrive while
//! one round is under way cannot use it (it may have confirmed leadership before they arrived),
//! but they can all share the next one: a round started after every one of them arrived is a
//! valid barrier for each. One task runs the rounds; a reader queues itself and waits. Each
//! round takes everything queued (after one yield to the runtime, so that requests arriving
//! together are queued together), confirms leadership once, waits until the replica has applied
//! up to the read index, and answers every reader it took.

use std::time::Duration;

use openraft::errors::{Fatal, LinearizableReadError, RaftError};
use openraft::ReadPolicy;
use tokio::sync::{mpsc, oneshot};

use crate::state_machine::Raft;
use crate::types::TypeConfig;

/// What a round answers: the read may go ahead, or why not.
pub(crate) type Passage = Result<(), Refusal>;

/// Why a round did not let its readers through.
#[derive(Clone)]
pub(crate) enum Refusal {
    /// Raft refused (not the leader, no quorum, stopped).
    Raft(RaftError<TypeConfig, LinearizableReadError<TypeConfig>>),
    /// No quorum confirmed the leader within the round's time.
    TimedOut,
}

/// The queue of readers waiting for the next round (a cheap clone).
#[derive(Clone)]
pub(crate) struct ReadGate {
    queue: mpsc::UnboundedSender<oneshot::Sender<Passage>>,
}

impl ReadGate {
    /// Starts the task that runs the rounds; it ends when every `ReadGate` is dropped.
    /// A round that has not confirmed leadership within `round_timeout` refuses its readers.
    pub(crate) fn start(
        raft: Raft,
        round_timeout: Duration,
    ) -> (ReadGate, tokio::task::JoinHandle<()>) {
        let (queue, waiting) = mpsc::unbounded_channel();
        let task = tokio::spawn(run_rounds(raft, round_timeout, waiting));
        (ReadGate { queue }, task)
    }

    /// Waits for a round that started after this call, and answers what it found.
    pub(crate) async fn pass(&self) -> Passage {
        let (answer, passage) = oneshot::channel();
        if self.queue.send(answer).is_err() {
            return Err(Refusal::Raft(RaftError::Fatal(Fatal::Stopped)));
        }
        passage
            .await
            .unwrap_or(Err(Refusal::Raft(RaftError::Fatal(Fatal::Stopped))))
    }
}

async fn run_rounds(
    raft: Raft,
    round_timeout: Duration,
    mut waiting: mpsc::UnboundedReceiver<oneshot::Sender<Passage>>,
) {
    let mut readers = Vec::new();
    while let Some(first) = waiting.recv().await {
        tokio::task::yield_now().await;
        readers.push(first);
        while let Ok(next) = waiting.try_recv() {
            readers.push(next);
        }
        let round = raft.ensure_linearizable(ReadPolicy::ReadIndex);
        let passage = match tokio::time::timeout(round_timeout, round).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(refused)) => Err(Refusal::Raft(refused)),
            Err(_) => Err(Refusal::TimedOut),
        };
        for reader in readers.drain(..) {
            let _ = reader.send(passage.clone());
        }
    }
}
