//! iCalendar export: the writer's output is read back with an independent RFC 5545 parser (the
//! `icalendar` crate), and its shape (CRLF, folding, escaping, VALARM, RRULE, VTIMEZONE) checked.

use icalendar::parser::{Component as Parsed, read_calendar, unfold};
use jiff::Timestamp;
use todokit_domain::Task;
use todokit_domain::interchange::ical::{before_duration, ical_priority, priority_from_ical};
use todokit_domain::interchange::{CalendarOptions, Component, tasks_to_icalendar};
use todokit_domain::{Frequency, Priority, Recurrence, Weekday};

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn task(n: i64, title: &str) -> Task {
    Task {
        id: format!("0190c3a4-0000-7000-8000-{n:012}").parse().unwrap(),
        number: n,
        title: title.to_owned(),
        description: None,
        priority: Priority::Medium,
        tags: Vec::new(),
        due_at: None,
        time_zone: "Europe/Berlin".to_owned(),
        reminder_offset_minutes: None,
        reminder_sent: false,
        recurrence: None,
        parent_task_id: None,
        completed: false,
        completed_at: None,
        created_at: ts("2026-12-01T08:00:00Z"),
        updated_at: ts("2026-12-02T09:30:00Z"),
        occurrence_index: 0,
        series_id: None,
        series_start_at: None,
    }
}

const LONG_DESCRIPTION: &str = "Line one; with a semicolon, a comma and a backslash \\.\nLine two: Grüße aus Köln — \
     🦀🦀🦀 ünïcödé text long enough to be folded more than once across the 75-octet limit of RFC 5545.";

fn sample() -> Vec<Task> {
    let mut groceries = task(1, "Buy milk, eggs; and \"bread\"");
    groceries.description = Some(LONG_DESCRIPTION.to_owned());
    groceries.priority = Priority::High;
    groceries.tags = vec!["home".to_owned(), "a,b".to_owned()];
    groceries.due_at = Some(ts("2026-12-08T16:00:00Z"));
    groceries.reminder_offset_minutes = Some(15);

    let mut done = task(2, "File taxes");
    done.priority = Priority::Low;
    done.completed = true;
    done.completed_at = Some(ts("2026-12-03T10:00:00Z"));

    // The third occurrence of a 10-time Mon/Thu series at 09:00 Berlin, started Mon 30 Nov.
    let mut standup = task(3, "Standup");
    standup.recurrence = Some(Recurrence {
        count: Some(10),
        ..Recurrence::weekly_on([Weekday::Mon, Weekday::Thu], 1).unwrap()
    });
    standup.series_start_at = Some(ts("2026-11-30T08:00:00Z"));
    standup.occurrence_index = 2;
    standup.due_at = Some(ts("2026-12-07T08:00:00Z"));
    standup.reminder_offset_minutes = Some(90);

    // Due on a date without a time: 23:59:59 local; monthly from the 31st.
    let mut rent = task(4, "Pay rent");
    rent.time_zone = "America/New_York".to_owned();
    rent.due_at = Some(ts("2026-12-31T23:59:59-05:00"));
    rent.recurrence = Some(Recurrence::new(Frequency::Monthly, 1).unwrap());
    rent.reminder_offset_minutes = Some(0);
    vec![groceries, done, standup, rent]
}

fn options(component: Component) -> CalendarOptions {
    CalendarOptions {
        prodid: "-//todokit//test//EN".to_owned(),
        uid_domain: "todo.example.org".to_owned(),
        component,
        name: Some("Ann's tasks".to_owned()),
        include_completed: true,
        refresh_interval_minutes: Some(60),
    }
}

fn prop<'a>(component: &'a Parsed<'a>, name: &str) -> Option<&'a icalendar::parser::Property<'a>> {
    component.properties.iter().find(|p| p.name == name)
}

fn value(component: &Parsed, name: &str) -> String {
    prop(component, name).map(|p| p.val.clone().unescape_text().as_str().to_owned()).unwrap_or_default()
}

fn param(component: &Parsed, name: &str, key: &str) -> Option<String> {
    let property = prop(component, name)?;
    property.params.iter().find(|p| p.key == key).and_then(|p| p.val.as_ref()).map(|v| v.as_str().to_owned())
}

fn assert_wire_format(text: &str) {
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
}

#[test]
fn vtodo_export_reads_back() {
    let text = tasks_to_icalendar(&sample(), &options(Component::Todo));
    assert_wire_format(&text);
    assert!(text.contains("\r\n "), "the long description is folded");
    let unfolded = unfold(&text);
    let calendar = read_calendar(&unfolded).unwrap();
    let root_value =
        |name: &str| calendar.properties.iter().find(|p| p.name == name).map(|p| p.val.as_str().to_owned());
    assert_eq!(root_value("VERSION").as_deref(), Some("2.0"));
    assert_eq!(root_value("PRODID").as_deref(), Some("-//todokit//test//EN"));
    assert_eq!(root_value("CALSCALE").as_deref(), Some("GREGORIAN"));
    assert_eq!(root_value("X-WR-CALNAME").as_deref(), Some("Ann's tasks"));
    assert_eq!(root_value("REFRESH-INTERVAL").as_deref(), Some("PT60M"));
    assert_eq!(root_value("X-PUBLISHED-TTL").as_deref(), Some("PT60M"));

    let todos: Vec<&Parsed> = calendar.components.iter().filter(|c| c.name == "VTODO").collect();
    assert_eq!(todos.len(), 4);
    let zones: Vec<&Parsed> = calendar.components.iter().filter(|c| c.name == "VTIMEZONE").collect();
    // Only recurring tasks use TZIDs: one VTIMEZONE for each of their two zones.
    let zone_ids: Vec<String> = zones.iter().map(|z| value(z, "TZID")).collect();
    assert_eq!(zone_ids, ["America/New_York", "Europe/Berlin"]);

    let groceries = todos[0];
    assert_eq!(value(groceries, "UID"), "0190c3a4-0000-7000-8000-000000000001@todo.example.org");
    assert_eq!(value(groceries, "SUMMARY"), "Buy milk, eggs; and \"bread\"");
    assert_eq!(value(groceries, "DESCRIPTION"), LONG_DESCRIPTION);
    assert_eq!(value(groceries, "DUE"), "20261208T160000Z");
    assert_eq!(value(groceries, "DTSTAMP"), "20261202T093000Z");
    assert_eq!(value(groceries, "PRIORITY"), "1");
    assert_eq!(value(groceries, "STATUS"), "NEEDS-ACTION");
    assert_eq!(prop(groceries, "CATEGORIES").unwrap().val.as_str(), "home,a\\,b");
    assert!(prop(groceries, "DTSTART").is_none() && prop(groceries, "RRULE").is_none());
    let alarm = &groceries.components[0];
    assert_eq!(alarm.name, "VALARM");
    assert_eq!(value(alarm, "ACTION"), "DISPLAY");
    assert_eq!(value(alarm, "DESCRIPTION"), "Buy milk, eggs; and \"bread\"");
    assert_eq!(value(alarm, "TRIGGER"), "-PT15M");
    assert_eq!(param(alarm, "TRIGGER", "RELATED").as_deref(), Some("END"));

    let done = todos[1];
    assert_eq!(value(done, "STATUS"), "COMPLETED");
    assert_eq!(value(done, "COMPLETED"), "20261203T100000Z");
    assert_eq!(value(done, "PERCENT-COMPLETE"), "100");
    assert_eq!(value(done, "PRIORITY"), "9");
    assert!(prop(done, "DUE").is_none() && done.components.is_empty());

    let standup = todos[2];
    assert_eq!(value(standup, "RRULE"), "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=8");
    assert_eq!(value(standup, "DTSTART"), "20261207T090000");
    assert_eq!(param(standup, "DTSTART", "TZID").as_deref(), Some("Europe/Berlin"));
    assert_eq!(value(standup, "DUE"), "20261207T090000");
    assert_eq!(param(standup, "DUE", "TZID").as_deref(), Some("Europe/Berlin"));
    assert_eq!(value(&standup.components[0], "TRIGGER"), "-PT1H30M");

    let rent = todos[3];
    assert_eq!(value(rent, "RRULE"), "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1");
    assert_eq!(param(rent, "DUE", "TZID").as_deref(), Some("America/New_York"));
    assert_eq!(value(&rent.components[0], "TRIGGER"), "PT0S");

    let berlin = zones[1];
    assert_eq!(value(berlin, "TZID"), "Europe/Berlin");
    let observances: Vec<&Parsed> = berlin.components.iter().collect();
    assert!(observances.len() >= 20, "ten years of DST changes: {}", observances.len());
    let first_summer = observances.iter().find(|o| o.name == "DAYLIGHT").unwrap();
    assert_eq!(value(first_summer, "DTSTART"), "20270328T020000");
    assert_eq!(value(first_summer, "TZOFFSETFROM"), "+0100");
    assert_eq!(value(first_summer, "TZOFFSETTO"), "+0200");
    assert_eq!(value(first_summer, "TZNAME"), "CEST");
}

#[test]
fn every_zone_with_a_tzid_has_a_vtimezone() {
    let text = tasks_to_icalendar(&sample(), &options(Component::Todo));
    let unfolded = unfold(&text);
    let calendar = read_calendar(&unfolded).unwrap();
    let defined: Vec<String> =
        calendar.components.iter().filter(|c| c.name == "VTIMEZONE").map(|c| value(c, "TZID")).collect();
    for component in calendar.components.iter().filter(|c| c.name == "VTODO") {
        for property in &component.properties {
            if let Some(tzid) = property.params.iter().find(|p| p.key == "TZID") {
                let tzid = tzid.val.as_ref().unwrap().as_str().to_owned();
                assert!(defined.contains(&tzid), "{tzid} has no VTIMEZONE ({defined:?})");
            }
        }
    }
}

#[test]
fn vevent_feed_reads_back() {
    let text = tasks_to_icalendar(&sample(), &options(Component::Event));
    assert_wire_format(&text);
    let unfolded = unfold(&text);
    let calendar = read_calendar(&unfolded).unwrap();
    let events: Vec<&Parsed> = calendar.components.iter().filter(|c| c.name == "VEVENT").collect();
    assert!(calendar.components.iter().all(|c| c.name != "VTODO"));
    // "File taxes" has no due date: not on the calendar.
    assert_eq!(events.len(), 3);

    let groceries = events[0];
    assert_eq!(value(groceries, "DTSTART"), "20261208T160000Z");
    assert_eq!(value(groceries, "DURATION"), "PT30M");
    assert_eq!(value(groceries, "TRANSP"), "TRANSPARENT");
    assert_eq!(value(&groceries.components[0], "TRIGGER"), "-PT15M");
    assert_eq!(param(&groceries.components[0], "TRIGGER", "RELATED"), None);

    let standup = events[1];
    assert_eq!(param(standup, "DTSTART", "TZID").as_deref(), Some("Europe/Berlin"));
    assert_eq!(value(standup, "RRULE"), "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=8");

    let rent = events[2];
    assert_eq!(value(rent, "DTSTART"), "20261231");
    assert_eq!(param(rent, "DTSTART", "VALUE").as_deref(), Some("DATE"));
    assert_eq!(value(rent, "DTEND"), "20270101");
    assert_eq!(param(&rent.components[0], "TRIGGER", "RELATED").as_deref(), Some("END"));
}

#[test]
fn completed_tasks_can_be_left_out_and_are_marked_in_events() {
    let mut tasks = sample();
    tasks[1].due_at = Some(ts("2026-12-03T09:00:00Z"));
    let with = tasks_to_icalendar(&tasks, &options(Component::Event));
    assert!(with.contains("SUMMARY:✓ File taxes\r\n"));
    let without = tasks_to_icalendar(
        &tasks,
        &CalendarOptions { include_completed: false, ..options(Component::Event) },
    );
    assert!(!without.contains("File taxes"));
}

#[test]
fn all_day_until_is_a_date() {
    let mut rent = sample().remove(3);
    rent.recurrence =
        Some(Recurrence { until: Some(ts("2027-06-30T12:00:00Z")), ..rent.recurrence.unwrap() });
    let text = tasks_to_icalendar(&[rent.clone()], &options(Component::Event));
    // 30 June 23:59:59 New York is after the UNTIL instant: the last day is 29 June.
    assert!(
        text.contains("RRULE:FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;UNTIL=20270629\r\n"),
        "{text}"
    );
    let todo = tasks_to_icalendar(&[rent], &options(Component::Todo));
    assert!(todo.replace("\r\n ", "").contains(";UNTIL=20270630T120000Z\r\n"), "{todo}");
}

#[test]
fn output_is_deterministic_and_empty_calendars_are_valid() {
    let a = tasks_to_icalendar(&sample(), &options(Component::Todo));
    let b = tasks_to_icalendar(&sample(), &options(Component::Todo));
    assert_eq!(a, b);
    let empty = tasks_to_icalendar(&[], &CalendarOptions::default());
    assert_eq!(
        empty,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//todokit//todokit//EN\r\nCALSCALE:GREGORIAN\r\nEND:VCALENDAR\r\n"
    );
}

#[test]
fn a_used_up_series_or_completed_occurrence_has_no_rrule() {
    let mut tasks = sample();
    tasks[2].occurrence_index = 10;
    let text = tasks_to_icalendar(&tasks[2..3], &options(Component::Todo));
    assert!(!text.contains("RRULE") && !text.contains("TZID"), "{text}");
    tasks[2].occurrence_index = 2;
    tasks[2].completed = true;
    let text = tasks_to_icalendar(&tasks[2..3], &options(Component::Todo));
    assert!(!text.contains("RRULE") && !text.contains("VALARM"), "{text}");
}

#[test]
fn priorities_and_durations() {
    for priority in Priority::ALL {
        assert_eq!(priority_from_ical(ical_priority(priority)), priority);
    }
    assert_eq!(priority_from_ical(0), Priority::Medium);
    assert_eq!(priority_from_ical(3), Priority::High);
    assert_eq!(priority_from_ical(7), Priority::Low);
    assert_eq!(before_duration(0), "PT0S");
    assert_eq!(before_duration(45), "-PT45M");
    assert_eq!(before_duration(120), "-PT2H");
    assert_eq!(before_duration(1440), "-P1D");
    assert_eq!(before_duration(40320), "-P28D");
    assert_eq!(before_duration(1530), "-P1DT1H30M");
}
