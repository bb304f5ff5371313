//! Hostile input on every JSON endpoint: oversized bodies, deep nesting,
//! invalid UTF-8, NUL bytes, absurd dates, huge page sizes and over-long chat
//! messages. Each is a clear 4xx in the JSON error shape (never a 5xx or a
//! crash), and nothing is stored half-way.

use reqwest::Method;
use serde_json::{Value, json};

use crate::chat::{chatkit, create_thread, user_input};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    hostile_bodies_are_clear_4xx_on_every_json_endpoint,
    nul_bytes_and_absurd_dates_are_refused_or_stored_cleanly,
    chat_messages_and_page_sizes_are_bounded,
);

/// Every endpoint that reads a JSON body, as (method, path).
fn json_endpoints() -> Vec<(Method, &'static str)> {
    vec![
        (Method::POST, "/api/auth/sign-up"),
        (Method::POST, "/api/auth/sign-in"),
        (Method::POST, "/api/tasks"),
        (Method::PATCH, "/api/tasks/1"),
        (Method::POST, "/api/tasks/1/complete"),
        (Method::POST, "/api/tasks/bulk/complete"),
        (Method::POST, "/api/tasks/bulk/delete"),
        (Method::POST, "/api/tasks/parse"),
        (Method::POST, "/api/tokens"),
        (Method::POST, "/api/chatkit"),
        (Method::POST, "/mcp"),
    ]
}

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> crate::helpers::Response {
    let response = app
        .client
        .request(method, format!("{}{path}", app.url))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body)
        .send()
        .await
        .unwrap();
    TestApp::read(response).await
}

/// A clear client error: 4xx with the app's error shape, or, on /mcp, a JSON-RPC error.
#[track_caller]
fn assert_clear_refusal(response: &crate::helpers::Response, what: &str) {
    let status = response.status.as_u16();
    let body = &response.body;
    let app_shape = body["error"]["code"].is_string() && body["error"]["message"].is_string();
    let rpc_error = body["jsonrpc"] == "2.0" && body["error"]["code"].is_i64();
    assert!((400..500).contains(&status) && (app_shape || rpc_error), "{what}: {status} {body}");
}

async fn stored_counts(app: &TestApp, token: &str) -> (Value, Value, Value) {
    let tasks = app.get("/api/tasks?status=all", token).await.expect(200)["total"].clone();
    let tokens = app.get("/api/tokens", token).await.expect(200)["tokens"].as_array().unwrap().len().into();
    let (_, _, threads) =
        chatkit(app, token, json!({"type": "threads.list", "params": {"limit": 100}})).await;
    (tasks, tokens, threads["data"].as_array().unwrap().len().into())
}

async fn hostile_bodies_are_clear_4xx_on_every_json_endpoint(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "Existing"})).await;
    let before = stored_counts(&app, &token).await;

    let depth = 10_000;
    let nested = |open: &str, close: &str| format!("{}{}", open.repeat(depth), close.repeat(depth));
    let deep_bodies = [
        ("top-level arrays", nested("[", "]")),
        ("objects", format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))),
        (
            "inside a field",
            format!(
                "{{\"type\":\"threads.list\",\"params\":{{}},\"metadata\":{{\"x\":{}}},\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"title\":\"t\",\"text\":\"t\",\"name\":\"n\"}}",
                nested("[", "]")
            ),
        ),
    ];
    let too_big = format!("{{\"title\":\"{}\"}}", "x".repeat(2 * 1024 * 1024)).into_bytes();
    let invalid_utf8 =
        b"{\"title\":\"caf\xc3\x28 \xff\xfe\",\"text\":\"\xff\",\"name\":\"\xc0\xaf\"}".to_vec();

    for (method, path) in json_endpoints() {
        for (kind, body) in &deep_bodies {
            let response = raw(&app, method.clone(), path, &token, body.clone().into_bytes()).await;
            assert_clear_refusal(&response, &format!("{method} {path}: 10,000 nested {kind}"));
        }
        let response = raw(&app, method.clone(), path, &token, invalid_utf8.clone()).await;
        assert_clear_refusal(&response, &format!("{method} {path}: invalid UTF-8"));

        let response = raw(&app, method.clone(), path, &token, too_big.clone()).await;
        assert_eq!(response.status, 413, "{method} {path}: {}", response.body);
        assert_eq!(response.body["error"]["code"], "payload_too_large", "{method} {path}");
    }
    // The server is alive and nothing changed.
    app.send(Method::GET, "/healthz", None, None).await.expect(200);
    assert_eq!(stored_counts(&app, &token).await, before);
    assert_eq!(app.get("/api/tasks/1", &token).await.expect(200)["title"], "Existing");
}

async fn nul_bytes_and_absurd_dates_are_refused_or_stored_cleanly(app: TestApp) {
    let token = app.new_user().await;
    let task = app.create_task(&token, json!({"title": "Clean", "due_at": "2030-01-01T00:00:00Z"})).await;
    let before = stored_counts(&app, &token).await;
    let nul = "a\u{0}b";

    let refused: Vec<(Method, &str, Value)> = vec![
        (Method::POST, "/api/tasks", json!({"title": nul})),
        (Method::POST, "/api/tasks", json!({"title": "ok", "description": nul})),
        (Method::POST, "/api/tasks", json!({"title": "ok", "tags": [nul]})),
        (Method::PATCH, "/api/tasks/1", json!({"title": nul})),
        (Method::PATCH, "/api/tasks/1", json!({"description": nul})),
        (Method::PATCH, "/api/tasks/1", json!({"tags": ["fine", nul]})),
        (Method::POST, "/api/tokens", json!({"name": nul})),
        (
            Method::POST,
            "/api/auth/sign-up",
            json!({"email": "nul\u{0}@example.com", "password": "longenough"}),
        ),
        // Absurd dates: far future, before the epoch, numbers, garbage.
        (Method::POST, "/api/tasks", json!({"title": "ok", "due_at": "99999-01-01T00:00:00Z"})),
        (Method::POST, "/api/tasks", json!({"title": "ok", "due_at": "+099999-01-01T00:00:00Z"})),
        (Method::POST, "/api/tasks", json!({"title": "ok", "due_at": "-000001-01-01T00:00:00Z"})),
        (Method::POST, "/api/tasks", json!({"title": "ok", "due_at": "1969-12-31T23:59:59Z"})),
        (Method::POST, "/api/tasks", json!({"title": "ok", "due_at": -1})),
        (Method::POST, "/api/tasks", json!({"title": "ok", "due_at": 1e300})),
        (Method::POST, "/api/tasks", json!({"title": "ok", "due_at": "2030-02-30T00:00:00Z"})),
        (Method::PATCH, "/api/tasks/1", json!({"due_at": "99999-01-01T00:00:00Z"})),
        (Method::PATCH, "/api/tasks/1", json!({"due_at": "-000001-01-01T00:00:00Z"})),
        (
            Method::POST,
            "/api/tasks",
            json!({"title": "ok", "due_at": "2030-01-01T00:00:00Z", "reminder_offset_minutes": i64::MAX}),
        ),
        (
            Method::POST,
            "/api/tasks",
            json!({"title": "ok", "due_at": "2030-01-01T00:00:00Z", "recurrence": {"frequency": "daily", "interval": u64::MAX}}),
        ),
    ];
    for (method, path, body) in refused {
        let response = app.send(method.clone(), path, Some(&token), Some(body.clone())).await;
        assert_clear_refusal(&response, &format!("{method} {path} {body}"));
    }
    for query in [
        "due_before=99999-01-01T00:00:00Z",
        "due_after=-000001-01-01T00:00:00Z",
        "q=a%00b",
        "tags=a%00b",
        "offset=-1",
        "offset=99999999999999999999",
    ] {
        let response = app.get(&format!("/api/tasks?{query}"), &token).await;
        let status = response.status.as_u16();
        assert!(status == 200 || (400..500).contains(&status), "{query}: {status} {}", response.body);
    }
    // The parser and the assistant: NUL and absurd dates never crash or store anything odd.
    for text in [nul, "call mom in 99999999 years", "pay rent on 31/02/99999", "meeting at 99:99"] {
        let response = app.post("/api/tasks/parse", &token, json!({"text": text})).await;
        let status = response.status.as_u16();
        assert!(status == 200 || (400..500).contains(&status), "{text}: {status}");
    }
    let (status, _, body) = chatkit(
        &app,
        &token,
        json!({"type": "threads.create", "params": {"input": user_input("add\u{0} task\u{0} in 99999999 years")}}),
    )
    .await;
    assert!(status == 200 || (400..500).contains(&status), "{status} {body}");
    let (status, _, body) = chatkit(
        &app,
        &token,
        json!({"type": "threads.update", "params": {"thread_id": "thr_x", "title": nul}}),
    )
    .await;
    assert!((400..500).contains(&status), "{status} {body}");

    // Nothing stored holds a NUL; the original task is unchanged.
    let all = app.get("/api/tasks?status=all", &token).await.expect(200);
    assert!(!all.to_string().contains("\\u0000"), "{all}");
    assert_eq!(app.get("/api/tasks/1", &token).await.expect(200), task);
    let (tasks, tokens, _) = stored_counts(&app, &token).await;
    assert_eq!(tokens, before.1);
    assert!(tasks.as_u64() <= Some(2), "at most the assistant's task was added: {tasks}");
}

async fn chat_messages_and_page_sizes_are_bounded(app: TestApp) {
    let token = app.new_user().await;
    let (thread_id, _) = create_thread(&app, &token, "hello").await;
    let (_, _, before) =
        chatkit(&app, &token, json!({"type": "items.list", "params": {"thread_id": thread_id}})).await;

    let long = "a".repeat(10_001);
    for request in [
        json!({"type": "threads.create", "params": {"input": user_input(&long)}}),
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(&long)}}),
    ] {
        let (status, events, body) = chatkit(&app, &token, request).await;
        assert_eq!(status, 422, "{body}");
        assert!(events.is_empty());
        assert_eq!(body["error"]["field"], "input");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("10000") || message.contains("10,000"), "names the limit: {message}");
    }
    let (_, _, after) =
        chatkit(&app, &token, json!({"type": "items.list", "params": {"thread_id": thread_id}})).await;
    assert_eq!(after, before, "nothing stored");
    let (_, _, threads) = chatkit(&app, &token, json!({"type": "threads.list", "params": {}})).await;
    assert_eq!(threads["data"].as_array().unwrap().len(), 1);
    // Exactly at the limit is accepted.
    let (status, events, _) = chatkit(
        &app,
        &token,
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(&"b".repeat(10_000))}}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!events.is_empty());

    // ChatKit page sizes are capped, not refused; task pages over 100 are refused.
    for limit in [101_u64, 1_000_000, u64::from(u32::MAX)] {
        let (status, _, body) =
            chatkit(&app, &token, json!({"type": "threads.list", "params": {"limit": limit}})).await;
        assert_eq!(status, 200, "{body}");
        let (status, _, body) = chatkit(
            &app,
            &token,
            json!({"type": "items.list", "params": {"thread_id": thread_id, "limit": limit}}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body["data"].as_array().unwrap().len() <= 100);
    }
    for limit in ["101", "1000000", "-1", "18446744073709551616"] {
        let response = app.get(&format!("/api/tasks?limit={limit}"), &token).await;
        assert_clear_refusal(&response, &format!("limit={limit}"));
    }
    app.get("/api/tasks?limit=100", &token).await.expect(200);
}
