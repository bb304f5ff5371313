//! Thread items: everything a thread contains.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::attachments::Attachment;
use super::content::{AssistantMessageContent, InferenceOptions, UserMessageContent};
use super::structured::{StructuredInput, StructuredInputStatus};
use super::workflow::{Task, Workflow};

/// One item of a thread. Serialized as `{"id", "thread_id", "created_at", "type", …}`, the
/// reference key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadItem {
    /// Item id (e.g. `msg_…`).
    pub id: String,
    /// Owning thread.
    pub thread_id: String,
    /// Creation time; the primary sort key.
    #[serde(with = "crate::timestamp")]
    pub created_at: Timestamp,
    /// Variant and its fields.
    #[serde(flatten)]
    pub kind: ItemKind,
}

impl ThreadItem {
    /// A new item created now.
    pub fn new(id: impl Into<String>, thread_id: impl Into<String>, kind: ItemKind) -> Self {
        ThreadItem {
            id: id.into(),
            thread_id: thread_id.into(),
            created_at: crate::timestamp::now(),
            kind,
        }
    }

    /// Whether the item is server-only context that is stored but never sent to clients.
    pub fn is_hidden(&self) -> bool {
        self.kind.is_hidden()
    }

    /// The `type` discriminator, e.g. `"assistant_message"`.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

/// Item variants, discriminated on `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemKind {
    /// `user_message`
    UserMessage {
        /// Message parts.
        content: Vec<UserMessageContent>,
        /// Attached files.
        #[serde(default)]
        attachments: Vec<Attachment>,
        /// Text the user replied to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quoted_text: Option<String>,
        /// Model / tool choice (always present on the wire, may be `{}`).
        #[serde(default)]
        inference_options: InferenceOptions,
    },
    /// `assistant_message`
    AssistantMessage {
        /// Output text parts.
        content: Vec<AssistantMessageContent>,
    },
    /// `client_tool_call`: a tool the client runs (not used by todokit).
    ClientToolCall {
        /// `pending` until the client reports output.
        #[serde(default)]
        status: ClientToolCallStatus,
        /// Call id.
        call_id: String,
        /// Tool name.
        name: String,
        /// Tool arguments.
        arguments: Map<String, Value>,
        /// Tool output, once completed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<Value>,
    },
    /// `widget`: free-form widget JSON.
    Widget {
        /// Widget root (`Card`, `ListView`, `Basic`).
        widget: Value,
        /// Text copied by the copy button.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        copy_text: Option<String>,
    },
    /// `generated_image`
    GeneratedImage {
        /// The image, once available.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image: Option<GeneratedImage>,
    },
    /// `structured_input`: questions for the user.
    StructuredInput {
        /// Item status.
        #[serde(default)]
        status: StructuredInputStatus,
        /// The questions.
        inputs: Vec<StructuredInput>,
    },
    /// `workflow`
    Workflow {
        /// The workflow.
        workflow: Workflow,
    },
    /// `task`: a standalone task.
    Task {
        /// The task.
        task: Task,
    },
    /// `end_of_turn`: UI hint that the assistant finished its turn.
    EndOfTurn,
    /// `hidden_context_item`: application context. Stored, never sent.
    #[serde(rename = "hidden_context_item")]
    HiddenContext {
        /// Any JSON.
        content: Value,
    },
    /// `sdk_hidden_context`: context written by this crate (e.g. the cancellation note).
    /// Stored, never sent.
    SdkHiddenContext {
        /// Plain text for the model.
        content: String,
    },
}

impl ItemKind {
    /// Whether this is one of the two hidden kinds.
    pub fn is_hidden(&self) -> bool {
        matches!(
            self,
            ItemKind::HiddenContext { .. } | ItemKind::SdkHiddenContext { .. }
        )
    }

    /// The `type` discriminator.
    pub fn type_name(&self) -> &'static str {
        match self {
            ItemKind::UserMessage { .. } => "user_message",
            ItemKind::AssistantMessage { .. } => "assistant_message",
            ItemKind::ClientToolCall { .. } => "client_tool_call",
            ItemKind::Widget { .. } => "widget",
            ItemKind::GeneratedImage { .. } => "generated_image",
            ItemKind::StructuredInput { .. } => "structured_input",
            ItemKind::Workflow { .. } => "workflow",
            ItemKind::Task { .. } => "task",
            ItemKind::EndOfTurn => "end_of_turn",
            ItemKind::HiddenContext { .. } => "hidden_context_item",
            ItemKind::SdkHiddenContext { .. } => "sdk_hidden_context",
        }
    }
}

/// Status of a client tool call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientToolCallStatus {
    /// Waiting for the client's output.
    #[default]
    Pending,
    /// Output received.
    Completed,
}

/// A generated image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedImage {
    /// Image id.
    pub id: String,
    /// Image URL (may be a `data:` URL).
    pub url: String,
}
