//! [`Recurrence`] ⇄ RFC 5545 `RRULE` value (§3.3.10, "Recurrence Rule").
//!
//! # todokit → RRULE
//!
//! | todokit | RRULE |
//! |---|---|
//! | `frequency` | `FREQ=DAILY` / `WEEKLY` / `MONTHLY` / `YEARLY` |
//! | `interval` > 1 | `INTERVAL=n` (omitted when 1, the RFC default) |
//! | `weekdays` (weekly only) | `BYDAY=MO,TH` (todokit's weeks start on Monday, which is also the RFC's default `WKST`; `WKST=MO` is written anyway when `INTERVAL` > 1, where it matters) |
//! | `count` | `COUNT=n` (both count the first occurrence, the series start / `DTSTART`) |
//! | `until` | `UNTIL=YYYYMMDDTHHMMSSZ` (UTC, as the RFC requires when `DTSTART` is UTC or zoned) |
//!
//! **Month ends.** todokit clamps a monthly series that starts on the 29th–31st to the month's last
//! day (Jan 31 → Feb 28 → Mar 31), and a yearly one from Feb 29 to Feb 28 in common years. A plain
//! `FREQ=MONTHLY` would instead *skip* months without that day (RFC 5545: invalid dates are
//! ignored). When the series start is known, [`to_rrule`] therefore writes the clamp explicitly:
//! `BYMONTHDAY=28,29,30,31;BYSETPOS=-1` ("the last of these days that exists") for a start on the
//! 31st, `BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1` for Feb 29. This is anchored on the **series**
//! start, so an occurrence due Feb 28 of a series that began Jan 31 still continues on Mar 31.
//!
//! **COUNT and UNTIL** must not both appear (RFC 5545). todokit allows both; [`to_rrule`] writes the
//! one that ends the series first (computed from the series start), or `COUNT` when the start is
//! unknown.
//!
//! # RRULE → todokit
//!
//! [`parse_rrule`] accepts what the table above produces and the common equivalents other
//! calendars write (`FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR` for "every weekday", a single `BYMONTHDAY`
//! or `BYMONTH` that only restates the start date, the clamp pattern). Everything todokit cannot
//! express (`FREQ=HOURLY`, `BYDAY=1MO`, `BYMONTHDAY=-1`, `BYWEEKNO` …) is an [`RruleError`] naming the
//! part, never a silent approximation.

use std::fmt::Write as _;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::task::{DomainError, Frequency, Recurrence, Weekday};

/// Why an `RRULE` could not become a [`Recurrence`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RruleError {
    /// Not `NAME=VALUE;NAME=VALUE…`, or a value that is not valid for its name.
    #[error("invalid RRULE: {0}")]
    Syntax(String),
    /// Valid RFC 5545, but todokit's recurrence cannot express it.
    #[error("todokit cannot repeat a task like this: {0}")]
    Unsupported(String),
    /// Representable in shape, but outside todokit's limits (interval 1–365, count 1–100).
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// The RRULE value (without the `RRULE:` name) of `rule`.
///
/// `series_start` is the due time of the series' first occurrence in the task's zone, when known:
/// it lets month-end clamping and a COUNT+UNTIL pair be written faithfully (see the module docs).
pub fn to_rrule(rule: &Recurrence, series_start: Option<&Zoned>) -> String {
    rrule_with_count(rule, series_start, rule.count, &UntilForm::DateTime)
}

/// How `UNTIL` is written: it must have the value type of `DTSTART` (RFC 5545 §3.3.10).
#[derive(Debug, Clone)]
pub(crate) enum UntilForm {
    /// `UNTIL=20270101T000000Z`, for a UTC or zoned date-time `DTSTART`.
    DateTime,
    /// `UNTIL=20261231`, for an all-day `DTSTART;VALUE=DATE` of a task due at the end of its day in
    /// this zone: the last date whose end-of-day due time is not after the instant.
    Date(TimeZone),
}

/// The RRULE for the rest of a series from its occurrence number `done` on (0 = the first): the
/// same rule with `COUNT` reduced by `done`, for a calendar entry whose `DTSTART`/`DUE` is that
/// occurrence. `None` when the count is used up.
pub fn to_rrule_from_occurrence(
    rule: &Recurrence,
    series_start: Option<&Zoned>,
    done: u32,
) -> Option<String> {
    rrule_for_export(rule, series_start, done, UntilForm::DateTime)
}

pub(crate) fn rrule_for_export(
    rule: &Recurrence,
    series_start: Option<&Zoned>,
    done: u32,
    until_form: UntilForm,
) -> Option<String> {
    let count = match rule.count {
        Some(count) if done >= count => return None,
        Some(count) => Some(count - done),
        None => None,
    };
    // The UNTIL-vs-COUNT choice is made on the whole series, then the count is shifted.
    let mut shifted = rule.clone();
    if let (Some(_), Some(until), Some(start)) = (rule.count, rule.until, series_start) {
        if count_ends_first(rule, start, until) {
            shifted.until = None;
        } else {
            shifted.count = None;
        }
    }
    let count = shifted.count.and(count);
    Some(rrule_with_count(&shifted, series_start, count, &until_form))
}

/// Whether the last occurrence allowed by `count` comes no later than `until`.
fn count_ends_first(rule: &Recurrence, start: &Zoned, until: Timestamp) -> bool {
    let Some(count) = rule.count else { return false };
    let unbounded = Recurrence { until: None, ..rule.clone() };
    match unbounded.occurrence_due(start.timestamp(), start.time_zone(), count.saturating_sub(1)) {
        Some(last) => last <= until,
        // The count reaches past jiff's range or the hard cap: UNTIL is the real end.
        None => false,
    }
}

fn rrule_with_count(
    rule: &Recurrence,
    series_start: Option<&Zoned>,
    count: Option<u32>,
    until_form: &UntilForm,
) -> String {
    let mut out = String::from("FREQ=");
    out.push_str(match rule.frequency {
        Frequency::Daily => "DAILY",
        Frequency::Weekly => "WEEKLY",
        Frequency::Monthly => "MONTHLY",
        Frequency::Yearly => "YEARLY",
    });
    if rule.interval != 1 {
        let _ = write!(out, ";INTERVAL={}", rule.interval);
    }
    if let Some(days) = rule.weekdays.as_deref().filter(|days| !days.is_empty()) {
        out.push_str(";BYDAY=");
        let codes: Vec<&str> = days.iter().map(|day| weekday_code(*day)).collect();
        out.push_str(&codes.join(","));
        if rule.interval != 1 {
            out.push_str(";WKST=MO");
        }
    }
    if let Some(start) = series_start {
        push_month_end_clamp(&mut out, rule.frequency, start.date());
    }
    // RFC 5545: COUNT and UNTIL MUST NOT occur in the same rule.
    let (count, until) = match (count, rule.until) {
        (Some(count), Some(until)) => match series_start {
            Some(start) if !count_ends_first(rule, start, until) => (None, Some(until)),
            _ => (Some(count), None),
        },
        other => other,
    };
    if let Some(count) = count {
        let _ = write!(out, ";COUNT={count}");
    }
    if let Some(until) = until {
        match until_form {
            UntilForm::DateTime => {
                let _ = write!(out, ";UNTIL={}", format_utc(until));
            }
            UntilForm::Date(zone) => {
                let local = until.to_zoned(zone.clone());
                let day = if local.time() >= crate::nl::DEFAULT_DUE_TIME {
                    local.date()
                } else {
                    local.date().yesterday().unwrap_or(local.date())
                };
                let _ = write!(out, ";UNTIL={}", day.strftime("%Y%m%d"));
            }
        }
    }
    out
}

/// `BYMONTHDAY=28,…,d;BYSETPOS=-1` (and `BYMONTH` for yearly) when the start day may not exist in
/// every month/year of the series.
fn push_month_end_clamp(out: &mut String, frequency: Frequency, start: Date) {
    let day = start.day();
    match frequency {
        Frequency::Monthly if day > 28 => {
            let days: Vec<String> = (28..=day).map(|d| d.to_string()).collect();
            let _ = write!(out, ";BYMONTHDAY={};BYSETPOS=-1", days.join(","));
        }
        Frequency::Yearly if start.month() == 2 && day == 29 => {
            out.push_str(";BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1");
        }
        _ => {}
    }
}

/// `20261208T090000Z`: RFC 5545 DATE-TIME in UTC ("form #2").
pub fn format_utc(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// The two-letter RFC 5545 weekday code.
pub fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn weekday_from_code(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// Parses an RRULE value (`FREQ=WEEKLY;BYDAY=MO,TH`; an `RRULE:` prefix is allowed) into a
/// validated [`Recurrence`]. Names are case-insensitive; each may appear once.
///
/// A single `BYMONTHDAY` (monthly) or `BYMONTH`+`BYMONTHDAY` (yearly) is accepted as restating the
/// start date, which todokit carries in the first due date; the caller must make sure the
/// imported task's due date falls on it. `UNTIL` may be a UTC date-time, a floating date-time (read
/// as UTC) or a date (the end of that day, UTC).
pub fn parse_rrule(input: &str) -> Result<Recurrence, RruleError> {
    let text = input.trim();
    let text = strip_prefix_ignore_case(text, "RRULE:").unwrap_or(text);
    if text.is_empty() {
        return Err(RruleError::Syntax("empty rule".into()));
    }
    let mut parts = Parts::default();
    for part in text.split(';') {
        let Some((name, value)) = part.split_once('=') else {
            return Err(RruleError::Syntax(format!("\"{}\" is not NAME=VALUE", short(part))));
        };
        let name = name.trim().to_ascii_uppercase();
        let value = value.trim().to_ascii_uppercase();
        let slot = match name.as_str() {
            "FREQ" => &mut parts.freq,
            "INTERVAL" => &mut parts.interval,
            "COUNT" => &mut parts.count,
            "UNTIL" => &mut parts.until,
            "BYDAY" => &mut parts.byday,
            "BYMONTHDAY" => &mut parts.bymonthday,
            "BYMONTH" => &mut parts.bymonth,
            "BYSETPOS" => &mut parts.bysetpos,
            "WKST" => &mut parts.wkst,
            "BYSECOND" | "BYMINUTE" | "BYHOUR" | "BYYEARDAY" | "BYWEEKNO" => {
                return Err(RruleError::Unsupported(format!("{name} is not supported")));
            }
            _ => return Err(RruleError::Syntax(format!("unknown part \"{}\"", short(&name)))),
        };
        if slot.is_some() {
            return Err(RruleError::Syntax(format!("{name} appears twice")));
        }
        *slot = Some(value);
    }
    parts.into_recurrence()
}

#[derive(Default)]
struct Parts {
    freq: Option<String>,
    interval: Option<String>,
    count: Option<String>,
    until: Option<String>,
    byday: Option<String>,
    bymonthday: Option<String>,
    bymonth: Option<String>,
    bysetpos: Option<String>,
    wkst: Option<String>,
}

impl Parts {
    fn into_recurrence(self) -> Result<Recurrence, RruleError> {
        let freq = self.freq.as_deref().ok_or_else(|| RruleError::Syntax("FREQ is missing".into()))?;
        let mut frequency = match freq {
            "DAILY" => Frequency::Daily,
            "WEEKLY" => Frequency::Weekly,
            "MONTHLY" => Frequency::Monthly,
            "YEARLY" => Frequency::Yearly,
            "SECONDLY" | "MINUTELY" | "HOURLY" => {
                return Err(RruleError::Unsupported(format!("FREQ={freq}: the smallest unit is a day")));
            }
            other => return Err(RruleError::Syntax(format!("unknown FREQ \"{}\"", short(other)))),
        };
        let interval = match self.interval.as_deref() {
            Some(text) => parse_number(text, "INTERVAL")?,
            None => 1,
        };
        let count = self.count.as_deref().map(|text| parse_number(text, "COUNT")).transpose()?;
        let until = self.until.as_deref().map(parse_until).transpose()?;
        if count.is_some() && until.is_some() {
            return Err(RruleError::Syntax("COUNT and UNTIL must not both be given".into()));
        }
        let weekdays = self.byday.as_deref().map(parse_byday).transpose()?;
        if let Some(days) = &weekdays {
            match frequency {
                Frequency::Weekly => {}
                // "Every weekday" as Google and Outlook write it: daily, on those days.
                Frequency::Daily if interval == 1 => frequency = Frequency::Weekly,
                _ => {
                    return Err(RruleError::Unsupported(format!(
                        "BYDAY={} with FREQ={freq}: days of the week only go with a weekly rule",
                        days.iter().map(|d| weekday_code(*d)).collect::<Vec<_>>().join(",")
                    )));
                }
            }
        }
        // Week start only changes the result for multi-week rules on several days.
        if let Some(wkst) = self.wkst.as_deref() {
            if weekday_from_code(wkst).is_none() {
                return Err(RruleError::Syntax(format!("unknown WKST \"{}\"", short(wkst))));
            }
            if wkst != "MO" && interval > 1 && weekdays.as_ref().is_some_and(|d| d.len() > 1) {
                return Err(RruleError::Unsupported(format!("WKST={wkst}: todokit's weeks start on Monday")));
            }
        }
        check_day_parts(
            frequency,
            self.bymonthday.as_deref(),
            self.bymonth.as_deref(),
            self.bysetpos.as_deref(),
        )?;
        let rule = Recurrence { frequency, interval, weekdays, count, until };
        Ok(rule.validate()?)
    }
}

/// BYMONTHDAY / BYMONTH / BYSETPOS: only the forms that restate the start date or clamp to the
/// month's end.
fn check_day_parts(
    frequency: Frequency,
    bymonthday: Option<&str>,
    bymonth: Option<&str>,
    bysetpos: Option<&str>,
) -> Result<(), RruleError> {
    let month_days = bymonthday.map(|text| parse_list(text, "BYMONTHDAY", 1..=31)).transpose()?;
    let months = bymonth.map(|text| parse_list(text, "BYMONTH", 1..=12)).transpose()?;
    let clamp = match bysetpos {
        None => false,
        Some("-1") => true,
        Some(other) => return Err(RruleError::Unsupported(format!("BYSETPOS={}", short(other)))),
    };
    let days_ok = |days: &[i32]| match days {
        [_] => !clamp,
        // 28,29[,30[,31]];BYSETPOS=-1: the last of these that exists.
        [28, rest @ ..] => clamp && !rest.is_empty() && rest.iter().copied().eq(29..29 + rest.len() as i32),
        _ => false,
    };
    match (frequency, month_days.as_deref(), months.as_deref()) {
        (_, None, None) if !clamp => Ok(()),
        (Frequency::Monthly, Some(days), None) if days_ok(days) => Ok(()),
        (Frequency::Yearly, Some(days), Some([month]))
            if days_ok(days) && (!clamp || (*month == 2 && days == [28, 29])) =>
        {
            Ok(())
        }
        (Frequency::Yearly, None, Some([_])) if !clamp => Ok(()),
        _ => Err(RruleError::Unsupported(
            "this BYMONTHDAY/BYMONTH/BYSETPOS combination (todokit repeats on the start date's day)".into(),
        )),
    }
}

fn parse_number(text: &str, name: &str) -> Result<u32, RruleError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RruleError::Syntax(format!(
            "{name} must be a positive number (got \"{}\")",
            short(text)
        )));
    }
    // Saturate: an absurd number is then reported by the domain's range check.
    Ok(text.parse::<u32>().unwrap_or(u32::MAX))
}

fn parse_list(text: &str, name: &str, range: std::ops::RangeInclusive<i32>) -> Result<Vec<i32>, RruleError> {
    text.split(',')
        .map(|item| {
            let value: i32 = item.trim().parse().map_err(|_| {
                RruleError::Syntax(format!("{name} must be a list of numbers (got \"{}\")", short(text)))
            })?;
            if value < 0 {
                return Err(RruleError::Unsupported(format!("{name}={value} (counting from the end)")));
            }
            if !range.contains(&value) {
                return Err(RruleError::Syntax(format!("{name}={value} is out of range")));
            }
            Ok(value)
        })
        .collect()
}

fn parse_byday(text: &str) -> Result<Vec<Weekday>, RruleError> {
    text.split(',')
        .map(|item| {
            let item = item.trim();
            weekday_from_code(item).ok_or_else(|| {
                if let Some(code) = item.len().checked_sub(2).and_then(|at| item.get(at..))
                    && item.len() > 2
                    && weekday_from_code(code).is_some()
                {
                    return RruleError::Unsupported(format!(
                        "BYDAY={item}: \"the n-th weekday of the month\" is not supported"
                    ));
                }
                RruleError::Syntax(format!("unknown BYDAY day \"{}\"", short(item)))
            })
        })
        .collect()
}

fn parse_until(text: &str) -> Result<Timestamp, RruleError> {
    let bad =
        || RruleError::Syntax(format!("UNTIL must be a date or UTC date-time (got \"{}\")", short(text)));
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        let date = Date::strptime("%Y%m%d", text).map_err(|_| bad())?;
        let end_of_day = date.to_datetime(Time::constant(23, 59, 59, 0));
        return end_of_day.to_zoned(TimeZone::UTC).map(|z| z.timestamp()).map_err(|_| bad());
    }
    let floating = text.strip_suffix('Z').unwrap_or(text);
    if floating.len() != 15 {
        return Err(bad());
    }
    let at = DateTime::strptime("%Y%m%dT%H%M%S", floating).map_err(|_| bad())?;
    at.to_zoned(TimeZone::UTC).map(|z| z.timestamp()).map_err(|_| bad())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
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

#[cfg(test)]
#[path = "rrule_tests.rs"]
mod tests;
