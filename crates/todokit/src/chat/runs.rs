//! Replies that survive the connection. A streaming ChatKit response runs as
//! a detached task that writes its SSE frames into a buffer; HTTP clients are
//! subscribers of that buffer. A client that goes away (network drop, tab
//! closed, refresh) does not stop the run, and can re-attach: it receives the
//! frames already sent, then the live ones. An explicit stop cancels the run,
//! which saves the partial reply and a hidden "user cancelled" note.
//!
//! One run per thread at a time: a message sent to a thread that is still
//! answering is refused with 409 (`conflict`). Replicas sharing a PostgreSQL
//! database also claim the thread in the database ([`SharedClaims`]), so the
//! refusal holds on every replica, and a stop sent to any replica reaches the
//! one running the reply (as a `run.stop_requested` live event). A reply that
//! creates its thread has the store save the claim with the thread, in the same
//! statement ([`crate::chat::ChatContext`]): no client can learn the thread's id,
//! and so send it a second message, before every replica would refuse one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use chatkit::{ThreadEventStream, ThreadStreamEvent, sse_frame};
use futures::{Stream, StreamExt};
use jiff::SignedDuration;
use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::events::{EventBus, kind};
use crate::storage::{ClaimRelease, DynStorage, NewThreadClaim, StorageResult, now};
use crate::tasks::model::UserId;

/// How long a claim holds without renewal: the threads of a replica that
/// crashed (or of the one server, restarted) are free again after at most this long.
const CLAIM_LEASE: SignedDuration = SignedDuration::from_secs(15);
/// How often a replica renews the claims of its running replies: three
/// chances per lease, so a slow database does not let a live claim lapse.
const CLAIM_RENEWAL: Duration = Duration::from_secs(5);

/// One response being produced.
pub struct Run {
    id: Uuid,
    owner: Uuid,
    frames: Mutex<Vec<Bytes>>,
    /// (frames written, finished)
    progress: watch::Sender<(usize, bool)>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Run {
    fn push(&self, frame: Bytes) {
        let count = {
            let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
            frames.push(frame);
            frames.len()
        };
        self.progress.send_replace((count, false));
    }

    fn finish(&self) {
        let count = self.frames.lock().unwrap_or_else(|p| p.into_inner()).len();
        self.progress.send_replace((count, true));
    }

    /// Every frame from the start, then the live ones, until the run ends.
    pub fn subscribe(self: &Arc<Self>) -> impl Stream<Item = Bytes> + Send + 'static {
        let progress = self.progress.subscribe();
        futures::stream::unfold((self.clone(), progress, 0usize), |(run, mut progress, next)| async move {
            loop {
                let frame = run.frames.lock().unwrap_or_else(|p| p.into_inner()).get(next).cloned();
                if let Some(frame) = frame {
                    return Some((frame, (run, progress, next + 1)));
                }
                let (_, finished) = *progress.borrow_and_update();
                let written = run.frames.lock().unwrap_or_else(|p| p.into_inner()).len();
                if finished && next >= written {
                    return None;
                }
                if next >= written && progress.changed().await.is_err() {
                    return None;
                }
            }
        })
    }
}

/// Why a run could not start.
#[derive(Debug)]
pub struct ThreadBusy;

#[derive(Default)]
pub struct Runs {
    by_thread: Mutex<HashMap<String, Arc<Run>>>,
    shared: Option<SharedClaims>,
}

/// Claims in the database, for replicas that share it: a thread is busy on
/// every replica while one of them runs a reply on it.
struct SharedClaims {
    storage: DynStorage,
    /// This process, for renewing its claims.
    replica: Uuid,
    /// Where the other replicas reach this one, once serving ([`Runs::advertise`]).
    url: OnceLock<String>,
}

impl SharedClaims {
    /// A claim for `run`, from now until the lease ends, on the thread it is given to.
    fn terms(&self, run: &Run) -> NewThreadClaim {
        NewThreadClaim {
            run_id: run.id,
            replica: self.replica,
            replica_url: self.url.get().cloned(),
            expires_at: now() + CLAIM_LEASE,
        }
    }
}

/// A thread claimed for a run that has not started streaming yet. Dropping
/// it without starting releases the thread.
pub struct Reservation {
    runs: Arc<Runs>,
    thread_id: Option<String>,
    /// Whether the thread is claimed in the database too.
    claimed: bool,
    /// For a run that creates its thread while claims are shared: the claim the store saves
    /// with the new thread, in the same statement.
    new_thread_claim: Option<NewThreadClaim>,
    run: Arc<Run>,
    stop: oneshot::Receiver<()>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(thread_id) = self.thread_id.take() {
            if self.claimed {
                let runs = self.runs.clone();
                let run = self.run.clone();
                tokio::spawn(async move { runs.release_everywhere(&thread_id, &run, true).await });
                return;
            }
            self.runs.release(&thread_id, &self.run);
        }
    }
}

impl Reservation {
    /// The claim to save with the thread this run creates, if it creates one and claims are
    /// shared (see [`crate::chat::ChatContext`]).
    pub fn new_thread_claim(&self) -> Option<NewThreadClaim> {
        self.new_thread_claim.clone()
    }
}

impl Runs {
    /// Runs of this process only: for a database no other process writes (SQLite).
    pub fn local() -> Self {
        Self::default()
    }

    /// Runs that also claim their threads in `storage`, shared with other replicas.
    pub fn shared(storage: DynStorage) -> Self {
        Self {
            by_thread: Mutex::default(),
            shared: Some(SharedClaims { storage, replica: Uuid::new_v4(), url: OnceLock::new() }),
        }
    }

    /// Records where the other replicas reach this one (its first call wins), so that
    /// they can relay its running replies to clients re-attaching through them.
    pub fn advertise(&self, url: String) {
        if let Some(shared) = &self.shared {
            let _ = shared.url.set(url);
        }
    }

    /// Where to reach the other replica running the user's reply on `thread_id`, when one
    /// does and said where (claims shared only).
    pub async fn running_elsewhere(&self, thread_id: &str, user: UserId) -> StorageResult<Option<String>> {
        let Some(shared) = &self.shared else { return Ok(None) };
        let holder = shared.storage.run_holder(thread_id, user, now()).await?;
        Ok(holder.filter(|holder| holder.replica != shared.replica).and_then(|holder| holder.replica_url))
    }

    /// Claims `thread_id` (None for a thread that does not exist yet). The
    /// outer error is the database's, when claims are shared.
    pub async fn reserve(
        self: &Arc<Self>,
        thread_id: Option<&str>,
        owner: UserId,
    ) -> StorageResult<Result<Reservation, ThreadBusy>> {
        let (stop_tx, stop) = oneshot::channel();
        let run = Arc::new(Run {
            id: Uuid::now_v7(),
            owner: owner.0,
            frames: Mutex::default(),
            progress: watch::channel((0, false)).0,
            stop: Mutex::new(Some(stop_tx)),
        });
        // A reservation that holds no thread here: a new thread (not made yet) or another user's.
        let holding_no_thread = |runs: &Arc<Self>, run, stop, new_thread_claim| Reservation {
            runs: runs.clone(),
            thread_id: None,
            claimed: false,
            new_thread_claim,
            run,
            stop,
        };
        let Some(thread_id) = thread_id else {
            let new_thread_claim = self.shared.as_ref().map(|shared| shared.terms(&run));
            return Ok(Ok(holding_no_thread(self, run, stop, new_thread_claim)));
        };
        {
            let mut by_thread = self.by_thread.lock().unwrap_or_else(|p| p.into_inner());
            match by_thread.get(thread_id) {
                Some(current) if current.owner == owner.0 => return Ok(Err(ThreadBusy)),
                // Someone else's thread: claim nothing and say nothing; the
                // store answers 404 as for any thread that is not theirs.
                Some(_) => return Ok(Ok(holding_no_thread(self, run, stop, None))),
                None => {
                    by_thread.insert(thread_id.to_owned(), run.clone());
                }
            }
        }
        // From here on, dropping the reservation releases what it holds.
        let mut reservation = Reservation {
            runs: self.clone(),
            thread_id: Some(thread_id.to_owned()),
            claimed: false,
            new_thread_claim: None,
            run: run.clone(),
            stop,
        };
        if let Some(shared) = &self.shared {
            let at = now();
            let claim = shared.terms(&run).for_thread(thread_id, owner);
            reservation.claimed = shared.storage.claim_run(&claim, at).await?;
            if !reservation.claimed && shared.storage.run_holder(thread_id, owner, at).await?.is_some() {
                return Ok(Err(ThreadBusy));
            }
            // Not claimed and not busy: not the user's thread, which the store refuses.
        }
        Ok(Ok(reservation))
    }

    fn release(&self, thread_id: &str, run: &Arc<Run>) {
        let mut by_thread = self.by_thread.lock().unwrap_or_else(|p| p.into_inner());
        if by_thread.get(thread_id).is_some_and(|current| Arc::ptr_eq(current, run)) {
            by_thread.remove(thread_id);
        }
    }

    /// Ends the run's claim in the database when it has one (`claimed`), then
    /// here: the thread is never free here while still claimed there.
    async fn release_everywhere(&self, thread_id: &str, run: &Arc<Run>, claimed: bool) {
        if claimed
            && let Some(shared) = &self.shared
            && let Err(error) = shared.storage.release_run(thread_id, run.id).await
        {
            // The claim lapses on its own once this replica stops renewing it.
            tracing::warn!(%error, thread_id, "could not release a reply's claim on its thread");
        }
        self.release(thread_id, run);
    }

    /// The user's running reply on `thread_id`, if any.
    pub fn find(&self, thread_id: &str, user: UserId) -> Option<Arc<Run>> {
        let by_thread = self.by_thread.lock().unwrap_or_else(|p| p.into_inner());
        by_thread.get(thread_id).filter(|run| run.owner == user.0).cloned()
    }

    /// Asks the user's running reply on `thread_id` to stop, here or, when
    /// claims are shared, on the replica running it. False when none runs.
    pub async fn stop(&self, thread_id: &str, user: UserId, bus: &EventBus) -> StorageResult<bool> {
        if self.stop_here(thread_id, user) {
            return Ok(true);
        }
        let Some(shared) = &self.shared else { return Ok(false) };
        if shared.storage.run_holder(thread_id, user, now()).await?.is_none() {
            return Ok(false);
        }
        bus.publish(user, kind::RUN_STOP_REQUESTED, serde_json::json!({"thread_id": thread_id})).await;
        Ok(true)
    }

    fn stop_here(&self, thread_id: &str, user: UserId) -> bool {
        let Some(run) = self.find(thread_id, user) else { return false };
        let sender = run.stop.lock().unwrap_or_else(|p| p.into_inner()).take();
        sender.is_some_and(|sender| sender.send(()).is_ok())
    }

    /// While claims are shared: renews this replica's claims and carries out
    /// stops sent to other replicas, until `done`.
    pub fn spawn_claim_keeper(
        self: &Arc<Self>,
        bus: &EventBus,
        done: CancellationToken,
    ) -> Option<JoinHandle<()>> {
        let shared = self.shared.as_ref()?;
        let (storage, replica) = (shared.storage.clone(), shared.replica);
        let runs = self.clone();
        let mut events = bus.subscribe();
        Some(tokio::spawn(async move {
            let mut renewals = tokio::time::interval(CLAIM_RENEWAL);
            renewals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = done.cancelled() => return,
                    _ = renewals.tick() => {
                        let running: Vec<Uuid> =
                            runs.by_thread.lock().unwrap_or_else(|p| p.into_inner()).values().map(|run| run.id).collect();
                        if !running.is_empty()
                            && let Err(error) = storage.renew_runs(replica, &running, now() + CLAIM_LEASE).await
                        {
                            tracing::warn!(%error, "could not renew this replica's reply claims; retrying");
                        }
                    }
                    event = events.recv() => match event {
                        Ok(event) if event.kind == kind::RUN_STOP_REQUESTED => {
                            if let Some(thread_id) = event.data["thread_id"].as_str() {
                                runs.stop_here(thread_id, UserId(event.user));
                            }
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                }
            }
        }))
    }

    /// Drives `events` to completion in a detached task and returns the run
    /// so the caller can subscribe to it.
    pub fn start(
        self: &Arc<Self>,
        mut reservation: Reservation,
        mut events: ThreadEventStream,
        bus: EventBus,
    ) -> Arc<Run> {
        let run = reservation.run.clone();
        let runs = self.clone();
        let owner = UserId(run.owner);
        let mut thread_id = reservation.thread_id.take();
        let mut claimed = reservation.claimed;
        // A thread this run creates is claimed by the statement that creates it.
        let claims_new_thread = reservation.new_thread_claim.is_some();
        let mut stop = std::mem::replace(&mut reservation.stop, oneshot::channel().1);
        drop(reservation);
        let task_run = run.clone();
        tokio::spawn(async move {
            let run = task_run;
            let mut stopped = false;
            let mut announced = false;
            loop {
                tokio::select! {
                    biased;
                    signal = &mut stop, if !stopped => {
                        if signal.is_ok() {
                            stopped = true;
                            break;
                        }
                    }
                    next = events.next() => {
                        let Some(event) = next else { break };
                        if let (None, ThreadStreamEvent::ThreadCreated { thread }) = (&thread_id, &event) {
                            runs.by_thread
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(thread.id.clone(), run.clone());
                            claimed = claims_new_thread;
                            thread_id = Some(thread.id.clone());
                        }
                        if let (false, Some(id)) = (announced, &thread_id) {
                            // Not awaited: while this loop waits, the response
                            // producer is not polled and may hold a write turn.
                            bus.publish_in_background(owner, kind::RUN_STARTED, serde_json::json!({"thread_id": id}));
                            announced = true;
                        }
                        run.push(sse_frame(&event));
                    }
                }
            }
            if stopped {
                events.cancel().await;
            }
            if let Some(id) = &thread_id {
                // The claim ends in the write that logs run.finished (one statement, not
                // two), so a replica told the reply finished finds the thread free; then here.
                // Awaited before the stream ends: the log keeps publication order, so once
                // this is logged, so is every event the reply queued (live_store.rs).
                let release = (claimed && runs.shared.is_some())
                    .then(|| ClaimRelease { thread_id: id.clone(), run_id: run.id });
                bus.publish_ending_claim(
                    owner,
                    kind::RUN_FINISHED,
                    serde_json::json!({"thread_id": id, "stopped": stopped}),
                    release,
                )
                .await;
                runs.release(id, &run);
            }
            run.finish();
        });
        run
    }
}
