//! The assistant end to end through `POST /api/chatkit`: the LLM agent with
//! the fake LLM standing in for the provider (OpenAI and Gemini shapes), and
//! the offline assistant; results are checked over REST.

use serde_json::{Value, json};
use todokit_fake_llm::{FakeLlm, Script};

use crate::chat::{chatkit, user_input};
use crate::helpers::{Db, TestApp};
use crate::on_both_backends;

/// A server whose assistant talks to a fresh fake LLM (`path` picks the shape), without
/// retries so a scripted fault shows as it is.
async fn app_with_model(db: Db, path: &str, script: Value) -> Option<(TestApp, FakeLlm)> {
    crate::helpers::app_with_model(db, path, script, |config| config.llm.max_retries = 0).await
}

fn assistant_text(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "assistant_message")
        .flat_map(|e| {
            e["item"]["content"].as_array().unwrap().iter().map(|c| c["text"].as_str().unwrap().to_owned())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn titles(list: &Value) -> Vec<String> {
    let mut titles: Vec<String> =
        list["tasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect();
    titles.sort();
    titles
}

async fn start(app: &TestApp, token: &str, text: &str) -> (String, Vec<Value>) {
    let (status, events, body) =
        chatkit(app, token, json!({"type": "threads.create", "params": {"input": user_input(text)}})).await;
    assert_eq!(status, 200, "{body}");
    (events[0]["thread"]["id"].as_str().unwrap().to_owned(), events)
}

async fn say(app: &TestApp, token: &str, thread: &str, text: &str) -> Vec<Value> {
    let (status, events, body) = chatkit(
        app,
        token,
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread, "input": user_input(text)}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    events
}

macro_rules! with_model {
    ($db:expr, $path:expr, $script:expr) => {
        match app_with_model($db, $path, $script).await {
            Some(pair) => pair,
            None => return,
        }
    };
}

on_both_backends!(offline_assistant_manages_tasks_through_the_endpoint);

#[tokio::test]
async fn model_creates_a_task_and_streams_its_reply() {
    let (app, fake) = with_model!(
        Db::Sqlite,
        "/v1",
        json!({"turns": [
            {"tool_calls": [{"name": "create_task", "arguments": {"title": "Buy milk", "due_date": "2030-01-02T17:00:00Z", "priority": "high"}}]},
            {"text": "Added **Buy milk** for January 2."}
        ]})
    );
    let token = app.new_user().await;
    let (_, events) = start(&app, &token, "add buy milk on jan 2 at 5pm, it's urgent").await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..3], ["thread.created", "thread.item.done", "stream_options"]);
    // Named from the message as it is created, so nothing renames it afterwards.
    assert_eq!(events[0]["thread"]["title"], "add buy milk on jan 2 at 5pm, it's urgent");
    assert!(!kinds.contains(&"thread.updated"), "{kinds:?}");
    let workflow = events
        .iter()
        .find(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "workflow")
        .expect("the tool call is shown as a workflow");
    assert_eq!(workflow["item"]["workflow"]["tasks"][0]["status_indicator"], "complete");
    assert!(events.iter().any(|e| e["type"] == "thread.item.updated"
        && e["update"]["type"] == "assistant_message.content_part.text_delta"));
    assert!(assistant_text(&events).contains("Buy milk"));
    assert!(events.iter().all(|e| e["item"]["type"] != "hidden_context_item"), "hidden items are never sent");

    let tasks = app.get("/api/tasks", &token).await.expect(200);
    assert_eq!(titles(&tasks), ["Buy milk"]);
    assert_eq!(tasks["tasks"][0]["priority"], "high");
    assert_eq!(tasks["tasks"][0]["due_at"], "2030-01-02T17:00:00Z");
    // A new thread's history is its one message, read from the request, not the store.
    let first: Vec<_> = fake.request_bodies()[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap().to_owned(), m["content"].clone()))
        .collect();
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first[0].0, "system");
    assert_eq!(first[1].0, "user");
    let sent = first[1].1.as_str().unwrap();
    assert!(sent.starts_with("add buy milk on jan 2 at 5pm, it's urgent\n\n[Context: now is "), "{sent}");
    // The tool result went back to the model on the second request.
    let second = &fake.request_bodies()[1];
    let tool_message = second["messages"].as_array().unwrap().iter().find(|m| m["role"] == "tool").unwrap();
    assert!(tool_message["content"].as_str().unwrap().contains("Buy milk"));
    assert_eq!(fake.requests()[0].authorization.as_deref(), Some("Bearer test-key"));
}

#[tokio::test]
async fn two_tool_calls_in_one_response_both_run() {
    let (app, _fake) = with_model!(
        Db::Sqlite,
        "/v1",
        json!({"turns": [
            {"tool_calls": [
                {"name": "create_task", "arguments": {"title": "Buy milk"}},
                {"name": "create_task", "arguments": {"title": "Call mom"}}]},
            {"text": "Both added."}
        ]})
    );
    let token = app.new_user().await;
    let (_, events) = start(&app, &token, "add buy milk and call mom").await;
    let workflow =
        events.iter().find(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "workflow").unwrap();
    assert_eq!(workflow["item"]["workflow"]["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(titles(&app.get("/api/tasks", &token).await.expect(200)), ["Buy milk", "Call mom"]);
}

#[tokio::test]
async fn history_is_sent_on_the_next_turn_and_gemini_signatures_come_back() {
    let (app, fake) = with_model!(
        Db::Postgres,
        "/v1beta/openai",
        json!({"turns": [
            {"tool_calls": [{"name": "create_task", "arguments": {"title": "Water plants"}, "thought_signature": "sig-abc"}]},
            {"text": "Added Water plants."},
            {"text": "You added Water plants."}
        ]})
    );
    let token = app.new_user().await;
    let (thread, _) = start(&app, &token, "remind me to water plants").await;
    let events = say(&app, &token, &thread, "what did I just add?").await;
    assert!(assistant_text(&events).contains("Water plants"));
    let turn_two = &fake.request_bodies()[2];
    let messages = turn_two["messages"].as_array().unwrap();
    let contents: Vec<String> =
        messages.iter().map(|m| m["content"].as_str().unwrap_or_default().to_owned()).collect();
    assert!(
        contents.iter().any(|c| c.contains("remind me to water plants")),
        "earlier user message: {contents:?}"
    );
    assert!(contents.iter().any(|c| c.contains("Added Water plants.")), "earlier assistant reply");
    assert!(contents.last().unwrap().contains("what did I just add?"));
    let call = messages
        .iter()
        .find(|m| m["tool_calls"].is_array())
        .expect("the earlier tool call is in the history");
    assert_eq!(call["tool_calls"][0]["extra_content"]["google"]["thought_signature"], "sig-abc");
    assert_eq!(fake.requests()[0].path, "/v1beta/openai/chat/completions");
}

#[tokio::test]
async fn delete_all_needs_a_confirmation_turn() {
    let (app, _fake) = with_model!(
        Db::Sqlite,
        "/v1",
        json!({"turns": [
            {"tool_calls": [{"name": "delete_all_tasks", "arguments": {}}]},
            {"text": "You have 2 tasks. Say yes to delete them all."},
            {"tool_calls": [{"name": "delete_all_tasks", "arguments": {"confirmed": true}}]},
            {"text": "Deleted 2 tasks."}
        ]})
    );
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "one"})).await;
    app.create_task(&token, json!({"title": "two"})).await;
    let (thread, _) = start(&app, &token, "delete all my tasks").await;
    assert_eq!(
        app.get("/api/tasks", &token).await.expect(200)["total"],
        2,
        "nothing deleted before confirming"
    );
    let events = say(&app, &token, &thread, "yes").await;
    assert!(assistant_text(&events).contains("Deleted 2"));
    assert_eq!(app.get("/api/tasks", &token).await.expect(200)["total"], 0);
}

#[tokio::test]
async fn provider_errors_end_in_a_retryable_error_event() {
    let (app, fake) = with_model!(Db::Sqlite, "/v1", json!({"turns": [{"error": {"status": 500}}]}));
    let token = app.new_user().await;
    let (thread, events) = start(&app, &token, "add buy milk").await;
    let error = events.iter().find(|e| e["type"] == "error").expect("an in-stream error");
    assert_eq!(error["allow_retry"], true);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    let user_item = events[1]["item"]["id"].clone();
    fake.set_script(Script::from_json(r#"{"turns": [{"text": "Here I am."}]}"#).unwrap());
    let (status, retried, _) = chatkit(
        &app,
        &token,
        json!({"type": "threads.retry_after_item", "params": {"thread_id": thread, "item_id": user_item}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(assistant_text(&retried), "Here I am.");
}

async fn offline_assistant_manages_tasks_through_the_endpoint(app: TestApp) {
    let token = app.new_user().await;
    let send = |body: Value| {
        let app = &app;
        let token = &token;
        async move {
            let response = app
                .client
                .post(format!("{}/api/chatkit", app.url))
                .bearer_auth(token)
                .header("x-timezone", "America/New_York")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };
    let created = send(json!({"type": "threads.create", "params": {"input": user_input("add buy milk tomorrow at 5pm #errands")}})).await;
    let thread_id = created
        .split("\"thr_")
        .nth(1)
        .map(|rest| format!("thr_{}", &rest[..rest.find('"').unwrap()]))
        .unwrap();
    let tasks = app.get("/api/tasks", &token).await.expect(200);
    assert_eq!(tasks["total"], 1);
    let task = &tasks["tasks"][0];
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["tags"], json!(["errands"]));
    let zone = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let due: jiff::Timestamp = task["due_at"].as_str().unwrap().parse().unwrap();
    let local = due.to_zoned(zone.clone());
    let tomorrow = jiff::Zoned::now().with_time_zone(zone).date().tomorrow().unwrap();
    assert_eq!((local.date(), local.hour(), local.minute()), (tomorrow, 17, 0));

    send(json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("mark 1 done")}})).await;
    assert_eq!(app.get("/api/tasks/1", &token).await.expect(200)["completed"], true);
    let reply = send(json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("what's the weather?")}})).await;
    assert!(reply.contains("task"), "off-topic questions are steered back to tasks");
}
