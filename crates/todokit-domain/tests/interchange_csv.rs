//! CSV export: header, quoting, the formula guard, and a property that reading the file back with
//! the csv crate gives every task's fields.

use jiff::Timestamp;
use proptest::prelude::*;
use todokit_domain::Task;
use todokit_domain::interchange::task_csv::{guard_cell, task_row, unguard_cell};
use todokit_domain::interchange::{CSV_HEADER, tasks_to_csv};
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
        updated_at: ts("2026-12-02T09:30:00.250Z"),
        occurrence_index: 0,
        series_id: None,
        series_start_at: None,
    }
}

fn read(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes);
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

#[test]
fn writes_a_header_and_quoted_rows() {
    let mut full = task(7, "Say \"hi\", then leave");
    full.description = Some("Line one\nLine two, with comma".to_owned());
    full.priority = Priority::High;
    full.tags = vec!["home".to_owned(), "errands".to_owned()];
    full.due_at = Some(ts("2026-12-08T16:00:00Z"));
    full.reminder_offset_minutes = Some(15);
    full.recurrence = Some(Recurrence::weekly_on([Weekday::Thu, Weekday::Mon], 1).unwrap());
    let mut done = task(8, "Done thing");
    done.completed = true;
    done.completed_at = Some(ts("2026-12-03T10:00:00Z"));
    done.recurrence = Some(Recurrence::new(Frequency::Monthly, 1).unwrap());
    done.due_at = Some(ts("2027-01-31T08:00:00Z"));

    let bytes = tasks_to_csv(&[full, done]).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with(
        "number,title,description,priority,tags,due_at,time_zone,reminder_offset_minutes,recurrence,\
         completed,completed_at,created_at,updated_at\r\n"
    ));
    assert!(text.contains(
        "7,\"Say \"\"hi\"\", then leave\",\"Line one\nLine two, with comma\",high,\"home, errands\","
    ));
    let rows = read(&bytes);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], CSV_HEADER);
    assert_eq!(
        rows[1],
        [
            "7",
            "Say \"hi\", then leave",
            "Line one\nLine two, with comma",
            "high",
            "home, errands",
            "2026-12-08T16:00:00Z",
            "Europe/Berlin",
            "15",
            "FREQ=WEEKLY;BYDAY=MO,TH",
            "false",
            "",
            "2026-12-01T08:00:00Z",
            "2026-12-02T09:30:00.25Z",
        ]
    );
    // A monthly rule starting on the 31st carries the month-end clamp.
    assert_eq!(rows[2][8], "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1");
    assert_eq!(rows[2][9], "true");
    assert_eq!(rows[2][10], "2026-12-03T10:00:00Z");
}

#[test]
fn formula_cells_are_guarded() {
    let cases = [
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
        ("+1 555", "'+1 555"),
        ("-5 degrees", "'-5 degrees"),
        ("@home", "'@home"),
        ("\tindented", "'\tindented"),
        ("\rreturn", "'\rreturn"),
        ("plain = fine", "plain = fine"),
        ("'quoted already", "''quoted already"),
        ("'", "''"),
        ("'=x", "''=x"),
        ("", ""),
    ];
    for (cell, guarded) in cases {
        assert_eq!(guard_cell(cell), guarded);
        assert_eq!(unguard_cell(&guard_cell(cell)), cell);
    }
    let mut evil = task(1, "=1+2");
    evil.description = Some("@SUM(A1:A9)".to_owned());
    evil.tags = vec!["-x".to_owned()];
    let rows = read(&tasks_to_csv(&[evil]).unwrap());
    assert_eq!(&rows[1][1..5], ["'=1+2", "'@SUM(A1:A9)", "medium", "'-x"]);
}

#[test]
fn an_empty_export_is_just_the_header() {
    let rows = read(&tasks_to_csv(&[]).unwrap());
    assert_eq!(rows, [CSV_HEADER.map(str::to_owned).to_vec()]);
}

fn arb_task() -> impl Strategy<Value = Task> {
    (
        1i64..100_000,
        "\\PC{1,40}|[=+@\"\n,;-]{1,10}",
        proptest::option::of("(\\PC|\n|\r|\t){0,60}"),
        proptest::sample::select(Priority::ALL.to_vec()),
        proptest::collection::vec("[a-z=@ ]{1,8}", 0..4),
        proptest::option::of(0i64..4_000_000_000),
        proptest::option::of(0u32..=40_320),
        any::<bool>(),
    )
        .prop_map(|(number, title, description, priority, tags, due, reminder, completed)| {
            let mut t = task(number, &title);
            t.description = description;
            t.priority = priority;
            t.tags = tags;
            t.due_at = due.map(|s| Timestamp::from_second(s).unwrap());
            t.reminder_offset_minutes = reminder;
            t.completed = completed;
            t
        })
}

proptest! {
    #[test]
    fn csv_round_trips_every_field(tasks in proptest::collection::vec(arb_task(), 0..6)) {
        let rows = read(&tasks_to_csv(&tasks).unwrap());
        prop_assert_eq!(rows.len(), tasks.len() + 1);
        for (task, row) in tasks.iter().zip(&rows[1..]) {
            let unguarded: Vec<&str> = row.iter().map(|cell| unguard_cell(cell)).collect();
            let expected = task_row(task);
            prop_assert_eq!(unguarded, expected.iter().map(String::as_str).collect::<Vec<_>>());
            for cell in row {
                prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']));
            }
        }
    }
}
