//! Live change events: every change to a user's tasks and threads becomes a
//! small event, appended to a bounded log (so a reconnecting client can catch
//! up with `Last-Event-ID`) and fanned out to that user's open streams. On
//! PostgreSQL the fan-out goes through LISTEN/NOTIFY, so every replica sees
//! every event; on SQLite it is in-process.

use crate::clock::Clock;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::persistence::StorageResult;
use crate::tasks::model::UserId;

/// Kinds of events, as sent to clients.
pub mod kind {
    pub const TASK_CREATED: &str = "task.created";
    pub const TASK_UPDATED: &str = "task.updated";
    pub const TASK_COMPLETED: &str = "task.completed";
    pub const TASK_REOPENED: &str = "task.reopened";
    pub const TASK_DELETED: &str = "task.deleted";
    pub const TASKS_BULK_CHANGED: &str = "tasks.bulk_changed";
    pub const THREAD_CREATED: &str = "thread.created";
    pub const THREAD_UPDATED: &str = "thread.updated";
    pub const THREAD_DELETED: &str = "thread.deleted";
    pub const ITEM_DONE: &str = "thread.item.done";
    pub const ITEM_REMOVED: &str = "thread.item.removed";
    pub const RUN_STARTED: &str = "run.started";
    pub const RUN_FINISHED: &str = "run.finished";
    /// A stop sent to one replica for a reply another replica runs.
    pub const RUN_STOP_REQUESTED: &str = "run.stop_requested";
    pub const REMINDER_DUE: &str = "reminder.due";
    /// Sent instead of a replay when the client is too far behind: reload.
    pub const RESET: &str = "reset";
    /// Internal, never sent: the database listener reconnected and may have
    /// missed notifications, so every stream catches up from the log.
    pub const RESYNC: &str = "resync";
}

/// One change, as logged and as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    #[serde(skip)]
    pub user: uuid::Uuid,
    pub kind: String,
    pub data: Value,
    pub at: Timestamp,
}

/// An event to append: the log gives it its id and time.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub user: UserId,
    pub kind: String,
    pub data: Value,
}

/// A reply's claim to end (if it still holds its thread) with the event that says the reply
/// finished: whoever sees the event finds the thread free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRelease {
    pub thread_id: String,
    pub run_id: uuid::Uuid,
}

/// The bounded log of events, in the database.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends events to the log in one transaction, in order (and, on
    /// PostgreSQL, notifies every replica at commit), ending the reply claims
    /// `releases` names in the same transaction. Returns the events with ids.
    async fn append_events(
        &self,
        events: &[NewEvent],
        releases: &[ClaimRelease],
        now: Timestamp,
    ) -> StorageResult<Vec<Event>>;
    /// The user's events after `after` (oldest first), or `None` when `after`
    /// is no longer in the log (pruned or unknown): the client must reload.
    async fn events_after(&self, user: UserId, after: i64, limit: u32) -> StorageResult<Option<Vec<Event>>>;
    /// The id of the user's newest event, or 0.
    async fn latest_event_id(&self, user: UserId) -> StorageResult<i64>;
    /// Deletes events created before `before`.
    async fn prune_events(&self, before: Timestamp) -> StorageResult<u64>;
    /// Forwards events published by any replica into `sink`. Returns false
    /// when the backend has no cross-process fan-out (SQLite).
    async fn listen_for_events(&self, sink: broadcast::Sender<Arc<Event>>) -> anyhow::Result<bool>;
}

/// Most events one log write takes.
const BATCH_LIMIT: usize = 256;

struct Pending {
    event: NewEvent,
    /// A reply's claim ended by the same write.
    release: Option<ClaimRelease>,
    logged: oneshot::Sender<()>,
}

/// Shared handle for publishing and subscribing.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Arc<Event>>,
    /// Unbounded so that queueing never waits and never reorders: a publisher that
    /// awaits its event holds back its own work, and each in-flight change queues a
    /// handful of events at most.
    queue: mpsc::UnboundedSender<Pending>,
}

impl EventBus {
    /// Starts the database listener where the backend has one, and the writer
    /// that appends published events to the log, stamping them with `clock`'s time.
    pub async fn start(log: Arc<dyn EventLog>, clock: Clock) -> anyhow::Result<Self> {
        let (local, _) = broadcast::channel(4096);
        let delivered_by_database = log.listen_for_events(local.clone()).await?;
        let (queue, pending) = mpsc::unbounded_channel();
        let broadcast = (!delivered_by_database).then(|| local.clone());
        tokio::spawn(write_log(log, clock, pending, broadcast));
        Ok(Self { local, queue })
    }

    /// Records and fans out an event; returns once it is in the log. Failures
    /// are logged, never returned: a change that succeeded must not fail
    /// because its notification did.
    pub async fn publish(&self, user: UserId, kind: &str, data: Value) {
        self.publish_ending_claim(user, kind, data, None).await;
    }

    /// Like [`EventBus::publish`], ending `release` (a reply's claim on its thread) in the
    /// same write: every replica that sees the event finds the thread free.
    pub async fn publish_ending_claim(
        &self,
        user: UserId,
        kind: &str,
        data: Value,
        release: Option<ClaimRelease>,
    ) {
        if let Some(logged) = self.enqueue(user, kind, data, release) {
            let _ = logged.await;
        }
    }

    /// Queues an event without waiting for it to be logged, for callers that
    /// must not wait on a database write (such as the loop that drives a
    /// chat response: its producer may be inside a write until polled, which the
    /// writer's closure-scoped turn cannot see).
    /// Queued at once, so it keeps its place before the caller's later events.
    pub fn publish_in_background(&self, user: UserId, kind: &str, data: Value) {
        self.enqueue(user, kind, data, None);
    }

    /// Queues an event for the log writer; the receiver fires once it is logged.
    fn enqueue(
        &self,
        user: UserId,
        kind: &str,
        data: Value,
        release: Option<ClaimRelease>,
    ) -> Option<oneshot::Receiver<()>> {
        let (logged, done) = oneshot::channel();
        let event = NewEvent { user, kind: kind.to_owned(), data };
        if self.queue.send(Pending { event, release, logged }).is_err() {
            tracing::warn!(kind, "could not record a live event: the event writer has stopped");
            return None;
        }
        Some(done)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe()
    }
}

/// Group commit: every event published while the previous write was in
/// flight goes into the next one, so a busy server writes one transaction for
/// many events instead of one each. Ids follow publication order.
async fn write_log(
    log: Arc<dyn EventLog>,
    clock: Clock,
    mut pending: mpsc::UnboundedReceiver<Pending>,
    broadcast: Option<broadcast::Sender<Arc<Event>>>,
) {
    let mut batch = Vec::with_capacity(BATCH_LIMIT);
    while pending.recv_many(&mut batch, BATCH_LIMIT).await > 0 {
        let mut releases = Vec::new();
        let (events, waiters): (Vec<NewEvent>, Vec<oneshot::Sender<()>>) = batch
            .drain(..)
            .map(|p| {
                releases.extend(p.release);
                (p.event, p.logged)
            })
            .unzip();
        match log.append_events(&events, &releases, clock.now()).await {
            // When the database fans events out (PostgreSQL), the notification
            // comes back to this replica too: no local broadcast.
            Ok(logged) => {
                if let Some(local) = &broadcast {
                    for event in logged {
                        let _ = local.send(Arc::new(event));
                    }
                }
            }
            // A claim left behind lapses once this replica stops renewing it.
            Err(err) => tracing::warn!(
                error = %err,
                count = events.len(),
                claims = releases.len(),
                "could not record live events"
            ),
        }
        for waiter in waiters {
            let _ = waiter.send(());
        }
    }
}
