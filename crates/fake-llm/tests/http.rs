//! Black-box tests: the fake on a real port, driven with reqwest, streams parsed as SSE.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use todokit_fake_llm::{FakeLlm, Reply, Script, Shape, ToolCallSpec};

const OPENAI_PATH: &str = "/v1/chat/completions";
const GEMINI_PATH: &str = "/v1beta/openai/chat/completions";

/// Upper bound for anything a test waits on, so a regression fails instead of hanging.
const TEST_DEADLINE: Duration = Duration::from_secs(10);

async fn start(fake: &FakeLlm) -> SocketAddr {
    fake.spawn().await.expect("fake LLM binds a port")
}

fn chat_body(user: &str, stream: bool) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "stream": stream,
        "messages": [
            {"role": "system", "content": "You are a task assistant."},
            {"role": "user", "content": user},
        ],
    })
}

async fn post(address: SocketAddr, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{address}{path}"))
        .json(body)
        .send()
        .await
        .expect("request is sent")
}

/// One SSE event's data: parsed JSON, the `[DONE]` sentinel, or text that isn't JSON.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Chunk(Value),
    Done,
    NotJson(String),
}

/// Everything read from a stream, plus the transport error that ended it early, if any.
struct StreamRead {
    events: Vec<Event>,
    error: Option<reqwest::Error>,
}

impl StreamRead {
    fn chunks(&self) -> Vec<&Value> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Chunk(chunk) => Some(chunk),
                _ => None,
            })
            .collect()
    }

    fn deltas(&self) -> Vec<&Value> {
        self.chunks().into_iter().filter_map(|chunk| chunk.pointer("/choices/0/delta")).collect()
    }

    fn text(&self) -> String {
        self.deltas().iter().filter_map(|delta| delta.get("content").and_then(Value::as_str)).collect()
    }

    fn finish_reasons(&self) -> Vec<String> {
        self.chunks()
            .iter()
            .filter_map(|chunk| chunk.pointer("/choices/0/finish_reason"))
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    }

    /// All tool-call deltas, in order.
    fn tool_call_deltas(&self) -> Vec<Value> {
        self.deltas()
            .iter()
            .filter_map(|delta| delta.get("tool_calls").and_then(Value::as_array))
            .flatten()
            .cloned()
            .collect()
    }
}

async fn read_stream(response: reqwest::Response) -> StreamRead {
    assert_eq!(response.status(), 200);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/event-stream"), "{content_type}");
    let mut body = response.bytes_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    let mut error = None;
    while let Some(piece) =
        tokio::time::timeout(TEST_DEADLINE, body.next()).await.expect("stream makes progress")
    {
        match piece {
            Ok(bytes) => buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
            Err(failure) => {
                error = Some(failure);
                break;
            }
        }
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let data = event.trim_end().strip_prefix("data: ").expect("every event is a data line");
            events.push(if data == "[DONE]" {
                Event::Done
            } else {
                match serde_json::from_str(data) {
                    Ok(chunk) => Event::Chunk(chunk),
                    Err(_) => Event::NotJson(data.to_owned()),
                }
            });
        }
    }
    assert!(buffer.is_empty() || error.is_some(), "trailing bytes: {buffer:?}");
    StreamRead { events, error }
}

/// Reassembles OpenAI-shape tool calls by `index`: index → (id, name, arguments).
fn reassemble_by_index(deltas: &[Value]) -> BTreeMap<u64, (String, String, String)> {
    let mut calls: BTreeMap<u64, (String, String, String)> = BTreeMap::new();
    for delta in deltas {
        let index = delta["index"].as_u64().expect("OpenAI deltas carry an index");
        let call = calls.entry(index).or_default();
        if let Some(id) = delta.get("id").and_then(Value::as_str) {
            call.0 = id.to_owned();
        }
        if let Some(name) = delta.pointer("/function/name").and_then(Value::as_str) {
            call.1 = name.to_owned();
        }
        if let Some(arguments) = delta.pointer("/function/arguments").and_then(Value::as_str) {
            call.2.push_str(arguments);
        }
    }
    calls
}

#[tokio::test]
async fn default_script_echoes_in_openai_shape() {
    let fake = FakeLlm::new();
    let address = start(&fake).await;
    let read = read_stream(post(address, OPENAI_PATH, &chat_body("hello there", true)).await).await;

    assert_eq!(read.text(), "You said: hello there");
    assert_eq!(read.events.last(), Some(&Event::Done));
    let chunks = read.chunks();
    let first_id = chunks[0]["id"].as_str().unwrap();
    assert!(first_id.starts_with("chatcmpl-"), "{first_id}");
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], first_id, "one id per completion");
        assert_eq!(chunk["model"], "gpt-4o-mini");
        assert!(chunk["created"].is_u64());
        assert!(chunk.get("usage").is_none(), "no usage unless asked for");
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunks[0]["choices"][0]["delta"]["content"], "");
    assert!(chunks[1]["choices"][0]["finish_reason"].is_null());
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["delta"], json!({}));
    assert_eq!(read.finish_reasons(), ["stop"]);
    // One word per chunk by default: "You ", "said: ", "hello ", "there".
    assert_eq!(chunks.len(), 1 + 4 + 1);
}

#[tokio::test]
async fn openai_parallel_tool_calls_stream_indexed_argument_fragments() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        turns: vec![Reply {
            tool_calls: vec![
                ToolCallSpec::new("create_task", json!({"title": "buy milk", "priority": "high"})),
                ToolCallSpec::new("create_task", json!({"title": "call mom", "tags": ["family"]})),
            ],
            argument_fragment_chars: Some(5),
            ..Reply::default()
        }],
        ..Script::default()
    });
    let address = start(&fake).await;
    let read = read_stream(post(address, OPENAI_PATH, &chat_body("two tasks", true)).await).await;

    let deltas = read.tool_call_deltas();
    assert!(deltas.iter().all(|delta| delta.get("extra_content").is_none()));
    let fragments_of_first =
        deltas.iter().filter(|delta| delta["index"] == 0 && delta.get("id").is_none()).count();
    assert!(fragments_of_first >= 3, "arguments arrive in fragments");
    // Only the opening delta of each call carries id, type and name.
    assert_eq!(deltas.iter().filter(|delta| delta.get("id").is_some()).count(), 2);
    let calls = reassemble_by_index(&deltas);
    assert_eq!(calls.len(), 2);
    assert!(calls[&0].0.starts_with("call_"));
    assert_ne!(calls[&0].0, calls[&1].0);
    let arguments: Vec<Value> = calls
        .values()
        .map(|(_, name, arguments)| {
            assert_eq!(name, "create_task");
            serde_json::from_str(arguments).expect("fragments reassemble to valid JSON")
        })
        .collect();
    assert_eq!(
        arguments,
        [json!({"title": "buy milk", "priority": "high"}), json!({"title": "call mom", "tags": ["family"]})]
    );
    // Tools only: the first delta opens the message with role and `content: null`.
    let first_delta = read.deltas()[0].clone();
    assert_eq!(first_delta["role"], "assistant");
    assert!(first_delta["content"].is_null());
    assert_eq!(read.finish_reasons(), ["tool_calls"]);
    assert_eq!(read.events.last(), Some(&Event::Done));
}

#[tokio::test]
async fn gemini_shape_has_no_index_a_signature_and_finish_stop() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        turns: vec![Reply {
            tool_calls: vec![
                ToolCallSpec::new("create_task", json!({"title": "buy milk"})),
                ToolCallSpec {
                    thought_signature: Some("sig-second".to_owned()),
                    ..ToolCallSpec::new("list_tasks", json!({}))
                },
            ],
            ..Reply::default()
        }],
        ..Script::default()
    });
    let address = start(&fake).await;
    let mut body = chat_body("milk", true);
    body["model"] = json!("models/gemini-2.5-flash");
    let read = read_stream(post(address, GEMINI_PATH, &body).await).await;

    let chunks = read.chunks();
    assert_eq!(chunks.len(), 1, "Gemini sends the tool calls in one chunk");
    let chunk = chunks[0];
    assert_eq!(chunk["object"], "chat.completion.chunk");
    assert_eq!(chunk["model"], "gemini-2.5-flash");
    assert!(!chunk["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(chunk.get("system_fingerprint").is_none());
    assert_eq!(chunk["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunk["choices"][0]["finish_reason"], "stop");
    assert!(chunk["usage"]["total_tokens"].as_u64().unwrap() > 0);

    let deltas = read.tool_call_deltas();
    assert_eq!(deltas.len(), 2);
    for delta in &deltas {
        assert!(delta.get("index").is_none(), "Gemini leaves out index: {delta}");
        assert_eq!(delta["type"], "function");
        assert!(delta["id"].as_str().is_some_and(|id| !id.is_empty()));
        let arguments = delta["function"]["arguments"].as_str().unwrap();
        serde_json::from_str::<Value>(arguments).expect("complete arguments in one delta");
        let signature = delta
            .pointer("/extra_content/google/thought_signature")
            .and_then(Value::as_str)
            .expect("every tool call carries a thought signature");
        assert!(!signature.is_empty());
    }
    assert_eq!(deltas[1]["extra_content"]["google"]["thought_signature"], "sig-second");
    assert_eq!(read.finish_reasons(), ["stop"]);
    assert_eq!(read.events.last(), Some(&Event::Done));
}

#[tokio::test]
async fn gemini_text_streams_with_role_on_every_delta_and_usage_at_the_end() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        fallback: Some(Reply {
            text: Some("Hello from Gemini".to_owned()),
            chunk: Some(todokit_fake_llm::Chunking::Chars(4)),
            ..Reply::default()
        }),
        ..Script::default()
    });
    let address = start(&fake).await;
    let read = read_stream(post(address, GEMINI_PATH, &chat_body("hi", true)).await).await;

    assert_eq!(read.text(), "Hello from Gemini");
    let chunks = read.chunks();
    assert_eq!(chunks.len(), "Hello from Gemini".len().div_ceil(4));
    assert!(read.deltas().iter().all(|delta| delta["role"] == "assistant"));
    let (last, earlier) = chunks.split_last().unwrap();
    assert!(
        earlier
            .iter()
            .all(|chunk| chunk.get("usage").is_none() && chunk["choices"][0].get("finish_reason").is_none())
    );
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(last["usage"]["completion_tokens"].is_u64());
}

#[tokio::test]
async fn openai_usage_chunk_only_when_requested() {
    let fake = FakeLlm::new();
    let address = start(&fake).await;
    let mut body = chat_body("count me", true);
    body["stream_options"] = json!({"include_usage": true});
    let read = read_stream(post(address, OPENAI_PATH, &body).await).await;

    let chunks = read.chunks();
    let (usage_chunk, others) = chunks.split_last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    let usage = &usage_chunk["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    assert!(others.iter().all(|chunk| chunk["usage"].is_null() && chunk.get("usage").is_some()));
    assert_eq!(read.events.last(), Some(&Event::Done));
}

#[tokio::test]
async fn history_and_thought_signature_are_recorded_for_turn_two() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        turns: vec![
            Reply {
                tool_calls: vec![ToolCallSpec {
                    thought_signature: Some("opaque-sig-123".to_owned()),
                    ..ToolCallSpec::new("create_task", json!({"title": "milk"}))
                }],
                ..Reply::default()
            },
            Reply::text("Added milk."),
        ],
        ..Script::default()
    });
    let address = start(&fake).await;

    let first = read_stream(post(address, GEMINI_PATH, &chat_body("add milk", true)).await).await;
    let call = first.tool_call_deltas()[0].clone();
    let mut second_body = chat_body("add milk", true);
    let messages = second_body["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call.clone()]}));
    messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "{\"success\":true}"}));
    let second = read_stream(post(address, GEMINI_PATH, &second_body).await).await;
    assert_eq!(second.text(), "Added milk.");

    let bodies = fake.request_bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["messages"].as_array().unwrap().len(), 4, "history was sent");
    assert_eq!(
        bodies[1]["messages"][2]["tool_calls"][0]["extra_content"]["google"]["thought_signature"],
        "opaque-sig-123"
    );
    // The control API reports the same, with the path.
    let recorded: Vec<Value> =
        reqwest::get(format!("http://{address}/_fake/requests")).await.unwrap().json().await.unwrap();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1]["path"], GEMINI_PATH);
    assert_eq!(recorded[1]["body"], bodies[1]);
}

#[tokio::test]
async fn rate_limit_error_has_retry_after_and_openai_body() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        fallback: Some(Reply {
            error: Some(todokit_fake_llm::ErrorSpec {
                status: 429,
                retry_after_secs: Some(7),
                ..Default::default()
            }),
            ..Reply::default()
        }),
        ..Script::default()
    });
    let address = start(&fake).await;

    let response = post(address, OPENAI_PATH, &chat_body("hi", true)).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert!(body["error"]["message"].is_string());
    assert!(body["error"].get("param").is_some());

    let response = post(address, GEMINI_PATH, &chat_body("hi", false)).await;
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body[0]["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(body[0]["error"]["code"], 429);
}

#[tokio::test]
async fn fail_first_n_then_succeed() {
    let script =
        Script::from_json(r#"{"turns": [{"text": "finally", "error": {"status": 503, "fail_first": 2}}]}"#)
            .unwrap();
    let fake = FakeLlm::builder().script(script).build();
    let address = start(&fake).await;

    let mut statuses = Vec::new();
    for _ in 0..2 {
        let response = post(address, OPENAI_PATH, &chat_body("retry me", true)).await;
        statuses.push(response.status().as_u16());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], "server_error");
    }
    let read = read_stream(post(address, OPENAI_PATH, &chat_body("retry me", true)).await).await;
    assert_eq!(statuses, [503, 503]);
    assert_eq!(read.text(), "finally");
    assert_eq!(fake.requests().len(), 3, "failed attempts are recorded too");
}

#[tokio::test]
async fn malformed_chunk_is_not_json_and_the_stream_carries_on() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        fallback: Some(Reply {
            text: Some("one two three".to_owned()),
            malformed_after_chunks: Some(2),
            ..Reply::default()
        }),
        ..Script::default()
    });
    let address = start(&fake).await;
    let read = read_stream(post(address, OPENAI_PATH, &chat_body("hi", true)).await).await;

    assert!(matches!(read.events[2], Event::NotJson(_)), "{:?}", read.events);
    assert_eq!(read.events.iter().filter(|event| matches!(event, Event::NotJson(_))).count(), 1);
    assert_eq!(read.text(), "one two three");
    assert_eq!(read.events.last(), Some(&Event::Done));
}

#[tokio::test]
async fn invalid_arguments_and_unknown_tools_are_sent_verbatim() {
    let fake = FakeLlm::new();
    fake.set_script(
        Script::from_json(
            r#"{"fallback": {"tool_calls": [
            {"name": "create_task", "raw_arguments": "{\"title\": \"unterminated"},
            {"name": "launch_rockets", "arguments": {"count": 3}}
        ]}}"#,
        )
        .unwrap(),
    );
    let address = start(&fake).await;
    let read = read_stream(post(address, OPENAI_PATH, &chat_body("hi", true)).await).await;

    let calls = reassemble_by_index(&read.tool_call_deltas());
    assert_eq!(calls[&0].2, "{\"title\": \"unterminated");
    assert!(serde_json::from_str::<Value>(&calls[&0].2).is_err());
    assert_eq!(calls[&1].1, "launch_rockets");
}

#[tokio::test]
async fn disconnect_mid_stream_ends_without_done() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        fallback: Some(Reply { words: Some(10), disconnect_after_chunks: Some(3), ..Reply::default() }),
        ..Script::default()
    });
    let address = start(&fake).await;
    let read = read_stream(post(address, OPENAI_PATH, &chat_body("hi", true)).await).await;

    assert_eq!(read.events.len(), 3);
    assert!(!read.events.contains(&Event::Done));
    assert!(read.error.is_some(), "the client sees a broken body");
}

#[tokio::test]
async fn hang_after_headers_makes_the_client_time_out() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        fallback: Some(Reply { hang: Some(todokit_fake_llm::Hang::AfterHeaders), ..Reply::default() }),
        ..Script::default()
    });
    let address = start(&fake).await;
    let client = reqwest::Client::builder().read_timeout(Duration::from_millis(200)).build().unwrap();

    let response = tokio::time::timeout(
        TEST_DEADLINE,
        client.post(format!("http://{address}{OPENAI_PATH}")).json(&chat_body("hi", true)).send(),
    )
    .await
    .expect("bounded")
    .expect("headers arrive");
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let outcome = tokio::time::timeout(TEST_DEADLINE, body.next()).await.expect("bounded");
    let error = outcome.expect("stream yields an error").unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
}

#[tokio::test]
async fn hang_before_headers_makes_the_client_time_out() {
    let fake = FakeLlm::new();
    fake.set_script(Script::from_json(r#"{"fallback": {"hang": "before_headers"}}"#).unwrap());
    let address = start(&fake).await;
    let client = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().unwrap();

    let outcome = tokio::time::timeout(
        TEST_DEADLINE,
        client.post(format!("http://{address}{OPENAI_PATH}")).json(&chat_body("hi", false)).send(),
    )
    .await
    .expect("bounded");
    assert!(outcome.unwrap_err().is_timeout());
    assert_eq!(fake.requests().len(), 1, "the request was accepted");
}

#[tokio::test]
async fn hang_after_chunks_stops_mid_stream() {
    let fake = FakeLlm::new();
    fake.set_script(Script::from_json(r#"{"fallback": {"words": 5, "hang": {"after_chunks": 2}}}"#).unwrap());
    let address = start(&fake).await;
    let client = reqwest::Client::builder().read_timeout(Duration::from_millis(200)).build().unwrap();
    let response = client
        .post(format!("http://{address}{OPENAI_PATH}"))
        .json(&chat_body("hi", true))
        .send()
        .await
        .unwrap();
    let read = read_stream(response).await;
    assert_eq!(read.events.len(), 2);
    assert!(read.error.expect("read times out").is_timeout());
}

#[tokio::test]
async fn non_streaming_openai_completion() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        turns: vec![Reply::tool_call("create_task", json!({"title": "milk"})), Reply::text("Done.")],
        ..Script::default()
    });
    let address = start(&fake).await;

    let body: Value = post(address, OPENAI_PATH, &chat_body("add milk", false)).await.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "create_task");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"title": "milk"})
    );
    assert!(body["usage"]["total_tokens"].is_u64());

    let body: Value = post(address, OPENAI_PATH, &chat_body("thanks", false)).await.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Done.");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(body["choices"][0]["message"].get("tool_calls").is_none());
}

#[tokio::test]
async fn non_streaming_gemini_completion_keeps_signature_and_stop() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        shape: Some(Shape::Gemini),
        fallback: Some(Reply::tool_call("create_task", json!({"title": "milk"}))),
        ..Script::default()
    });
    let address = start(&fake).await;
    // The script's shape wins over the OpenAI path.
    let body: Value = post(address, OPENAI_PATH, &chat_body("add milk", false)).await.json().await.unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    assert!(call.get("index").is_none());
    assert!(call["extra_content"]["google"]["thought_signature"].is_string());
}

#[tokio::test]
async fn api_key_is_enforced_when_configured() {
    let fake = FakeLlm::builder().api_key("secret").build();
    let address = start(&fake).await;
    let client = reqwest::Client::new();
    let url = format!("http://{address}{OPENAI_PATH}");

    let missing = client.post(&url).json(&chat_body("hi", false)).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let wrong = client.post(&url).bearer_auth("nope").json(&chat_body("hi", false)).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");

    let right = client.post(&url).bearer_auth("secret").json(&chat_body("hi", false)).send().await.unwrap();
    assert_eq!(right.status(), 200);

    let models =
        client.get(format!("http://{address}/v1/models")).bearer_auth("secret").send().await.unwrap();
    let models: Value = models.json().await.unwrap();
    assert_eq!(models["object"], "list");
    assert!(models["data"][0]["id"].is_string());
    assert_eq!(fake.requests()[0].authorization.as_deref(), Some("Bearer secret"));
}

#[tokio::test]
async fn invalid_request_body_gets_400() {
    let fake = FakeLlm::new();
    let address = start(&fake).await;
    let response = reqwest::Client::new()
        .post(format!("http://{address}{OPENAI_PATH}"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn control_api_replaces_the_script_and_resets() {
    let fake = FakeLlm::new();
    let address = start(&fake).await;
    let client = reqwest::Client::new();

    let replaced = client
        .post(format!("http://{address}/_fake/script"))
        .json(&json!({"rules": [
            {"when": {"last_is_tool_result": true}, "respond": {"text": "tool seen"}},
            {"when": {"user_contains": "WEATHER"}, "respond": {"text": "sunny"}}
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 204);

    let read = read_stream(post(address, OPENAI_PATH, &chat_body("what's the weather?", true)).await).await;
    assert_eq!(read.text(), "sunny");
    let mut after_tool = chat_body("weather", true);
    after_tool["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "tool", "tool_call_id": "x", "content": "ok"}));
    let read = read_stream(post(address, OPENAI_PATH, &after_tool).await).await;
    assert_eq!(read.text(), "tool seen");
    assert_eq!(fake.requests().len(), 2);

    let reset = client.post(format!("http://{address}/_fake/reset")).send().await.unwrap();
    assert_eq!(reset.status(), 204);
    assert!(fake.requests().is_empty());
    let read = read_stream(post(address, OPENAI_PATH, &chat_body("weather", true)).await).await;
    assert_eq!(read.text(), "You said: weather", "back to the starting (echo) script");
}

#[tokio::test]
async fn benchmark_rules_create_a_task_then_reply_twenty_words() {
    let fake = FakeLlm::builder().script(Script::benchmark(0)).record_limit(0).build();
    let address = start(&fake).await;

    let read = read_stream(post(address, OPENAI_PATH, &chat_body("Add buy oat milk", true)).await).await;
    let calls = reassemble_by_index(&read.tool_call_deltas());
    assert_eq!(calls[&0].1, "create_task");
    assert_eq!(serde_json::from_str::<Value>(&calls[&0].2).unwrap(), json!({"title": "buy oat milk"}));

    let mut after_tool = chat_body("Add buy oat milk", true);
    after_tool["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "tool", "tool_call_id": calls[&0].0, "content": "{}"}));
    let read = read_stream(post(address, OPENAI_PATH, &after_tool).await).await;
    assert_eq!(read.text().split_whitespace().count(), 20);
    assert!(fake.requests().is_empty(), "record_limit 0 records nothing");
}

#[tokio::test]
async fn many_concurrent_streams_complete() {
    let fake = FakeLlm::builder().script(Script::benchmark(1)).record_limit(0).build();
    let address = start(&fake).await;
    let streams = (0..50).map(|n| async move {
        read_stream(post(address, OPENAI_PATH, &chat_body(&format!("add task {n}"), true)).await).await
    });
    let reads = futures::future::join_all(streams).await;
    assert!(reads.iter().all(|read| read.events.last() == Some(&Event::Done)));
}

#[tokio::test]
async fn stamped_benchmark_words_carry_their_send_time() {
    let mut script = Script::benchmark(0);
    script.benchmark.as_mut().unwrap().stamp_words = true;
    let fake = FakeLlm::builder().script(script).build();
    let address = start(&fake).await;
    let micros = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros();
    let body = json!({"model": "m", "stream": true, "messages": [
        {"role": "user", "content": "add milk"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "create_task", "arguments": "{\"title\":\"milk\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{}"},
    ]});
    let before = micros();
    let read = read_stream(post(address, OPENAI_PATH, &body).await).await;
    let after = micros();

    let stamps: Vec<u128> = read
        .text()
        .split_whitespace()
        .map(|word| word.strip_prefix('@').expect("a stamped word").parse().expect("microseconds"))
        .collect();
    assert_eq!(stamps.len(), 20, "one stamp per reply word");
    assert!(stamps.windows(2).all(|pair| pair[0] <= pair[1]), "{stamps:?}");
    assert!(before <= stamps[0] && stamps[19] <= after, "{before} {stamps:?} {after}");
}

/// The raw bytes of a streamed response.
async fn raw_body(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    tokio::time::timeout(TEST_DEADLINE, response.text()).await.expect("the stream ends").unwrap()
}

/// The JSON payloads of a CRLF-framed stream, checking the framing on the way.
fn crlf_events(body: &str) -> Vec<&str> {
    assert!(body.ends_with("data: [DONE]\r\n\r\n"), "{body}");
    let events: Vec<&str> = body.split("\r\n\r\n").filter(|event| !event.is_empty()).collect();
    events
        .iter()
        .map(|event| event.strip_prefix("data: ").expect("every event is one data line"))
        .filter(|data| *data != "[DONE]")
        .collect()
}

#[tokio::test]
async fn llama_cpp_style_text_is_spaced_crlf_framed_and_ends_with_its_own_finish_chunk() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        shape: Some(Shape::LlamaCpp),
        turns: vec![Reply::text("Voilà, done.")],
        ..Script::default()
    });
    let address = start(&fake).await;
    let mut body = chat_body("hi", true);
    body["stream_options"] = json!({"include_usage": true});
    let raw = raw_body(post(address, OPENAI_PATH, &body).await).await;
    let events = crlf_events(&raw);
    // Python's json.dumps: spaced separators, non-ASCII escaped.
    assert!(events[0].starts_with(r#"{"id": "chatcmpl-"#), "{}", events[0]);
    assert!(raw.contains(r#"Voil\u00e0"#) && !raw.contains('à'), "{raw}");
    let chunks: Vec<Value> = events.iter().map(|event| serde_json::from_str(event).unwrap()).collect();
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant"}), "a role-only first chunk");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["delta"], json!({}), "the finish reason comes alone");
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    let text: String =
        chunks.iter().filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, "Voilà, done.");
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert!(chunk["choices"][0].get("logprobs").is_some_and(Value::is_null), "{chunk}");
        assert!(chunk.get("usage").is_none(), "no usage, even when asked: {chunk}");
    }
}

#[tokio::test]
async fn llama_cpp_style_tool_calls_repeat_index_id_and_name_on_every_fragment() {
    let fake = FakeLlm::new();
    fake.set_script(Script {
        shape: Some(Shape::LlamaCpp),
        turns: vec![Reply {
            argument_fragment_chars: Some(4),
            ..Reply::tool_call("complete_task", json!({"task_id": "3"}))
        }],
        ..Script::default()
    });
    let address = start(&fake).await;
    let raw = raw_body(post(address, OPENAI_PATH, &chat_body("done with 3", true)).await).await;
    let chunks: Vec<Value> =
        crlf_events(&raw).iter().map(|event| serde_json::from_str(event).unwrap()).collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let fragments: Vec<&Value> =
        chunks.iter().filter_map(|chunk| chunk["choices"][0]["delta"]["tool_calls"].get(0)).collect();
    assert!(fragments.len() > 2, "{raw}");
    let mut arguments = String::new();
    for fragment in &fragments {
        assert_eq!(fragment["index"], 0);
        assert_eq!(fragment["type"], "function");
        assert_eq!(fragment["function"]["name"], "complete_task", "the name on every fragment");
        assert!(fragment["id"].as_str().unwrap().starts_with("call__0_complete_task_cmpl-"), "{fragment}");
        arguments.push_str(fragment["function"]["arguments"].as_str().unwrap());
    }
    assert_eq!(serde_json::from_str::<Value>(&arguments).unwrap(), json!({"task_id": "3"}));
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn llama_cpp_style_refuses_a_history_with_tool_arguments_that_are_not_json() {
    let fake = FakeLlm::new();
    fake.set_script(Script { shape: Some(Shape::LlamaCpp), ..Script::default() });
    let address = start(&fake).await;
    let history = |arguments: &str| {
        let mut body = chat_body("and now?", true);
        body["messages"] = json!([
            {"role": "user", "content": "done with 3"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "complete_task", "arguments": arguments}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "{\"success\": false}"},
            {"role": "user", "content": "and now?"},
        ]);
        body
    };
    let refused = post(address, OPENAI_PATH, &history(r#"{"task_id":"3"}{"task_id":"3"}"#)).await;
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["message"], "Extra data: line 1 column 16 (char 15)");
    let accepted = post(address, OPENAI_PATH, &history("{}")).await;
    assert_eq!(accepted.status(), 200);
}

#[tokio::test]
async fn a_prompt_beyond_the_context_size_is_refused_in_each_shape() {
    let fake = FakeLlm::new();
    let address = start(&fake).await;
    let long = chat_body(&"word ".repeat(400), true);
    for (shape, path, wording) in [
        (Shape::Openai, OPENAI_PATH, "context_length_exceeded"),
        (Shape::LlamaCpp, OPENAI_PATH, "maximum context length is 100 tokens"),
        (Shape::Gemini, GEMINI_PATH, "exceeds the maximum number of tokens"),
    ] {
        fake.set_script(Script { shape: Some(shape), context_tokens: Some(100), ..Script::default() });
        let refused = post(address, path, &long).await;
        assert_eq!(refused.status(), 400, "{shape:?}");
        let body = refused.text().await.unwrap();
        assert!(body.contains(wording), "{shape:?}: {body}");
        assert_eq!(post(address, path, &chat_body("short", true)).await.status(), 200, "{shape:?}");
    }
}

#[tokio::test]
async fn scripted_error_bodies_are_sent_verbatim_with_a_fitting_content_type() {
    let fake = FakeLlm::new();
    let address = start(&fake).await;
    for (body, content_type) in [
        (r#"{"detail": "Not Found"}"#, "application/json"),
        ("<html><title>502 Bad Gateway</title></html>", "text/html; charset=utf-8"),
        ("upstream connect error", "text/plain; charset=utf-8"),
    ] {
        fake.set_script(Script {
            fallback: Some(Reply {
                error: Some(todokit_fake_llm::ErrorSpec {
                    status: 502,
                    body: Some(body.into()),
                    ..Default::default()
                }),
                ..Reply::default()
            }),
            ..Script::default()
        });
        let response = post(address, OPENAI_PATH, &chat_body("hi", true)).await;
        assert_eq!(response.status(), 502);
        assert_eq!(response.headers()[reqwest::header::CONTENT_TYPE], content_type);
        assert_eq!(response.text().await.unwrap(), body);
    }
}
