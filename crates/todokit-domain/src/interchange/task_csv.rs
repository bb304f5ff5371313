//! Tasks → CSV (`?format=csv`): RFC 4180 (CRLF, fields with `,` `"` or line breaks quoted, `"`
//! doubled), UTF-8 without a byte-order mark, one header row ([`CSV_HEADER`]).
//!
//! | column | content |
//! |---|---|
//! | `number` | the per-user task number |
//! | `title`, `description` | as stored (empty description → empty cell) |
//! | `priority` | `low`, `medium` or `high` |
//! | `tags` | comma-and-space separated: `home, errands` |
//! | `due_at`, `completed_at`, `created_at`, `updated_at` | RFC 3339 in UTC (`2026-12-08T16:00:00Z`), or empty |
//! | `time_zone` | the IANA zone the due time was set in |
//! | `reminder_offset_minutes` | minutes before the due time, or empty |
//! | `recurrence` | an RFC 5545 RRULE (`FREQ=WEEKLY;BYDAY=MO,TH`), see [`super::rrule`]: exact, and readable enough; empty when the task does not repeat |
//! | `completed` | `true` / `false` |
//!
//! # Spreadsheet formula injection
//!
//! A spreadsheet treats a cell starting with `=`, `+`, `-` or `@` (and, in some, a tab or carriage
//! return) as a formula, so a task titled `=HYPERLINK("http://evil","click")` would run when the
//! export is opened. Every cell that starts with one of those characters is written with a leading
//! `'` (OWASP's "CSV injection" advice), which spreadsheets hide and treat as "this is text"; so is
//! a cell that itself starts with `'`, which a spreadsheet would otherwise hide. The price is a
//! visible `'` in programs that read the CSV as data; [`unguard_cell`] removes it exactly (the
//! scheme is reversible). No generated column (numbers,
//! dates, `true`/`false`, RRULEs, priorities) can start with one, so only user text is ever
//! changed.

use super::rrule::to_rrule;
use crate::record::Task;

/// The header row, in column order.
pub const CSV_HEADER: [&str; 13] = [
    "number",
    "title",
    "description",
    "priority",
    "tags",
    "due_at",
    "time_zone",
    "reminder_offset_minutes",
    "recurrence",
    "completed",
    "completed_at",
    "created_at",
    "updated_at",
];

/// Characters that make a spreadsheet read a cell as a formula.
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` with a `'` in front if it would otherwise start a formula, or if it already starts with
/// `'` (which a spreadsheet would hide, and which [`unguard_cell`] must not confuse with a guard).
pub fn guard_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_TRIGGERS) || cell.starts_with('\'') {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Undoes [`guard_cell`]: drops a leading `'` that is followed by a formula character or another `'`.
pub fn unguard_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_TRIGGERS) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

/// Writes `tasks` as CSV with a header row. Fails only if the CSV writer does (it writes to
/// memory, so in practice never).
pub fn tasks_to_csv(tasks: &[Task]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(CSV_HEADER)?;
    for task in tasks {
        writer.write_record(task_row(task).iter().map(|cell| guard_cell(cell).into_owned()))?;
    }
    writer.into_inner().map_err(|err| csv::Error::from(err.into_error()))
}

/// One task's cells, unguarded, in [`CSV_HEADER`] order.
pub fn task_row(task: &Task) -> [String; 13] {
    let timestamp = |at: Option<jiff::Timestamp>| at.map(|at| at.to_string()).unwrap_or_default();
    let series_start = task.series_start_at.or(task.due_at).map(|at| {
        let zone = jiff::tz::TimeZone::get(&task.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        at.to_zoned(zone)
    });
    [
        task.number.to_string(),
        task.title.clone(),
        task.description.clone().unwrap_or_default(),
        task.priority.as_str().to_owned(),
        task.tags.join(", "),
        timestamp(task.due_at),
        task.time_zone.clone(),
        task.reminder_offset_minutes.map(|m| m.to_string()).unwrap_or_default(),
        task.recurrence.as_ref().map(|rule| to_rrule(rule, series_start.as_ref())).unwrap_or_default(),
        task.completed.to_string(),
        timestamp(task.completed_at),
        timestamp(Some(task.created_at)),
        timestamp(Some(task.updated_at)),
    ]
}
