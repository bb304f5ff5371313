//! Validated task fields.
//!
//! "Parse, don't validate": every newtype here can only hold a valid value. The only way in is a
//! `parse`/`new` constructor (or serde deserialisation, which goes through the same constructor),
//! so storage and REST code never has to re-check a limit.

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ToSpan, Zoned};
use serde::{Deserialize, Deserializer, Serialize};

/// Maximum length of a [`Title`], in Unicode scalar values (not bytes).
pub const TITLE_MAX_CHARS: usize = 255;
/// Maximum length of a [`Description`], in Unicode scalar values.
pub const DESCRIPTION_MAX_CHARS: usize = 4000;
/// Maximum number of tags on one task (after normalisation and de-duplication).
pub const MAX_TAGS: usize = 20;
/// Maximum length of one tag, in Unicode scalar values.
pub const TAG_MAX_CHARS: usize = 50;
/// The JSON-Schema pattern (ECMA-262, also read by Python's `re`) of a [`Title`] as a client may
/// send it: optional whitespace, then 1–255 characters without control characters that neither
/// start nor end with whitespace, then optional whitespace (trimmed away).
pub const TITLE_PATTERN: &str = concat!(
    r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"(?:[^\u0000-\u001f\u007f-\u009f]{0,253}",
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?",
    r"[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
);
/// The JSON-Schema pattern of a [`Description`]: at most 4000 characters once trimmed, newlines,
/// carriage returns and tabs allowed, no other control character; all-whitespace is empty.
pub const DESCRIPTION_PATTERN: &str = concat!(
    r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"(?:[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"(?:[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,3998}",
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?)?",
    r"[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
);
/// The JSON-Schema pattern of one tag: at most 50 characters once trimmed, no control
/// characters; an empty (or all-whitespace) tag is dropped.
pub const TAG_PATTERN: &str = concat!(
    r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"(?:[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"(?:[^\u0000-\u001f\u007f-\u009f]{0,48}",
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?)?",
    r"[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
);
/// Largest reminder offset: four weeks, in minutes.
pub const REMINDER_OFFSET_MAX_MINUTES: u32 = 4 * 7 * 24 * 60;
/// Smallest and largest recurrence interval.
pub const RECURRENCE_INTERVAL_RANGE: std::ops::RangeInclusive<u32> = 1..=365;
/// Hard cap on the number of occurrences of one recurring series (docs/requirements.md,
/// "Recurrence").
pub const MAX_OCCURRENCES: u32 = 100;
/// How far in the past a due date may lie.
pub const DUE_AT_MAX_YEARS_PAST: i64 = 10;
/// How far in the future a due date may lie.
pub const DUE_AT_MAX_YEARS_AHEAD: i64 = 100;

/// A task field that failed validation. `Display` is a user-facing message naming the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// The title is empty after trimming or longer than [`TITLE_MAX_CHARS`].
    #[error("title must be 1–255 characters (got {chars})")]
    TitleLength {
        /// Length of the trimmed title in characters.
        chars: usize,
    },
    /// The title contains a control character (including newlines and tabs).
    #[error("title must not contain control characters such as newlines, tabs or NUL")]
    TitleControlCharacter,
    /// The description is longer than [`DESCRIPTION_MAX_CHARS`].
    #[error("description must be at most 4000 characters (got {chars})")]
    DescriptionTooLong {
        /// Length of the trimmed description in characters.
        chars: usize,
    },
    /// The description contains NUL or a control character other than newline, carriage return or tab.
    #[error("description must not contain control characters other than newlines and tabs")]
    DescriptionControlCharacter,
    /// More than [`MAX_TAGS`] distinct tags.
    #[error("a task can have at most 20 tags (got {count})")]
    TooManyTags {
        /// Number of distinct tags after normalisation.
        count: usize,
    },
    /// One tag is longer than [`TAG_MAX_CHARS`].
    #[error("each tag must be at most 50 characters (\"{tag}\" has {chars})")]
    TagTooLong {
        /// The offending tag, shortened for display.
        tag: String,
        /// Its length in characters.
        chars: usize,
    },
    /// A tag contains a control character.
    #[error("tags must not contain control characters")]
    TagControlCharacter,
    /// The priority is not low/medium/high or a known synonym.
    #[error("priority must be low, medium or high (got \"{input}\")")]
    UnknownPriority {
        /// The rejected input, shortened for display.
        input: String,
    },
    /// The reminder offset is negative or more than four weeks.
    #[error("reminder offset must be 0–40320 minutes (4 weeks) before the due time (got {minutes})")]
    ReminderOffsetOutOfRange {
        /// The rejected number of minutes.
        minutes: i64,
    },
    /// The recurrence interval is outside [`RECURRENCE_INTERVAL_RANGE`].
    #[error("recurrence interval must be 1–365 (got {interval})")]
    RecurrenceInterval {
        /// The rejected interval.
        interval: u32,
    },
    /// The recurrence count is outside 1..=[`MAX_OCCURRENCES`].
    #[error("recurrence count must be 1–100 occurrences (got {count})")]
    RecurrenceCount {
        /// The rejected count.
        count: u32,
    },
    /// Weekdays were given for a rule that is not weekly.
    #[error("recurrence weekdays only apply to a weekly rule (got frequency \"{frequency}\")")]
    RecurrenceWeekdaysNeedWeekly {
        /// The rule's frequency.
        frequency: Frequency,
    },
    /// A weekday name that is not one of mon, tue, wed, thu, fri, sat, sun.
    #[error("unknown weekday \"{input}\"; use mon, tue, wed, thu, fri, sat or sun")]
    UnknownWeekday {
        /// The rejected input, shortened for display.
        input: String,
    },
    /// The due date is more than [`DUE_AT_MAX_YEARS_PAST`] years in the past.
    #[error("due date must not be more than 10 years in the past")]
    DueAtTooFarInPast,
    /// The due date is more than [`DUE_AT_MAX_YEARS_AHEAD`] years in the future.
    #[error("due date must not be more than 100 years in the future")]
    DueAtTooFarInFuture,
    /// A recurrence rule or a reminder is set on a task that has no due time.
    #[error("{field} requires a due date (due_at)")]
    NeedsDueDate {
        /// The field being set, as the API names it: "recurrence" or "reminder_offset_minutes".
        field: &'static str,
    },
}

impl DomainError {
    /// The name of the field that failed: "title", "description", "tags", "priority",
    /// "reminder_offset", "recurrence" or "due_at"; for [`DomainError::NeedsDueDate`], the field
    /// being set ("recurrence" or "reminder_offset_minutes").
    pub fn field(&self) -> &'static str {
        match self {
            Self::TitleLength { .. } | Self::TitleControlCharacter => "title",
            Self::DescriptionTooLong { .. } | Self::DescriptionControlCharacter => "description",
            Self::TooManyTags { .. } | Self::TagTooLong { .. } | Self::TagControlCharacter => "tags",
            Self::UnknownPriority { .. } => "priority",
            Self::ReminderOffsetOutOfRange { .. } => "reminder_offset",
            Self::RecurrenceInterval { .. }
            | Self::RecurrenceCount { .. }
            | Self::RecurrenceWeekdaysNeedWeekly { .. }
            | Self::UnknownWeekday { .. } => "recurrence",
            Self::DueAtTooFarInPast | Self::DueAtTooFarInFuture => "due_at",
            Self::NeedsDueDate { field } => field,
        }
    }
}

/// Shortens untrusted input before it is echoed back inside an error message.
fn shorten_for_display(text: &str) -> String {
    const MAX: usize = 40;
    let mut short: String = text.chars().take(MAX).collect();
    if text.chars().nth(MAX).is_some() {
        short.push('…');
    }
    short
}

/// Implements `Deserialize` by deserialising the raw type and running it through a constructor,
/// so deserialised values obey the same rules as parsed ones.
macro_rules! deserialize_via {
    ($type:ty, $raw:ty, $constructor:expr) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <$raw>::deserialize(deserializer)?;
                $constructor(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A task title: trimmed, 1–255 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(transparent)]
#[schema(value_type = String, min_length = 1, max_length = 255, example = "Buy groceries")]
pub struct Title(#[schemars(length(min = 1, max = 255))] String);

impl Title {
    /// Trims `input` and checks it is 1–255 characters without control characters.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > TITLE_MAX_CHARS {
            return Err(DomainError::TitleLength { chars });
        }
        if trimmed.chars().any(char::is_control) {
            return Err(DomainError::TitleControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The title text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The title as an owned `String`.
    pub fn into_inner(self) -> String {
        self.0
    }
}

deserialize_via!(Title, String, |raw: String| Title::parse(&raw));

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Title {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A task description: trimmed, at most 4000 characters. Newlines, carriage returns and tabs are
/// allowed; NUL and other control characters are not. An empty description is valid (callers
/// store it as NULL).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(transparent)]
#[schema(value_type = String, max_length = 4000)]
pub struct Description(#[schemars(length(max = 4000))] String);

impl Description {
    /// Trims `input` and checks its length and characters.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        let chars = trimmed.chars().count();
        if chars > DESCRIPTION_MAX_CHARS {
            return Err(DomainError::DescriptionTooLong { chars });
        }
        if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(DomainError::DescriptionControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The description text (possibly empty).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The description as an owned `String`.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// Whether the description is empty (store it as NULL).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

deserialize_via!(Description, String, |raw: String| Description::parse(&raw));

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Task priority. Serialised lower-case; sorts low < medium < high.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Can wait.
    Low,
    /// The default.
    #[default]
    Medium,
    /// Urgent.
    High,
}

impl Priority {
    /// All priorities, lowest first.
    pub const ALL: [Priority; 3] = [Priority::Low, Priority::Medium, Priority::High];

    /// Parses a priority case-insensitively: `low`/`medium`/`high`, an optional `!` prefix or
    /// `priority` suffix ("!high", "high priority"), and the synonyms of docs/requirements.md
    /// ("Natural-language parsing on the server"):
    ///
    /// - high: urgent, asap, important, critical, emergency, immediate, top, now, today,
    ///   deadline, crucial, must do, 3, p1, hi
    /// - low: later, whenever, optional, nice to have, someday, eventually, routine, backlog,
    ///   no rush, can wait, 1, p3, lo
    /// - medium: normal, standard, default, moderate, 2, p2, med, mid
    ///
    /// Note the two numbering schemes: bare "1"/"3" follow the brief (1 = low, 3 = high), while
    /// "p1"/"p3" follow Todoist's convention (p1 = highest), which is what people type in a
    /// quick-add box.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let normalised = normalise_priority_words(input);
        let mut key = normalised.as_str();
        key = key.strip_prefix('!').unwrap_or(key).trim();
        key = key.strip_suffix("priority").unwrap_or(key).trim();
        key = key.strip_prefix("priority").unwrap_or(key).trim();
        Self::from_keyword(key)
            .ok_or_else(|| DomainError::UnknownPriority { input: shorten_for_display(input.trim()) })
    }

    /// Maps one normalised keyword (lower-case, single spaces) to a priority.
    pub(crate) fn from_keyword(key: &str) -> Option<Self> {
        match key {
            "high" | "hi" | "h" | "urgent" | "asap" | "important" | "critical" | "emergency"
            | "immediate" | "top" | "now" | "today" | "deadline" | "crucial" | "must do" | "3" | "p1" => {
                Some(Self::High)
            }
            "medium" | "med" | "mid" | "m" | "normal" | "standard" | "default" | "moderate" | "2" | "p2" => {
                Some(Self::Medium)
            }
            "low" | "lo" | "l" | "later" | "whenever" | "optional" | "nice to have" | "someday"
            | "eventually" | "routine" | "backlog" | "no rush" | "can wait" | "1" | "p3" => Some(Self::Low),
            _ => None,
        }
    }

    /// `"low"`, `"medium"` or `"high"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// Sort rank: low 1, medium 2, high 3.
    pub fn rank(self) -> u8 {
        match self {
            Self::Low => 1,
            Self::Medium => 2,
            Self::High => 3,
        }
    }
}

/// Lower-cases and collapses runs of whitespace, `-` and `_` into single spaces, so
/// "Nice-to-have", "must_do" and "HIGH   priority" all compare equal to their keywords.
fn normalise_priority_words(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for word in input.split(|c: char| c.is_whitespace() || c == '-' || c == '_').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

deserialize_via!(Priority, String, |raw: String| Priority::parse(&raw));

impl FromStr for Priority {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task's tags: trimmed, lower-cased, non-empty, distinct (first occurrence wins, order kept),
/// at most 20 tags of at most 50 characters each, no control characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
#[serde(transparent)]
#[schema(value_type = Vec<String>, max_items = 20, example = json!(["shopping", "home"]))]
pub struct Tags(#[schemars(length(max = 20))] Vec<String>);

impl Tags {
    /// Normalises and checks a list of tags.
    pub fn parse<I, S>(tags: I) -> Result<Self, DomainError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut normalised: Vec<String> = Vec::new();
        for raw in tags {
            let tag = normalise_tag(raw.as_ref());
            if tag.is_empty() || normalised.contains(&tag) {
                continue;
            }
            if tag.chars().any(char::is_control) {
                return Err(DomainError::TagControlCharacter);
            }
            let chars = tag.chars().count();
            if chars > TAG_MAX_CHARS {
                return Err(DomainError::TagTooLong { tag: shorten_for_display(&tag), chars });
            }
            normalised.push(tag);
            if normalised.len() > MAX_TAGS {
                // Keep counting so the message reports the real number.
                continue;
            }
        }
        if normalised.len() > MAX_TAGS {
            return Err(DomainError::TooManyTags { count: normalised.len() });
        }
        Ok(Self(normalised))
    }

    /// The tags, in their original order.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The tags as an owned `Vec`.
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }

    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `tag` (compared after normalisation) is present.
    pub fn contains(&self, tag: &str) -> bool {
        let tag = normalise_tag(tag);
        self.0.contains(&tag)
    }
}

/// Trim, lower-case, trim again (lower-casing never adds edge whitespace today, but the second
/// trim keeps normalisation idempotent whatever Unicode does next).
fn normalise_tag(raw: &str) -> String {
    raw.trim().to_lowercase().trim().to_owned()
}

deserialize_via!(Tags, Vec<String>, Tags::parse);

impl<'a> IntoIterator for &'a Tags {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// How many minutes before the due time a reminder fires: 0 (at the due time) to 40320 (4 weeks).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
#[serde(transparent)]
#[schema(value_type = u32, minimum = 0, maximum = 40320, example = 15)]
pub struct ReminderOffset(#[schemars(range(min = 0, max = 40320))] u32);

impl ReminderOffset {
    /// The UI's default when a reminder is switched on.
    pub const DEFAULT: ReminderOffset = ReminderOffset(15);

    /// Checks `minutes` is within 0..=40320.
    pub fn new(minutes: i64) -> Result<Self, DomainError> {
        u32::try_from(minutes)
            .ok()
            .filter(|m| *m <= REMINDER_OFFSET_MAX_MINUTES)
            .map(Self)
            .ok_or(DomainError::ReminderOffsetOutOfRange { minutes })
    }

    /// Minutes before the due time.
    pub fn minutes(self) -> u32 {
        self.0
    }
}

deserialize_via!(ReminderOffset, i64, ReminderOffset::new);

/// How often a recurring task repeats.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks.
    Weekly,
    /// Every `interval` calendar months (clamped to the month's last day).
    Monthly,
    /// Every `interval` calendar years (Feb 29 becomes Feb 28 in common years).
    Yearly,
}

impl Frequency {
    /// `"daily"`, `"weekly"`, `"monthly"` or `"yearly"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Yearly => "yearly",
        }
    }

    /// The span of `units` steps of this frequency, or `None` if it exceeds jiff's limits.
    fn span(self, units: i64) -> Option<Span> {
        match self {
            Self::Daily => Span::new().try_days(units).ok(),
            Self::Weekly => Span::new().try_weeks(units).ok(),
            Self::Monthly => Span::new().try_months(units).ok(),
            Self::Yearly => Span::new().try_years(units).ok(),
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A day of the week, for weekly rules that repeat on chosen days. Serialised as its lower-case
/// three-letter name (`"mon"` … `"sun"`); parsing also takes full names ("Thursday") and common
/// abbreviations ("tues", "thurs"), case-insensitively. Sorts Monday first (ISO 8601 weeks).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] =
        [Self::Mon, Self::Tue, Self::Wed, Self::Thu, Self::Fri, Self::Sat, Self::Sun];
    /// Monday to Friday.
    pub const WORKDAYS: [Weekday; 5] = [Self::Mon, Self::Tue, Self::Wed, Self::Thu, Self::Fri];

    /// Parses a weekday name case-insensitively: "mon", "Monday", "tues", "THURS" …
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let key = input.trim().to_lowercase();
        let day = match key.as_str() {
            "mon" | "monday" | "mo" => Self::Mon,
            "tue" | "tues" | "tuesday" | "tu" => Self::Tue,
            "wed" | "weds" | "wednesday" | "we" => Self::Wed,
            "thu" | "thur" | "thurs" | "thursday" | "th" => Self::Thu,
            "fri" | "friday" | "fr" => Self::Fri,
            "sat" | "saturday" | "sa" => Self::Sat,
            "sun" | "sunday" | "su" => Self::Sun,
            _ => return Err(DomainError::UnknownWeekday { input: shorten_for_display(input.trim()) }),
        };
        Ok(day)
    }

    /// `"mon"` … `"sun"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mon => "mon",
            Self::Tue => "tue",
            Self::Wed => "wed",
            Self::Thu => "thu",
            Self::Fri => "fri",
            Self::Sat => "sat",
            Self::Sun => "sun",
        }
    }

    /// The full English name: "Monday" … "Sunday".
    pub fn name(self) -> &'static str {
        match self {
            Self::Mon => "Monday",
            Self::Tue => "Tuesday",
            Self::Wed => "Wednesday",
            Self::Thu => "Thursday",
            Self::Fri => "Friday",
            Self::Sat => "Saturday",
            Self::Sun => "Sunday",
        }
    }

    /// Days since Monday: 0 (Monday) to 6 (Sunday).
    pub fn days_from_monday(self) -> i64 {
        match self {
            Self::Mon => 0,
            Self::Tue => 1,
            Self::Wed => 2,
            Self::Thu => 3,
            Self::Fri => 4,
            Self::Sat => 5,
            Self::Sun => 6,
        }
    }

    /// jiff's weekday of the same day.
    pub fn from_civil(day: jiff::civil::Weekday) -> Self {
        Self::ALL[usize::try_from(day.to_monday_zero_offset()).unwrap_or(0)]
    }
}

deserialize_via!(Weekday, String, |raw: String| Weekday::parse(&raw));

impl FromStr for Weekday {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sorts and de-duplicates weekdays; an empty list means "no particular days" (`None`).
fn normalise_weekdays(days: Option<Vec<Weekday>>) -> Option<Vec<Weekday>> {
    let mut days = days?;
    days.sort_unstable();
    days.dedup();
    (!days.is_empty()).then_some(days)
}

fn deserialize_weekdays<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Weekday>>, D::Error> {
    Ok(normalise_weekdays(Option::<Vec<Weekday>>::deserialize(deserializer)?))
}

fn default_interval() -> u32 {
    1
}

/// A recurrence rule. JSON:
/// `{"frequency":"weekly","interval":1,"weekdays":["mon","thu"],"count":3,"until":"2027-01-01T00:00:00Z"}`;
/// `interval` defaults to 1, `weekdays`/`count`/`until` may be missing or null (and are omitted
/// on output). `end_date` (the seed's name) is accepted as an alias of `until`.
///
/// The fields are public, so a value may be invalid until [`Recurrence::validate`] has run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Recurrence {
    /// How often the task repeats.
    pub frequency: Frequency,
    /// Repeat every `interval` units of `frequency`: 1–365, default 1.
    #[serde(default = "default_interval")]
    #[schema(minimum = 1, maximum = 365, default = 1)]
    #[schemars(range(min = 1, max = 365))]
    pub interval: u32,
    /// Weekly rules only: the days of the week it falls on (sorted, distinct), e.g. `["mon","thu"]`.
    /// Without it a weekly rule repeats on the first due date's weekday.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "deserialize_weekdays")]
    #[schema(nullable)]
    pub weekdays: Option<Vec<Weekday>>,
    /// Total number of occurrences including the first: 1–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100, nullable)]
    #[schemars(range(min = 1, max = 100))]
    pub count: Option<u32>,
    /// No occurrence is due after this instant.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "end_date")]
    #[schema(value_type = Option<String>, format = DateTime, nullable)]
    #[schemars(with = "Option<String>")]
    pub until: Option<Timestamp>,
}

impl Recurrence {
    /// A rule repeating every `interval` units of `frequency` with no end other than the hard cap.
    pub fn new(frequency: Frequency, interval: u32) -> Result<Self, DomainError> {
        Self { frequency, interval, weekdays: None, count: None, until: None }.validate()
    }

    /// A rule repeating every `interval` weeks on each of `days`.
    pub fn weekly_on(days: impl IntoIterator<Item = Weekday>, interval: u32) -> Result<Self, DomainError> {
        let weekdays = Some(days.into_iter().collect());
        Self { frequency: Frequency::Weekly, interval, weekdays, count: None, until: None }.validate()
    }

    /// Checks the interval (1–365), count (1–100) and that weekdays only come with a weekly
    /// rule; sorts and de-duplicates the weekdays (an empty list becomes none).
    pub fn validate(mut self) -> Result<Self, DomainError> {
        self.weekdays = normalise_weekdays(self.weekdays.take());
        self.check()?;
        Ok(self)
    }

    fn check(&self) -> Result<(), DomainError> {
        if !RECURRENCE_INTERVAL_RANGE.contains(&self.interval) {
            return Err(DomainError::RecurrenceInterval { interval: self.interval });
        }
        if let Some(count) = self.count
            && !(1..=MAX_OCCURRENCES).contains(&count)
        {
            return Err(DomainError::RecurrenceCount { count });
        }
        if self.weekdays.is_some() && self.frequency != Frequency::Weekly {
            return Err(DomainError::RecurrenceWeekdaysNeedWeekly { frequency: self.frequency });
        }
        Ok(())
    }

    /// The due time of the `n`-th occurrence (`n = 0` is `series_start` itself).
    ///
    /// It is always computed from the series start in the user's zone, never from the previous
    /// occurrence, so a series starting Jan 31 is due Feb 28/29, Mar 31, Apr 30 … (no drift), and
    /// the local wall-clock time survives DST changes. Returns `None` when the series has ended:
    /// `n + 1 > count`, the due time is after `until`, `n >= MAX_OCCURRENCES`, the rule is
    /// invalid, or the date leaves jiff's supported range.
    ///
    /// A weekly rule with weekdays counts in weeks starting on Monday: the week of the series
    /// start, then every `interval`-th week after it. Occurrence 0 is the start (whatever its
    /// weekday); the following ones are the listed days after it, in order.
    pub fn occurrence_due(&self, series_start: Timestamp, tz: &TimeZone, n: u32) -> Option<Timestamp> {
        if self.check().is_err() || n >= MAX_OCCURRENCES {
            return None;
        }
        if self.count.is_some_and(|count| n >= count) {
            return None;
        }
        let start = series_start.to_zoned(tz.clone());
        let span = match &self.weekdays {
            Some(days) if n > 0 => Span::new().try_days(self.weekday_offset(&start, days, n)?).ok()?,
            _ => self.frequency.span(i64::from(self.interval) * i64::from(n))?,
        };
        // Adding calendar days (not hours) keeps the wall-clock time across DST changes.
        let due = start.checked_add(span).ok()?.timestamp();
        if self.until.is_some_and(|until| due > until) {
            return None;
        }
        Some(due)
    }

    /// Days from the series start to its `n`-th occurrence (`n >= 1`) on `days` (sorted, distinct).
    fn weekday_offset(&self, start: &Zoned, days: &[Weekday], n: u32) -> Option<i64> {
        let start_day = Weekday::from_civil(start.weekday()).days_from_monday();
        // Listed days left in the start's own week, after the start itself.
        let rest_of_first_week: Vec<i64> =
            days.iter().map(|d| d.days_from_monday()).filter(|&d| d > start_day).collect();
        let n = i64::from(n);
        let first_week = i64::try_from(rest_of_first_week.len()).ok()?;
        if n <= first_week {
            let index = usize::try_from(n - 1).ok()?;
            return Some(rest_of_first_week[index] - start_day);
        }
        let per_week = i64::try_from(days.len()).ok()?;
        let later = n - first_week - 1;
        let week = 1 + later / per_week;
        let day = days[usize::try_from(later % per_week).ok()?].days_from_monday();
        Some(week * 7 * i64::from(self.interval) + day - start_day)
    }
}

/// Checks a due date is not absurd: at most 10 years before `now` and at most 100 years after.
pub fn validate_due_at(ts: Timestamp, now: Timestamp) -> Result<Timestamp, DomainError> {
    let now_utc: Zoned = now.to_zoned(TimeZone::UTC);
    // If the bound itself is outside jiff's range, nothing representable can cross it.
    if let Ok(earliest) = now_utc.checked_sub(DUE_AT_MAX_YEARS_PAST.years())
        && ts < earliest.timestamp()
    {
        return Err(DomainError::DueAtTooFarInPast);
    }
    if let Ok(latest) = now_utc.checked_add(DUE_AT_MAX_YEARS_AHEAD.years())
        && ts > latest.timestamp()
    {
        return Err(DomainError::DueAtTooFarInFuture);
    }
    Ok(ts)
}

#[cfg(test)]
#[path = "task_tests.rs"]
mod tests;
