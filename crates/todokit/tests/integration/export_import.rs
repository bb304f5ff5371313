//! Export and import (issue 24, points 4 and 5): the JSON document and its lossless round trip,
//! CSV and iCalendar exports, Todoist CSV import, all or nothing, limits, and another user's view.

use reqwest::header;
use serde_json::{Value, json};

use crate::chat::create_thread;
use crate::helpers::{Response, TestApp};
use crate::on_both_backends;

on_both_backends!(
    the_export_holds_every_task_and_thread_and_no_secret,
    csv_and_ics_exports_hold_every_task,
    a_json_round_trip_into_a_fresh_account_is_lossless,
    a_bad_third_task_imports_nothing,
    a_todoist_csv_export_imports_with_its_dates_priorities_notes_and_sections,
    a_bad_todoist_row_names_its_line_and_imports_nothing,
    imports_past_the_limits_are_refused_whole,
    one_users_export_and_import_never_touch_another_users_data,
);

const TODOIST_FIXTURE: &str = include_str!("fixtures/todoist-template.csv");

async fn import_raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Response {
    let response = app
        .client
        .post(format!("{}/api/account/import", app.url))
        .bearer_auth(token)
        .header(header::CONTENT_TYPE, content_type)
        .header("x-timezone", "Europe/Berlin")
        .body(body)
        .send()
        .await
        .unwrap();
    TestApp::read(response).await
}

async fn export(app: &TestApp, token: &str) -> Value {
    app.get("/api/account/export", token).await.expect(200)
}

async fn all_tasks(app: &TestApp, token: &str) -> Vec<Value> {
    export(app, token).await["tasks"].as_array().unwrap().clone()
}

/// A user with a varied set of tasks (a repeating one completed once, so it has a next
/// occurrence linked to it; a reminder; tags; a completed one) and a conversation.
async fn user_with_data(app: &TestApp) -> String {
    let token = app.new_user().await;
    app.create_task(
        &token,
        json!({"title": "Water the plants", "description": "Both balconies; the fern twice",
               "priority": "high", "tags": ["home", "garden"], "due_at": "2030-03-04T09:00:00+01:00",
               "reminder_offset_minutes": 30,
               "recurrence": {"frequency": "weekly", "interval": 1, "weekdays": ["monday", "thursday"]}}),
    )
    .await;
    app.post("/api/tasks/1/complete", &token, json!({})).await.expect(200);
    app.create_task(
        &token,
        json!({"title": "File taxes, \"quoted\"", "due_at": "2030-04-30T23:59:59Z", "tags": ["admin"]}),
    )
    .await;
    app.create_task(
        &token,
        json!({"title": "=HYPERLINK(\"http://evil\")", "priority": "low", "completed": true}),
    )
    .await;
    create_thread(app, &token, "add buy bread tomorrow").await;
    token
}

async fn the_export_holds_every_task_and_thread_and_no_secret(app: TestApp) {
    let token = user_with_data(&app).await;
    let response = app.get("/api/account/export", &token).await;
    assert_eq!(response.status, 200);
    let disposition = response.headers[header::CONTENT_DISPOSITION].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"todokit-export-"), "{disposition}");
    assert!(disposition.ends_with(".json\""), "{disposition}");
    assert!(response.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    let document = response.body;
    assert_eq!(document["format"], "todokit-export");
    assert_eq!(document["version"], 1);
    assert!(document["exported_at"].is_string());
    assert!(document["account"]["email"].as_str().unwrap().ends_with("@example.com"));
    let tasks = document["tasks"].as_array().unwrap();
    // The repeating task, its next occurrence, two more, and the one the chat added.
    assert_eq!(tasks.len(), 5, "{document:#}");
    let numbers: Vec<i64> = tasks.iter().map(|t| t["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    let first = &tasks[0];
    assert_eq!(first["completed"], true);
    assert_eq!(first["recurrence"]["frequency"], "weekly");
    assert_eq!(first["reminder_offset_minutes"], 30);
    assert_eq!(first["tags"], json!(["home", "garden"]));
    assert!(first["series_id"].is_string());
    let next = &tasks[1];
    assert_eq!(next["parent_task_id"], first["id"]);
    assert_eq!(next["occurrence_index"], 1);
    assert_eq!(next["series_id"], first["series_id"]);
    let threads = document["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 1);
    let items = threads[0]["items"].as_array().unwrap();
    assert!(items.len() >= 2, "the message and the reply: {items:?}");
    assert_eq!(items[0]["type"], "user_message");
    assert_eq!(items[0]["thread_id"], threads[0]["id"]);
    // No secret of any kind.
    let text = document.to_string();
    for secret in ["password", "argon2", "token", "secret_hash", &token] {
        assert!(!text.contains(secret), "the export holds {secret:?}");
    }
    app.get("/api/account/export?format=xml", &token).await.expect_error(422, "validation_failed");
    app.get("/api/account/export?format=", &token).await.expect_error(422, "validation_failed");
    app.send(reqwest::Method::GET, "/api/account/export", None, None).await.expect_error(401, "unauthorized");
}

async fn csv_and_ics_exports_hold_every_task(app: TestApp) {
    let token = user_with_data(&app).await;
    let csv = app.get("/api/account/export?format=csv", &token).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap().ends_with(".csv\""));
    let text = csv.body.as_str().unwrap().to_owned();
    let mut reader = csv_lines(&text);
    assert_eq!(reader.remove(0)[..3], ["number", "title", "description"]);
    assert_eq!(reader.len(), 5, "{text}");
    assert_eq!(reader[0][1], "Water the plants");
    assert_eq!(reader[0][8], "FREQ=WEEKLY;BYDAY=MO,TH");
    assert_eq!(reader[2][1], "File taxes, \"quoted\"");
    // A formula is written as text.
    assert_eq!(reader[3][1], "'=HYPERLINK(\"http://evil\")");

    let ics = app.get("/api/account/export?format=ics", &token).await;
    assert_eq!(ics.status, 200);
    assert_eq!(ics.headers[header::CONTENT_TYPE], "text/calendar; charset=utf-8");
    let text = ics.body.as_str().unwrap().to_owned();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert_eq!(text.matches("BEGIN:VTODO").count(), 5, "{text}");
    assert!(text.contains("RRULE:FREQ=WEEKLY;BYDAY=MO,TH"), "{text}");
    assert!(text.contains("TRIGGER;RELATED=END:-PT30M"), "{text}");
    assert!(text.contains("CATEGORIES:home,garden"), "{text}");
    assert!(text.contains("STATUS:COMPLETED"), "{text}");
    assert!(text.contains("PRIORITY:1"), "{text}");
}

/// Rows of a CSV text (quotes and doubled quotes undone; no line breaks inside cells here).
fn csv_lines(text: &str) -> Vec<Vec<String>> {
    text.split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut cells = vec![String::new()];
            let mut quoted = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        chars.next();
                        cells.last_mut().unwrap().push('"');
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => cells.push(String::new()),
                    (c, _) => cells.last_mut().unwrap().push(c),
                }
            }
            cells
        })
        .collect()
}

/// A document with what must change on import taken out: ids (and the ids that link tasks,
/// which are compared as positions instead), numbers and the export time.
fn comparable(document: &Value) -> Value {
    let tasks = document["tasks"].as_array().unwrap();
    let position = |id: &Value| tasks.iter().position(|t| &t["id"] == id);
    let series: Vec<Value> = tasks.iter().map(|t| t["series_id"].clone()).collect();
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|task| {
            let mut task = task.clone();
            let object = task.as_object_mut().unwrap();
            let parent = object.remove("parent_task_id").unwrap();
            object.insert("parent".into(), json!(position(&parent)));
            let series_id = object.remove("series_id").unwrap();
            object
                .insert("series".into(), json!(series.iter().position(|s| *s == series_id && !s.is_null())));
            object.remove("id");
            object.remove("number");
            task
        })
        .collect();
    let threads: Vec<Value> = document["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|thread| {
            let mut thread = thread.clone();
            let object = thread.as_object_mut().unwrap();
            object.remove("id");
            for item in object["items"].as_array_mut().unwrap() {
                item.as_object_mut().unwrap().remove("thread_id");
            }
            thread
        })
        .collect();
    json!({"tasks": tasks, "threads": threads})
}

async fn a_json_round_trip_into_a_fresh_account_is_lossless(app: TestApp) {
    let owner = user_with_data(&app).await;
    let first = export(&app, &owner).await;

    let fresh = app.new_user().await;
    let imported = import_raw(&app, &fresh, "application/json", first.to_string()).await.expect(200);
    assert_eq!(imported, json!({"imported": {"tasks": 5, "threads": 1}}));
    let second = export(&app, &fresh).await;
    assert_eq!(comparable(&second), comparable(&first));
    // New ids, and the links follow them.
    let (old, new) = (&first["tasks"], &second["tasks"]);
    assert_ne!(old[0]["id"], new[0]["id"]);
    assert_eq!(new[1]["parent_task_id"], new[0]["id"]);
    assert_ne!(first["threads"][0]["id"], second["threads"][0]["id"]);
    assert_eq!(second["threads"][0]["items"][0]["thread_id"], second["threads"][0]["id"]);
    // The imported thread reads through ChatKit like any other.
    let thread_id = second["threads"][0]["id"].as_str().unwrap();
    let (status, _, body) = crate::chat::chatkit(
        &app,
        &fresh,
        json!({"type": "threads.get_by_id", "params": {"thread_id": thread_id}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Imported again: new numbers after the existing ones, and completing the imported
    // repeating task's open occurrence continues its series.
    import_raw(&app, &fresh, "application/json", first.to_string()).await.expect(200);
    let numbers: Vec<i64> =
        all_tasks(&app, &fresh).await.iter().map(|t| t["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
    let completed = app.post("/api/tasks/7/complete", &fresh, json!({})).await.expect(200);
    assert_eq!(completed["next_instance"]["number"], 11, "{completed}");
}

async fn a_bad_third_task_imports_nothing(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "Already here"})).await;
    let before = all_tasks(&app, &token).await;
    let document = |third: Value| {
        json!({"format": "todokit-export", "version": 1, "tasks": [
            {"title": "One"}, {"title": "Two", "tags": ["x"]}, third,
        ], "threads": [{"created_at": "2026-01-01T00:00:00Z", "items": []}]})
    };
    let cases = [
        (json!({"title": "  "}), "tasks[2].title"),
        (json!({"title": "Three", "priority": "urgent-ish"}), "tasks[2].priority"),
        (json!({"title": "Three", "time_zone": "Mars/Olympus"}), "tasks[2].time_zone"),
        (json!({"title": "Three", "reminder_offset_minutes": 15}), "tasks[2].reminder_offset_minutes"),
        (json!({"title": "Three", "due_at": "yesterday"}), "tasks[2].due_at"),
        (json!({"title": 3}), "tasks[2].title"),
        (
            json!({"title": "Three", "due_at": "2030-01-01T00:00:00Z", "recurrence": {"frequency": "daily", "interval": 0}}),
            "tasks[2].recurrence",
        ),
    ];
    for (third, path) in cases {
        let error = import_raw(&app, &token, "application/json", document(third).to_string())
            .await
            .expect_error(400, "invalid_import");
        assert!(error["message"].as_str().unwrap().starts_with(path), "{path}: {error}");
    }
    let error = import_raw(
        &app,
        &token,
        "application/json",
        "{\"format\": \"todokit-export\", \"version\": 1, \"tasks\": [",
    )
    .await
    .expect_error(400, "invalid_import");
    assert!(error["message"].as_str().unwrap().contains("not valid JSON"), "{error}");
    import_raw(&app, &token, "application/json", json!({"format": "other", "version": 1}).to_string())
        .await
        .expect_error(400, "invalid_import");
    import_raw(
        &app,
        &token,
        "application/json",
        json!({"format": "todokit-export", "version": 2}).to_string(),
    )
    .await
    .expect_error(400, "invalid_import");
    // A bad item in a thread, after good tasks: nothing either.
    let bad_item = json!({"format": "todokit-export", "version": 1, "tasks": [{"title": "One"}],
        "threads": [{"created_at": "2026-01-01T00:00:00Z", "items": [{"id": "msg_1", "type": "no_such_type"}]}]});
    let error = import_raw(&app, &token, "application/json", bad_item.to_string())
        .await
        .expect_error(400, "invalid_import");
    assert!(error["message"].as_str().unwrap().starts_with("threads[0].items[0]"), "{error}");
    let bad_status = json!({"format": "todokit-export", "version": 1, "tasks": [{"title": "One"}],
        "threads": [{"created_at": "2026-01-01T00:00:00Z", "status": {"type": "active", "colour": "red"}}]});
    let error = import_raw(&app, &token, "application/json", bad_status.to_string())
        .await
        .expect_error(400, "invalid_import");
    assert!(error["message"].as_str().unwrap().starts_with("threads[0].status"), "{error}");
    let bad_reason = bad_status.to_string().replace(r#""colour":"red""#, r#""reason":5"#);
    assert!(bad_reason.contains(r#""reason":5"#));
    import_raw(&app, &token, "application/json", bad_reason).await.expect_error(400, "invalid_import");

    assert_eq!(all_tasks(&app, &token).await, before);
    assert_eq!(export(&app, &token).await["threads"], json!([]));
    // The same file with a good third task imports, numbered after the existing one.
    let good = document(json!({"title": "Three"}));
    import_raw(&app, &token, "application/json", good.to_string()).await.expect(200);
    let titles: Vec<Value> =
        all_tasks(&app, &token).await.iter().map(|t| json!([t["number"], t["title"]])).collect();
    assert_eq!(
        titles,
        [json!([1, "Already here"]), json!([2, "One"]), json!([3, "Two"]), json!([4, "Three"])]
    );

    // A hand-written file that names one occurrence of a series twice (no export does) still
    // imports: the second copy starts a series of its own.
    let series = "0190b8e2-c3a8-7c4e-9d1f-5a6b7c8d9e0f";
    let twice = json!({"title": "Twice", "due_at": "2030-01-01T09:00:00Z", "series_id": series,
        "recurrence": {"frequency": "daily"}, "id": "0190b8e2-c3a8-7c4e-9d1f-000000000001"});
    let document = json!({"format": "todokit-export", "version": 1, "tasks": [twice, twice]});
    import_raw(&app, &token, "application/json", document.to_string()).await.expect(200);
    let tasks = all_tasks(&app, &token).await;
    let (first, second) = (&tasks[4], &tasks[5]);
    assert_eq!((&first["title"], &second["title"]), (&json!("Twice"), &json!("Twice")));
    assert!(first["series_id"].is_string() && second["series_id"].is_string());
    assert_ne!(first["series_id"], second["series_id"]);
    assert_ne!(first["series_id"], series, "new series ids");
}

async fn a_todoist_csv_export_imports_with_its_dates_priorities_notes_and_sections(app: TestApp) {
    let token = app.new_user().await;
    let imported = import_raw(&app, &token, "text/csv", TODOIST_FIXTURE).await.expect(200);
    assert_eq!(imported, json!({"imported": {"tasks": 4, "threads": 0}}));
    let tasks = all_tasks(&app, &token).await;
    let milk = &tasks[0];
    assert_eq!(milk["title"], "Buy milk");
    assert_eq!(milk["priority"], "high", "Todoist's p1 is the highest");
    assert_eq!(milk["tags"], json!(["errands", "shopping"]), "the section and the label");
    assert_eq!(milk["description"], "Semi-skimmed\n\nComment: Check the fridge first");
    assert_eq!(milk["recurrence"]["frequency"], "weekly");
    assert_eq!(milk["recurrence"]["weekdays"], json!(["mon"]));
    assert_eq!(milk["time_zone"], "Europe/Berlin");
    let due: jiff::Timestamp = milk["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        due.to_zoned(jiff::tz::TimeZone::get("Europe/Berlin").unwrap()).weekday(),
        jiff::civil::Weekday::Monday
    );
    let passport = &tasks[1];
    assert_eq!(passport["title"], "Renew the passport");
    assert_eq!(passport["priority"], "low", "Todoist's p4 is the lowest");
    assert_eq!(passport["description"], "Bring two photos, the old passport");
    assert_eq!(passport["due_at"], Value::Null);
    let form = &tasks[2];
    assert_eq!(form["priority"], "medium");
    assert_eq!(form["description"], "Sub-task of: Renew the passport");
    let plants = &tasks[3];
    assert_eq!(plants["tags"], json!(["home"]));
    assert_eq!(plants["recurrence"]["frequency"], "daily");
    assert_eq!(plants["recurrence"]["interval"], 3);
    assert_eq!(plants["time_zone"], "UTC");
}

async fn a_bad_todoist_row_names_its_line_and_imports_nothing(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "Mine"})).await;
    let before = all_tasks(&app, &token).await;
    // Line 11 (the header is line 1) gets a date no one can read.
    let bad = TODOIST_FIXTURE.replace("every 3 days", "every blue moon");
    let error = import_raw(&app, &token, "text/csv", bad).await.expect_error(400, "invalid_import");
    assert!(error["message"].as_str().unwrap().starts_with("line 11: "), "{error}");
    let bad = TODOIST_FIXTURE.replace(
        "task,Renew the passport,\"Bring two photos, the old passport\",4",
        "task,Renew the passport,,7",
    );
    let error = import_raw(&app, &token, "text/csv", bad).await.expect_error(400, "invalid_import");
    assert!(error["message"].as_str().unwrap().starts_with("line 7: PRIORITY"), "{error}");
    let error = import_raw(&app, &token, "text/csv", "name,when\nBuy milk,today\n")
        .await
        .expect_error(400, "invalid_import");
    assert!(error["message"].as_str().unwrap().contains("TYPE and CONTENT"), "{error}");
    // An empty file is a mistake (400), not a file over the size limit.
    let error = import_raw(&app, &token, "text/csv", "").await.expect_error(400, "invalid_import");
    assert!(error["message"].as_str().unwrap().contains("empty"), "{error}");
    assert_eq!(all_tasks(&app, &token).await, before);
}

async fn imports_past_the_limits_are_refused_whole(app: TestApp) {
    let token = app.new_user().await;
    let many =
        |count: usize| -> Vec<Value> { (0..count).map(|i| json!({"title": format!("Task {i}")})).collect() };
    let document = json!({"format": "todokit-export", "version": 1, "tasks": many(10_001)});
    let error = import_raw(&app, &token, "application/json", document.to_string())
        .await
        .expect_error(422, "validation_failed");
    assert!(error["message"].as_str().unwrap().contains("10000"), "{error}");
    let threads: Vec<Value> = (0..1_001).map(|_| json!({"created_at": "2026-01-01T00:00:00Z"})).collect();
    let document = json!({"format": "todokit-export", "version": 1, "threads": threads});
    import_raw(&app, &token, "application/json", document.to_string())
        .await
        .expect_error(422, "validation_failed");
    let items: Vec<Value> = (0..10_001).map(|i| json!({"id": format!("msg_{i}")})).collect();
    let document = json!({"format": "todokit-export", "version": 1,
        "threads": [{"created_at": "2026-01-01T00:00:00Z", "items": items}]});
    import_raw(&app, &token, "application/json", document.to_string())
        .await
        .expect_error(422, "validation_failed");
    // Over 5 MiB: refused before it is read whole.
    let padding = " ".repeat(5 * 1024 * 1024 + 1);
    let body = format!("{{\"format\": \"todokit-export\", \"version\": 1{padding}}}");
    import_raw(&app, &token, "application/json", body).await.expect_error(413, "payload_too_large");
    let csv = format!("TYPE,CONTENT\n{}", "task,x\n".repeat(800_000));
    import_raw(&app, &token, "text/csv", csv).await.expect_error(413, "payload_too_large");
    let csv = format!("TYPE,CONTENT\n{}", "task,x\n".repeat(10_001));
    import_raw(&app, &token, "text/csv", csv).await.expect_error(422, "validation_failed");
    import_raw(&app, &token, "text/plain", "hello").await.expect_error(415, "unsupported_media_type");
    // 10,000 tasks are fine, in one transaction.
    let document = json!({"format": "todokit-export", "version": 1, "tasks": many(10_000)});
    let imported = import_raw(&app, &token, "application/json", document.to_string()).await.expect(200);
    assert_eq!(imported["imported"]["tasks"], 10_000);
    let counts = app.get("/api/tasks?limit=1", &token).await.expect(200);
    assert_eq!(counts["total"], 10_000, "{counts}");
}

async fn one_users_export_and_import_never_touch_another_users_data(app: TestApp) {
    let alice = user_with_data(&app).await;
    let alice_before = export(&app, &alice).await;
    let bob = app.new_user().await;
    // Bob's export is his alone: empty.
    let bobs = export(&app, &bob).await;
    assert_eq!(bobs["tasks"], json!([]));
    assert_eq!(bobs["threads"], json!([]));
    assert_ne!(bobs["account"]["email"], alice_before["account"]["email"]);
    // Bob imports Alice's file: copies for him, nothing changes for her.
    import_raw(&app, &bob, "application/json", alice_before.to_string()).await.expect(200);
    import_raw(&app, &bob, "text/csv", TODOIST_FIXTURE).await.expect(200);
    let alice_after = export(&app, &alice).await;
    assert_eq!(alice_after["tasks"], alice_before["tasks"]);
    assert_eq!(alice_after["threads"], alice_before["threads"]);
    // Bob's copies are his: Alice cannot read them by id, Bob cannot read hers.
    let bobs_task = all_tasks(&app, &bob).await[0]["id"].as_str().unwrap().to_owned();
    app.get(&format!("/api/tasks/{bobs_task}"), &alice).await.expect_error(404, "not_found");
    let alices_task = alice_before["tasks"][0]["id"].as_str().unwrap();
    app.get(&format!("/api/tasks/{alices_task}"), &bob).await.expect_error(404, "not_found");
    // Without a credential: nothing.
    let anonymous = app
        .client
        .post(format!("{}/api/account/import", app.url))
        .header(header::CONTENT_TYPE, "application/json")
        .body(alice_before.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
