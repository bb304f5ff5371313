//! Wire formats: streamed `chat.completion.chunk` events, `chat.completion` bodies and error
//! bodies, in the OpenAI and Gemini shapes.
//!
//! A response is planned as a list of small [`Frame`]s (ranges into the reply text, not copies)
//! and each frame is serialized only when it is sent, so ten thousand slow streams cost little.

use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde_json::{Value, json};

use crate::ids::IdSource;
use crate::script::{Chunking, Reply, Shape, message_text};

/// Arguments fragments this long (in characters) unless the reply says otherwise; real OpenAI
/// streams arguments a token or two at a time.
const DEFAULT_ARGUMENT_FRAGMENT_CHARS: usize = 12;

/// Words for generated filler text.
const FILLER_WORDS: &[&str] = &[
    "sure", "I", "have", "added", "that", "to", "your", "list", "and", "will", "remind", "you", "about",
    "it", "when", "the", "time", "comes", "anything", "else",
];

/// A tool call with everything decided: id, argument text, signature.
#[derive(Debug)]
pub(crate) struct PlannedToolCall {
    id: String,
    name: String,
    arguments: String,
    thought_signature: Option<String>,
}

/// Token counts reported in `usage`; rough (four characters per token) but consistent.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

/// Everything needed to render one response.
#[derive(Debug)]
pub(crate) struct ResponsePlan {
    pub shape: Shape,
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    text: Option<String>,
    tool_calls: Vec<PlannedToolCall>,
    finish_reason: String,
    usage: Usage,
}

/// What the request asked for, as far as the response depends on it.
pub(crate) struct RequestFacts<'a> {
    pub body: &'a Value,
    pub last_user_text: Option<&'a str>,
}

impl ResponsePlan {
    pub(crate) fn new(
        reply: &Reply,
        shape: Shape,
        model_override: Option<&str>,
        request: &RequestFacts<'_>,
        ids: &IdSource,
    ) -> Self {
        let text = if let Some(text) = &reply.text {
            Some(text.clone())
        } else if let Some(count) = reply.words {
            Some(filler_text(count))
        } else if reply.tool_calls.is_empty() {
            Some(echo_text(request.last_user_text))
        } else {
            None
        };
        let tool_calls: Vec<PlannedToolCall> = reply
            .tool_calls
            .iter()
            .map(|spec| PlannedToolCall {
                id: spec.id.clone().unwrap_or_else(|| match shape {
                    Shape::Openai => ids.openai_tool_call_id(),
                    Shape::Gemini => ids.gemini_tool_call_id(),
                    // llama-cpp-python: `call__<n>_<name>_<completion id>`, set when planned.
                    Shape::LlamaCpp => String::new(),
                }),
                name: spec.name.clone(),
                arguments: spec.arguments_text(),
                thought_signature: if spec.omit_thought_signature {
                    None
                } else {
                    Some(spec.thought_signature.clone().unwrap_or_else(|| ids.thought_signature()))
                },
            })
            .collect();
        let finish_reason =
            reply.finish_reason.clone().unwrap_or_else(|| match (shape, tool_calls.is_empty()) {
                (Shape::Openai | Shape::LlamaCpp, false) => "tool_calls".to_owned(),
                _ => "stop".to_owned(),
            });
        let model = model_override.map(str::to_owned).unwrap_or_else(|| response_model(shape, request.body));
        let completion_chars = text.as_ref().map_or(0, String::len)
            + tool_calls.iter().map(|call| call.name.len() + call.arguments.len()).sum::<usize>();
        let prompt_tokens = estimate_tokens(prompt_chars(request.body));
        let completion_tokens = estimate_tokens(completion_chars);
        let include_usage =
            request.body.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false);
        let id = match shape {
            Shape::Openai => ids.openai_completion_id(),
            Shape::Gemini => ids.gemini_response_id(),
            Shape::LlamaCpp => ids.llamacpp_completion_id(),
        };
        let mut tool_calls = tool_calls;
        if shape == Shape::LlamaCpp {
            for (position, call) in tool_calls.iter_mut().enumerate() {
                if call.id.is_empty() {
                    call.id = format!("call__{position}_{}_{id}", call.name);
                }
            }
        }
        ResponsePlan {
            shape,
            id,
            created: unix_seconds(),
            model,
            include_usage,
            text,
            tool_calls,
            finish_reason,
            usage: Usage {
                prompt_tokens,
                completion_tokens,
                total_tokens: prompt_tokens + completion_tokens,
            },
        }
    }

    /// The frames of a streamed response, in order, ending with `[DONE]`.
    pub(crate) fn frames(&self, reply: &Reply) -> Vec<Frame> {
        let pieces = match &self.text {
            Some(text) => text_pieces(text, reply.chunk.unwrap_or_default()),
            None => Vec::new(),
        };
        let mut frames = Vec::with_capacity(pieces.len() + 2 * self.tool_calls.len() + 4);
        match self.shape {
            Shape::Openai => {
                if self.text.is_some() {
                    frames.push(Frame::OpenaiRole);
                    frames.extend(pieces.into_iter().map(Frame::Content));
                }
                let fragment_chars =
                    reply.argument_fragment_chars.unwrap_or(DEFAULT_ARGUMENT_FRAGMENT_CHARS).max(1);
                for (index, call) in self.tool_calls.iter().enumerate() {
                    frames.push(Frame::OpenaiToolCallStart(index));
                    frames.extend(
                        char_ranges(&call.arguments, fragment_chars)
                            .into_iter()
                            .map(|range| Frame::OpenaiToolCallArguments(index, range)),
                    );
                }
                frames.push(Frame::OpenaiFinish);
                if self.include_usage {
                    frames.push(Frame::OpenaiUsage);
                }
            }
            Shape::LlamaCpp => {
                if self.tool_calls.is_empty() {
                    frames.push(Frame::LlamaCppRole);
                    frames.extend(pieces.into_iter().map(Frame::Content));
                } else {
                    // Tool calls come alone (the server answers either a message or calls).
                    frames.push(Frame::LlamaCppToolCallsOpen);
                    let fragment_chars =
                        reply.argument_fragment_chars.unwrap_or(DEFAULT_ARGUMENT_FRAGMENT_CHARS).max(1);
                    for (index, call) in self.tool_calls.iter().enumerate() {
                        frames.extend(
                            char_ranges(&call.arguments, fragment_chars)
                                .into_iter()
                                .map(|range| Frame::LlamaCppToolCallArguments(index, range)),
                        );
                    }
                }
                frames.push(Frame::LlamaCppFinish);
            }
            Shape::Gemini => {
                frames.extend(pieces.into_iter().map(|range| Frame::Gemini {
                    content: Some(range),
                    tool_calls: false,
                    last: false,
                }));
                if !self.tool_calls.is_empty() {
                    frames.push(Frame::Gemini { content: None, tool_calls: true, last: false });
                }
                match frames.last_mut() {
                    Some(Frame::Gemini { last, .. }) => *last = true,
                    _ => frames.push(Frame::Gemini { content: None, tool_calls: false, last: true }),
                }
            }
        }
        frames.push(Frame::Done);
        frames
    }

    /// An OpenAI content chunk whose text is the current time: `@<µs since the Unix epoch> `.
    pub(crate) fn render_stamped_content(&self) -> Bytes {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_micros());
        let stamp = format!("@{micros} ");
        sse_event(&self.openai_chunk(Delta { content: Some(Some(&stamp)), ..Delta::default() }, None))
    }

    /// Serializes one frame as a complete SSE event.
    pub(crate) fn render(&self, frame: &Frame) -> Bytes {
        if self.shape == Shape::LlamaCpp {
            return self.render_llamacpp(frame);
        }
        let chunk = match frame {
            Frame::Done => return Bytes::from_static(b"data: [DONE]\n\n"),
            Frame::OpenaiRole => self.openai_chunk(
                Delta {
                    role: Some("assistant"),
                    content: Some(Some("")),
                    refusal: Some(()),
                    tool_calls: None,
                },
                None,
            ),
            Frame::Content(range) => self.openai_chunk(
                Delta { content: Some(Some(self.text_slice(range))), ..Delta::default() },
                None,
            ),
            Frame::OpenaiToolCallStart(index) => {
                let call = &self.tool_calls[*index];
                // Without text, the first tool call opens the message, as OpenAI does.
                let opens_message = *index == 0 && self.text.is_none();
                self.openai_chunk(
                    Delta {
                        role: opens_message.then_some("assistant"),
                        content: opens_message.then_some(None),
                        refusal: opens_message.then_some(()),
                        tool_calls: Some(vec![ToolCallDelta {
                            index: Some(*index),
                            id: Some(&call.id),
                            kind: Some("function"),
                            function: FunctionDelta { name: Some(&call.name), arguments: "" },
                            extra_content: None,
                        }]),
                    },
                    None,
                )
            }
            Frame::OpenaiToolCallArguments(index, range) => self.openai_chunk(
                Delta {
                    tool_calls: Some(vec![ToolCallDelta {
                        index: Some(*index),
                        id: None,
                        kind: None,
                        function: FunctionDelta {
                            name: None,
                            arguments: &self.tool_calls[*index].arguments[range.clone()],
                        },
                        extra_content: None,
                    }]),
                    ..Delta::default()
                },
                None,
            ),
            Frame::OpenaiFinish => self.openai_chunk(Delta::default(), Some(&self.finish_reason)),
            Frame::OpenaiUsage => Chunk {
                id: &self.id,
                object: "chat.completion.chunk",
                created: self.created,
                model: &self.model,
                service_tier: Some("default"),
                system_fingerprint: Some(SYSTEM_FINGERPRINT),
                choices: Vec::new(),
                usage: Some(Some(self.usage)),
            },
            Frame::LlamaCppRole
            | Frame::LlamaCppToolCallsOpen
            | Frame::LlamaCppToolCallArguments(..)
            | Frame::LlamaCppFinish => unreachable!("llama.cpp frames are rendered by render_llamacpp"),
            Frame::Gemini { content, tool_calls, last } => Chunk {
                id: &self.id,
                object: "chat.completion.chunk",
                created: self.created,
                model: &self.model,
                service_tier: None,
                system_fingerprint: None,
                choices: vec![ChunkChoice {
                    index: 0,
                    delta: Delta {
                        role: Some("assistant"),
                        content: content.as_ref().map(|range| Some(self.text_slice(range))),
                        refusal: None,
                        tool_calls: tool_calls.then(|| self.gemini_tool_calls()),
                    },
                    logprobs: None,
                    finish_reason: last.then_some(Some(self.finish_reason.as_str())),
                }],
                usage: last.then_some(Some(self.usage)),
            },
        };
        sse_event(&chunk)
    }

    /// A llama.cpp-style event (llama-cpp-python's `json.dumps`, framed by sse-starlette).
    fn render_llamacpp(&self, frame: &Frame) -> Bytes {
        let chat_id = format!("chat{}", self.id);
        let choice = |delta: LlamaDelta<'_>, finish_reason: Option<&str>| {
            let choice = LlamaChoice { index: 0, delta, logprobs: (), finish_reason };
            python_json(&LlamaChunk {
                id: &chat_id,
                model: &self.model,
                created: self.created,
                object: "chat.completion.chunk",
                choices: [choice],
            })
        };
        // The tool-call path of llama-cpp-python lists `object` and `created` first.
        let tool_choice = |delta: LlamaDelta<'_>, finish_reason: Option<&str>| {
            let choice = LlamaToolChoice { index: 0, finish_reason, logprobs: (), delta };
            python_json(&LlamaToolChunk {
                id: &chat_id,
                object: "chat.completion.chunk",
                created: self.created,
                model: &self.model,
                choices: [choice],
            })
        };
        let json = match frame {
            Frame::Done => return Bytes::from_static(b"data: [DONE]\r\n\r\n"),
            Frame::LlamaCppRole => choice(LlamaDelta::Role { role: "assistant" }, None),
            Frame::Content(range) => choice(LlamaDelta::Content { content: self.text_slice(range) }, None),
            Frame::LlamaCppFinish if self.tool_calls.is_empty() => {
                choice(LlamaDelta::Empty {}, Some(&self.finish_reason))
            }
            Frame::LlamaCppFinish => {
                tool_choice(LlamaDelta::Calls(LlamaCalls::default()), Some(&self.finish_reason))
            }
            Frame::LlamaCppToolCallsOpen => tool_choice(
                LlamaDelta::Calls(LlamaCalls { role: Some("assistant"), ..LlamaCalls::default() }),
                None,
            ),
            Frame::LlamaCppToolCallArguments(index, range) => {
                let call = &self.tool_calls[*index];
                let arguments = &call.arguments[range.clone()];
                tool_choice(
                    LlamaDelta::Calls(LlamaCalls {
                        role: None,
                        content: None,
                        function_call: Some(LlamaFunction { name: &call.name, arguments }),
                        tool_calls: Some([LlamaToolCall {
                            index: *index,
                            id: &call.id,
                            kind: "function",
                            function: LlamaFunction { name: &call.name, arguments },
                        }]),
                    }),
                    None,
                )
            }
            other => unreachable!("not a llama.cpp frame: {other:?}"),
        };
        let mut event = Vec::with_capacity(json.len() + 10);
        event.extend_from_slice(b"data: ");
        event.extend_from_slice(&json);
        event.extend_from_slice(b"\r\n\r\n");
        Bytes::from(event)
    }

    fn openai_chunk<'a>(&'a self, delta: Delta<'a>, finish_reason: Option<&'a str>) -> Chunk<'a> {
        Chunk {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: &self.model,
            service_tier: Some("default"),
            system_fingerprint: Some(SYSTEM_FINGERPRINT),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                logprobs: Some(()),
                finish_reason: Some(finish_reason),
            }],
            // With `include_usage`, OpenAI sends `"usage": null` on every chunk but the last.
            usage: self.include_usage.then_some(None),
        }
    }

    fn gemini_tool_calls(&self) -> Vec<ToolCallDelta<'_>> {
        self.tool_calls
            .iter()
            .map(|call| ToolCallDelta {
                index: None,
                id: Some(&call.id),
                kind: Some("function"),
                function: FunctionDelta { name: Some(&call.name), arguments: &call.arguments },
                extra_content: call
                    .thought_signature
                    .as_deref()
                    .map(|signature| ExtraContent { google: GoogleExtra { thought_signature: signature } }),
            })
            .collect()
    }

    fn text_slice(&self, range: &Range<usize>) -> &str {
        self.text.as_deref().map_or("", |text| &text[range.clone()])
    }

    /// The non-streaming `chat.completion` body.
    pub(crate) fn completion_body(&self) -> Value {
        let tool_calls: Vec<Value> = self
            .tool_calls
            .iter()
            .map(|call| {
                let mut value = json!({
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                });
                if self.shape == Shape::Gemini
                    && let Some(signature) = &call.thought_signature
                {
                    value["extra_content"] = json!({"google": {"thought_signature": signature}});
                }
                value
            })
            .collect();
        let mut message = json!({"role": "assistant", "content": self.text});
        if !tool_calls.is_empty() {
            message["tool_calls"] = Value::Array(tool_calls);
        }
        let mut body = json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
            "usage": self.usage,
        });
        if self.shape == Shape::Openai {
            body["choices"][0]["message"]["refusal"] = Value::Null;
            body["choices"][0]["message"]["annotations"] = json!([]);
            body["choices"][0]["logprobs"] = Value::Null;
            body["service_tier"] = json!("default");
            body["system_fingerprint"] = json!(SYSTEM_FINGERPRINT);
        }
        body
    }
}

/// One step of a streamed response.
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    /// OpenAI: the opening chunk with the role and empty content.
    OpenaiRole,
    /// OpenAI: a piece of the text.
    Content(Range<usize>),
    /// OpenAI: a tool call's id and name, with empty arguments.
    OpenaiToolCallStart(usize),
    /// OpenAI: a fragment of a tool call's arguments.
    OpenaiToolCallArguments(usize, Range<usize>),
    /// OpenAI: empty delta with the finish reason.
    OpenaiFinish,
    /// OpenAI: `choices: []` with `usage` (only with `stream_options.include_usage`).
    OpenaiUsage,
    /// llama.cpp: the opening chunk of a message, `delta: {"role": "assistant"}`.
    LlamaCppRole,
    /// llama.cpp: the opening chunk of tool calls (every delta field present, `null` but the role).
    LlamaCppToolCallsOpen,
    /// llama.cpp: a fragment of a tool call's arguments, with its index, id, type and name.
    LlamaCppToolCallArguments(usize, Range<usize>),
    /// llama.cpp: the finish reason in a chunk of its own.
    LlamaCppFinish,
    /// Gemini: a chunk with a text piece and/or all tool calls; the last one carries the finish
    /// reason and usage.
    Gemini { content: Option<Range<usize>>, tool_calls: bool, last: bool },
    /// The `[DONE]` sentinel.
    Done,
}

const SYSTEM_FINGERPRINT: &str = "fp_fa4e11m0ck";

/// An SSE event whose data is not valid JSON (an object cut off mid-string).
pub(crate) const MALFORMED_EVENT: &[u8] =
    b"data: {\"id\":\"chatcmpl-broken\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"unterminat\n\n";

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_tier: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_fingerprint: Option<&'static str>,
    choices: Vec<ChunkChoice<'a>>,
    /// Outer `None`: field absent; `Some(None)`: `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<Usage>>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    /// `Some(())` serializes as `null` (OpenAI always sends it); `None` leaves it out (Gemini).
    #[serde(skip_serializing_if = "Option::is_none")]
    logprobs: Option<()>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<Option<&'a str>>,
}

#[derive(Serialize, Default)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<()>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(Serialize)]
struct ToolCallDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionDelta<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_content: Option<ExtraContent<'a>>,
}

#[derive(Serialize)]
struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

#[derive(Serialize)]
struct ExtraContent<'a> {
    google: GoogleExtra<'a>,
}

#[derive(Serialize)]
struct GoogleExtra<'a> {
    thought_signature: &'a str,
}

#[derive(Serialize)]
struct LlamaChunk<'a> {
    id: &'a str,
    model: &'a str,
    created: u64,
    object: &'static str,
    choices: [LlamaChoice<'a>; 1],
}

#[derive(Serialize)]
struct LlamaChoice<'a> {
    index: u32,
    delta: LlamaDelta<'a>,
    /// Always `null`.
    logprobs: (),
    finish_reason: Option<&'a str>,
}

#[derive(Serialize)]
struct LlamaToolChunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [LlamaToolChoice<'a>; 1],
}

#[derive(Serialize)]
struct LlamaToolChoice<'a> {
    index: u32,
    finish_reason: Option<&'a str>,
    /// Always `null`.
    logprobs: (),
    delta: LlamaDelta<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LlamaDelta<'a> {
    Role { role: &'static str },
    Content { content: &'a str },
    Empty {},
    Calls(LlamaCalls<'a>),
}

/// A tool-call delta: every field present, `null` when it has nothing.
#[derive(Serialize, Default)]
struct LlamaCalls<'a> {
    role: Option<&'static str>,
    content: Option<&'a str>,
    function_call: Option<LlamaFunction<'a>>,
    tool_calls: Option<[LlamaToolCall<'a>; 1]>,
}

#[derive(Serialize)]
struct LlamaToolCall<'a> {
    index: usize,
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: LlamaFunction<'a>,
}

#[derive(Serialize)]
struct LlamaFunction<'a> {
    name: &'a str,
    arguments: &'a str,
}

/// JSON as Python's `json.dumps` writes it: `", "` and `": "` separators, non-ASCII escaped.
pub(crate) fn python_json<T: Serialize>(value: &T) -> Vec<u8> {
    struct PythonFormatter;
    impl serde_json::ser::Formatter for PythonFormatter {
        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first { Ok(()) } else { writer.write_all(b", ") }
        }
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first { Ok(()) } else { writer.write_all(b", ") }
        }
        fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
            writer.write_all(b": ")
        }
        fn write_string_fragment<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            fragment: &str,
        ) -> std::io::Result<()> {
            for character in fragment.chars() {
                if character.is_ascii() {
                    writer.write_all(&[character as u8])?;
                } else {
                    let mut units = [0u16; 2];
                    for unit in character.encode_utf16(&mut units) {
                        write!(writer, "\\u{unit:04x}")?;
                    }
                }
            }
            Ok(())
        }
    }
    let mut out = Vec::with_capacity(256);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut serializer).expect("chunk serialization cannot fail");
    out
}

fn sse_event(chunk: &Chunk<'_>) -> Bytes {
    let mut buffer = BytesMut::with_capacity(320).writer();
    buffer.get_mut().put_slice(b"data: ");
    serde_json::to_writer(&mut buffer, chunk).expect("chunk serialization cannot fail");
    let mut buffer = buffer.into_inner();
    buffer.put_slice(b"\n\n");
    buffer.freeze()
}

/// Splits `text` into chunk ranges; the ranges cover the text exactly, in order.
fn text_pieces(text: &str, chunking: Chunking) -> Vec<Range<usize>> {
    match chunking {
        Chunking::Chars(count) => char_ranges(text, count.max(1)),
        Chunking::Words(count) => word_ranges(text, count.max(1)),
    }
}

fn char_ranges(text: &str, chars_per_range: usize) -> Vec<Range<usize>> {
    if text.is_empty() {
        // One empty piece, so an empty text still produces a content chunk.
        return std::iter::once(0..0).collect();
    }
    let mut boundaries: Vec<usize> =
        text.char_indices().map(|(offset, _)| offset).step_by(chars_per_range).collect();
    boundaries.push(text.len());
    boundaries.windows(2).map(|pair| pair[0]..pair[1]).collect()
}

/// Ranges of `words_per_range` words each, every word keeping the whitespace that follows it.
fn word_ranges(text: &str, words_per_range: usize) -> Vec<Range<usize>> {
    let mut word_starts = vec![0];
    let mut previous_was_space = false;
    for (offset, character) in text.char_indices() {
        let is_space = character.is_whitespace();
        if previous_was_space && !is_space && offset != 0 {
            word_starts.push(offset);
        }
        previous_was_space = is_space;
    }
    let mut boundaries: Vec<usize> = word_starts.into_iter().step_by(words_per_range).collect();
    boundaries.push(text.len());
    boundaries.windows(2).map(|pair| pair[0]..pair[1]).collect()
}

fn filler_text(word_count: usize) -> String {
    let mut text = String::with_capacity(word_count * 6);
    for position in 0..word_count {
        if position > 0 {
            text.push(' ');
        }
        text.push_str(FILLER_WORDS[position % FILLER_WORDS.len()]);
    }
    if word_count > 0 {
        text.push('.');
    }
    text
}

fn echo_text(last_user_text: Option<&str>) -> String {
    match last_user_text {
        Some(text) => format!("You said: {text}"),
        None => "Hello from todokit-fake-llm.".to_owned(),
    }
}

/// The `model` a provider reports: the requested one (Gemini drops the `models/` prefix).
fn response_model(shape: Shape, body: &Value) -> String {
    let requested = body.get("model").and_then(Value::as_str);
    match (shape, requested) {
        (Shape::Openai, Some(model)) => model.to_owned(),
        (Shape::Openai, None) => "gpt-4o-mini".to_owned(),
        (Shape::Gemini, Some(model)) => model.trim_start_matches("models/").to_owned(),
        (Shape::Gemini, None) => "gemini-2.5-flash".to_owned(),
        // llama-cpp-python reports the model's alias (or path); a client names it in `model`.
        (Shape::LlamaCpp, Some(model)) => model.to_owned(),
        (Shape::LlamaCpp, None) => "gemma-3-270m-it".to_owned(),
    }
}

fn prompt_chars(body: &Value) -> usize {
    body.get("messages")
        .and_then(Value::as_array)
        .map_or(0, |messages| messages.iter().map(|message| message_text(message.get("content")).len()).sum())
}

fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4).max(1)
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

/// The error body a provider sends for `status`.
///
/// OpenAI: `{"error": {"message", "type", "param", "code"}}`. Gemini's OpenAI-compatible
/// endpoint wraps Google's error in a one-element array: `[{"error": {"code", "message",
/// "status"}}]`.
pub(crate) fn error_body(shape: Shape, status: u16, message: Option<&str>) -> Value {
    match shape {
        // llama-cpp-python: OpenAI's shape; anything it did not foresee is a 500.
        Shape::LlamaCpp => json!({"error": {
            "message": message.unwrap_or("Internal Server Error"),
            "type": if status == 500 { "internal_server_error" } else { "invalid_request_error" },
            "param": null,
            "code": null,
        }}),
        Shape::Openai => {
            let (default_message, kind, code) = match status {
                400 => ("Invalid request.", "invalid_request_error", Value::Null),
                401 => ("Incorrect API key provided.", "invalid_request_error", json!("invalid_api_key")),
                429 => (
                    "Rate limit reached for requests. Please try again later.",
                    "requests",
                    json!("rate_limit_exceeded"),
                ),
                503 => (
                    "The engine is currently overloaded, please try again later.",
                    "server_error",
                    Value::Null,
                ),
                _ => (
                    "The server had an error while processing your request. Sorry about that!",
                    "server_error",
                    Value::Null,
                ),
            };
            json!({"error": {
                "message": message.unwrap_or(default_message),
                "type": kind,
                "param": null,
                "code": code,
            }})
        }
        Shape::Gemini => {
            let (default_message, google_status) = match status {
                400 => ("Request contains an invalid argument.", "INVALID_ARGUMENT"),
                401 => ("API key not valid. Please pass a valid API key.", "UNAUTHENTICATED"),
                429 => ("Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED"),
                503 => ("The model is overloaded. Please try again later.", "UNAVAILABLE"),
                _ => ("An internal error has occurred.", "INTERNAL"),
            };
            json!([{"error": {
                "code": status,
                "message": message.unwrap_or(default_message),
                "status": google_status,
            }}])
        }
    }
}

/// The 400 a provider sends for a prompt of `prompt_tokens` that does not fit `context_tokens`.
pub(crate) fn context_exceeded_body(shape: Shape, prompt_tokens: u64, context_tokens: u64) -> Value {
    match shape {
        Shape::Openai => json!({"error": {
            "message": format!("This model's maximum context length is {context_tokens} tokens. However, your \
                messages resulted in {prompt_tokens} tokens. Please reduce the length of the messages."),
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }}),
        Shape::LlamaCpp => json!({"error": {
            "message": format!("This model's maximum context length is {context_tokens} tokens. However, you \
                requested {prompt_tokens} tokens ({prompt_tokens} in the messages, None in the completion). \
                Please reduce the length of the messages or completion."),
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }}),
        Shape::Gemini => json!([{"error": {
            "code": 400,
            "message": format!("The input token count ({prompt_tokens}) exceeds the maximum number of tokens \
                allowed ({context_tokens})."),
            "status": "INVALID_ARGUMENT",
        }}]),
    }
}

/// Estimated tokens of a request's prompt: its messages and tools, four characters a token.
pub(crate) fn prompt_tokens(body: &Value) -> u64 {
    let tools = body.get("tools").map_or(0, |tools| tools.to_string().len());
    let messages = body.get("messages").map_or(0, |messages| messages.to_string().len());
    estimate_tokens(messages + tools)
}

/// Python's `json.loads` complaint about the first tool-call argument string in the history
/// that is not JSON, as llama-cpp-python's chat templates parse them.
pub(crate) fn invalid_history_arguments(body: &Value) -> Option<String> {
    let messages = body.get("messages")?.as_array()?;
    let arguments = messages
        .iter()
        .filter_map(|message| message.get("tool_calls").and_then(Value::as_array))
        .flatten()
        .filter_map(|call| call.pointer("/function/arguments").and_then(Value::as_str));
    for text in arguments {
        let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        match values.next() {
            Some(Ok(_)) => {
                let end = values.byte_offset();
                if !text[end..].trim().is_empty() {
                    let at = end + (text[end..].len() - text[end..].trim_start().len());
                    return Some(format!("Extra data: line 1 column {} (char {at})", at + 1));
                }
            }
            Some(Err(error)) => {
                return Some(format!(
                    "Expecting value: line {} column {} (char {})",
                    error.line(),
                    error.column(),
                    error.column().saturating_sub(1)
                ));
            }
            None => return Some("Expecting value: line 1 column 1 (char 0)".to_owned()),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json_is_spaced_and_ascii() {
        let text = python_json(&json!({"a": [1, 2], "b": "héllo 🙂"}));
        assert_eq!(String::from_utf8(text).unwrap(), r#"{"a": [1, 2], "b": "h\u00e9llo \ud83d\ude42"}"#);
    }

    #[test]
    fn invalid_history_arguments_are_named_like_python() {
        let body = |arguments: &str| {
            json!({"messages": [{"role": "assistant", "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "x", "arguments": arguments}}]}]})
        };
        assert_eq!(
            invalid_history_arguments(&body(r#"{"task_id":"3"}{"task_id":"3"}"#)).as_deref(),
            Some("Extra data: line 1 column 16 (char 15)")
        );
        assert!(invalid_history_arguments(&body(r#"{"task_id": "3""#)).is_some());
        assert_eq!(invalid_history_arguments(&body(r#"{"task_id": "3"}"#)), None);
    }

    #[test]
    fn word_ranges_cover_the_text() {
        let text = "  hello big\n world ";
        for per in 1..4 {
            let joined: String = word_ranges(text, per).into_iter().map(|range| &text[range]).collect();
            assert_eq!(joined, text);
        }
        let pieces: Vec<_> = word_ranges("a b c", 1).into_iter().map(|range| &"a b c"[range]).collect();
        assert_eq!(pieces, ["a ", "b ", "c"]);
    }

    #[test]
    fn char_ranges_respect_utf8() {
        let text = "héllo wörld";
        let joined: String = char_ranges(text, 3).into_iter().map(|range| &text[range]).collect();
        assert_eq!(joined, text);
    }

    #[test]
    fn filler_has_the_requested_word_count() {
        assert_eq!(filler_text(20).split_whitespace().count(), 20);
    }
}
