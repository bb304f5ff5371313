//! The phrase table end to end: every row is a new user with the standard tasks, a
//! conversation sent to `POST /api/chatkit` of a running server (SQLite and PostgreSQL), and
//! checks of the stored tasks and the last reply. Rows live in `phrases.txt`:
//!
//! ```text
//! category | first message // next message | fact; fact
//! ```
//!
//! Facts: `unchanged` (every seeded task exactly as seeded — for rows that must not change
//! anything), `says=text` / `!says=text` (the last reply, case-insensitive), `count=N` (tasks
//! in all), and `Title: state` with state one of `done`, `open`, `gone`, `exists`,
//! `priority=P`, `tags=a,b`, `no-due`, `due=PHRASE` (the day a canonical phrase such as
//! "tomorrow" or "in 4 days" names, read by the date parser, whose own table tests it),
//! `at=HH:MM` (the due time of day),
//! `remind=N|none`, `repeat=weekly/1/mon,thu|none`, `repeat-count=N|none`, `repeat-until=PHRASE` (the
//! day the rule ends, read like `due=`).
//!
//! The seed, relative to today (UTC): #1 Buy groceries (tomorrow 18:00, #shopping),
//! #2 Team meeting (in 2 days 09:00, high), #3 Morning meeting with Bob (in 3 days 09:00),
//! #4 Finish the report (yesterday 17:00, low, overdue), #5 Call mom (completed).

use jiff::{Span, Timestamp, Zoned};
use serde_json::{Value, json};
use todokit::tasks::TaskInput;
use todokit::tasks::UserZone;
use todokit::tasks::model::{Task, UserId};

use crate::chat::{chatkit, user_input};
use crate::helpers::TestApp;
use crate::on_both_backends;

const TABLE: &str = include_str!("phrases.txt");

struct Row<'a> {
    line: usize,
    category: &'a str,
    messages: Vec<&'a str>,
    facts: Vec<&'a str>,
}

fn rows() -> Vec<Row<'static>> {
    TABLE
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            let mut parts = line.splitn(3, " | ");
            let (category, messages, facts) = (parts.next(), parts.next(), parts.next());
            let (Some(category), Some(messages), Some(facts)) = (category, messages, facts) else {
                panic!("phrases.txt:{}: expected `category | messages | facts`", index + 1)
            };
            Row {
                line: index + 1,
                category: category.trim(),
                messages: messages.split(" // ").map(str::trim).collect(),
                facts: facts.split("; ").map(str::trim).collect(),
            }
        })
        .collect()
}

async fn seed(app: &TestApp, user: UserId, now: &Zoned) {
    let at = |days: i64, hour: i8| {
        let day = now.date().checked_add(Span::new().days(days)).unwrap();
        day.at(hour, 0, 0, 0).to_zoned(now.time_zone().clone()).unwrap().timestamp().to_string()
    };
    let tasks = [
        ("Buy groceries", Some(at(1, 18)), None, vec!["shopping"], false),
        ("Team meeting", Some(at(2, 9)), Some("high"), vec![], false),
        ("Morning meeting with Bob", Some(at(3, 9)), None, vec![], false),
        ("Finish the report", Some(at(-1, 17)), Some("low"), vec![], false),
        ("Call mom", None, None, vec![], true),
    ];
    for (title, due, priority, tags, completed) in tasks {
        let input = TaskInput {
            title: title.to_owned(),
            due_at: due,
            priority: priority.map(str::to_owned),
            tags: Some(tags.into_iter().map(str::to_owned).collect()),
            completed,
            ..TaskInput::default()
        };
        app.state.tasks.create(user, input, &UserZone::utc()).await.unwrap();
    }
}

async fn tasks_of(app: &TestApp, user: UserId) -> Vec<Task> {
    let criteria = todokit::tasks::ListCriteria { limit: Some(100), ..Default::default() };
    let mut tasks = app.state.tasks.list(user, &criteria, &UserZone::utc()).await.unwrap().tasks;
    tasks.sort_by(|a, b| a.title.cmp(&b.title));
    tasks
}

fn summary(tasks: &[Task]) -> String {
    tasks
        .iter()
        .map(|t| {
            format!(
                "{}|{}|{}|{}|{:?}|{:?}|{:?}",
                t.title,
                t.completed,
                t.priority,
                t.tags.join(","),
                t.due_at,
                t.reminder_offset_minutes,
                t.recurrence
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn reply_text(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "assistant_message")
        .flat_map(|e| e["item"]["content"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["text"].as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("\n")
}

fn check(fact: &str, tasks: &[Task], seeded: &str, reply: &str, now: &Zoned) -> Result<(), String> {
    if fact == "unchanged" {
        return if summary(tasks) == seeded { Ok(()) } else { Err("tasks changed".into()) };
    }
    if let Some(text) = fact.strip_prefix("!says=") {
        return if reply.to_lowercase().contains(&text.to_lowercase()) {
            Err(format!("reply says {text:?}"))
        } else {
            Ok(())
        };
    }
    if let Some(text) = fact.strip_prefix("says=") {
        return if reply.to_lowercase().contains(&text.to_lowercase()) {
            Ok(())
        } else {
            Err(format!("reply lacks {text:?}"))
        };
    }
    if let Some(count) = fact.strip_prefix("count=") {
        return if tasks.len().to_string() == count { Ok(()) } else { Err(format!("{} tasks", tasks.len())) };
    }
    let (title, state) = fact.split_once(": ").ok_or_else(|| format!("bad fact {fact:?}"))?;
    let task = tasks.iter().find(|task| task.title.eq_ignore_ascii_case(title));
    let holds = match (state, task) {
        ("gone", task) => task.is_none(),
        (_, None) => false,
        ("exists", Some(_)) => true,
        ("done", Some(task)) => task.completed,
        ("open", Some(task)) => !task.completed,
        ("no-due", Some(task)) => task.due_at.is_none(),
        (state, Some(task)) => {
            if let Some(priority) = state.strip_prefix("priority=") {
                task.priority.to_string() == priority
            } else if let Some(tags) = state.strip_prefix("tags=") {
                task.tags.join(",") == tags
            } else if let Some(phrase) = state.strip_prefix("due=") {
                let day = todokit_domain::nl::parse_datetime(phrase, now).map(|found| found.at.date());
                task.due_at.map(|due| due.to_zoned(now.time_zone().clone()).date()) == day && day.is_some()
            } else if let Some(time) = state.strip_prefix("at=") {
                // The time of day, in the user's zone: `at=09:00`.
                task.due_at.is_some_and(|due| {
                    due.to_zoned(now.time_zone().clone()).time().strftime("%H:%M").to_string() == time
                })
            } else if let Some(count) = state.strip_prefix("repeat-count=") {
                let actual = task.recurrence.as_ref().and_then(|r| r.count);
                actual.map_or_else(|| "none".to_owned(), |n| n.to_string()) == count
            } else if let Some(phrase) = state.strip_prefix("repeat-until=") {
                let day = todokit_domain::nl::parse_datetime(phrase, now).map(|found| found.at.date());
                let until = task.recurrence.as_ref().and_then(|r| r.until);
                until.map(|until| until.to_zoned(now.time_zone().clone()).date()) == day && day.is_some()
            } else if let Some(minutes) = state.strip_prefix("remind=") {
                task.reminder_offset_minutes.map_or_else(|| "none".to_owned(), |m| m.to_string()) == minutes
            } else if let Some(rule) = state.strip_prefix("repeat=") {
                let actual = task.recurrence.as_ref().map_or_else(
                    || "none".to_owned(),
                    |r| {
                        let days: Vec<String> = r
                            .weekdays
                            .as_deref()
                            .unwrap_or_default()
                            .iter()
                            .map(|d| format!("{d:?}").to_lowercase()[..3].to_owned())
                            .collect();
                        format!("{}/{}/{}", r.frequency.as_str(), r.interval, days.join(","))
                    },
                );
                actual == rule
            } else {
                return Err(format!("unknown fact {fact:?}"));
            }
        }
    };
    if holds { Ok(()) } else { Err(format!("{fact}: {task:?}")) }
}

async fn phrase_table_over_http(app: TestApp) {
    let mut score: Vec<(&str, usize, usize)> = Vec::new();
    let mut failures = Vec::new();
    let mut safety = Vec::new();
    let rows = rows();
    assert!(rows.len() >= 500, "the table has {} rows", rows.len());
    for row in &rows {
        let user = app
            .storage
            .accounts
            .create_user(
                &format!("p{}-{}@example.com", row.line, uuid::Uuid::new_v4().simple()),
                &format!("p{}@example.com", row.line),
                "x",
                Timestamp::now(),
            )
            .await
            .unwrap();
        let token = todokit::auth::session::start_session(
            &*app.state.repos.sessions,
            &app.state.tokens,
            user.id,
            Timestamp::now(),
            None,
            std::net::Ipv4Addr::LOCALHOST.into(),
        )
        .await
        .unwrap()
        .1
        .token;
        let user = UserId(user.id);
        let now = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
        seed(&app, user, &now).await;
        let seeded = summary(&tasks_of(&app, user).await);
        let mut thread: Option<String> = None;
        let mut reply = String::new();
        for message in &row.messages {
            let body = match &thread {
                None => json!({"type": "threads.create", "params": {"input": user_input(message)}}),
                Some(id) => {
                    json!({"type": "threads.add_user_message", "params": {"thread_id": id, "input": user_input(message)}})
                }
            };
            let (status, events, body) = chatkit(&app, &token, body).await;
            assert_eq!(status, 200, "{body}");
            if thread.is_none() {
                thread = events[0]["thread"]["id"].as_str().map(str::to_owned);
            }
            reply = reply_text(&events);
        }
        let tasks = tasks_of(&app, user).await;
        let errors: Vec<String> =
            row.facts.iter().filter_map(|fact| check(fact, &tasks, &seeded, &reply, &now).err()).collect();
        let passed = errors.is_empty();
        match score.iter_mut().find(|(category, ..)| *category == row.category) {
            Some(entry) => {
                entry.1 += usize::from(passed);
                entry.2 += 1;
            }
            None => score.push((row.category, usize::from(passed), 1)),
        }
        if !passed {
            let line =
                format!("phrases.txt:{} {:?}: {errors:?}\n    reply: {reply:?}", row.line, row.messages);
            if row.facts.contains(&"unchanged") && summary(&tasks) != seeded {
                safety.push(line.clone());
            }
            failures.push(line);
        }
    }
    let (passed, total) = score.iter().fold((0, 0), |(p, t), (_, passed, total)| (p + passed, t + total));
    eprintln!("phrase table ({:?}): {passed}/{total} rows", app.db);
    for (category, passed, total) in &score {
        eprintln!("  {category}: {passed}/{total} ({}%)", passed * 100 / total);
    }
    for failure in &failures {
        eprintln!("  FAILED {failure}");
    }
    // Nothing a row expects to leave alone may change, whatever else fails.
    assert!(safety.is_empty(), "rows changed tasks they must not touch:\n{}", safety.join("\n"));
    assert!(passed * 100 >= total * 90, "only {passed}/{total} rows understood (goal: 90 %)");
}

on_both_backends!(phrase_table_over_http);
