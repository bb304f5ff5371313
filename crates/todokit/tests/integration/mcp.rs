//! `/mcp` at the HTTP level: authentication before any MCP handling, the
//! allowed-hosts check, and the tool list equal to the assistant's.
//! (The full client conversation is in tests/mcp, with the official SDK.)

use reqwest::header::{ACCEPT, CONTENT_TYPE, HOST, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, spawn_app_with};

async fn rpc(
    app: &TestApp,
    host: Option<&str>,
    token: Option<&str>,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = app
        .client
        .post(format!("{}/mcp", app.url))
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&body);
    if let Some(host) = host {
        request = request.header(HOST, host);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = TestApp::read(request.send().await.unwrap()).await;
    (response.status.as_u16(), response.headers, response.body)
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}})
}

#[tokio::test]
async fn mcp_requires_a_token_and_an_allowed_host() {
    let Some(app) = spawn_app_with(Db::Sqlite, |config| {
        config.mcp_allowed_hosts = vec!["tasks.example.com".into()];
    })
    .await
    else {
        return;
    };
    let token = app.new_user().await;

    let (status, headers, body) = rpc(&app, Some("tasks.example.com"), None, initialize()).await;
    assert_eq!(status, 401);
    assert_eq!(headers[WWW_AUTHENTICATE], "Bearer");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _, _) = rpc(&app, Some("tasks.example.com"), Some("tdk_forged"), initialize()).await;
    assert_eq!(status, 401);

    let (status, _, _) = rpc(&app, Some("evil.example"), Some(&token), initialize()).await;
    assert_eq!(status, 403, "a Host outside the allowed list is refused");
    let (status, _, _) = rpc(&app, None, Some(&token), initialize()).await;
    assert_eq!(status, 403, "loopback is not allowed once a list is configured");

    let (status, _, body) = rpc(&app, Some("tasks.example.com"), Some(&token), initialize()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["serverInfo"]["name"], "todokit");

    let (status, _, body) = rpc(
        &app,
        Some("tasks.example.com"),
        Some(&token),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let listed: Vec<Value> = body["result"]["tools"].as_array().unwrap().clone();
    let expected: Vec<Value> = todokit::tools::definitions()
        .into_iter()
        .map(|d| {
            let metadata = todokit::tools::metadata(d.name).unwrap();
            let hints = metadata.hints;
            json!({
                "name": d.name,
                "title": metadata.title,
                "description": d.description,
                "inputSchema": d.parameters,
                "outputSchema": metadata.output_schema,
                "annotations": {
                    "title": metadata.title,
                    "readOnlyHint": hints.read_only,
                    "destructiveHint": hints.destructive,
                    "idempotentHint": hints.idempotent,
                    "openWorldHint": false,
                },
            })
        })
        .collect();
    assert_eq!(listed, expected);
    let hint = |name: &str, key: &str| {
        listed.iter().find(|tool| tool["name"] == name).unwrap()["annotations"][key].as_bool().unwrap()
    };
    assert!(hint("list_tasks", "readOnlyHint"));
    assert!(hint("delete_task", "destructiveHint") && hint("delete_all_tasks", "destructiveHint"));
    assert!(!hint("create_task", "readOnlyHint") && !hint("create_task", "destructiveHint"));
    assert!(hint("complete_task", "idempotentHint") && !hint("create_task", "idempotentHint"));
    assert!(
        !hint("complete_all_tasks", "idempotentHint"),
        "a recurring task's next occurrence would be completed too"
    );
}

#[tokio::test]
async fn mcp_accepts_loopback_hosts_by_default() {
    let Some(app) = spawn_app_with(Db::Sqlite, |_| {}).await else { return };
    let token = app.new_user().await;
    let (status, _, body) = rpc(&app, None, Some(&token), initialize()).await;
    assert_eq!(status, 200, "{body}");
    let port = app.url.rsplit(':').next().unwrap();
    let (status, _, _) = rpc(&app, Some(&format!("localhost:{port}")), Some(&token), initialize()).await;
    assert_eq!(status, 200);
    let (status, _, _) = rpc(&app, Some("evil.example"), Some(&token), initialize()).await;
    assert_eq!(status, 403);
}
