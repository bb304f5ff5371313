//! NUL and other control characters in every string parameter of the REST API (path, query,
//! JSON body) and of the MCP tools: a 400/422 in the `{"error":{"code","message"}}` shape (MCP: a
//! JSON-RPC error or a tool error), never a 500, and nothing saved, on both databases
//! (PostgreSQL refuses NUL in text with an error of its own; SQLite would store it). The ChatKit
//! surface has its own matrix in chat_input.rs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    rest_strings_with_control_characters_are_refused,
    mcp_strings_with_control_characters_are_refused
);

/// Control characters as they reach the server: raw in JSON, percent-encoded in a URL.
const CONTROLS: [(&str, &str); 5] =
    [("\u{0}", "%00"), ("\u{1b}", "%1B"), ("\u{7}", "%07"), ("\u{7f}", "%7F"), ("\u{85}", "%C2%85")];

/// Everything the user has: tasks (all of them), tags and tokens.
async fn everything(app: &TestApp, token: &str) -> Value {
    json!({
        "tasks": app.get("/api/tasks?limit=100", token).await.expect(200)["tasks"],
        "tags": app.get("/api/tasks/tags", token).await.expect(200),
        "tokens": app.get("/api/tokens", token).await.expect(200)["tokens"].as_array().unwrap().len(),
    })
}

#[track_caller]
fn assert_refused(status: u16, body: &Value, what: &str) {
    assert!(status == 400 || status == 422, "{what}: {status} {body}");
    assert!(body["error"]["code"].as_str().is_some_and(|code| !code.is_empty()), "{what}: {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|message| !message.is_empty()), "{what}: {body}");
}

async fn rest_strings_with_control_characters_are_refused(app: TestApp) {
    let token = app.new_user().await;
    let task = app
        .create_task(&token, json!({"title": "Existing", "tags": ["home"], "due_at": "2030-01-01T09:00:00Z"}))
        .await;
    let deleted = app.create_task(&token, json!({"title": "Deleted"})).await;
    app.delete(&format!("/api/tasks/{}", deleted["id"].as_str().unwrap()), &token).await.expect(200);
    let before = everything(&app, &token).await;

    for (raw, encoded) in CONTROLS {
        let text = format!("a{raw}b");
        // JSON bodies: every string field of every body.
        let bodies: Vec<(Method, &str, Value)> = vec![
            (Method::POST, "/api/tasks", json!({"title": text})),
            (Method::POST, "/api/tasks", json!({"title": "ok", "description": text})),
            (Method::POST, "/api/tasks", json!({"title": "ok", "tags": [text]})),
            (Method::POST, "/api/tasks", json!({"title": "ok", "priority": text})),
            (Method::POST, "/api/tasks", json!({"title": "ok", "due_at": format!("2030-01-01{raw}")})),
            (
                Method::POST,
                "/api/tasks",
                json!({"title": "ok", "due_at": "2030-01-01T09:00:00Z", "recurrence": {"frequency": text}}),
            ),
            (
                Method::POST,
                "/api/tasks",
                json!({"title": "ok", "due_at": "2030-01-01T09:00:00Z", "recurrence": {"frequency": "daily", "until": text}}),
            ),
            (Method::PATCH, "/api/tasks/1", json!({"title": text})),
            (Method::PATCH, "/api/tasks/1", json!({"description": text})),
            (Method::PATCH, "/api/tasks/1", json!({"tags": ["fine", text]})),
            (Method::PATCH, "/api/tasks/1", json!({"priority": text})),
            (Method::PATCH, "/api/tasks/1", json!({"due_at": text})),
            (Method::POST, "/api/tasks/bulk/complete", json!({"q": text})),
            (Method::POST, "/api/tasks/bulk/complete", json!({"tags": [text]})),
            (Method::POST, "/api/tasks/bulk/complete", json!({"timezone": text})),
            (Method::POST, "/api/tasks/bulk/complete", json!({"due_before": text})),
            (Method::POST, "/api/tasks/bulk/delete", json!({"confirm": true, "q": text})),
            (Method::POST, "/api/tasks/bulk/delete", json!({"confirm": true, "priority": text})),
            (Method::POST, "/api/tasks/bulk/delete", json!({"confirm": true, "due_after": text})),
            (Method::POST, "/api/tasks/parse", json!({"text": text})),
            (Method::POST, "/api/tokens", json!({"name": text})),
            (
                Method::POST,
                "/api/auth/sign-up",
                json!({"email": format!("x{raw}@example.com"), "password": "long enough"}),
            ),
            (
                Method::POST,
                "/api/auth/sign-in",
                json!({"email": format!("x{raw}@example.com"), "password": "long enough"}),
            ),
            (
                Method::POST,
                "/api/auth/sign-in",
                json!({"email": "x@example.com", "password": format!("long{raw}enough")}),
            ),
        ];
        for (method, path, body) in bodies {
            let response = app.send(method.clone(), path, Some(&token), Some(body.clone())).await;
            let what = format!("{method} {path} {body}");
            // Sign-in answers every pair of credentials that signs no one in alike (401, counted
            // by the throttle), malformed ones included: it tells nothing about an account.
            if path == "/api/auth/sign-in" {
                assert_eq!(response.status, 401, "{what}: {}", response.body);
                assert_eq!(response.body["error"]["code"], "unauthorized", "{what}");
                continue;
            }
            assert_refused(response.status.as_u16(), &response.body, &what);
        }

        // Query strings: every parameter of the listing.
        for name in [
            "status",
            "priority",
            "tags",
            "due",
            "due_before",
            "due_after",
            "q",
            "search",
            "timezone",
            "sort",
            "order",
            "offset",
            "limit",
        ] {
            let path = format!("/api/tasks?{name}=a{encoded}b");
            let response = app.get(&path, &token).await;
            assert_refused(response.status.as_u16(), &response.body, &path);
        }
        let path = format!("/api/events?last_event_id=1{encoded}");
        let response = app.get(&path, &token).await;
        assert_refused(response.status.as_u16(), &response.body, &path);

        // Path parameters: tasks (by id or number), undo, tokens, chat runs.
        let id = task["id"].as_str().unwrap();
        let paths: Vec<(Method, String)> = vec![
            (Method::GET, format!("/api/tasks/{id}{encoded}")),
            (Method::GET, format!("/api/tasks/1{encoded}")),
            (Method::PATCH, format!("/api/tasks/{encoded}1")),
            (Method::DELETE, format!("/api/tasks/{id}{encoded}")),
            (Method::POST, format!("/api/tasks/1{encoded}/complete")),
            (Method::POST, format!("/api/tasks/1{encoded}/reopen")),
            (Method::POST, format!("/api/tasks/{}{encoded}/restore", deleted["id"].as_str().unwrap())),
            (Method::DELETE, format!("/api/tokens/{}{encoded}", uuid::Uuid::nil())),
            (Method::GET, format!("/api/chatkit/runs/thr_1{encoded}")),
            (Method::POST, format!("/api/chatkit/runs/thr_1{encoded}/stop")),
        ];
        for (method, path) in paths {
            let body = (method == Method::PATCH).then(|| json!({"title": "changed"}));
            let response = app.send(method.clone(), &path, Some(&token), body).await;
            assert_refused(response.status.as_u16(), &response.body, &format!("{method} {path}"));
        }
    }
    assert_eq!(everything(&app, &token).await, before, "a refused request changed something");
    // The deleted task can still be brought back: the refused restores did not use it up.
    app.post(&format!("/api/tasks/{}/restore", deleted["id"].as_str().unwrap()), &token, json!({}))
        .await
        .expect(200);
}

async fn mcp_call(app: &TestApp, token: &str, name: &str, arguments: Value) -> Value {
    let response = app
        .client
        .post(format!("{}/mcp", app.url))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .bearer_auth(token)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = TestApp::read(response).await.body;
    assert_eq!(status, 200, "{name} {arguments}: {body}");
    body
}

async fn mcp_strings_with_control_characters_are_refused(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "Existing", "tags": ["home"], "due_at": "2030-01-01T09:00:00Z"}))
        .await;
    let before = everything(&app, &token).await;
    for (raw, _) in CONTROLS {
        let text = format!("a{raw}b");
        let calls = [
            ("create_task", json!({"title": text})),
            ("create_task", json!({"title": "ok", "description": text})),
            ("create_task", json!({"title": "ok", "tags": [text]})),
            ("create_task", json!({"title": "ok", "priority": text})),
            ("create_task", json!({"title": "ok", "due_date": text})),
            ("list_tasks", json!({"search": text})),
            ("list_tasks", json!({"tags": [text]})),
            ("list_tasks", json!({"priority": text})),
            ("update_task", json!({"task_id": text, "title": "changed"})),
            ("update_task", json!({"task_id": "1", "title": text})),
            ("update_task", json!({"task_id": "1", "tags": [text]})),
            ("delete_task", json!({"task_id": text})),
            ("complete_task", json!({"task_id": text})),
            ("complete_all_tasks", json!({"search": text})),
            ("delete_all_tasks", json!({"search": text, "confirm": true})),
        ];
        for (name, arguments) in calls {
            let body = mcp_call(&app, &token, name, arguments.clone()).await;
            let refused = body.get("error").is_some_and(|error| error["code"].is_i64())
                || body["result"]["isError"] == true;
            assert!(refused, "{name} {arguments}: {body}");
            assert!(!body.to_string().contains("Internal server error"), "{name} {arguments}: {body}");
        }
    }
    assert_eq!(everything(&app, &token).await, before, "a refused tool call changed something");
}
