use super::*;
use crate::task::{Frequency, Weekday};
use proptest::prelude::*;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

const NOW: &str = "2026-03-01T12:00:00Z";
const LATER: &str = "2026-03-02T08:30:00Z";

fn new_task() -> NewTask {
    NewTask {
        title: Title::parse("Water the plants").unwrap(),
        description: None,
        priority: Priority::Medium,
        tags: Tags::parse(["home"]).unwrap(),
        due_at: None,
        time_zone: "Europe/Berlin".into(),
        reminder: None,
        recurrence: None,
        completed: false,
    }
}

fn daily() -> Recurrence {
    Recurrence::new(Frequency::Daily, 1).unwrap()
}

fn reminder(minutes: i64) -> ReminderOffset {
    ReminderOffset::new(minutes).unwrap()
}

/// A stored task due at `due`, repeating by `rule`, with its reminder already sent.
fn stored(due: Option<&str>, rule: Option<Recurrence>) -> Task {
    let mut task = Task::new(
        &NewTask { due_at: due.map(ts), recurrence: rule, reminder: due.map(|_| reminder(30)), ..new_task() },
        ts(NOW),
    );
    task.number = 7;
    task.reminder_sent = due.is_some();
    task
}

// ---------- Task::new ----------

#[test]
fn new_task_copies_the_input_and_starts_a_series_only_when_it_repeats_with_a_due_time() {
    struct Case {
        name: &'static str,
        due: Option<&'static str>,
        rule: Option<Recurrence>,
        completed: bool,
        series: bool,
    }
    let cases = [
        Case { name: "plain", due: None, rule: None, completed: false, series: false },
        Case { name: "due, not repeating", due: Some(LATER), rule: None, completed: false, series: false },
        Case { name: "repeating", due: Some(LATER), rule: Some(daily()), completed: false, series: true },
        Case {
            name: "repeating without due",
            due: None,
            rule: Some(daily()),
            completed: false,
            series: false,
        },
        Case { name: "created completed", due: None, rule: None, completed: true, series: false },
    ];
    for case in cases {
        let input = NewTask {
            due_at: case.due.map(ts),
            recurrence: case.rule.clone(),
            completed: case.completed,
            description: Some(Description::parse("  ").unwrap()),
            ..new_task()
        };
        let task = Task::new(&input, ts(NOW));
        let name = case.name;
        assert_eq!(task.number, 0, "{name}: storage numbers it");
        assert_eq!(task.title, "Water the plants", "{name}");
        assert_eq!(task.description, None, "{name}: an empty description is none");
        assert_eq!(task.tags, vec!["home".to_owned()], "{name}");
        assert_eq!(task.due_at, case.due.map(ts), "{name}");
        assert_eq!(task.time_zone, "Europe/Berlin", "{name}");
        assert_eq!((task.created_at, task.updated_at), (ts(NOW), ts(NOW)), "{name}");
        assert_eq!(task.completed_at, case.completed.then(|| ts(NOW)), "{name}");
        assert!(!task.reminder_sent, "{name}");
        assert_eq!(task.occurrence_index, 0, "{name}");
        assert_eq!(task.series_id, case.series.then_some(task.id), "{name}");
        assert_eq!(task.series_start_at, if case.series { case.due.map(ts) } else { None }, "{name}");
    }
}

// ---------- NewTask::check ----------

#[test]
fn a_new_task_needs_a_due_time_for_a_rule_or_a_reminder() {
    // (due time, with a rule, with a reminder, the field refused)
    type Case = (Option<&'static str>, bool, bool, Result<(), &'static str>);
    let cases: [Case; 6] = [
        (None, false, false, Ok(())),
        (Some(LATER), true, true, Ok(())),
        (None, true, false, Err("recurrence")),
        (None, false, true, Err("reminder_offset_minutes")),
        // The rule is named first when both are missing their due time.
        (None, true, true, Err("recurrence")),
        (Some(LATER), false, true, Ok(())),
    ];
    for (due, rule, remind, expected) in cases {
        let input = NewTask {
            due_at: due.map(ts),
            recurrence: rule.then(daily),
            reminder: remind.then(|| reminder(10)),
            ..new_task()
        };
        let got = input.check().map_err(|err| err.field());
        assert_eq!(got, expected, "due {due:?}, rule {rule}, reminder {remind}");
    }
    let err = NewTask { reminder: Some(reminder(10)), ..new_task() }.check().unwrap_err();
    assert_eq!(err.to_string(), "reminder_offset_minutes requires a due date (due_at)");
    let err = NewTask { recurrence: Some(daily()), ..new_task() }.check().unwrap_err();
    assert_eq!(err.to_string(), "recurrence requires a due date (due_at)");
}

// ---------- Task::apply ----------

#[test]
fn apply_changes_the_named_fields_and_reports_whether_anything_changed() {
    struct Case {
        name: &'static str,
        patch: TaskPatch,
        changed: bool,
        check: fn(&Task),
    }
    let cases = [
        Case { name: "empty patch", patch: TaskPatch::default(), changed: false, check: |_| {} },
        Case {
            name: "same title",
            patch: TaskPatch { title: Some(Title::parse("Water the plants").unwrap()), ..Default::default() },
            changed: false,
            check: |_| {},
        },
        Case {
            name: "new title",
            patch: TaskPatch { title: Some(Title::parse("Feed the cat").unwrap()), ..Default::default() },
            changed: true,
            check: |t| assert_eq!(t.title, "Feed the cat"),
        },
        Case {
            name: "description set",
            patch: TaskPatch {
                description: Some(Some(Description::parse("the big ones").unwrap())),
                ..Default::default()
            },
            changed: true,
            check: |t| assert_eq!(t.description.as_deref(), Some("the big ones")),
        },
        Case {
            name: "description cleared when there is none",
            patch: TaskPatch { description: Some(None), ..Default::default() },
            changed: false,
            check: |t| assert_eq!(t.description, None),
        },
        Case {
            name: "priority",
            patch: TaskPatch { priority: Some(Priority::High), ..Default::default() },
            changed: true,
            check: |t| assert_eq!(t.priority, Priority::High),
        },
        Case {
            name: "tags replaced",
            patch: TaskPatch { tags: Some(Tags::parse(["garden", "weekly"]).unwrap()), ..Default::default() },
            changed: true,
            check: |t| assert_eq!(t.tags, vec!["garden".to_owned(), "weekly".to_owned()]),
        },
        Case {
            name: "same due time keeps the sent reminder",
            patch: TaskPatch {
                due_at: Some(Some(ts(LATER))),
                time_zone: Some("Europe/Berlin".into()),
                ..Default::default()
            },
            changed: false,
            check: |t| assert!(t.reminder_sent),
        },
        Case {
            name: "new due time re-arms the reminder",
            patch: TaskPatch {
                due_at: Some(Some(ts("2026-03-05T08:30:00Z"))),
                time_zone: Some("America/New_York".into()),
                ..Default::default()
            },
            changed: true,
            check: |t| {
                assert_eq!(t.due_at, Some(ts("2026-03-05T08:30:00Z")));
                assert_eq!(t.time_zone, "America/New_York");
                assert!(!t.reminder_sent);
            },
        },
        Case {
            name: "new reminder re-arms it",
            patch: TaskPatch { reminder: Some(Some(reminder(60))), ..Default::default() },
            changed: true,
            check: |t| {
                assert_eq!(t.reminder_offset_minutes, Some(60));
                assert!(!t.reminder_sent);
            },
        },
        Case {
            name: "the same reminder again re-arms it too",
            patch: TaskPatch { reminder: Some(Some(reminder(30))), ..Default::default() },
            changed: true,
            check: |t| assert!(!t.reminder_sent),
        },
        Case {
            name: "reminder cleared",
            patch: TaskPatch { reminder: Some(None), ..Default::default() },
            changed: true,
            check: |t| assert_eq!(t.reminder_offset_minutes, None),
        },
        Case {
            name: "due time cleared",
            patch: TaskPatch { due_at: Some(None), ..Default::default() },
            changed: true,
            check: |t| {
                assert_eq!(t.due_at, None);
                assert!(!t.reminder_sent);
            },
        },
    ];
    for case in cases {
        let mut task = stored(Some(LATER), None);
        let before = task.clone();
        let changed = task.apply(&case.patch, ts(NOW) + jiff::SignedDuration::from_hours(1)).unwrap();
        assert_eq!(changed, case.changed, "{}", case.name);
        let expected_updated = if case.changed { ts("2026-03-01T13:00:00Z") } else { before.updated_at };
        assert_eq!(task.updated_at, expected_updated, "{}: updated_at moves only on a change", case.name);
        assert_eq!((task.id, task.number, task.created_at), (before.id, before.number, before.created_at));
        (case.check)(&task);
    }
}

#[test]
fn apply_restarts_the_series_whenever_the_schedule_changes() {
    let weekly = Recurrence::weekly_on([Weekday::Mon, Weekday::Thu], 1).unwrap();
    // A repeating task three occurrences into its series.
    let mut running = stored(Some(LATER), Some(daily()));
    running.occurrence_index = 3;
    let series = running.series_id;

    // A change that leaves the schedule alone keeps the series.
    let mut task = running.clone();
    assert!(task.apply(&TaskPatch { priority: Some(Priority::Low), ..Default::default() }, ts(NOW)).unwrap());
    assert_eq!((task.series_id, task.occurrence_index), (series, 3));

    // A new rule starts a new series at the current due time.
    let mut task = running.clone();
    assert!(
        task.apply(&TaskPatch { recurrence: Some(Some(weekly.clone())), ..Default::default() }, ts(NOW))
            .unwrap()
    );
    assert!(task.series_id.is_some() && task.series_id != series);
    assert_eq!((task.series_start_at, task.occurrence_index), (Some(ts(LATER)), 0));

    // A new due time does too, from that time.
    let mut task = running.clone();
    let moved = TaskPatch { due_at: Some(Some(ts("2026-04-01T07:00:00Z"))), ..Default::default() };
    assert!(task.apply(&moved, ts(NOW)).unwrap());
    assert!(task.series_id.is_some() && task.series_id != series);
    assert_eq!((task.series_start_at, task.occurrence_index), (Some(ts("2026-04-01T07:00:00Z")), 0));

    // Stopping the rule, or dropping the due time, ends the series.
    for patch in [
        TaskPatch { recurrence: Some(None), ..Default::default() },
        TaskPatch { due_at: Some(None), ..Default::default() },
    ] {
        let mut task = running.clone();
        assert!(task.apply(&patch, ts(NOW)).unwrap());
        assert_eq!(
            (task.series_id, task.series_start_at, task.occurrence_index),
            (None, None, 0),
            "{patch:?}"
        );
    }

    // A rule on a task without a series (not repeating before) starts one.
    let mut task = stored(Some(LATER), None);
    assert!(
        task.apply(&TaskPatch { recurrence: Some(Some(daily())), ..Default::default() }, ts(NOW)).unwrap()
    );
    assert!(task.series_id.is_some());
    assert_eq!(task.series_start_at, Some(ts(LATER)));
}

#[test]
fn apply_refuses_a_rule_or_reminder_on_a_task_left_without_a_due_time() {
    let undated = stored(None, None);
    let dated = stored(Some(LATER), None);
    let set_rule = || TaskPatch { recurrence: Some(Some(daily())), ..Default::default() };
    let set_reminder = || TaskPatch { reminder: Some(Some(reminder(15))), ..Default::default() };
    let cases: Vec<(&str, &Task, TaskPatch, Result<bool, &str>)> = vec![
        ("rule on an undated task", &undated, set_rule(), Err("recurrence")),
        ("reminder on an undated task", &undated, set_reminder(), Err("reminder_offset_minutes")),
        (
            "both on an undated task: the rule is named",
            &undated,
            TaskPatch { reminder: Some(Some(reminder(15))), ..set_rule() },
            Err("recurrence"),
        ),
        ("rule on a dated task", &dated, set_rule(), Ok(true)),
        ("reminder on a dated task", &dated, set_reminder(), Ok(true)),
        (
            "rule with the due time in the same patch",
            &undated,
            TaskPatch { due_at: Some(Some(ts(LATER))), ..set_rule() },
            Ok(true),
        ),
        (
            "reminder while the same patch clears the due time",
            &dated,
            TaskPatch { due_at: Some(None), ..set_reminder() },
            Err("reminder_offset_minutes"),
        ),
        // Clearing is always allowed, and so is dropping the due time under an existing rule.
        (
            "rule cleared on an undated task",
            &undated,
            TaskPatch { recurrence: Some(None), ..Default::default() },
            Ok(false),
        ),
        ("due time cleared", &dated, TaskPatch { due_at: Some(None), ..Default::default() }, Ok(true)),
    ];
    for (name, task, patch, expected) in cases {
        let mut task = task.clone();
        let before = task.clone();
        let got = task.apply(&patch, ts(NOW));
        assert_eq!(got.as_ref().map_err(|err| err.field()), expected.as_ref().map_err(|f| *f), "{name}");
        if let Err(err) = got {
            assert_eq!(task, before, "{name}: a refused patch changes nothing");
            assert_eq!(err.to_string(), format!("{} requires a due date (due_at)", err.field()), "{name}");
        }
    }
}

// ---------- Task::set_completed ----------

#[test]
fn completing_and_reopening_stamp_the_time_once() {
    let cases = [
        (false, true, true, Some(LATER)),
        (false, false, false, None),
        (true, false, true, None),
        (true, true, false, Some(NOW)),
    ];
    for (was, to, changed, completed_at) in cases {
        let mut task = Task::new(&NewTask { completed: was, ..new_task() }, ts(NOW));
        assert_eq!(task.set_completed(to, ts(LATER)), changed, "{was} -> {to}");
        assert_eq!(task.completed, to);
        assert_eq!(task.completed_at, completed_at.map(ts), "{was} -> {to}");
        assert_eq!(task.updated_at, ts(if changed { LATER } else { NOW }), "{was} -> {to}");
    }
}

// ---------- Task::next_occurrence ----------

#[test]
fn next_occurrence_follows_the_rule_and_re_arms_the_reminder() {
    let mut task = stored(Some("2026-03-02T08:30:00Z"), Some(daily()));
    task.priority = Priority::High;
    task.description = Some("the big ones".into());
    task.set_completed(true, ts(LATER));
    let next = task.next_occurrence(ts("2026-03-02T09:00:00Z")).expect("a daily task repeats");
    assert_ne!(next.id, task.id);
    assert_eq!(next.number, 0, "storage numbers it");
    assert_eq!(next.due_at, Some(ts("2026-03-03T08:30:00Z")));
    assert_eq!(next.reminder_offset_minutes, Some(30));
    assert!(task.reminder_sent && !next.reminder_sent, "the next one reminds again");
    assert!(!next.completed && next.completed_at.is_none());
    assert_eq!(next.parent_task_id, Some(task.id));
    assert_eq!((next.series_id, next.series_start_at), (task.series_id, task.series_start_at));
    assert_eq!(next.occurrence_index, 1);
    assert_eq!((next.created_at, next.updated_at), (ts("2026-03-02T09:00:00Z"), ts("2026-03-02T09:00:00Z")));
    assert_eq!(
        (&next.title, &next.description, next.priority, &next.tags, &next.time_zone, &next.recurrence),
        (&task.title, &task.description, task.priority, &task.tags, &task.time_zone, &task.recurrence)
    );
}

#[test]
fn next_occurrence_is_counted_from_the_series_start_in_the_task_zone() {
    // Monthly from Jan 31 in New York: Feb 28, Mar 31 — no drift, local time kept across DST.
    let monthly = Recurrence::new(Frequency::Monthly, 1).unwrap();
    let start = "2026-01-31T14:00:00Z"; // 09:00 EST
    let mut task = Task::new(
        &NewTask {
            due_at: Some(ts(start)),
            recurrence: Some(monthly),
            time_zone: "America/New_York".into(),
            ..new_task()
        },
        ts(NOW),
    );
    let mut dues = Vec::new();
    for _ in 0..3 {
        task = task.next_occurrence(ts(NOW)).unwrap();
        dues.push(task.due_at.unwrap());
    }
    // 09:00 local each time: EST (-5) in February, EDT (-4) from mid-March.
    assert_eq!(dues, [ts("2026-02-28T14:00:00Z"), ts("2026-03-31T13:00:00Z"), ts("2026-04-30T13:00:00Z")]);
    assert_eq!(task.occurrence_index, 3);
    assert_eq!(task.series_start_at, Some(ts(start)));
}

#[test]
fn next_occurrence_is_none_when_there_is_no_series_or_it_has_ended() {
    let limited = Recurrence { count: Some(2), ..daily() }.validate().unwrap();
    let until = Recurrence { until: Some(ts("2026-03-03T00:00:00Z")), ..daily() }.validate().unwrap();
    let mut last_of_two = stored(Some(LATER), Some(limited));
    last_of_two.occurrence_index = 1;
    let mut broken = stored(Some(LATER), Some(daily()));
    broken.series_start_at = None;
    let cases = [
        ("not repeating", stored(Some(LATER), None)),
        ("repeating without a due time", stored(None, Some(daily()))),
        ("count reached", last_of_two),
        ("past until", stored(Some("2026-03-02T08:30:00Z"), Some(until))),
        ("no series start", broken),
    ];
    for (name, task) in cases {
        assert_eq!(task.next_occurrence(ts(NOW)), None, "{name}");
    }
}

proptest! {
    #[test]
    fn an_unknown_zone_is_read_as_utc(days in 1u32..28, hour in 0i8..24) {
        let due = jiff::civil::date(2026, 5, 1).at(hour, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp();
        let mut task = Task::new(
            &NewTask { due_at: Some(due), recurrence: Some(Recurrence::new(Frequency::Daily, days).unwrap()), ..new_task() },
            ts(NOW),
        );
        task.time_zone = "Not/AZone".into();
        let next = task.next_occurrence(ts(NOW)).unwrap();
        prop_assert_eq!(next.due_at, Some(due + jiff::SignedDuration::from_hours(24 * i64::from(days))));
    }

    #[test]
    fn applying_a_patch_twice_changes_nothing_the_second_time(
        priority in prop::sample::select(vec![Priority::Low, Priority::Medium, Priority::High]),
        offset in prop::option::of(0i64..=40320),
        due_hours in prop::option::of(1i64..1000),
    ) {
        let patch = TaskPatch {
            priority: Some(priority),
            due_at: Some(due_hours.map(|h| ts(NOW) + jiff::SignedDuration::from_hours(h))),
            reminder: offset.map(|m| Some(reminder(m))),
            ..Default::default()
        };
        let mut task = stored(Some(LATER), None);
        if task.apply(&patch, ts(NOW)).is_ok() {
            let once = task.clone();
            let changed = task.apply(&patch, ts(LATER)).unwrap();
            // A reminder in the patch always re-arms, which is no change the second time.
            prop_assert!(!changed);
            prop_assert_eq!(task, once);
        }
    }
}
