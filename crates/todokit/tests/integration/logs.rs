//! The real binary at debug level with JSON logs, driven through sign-up,
//! sign-in, sessions, access tokens, MCP and a chat with a model: no secret
//! ever appears in the log, every line is JSON, and each request's id
//! (the `x-request-id` response header) is on its log lines. And every model
//! run that fails, breaks off or times out leaves exactly one warning saying
//! which thread, which step and why.

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

/// Runs the binary with JSON logs against the model at `llm`, with `env` added.
async fn start_logged_server(llm: std::net::SocketAddr, env: &[(&str, &str)]) -> (Server, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_todokit"));
    command
        .args(["--log-format", "json", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data.path())
        .env_clear()
        .env("RUST_LOG", "info")
        .env("TODOKIT_JWT_SECRET", JWT_SECRET)
        .env("TODOKIT_LLM_BASE_URL", format!("http://{llm}/v1"))
        .env("TODOKIT_LLM_API_KEY", API_KEY)
        .env("TODOKIT_LLM_MODEL", "fake-model")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(data.path().join("server.log")).unwrap());
    for (name, value) in env {
        command.env(name, value);
    }
    let server = Server { child: command.spawn().unwrap(), url: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(format!("{}/healthz", server.url)).send().await.is_ok_and(|r| r.status() == 200) {
            return (server, data);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server did not start: {}", std::fs::read_to_string(data.path().join("server.log")).unwrap());
}

#[tokio::test]
async fn every_failed_model_run_is_logged_once_at_warn_with_its_thread_step_and_reason() {
    let fake = FakeLlm::builder().api_key(API_KEY).build();
    let llm = fake.spawn().await.unwrap();
    let (server, data) =
        start_logged_server(llm, &[("TODOKIT_LLM_MAX_RETRIES", "0"), ("TODOKIT_LLM_IDLE_TIMEOUT_SECS", "1")])
            .await;
    let client = reqwest::Client::new();
    let signed_up: Value = client
        .post(format!("{}/api/auth/sign-up", server.url))
        .json(&json!({"email": "runs@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = signed_up["token"].as_str().unwrap().to_owned();

    // Each failure on a thread of its own: (script, what the warning must name).
    let failures = [
        (
            json!({"fallback": {"error": {"status": 503, "body": "<html><title>503 Service Unavailable</title></html>"}}}),
            "503",
        ),
        (json!({"fallback": {"text": "one two three four", "hang": {"after_chunks": 2}}}), "silent"),
        (json!({"fallback": {"text": "one two three four", "disconnect_after_chunks": 2}}), "broke"),
        (
            json!({"turns": [{"tool_calls": [{"name": "list_tasks", "arguments": {}}]}],
                "fallback": {"error": {"status": 404, "body": "{\"detail\": \"Not Found\"}"}}}),
            "404",
        ),
    ];
    let mut threads = Vec::new();
    for (script, _) in &failures {
        fake.set_script(Script::from_json(&script.to_string()).unwrap());
        let events = client
            .post(format!("{}/api/chatkit", server.url))
            .bearer_auth(&jwt)
            .json(&json!({"type": "threads.create", "params": {"input": user_input("hello there")}}))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(events.contains(r#""type":"error""#), "the run failed: {events}");
        let created: Value =
            serde_json::from_str(events.lines().next().unwrap().strip_prefix("data: ").unwrap()).unwrap();
        threads.push(created["thread"]["id"].as_str().unwrap().to_owned());
    }
    drop(server);

    let log = std::fs::read_to_string(data.path().join("server.log")).unwrap();
    let lines: Vec<Value> = log.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let warnings: Vec<&Value> = lines
        .iter()
        .filter(|line| line["level"] == "WARN" && line["fields"]["message"] == "model run failed")
        .collect();
    assert_eq!(warnings.len(), failures.len(), "one warning per failed run: {warnings:#?}");
    for ((_, reason), thread_id) in failures.iter().zip(&threads) {
        let mine: Vec<&&Value> =
            warnings.iter().filter(|line| line["fields"]["thread_id"] == *thread_id).collect();
        assert_eq!(mine.len(), 1, "exactly one warning for {thread_id}: {warnings:#?}");
        let fields = &mine[0]["fields"];
        assert!(fields["reason"].as_str().unwrap().contains(reason), "{fields}");
        assert!(fields["step"].as_u64().is_some(), "{fields}");
    }
    // The provider's own words are in the log (not shown to the user), and the tool step counted.
    let not_found =
        &warnings.iter().find(|line| line["fields"]["thread_id"] == threads[3]).unwrap()["fields"];
    assert_eq!(not_found["step"], 2, "{not_found}");
    assert_eq!(not_found["provider_body"], "{\"detail\": \"Not Found\"}");
}

/// Text logs (the default format) written to a file carry no colour codes: they are
/// only for a terminal.
#[tokio::test]
async fn text_logs_written_to_a_file_have_no_colour_codes() {
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("server.log");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_todokit"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data.path())
        .env_clear()
        .env("RUST_LOG", "debug")
        .env("TODOKIT_JWT_SECRET", JWT_SECRET)
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
    let _ = client.get(format!("{}/api/tasks", server.url)).send().await;
    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(ready, "the server did not start: {log}");
    assert!(log.lines().count() > 2 && log.contains(" INFO "), "{log}");
    assert!(!log.contains('\x1b'), "colour codes in a log file: {log:?}");
}
