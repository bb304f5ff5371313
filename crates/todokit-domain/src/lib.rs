//! todokit's task domain: validated task fields ([`task`]), calendar-correct recurrence, task
//! records and the rules that change them ([`record`]: a patch, completion, the next occurrence),
//! the words for filtering and sorting tasks ([`query`]) and the natural-language command and
//! date parser ([`nl`]). Pure logic: no I/O, no async.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod nl;
pub mod query;
pub mod record;
pub mod task;

pub use query::{DueWindow, SortKey, SortOrder, StatusFilter};
pub use record::{NewTask, Task, TaskPatch};
pub use task::{
    DESCRIPTION_MAX_CHARS, Description, DomainError, Frequency, MAX_OCCURRENCES, MAX_TAGS, Priority,
    Recurrence, ReminderOffset, TAG_MAX_CHARS, TITLE_MAX_CHARS, Tags, Title, Weekday, validate_due_at,
};
