//! One input rule for every string of a ChatKit request (no control characters but newlines and
//! tabs in text, ids shaped as ids, titles ≤ 255 characters, a bounded `items.feedback`): a
//! 422 with the usual JSON error before anything runs or is saved, never a 500, on both
//! databases (PostgreSQL refuses NUL in text with an error of its own).

use reqwest::Method;
use serde_json::{Value, json};

use crate::chat::{chatkit, create_thread, user_input};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    control_characters_and_malformed_ids_are_422s_in_every_request,
    thread_titles_are_bounded_and_plain,
    feedback_rates_only_items_of_the_thread_a_bounded_number_at_once,
    run_paths_check_the_thread_id,
);

/// Everything the user can see of their chats, to prove a refused request changed nothing.
async fn everything(app: &TestApp, token: &str) -> Value {
    let (status, _, threads) =
        chatkit(app, token, json!({"type": "threads.list", "params": {"limit": 100}})).await;
    assert_eq!(status, 200, "{threads}");
    let mut all = Vec::new();
    for thread in threads["data"].as_array().unwrap() {
        let (status, _, items) = chatkit(
            app,
            token,
            json!({"type": "items.list", "params": {"thread_id": thread["id"], "limit": 100, "order": "asc"}}),
        )
        .await;
        assert_eq!(status, 200, "{items}");
        all.push(json!({"thread": thread, "items": items["data"]}));
    }
    Value::Array(all)
}

async fn control_characters_and_malformed_ids_are_422s_in_every_request(app: TestApp) {
    let token = app.new_user().await;
    let (thread, events) = create_thread(&app, &token, "hello").await;
    assert!(events.iter().any(|e| e["type"] == "thread.item.done"), "{events:?}");
    let before = everything(&app, &token).await;

    // Every request carrying free text, with `text` in it.
    let with_text = |text: &str| {
        vec![
            json!({"type": "threads.create", "params": {"input": user_input(text)}}),
            json!({"type": "threads.add_user_message", "params": {"thread_id": thread, "input": user_input(text)}}),
            json!({"type": "threads.update", "params": {"thread_id": thread, "title": text}}),
            json!({"type": "threads.custom_action", "params": {"thread_id": thread, "action": {"type": text}}}),
            json!({"type": "threads.sync_custom_action", "params": {"thread_id": thread, "action": {"type": "x", "payload": {"note": text}}}}),
            json!({"type": "threads.add_client_tool_output", "params": {"thread_id": thread, "result": {"text": text}}}),
            json!({"type": "threads.list", "params": {}, "metadata": {"note": text}}),
            json!({"type": "threads.list", "params": {}, "metadata": {text: 1}}),
        ]
    };
    // Every request carrying a thread id, and every one carrying an item id.
    let with_thread_id = |thread: &str| {
        vec![
            json!({"type": "threads.add_user_message", "params": {"thread_id": thread, "input": user_input("hi")}}),
            json!({"type": "threads.get_by_id", "params": {"thread_id": thread}}),
            json!({"type": "threads.update", "params": {"thread_id": thread, "title": "x"}}),
            json!({"type": "threads.delete", "params": {"thread_id": thread}}),
            json!({"type": "threads.list", "params": {"after": thread}}),
            json!({"type": "items.list", "params": {"thread_id": thread}}),
            json!({"type": "threads.custom_action", "params": {"thread_id": thread, "action": {"type": "x"}}}),
            json!({"type": "threads.add_client_tool_output", "params": {"thread_id": thread, "result": {}}}),
        ]
    };
    let with_item_id = |item: &str| {
        vec![
            json!({"type": "items.list", "params": {"thread_id": thread, "after": item}}),
            json!({"type": "items.feedback", "params": {"thread_id": thread, "item_ids": [item], "kind": "positive"}}),
            json!({"type": "threads.retry_after_item", "params": {"thread_id": thread, "item_id": item}}),
            json!({"type": "threads.custom_action", "params": {"thread_id": thread, "item_id": item, "action": {"type": "x"}}}),
            json!({"type": "threads.sync_custom_action", "params": {"thread_id": thread, "item_id": item, "action": {"type": "x"}}}),
            json!({"type": "threads.add_structured_input", "params": {"thread_id": thread, "item_id": item, "input": {"status": "skipped", "answers": {}}}}),
        ]
    };
    let mut cases = Vec::new();
    for text in ["nul \u{0} byte", "escape \u{1b}[31m red", "bell \u{7}", "next line \u{85}", "delete \u{7f}"]
    {
        cases.extend(with_text(text));
    }
    for id in ["thr\u{0}", "has space", "semi;colon", "x\u{1b}", "", &"a".repeat(129)] {
        cases.extend(with_thread_id(id));
        cases.extend(with_item_id(id));
    }
    for request in cases {
        let (status, events, body) = chatkit(&app, &token, request.clone()).await;
        assert_eq!(status, 422, "{request}: {body}");
        assert!(events.is_empty(), "{request}: no stream starts");
        assert_eq!(body["error"]["code"], "validation_failed", "{request}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }

    // Newlines and tabs are text; nothing refused above was saved.
    let (status, _, body) = chatkit(
        &app,
        &token,
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread, "input": user_input("two\nlines\tand a tab")}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let after = everything(&app, &token).await;
    assert_eq!(after[0]["thread"]["id"], before[0]["thread"]["id"]);
    assert_eq!(after.as_array().unwrap().len(), 1, "no thread was created: {after}");
    let items = after[0]["items"].as_array().unwrap();
    let before_items = before[0]["items"].as_array().unwrap();
    assert_eq!(items[..before_items.len()], before_items[..], "nothing changed before the good message");
    assert_eq!(after[0]["thread"]["title"], before[0]["thread"]["title"]);
}

async fn thread_titles_are_bounded_and_plain(app: TestApp) {
    let token = app.new_user().await;
    let (thread, _) = create_thread(&app, &token, "hello").await;
    let rename =
        |title: String| json!({"type": "threads.update", "params": {"thread_id": thread, "title": title}});
    let longest = "é".repeat(255);
    let (status, _, body) = chatkit(&app, &token, rename(longest.clone())).await;
    assert_eq!(status, 200, "{body}");
    for refused in ["é".repeat(256), "x".repeat(200_000), "two\nlines".into(), "tab\there".into()] {
        let (status, _, body) = chatkit(&app, &token, rename(refused)).await;
        assert_eq!((status, &body["error"]["code"]), (422, &json!("validation_failed")), "{body}");
    }
    let (_, _, got) =
        chatkit(&app, &token, json!({"type": "threads.get_by_id", "params": {"thread_id": thread}})).await;
    assert_eq!(got["title"], longest.as_str());
}

async fn feedback_rates_only_items_of_the_thread_a_bounded_number_at_once(app: TestApp) {
    let token = app.new_user().await;
    let (first, first_events) = create_thread(&app, &token, "hello").await;
    let (second, second_events) = create_thread(&app, &token, "hello again").await;
    let items_of = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["type"] == "thread.item.done")
            .map(|e| e["item"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (in_first, in_second) = (items_of(&first_events), items_of(&second_events));
    let rate = |thread: &str, ids: &[String]| json!({"type": "items.feedback", "params": {"thread_id": thread, "item_ids": ids, "kind": "positive"}});
    assert_eq!(chatkit(&app, &token, rate(&first, &in_first)).await.0, 200);
    // An item of another thread, or a made-up one, is not this thread's: 404, nothing saved.
    let mixed: Vec<String> = in_first.iter().cloned().chain([in_second[0].clone()]).collect();
    let (status, _, body) = chatkit(&app, &token, rate(&first, &mixed)).await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")), "{body}");
    let made_up = vec!["msg_made_up".to_owned()];
    assert_eq!(chatkit(&app, &token, rate(&second, &made_up)).await.0, 404);
    assert_eq!(chatkit(&app, &token, rate(&second, &in_second)).await.0, 200);

    // At most 100 items at once.
    let many: Vec<String> = (0..101).map(|n| format!("msg_{n}")).collect();
    let (status, _, body) = chatkit(&app, &token, rate(&first, &many)).await;
    assert_eq!((status, &body["error"]["code"]), (422, &json!("validation_failed")), "{body}");
    assert_eq!(feedback_rows(&app).await, in_first.len() + in_second.len());
}

/// Rows in `chat_feedback`, read straight from the database.
async fn feedback_rows(app: &TestApp) -> usize {
    let count: i64 = match &app.pg {
        Some(options) => {
            let mut conn = sqlx::ConnectOptions::connect(options).await.unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM chat_feedback").fetch_one(&mut conn).await.unwrap()
        }
        None => {
            let url = format!("sqlite:{}/todokit.db", app.data_dir.path().display());
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM chat_feedback").fetch_one(&pool).await.unwrap()
        }
    };
    usize::try_from(count).unwrap()
}

async fn run_paths_check_the_thread_id(app: TestApp) {
    let token = app.new_user().await;
    for id in ["thr%00", "has%20space", "x%1B", &"a".repeat(129)] {
        let attach = app.send(Method::GET, &format!("/api/chatkit/runs/{id}"), Some(&token), None).await;
        attach.expect_error(422, "validation_failed");
        let stop = app
            .send(Method::POST, &format!("/api/chatkit/runs/{id}/stop"), Some(&token), Some(json!({})))
            .await;
        stop.expect_error(422, "validation_failed");
    }
    assert_eq!(app.get("/api/chatkit/runs/thr_doesnotexist", &token).await.status, 204);
}
