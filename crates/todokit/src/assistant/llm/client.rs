//! The streaming Chat Completions client: retries before the first chunk,
//! timeouts around every wait, tolerant chunk parsing.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::StreamExt;
use futures::stream::BoxStream;
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

use super::config::{LlmConfig, Provider};
use super::wire::{
    AssistantTurn, ChatMessage, ChatRequest, Chunk, StreamEvent, StreamOptions, ToolList, TurnAccumulator,
    error_message,
};

/// Why a model call failed. [`LlmError::user_message`] is the one sentence a person sees;
/// the provider's own words stay in the error (and the log).
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    /// `message` is the human part of the provider's body; `body` the body itself (shortened).
    #[error("provider answered HTTP {status}: {message}")]
    Http { status: u16, message: String, body: String, retry_after: Option<Duration> },
    #[error("cannot reach the provider: {0}")]
    Connect(String),
    #[error("no response from the provider within {0:?}")]
    FirstTokenTimeout(Duration),
    #[error("the provider went silent for {0:?} mid-response")]
    IdleTimeout(Duration),
    #[error("the response stream broke: {0}")]
    Interrupted(String),
    #[error("the provider reported an error mid-stream: {0}")]
    Provider(String),
    #[error("cannot build the HTTP client: {0}")]
    Setup(String),
}

/// How providers word "the prompt does not fit the model's context" (lower case): OpenAI's
/// code, llama.cpp, vLLM, Gemini, llama-cpp-python / OpenAI ("maximum context length"), and
/// a few other common servers.
const CONTEXT_EXCEEDED_WORDINGS: &[&str] = &[
    "context_length_exceeded",
    "exceeds the available context size",
    "exceed_context_size",
    "maximum context length",
    "exceeds the maximum number of tokens",
    "context window",
    "prompt is too long",
    "too many tokens",
];

impl LlmError {
    /// Whether the provider refused the request because the prompt is too long for the model.
    pub fn is_context_exceeded(&self) -> bool {
        let said = |text: &str| {
            let text = text.to_lowercase();
            CONTEXT_EXCEEDED_WORDINGS.iter().any(|wording| text.contains(wording))
        };
        match self {
            LlmError::Http { status, message, body, .. } if (400..500).contains(status) && *status != 429 => {
                said(message) || said(body)
            }
            LlmError::Provider(message) => said(message),
            _ => false,
        }
    }

    /// A message for the person chatting: one sentence on what happened and what to do.
    /// Configuration problems say what the operator must fix.
    pub fn user_message(&self) -> String {
        match self {
            _ if self.is_context_exceeded() => {
                "This conversation is too long for the AI model, even shortened. \
                 Please start a new conversation; the administrator can also raise the model's context size \
                 or lower TODOKIT_LLM_CONTEXT_TOKENS."
                    .to_owned()
            }
            LlmError::Http { status: 429, retry_after, .. } => match retry_after {
                Some(wait) if wait.as_secs() > 0 => {
                    let seconds = wait.as_secs();
                    let unit = if seconds == 1 { "second" } else { "seconds" };
                    format!(
                        "The AI model is receiving too many requests right now. Please try again in about {seconds} {unit}."
                    )
                }
                _ => "The AI model is receiving too many requests right now. Please try again in a moment."
                    .to_owned(),
            },
            LlmError::Http { status: 401 | 403, .. } => "The AI model refused todokit's credentials: \
                 the administrator must check the API key (TODOKIT_LLM_API_KEY)."
                .to_owned(),
            LlmError::Http { status: 404, .. } => "The AI model was not found at the configured provider: \
                 the administrator must check the model name (TODOKIT_LLM_MODEL) and base URL \
                 (TODOKIT_LLM_BASE_URL)."
                .to_owned(),
            LlmError::Http { status: 408, .. } => {
                "The AI model took too long to respond. Please try again.".to_owned()
            }
            LlmError::Http { status, .. } if *status >= 500 => {
                format!("The AI model is unavailable right now (error {status}). Please try again.")
            }
            LlmError::Http { status, .. } => format!(
                "The AI model could not process this conversation (error {status}). \
                 Try rephrasing your message, or start a new conversation."
            ),
            LlmError::Connect(_) => "Couldn't reach the AI model. Please try again.".to_owned(),
            LlmError::FirstTokenTimeout(_) | LlmError::IdleTimeout(_) => {
                "The AI model took too long to respond. Please try again.".to_owned()
            }
            LlmError::Interrupted(_) | LlmError::Provider(_) => {
                "The AI model's answer was interrupted. Please try again.".to_owned()
            }
            LlmError::Setup(_) => {
                "The AI model is not set up correctly: the administrator must check todokit's model settings."
                    .to_owned()
            }
        }
    }

    /// Whether offering "Retry" can help: not for a configuration problem, nor for a request
    /// the provider refused as it is (the same request would be refused again).
    pub fn allow_retry(&self) -> bool {
        match self {
            LlmError::Http { status, .. } => matches!(status, 408 | 409 | 425 | 429) || *status >= 500,
            LlmError::Provider(_) => !self.is_context_exceeded(),
            LlmError::Setup(_) => false,
            LlmError::Connect(_)
            | LlmError::FirstTokenTimeout(_)
            | LlmError::IdleTimeout(_)
            | LlmError::Interrupted(_) => true,
        }
    }

    /// The provider's raw answer, when there was one, for the log.
    pub fn provider_body(&self) -> Option<&str> {
        match self {
            LlmError::Http { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// Longest provider error body kept for the log, in characters.
const MAX_LOGGED_BODY_CHARS: usize = 2_000;

/// A Chat Completions client for one configured provider. Cheap to clone.
#[derive(Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    config: Arc<LlmConfig>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl LlmClient {
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("todokit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| LlmError::Setup(error.to_string()))?;
        Ok(Self { http, config: Arc::new(config) })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// Starts a streamed completion. Returns once the first chunk has arrived;
    /// failures before that (HTTP 429 / 5xx, connection errors, a stream that
    /// breaks before any data) are retried with backoff, honouring
    /// `Retry-After` up to `max_retry_wait`.
    pub async fn stream_chat(
        &self,
        messages: &[ChatMessage],
        tools: &ToolList,
    ) -> Result<ChatStream, LlmError> {
        let request = ChatRequest {
            model: &self.config.model,
            messages,
            tools,
            stream: true,
            // Gemini always reports usage; others need asking.
            stream_options: (self.config.provider != Provider::Gemini)
                .then_some(StreamOptions { include_usage: true }),
        };
        let mut retries = 0;
        loop {
            // Serialized again for a retry (rare) rather than kept: the body is freed once sent,
            // instead of living through the wait for the first chunk (~4 KB for every open reply).
            let body = Bytes::from(
                serde_json::to_vec(&request).map_err(|error| LlmError::Setup(error.to_string()))?,
            );
            let failure = match self.attempt(body).await {
                Ok(stream) => return Ok(stream),
                Err(failure) => failure,
            };
            let delay = match &failure.error {
                LlmError::Http { retry_after, .. } => retry_delay(&self.config, retries, *retry_after),
                _ => retry_delay(&self.config, retries, None),
            };
            let delay = delay.filter(|_| failure.retryable && retries < self.config.max_retries);
            let Some(delay) = delay else {
                // The run that asked logs the failure once, with its thread and step.
                tracing::debug!(error = %failure.error, retries, model = %self.config.model, "model request failed");
                return Err(failure.error);
            };
            retries += 1;
            tracing::info!(error = %failure.error, retry = retries, delay_ms = delay.as_millis() as u64, "retrying model request");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, body: Bytes) -> Result<ChatStream, AttemptFailure> {
        let timeout = self.config.first_token_timeout;
        match tokio::time::timeout(timeout, self.open(body)).await {
            Ok(result) => result,
            // Waiting again would double the user's wait; the run reports it instead.
            Err(_) => Err(AttemptFailure { error: LlmError::FirstTokenTimeout(timeout), retryable: false }),
        }
    }

    async fn open(&self, body: Bytes) -> Result<ChatStream, AttemptFailure> {
        let mut request = self
            .http
            .post(self.config.chat_url())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "text/event-stream")
            .body(body);
        if let Some(key) = &self.config.api_key {
            // reqwest marks this header sensitive, so it stays out of debug output.
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|error| AttemptFailure {
            error: LlmError::Connect(without_url(&error)),
            retryable: true,
        })?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after(response.headers());
            let text = response.text().await.unwrap_or_default();
            return Err(AttemptFailure {
                retryable: status == StatusCode::TOO_MANY_REQUESTS
                    || status == StatusCode::REQUEST_TIMEOUT
                    || status.is_server_error(),
                error: LlmError::Http {
                    status: status.as_u16(),
                    message: error_message(&text),
                    body: text.chars().take(MAX_LOGGED_BODY_CHARS).collect(),
                    retry_after,
                },
            });
        }
        let mut stream = ChatStream {
            events: response.bytes_stream().eventsource().boxed(),
            turn: TurnAccumulator::default(),
            pending: VecDeque::new(),
            idle_timeout: self.config.idle_timeout,
            done: false,
        };
        // Wait for the first chunk, so a stream that dies before any data is retried.
        loop {
            let event = match stream.events.next().await {
                None => return Err(interrupted("the stream ended before any data")),
                Some(Err(error)) => return Err(interrupted(&stream_error_text(&error))),
                Some(Ok(event)) => event,
            };
            match stream.accept(&event) {
                Accepted::Chunk | Accepted::Done => return Ok(stream),
                Accepted::Skipped => continue,
                Accepted::Failed(error) => return Err(AttemptFailure { error, retryable: true }),
            }
        }
    }
}

struct AttemptFailure {
    error: LlmError,
    retryable: bool,
}

fn interrupted(reason: &str) -> AttemptFailure {
    AttemptFailure { error: LlmError::Interrupted(reason.to_owned()), retryable: true }
}

/// How long to wait before retry number `retry` (0-based): the server's
/// `Retry-After` if it is within `max_retry_wait` (else `None`: give up),
/// otherwise exponential backoff from `retry_base_delay` with jitter.
pub(crate) fn retry_delay(config: &LlmConfig, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
    if let Some(wait) = retry_after {
        return (wait <= config.max_retry_wait).then_some(wait);
    }
    let backoff =
        config.retry_base_delay.saturating_mul(2u32.saturating_pow(retry)).min(config.max_retry_wait);
    // "Equal jitter": between half and all of the backoff, so clients spread out.
    let jittered = backoff.mul_f64(rand::rng().random_range(0.5..=1.0));
    Some(jittered)
}

/// `Retry-After` as delay seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// reqwest's error text without the URL (which is harmless, but noisy).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" ({url})"), "").replace(url.as_str(), "<provider>");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn stream_error_text(error: &EventStreamError<reqwest::Error>) -> String {
    match error {
        EventStreamError::Transport(error) => without_url(error),
        other => other.to_string(),
    }
}

type SseStream = BoxStream<'static, Result<Event, EventStreamError<reqwest::Error>>>;

/// An open response stream.
pub struct ChatStream {
    events: SseStream,
    turn: TurnAccumulator,
    pending: VecDeque<StreamEvent>,
    idle_timeout: Duration,
    done: bool,
}

/// What [`ChatStream::next`] produced.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatStreamItem {
    Event(StreamEvent),
    /// The complete response; the stream is finished.
    Finished(AssistantTurn),
}

enum Accepted {
    Chunk,
    Done,
    Skipped,
    Failed(LlmError),
}

impl ChatStream {
    /// The next text piece or tool-call start, then the finished turn. Fails
    /// when no chunk arrives within the idle timeout or the stream breaks.
    pub async fn next(&mut self) -> Result<ChatStreamItem, LlmError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(ChatStreamItem::Event(event));
            }
            if self.done {
                return Ok(ChatStreamItem::Finished(std::mem::take(&mut self.turn).finish()));
            }
            let next = tokio::time::timeout(self.idle_timeout, self.events.next())
                .await
                .map_err(|_| LlmError::IdleTimeout(self.idle_timeout))?;
            match next {
                // A server that closes after the finish chunk without `[DONE]` is fine.
                None if self.turn.finished() => self.done = true,
                None => return Err(LlmError::Interrupted("the stream ended mid-response".to_owned())),
                Some(Err(error)) => return Err(LlmError::Interrupted(stream_error_text(&error))),
                Some(Ok(event)) => match self.accept(&event) {
                    Accepted::Chunk | Accepted::Done | Accepted::Skipped => {}
                    Accepted::Failed(error) => return Err(error),
                },
            }
        }
    }

    fn accept(&mut self, event: &Event) -> Accepted {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Accepted::Done;
        }
        if data.is_empty() {
            return Accepted::Skipped;
        }
        match serde_json::from_str::<Chunk>(data) {
            Ok(chunk) => {
                if let Some(error) = &chunk.error {
                    return Accepted::Failed(LlmError::Provider(error_message(&error.to_string())));
                }
                self.pending.extend(self.turn.push(chunk));
                Accepted::Chunk
            }
            Err(error) => {
                // One garbled event should not cost the whole answer.
                tracing::warn!(%error, "skipping an unreadable chunk from the model");
                Accepted::Skipped
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LlmConfig {
        let mut config = LlmConfig::new("http://127.0.0.1:9/v1", None, "m").unwrap();
        config.retry_base_delay = Duration::from_millis(100);
        config.max_retry_wait = Duration::from_secs(2);
        config
    }

    #[test]
    fn retry_after_is_honoured_within_the_bound() {
        let config = config();
        assert_eq!(retry_delay(&config, 0, Some(Duration::from_secs(1))), Some(Duration::from_secs(1)));
        assert_eq!(retry_delay(&config, 0, Some(Duration::from_secs(3))), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let config = config();
        for retry in 0..3 {
            let full = Duration::from_millis(100 * 2u64.pow(retry));
            let delay = retry_delay(&config, retry, None).unwrap();
            assert!(delay >= full / 2 && delay <= full, "retry {retry}: {delay:?}");
        }
        assert!(retry_delay(&config, 20, None).unwrap() <= Duration::from_secs(2));
    }

    #[test]
    fn retry_after_header_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(header::RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    }

    fn http(status: u16, body: &str) -> LlmError {
        LlmError::Http { status, message: error_message(body), body: body.to_owned(), retry_after: None }
    }

    #[test]
    fn user_messages_are_one_human_sentence_and_retry_is_offered_only_where_it_can_help() {
        let limited = LlmError::Http {
            status: 429,
            message: "x".into(),
            body: "x".into(),
            retry_after: Some(Duration::from_secs(30)),
        };
        assert!(limited.user_message().contains("about 30 seconds"));
        assert!(limited.allow_retry());
        for (error, says, retry) in [
            (
                http(401, r#"{"error":{"message":"Incorrect API key provided: sk-abc"}}"#),
                "TODOKIT_LLM_API_KEY",
                false,
            ),
            (http(404, r#"{"detail":"Model gemma-x not found"}"#), "TODOKIT_LLM_MODEL", false),
            (http(400, "<html><title>400 Bad Request</title></html>"), "could not process", false),
            (http(422, r#"{"detail":[{"msg":"Field required"}]}"#), "could not process", false),
            (http(503, "upstream connect error"), "unavailable", true),
            (http(502, "<html><head><title>502 Bad Gateway</title></head></html>"), "unavailable", true),
            (LlmError::FirstTokenTimeout(Duration::from_secs(1)), "too long", true),
            (LlmError::Provider("boom".into()), "interrupted", true),
        ] {
            let message = error.user_message();
            assert!(message.contains(says), "{error:?}: {message}");
            assert_eq!(error.allow_retry(), retry, "{error:?}");
            // The provider's words (HTML, keys, model names) never reach the user.
            for leak in ["<", "sk-abc", "gemma-x", "Field required", "upstream"] {
                assert!(!message.contains(leak), "{message}");
            }
            assert!(message.ends_with('.') && message.len() < 250, "{message}");
        }
    }

    #[test]
    fn context_overflow_is_recognised_in_every_common_wording() {
        for body in [
            r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}"#,
            r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion).","type":"BadRequestError","param":null,"code":400}"#,
            r#"[{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}]"#,
        ] {
            let error = http(400, body);
            assert!(error.is_context_exceeded(), "{body}");
            assert!(!error.allow_retry());
            assert!(error.user_message().contains("too long"), "{}", error.user_message());
        }
        assert!(
            !http(400, r#"{"error":{"message":"Extra data: line 1 column 16 (char 15)"}}"#)
                .is_context_exceeded()
        );
        assert!(
            !http(500, "maximum context length").is_context_exceeded(),
            "a server error is not about the prompt"
        );
    }
}
