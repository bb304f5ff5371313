//! The real binary at debug level with JSON logs, driven through sign-up,
//! sign-in, sessions, access tokens, MCP and a chat with a model: no secret
//! ever appears in the log, every line is JSON, and each request's id
//! (the `x-request-id` response header) is on its log lines.

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use todokit_fake_llm::{FakeLlm, Reply, Script};

use crate::chat::user_input;

const JWT_SECRET: &str = "log-test-jwt-secret-log-test-jwt-secret-0000";
const API_KEY: &str = "sk-log-test-api-key-1111111111111111";
const PASSWORD: &str = "my very secret password 2222";

struct Server {
    child: std::process::Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn secrets_never_reach_the_log_and_requests_carry_their_id() {
    let fake = FakeLlm::builder()
        .api_key(API_KEY)
        .script(Script { fallback: Some(Reply::text("Noted, all good.")), ..Script::default() })
        .build();
    let llm = fake.spawn().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("server.log");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_todokit"))
        .args(["--log-format", "json", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data.path())
        .env_clear()
        .env("RUST_LOG", "debug")
        .env("TODOKIT_JWT_SECRET", JWT_SECRET)
        .env("TODOKIT_LLM_BASE_URL", format!("http://{llm}/v1"))
        .env("TODOKIT_LLM_API_KEY", API_KEY)
        .env("TODOKIT_LLM_MODEL", "fake-model")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let server = Server { child, url: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..600 {
        if client.get(format!("{}/healthz", server.url)).send().await.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "the server did not start: {}", std::fs::read_to_string(&log_path).unwrap());

    let mut request_ids = Vec::new();
    let mut send = async |request: reqwest::RequestBuilder| -> Value {
        let response = request.send().await.unwrap();
        request_ids.push(response.headers()["x-request-id"].to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    let url = |path: &str| format!("{}{path}", server.url);
    let credentials = json!({"email": "logs@example.com", "password": PASSWORD});
    let signed_up = send(client.post(url("/api/auth/sign-up")).json(&credentials)).await;
    let jwt = signed_up["token"].as_str().unwrap().to_owned();
    send(
        client
            .post(url("/api/auth/sign-in"))
            .json(&json!({"email": "logs@example.com", "password": "wrong one"})),
    )
    .await;
    let signed_in = send(client.post(url("/api/auth/sign-in")).json(&credentials)).await;
    let jwt2 = signed_in["token"].as_str().unwrap().to_owned();
    send(client.get(url("/api/auth/session")).header("cookie", format!("auth_token={jwt2}"))).await;
    send(client.get(url(&format!("/api/tasks?token={jwt}"))).bearer_auth("not-a-valid-token")).await;
    let pat =
        send(client.post(url("/api/tokens")).bearer_auth(&jwt).json(&json!({"name": "log test"}))).await;
    let pat = pat["token_secret"].as_str().unwrap().to_owned();
    send(client.post(url("/api/tasks")).bearer_auth(&pat).json(&json!({"title": "Log test task"}))).await;
    send(
        client
            .post(url("/mcp"))
            .bearer_auth(&pat)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "list_tasks", "arguments": {}}})),
    )
    .await;
    let chat = send(
        client
            .post(url("/api/chatkit"))
            .bearer_auth(&jwt)
            .json(&json!({"type": "threads.create", "params": {"input": user_input("hello there")}})),
    )
    .await;
    assert!(chat.to_string().contains("Noted, all good."), "the model answered: {chat}");
    send(client.post(url("/api/auth/sign-out")).bearer_auth(&jwt)).await;
    assert!(fake.requests().iter().all(|r| r.authorization.as_deref() == Some(&format!("Bearer {API_KEY}"))));

    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.lines().count() > 20, "debug logging is on: {log}");
    for line in log.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"));
    }
    for (what, secret) in [
        ("password", PASSWORD),
        ("session token", jwt.as_str()),
        ("second session token", jwt2.as_str()),
        ("access token", pat.as_str()),
        ("API key", API_KEY),
        ("JWT secret", JWT_SECRET),
    ] {
        assert!(!log.contains(secret), "the {what} was logged");
        // Not even a recognisable piece of it (e.g. a JWT's signature part).
        let tail = &secret[secret.len() - 16..];
        assert!(!log.contains(tail), "part of the {what} was logged");
    }
    for id in &request_ids {
        let tagged = log.lines().filter(|line| line.contains(id.as_str())).count();
        assert!(tagged > 0, "no log line carries request id {id}");
    }
}
