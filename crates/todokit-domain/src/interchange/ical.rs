//! Tasks → RFC 5545 iCalendar, for the `?format=ics` export and the calendar feed.
//!
//! # VTODO or VEVENT
//!
//! A task is a to-do, so the faithful form is a **VTODO** ([`Component::Todo`]): it has `DUE`,
//! `STATUS:COMPLETED`/`COMPLETED`, `PERCENT-COMPLETE`, and tasks without a due date fit. The
//! export uses it. But most calendar apps that *subscribe* to a URL (Google Calendar, Outlook,
//! Apple Calendar) ignore VTODOs entirely — only task apps (Thunderbird, Apple Reminders via
//! CalDAV, Tasks.org, DAVx⁵) show them. So the feed should offer [`Component::Event`]: each task
//! **with a due date** becomes a VEVENT so it shows up on the day:
//!
//! - a task due at a time → an event starting at the due time, [`EVENT_DURATION_MINUTES`] long;
//! - a task due on a date without a time (todokit stores those at 23:59:59 local,
//!   [`crate::nl::DEFAULT_DUE_TIME`]) → an all-day event on that date;
//! - `TRANSP:TRANSPARENT`, so tasks never make the user look busy;
//! - completed tasks are kept (when [`CalendarOptions::include_completed`]) with `✓ ` before the
//!   summary, since VEVENT has no completed status.
//!
//! # Times
//!
//! One-off due times are written in **UTC** (`DUE:20261208T160000Z`): an instant is an instant,
//! it needs no VTIMEZONE and every parser reads it. **Recurring** tasks are different: todokit
//! repeats them at the same *wall-clock* time in the task's zone across DST changes, and a client
//! expands an RRULE in the zone of its `DTSTART`, so a UTC start would drift by an hour twice a
//! year. Their `DTSTART`/`DUE` therefore carry `TZID=<IANA name>`, and the calendar gets one
//! VTIMEZONE per zone used, built from jiff's copy of the time-zone database: an observance for
//! each offset change from the earliest such start to [`VTIMEZONE_YEARS`] years after the latest
//! (clients that know the IANA name — most do — use their own rules beyond that).
//!
//! # Other fields
//!
//! `UID` is `<task id>@<uid_domain>` (stable across exports, so re-importing or re-polling updates
//! rather than duplicates); `DTSTAMP` and `LAST-MODIFIED` are the task's `updated_at` (RFC 5545:
//! without a METHOD, DTSTAMP is the last revision), so the same tasks always give byte-identical
//! output — good for the feed's ETag. `PRIORITY` is 1 (high), 5 (medium) or 9 (low) — RFC 5545
//! §3.8.1.9's "1–4 high, 5 medium, 6–9 low" bands. Tags become `CATEGORIES`. A reminder becomes a
//! VALARM (`ACTION:DISPLAY`): for a VTODO `TRIGGER;RELATED=END:-PT15M` — relative to `DUE`; a bare
//! relative trigger would be relative to `DTSTART` — and for a timed VEVENT `TRIGGER:-PT15M`
//! (its start is the due time). An RRULE is written for a recurring task's current (open)
//! occurrence, with `COUNT` reduced by the occurrences already past, so a series shows once;
//! completed occurrences are plain one-off entries.
//!
//! # Checked against
//!
//! The tests read the output back with the `icalendar` crate's parser. Once, by hand (not part of
//! the suite), the same sample calendars were read with Python's `icalendar` 7.3.2: no parse
//! errors; SUMMARY/DESCRIPTION/CATEGORIES unescaped as written; `TRIGGER;RELATED=END`; dateutil
//! expanded the RRULEs to the occurrences todokit computes (Mon/Thu at 09:00 Berlin; Dec 31 →
//! Jan 31 → Feb 28 → Mar 31 at 23:59:59 New York across the DST change); and a VTIMEZONE renamed
//! to an unknown TZID, so only its observances could be used, still gave +01:00 in winter and
//! +02:00 in summer through 2036.

use std::collections::BTreeMap;

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan, Zoned};

use super::ical_writer::ContentWriter;
use super::rrule::{UntilForm, format_utc, rrule_for_export};
use crate::nl::DEFAULT_DUE_TIME;
use crate::record::Task;
use crate::task::Priority;

/// Length of the VEVENT for a task due at a time of day.
pub const EVENT_DURATION_MINUTES: u32 = 30;
/// How many years of offset changes a VTIMEZONE lists after the latest recurring start.
pub const VTIMEZONE_YEARS: i16 = 10;

/// Which component each task becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Component {
    /// VTODO: every task (the export).
    #[default]
    Todo,
    /// VEVENT: tasks with a due date (a feed for calendar apps that show only events).
    Event,
}

/// How to write the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarOptions {
    /// `PRODID`, e.g. `-//todokit//todokit 0.1//EN`.
    pub prodid: String,
    /// The right-hand side of each `UID` (`<task id>@<uid_domain>`): the server's host name.
    pub uid_domain: String,
    /// VTODO or VEVENT.
    pub component: Component,
    /// The calendar's display name (`NAME` of RFC 7986 and the widely read `X-WR-CALNAME`).
    pub name: Option<String>,
    /// Whether completed tasks are included.
    pub include_completed: bool,
    /// How often subscribers should poll, in minutes (RFC 7986 `REFRESH-INTERVAL` and the
    /// widely read `X-PUBLISHED-TTL`); `None` leaves it to the client. For the feed.
    pub refresh_interval_minutes: Option<u32>,
}

impl Default for CalendarOptions {
    fn default() -> Self {
        Self {
            prodid: "-//todokit//todokit//EN".to_owned(),
            uid_domain: "todokit.invalid".to_owned(),
            component: Component::Todo,
            name: None,
            include_completed: true,
            refresh_interval_minutes: None,
        }
    }
}

/// RFC 5545 PRIORITY of a todokit priority: 1, 5 or 9.
pub fn ical_priority(priority: Priority) -> u8 {
    match priority {
        Priority::High => 1,
        Priority::Medium => 5,
        Priority::Low => 9,
    }
}

/// todokit's priority for an RFC 5545 PRIORITY (0 = undefined → the default).
pub fn priority_from_ical(value: u8) -> Priority {
    match value {
        1..=4 => Priority::High,
        6..=9 => Priority::Low,
        _ => Priority::Medium,
    }
}

/// Writes `tasks` as one VCALENDAR (CRLF line ends, folded at 75 octets).
pub fn tasks_to_icalendar(tasks: &[Task], options: &CalendarOptions) -> String {
    let entries: Vec<Entry> = tasks
        .iter()
        .filter(|task| options.include_completed || !task.completed)
        .filter(|task| options.component == Component::Todo || task.due_at.is_some())
        .map(Entry::new)
        .collect();

    let mut w = ContentWriter::new();
    w.raw("BEGIN", "VCALENDAR");
    w.raw("VERSION", "2.0");
    w.text("PRODID", &options.prodid);
    w.raw("CALSCALE", "GREGORIAN");
    if let Some(name) = &options.name {
        w.text("NAME", name);
        w.text("X-WR-CALNAME", name);
    }
    if let Some(minutes) = options.refresh_interval_minutes.filter(|m| *m > 0) {
        w.raw("REFRESH-INTERVAL;VALUE=DURATION", &format!("PT{minutes}M"));
        w.raw("X-PUBLISHED-TTL", &format!("PT{minutes}M"));
    }
    write_timezones(&mut w, &entries);
    for entry in &entries {
        match options.component {
            Component::Todo => write_todo(&mut w, entry, options),
            Component::Event => write_event(&mut w, entry, options),
        }
    }
    w.raw("END", "VCALENDAR");
    w.finish()
}

/// A task with its zone resolved and its recurrence decided.
struct Entry<'a> {
    task: &'a Task,
    zone: TimeZone,
    /// The due time in the task's zone.
    due: Option<Zoned>,
    /// The RRULE inputs when this entry repeats (open occurrence of a live series).
    repeats: bool,
}

impl<'a> Entry<'a> {
    fn new(task: &'a Task) -> Self {
        // An unknown zone name (never written by todokit) falls back to UTC.
        let zone = TimeZone::get(&task.time_zone).unwrap_or(TimeZone::UTC);
        let due = task.due_at.map(|at| at.to_zoned(zone.clone()));
        let repeats = !task.completed
            && due.is_some()
            && task
                .recurrence
                .as_ref()
                .is_some_and(|rule| rule.count.is_none_or(|count| task.occurrence_index < count));
        Self { task, zone, due, repeats }
    }

    /// Whether the zone needs a TZID (recurring, and not plain UTC).
    fn zoned_times(&self) -> bool {
        self.repeats && self.zone.iana_name().is_some_and(|name| name != "UTC" && name != "Etc/UTC")
    }

    fn series_start(&self) -> Option<Zoned> {
        let start = self.task.series_start_at.or(self.task.due_at)?;
        Some(start.to_zoned(self.zone.clone()))
    }

    fn rrule(&self, until: UntilForm) -> Option<String> {
        if !self.repeats {
            return None;
        }
        let rule = self.task.recurrence.as_ref()?;
        rrule_for_export(rule, self.series_start().as_ref(), self.task.occurrence_index, until)
    }

    /// A due time on a date without a time of day (stored at 23:59:59 local).
    fn is_date_only(&self) -> bool {
        self.due.as_ref().is_some_and(|due| due.time() == DEFAULT_DUE_TIME)
    }

    fn uid(&self, options: &CalendarOptions) -> String {
        format!("{}@{}", self.task.id, options.uid_domain)
    }
}

/// `DUE:…Z` or `DUE;TZID=Europe/Berlin:…` for an entry's due time.
fn write_time(w: &mut ContentWriter, name: &str, entry: &Entry, at: &Zoned) {
    match entry.zone.iana_name().filter(|_| entry.zoned_times()) {
        Some(tzid) => {
            w.raw(&format!("{name};TZID={tzid}"), &at.datetime().strftime("%Y%m%dT%H%M%S").to_string())
        }
        None => w.raw(name, &format_utc(at.timestamp())),
    }
}

fn write_common(w: &mut ContentWriter, entry: &Entry, options: &CalendarOptions, summary: &str) {
    let task = entry.task;
    w.text("UID", &entry.uid(options));
    w.raw("DTSTAMP", &format_utc(task.updated_at));
    w.raw("CREATED", &format_utc(task.created_at));
    w.raw("LAST-MODIFIED", &format_utc(task.updated_at));
    w.text("SUMMARY", summary);
    if let Some(description) = task.description.as_deref().filter(|d| !d.is_empty()) {
        w.text("DESCRIPTION", description);
    }
    w.raw("PRIORITY", &ical_priority(task.priority).to_string());
    if !task.tags.is_empty() {
        w.text_list("CATEGORIES", &task.tags);
    }
}

fn write_todo(w: &mut ContentWriter, entry: &Entry, options: &CalendarOptions) {
    let task = entry.task;
    w.raw("BEGIN", "VTODO");
    write_common(w, entry, options, &task.title);
    if let Some(due) = &entry.due {
        // A recurring VTODO needs DTSTART to anchor its RRULE (RFC 5545 §3.8.5.3).
        if entry.repeats {
            write_time(w, "DTSTART", entry, due);
        }
        write_time(w, "DUE", entry, due);
    }
    if task.completed {
        w.raw("STATUS", "COMPLETED");
        w.raw("PERCENT-COMPLETE", "100");
        w.raw("COMPLETED", &format_utc(task.completed_at.unwrap_or(task.updated_at)));
    } else {
        w.raw("STATUS", "NEEDS-ACTION");
    }
    if let Some(rrule) = entry.rrule(UntilForm::DateTime) {
        w.raw("RRULE", &rrule);
    }
    write_alarm(w, entry, "TRIGGER;RELATED=END");
    w.raw("END", "VTODO");
}

fn write_event(w: &mut ContentWriter, entry: &Entry, options: &CalendarOptions) {
    let task = entry.task;
    let Some(due) = &entry.due else { return };
    w.raw("BEGIN", "VEVENT");
    let summary = if task.completed { format!("✓ {}", task.title) } else { task.title.clone() };
    write_common(w, entry, options, &summary);
    let trigger = if entry.is_date_only() {
        let day = due.date();
        let next = day.tomorrow().unwrap_or(day);
        w.raw("DTSTART;VALUE=DATE", &day.strftime("%Y%m%d").to_string());
        w.raw("DTEND;VALUE=DATE", &next.strftime("%Y%m%d").to_string());
        if let Some(rrule) = entry.rrule(UntilForm::Date(entry.zone.clone())) {
            w.raw("RRULE", &rrule);
        }
        // The day ends at the next midnight, one second after the stored due time.
        "TRIGGER;RELATED=END"
    } else {
        write_time(w, "DTSTART", entry, due);
        w.raw("DURATION", &format!("PT{EVENT_DURATION_MINUTES}M"));
        if let Some(rrule) = entry.rrule(UntilForm::DateTime) {
            w.raw("RRULE", &rrule);
        }
        "TRIGGER"
    };
    w.raw("TRANSP", "TRANSPARENT");
    w.raw("STATUS", "CONFIRMED");
    write_alarm(w, entry, trigger);
    w.raw("END", "VEVENT");
}

fn write_alarm(w: &mut ContentWriter, entry: &Entry, trigger: &str) {
    let task = entry.task;
    let Some(minutes) = task.reminder_offset_minutes.filter(|_| !task.completed && task.due_at.is_some())
    else {
        return;
    };
    w.raw("BEGIN", "VALARM");
    w.raw("ACTION", "DISPLAY");
    w.text("DESCRIPTION", &task.title);
    w.raw(trigger, &before_duration(minutes));
    w.raw("END", "VALARM");
}

/// `-PT15M`, `-PT2H`, `-P1D`, `-P1DT1H30M`, `PT0S`: a negative RFC 5545 duration of `minutes`.
pub fn before_duration(minutes: u32) -> String {
    if minutes == 0 {
        return "PT0S".to_owned();
    }
    let (days, rest) = (minutes / 1440, minutes % 1440);
    let (hours, mins) = (rest / 60, rest % 60);
    let mut out = String::from("-P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if rest > 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if mins > 0 {
            out.push_str(&format!("{mins}M"));
        }
    }
    out
}

/// One VTIMEZONE per zone used by a TZID, listing its offset changes over the span needed.
fn write_timezones(w: &mut ContentWriter, entries: &[Entry]) {
    let mut spans: BTreeMap<&str, (Timestamp, Timestamp, &TimeZone)> = BTreeMap::new();
    for entry in entries.iter().filter(|e| e.zoned_times()) {
        let (Some(name), Some(start)) = (entry.zone.iana_name(), entry.series_start()) else { continue };
        let due = entry.due.as_ref().map_or(start.timestamp(), Zoned::timestamp);
        let first = start.timestamp().min(due);
        let last = start.timestamp().max(due);
        spans
            .entry(name)
            .and_modify(|(from, to, _)| {
                *from = (*from).min(first);
                *to = (*to).max(last);
            })
            .or_insert((first, last, &entry.zone));
    }
    for (name, (from, to, zone)) in spans {
        write_timezone(w, name, zone, from, to);
    }
}

fn write_timezone(w: &mut ContentWriter, name: &str, zone: &TimeZone, from: Timestamp, to: Timestamp) {
    // A day of margin before, VTIMEZONE_YEARS after (falling back to `to` at the end of time).
    let from = from.checked_sub(24.hours()).unwrap_or(from);
    let until = to
        .to_zoned(TimeZone::UTC)
        .checked_add(i64::from(VTIMEZONE_YEARS).years())
        .map_or(to, |z| z.timestamp());
    w.raw("BEGIN", "VTIMEZONE");
    w.text("TZID", name);
    // The observance in force at the start.
    let info = zone.to_offset_info(from);
    let mut previous = info.offset();
    write_observance(w, info.dst().is_dst(), from, previous, previous, info.abbreviation());
    for transition in zone.following(from).take_while(|t| t.timestamp() <= until) {
        let offset = transition.offset();
        write_observance(
            w,
            transition.dst().is_dst(),
            transition.timestamp(),
            previous,
            offset,
            transition.abbreviation(),
        );
        previous = offset;
    }
    w.raw("END", "VTIMEZONE");
}

/// One STANDARD/DAYLIGHT block: its onset in the local time before it (RFC 5545 §3.6.5).
fn write_observance(
    w: &mut ContentWriter,
    dst: bool,
    at: Timestamp,
    from: Offset,
    to: Offset,
    abbreviation: &str,
) {
    let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
    let local: DateTime = from.to_datetime(at);
    w.raw("BEGIN", kind);
    w.raw("DTSTART", &local.strftime("%Y%m%dT%H%M%S").to_string());
    w.raw("TZOFFSETFROM", &format_offset(from));
    w.raw("TZOFFSETTO", &format_offset(to));
    if !abbreviation.is_empty() {
        w.text("TZNAME", abbreviation);
    }
    w.raw("END", kind);
}

/// `+0100`, `-0330`, `+005328` (seconds only when present); never `-0000`.
fn format_offset(offset: Offset) -> String {
    let total = offset.seconds();
    let sign = if total < 0 { '-' } else { '+' };
    let abs = total.unsigned_abs();
    let (hours, minutes, seconds) = (abs / 3600, abs % 3600 / 60, abs % 60);
    if seconds == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{seconds:02}")
    }
}
