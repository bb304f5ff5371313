//! Date and time expressions. The rules are documented on the [`crate::nl`] module.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::{Span, Timestamp, Zoned};

use super::token::{Token, digits, ordinal, small_number, tokenize};

/// A date/time expression found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateMatch {
    /// The resolved instant, in the time zone of the `now` it was resolved against.
    pub at: Zoned,
    /// Byte offset where the expression starts (including a leading "on", "by", "at" or "due").
    pub start: usize,
    /// Byte offset just past the expression.
    pub end: usize,
    /// The text named a time of day ("5pm", "noon", "tonight", "in 2 hours"); when `false`, `at`
    /// carries the default time [`DEFAULT_DUE_TIME`].
    pub has_time: bool,
    /// The text named a day; when `false` only a time was given ("at 5pm") and `at` is its next
    /// occurrence. Rescheduling uses this to change only the time of day.
    pub has_date: bool,
}

/// The time given to a date named without a time of day: the end of that day, so a task
/// "due Friday" only becomes overdue once Friday is over.
pub const DEFAULT_DUE_TIME: Time = Time::constant(23, 59, 59, 0);

/// Finds the first date/time expression in `text` and resolves it against `now`.
///
/// See the [module documentation](crate::nl) for the supported phrases and rules.
pub fn parse_datetime(text: &str, now: &Zoned) -> Option<DateMatch> {
    let tokens = tokenize(text);
    let refs: Vec<&Token> = tokens.iter().collect();
    let found = find_date(text, &refs, now)?;
    Some(found.into_date_match(&refs))
}

/// A match in token coordinates: `first..end` index into the token slice that was searched.
#[derive(Debug, Clone)]
pub(crate) struct TokenMatch {
    pub first: usize,
    pub end: usize,
    pub at: Zoned,
    pub has_time: bool,
    pub has_date: bool,
}

impl TokenMatch {
    pub(crate) fn into_date_match(self, tokens: &[&Token]) -> DateMatch {
        DateMatch {
            start: tokens[self.first].core.start,
            end: tokens[self.end - 1].core.end,
            at: self.at,
            has_time: self.has_time,
            has_date: self.has_date,
        }
    }
}

/// Named parts of the day and the time each stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartOfDay {
    Morning,
    Afternoon,
    Evening,
    Night,
}

impl PartOfDay {
    fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "morning" | "mornin" => Self::Morning,
            "afternoon" => Self::Afternoon,
            "evening" => Self::Evening,
            "night" => Self::Night,
            _ => return None,
        })
    }

    fn default_time(self) -> Time {
        match self {
            Self::Morning => Time::constant(9, 0, 0, 0),
            Self::Afternoon => Time::constant(15, 0, 0, 0),
            Self::Evening => Time::constant(19, 0, 0, 0),
            Self::Night => Time::constant(20, 0, 0, 0),
        }
    }

    fn is_after_noon(self) -> bool {
        !matches!(self, Self::Morning)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
}

/// A clock time as written, before am/pm inference.
#[derive(Debug, Clone, Copy)]
struct Clock {
    hour: i8,
    minute: i8,
    second: i8,
    meridiem: Option<Meridiem>,
    /// "at 5" or "5:30": a 12-hour reading without am/pm, resolved from context.
    ambiguous: bool,
    /// "midnight": the end of the named day.
    next_day: bool,
}

impl Clock {
    fn resolve(self, part_of_day: Option<PartOfDay>) -> Time {
        let mut hour = self.hour;
        match self.meridiem {
            Some(Meridiem::Am) if hour == 12 => hour = 0,
            Some(Meridiem::Pm) if hour < 12 => hour += 12,
            Some(_) => {}
            None if self.ambiguous && hour < 12 => {
                let afternoon = match part_of_day {
                    Some(part) => part.is_after_noon(),
                    // Nobody plans a task for 5 in the morning: 1–7 read as pm, 8–11 as am.
                    None => hour <= 7,
                };
                if afternoon {
                    hour += 12;
                }
            }
            None => {}
        }
        Time::new(hour, self.minute, self.second, 0).unwrap_or(DEFAULT_DUE_TIME)
    }
}

#[derive(Debug, Clone)]
struct DayPiece {
    date: Date,
    part_of_day: Option<PartOfDay>,
    /// A bare or "this" weekday: if it is today and the time has passed, it means next week.
    rolls_weekly: bool,
}

#[derive(Debug, Clone)]
enum Piece {
    Day(DayPiece),
    Clock(Clock),
    PartOfDay(PartOfDay),
    /// A fully specified instant: an ISO datetime or "in 2 hours".
    Instant(Zoned),
}

/// The pieces of one expression collected so far.
#[derive(Debug, Default)]
struct Gathered {
    day: Option<DayPiece>,
    clock: Option<Clock>,
    part_of_day: Option<PartOfDay>,
    instant: Option<Zoned>,
}

impl Gathered {
    /// Whether `piece` complements what was gathered (a second date or time ends the expression).
    fn accepts(&self, piece: &Piece) -> bool {
        match piece {
            Piece::Day(day) => {
                self.day.is_none() && (self.part_of_day.is_none() || day.part_of_day.is_none())
            }
            Piece::Clock(_) => self.clock.is_none(),
            Piece::PartOfDay(_) => self.part_of_day.is_none(),
            Piece::Instant(_) => false,
        }
    }

    fn absorb(&mut self, piece: Piece) {
        match piece {
            Piece::Day(day) => {
                if self.part_of_day.is_none() {
                    self.part_of_day = day.part_of_day;
                }
                self.day = Some(day);
            }
            Piece::Clock(clock) => self.clock = Some(clock),
            Piece::PartOfDay(part) => self.part_of_day = Some(part),
            Piece::Instant(at) => self.instant = Some(at),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: &'a [&'a Token],
    now: &'a Zoned,
    today: Date,
}

const DATE_LEADS: &[&str] = &["on", "by", "due", "until", "till", "til", "before", "for"];
const TIME_LEADS: &[&str] = &["at", "@", "by", "around", "due", "before", "until", "till", "til"];

/// Finds the leftmost date expression among `tokens` (quoted tokens are never part of one).
pub(crate) fn find_date(text: &str, tokens: &[&Token], now: &Zoned) -> Option<TokenMatch> {
    let parser = Parser { text, tokens, now, today: now.date() };
    (0..tokens.len()).find_map(|start| parser.expression_at(start))
}

impl Parser<'_> {
    fn word(&self, index: usize) -> Option<&str> {
        self.tokens.get(index).filter(|t| !t.quoted).map(|t| t.text())
    }

    fn is(&self, index: usize, words: &[&str]) -> bool {
        self.word(index).is_some_and(|w| words.contains(&w))
    }

    /// Skips up to two lead words ("due on", "by").
    fn skip_leads(&self, mut index: usize, leads: &[&str]) -> usize {
        for _ in 0..2 {
            if self.is(index, leads) {
                index += 1;
            }
        }
        index
    }

    /// A whole expression starting at `start`: one piece plus complementary pieces that follow.
    fn expression_at(&self, start: usize) -> Option<TokenMatch> {
        let (mut end, first) = self.piece_at(start, true)?;
        let mut gathered = Gathered::default();
        gathered.absorb(first);
        while gathered.instant.is_none() {
            let Some((next_end, piece)) = self.piece_at(end, false) else {
                break;
            };
            if !gathered.accepts(&piece) {
                break;
            }
            gathered.absorb(piece);
            end = next_end;
        }
        let Gathered { day, clock, part_of_day, instant } = gathered;
        let (at, has_time, has_date) = match instant {
            Some(at) => (at, true, true),
            None => self.resolve(day.as_ref(), clock, part_of_day)?,
        };
        let first = self.extend_backwards(start);
        Some(TokenMatch { first, end, at, has_time, has_date })
    }

    /// Includes a "due" that directly precedes the expression ("due friday", "due on friday").
    fn extend_backwards(&self, start: usize) -> usize {
        if start > 0 && self.is(start - 1, &["due"]) && !self.is(start, &["due"]) { start - 1 } else { start }
    }

    fn resolve(
        &self,
        day: Option<&DayPiece>,
        clock: Option<Clock>,
        part_of_day: Option<PartOfDay>,
    ) -> Option<(Zoned, bool, bool)> {
        let has_time = clock.is_some() || part_of_day.is_some();
        let time = match (clock, part_of_day) {
            (Some(clock), pod) => clock.resolve(pod),
            (None, Some(pod)) => pod.default_time(),
            (None, None) => DEFAULT_DUE_TIME,
        };
        let midnight_shift = i64::from(clock.is_some_and(|c| c.next_day));
        let tz = self.now.time_zone().clone();
        let zoned_at = |date: Date| -> Option<Zoned> {
            let date = date.checked_add(Span::new().days(midnight_shift)).ok()?;
            DateTime::from_parts(date, time).to_zoned(tz.clone()).ok()
        };
        match day {
            Some(day) => {
                let mut at = zoned_at(day.date)?;
                if day.rolls_weekly && has_time && day.date == self.today && at < *self.now {
                    at = zoned_at(day.date.checked_add(Span::new().weeks(1)).ok()?)?;
                }
                // "tonight" said at 22:40: not 20:00, already past, but the next full hour
                // (23:59 at the latest).
                if clock.is_none()
                    && matches!(part_of_day, Some(PartOfDay::Evening | PartOfDay::Night))
                    && day.date == self.today
                    && at < *self.now
                {
                    let next_hour = self.now.time().hour() + 1;
                    let later =
                        if next_hour < 24 { Time::new(next_hour, 0, 0, 0).ok()? } else { DEFAULT_DUE_TIME };
                    at = DateTime::from_parts(day.date, later.min(DEFAULT_DUE_TIME))
                        .to_zoned(tz.clone())
                        .ok()?;
                }
                Some((at, has_time, true))
            }
            None => {
                let mut at = zoned_at(self.today)?;
                if at < *self.now {
                    at = zoned_at(self.today.tomorrow().ok()?)?;
                }
                Some((at, has_time, false))
            }
        }
    }

    /// One piece at `index`. `standalone` is true for the first piece of an expression, where
    /// bare part-of-day words ("morning") are too ambiguous to count.
    fn piece_at(&self, index: usize, standalone: bool) -> Option<(usize, Piece)> {
        if let Some(found) = self.day_at(index) {
            return Some(found);
        }
        if let Some((end, clock)) = self.clock_at(index) {
            return Some((end, Piece::Clock(clock)));
        }
        self.part_of_day_at(index, standalone).map(|(end, pod)| (end, Piece::PartOfDay(pod)))
    }

    fn part_of_day_at(&self, index: usize, standalone: bool) -> Option<(usize, PartOfDay)> {
        // "in the morning", "at night"
        if self.is(index, &["in"]) && self.is(index + 1, &["the"]) {
            let pod = PartOfDay::from_word(self.word(index + 2)?)?;
            return Some((index + 3, pod));
        }
        if self.is(index, &["at"]) && self.is(index + 1, &["night"]) {
            return Some((index + 2, PartOfDay::Night));
        }
        if standalone {
            return None;
        }
        PartOfDay::from_word(self.word(index)?).map(|pod| (index + 1, pod))
    }

    // ----- clock times -----

    fn clock_at(&self, index: usize) -> Option<(usize, Clock)> {
        let start = self.skip_leads(index, TIME_LEADS);
        let has_lead = start > index;
        let word = self.word(start)?;
        match word {
            "noon" | "midday" | "12noon" => return Some((start + 1, Clock::at(12, 0))),
            "midnight" => {
                let mut clock = Clock::at(0, 0);
                clock.next_day = true;
                return Some((start + 1, clock));
            }
            _ => {}
        }
        let (mut clock, had_colon) = parse_clock_word(word)?;
        let mut end = start + 1;
        if clock.meridiem.is_none()
            && let Some(meridiem) = self.word(end).and_then(meridiem_word)
        {
            if !(1..=12).contains(&clock.hour) {
                return None;
            }
            clock.meridiem = Some(meridiem);
            clock.ambiguous = false;
            end += 1;
        }
        if self.is(end, &["o'clock", "oclock"]) {
            end += 1;
            return (clock.hour <= 12).then_some((end, clock));
        }
        if clock.meridiem.is_none() && !had_colon {
            // A bare number is a time only after "at"/"by" and when nothing but a date, a
            // clause break or a connector follows ("at 5 tomorrow", "at 5, then …").
            if !has_lead || !self.bare_number_can_end_here(start, end) {
                return None;
            }
        }
        Some((end, clock))
    }

    fn bare_number_can_end_here(&self, number_index: usize, next: usize) -> bool {
        if next >= self.tokens.len() || self.tokens[number_index].clause_end {
            return true;
        }
        if self.is(next, &["and", "then", "to", "please", "sharp", "today", "tonight"]) {
            return true;
        }
        self.day_at(next).is_some() || self.part_of_day_at(next, false).is_some()
    }

    // ----- days -----

    fn day(&self, date: Date) -> Piece {
        Piece::Day(DayPiece { date, part_of_day: None, rolls_weekly: false })
    }

    fn offset_days(&self, days: i64) -> Option<Date> {
        self.today.checked_add(Span::new().days(days)).ok()
    }

    fn day_at(&self, index: usize) -> Option<(usize, Piece)> {
        let start = self.skip_leads(index, DATE_LEADS);
        let had_lead = start > index;
        let word = self.word(start)?;
        let next = start + 1;
        match word {
            "today" => return Some((next, self.day(self.today))),
            "tonight" | "tonite" | "2nite" => {
                let piece = Piece::Day(DayPiece {
                    date: self.today,
                    part_of_day: Some(PartOfDay::Night),
                    rolls_weekly: false,
                });
                return Some((next, piece));
            }
            "tomorrow" | "tmr" | "tmrw" | "tomorow" | "tommorow" | "tommorrow" | "2moro" => {
                return Some((next, self.day(self.offset_days(1)?)));
            }
            "overmorrow" => return Some((next, self.day(self.offset_days(2)?))),
            "yesterday" => return Some((next, self.day(self.offset_days(-1)?))),
            "eod" => return Some((next, self.day(self.today))),
            "eow" => return Some((next, self.day(self.end_of_week(0)?))),
            "eom" => return Some((next, self.day(self.today.last_of_month()))),
            _ => {}
        }
        if let Some(found) = self.day_after_tomorrow_at(start) {
            return Some(found);
        }
        if matches!(word, "this" | "next" | "coming") {
            return self.relative_named_at(start);
        }
        if let Some(weekday) = weekday_word(word, had_lead) {
            return Some((next, self.weekday_this(weekday)));
        }
        if let Some(found) = self.end_of_at(start) {
            return Some(found);
        }
        if word == "the" && self.is(next, &["weekend"]) {
            return Some((next + 1, self.day(self.weekend(0)?)));
        }
        if word == "in" || word == "within" {
            return self.in_duration_at(start);
        }
        if let Some(found) = self.duration_from_now_at(start) {
            return Some(found);
        }
        if let Some(found) = self.month_day_at(start) {
            return Some(found);
        }
        if word == "the"
            && let Some(found) = self.day_of_month_at(start + 1)
        {
            return Some(found);
        }
        self.numeric_date_at(start)
    }

    fn day_after_tomorrow_at(&self, start: usize) -> Option<(usize, Piece)> {
        let at = if self.is(start, &["the"]) { start + 1 } else { start };
        if self.is(at, &["day"]) && self.is(at + 1, &["after"]) && self.is(at + 2, &["tomorrow"]) {
            return Some((at + 3, self.day(self.offset_days(2)?)));
        }
        None
    }

    /// "this friday", "next week", "this evening", "coming monday", "this weekend" …
    fn relative_named_at(&self, start: usize) -> Option<(usize, Piece)> {
        let qualifier = self.word(start)?;
        let mut at = start + 1;
        if qualifier == "this" && self.is(at, &["coming"]) {
            at += 1;
        }
        let word = self.word(at)?;
        let end = at + 1;
        let is_next = qualifier == "next";
        if let Some(weekday) = weekday_word(word, true) {
            let piece = if is_next {
                self.day(self.weekday_of_week(weekday, 1)?)
            } else {
                self.weekday_this(weekday)
            };
            return Some((end, piece));
        }
        if !is_next && let Some(pod) = PartOfDay::from_word(word) {
            let piece =
                Piece::Day(DayPiece { date: self.today, part_of_day: Some(pod), rolls_weekly: false });
            return Some((end, piece));
        }
        let weeks = i64::from(is_next);
        let date = match word {
            "week" if is_next => self.weekday_of_week(Weekday::Monday, 1)?,
            "week" => self.end_of_week(0)?,
            "weekend" => self.weekend(weeks)?,
            "month" if is_next => self.today.first_of_month().checked_add(Span::new().months(1)).ok()?,
            "month" => self.today.last_of_month(),
            "year" if is_next => Date::new(self.today.year().checked_add(1)?, 1, 1).ok()?,
            "year" => self.today.last_of_year(),
            _ => return None,
        };
        Some((end, self.day(date)))
    }

    /// "end of (the) day/week/month/year", "end of next week/month".
    fn end_of_at(&self, start: usize) -> Option<(usize, Piece)> {
        let mut at = start;
        if self.is(at, &["the"]) {
            at += 1;
        }
        if !(self.is(at, &["end"]) && self.is(at + 1, &["of"])) {
            return None;
        }
        at += 2;
        if self.is(at, &["the", "this"]) {
            at += 1;
        }
        let next = self.is(at, &["next"]);
        if next {
            at += 1;
        }
        let date = match (self.word(at)?, next) {
            ("day", false) => self.today,
            ("week", false) => self.end_of_week(0)?,
            ("week", true) => self.end_of_week(1)?,
            ("month", false) => self.today.last_of_month(),
            ("month", true) => {
                self.today.first_of_month().checked_add(Span::new().months(1)).ok()?.last_of_month()
            }
            ("year", false) => self.today.last_of_year(),
            ("year", true) => Date::new(self.today.year().checked_add(1)?, 12, 31).ok()?,
            _ => return None,
        };
        Some((at + 1, self.day(date)))
    }

    /// "in 3 days", "in an hour", "in half an hour", "in a couple of weeks", "in 2h".
    fn in_duration_at(&self, start: usize) -> Option<(usize, Piece)> {
        let at = start + 1;
        if self.is(at, &["half"]) && self.is(at + 1, &["an", "a"]) && self.is(at + 2, &["hour"]) {
            return Some((at + 3, self.after(Unit::Minute, 30)?));
        }
        if let Some((amount, unit)) = self.word(at).and_then(compact_duration) {
            return Some((at + 1, self.after(unit, amount)?));
        }
        let (end, amount, unit) = self.amount_and_unit_at(at)?;
        Some((end, self.after(unit, amount)?))
    }

    /// "3 days from now", "2 weeks from today", "a week later".
    fn duration_from_now_at(&self, start: usize) -> Option<(usize, Piece)> {
        let (end, amount, unit) = self.amount_and_unit_at(start)?;
        if self.is(end, &["from"]) && self.is(end + 1, &["now", "today"]) {
            return Some((end + 2, self.after(unit, amount)?));
        }
        if self.is(end, &["later"]) {
            return Some((end + 1, self.after(unit, amount)?));
        }
        None
    }

    fn amount_and_unit_at(&self, at: usize) -> Option<(usize, i64, Unit)> {
        let word = self.word(at)?;
        if matches!(word, "a" | "an") && self.is(at + 1, &["couple", "few"]) {
            let amount = if self.is(at + 1, &["couple"]) { 2 } else { 3 };
            let unit_at = if self.is(at + 2, &["of"]) { at + 3 } else { at + 2 };
            return Some((unit_at + 1, amount, unit_word(self.word(unit_at)?)?.0));
        }
        let amount = small_number(word)?;
        let (unit, multiplier) = unit_word(self.word(at + 1)?)?;
        Some((at + 2, amount.checked_mul(multiplier)?, unit))
    }

    fn after(&self, unit: Unit, amount: i64) -> Option<Piece> {
        if amount > 100_000 {
            return None;
        }
        Some(match unit {
            Unit::Minute => Piece::Instant(self.now.checked_add(Span::new().try_minutes(amount).ok()?).ok()?),
            Unit::Hour => Piece::Instant(self.now.checked_add(Span::new().try_hours(amount).ok()?).ok()?),
            Unit::Day => self.day(self.today.checked_add(Span::new().try_days(amount).ok()?).ok()?),
            Unit::Week => self.day(self.today.checked_add(Span::new().try_weeks(amount).ok()?).ok()?),
            Unit::Month => self.day(self.today.checked_add(Span::new().try_months(amount).ok()?).ok()?),
            Unit::Year => self.day(self.today.checked_add(Span::new().try_years(amount).ok()?).ok()?),
        })
    }

    /// "Dec 1", "December 1st, 2027", "1 December", "1st of Dec 2027".
    fn month_day_at(&self, start: usize) -> Option<(usize, Piece)> {
        let word = self.word(start)?;
        if let Some(month) = month_word(word) {
            let mut at = start + 1;
            if self.is(at, &["the"]) {
                at += 1;
            }
            let day = self.word(at).and_then(day_number)?;
            let (end, year) = self.optional_year(at + 1);
            return Some((end, self.day(self.calendar_date(year, month, day)?)));
        }
        let day = day_number(word)?;
        let mut at = start + 1;
        if self.is(at, &["of"]) {
            at += 1;
        }
        let month = month_word(self.word(at)?)?;
        let (end, year) = self.optional_year(at + 1);
        Some((end, self.day(self.calendar_date(year, month, day)?)))
    }

    fn optional_year(&self, at: usize) -> (usize, Option<i16>) {
        match self.word(at).and_then(year_number) {
            Some(year) => (at + 1, Some(year)),
            None => (at, None),
        }
    }

    /// A month/day with an optional year; without a year, the next such date on or after today.
    fn calendar_date(&self, year: Option<i16>, month: i8, day: i8) -> Option<Date> {
        if let Some(year) = year {
            return Date::new(year, month, day).ok();
        }
        let this_year = self.today.year();
        // Up to 8 years ahead so "Feb 29" finds the next leap year.
        (0..=8).find_map(|ahead| {
            let date = Date::new(this_year.checked_add(ahead)?, month, day).ok()?;
            (date >= self.today).then_some(date)
        })
    }

    /// "the 15th": the next 15th on or after today.
    fn day_of_month_at(&self, at: usize) -> Option<(usize, Piece)> {
        let word = self.word(at)?;
        if digits(word).is_some() {
            return None; // "the 15" is more likely a quantity than a date.
        }
        let day = i8::try_from(ordinal(word)?).ok()?;
        let first = self.today.first_of_month();
        let date = (0..=2).find_map(|months| {
            let month = first.checked_add(Span::new().months(months)).ok()?;
            let date = Date::new(month.year(), month.month(), day).ok()?;
            (date >= self.today).then_some(date)
        })?;
        let mut end = at + 1;
        // "the 15th of December" is handled by month_day_at; here only "the 15th".
        if self.is(end, &["of"]) && self.word(end + 1).and_then(month_word).is_some() {
            let month = self.word(end + 1).and_then(month_word)?;
            let (year_end, year) = self.optional_year(end + 2);
            end = year_end;
            return Some((end, self.day(self.calendar_date(year, month, day)?)));
        }
        Some((end, self.day(date)))
    }

    /// ISO dates/datetimes ("2026-12-01", "2026-12-01T09:00+01:00") and US "12/01[/2027]".
    fn numeric_date_at(&self, start: usize) -> Option<(usize, Piece)> {
        let token = self.tokens.get(start).filter(|t| !t.quoted)?;
        let original = &self.text[token.core.clone()];
        if original.len() >= 10 && original.as_bytes().get(4) == Some(&b'-') {
            return self.iso_at(start, original);
        }
        let mut parts = original.split('/');
        let month = parts.next().and_then(digits).and_then(|m| i8::try_from(m).ok())?;
        let day = parts.next().and_then(digits).and_then(|d| i8::try_from(d).ok())?;
        let year = match parts.next() {
            None => None,
            Some(y) if y.len() == 2 => Some(2000 + i16::try_from(digits(y)?).ok()?),
            Some(y) => Some(year_number(y)?),
        };
        if parts.next().is_some() {
            return None;
        }
        Some((start + 1, self.day(self.calendar_date(year, month, day)?)))
    }

    fn iso_at(&self, start: usize, original: &str) -> Option<(usize, Piece)> {
        let tz = self.now.time_zone();
        if original.len() == 10 {
            let date: Date = original.parse().ok()?;
            return Some((start + 1, self.day(date)));
        }
        if let Ok(zoned) = original.parse::<Zoned>() {
            return Some((start + 1, Piece::Instant(zoned.with_time_zone(tz.clone()))));
        }
        if let Ok(timestamp) = original.parse::<Timestamp>() {
            return Some((start + 1, Piece::Instant(timestamp.to_zoned(tz.clone()))));
        }
        let local: DateTime = original.parse().ok()?;
        Some((start + 1, Piece::Instant(local.to_zoned(tz.clone()).ok()?)))
    }

    // ----- week arithmetic (weeks start on Monday) -----

    fn monday_of_week(&self, weeks_ahead: i64) -> Option<Date> {
        let since_monday = i64::from(self.today.weekday().to_monday_zero_offset());
        self.today.checked_add(Span::new().days(7 * weeks_ahead - since_monday)).ok()
    }

    fn weekday_of_week(&self, weekday: Weekday, weeks_ahead: i64) -> Option<Date> {
        let offset = i64::from(weekday.to_monday_zero_offset());
        self.monday_of_week(weeks_ahead)?.checked_add(Span::new().days(offset)).ok()
    }

    fn end_of_week(&self, weeks_ahead: i64) -> Option<Date> {
        self.weekday_of_week(Weekday::Sunday, weeks_ahead)
    }

    /// Saturday of the week; on a Sunday "this weekend" is today.
    fn weekend(&self, weeks_ahead: i64) -> Option<Date> {
        if weeks_ahead == 0 && self.today.weekday() == Weekday::Sunday {
            return Some(self.today);
        }
        self.weekday_of_week(Weekday::Saturday, weeks_ahead)
    }

    /// A bare weekday: the next one on or after today.
    fn weekday_this(&self, weekday: Weekday) -> Piece {
        let days_ahead = i64::from(weekday.since(self.today.weekday()));
        let date = self.offset_days(days_ahead).unwrap_or(self.today);
        Piece::Day(DayPiece { date, part_of_day: None, rolls_weekly: true })
    }
}

impl Clock {
    fn at(hour: i8, minute: i8) -> Self {
        Clock { hour, minute, second: 0, meridiem: None, ambiguous: false, next_day: false }
    }
}

fn meridiem_word(word: &str) -> Option<Meridiem> {
    match word {
        "am" | "a.m" | "a" => Some(Meridiem::Am),
        "pm" | "p.m" | "p" => Some(Meridiem::Pm),
        _ => None,
    }
}

/// "5", "5pm", "5:30", "5:30pm", "17:00", "17:00:00", "09:00". Returns the clock and whether a
/// colon was present.
fn parse_clock_word(word: &str) -> Option<(Clock, bool)> {
    let (digits_part, meridiem) = ["am", "a.m", "pm", "p.m"]
        .iter()
        .find_map(|suffix| word.strip_suffix(suffix).map(|rest| (rest, meridiem_word(suffix))))
        .unwrap_or((word, None));
    // "3.30pm", as the British write it (only with am/pm: "1.50" may be a price).
    let dotted;
    let digits_part = if meridiem.is_some() && digits_part.contains('.') && !digits_part.contains(':') {
        dotted = digits_part.replacen('.', ":", 1);
        dotted.as_str()
    } else {
        digits_part
    };
    let mut fields = digits_part.split(':');
    let hour_text = fields.next()?;
    if hour_text.is_empty() || hour_text.len() > 2 {
        return None;
    }
    let hour = i8::try_from(digits(hour_text)?).ok()?;
    let minute = match fields.next() {
        Some(m) if m.len() == 2 => i8::try_from(digits(m)?).ok()?,
        Some(_) => return None,
        None => 0,
    };
    let second = match fields.next() {
        Some(s) if s.len() == 2 => i8::try_from(digits(s)?).ok()?,
        Some(_) => return None,
        None => 0,
    };
    if fields.next().is_some() || minute > 59 || second > 59 {
        return None;
    }
    let had_colon = digits_part.contains(':');
    match meridiem {
        Some(_) if !(1..=12).contains(&hour) => return None,
        None if hour > 23 => return None,
        _ => {}
    }
    let ambiguous = meridiem.is_none() && (1..=12).contains(&hour) && !hour_text.starts_with('0');
    Some((Clock { hour, minute, second, meridiem, ambiguous, next_day: false }, had_colon))
}

#[derive(Debug, Clone, Copy)]
enum Unit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// A unit word and how many of that unit it stands for ("fortnight" = 2 weeks).
fn unit_word(word: &str) -> Option<(Unit, i64)> {
    Some(match word {
        "minute" | "minutes" | "min" | "mins" => (Unit::Minute, 1),
        "hour" | "hours" | "hr" | "hrs" => (Unit::Hour, 1),
        "day" | "days" => (Unit::Day, 1),
        "week" | "weeks" | "wk" | "wks" => (Unit::Week, 1),
        "fortnight" | "fortnights" => (Unit::Week, 2),
        "month" | "months" | "mo" | "mos" => (Unit::Month, 1),
        "year" | "years" | "yr" | "yrs" => (Unit::Year, 1),
        _ => return None,
    })
}

/// "2h", "30min", "3d", "2w" after "in".
fn compact_duration(word: &str) -> Option<(i64, Unit)> {
    let split = word.find(|c: char| !c.is_ascii_digit())?;
    let amount = digits(&word[..split])?;
    let unit = match &word[split..] {
        "m" | "min" | "mins" => Unit::Minute,
        "h" | "hr" | "hrs" => Unit::Hour,
        "d" => Unit::Day,
        "w" | "wk" | "wks" => Unit::Week,
        _ => return None,
    };
    Some((amount, unit))
}

/// Full weekday names always; abbreviations ("fri", "sat") only after a lead word or
/// "this"/"next", because "sat" and "sun" are ordinary English words.
pub(crate) fn weekday_word(word: &str, allow_abbreviation: bool) -> Option<Weekday> {
    let full = match word {
        "monday" => Some(Weekday::Monday),
        "tuesday" => Some(Weekday::Tuesday),
        "wednesday" => Some(Weekday::Wednesday),
        "thursday" => Some(Weekday::Thursday),
        "friday" => Some(Weekday::Friday),
        "saturday" => Some(Weekday::Saturday),
        "sunday" => Some(Weekday::Sunday),
        _ => None,
    };
    if full.is_some() || !allow_abbreviation {
        return full;
    }
    match word {
        "mon" => Some(Weekday::Monday),
        "tue" | "tues" => Some(Weekday::Tuesday),
        "wed" | "weds" => Some(Weekday::Wednesday),
        "thu" | "thur" | "thurs" => Some(Weekday::Thursday),
        "fri" => Some(Weekday::Friday),
        "sat" => Some(Weekday::Saturday),
        "sun" => Some(Weekday::Sunday),
        _ => None,
    }
}

fn month_word(word: &str) -> Option<i8> {
    Some(match word {
        "january" | "jan" => 1,
        "february" | "feb" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    })
}

/// A day of the month as "1", "01", "1st", "21st".
pub(crate) fn day_number(word: &str) -> Option<i8> {
    let day = digits(word).filter(|_| word.len() <= 2).or_else(|| ordinal(word))?;
    i8::try_from(day).ok().filter(|d| (1..=31).contains(d))
}

fn year_number(word: &str) -> Option<i16> {
    if word.len() != 4 {
        return None;
    }
    i16::try_from(digits(word)?).ok().filter(|y| (1900..=2999).contains(y))
}
