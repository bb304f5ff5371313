use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;

use super::*;

fn rule(frequency: Frequency, interval: u32) -> Recurrence {
    Recurrence::new(frequency, interval).unwrap()
}

fn zoned(text: &str) -> Zoned {
    text.parse().unwrap()
}

#[test]
fn writes_each_kind_of_rule() {
    let until: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
    let cases: Vec<(Recurrence, &str)> = vec![
        (rule(Frequency::Daily, 1), "FREQ=DAILY"),
        (rule(Frequency::Weekly, 2), "FREQ=WEEKLY;INTERVAL=2"),
        (rule(Frequency::Monthly, 1), "FREQ=MONTHLY"),
        (rule(Frequency::Yearly, 3), "FREQ=YEARLY;INTERVAL=3"),
        (Recurrence::weekly_on([Weekday::Thu, Weekday::Mon], 1).unwrap(), "FREQ=WEEKLY;BYDAY=MO,TH"),
        (
            Recurrence::weekly_on(Weekday::WORKDAYS, 2).unwrap(),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;WKST=MO",
        ),
        (Recurrence { count: Some(5), ..rule(Frequency::Daily, 1) }, "FREQ=DAILY;COUNT=5"),
        (
            Recurrence { until: Some(until), ..rule(Frequency::Weekly, 1) },
            "FREQ=WEEKLY;UNTIL=20270101T000000Z",
        ),
    ];
    for (rule, expected) in cases {
        assert_eq!(to_rrule(&rule, None), expected, "{rule:?}");
        assert_eq!(parse_rrule(expected).unwrap(), rule, "{expected}");
    }
}

#[test]
fn month_end_starts_are_clamped_explicitly() {
    let monthly = rule(Frequency::Monthly, 1);
    let jan31 = zoned("2027-01-31T09:00[Europe/Berlin]");
    assert_eq!(to_rrule(&monthly, Some(&jan31)), "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1");
    let jan30 = zoned("2027-01-30T09:00[Europe/Berlin]");
    assert_eq!(to_rrule(&monthly, Some(&jan30)), "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1");
    let jan28 = zoned("2027-01-28T09:00[Europe/Berlin]");
    assert_eq!(to_rrule(&monthly, Some(&jan28)), "FREQ=MONTHLY");
    let leap = zoned("2028-02-29T09:00[UTC]");
    assert_eq!(
        to_rrule(&rule(Frequency::Yearly, 1), Some(&leap)),
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1"
    );
    // And they read back as the plain rule.
    for text in [
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1",
        "FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1",
        "FREQ=MONTHLY;BYMONTHDAY=15",
    ] {
        assert_eq!(parse_rrule(text).unwrap(), monthly, "{text}");
    }
    assert_eq!(
        parse_rrule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1").unwrap(),
        rule(Frequency::Yearly, 1)
    );
    assert_eq!(parse_rrule("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24").unwrap(), rule(Frequency::Yearly, 1));
}

#[test]
fn count_and_until_keep_the_one_that_ends_first() {
    let start = zoned("2027-03-01T09:00[UTC]");
    let early_until: Timestamp = "2027-03-03T12:00:00Z".parse().unwrap();
    let late_until: Timestamp = "2028-01-01T00:00:00Z".parse().unwrap();
    let base = Recurrence { count: Some(5), ..rule(Frequency::Daily, 1) };
    let until_wins = Recurrence { until: Some(early_until), ..base.clone() };
    assert_eq!(to_rrule(&until_wins, Some(&start)), "FREQ=DAILY;UNTIL=20270303T120000Z");
    let count_wins = Recurrence { until: Some(late_until), ..base.clone() };
    assert_eq!(to_rrule(&count_wins, Some(&start)), "FREQ=DAILY;COUNT=5");
    // Unknown start: COUNT.
    assert_eq!(to_rrule(&until_wins, None), "FREQ=DAILY;COUNT=5");
}

#[test]
fn rest_of_a_series_reduces_the_count() {
    let rule = Recurrence { count: Some(5), ..rule(Frequency::Weekly, 1) };
    assert_eq!(to_rrule_from_occurrence(&rule, None, 0).as_deref(), Some("FREQ=WEEKLY;COUNT=5"));
    assert_eq!(to_rrule_from_occurrence(&rule, None, 3).as_deref(), Some("FREQ=WEEKLY;COUNT=2"));
    assert_eq!(to_rrule_from_occurrence(&rule, None, 5), None);
    let open = Recurrence::new(Frequency::Daily, 2).unwrap();
    assert_eq!(to_rrule_from_occurrence(&open, None, 40).as_deref(), Some("FREQ=DAILY;INTERVAL=2"));
}

#[test]
fn reads_what_other_calendars_write() {
    let cases: Vec<(&str, Recurrence)> = vec![
        ("RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", Recurrence::weekly_on(Weekday::WORKDAYS, 1).unwrap()),
        ("freq=weekly;byday=su,mo;wkst=su", Recurrence::weekly_on([Weekday::Sun, Weekday::Mon], 1).unwrap()),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=SU", Recurrence::weekly_on([Weekday::Tue], 2).unwrap()),
        (
            "FREQ=WEEKLY;UNTIL=20271231",
            Recurrence { until: Some("2027-12-31T23:59:59Z".parse().unwrap()), ..rule(Frequency::Weekly, 1) },
        ),
        (
            "FREQ=DAILY;UNTIL=20271231T100000",
            Recurrence { until: Some("2027-12-31T10:00:00Z".parse().unwrap()), ..rule(Frequency::Daily, 1) },
        ),
        (" FREQ = MONTHLY ; INTERVAL = 3 ", rule(Frequency::Monthly, 3)),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_rrule(text).unwrap(), expected, "{text}");
    }
}

#[test]
fn refuses_what_todokit_cannot_express() {
    let unsupported = [
        "FREQ=HOURLY",
        "FREQ=MINUTELY;INTERVAL=15",
        "FREQ=MONTHLY;BYDAY=1MO",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=YEARLY;BYWEEKNO=20",
        "FREQ=DAILY;BYHOUR=9,17",
        "FREQ=DAILY;INTERVAL=2;BYDAY=MO",
        "FREQ=MONTHLY;BYDAY=MO",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;WKST=SU",
        "FREQ=MONTHLY;BYMONTHDAY=15;BYSETPOS=2",
        "FREQ=DAILY;BYMONTH=3",
    ];
    for text in unsupported {
        assert!(
            matches!(parse_rrule(text), Err(RruleError::Unsupported(_))),
            "{text}: {:?}",
            parse_rrule(text)
        );
    }
    let syntax = [
        "",
        "RRULE:",
        "WEEKLY",
        "INTERVAL=2",
        "FREQ=FORTNIGHTLY",
        "FREQ=DAILY;INTERVAL=two",
        "FREQ=DAILY;INTERVAL=-1",
        "FREQ=DAILY;FREQ=WEEKLY",
        "FREQ=DAILY;COUNT=3;UNTIL=20270101",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=DAILY;UNTIL=2027-01-01",
        "FREQ=DAILY;X-NAME=1",
        "FREQ=MONTHLY;BYMONTHDAY=32",
    ];
    for text in syntax {
        assert!(matches!(parse_rrule(text), Err(RruleError::Syntax(_))), "{text}: {:?}", parse_rrule(text));
    }
    for text in [
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;INTERVAL=999",
        "FREQ=DAILY;COUNT=101",
        "FREQ=DAILY;COUNT=99999999999",
    ] {
        assert!(matches!(parse_rrule(text), Err(RruleError::Domain(_))), "{text}: {:?}", parse_rrule(text));
    }
}

#[test]
fn clamped_rule_matches_todokits_occurrences() {
    // The calendar's reading of the clamp pattern (last existing day among 28..=31) is the same
    // day todokit computes for each month.
    let tz = TimeZone::get("Europe/Berlin").unwrap();
    let start = zoned("2027-01-31T09:00[Europe/Berlin]");
    let monthly = rule(Frequency::Monthly, 1);
    for n in 0..14 {
        let due = monthly.occurrence_due(start.timestamp(), &tz, n).unwrap().to_zoned(tz.clone());
        assert_eq!(due.date(), due.date().last_of_month(), "occurrence {n}: {due}");
        assert_eq!(due.time(), start.time());
    }
}

fn arb_weekdays() -> impl Strategy<Value = Vec<Weekday>> {
    proptest::sample::subsequence(Weekday::ALL.to_vec(), 1..=7)
}

fn arb_recurrence() -> impl Strategy<Value = Recurrence> {
    let frequency = prop_oneof![
        Just(Frequency::Daily),
        Just(Frequency::Weekly),
        Just(Frequency::Monthly),
        Just(Frequency::Yearly)
    ];
    // Whole seconds: RRULE's UNTIL has no sub-second part.
    let until = (0i64..4_000_000_000).prop_map(|secs| Timestamp::from_second(secs).unwrap());
    let end = prop_oneof![
        Just((None, None)),
        (1u32..=100).prop_map(|c| (Some(c), None)),
        until.prop_map(|u| (None, Some(u))),
    ];
    (frequency, 1u32..=365, proptest::option::of(arb_weekdays()), end).prop_map(
        |(frequency, interval, weekdays, (count, until))| {
            let weekdays = if frequency == Frequency::Weekly { weekdays } else { None };
            Recurrence { frequency, interval, weekdays, count, until }.validate().unwrap()
        },
    )
}

proptest! {
    #[test]
    fn rrule_round_trips(rule in arb_recurrence(), day in 1i8..=31, month in 1i8..=12) {
        let text = to_rrule(&rule, None);
        prop_assert_eq!(parse_rrule(&text).unwrap(), rule.clone());
        // With a series start (clamp patterns included) it reads back as the same rule too.
        let start_date = jiff::civil::Date::new(2028, month, day.min(jiff::civil::Date::new(2028, month, 1).unwrap().days_in_month())).unwrap();
        let start = start_date.at(9, 30, 0, 0).to_zoned(TimeZone::UTC).unwrap();
        let text = to_rrule(&rule, Some(&start));
        prop_assert_eq!(parse_rrule(&text).unwrap(), rule);
    }

    #[test]
    fn parse_rrule_never_panics(text in "\\PC{0,80}") {
        let _ = parse_rrule(&text);
    }

    #[test]
    fn parse_rrule_never_panics_on_rule_like_text(
        parts in proptest::collection::vec(
            ("(FREQ|INTERVAL|COUNT|UNTIL|BYDAY|BYMONTHDAY|BYMONTH|BYSETPOS|WKST|byday)", "[A-Z0-9,+-]{0,12}"),
            0..6,
        )
    ) {
        let text: Vec<String> = parts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = parse_rrule(&text.join(";"));
    }
}
