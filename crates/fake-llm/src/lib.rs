//! A scripted fake of an OpenAI-compatible Chat Completions server, for todokit's end-to-end
//! tests and benchmarks. **A test double only: never configure it as a default anywhere.**
//!
//! It speaks two wire shapes faithfully:
//!
//! * **OpenAI** (`POST /v1/chat/completions`): streamed `chat.completion.chunk` events with a
//!   role chunk, content pieces, tool-call deltas carrying `index` (id and name first, then the
//!   arguments in several fragments), a finish chunk (`"tool_calls"` or `"stop"`), a
//!   `choices: []` usage chunk when `stream_options.include_usage` is true, then `data: [DONE]`.
//! * **Gemini's OpenAI-compatible endpoint** (`POST /v1beta/openai/chat/completions`):
//!   `role: "assistant"` on every delta, tool-call deltas **without `index`**, each tool call
//!   complete in one chunk with `extra_content.google.thought_signature`,
//!   `finish_reason: "stop"` even after tool calls (on the last content chunk, together with
//!   `usage`), Gemini-style ids, and errors as `[{"error": {"code", "message", "status"}}]`.
//!
//! * **llama.cpp** as `llama-cpp-python[server]` serves it (script `"shape": "llama.cpp"`, on the
//!   OpenAI path): Python's spaced JSON with non-ASCII escaped, `\r\n\r\n`-framed events, a
//!   role-only first chunk, `logprobs: null` everywhere, the finish reason in a chunk of its own
//!   (`delta: {}` after text), no usage chunk; tool-call fragments repeat `index`, `id`, `type`
//!   and the name (plus the legacy `function_call`). Like the real server it parses the
//!   history: tool-call arguments that are not JSON fail the request (400, "Extra data: …").
//!
//! All answer without streaming too (`chat.completion` JSON), and `GET /v1/models` /
//! `GET /v1beta/openai/models` list a model. When an API key is configured, requests without
//! `Authorization: Bearer <key>` get `401` in the OpenAI error shape.
//!
//! # Starting it in a test
//!
//! ```no_run
//! use todokit_fake_llm::{FakeLlm, Reply, Script};
//!
//! # async fn example() -> std::io::Result<()> {
//! let fake = FakeLlm::builder().api_key("test-key").build();
//! let addr = fake.spawn().await?; // 127.0.0.1:<random port>, runs until the runtime stops
//! let base_url = format!("http://{addr}/v1"); // or /v1beta/openai for the Gemini shape
//! fake.set_script(Script {
//!     turns: vec![
//!         Reply::tool_call("create_task", serde_json::json!({"title": "milk"})),
//!         Reply::text("Added milk."),
//!     ],
//!     ..Script::default()
//! });
//! // ... drive the client against base_url ...
//! let bodies = fake.request_bodies(); // every chat request body, oldest first
//! # Ok(()) }
//! ```
//!
//! Or with a listener you bound yourself: [`serve`]`(listener, fake.clone())`.
//!
//! # Control API
//!
//! The same operations over HTTP, for tests that run the binary:
//!
//! * `POST /_fake/script` with a script as JSON: replace the script (progress starts over).
//! * `GET /_fake/script`: the current script.
//! * `GET /_fake/requests`: `[{"path", "authorization", "body"}, ...]`, oldest first (the
//!   last 1000 by default; requests refused for a bad key or an unreadable body aren't kept).
//! * `POST /_fake/reset`: back to the starting script, recorded requests cleared.
//!
//! # Script format
//!
//! ```json
//! {
//!   "shape": "gemini",
//!   "model": "gemini-2.5-flash",
//!   "turns": [
//!     {"error": {"status": 429, "retry_after_secs": 1, "fail_first": 1},
//!      "tool_calls": [
//!        {"name": "create_task", "arguments": {"title": "buy milk"}},
//!        {"name": "create_task", "arguments": {"title": "call mom"},
//!         "thought_signature": "sig-2"}
//!      ]},
//!     {"text": "Both tasks are added.", "chunk": {"chars": 5}, "chunk_delay_ms": 10}
//!   ],
//!   "rules": [
//!     {"when": {"user_contains": "slow"}, "respond": {"words": 50, "first_chunk_delay_ms": 500}},
//!     {"when": {"user_contains": "break"}, "respond": {"text": "a b c", "disconnect_after_chunks": 2}},
//!     {"when": {"last_is_tool_result": true}, "respond": {"text": "Done."}}
//!   ],
//!   "fallback": {"text": "I did not understand."},
//!   "context_tokens": 8192
//! }
//! ```
//!
//! With `context_tokens`, a request whose prompt (messages and tools, four characters a token) is
//! larger is refused with the shape's "context exceeded" 400, whatever the script says.
//! The first request here fails with `429` and `Retry-After: 1`; the retry gets two parallel
//! tool calls; the next request gets the text. Later requests go through the rules.
//!
//! How a reply is chosen for each request:
//!
//! 1. **`turns`**, one per request, in order. A turn whose error has `fail_first: N` stays current
//!    until it has failed N times and then answered.
//! 2. The built-in **`benchmark`** rules, if `"benchmark": {...}` is set: a user message
//!    containing `add ` (any case) gets one `create_task` call with `{"title": <rest of the
//!    message>}`; a request whose last message is a `tool` result gets a `reply_words`-word text
//!    (default 20). Fields: `first_chunk_delay_ms`, `chunk_delay_ms`, `reply_words`,
//!    `stamp_words` (the reply's words carry their send time, see `stamp_content`).
//! 3. **`rules`**, first match wins. `when.user_contains` is a case-insensitive substring of the
//!    latest user message; `when.last_is_tool_result` tests whether the last message has
//!    `role: "tool"`. Both must hold when both are given; `{}` matches everything.
//! 4. **`fallback`**, else an echo (`"You said: <latest user message>"`).
//!
//! The shape is the reply's `shape`, else the script's `shape`, else the one the request path
//! implies (`/v1beta/openai/...` → Gemini, otherwise OpenAI).
//!
//! A **reply** (every field optional; no `text`, `words` or `tool_calls` means echo):
//!
//! | field | meaning |
//! |---|---|
//! | `text` | exact assistant text |
//! | `words` | generated text of N words |
//! | `tool_calls` | `[{"name", "arguments": {..}, "raw_arguments": "<sent verbatim, e.g. invalid JSON>", "id", "thought_signature", "omit_thought_signature": true}]`; several = parallel calls; any name works, including unknown tools |
//! | `chunk` | `{"words": K}` (default `{"words": 1}`) or `{"chars": K}` per content chunk |
//! | `argument_fragment_chars` | OpenAI shape: characters per argument fragment (default 12) |
//! | `first_chunk_delay_ms`, `chunk_delay_ms` | pacing; non-streaming waits `first_chunk_delay_ms` |
//! | `error` | `{"status": 500/503/429/..., "message", "retry_after_secs", "fail_first": N, "body": "<sent verbatim: {\"detail\": …}, HTML, text>"}` |
//! | `hang` | `"before_headers"`, `"after_headers"` or `{"after_chunks": N}`: then nothing until the client leaves |
//! | `hold_after_chunks` | streaming: after N chunks wait for `FakeLlm::release_held()`, then go on |
//! | `malformed_after_chunks` | after N chunks send one event whose data is not JSON, then go on (non-streaming: truncated body) |
//! | `disconnect_after_chunks` | abort the connection after N chunks (no `[DONE]`) |
//! | `shape` | `"openai"`, `"gemini"` or `"llama.cpp"` for this reply |
//! | `finish_reason` | override the reported finish reason |
//! | `stamp_content` | OpenAI shape: each text piece becomes `@<send time in µs since the Unix epoch> ` (benchmarks) |
//!
//! "Chunks" count the `data:` events sent, starting with the first (the role chunk in the
//! OpenAI shape).

mod ids;
mod script;
mod wire;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Json, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub use script::{Benchmark, Chunking, Condition, ErrorSpec, Hang, Reply, Rule, Script, Shape, ToolCallSpec};

use crate::ids::IdSource;
use crate::script::{Choice, ConversationFacts, ScriptRun};
use crate::wire::{
    Frame, MALFORMED_EVENT, RequestFacts, ResponsePlan, context_exceeded_body, error_body,
    invalid_history_arguments, prompt_tokens,
};

/// Recorded requests kept by default; older ones are dropped first.
pub const DEFAULT_RECORD_LIMIT: usize = 1000;

/// Request bodies larger than this are refused; long histories fit comfortably.
const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;

/// A handle on one fake server's state. Cheap to clone; all clones share the state.
#[derive(Clone, Debug)]
pub struct FakeLlm {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    api_key: Option<String>,
    record_limit: usize,
    starting_script: Script,
    run: Mutex<ScriptRun>,
    requests: Mutex<VecDeque<RecordedRequest>>,
    ids: IdSource,
    /// Bumped by `release_held`; a held reply goes on once it changes.
    releases: tokio::sync::watch::Sender<u64>,
}

/// Configures a [`FakeLlm`].
#[derive(Debug, Clone)]
pub struct FakeLlmBuilder {
    script: Script,
    api_key: Option<String>,
    record_limit: usize,
}

impl FakeLlmBuilder {
    /// The starting script (also what `reset` returns to). Default: echo.
    pub fn script(mut self, script: Script) -> Self {
        self.script = script;
        self
    }

    /// Require `Authorization: Bearer <key>` on the provider endpoints.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Keep at most this many recorded requests (0 records nothing, for benchmarks).
    pub fn record_limit(mut self, limit: usize) -> Self {
        self.record_limit = limit;
        self
    }

    /// Builds the handle.
    pub fn build(self) -> FakeLlm {
        FakeLlm {
            inner: Arc::new(Inner {
                api_key: self.api_key,
                record_limit: self.record_limit,
                run: Mutex::new(ScriptRun::new(self.script.clone())),
                starting_script: self.script,
                requests: Mutex::new(VecDeque::new()),
                ids: IdSource::new(),
                releases: tokio::sync::watch::Sender::new(0),
            }),
        }
    }
}

/// One chat-completions request as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Request path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: Value,
}

impl Default for FakeLlm {
    fn default() -> Self {
        FakeLlm::new()
    }
}

impl FakeLlm {
    /// An echo server with no API key.
    pub fn new() -> Self {
        FakeLlm::builder().build()
    }

    /// Starts configuring a server.
    pub fn builder() -> FakeLlmBuilder {
        FakeLlmBuilder { script: Script::default(), api_key: None, record_limit: DEFAULT_RECORD_LIMIT }
    }

    /// Replaces the script; turns and `fail_first` counters start over.
    pub fn set_script(&self, script: Script) {
        *lock(&self.inner.run) = ScriptRun::new(script);
    }

    /// The current script.
    pub fn script(&self) -> Script {
        lock(&self.inner.run).script.clone()
    }

    /// Every recorded chat request, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.requests).iter().cloned().collect()
    }

    /// The bodies of every recorded chat request, oldest first.
    pub fn request_bodies(&self) -> Vec<Value> {
        lock(&self.inner.requests).iter().map(|request| request.body.clone()).collect()
    }

    /// Lets every reply held by `hold_after_chunks` so far go on to its end.
    pub fn release_held(&self) {
        self.inner.releases.send_modify(|releases| *releases += 1);
    }

    /// Back to the starting script with no progress, and no recorded requests.
    pub fn reset(&self) {
        self.set_script(self.inner.starting_script.clone());
        lock(&self.inner.requests).clear();
    }

    /// The axum router serving the provider and control endpoints.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/chat/completions", post(openai_chat))
            .route("/v1beta/openai/chat/completions", post(gemini_chat))
            .route("/v1/models", get(openai_models))
            .route("/v1beta/openai/models", get(gemini_models))
            .route("/_fake/script", post(replace_script).get(current_script))
            .route("/_fake/requests", get(recorded_requests))
            .route("/_fake/reset", post(reset))
            .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
            .with_state(self.clone())
    }

    /// Binds `127.0.0.1:0`, serves in a background task and returns the bound address.
    ///
    /// The server lives until the tokio runtime shuts down (the end of a `#[tokio::test]`).
    pub async fn spawn(&self) -> io::Result<SocketAddr> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let state = self.clone();
        tokio::spawn(async move {
            if let Err(error) = serve(listener, state).await {
                tracing::error!(%error, "fake LLM server stopped");
            }
        });
        Ok(address)
    }

    fn record(&self, path: &str, headers: &HeaderMap, body: &Value) {
        if self.inner.record_limit == 0 {
            return;
        }
        let request = RecordedRequest {
            path: path.to_owned(),
            authorization: headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            body: body.clone(),
        };
        let mut requests = lock(&self.inner.requests);
        if requests.len() == self.inner.record_limit {
            requests.pop_front();
        }
        requests.push_back(request);
    }

    /// A 401 response, unless the request carries the configured key (or none is configured).
    fn unauthorized(&self, headers: &HeaderMap) -> Option<Response> {
        let key = self.inner.api_key.as_ref()?;
        let provided = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let message = match provided {
            Some(provided) if provided == key => return None,
            Some(_) => "Incorrect API key provided.",
            None => {
                "You didn't provide an API key. You need to provide your API key in an \
                 Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            }
        };
        Some(error_response(Shape::Openai, 401, Some(message), None))
    }
}

/// Serves the fake on `listener` until the listener fails.
pub async fn serve(listener: TcpListener, state: FakeLlm) -> io::Result<()> {
    // Streams of small chunks: without TCP_NODELAY, Nagle would batch them and skew timings.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, state.router()).await
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn openai_chat(State(fake): State<FakeLlm>, headers: HeaderMap, body: Bytes) -> Response {
    chat(fake, "/v1/chat/completions", Shape::Openai, &headers, &body).await
}

async fn gemini_chat(State(fake): State<FakeLlm>, headers: HeaderMap, body: Bytes) -> Response {
    chat(fake, "/v1beta/openai/chat/completions", Shape::Gemini, &headers, &body).await
}

async fn chat(fake: FakeLlm, path: &str, path_shape: Shape, headers: &HeaderMap, body: &[u8]) -> Response {
    if let Some(response) = fake.unauthorized(headers) {
        return response;
    }
    let request: Value = match serde_json::from_slice(body) {
        Ok(request @ Value::Object(_)) if request.get("messages").is_some_and(Value::is_array) => request,
        Ok(_) => {
            return error_response(
                path_shape,
                400,
                Some("The request body must be a JSON object with a `messages` array."),
                None,
            );
        }
        Err(error) => {
            let message = format!("The request body is not valid JSON: {error}");
            return error_response(path_shape, 400, Some(&message), None);
        }
    };
    fake.record(path, headers, &request);
    // What the server refuses before generating anything (no turn is used up).
    let (script_shape, context_tokens) = {
        let run = lock(&fake.inner.run);
        (run.script.shape, run.script.context_tokens)
    };
    let request_shape = script_shape.unwrap_or(path_shape);
    if let Some(limit) = context_tokens {
        let tokens = prompt_tokens(&request);
        if tokens > limit {
            return (StatusCode::BAD_REQUEST, Json(context_exceeded_body(request_shape, tokens, limit)))
                .into_response();
        }
    }
    if request_shape == Shape::LlamaCpp
        && let Some(complaint) = invalid_history_arguments(&request)
    {
        return error_response(request_shape, 400, Some(&complaint), None);
    }
    let conversation = ConversationFacts::from_messages(request.get("messages").and_then(Value::as_array));

    let (choice, script_shape, model_override) = {
        let mut run = lock(&fake.inner.run);
        let choice = run.choose(&conversation);
        (choice, run.script.shape, run.script.model.clone())
    };
    let reply = match choice {
        Choice::Fail(error, reply_shape) => {
            let shape = reply_shape.or(script_shape).unwrap_or(path_shape);
            if let Some(body) = error.body {
                return raw_error_response(error.status, body, error.retry_after_secs);
            }
            return error_response(shape, error.status, error.message.as_deref(), error.retry_after_secs);
        }
        Choice::Answer(reply) => *reply,
    };
    let shape = reply.shape.or(script_shape).unwrap_or(path_shape);
    tracing::debug!(?shape, path, "answering chat request");

    if reply.hang == Some(Hang::BeforeHeaders) {
        // Ends only when hyper drops the request (client gone, connection closed, shutdown).
        return std::future::pending().await;
    }
    let facts = RequestFacts { body: &request, last_user_text: conversation.last_user_text.as_deref() };
    let plan = ResponsePlan::new(&reply, shape, model_override.as_deref(), &facts, &fake.inner.ids);
    let streaming = request.get("stream").and_then(Value::as_bool).unwrap_or(false);
    if streaming {
        stream_response(plan, &reply, fake.inner.releases.subscribe())
    } else {
        complete_response(plan, &reply).await
    }
}

fn stream_response(
    plan: ResponsePlan,
    reply: &Reply,
    releases: tokio::sync::watch::Receiver<u64>,
) -> Response {
    let content_type = match plan.shape {
        Shape::Openai | Shape::LlamaCpp => "text/event-stream; charset=utf-8",
        Shape::Gemini => "text/event-stream",
    };
    let frames = plan.frames(reply);
    let events = ScriptedStream {
        frames: frames.into_iter(),
        plan,
        chunks_sent: 0,
        first_chunk_delay: Duration::from_millis(reply.first_chunk_delay_ms),
        chunk_delay: Duration::from_millis(reply.chunk_delay_ms),
        stamp_content: reply.stamp_content,
        malformed_after: reply.malformed_after_chunks,
        disconnect_after: reply.disconnect_after_chunks,
        hang_after: match reply.hang {
            Some(Hang::AfterHeaders) => Some(0),
            Some(Hang::AfterChunks(count)) => Some(count),
            _ => None,
        },
        hold_after: reply.hold_after_chunks,
        releases,
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(events.into_stream()))
        .expect("static response parts are valid")
}

/// The state of one streamed response; each step yields one SSE event.
struct ScriptedStream {
    plan: ResponsePlan,
    frames: std::vec::IntoIter<Frame>,
    chunks_sent: usize,
    first_chunk_delay: Duration,
    chunk_delay: Duration,
    stamp_content: bool,
    malformed_after: Option<usize>,
    disconnect_after: Option<usize>,
    hang_after: Option<usize>,
    hold_after: Option<usize>,
    /// Subscribed when the reply started: only a release after that lets it go on.
    releases: tokio::sync::watch::Receiver<u64>,
}

impl ScriptedStream {
    fn into_stream(self) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        futures::stream::unfold(self, |mut state| async move {
            let event = state.next_event().await?;
            Some((event, state))
        })
    }

    async fn next_event(&mut self) -> Option<io::Result<Bytes>> {
        if self.frames.len() == 0 {
            return None;
        }
        if self.malformed_after == Some(self.chunks_sent) {
            self.malformed_after = None;
            return Some(Ok(Bytes::from_static(MALFORMED_EVENT)));
        }
        if self.disconnect_after == Some(self.chunks_sent) {
            self.frames = Vec::new().into_iter();
            // Hyper flushes what it has buffered only when the body is pending; without this
            // the client would lose the chunks "sent" before the disconnect.
            tokio::task::yield_now().await;
            // A body error makes hyper abort the connection without ending the chunked body.
            return Some(Err(io::Error::other("scripted disconnect")));
        }
        if self.hold_after == Some(self.chunks_sent) {
            self.hold_after = None;
            // The sender lives as long as the server; a closed channel only means shutdown.
            let _ = self.releases.changed().await;
        }
        if self.hang_after == Some(self.chunks_sent) {
            // Ends only when hyper drops the body (client gone, connection closed, shutdown).
            std::future::pending::<()>().await;
        }
        let frame = self.frames.next()?;
        let delay = match (&frame, self.chunks_sent) {
            (_, 0) => self.first_chunk_delay,
            // Providers send `[DONE]` right after the last chunk.
            (Frame::Done, _) => Duration::ZERO,
            _ => self.chunk_delay,
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.chunks_sent += 1;
        if self.stamp_content
            && let Frame::Content(_) = frame
        {
            return Some(Ok(self.plan.render_stamped_content()));
        }
        Some(Ok(self.plan.render(&frame)))
    }
}

async fn complete_response(plan: ResponsePlan, reply: &Reply) -> Response {
    if reply.first_chunk_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(reply.first_chunk_delay_ms)).await;
    }
    let json_response = |body: Body| {
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .expect("static response parts are valid")
    };
    if reply.hang.is_some() {
        return json_response(Body::from_stream(futures::stream::pending::<Result<Bytes, Infallible>>()));
    }
    if reply.disconnect_after_chunks.is_some() {
        return json_response(Body::from_stream(futures::stream::once(async {
            Err::<Bytes, _>(io::Error::other("scripted disconnect"))
        })));
    }
    let body = serde_json::to_vec(&plan.completion_body()).expect("JSON values serialize");
    if reply.malformed_after_chunks.is_some() {
        let cut = body.len() / 2;
        return json_response(Body::from(body[..cut].to_vec()));
    }
    json_response(Body::from(body))
}

fn error_response(
    shape: Shape,
    status: u16,
    message: Option<&str>,
    retry_after_secs: Option<u64>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(error_body(shape, status.as_u16(), message))).into_response();
    if let Some(seconds) = retry_after_secs {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// An error with a scripted body, typed by what it looks like (an HTML page, JSON, text).
fn raw_error_response(status: u16, body: String, retry_after_secs: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if body.trim_start().starts_with('<') {
        "text/html; charset=utf-8"
    } else if serde_json::from_str::<Value>(&body).is_ok() {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Some(seconds) = retry_after_secs {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

async fn openai_models(State(fake): State<FakeLlm>, headers: HeaderMap) -> Response {
    if let Some(response) = fake.unauthorized(&headers) {
        return response;
    }
    Json(json!({
        "object": "list",
        "data": [{"id": "gpt-4o-mini", "object": "model", "created": 1_721_172_741, "owned_by": "system"}],
    }))
    .into_response()
}

async fn gemini_models(State(fake): State<FakeLlm>, headers: HeaderMap) -> Response {
    if let Some(response) = fake.unauthorized(&headers) {
        return response;
    }
    Json(json!({
        "object": "list",
        "data": [{"id": "models/gemini-2.5-flash", "object": "model", "owned_by": "google"}],
    }))
    .into_response()
}

async fn replace_script(State(fake): State<FakeLlm>, Json(script): Json<Script>) -> StatusCode {
    fake.set_script(script);
    StatusCode::NO_CONTENT
}

async fn current_script(State(fake): State<FakeLlm>) -> Json<Script> {
    Json(fake.script())
}

async fn recorded_requests(State(fake): State<FakeLlm>) -> Json<Vec<RecordedRequest>> {
    Json(fake.requests())
}

async fn reset(State(fake): State<FakeLlm>) -> StatusCode {
    fake.reset();
    StatusCode::NO_CONTENT
}
