//! `/mcp` at the HTTP level: the Origin check and authentication before any MCP handling, the
//! allowed-hosts check, the tool list equal to the assistant's, JSON-RPC errors for bad
//! params, and stdio answering unparsable lines.
//! (The full client conversation is in tests/mcp, with the official SDK.)

use reqwest::header::{ACCEPT, CONTENT_TYPE, HOST, ORIGIN, WWW_AUTHENTICATE};
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

async fn rpc_from(app: &TestApp, origin: Option<&str>, token: Option<&str>) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}/mcp", app.url))
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&initialize());
    if let Some(origin) = origin {
        request = request.header(ORIGIN, origin);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = TestApp::read(request.send().await.unwrap()).await;
    (response.status.as_u16(), response.body)
}

#[tokio::test]
async fn mcp_refuses_a_foreign_origin_even_with_a_valid_token() {
    let Some(app) = spawn_app_with(Db::Sqlite, |config| {
        config.mcp_allowed_origins = vec!["https://Inspector.example/".into()];
        config.advertise_url = Some("https://tasks.example.com".into());
    })
    .await
    else {
        return;
    };
    let token = app.new_user().await;
    let own = app.url.clone();

    for origin in
        [None, Some(own.as_str()), Some("https://inspector.example"), Some("https://tasks.example.com")]
    {
        let (status, body) = rpc_from(&app, origin, Some(&token)).await;
        assert_eq!(status, 200, "{origin:?}: {body}");
        assert_eq!(body["result"]["serverInfo"]["name"], "todokit");
    }
    let port: u16 = app.url.rsplit(':').next().unwrap().parse().unwrap();
    let other_port = format!("http://127.0.0.1:{}", port.wrapping_add(1));
    for origin in
        ["https://evil.example", "http://inspector.example", other_port.as_str(), "null", "not an origin"]
    {
        let (status, body) = rpc_from(&app, Some(origin), Some(&token)).await;
        assert_eq!(status, 403, "{origin}: {body}");
        assert_eq!(body["error"]["code"], "forbidden", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("Origin"), "{body}");
    }
    let (status, body) = rpc_from(&app, Some("https://evil.example"), None).await;
    assert_eq!(status, 403, "the Origin is checked before the token: {body}");
}

#[tokio::test]
async fn mcp_tools_call_with_missing_or_malformed_params_is_invalid_params() {
    let Some(app) = spawn_app_with(Db::Sqlite, |_| {}).await else { return };
    let token = app.new_user().await;
    let call = |params: Option<Value>| {
        let mut body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call"});
        if let Some(params) = params {
            body["params"] = params;
        }
        body
    };
    for params in [None, Some(json!("create_task")), Some(json!([1, 2])), Some(json!(null)), Some(json!({}))]
    {
        let (status, _, body) = rpc(&app, None, Some(&token), call(params.clone())).await;
        assert_eq!(status, 200, "{params:?}: {body}");
        assert_eq!(body["id"], 7, "{body}");
        assert_eq!(body["error"]["code"], -32602, "{params:?}: {body}");
    }
    let (_, _, body) = rpc(
        &app,
        None,
        Some(&token),
        json!({"jsonrpc": "2.0", "id": 8, "method": "resources/read", "params": 3}),
    )
    .await;
    assert_eq!(body["error"]["code"], -32602, "{body}");
    let (_, _, body) = rpc(
        &app,
        None,
        Some(&token),
        json!({"jsonrpc": "2.0", "id": 9, "method": "tasks/nonsense", "params": {}}),
    )
    .await;
    assert_eq!(body["error"]["code"], -32601, "an unknown method is still method-not-found: {body}");
    let (_, _, body) = rpc(
        &app,
        None,
        Some(&token),
        json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "list_tasks", "arguments": {}}}),
    )
    .await;
    assert_eq!(body["result"]["isError"], false, "a well-formed call still works: {body}");
}

#[tokio::test]
async fn mcp_stdio_answers_a_line_that_is_not_json_and_keeps_serving() {
    use std::io::{BufRead, Read, Write};
    use std::process::{Command, Stdio};

    let Some(app) = spawn_app_with(Db::Sqlite, |_| {}).await else { return };
    let jwt = app.new_user().await;
    let created = app.post("/api/tokens", &jwt, json!({"name": "stdio"})).await.expect(201);
    let secret = created["token_secret"].as_str().unwrap().to_owned();

    let mut child = Command::new(env!("CARGO_BIN_EXE_todokit"))
        .arg("mcp")
        .env_clear()
        .env("TODOKIT_DATA_DIR", app.data_dir.path())
        .env("TODOKIT_TOKEN", &secret)
        .env("TODOKIT_TIMEZONE", "UTC")
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, replies) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let next_reply = || -> Value {
        let line = replies.recv_timeout(std::time::Duration::from_secs(60)).expect("a reply on stdout");
        serde_json::from_str(&line).unwrap_or_else(|err| panic!("{err}: {line}"))
    };

    stdin.write_all(b"this is {not json\n").unwrap();
    stdin.write_all(format!("{}\n", initialize()).as_bytes()).unwrap();
    stdin.flush().unwrap();
    let reply = next_reply();
    assert_eq!(reply["jsonrpc"], "2.0");
    assert_eq!(reply["id"], Value::Null, "{reply}");
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    let reply = next_reply();
    assert_eq!(reply["id"], 1, "{reply}");
    assert_eq!(reply["result"]["serverInfo"]["name"], "todokit", "{reply}");

    // Still serving after another bad line, in the middle of a session.
    stdin.write_all(b"{\"jsonrpc\": \"2.0\", \"method\": \"notifications/initialized\"}\n").unwrap();
    stdin.write_all(b"{\"truncated\": \n").unwrap();
    stdin
        .write_all(b"{\"jsonrpc\": \"2.0\", \"id\": 5, \"method\": \"tools/call\", \"params\": 1}\n")
        .unwrap();
    stdin.write_all(b"{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"tools/list\"}\n").unwrap();
    stdin.flush().unwrap();
    let reply = next_reply();
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    let reply = next_reply();
    assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (json!(5), json!(-32602)), "{reply}");
    let reply = next_reply();
    assert_eq!(reply["id"], 2, "{reply}");
    assert_eq!(reply["result"]["tools"].as_array().unwrap().len(), todokit::tools::definitions().len());

    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("serving MCP on stdio"), "{log}");
    assert!(!log.contains("\x1b["), "no colour codes when stderr is not a terminal: {log:?}");
}
