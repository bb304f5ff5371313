//! Our own tolerant Chat Completions wire types, and the accumulator that turns
//! streamed chunks into one assistant turn.
//!
//! Tolerated deviations from OpenAI's shape: tool-call deltas without `index`,
//! tool calls carrying `extra_content` (`google.thought_signature` /
//! `vertex.thought_signature`) that must be sent back, tool calls finishing
//! with `finish_reason: "stop"`, usage chunks with empty `choices` (all seen on
//! Gemini's endpoint); the name and id repeated on every tool-call fragment,
//! `null` for every absent delta field, CRLF-framed events and no usage at all
//! (llama-cpp-python's server); unknown fields anywhere.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// One message of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    System {
        content: String,
    },
    User {
        content: String,
    },
    Assistant {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self::System { content: content.into() }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::User { content: content.into() }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::Assistant { content: Some(content.into()), tool_calls: Vec::new() }
    }
}

/// A complete tool call, as received and as sent back in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
    /// Provider data that must be echoed verbatim (Gemini's thought signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_content: Option<Value>,
}

fn function_type() -> String {
    "function".to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    /// JSON text exactly as the model produced it (may be invalid).
    pub arguments: String,
}

/// A tool offered to the model.
#[derive(Debug, Clone, Serialize)]
pub struct ToolSpec {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct FunctionSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

impl ToolSpec {
    pub fn function(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self {
            kind: "function",
            function: FunctionSpec { name: name.into(), description: description.into(), parameters },
        }
    }
}

/// The tools offered to the model, as the JSON array every request carries. Serialized
/// once: the schemas never change, and building and copying them for each turn cost
/// ~75 KB per running chat and much of a turn's CPU (bench/RESULTS.md, third round).
#[derive(Debug, Default)]
pub struct ToolList(Option<Box<RawValue>>);

impl ToolList {
    pub fn new(specs: &[ToolSpec]) -> Self {
        if specs.is_empty() {
            return Self(None);
        }
        let json = serde_json::to_string(specs).expect("tool specs are plain JSON");
        Self(Some(RawValue::from_string(json).expect("serde_json wrote valid JSON")))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl Serialize for ToolList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(json) => json.serialize(serializer),
            None => serializer.serialize_unit(),
        }
    }
}

/// The request body.
#[derive(Debug, Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: &'a [ChatMessage],
    #[serde(skip_serializing_if = "ToolList::is_empty")]
    pub tools: &'a ToolList,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    pub include_usage: bool,
}

/// One `chat.completion.chunk`. Everything is optional.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Chunk {
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<Value>,
    /// Some servers report a failure mid-stream as a chunk with `error`.
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChunkChoice {
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ToolCallDelta {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
    #[serde(default)]
    pub extra_content: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FunctionDelta {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

/// Something the caller can show while a response streams.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// A piece of assistant text.
    Text(String),
    /// A tool call's name is known (its arguments may still be streaming).
    /// `position` is the call's place in [`AssistantTurn::tool_calls`].
    ToolCallStarted { position: usize, name: String },
}

/// One complete model response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssistantTurn {
    pub text: String,
    /// Calls to run. Non-empty means "run tools", whatever `finish_reason` says.
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<String>,
    pub usage: Option<Value>,
}

#[derive(Debug, Default)]
struct PartialCall {
    index: Option<u32>,
    id: Option<String>,
    name: String,
    arguments: String,
    extra_content: Option<Value>,
    announced: bool,
}

/// Builds an [`AssistantTurn`] from chunks.
#[derive(Debug, Default)]
pub(crate) struct TurnAccumulator {
    text: String,
    calls: Vec<PartialCall>,
    finish_reason: Option<String>,
    usage: Option<Value>,
}

impl TurnAccumulator {
    /// Whether a finish reason was seen (the response is complete).
    pub fn finished(&self) -> bool {
        self.finish_reason.is_some()
    }

    /// Adds a chunk; returns what became visible.
    pub fn push(&mut self, chunk: Chunk) -> Vec<StreamEvent> {
        let mut events = Vec::new();
        if chunk.usage.as_ref().is_some_and(|usage| !usage.is_null()) {
            self.usage = chunk.usage;
        }
        // We ask for one choice; a server that sends several still gets choice 0's view.
        for choice in chunk.choices.into_iter().take(1) {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|text| !text.is_empty()) {
                    self.text.push_str(&text);
                    events.push(StreamEvent::Text(text));
                }
                let deltas = delta.tool_calls.unwrap_or_default();
                let in_chunk = deltas.len();
                for (offset, call_delta) in deltas.into_iter().enumerate() {
                    let position = self.position_for(&call_delta, offset, in_chunk);
                    let call = &mut self.calls[position];
                    if call.id.is_none() {
                        call.id = call_delta.id.filter(|id| !id.is_empty());
                    }
                    if let Some(function) = call_delta.function {
                        // llama-cpp-python repeats the whole name on every fragment.
                        if let Some(name) = function.name
                            && name != call.name
                        {
                            call.name.push_str(&name);
                        }
                        if let Some(arguments) = function.arguments {
                            call.arguments.push_str(&arguments);
                        }
                    }
                    if call_delta.extra_content.is_some() {
                        call.extra_content = call_delta.extra_content;
                    }
                    if !call.announced && !call.name.is_empty() {
                        call.announced = true;
                        events.push(StreamEvent::ToolCallStarted { position, name: call.name.clone() });
                    }
                }
            }
            if let Some(reason) = choice.finish_reason.filter(|reason| !reason.is_empty()) {
                self.finish_reason = Some(reason);
            }
        }
        events
    }

    /// Which call a delta belongs to. With `index`, the call with that index;
    /// without it (Gemini), a delta with a new `id` starts a new call, and one
    /// without an id continues the call at its position in the array (or the
    /// latest call when it arrives alone).
    fn position_for(&mut self, delta: &ToolCallDelta, offset: usize, in_chunk: usize) -> usize {
        if let Some(index) = delta.index {
            if let Some(position) = self.calls.iter().position(|call| call.index == Some(index)) {
                return position;
            }
            self.calls.push(PartialCall { index: Some(index), ..PartialCall::default() });
            return self.calls.len() - 1;
        }
        if let Some(id) = delta.id.as_deref().filter(|id| !id.is_empty()) {
            if let Some(position) = self.calls.iter().position(|call| call.id.as_deref() == Some(id)) {
                return position;
            }
            self.calls.push(PartialCall::default());
            return self.calls.len() - 1;
        }
        let existing = if in_chunk == 1 { self.calls.len().checked_sub(1) } else { Some(offset) };
        match existing {
            Some(position) if position < self.calls.len() => position,
            _ => {
                self.calls.push(PartialCall::default());
                self.calls.len() - 1
            }
        }
    }

    /// The complete turn. Calls without an id get one (some servers omit it),
    /// calls without a name are dropped, empty arguments become `{}`.
    pub fn finish(self) -> AssistantTurn {
        let tool_calls = self
            .calls
            .into_iter()
            .enumerate()
            .filter(|(_, call)| !call.name.is_empty())
            .map(|(position, call)| ToolCall {
                id: call.id.unwrap_or_else(|| format!("call_{position}_{}", uuid::Uuid::now_v7().simple())),
                kind: function_type(),
                function: FunctionCall {
                    name: call.name,
                    arguments: if call.arguments.trim().is_empty() {
                        "{}".to_owned()
                    } else {
                        call.arguments
                    },
                },
                extra_content: call.extra_content,
            })
            .collect();
        AssistantTurn { text: self.text, tool_calls, finish_reason: self.finish_reason, usage: self.usage }
    }
}

/// The human part of a provider error body, in every common shape: OpenAI's
/// `{"error":{"message"}}`, Gemini's `[{"error":{"message"}}]`, `{"error": "…"}`,
/// `{"message"}`, FastAPI's `{"detail": "…"}` / `{"detail": [{"msg"}]}`, an HTML page (its
/// title, else its text) or plain text; shortened to 300 characters.
pub(crate) fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().map(|value| match value {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    });
    let message = error.as_ref().and_then(|value| {
        let detail = value.get("detail").map(|detail| match detail {
            Value::Array(problems) => {
                problems.iter().find_map(|problem| problem.get("msg")).cloned().unwrap_or(Value::Null)
            }
            Value::Object(_) => detail.get("message").cloned().unwrap_or(Value::Null),
            other => other.clone(),
        });
        value
            .pointer("/error/message")
            .cloned()
            .or_else(|| value.get("message").cloned())
            .or_else(|| value.get("error").filter(|error| error.is_string()).cloned())
            .or(detail)
            .and_then(|message| message.as_str().map(str::to_owned))
    });
    let text = message.unwrap_or_else(|| {
        if body.trim_start().starts_with('<') { html_text(body) } else { body.trim().to_owned() }
    });
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.chars().take(300).collect()
}

/// What a person would read first on an HTML error page: its `<title>`, else its text.
fn html_text(html: &str) -> String {
    let lower = html.to_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>"))
        && start + "<title>".len() <= end
    {
        let title = html[start + "<title>".len()..end].trim();
        if !title.is_empty() {
            return title.to_owned();
        }
    }
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for character in html.chars() {
        match character {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chunk(value: Value) -> Chunk {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_request_carries_the_tools_serialized_once_and_omits_an_empty_list() {
        let schema = json!({"type": "object", "properties": {"title": {"type": "string"}}});
        let specs = [ToolSpec::function("create_task", "Create a task.", schema.clone())];
        let tools = ToolList::new(&specs);
        let messages = [ChatMessage::user("hi")];
        let request = ChatRequest {
            model: "m",
            messages: &messages,
            tools: &tools,
            stream: true,
            stream_options: None,
        };
        let sent = serde_json::to_value(&request).unwrap();
        assert_eq!(
            sent["tools"],
            json!([{"type": "function",
                    "function": {"name": "create_task", "description": "Create a task.", "parameters": schema}}])
        );

        let none = ToolList::new(&[]);
        let request =
            ChatRequest { model: "m", messages: &messages, tools: &none, stream: true, stream_options: None };
        let sent = serde_json::to_value(&request).unwrap();
        assert!(sent.get("tools").is_none(), "{sent}");
    }

    #[test]
    fn openai_deltas_with_index_are_joined() {
        let mut turn = TurnAccumulator::default();
        let events = turn.push(chunk(json!({"choices":[{"delta":{"role":"assistant","content":"Sure"}}]})));
        assert_eq!(events, vec![StreamEvent::Text("Sure".into())]);
        let events = turn.push(chunk(json!({"choices":[{"delta":{"tool_calls":[
            {"index":0,"id":"call_a","type":"function","function":{"name":"create_task","arguments":""}}]}}]})));
        assert_eq!(events, vec![StreamEvent::ToolCallStarted { position: 0, name: "create_task".into() }]);
        turn.push(chunk(json!({"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"list_tasks"}}]}}]})));
        turn.push(chunk(json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"title\":"}}]}}]})));
        turn.push(chunk(
            json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"milk\"}"}}]}}]}),
        ));
        turn.push(chunk(json!({"choices":[{"delta":{},"finish_reason":"tool_calls"}]})));
        turn.push(chunk(json!({"choices":[],"usage":{"total_tokens":12}})));
        let turn = turn.finish();
        assert_eq!(turn.text, "Sure");
        assert_eq!(turn.tool_calls.len(), 2);
        assert_eq!(turn.tool_calls[0].id, "call_a");
        assert_eq!(turn.tool_calls[0].function.arguments, r#"{"title":"milk"}"#);
        assert_eq!(turn.tool_calls[1].function.arguments, "{}");
        assert_eq!(turn.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(turn.usage, Some(json!({"total_tokens":12})));
    }

    #[test]
    fn gemini_deltas_without_index_keep_their_signatures() {
        let mut turn = TurnAccumulator::default();
        let events =
            turn.push(chunk(json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[
            {"id":"g1","type":"function","function":{"name":"create_task","arguments":"{\"title\":\"a\"}"},
             "extra_content":{"google":{"thought_signature":"sig-1"}}},
            {"id":"g2","type":"function","function":{"name":"create_task","arguments":"{\"title\":\"b\"}"},
             "extra_content":{"google":{"thought_signature":"sig-2"}}}]},
            "finish_reason":"stop"}],"usage":{"total_tokens":3}})));
        assert_eq!(events.len(), 2);
        let turn = turn.finish();
        assert_eq!(turn.finish_reason.as_deref(), Some("stop"));
        assert_eq!(turn.tool_calls.len(), 2);
        assert_eq!(turn.tool_calls[1].function.arguments, r#"{"title":"b"}"#);
        assert_eq!(turn.tool_calls[1].extra_content, Some(json!({"google":{"thought_signature":"sig-2"}})));
    }

    #[test]
    fn index_less_calls_in_separate_chunks_stay_separate() {
        let mut turn = TurnAccumulator::default();
        for id in ["x1", "x2"] {
            turn.push(chunk(json!({"choices":[{"delta":{"tool_calls":[
                {"id":id,"function":{"name":"list_tasks","arguments":"{}"}}]}}]})));
        }
        // A continuation without id or index extends the latest call.
        turn.push(chunk(json!({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":" "}}]}}]})));
        let turn = turn.finish();
        assert_eq!(turn.tool_calls.iter().map(|call| call.id.as_str()).collect::<Vec<_>>(), ["x1", "x2"]);
        assert_eq!(turn.tool_calls[1].function.arguments, "{} ");
    }

    #[test]
    fn thought_signatures_round_trip_in_requests() {
        let message = ChatMessage::Assistant {
            content: None,
            tool_calls: vec![ToolCall {
                id: "g1".into(),
                kind: "function".into(),
                function: FunctionCall { name: "list_tasks".into(), arguments: "{}".into() },
                extra_content: Some(json!({"google":{"thought_signature":"sig"}})),
            }],
        };
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(
            json,
            json!({"role":"assistant","tool_calls":[{"id":"g1","type":"function",
                "function":{"name":"list_tasks","arguments":"{}"},
                "extra_content":{"google":{"thought_signature":"sig"}}}]})
        );
        assert_eq!(serde_json::from_value::<ChatMessage>(json).unwrap(), message);
    }

    #[test]
    fn error_bodies_of_every_common_shape_give_their_message() {
        assert_eq!(error_message(r#"{"error":{"message":"Rate limit","type":"requests"}}"#), "Rate limit");
        assert_eq!(
            error_message(r#"[{"error":{"code":429,"message":"Exhausted","status":"X"}}]"#),
            "Exhausted"
        );
        assert_eq!(error_message("upstream connect error"), "upstream connect error");
        assert_eq!(error_message(r#"{"detail":"Model not loaded"}"#), "Model not loaded");
        assert_eq!(
            error_message(
                r#"{"detail":[{"loc":["body","messages"],"msg":"Field required","type":"missing"}]}"#
            ),
            "Field required"
        );
        assert_eq!(error_message(r#"{"error":"model not found"}"#), "model not found");
        assert_eq!(
            error_message(
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>"
            ),
            "502 Bad Gateway"
        );
        assert_eq!(
            error_message("<html><body><h1>Oops</h1>\n<p>try later</p></body></html>"),
            "Oops try later"
        );
    }
}
