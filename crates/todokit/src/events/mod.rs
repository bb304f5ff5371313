//! Live change events: every change to a user's tasks and threads becomes a
//! small event, appended to a bounded log (so a reconnecting client can catch
//! up with `Last-Event-ID`) and fanned out to that user's open streams. On
//! PostgreSQL the fan-out goes through LISTEN/NOTIFY, so every replica sees
//! every event; on SQLite it is in-process.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::storage::DynStorage;
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

/// Shared handle for publishing and subscribing.
#[derive(Clone)]
pub struct EventBus {
    storage: DynStorage,
    local: broadcast::Sender<Arc<Event>>,
    /// When the database fans events out (PostgreSQL), publishing does not
    /// also broadcast locally: the notification comes back to this replica too.
    delivered_by_database: bool,
}

impl EventBus {
    /// Starts the database listener where the backend has one.
    pub async fn start(storage: DynStorage) -> anyhow::Result<Self> {
        let (local, _) = broadcast::channel(4096);
        let delivered_by_database = storage.listen_for_events(local.clone()).await?;
        Ok(Self { storage, local, delivered_by_database })
    }

    /// Records and fans out an event. Failures are logged, never returned: a
    /// change that succeeded must not fail because its notification did.
    pub async fn publish(&self, user: UserId, kind: &str, data: Value) {
        match self.storage.append_event(user, kind, &data, crate::storage::now()).await {
            Ok(event) => {
                if !self.delivered_by_database {
                    let _ = self.local.send(Arc::new(event));
                }
            }
            Err(err) => tracing::warn!(error = %err, kind, "could not record a live event"),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe()
    }

    pub fn storage(&self) -> &DynStorage {
        &self.storage
    }
}
