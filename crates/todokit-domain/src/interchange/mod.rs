//! Data interchange formats for export, import and the calendar feed (issue 24, points 4–6):
//!
//! - [`rrule`]: [`crate::Recurrence`] ⇄ RFC 5545 `RRULE`;
//! - [`ical`]: tasks → RFC 5545 iCalendar (VTODO, or VEVENT for event-only calendar apps);
//! - [`task_csv`]: tasks → CSV with a header row, safe to open in a spreadsheet;
//! - [`todoist`]: Todoist's "Export as CSV template" file → new tasks, all or nothing.
//!
//! Pure functions over values: no I/O, no clock (every function that needs "now" takes it).

pub mod ical;
pub mod ical_writer;
pub mod rrule;
pub mod task_csv;

pub use ical::{CalendarOptions, Component, tasks_to_icalendar};
pub use rrule::{RruleError, parse_rrule, to_rrule, to_rrule_from_occurrence};
pub use task_csv::{CSV_HEADER, tasks_to_csv};
pub mod todoist;

pub use todoist::{
    ImportError, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, MAX_IMPORT_TASKS, parse_todoist_csv, todoist_priority,
};

// TEMPORARY until the `domain` branch moves the record types into this crate (same shape as the
// server's; `id` is a `Uuid` there, only ever formatted here).
/// A task as stored (mirror of the server's `Task` until it moves into this crate).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: String,
    pub number: i64,
    pub title: String,
    pub description: Option<String>,
    pub priority: crate::Priority,
    pub tags: Vec<String>,
    pub due_at: Option<jiff::Timestamp>,
    pub time_zone: String,
    pub reminder_offset_minutes: Option<u32>,
    pub reminder_sent: bool,
    pub recurrence: Option<crate::Recurrence>,
    pub parent_task_id: Option<String>,
    pub completed: bool,
    pub completed_at: Option<jiff::Timestamp>,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    pub occurrence_index: u32,
    pub series_id: Option<String>,
    pub series_start_at: Option<jiff::Timestamp>,
}

/// A validated new task (mirror of the server's `NewTask` until it moves into this crate).
#[allow(missing_docs)]
#[derive(Debug, Clone)]
pub struct NewTask {
    pub title: crate::Title,
    pub description: Option<crate::Description>,
    pub priority: crate::Priority,
    pub tags: crate::Tags,
    pub due_at: Option<jiff::Timestamp>,
    pub time_zone: String,
    pub reminder: Option<crate::ReminderOffset>,
    pub recurrence: Option<crate::Recurrence>,
    pub completed: bool,
}
