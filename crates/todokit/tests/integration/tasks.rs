use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    create_applies_defaults_and_normalizes,
    numbers_increase_and_are_never_reused,
    every_validation_rule_has_a_clear_error,
    tasks_are_found_by_id_number_or_hash_number,
    patch_changes_and_clears_fields,
    a_due_time_is_required_by_the_write_that_sets_a_reminder_or_rule,
    the_task_service_reads_the_time_from_its_clock,
    completing_a_recurring_task_creates_the_next_once,
    monthly_recurrence_is_calendar_correct_and_stops_at_count,
    weekly_on_weekdays_repeats_on_the_listed_days_across_dst,
    list_filters_by_status_priority_tags_and_search,
    due_windows_follow_the_callers_time_zone,
    sorting_and_pagination,
    tag_counts,
    bulk_complete_and_confirmed_bulk_delete,
    undo_of_a_delete_restores_the_same_task,
    restore_is_per_user_once_and_within_the_window,
);

fn titles(list: &Value) -> Vec<String> {
    list["tasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect()
}

async fn create_applies_defaults_and_normalizes(app: TestApp) {
    let token = app.new_user().await;
    let task = app
        .create_task(&token, json!({"title": "  Buy milk  ", "tags": [" Home ", "home", "Errands", ""]}))
        .await;
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["tags"], json!(["home", "errands"]));
    assert_eq!(task["completed"], false);
    assert_eq!(task["number"], 1);
    assert!(task["description"].is_null() && task["due_at"].is_null());
    assert_eq!(uuid::Uuid::parse_str(task["id"].as_str().unwrap()).unwrap().get_version_num(), 7);

    let full = app
        .create_task(
            &token,
            json!({"title": "Call mom", "description": "about Sunday", "priority": "high",
                   "due_at": "2030-03-01T17:00:00+01:00", "reminder_offset_minutes": 15,
                   "recurrence": {"frequency": "weekly", "interval": 2}}),
        )
        .await;
    assert_eq!(full["priority"], "high");
    assert_eq!(full["due_at"], "2030-03-01T16:00:00Z", "stored in UTC");
    assert_eq!(full["reminder_offset_minutes"], 15);
    assert_eq!(full["recurrence"]["frequency"], "weekly");
    assert_eq!(full["number"], 2);
}

async fn numbers_increase_and_are_never_reused(app: TestApp) {
    let token = app.new_user().await;
    for expected in 1..=3 {
        assert_eq!(
            app.create_task(&token, json!({"title": format!("t{expected}")})).await["number"],
            expected
        );
    }
    app.delete("/api/tasks/3", &token).await.expect(200);
    assert_eq!(app.create_task(&token, json!({"title": "t4"})).await["number"], 4);
    // Numbers are per user.
    let other = app.new_user().await;
    assert_eq!(app.create_task(&other, json!({"title": "first"})).await["number"], 1);

    // Created at once, tasks still take distinct, consecutive numbers, each with its tags.
    let created = futures::future::join_all((0..16).map(|i| {
        app.create_task(&other, json!({"title": format!("burst {i}"), "tags": ["burst", format!("n{i}")]}))
    }))
    .await;
    let mut numbers: Vec<i64> = created.iter().map(|task| task["number"].as_i64().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (2..=17).collect::<Vec<i64>>());
    let tagged = app.get("/api/tasks?tags=burst&limit=100", &other).await.expect(200);
    assert_eq!(tagged["tasks"].as_array().unwrap().len(), 16, "{tagged}");
    let one = app.get("/api/tasks?tags=n7", &other).await.expect(200);
    assert_eq!(one["tasks"][0]["title"], "burst 7", "{one}");
}

async fn every_validation_rule_has_a_clear_error(app: TestApp) {
    let token = app.new_user().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(256)}), "title"),
        (json!({"title": "ok", "description": "d".repeat(4001)}), "description"),
        (json!({"title": "ok", "priority": "extreme"}), "priority"),
        // The REST API takes the documented names only; synonyms are the assistant's.
        (json!({"title": "ok", "priority": "urgent"}), "priority"),
        (json!({"title": "ok", "priority": "HIGH"}), "priority"),
        (json!({"title": "ok", "tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}), "tags"),
        (json!({"title": "ok", "tags": ["x".repeat(51)]}), "tags"),
        (json!({"title": "ok", "due_at": "next tuesday-ish"}), "due_at"),
        (json!({"title": "ok", "due_at": "1900-01-01T00:00:00Z"}), "due_at"),
        (json!({"title": "ok", "reminder_offset_minutes": 15}), "reminder_offset_minutes"),
        (
            json!({"title": "ok", "due_at": "2030-01-01T00:00:00Z", "reminder_offset_minutes": -5}),
            "reminder_offset_minutes",
        ),
        (json!({"title": "ok", "recurrence": {"frequency": "daily"}}), "recurrence"),
        (
            json!({"title": "ok", "due_at": "2030-01-01T00:00:00Z", "recurrence": {"frequency": "daily", "interval": 0}}),
            "recurrence",
        ),
        (
            json!({"title": "ok", "due_at": "2030-01-01T00:00:00Z", "recurrence": {"frequency": "monthly", "weekdays": ["mon"]}}),
            "recurrence",
        ),
        (json!({"title": "nul\u{0}byte"}), "title"),
    ];
    for (body, field) in cases {
        let error = app.post("/api/tasks", &token, body.clone()).await.expect_error(422, "validation_failed");
        assert_eq!(error["field"], field, "for {body}: {error}");
    }
    // Boundaries that are allowed.
    app.create_task(&token, json!({"title": "é".repeat(255), "description": "d".repeat(4000)})).await;
    app.create_task(
        &token,
        json!({"title": "ok", "tags": (0..20).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
    )
    .await;

    // Shape errors: unknown fields, wrong types, malformed JSON, wrong media type, bad zone.
    app.post("/api/tasks", &token, json!({"title": "ok", "colour": "red"}))
        .await
        .expect_error(422, "validation_failed");
    app.post("/api/tasks", &token, json!({"title": 5})).await.expect_error(422, "validation_failed");
    let funday = json!({"title": "ok", "due_at": "2030-01-01T00:00:00Z",
                        "recurrence": {"frequency": "weekly", "weekdays": ["funday"]}});
    let error = app.post("/api/tasks", &token, funday).await.expect_error(422, "validation_failed");
    assert!(error["message"].as_str().unwrap().contains("unknown weekday \"funday\""), "{error}");
    let malformed = app
        .client
        .post(format!("{}/api/tasks", app.url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    TestApp::read(malformed).await.expect_error(400, "invalid_json");
    let wrong_type = app
        .client
        .post(format!("{}/api/tasks", app.url))
        .bearer_auth(&token)
        .body("title=x")
        .send()
        .await
        .unwrap();
    TestApp::read(wrong_type).await.expect_error(415, "unsupported_media_type");
    let huge = json!({"title": "ok", "description": "x".repeat(2 * 1024 * 1024)});
    app.post("/api/tasks", &token, huge).await.expect_error(413, "payload_too_large");
    app.get("/api/tasks?timezone=Mars/Olympus", &token).await.expect_error(422, "validation_failed");
    app.get("/api/tasks?limit=101", &token).await.expect_error(422, "validation_failed");
    app.get("/api/tasks?status=sleeping", &token).await.expect_error(400, "invalid_query");

    // Nothing half-written: only the two valid tasks exist.
    assert_eq!(app.get("/api/tasks", &token).await.expect(200)["total"], 2);
}

async fn tasks_are_found_by_id_number_or_hash_number(app: TestApp) {
    let token = app.new_user().await;
    let task = app.create_task(&token, json!({"title": "Find me"})).await;
    let id = task["id"].as_str().unwrap();
    for path in [format!("/api/tasks/{id}"), "/api/tasks/1".into(), "/api/tasks/%231".into()] {
        assert_eq!(app.get(&path, &token).await.expect(200)["id"], task["id"], "{path}");
    }
    for missing in [
        "/api/tasks/2",
        "/api/tasks/0",
        "/api/tasks/not-a-key",
        &format!("/api/tasks/{}", uuid::Uuid::now_v7()),
    ] {
        let error = app.get(missing, &token).await.expect_error(404, "not_found");
        assert_eq!(error["message"], "Task not found");
    }
}

async fn patch_changes_and_clears_fields(app: TestApp) {
    let token = app.new_user().await;
    let task = app
        .create_task(&token, json!({"title": "Draft", "description": "notes", "due_at": "2030-01-01T09:00:00Z", "reminder_offset_minutes": 30}))
        .await;
    let updated = app
        .patch(
            "/api/tasks/1",
            &token,
            json!({"title": "Final", "priority": "low", "tags": ["Work"], "description": null}),
        )
        .await
        .expect(200);
    assert_eq!(updated["title"], "Final");
    assert_eq!(updated["priority"], "low");
    assert_eq!(updated["tags"], json!(["work"]));
    assert!(updated["description"].is_null());
    assert_eq!(updated["due_at"], task["due_at"], "untouched fields stay");
    assert!(updated["updated_at"].as_str() > task["updated_at"].as_str());
    // Clearing the due date while a reminder is set is allowed; setting a reminder without one is not.
    let cleared = app
        .patch("/api/tasks/1", &token, json!({"due_at": null, "reminder_offset_minutes": null}))
        .await
        .expect(200);
    assert!(cleared["due_at"].is_null());
    // Against the task's state (it has no due date now): a conflict. In the change itself: invalid.
    app.patch("/api/tasks/1", &token, json!({"reminder_offset_minutes": 10}))
        .await
        .expect_error(409, "conflict");
    app.patch("/api/tasks/1", &token, json!({"reminder_offset_minutes": 10, "due_at": null}))
        .await
        .expect_error(422, "validation_failed");
    // A change of nothing (`{}`, or `null` for a field that cannot be cleared) is no change.
    let unchanged = app.get("/api/tasks/1", &token).await.expect(200);
    assert_eq!(app.patch("/api/tasks/1", &token, json!({})).await.expect(200), unchanged);
    assert_eq!(
        app.patch("/api/tasks/1", &token, json!({"priority": null, "title": null})).await.expect(200),
        unchanged
    );
    app.patch("/api/tasks/1", &token, json!({"title": ""})).await.expect_error(422, "validation_failed");
    assert_eq!(app.get("/api/tasks/1", &token).await.expect(200)["title"], "Final");
}

/// The rule that a reminder or rule needs a due time holds against concurrent updates: it is
/// checked on the row the update's own write transaction reads, not on an earlier read.
async fn a_due_time_is_required_by_the_write_that_sets_a_reminder_or_rule(app: TestApp) {
    use todokit::persistence::StorageError;
    use todokit::tasks::model::{NewTask, TaskKey, TaskPatch, UserId};
    use todokit_domain::{Recurrence, ReminderOffset, Tags, Title};

    // Storage itself refuses the patch on a task without a due time.
    let now = app.state.clock.now();
    let email = format!("rule-{}@example.com", uuid::Uuid::new_v4().simple());
    let user = UserId(app.storage.accounts.create_user(&email, &email, "not a hash", now).await.unwrap().id);
    let undated = NewTask {
        title: Title::parse("Undated").unwrap(),
        description: None,
        priority: Default::default(),
        tags: Tags::parse(Vec::<String>::new()).unwrap(),
        due_at: None,
        time_zone: "UTC".into(),
        reminder: None,
        recurrence: None,
        completed: false,
    };
    let task = app.storage.tasks.create_task(user, &undated, now).await.unwrap();
    let rule = Recurrence::new(todokit_domain::Frequency::Daily, 1).unwrap();
    for (patch, field) in [
        (
            TaskPatch { reminder: Some(Some(ReminderOffset::new(30).unwrap())), ..Default::default() },
            "reminder_offset_minutes",
        ),
        (TaskPatch { recurrence: Some(Some(rule)), ..Default::default() }, "recurrence"),
    ] {
        match app.storage.tasks.update_task(user, TaskKey::Id(task.id), &patch, now).await {
            Err(StorageError::Invalid(err)) => assert_eq!(err.field(), field),
            other => panic!("{field}: expected the rule to refuse the patch, got {other:?}"),
        }
    }
    let unchanged = app.storage.tasks.get_task(user, TaskKey::Id(task.id)).await.unwrap().unwrap();
    assert_eq!(unchanged, task);

    // Over REST, a reminder set while another request clears the due time: either the reminder
    // came first (and the clearing response shows it), or it is refused. Never both accepted
    // with the reminder landing on an undated task unseen.
    let token = app.new_user().await;
    for round in 1..=12 {
        let created = app
            .create_task(&token, json!({"title": format!("race {round}"), "due_at": "2030-01-01T09:00:00Z"}))
            .await;
        let path = format!("/api/tasks/{}", created["id"].as_str().unwrap());
        let (cleared, reminded) = tokio::join!(
            app.patch(&path, &token, json!({"due_at": null})),
            app.patch(&path, &token, json!({"reminder_offset_minutes": 30})),
        );
        let cleared = cleared.expect(200);
        assert!(cleared["due_at"].is_null());
        let stored = app.get(&path, &token).await.expect(200);
        if reminded.status == 200 {
            assert_eq!(reminded.body["due_at"], "2030-01-01T09:00:00Z", "round {round}: {}", reminded.body);
            assert_eq!(cleared["reminder_offset_minutes"], 30, "round {round}: the reminder was set first");
            assert_eq!(stored["reminder_offset_minutes"], 30, "round {round}");
        } else {
            // The task has no due time by then: a conflict with its state (see `update_task`).
            assert_eq!(reminded.status, 409, "round {round}: {}", reminded.body);
            assert_eq!(reminded.body["error"]["code"], "conflict", "round {round}");
            let message = reminded.body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("reminder_offset_minutes requires a due date"),
                "round {round}: {message}"
            );
            assert!(stored["reminder_offset_minutes"].is_null(), "round {round}: {stored}");
        }
    }
}

/// Every time the task service stamps or compares comes from its clock.
async fn the_task_service_reads_the_time_from_its_clock(app: TestApp) {
    use todokit::tasks::model::{TaskKey, UserId};
    use todokit::tasks::{DueWindow, ListCriteria, TaskInput, TaskPatchInput, TaskService, UserZone};

    let start: jiff::Timestamp = "2031-05-01T10:00:00Z".parse().unwrap();
    let clock = todokit::Clock::manual(start);
    let tasks = TaskService::new(app.storage.tasks.clone()).with_clock(clock.clone());
    let email = format!("clock-{}@example.com", uuid::Uuid::new_v4().simple());
    let user = UserId(app.storage.accounts.create_user(&email, &email, "x", start).await.unwrap().id);
    let zone = UserZone::parse("UTC").unwrap();

    let input = TaskInput {
        title: "Stand-up".into(),
        due_at: Some("2031-05-01T15:00:00Z".into()),
        recurrence: Some(todokit_domain::Recurrence::new(todokit_domain::Frequency::Daily, 1).unwrap()),
        ..Default::default()
    };
    let created = tasks.create(user, input, &zone).await.unwrap();
    assert_eq!((created.created_at, created.updated_at), (start, start));

    clock.advance(jiff::SignedDuration::from_hours(1));
    let patch = TaskPatchInput { title: Some("Daily stand-up".into()), ..Default::default() };
    let updated = tasks.update(user, TaskKey::Id(created.id), patch, &zone).await.unwrap();
    assert_eq!(updated.updated_at, start + jiff::SignedDuration::from_hours(1));

    // "Today" is the clock's day: the task is due today until the clock moves past it.
    let today = ListCriteria { due: Some(DueWindow::Today), ..Default::default() };
    assert_eq!(tasks.list(user, &today, &zone).await.unwrap().total, 1);
    clock.set("2031-05-02T08:00:00Z".parse().unwrap());
    assert_eq!(tasks.list(user, &today, &zone).await.unwrap().total, 0);

    let done = tasks.set_completed(user, TaskKey::Id(created.id), true).await.unwrap();
    let next = done.next_instance.expect("a daily task repeats");
    assert_eq!(done.task.completed_at, Some(clock.now()));
    assert_eq!(next.created_at, clock.now());
    assert_eq!(next.due_at, Some("2031-05-02T15:00:00Z".parse().unwrap()));
}

async fn completing_a_recurring_task_creates_the_next_once(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(
        &token,
        json!({"title": "Water plants", "due_at": "2030-01-06T08:00:00Z", "recurrence": {"frequency": "daily", "interval": 2}, "tags": ["home"]}),
    )
    .await;
    let done = app.post("/api/tasks/1/complete", &token, json!({})).await.expect(200);
    assert_eq!(done["task"]["completed"], true);
    assert!(done["task"]["completed_at"].is_string());
    let next = &done["next_instance"];
    assert_eq!(next["due_at"], "2030-01-08T08:00:00Z");
    assert_eq!(next["title"], "Water plants");
    assert_eq!(next["tags"], json!(["home"]));
    assert_eq!(next["parent_task_id"], done["task"]["id"]);
    assert_eq!(next["number"], 2);

    let reopened = app.send(Method::POST, "/api/tasks/1/reopen", Some(&token), None).await.expect(200);
    assert_eq!(reopened["task"]["completed"], false);
    assert!(reopened["task"]["completed_at"].is_null());
    let again = app.send(Method::POST, "/api/tasks/1/complete", Some(&token), None).await.expect(200);
    assert!(again["next_instance"].is_null(), "no duplicate occurrence: {again}");
    assert_eq!(app.get("/api/tasks", &token).await.expect(200)["total"], 2);
    // Completing an already-completed task changes nothing.
    let noop = app.post("/api/tasks/1/complete", &token, json!({"completed": true})).await.expect(200);
    assert_eq!(noop["task"]["completed_at"], again["task"]["completed_at"]);
}

async fn monthly_recurrence_is_calendar_correct_and_stops_at_count(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(
        &token,
        json!({"title": "Pay rent", "due_at": "2031-01-31T09:00:00", "recurrence": {"frequency": "monthly", "count": 3}}),
    )
    .await;
    // Due times were given in the caller's zone (Berlin): 09:00 local, DST-safe.
    let mut number = 1;
    let mut dues = Vec::new();
    loop {
        let done = app
            .post(&format!("/api/tasks/{number}/complete?timezone=Europe/Berlin"), &token, json!({}))
            .await
            .expect(200);
        if done["next_instance"].is_null() {
            break;
        }
        dues.push(done["next_instance"]["due_at"].as_str().unwrap().to_owned());
        number = done["next_instance"]["number"].as_i64().unwrap();
    }
    assert_eq!(dues, ["2031-02-28T09:00:00Z", "2031-03-31T09:00:00Z"], "count 3 = the first plus two more");
}

async fn weekly_on_weekdays_repeats_on_the_listed_days_across_dst(app: TestApp) {
    let token = app.new_user().await;
    let zone = "timezone=America/New_York";
    // Thursday 29 October 2026, 09:00 in New York; clocks go back on Sunday 1 November.
    let created = app
        .post(
            &format!("/api/tasks?{zone}"),
            &token,
            json!({"title": "Stand-up", "due_at": "2026-10-29T09:00:00",
                   "recurrence": {"frequency": "weekly", "weekdays": ["Sunday", "thu", "sun"], "count": 4}}),
        )
        .await
        .expect(201);
    assert_eq!(
        created["recurrence"],
        json!({"frequency": "weekly", "interval": 1, "weekdays": ["thu", "sun"], "count": 4}),
        "sorted Monday first, distinct, short names"
    );
    let stored = app.get("/api/tasks/1", &token).await.expect(200);
    assert_eq!(stored["recurrence"], created["recurrence"], "read back from storage as written");

    let mut number = 1;
    let mut dues = Vec::new();
    loop {
        let done =
            app.post(&format!("/api/tasks/{number}/complete?{zone}"), &token, json!({})).await.expect(200);
        let next = &done["next_instance"];
        if next.is_null() {
            break;
        }
        assert_eq!(next["recurrence"], created["recurrence"]);
        dues.push(next["due_at"].as_str().unwrap().to_owned());
        number = next["number"].as_i64().unwrap();
    }
    // 09:00 local each time: 13:00Z before the change, 14:00Z after it. Count 4 includes the first.
    assert_eq!(dues, ["2026-11-01T14:00:00Z", "2026-11-05T14:00:00Z", "2026-11-08T14:00:00Z"]);

    // A PATCH switches an existing task to weekdays; the next occurrence follows them.
    app.create_task(
        &token,
        json!({"title": "Gym", "due_at": "2027-01-04T18:00:00Z",
                                    "recurrence": {"frequency": "daily"}}),
    )
    .await;
    let gym = app
        .send(
            Method::PATCH,
            "/api/tasks/5",
            Some(&token),
            Some(json!({"recurrence": {"frequency": "weekly", "interval": 2, "weekdays": ["mon", "fri"]}})),
        )
        .await
        .expect(200);
    assert_eq!(gym["recurrence"]["weekdays"], json!(["mon", "fri"]));
    let done = app.post("/api/tasks/5/complete", &token, json!({})).await.expect(200);
    assert_eq!(done["next_instance"]["due_at"], "2027-01-08T18:00:00Z", "Friday of the same week");
    let done = app.post("/api/tasks/6/complete", &token, json!({})).await.expect(200);
    assert_eq!(done["next_instance"]["due_at"], "2027-01-18T18:00:00Z", "Monday two weeks on");

    // Weekdays only make sense weekly; the task is left as it was.
    let error = app
        .send(
            Method::PATCH,
            "/api/tasks/7",
            Some(&token),
            Some(json!({"recurrence": {"frequency": "daily", "weekdays": ["mon"]}})),
        )
        .await
        .expect_error(422, "validation_failed");
    assert!(error["message"].as_str().unwrap().contains("weekly"), "{error}");
    assert_eq!(
        app.get("/api/tasks/7", &token).await.expect(200)["recurrence"]["weekdays"],
        json!(["mon", "fri"])
    );
    // Another user sees none of it.
    let other = app.new_user().await;
    app.get("/api/tasks/1", &other).await.expect_error(404, "not_found");
}

async fn list_filters_by_status_priority_tags_and_search(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "Buy Äpfel", "tags": ["shopping", "home"], "priority": "high"}))
        .await;
    app.create_task(&token, json!({"title": "Report", "description": "quarterly NUMBERS", "tags": ["work"]}))
        .await;
    app.create_task(&token, json!({"title": "Milk", "tags": ["shopping"], "priority": "low"})).await;
    app.create_task(&token, json!({"title": "50% off sale", "tags": ["shopping"]})).await;
    app.post("/api/tasks/3/complete", &token, json!({})).await.expect(200);

    let list = |query: &'static str| {
        let app = &app;
        let token = &token;
        async move { app.get(&format!("/api/tasks?{query}"), token).await.expect(200) }
    };
    assert_eq!(list("").await["total"], 4);
    assert_eq!(titles(&list("status=pending").await).len(), 3);
    assert_eq!(titles(&list("status=completed").await), ["Milk"]);
    assert_eq!(titles(&list("priority=high").await), ["Buy Äpfel"]);
    assert_eq!(titles(&list("tags=shopping&tags=home").await), ["Buy Äpfel"]);
    assert_eq!(titles(&list("tags=shopping,home").await), ["Buy Äpfel"]);
    assert_eq!(list("tags=shopping").await["total"], 3);
    assert_eq!(titles(&list("q=%C3%A4pfel").await), ["Buy Äpfel"], "case-insensitive beyond ASCII");
    assert_eq!(titles(&list("q=numbers").await), ["Report"], "description is searched");
    assert_eq!(titles(&list("q=50%25").await), ["50% off sale"], "% is literal");
    assert_eq!(titles(&list("q=_").await).len(), 0, "_ is literal");
    let counted = list("status=pending").await;
    assert_eq!(counted["counts"], json!({"total": 4, "pending": 3, "completed": 1}));
}

/// A zone away from UTC where it is now between 06:00 and 18:00, so the day the test reckons
/// is still the server's day when it answers, whatever the hour the test runs at.
fn a_zone_in_the_middle_of_its_day() -> (&'static str, jiff::Zoned) {
    let zones = [
        "Pacific/Auckland",
        "Asia/Tokyo",
        "Asia/Kolkata",
        "Europe/Berlin",
        "America/New_York",
        "America/Los_Angeles",
        "Pacific/Honolulu",
    ];
    let now = jiff::Timestamp::now();
    zones
        .into_iter()
        .map(|name| (name, now.in_tz(name).unwrap()))
        .find(|(_, local)| (6..18).contains(&local.hour()))
        .expect("one of the zones is in the middle of its day at any hour")
}

async fn due_windows_follow_the_callers_time_zone(app: TestApp) {
    let token = app.new_user().await;
    let (zone, now) = a_zone_in_the_middle_of_its_day();
    let today_noon = now.start_of_day().unwrap().checked_add(jiff::Span::new().hours(12)).unwrap();
    let in_three_days = today_noon.checked_add(jiff::Span::new().days(3)).unwrap();
    let in_ten_days = today_noon.checked_add(jiff::Span::new().days(10)).unwrap();
    let yesterday = today_noon.checked_add(jiff::Span::new().days(-1)).unwrap();
    // Due later today whatever the time of day there: not overdue yet.
    let later_today = now.end_of_day().unwrap();
    for (title, due) in
        [("today", &later_today), ("soon", &in_three_days), ("later", &in_ten_days), ("late", &yesterday)]
    {
        app.create_task(&token, json!({"title": title, "due_at": due.timestamp().to_string()})).await;
    }
    app.create_task(&token, json!({"title": "someday"})).await;
    let query = |q: &str| format!("/api/tasks?timezone={zone}&sort=due&{q}");
    assert_eq!(titles(&app.get(&query("due=today"), &token).await.expect(200)), ["today"]);
    assert_eq!(titles(&app.get(&query("due=week"), &token).await.expect(200)), ["today", "soon"]);
    assert_eq!(titles(&app.get(&query("due=overdue"), &token).await.expect(200)), ["late"]);
    assert_eq!(titles(&app.get(&query("status=overdue"), &token).await.expect(200)), ["late"]);
    let before = in_three_days.timestamp().to_string();
    let path = format!("/api/tasks?sort=due&due_before={}", before.replace('+', "%2B"));
    assert_eq!(titles(&app.get(&path, &token).await.expect(200)), ["late", "today"]);
    // The header works like the parameter.
    let by_header = app
        .client
        .get(format!("{}/api/tasks?due=today", app.url))
        .bearer_auth(&token)
        .header("x-timezone", zone)
        .send()
        .await
        .unwrap();
    assert_eq!(titles(&TestApp::read(by_header).await.expect(200)), ["today"]);
}

async fn sorting_and_pagination(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "banana", "priority": "low", "due_at": "2030-01-03T00:00:00Z"}))
        .await;
    app.create_task(&token, json!({"title": "Apple", "priority": "high"})).await;
    app.create_task(
        &token,
        json!({"title": "cherry", "priority": "medium", "due_at": "2030-01-01T00:00:00Z"}),
    )
    .await;
    let sorted = |q: &str| format!("/api/tasks?{q}");
    assert_eq!(
        titles(&app.get(&sorted("sort=due"), &token).await.expect(200)),
        ["cherry", "banana", "Apple"],
        "nulls last"
    );
    assert_eq!(
        titles(&app.get(&sorted("sort=due&order=desc"), &token).await.expect(200)),
        ["banana", "cherry", "Apple"]
    );
    assert_eq!(
        titles(&app.get(&sorted("sort=priority"), &token).await.expect(200)),
        ["Apple", "cherry", "banana"]
    );
    assert_eq!(
        titles(&app.get(&sorted("sort=title"), &token).await.expect(200)),
        ["Apple", "banana", "cherry"]
    );
    assert_eq!(
        titles(&app.get(&sorted("sort=created"), &token).await.expect(200)),
        ["cherry", "Apple", "banana"]
    );
    assert_eq!(
        titles(&app.get(&sorted("sort=created&order=asc"), &token).await.expect(200)),
        ["banana", "Apple", "cherry"]
    );
    let mut seen = Vec::new();
    for offset in 0..3 {
        let page = app.get(&sorted(&format!("sort=title&limit=1&offset={offset}")), &token).await.expect(200);
        assert_eq!(page["total"], 3);
        assert_eq!(page["limit"], 1);
        seen.extend(titles(&page));
    }
    assert_eq!(seen, ["Apple", "banana", "cherry"]);
}

async fn tag_counts(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "a", "tags": ["work", "urgent"]})).await;
    app.create_task(&token, json!({"title": "b", "tags": ["work"]})).await;
    app.create_task(&token, json!({"title": "c", "tags": ["home"]})).await;
    app.patch("/api/tasks/3", &token, json!({"tags": ["work"]})).await.expect(200);
    let tags = app.get("/api/tasks/tags", &token).await.expect(200);
    assert_eq!(tags, json!({"tags": [{"name": "work", "count": 3}, {"name": "urgent", "count": 1}]}));
}

async fn bulk_complete_and_confirmed_bulk_delete(app: TestApp) {
    let token = app.new_user().await;
    for (title, tag) in [("a", "x"), ("b", "x"), ("c", "y")] {
        app.create_task(&token, json!({"title": title, "tags": [tag]})).await;
    }
    app.post("/api/tasks/1/complete", &token, json!({})).await.expect(200);
    let outcome = app.post("/api/tasks/bulk/complete", &token, json!({"tags": ["x"]})).await.expect(200);
    assert_eq!(outcome, json!({"updated_count": 1, "skipped_count": 1, "total_count": 2}));
    app.post("/api/tasks/bulk/delete", &token, json!({"status": "completed"}))
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(
        app.get("/api/tasks", &token).await.expect(200)["total"],
        3,
        "nothing deleted without confirm"
    );
    let deleted = app
        .post("/api/tasks/bulk/delete", &token, json!({"status": "completed", "confirm": true}))
        .await
        .expect(200);
    assert_eq!(deleted["deleted_count"], 2);
    assert_eq!(titles(&app.get("/api/tasks", &token).await.expect(200)), ["c"]);
}

async fn undo_of_a_delete_restores_the_same_task(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "first"})).await;
    let parent = app
        .create_task(
            &token,
            json!({"title": "Water the plants", "description": "balcony", "priority": "high",
                   "tags": ["home", "garden"], "due_at": "2031-05-04T18:30:00Z",
                   "reminder_offset_minutes": 30,
                   "recurrence": {"frequency": "weekly", "interval": 2, "count": 5}}),
        )
        .await;
    // Completing makes the next occurrence, linked to this one.
    let done =
        app.post(&format!("/api/tasks/{}/complete", parent["id"].as_str().unwrap()), &token, json!({})).await;
    let next = done.expect(200)["next_instance"].clone();
    assert_eq!(next["number"], 3);

    let id = next["id"].as_str().unwrap();
    let deleted = app.delete(&format!("/api/tasks/{id}"), &token).await.expect(200);
    assert_eq!(deleted["task"]["id"], next["id"]);
    app.get(&format!("/api/tasks/{id}"), &token).await.expect_error(404, "not_found");
    assert_eq!(app.get("/api/tasks/tags", &token).await.expect(200)["tags"][0]["count"], 1);

    let restored = app.post(&format!("/api/tasks/{id}/restore"), &token, json!({})).await.expect(200);
    assert_eq!(restored, next, "every field comes back as it was");
    assert_eq!(app.get("/api/tasks/3", &token).await.expect(200), next, "found by its number again");
    let tags = app.get("/api/tasks/tags", &token).await.expect(200);
    assert_eq!(tags["tags"], json!([{"name": "garden", "count": 2}, {"name": "home", "count": 2}]));
    // The number is still not given to anybody else.
    assert_eq!(app.create_task(&token, json!({"title": "later"})).await["number"], 4);

    // A parent deleted meanwhile: the restored task simply loses the link.
    let parent_id = parent["id"].as_str().unwrap();
    app.delete(&format!("/api/tasks/{id}"), &token).await.expect(200);
    app.delete(&format!("/api/tasks/{parent_id}"), &token).await.expect(200);
    let orphan = app.post(&format!("/api/tasks/{id}/restore"), &token, json!({})).await.expect(200);
    assert_eq!(orphan["number"], 3);
    assert!(orphan.get("parent_task_id").is_none_or(Value::is_null), "{orphan}");
    let back = app.post(&format!("/api/tasks/{parent_id}/restore"), &token, json!({})).await.expect(200);
    assert_eq!(back["number"], 2);
    assert_eq!(back["completed"], true);
}

async fn restore_is_per_user_once_and_within_the_window(app: TestApp) {
    let owner = app.new_user().await;
    let intruder = app.new_user().await;
    let task = app.create_task(&owner, json!({"title": "mine"})).await;
    let id = task["id"].as_str().unwrap();
    app.delete(&format!("/api/tasks/{id}"), &owner).await.expect(200);

    let path = format!("/api/tasks/{id}/restore");
    app.post(&path, &intruder, json!({})).await.expect_error(404, "not_found");
    app.post("/api/tasks/not-a-uuid/restore", &owner, json!({})).await.expect_error(404, "not_found");
    app.post("/api/tasks/1/restore", &owner, json!({})).await.expect_error(404, "not_found");
    app.post(&path, &owner, json!({})).await.expect(200);
    // Restoring twice, or a task that was never deleted, finds nothing to bring back.
    app.post(&path, &owner, json!({})).await.expect_error(404, "not_found");
    assert_eq!(app.get("/api/tasks", &owner).await.expect(200)["total"], 1);

    // Past the undo window the copy no longer counts (the storage is asked as if later).
    app.delete(&format!("/api/tasks/{id}"), &owner).await.expect(200);
    let session = app.get("/api/auth/session", &owner).await.expect(200);
    let user = todokit::tasks::model::UserId(session["user"]["id"].as_str().unwrap().parse().unwrap());
    let after_the_window = todokit::Clock::system().now() + jiff::SignedDuration::from_secs(1);
    let found = app.storage.tasks.restore_task(user, id.parse().unwrap(), after_the_window).await.unwrap();
    assert!(found.is_none(), "a copy deleted before the window is not restored");
    app.post(&path, &owner, json!({})).await.expect(200);
}
