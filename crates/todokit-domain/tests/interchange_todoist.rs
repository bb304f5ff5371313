//! Todoist CSV template import: a realistic export file, the error cases (each naming its line),
//! the limits, and a no-panic property over arbitrary input.

use jiff::{Timestamp, Zoned};
use proptest::prelude::*;
use todokit_domain::interchange::{
    ImportError, MAX_IMPORT_BYTES, MAX_IMPORT_TASKS, parse_todoist_csv, todoist_priority,
};
use todokit_domain::{Frequency, NewTask, Priority, Recurrence, Weekday};

const TEMPLATE: &[u8] = include_bytes!("fixtures/todoist_template.csv");
const BAD_DATE: &[u8] = include_bytes!("fixtures/todoist_bad_date.csv");
const HEADER: &str = "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\n";

/// Monday 7 December 2026, 18:00 in Berlin.
fn now() -> Timestamp {
    "2026-12-07T17:00:00Z".parse().unwrap()
}

fn parse(input: &str) -> Result<Vec<NewTask>, ImportError> {
    parse_todoist_csv(input.as_bytes(), now(), "Europe/Berlin")
}

fn due(task: &NewTask) -> String {
    let zone = jiff::tz::TimeZone::get(&task.time_zone).unwrap();
    task.due_at.map(|at| at.to_zoned(zone).to_string()).unwrap_or_default()
}

fn tags(task: &NewTask) -> Vec<&str> {
    task.tags.as_slice().iter().map(String::as_str).collect()
}

fn description(task: &NewTask) -> &str {
    task.description.as_ref().map_or("", |d| d.as_str())
}

#[test]
fn imports_the_template_fixture() {
    let tasks = parse_todoist_csv(TEMPLATE, now(), "Europe/Berlin").unwrap();
    let titles: Vec<&str> = tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Buy milk",
            "Write report, draft \"v2\" **bold**",
            "Team sync",
            "Prepare agenda",
            "Book room",
            "Pay rent",
            "Stretch"
        ]
    );
    let [milk, report, sync, agenda, room, rent, stretch] = &tasks[..] else { unreachable!() };

    assert_eq!(tags(milk), ["errands", "home"]);
    assert_eq!(milk.priority, Priority::Low);
    assert_eq!(due(milk), "2026-12-08T17:00:00+01:00[Europe/Berlin]");
    assert_eq!(milk.time_zone, "Europe/Berlin");
    assert_eq!(milk.recurrence, None);
    assert!(milk.description.is_none());
    assert!(!milk.completed && milk.reminder.is_none());

    assert_eq!(report.priority, Priority::High);
    assert_eq!(
        description(report),
        "Outline first.\nThen the body, with commas; and semicolons.\n\n\
         Comment: Remember the appendix\n\nComment: Second comment, quoted"
    );
    assert_eq!(due(report), "2026-12-24T23:59:59+01:00[Europe/Berlin]");

    // The section is a tag; the note right after it was skipped.
    assert_eq!(tags(sync), ["weekly rituals", "work"]);
    assert_eq!(sync.priority, Priority::Medium);
    assert_eq!(sync.time_zone, "America/New_York");
    assert_eq!(sync.recurrence, Some(Recurrence::weekly_on([Weekday::Mon], 1).unwrap()));
    assert_eq!(due(sync), "2026-12-07T23:59:59-05:00[America/New_York]");
    assert!(sync.description.is_none());

    assert_eq!(agenda.priority, Priority::Low);
    assert_eq!(description(agenda), "Short list\n\nSub-task of: Team sync");
    assert_eq!(agenda.recurrence, Some(Recurrence::new(Frequency::Weekly, 2).unwrap()));
    assert_eq!(tags(agenda), ["weekly rituals"]);

    assert_eq!(description(room), "Sub-task of: Prepare agenda");
    assert_eq!(room.due_at, None);

    assert_eq!(rent.priority, Priority::High);
    assert_eq!(rent.recurrence, Some(Recurrence::new(Frequency::Monthly, 1).unwrap()));
    assert_eq!(due(rent), "2026-12-15T23:59:59+01:00[Europe/Berlin]");

    // Empty PRIORITY → todokit's default; 02:00 Tuesday in Tokyo → 07:00 the same day.
    assert_eq!(stretch.priority, Priority::Medium);
    assert_eq!(stretch.recurrence, Some(Recurrence::weekly_on(Weekday::WORKDAYS, 1).unwrap()));
    assert_eq!(due(stretch), "2026-12-08T07:00:00+09:00[Asia/Tokyo]");
}

#[test]
fn an_unparseable_date_fails_the_file_naming_its_line() {
    let err = parse_todoist_csv(BAD_DATE, now(), "Europe/Berlin").unwrap_err();
    assert_eq!(err.line, Some(6), "{err}");
    assert!(
        err.to_string().starts_with("line 6: could not understand the date \"sometime soonish maybe\""),
        "{err}"
    );
}

#[test]
fn todoist_recurring_forms() {
    let berlin = |text: &str| -> Timestamp { text.parse::<Zoned>().unwrap().timestamp() };
    let weekly_mon = Recurrence::weekly_on([Weekday::Mon], 1).unwrap();
    let cases: Vec<(&str, Option<Timestamp>, Recurrence)> = vec![
        (
            "every monday until dec 31",
            Some(berlin("2026-12-07T23:59:59[Europe/Berlin]")),
            Recurrence { until: Some(berlin("2026-12-31T23:59:59[Europe/Berlin]")), ..weekly_mon.clone() },
        ),
        (
            "every day starting Jan 1 2027 ending Mar 1 2027",
            Some(berlin("2027-01-01T23:59:59[Europe/Berlin]")),
            Recurrence {
                until: Some(berlin("2027-03-01T23:59:59[Europe/Berlin]")),
                ..Recurrence::new(Frequency::Daily, 1).unwrap()
            },
        ),
        (
            "every day for 5 times",
            Some(berlin("2026-12-07T23:59:59[Europe/Berlin]")),
            Recurrence { count: Some(5), ..Recurrence::new(Frequency::Daily, 1).unwrap() },
        ),
        (
            "every jan 27",
            Some(berlin("2027-01-27T23:59:59[Europe/Berlin]")),
            Recurrence::new(Frequency::Yearly, 1).unwrap(),
        ),
        (
            "every 27 January",
            Some(berlin("2027-01-27T23:59:59[Europe/Berlin]")),
            Recurrence::new(Frequency::Yearly, 1).unwrap(),
        ),
        (
            "every 3 months",
            Some(berlin("2026-12-07T23:59:59[Europe/Berlin]")),
            Recurrence::new(Frequency::Monthly, 3).unwrap(),
        ),
    ];
    for (date, due, rule) in cases {
        let tasks =
            parse(&format!("{HEADER}task,T,,4,1,,,{date},en,\n")).unwrap_or_else(|e| panic!("{date}: {e}"));
        assert_eq!(tasks[0].due_at, due, "{date}");
        assert_eq!(tasks[0].recurrence.as_ref(), Some(&rule), "{date}");
    }
    for (date, message) in [
        ("every 3rd friday", "n-th weekday of a month"),
        ("every last monday", "n-th weekday of a month"),
        ("every first Tuesdays", "n-th weekday of a month"),
        ("every monday until 2026-12-01", "before its first occurrence"),
        ("every 2nd tuesday of the month", "n-th weekday of a month"),
        ("twice a week", "several times per day, week or month"),
        ("every 4 hours", "more often than once a day"),
        ("every day except holidays", "leave weekdays out"),
        ("every monday until march", "could not read the date the repeat ends on"),
        ("every monday until whenever", "could not understand"),
        ("tomorrow until friday", "could not understand"),
        ("every tomorrow", "could not understand"),
        ("every day for 500 times", "recurrence count must be 1–100"),
    ] {
        let err = parse(&format!("{HEADER}task,T,,4,1,,,{date},en,\n")).unwrap_err();
        assert_eq!(err.line, Some(2), "{date}: {err}");
        assert!(err.message.contains(message), "{date}: {err}");
    }
}

#[test]
fn priorities_map_in_order() {
    assert_eq!(todoist_priority("1"), Some(Priority::High));
    assert_eq!(todoist_priority(" 2 "), Some(Priority::Medium));
    assert_eq!(todoist_priority("3"), Some(Priority::Low));
    assert_eq!(todoist_priority("4"), Some(Priority::Low));
    assert_eq!(todoist_priority(""), Some(Priority::Medium));
    assert_eq!(todoist_priority("p1"), None);
    assert_eq!(todoist_priority("5"), None);
}

#[test]
fn columns_are_found_by_name_in_any_order_and_case() {
    let input = "timezone,Priority,content,Extra,type\nasia/tokyo,1,Call Bo @phone,x,Task\n";
    let tasks = parse(input).unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].title.as_str(), "Call Bo");
    assert_eq!(tasks[0].priority, Priority::High);
    assert_eq!(tasks[0].time_zone, "Asia/Tokyo");
    assert_eq!(tags(&tasks[0]), ["phone"]);
}

#[test]
fn labels_and_markers_leave_the_title() {
    let tasks = parse(&format!(
        "{HEADER}task,\"* Plan trip @travel, then @home. (mail me@example.com)\",,4,1,,,,,\n"
    ))
    .unwrap();
    assert_eq!(tasks[0].title.as_str(), "Plan trip then (mail me@example.com)");
    assert_eq!(tags(&tasks[0]), ["travel", "home"]);
}

#[test]
fn long_titles_are_cut_and_kept_whole_in_the_description() {
    let long = format!("{} end", "word ".repeat(80).trim());
    let tasks = parse(&format!("{HEADER}task,{long},Body,4,1,,,,,\n")).unwrap();
    let title = tasks[0].title.as_str();
    assert!(title.ends_with('…') && title.chars().count() <= 255, "{title}");
    assert_eq!(description(&tasks[0]), format!("{long}\n\nBody"));
}

#[test]
fn bad_rows_name_their_line() {
    let cases: Vec<(String, Option<u64>, &str)> = vec![
        (format!("{HEADER}task,Ok,,4,1,,,,,\ntodo,What,,4,1,,,,,\n"), Some(3), "unknown TYPE \"todo\""),
        (format!("{HEADER}\n\n,Orphan content,,,,,,,,\n"), Some(4), "the TYPE cell is empty"),
        (format!("{HEADER}task,Ok,,5,1,,,,,\n"), Some(2), "PRIORITY must be 1, 2, 3 or 4 (got \"5\")"),
        (format!("{HEADER}task,Ok,,4,0,,,,,\n"), Some(2), "INDENT must be 1 or more"),
        (format!("{HEADER}task,Ok,,4,deep,,,,,\n"), Some(2), "INDENT must be 1 or more"),
        (
            format!("{HEADER}task,Ok,,4,1,,,tomorrow,en,Mars/Olympus\n"),
            Some(2),
            "unknown TIMEZONE \"Mars/Olympus\"",
        ),
        (
            format!("{HEADER}task,Ok,,4,1,,,morgen früh,de,\n"),
            Some(2),
            "(DATE_LANG is \"de\"; todokit reads English dates)",
        ),
        (
            format!("{HEADER}task,Ok,,4,1,,,Dec 24 1999,en,\n"),
            Some(2),
            "due date must not be more than 10 years in the past",
        ),
        (format!("{HEADER}task,@only @labels,,4,1,,,,,\n"), Some(2), "the task has no name"),
        (format!("{HEADER}task,Ok,{},4,1,,,,,\n", "x".repeat(4001)), Some(2), "the limit is 4000"),
        (
            format!("{HEADER}task,Ok,{},4,1,,,,,\nnote,{},,,,,,,,\n", "x".repeat(3000), "y".repeat(1000)),
            Some(3),
            "the limit is 4000",
        ),
        (
            format!(
                "{HEADER}task,Ok {},,4,1,,,,,\n",
                (0..21).map(|i| format!("@t{i}")).collect::<Vec<_>>().join(" ")
            ),
            Some(2),
            "at most 20 tags",
        ),
        (format!("{HEADER}task,Ok,bell\u{7},4,1,,,,,\n"), Some(2), "control characters"),
        ("CONTENT,PRIORITY\nHello,1\n".to_owned(), Some(1), "needs TYPE and CONTENT columns"),
        (String::new(), None, "the file is empty"),
        ("\u{feff}\r\n\r\n".to_owned(), None, "the file is empty"),
    ];
    for (input, line, message) in cases {
        let err = parse(&input).unwrap_err();
        assert_eq!(err.line, line, "{err}");
        assert!(err.message.contains(message), "expected {message:?} in {err}");
        assert_eq!(err.limit, None, "{err}: a mistake, not a limit");
    }
}

#[test]
fn invalid_utf8_names_the_line() {
    let mut input = HEADER.as_bytes().to_vec();
    input.extend_from_slice(b"task,Ok,,4,1,,,,,\ntask,Caf\xe9,,4,1,,,,,\n");
    let err = parse_todoist_csv(&input, now(), "UTC").unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.message.contains("UTF-8"), "{err}");
}

#[test]
fn limits_are_enforced() {
    let big = vec![b' '; MAX_IMPORT_BYTES + 1];
    let err = parse_todoist_csv(&big, now(), "UTC").unwrap_err();
    assert_eq!(err.line, None);
    assert!(err.message.contains("limit is 5242880 bytes"), "{err}");

    let mut many = String::from(HEADER);
    for i in 0..=MAX_IMPORT_TASKS {
        many.push_str(&format!("task,T{i},,4,1,,,,,\n"));
    }
    let err = parse(&many).unwrap_err();
    assert_eq!(err.line, Some(MAX_IMPORT_TASKS as u64 + 2), "{err}");
    assert!(err.message.contains("too many tasks"), "{err}");
    assert_eq!(err.limit, Some(todokit_domain::interchange::ImportLimit::Count));

    let err = parse_todoist_csv(HEADER.as_bytes(), now(), "Not/AZone").unwrap_err();
    assert!(err.message.contains("unknown default time zone"), "{err}");
}

#[test]
fn a_header_only_file_imports_nothing() {
    assert!(parse(HEADER).unwrap().is_empty());
    let with_meta = format!("{HEADER}meta,view_style=board,,,,,,,,\n");
    assert!(parse(&with_meta).unwrap().is_empty());
}

#[test]
fn zoned_now_is_independent_of_the_default_zone() {
    // The same file read with another default zone only changes rows without TIMEZONE.
    let tokyo = parse_todoist_csv(TEMPLATE, now(), "Asia/Tokyo").unwrap();
    assert_eq!(tokyo[2].time_zone, "America/New_York");
    assert_eq!(tokyo[0].time_zone, "Europe/Berlin");
    assert_eq!(tokyo[3].time_zone, "Asia/Tokyo");
    let _: Zoned = now().to_zoned(jiff::tz::TimeZone::UTC);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
        let _ = parse(&text);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_todoist_csv(&bytes, now(), "Europe/Berlin");
    }

    #[test]
    fn never_panics_on_template_shaped_rows(
        rows in proptest::collection::vec(
            (
                "(task|note|section|meta|TASK|x|)",
                "[ -~@\"\n,ü€]{0,30}",
                "[ -~\"\n,]{0,20}",
                "[0-9a-z ]{0,3}",
                "[0-9 -]{0,3}",
                "(|tomorrow|every monday|every 15th|Dec 24|every other week|[a-z0-9 ]{0,12})",
                "(|Europe/Berlin|UTC|Nowhere/[A-Z]{2})",
            ),
            0..12,
        )
    ) {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(["TYPE", "CONTENT", "DESCRIPTION", "PRIORITY", "INDENT", "DATE", "TIMEZONE"]).unwrap();
        for (kind, content, desc, priority, indent, date, zone) in &rows {
            writer.write_record([kind, content, desc, priority, indent, date, zone]).unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        if let Ok(tasks) = parse_todoist_csv(&bytes, now(), "Europe/Berlin") {
            prop_assert!(tasks.len() <= rows.len());
        }
    }
}
