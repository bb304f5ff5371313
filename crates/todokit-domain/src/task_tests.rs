use super::*;
use proptest::prelude::*;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn tz(name: &str) -> TimeZone {
    TimeZone::get(name).expect("test time zone")
}

fn zoned(s: &str) -> Zoned {
    s.parse().expect("test zoned")
}

// ---------- Title ----------

#[test]
fn title_is_trimmed() {
    assert_eq!(Title::parse("  Buy milk \t").unwrap().as_str(), "Buy milk");
}

#[test]
fn title_length_boundaries_count_chars() {
    assert!(Title::parse(&"a".repeat(255)).is_ok());
    assert_eq!(Title::parse(&"a".repeat(256)), Err(DomainError::TitleLength { chars: 256 }));
    // 255 multibyte chars are 765 bytes but still valid.
    let multibyte = "€".repeat(255);
    assert_eq!(multibyte.len(), 765);
    assert!(Title::parse(&multibyte).is_ok());
    assert!(Title::parse(&"€".repeat(256)).is_err());
    assert!(Title::parse(&"🛒".repeat(255)).is_ok());
}

#[test]
fn title_rejects_empty_and_blank() {
    assert_eq!(Title::parse(""), Err(DomainError::TitleLength { chars: 0 }));
    assert_eq!(Title::parse("   \n "), Err(DomainError::TitleLength { chars: 0 }));
}

#[test]
fn title_rejects_control_characters() {
    for bad in ["a\0b", "line\nbreak", "tab\there", "esc\u{1b}", "del\u{7f}"] {
        assert_eq!(Title::parse(bad), Err(DomainError::TitleControlCharacter), "{bad:?}");
    }
}

#[test]
fn title_error_names_limit_and_field() {
    let err = Title::parse("").unwrap_err();
    assert_eq!(err.field(), "title");
    assert!(err.to_string().contains("1–255"));
}

#[test]
fn title_serde_round_trip_and_deserialize_validates() {
    let title = Title::parse("Call mom").unwrap();
    assert_eq!(serde_json::to_string(&title).unwrap(), "\"Call mom\"");
    let back: Title = serde_json::from_str("\"  Call mom \"").unwrap();
    assert_eq!(back, title);
    assert!(serde_json::from_str::<Title>("\"\"").is_err());
    assert_eq!(title.clone().into_inner(), "Call mom");
}

// ---------- Description ----------

#[test]
fn description_allows_newlines_tabs_and_empty() {
    assert_eq!(Description::parse("a\n\tb\r\nc").unwrap().as_str(), "a\n\tb\r\nc");
    let empty = Description::parse("   ").unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.as_str(), "");
}

#[test]
fn description_length_boundaries() {
    assert!(Description::parse(&"é".repeat(4000)).is_ok());
    assert_eq!(Description::parse(&"é".repeat(4001)), Err(DomainError::DescriptionTooLong { chars: 4001 }));
    // Surrounding whitespace does not count.
    assert!(Description::parse(&format!("  {}  ", "x".repeat(4000))).is_ok());
}

#[test]
fn description_rejects_nul_and_other_controls() {
    assert_eq!(Description::parse("a\0b"), Err(DomainError::DescriptionControlCharacter));
    assert!(Description::parse("bell\u{7}").is_err());
    assert_eq!(Description::parse("a\0").unwrap_err().field(), "description");
}

// ---------- Priority ----------

#[test]
fn priority_parses_names_and_synonyms() {
    let cases = [
        ("low", Priority::Low),
        ("LOW", Priority::Low),
        (" Medium ", Priority::Medium),
        ("HIGH", Priority::High),
        ("urgent", Priority::High),
        ("ASAP", Priority::High),
        ("important", Priority::High),
        ("critical", Priority::High),
        ("emergency", Priority::High),
        ("immediate", Priority::High),
        ("top", Priority::High),
        ("now", Priority::High),
        ("today", Priority::High),
        ("deadline", Priority::High),
        ("crucial", Priority::High),
        ("must do", Priority::High),
        ("must-do", Priority::High),
        ("3", Priority::High),
        ("p1", Priority::High),
        ("!high", Priority::High),
        ("high priority", Priority::High),
        ("High-Priority", Priority::High),
        ("2", Priority::Medium),
        ("normal", Priority::Medium),
        ("standard", Priority::Medium),
        ("default", Priority::Medium),
        ("moderate", Priority::Medium),
        ("p2", Priority::Medium),
        ("1", Priority::Low),
        ("later", Priority::Low),
        ("whenever", Priority::Low),
        ("optional", Priority::Low),
        ("nice to have", Priority::Low),
        ("Nice-to-have", Priority::Low),
        ("someday", Priority::Low),
        ("eventually", Priority::Low),
        ("routine", Priority::Low),
        ("backlog", Priority::Low),
        ("no rush", Priority::Low),
        ("can  wait", Priority::Low),
        ("p3", Priority::Low),
        ("priority low", Priority::Low),
    ];
    for (input, expected) in cases {
        assert_eq!(Priority::parse(input), Ok(expected), "{input:?}");
        assert_eq!(input.parse::<Priority>(), Ok(expected), "{input:?}");
    }
}

#[test]
fn priority_rejects_unknown() {
    for bad in ["", "  ", "super", "4", "highest!", "priority"] {
        let err = Priority::parse(bad).unwrap_err();
        assert_eq!(err.field(), "priority", "{bad:?}");
    }
    assert!(Priority::parse("x").unwrap_err().to_string().contains("low, medium or high"));
}

#[test]
fn priority_basics() {
    assert_eq!(Priority::default(), Priority::Medium);
    assert_eq!(Priority::Low.rank(), 1);
    assert_eq!(Priority::Medium.rank(), 2);
    assert_eq!(Priority::High.rank(), 3);
    assert!(Priority::Low < Priority::Medium && Priority::Medium < Priority::High);
    for p in Priority::ALL {
        assert_eq!(Priority::parse(p.as_str()), Ok(p));
        assert_eq!(p.to_string(), p.as_str());
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.as_str()));
    }
    let upper: Priority = serde_json::from_str("\"HIGH\"").unwrap();
    assert_eq!(upper, Priority::High);
}

// ---------- Tags ----------

#[test]
fn tags_are_normalised_and_deduplicated_in_order() {
    let tags = Tags::parse([" Shopping", "home", "", "SHOPPING", "  ", "Home ", "work"]).unwrap();
    assert_eq!(tags.as_slice(), ["shopping", "home", "work"]);
    assert!(tags.contains("WORK"));
    assert_eq!(tags.len(), 3);
    assert!(Tags::parse(Vec::<String>::new()).unwrap().is_empty());
}

#[test]
fn tags_allow_spaces_digits_and_emoji() {
    let tags = Tags::parse(["Deep Work", "2026", "🏠 home"]).unwrap();
    assert_eq!(tags.into_vec(), vec!["deep work", "2026", "🏠 home"]);
}

#[test]
fn tags_count_boundary() {
    let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    assert_eq!(Tags::parse(&twenty).unwrap().len(), 20);
    let mut twenty_one = twenty.clone();
    twenty_one.push("t20".into());
    assert_eq!(Tags::parse(&twenty_one), Err(DomainError::TooManyTags { count: 21 }));
    // Duplicates do not count towards the limit.
    let mut with_duplicates = twenty.clone();
    with_duplicates.extend(twenty.iter().map(|t| t.to_uppercase()));
    assert_eq!(Tags::parse(&with_duplicates).unwrap().len(), 20);
}

#[test]
fn tags_length_boundary_in_chars() {
    assert!(Tags::parse(["x".repeat(50)]).is_ok());
    assert!(Tags::parse(["ü".repeat(50)]).is_ok());
    let err = Tags::parse(["x".repeat(51)]).unwrap_err();
    assert!(matches!(err, DomainError::TagTooLong { chars: 51, .. }));
    assert_eq!(err.field(), "tags");
    assert!(Tags::parse(["ü".repeat(51)]).is_err());
    // Trimmed before measuring.
    assert!(Tags::parse([format!("  {}  ", "x".repeat(50))]).is_ok());
}

#[test]
fn tags_reject_nul() {
    assert_eq!(Tags::parse(["a\0b"]), Err(DomainError::TagControlCharacter));
}

#[test]
fn tags_serde() {
    let tags: Tags = serde_json::from_str(r#"["A","a"," b "]"#).unwrap();
    assert_eq!(serde_json::to_string(&tags).unwrap(), r#"["a","b"]"#);
    assert!(serde_json::from_str::<Tags>(&format!("[\"{}\"]", "x".repeat(51))).is_err());
}

// ---------- ReminderOffset ----------

#[test]
fn reminder_offset_boundaries() {
    assert_eq!(ReminderOffset::new(0).unwrap().minutes(), 0);
    assert_eq!(ReminderOffset::new(40320).unwrap().minutes(), 40320);
    for bad in [-1, 40321, i64::MIN, i64::MAX] {
        let err = ReminderOffset::new(bad).unwrap_err();
        assert_eq!(err, DomainError::ReminderOffsetOutOfRange { minutes: bad });
        assert_eq!(err.field(), "reminder_offset");
    }
    assert_eq!(ReminderOffset::DEFAULT.minutes(), 15);
    assert!(serde_json::from_str::<ReminderOffset>("-5").is_err());
    assert_eq!(serde_json::to_string(&ReminderOffset::new(60).unwrap()).unwrap(), "60");
}

// ---------- Recurrence ----------

fn monthly() -> Recurrence {
    Recurrence::new(Frequency::Monthly, 1).unwrap()
}

#[test]
fn recurrence_serde_shape() {
    let rule: Recurrence = serde_json::from_str(r#"{"frequency":"monthly"}"#).unwrap();
    assert_eq!(rule, monthly());
    assert_eq!(serde_json::to_string(&rule).unwrap(), r#"{"frequency":"monthly","interval":1}"#);
    let full: Recurrence = serde_json::from_str(
        r#"{"frequency":"weekly","interval":2,"count":null,"until":"2027-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(full.until, Some(ts("2027-01-01T00:00:00Z")));
    assert_eq!(
        serde_json::to_string(&full).unwrap(),
        r#"{"frequency":"weekly","interval":2,"until":"2027-01-01T00:00:00Z"}"#
    );
    let seed: Recurrence =
        serde_json::from_str(r#"{"frequency":"daily","end_date":"2027-01-01T00:00:00Z"}"#).unwrap();
    assert!(seed.until.is_some());
    assert!(serde_json::from_str::<Recurrence>(r#"{"frequency":"hourly"}"#).is_err());
}

#[test]
fn recurrence_validate_boundaries() {
    let rule = |interval, count| Recurrence {
        frequency: Frequency::Daily,
        interval,
        weekdays: None,
        count,
        until: None,
    };
    assert!(rule(1, None).validate().is_ok());
    assert!(rule(365, Some(100)).validate().is_ok());
    assert!(rule(1, Some(1)).validate().is_ok());
    assert_eq!(rule(0, None).validate(), Err(DomainError::RecurrenceInterval { interval: 0 }));
    assert_eq!(rule(366, None).validate(), Err(DomainError::RecurrenceInterval { interval: 366 }));
    assert_eq!(rule(1, Some(0)).validate(), Err(DomainError::RecurrenceCount { count: 0 }));
    let err = rule(1, Some(101)).validate().unwrap_err();
    assert_eq!(err, DomainError::RecurrenceCount { count: 101 });
    assert_eq!(err.field(), "recurrence");
}

#[test]
fn monthly_from_jan_31_clamps_without_drift() {
    let start = zoned("2027-01-31T09:00[America/New_York]");
    let rule = monthly();
    let dues: Vec<String> = (0..6)
        .map(|n| {
            let due = rule.occurrence_due(start.timestamp(), start.time_zone(), n).unwrap();
            due.to_zoned(start.time_zone().clone()).strftime("%F %R").to_string()
        })
        .collect();
    assert_eq!(
        dues,
        [
            "2027-01-31 09:00",
            "2027-02-28 09:00",
            "2027-03-31 09:00",
            "2027-04-30 09:00",
            "2027-05-31 09:00",
            "2027-06-30 09:00"
        ]
    );
}

#[test]
fn monthly_in_leap_year_gives_feb_29() {
    let start = zoned("2028-01-31T09:00[UTC]");
    let due = monthly().occurrence_due(start.timestamp(), &TimeZone::UTC, 1).unwrap();
    assert_eq!(due, ts("2028-02-29T09:00Z"));
}

#[test]
fn yearly_feb_29() {
    let rule = Recurrence::new(Frequency::Yearly, 1).unwrap();
    let start = ts("2028-02-29T12:00Z");
    let due = |n| rule.occurrence_due(start, &TimeZone::UTC, n).unwrap();
    assert_eq!(due(1), ts("2029-02-28T12:00Z"));
    assert_eq!(due(3), ts("2031-02-28T12:00Z"));
    assert_eq!(due(4), ts("2032-02-29T12:00Z"));
}

#[test]
fn daily_keeps_wall_clock_across_dst() {
    let zone = tz("America/New_York");
    let rule = Recurrence::new(Frequency::Daily, 1).unwrap();
    // 2026-03-08 is the spring-forward day in New York.
    let start = zoned("2026-03-07T09:00[America/New_York]").timestamp();
    let next = rule.occurrence_due(start, &zone, 1).unwrap();
    let after = rule.occurrence_due(start, &zone, 2).unwrap();
    assert_eq!(next.to_zoned(zone.clone()).strftime("%F %R").to_string(), "2026-03-08 09:00");
    assert_eq!(after.to_zoned(zone).strftime("%F %R").to_string(), "2026-03-09 09:00");
    // Only 23 real hours between the first two.
    assert_eq!(next.as_second() - start.as_second(), 23 * 3600);
}

#[test]
fn count_until_and_hard_cap() {
    let start = ts("2027-01-01T09:00Z");
    let utc = TimeZone::UTC;
    let counted = Recurrence { count: Some(3), ..Recurrence::new(Frequency::Daily, 1).unwrap() };
    assert!(counted.occurrence_due(start, &utc, 2).is_some());
    assert!(counted.occurrence_due(start, &utc, 3).is_none());

    let until =
        Recurrence { until: Some(ts("2027-01-03T09:00Z")), ..Recurrence::new(Frequency::Daily, 1).unwrap() };
    assert_eq!(until.occurrence_due(start, &utc, 2), Some(ts("2027-01-03T09:00Z")));
    assert!(until.occurrence_due(start, &utc, 3).is_none());

    let endless = Recurrence::new(Frequency::Daily, 1).unwrap();
    assert!(endless.occurrence_due(start, &utc, 99).is_some());
    assert!(endless.occurrence_due(start, &utc, MAX_OCCURRENCES).is_none());
    assert!(endless.occurrence_due(start, &utc, u32::MAX).is_none());
}

#[test]
fn invalid_or_out_of_range_rules_end_the_series() {
    let start = ts("2027-01-01T09:00Z");
    let zero = Recurrence { interval: 0, ..Recurrence::new(Frequency::Daily, 1).unwrap() };
    assert!(zero.occurrence_due(start, &TimeZone::UTC, 0).is_none());
    let huge = Recurrence::new(Frequency::Yearly, 365).unwrap();
    assert!(huge.occurrence_due(start, &TimeZone::UTC, 99).is_none());
    assert_eq!(huge.occurrence_due(start, &TimeZone::UTC, 0), Some(start));
}

// ---------- Weekly on weekdays ----------

fn local(due: Timestamp, zone: &TimeZone) -> String {
    due.to_zoned(zone.clone()).strftime("%a %F %R").to_string()
}

#[test]
fn weekdays_serde_sorts_dedups_and_accepts_names() {
    let rule: Recurrence =
        serde_json::from_str(r#"{"frequency":"weekly","weekdays":["thu","Monday","THURS","mon"]}"#).unwrap();
    assert_eq!(rule.weekdays, Some(vec![Weekday::Mon, Weekday::Thu]));
    assert_eq!(
        serde_json::to_string(&rule).unwrap(),
        r#"{"frequency":"weekly","interval":1,"weekdays":["mon","thu"]}"#
    );
    let empty: Recurrence = serde_json::from_str(r#"{"frequency":"weekly","weekdays":[]}"#).unwrap();
    assert_eq!(empty.weekdays, None, "no days means the start's weekday");
    let null: Recurrence = serde_json::from_str(r#"{"frequency":"weekly","weekdays":null}"#).unwrap();
    assert_eq!(null.weekdays, None);
    let err = serde_json::from_str::<Recurrence>(r#"{"frequency":"weekly","weekdays":["funday"]}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown weekday \"funday\""), "{err}");
}

#[test]
fn weekdays_need_a_weekly_rule() {
    let monthly_on_monday = Recurrence { weekdays: Some(vec![Weekday::Mon]), ..monthly() };
    let err = monthly_on_monday.validate().unwrap_err();
    assert_eq!(err, DomainError::RecurrenceWeekdaysNeedWeekly { frequency: Frequency::Monthly });
    assert_eq!(err.field(), "recurrence");
    assert!(err.to_string().contains("weekly"));
    let rule = Recurrence::weekly_on([Weekday::Fri, Weekday::Mon, Weekday::Fri], 1).unwrap();
    assert_eq!(rule.weekdays, Some(vec![Weekday::Mon, Weekday::Fri]), "validate sorts and dedups");
}

#[test]
fn weekday_names() {
    for day in Weekday::ALL {
        assert_eq!(Weekday::parse(day.as_str()), Ok(day));
        assert_eq!(Weekday::parse(day.name()), Ok(day));
        assert_eq!(serde_json::to_value(day).unwrap(), day.as_str());
    }
    assert_eq!(Weekday::parse(" Tues "), Ok(Weekday::Tue));
    assert!(Weekday::parse("").is_err());
    assert_eq!(Weekday::from_civil(jiff::civil::Weekday::Sunday), Weekday::Sun);
}

#[test]
fn monday_and_thursday_every_week() {
    let zone = tz("Europe/Berlin");
    // A Monday.
    let start = zoned("2026-11-23T08:30[Europe/Berlin]").timestamp();
    let rule = Recurrence::weekly_on([Weekday::Mon, Weekday::Thu], 1).unwrap();
    let dues: Vec<String> =
        (0..5).map(|n| local(rule.occurrence_due(start, &zone, n).unwrap(), &zone)).collect();
    assert_eq!(
        dues,
        [
            "Mon 2026-11-23 08:30",
            "Thu 2026-11-26 08:30",
            "Mon 2026-11-30 08:30",
            "Thu 2026-12-03 08:30",
            "Mon 2026-12-07 08:30"
        ]
    );
}

#[test]
fn weekdays_from_a_start_on_an_unlisted_day() {
    let zone = TimeZone::UTC;
    // A Wednesday: the start is occurrence 0, then Thursday the same week, then Monday.
    let start = ts("2026-11-25T17:00Z");
    let rule = Recurrence::weekly_on([Weekday::Mon, Weekday::Thu], 1).unwrap();
    let due = |n| local(rule.occurrence_due(start, &zone, n).unwrap(), &zone);
    assert_eq!(due(0), "Wed 2026-11-25 17:00");
    assert_eq!(due(1), "Thu 2026-11-26 17:00");
    assert_eq!(due(2), "Mon 2026-11-30 17:00");
    // A Friday start with only earlier days listed goes straight to next week.
    let friday = ts("2026-11-27T17:00Z");
    assert_eq!(local(rule.occurrence_due(friday, &zone, 1).unwrap(), &zone), "Mon 2026-11-30 17:00");
}

#[test]
fn every_other_week_on_weekdays_and_sunday_closes_the_week() {
    let zone = TimeZone::UTC;
    let start = ts("2026-11-24T07:00Z"); // a Tuesday
    let rule = Recurrence::weekly_on([Weekday::Tue, Weekday::Sun], 2).unwrap();
    let dues: Vec<String> =
        (0..5).map(|n| local(rule.occurrence_due(start, &zone, n).unwrap(), &zone)).collect();
    assert_eq!(
        dues,
        [
            "Tue 2026-11-24 07:00",
            "Sun 2026-11-29 07:00",
            "Tue 2026-12-08 07:00",
            "Sun 2026-12-13 07:00",
            "Tue 2026-12-22 07:00"
        ]
    );
}

#[test]
fn every_weekday_skips_the_weekend() {
    let zone = TimeZone::UTC;
    let start = ts("2026-11-26T09:00Z"); // a Thursday
    let rule = Recurrence::weekly_on(Weekday::WORKDAYS, 1).unwrap();
    let days: Vec<String> = (0..6)
        .map(|n| {
            rule.occurrence_due(start, &zone, n).unwrap().to_zoned(zone.clone()).strftime("%a %d").to_string()
        })
        .collect();
    assert_eq!(days, ["Thu 26", "Fri 27", "Mon 30", "Tue 01", "Wed 02", "Thu 03"]);
}

#[test]
fn weekdays_keep_wall_clock_across_dst_and_honour_count_and_until() {
    let zone = tz("America/New_York");
    // 2026-11-01 is the fall-back Sunday in New York.
    let start = zoned("2026-10-29T09:00[America/New_York]").timestamp(); // a Thursday
    let rule =
        Recurrence { count: Some(3), ..Recurrence::weekly_on([Weekday::Thu, Weekday::Sun], 1).unwrap() };
    assert_eq!(local(rule.occurrence_due(start, &zone, 1).unwrap(), &zone), "Sun 2026-11-01 09:00");
    assert_eq!(local(rule.occurrence_due(start, &zone, 2).unwrap(), &zone), "Thu 2026-11-05 09:00");
    assert_eq!(rule.occurrence_due(start, &zone, 3), None, "count includes the first");
    let until = Recurrence {
        until: Some(zoned("2026-11-05T08:59[America/New_York]").timestamp()),
        ..Recurrence::weekly_on([Weekday::Thu, Weekday::Sun], 1).unwrap()
    };
    assert!(until.occurrence_due(start, &zone, 1).is_some());
    assert_eq!(until.occurrence_due(start, &zone, 2), None);
}

// ---------- validate_due_at ----------

#[test]
fn due_at_bounds() {
    let now = ts("2026-11-21T15:00Z");
    assert!(validate_due_at(ts("2016-11-21T15:00Z"), now).is_ok());
    assert_eq!(validate_due_at(ts("2016-11-21T14:59:59Z"), now), Err(DomainError::DueAtTooFarInPast));
    assert!(validate_due_at(ts("2126-11-21T15:00Z"), now).is_ok());
    let err = validate_due_at(ts("2126-11-21T15:00:01Z"), now).unwrap_err();
    assert_eq!(err, DomainError::DueAtTooFarInFuture);
    assert_eq!(err.field(), "due_at");
    assert!(validate_due_at(Timestamp::MAX, Timestamp::MAX).is_ok());
    assert!(validate_due_at(Timestamp::MIN, Timestamp::MIN).is_ok());
}

// ---------- schemas ----------

#[test]
fn schemas_describe_the_wire_shape() {
    let title = serde_json::to_value(schemars::schema_for!(Title)).unwrap();
    assert_eq!(title["type"], "string");
    assert_eq!(title["maxLength"], 255);
    let rule = serde_json::to_value(schemars::schema_for!(Recurrence)).unwrap();
    assert!(rule["properties"]["until"].is_object());
    let priority = serde_json::to_value(schemars::schema_for!(Priority)).unwrap();
    let variants: Vec<&serde_json::Value> =
        priority["oneOf"].as_array().unwrap().iter().map(|v| &v["const"]).collect();
    assert_eq!(variants, ["low", "medium", "high"]);
}

// ---------- properties ----------

fn tag_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ a-zA-Z0-9]{0,12}",
        "[ \\PC]{0,12}",
        Just("Shopping".to_owned()),
        Just(" shopping ".to_owned()),
        Just("İstanbul".to_owned()),
        Just("ẞ".to_owned()),
    ]
}

fn zone_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("UTC"),
        Just("America/New_York"),
        Just("Europe/Berlin"),
        Just("Australia/Sydney"),
        Just("Asia/Kolkata"),
    ]
}

fn frequency_strategy() -> impl Strategy<Value = Frequency> {
    prop_oneof![
        Just(Frequency::Daily),
        Just(Frequency::Weekly),
        Just(Frequency::Monthly),
        Just(Frequency::Yearly),
    ]
}

proptest! {
    #[test]
    fn tag_normalisation_is_idempotent(tags in prop::collection::vec(tag_strategy(), 0..30)) {
        if let Ok(once) = Tags::parse(&tags) {
            let twice = Tags::parse(once.as_slice()).unwrap();
            prop_assert_eq!(&once, &twice);
        }
    }

    #[test]
    fn tag_normalisation_preserves_first_occurrence_order(tags in prop::collection::vec(tag_strategy(), 0..30)) {
        if let Ok(parsed) = Tags::parse(&tags) {
            // Expected order: first occurrence of each normalised non-empty tag.
            let mut expected: Vec<String> = Vec::new();
            for tag in &tags {
                let n = tag.trim().to_lowercase();
                if !n.is_empty() && !expected.contains(&n) {
                    expected.push(n);
                }
            }
            prop_assert_eq!(parsed.as_slice(), expected.as_slice());
        }
    }

    #[test]
    fn monthly_from_month_end_never_skips_and_clamps(
        year in 1990i16..2090,
        month in 1i8..=12,
        day in 29i8..=31,
        hour in 0i8..24,
        zone in zone_strategy(),
        n in 0u32..100,
    ) {
        let tz = tz(zone);
        let date = jiff::civil::Date::new(year, month, 1).unwrap();
        let day = day.min(date.days_in_month());
        let start = date.with().day(day).build().unwrap().at(hour, 0, 0, 0).to_zoned(tz.clone()).unwrap();
        let due = monthly().occurrence_due(start.timestamp(), &tz, n).unwrap().to_zoned(tz.clone());
        let months_from_start = (i32::from(due.year()) - i32::from(start.year())) * 12
            + i32::from(due.month()) - i32::from(start.month());
        prop_assert_eq!(months_from_start, i32::try_from(n).unwrap());
        prop_assert_eq!(due.day(), start.day().min(due.days_in_month()));
    }

    #[test]
    fn yearly_from_feb_29_clamps_and_returns(year_offset in 0i16..20, n in 0u32..100) {
        let year = 2000 + year_offset * 4;
        let start = jiff::civil::date(year, 2, 29).at(8, 30, 0, 0).to_zoned(TimeZone::UTC).unwrap();
        let rule = Recurrence::new(Frequency::Yearly, 1).unwrap();
        let due = rule.occurrence_due(start.timestamp(), &TimeZone::UTC, n).unwrap().to_zoned(TimeZone::UTC);
        prop_assert_eq!(due.month(), 2);
        let leap = due.date().in_leap_year();
        prop_assert_eq!(due.day(), if leap { 29 } else { 28 });
        prop_assert_eq!((due.hour(), due.minute()), (8, 30));
    }

    #[test]
    fn occurrences_strictly_increase_and_respect_count_and_until(
        frequency in frequency_strategy(),
        interval in 1u32..=365,
        count in prop::option::of(1u32..=100),
        until_days in prop::option::of(0i64..20000),
        zone in zone_strategy(),
        start_secs in 0i64..2_000_000_000,
    ) {
        let tz = tz(zone);
        let start = Timestamp::from_second(start_secs).unwrap();
        let until = until_days.map(|d| start.checked_add(jiff::SignedDuration::from_hours(24 * d)).unwrap());
        let rule = Recurrence { frequency, interval, weekdays: None, count, until }.validate().unwrap();
        let mut previous: Option<Timestamp> = None;
        let mut ended = false;
        for n in 0..=MAX_OCCURRENCES {
            match rule.occurrence_due(start, &tz, n) {
                Some(due) => {
                    prop_assert!(!ended, "series resumed after ending at n={}", n);
                    prop_assert!(n < MAX_OCCURRENCES);
                    prop_assert!(count.is_none_or(|c| n < c));
                    prop_assert!(until.is_none_or(|u| due <= u));
                    if let Some(prev) = previous {
                        prop_assert!(due > prev, "not increasing at n={}", n);
                    }
                    previous = Some(due);
                }
                None => ended = true,
            }
        }
    }

    #[test]
    fn weekday_occurrences_increase_fall_on_listed_days_and_respect_the_ends(
        days in prop::collection::vec(prop::sample::select(Weekday::ALL.to_vec()), 1..8),
        interval in 1u32..=52,
        count in prop::option::of(1u32..=100),
        until_days in prop::option::of(0i64..3000),
        zone in zone_strategy(),
        start_secs in 0i64..2_000_000_000,
    ) {
        let tz = tz(zone);
        let start = Timestamp::from_second(start_secs).unwrap();
        let until = until_days.map(|d| start.checked_add(jiff::SignedDuration::from_hours(24 * d)).unwrap());
        let rule = Recurrence { count, until, ..Recurrence::weekly_on(days.clone(), interval).unwrap() };
        let local_start = start.to_zoned(tz.clone());
        let mut previous: Option<Timestamp> = None;
        let mut ended = false;
        for n in 0..=MAX_OCCURRENCES {
            match rule.occurrence_due(start, &tz, n) {
                Some(due) => {
                    prop_assert!(!ended, "series resumed after ending at n={}", n);
                    prop_assert!(count.is_none_or(|c| n < c));
                    prop_assert!(until.is_none_or(|u| due <= u));
                    let local = due.to_zoned(tz.clone());
                    if n == 0 {
                        prop_assert_eq!(due, start);
                    } else {
                        prop_assert!(days.contains(&Weekday::from_civil(local.weekday())), "n={} on {}", n, local);
                        // Wall-clock kept unless that time does not exist on the day (a DST gap).
                        let same_clock = (local.hour(), local.minute()) == (local_start.hour(), local_start.minute());
                        let in_gap = local.date().at(local_start.hour(), local_start.minute(), local_start.second(), 0)
                            .to_zoned(tz.clone()).is_ok_and(|z| z.time() != local_start.time());
                        prop_assert!(same_clock || in_gap, "n={}: {} vs start {}", n, local, local_start);
                        // Only weeks that are a multiple of `interval` after the start's week.
                        let monday = |z: &Zoned| z.date().checked_sub(jiff::Span::new().days(i64::from(z.weekday().to_monday_zero_offset()))).unwrap();
                        let weeks = (monday(&local) - monday(&local_start)).get_days() / 7;
                        prop_assert_eq!(i64::from(weeks) % i64::from(interval), 0);
                    }
                    if let Some(prev) = previous {
                        prop_assert!(due > prev, "not increasing at n={}", n);
                    }
                    previous = Some(due);
                }
                None => ended = true,
            }
        }
        prop_assert!(ended, "the hard cap always ends a series");
    }

    #[test]
    fn dst_keeps_local_wall_clock(
        frequency in frequency_strategy(),
        zone in prop_oneof![Just("America/New_York"), Just("Europe/Berlin")],
        day_of_year in 0i16..365,
        hour in 4i8..23, // avoid the 02:00–03:00 hours that do not exist on spring-forward days
        minute in 0i8..60,
        n in 0u32..60,
    ) {
        let tz = tz(zone);
        let date = jiff::civil::date(2026, 1, 1).checked_add(jiff::Span::new().days(day_of_year)).unwrap();
        let start = date.at(hour, minute, 0, 0).to_zoned(tz.clone()).unwrap();
        let rule = Recurrence::new(frequency, 1).unwrap();
        if let Some(due) = rule.occurrence_due(start.timestamp(), &tz, n) {
            let local = due.to_zoned(tz.clone());
            prop_assert_eq!((local.hour(), local.minute()), (hour, minute));
        }
    }
}
