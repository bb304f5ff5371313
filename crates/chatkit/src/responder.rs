//! What the application implements: turning a user message (or an action) into events.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::{StreamExt, stream};

use crate::producer::{Sender, producer_stream};
use crate::server::ProcessError;
use crate::store::BoxError;
use crate::types::{
    Action, SyncCustomActionResponse, ThreadItem, ThreadMetadata, ThreadStatus, ThreadStreamEvent,
};

/// The events of one response. Ending with `Err` sends an in-band `error` event and ends
/// the response.
pub type ResponseStream = BoxStream<'static, Result<ThreadStreamEvent, ResponseError>>;

/// A failure inside a response.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    /// Shown to the user: `{"type":"error","code":"custom","message":…,"allow_retry":…}`.
    #[error("{message}")]
    Custom {
        /// User-facing message (already localized).
        message: String,
        /// Whether the client offers Retry.
        allow_retry: bool,
    },
    /// Logged; the client shows a generic error with Retry:
    /// `{"type":"error","code":"stream.error","allow_retry":true}`.
    #[error("internal response error: {0}")]
    Internal(#[source] BoxError),
}

impl ResponseError {
    /// A user-facing error.
    pub fn custom(message: impl Into<String>, allow_retry: bool) -> Self {
        ResponseError::Custom { message: message.into(), allow_retry }
    }

    /// An internal error.
    pub fn internal(error: impl Into<BoxError>) -> Self {
        ResponseError::Internal(error.into())
    }

    /// The event this error becomes on the wire.
    pub fn to_event(&self) -> ThreadStreamEvent {
        match self {
            ResponseError::Custom { message, allow_retry } => {
                ThreadStreamEvent::custom_error(message.clone(), *allow_retry)
            }
            ResponseError::Internal(_) => ThreadStreamEvent::stream_error(true),
        }
    }
}

/// The thread being responded to, shared between the responder and the server.
///
/// Change the title, status, allowed image domains or server metadata through it at any
/// time; after every event (and once at the end) the server compares it with the last
/// saved state and, if it changed, saves it and sends `thread.updated`.
#[derive(Debug, Clone)]
pub struct ThreadHandle {
    thread: Arc<Mutex<ThreadMetadata>>,
    new: bool,
}

impl ThreadHandle {
    /// Wraps the metadata of a stored thread.
    pub fn new(thread: ThreadMetadata) -> Self {
        ThreadHandle { thread: Arc::new(Mutex::new(thread)), new: false }
    }

    /// Wraps the metadata of a thread `threads.create` has just made.
    pub fn created(thread: ThreadMetadata) -> Self {
        ThreadHandle { new: true, ..Self::new(thread) }
    }

    /// Whether the thread was made by this request: its only item is then the message being
    /// answered, so a responder need not load its history.
    pub fn is_new(&self) -> bool {
        self.new
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> ThreadMetadata {
        self.lock().clone()
    }

    /// The thread id.
    pub fn id(&self) -> String {
        self.lock().id.clone()
    }

    /// The current title.
    pub fn title(&self) -> Option<String> {
        self.lock().title.clone()
    }

    /// Sets the title.
    pub fn set_title(&self, title: impl Into<String>) {
        self.lock().title = Some(title.into());
    }

    /// Sets the status (e.g. lock the thread).
    pub fn set_status(&self, status: ThreadStatus) {
        self.lock().status = status;
    }

    /// Applies any change. Do not change the id.
    pub fn update<T>(&self, change: impl FnOnce(&mut ThreadMetadata) -> T) -> T {
        change(&mut self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, ThreadMetadata> {
        // Plain data; a panic elsewhere cannot leave it inconsistent.
        self.thread.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The application's assistant. `C` is the request context (e.g. the authenticated user).
///
/// Streams are `'static`: clone what you need from `self` (e.g. an `Arc` to your services)
/// into the stream. [`response_stream`] lets you write a response as an async block.
#[async_trait]
pub trait Responder<C>: Send + Sync + 'static
where
    C: Send + Sync + 'static,
{
    /// Responds to `user_message` (`None` after a client tool output or structured input
    /// submission). The server has already stored the user message and sent
    /// `stream_options`.
    fn respond(&self, thread: ThreadHandle, user_message: Option<ThreadItem>, ctx: C) -> ResponseStream;

    /// The title of the thread `threads.create` is about to store, from its first message;
    /// `None` (the default) leaves it untitled. A title given here is stored with the thread
    /// and sent in `thread.created`, so the thread is never listed untitled and naming it
    /// costs no second save.
    fn new_thread_title(&self, first_message: &ThreadItem) -> Option<String> {
        let _ = first_message;
        None
    }

    /// Handles `threads.custom_action`. `sender` is the widget item that sent it, if any.
    /// The default fails with `stream.error`.
    fn action(
        &self,
        thread: ThreadHandle,
        action: Action,
        sender: Option<ThreadItem>,
        ctx: C,
    ) -> ResponseStream {
        let _ = (thread, sender, ctx);
        let error = ResponseError::internal(format!("no handler for custom action `{}`", action.kind));
        stream::once(async move { Err(error) }).boxed()
    }

    /// Handles `threads.sync_custom_action`. The returned item is not persisted by the
    /// server. The default answers [`ProcessError::Unsupported`].
    async fn sync_action(
        &self,
        thread: ThreadMetadata,
        action: Action,
        sender: Option<ThreadItem>,
        ctx: C,
    ) -> Result<SyncCustomActionResponse, ProcessError> {
        let _ = (thread, action, sender, ctx);
        Err(ProcessError::Unsupported("synchronous widget actions are not enabled".to_owned()))
    }
}

/// Sends events from inside [`response_stream`].
#[derive(Debug, Clone)]
pub struct EventSink(Sender<ThreadStreamEvent>);

/// The response stream was dropped (client gone or run cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the response stream was closed")]
pub struct StreamClosed;

impl From<StreamClosed> for ResponseError {
    fn from(closed: StreamClosed) -> Self {
        ResponseError::internal(closed)
    }
}

impl EventSink {
    /// Sends one event, waiting until the consumer has taken the previous one.
    pub async fn send(&self, event: ThreadStreamEvent) -> Result<(), StreamClosed> {
        self.0.send(event).await.map_err(|_| StreamClosed)
    }
}

/// Writes a response as an async block:
///
/// ```
/// # use chatkit::{response_stream, ResponseStream, ThreadStreamEvent};
/// fn respond() -> ResponseStream {
///     response_stream(|sink| async move {
///         sink.send(ThreadStreamEvent::ProgressUpdate { icon: None, text: "Thinking…".into() })
///             .await?;
///         Ok(())
///     })
/// }
/// ```
///
/// Events are delivered in order; returning `Err` ends the response with an error event
/// after the events already sent. The block runs only while the stream is polled and is
/// dropped with it, so cancellation reaches it at its current `.await`.
pub fn response_stream<F, Fut>(produce: F) -> ResponseStream
where
    F: FnOnce(EventSink) -> Fut,
    Fut: Future<Output = Result<(), ResponseError>> + Send + 'static,
{
    producer_stream(|sender| produce(EventSink(sender))).boxed()
}
