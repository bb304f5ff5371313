//! The server core: parses a request body, checks it against the store, and produces a
//! JSON body or a stream of events.

mod pipeline;

use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, stream};
use serde::Serialize;

pub use pipeline::{CANCELLED_NOTE, StreamCompletion, ThreadEventStream, apply_update};

use crate::ids::new_message_id;
use crate::ids::new_thread_id;
use crate::responder::{Responder, ThreadHandle};
use crate::store::{BoxError, Store, StoreError};
use crate::types::{
    ClientToolCallStatus, DEFAULT_PAGE_SIZE, ItemKind, ItemsFeedbackParams, ItemsListParams, Page, Request,
    RequestParams, SortOrder, StructuredInputStatus, Thread, ThreadAddClientToolOutputParams,
    ThreadAddStructuredInputParams, ThreadAddUserMessageParams, ThreadCreateParams, ThreadCustomActionParams,
    ThreadItem, ThreadListParams, ThreadMetadata, ThreadRetryAfterItemParams, ThreadStatus,
    ThreadStreamEvent, ThreadUpdateParams, UserMessageInput, apply_submission,
};
use pipeline::{Abort, Pipeline};

/// What a request produced.
pub enum ProcessResult {
    /// Send as `text/event-stream` (see [`ThreadEventStream::into_sse`]).
    Stream(ThreadEventStream),
    /// Send as `application/json`.
    Json(Bytes),
}

impl std::fmt::Debug for ProcessResult {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessResult::Stream(_) => formatter.write_str("ProcessResult::Stream(..)"),
            ProcessResult::Json(body) => {
                formatter.debug_tuple("ProcessResult::Json").field(&String::from_utf8_lossy(body)).finish()
            }
        }
    }
}

/// Why a request was refused before any response started. Messages are safe to show.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Malformed body, unknown type, missing or invalid params, or a request that does not
    /// fit the thread (e.g. retrying an item that is not a user message).
    #[error("{0}")]
    BadRequest(String),
    /// The thread or item does not exist or belongs to someone else.
    #[error("{0}")]
    NotFound(String),
    /// The thread does not accept this request in its current state (locked / closed).
    #[error("{0}")]
    Conflict(String),
    /// A protocol feature this server does not offer (uploads, dictation, …).
    #[error("{0}")]
    Unsupported(String),
    /// A store or serialization failure.
    #[error("internal error: {0}")]
    Internal(#[source] BoxError),
}

impl ProcessError {
    /// A suggested HTTP status: 400, 404, 409, 501 or 500.
    pub fn http_status(&self) -> u16 {
        match self {
            ProcessError::BadRequest(_) => 400,
            ProcessError::NotFound(_) => 404,
            ProcessError::Conflict(_) => 409,
            ProcessError::Unsupported(_) => 501,
            ProcessError::Internal(_) => 500,
        }
    }

    fn from_store(error: StoreError, not_found: impl FnOnce() -> String) -> Self {
        match error {
            StoreError::NotFound => ProcessError::NotFound(not_found()),
            StoreError::Other(source) => ProcessError::Internal(source),
        }
    }
}

fn thread_not_found(thread_id: &str) -> impl FnOnce() -> String + '_ {
    move || format!("thread `{thread_id}` not found")
}

fn item_not_found<'a>(thread_id: &'a str, item_id: &'a str) -> impl FnOnce() -> String + 'a {
    move || format!("item `{item_id}` not found in thread `{thread_id}`")
}

/// A ChatKit server over a [`Store`] and a [`Responder`]. Cheap to clone.
pub struct ChatKitServer<S: ?Sized, R: ?Sized> {
    store: Arc<S>,
    responder: Arc<R>,
}

impl<S: ?Sized, R: ?Sized> Clone for ChatKitServer<S, R> {
    fn clone(&self) -> Self {
        ChatKitServer { store: self.store.clone(), responder: self.responder.clone() }
    }
}

impl<S: ?Sized, R: ?Sized> ChatKitServer<S, R> {
    /// A server over shared store and responder handles.
    pub fn new(store: Arc<S>, responder: Arc<R>) -> Self {
        ChatKitServer { store, responder }
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The responder.
    pub fn responder(&self) -> &Arc<R> {
        &self.responder
    }

    /// Parses a request body. Use it with [`ChatKitServer::handle`] to look at the request
    /// (e.g. [`RequestParams::sends_user_message`] for rate limits) before running it.
    pub fn parse(body: &[u8]) -> Result<Request, ProcessError> {
        Request::from_slice(body).map_err(|error| ProcessError::BadRequest(error.0))
    }

    /// Parses and handles a request body.
    pub async fn process<C>(&self, body: &[u8], ctx: C) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        R: Responder<C>,
        C: Clone + Send + Sync + 'static,
    {
        let request = Self::parse(body)?;
        self.handle(request, ctx).await
    }

    /// Handles a parsed request. Every check that can refuse the request (missing thread,
    /// locked thread, wrong item type, unsupported feature) happens here, before a stream
    /// is returned.
    pub async fn handle<C>(&self, request: Request, ctx: C) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        R: Responder<C>,
        C: Clone + Send + Sync + 'static,
    {
        tracing::debug!(request_type = request.params.type_name(), "chatkit request");
        match request.params {
            RequestParams::ThreadsCreate(params) => self.create_thread(params, ctx),
            RequestParams::ThreadsAddUserMessage(params) => self.add_user_message(params, ctx).await,
            RequestParams::ThreadsAddClientToolOutput(params) => {
                self.add_client_tool_output(params, ctx).await
            }
            RequestParams::ThreadsAddStructuredInput(params) => self.add_structured_input(params, ctx).await,
            RequestParams::ThreadsRetryAfterItem(params) => self.retry_after_item(params, ctx).await,
            RequestParams::ThreadsCustomAction(params) => self.custom_action(params, ctx).await,
            RequestParams::ThreadsGetById(params) => self.get_thread(&params.thread_id, &ctx).await,
            RequestParams::ThreadsList(params) => self.list_threads(params, &ctx).await,
            RequestParams::ThreadsUpdate(params) => self.update_thread(params, &ctx).await,
            RequestParams::ThreadsDelete(params) => {
                self.load_thread(&params.thread_id, &ctx).await?;
                self.store
                    .delete_thread(&params.thread_id, &ctx)
                    .await
                    .map_err(|error| ProcessError::from_store(error, thread_not_found(&params.thread_id)))?;
                Ok(empty_object())
            }
            RequestParams::ThreadsSyncCustomAction(params) => self.sync_custom_action(params, ctx).await,
            RequestParams::ItemsList(params) => self.list_items(params, &ctx).await,
            RequestParams::ItemsFeedback(params) => self.save_feedback(params, &ctx).await,
            RequestParams::AttachmentsCreate(_) | RequestParams::AttachmentsDelete(_) => {
                Err(ProcessError::Unsupported("uploads are not enabled".to_owned()))
            }
            RequestParams::InputTranscribe(_) => {
                Err(ProcessError::Unsupported("dictation is not enabled".to_owned()))
            }
        }
    }

    // ----- streaming requests -------------------------------------------------------------

    fn create_thread<C>(&self, params: ThreadCreateParams, ctx: C) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        R: Responder<C>,
        C: Clone + Send + Sync + 'static,
    {
        reject_attachments(&params.input)?;
        let mut thread = ThreadMetadata::new(new_thread_id());
        let user_message = user_message_item(&thread.id, params.input);
        thread.title = self.responder.new_thread_title(&user_message);
        let responder = self.responder.clone();
        let stream =
            Pipeline::start(self.store.clone(), ctx, thread.id.clone(), move |pipeline| async move {
                pipeline.store.create_thread(&thread, &user_message, &pipeline.ctx).await?;
                pipeline.emit(ThreadStreamEvent::ThreadCreated { thread: Thread::summary(&thread) }).await?;
                pipeline.emit(ThreadStreamEvent::ThreadItemDone { item: user_message.clone() }).await?;
                let handle = ThreadHandle::created(thread);
                let events = responder.respond(handle.clone(), Some(user_message), pipeline.ctx.clone());
                pipeline.respond(handle, events).await
            });
        Ok(ProcessResult::Stream(stream))
    }

    async fn add_user_message<C>(
        &self,
        params: ThreadAddUserMessageParams,
        ctx: C,
    ) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        R: Responder<C>,
        C: Clone + Send + Sync + 'static,
    {
        reject_attachments(&params.input)?;
        let thread = self.load_thread(&params.thread_id, &ctx).await?;
        ensure_accepts_messages(&thread)?;
        let user_message = user_message_item(&thread.id, params.input);
        let responder = self.responder.clone();
        let stream = self.start(ctx, thread.id.clone(), move |pipeline| async move {
            pipeline.add_item_done(user_message.clone()).await?;
            let handle = ThreadHandle::new(thread);
            let events = responder.respond(handle.clone(), Some(user_message), pipeline.ctx.clone());
            pipeline.respond(handle, events).await
        });
        Ok(ProcessResult::Stream(stream))
    }

    async fn add_client_tool_output<C>(
        &self,
        params: ThreadAddClientToolOutputParams,
        ctx: C,
    ) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        R: Responder<C>,
        C: Clone + Send + Sync + 'static,
    {
        let thread = self.load_thread(&params.thread_id, &ctx).await?;
        let newest = self
            .store
            .load_thread_items(&thread.id, None, 1, SortOrder::Desc, &ctx)
            .await
            .map_err(|error| ProcessError::from_store(error, thread_not_found(&thread.id)))?;
        let mut tool_call = match newest.data.into_iter().next() {
            Some(
                item @ ThreadItem {
                    kind: ItemKind::ClientToolCall { status: ClientToolCallStatus::Pending, .. },
                    ..
                },
            ) => item,
            _ => {
                return Err(ProcessError::BadRequest(format!(
                    "the newest item of thread `{}` is not a pending client tool call",
                    thread.id
                )));
            }
        };
        if let ItemKind::ClientToolCall { status, output, .. } = &mut tool_call.kind {
            *status = ClientToolCallStatus::Completed;
            *output = Some(params.result);
        }
        let responder = self.responder.clone();
        let stream = self.start(ctx, thread.id.clone(), move |pipeline| async move {
            let thread_id = tool_call.thread_id.clone();
            pipeline.store.save_item(&thread_id, &tool_call, &pipeline.ctx).await?;
            // Only one client tool call may be pending; drop any stragglers.
            let recent = pipeline
                .store
                .load_thread_items(&thread_id, None, DEFAULT_PAGE_SIZE, SortOrder::Desc, &pipeline.ctx)
                .await?;
            for item in recent.data {
                if let ItemKind::ClientToolCall { status: ClientToolCallStatus::Pending, .. } = item.kind {
                    pipeline.store.delete_thread_item(&thread_id, &item.id, &pipeline.ctx).await?;
                }
            }
            let handle = ThreadHandle::new(thread);
            let events = responder.respond(handle.clone(), None, pipeline.ctx.clone());
            pipeline.respond(handle, events).await
        });
        Ok(ProcessResult::Stream(stream))
    }

    async fn add_structured_input<C>(
        &self,
        params: ThreadAddStructuredInputParams,
        ctx: C,
    ) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        R: Responder<C>,
        C: Clone + Send + Sync + 'static,
    {
        let thread = self.load_thread(&params.thread_id, &ctx).await?;
        let mut item = self.load_item(&thread.id, &params.item_id, &ctx).await?;
        match &mut item.kind {
            ItemKind::StructuredInput { status: status @ StructuredInputStatus::Pending, inputs } => {
                apply_submission(inputs, &params.input);
                *status = params.input.status.into();
            }
            _ => {
                return Err(ProcessError::BadRequest(format!(
                    "item `{}` is not a pending structured input",
                    params.item_id
                )));
            }
        }
        let responder = self.responder.clone();
        let stream = self.start(ctx, thread.id.clone(), move |pipeline| async move {
            let handle = ThreadHandle::new(thread);
            // The replacement goes through the pipeline so it is persisted like any other;
            // the responder starts only after it is stored.
            let respond = {
                let handle = handle.clone();
                let ctx = pipeline.ctx.clone();
                stream::once(async move { responder.respond(handle, None, ctx) }).flatten()
            };
            let events = stream::once(async move { Ok(ThreadStreamEvent::ThreadItemReplaced { item }) })
                .chain(respond)
                .boxed();
            pipeline.respond(handle, events).await
        });
        Ok(ProcessResult::Stream(stream))
    }

    async fn retry_after_item<C>(
        &self,
        params: ThreadRetryAfterItemParams,
        ctx: C,
    ) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        R: Responder<C>,
        C: Clone + Send + Sync + 'static,
    {
        let thread = self.load_thread(&params.thread_id, &ctx).await?;
        ensure_accepts_messages(&thread)?;
        let user_message = self.load_item(&thread.id, &params.item_id, &ctx).await?;
        if !matches!(user_message.kind, ItemKind::UserMessage { .. }) {
            return Err(ProcessError::BadRequest(format!(
                "item `{}` is a `{}`, not a user message",
                user_message.id,
                user_message.type_name()
            )));
        }
        let responder = self.responder.clone();
        let stream = self.start(ctx, thread.id.clone(), move |pipeline| async move {
            // Like the reference, the client gets no removal events: it drops the later
            // items itself when it retries.
            pipeline.store.delete_thread_items_after(&thread.id, &user_message.id, &pipeline.ctx).await?;
            let handle = ThreadHandle::new(thread);
            let events = responder.respond(handle.clone(), Some(user_message), pipeline.ctx.clone());
            pipeline.respond(handle, events).await
        });
        Ok(ProcessResult::Stream(stream))
    }

    async fn custom_action<C>(
        &self,
        params: ThreadCustomActionParams,
        ctx: C,
    ) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        R: Responder<C>,
        C: Clone + Send + Sync + 'static,
    {
        let thread = self.load_thread(&params.thread_id, &ctx).await?;
        let sender = match &params.item_id {
            Some(item_id) => Some(self.load_item(&thread.id, item_id, &ctx).await?),
            None => None,
        };
        let sender_is_widget =
            sender.as_ref().is_none_or(|item| matches!(item.kind, ItemKind::Widget { .. }));
        let responder = self.responder.clone();
        let stream = self.start(ctx, thread.id.clone(), move |pipeline| async move {
            if !sender_is_widget {
                // The reference answers a non-widget sender with this single event.
                return pipeline.emit(ThreadStreamEvent::stream_error(false)).await;
            }
            let handle = ThreadHandle::new(thread);
            let events = responder.action(handle.clone(), params.action, sender, pipeline.ctx.clone());
            pipeline.respond(handle, events).await
        });
        Ok(ProcessResult::Stream(stream))
    }

    fn start<C, F, Fut>(&self, ctx: C, thread_id: String, body: F) -> ThreadEventStream
    where
        S: Store<C>,
        C: Clone + Send + Sync + 'static,
        F: FnOnce(Pipeline<S, C>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), Abort>> + Send + 'static,
    {
        Pipeline::start(self.store.clone(), ctx, thread_id, body)
    }

    // ----- JSON requests --------------------------------------------------------------------

    async fn get_thread<C>(&self, thread_id: &str, ctx: &C) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        C: Send + Sync,
    {
        let thread = self.load_thread(thread_id, ctx).await?;
        let items = self
            .store
            .load_thread_items(thread_id, None, DEFAULT_PAGE_SIZE, SortOrder::Asc, ctx)
            .await
            .map_err(|error| ProcessError::from_store(error, thread_not_found(thread_id)))?;
        json(&Thread::with_items(&thread, items))
    }

    async fn list_threads<C>(&self, params: ThreadListParams, ctx: &C) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        C: Send + Sync,
    {
        let page = self
            .store
            .load_threads(params.page_size(), params.after.as_deref(), params.order, ctx)
            .await
            .map_err(|error| ProcessError::from_store(error, || "thread cursor not found".to_owned()))?;
        json(&Page {
            data: page.data.iter().map(Thread::summary).collect(),
            has_more: page.has_more,
            after: page.after,
        })
    }

    async fn update_thread<C>(
        &self,
        params: ThreadUpdateParams,
        ctx: &C,
    ) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        C: Send + Sync,
    {
        let title = params.title.trim();
        if title.is_empty() {
            return Err(ProcessError::BadRequest("the thread title must not be empty".to_owned()));
        }
        let mut thread = self.load_thread(&params.thread_id, ctx).await?;
        thread.title = Some(title.to_owned());
        self.store
            .save_thread(&thread, ctx)
            .await
            .map_err(|error| ProcessError::from_store(error, thread_not_found(&thread.id)))?;
        json(&Thread::summary(&thread))
    }

    async fn list_items<C>(&self, params: ItemsListParams, ctx: &C) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        C: Send + Sync,
    {
        let mut page = self
            .store
            .load_thread_items(
                &params.thread_id,
                params.after.as_deref(),
                params.page_size(),
                params.order,
                ctx,
            )
            .await
            .map_err(|error| ProcessError::from_store(error, thread_not_found(&params.thread_id)))?;
        // Filtered after paging, like the reference: a page may be short while has_more.
        page.data.retain(|item| !item.is_hidden());
        json(&page)
    }

    async fn save_feedback<C>(
        &self,
        params: ItemsFeedbackParams,
        ctx: &C,
    ) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        C: Send + Sync,
    {
        self.store
            .save_feedback(&params.thread_id, &params.item_ids, params.kind, ctx)
            .await
            .map_err(|error| ProcessError::from_store(error, thread_not_found(&params.thread_id)))?;
        Ok(empty_object())
    }

    async fn sync_custom_action<C>(
        &self,
        params: ThreadCustomActionParams,
        ctx: C,
    ) -> Result<ProcessResult, ProcessError>
    where
        S: Store<C>,
        R: Responder<C>,
        C: Clone + Send + Sync + 'static,
    {
        let thread = self.load_thread(&params.thread_id, &ctx).await?;
        let sender = match &params.item_id {
            Some(item_id) => Some(self.load_item(&thread.id, item_id, &ctx).await?),
            None => None,
        };
        if let Some(item) = &sender
            && !matches!(item.kind, ItemKind::Widget { .. })
        {
            return Err(ProcessError::BadRequest(format!(
                "item `{}` is a `{}`, not a widget",
                item.id,
                item.type_name()
            )));
        }
        let response = self.responder.sync_action(thread, params.action, sender, ctx).await?;
        json(&response)
    }

    // ----- helpers --------------------------------------------------------------------------

    async fn load_thread<C>(&self, thread_id: &str, ctx: &C) -> Result<ThreadMetadata, ProcessError>
    where
        S: Store<C>,
        C: Send + Sync,
    {
        self.store
            .load_thread(thread_id, ctx)
            .await
            .map_err(|error| ProcessError::from_store(error, thread_not_found(thread_id)))
    }

    async fn load_item<C>(&self, thread_id: &str, item_id: &str, ctx: &C) -> Result<ThreadItem, ProcessError>
    where
        S: Store<C>,
        C: Send + Sync,
    {
        self.store
            .load_item(thread_id, item_id, ctx)
            .await
            .map_err(|error| ProcessError::from_store(error, item_not_found(thread_id, item_id)))
    }
}

fn user_message_item(thread_id: &str, input: UserMessageInput) -> ThreadItem {
    ThreadItem::new(
        new_message_id(),
        thread_id,
        ItemKind::UserMessage {
            content: input.content,
            attachments: Vec::new(),
            quoted_text: input.quoted_text,
            inference_options: input.inference_options,
        },
    )
}

fn reject_attachments(input: &UserMessageInput) -> Result<(), ProcessError> {
    if input.attachments.is_empty() {
        Ok(())
    } else {
        Err(ProcessError::Unsupported("uploads are not enabled".to_owned()))
    }
}

/// Locked and closed threads take no new user messages (the reference leaves this to the
/// integrator).
fn ensure_accepts_messages(thread: &ThreadMetadata) -> Result<(), ProcessError> {
    let (state, reason) = match &thread.status {
        ThreadStatus::Active => return Ok(()),
        ThreadStatus::Locked { reason } => ("locked", reason),
        ThreadStatus::Closed { reason } => ("closed", reason),
    };
    Err(ProcessError::Conflict(match reason {
        Some(reason) => format!("thread `{}` is {state}: {reason}", thread.id),
        None => format!("thread `{}` is {state} and accepts no new messages", thread.id),
    }))
}

fn json<T: Serialize>(value: &T) -> Result<ProcessResult, ProcessError> {
    serde_json::to_vec(value)
        .map(|body| ProcessResult::Json(Bytes::from(body)))
        .map_err(|error| ProcessError::Internal(Box::new(error)))
}

fn empty_object() -> ProcessResult {
    ProcessResult::Json(Bytes::from_static(b"{}"))
}
