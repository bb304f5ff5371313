//! Recurrence phrases ("every Thursday", "every other week", "on the 15th of every month",
//! "every weekday") and reminder phrases ("remind me an hour before", "30 min before").
//!
//! Both work on tokens and report which ones they used, so quick-add can take them out of the
//! title and the command parser can read them as edits ("make it repeat every Monday").
//!
//! A rule may end: "for 5 times" / "5 times" / "for 10 weeks" set [`Repeat::count`] here;
//! "until dec 31" / "ending jan 31" / "till friday" need "now" and are read by quick-add into
//! [`Repeat::until`]. "every day except weekends" (or any weekdays) leaves days out of a daily
//! or weekly rule; "once a week" is weekly; "every month on the last day" is the 31st, which
//! the domain clamps.
//!
//! Phrases todokit's `Recurrence` cannot express are found by [`find_unsupported_repeat`] and
//! are never read as some other rule: the n-th weekday of a month ("every 3rd friday", "every
//! last monday", "first monday of every month", "every second tuesday of the month"; plain
//! "every second tuesday" is every other Tuesday), several times per unit ("twice a week"),
//! more often than daily ("every 2 hours", "hourly") and exceptions other than weekdays
//! ("except holidays").

use jiff::Zoned;
use jiff::civil::{Date, Weekday};
use serde::{Serialize, Serializer};

use super::date::{day_number, weekday_word};
use super::token::{Token, digits, small_number};
use crate::task::{DomainError, Frequency, Recurrence, Weekday as TaskWeekday};

/// How often a task repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RepeatFrequency {
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks (on `weekdays`, when given).
    Weekly,
    /// Every `interval` calendar months.
    Monthly,
    /// Every `interval` years.
    Yearly,
}

/// A recurrence rule as said, before it is checked against the domain's limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repeat {
    /// The unit.
    pub frequency: RepeatFrequency,
    /// Every `interval` units (1 = every, 2 = every other).
    pub interval: u32,
    /// Weekly rules on named days ("every Mon and Thu"), Monday first; empty means "on the
    /// due date's weekday". Serialized as `"mon"`, `"tue"` …
    #[serde(serialize_with = "weekday_names", skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<Weekday>,
    /// Monthly rules on a day of the month ("on the 15th of every month"). 31 is also "the last
    /// day of the month": the domain clamps it to shorter months' last day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month_day: Option<i8>,
    /// Total number of occurrences, the first included ("for 5 times", "5 times").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// No occurrence is due after this ("until Dec 31" = the end of Dec 31 in the user's zone).
    /// Only quick-add sets it: reading the date needs "now".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Zoned>,
}

impl Repeat {
    fn every(frequency: RepeatFrequency, interval: u32) -> Self {
        Repeat { frequency, interval, weekdays: Vec::new(), month_day: None, count: None, until: None }
    }

    /// The first day on or after `today` that the rule falls on, when the rule names days
    /// (weekdays or a day of the month); `None` when any day can start it.
    pub fn first_day(&self, today: Date) -> Option<Date> {
        if !self.weekdays.is_empty() {
            return (0..7)
                .filter_map(|ahead| today.checked_add(jiff::Span::new().days(ahead)).ok())
                .find(|day| self.weekdays.contains(&day.weekday()));
        }
        let day = self.month_day?;
        let mut month = today.first_of_month();
        // The series is computed from its first occurrence, clamping each later month, so it
        // must start in a month that has the day: "every 31st" from Nov 21 starts Dec 31 (then
        // Jan 31, Feb 28, Mar 31 …); starting Nov 30 would make every later one the 30th.
        for _ in 0..4 {
            if month.last_of_month().day() >= day {
                let candidate = month.with().day(day).build().ok()?;
                if candidate >= today {
                    return Some(candidate);
                }
            }
            month = month.checked_add(jiff::Span::new().months(1)).ok()?;
        }
        None
    }

    /// The domain rule (a monthly day of the month is carried by the first due date, which
    /// quick-add sets to it), with its count and end. Fails on an interval or count out of the
    /// domain's range.
    pub fn to_recurrence(&self) -> Result<Recurrence, DomainError> {
        let mut rule = self.to_open_recurrence()?;
        rule.count = self.count;
        rule.until = self.until.as_ref().map(Zoned::timestamp);
        rule.validate()
    }

    fn to_open_recurrence(&self) -> Result<Recurrence, DomainError> {
        let frequency = match self.frequency {
            RepeatFrequency::Daily => Frequency::Daily,
            RepeatFrequency::Weekly => Frequency::Weekly,
            RepeatFrequency::Monthly => Frequency::Monthly,
            RepeatFrequency::Yearly => Frequency::Yearly,
        };
        if self.weekdays.is_empty() {
            Recurrence::new(frequency, self.interval)
        } else {
            Recurrence::weekly_on(
                self.weekdays.iter().map(|day| TaskWeekday::from_civil(*day)),
                self.interval,
            )
        }
    }

    /// The weekdays as the tools and the REST API spell them: "mon", "tue" …
    pub fn weekday_names(&self) -> Vec<String> {
        self.weekdays.iter().map(|day| short_weekday(*day).to_lowercase()).collect()
    }

    /// A short description: "every Mon and Thu", "every 2 weeks", "monthly on the 15th".
    pub fn describe(&self) -> String {
        let unit = match self.frequency {
            RepeatFrequency::Daily => "day",
            RepeatFrequency::Weekly => "week",
            RepeatFrequency::Monthly => "month",
            RepeatFrequency::Yearly => "year",
        };
        let mut text = match self.interval {
            1 => format!("every {unit}"),
            2 => format!("every other {unit}"),
            n => format!("every {n} {unit}s"),
        };
        if !self.weekdays.is_empty() {
            let days: Vec<&str> = self.weekdays.iter().map(|day| short_weekday(*day)).collect();
            let days = if self.weekdays == WORKDAYS { "weekday".to_owned() } else { join_and(&days) };
            text = if self.interval == 1 { format!("every {days}") } else { format!("{text} on {days}") };
        }
        if let Some(day) = self.month_day {
            if day == 31 {
                text.push_str(" on the last day");
            } else {
                text.push_str(&format!(" on the {}", ordinal_suffix(day)));
            }
        }
        if let Some(count) = self.count {
            text.push_str(&format!(", {count} times"));
        }
        if let Some(until) = &self.until {
            text.push_str(&format!(" until {}", until.strftime("%a %b %-d, %Y")));
        }
        text
    }
}

const WORKDAYS: [Weekday; 5] =
    [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday];

const ALL_DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn short_weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

fn weekday_names<S: Serializer>(days: &[Weekday], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(days.iter().map(|day| short_weekday(*day).to_lowercase()))
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn ordinal_suffix(day: i8) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

/// A phrase found among tokens: `tokens[first..end]` (indices into the slice searched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found<T> {
    pub value: T,
    pub first: usize,
    pub end: usize,
}

struct Words<'a> {
    tokens: &'a [&'a Token],
}

impl Words<'_> {
    fn at(&self, index: usize) -> &str {
        self.tokens.get(index).filter(|t| !t.quoted).map_or("\u{0}", |t| t.text())
    }

    fn is(&self, index: usize, words: &[&str]) -> bool {
        words.contains(&self.at(index))
    }
}

const REPEAT_VERBS: &[&str] =
    &["repeat", "repeats", "repeating", "repeated", "recurring", "recur", "recurs", "recurrent"];

/// Finds the first recurrence phrase todokit can keep. `None` as well when the first phrase
/// is one it cannot ([`find_unsupported_repeat`]), so no part of it is misread as a rule.
pub(crate) fn find_repeat(tokens: &[&Token]) -> Option<Found<Repeat>> {
    match scan(tokens)? {
        Scanned::Rule(found) => Some(found),
        Scanned::Unsupported(_) => None,
    }
}

/// Finds a recurrence phrase that todokit's rules cannot express ("every 3rd friday", "twice a
/// week", "every 2 hours", "every day except holidays"): the value explains why, naming the
/// phrase. Callers refuse it (or keep it in the title) instead of saving a different rule.
pub(crate) fn find_unsupported_repeat(tokens: &[&Token]) -> Option<Found<String>> {
    match scan(tokens)? {
        Scanned::Rule(_) => None,
        Scanned::Unsupported(found) => Some(found),
    }
}

enum Scanned {
    Rule(Found<Repeat>),
    Unsupported(Found<String>),
}

/// The first phrase, supported or not, from the left.
fn scan(tokens: &[&Token]) -> Option<Scanned> {
    let words = Words { tokens };
    (0..tokens.len()).find_map(|start| {
        if let Some((end, why)) = unsupported_at(&words, start) {
            let phrase: Vec<&str> = tokens[start..end].iter().map(|t| t.text()).collect();
            let value = format!("\"{}\": {why}", phrase.join(" "));
            return Some(Scanned::Unsupported(Found { value, first: start, end }));
        }
        repeat_at(&words, start)
    })
}

const NTH_WEEKDAY: &str = "todokit cannot repeat on the n-th weekday of a month yet";
const SEVERAL_TIMES: &str = "todokit cannot repeat several times per day, week or month; name the days instead (\"every mon and thu\")";
const SUB_DAILY: &str = "todokit cannot repeat more often than once a day";
const EXCEPT: &str =
    "todokit can only leave weekdays out of a daily or weekly repeat (\"every day except weekends\")";

/// A phrase at `start` that reads as a rule todokit has no way to keep: the index after it and
/// why.
fn unsupported_at(words: &Words, start: usize) -> Option<(usize, &'static str)> {
    let mut at = start;
    if words.is(at, REPEAT_VERBS) {
        at += 1;
    }
    if words.is(at, &["on"]) {
        at += 1;
    }
    let every = words.is(at, &["every", "each", "evry"]);
    if every || words.is(at, &["the"]) {
        at += 1;
    }
    // "every 3rd friday", "every last monday", "first monday of every month",
    // "every second tuesday of the month" (but "every second tuesday" is every other one).
    if let Some(nth) = nth_word(words.at(at))
        && any_weekday(words.at(at + 1)).is_some()
    {
        let (suffix_end, monthly) = month_suffix(words, at + 2, every);
        if monthly || (every && !matches!(nth, "second" | "other")) {
            return Some((suffix_end, NTH_WEEKDAY));
        }
    }
    // "twice a week", "3 times a month", "twice weekly"
    let several = match words.at(at) {
        "twice" | "thrice" => Some(at + 1),
        word if small_number(word).is_some_and(|n| n >= 2) && words.is(at + 1, &["times", "x"]) => {
            Some(at + 2)
        }
        _ => None,
    };
    if !every && let Some(after) = several {
        if words.is(after, &["a", "per", "each", "every"])
            && words.is(after + 1, &["day", "week", "month", "year", "fortnight"])
        {
            return Some((after + 2, SEVERAL_TIMES));
        }
        if words.is(after, &["daily", "weekly", "monthly", "yearly", "annually"]) {
            return Some((after + 1, SEVERAL_TIMES));
        }
    }
    // "every 2 hours", "every hour", "every 30 minutes", "hourly"
    if every {
        let unit = if small_number(words.at(at)).is_some() || words.is(at, &["other", "half"]) {
            at + 1
        } else {
            at
        };
        if words.is(unit, &["hour", "hours", "hr", "hrs", "minute", "minutes", "min", "mins"]) {
            return Some((unit + 1, SUB_DAILY));
        }
    } else if at == start && words.is(at, &["hourly"]) && ends_phrase(words, at + 1) {
        return Some((at + 1, SUB_DAILY));
    }
    None
}

/// Ordinals that pick a weekday within a month.
fn nth_word(word: &str) -> Option<&str> {
    match word {
        "first" | "second" | "third" | "fourth" | "fifth" | "last" | "1st" | "2nd" | "3rd" | "4th"
        | "5th" => Some(word),
        _ => None,
    }
}

/// "of every month", "of the month", "each month", "monthly", "in the month": the index after
/// it and whether it says the month recurs (or `every` already said so).
fn month_suffix(words: &Words, at: usize, every: bool) -> (usize, bool) {
    let month = ["month", "months"];
    if words.is(at, &["of", "in"]) && words.is(at + 1, &["every", "each"]) && words.is(at + 2, &month) {
        return (at + 3, true);
    }
    if words.is(at, &["of", "in"]) && words.is(at + 1, &["the", "a"]) && words.is(at + 2, &month) {
        return (at + 3, every);
    }
    if words.is(at, &["every", "each", "a", "per"]) && words.is(at + 1, &month) {
        return (at + 2, true);
    }
    if words.is(at, &["monthly"]) {
        return (at + 1, true);
    }
    (at, false)
}

fn repeat_at(words: &Words, start: usize) -> Option<Scanned> {
    // Lead words that belong to the phrase: "repeat every", "repeating weekly", "on every".
    let mut at = start;
    let mut lead = false;
    if words.is(at, REPEAT_VERBS) {
        at += 1;
        lead = true;
        if words.is(at, &["it", "this", "that"]) {
            at += 1;
        }
    }
    if words.is(at, &["on"]) && words.is(at + 1, &["every", "each"]) {
        at += 1;
    }
    // A bare "repeating" without how often is too vague to be a rule.
    let (mut repeat, mut end) = rule_at(words, at)?;
    let first = if lead || start == at { start } else { at };
    // "every day except weekends", "every weekday except friday"
    if words.is(end, &["except", "excluding", "but"]) {
        let list_at = if words.is(end, &["but"]) && words.is(end + 1, &["not"]) { end + 2 } else { end + 1 };
        if words.is(end, &["but"]) && list_at == end + 1 {
            // "daily but …" is no exception.
        } else {
            match except_days(words, list_at) {
                Some((days, after)) if leave_out(&mut repeat, &days) => end = after,
                _ => {
                    let phrase: Vec<&str> = words.tokens[first..].iter().map(|t| t.text()).collect();
                    let value = format!("\"{}\": {EXCEPT}", phrase.join(" "));
                    return Some(Scanned::Unsupported(Found { value, first, end: words.tokens.len() }));
                }
            }
        }
    }
    // "for 5 times", "5 times", "for 10 weeks"
    if let Some((count, after)) = count_at(words, end, &repeat) {
        repeat.count = Some(count);
        end = after;
    }
    // "on the 15th of every month": the day comes first.
    Some(Scanned::Rule(Found { value: repeat, first, end }))
}

/// The days after "except": "weekends", "saturdays and sundays", "friday".
fn except_days(words: &Words, at: usize) -> Option<(Vec<Weekday>, usize)> {
    let at = if words.is(at, &["on", "the"]) { at + 1 } else { at };
    if words.is(at, &["weekends", "weekend"]) {
        return Some((vec![Weekday::Saturday, Weekday::Sunday], at + 1));
    }
    if words.is(at, &["weekdays", "workdays"]) {
        return Some((WORKDAYS.to_vec(), at + 1));
    }
    weekday_list_at(words, at)
}

/// Takes `days` out of a daily (every day) or weekly-on-days (every week) rule.
fn leave_out(repeat: &mut Repeat, days: &[Weekday]) -> bool {
    if repeat.interval != 1 || repeat.count.is_some() {
        return false;
    }
    let from: Vec<Weekday> = match repeat.frequency {
        RepeatFrequency::Daily => ALL_DAYS.to_vec(),
        RepeatFrequency::Weekly if !repeat.weekdays.is_empty() => repeat.weekdays.clone(),
        _ => return false,
    };
    let left: Vec<Weekday> = from.into_iter().filter(|day| !days.contains(day)).collect();
    if left.is_empty() || left.len() == 7 {
        return false;
    }
    repeat.frequency = RepeatFrequency::Weekly;
    repeat.weekdays = left;
    true
}

/// "for 5 times", "5 times", "for 5 occurrences", "for 10 weeks" (when the unit is the rule's and
/// the rule repeats once per unit).
fn count_at(words: &Words, at: usize, repeat: &Repeat) -> Option<(u32, usize)> {
    let at = if words.is(at, &["for"]) { at + 1 } else { at };
    let number = small_number(words.at(at)).filter(|n| (1..=100_000).contains(n))?;
    let number = u32::try_from(number).ok()?;
    if words.is(at + 1, &["times", "time", "occurrences", "occurrence"]) && !words.is(at, &["a", "an"]) {
        return Some((number, at + 2));
    }
    if !words.is(at - 1, &["for"]) || repeat.weekdays.len() > 1 || repeat.month_day.is_some() {
        return None;
    }
    let unit = match words.at(at + 1) {
        "day" | "days" => RepeatFrequency::Daily,
        "week" | "weeks" => RepeatFrequency::Weekly,
        "month" | "months" => RepeatFrequency::Monthly,
        "year" | "years" => RepeatFrequency::Yearly,
        _ => return None,
    };
    // "every day for 2 weeks": 14 days.
    let number = match (repeat.frequency, unit) {
        (RepeatFrequency::Daily, RepeatFrequency::Weekly) => number.checked_mul(7)?,
        (frequency, unit) if frequency == unit => number,
        _ => return None,
    };
    (number % repeat.interval == 0).then(|| (number / repeat.interval, at + 2))
}

/// A rule starting exactly at `at`; returns it and the index after it.
fn rule_at(words: &Words, at: usize) -> Option<(Repeat, usize)> {
    use RepeatFrequency::*;
    let word = words.at(at);
    let simple = match word {
        "daily" | "everyday" | "nightly" => Some(Repeat::every(Daily, 1)),
        "weekly" => Some(Repeat::every(Weekly, 1)),
        "biweekly" | "fortnightly" => Some(Repeat::every(Weekly, 2)),
        "monthly" => Some(Repeat::every(Monthly, 1)),
        "bimonthly" => Some(Repeat::every(Monthly, 2)),
        "quarterly" => Some(Repeat::every(Monthly, 3)),
        "yearly" | "annually" => Some(Repeat::every(Yearly, 1)),
        _ => None,
    };
    if let Some(mut repeat) = simple {
        let mut end = at + 1;
        // "weekly review", "quarterly report": an adjective, not a rule.
        if !ends_phrase(words, end) {
            return None;
        }
        // "monthly on the 15th", "weekly on mondays"
        if repeat.frequency == Monthly
            && let Some((day, after)) = month_day_at(words, end)
        {
            repeat.month_day = Some(day);
            end = after;
        } else if repeat.frequency == Weekly
            && words.is(end, &["on"])
            && let Some((days, after)) = weekday_list_at(words, end + 1)
        {
            repeat.weekdays = days;
            end = after;
        }
        return Some((repeat, end));
    }
    // "on the 15th of every month", "the 1st of each month"
    if let Some((day, after)) = month_day_at(words, at)
        && words.is(after, &["of"])
        && words.is(after + 1, &["every", "each", "the"])
    {
        let unit = after + 2;
        if words.is(unit, &["month"]) {
            let mut repeat = Repeat::every(Monthly, 1);
            repeat.month_day = Some(day);
            return Some((repeat, unit + 1));
        }
    }
    // "mondays", "on mondays and thursdays", "weekdays"
    if let Some((days, end)) = plural_weekdays_at(words, at) {
        let mut repeat = Repeat::every(Weekly, 1);
        repeat.weekdays = days;
        return Some((repeat, end));
    }
    // "once a week", "once every 2 weeks", "once a month"
    if word == "once" && words.is(at + 1, &["a", "per", "every", "each"]) {
        let mut interval = 1;
        let mut unit_at = at + 2;
        if words.is(at + 1, &["every"])
            && let Some(n) = small_number(words.at(unit_at)).filter(|n| (2..=365).contains(n))
        {
            interval = n as u32;
            unit_at += 1;
        }
        let frequency = match words.at(unit_at) {
            "day" | "days" => Daily,
            "week" | "weeks" => Weekly,
            "fortnight" => {
                interval *= 2;
                Weekly
            }
            "month" | "months" => Monthly,
            "year" | "years" => Yearly,
            _ => return None,
        };
        return Some((Repeat::every(frequency, interval), unit_at + 1));
    }
    if !words.is(at, &["every", "each", "evry", "every-other"]) {
        return None;
    }
    let mut unit_at = at + 1;
    let mut interval = 1;
    if word == "every-other" {
        interval = 2;
    } else if words.is(unit_at, &["other", "second", "alternate"]) {
        interval = 2;
        unit_at += 1;
    } else if let Some(n) = small_number(words.at(unit_at)).filter(|n| (2..=365).contains(n)) {
        interval = n as u32;
        unit_at += 1;
    } else if words.is(unit_at, &["third"]) {
        interval = 3;
        unit_at += 1;
    }
    let unit = words.at(unit_at);
    let frequency = match unit {
        "day" | "days" | "morning" | "mornings" | "evening" | "evenings" | "night" | "nights"
        | "afternoon" => Some(Daily),
        "week" | "weeks" => Some(Weekly),
        "month" | "months" => Some(Monthly),
        "year" | "years" => Some(Yearly),
        _ => None,
    };
    if let Some(frequency) = frequency {
        let mut repeat = Repeat::every(frequency, interval);
        let mut end = unit_at + 1;
        if frequency == Monthly
            && let Some((day, after)) = month_day_at(words, end)
        {
            repeat.month_day = Some(day);
            end = after;
        } else if frequency == Weekly
            && words.is(end, &["on"])
            && let Some((days, after)) = weekday_list_at(words, end + 1)
        {
            repeat.weekdays = days;
            end = after;
        }
        return Some((repeat, end));
    }
    if words.is(unit_at, &["weekday", "weekdays", "workday", "workdays", "work-day", "business"]) {
        let end = if words.is(unit_at, &["business"]) && words.is(unit_at + 1, &["day", "days"]) {
            unit_at + 2
        } else if words.is(unit_at, &["business"]) {
            return None;
        } else {
            unit_at + 1
        };
        let mut repeat = Repeat::every(Weekly, interval);
        repeat.weekdays = WORKDAYS.to_vec();
        return Some((repeat, end));
    }
    if words.is(unit_at, &["weekend", "weekends"]) {
        let mut repeat = Repeat::every(Weekly, interval);
        repeat.weekdays = vec![Weekday::Saturday, Weekday::Sunday];
        return Some((repeat, unit_at + 1));
    }
    // "every 15th", "every 1st of the month", "every last day of the month"
    let last_day = unit == "last" && words.is(unit_at + 1, &["day"]);
    let month_day = if last_day { Some(31) } else { day_number(unit).filter(|_| digits(unit).is_none()) };
    if let Some(day) = month_day.filter(|_| interval == 1) {
        let mut end = unit_at + if last_day { 2 } else { 1 };
        if words.is(end, &["of"])
            && words.is(end + 1, &["the", "each", "every"])
            && words.is(end + 2, &["month"])
        {
            end += 3;
        }
        let mut repeat = Repeat::every(Monthly, 1);
        repeat.month_day = Some(day);
        return Some((repeat, end));
    }
    let (days, end) = weekday_list_at(words, unit_at)?;
    let mut repeat = Repeat::every(Weekly, interval);
    repeat.weekdays = days;
    Some((repeat, end))
}

/// Whether the word at `index` can follow a recurrence adverb ("daily" at the end, or before a
/// date, tag or another phrase) rather than a noun it describes ("daily standup").
fn ends_phrase(words: &Words, index: usize) -> bool {
    let Some(token) = words.tokens.get(index) else { return true };
    if words.tokens[index - 1].clause_end {
        return true;
    }
    let word = token.text();
    word.starts_with('#')
        || word.starts_with('!')
        || weekday_word(word, false).is_some()
        || matches!(
            word,
            "at" | "on"
                | "from"
                | "starting"
                | "until"
                | "till"
                | "ending"
                | "except"
                | "excluding"
                | "by"
                | "in"
                | "with"
                | "and"
                | "tagged"
                | "high"
                | "low"
                | "medium"
                | "urgent"
                | "remind"
                | "reminder"
                | "before"
                | "after"
                | "tomorrow"
                | "today"
                | "tonight"
                | "for"
                | "please"
                | "thanks"
                | "p1"
                | "p2"
                | "p3"
                | "next"
                | "this"
                | "around"
        )
}

/// "the 15th", "on the 1st", "15th": a day of the month.
fn month_day_at(words: &Words, at: usize) -> Option<(i8, usize)> {
    let mut at = at;
    if words.is(at, &["on"]) {
        at += 1;
    }
    if words.is(at, &["the"]) {
        at += 1;
    }
    let word = words.at(at);
    // "the last day": the 31st, which the domain clamps to shorter months' last day.
    if word == "last" && words.is(at + 1, &["day"]) {
        return Some((31, at + 2));
    }
    // A bare number is too ambiguous ("monthly 3 reports"); an ordinal is needed.
    if digits(word).is_some() {
        return None;
    }
    day_number(word).map(|day| (day, at + 1))
}

fn any_weekday(word: &str) -> Option<Weekday> {
    weekday_word(word, true).or_else(|| weekday_word(word.strip_suffix('s')?, true))
}

/// "monday", "mon and thu", "tuesday, thursday and saturday".
fn weekday_list_at(words: &Words, at: usize) -> Option<(Vec<Weekday>, usize)> {
    let mut days = Vec::new();
    let mut end = at;
    let mut index = at;
    while let Some(day) = any_weekday(words.at(index)) {
        if !days.contains(&day) {
            days.push(day);
        }
        end = index + 1;
        index = end;
        if words.is(index, &["and", "&", "or"]) {
            index += 1;
        } else if !words.tokens.get(index - 1).is_some_and(|t| t.comma)
            && any_weekday(words.at(index)).is_none()
        {
            // "every mon wed fri" lists days with spaces alone.
            break;
        }
    }
    if days.is_empty() {
        return None;
    }
    days.sort_by_key(|day| day.to_monday_zero_offset());
    Some((days, end))
}

/// "mondays", "on mondays and thursdays", "on weekdays", "weekends".
fn plural_weekdays_at(words: &Words, at: usize) -> Option<(Vec<Weekday>, usize)> {
    let mut at = at;
    if words.is(at, &["on"]) {
        at += 1;
    }
    let word = words.at(at);
    if matches!(word, "weekdays" | "workdays") {
        return Some((WORKDAYS.to_vec(), at + 1));
    }
    if word == "weekends" {
        return Some((vec![Weekday::Saturday, Weekday::Sunday], at + 1));
    }
    // Only a plural full name starts the list ("mondays"), so "on monday" stays a date.
    let singular = word.strip_suffix('s')?;
    weekday_word(singular, false)?;
    let (days, end) = weekday_list_at(words, at)?;
    Some((days, end))
}

/// Finds a reminder phrase: "remind me 30 minutes before", "with a reminder an hour before",
/// "alert me a day ahead", "remind me when it's due" (0 minutes).
pub(crate) fn find_reminder(tokens: &[&Token]) -> Option<Found<u32>> {
    let words = Words { tokens };
    for start in 0..tokens.len() {
        let word = words.at(start);
        let keyword_len = match word {
            "remind" | "alert" | "notify" | "ping" | "warn" if words.is(start + 1, &["me", "us"]) => 2,
            "reminder" | "reminders" | "alarm" | "alert" | "notification" => 1,
            _ => continue,
        };
        let mut at = start + keyword_len;
        // "remind me about it 30 minutes before", "a reminder for it an hour before"
        for _ in 0..3 {
            if words.is(at, &["about", "of", "for", "it", "this", "that", "set", "to", "be", "at"]) {
                at += 1;
            }
        }
        if let Some((minutes, end)) = offset_at(&words, at) {
            let first = lead_start(&words, start);
            return Some(Found { value: minutes, first, end });
        }
        let due_at = match (words.at(at), words.at(at + 1), words.at(at + 2), words.at(at + 3)) {
            ("when", "it's" | "its", "due", _) => Some(at + 3),
            ("when", "it", "is", "due") => Some(at + 4),
            ("on", "time", _, _) => Some(at + 2),
            _ => None,
        };
        if let Some(end) = due_at {
            return Some(Found { value: 0, first: lead_start(&words, start), end });
        }
        if words.is(at, &["the"]) && words.is(at + 1, &["due"]) && words.is(at + 2, &["time", "date"]) {
            return Some(Found { value: 0, first: lead_start(&words, start), end: at + 3 });
        }
    }
    // "30 minutes before", "an hour before" without a keyword, at the end of a clause.
    (0..tokens.len()).find_map(|start| {
        let (minutes, end) = offset_at(&words, start)?;
        let at_clause_end = end == tokens.len() || tokens[end - 1].clause_end;
        at_clause_end.then(|| Found { value: minutes, first: lead_start(&words, start), end })
    })
}

/// "with a", "and", "," before a reminder belong to it.
fn lead_start(words: &Words, start: usize) -> usize {
    let mut first = start;
    if first > 0 && words.is(first - 1, &["a", "an"]) {
        first -= 1;
    }
    if first > 0 && words.is(first - 1, &["with", "and", "set", "add", "plus"]) {
        first -= 1;
    }
    first
}

/// "30 minutes before", "an hour before", "1 day ahead", "2h before", "half an hour before".
fn offset_at(words: &Words, at: usize) -> Option<(u32, usize)> {
    let (amount, unit_at) = if words.is(at, &["half"]) && words.is(at + 1, &["an", "a"]) {
        (0.5, at + 2)
    } else if words.is(at, &["the"])
        && words.is(at + 1, &["day", "week", "night"])
        && words.is(at + 2, &["before"])
    {
        // "the day before", "the night before" (a day), "the week before"
        let minutes = if words.is(at + 1, &["week"]) { 7 * 24 * 60 } else { 24 * 60 };
        return finish_offset(words, at + 2, f64::from(minutes));
    } else if let Some((number, unit)) = split_compact(words.at(at)) {
        let minutes = unit_minutes(unit)?;
        return finish_offset(words, at + 1, number as f64 * minutes as f64);
    } else {
        (small_number(words.at(at)).filter(|n| *n <= 1000)? as f64, at + 1)
    };
    let minutes = unit_minutes(words.at(unit_at))?;
    finish_offset(words, unit_at + 1, amount * minutes as f64)
}

fn finish_offset(words: &Words, at: usize, minutes: f64) -> Option<(u32, usize)> {
    let end = match words.at(at) {
        "before" | "earlier" | "ahead" | "beforehand" | "prior" => at + 1,
        "in" if words.is(at + 1, &["advance"]) => at + 2,
        _ => return None,
    };
    // "before it", "before the due time", "before it's due"
    let end = if words.is(end, &["it", "it's", "its", "due"]) {
        if words.is(end + 1, &["due", "is"]) { end + 2 } else { end + 1 }
    } else if words.is(end, &["the"]) && words.is(end + 1, &["due", "deadline", "task"]) {
        if words.is(end + 2, &["time", "date"]) { end + 3 } else { end + 2 }
    } else {
        end
    };
    let minutes = minutes.round();
    (0.0..=40320.0).contains(&minutes).then_some((minutes as u32, end))
}

/// "30min", "2h", "1d" → (30, "min").
fn split_compact(word: &str) -> Option<(i64, &str)> {
    let split = word.find(|c: char| !c.is_ascii_digit())?;
    if split == 0 {
        return None;
    }
    Some((digits(&word[..split])?, &word[split..]))
}

fn unit_minutes(word: &str) -> Option<u32> {
    Some(match word {
        "minute" | "minutes" | "min" | "mins" | "m" => 1,
        "hour" | "hours" | "hr" | "hrs" | "h" => 60,
        "day" | "days" | "d" => 1440,
        "week" | "weeks" | "w" => 10080,
        _ => return None,
    })
}

/// The due date implied by a rule that names days, at `time` (or keeps `due`'s date when the
/// rule names none). "every Thursday at 6pm" on a Saturday is next Thursday 18:00.
pub(crate) fn anchored_due(
    repeat: &Repeat,
    due: Option<(Zoned, bool, bool)>,
    now: &Zoned,
) -> Option<(Zoned, bool)> {
    let today = now.date();
    let Some(first) = repeat.first_day(today) else {
        // A rule needs a first occurrence: without a date it starts today.
        return match due {
            Some((at, has_time, _)) => Some((at, has_time)),
            None => Some((
                today.to_datetime(super::DEFAULT_DUE_TIME).to_zoned(now.time_zone().clone()).ok()?,
                false,
            )),
        };
    };
    let (time, has_time, has_date) = match &due {
        Some((at, has_time, has_date)) => (at.time(), *has_time, *has_date),
        None => (super::DEFAULT_DUE_TIME, false, false),
    };
    if has_date {
        return due.map(|(at, has_time, _)| (at, has_time));
    }
    let tz = now.time_zone().clone();
    let at = first.to_datetime(time).to_zoned(tz.clone()).ok()?;
    if at >= *now {
        return Some((at, has_time));
    }
    // Today's slot has passed: the next day the rule falls on.
    let next = repeat.first_day(today.tomorrow().ok()?)?;
    Some((next.to_datetime(time).to_zoned(tz).ok()?, has_time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::token::tokenize;

    fn repeat(text: &str) -> Option<String> {
        let tokens = tokenize(text);
        let refs: Vec<&Token> = tokens.iter().collect();
        find_repeat(&refs).map(|found| {
            let words: Vec<&str> = refs[found.first..found.end].iter().map(|t| t.text()).collect();
            format!("{} [{}]", found.value.describe(), words.join(" "))
        })
    }

    fn reminder(text: &str) -> Option<u32> {
        let tokens = tokenize(text);
        let refs: Vec<&Token> = tokens.iter().collect();
        find_reminder(&refs).map(|found| found.value)
    }

    #[test]
    fn recurrence_phrases() {
        let cases = [
            ("gym every thursday at 6pm", "every Thu [every thursday]"),
            ("standup every weekday at 9", "every weekday [every weekday]"),
            ("call mom every Mon and Thu", "every Mon and Thu [every mon and thu]"),
            ("pay rent on the 1st of every month", "every month on the 1st [on the 1st of every month]"),
            ("review every other week", "every other week [every other week]"),
            ("water plants every 3 days", "every 3 days [every 3 days]"),
            ("take vitamins daily", "every day [daily]"),
            ("yoga on mondays and wednesdays", "every Mon and Wed [on mondays and wednesdays]"),
            ("budget monthly on the 15th", "every month on the 15th [monthly on the 15th]"),
            ("repeat every week", "every week [repeat every week]"),
            ("bins every tuesday, friday", "every Tue and Fri [every tuesday friday]"),
            ("run every morning at 7", "every day [every morning]"),
            ("dinner every weekend", "every Sat and Sun [every weekend]"),
        ];
        for (text, want) in cases {
            assert_eq!(repeat(text).as_deref(), Some(want), "{text}");
        }
        for text in [
            "every",
            "call everyone",
            "buy weekly groceries",
            "the monday meeting",
            "every one of them",
            "quarterly report",
        ] {
            assert_eq!(repeat(text), None, "{text}");
        }
    }

    #[test]
    fn reminder_phrases() {
        assert_eq!(reminder("remind me 30 minutes before"), Some(30));
        assert_eq!(reminder("remind me an hour before"), Some(60));
        assert_eq!(reminder("with a reminder 1 day before"), Some(1440));
        assert_eq!(reminder("alert me half an hour before it"), Some(30));
        assert_eq!(reminder("dentist friday 3pm, 15 min before"), Some(15));
        assert_eq!(reminder("remind me when it's due"), Some(0));
        assert_eq!(reminder("remind me 2h before"), Some(120));
        assert_eq!(reminder("remind me to call mom"), None);
        assert_eq!(reminder("read 30 pages before bed"), None);
    }

    #[test]
    fn first_days() {
        let saturday = jiff::civil::date(2026, 11, 21);
        let rule = |text: &str| {
            let tokens = tokenize(text);
            let refs: Vec<&Token> = tokens.iter().collect();
            find_repeat(&refs).unwrap().value
        };
        assert_eq!(rule("every thursday").first_day(saturday), Some(jiff::civil::date(2026, 11, 26)));
        assert_eq!(rule("every weekday").first_day(saturday), Some(jiff::civil::date(2026, 11, 23)));
        assert_eq!(
            rule("on the 15th of every month").first_day(saturday),
            Some(jiff::civil::date(2026, 12, 15))
        );
        // The series starts in a month that has the day, so the later months clamp correctly
        // (Mar 31 → Apr 30 → May 31), instead of every later one becoming the 28th.
        assert_eq!(
            rule("every 31st").first_day(jiff::civil::date(2027, 2, 2)),
            Some(jiff::civil::date(2027, 3, 31))
        );
        assert_eq!(
            rule("every 30th").first_day(jiff::civil::date(2027, 2, 2)),
            Some(jiff::civil::date(2027, 3, 30))
        );
        assert_eq!(
            rule("every month on the last day").first_day(saturday),
            Some(jiff::civil::date(2026, 12, 31))
        );
        assert_eq!(rule("daily").first_day(saturday), None);
    }
}
