//! Todoist's CSV project template ("Export as CSV template") → new todokit tasks.
//!
//! # The format
//!
//! Todoist's help centre documents the columns of the file it writes and reads ("Format a CSV file
//! to import into Todoist", todoist.com/help/articles/format-a-csv-file-to-import-into-todoist-UVUXTmm6,
//! and "Import or export a project as a CSV file", …/import-or-export-a-project-as-a-csv-file-in-todoist-YC8YvN):
//!
//! | column | Todoist's meaning | todokit |
//! |---|---|---|
//! | `TYPE` | `task`, `section` or `note` ("a comment to the task in the row above"); exports also write `meta` rows (view settings such as `view_style=list`) | see below; matched case-insensitively; any other value fails the import |
//! | `CONTENT` | task name, section name or note text; "add labels by typing `@labelname`" | title; each `@label` becomes a tag and leaves the title; Markdown is kept as written; a leading `* ` (Todoist's mark of an uncompletable task) is dropped |
//! | `DESCRIPTION` | task description | description |
//! | `PRIORITY` | 1–4, "1 … p1 (highest priority)", "4 … p4 (lowest priority)" | see [`todoist_priority`] |
//! | `INDENT` | 1 = top level, 2 = sub-task, 3 = sub-sub-task … | todokit has no sub-tasks: flattened, and the description gets a line `Sub-task of: <parent title>` |
//! | `AUTHOR`, `RESPONSIBLE` | `name (id)` | ignored (single-user tasks) |
//! | `DATE` | natural language ("every monday", "tomorrow 5pm", "Dec 24") | parsed by todokit's own date and repeat grammar ([`crate::nl`]) against `now` in the row's zone; a recurring phrase sets the recurrence, with Todoist's `until …`/`ending …`/`for N times` ends (read by the grammar) and yearly `every jan 27`; a rule todokit cannot keep (`every 3rd friday`, `twice a week`) is refused — see `parse_date` |
//! | `DATE_LANG` | the language of `DATE` (`en`) | the grammar is English; other languages are tried and fail with the language named if not understood |
//! | `TIMEZONE` | IANA zone of the date | the task's zone; empty → the importing user's zone; unknown → error |
//! | `DURATION`, `DURATION_UNIT`, `DEADLINE`, `DEADLINE_LANG`, anything else | newer exports | ignored |
//!
//! Columns are found by header name (trimmed, case-insensitive), never by position; only `TYPE`
//! and `CONTENT` are required. Empty rows (Todoist separates tasks with them) are skipped. Todoist
//! writes a UTF-8 byte-order mark, which is skipped.
//!
//! # Decisions
//!
//! - **Sections** become a tag (the section name, lower-cased, cut to 50 characters) on the tasks
//!   under them, so a board's "Doing" column survives as `doing`.
//! - **Notes** (comments) are appended to the preceding task's description after a blank line,
//!   as `Comment: …`. A note with no task above it (at the top, or right after a section) is
//!   skipped: there is nothing to attach it to.
//! - **Titles** longer than 255 characters are cut at a word boundary with `…`, and the full text
//!   is kept as the description's first paragraph. Newlines inside CONTENT become spaces.
//! - **Everything else is all or nothing**: a row whose priority, indent, date, zone, tags or
//!   description (with its comments) breaks a todokit rule fails the whole file with an
//!   [`ImportError`] naming its line (1-based physical line where the row starts).
//! - **Limits** ([`MAX_IMPORT_BYTES`], [`MAX_IMPORT_TASKS`], [`MAX_IMPORT_ROWS`]) are checked
//!   before parsing (size) and while reading (counts), so a huge file fails fast.

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::nl::{QuickAdd, parse_quick_add};
use crate::task::{
    DESCRIPTION_MAX_CHARS, Description, Frequency, Priority, Recurrence, TAG_MAX_CHARS, TITLE_MAX_CHARS,
    Tags, Title, validate_due_at,
};

use crate::record::NewTask;

/// Largest accepted file: 5 MiB.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Most tasks one file may create.
pub const MAX_IMPORT_TASKS: usize = 10_000;
/// Most rows of any kind (tasks, notes, sections, meta and empty rows) one file may have.
pub const MAX_IMPORT_ROWS: usize = 50_000;

/// Why a Todoist CSV file was refused. `Display` is a user-facing sentence starting with the line
/// (`line 7: …`) when the problem is on one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct ImportError {
    /// 1-based line of the file where the offending row starts, if the problem is on a row.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
    /// Which limit the file is over, when that is what is wrong.
    pub limit: Option<ImportLimit>,
}

/// The limits a Todoist file can be over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportLimit {
    /// [`MAX_IMPORT_BYTES`].
    Size,
    /// [`MAX_IMPORT_TASKS`] or [`MAX_IMPORT_ROWS`].
    Count,
}

impl ImportError {
    fn at(line: u64, message: impl Into<String>) -> Self {
        Self { line: Some(line), message: message.into(), limit: None }
    }

    fn file(message: impl Into<String>) -> Self {
        Self { line: None, message: message.into(), limit: None }
    }

    fn over(limit: ImportLimit, line: Option<u64>, message: impl Into<String>) -> Self {
        Self { line, message: message.into(), limit: Some(limit) }
    }
}

/// todokit's priority for a Todoist `PRIORITY` cell: `1` (p1, Todoist's highest) → high, `2` →
/// medium, `3` → low, `4` (p4, Todoist's lowest, also its "no priority") → low, empty → medium
/// (todokit's default; Todoist's help says an empty cell means p1, but its exports always fill
/// it). The order is kept (p1 ≥ p2 ≥ p3 ≥ p4), and `p1`/`p2`/`p3` mean what they mean in todokit's
/// quick-add box. `None` for anything else.
pub fn todoist_priority(cell: &str) -> Option<Priority> {
    match cell.trim() {
        "" => Some(Priority::Medium),
        "1" => Some(Priority::High),
        "2" => Some(Priority::Medium),
        "3" | "4" => Some(Priority::Low),
        _ => None,
    }
}

/// The header columns we read.
#[derive(Debug, Default)]
struct Columns {
    kind: usize,
    content: usize,
    description: Option<usize>,
    priority: Option<usize>,
    indent: Option<usize>,
    date: Option<usize>,
    date_lang: Option<usize>,
    timezone: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::ByteRecord, line: u64) -> Result<Self, ImportError> {
        let names: Vec<String> = header
            .iter()
            .map(|cell| {
                String::from_utf8_lossy(cell).trim().trim_start_matches('\u{feff}').to_ascii_uppercase()
            })
            .collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        let kind = find("TYPE");
        let content = find("CONTENT");
        let (Some(kind), Some(content)) = (kind, content) else {
            return Err(ImportError::at(
                line,
                "this is not a Todoist CSV template: the header row needs TYPE and CONTENT columns",
            ));
        };
        Ok(Self {
            kind,
            content,
            description: find("DESCRIPTION"),
            priority: find("PRIORITY"),
            indent: find("INDENT"),
            date: find("DATE"),
            date_lang: find("DATE_LANG"),
            timezone: find("TIMEZONE"),
        })
    }
}

/// One task being built, before validation of the description (notes may still be appended).
struct Draft {
    line: u64,
    title: Title,
    description: String,
    priority: Priority,
    tags: Tags,
    due_at: Option<Timestamp>,
    time_zone: String,
    recurrence: Option<Recurrence>,
}

/// Parses a Todoist CSV template export into new tasks, in file order.
///
/// `now` resolves relative dates ("tomorrow 5pm"); `default_time_zone` (an IANA name such as
/// `Europe/Berlin`) is used for rows without a `TIMEZONE`. All or nothing: any bad row fails the
/// whole file with the line named. Never panics, whatever the bytes.
pub fn parse_todoist_csv(
    input: &[u8],
    now: Timestamp,
    default_time_zone: &str,
) -> Result<Vec<NewTask>, ImportError> {
    if input.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::over(
            ImportLimit::Size,
            None,
            format!("the file is {} bytes; the limit is {} bytes (5 MiB)", input.len(), MAX_IMPORT_BYTES),
        ));
    }
    let default_zone = TimeZone::get(default_time_zone).map_err(|_| {
        ImportError::file(format!("unknown default time zone \"{}\"", short(default_time_zone)))
    })?;
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut columns: Option<Columns> = None;
    let mut drafts: Vec<Draft> = Vec::new();
    // Titles of the latest task at each indent level, for "Sub-task of".
    let mut parents: Vec<(u32, String)> = Vec::new();
    let mut section_tag: Option<String> = None;
    // Whether a note may attach to the last draft (false after a section row).
    let mut note_target = false;
    let mut rows = 0usize;
    let mut lines = LineCounter { input, byte: 0, line: 1 };
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                let line = err.position().map(|p| lines.line_at(p.byte()));
                return Err(ImportError {
                    limit: None,
                    line,
                    message: format!("not a readable CSV row ({})", csv_error_kind(&err)),
                });
            }
        }
        // The csv crate's own line count skips blank lines, so count newlines up to the row.
        let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
        rows += 1;
        if rows > MAX_IMPORT_ROWS {
            return Err(ImportError::over(
                ImportLimit::Count,
                Some(line),
                format!("too many rows; the limit is {MAX_IMPORT_ROWS}"),
            ));
        }
        if record.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let Some(cols) = &columns else {
            columns = Some(Columns::from_header(&record, line)?);
            continue;
        };
        let cell = |index: Option<usize>| -> Result<&str, ImportError> {
            let bytes = index.and_then(|i| record.get(i)).unwrap_or_default();
            std::str::from_utf8(bytes).map_err(|_| ImportError::at(line, "the text is not valid UTF-8"))
        };
        let kind = cell(Some(cols.kind))?.trim().to_ascii_lowercase();
        let content = cell(Some(cols.content))?;
        match kind.as_str() {
            "meta" => {}
            "section" => {
                section_tag = section_to_tag(content);
                parents.clear();
                note_target = false;
            }
            "note" => {
                if let Some(draft) = drafts.last_mut().filter(|_| note_target) {
                    let note = normalise_newlines(content.trim());
                    if !note.is_empty() {
                        push_paragraph(&mut draft.description, &format!("Comment: {note}"));
                        check_description(&draft.description, line)?;
                    }
                }
            }
            "task" => {
                if drafts.len() >= MAX_IMPORT_TASKS {
                    return Err(ImportError::over(
                        ImportLimit::Count,
                        Some(line),
                        format!("too many tasks; the limit is {MAX_IMPORT_TASKS}"),
                    ));
                }
                let row = Row {
                    line,
                    content,
                    description: cell(cols.description)?,
                    priority: cell(cols.priority)?,
                    indent: cell(cols.indent)?,
                    date: cell(cols.date)?,
                    date_lang: cell(cols.date_lang)?,
                    timezone: cell(cols.timezone)?,
                };
                let draft = row.into_draft(
                    now,
                    &default_zone,
                    default_time_zone,
                    section_tag.as_deref(),
                    &mut parents,
                )?;
                drafts.push(draft);
                note_target = true;
            }
            "" => {
                return Err(ImportError::at(
                    line,
                    "the TYPE cell is empty (expected task, section, note or meta)",
                ));
            }
            other => {
                return Err(ImportError::at(
                    line,
                    format!("unknown TYPE \"{}\" (expected task, section, note or meta)", short(other)),
                ));
            }
        }
    }
    if columns.is_none() {
        return Err(ImportError::file("the file is empty: expected a header row with TYPE and CONTENT"));
    }
    drafts.into_iter().map(Draft::finish).collect()
}

/// Turns record start offsets (which only grow) into 1-based line numbers, in linear time overall.
struct LineCounter<'a> {
    input: &'a [u8],
    byte: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX).min(self.input.len());
        // A record's position is where the previous one ended: skip the blank lines between.
        while matches!(self.input.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        if byte > self.byte {
            let newlines = self.input[self.byte..byte].iter().filter(|b| **b == b'\n').count();
            self.line += newlines as u64;
            self.byte = byte;
        }
        self.line
    }
}

/// The cells of one `task` row.
struct Row<'a> {
    line: u64,
    content: &'a str,
    description: &'a str,
    priority: &'a str,
    indent: &'a str,
    date: &'a str,
    date_lang: &'a str,
    timezone: &'a str,
}

impl Row<'_> {
    fn into_draft(
        self,
        now: Timestamp,
        default_zone: &TimeZone,
        default_zone_name: &str,
        section_tag: Option<&str>,
        parents: &mut Vec<(u32, String)>,
    ) -> Result<Draft, ImportError> {
        let line = self.line;
        let (title_text, labels) = split_labels(self.content);
        if title_text.is_empty() {
            return Err(ImportError::at(line, "the task has no name (CONTENT is empty apart from labels)"));
        }
        let (title, full_title) = fit_title(&title_text);
        let title = Title::parse(&title).map_err(|err| ImportError::at(line, err.to_string()))?;

        let priority = todoist_priority(self.priority).ok_or_else(|| {
            ImportError::at(
                line,
                format!("PRIORITY must be 1, 2, 3 or 4 (got \"{}\")", short(self.priority.trim())),
            )
        })?;

        let indent = match self.indent.trim() {
            "" => 1,
            text => text.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ImportError::at(line, format!("INDENT must be 1 or more (got \"{}\")", short(text)))
            })?,
        };
        parents.retain(|(level, _)| *level < indent);
        let parent = parents.last().map(|(_, title)| title.clone());
        parents.push((indent, title.as_str().to_owned()));

        let mut description = String::new();
        if let Some(full) = full_title {
            push_paragraph(&mut description, &full);
        }
        push_paragraph(&mut description, &normalise_newlines(self.description.trim()));
        if let Some(parent) = parent.filter(|_| indent > 1) {
            push_paragraph(&mut description, &format!("Sub-task of: {parent}"));
        }
        check_description(&description, line)?;

        let mut tag_list: Vec<String> = section_tag.map(str::to_owned).into_iter().collect();
        tag_list.extend(labels);
        let tags = Tags::parse(&tag_list).map_err(|err| ImportError::at(line, err.to_string()))?;

        let (zone, time_zone) = match self.timezone.trim() {
            "" => (default_zone.clone(), default_zone.iana_name().unwrap_or(default_zone_name).to_owned()),
            name => {
                let zone = TimeZone::get(name)
                    .map_err(|_| ImportError::at(line, format!("unknown TIMEZONE \"{}\"", short(name))))?;
                // The canonical spelling ("europe/berlin" → "Europe/Berlin").
                let name = zone.iana_name().unwrap_or(name).to_owned();
                (zone, name)
            }
        };
        let (due_at, recurrence) = parse_date(self.date, self.date_lang, &now.to_zoned(zone), line)?;
        if let Some(due) = due_at {
            validate_due_at(due, now).map_err(|err| ImportError::at(line, err.to_string()))?;
        }
        Ok(Draft { line, title, description, priority, tags, due_at, time_zone, recurrence })
    }
}

impl Draft {
    fn finish(self) -> Result<NewTask, ImportError> {
        let description = Description::parse(&self.description)
            .map_err(|err| ImportError::at(self.line, err.to_string()))?;
        Ok(NewTask {
            title: self.title,
            description: (!description.is_empty()).then_some(description),
            priority: self.priority,
            tags: self.tags,
            due_at: self.due_at,
            time_zone: self.time_zone,
            reminder: None,
            recurrence: self.recurrence,
            completed: false,
        })
    }
}

/// A DATE cell → due time and recurrence, using todokit's quick-add grammar. The whole cell must
/// be understood: any word left over is an error, and a phrase that says "every" never silently
/// becomes a one-off.
///
/// The grammar reads Todoist's recurring forms itself: an end (`every monday until dec 31`,
/// `… ending mar 1`) sets the rule's `until` (the end of that day), `… for 5 times` its count,
/// and a rule todokit cannot keep ("the n-th weekday of the month": `every 3rd friday`, `every
/// last monday`; `twice a week`; `every 2 hours`) is an error rather than a wrong rule. Only
/// `every jan 27` / `every 27 jan` (yearly) is read here.
fn parse_date(
    text: &str,
    lang: &str,
    now: &Zoned,
    line: u64,
) -> Result<(Option<Timestamp>, Option<Recurrence>), ImportError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok((None, None));
    }
    let not_understood = || {
        let lang = lang.trim();
        let hint = if lang.is_empty() || lang.eq_ignore_ascii_case("en") {
            String::new()
        } else {
            format!(" (DATE_LANG is \"{}\"; todokit reads English dates)", short(lang))
        };
        ImportError::at(line, format!("could not understand the date \"{}\"{hint}", short(text)))
    };
    // Bound the work on hostile input; no real date phrase is this long.
    const MAX_DATE_CHARS: usize = 200;
    if text.chars().count() > MAX_DATE_CHARS {
        return Err(not_understood());
    }
    let parsed = parse_quick_add(text, now);
    if let Some(why) = &parsed.repeat_unsupported {
        return Err(ImportError::at(line, format!("cannot import the date \"{}\": {why}", short(text))));
    }
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    let says_every = words.first().is_some_and(|w| matches!(w.as_str(), "every" | "each" | "ev"));
    // An end ("until …") only ends a rule the grammar read; on a one-off date it is not understood.
    let names_end = words.iter().any(|w| matches!(w.as_str(), "until" | "till" | "ending"));

    match understood(parsed) {
        Some((due, Some(repeat))) => {
            Ok((due, Some(repeat.to_recurrence().map_err(|err| ImportError::at(line, err.to_string()))?)))
        }
        _ if names_end => Err(not_understood()),
        // "every jan 27": a date that names a month, every year.
        Some((Some(_), None)) if says_every => {
            let rest = words[1..].join(" ");
            let names_month = words[1..].iter().any(|w| is_month_word(w));
            match understood(parse_quick_add(&rest, now)) {
                Some((Some(due), None)) if names_month => Ok((
                    Some(due),
                    Some(
                        Recurrence::new(Frequency::Yearly, 1)
                            .map_err(|err| ImportError::at(line, err.to_string()))?,
                    ),
                )),
                _ => Err(not_understood()),
            }
        }
        Some((due, None)) => Ok((due, None)),
        None => Err(not_understood()),
    }
}

/// The quick-add grammar's reading of a text when it is nothing but a date and/or a repeat.
fn understood(q: QuickAdd) -> Option<(Option<Timestamp>, Option<crate::nl::Repeat>)> {
    let clean = q.title.is_empty()
        && q.tags.is_empty()
        && q.priority.is_none()
        && q.description.is_none()
        && q.reminder_minutes.is_none()
        && q.repeat_unsupported.is_none()
        && (q.due.is_some() || q.repeat.is_some());
    clean.then(|| (q.due.map(|due| due.timestamp()), q.repeat))
}

fn is_month_word(word: &str) -> bool {
    const MONTHS: [&str; 12] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let word = word.trim_end_matches([',', '.']);
    word.len() >= 3 && MONTHS.iter().any(|m| word.starts_with(m)) && word.chars().all(char::is_alphabetic)
}

/// Splits `@labels` out of CONTENT: the title (single-spaced, control characters as spaces) and
/// the labels in order.
fn split_labels(content: &str) -> (String, Vec<String>) {
    let cleaned: String = content.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut words = Vec::new();
    let mut labels = Vec::new();
    // "* " marks an uncompletable task (a heading) in Todoist: a marker, not part of the name.
    let cleaned = cleaned.trim_start();
    let cleaned = cleaned.strip_prefix("* ").unwrap_or(cleaned);
    for word in cleaned.split_whitespace() {
        // "@home," at the end of a clause: the punctuation is not part of the label.
        let label = word.strip_prefix('@').map(|l| l.trim_end_matches([',', '.', ';', ':', '!', '?', ')']));
        match label {
            Some(label) if !label.is_empty() && !label.starts_with('@') => labels.push(label.to_owned()),
            _ => words.push(word),
        }
    }
    (words.join(" "), labels)
}

/// A title that fits todokit's limit, and the full text when it had to be cut.
fn fit_title(text: &str) -> (String, Option<String>) {
    if text.chars().count() <= TITLE_MAX_CHARS {
        return (text.to_owned(), None);
    }
    let head: String = text.chars().take(TITLE_MAX_CHARS - 1).collect();
    let cut = match head.rfind(' ') {
        Some(space) if space > head.len() / 2 => &head[..space],
        _ => head.as_str(),
    };
    (format!("{}…", cut.trim_end()), Some(text.to_owned()))
}

/// A section name as a tag: trimmed, lower-cased, cut to the tag limit; `None` if empty.
fn section_to_tag(name: &str) -> Option<String> {
    let cleaned: String = name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let tag: String = cleaned.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let tag: String = tag.chars().take(TAG_MAX_CHARS).collect();
    let tag = tag.trim().to_owned();
    (!tag.is_empty()).then_some(tag)
}

/// CRLF and lone CR (Windows exports) → LF.
fn normalise_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn push_paragraph(description: &mut String, paragraph: &str) {
    if paragraph.is_empty() {
        return;
    }
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(paragraph);
}

fn check_description(description: &str, line: u64) -> Result<(), ImportError> {
    let chars = description.trim().chars().count();
    if chars > DESCRIPTION_MAX_CHARS {
        return Err(ImportError::at(
            line,
            format!(
                "the description (with sub-task note and comments) would be {chars} characters; the limit is {DESCRIPTION_MAX_CHARS}"
            ),
        ));
    }
    Ok(())
}

fn csv_error_kind(err: &csv::Error) -> &'static str {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "wrong number of cells",
        _ => "malformed CSV",
    }
}

/// Shortens untrusted input before it is echoed in an error.
fn short(text: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}
