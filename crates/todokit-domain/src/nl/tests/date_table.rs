use super::{berlin_now, local, new_york_now};
use crate::nl::parse_datetime;

/// (text, expected local time or "none", matched text, has_time) with `now` = Sat 2026-11-21
/// 10:00 America/New_York. Dates without a time resolve to 23:59:59.
const NEW_YORK: &[(&str, &str, &str, bool)] = &[
    ("today", "2026-11-21 23:59:59", "today", false),
    ("Today", "2026-11-21 23:59:59", "Today", false),
    ("TODAY", "2026-11-21 23:59:59", "TODAY", false),
    ("tonight", "2026-11-21 20:00:00", "tonight", true),
    ("tonite", "2026-11-21 20:00:00", "tonite", true),
    ("tomorrow", "2026-11-22 23:59:59", "tomorrow", false),
    ("tmrw", "2026-11-22 23:59:59", "tmrw", false),
    ("tmr", "2026-11-22 23:59:59", "tmr", false),
    ("day after tomorrow", "2026-11-23 23:59:59", "day after tomorrow", false),
    ("the day after tomorrow", "2026-11-23 23:59:59", "the day after tomorrow", false),
    ("yesterday", "2026-11-20 23:59:59", "yesterday", false),
    ("call mom today", "2026-11-21 23:59:59", "today", false),
    ("call mom tonight", "2026-11-21 20:00:00", "tonight", true),
    ("call mom tonight at 7pm", "2026-11-21 19:00:00", "tonight at 7pm", true),
    ("call mom tonight at 7", "2026-11-21 19:00:00", "tonight at 7", true),
    ("call mom at 7 tonight", "2026-11-21 19:00:00", "at 7 tonight", true),
    ("call mom tomorrow at 5pm", "2026-11-22 17:00:00", "tomorrow at 5pm", true),
    ("call mom tomorrow 5pm", "2026-11-22 17:00:00", "tomorrow 5pm", true),
    ("call mom tomorrow at 5 pm", "2026-11-22 17:00:00", "tomorrow at 5 pm", true),
    ("call mom tomorrow at 5:30 pm", "2026-11-22 17:30:00", "tomorrow at 5:30 pm", true),
    ("call mom tomorrow at 17:00", "2026-11-22 17:00:00", "tomorrow at 17:00", true),
    ("call mom at 5pm tomorrow", "2026-11-22 17:00:00", "at 5pm tomorrow", true),
    ("tomorrow morning", "2026-11-22 09:00:00", "tomorrow morning", true),
    ("tomorrow afternoon", "2026-11-22 15:00:00", "tomorrow afternoon", true),
    ("tomorrow evening", "2026-11-22 19:00:00", "tomorrow evening", true),
    ("tomorrow night", "2026-11-22 20:00:00", "tomorrow night", true),
    ("tomorrow at noon", "2026-11-22 12:00:00", "tomorrow at noon", true),
    ("tomorrow at midnight", "2026-11-23 00:00:00", "tomorrow at midnight", true),
    ("this morning", "2026-11-21 09:00:00", "this morning", true),
    ("this afternoon", "2026-11-21 15:00:00", "this afternoon", true),
    ("this evening", "2026-11-21 19:00:00", "this evening", true),
    ("in the morning", "2026-11-22 09:00:00", "in the morning", true),
    ("in the afternoon", "2026-11-21 15:00:00", "in the afternoon", true),
    ("at night", "2026-11-21 20:00:00", "at night", true),
    ("at 8 in the evening", "2026-11-21 20:00:00", "at 8 in the evening", true),
    ("at 8 in the morning", "2026-11-22 08:00:00", "at 8 in the morning", true),
    ("at 5", "2026-11-21 17:00:00", "at 5", true),
    ("at 5pm", "2026-11-21 17:00:00", "at 5pm", true),
    ("at 9am", "2026-11-22 09:00:00", "at 9am", true),
    ("at 9", "2026-11-22 09:00:00", "at 9", true),
    ("at 11", "2026-11-21 11:00:00", "at 11", true),
    ("at 12", "2026-11-21 12:00:00", "at 12", true),
    ("at 7", "2026-11-21 19:00:00", "at 7", true),
    ("at 17", "2026-11-21 17:00:00", "at 17", true),
    ("at 17:30", "2026-11-21 17:30:00", "at 17:30", true),
    ("5pm", "2026-11-21 17:00:00", "5pm", true),
    ("5 pm", "2026-11-21 17:00:00", "5 pm", true),
    ("5:30pm", "2026-11-21 17:30:00", "5:30pm", true),
    ("5:30 pm", "2026-11-21 17:30:00", "5:30 pm", true),
    ("5:30", "2026-11-21 17:30:00", "5:30", true),
    ("17:00", "2026-11-21 17:00:00", "17:00", true),
    ("09:00", "2026-11-22 09:00:00", "09:00", true),
    ("9am", "2026-11-22 09:00:00", "9am", true),
    ("12am", "2026-11-22 00:00:00", "12am", true),
    ("12pm", "2026-11-21 12:00:00", "12pm", true),
    ("noon", "2026-11-21 12:00:00", "noon", true),
    ("midday", "2026-11-21 12:00:00", "midday", true),
    ("midnight", "2026-11-22 00:00:00", "midnight", true),
    ("at noon", "2026-11-21 12:00:00", "at noon", true),
    ("by noon", "2026-11-21 12:00:00", "by noon", true),
    ("around 3pm", "2026-11-21 15:00:00", "around 3pm", true),
    ("by 5pm", "2026-11-21 17:00:00", "by 5pm", true),
    ("before 6pm", "2026-11-21 18:00:00", "before 6pm", true),
    ("5 o'clock", "2026-11-21 17:00:00", "5 o'clock", true),
    ("at 5 o'clock", "2026-11-21 17:00:00", "at 5 o'clock", true),
    ("at 10:45", "2026-11-21 10:45:00", "at 10:45", true),
    ("at 8:15pm", "2026-11-21 20:15:00", "at 8:15pm", true),
    ("monday", "2026-11-23 23:59:59", "monday", false),
    ("tuesday", "2026-11-24 23:59:59", "tuesday", false),
    ("wednesday", "2026-11-25 23:59:59", "wednesday", false),
    ("thursday", "2026-11-26 23:59:59", "thursday", false),
    ("friday", "2026-11-27 23:59:59", "friday", false),
    ("saturday", "2026-11-21 23:59:59", "saturday", false),
    ("sunday", "2026-11-22 23:59:59", "sunday", false),
    ("on friday", "2026-11-27 23:59:59", "on friday", false),
    ("by friday", "2026-11-27 23:59:59", "by friday", false),
    ("due friday", "2026-11-27 23:59:59", "due friday", false),
    ("due on friday", "2026-11-27 23:59:59", "due on friday", false),
    ("due by friday", "2026-11-27 23:59:59", "due by friday", false),
    ("this friday", "2026-11-27 23:59:59", "this friday", false),
    ("this saturday", "2026-11-21 23:59:59", "this saturday", false),
    ("this sunday", "2026-11-22 23:59:59", "this sunday", false),
    ("this coming friday", "2026-11-27 23:59:59", "this coming friday", false),
    ("coming friday", "2026-11-27 23:59:59", "coming friday", false),
    ("next monday", "2026-11-23 23:59:59", "next monday", false),
    ("next friday", "2026-11-27 23:59:59", "next friday", false),
    ("next saturday", "2026-11-28 23:59:59", "next saturday", false),
    ("next sunday", "2026-11-29 23:59:59", "next sunday", false),
    ("on fri", "2026-11-27 23:59:59", "on fri", false),
    ("by mon", "2026-11-23 23:59:59", "by mon", false),
    ("next tue", "2026-11-24 23:59:59", "next tue", false),
    ("next wed", "2026-11-25 23:59:59", "next wed", false),
    ("this thu", "2026-11-26 23:59:59", "this thu", false),
    ("friday 9am", "2026-11-27 09:00:00", "friday 9am", true),
    ("friday at 9am", "2026-11-27 09:00:00", "friday at 9am", true),
    ("friday morning", "2026-11-27 09:00:00", "friday morning", true),
    ("friday afternoon", "2026-11-27 15:00:00", "friday afternoon", true),
    ("friday night", "2026-11-27 20:00:00", "friday night", true),
    ("saturday at 9am", "2026-11-28 09:00:00", "saturday at 9am", true),
    ("saturday at 11am", "2026-11-21 11:00:00", "saturday at 11am", true),
    ("on monday at 10", "2026-11-23 10:00:00", "on monday at 10", true),
    ("next monday at noon", "2026-11-23 12:00:00", "next monday at noon", true),
    ("monday 8:30am", "2026-11-23 08:30:00", "monday 8:30am", true),
    ("in 3 days", "2026-11-24 23:59:59", "in 3 days", false),
    ("in 1 day", "2026-11-22 23:59:59", "in 1 day", false),
    ("in a day", "2026-11-22 23:59:59", "in a day", false),
    ("in 2 weeks", "2026-12-05 23:59:59", "in 2 weeks", false),
    ("in a week", "2026-11-28 23:59:59", "in a week", false),
    ("in 3 months", "2027-02-21 23:59:59", "in 3 months", false),
    ("in a month", "2026-12-21 23:59:59", "in a month", false),
    ("in 1 year", "2027-11-21 23:59:59", "in 1 year", false),
    ("in 2 hours", "2026-11-21 12:00:00", "in 2 hours", true),
    ("in an hour", "2026-11-21 11:00:00", "in an hour", true),
    ("in half an hour", "2026-11-21 10:30:00", "in half an hour", true),
    ("in 45 minutes", "2026-11-21 10:45:00", "in 45 minutes", true),
    ("in 90 mins", "2026-11-21 11:30:00", "in 90 mins", true),
    ("in a few days", "2026-11-24 23:59:59", "in a few days", false),
    ("in a couple of days", "2026-11-23 23:59:59", "in a couple of days", false),
    ("in a couple weeks", "2026-12-05 23:59:59", "in a couple weeks", false),
    ("in 2h", "2026-11-21 12:00:00", "in 2h", true),
    ("in 30min", "2026-11-21 10:30:00", "in 30min", true),
    ("in 3d", "2026-11-24 23:59:59", "in 3d", false),
    ("in 2w", "2026-12-05 23:59:59", "in 2w", false),
    ("in three days", "2026-11-24 23:59:59", "in three days", false),
    ("in ten minutes", "2026-11-21 10:10:00", "in ten minutes", true),
    ("3 days from now", "2026-11-24 23:59:59", "3 days from now", false),
    ("2 weeks from now", "2026-12-05 23:59:59", "2 weeks from now", false),
    ("a week from today", "2026-11-28 23:59:59", "a week from today", false),
    ("two days later", "2026-11-23 23:59:59", "two days later", false),
    ("in 3 days at 5pm", "2026-11-24 17:00:00", "in 3 days at 5pm", true),
    ("next week", "2026-11-23 23:59:59", "next week", false),
    ("next month", "2026-12-01 23:59:59", "next month", false),
    ("next year", "2027-01-01 23:59:59", "next year", false),
    ("next weekend", "2026-11-28 23:59:59", "next weekend", false),
    ("this weekend", "2026-11-21 23:59:59", "this weekend", false),
    ("the weekend", "2026-11-21 23:59:59", "the weekend", false),
    ("by the weekend", "2026-11-21 23:59:59", "by the weekend", false),
    ("this week", "2026-11-22 23:59:59", "this week", false),
    ("this month", "2026-11-30 23:59:59", "this month", false),
    ("end of week", "2026-11-22 23:59:59", "end of week", false),
    ("end of the week", "2026-11-22 23:59:59", "end of the week", false),
    ("end of month", "2026-11-30 23:59:59", "end of month", false),
    ("end of the month", "2026-11-30 23:59:59", "end of the month", false),
    ("the end of the month", "2026-11-30 23:59:59", "the end of the month", false),
    ("end of next month", "2026-12-31 23:59:59", "end of next month", false),
    ("end of next week", "2026-11-29 23:59:59", "end of next week", false),
    ("end of year", "2026-12-31 23:59:59", "end of year", false),
    ("end of day", "2026-11-21 23:59:59", "end of day", false),
    ("eod", "2026-11-21 23:59:59", "eod", false),
    ("eow", "2026-11-22 23:59:59", "eow", false),
    ("eom", "2026-11-30 23:59:59", "eom", false),
    ("2026-12-01", "2026-12-01 23:59:59", "2026-12-01", false),
    ("2026-12-01T09:00", "2026-12-01 09:00:00", "2026-12-01T09:00", true),
    ("2026-12-01T09:00:00", "2026-12-01 09:00:00", "2026-12-01T09:00:00", true),
    ("2026-12-01T09:00Z", "2026-12-01 04:00:00", "2026-12-01T09:00Z", true),
    ("2026-12-01T09:00:00+01:00", "2026-12-01 03:00:00", "2026-12-01T09:00:00+01:00", true),
    ("2026-12-01T09:00-08:00", "2026-12-01 12:00:00", "2026-12-01T09:00-08:00", true),
    ("2026-12-01 09:00", "2026-12-01 09:00:00", "2026-12-01 09:00", true),
    ("2026-12-01 at 3pm", "2026-12-01 15:00:00", "2026-12-01 at 3pm", true),
    ("2026-12-01T09:00[Europe/Berlin]", "2026-12-01 03:00:00", "2026-12-01T09:00[Europe/Berlin]", true),
    ("Dec 1", "2026-12-01 23:59:59", "Dec 1", false),
    ("dec 1", "2026-12-01 23:59:59", "dec 1", false),
    ("December 1", "2026-12-01 23:59:59", "December 1", false),
    ("December 1st", "2026-12-01 23:59:59", "December 1st", false),
    ("december 1st 2027", "2027-12-01 23:59:59", "december 1st 2027", false),
    ("Dec 1, 2027", "2027-12-01 23:59:59", "Dec 1, 2027", false),
    ("1 December", "2026-12-01 23:59:59", "1 December", false),
    ("1st December", "2026-12-01 23:59:59", "1st December", false),
    ("1st of December", "2026-12-01 23:59:59", "1st of December", false),
    ("1 Dec 2027", "2027-12-01 23:59:59", "1 Dec 2027", false),
    ("the 1st of december", "2026-12-01 23:59:59", "the 1st of december", false),
    ("on Dec 25 at 6pm", "2026-12-25 18:00:00", "on Dec 25 at 6pm", true),
    ("Nov 21", "2026-11-21 23:59:59", "Nov 21", false),
    ("Nov 20", "2027-11-20 23:59:59", "Nov 20", false),
    ("Jan 15", "2027-01-15 23:59:59", "Jan 15", false),
    ("Feb 29", "2028-02-29 23:59:59", "Feb 29", false),
    ("march 3", "2027-03-03 23:59:59", "march 3", false),
    ("may 5", "2027-05-05 23:59:59", "may 5", false),
    ("12/01", "2026-12-01 23:59:59", "12/01", false),
    ("12/1", "2026-12-01 23:59:59", "12/1", false),
    ("12/01/2027", "2027-12-01 23:59:59", "12/01/2027", false),
    ("12/1/27", "2027-12-01 23:59:59", "12/1/27", false),
    ("1/15", "2027-01-15 23:59:59", "1/15", false),
    ("13/01", "none", "", false),
    ("the 15th", "2026-12-15 23:59:59", "the 15th", false),
    ("on the 30th", "2026-11-30 23:59:59", "on the 30th", false),
    ("the 21st", "2026-11-21 23:59:59", "the 21st", false),
    ("the 20th", "2026-12-20 23:59:59", "the 20th", false),
    ("due the 3rd", "2026-12-03 23:59:59", "due the 3rd", false),
    ("buy milk", "none", "", false),
    ("buy 3 days of food", "none", "", false),
    ("look at 3 options", "none", "", false),
    ("may I help", "none", "", false),
    ("march on", "none", "", false),
    ("sat on the couch", "none", "", false),
    ("the sun is out", "none", "", false),
    ("morning routine", "none", "", false),
    ("good morning", "none", "", false),
    ("meeting at the office", "none", "", false),
    ("at 25", "none", "", false),
    ("at 5 apples", "none", "", false),
    ("2026-13-01", "none", "", false),
    ("99/99", "none", "", false),
    ("32 December", "none", "", false),
    ("in 0 days", "2026-11-21 23:59:59", "in 0 days", false),
    ("in 999999999 years", "none", "", false),
    ("at 13pm", "none", "", false),
    ("at 12:60", "none", "", false),
];

/// The same with `now` = Fri 2026-03-27 18:30 Europe/Berlin; DST starts Sun 2026-03-29 02:00.
const BERLIN: &[(&str, &str, &str, bool)] = &[
    ("sunday at 2:30am", "2026-03-29 03:30:00", "sunday at 2:30am", true),
    ("sunday at 9am", "2026-03-29 09:00:00", "sunday at 9am", true),
    ("tomorrow", "2026-03-28 23:59:59", "tomorrow", false),
    ("today", "2026-03-27 23:59:59", "today", false),
    ("friday", "2026-03-27 23:59:59", "friday", false),
    ("friday at 9am", "2026-04-03 09:00:00", "friday at 9am", true),
    ("friday at 8pm", "2026-03-27 20:00:00", "friday at 8pm", true),
    ("at 5pm", "2026-03-28 17:00:00", "at 5pm", true),
    ("at 8pm", "2026-03-27 20:00:00", "at 8pm", true),
    ("tonight", "2026-03-27 20:00:00", "tonight", true),
    ("in 2 days at 9am", "2026-03-29 09:00:00", "in 2 days at 9am", true),
    ("next week", "2026-03-30 23:59:59", "next week", false),
    ("end of month", "2026-03-31 23:59:59", "end of month", false),
    ("in 1 month", "2026-04-27 23:59:59", "in 1 month", false),
    ("04/01", "2026-04-01 23:59:59", "04/01", false),
    ("this weekend", "2026-03-28 23:59:59", "this weekend", false),
    ("next friday", "2026-04-03 23:59:59", "next friday", false),
    ("in 2 hours", "2026-03-27 20:30:00", "in 2 hours", true),
    ("in 48 hours", "2026-03-29 19:30:00", "in 48 hours", true),
    ("in 2 days", "2026-03-29 23:59:59", "in 2 days", false),
    ("27 march", "2026-03-27 23:59:59", "27 march", false),
    ("march 26", "2027-03-26 23:59:59", "march 26", false),
    ("at 6", "2026-03-28 18:00:00", "at 6", true),
    ("at 7", "2026-03-27 19:00:00", "at 7", true),
    ("midnight", "2026-03-28 00:00:00", "midnight", true),
    ("this morning", "2026-03-27 09:00:00", "this morning", true),
];

fn check_table(table: &[(&str, &str, &str, bool)], now: &jiff::Zoned) {
    let mut failures = Vec::new();
    for &(text, expected, matched, has_time) in table {
        let actual = parse_datetime(text, now);
        let ok = match &actual {
            None => expected == "none",
            Some(m) => {
                local(&m.at) == expected
                    && &text[m.start..m.end] == matched
                    && m.has_time == has_time
                    && m.at.time_zone() == now.time_zone()
            }
        };
        if !ok {
            failures
                .push(format!("{text:?}: expected {expected} [{matched}] time={has_time}, got {actual:?}"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn new_york_phrases() {
    check_table(NEW_YORK, &new_york_now());
}

#[test]
fn berlin_phrases_across_dst() {
    check_table(BERLIN, &berlin_now());
}

#[test]
fn dst_gap_and_offsets() {
    let now = berlin_now();
    // 02:30 does not exist on 2026-03-29 in Berlin; jiff moves it forward to 03:30 CEST.
    let found = parse_datetime("sunday at 2:30am", &now).unwrap();
    assert_eq!(found.at.offset().seconds(), 2 * 3600);
    // Exact durations are absolute: 48 hours across the change is 19:30 local.
    let found = parse_datetime("in 48 hours", &now).unwrap();
    assert_eq!(found.at.timestamp().as_second() - now.timestamp().as_second(), 48 * 3600);
}

#[test]
fn has_date_distinguishes_time_only_phrases() {
    let now = new_york_now();
    assert!(!parse_datetime("at 5pm", &now).unwrap().has_date);
    assert!(parse_datetime("tomorrow at 5pm", &now).unwrap().has_date);
    assert!(parse_datetime("friday", &now).unwrap().has_date);
}

#[test]
fn quoted_text_is_never_a_date() {
    let now = new_york_now();
    assert!(parse_datetime("\"call mom tomorrow\"", &now).is_none());
    let found = parse_datetime("\"tomorrow\" on friday", &now).unwrap();
    assert_eq!(local(&found.at), "2026-11-27 23:59:59");
}

#[test]
fn first_expression_wins_and_byte_ranges_are_exact() {
    let now = new_york_now();
    let text = "Réunion café ☕ friday at 9am, then monday";
    let found = parse_datetime(text, &now).unwrap();
    assert_eq!(&text[found.start..found.end], "friday at 9am");
    assert_eq!(local(&found.at), "2026-11-27 09:00:00");
}

#[test]
fn tonight_said_late_is_still_ahead() {
    let at = |now: &str, text: &str| {
        let now: jiff::Zoned = now.parse().expect("fixed now");
        local(&parse_datetime(text, &now).expect("a date").at)
    };
    // After 20:00 "tonight" is the next full hour, not a moment already past.
    assert_eq!(at("2026-12-07T22:40[America/New_York]", "tonight"), "2026-12-07 23:00:00");
    assert_eq!(at("2026-12-07T23:30[America/New_York]", "this evening"), "2026-12-07 23:59:59");
    // Before it, and with a time said, nothing changes.
    assert_eq!(at("2026-12-07T19:00[America/New_York]", "tonight"), "2026-12-07 20:00:00");
    assert_eq!(at("2026-12-07T22:40[America/New_York]", "tonight at 9"), "2026-12-07 21:00:00");
}
