//! Data interchange formats for export, import and the calendar feed (issue 24, points 4–6):
//!
//! - [`rrule`]: [`crate::Recurrence`] ⇄ RFC 5545 `RRULE`;
//! - [`ical`]: tasks → RFC 5545 iCalendar (VTODO, or VEVENT for event-only calendar apps);
//! - [`task_csv`]: tasks → CSV with a header row, safe to open in a spreadsheet;
//! - [`todoist`]: Todoist's "Export as CSV template" file → new tasks, all or nothing.
//!
//! Pure functions over [`crate::Task`] / [`crate::NewTask`] values: no I/O, no clock (every
//! function that needs "now" takes it).

pub mod ical;
pub mod ical_writer;
pub mod rrule;
pub mod task_csv;
pub mod todoist;

pub use ical::{CalendarOptions, Component, tasks_to_icalendar};
pub use rrule::{RruleError, parse_rrule, to_rrule, to_rrule_from_occurrence};
pub use task_csv::{CSV_HEADER, tasks_to_csv};
pub use todoist::{
    ImportError, ImportLimit, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, MAX_IMPORT_TASKS, parse_todoist_csv,
    todoist_priority,
};
