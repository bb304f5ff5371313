//! The request envelope `{type, params, metadata?}` and the 16 request types.
//!
//! Parsing is lenient the way the reference is: unknown fields are ignored and `metadata`
//! may be absent. `params` is required for every type, even when all its fields have
//! defaults.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::content::{InferenceOptions, UserMessageContent};
use super::structured::StructuredInputSubmission;
use super::thread::{Action, FeedbackKind, SortOrder};

/// Page size used when a request's `limit` is absent, `null` or `0`.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// Largest page a request gets; a bigger `limit` is capped to this, not refused.
pub const MAX_PAGE_SIZE: usize = 100;

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    /// The request type and its params.
    #[serde(flatten)]
    pub params: RequestParams,
    /// Client metadata (`{}` when absent); unused by the server.
    pub metadata: Map<String, Value>,
}

impl Request {
    /// Parses a request body, explaining what is wrong when it is not a valid request.
    pub fn from_slice(body: &[u8]) -> Result<Self, RequestParseError> {
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|error| RequestParseError(format!("malformed request body: {error}")))?;
        let params = envelope
            .params
            .ok_or_else(|| RequestParseError(format!("`{}` request has no `params`", envelope.kind)))?;
        let params = RequestParams::from_parts(&envelope.kind, params)?;
        Ok(Request { params, metadata: envelope.metadata.unwrap_or_default() })
    }
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let envelope = Envelope::deserialize(deserializer)?;
        let params = envelope.params.ok_or_else(|| {
            serde::de::Error::custom(format!("`{}` request has no `params`", envelope.kind))
        })?;
        let params = RequestParams::from_parts(&envelope.kind, params).map_err(serde::de::Error::custom)?;
        Ok(Request { params, metadata: envelope.metadata.unwrap_or_default() })
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// Why a request body was rejected; the message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RequestParseError(pub String);

/// The request type with its params.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "params")]
pub enum RequestParams {
    /// `threads.create` (streaming)
    #[serde(rename = "threads.create")]
    ThreadsCreate(ThreadCreateParams),
    /// `threads.add_user_message` (streaming)
    #[serde(rename = "threads.add_user_message")]
    ThreadsAddUserMessage(ThreadAddUserMessageParams),
    /// `threads.add_client_tool_output` (streaming)
    #[serde(rename = "threads.add_client_tool_output")]
    ThreadsAddClientToolOutput(ThreadAddClientToolOutputParams),
    /// `threads.add_structured_input` (streaming)
    #[serde(rename = "threads.add_structured_input")]
    ThreadsAddStructuredInput(ThreadAddStructuredInputParams),
    /// `threads.retry_after_item` (streaming)
    #[serde(rename = "threads.retry_after_item")]
    ThreadsRetryAfterItem(ThreadRetryAfterItemParams),
    /// `threads.custom_action` (streaming)
    #[serde(rename = "threads.custom_action")]
    ThreadsCustomAction(ThreadCustomActionParams),
    /// `threads.get_by_id`
    #[serde(rename = "threads.get_by_id")]
    ThreadsGetById(ThreadIdParams),
    /// `threads.list`
    #[serde(rename = "threads.list")]
    ThreadsList(ThreadListParams),
    /// `threads.update`
    #[serde(rename = "threads.update")]
    ThreadsUpdate(ThreadUpdateParams),
    /// `threads.delete`
    #[serde(rename = "threads.delete")]
    ThreadsDelete(ThreadIdParams),
    /// `threads.sync_custom_action`
    #[serde(rename = "threads.sync_custom_action")]
    ThreadsSyncCustomAction(ThreadCustomActionParams),
    /// `items.list`
    #[serde(rename = "items.list")]
    ItemsList(ItemsListParams),
    /// `items.feedback`
    #[serde(rename = "items.feedback")]
    ItemsFeedback(ItemsFeedbackParams),
    /// `attachments.create`
    #[serde(rename = "attachments.create")]
    AttachmentsCreate(AttachmentCreateParams),
    /// `attachments.delete`
    #[serde(rename = "attachments.delete")]
    AttachmentsDelete(AttachmentDeleteParams),
    /// `input.transcribe`
    #[serde(rename = "input.transcribe")]
    InputTranscribe(InputTranscribeParams),
}

/// All request type names, streaming ones first.
pub const REQUEST_TYPES: [&str; 16] = [
    "threads.create",
    "threads.add_user_message",
    "threads.add_client_tool_output",
    "threads.add_structured_input",
    "threads.retry_after_item",
    "threads.custom_action",
    "threads.get_by_id",
    "threads.list",
    "threads.update",
    "threads.delete",
    "threads.sync_custom_action",
    "items.list",
    "items.feedback",
    "attachments.create",
    "attachments.delete",
    "input.transcribe",
];

impl RequestParams {
    fn from_parts(kind: &str, params: Value) -> Result<Self, RequestParseError> {
        fn parse<T: serde::de::DeserializeOwned>(kind: &str, params: Value) -> Result<T, RequestParseError> {
            serde_json::from_value(params)
                .map_err(|error| RequestParseError(format!("invalid `{kind}` params: {error}")))
        }
        Ok(match kind {
            "threads.create" => RequestParams::ThreadsCreate(parse(kind, params)?),
            "threads.add_user_message" => RequestParams::ThreadsAddUserMessage(parse(kind, params)?),
            "threads.add_client_tool_output" => {
                RequestParams::ThreadsAddClientToolOutput(parse(kind, params)?)
            }
            "threads.add_structured_input" => RequestParams::ThreadsAddStructuredInput(parse(kind, params)?),
            "threads.retry_after_item" => RequestParams::ThreadsRetryAfterItem(parse(kind, params)?),
            "threads.custom_action" => RequestParams::ThreadsCustomAction(parse(kind, params)?),
            "threads.get_by_id" => RequestParams::ThreadsGetById(parse(kind, params)?),
            "threads.list" => RequestParams::ThreadsList(parse(kind, params)?),
            "threads.update" => RequestParams::ThreadsUpdate(parse(kind, params)?),
            "threads.delete" => RequestParams::ThreadsDelete(parse(kind, params)?),
            "threads.sync_custom_action" => RequestParams::ThreadsSyncCustomAction(parse(kind, params)?),
            "items.list" => RequestParams::ItemsList(parse(kind, params)?),
            "items.feedback" => RequestParams::ItemsFeedback(parse(kind, params)?),
            "attachments.create" => RequestParams::AttachmentsCreate(parse(kind, params)?),
            "attachments.delete" => RequestParams::AttachmentsDelete(parse(kind, params)?),
            "input.transcribe" => RequestParams::InputTranscribe(parse(kind, params)?),
            unknown => {
                return Err(RequestParseError(format!(
                    "unknown request type `{unknown}`; expected one of: {}",
                    REQUEST_TYPES.join(", ")
                )));
            }
        })
    }

    /// The request's `type`, e.g. `"threads.add_user_message"`.
    pub fn type_name(&self) -> &'static str {
        let index = match self {
            RequestParams::ThreadsCreate(_) => 0,
            RequestParams::ThreadsAddUserMessage(_) => 1,
            RequestParams::ThreadsAddClientToolOutput(_) => 2,
            RequestParams::ThreadsAddStructuredInput(_) => 3,
            RequestParams::ThreadsRetryAfterItem(_) => 4,
            RequestParams::ThreadsCustomAction(_) => 5,
            RequestParams::ThreadsGetById(_) => 6,
            RequestParams::ThreadsList(_) => 7,
            RequestParams::ThreadsUpdate(_) => 8,
            RequestParams::ThreadsDelete(_) => 9,
            RequestParams::ThreadsSyncCustomAction(_) => 10,
            RequestParams::ItemsList(_) => 11,
            RequestParams::ItemsFeedback(_) => 12,
            RequestParams::AttachmentsCreate(_) => 13,
            RequestParams::AttachmentsDelete(_) => 14,
            RequestParams::InputTranscribe(_) => 15,
        };
        REQUEST_TYPES[index]
    }

    /// The thread the request is about, if it names one (`threads.create` does not).
    pub fn thread_id(&self) -> Option<&str> {
        match self {
            RequestParams::ThreadsAddUserMessage(p) => Some(&p.thread_id),
            RequestParams::ThreadsAddClientToolOutput(p) => Some(&p.thread_id),
            RequestParams::ThreadsAddStructuredInput(p) => Some(&p.thread_id),
            RequestParams::ThreadsRetryAfterItem(p) => Some(&p.thread_id),
            RequestParams::ThreadsCustomAction(p) | RequestParams::ThreadsSyncCustomAction(p) => {
                Some(&p.thread_id)
            }
            RequestParams::ThreadsGetById(p) | RequestParams::ThreadsDelete(p) => Some(&p.thread_id),
            RequestParams::ThreadsUpdate(p) => Some(&p.thread_id),
            RequestParams::ItemsList(p) => Some(&p.thread_id),
            RequestParams::ItemsFeedback(p) => Some(&p.thread_id),
            RequestParams::ThreadsCreate(_)
            | RequestParams::ThreadsList(_)
            | RequestParams::AttachmentsCreate(_)
            | RequestParams::AttachmentsDelete(_)
            | RequestParams::InputTranscribe(_) => None,
        }
    }

    /// The text of the user message the request carries, if any.
    pub fn user_text(&self) -> Option<String> {
        let input = match self {
            RequestParams::ThreadsCreate(p) => &p.input,
            RequestParams::ThreadsAddUserMessage(p) => &p.input,
            _ => return None,
        };
        Some(input.content.iter().map(|part| part.text()).collect::<Vec<_>>().join(""))
    }

    /// Whether the response is an SSE stream (depends only on the type).
    pub fn is_streaming(&self) -> bool {
        matches!(
            self,
            RequestParams::ThreadsCreate(_)
                | RequestParams::ThreadsAddUserMessage(_)
                | RequestParams::ThreadsAddClientToolOutput(_)
                | RequestParams::ThreadsAddStructuredInput(_)
                | RequestParams::ThreadsRetryAfterItem(_)
                | RequestParams::ThreadsCustomAction(_)
        )
    }

    /// Whether the request runs the model on new or repeated user input
    /// (`threads.create`, `threads.add_user_message`, `threads.retry_after_item`); the
    /// requests an application typically rate-limits.
    pub fn sends_user_message(&self) -> bool {
        matches!(
            self,
            RequestParams::ThreadsCreate(_)
                | RequestParams::ThreadsAddUserMessage(_)
                | RequestParams::ThreadsRetryAfterItem(_)
        )
    }
}

/// A user message as submitted by the composer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserMessageInput {
    /// Message parts.
    pub content: Vec<UserMessageContent>,
    /// Attachment ids.
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Text the user replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_text: Option<String>,
    /// Model / tool choice.
    #[serde(default)]
    pub inference_options: InferenceOptions,
}

/// `threads.create` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadCreateParams {
    /// The first message.
    pub input: UserMessageInput,
}

/// `threads.add_user_message` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadAddUserMessageParams {
    /// The message.
    pub input: UserMessageInput,
    /// Target thread.
    pub thread_id: String,
}

/// `threads.add_client_tool_output` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadAddClientToolOutputParams {
    /// Target thread.
    pub thread_id: String,
    /// The tool's output (any JSON).
    pub result: Value,
}

/// `threads.add_structured_input` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadAddStructuredInputParams {
    /// Target thread.
    pub thread_id: String,
    /// The pending `structured_input` item.
    pub item_id: String,
    /// The answers.
    pub input: StructuredInputSubmission,
}

/// `threads.retry_after_item` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadRetryAfterItemParams {
    /// Target thread.
    pub thread_id: String,
    /// The user message to answer again; everything after it is deleted.
    pub item_id: String,
}

/// `threads.custom_action` / `threads.sync_custom_action` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadCustomActionParams {
    /// Target thread.
    pub thread_id: String,
    /// The widget item that sent the action, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// The action.
    pub action: Action,
}

/// Params that only name a thread (`threads.get_by_id`, `threads.delete`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadIdParams {
    /// Target thread.
    pub thread_id: String,
}

/// `threads.list` params.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadListParams {
    /// Page size; `null` / `0` means [`DEFAULT_PAGE_SIZE`]; capped at [`MAX_PAGE_SIZE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Sort order (default newest first).
    #[serde(default)]
    pub order: SortOrder,
    /// Cursor: id of the last thread of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl ThreadListParams {
    /// The effective page size.
    pub fn page_size(&self) -> usize {
        effective_page_size(self.limit)
    }
}

/// `threads.update` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadUpdateParams {
    /// Target thread.
    pub thread_id: String,
    /// New title.
    pub title: String,
}

/// `items.list` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemsListParams {
    /// Target thread.
    pub thread_id: String,
    /// Page size; `null` / `0` means [`DEFAULT_PAGE_SIZE`]; capped at [`MAX_PAGE_SIZE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Sort order (default newest first).
    #[serde(default)]
    pub order: SortOrder,
    /// Cursor: id of the last item of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl ItemsListParams {
    /// The effective page size.
    pub fn page_size(&self) -> usize {
        effective_page_size(self.limit)
    }
}

fn effective_page_size(limit: Option<u32>) -> usize {
    match limit {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(limit) => (limit as usize).min(MAX_PAGE_SIZE),
    }
}

/// `items.feedback` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemsFeedbackParams {
    /// Target thread.
    pub thread_id: String,
    /// Rated items.
    pub item_ids: Vec<String>,
    /// Sentiment.
    pub kind: FeedbackKind,
}

/// `attachments.create` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentCreateParams {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type.
    pub mime_type: String,
}

/// `attachments.delete` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentDeleteParams {
    /// Attachment id.
    pub attachment_id: String,
}

/// `input.transcribe` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputTranscribeParams {
    /// Base64 audio.
    pub audio_base64: String,
    /// MIME type, e.g. `audio/webm;codecs=opus`.
    pub mime_type: String,
}
