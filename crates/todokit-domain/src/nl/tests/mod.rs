//! Phrase tables: one row per line, `now` fixed per table.

mod command_table;
mod date_table;
mod properties;
mod quick_add_table;

use jiff::Zoned;

use super::{Command, Edit, ListFilter, NewDue, QuickAdd, StatusFilter, TaskRef};

/// Saturday 2026-11-21 10:00 in New York (the table's default "now").
pub(super) fn new_york_now() -> Zoned {
    "2026-11-21T10:00[America/New_York]".parse().expect("fixed now")
}

/// Friday 2026-03-27 18:30 in Berlin, two days before the spring DST change.
pub(super) fn berlin_now() -> Zoned {
    "2026-03-27T18:30[Europe/Berlin]".parse().expect("fixed now")
}

pub(super) fn local(at: &Zoned) -> String {
    at.strftime("%F %T").to_string()
}

pub(super) fn short_local(at: &Zoned) -> String {
    at.strftime("%F %R").to_string()
}

/// Compact, readable rendering of a quick-add result.
pub(super) fn render_quick_add(quick: &QuickAdd) -> String {
    let mut out = format!("{:?}", quick.title);
    if let Some(due) = &quick.due {
        out.push_str(&format!(" due={}", short_local(due)));
    }
    if let Some(priority) = quick.priority {
        out.push_str(&format!(" p={priority}"));
    }
    if !quick.tags.is_empty() {
        out.push_str(&format!(" tags={}", quick.tags.join(",")));
    }
    if let Some(repeat) = &quick.repeat {
        out.push_str(&format!(" repeat={:?}", repeat.describe()));
    }
    if let Some(minutes) = quick.reminder_minutes {
        out.push_str(&format!(" remind={minutes}m"));
    }
    if let Some(description) = &quick.description {
        out.push_str(&format!(" desc={description:?}"));
    }
    out
}

fn render_ref(task: &TaskRef) -> String {
    match task {
        TaskRef::Number(n) => format!("#{n}"),
        TaskRef::First => "first".into(),
        TaskRef::Last => "last".into(),
        TaskRef::Title(title) => format!("{title:?}"),
        TaskRef::Position(n) => format!("pos{n}"),
        TaskRef::Previous => "it".into(),
        TaskRef::PreviousAll => "them".into(),
        TaskRef::Unspecified => "?".into(),
    }
}

fn render_filter(filter: &ListFilter) -> String {
    let mut parts = Vec::new();
    if filter.status != StatusFilter::All {
        parts.push(format!("status={:?}", filter.status).to_lowercase());
    }
    if let Some(priority) = filter.priority {
        parts.push(format!("priority={priority}"));
    }
    if let Some(tag) = &filter.tag {
        parts.push(format!("tag={tag}"));
    }
    if let Some(search) = &filter.search {
        parts.push(format!("search={search:?}"));
    }
    if let Some(due) = filter.due {
        parts.push(format!("due={due:?}").to_lowercase());
    }
    if let Some(topic) = &filter.topic {
        parts.push(format!("topic={topic}"));
    }
    if let Some(sort) = filter.sort {
        parts.push(format!("sort={sort:?}").to_lowercase());
    }
    parts.join(" ")
}

fn render_due(due: &NewDue) -> String {
    match (due.has_date, due.has_time) {
        (true, true) => short_local(&due.at),
        (true, false) => due.at.strftime("%F").to_string(),
        (false, _) => format!("time {}", due.at.strftime("%R")),
    }
}

fn render_edit(edit: &Edit) -> String {
    match edit {
        Edit::AddTags(tags) => format!("+tags={}", tags.join(",")),
        Edit::RemoveTags(tags) => format!("-tags={}", tags.join(",")),
        Edit::ClearTags => "tags=none".into(),
        Edit::RaisePriority => "priority+".into(),
        Edit::LowerPriority => "priority-".into(),
        Edit::ShiftDue(shift) => format!("shift={:+}{:?}", shift.amount, shift.unit).to_lowercase(),
        Edit::ClearDue => "due=none".into(),
        Edit::Reminder(Some(minutes)) => format!("remind={minutes}m"),
        Edit::Reminder(None) => "remind=none".into(),
        Edit::Repeat(Some(repeat)) => format!("repeat={:?}", repeat.describe()),
        Edit::Repeat(None) => "repeat=none".into(),
        Edit::ClearNotes => "notes=none".into(),
        Edit::AddNote(text) => format!("note+={text:?}"),
        Edit::RepeatUnsupported(why) => format!("repeat-refused={why:?}"),
        Edit::RemindAt(when) => format!("remind-at={}", render_due(when)),
    }
}

/// Compact, readable rendering of a command, e.g. `complete #3` or `list status=pending`.
pub(super) fn render(command: &Command) -> String {
    let joined = |head: &str, tail: String| {
        if tail.is_empty() { head.to_owned() } else { format!("{head} {tail}") }
    };
    match command {
        Command::Add(quick) => format!("add {}", render_quick_add(quick)),
        Command::AddMissingTitle => "add-missing-title".into(),
        Command::AddSeveral { count, topic } => format!("add-several {count} {topic:?}"),
        Command::List(filter) => joined("list", render_filter(filter)),
        Command::Show(task) => format!("show {}", render_ref(task)),
        Command::Count(filter) => joined("count", render_filter(filter)),
        Command::Complete(task) => format!("complete {}", render_ref(task)),
        Command::Reopen(task) => format!("reopen {}", render_ref(task)),
        Command::CompleteAll(filter) => joined("complete-all", render_filter(filter)),
        Command::ReopenAll(filter) => joined("reopen-all", render_filter(filter)),
        Command::Delete(task) => format!("delete {}", render_ref(task)),
        Command::DeleteAll(filter)
            if *filter == ListFilter { status: StatusFilter::Completed, ..ListFilter::default() } =>
        {
            "delete-completed".into()
        }
        Command::DeleteAll(filter) => joined("delete-all", render_filter(filter)),
        Command::Edit(task, edit) => format!("edit {} {}", render_ref(task), render_edit(edit)),
        Command::Undo => "undo".into(),
        Command::Retract(None) => "retract".into(),
        Command::Retract(Some(task)) => format!("retract {}", render_ref(task)),
        Command::Confirm => "confirm".into(),
        Command::Deny => "deny".into(),
        Command::Rename(task, title) => format!("rename {} {title:?}", render_ref(task)),
        Command::Describe(task, text) => format!("describe {} {text:?}", render_ref(task)),
        Command::SetPriority(task, priority) => format!("priority {} {priority}", render_ref(task)),
        Command::Reschedule(task, due) => format!("reschedule {} {}", render_ref(task), render_due(due)),
        Command::RescheduleAll(filter, due) => {
            joined("reschedule-all", [render_filter(filter), render_due(due)].join(" ").trim().to_owned())
        }
        Command::Sequence(commands) => commands.iter().map(render).collect::<Vec<_>>().join(" ; "),
        Command::Help => "help".into(),
        Command::Greeting => "greeting".into(),
        Command::Thanks => "thanks".into(),
        Command::OffTopic(kind) => format!("off-topic {kind:?}").to_lowercase(),
        Command::Unclear => "unclear".into(),
    }
}
