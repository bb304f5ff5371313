//! Stream events (`ThreadStreamEvent`) and item updates (`ThreadItemUpdate`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::content::{Annotation, AssistantMessageContent};
use super::items::{GeneratedImage, ThreadItem};
use super::thread::Thread;
use super::workflow::Task;

/// One server-sent event, discriminated on `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ThreadStreamEvent {
    /// `thread.created`: only for `threads.create`.
    #[serde(rename = "thread.created")]
    ThreadCreated {
        /// The new thread (empty items page).
        thread: Thread,
    },
    /// `thread.updated`: the thread's metadata changed.
    #[serde(rename = "thread.updated")]
    ThreadUpdated {
        /// The thread (empty items page).
        thread: Thread,
    },
    /// `thread.item.added`: an item starts streaming. Not persisted.
    #[serde(rename = "thread.item.added")]
    ThreadItemAdded {
        /// The item in its initial state.
        item: ThreadItem,
    },
    /// `thread.item.updated`: an incremental change to a streaming item. Not persisted.
    #[serde(rename = "thread.item.updated")]
    ThreadItemUpdated {
        /// Target item (announced by an earlier `thread.item.added`).
        item_id: String,
        /// The change.
        update: ThreadItemUpdate,
    },
    /// `thread.item.done`: an item is final. Persisted (upsert).
    #[serde(rename = "thread.item.done")]
    ThreadItemDone {
        /// The final item.
        item: ThreadItem,
    },
    /// `thread.item.removed`: persisted as a delete.
    #[serde(rename = "thread.item.removed")]
    ThreadItemRemoved {
        /// Removed item id.
        item_id: String,
    },
    /// `thread.item.replaced`: persisted as an upsert.
    #[serde(rename = "thread.item.replaced")]
    ThreadItemReplaced {
        /// The replacement.
        item: ThreadItem,
    },
    /// `stream_options`: first event of every response phase.
    #[serde(rename = "stream_options")]
    StreamOptions {
        /// The options.
        stream_options: StreamOptions,
    },
    /// `progress_update`: ephemeral status line.
    #[serde(rename = "progress_update")]
    ProgressUpdate {
        /// Icon name (an `IconName` literal, or `vendor:…` / `lucide:…`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        icon: Option<String>,
        /// Text.
        text: String,
    },
    /// `client_effect`: ephemeral; surfaces as the client's `chatkit.effect` event.
    #[serde(rename = "client_effect")]
    ClientEffect {
        /// Effect name.
        name: String,
        /// Effect data.
        #[serde(default)]
        data: Map<String, Value>,
    },
    /// `error`: in-band error; the stream ends after it.
    #[serde(rename = "error")]
    Error {
        /// `custom` (with a message) or `stream.error` (client shows a generic text).
        #[serde(default)]
        code: ErrorCode,
        /// User-facing message (for `custom`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// Whether the client offers Retry.
        #[serde(default)]
        allow_retry: bool,
    },
    /// `notice`: ephemeral banner.
    #[serde(rename = "notice")]
    Notice {
        /// Severity.
        level: NoticeLevel,
        /// Markdown message.
        message: String,
        /// Optional title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
}

impl ThreadStreamEvent {
    /// `{"type":"error","code":"custom","message":…,"allow_retry":…}`.
    pub fn custom_error(message: impl Into<String>, allow_retry: bool) -> Self {
        ThreadStreamEvent::Error {
            code: ErrorCode::Custom,
            message: Some(message.into()),
            allow_retry,
        }
    }

    /// `{"type":"error","code":"stream.error","allow_retry":…}`.
    pub fn stream_error(allow_retry: bool) -> Self {
        ThreadStreamEvent::Error {
            code: ErrorCode::StreamError,
            message: None,
            allow_retry,
        }
    }

    /// The `type` discriminator, e.g. `"thread.item.done"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ThreadStreamEvent::ThreadCreated { .. } => "thread.created",
            ThreadStreamEvent::ThreadUpdated { .. } => "thread.updated",
            ThreadStreamEvent::ThreadItemAdded { .. } => "thread.item.added",
            ThreadStreamEvent::ThreadItemUpdated { .. } => "thread.item.updated",
            ThreadStreamEvent::ThreadItemDone { .. } => "thread.item.done",
            ThreadStreamEvent::ThreadItemRemoved { .. } => "thread.item.removed",
            ThreadStreamEvent::ThreadItemReplaced { .. } => "thread.item.replaced",
            ThreadStreamEvent::StreamOptions { .. } => "stream_options",
            ThreadStreamEvent::ProgressUpdate { .. } => "progress_update",
            ThreadStreamEvent::ClientEffect { .. } => "client_effect",
            ThreadStreamEvent::Error { .. } => "error",
            ThreadStreamEvent::Notice { .. } => "notice",
        }
    }
}

/// Runtime stream settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Whether the client shows a stop button.
    pub allow_cancel: bool,
}

/// Error codes known to the protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// `custom`: show `message`.
    #[default]
    #[serde(rename = "custom")]
    Custom,
    /// `stream.error`: the client shows a localized generic error.
    #[serde(rename = "stream.error")]
    StreamError,
}

/// Severity of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeLevel {
    /// Informational.
    Info,
    /// Warning.
    Warning,
    /// Danger.
    Danger,
}

/// An incremental change carried by `thread.item.updated`, discriminated on `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ThreadItemUpdate {
    /// `assistant_message.content_part.added`: sets `content[content_index]`.
    #[serde(rename = "assistant_message.content_part.added")]
    ContentPartAdded {
        /// Part index.
        content_index: usize,
        /// The part's initial state.
        content: AssistantMessageContent,
    },
    /// `assistant_message.content_part.text_delta`: appends to `content[content_index].text`.
    #[serde(rename = "assistant_message.content_part.text_delta")]
    TextDelta {
        /// Part index.
        content_index: usize,
        /// Text to append.
        delta: String,
    },
    /// `assistant_message.content_part.annotation_added`.
    #[serde(rename = "assistant_message.content_part.annotation_added")]
    AnnotationAdded {
        /// Part index.
        content_index: usize,
        /// Position among the part's annotations.
        annotation_index: usize,
        /// The annotation.
        annotation: Annotation,
    },
    /// `assistant_message.content_part.done`: the final state of `content[content_index]`.
    #[serde(rename = "assistant_message.content_part.done")]
    ContentPartDone {
        /// Part index.
        content_index: usize,
        /// The final part.
        content: AssistantMessageContent,
    },
    /// `widget.streaming_text.value_delta`: appends to a Markdown/Text component's value.
    #[serde(rename = "widget.streaming_text.value_delta")]
    WidgetTextDelta {
        /// Component id.
        component_id: String,
        /// Text to append.
        delta: String,
        /// Whether the component finished streaming.
        done: bool,
    },
    /// `widget.root.updated`: replaces the whole widget.
    #[serde(rename = "widget.root.updated")]
    WidgetRootUpdated {
        /// New widget root.
        widget: Value,
    },
    /// `widget.component.updated`: replaces one component.
    #[serde(rename = "widget.component.updated")]
    WidgetComponentUpdated {
        /// Component id.
        component_id: String,
        /// New component.
        component: Value,
    },
    /// `workflow.task.added`: appends a task.
    #[serde(rename = "workflow.task.added")]
    WorkflowTaskAdded {
        /// Index of the new task.
        task_index: usize,
        /// The task.
        task: Task,
    },
    /// `workflow.task.updated`: replaces `tasks[task_index]`.
    #[serde(rename = "workflow.task.updated")]
    WorkflowTaskUpdated {
        /// Task index.
        task_index: usize,
        /// The new task state.
        task: Task,
    },
    /// `generated_image.updated`
    #[serde(rename = "generated_image.updated")]
    GeneratedImageUpdated {
        /// Image so far.
        image: GeneratedImage,
        /// Progress in 0..=1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        progress: Option<f64>,
    },
}
