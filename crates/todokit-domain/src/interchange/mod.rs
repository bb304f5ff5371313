//! Data interchange formats for export, import and the calendar feed (issue 24, points 4–6):
//!
//! - [`rrule`]: [`crate::Recurrence`] ⇄ RFC 5545 `RRULE`;
//! - [`ical`]: tasks → RFC 5545 iCalendar (VTODO, or VEVENT for event-only calendar apps);
//! - [`task_csv`]: tasks → CSV with a header row, safe to open in a spreadsheet;
//! - [`todoist`]: Todoist's "Export as CSV template" file → new tasks, all or nothing.
//!
//! Pure functions over values: no I/O, no clock (every function that needs "now" takes it).

pub mod ical_writer;
pub mod rrule;

pub use rrule::{RruleError, parse_rrule, to_rrule, to_rrule_from_occurrence};
pub mod todoist;

pub use todoist::{
    ImportError, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, MAX_IMPORT_TASKS, parse_todoist_csv, todoist_priority,
};

// TEMPORARY until the `domain` branch moves the record types here: same shape as the server's.
/// A validated new task (mirror of the server's `NewTask` until it moves into this crate).
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// Title.
    pub title: crate::Title,
    /// Description.
    pub description: Option<crate::Description>,
    /// Priority.
    pub priority: crate::Priority,
    /// Tags.
    pub tags: crate::Tags,
    /// Due time.
    pub due_at: Option<jiff::Timestamp>,
    /// IANA zone.
    pub time_zone: String,
    /// Reminder.
    pub reminder: Option<crate::ReminderOffset>,
    /// Recurrence.
    pub recurrence: Option<crate::Recurrence>,
    /// Completed.
    pub completed: bool,
}
