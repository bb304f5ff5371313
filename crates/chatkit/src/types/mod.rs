//! Wire types of the ChatKit protocol (openai-chatkit 1.6.5).
//!
//! Serialization follows the reference: `None` fields are omitted, default-valued
//! collections and booleans are always present, and keys come in the reference order
//! where the captured examples show it.

mod attachments;
mod content;
mod events;
mod items;
mod requests;
mod structured;
mod thread;
mod workflow;

pub use attachments::{Attachment, AttachmentKind, UploadDescriptor};
pub use content::{
    Annotation, AssistantMessageContent, EntitySource, FileSource, InferenceOptions, Source, ToolChoice,
    UrlSource, UserMessageContent,
};
pub use events::{ErrorCode, NoticeLevel, StreamOptions, ThreadItemUpdate, ThreadStreamEvent};
pub use items::{ClientToolCallStatus, GeneratedImage, ItemKind, ThreadItem};
pub use requests::{
    AttachmentCreateParams, AttachmentDeleteParams, DEFAULT_PAGE_SIZE, InputTranscribeParams,
    ItemsFeedbackParams, ItemsListParams, MAX_PAGE_SIZE, REQUEST_TYPES, Request, RequestParams,
    RequestParseError, ThreadAddClientToolOutputParams, ThreadAddStructuredInputParams,
    ThreadAddUserMessageParams, ThreadCreateParams, ThreadCustomActionParams, ThreadIdParams,
    ThreadListParams, ThreadRetryAfterItemParams, ThreadUpdateParams, UserMessageInput,
};
pub use structured::{
    StructuredInput, StructuredInputAnswer, StructuredInputKind, StructuredInputOption,
    StructuredInputStatus, StructuredInputSubmission, SubmissionStatus, apply_submission,
};
pub use thread::{
    Action, FeedbackKind, Page, SortOrder, SyncCustomActionResponse, Thread, ThreadMetadata, ThreadStatus,
};
pub use workflow::{Task, TaskKind, TaskStatusIndicator, Workflow, WorkflowKind, WorkflowSummary};
