//! What the typed tools return: one outcome type per tool, and [`ToolError`] for a call that
//! did nothing. Outcomes serialise to the JSON results models and MCP clients read (the JSON
//! adapter adds `success: true`); their JSON Schemas are the MCP `outputSchema`s.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use todokit_domain::{Priority, Recurrence};
use uuid::Uuid;

use super::args::TaskIdArg;
use crate::tasks::UserZone;
use crate::tasks::model::Task;

/// Why a tool call did nothing. Each kind has a short name (`kind`) and a message a model can
/// act on (`Display`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The arguments do not fit the tool or a task rule; the message says how to fix them.
    #[error("{0}")]
    InvalidArguments(String),
    /// No task of this user has that number or id.
    #[error("{message}")]
    TaskNotFound { task: String, message: String },
    /// A confirmed bulk delete found a different set of tasks than the user agreed to.
    #[error("{0}")]
    TasksChanged(String),
    /// There is no tool of that name (JSON calls only).
    #[error("There is no tool named {name:?}; available tools: {available}")]
    UnknownTool { name: String, available: String },
    /// The database failed; the details are in the server log.
    #[error("The task database is unavailable right now; try again shortly")]
    Unavailable,
}

impl ToolError {
    /// The short name of the failure, sent as `error` next to the message.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidArguments(_) => "Invalid arguments",
            Self::TaskNotFound { .. } => "Task not found",
            Self::TasksChanged(_) => "Tasks changed",
            Self::UnknownTool { .. } => "Unknown tool",
            Self::Unavailable => "Storage error",
        }
    }

    pub(super) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArguments(message.into())
    }

    pub(super) fn not_found(task: &TaskIdArg) -> Self {
        Self::TaskNotFound { task: task.to_string(), message: format!("Could not find task with ID {task}") }
    }
}

/// A task as tools return it: times in the user's zone, absent fields left out.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ToolTask {
    #[schemars(with = "String", extend("format" = "uuid"))]
    pub id: Uuid,
    /// The per-user number ("task 3").
    pub number: i64,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub priority: Priority,
    pub tags: Vec<String>,
    /// RFC 3339 in the user's time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub due_date: Option<String>,
    /// The reminder fires this many minutes before the due time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder_minutes_before: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
    pub completed: bool,
    /// Pending and past its due time.
    pub overdue: bool,
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
}

impl ToolTask {
    pub fn new(task: &Task, zone: &UserZone) -> Self {
        let local =
            |ts: Timestamp| ts.to_zoned(zone.tz().clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
        Self {
            id: task.id,
            number: task.number,
            title: task.title.clone(),
            description: task.description.clone(),
            priority: task.priority,
            tags: task.tags.clone(),
            due_date: task.due_at.map(local),
            reminder_minutes_before: task.reminder_offset_minutes,
            recurrence: task.recurrence.clone(),
            completed: task.completed,
            overdue: task.due_at.is_some_and(|due| !task.completed && due < Timestamp::now()),
            created_at: local(task.created_at),
        }
    }
}

/// A task named in a bulk result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TaskRef {
    #[schemars(with = "String", extend("format" = "uuid"))]
    pub id: Uuid,
    pub number: i64,
    pub title: String,
}

impl From<&Task> for TaskRef {
    fn from(task: &Task) -> Self {
        Self { id: task.id, number: task.number, title: task.title.clone() }
    }
}

/// create_task, update_task and delete_task: the task as it now is (or was, when deleted).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TaskOutcome {
    pub message: String,
    pub task: ToolTask,
}

/// list_tasks.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ListOutcome {
    pub message: String,
    /// "Found N tasks (p pending, c completed)".
    pub summary: String,
    pub tasks: Vec<ToolTask>,
    /// How many tasks match (possibly more than returned).
    pub total: u64,
    pub pending: u64,
    pub completed: u64,
    /// How many tasks are in `tasks`.
    pub returned: u64,
}

/// complete_task.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CompletionOutcome {
    pub message: String,
    pub task: ToolTask,
    /// "pending" or "completed".
    pub old_status: String,
    pub new_status: String,
    /// The next occurrence, when completing a recurring task created one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_task: Option<ToolTask>,
}

/// complete_all_tasks.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BulkCompletionOutcome {
    pub message: String,
    /// The filter in words, e.g. "high-priority tasks tagged work".
    pub filter: String,
    /// Tasks changed.
    pub updated_count: u64,
    /// Matching tasks that were already in the requested state.
    pub skipped_count: u64,
    /// Tasks matching the filter.
    pub total_count: u64,
    /// The tasks changed.
    pub tasks: Vec<TaskRef>,
    /// Next occurrences created by completing recurring tasks.
    pub next_tasks: Vec<TaskRef>,
}

/// delete_all_tasks: a count and the tasks' names first, a deletion once confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BulkDeletionOutcome {
    pub message: String,
    /// The filter in words, e.g. "low-priority tasks".
    pub filter: String,
    /// true when nothing was deleted yet: ask the user, then call again with confirm: true
    /// and expected_count: task_count.
    pub requires_confirmation: bool,
    /// Tasks matching the filter.
    pub task_count: u64,
    pub deleted_count: u64,
    /// The matching tasks (unconfirmed; at most 100) or the deleted ones.
    pub tasks: Vec<TaskRef>,
}
