//! Task records as stored and returned, and the validated inputs that change them.

use jiff::Timestamp;
use serde::Serialize;
use todokit_domain::Priority;
pub use todokit_domain::query::{SortKey, SortOrder};
pub use todokit_domain::record::{NewTask, Task, TaskPatch};
use utoipa::ToSchema;
use uuid::Uuid;

/// Whose data a request touches. Always taken from the authenticated context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub Uuid);

/// How a request names a task: by id or by its per-user number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKey {
    Id(Uuid),
    Number(i64),
}

impl TaskKey {
    /// Accepts a UUID, `3` or `#3`.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let digits = raw.strip_prefix('#').unwrap_or(raw);
        if let Ok(number) = digits.parse::<i64>() {
            return (number > 0).then_some(Self::Number(number));
        }
        Uuid::parse_str(raw).ok().map(Self::Id)
    }
}

/// Which tasks a list or bulk operation applies to. Time windows are already
/// resolved to UTC instants by the caller (in the user's zone).
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub completed: Option<bool>,
    pub priority: Option<Priority>,
    /// All must match.
    pub tags: Vec<String>,
    pub due_from: Option<Timestamp>,
    pub due_before: Option<Timestamp>,
    /// Lower-cased search text; matched as a substring of title or description.
    pub search: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TaskQuery {
    pub filter: TaskFilter,
    pub sort: SortKey,
    pub order: SortOrder,
    pub offset: u32,
    pub limit: u32,
}

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Debug, Clone)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    pub total: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct TaskCounts {
    pub total: u64,
    pub pending: u64,
    pub completed: u64,
}

/// The result of completing or reopening a task.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Completion {
    pub task: Task,
    /// The next occurrence created by completing a recurring task.
    pub next_instance: Option<Task>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct BulkOutcome {
    pub updated_count: u64,
    pub skipped_count: u64,
    pub total_count: u64,
    /// The tasks that changed, each with the next occurrence its completion created.
    #[serde(skip)]
    pub changed: Vec<Completion>,
}

/// The result of deleting the tasks matching a filter.
#[derive(Debug, Clone, Default)]
pub struct BulkDeletion {
    /// How many tasks matched the filter.
    pub matched: u64,
    /// The tasks deleted: all that matched, or none when the caller's expected count differed.
    pub deleted: Vec<Task>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TagCount {
    pub name: String,
    pub count: u64,
}
