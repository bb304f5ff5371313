//! The script model: what the fake answers, and how it picks a reply for a request.
//!
//! See the crate documentation for the JSON format and examples.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which provider's wire format the fake imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// OpenAI Chat Completions: `index` on every tool-call delta, arguments streamed in fragments,
    /// `finish_reason: "tool_calls"`, a separate finish chunk, `usage` only on request.
    #[default]
    Openai,
    /// Gemini's OpenAI-compatible endpoint: tool-call deltas without `index`, each tool call
    /// complete in one chunk with `extra_content.google.thought_signature`,
    /// `finish_reason: "stop"` even after tool calls, `usage` on the last chunk, and errors as a
    /// JSON array (`[{"error": {"code", "message", "status"}}]`).
    Gemini,
    /// llama.cpp's OpenAI-compatible server as `llama-cpp-python[server]` runs it (recorded
    /// from the real server, see `scripts/real-model-check`): Python's spaced JSON with
    /// non-ASCII escaped, a role-only first chunk, `logprobs: null` on
    /// every choice, the finish reason in a chunk of its own with `delta: {}`, no usage
    /// chunk; tool-call deltas carry `index`, `id`, `type` and the name on every fragment
    /// (plus the legacy `function_call`). It parses the history as the server does: tool-call
    /// arguments that are not JSON make the whole request fail (400, Python's "Extra data").
    #[serde(rename = "llama.cpp", alias = "llamacpp")]
    LlamaCpp,
}

/// A complete script. Every field is optional; `{}` is the echo script.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Shape for every reply that doesn't set its own. When absent, requests to
    /// `/v1beta/openai/...` get the Gemini shape and all others the OpenAI shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// The `model` value reported in responses. When absent, the request's `model` is echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Replies used one per request, in order, before any rule is consulted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turns: Vec<Reply>,
    /// Rules tried in order once the turns are used up; the first whose `when` matches answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// The reply when no turn or rule applies. Absent means an echo of the last user message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Reply>,
    /// Enables the built-in benchmark rules (tried after the turns, before `rules`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<Benchmark>,
    /// The model's context size: a request whose prompt (messages and tools, estimated at four
    /// characters per token) is larger is refused with the shape's "context exceeded" 400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u64>,
}

impl Script {
    /// Parses a script from JSON text.
    pub fn from_json(text: &str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }

    /// The benchmark script: only the built-in benchmark rules, echo otherwise.
    pub fn benchmark(chunk_delay_ms: u64) -> Self {
        Script { benchmark: Some(Benchmark { chunk_delay_ms, ..Benchmark::default() }), ..Script::default() }
    }
}

/// The built-in benchmark behaviour.
///
/// A user message containing `add ` (any case) gets one `create_task` tool call whose `title` is
/// the rest of the message; a request whose last message is a tool result gets a
/// `reply_words`-word text reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Benchmark {
    /// Delay before the first chunk, in milliseconds.
    pub first_chunk_delay_ms: u64,
    /// Delay before every later chunk, in milliseconds.
    pub chunk_delay_ms: u64,
    /// Length of the reply after a tool result, in words (one word per chunk).
    pub reply_words: usize,
    /// Each reply word is the chunk's send time (see [`Reply::stamp_content`]).
    pub stamp_words: bool,
}

impl Default for Benchmark {
    fn default() -> Self {
        Benchmark { first_chunk_delay_ms: 0, chunk_delay_ms: 0, reply_words: 20, stamp_words: false }
    }
}

/// A conditional reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Conditions, all of which must hold. Empty matches every request.
    #[serde(default)]
    pub when: Condition,
    /// The reply when the conditions hold.
    pub respond: Reply,
}

/// Conditions on the request's messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The latest user message contains this text (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_contains: Option<String>,
    /// Whether the last message must (true) or must not (false) be a `tool` result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_is_tool_result: Option<bool>,
}

impl Condition {
    pub(crate) fn matches(&self, conversation: &ConversationFacts) -> bool {
        if let Some(wanted) = self.last_is_tool_result
            && wanted != conversation.last_is_tool_result
        {
            return false;
        }
        if let Some(needle) = &self.user_contains {
            let needle = needle.to_lowercase();
            match &conversation.last_user_text {
                Some(text) if text.to_lowercase().contains(&needle) => {}
                _ => return false,
            }
        }
        true
    }
}

/// One scripted response. With no `text`, `words` or `tool_calls` it echoes the user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// Exact assistant text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Generated filler text of this many words (ignored when `text` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<usize>,
    /// Tool calls, all in this one response (parallel tool calls when more than one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallSpec>,
    /// How the text is cut into chunks. Default: one word per chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<Chunking>,
    /// OpenAI shape: size of each tool-call argument fragment, in characters. Default 12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argument_fragment_chars: Option<usize>,
    /// Delay before the first chunk (streaming) or before the whole body (non-streaming), ms.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_chunk_delay_ms: u64,
    /// Delay before every later chunk, ms.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub chunk_delay_ms: u64,
    /// Answer with an HTTP error instead (or only for the first `fail_first` uses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorSpec>,
    /// Never finish the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hang: Option<Hang>,
    /// Streaming: send this many chunks, then wait for [`crate::FakeLlm::release_held`] before
    /// the rest (a test's synchronisation point: the reply is surely still running meanwhile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_after_chunks: Option<usize>,
    /// Send one SSE event whose data is not valid JSON after this many chunks, then carry on.
    /// Non-streaming: the body is cut off in the middle of the JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed_after_chunks: Option<usize>,
    /// Abort the connection after this many chunks (no `[DONE]`, no chunked-encoding end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnect_after_chunks: Option<usize>,
    /// Shape of this reply, overriding the script's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// `finish_reason` to report instead of the shape's natural one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Benchmarks: each text piece is replaced by `@<send time, µs since the Unix epoch> `,
    /// taken as the chunk is written, so a client can measure the delay added downstream.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stamp_content: bool,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl Reply {
    /// A plain text reply.
    pub fn text(text: impl Into<String>) -> Self {
        Reply { text: Some(text.into()), ..Reply::default() }
    }

    /// A reply with one tool call.
    pub fn tool_call(name: impl Into<String>, arguments: Value) -> Self {
        Reply { tool_calls: vec![ToolCallSpec::new(name, arguments)], ..Reply::default() }
    }

    /// An HTTP error reply with this status.
    pub fn error(status: u16) -> Self {
        Reply { error: Some(ErrorSpec { status, ..ErrorSpec::default() }), ..Reply::default() }
    }
}

/// How text is cut into streamed chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chunking {
    /// This many characters per chunk.
    Chars(usize),
    /// This many words (with their trailing whitespace) per chunk.
    Words(usize),
}

impl Default for Chunking {
    fn default() -> Self {
        Chunking::Words(1)
    }
}

/// One scripted tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCallSpec {
    /// Function name. Any name works, including tools the client never offered.
    pub name: String,
    /// Arguments as JSON; serialized compactly on the wire.
    #[serde(default = "empty_object")]
    pub arguments: Value,
    /// Exact argument text sent instead of `arguments` (for invalid JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_arguments: Option<String>,
    /// Tool-call id. Default: a provider-style random id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Gemini shape: the opaque thought signature. Default: a random base64-like string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
    /// Gemini shape: leave `extra_content` off this tool call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub omit_thought_signature: bool,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

impl ToolCallSpec {
    /// A tool call with JSON arguments and generated id / signature.
    pub fn new(name: impl Into<String>, arguments: Value) -> Self {
        ToolCallSpec {
            name: name.into(),
            arguments,
            raw_arguments: None,
            id: None,
            thought_signature: None,
            omit_thought_signature: false,
        }
    }

    pub(crate) fn arguments_text(&self) -> String {
        match &self.raw_arguments {
            Some(raw) => raw.clone(),
            None => self.arguments.to_string(),
        }
    }
}

/// A scripted HTTP error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    /// HTTP status, e.g. 429, 500, 503.
    pub status: u16,
    /// Error message. Default: the provider's usual message for the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Value of the `Retry-After` header, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Fail only the first N times this reply is chosen, then answer normally with the rest of
    /// the reply. A turn stays current until it has answered normally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_first: Option<u32>,
    /// The exact body to send instead of the shape's error JSON (`{"detail": …}`, an HTML page,
    /// plain text…); its content type follows what it looks like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl Default for ErrorSpec {
    fn default() -> Self {
        ErrorSpec { status: 500, message: None, retry_after_secs: None, fail_first: None, body: None }
    }
}

/// Where a hanging reply stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hang {
    /// Read the request and never send the response headers.
    BeforeHeaders,
    /// Send `200` and the headers, then nothing.
    AfterHeaders,
    /// Send this many chunks, then nothing.
    AfterChunks(usize),
}

/// What the reply selection needs to know about a request's messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConversationFacts {
    pub last_user_text: Option<String>,
    pub last_is_tool_result: bool,
}

impl ConversationFacts {
    pub(crate) fn from_messages(messages: Option<&Vec<Value>>) -> Self {
        let Some(messages) = messages else {
            return ConversationFacts::default();
        };
        let last_is_tool_result =
            messages.last().and_then(|message| message.get("role")).and_then(Value::as_str) == Some("tool");
        let last_user_text = messages
            .iter()
            .rev()
            .find(|message| message.get("role").and_then(Value::as_str) == Some("user"))
            .map(|message| message_text(message.get("content")));
        ConversationFacts { last_user_text, last_is_tool_result }
    }
}

/// Text of a message `content`, which is either a string or a list of typed parts.
pub(crate) fn message_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// Where a chosen reply came from, so `fail_first` can be counted per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Turn(usize),
    Rule(usize),
    Fallback,
    Builtin,
}

/// A script plus the progress made through it.
#[derive(Debug)]
pub(crate) struct ScriptRun {
    pub script: Script,
    next_turn: usize,
    failures_by_turn: Vec<u32>,
    failures_by_rule: Vec<u32>,
    fallback_failures: u32,
}

/// The outcome of choosing a reply.
#[derive(Debug, Clone)]
pub(crate) enum Choice {
    /// Answer with the scripted error.
    Fail(ErrorSpec, Option<Shape>),
    /// Answer with this reply (its `error`, if any, is spent).
    Answer(Box<Reply>),
}

impl ScriptRun {
    pub(crate) fn new(script: Script) -> Self {
        ScriptRun {
            failures_by_turn: vec![0; script.turns.len()],
            failures_by_rule: vec![0; script.rules.len()],
            fallback_failures: 0,
            next_turn: 0,
            script,
        }
    }

    /// Picks the reply for a request and advances the turn cursor and failure counters.
    pub(crate) fn choose(&mut self, conversation: &ConversationFacts) -> Choice {
        let (source, reply) = self.select(conversation);
        let failure_counter = match source {
            Source::Turn(index) => Some(&mut self.failures_by_turn[index]),
            Source::Rule(index) => Some(&mut self.failures_by_rule[index]),
            Source::Fallback => Some(&mut self.fallback_failures),
            Source::Builtin => None,
        };
        let fails = match (&reply.error, failure_counter) {
            (None, _) => false,
            (Some(error), Some(counter)) => match error.fail_first {
                None => true,
                Some(limit) if *counter < limit => {
                    *counter += 1;
                    true
                }
                Some(_) => false,
            },
            (Some(_), None) => true,
        };
        let permanent_failure = fails && reply.error.as_ref().is_some_and(|e| e.fail_first.is_none());
        if let Source::Turn(_) = source
            && (!fails || permanent_failure)
        {
            self.next_turn += 1;
        }
        if fails {
            let error = reply.error.clone().unwrap_or_default();
            Choice::Fail(error, reply.shape)
        } else {
            Choice::Answer(Box::new(reply))
        }
    }

    fn select(&self, conversation: &ConversationFacts) -> (Source, Reply) {
        if let Some(turn) = self.script.turns.get(self.next_turn) {
            return (Source::Turn(self.next_turn), turn.clone());
        }
        if let Some(benchmark) = &self.script.benchmark
            && let Some(reply) = benchmark_reply(benchmark, conversation)
        {
            return (Source::Builtin, reply);
        }
        for (index, rule) in self.script.rules.iter().enumerate() {
            if rule.when.matches(conversation) {
                return (Source::Rule(index), rule.respond.clone());
            }
        }
        match &self.script.fallback {
            Some(reply) => (Source::Fallback, reply.clone()),
            None => (Source::Builtin, Reply::default()),
        }
    }
}

fn benchmark_reply(benchmark: &Benchmark, conversation: &ConversationFacts) -> Option<Reply> {
    let paced = Reply {
        first_chunk_delay_ms: benchmark.first_chunk_delay_ms,
        chunk_delay_ms: benchmark.chunk_delay_ms,
        ..Reply::default()
    };
    if conversation.last_is_tool_result {
        return Some(Reply {
            words: Some(benchmark.reply_words),
            stamp_content: benchmark.stamp_words,
            ..paced
        });
    }
    let text = conversation.last_user_text.as_deref()?;
    // ASCII lowercasing keeps byte offsets identical, so the title can be sliced from `text`.
    let start = text.to_ascii_lowercase().find("add ")? + "add ".len();
    let title = text[start..].trim();
    Some(Reply {
        tool_calls: vec![ToolCallSpec::new("create_task", serde_json::json!({ "title": title }))],
        ..paced
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(user: &str, tool: bool) -> ConversationFacts {
        ConversationFacts { last_user_text: Some(user.to_owned()), last_is_tool_result: tool }
    }

    #[test]
    fn turns_come_first_then_rules_then_fallback() {
        let script = Script::from_json(
            r#"{
                "turns": [{"text": "first"}],
                "rules": [{"when": {"user_contains": "HELLO"}, "respond": {"text": "hi"}}],
                "fallback": {"text": "fallback"}
            }"#,
        )
        .unwrap();
        let mut run = ScriptRun::new(script);
        let texts: Vec<_> = ["hello", "hello there", "bye"]
            .iter()
            .map(|user| match run.choose(&facts(user, false)) {
                Choice::Answer(reply) => reply.text.unwrap(),
                Choice::Fail(..) => panic!("unexpected failure"),
            })
            .collect();
        assert_eq!(texts, ["first", "hi", "fallback"]);
    }

    #[test]
    fn fail_first_keeps_the_turn_until_it_succeeds() {
        let script = Script::from_json(
            r#"{"turns": [{"text": "ok", "error": {"status": 503, "fail_first": 2}}, {"text": "next"}]}"#,
        )
        .unwrap();
        let mut run = ScriptRun::new(script);
        let outcomes: Vec<String> = (0..4)
            .map(|_| match run.choose(&facts("x", false)) {
                Choice::Answer(reply) => reply.text.unwrap(),
                Choice::Fail(error, _) => error.status.to_string(),
            })
            .collect();
        assert_eq!(outcomes, ["503", "503", "ok", "next"]);
    }

    #[test]
    fn benchmark_rule_extracts_the_title() {
        let benchmark = Benchmark::default();
        let reply = benchmark_reply(&benchmark, &facts("Please ADD buy milk ", false)).unwrap();
        assert_eq!(reply.tool_calls[0].name, "create_task");
        assert_eq!(reply.tool_calls[0].arguments, serde_json::json!({"title": "buy milk"}));
        let reply = benchmark_reply(&benchmark, &facts("add x", true)).unwrap();
        assert_eq!(reply.words, Some(20));
        assert!(benchmark_reply(&benchmark, &facts("hello", false)).is_none());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(Script::from_json(r#"{"turns": [{"txt": "typo"}]}"#).is_err());
    }
}
