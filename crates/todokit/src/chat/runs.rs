//! Replies that can survive the connection. A streaming ChatKit response runs
//! as a task of its own that writes its SSE frames into a buffer; HTTP clients
//! are subscribers of that buffer.
//!
//! What a client leaving means depends on the client. By default, as with the
//! reference `openai-chatkit` server (and so for the official ChatKit UI, whose
//! Stop button aborts the request), the request that started a reply owns it:
//! when that client goes away the reply is cancelled. A client that opted into
//! **detached** replies (`X-Todokit-Detach: 1`, todokit's own UI) can leave
//! (tab closed, refresh, network drop) while the reply goes on, and re-attach:
//! it receives the frames already sent, then the live ones. Either way an
//! explicit stop cancels the run. A cancelled run saves the partial reply and a
//! hidden "user cancelled" note.
//!
//! One run per thread at a time: a message sent to a thread that is still
//! answering is refused with 409 (`conflict`). A reply being cancelled (stopped,
//! or its owning client gone) is waited for instead, so the next message of a
//! client that just stopped one is never refused. Replicas sharing a PostgreSQL
//! database also claim the thread in the database ([`SharedClaims`]), so the
//! refusal holds on every replica, and a stop sent to any replica reaches the
//! one running the reply (as a `run.stop_requested` live event). A reply that
//! creates its thread has the store save the claim with the thread, in the same
//! statement ([`crate::chat::ChatContext`]): no client can learn the thread's id,
//! and so send it a second message, before every replica would refuse one.
//!
//! A replica can die mid-reply. While claims are shared, a running reply saves a
//! checkpoint of its unfinished assistant items with its claim, at most once per
//! [`CHECKPOINT_EVERY`]. A claim its replica stopped renewing lapses after the lease;
//! the replica that finds it (a sweep on every replica, or a message, stop or
//! re-attach on that thread) takes it in one statement, so exactly one does, and
//! finishes the reply: it saves the checkpoint's text with a hidden note that the
//! reply was interrupted (as a cancelled reply is saved), then logs `run.finished`
//! (`interrupted: true`) in the write that ends the claim.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use chatkit::{
    IdKind, ItemKind, StoreError, ThreadEventStream, ThreadItem, ThreadStreamEvent, new_id, sse_frame,
};
use futures::{Stream, StreamExt};
use jiff::SignedDuration;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::claims::{LapsedRun, NewThreadClaim, ReplyCheckpoints, RunClaims};
use super::{ChatContext, DynChatStore};
use crate::events::{ClaimRelease, Event, EventBus, kind};
use crate::persistence::StorageResult;
use crate::tasks::UserZone;
use crate::tasks::model::UserId;
use crate::tools::ToolContext;

/// Claims are stamped with the system time: replicas compare them with each other's.
fn now() -> jiff::Timestamp {
    crate::clock::Clock::system().now()
}

/// How long a claim holds without renewal, by default (`--claim-lease-ms`): the replies of a
/// replica that crashed are finished by another one, and their threads free again, after at
/// most this long. A replica renews the claims of its running replies three times per lease,
/// so a slow database does not let a live claim lapse; at each renewal it also looks for
/// lapsed claims to finish.
pub const CLAIM_LEASE: Duration = Duration::from_secs(15);
/// Shortest time between two checkpoints of a running reply (one small write each, only when
/// its text changed): a replica that dies loses at most about this much of a reply.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Lapsed claims finished by one sweep, at most; the next sweep takes the rest.
const SWEEP_LIMIT: u32 = 100;
/// The hidden note saved after the text of a reply whose replica died mid-reply (the model
/// reads it on the next turn, as the reference's note after a cancelled reply).
pub const INTERRUPTED_NOTE: &str = "The reply to the prior request was interrupted before it finished. Stop responding to the prior request.";
/// Longest wait for a cancelled reply to save what it had (a stop's answer, or a message
/// sent right after); beyond it the thread counts as busy.
const CANCEL_WAIT: Duration = Duration::from_secs(10);
/// How long a message waits for an attached reply whose client may have just left (the
/// official ChatKit UI aborts the request and sends the next one at once): the server
/// notices the closed connection in about a millisecond; this only bounds the wait when the
/// other client is really still there.
const LEAVING_CLIENT_WAIT: Duration = Duration::from_secs(2);

/// One response being produced.
pub struct Run {
    id: Uuid,
    owner: Uuid,
    /// Whether the reply outlives the client that started it (see the module docs).
    detached: bool,
    frames: Mutex<Vec<Bytes>>,
    /// (frames written, finished)
    progress: watch::Sender<(usize, bool)>,
    /// Set once the run is asked to stop.
    stop: watch::Sender<bool>,
}

impl Run {
    /// Asks the run to stop; false when it was already asked, or has finished.
    fn request_stop(&self) -> bool {
        if self.progress.borrow().1 {
            return false;
        }
        self.stop.send_if_modified(|stopping| !std::mem::replace(stopping, true))
    }

    fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once the run has ended and released its thread.
    async fn finished(&self) {
        let mut progress = self.progress.subscribe();
        let _ = progress.wait_for(|(_, finished)| *finished).await;
    }

    /// Resolves once the run has ended, or has been asked to stop.
    async fn finished_or_stopping(&self) {
        let mut stop = self.stop.subscribe();
        tokio::select! {
            () = self.finished() => {}
            _ = stop.wait_for(|stopping| *stopping) => {}
        }
    }

    /// Like [`Run::subscribe`], for the client that owns an attached reply: when this
    /// stream is dropped before the run ends (the client left), the run is cancelled.
    pub fn subscribe_owning(self: &Arc<Self>) -> impl Stream<Item = Bytes> + Send + 'static {
        struct CancelOnDrop(Arc<Run>);
        impl Drop for CancelOnDrop {
            fn drop(&mut self) {
                if self.0.request_stop() {
                    tracing::info!(run_id = %self.0.id, "the client of a reply left: cancelling it");
                }
            }
        }
        let guard = CancelOnDrop(self.clone());
        self.subscribe().map(move |frame| {
            let _owner = &guard;
            frame
        })
    }

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
    claims: Arc<dyn RunClaims>,
    checkpoints: Arc<dyn ReplyCheckpoints>,
    /// Where the replies of dead replicas are finished (the live store: clients hear of it).
    store: DynChatStore,
    events: EventBus,
    lease: SignedDuration,
    renewal: Duration,
    /// This process, for renewing its claims.
    replica: Uuid,
    /// Where the other replicas reach this one, once serving ([`Runs::advertise`]).
    url: OnceLock<String>,
    /// Whether a sweep for lapsed claims is under way.
    sweeping: AtomicBool,
}

/// What replicas sharing a database need to share runs: [`Runs::shared`].
pub struct Replicas {
    pub claims: Arc<dyn RunClaims>,
    pub checkpoints: Arc<dyn ReplyCheckpoints>,
    pub store: DynChatStore,
    pub events: EventBus,
    /// How long a claim holds without renewal ([`CLAIM_LEASE`] unless configured).
    pub lease: Duration,
}

impl SharedClaims {
    /// A claim for `run`, from now until the lease ends, on the thread it is given to.
    fn terms(&self, run: &Run) -> NewThreadClaim {
        NewThreadClaim {
            run_id: run.id,
            replica: self.replica,
            replica_url: self.url.get().cloned(),
            expires_at: now() + self.lease,
        }
    }

    /// Saves what the lapsed reply had streamed (its last checkpoint) with a hidden note that it
    /// was interrupted, then ends its claim in the write that logs its `run.finished`. Returns
    /// the items saved for clients to see. On a failure nothing is released: the claim (taken
    /// for one lease) lapses again and is finished later.
    async fn finish_interrupted(&self, lapsed: LapsedRun) -> Vec<ThreadItem> {
        let LapsedRun { thread_id, user, run_id, checkpoint } = lapsed;
        tracing::warn!(
            %thread_id, %run_id,
            "a reply's claim lapsed (its replica stopped renewing it): saving what it had streamed"
        );
        let ctx = ChatContext::from(ToolContext { user, zone: UserZone::utc() });
        let unfinished: Vec<ThreadItem> = match checkpoint.as_deref().map(serde_json::from_str).transpose() {
            Ok(items) => items.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(%error, %thread_id, "unreadable reply checkpoint; saving the note only");
                Vec::new()
            }
        };
        let mut saved = Vec::new();
        for item in unfinished.into_iter().filter(has_text) {
            // The reply may have saved it itself before its claim was left behind.
            match self.store.load_item(&thread_id, &item.id, &ctx).await {
                Ok(_) => continue,
                Err(StoreError::NotFound) => {}
                Err(error) => {
                    tracing::warn!(%error, %thread_id, "could not finish an interrupted reply; retrying later");
                    return Vec::new();
                }
            }
            if let Err(error) = self.store.add_thread_item(&thread_id, &item, &ctx).await {
                tracing::warn!(%error, %thread_id, "could not save an interrupted reply; retrying later");
                return Vec::new();
            }
            saved.push(item);
        }
        let note = ThreadItem::new(
            new_id(IdKind::SdkHiddenContext),
            thread_id.clone(),
            ItemKind::SdkHiddenContext { content: INTERRUPTED_NOTE.to_owned() },
        );
        if let Err(error) = self.store.add_thread_item(&thread_id, &note, &ctx).await {
            tracing::warn!(%error, %thread_id, "could not save an interrupted reply's note; retrying later");
            return Vec::new();
        }
        self.events
            .publish_ending_claim(
                user,
                kind::RUN_FINISHED,
                serde_json::json!({"thread_id": thread_id, "stopped": false, "interrupted": true}),
                Some(ClaimRelease { thread_id: thread_id.clone(), run_id }),
            )
            .await;
        saved
    }
}

/// An assistant message with some text: what a cancelled or interrupted reply keeps.
fn has_text(item: &ThreadItem) -> bool {
    matches!(&item.kind, ItemKind::AssistantMessage { content }
        if content.iter().any(|part| !part.text.trim().is_empty()))
}

/// The `run.finished` of the user's reply on `thread_id`, heard on `events`; `None` if the bus
/// closed.
async fn run_finished(
    events: &mut broadcast::Receiver<Arc<Event>>,
    thread_id: &str,
    user: UserId,
) -> Option<Arc<Event>> {
    loop {
        match events.recv().await {
            Ok(event)
                if event.kind == kind::RUN_FINISHED
                    && event.user == user.0
                    && event.data["thread_id"] == thread_id =>
            {
                return Some(event);
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// What a stop found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// A reply was running; it was stopped and saved what it had.
    Stopped,
    /// No reply was running, nor left unfinished.
    NothingRunning,
    /// No reply was running any more: its replica had died. What it had streamed is saved,
    /// marked interrupted (by this replica or another).
    Interrupted,
}

/// The reply's unfinished assistant items (as the client has them so far), kept up to date
/// from its events and saved as its checkpoint by a task of its own, at most once per
/// [`CHECKPOINT_EVERY`] and only when they changed: never a write per delta, and the loop
/// driving the reply never waits on one.
struct Checkpointer {
    unfinished: Arc<Mutex<Unfinished>>,
    changed: watch::Sender<()>,
}

#[derive(Default)]
struct Unfinished {
    thread_id: Option<String>,
    items: Vec<ThreadItem>,
}

impl Checkpointer {
    fn start(checkpoints: Arc<dyn ReplyCheckpoints>, run_id: Uuid) -> Self {
        let unfinished = Arc::new(Mutex::new(Unfinished::default()));
        let (changed, mut seen) = watch::channel(());
        seen.mark_unchanged();
        let state = unfinished.clone();
        tokio::spawn(async move {
            loop {
                // A reply shorter than one period writes no checkpoint at all.
                tokio::time::sleep(CHECKPOINT_EVERY).await;
                // Ended (the sender dropped): the reply saved itself, or was cancelled and saved.
                if seen.changed().await.is_err() || seen.has_changed().is_err() {
                    return;
                }
                let snapshot = {
                    let state = state.lock().unwrap_or_else(|p| p.into_inner());
                    state.thread_id.clone().map(|thread_id| (thread_id, serde_json::to_string(&state.items)))
                };
                if let Some((thread_id, Ok(json))) = snapshot
                    && let Err(error) = checkpoints.save_checkpoint(&thread_id, run_id, &json).await
                {
                    tracing::warn!(%error, %thread_id, "could not save a reply's checkpoint; retrying");
                    seen.mark_changed();
                }
            }
        });
        Self { unfinished, changed }
    }

    /// Applies one of the reply's events to its unfinished items.
    fn track(&self, thread_id: Option<&String>, event: &ThreadStreamEvent) {
        let mut state = self.unfinished.lock().unwrap_or_else(|p| p.into_inner());
        if state.thread_id.is_none() {
            state.thread_id = thread_id.cloned();
        }
        let items = &mut state.items;
        let before = items.len();
        let changed = match event {
            ThreadStreamEvent::ThreadItemAdded { item }
                if matches!(item.kind, ItemKind::AssistantMessage { .. }) =>
            {
                items.retain(|unfinished| unfinished.id != item.id);
                items.push(item.clone());
                true
            }
            ThreadStreamEvent::ThreadItemUpdated { item_id, update } => {
                match items.iter_mut().find(|item| &item.id == item_id) {
                    Some(item) => {
                        chatkit::apply_update(item, update);
                        true
                    }
                    None => false,
                }
            }
            ThreadStreamEvent::ThreadItemDone { item } | ThreadStreamEvent::ThreadItemReplaced { item } => {
                items.retain(|unfinished| unfinished.id != item.id);
                items.len() != before
            }
            ThreadStreamEvent::ThreadItemRemoved { item_id } => {
                items.retain(|unfinished| &unfinished.id != item_id);
                items.len() != before
            }
            _ => false,
        };
        drop(state);
        if changed {
            self.changed.send_replace(());
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
    /// Whether the reply will outlive the client that asked for it.
    pub fn is_detached(&self) -> bool {
        self.run.detached
    }

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

    /// Runs that also claim their threads in the database, shared with other replicas.
    pub fn shared(replicas: Replicas) -> Self {
        let lease = replicas.lease.max(Duration::from_millis(300));
        Self {
            by_thread: Mutex::default(),
            shared: Some(SharedClaims {
                claims: replicas.claims,
                checkpoints: replicas.checkpoints,
                store: replicas.store,
                events: replicas.events,
                lease: SignedDuration::try_from(lease).unwrap_or(SignedDuration::from_secs(15)),
                renewal: lease / 3,
                replica: Uuid::new_v4(),
                url: OnceLock::new(),
                sweeping: AtomicBool::new(false),
            }),
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
        let holder = shared.claims.run_holder(thread_id, user, now()).await?;
        Ok(holder.filter(|holder| holder.replica != shared.replica).and_then(|holder| holder.replica_url))
    }

    /// Claims `thread_id` (None for a thread that does not exist yet) for a reply that
    /// outlives its client (`detached`) or not. The outer error is the database's, when
    /// claims are shared.
    pub async fn reserve(
        self: &Arc<Self>,
        thread_id: Option<&str>,
        owner: UserId,
        detached: bool,
    ) -> StorageResult<Result<Reservation, ThreadBusy>> {
        let run = Arc::new(Run {
            id: Uuid::now_v7(),
            owner: owner.0,
            detached,
            frames: Mutex::default(),
            progress: watch::channel((0, false)).0,
            stop: watch::channel(false).0,
        });
        // A reservation that holds no thread here: a new thread (not made yet) or another user's.
        let holding_no_thread = |runs: &Arc<Self>, run, new_thread_claim| Reservation {
            runs: runs.clone(),
            thread_id: None,
            claimed: false,
            new_thread_claim,
            run,
        };
        let Some(thread_id) = thread_id else {
            let new_thread_claim = self.shared.as_ref().map(|shared| shared.terms(&run));
            return Ok(Ok(holding_no_thread(self, run, new_thread_claim)));
        };
        loop {
            let current = {
                let mut by_thread = self.by_thread.lock().unwrap_or_else(|p| p.into_inner());
                match by_thread.get(thread_id) {
                    Some(current) if current.owner == owner.0 => current.clone(),
                    // Someone else's thread: claim nothing and say nothing; the
                    // store answers 404 as for any thread that is not theirs.
                    Some(_) => return Ok(Ok(holding_no_thread(self, run, None))),
                    None => {
                        by_thread.insert(thread_id.to_owned(), run.clone());
                        break;
                    }
                }
            };
            // A reply being cancelled is waited for; so is an attached one, whose client
            // may have just left (then it is being cancelled a moment from now).
            let ending = current.is_stopping()
                || !current.detached
                    && tokio::time::timeout(LEAVING_CLIENT_WAIT, current.finished_or_stopping())
                        .await
                        .is_ok();
            if !ending || tokio::time::timeout(CANCEL_WAIT, current.finished()).await.is_err() {
                return Ok(Err(ThreadBusy));
            }
        }
        // From here on, dropping the reservation releases what it holds.
        let mut reservation = Reservation {
            runs: self.clone(),
            thread_id: Some(thread_id.to_owned()),
            claimed: false,
            new_thread_claim: None,
            run: run.clone(),
        };
        if let Some(shared) = &self.shared {
            // A few turns: a lapsed claim is finished (here, or by another replica that took it
            // first) before the thread is claimed. A thread that is not the user's never is.
            for _ in 0..3 {
                let claim = shared.terms(&run).for_thread(thread_id, owner);
                reservation.claimed = shared.claims.claim_run(&claim).await?;
                if reservation.claimed {
                    break;
                }
                let mut events = shared.events.subscribe();
                match shared.claims.run_holder(thread_id, owner, now()).await? {
                    // A reply whose replica died, being saved: free in a moment.
                    Some(holder) if holder.finishing => {
                        let _ =
                            tokio::time::timeout(CANCEL_WAIT, run_finished(&mut events, thread_id, owner))
                                .await;
                    }
                    Some(_) => return Ok(Err(ThreadBusy)),
                    // A lapsed claim (finished here now, unless another replica took it first:
                    // then it is finishing), or none.
                    None => {
                        self.finish_lapsed(thread_id, Some(owner)).await?;
                    }
                }
            }
            if !reservation.claimed && shared.claims.run_holder(thread_id, owner, now()).await?.is_some() {
                return Ok(Err(ThreadBusy));
            }
            // Not claimed and not busy: not the user's thread, which the store refuses.
        }
        Ok(Ok(reservation))
    }

    /// Finishes the user's (or, with `None`, anyone's) reply on `thread_id` if its claim lapsed
    /// (its replica died) and this replica is the one that takes it: returns the items saved
    /// for clients (the text it had streamed). `None` when there was no lapsed claim to take.
    async fn finish_lapsed(
        &self,
        thread_id: &str,
        user: Option<UserId>,
    ) -> StorageResult<Option<Vec<ThreadItem>>> {
        let Some(shared) = &self.shared else { return Ok(None) };
        let at = now();
        let taken = shared
            .checkpoints
            .take_lapsed_run(thread_id, user, shared.replica, at, at + shared.lease)
            .await?;
        match taken {
            Some(lapsed) => Ok(Some(shared.finish_interrupted(lapsed).await)),
            None => Ok(None),
        }
    }

    /// For a re-attach that found no reply running anywhere: finishes the user's reply on
    /// `thread_id` if its replica died, and returns what it had streamed (as saved).
    pub async fn finish_if_lapsed(
        &self,
        thread_id: &str,
        user: UserId,
    ) -> StorageResult<Option<Vec<ThreadItem>>> {
        self.finish_lapsed(thread_id, Some(user)).await
    }

    /// Finishes the lapsed claims of dead replicas, in a task of its own (one sweep at a time).
    fn sweep_lapsed(self: &Arc<Self>) {
        let Some(shared) = &self.shared else { return };
        if shared.sweeping.swap(true, Ordering::AcqRel) {
            return;
        }
        let runs = self.clone();
        tokio::spawn(async move {
            let Some(shared) = &runs.shared else { return };
            match shared.checkpoints.lapsed_runs(now(), SWEEP_LIMIT).await {
                Ok(threads) => {
                    for thread_id in threads {
                        if let Err(error) = runs.finish_lapsed(&thread_id, None).await {
                            tracing::warn!(%error, thread_id, "could not finish a lapsed reply; retrying later");
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "could not look for lapsed reply claims; retrying later")
                }
            }
            shared.sweeping.store(false, Ordering::Release);
        });
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
            && let Err(error) = shared.claims.release_run(thread_id, run.id).await
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

    /// Stops the user's running reply on `thread_id`, here or, when claims are shared, on
    /// the replica running it, and waits (a bounded while) until it has saved what it had and
    /// freed the thread. A reply whose replica died is not running: its claim is waited out
    /// (the holder stops renewing it), then it is finished here ([`StopOutcome::Interrupted`]).
    pub async fn stop(&self, thread_id: &str, user: UserId, bus: &EventBus) -> StorageResult<StopOutcome> {
        if let Some(run) = self.find(thread_id, user) {
            if !run.request_stop() && !run.is_stopping() {
                return Ok(StopOutcome::NothingRunning); // it had just finished
            }
            if tokio::time::timeout(CANCEL_WAIT, run.finished()).await.is_err() {
                tracing::warn!(thread_id, "a stopped reply is slow to end; answering the stop anyway");
            }
            return Ok(StopOutcome::Stopped);
        }
        let Some(shared) = &self.shared else { return Ok(StopOutcome::NothingRunning) };
        // Listen before anything, so the holder's `run.finished` cannot be missed.
        let mut events = bus.subscribe();
        let Some(holder) = shared.claims.run_holder(thread_id, user, now()).await? else {
            return Ok(match self.finish_lapsed(thread_id, Some(user)).await? {
                Some(_) => StopOutcome::Interrupted,
                None => StopOutcome::NothingRunning,
            });
        };
        let finished = run_finished(&mut events, thread_id, user);
        tokio::pin!(finished);
        let interrupted =
            |event: Option<Arc<Event>>| event.is_some_and(|event| event.data["interrupted"] == true);
        if holder.finishing {
            let _ = tokio::time::timeout(CANCEL_WAIT, &mut finished).await;
            return Ok(StopOutcome::Interrupted);
        }
        bus.publish(user, kind::RUN_STOP_REQUESTED, serde_json::json!({"thread_id": thread_id})).await;
        let deadline = tokio::time::Instant::now() + CANCEL_WAIT;
        let mut expires_at = holder.expires_at;
        loop {
            // A live holder renews its claim well before it lapses; a dead one does not.
            let until_lapsed = Duration::try_from(expires_at.duration_since(now())).unwrap_or_default();
            tokio::select! {
                event = &mut finished => {
                    return Ok(if interrupted(event) { StopOutcome::Interrupted } else { StopOutcome::Stopped });
                }
                () = tokio::time::sleep(until_lapsed + Duration::from_millis(20)) => {}
            }
            match shared.claims.run_holder(thread_id, user, now()).await? {
                None => {
                    // Lapsed: finished here. Else it ended just now (its `run.finished` says how).
                    if self.finish_lapsed(thread_id, Some(user)).await?.is_some() {
                        return Ok(StopOutcome::Interrupted);
                    }
                    let ended = tokio::time::timeout(CANCEL_WAIT, &mut finished).await.ok().flatten();
                    return Ok(if interrupted(ended) {
                        StopOutcome::Interrupted
                    } else {
                        StopOutcome::Stopped
                    });
                }
                Some(holder) if holder.finishing => {
                    let _ = tokio::time::timeout(CANCEL_WAIT, &mut finished).await;
                    return Ok(StopOutcome::Interrupted);
                }
                Some(holder) => {
                    if tokio::time::Instant::now() >= deadline {
                        tracing::warn!(
                            thread_id,
                            "a reply stopped on another replica is slow to end; answering the stop anyway"
                        );
                        return Ok(StopOutcome::Stopped);
                    }
                    expires_at = holder.expires_at;
                }
            }
        }
    }

    fn stop_here(&self, thread_id: &str, user: UserId) -> bool {
        self.find(thread_id, user).is_some_and(|run| run.request_stop())
    }

    /// While claims are shared: renews this replica's claims, finishes the replies of dead
    /// replicas (lapsed claims) and carries out stops sent to other replicas, until `done`.
    pub fn spawn_claim_keeper(
        self: &Arc<Self>,
        bus: &EventBus,
        done: CancellationToken,
    ) -> Option<JoinHandle<()>> {
        let shared = self.shared.as_ref()?;
        let (claims, replica, lease, renewal) =
            (shared.claims.clone(), shared.replica, shared.lease, shared.renewal);
        let runs = self.clone();
        let mut events = bus.subscribe();
        Some(tokio::spawn(async move {
            let mut renewals = tokio::time::interval(renewal);
            renewals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = done.cancelled() => return,
                    _ = renewals.tick() => {
                        let running: Vec<Uuid> =
                            runs.by_thread.lock().unwrap_or_else(|p| p.into_inner()).values().map(|run| run.id).collect();
                        if !running.is_empty()
                            && let Err(error) = claims.renew_runs(replica, &running, now() + lease).await
                        {
                            tracing::warn!(%error, "could not renew this replica's reply claims; retrying");
                        }
                        runs.sweep_lapsed();
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
        let mut stop = run.stop.subscribe();
        drop(reservation);
        let task_run = run.clone();
        let checkpointer =
            self.shared.as_ref().map(|shared| Checkpointer::start(shared.checkpoints.clone(), run.id));
        tokio::spawn(async move {
            let run = task_run;
            let mut stopped = false;
            let mut announced = false;
            loop {
                tokio::select! {
                    biased;
                    signal = stop.wait_for(|stopping| *stopping), if !stopped => {
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
                        if let Some(checkpointer) = &checkpointer {
                            checkpointer.track(thread_id.as_ref(), &event);
                        }
                        run.push(sse_frame(&event));
                    }
                }
            }
            // Ends the checkpoints: the reply saves itself from here on.
            drop(checkpointer);
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
