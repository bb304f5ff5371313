//! A user's data as files (issue 24, points 4–6): the export (one versioned JSON document, or
//! the tasks as CSV or iCalendar), the import (that JSON document, or a Todoist CSV export) and
//! the calendar feed ([`feed`]).
//!
//! The formats themselves are `todokit_domain::interchange`; this module reads and writes the
//! user's rows through [`AccountData`] and owns the rules of an import: every field validated as
//! the REST API validates it, new ids and numbers, all or nothing in one transaction, limits.

pub mod document;
pub mod feed;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chatkit::{ThreadItem, ThreadMetadata};
use jiff::Timestamp;
use todokit_domain::interchange::{self, CalendarOptions, Component, ImportError, ImportLimit};

use crate::auth::Accounts;
use crate::clock::Clock;
use crate::events::{EventBus, kind as event_kind};
use crate::persistence::StorageError;
use crate::tasks::model::{Task, UserId};
pub use document::{ExportDocument, ExportedAccount, ExportedTask, ExportedThread, ImportDocument};

/// Largest import body: 5 MiB (also the Todoist parser's limit).
pub const MAX_IMPORT_BYTES: usize = interchange::MAX_IMPORT_BYTES;
/// Most tasks one import may create.
pub const MAX_IMPORT_TASKS: usize = interchange::MAX_IMPORT_TASKS;
/// Most threads one import may create.
pub const MAX_IMPORT_THREADS: usize = 1_000;
/// Most thread items one import may create (all threads together).
pub const MAX_IMPORT_ITEMS: usize = 10_000;
/// The `format` of an export document.
pub const EXPORT_FORMAT: &str = "todokit-export";
/// The `version` of the export document this server writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// A thread with its items, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredThread {
    pub thread: ThreadMetadata,
    pub updated_at: Timestamp,
    /// Oldest first, in the order they were saved.
    pub items: Vec<ThreadItem>,
}

/// The reads of an export and the one write of an import, all scoped by the owner.
#[async_trait]
pub trait AccountData: Send + Sync + 'static {
    /// Every task of the user by number (with `due_only`, only those with a due time).
    async fn all_tasks(&self, user: UserId, due_only: bool) -> Result<Vec<Task>, StorageError>;
    /// Every thread of the user, oldest first, each with every item.
    async fn all_threads(&self, user: UserId) -> Result<Vec<StoredThread>, StorageError>;
    /// Inserts `tasks` (in order, each numbered after the user's existing tasks; a
    /// `parent_task_id` names an earlier task of `tasks`) and `threads` in one transaction:
    /// all or nothing.
    async fn import(
        &self,
        user: UserId,
        tasks: &[Task],
        threads: &[StoredThread],
    ) -> Result<(), StorageError>;
}

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The input is wrong; the message names the line, or the JSON path.
    #[error("{0}")]
    Invalid(String),
    /// Over a count limit.
    #[error("{0}")]
    TooMany(String),
    /// Over the size limit.
    #[error("{0}")]
    TooLarge(String),
    #[error("the account no longer exists")]
    NoAccount,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What an import created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub tasks: usize,
    pub threads: usize,
}

/// Export and import of a user's data.
#[derive(Clone)]
pub struct AccountDataService {
    data: Arc<dyn AccountData>,
    accounts: Arc<dyn Accounts>,
    events: Option<EventBus>,
    clock: Clock,
}

impl AccountDataService {
    pub fn new(data: Arc<dyn AccountData>, accounts: Arc<dyn Accounts>, clock: Clock) -> Self {
        Self { data, accounts, events: None, clock }
    }

    /// Publishes a live event after each import, so open tabs refresh.
    pub fn with_events(mut self, events: EventBus) -> Self {
        self.events = Some(events);
        self
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The whole account as one document.
    pub async fn export_document(&self, user: UserId) -> Result<ExportDocument, DataError> {
        let account = self.accounts.user_by_id(user.0).await?.ok_or(DataError::NoAccount)?;
        let tasks = self.data.all_tasks(user, false).await?;
        let threads = self.data.all_threads(user).await?;
        Ok(ExportDocument {
            format: EXPORT_FORMAT.to_owned(),
            version: EXPORT_VERSION,
            exported_at: self.clock.now(),
            account: ExportedAccount { email: account.email, created_at: account.created_at },
            tasks: tasks.iter().map(ExportedTask::from).collect(),
            threads: threads.into_iter().map(ExportedThread::from).collect(),
        })
    }

    /// Every task as CSV with a header row.
    pub async fn export_csv(&self, user: UserId) -> Result<Vec<u8>, DataError> {
        let tasks = self.data.all_tasks(user, false).await?;
        interchange::tasks_to_csv(&tasks).map_err(|err| StorageError::Other(err.into()).into())
    }

    /// Every task as iCalendar, one VTODO each.
    pub async fn export_ics(&self, user: UserId) -> Result<String, DataError> {
        let tasks = self.data.all_tasks(user, false).await?;
        Ok(interchange::tasks_to_icalendar(&tasks, &calendar_options(Component::Todo, None)))
    }

    /// Imports an export document (its bytes), all or nothing.
    pub async fn import_json(&self, user: UserId, body: &[u8]) -> Result<Imported, DataError> {
        check_size(body.len())?;
        let now = self.clock.now();
        let (tasks, threads) = document::parse_import(body, now)?;
        self.store(user, tasks, threads).await
    }

    /// Imports a Todoist CSV template export, all or nothing; dates are read in `zone`.
    pub async fn import_todoist(&self, user: UserId, body: &[u8], zone: &str) -> Result<Imported, DataError> {
        check_size(body.len())?;
        let now = self.clock.now();
        let new_tasks = interchange::parse_todoist_csv(body, now, zone).map_err(import_error)?;
        let tasks = new_tasks.iter().map(|task| Task::new(task, now)).collect();
        self.store(user, tasks, Vec::new()).await
    }

    async fn store(
        &self,
        user: UserId,
        tasks: Vec<Task>,
        threads: Vec<StoredThread>,
    ) -> Result<Imported, DataError> {
        self.data.import(user, &tasks, &threads).await?;
        let imported = Imported { tasks: tasks.len(), threads: threads.len() };
        if let Some(events) = &self.events {
            if imported.tasks > 0 {
                events
                    .publish(
                        user,
                        event_kind::TASKS_BULK_CHANGED,
                        serde_json::json!({"imported": imported.tasks}),
                    )
                    .await;
            }
            if imported.threads > 0 {
                let ids: Vec<&str> = threads.iter().map(|t| t.thread.id.as_str()).collect();
                events
                    .publish(user, event_kind::THREAD_CREATED, serde_json::json!({"imported": ids.len()}))
                    .await;
            }
        }
        Ok(imported)
    }
}

fn check_size(len: usize) -> Result<(), DataError> {
    if len > MAX_IMPORT_BYTES {
        return Err(DataError::TooLarge(format!(
            "The file is {len} bytes; the limit is {MAX_IMPORT_BYTES} bytes (5 MiB)"
        )));
    }
    Ok(())
}

/// A Todoist parser error: a count limit is [`DataError::TooMany`], anything else names its line.
fn import_error(err: ImportError) -> DataError {
    match err.limit {
        Some(ImportLimit::Count) => DataError::TooMany(err.to_string()),
        Some(ImportLimit::Size) => DataError::TooLarge(err.to_string()),
        None => DataError::Invalid(err.to_string()),
    }
}

/// How todokit writes a calendar: `component` for each task, with `refresh` minutes for a feed.
pub fn calendar_options(component: Component, refresh: Option<u32>) -> CalendarOptions {
    CalendarOptions {
        prodid: format!("-//todokit//todokit {}//EN", env!("CARGO_PKG_VERSION")),
        // Stable whatever host name the server is reached by, so a calendar never duplicates.
        uid_domain: "todokit".to_owned(),
        component,
        name: Some("todokit".to_owned()),
        include_completed: true,
        refresh_interval_minutes: refresh,
    }
}

/// Gives imported tasks new ids and series ids: a parent is kept only when it comes earlier in
/// the file, and each occurrence of a series appears once. `tasks` come with their old ids.
pub(crate) fn renumber_ids(tasks: &mut [Task]) {
    let mut new_ids: HashMap<uuid::Uuid, uuid::Uuid> = HashMap::new();
    let mut series: HashMap<uuid::Uuid, uuid::Uuid> = HashMap::new();
    let mut slots: HashSet<(uuid::Uuid, u32)> = HashSet::new();
    for task in tasks.iter_mut() {
        let old = task.id;
        task.id = uuid::Uuid::now_v7();
        task.parent_task_id = task.parent_task_id.and_then(|parent| new_ids.get(&parent).copied());
        // An id named twice links to the first task that had it.
        new_ids.entry(old).or_insert(task.id);
        if let Some(old_series) = task.series_id {
            let mut new_series = *series.entry(old_series).or_insert_with(uuid::Uuid::now_v7);
            // An occurrence of a series named twice (never in an export) starts a series of its
            // own rather than failing the database's one-task-per-occurrence rule.
            if !slots.insert((new_series, task.occurrence_index)) {
                new_series = uuid::Uuid::now_v7();
                slots.insert((new_series, task.occurrence_index));
                task.series_start_at = task.due_at;
            }
            task.series_id = Some(new_series);
        }
    }
}
