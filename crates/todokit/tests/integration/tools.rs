//! The seven task tools against the real database: every tool, every error
//! path, and another user's tasks out of reach.

use serde_json::{Value, json};
use todokit::tasks::model::UserId;
use todokit::tasks::{TaskService, UserZone};
use todokit::tools::{TaskTools, ToolContext, ToolExecutor, ToolOutput, definitions};

use crate::helpers::TestApp;
use crate::on_both_backends;

async fn user_context(app: &TestApp, zone: &str) -> (ToolContext, String) {
    let token = app.new_user().await;
    let session = app.get("/api/auth/session", &token).await.expect(200);
    let id = uuid::Uuid::parse_str(session["user"]["id"].as_str().unwrap()).unwrap();
    (ToolContext { user: UserId(id), zone: UserZone::parse(zone).unwrap() }, token)
}

#[track_caller]
fn ok(output: ToolOutput) -> Value {
    assert!(!output.is_error, "unexpected tool error: {}", output.value);
    assert_eq!(output.value["success"], true, "{}", output.value);
    assert!(output.value["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", output.value);
    output.value
}

#[track_caller]
fn failed(output: ToolOutput, error: &str, message_part: &str) -> Value {
    assert!(output.is_error, "expected a tool error: {}", output.value);
    assert_eq!(output.value["success"], false);
    assert_eq!(output.value["error"], error, "{}", output.value);
    let message = output.value["message"].as_str().unwrap();
    assert!(message.contains(message_part), "{message:?} lacks {message_part:?}");
    output.value
}

on_both_backends!(
    every_tool_works_end_to_end,
    bad_arguments_become_tool_errors,
    tools_never_reach_another_users_tasks
);

async fn every_tool_works_end_to_end(app: TestApp) {
    let tools = TaskTools::new(TaskService::new(app.storage.clone()));
    let (ctx, token) = user_context(&app, "America/New_York").await;

    let created = ok(tools
        .call(
            &ctx,
            "create_task",
            json!({"title": "Buy groceries tagged with shopping", "due_date": "2031-03-10T17:00:00-04:00",
                   "priority": "asap", "tags": ["Errands"], "description": "milk, eggs"}),
        )
        .await);
    let task = &created["task"];
    assert_eq!(task["title"], "Buy groceries");
    assert_eq!(task["tags"], json!(["errands", "shopping"]));
    assert_eq!(task["priority"], "high");
    assert_eq!(task["number"], 1);
    assert_eq!(task["due_date"], "2031-03-10T17:00:00-04:00");
    assert!(created["message"].as_str().unwrap().starts_with("✅ Task created: #1 Buy groceries"));

    // Relative words resolve in the user's zone; hashtags become tags.
    let relative = ok(tools
        .call(&ctx, "create_task", json!({"title": "Call mom #family", "due_date": "tomorrow at 5pm"}))
        .await);
    assert_eq!(relative["task"]["title"], "Call mom");
    assert_eq!(relative["task"]["tags"], json!(["family"]));
    let due = relative["task"]["due_date"].as_str().unwrap();
    let due: jiff::Timestamp = due.parse().unwrap();
    let local = due.to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap());
    let tomorrow = jiff::Zoned::now().with_time_zone(local.time_zone().clone()).date().tomorrow().unwrap();
    assert_eq!((local.date(), local.hour(), local.minute()), (tomorrow, 17, 0));
    ok(tools.call(&ctx, "create_task", json!({"title": "Someday thing", "priority": "someday"})).await);

    let all = ok(tools.call(&ctx, "list_tasks", json!({})).await);
    assert_eq!(all["summary"], "Found 3 tasks (3 pending, 0 completed)");
    let numbers: Vec<i64> =
        all["tasks"].as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, vec![2, 1, 3], "due soonest first, undated last");
    let high = ok(tools.call(&ctx, "list_tasks", json!({"priority": "high"})).await);
    assert_eq!(high["total"], 1);
    let tagged = ok(tools.call(&ctx, "list_tasks", json!({"tags": ["family"]})).await);
    assert_eq!(tagged["tasks"][0]["title"], "Call mom");
    let searched = ok(tools.call(&ctx, "list_tasks", json!({"search": "EGGS"})).await);
    assert_eq!(searched["tasks"][0]["number"], 1);
    let by_title = ok(tools.call(&ctx, "list_tasks", json!({"sort": "title", "limit": 2})).await);
    assert_eq!(by_title["returned"], 2);
    assert_eq!(by_title["total"], 3);
    assert_eq!(by_title["tasks"][0]["title"], "Buy groceries");
    let window = ok(tools
        .call(
            &ctx,
            "list_tasks",
            json!({"due_after": "2031-01-01T00:00:00Z", "due_before": "2032-01-01T00:00:00Z"}),
        )
        .await);
    assert_eq!(window["total"], 1);
    let week = ok(tools.call(&ctx, "list_tasks", json!({"due": "week"})).await);
    assert_eq!(week["tasks"][0]["number"], 2);

    let updated = ok(tools
        .call(&ctx, "update_task", json!({"task_id": "#3", "title": "Read a book", "priority": "high", "due_date": "2031-01-02T09:00"}))
        .await);
    assert_eq!(updated["task"]["title"], "Read a book");
    let message = updated["message"].as_str().unwrap();
    assert!(message.contains("title from 'Someday thing' to 'Read a book'"), "{message}");
    assert!(message.contains("priority from low to high"), "{message}");
    assert_eq!(updated["task"]["due_date"], "2031-01-02T09:00:00-05:00");
    let cleared = ok(tools
        .call(&ctx, "update_task", json!({"task_id": 3, "due_date": null, "description": null}))
        .await);
    assert_eq!(cleared["task"]["due_date"], Value::Null);
    let done_via_update =
        ok(tools.call(&ctx, "update_task", json!({"task_id": "3", "completed": true})).await);
    assert_eq!(done_via_update["task"]["completed"], true);

    let completed = ok(tools.call(&ctx, "complete_task", json!({"task_id": 2, "completed": true})).await);
    assert_eq!(
        (completed["old_status"].as_str(), completed["new_status"].as_str()),
        (Some("pending"), Some("completed"))
    );
    let again = ok(tools.call(&ctx, "complete_task", json!({"task_id": 2, "completed": true})).await);
    assert!(again["message"].as_str().unwrap().contains("already completed"));
    let reopened =
        ok(tools.call(&ctx, "complete_task", json!({"task_id": task["id"], "completed": false})).await);
    assert_eq!(reopened["new_status"], "pending");

    let bulk = ok(tools.call(&ctx, "complete_all_tasks", json!({})).await);
    assert_eq!(
        (bulk["updated_count"].as_u64(), bulk["skipped_count"].as_u64(), bulk["total_count"].as_u64()),
        (Some(1), Some(2), Some(3))
    );
    let nothing = ok(tools.call(&ctx, "complete_all_tasks", json!({})).await);
    assert_eq!(nothing["updated_count"], 0);
    assert!(nothing["message"].as_str().unwrap().contains("already completed"));
    let reopen_all = ok(tools.call(&ctx, "complete_all_tasks", json!({"completed": false})).await);
    assert_eq!(reopen_all["updated_count"], 3);

    let deleted = ok(tools.call(&ctx, "delete_task", json!({"task_id": "#1"})).await);
    assert!(deleted["message"].as_str().unwrap().contains("Buy groceries"));
    app.get(&format!("/api/tasks/{}", task["id"].as_str().unwrap()), &token).await.expect(404);

    let ask = ok(tools.call(&ctx, "delete_all_tasks", json!({})).await);
    assert_eq!((ask["requires_confirmation"].as_bool(), ask["task_count"].as_u64()), (Some(true), Some(2)));
    assert_eq!(app.get("/api/tasks", &token).await.expect(200)["total"], 2, "not confirmed: nothing deleted");
    let gone = ok(tools.call(&ctx, "delete_all_tasks", json!({"confirmed": true})).await);
    assert_eq!(gone["deleted_count"], 2);
    let empty = ok(tools.call(&ctx, "delete_all_tasks", json!({})).await);
    assert_eq!(empty["requires_confirmation"], false);
    assert_eq!(ok(tools.call(&ctx, "list_tasks", json!(null)).await)["total"], 0);
}

async fn bad_arguments_become_tool_errors(app: TestApp) {
    let tools = TaskTools::new(TaskService::new(app.storage.clone()));
    let (ctx, _) = user_context(&app, "UTC").await;
    ok(tools.call(&ctx, "create_task", json!({"title": "Exists"})).await);

    failed(tools.call(&ctx, "create_task", json!({})).await, "Invalid arguments", "title");
    failed(
        tools.call(&ctx, "create_task", json!({"title": 42})).await,
        "Invalid arguments",
        "title: invalid type",
    );
    failed(
        tools.call(&ctx, "create_task", json!({"title": "x".repeat(256)})).await,
        "Invalid arguments",
        "1–255",
    );
    failed(tools.call(&ctx, "create_task", json!({"title": "   "})).await, "Invalid arguments", "title");
    failed(
        tools.call(&ctx, "create_task", json!({"title": "a", "due_date": "the day after never"})).await,
        "Invalid arguments",
        "due_date",
    );
    failed(
        tools.call(&ctx, "create_task", json!({"title": "a", "due_date": "1900-01-01T00:00:00Z"})).await,
        "Invalid arguments",
        "10 years",
    );
    failed(
        tools.call(&ctx, "create_task", json!({"title": "a", "priority": "blue"})).await,
        "Invalid arguments",
        "priority",
    );
    failed(
        tools.call(&ctx, "create_task", json!({"title": "a", "user_id": "x"})).await,
        "Invalid arguments",
        "user_id",
    );
    failed(tools.call(&ctx, "create_task", json!([1, 2])).await, "Invalid arguments", "JSON object");
    failed(tools.call(&ctx, "create_task", json!("{not json")).await, "Invalid arguments", "JSON object");
    // Arguments sent as a JSON string are accepted.
    ok(tools.call(&ctx, "create_task", json!("{\"title\": \"From a string\"}")).await);

    failed(
        tools.call(&ctx, "update_task", json!({"task_id": 99, "title": "b"})).await,
        "Task not found",
        "Could not find task with ID 99",
    );
    failed(
        tools.call(&ctx, "update_task", json!({"task_id": 1})).await,
        "Invalid arguments",
        "Nothing to change",
    );
    failed(
        tools.call(&ctx, "update_task", json!({"task_id": true, "title": "b"})).await,
        "Invalid arguments",
        "task_id",
    );
    failed(
        tools.call(&ctx, "delete_task", json!({"task_id": "groceries"})).await,
        "Task not found",
        "task number",
    );
    failed(
        tools.call(&ctx, "delete_task", json!({"task_id": uuid::Uuid::now_v7().to_string()})).await,
        "Task not found",
        "Could not find task with ID",
    );
    failed(tools.call(&ctx, "complete_task", json!({"task_id": 1})).await, "Invalid arguments", "completed");
    failed(
        tools.call(&ctx, "complete_task", json!({"task_id": 1, "completed": "yes"})).await,
        "Invalid arguments",
        "completed",
    );
    failed(
        tools.call(&ctx, "complete_task", json!({"task_id": 0, "completed": true})).await,
        "Task not found",
        "0",
    );
    failed(tools.call(&ctx, "list_tasks", json!({"limit": 0})).await, "Invalid arguments", "limit");
    failed(tools.call(&ctx, "list_tasks", json!({"limit": 101})).await, "Invalid arguments", "limit");
    failed(tools.call(&ctx, "list_tasks", json!({"status": "done"})).await, "Invalid arguments", "status");
    failed(
        tools.call(&ctx, "list_tasks", json!({"due_before": "banana"})).await,
        "Invalid arguments",
        "due_before",
    );
    failed(
        tools.call(&ctx, "delete_all_tasks", json!({"confirmed": "yes"})).await,
        "Invalid arguments",
        "confirmed",
    );
    failed(tools.call(&ctx, "drop_database", json!({})).await, "Unknown tool", "create_task");

    let listed = ok(tools.call(&ctx, "list_tasks", json!({})).await);
    assert_eq!(listed["total"], 2, "failed calls changed nothing");
}

async fn tools_never_reach_another_users_tasks(app: TestApp) {
    let tools = TaskTools::new(TaskService::new(app.storage.clone()));
    let (owner, owner_token) = user_context(&app, "UTC").await;
    let (intruder, _) = user_context(&app, "UTC").await;
    let task = ok(tools.call(&owner, "create_task", json!({"title": "Mine"})).await)["task"].clone();

    for key in [task["id"].clone(), json!(1), json!("#1")] {
        failed(
            tools.call(&intruder, "update_task", json!({"task_id": key, "title": "Pwned"})).await,
            "Task not found",
            "",
        );
        failed(tools.call(&intruder, "delete_task", json!({"task_id": key})).await, "Task not found", "");
        failed(
            tools.call(&intruder, "complete_task", json!({"task_id": key, "completed": true})).await,
            "Task not found",
            "",
        );
    }
    assert_eq!(ok(tools.call(&intruder, "list_tasks", json!({})).await)["total"], 0);
    assert_eq!(ok(tools.call(&intruder, "complete_all_tasks", json!({})).await)["total_count"], 0);
    assert_eq!(
        ok(tools.call(&intruder, "delete_all_tasks", json!({"confirmed": true})).await)["deleted_count"],
        0
    );

    let after =
        app.get(&format!("/api/tasks/{}", task["id"].as_str().unwrap()), &owner_token).await.expect(200);
    assert_eq!((after["title"].as_str(), after["completed"].as_bool()), (Some("Mine"), Some(false)));
}

#[test]
fn tool_definitions() {
    let definitions = definitions();
    let names: Vec<&str> = definitions.iter().map(|d| d.name).collect();
    assert_eq!(
        names,
        [
            "create_task",
            "list_tasks",
            "update_task",
            "delete_task",
            "complete_task",
            "complete_all_tasks",
            "delete_all_tasks"
        ]
    );
    insta::assert_json_snapshot!(definitions);
}
