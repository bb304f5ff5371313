//! OpenAI ChatKit server protocol (openai-chatkit 1.6.5) for Rust: wire types, SSE framing,
//! a streaming server core with the reference persistence rules, and a [`Store`] trait.
//! Knows nothing about the application.
//!
//! Wiring: implement [`Store`] (or use [`MemoryStore`] in tests) and [`Responder`], build a
//! [`ChatKitServer`], and call [`ChatKitServer::process`] with the request body and your
//! request context. Send [`ProcessResult::Json`] as `application/json` and
//! [`ProcessResult::Stream`] (via [`ThreadEventStream::into_sse`]) as `text/event-stream`.
#![warn(missing_docs)]

pub mod ids;
pub mod memory_store;
mod producer;
pub mod responder;
pub mod server;
pub mod sse;
pub mod store;
pub mod timestamp;
pub mod title;
pub mod types;

pub use ids::{IdKind, new_id, new_message_id, new_thread_id};
pub use memory_store::{FeedbackRecord, MemoryStore};
pub use responder::{
    EventSink, Responder, ResponseError, ResponseStream, StreamClosed, ThreadHandle, response_stream,
};
pub use server::{
    CANCELLED_NOTE, ChatKitServer, ProcessError, ProcessResult, StreamCompletion, ThreadEventStream,
    apply_update,
};
pub use sse::sse_frame;
pub use store::{BoxError, Store, StoreError};
pub use title::title_from_text;
pub use types::*;
