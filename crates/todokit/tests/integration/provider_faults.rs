//! Model provider faults seen through `POST /api/chatkit`: the fake LLM hangs,
//! rate-limits, fails, stalls mid-answer, sends garbage or calls tools badly.
//! Each test checks the SSE stream the user gets and what was stored.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use todokit::Config;
use todokit_fake_llm::{FakeLlm, Script};

use crate::chat::{chatkit, user_input};
use crate::helpers::{Db, TestApp};

/// Runs a scenario `async fn(Db)` once per backend.
macro_rules! on_both_backends_with {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn sqlite() {
                    super::$scenario($crate::helpers::Db::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$scenario($crate::helpers::Db::Postgres).await;
                }
            }
        )+
    };
}

on_both_backends_with!(
    a_model_that_hangs_before_its_first_token_times_out_and_can_be_retried,
    rate_limited_with_retry_after_is_retried_after_the_advised_delay,
    a_server_error_then_success_is_retried,
    a_persistent_server_error_ends_in_a_retryable_error_with_nothing_half_written,
    a_stall_mid_answer_keeps_the_partial_text,
    malformed_tool_arguments_go_back_to_the_model_as_a_tool_error,
    provider_errors_of_every_shape_become_one_sentence_with_retry_only_where_it_helps,
    a_doubled_tool_call_from_llama_cpp_costs_one_step_and_the_thread_goes_on,
    a_thread_longer_than_the_model_context_is_never_stuck,
);

/// A server whose assistant talks to a fresh fake LLM running `script`, with
/// the default limits changed by `tune`.
async fn app_with_model(db: Db, script: Value, tune: impl FnOnce(&mut Config)) -> Option<(TestApp, FakeLlm)> {
    crate::helpers::app_with_model(db, "/v1", script, tune).await
}

macro_rules! with_model {
    ($db:expr, $script:expr) => {
        with_model!($db, $script, |_| {})
    };
    ($db:expr, $script:expr, $tune:expr) => {
        match app_with_model($db, $script, $tune).await {
            Some(pair) => pair,
            None => return,
        }
    };
}

/// Starts a thread with `text`; returns its id and the streamed events.
async fn start(app: &TestApp, token: &str, text: &str) -> (String, Vec<Value>) {
    let (status, events, body) =
        chatkit(app, token, json!({"type": "threads.create", "params": {"input": user_input(text)}})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(events[0]["type"], "thread.created", "{events:?}");
    (events[0]["thread"]["id"].as_str().unwrap().to_owned(), events)
}

/// `threads.retry_after_item` on the thread's user message.
async fn retry(app: &TestApp, token: &str, thread_id: &str, user_item: &Value) -> Vec<Value> {
    let (status, events, body) = chatkit(
        app,
        token,
        json!({"type": "threads.retry_after_item", "params": {"thread_id": thread_id, "item_id": user_item}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    events
}

/// The stored items of a thread (`items.list`), oldest first.
async fn items(app: &TestApp, token: &str, thread_id: &str) -> Vec<Value> {
    let (status, _, page) = chatkit(
        app,
        token,
        json!({"type": "items.list", "params": {"thread_id": thread_id, "limit": 100, "order": "asc"}}),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().unwrap().clone()
}

fn item_types(items: &[Value]) -> Vec<&str> {
    items.iter().map(|item| item["type"].as_str().unwrap()).collect()
}

fn message_text(item: &Value) -> String {
    item["content"].as_array().unwrap().iter().map(|part| part["text"].as_str().unwrap()).collect()
}

/// The text of the finished assistant messages in a stream.
fn streamed_reply(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "assistant_message")
        .map(|e| message_text(&e["item"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text deltas of a stream, concatenated.
fn streamed_deltas(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| {
            e["type"] == "thread.item.updated"
                && e["update"]["type"] == "assistant_message.content_part.text_delta"
        })
        .map(|e| e["update"]["delta"].as_str().unwrap())
        .collect()
}

/// The stream's one in-band error event, asserting it has a human message,
/// offers a retry and ends the reply (only thread metadata may follow).
#[track_caller]
fn final_error(events: &[Value]) -> &Value {
    let errors: Vec<usize> =
        events.iter().enumerate().filter(|(_, e)| e["type"] == "error").map(|(at, _)| at).collect();
    assert_eq!(errors.len(), 1, "exactly one error event: {events:?}");
    let error = &events[errors[0]];
    assert_eq!(error["allow_retry"], true, "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.len() > 10 && message.contains(' '), "a human message: {error}");
    let after: Vec<&str> = events[errors[0] + 1..].iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(
        after.iter().all(|kind| *kind == "thread.updated"),
        "nothing of the reply after the error: {after:?}"
    );
    error
}

#[track_caller]
fn assert_no_error(events: &[Value]) {
    assert!(events.iter().all(|e| e["type"] != "error"), "no error expected: {events:?}");
}

/// The saved user message of a stream.
fn user_item(events: &[Value]) -> Value {
    events
        .iter()
        .find(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "user_message")
        .expect("the user message is saved")["item"]["id"]
        .clone()
}

async fn a_model_that_hangs_before_its_first_token_times_out_and_can_be_retried(db: Db) {
    let (app, fake) = with_model!(
        db,
        json!({"turns": [{"hang": "before_headers"}, {"hang": "after_headers"}, {"text": "Here it is."}]}),
        |config| config.llm.first_token_timeout_secs = 1
    );
    let token = app.new_user().await;
    let (thread_id, events) = start(&app, &token, "what is on my list?").await;
    let error = final_error(&events);
    assert!(error["message"].as_str().unwrap().contains("too long"), "{error}");
    assert_eq!(fake.requests().len(), 1, "a first-token timeout is not retried (it would double the wait)");
    let stored = items(&app, &token, &thread_id).await;
    assert_eq!(item_types(&stored), ["user_message"], "the message is saved, no half reply");
    assert_eq!(stored[0]["content"][0]["text"], "what is on my list?");
    let user_item = user_item(&events);

    // Retry: the model now sends headers but still no token.
    let retried = retry(&app, &token, &thread_id, &user_item).await;
    assert!(final_error(&retried)["message"].as_str().unwrap().contains("too long"));
    assert_eq!(item_types(&items(&app, &token, &thread_id).await), ["user_message"]);

    // Retry again: the model behaves.
    let retried = retry(&app, &token, &thread_id, &user_item).await;
    assert_no_error(&retried);
    assert_eq!(streamed_reply(&retried), "Here it is.");
    let stored = items(&app, &token, &thread_id).await;
    assert_eq!(item_types(&stored), ["user_message", "assistant_message"]);
    assert_eq!(message_text(&stored[1]), "Here it is.");
    assert_eq!(fake.requests().len(), 3);
    // The retried request still carries the user's message.
    let last = fake.request_bodies().pop().unwrap();
    assert!(last["messages"].to_string().contains("what is on my list?"), "{last}");
}

async fn rate_limited_with_retry_after_is_retried_after_the_advised_delay(db: Db) {
    let (app, fake) = with_model!(
        db,
        json!({"turns": [
            {"error": {"status": 429, "retry_after_secs": 1, "fail_first": 1}, "text": "Sorry for the wait."},
            {"error": {"status": 429, "retry_after_secs": 3600}}
        ]})
    );
    let token = app.new_user().await;
    let sent = Instant::now();
    let (thread_id, events) = start(&app, &token, "hello").await;
    let took = sent.elapsed();
    assert_no_error(&events);
    assert_eq!(streamed_reply(&events), "Sorry for the wait.");
    assert_eq!(fake.requests().len(), 2, "one 429, then the retry");
    assert!(took >= Duration::from_secs(1), "the retry waited for Retry-After (1 s), took {took:?}");

    // A Retry-After beyond the longest wait (20 s by default) is not waited
    // for: the user is told when to come back.
    let (status, events, body) = chatkit(
        &app,
        &token,
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("again")}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let error = final_error(&events);
    assert!(error["message"].as_str().unwrap().contains("3600 seconds"), "{error}");
    assert_eq!(fake.requests().len(), 3, "no retry against a long Retry-After");
}

async fn a_server_error_then_success_is_retried(db: Db) {
    let (app, fake) = with_model!(
        db,
        json!({"turns": [{"error": {"status": 500, "fail_first": 1}, "text": "Recovered fine."}]})
    );
    let token = app.new_user().await;
    let (thread_id, events) = start(&app, &token, "hello").await;
    assert_no_error(&events);
    assert_eq!(streamed_reply(&events), "Recovered fine.");
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(item_types(&items(&app, &token, &thread_id).await), ["user_message", "assistant_message"]);
}

async fn a_persistent_server_error_ends_in_a_retryable_error_with_nothing_half_written(db: Db) {
    let (app, fake) = with_model!(db, json!({"fallback": {"error": {"status": 500}}}), |config| {
        config.llm.max_retries = 2
    });
    let token = app.new_user().await;
    let (thread_id, events) = start(&app, &token, "add buy milk").await;
    let error = final_error(&events);
    assert!(error["message"].as_str().unwrap().contains("unavailable"), "{error}");
    assert_eq!(fake.requests().len(), 3, "the first request and two retries");
    assert!(
        events.iter().all(|e| e["item"]["type"] != "assistant_message" && e["item"]["type"] != "workflow"),
        "nothing of a reply was streamed: {events:?}"
    );
    assert_eq!(item_types(&items(&app, &token, &thread_id).await), ["user_message"]);
    assert_eq!(app.get("/api/tasks", &token).await.expect(200)["total"], 0);

    // The offered retry works once the provider is back.
    fake.set_script(Script::from_json(r#"{"turns": [{"text": "Back again."}]}"#).unwrap());
    let retried = retry(&app, &token, &thread_id, &user_item(&events)).await;
    assert_no_error(&retried);
    assert_eq!(streamed_reply(&retried), "Back again.");
    assert_eq!(item_types(&items(&app, &token, &thread_id).await), ["user_message", "assistant_message"]);
}

async fn a_stall_mid_answer_keeps_the_partial_text(db: Db) {
    // OpenAI shape: the role chunk, then one word per chunk; silence after the fourth chunk.
    let (app, _fake) = with_model!(
        db,
        json!({"turns": [{"text": "Here are your three tasks for today", "hang": {"after_chunks": 4}}]}),
        |config| config.llm.idle_timeout_secs = 1
    );
    let token = app.new_user().await;
    let (thread_id, events) = start(&app, &token, "what is due today?").await;
    let error = final_error(&events);
    assert!(error["message"].as_str().unwrap().contains("too long"), "{error}");
    let partial = streamed_deltas(&events);
    assert!(!partial.is_empty(), "some text streamed before the stall: {events:?}");
    assert!("Here are your three tasks for today".starts_with(&partial), "{partial:?}");
    assert!(partial.len() < "Here are your three tasks for today".len(), "{partial:?}");
    let last_delta = events.iter().rposition(|e| e["type"] == "thread.item.updated").unwrap();
    let error_at = events.iter().position(|e| e["type"] == "error").unwrap();
    assert!(last_delta < error_at, "the error comes after the text");
    // The partial text is kept, exactly as streamed.
    assert_eq!(streamed_reply(&events), partial, "the partial message is closed");
    let stored = items(&app, &token, &thread_id).await;
    assert_eq!(item_types(&stored), ["user_message", "assistant_message"]);
    assert_eq!(message_text(&stored[1]), partial);
}

/// The `tool` messages of the model's `n`th request.
fn tool_messages(fake: &FakeLlm, n: usize) -> Vec<Value> {
    let bodies = fake.request_bodies();
    let body = bodies.get(n).unwrap_or_else(|| panic!("request {n} was not made; got {}", bodies.len()));
    body["messages"].as_array().unwrap().iter().filter(|m| m["role"] == "tool").cloned().collect()
}

fn tool_error_code(message: &Value) -> String {
    let content: Value =
        serde_json::from_str(message["content"].as_str().unwrap()).expect("tool result is JSON");
    assert_eq!(content["success"], false, "{content}");
    content["error"].as_str().unwrap().to_owned()
}

async fn malformed_tool_arguments_go_back_to_the_model_as_a_tool_error(db: Db) {
    let (app, fake) = with_model!(
        db,
        json!({"turns": [
            {"tool_calls": [{"name": "create_task", "raw_arguments": "{\"title\": \"Buy milk\""}]},
            {"tool_calls": [{"name": "create_task", "arguments": {"title": "Buy milk"}}]},
            {"text": "Added Buy milk."}
        ]})
    );
    let token = app.new_user().await;
    let (thread_id, events) = start(&app, &token, "add buy milk").await;
    assert_no_error(&events);
    assert_eq!(streamed_reply(&events), "Added Buy milk.");

    let first_results = tool_messages(&fake, 1);
    assert_eq!(first_results.len(), 1);
    assert_eq!(tool_error_code(&first_results[0]), "invalid_arguments");
    assert!(first_results[0]["content"].as_str().unwrap().contains("not valid JSON"), "{first_results:?}");
    let list = app.get("/api/tasks", &token).await.expect(200);
    assert_eq!(list["total"], 1, "the bad call ran nothing; the corrected one ran once: {list}");
    assert_eq!(list["tasks"][0]["title"], "Buy milk");
    let stored = items(&app, &token, &thread_id).await;
    // The created task's card comes last.
    assert_eq!(item_types(&stored), ["user_message", "workflow", "workflow", "assistant_message", "widget"]);
}

#[tokio::test]
async fn an_unknown_tool_goes_back_to_the_model_as_a_tool_error() {
    let (app, fake) = with_model!(
        Db::Sqlite,
        json!({"turns": [
            {"tool_calls": [{"name": "make_coffee", "arguments": {"strength": "strong"}}]},
            {"text": "I can only help with your tasks."}
        ]})
    );
    let token = app.new_user().await;
    let (_, events) = start(&app, &token, "make me a coffee").await;
    assert_no_error(&events);
    assert_eq!(streamed_reply(&events), "I can only help with your tasks.");
    let results = tool_messages(&fake, 1);
    assert_eq!(results.len(), 1);
    assert_eq!(tool_error_code(&results[0]), "unknown_tool");
    let content = results[0]["content"].as_str().unwrap();
    assert!(content.contains("make_coffee") && content.contains("create_task"), "{content}");
    assert_eq!(app.get("/api/tasks", &token).await.expect(200)["total"], 0);
}

#[tokio::test]
async fn a_malformed_chunk_is_skipped_and_the_answer_completes() {
    let (app, _fake) = with_model!(
        Db::Sqlite,
        json!({"turns": [{"text": "All good over here.", "malformed_after_chunks": 2}]})
    );
    let token = app.new_user().await;
    let (thread_id, events) = start(&app, &token, "hello").await;
    assert_no_error(&events);
    assert_eq!(streamed_reply(&events), "All good over here.");
    let stored = items(&app, &token, &thread_id).await;
    assert_eq!(message_text(&stored[1]), "All good over here.");
}

async fn provider_errors_of_every_shape_become_one_sentence_with_retry_only_where_it_helps(db: Db) {
    let (app, fake) = with_model!(db, json!({}), |config| config.llm.max_retries = 0);
    let token = app.new_user().await;
    for (status, body, says, allow_retry) in [
        (
            401,
            r#"{"error": {"message": "Incorrect API key provided: sk-abc***xyz", "type": "invalid_request_error"}}"#,
            "TODOKIT_LLM_API_KEY",
            false,
        ),
        (404, r#"{"detail": "Not Found"}"#, "TODOKIT_LLM_MODEL", false),
        (
            400,
            r#"{"detail": [{"loc": ["body", "messages"], "msg": "Field required", "type": "missing"}]}"#,
            "could not process",
            false,
        ),
        (
            502,
            "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>",
            "unavailable",
            true,
        ),
        (503, "upstream connect error or disconnect/reset before headers", "unavailable", true),
        (
            429,
            r#"{"error": {"message": "Rate limit reached", "type": "requests"}}"#,
            "too many requests",
            true,
        ),
    ] {
        let script = json!({"fallback": {"error": {"status": status, "body": body}}});
        fake.set_script(Script::from_json(&script.to_string()).unwrap());
        let (thread_id, events) = start(&app, &token, "hello").await;
        let errors: Vec<&Value> = events.iter().filter(|e| e["type"] == "error").collect();
        assert_eq!(errors.len(), 1, "{status}: {events:?}");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{status}: {message}");
        assert_eq!(errors[0]["allow_retry"], allow_retry, "{status}: {message}");
        // One short sentence of ours: none of the provider's words, markup or secrets.
        for leak in ["<", "nginx", "sk-abc", "Not Found", "Field required", "upstream", "Rate limit reached"]
        {
            assert!(!message.contains(leak), "{status}: {message}");
        }
        assert!(message.len() < 250, "{message}");
        assert_eq!(
            item_types(&items(&app, &token, &thread_id).await),
            ["user_message"],
            "nothing half-written"
        );
    }
}

async fn a_doubled_tool_call_from_llama_cpp_costs_one_step_and_the_thread_goes_on(db: Db) {
    // As seen from llama.cpp's server: arguments streamed twice, and every later request
    // refused (400 "Extra data") while the history holds them.
    let (app, fake) = with_model!(
        db,
        json!({"shape": "llama.cpp", "turns": [
            {"tool_calls": [{"name": "complete_task", "raw_arguments": "{\"task_id\":\"1\"}{\"task_id\":\"1\"}"}]},
            {"text": "Which task do you mean?"},
            {"text": "You have one pending task: Water plants."}
        ]})
    );
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "Water plants"})).await;
    let (thread_id, events) = start(&app, &token, "I watered the plants").await;
    assert_no_error(&events);
    assert_eq!(streamed_reply(&events), "Which task do you mean?");
    let (status, next, body) = chatkit(
        &app,
        &token,
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("what is left?")}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_no_error(&next);
    assert_eq!(streamed_reply(&next), "You have one pending task: Water plants.");
    let last = fake.request_bodies().pop().unwrap();
    let replayed = last["messages"].as_array().unwrap().iter().find(|m| m["role"] == "assistant").unwrap();
    assert_eq!(replayed["tool_calls"][0]["function"]["arguments"], "{}", "{last}");
}

async fn a_thread_longer_than_the_model_context_is_never_stuck(db: Db) {
    let (app, fake) = with_model!(db, json!({"fallback": {"text": "Noted."}}));
    let token = app.new_user().await;
    let long = format!("keep this in mind: {}", "a long note ".repeat(750));
    let (thread_id, _) = start(&app, &token, &long).await;
    // The model server now holds less than the thread but more than the newest turn: the
    // first request minus most of the long note (the fake counts four characters a token).
    let first = fake.request_bodies()[0].clone();
    let first_tokens = (first["messages"].to_string().len() + first["tools"].to_string().len()) / 4;
    let script = json!({"context_tokens": first_tokens - 1_000, "fallback": {"text": "Still here."}});
    fake.set_script(Script::from_json(&script.to_string()).unwrap());
    for text in ["next", "and next"] {
        let (status, events, body) = chatkit(
            &app,
            &token,
            json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(text)}}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_no_error(&events);
        assert_eq!(streamed_reply(&events), "Still here.");
    }
    let bodies = fake.request_bodies();
    let answered = bodies.last().unwrap();
    assert_eq!(
        answered["messages"].as_array().unwrap().len(),
        2,
        "system and the newest message: {answered}"
    );
}
