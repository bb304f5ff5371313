//! The event pipeline of a streaming response: store writes before forwarding, pending
//! item tracking, thread change detection, and cancellation cleanup.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use tokio::sync::watch;

use crate::ids::{IdKind, new_id};
use crate::producer::{ProducerStream, Sender, producer_stream};
use crate::responder::{ResponseStream, ThreadHandle};
use crate::sse::sse_frame;
use crate::store::{Store, StoreError};
use crate::types::{
    AssistantMessageContent, ItemKind, StreamOptions, Thread, ThreadItem, ThreadItemUpdate, ThreadMetadata,
    ThreadStreamEvent,
};

/// Content of the hidden item recorded when a response is cancelled, so the next turn
/// does not continue the abandoned answer.
pub const CANCELLED_NOTE: &str = "The user cancelled the stream. Stop responding to the prior request.";

/// Why the pipeline stopped early.
pub(crate) enum Abort {
    /// A store call failed; the client gets `stream.error`.
    Store(StoreError),
    /// The consumer is gone; nothing more can be sent.
    Closed,
}

impl From<StoreError> for Abort {
    fn from(error: StoreError) -> Self {
        Abort::Store(error)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before `stream_options`: nothing to clean up on cancel.
    Setup,
    /// The responder is running.
    Responding,
    /// Ended normally.
    Finished,
}

/// State shared between the running pipeline and the stream's drop guard.
struct RunState {
    phase: Phase,
    thread_id: String,
    /// Items added but not yet done/replaced/removed, with updates applied, in order.
    pending: Vec<ThreadItem>,
    /// Hidden items done but not stored yet: they go with the next item stored (one write for
    /// both), or when the response ends.
    unsaved_hidden: Vec<ThreadItem>,
    thread: Option<ThreadHandle>,
    last_saved: Option<ThreadMetadata>,
}

type SharedRun = Arc<Mutex<RunState>>;

fn lock(run: &SharedRun) -> MutexGuard<'_, RunState> {
    // Plain bookkeeping; a panic elsewhere cannot leave it inconsistent.
    run.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What cancellation cleanup needs, captured when the stream is dropped.
struct CancelledRun {
    thread_id: String,
    pending: Vec<ThreadItem>,
    unsaved_hidden: Vec<ThreadItem>,
    changed_thread: Option<ThreadMetadata>,
}

type Cleanup = Box<dyn FnOnce(CancelledRun) -> BoxFuture<'static, ()> + Send>;

/// The handle a streaming request body uses to emit events and persist.
pub(crate) struct Pipeline<S: ?Sized, C> {
    pub(crate) store: Arc<S>,
    pub(crate) ctx: C,
    sender: Sender<ThreadStreamEvent>,
    run: SharedRun,
}

impl<S: ?Sized, C: Clone> Clone for Pipeline<S, C> {
    fn clone(&self) -> Self {
        Pipeline {
            store: self.store.clone(),
            ctx: self.ctx.clone(),
            sender: self.sender.clone(),
            run: self.run.clone(),
        }
    }
}

impl<S, C> Pipeline<S, C>
where
    S: Store<C> + ?Sized,
    C: Clone + Send + Sync + 'static,
{
    /// Starts a streaming response whose body is `body`. Nothing runs until the returned
    /// stream is polled.
    pub(crate) fn start<F, Fut>(store: Arc<S>, ctx: C, thread_id: String, body: F) -> ThreadEventStream
    where
        F: FnOnce(Pipeline<S, C>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), Abort>> + Send + 'static,
    {
        let run: SharedRun = Arc::new(Mutex::new(RunState {
            phase: Phase::Setup,
            thread_id,
            pending: Vec::new(),
            unsaved_hidden: Vec::new(),
            thread: None,
            last_saved: None,
        }));
        let cleanup: Cleanup = {
            let store = store.clone();
            let ctx = ctx.clone();
            Box::new(move |cancelled| cancel_cleanup(store, ctx, cancelled).boxed())
        };
        let shared_run = run.clone();
        let events = producer_stream(move |sender| {
            let pipeline = Pipeline { store, ctx, sender, run: shared_run };
            async move {
                let result = body(pipeline.clone()).await;
                if let Err(Abort::Store(error)) = result {
                    tracing::error!(%error, "chatkit response failed on a store call");
                    // Best effort: the consumer may be gone too.
                    let _ = pipeline.emit(ThreadStreamEvent::stream_error(true)).await;
                }
                lock(&pipeline.run).phase = Phase::Finished;
                Ok::<(), Infallible>(())
            }
        });
        let (completed, _) = watch::channel(false);
        ThreadEventStream { events, run, cleanup: Some(cleanup), completed: Some(completed) }
    }

    pub(crate) fn thread_id(&self) -> String {
        lock(&self.run).thread_id.clone()
    }

    /// Sends an event to the consumer.
    pub(crate) async fn emit(&self, event: ThreadStreamEvent) -> Result<(), Abort> {
        self.sender.send(event).await.map_err(|_| Abort::Closed)
    }

    /// Stores an item and sends `thread.item.done` for it (used for the user message).
    pub(crate) async fn add_item_done(&self, item: ThreadItem) -> Result<(), Abort> {
        self.store.add_thread_item(&item.thread_id, &item, &self.ctx).await?;
        self.emit(ThreadStreamEvent::ThreadItemDone { item }).await
    }

    /// Runs one response phase: `stream_options`, then the responder's events through the
    /// persistence pipeline, then a final thread change check.
    pub(crate) async fn respond(&self, thread: ThreadHandle, events: ResponseStream) -> Result<(), Abort> {
        self.emit(ThreadStreamEvent::StreamOptions { stream_options: StreamOptions { allow_cancel: true } })
            .await?;
        {
            let mut run = lock(&self.run);
            run.phase = Phase::Responding;
            run.last_saved = Some(thread.snapshot());
            run.thread = Some(thread.clone());
        }
        let forwarded = self.forward(&thread, events).await;
        // Hidden items the responder ended with, stored whatever the outcome.
        let stored = self.store_items(Vec::new()).await;
        match forwarded.and(stored) {
            Ok(()) => {}
            Err(Abort::Closed) => return Err(Abort::Closed),
            Err(Abort::Store(error)) => {
                tracing::error!(%error, "chatkit response failed on a store call");
                self.emit(ThreadStreamEvent::stream_error(true)).await?;
            }
        }
        self.save_thread_if_changed(&thread).await
    }

    async fn forward(&self, thread: &ThreadHandle, mut events: ResponseStream) -> Result<(), Abort> {
        while let Some(next) = events.next().await {
            match next {
                Ok(event) => {
                    self.persist(&event).await?;
                    if !carries_hidden_item(&event) {
                        self.emit(event).await?;
                    }
                    self.save_thread_if_changed(thread).await?;
                }
                Err(error) => {
                    if let crate::ResponseError::Internal(source) = &error {
                        tracing::error!(error = %source, "chatkit responder failed");
                    }
                    self.emit(error.to_event()).await?;
                    break;
                }
            }
        }
        Ok(())
    }

    /// Store effects of one event, done before the event is forwarded.
    async fn persist(&self, event: &ThreadStreamEvent) -> Result<(), Abort> {
        let thread_id = self.thread_id();
        match event {
            ThreadStreamEvent::ThreadItemAdded { item } => {
                let mut run = lock(&self.run);
                run.pending.retain(|pending| pending.id != item.id);
                run.pending.push(item.clone());
            }
            ThreadStreamEvent::ThreadItemUpdated { item_id, update } => {
                let mut run = lock(&self.run);
                if let Some(pending) = run.pending.iter_mut().find(|item| &item.id == item_id) {
                    apply_update(pending, update);
                }
            }
            // Nobody is shown a hidden item, so nobody can look for it before the next store.
            ThreadStreamEvent::ThreadItemDone { item } if item.is_hidden() => {
                let mut run = lock(&self.run);
                run.pending.retain(|pending| pending.id != item.id);
                run.unsaved_hidden.push(item.clone());
            }
            ThreadStreamEvent::ThreadItemDone { item } => {
                self.store_items(vec![item.clone()]).await?;
                self.forget_pending(&item.id);
            }
            ThreadStreamEvent::ThreadItemReplaced { item } => {
                self.store_items(Vec::new()).await?;
                self.store.save_item(&thread_id, item, &self.ctx).await?;
                self.forget_pending(&item.id);
            }
            ThreadStreamEvent::ThreadItemRemoved { item_id } => {
                self.store_items(Vec::new()).await?;
                self.store.delete_thread_item(&thread_id, item_id, &self.ctx).await?;
                self.forget_pending(item_id);
            }
            _ => {}
        }
        Ok(())
    }

    /// Stores `items` after the hidden items waiting, in one store call. The waiting ones
    /// stay listed until the call succeeds, so a cancel in the middle still stores them.
    async fn store_items(&self, items: Vec<ThreadItem>) -> Result<(), Abort> {
        let (thread_id, mut batch) = {
            let run = lock(&self.run);
            (run.thread_id.clone(), run.unsaved_hidden.clone())
        };
        if batch.is_empty() && items.is_empty() {
            return Ok(());
        }
        let stored_hidden = batch.len();
        batch.extend(items);
        self.store.add_thread_items(&thread_id, &batch, &self.ctx).await?;
        lock(&self.run).unsaved_hidden.drain(..stored_hidden);
        Ok(())
    }

    fn forget_pending(&self, item_id: &str) {
        lock(&self.run).pending.retain(|item| item.id != item_id);
    }

    async fn save_thread_if_changed(&self, thread: &ThreadHandle) -> Result<(), Abort> {
        let current = thread.snapshot();
        if lock(&self.run).last_saved.as_ref() == Some(&current) {
            return Ok(());
        }
        self.store.save_thread(&current, &self.ctx).await?;
        let summary = Thread::summary(&current);
        lock(&self.run).last_saved = Some(current);
        self.emit(ThreadStreamEvent::ThreadUpdated { thread: summary }).await
    }
}

/// Hidden items are stored but never sent, whatever event carries them.
fn carries_hidden_item(event: &ThreadStreamEvent) -> bool {
    match event {
        ThreadStreamEvent::ThreadItemAdded { item }
        | ThreadStreamEvent::ThreadItemDone { item }
        | ThreadStreamEvent::ThreadItemReplaced { item } => item.is_hidden(),
        _ => false,
    }
}

/// Applies an update to the pending copy of an item, as the reference does, so a
/// cancelled response can still save what the user saw (and a server can keep a copy of an
/// item still streaming, e.g. to checkpoint it).
pub fn apply_update(item: &mut ThreadItem, update: &ThreadItemUpdate) {
    match (&mut item.kind, update) {
        (ItemKind::AssistantMessage { content }, update) => {
            let index = match update {
                ThreadItemUpdate::ContentPartAdded { content_index, .. }
                | ThreadItemUpdate::TextDelta { content_index, .. }
                | ThreadItemUpdate::AnnotationAdded { content_index, .. }
                | ThreadItemUpdate::ContentPartDone { content_index, .. } => *content_index,
                _ => return,
            };
            // Updates may address a part that was never announced; pad like the reference.
            while content.len() <= index {
                content.push(AssistantMessageContent::default());
            }
            let part = &mut content[index];
            match update {
                ThreadItemUpdate::ContentPartAdded { content: new, .. }
                | ThreadItemUpdate::ContentPartDone { content: new, .. } => *part = new.clone(),
                ThreadItemUpdate::TextDelta { delta, .. } => part.text.push_str(delta),
                ThreadItemUpdate::AnnotationAdded { annotation_index, annotation, .. } => {
                    let at = (*annotation_index).min(part.annotations.len());
                    part.annotations.insert(at, annotation.clone());
                }
                _ => {}
            }
        }
        (ItemKind::Workflow { workflow }, ThreadItemUpdate::WorkflowTaskAdded { task, .. }) => {
            workflow.tasks.push(task.clone());
        }
        (ItemKind::Workflow { workflow }, ThreadItemUpdate::WorkflowTaskUpdated { task_index, task }) => {
            match workflow.tasks.get_mut(*task_index) {
                Some(existing) => *existing = task.clone(),
                None => workflow.tasks.push(task.clone()),
            }
        }
        _ => {}
    }
}

/// Saves non-empty pending assistant messages, the hidden cancellation note and (unlike the
/// reference, which loses it) a thread change the responder made before the cancel.
async fn cancel_cleanup<S, C>(store: Arc<S>, ctx: C, cancelled: CancelledRun)
where
    S: Store<C> + ?Sized,
    C: Send + Sync,
{
    let thread_id = &cancelled.thread_id;
    if !cancelled.unsaved_hidden.is_empty()
        && let Err(error) = store.add_thread_items(thread_id, &cancelled.unsaved_hidden, &ctx).await
    {
        tracing::warn!(%error, "could not save the hidden items of a cancelled response");
    }
    for item in &cancelled.pending {
        let has_text = matches!(&item.kind, ItemKind::AssistantMessage { content }
            if content.iter().any(|part| !part.text.trim().is_empty()));
        if has_text && let Err(error) = store.add_thread_item(thread_id, item, &ctx).await {
            tracing::warn!(%error, item_id = %item.id, "could not save a cancelled message");
        }
    }
    let note = ThreadItem::new(
        new_id(IdKind::SdkHiddenContext),
        thread_id.clone(),
        ItemKind::SdkHiddenContext { content: CANCELLED_NOTE.to_owned() },
    );
    if let Err(error) = store.add_thread_item(thread_id, &note, &ctx).await {
        tracing::warn!(%error, "could not record a cancelled response");
    }
    if let Some(thread) = cancelled.changed_thread
        && let Err(error) = store.save_thread(&thread, &ctx).await
    {
        tracing::warn!(%error, "could not save a thread changed before a cancel");
    }
}

/// The events of a streaming request, after persistence. Drive it with any consumer: an
/// HTTP body ([`ThreadEventStream::into_sse`]) or a detached task.
///
/// **Dropping it before it ends cancels the response**: the responder's stream is dropped,
/// and a background task (spawned on the current tokio runtime) saves the partial
/// assistant messages plus a hidden "user cancelled" note. Use [`ThreadEventStream::cancel`]
/// to do the same and wait for it, or [`ThreadEventStream::completion`] to wait for
/// either outcome.
pub struct ThreadEventStream {
    events: ProducerStream<ThreadStreamEvent, Infallible>,
    run: SharedRun,
    cleanup: Option<Cleanup>,
    completed: Option<watch::Sender<bool>>,
}

/// Resolves when a [`ThreadEventStream`] ended normally or its cancellation cleanup ran.
#[derive(Debug, Clone)]
pub struct StreamCompletion(watch::Receiver<bool>);

impl StreamCompletion {
    /// Waits for completion. Also returns if cleanup could not run (no tokio runtime).
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|completed| *completed).await;
    }
}

impl ThreadEventStream {
    /// The SSE body: one `data: <json>\n\n` chunk per event.
    pub fn into_sse(self) -> impl Stream<Item = Bytes> + Send + 'static {
        self.map(|event| sse_frame(&event))
    }

    /// A handle to wait for this stream's end or cancellation cleanup.
    pub fn completion(&self) -> StreamCompletion {
        match &self.completed {
            Some(sender) => StreamCompletion(sender.subscribe()),
            // Already completed: a receiver of a finished channel.
            None => StreamCompletion(watch::channel(true).1),
        }
    }

    /// Cancels the response now and waits until the partial state is saved. Does nothing
    /// more than dropping if the response already ended.
    pub async fn cancel(mut self) {
        let work = self.take_cleanup_work();
        let completed = self.completed.take();
        // The producer goes first: it may be suspended inside a store write, and a store that
        // writes one at a time (SQLite) would have the cleanup's writes wait for it forever.
        drop(self);
        if let Some(work) = work {
            work.await;
        }
        if let Some(completed) = completed {
            completed.send_replace(true);
        }
    }

    /// Takes the cleanup to run, if the response was cancelled mid-phase.
    fn take_cleanup_work(&mut self) -> Option<BoxFuture<'static, ()>> {
        let cleanup = self.cleanup.take()?;
        let run = lock(&self.run);
        if run.phase != Phase::Responding {
            return None;
        }
        let current = run.thread.as_ref().map(ThreadHandle::snapshot);
        let changed_thread = current.filter(|thread| run.last_saved.as_ref() != Some(thread));
        Some(cleanup(CancelledRun {
            thread_id: run.thread_id.clone(),
            pending: run.pending.clone(),
            unsaved_hidden: run.unsaved_hidden.clone(),
            changed_thread,
        }))
    }

    fn signal_completed(&mut self) {
        if let Some(completed) = self.completed.take() {
            completed.send_replace(true);
        }
    }
}

impl Stream for ThreadEventStream {
    type Item = ThreadStreamEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.events.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(event))) => Poll::Ready(Some(event)),
            Poll::Ready(Some(Err(never))) => match never {},
            Poll::Ready(None) => {
                self.cleanup = None;
                self.signal_completed();
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for ThreadEventStream {
    fn drop(&mut self) {
        let Some(work) = self.take_cleanup_work() else {
            self.signal_completed();
            return;
        };
        // Drop cannot await: finish the writes on the runtime.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let completed = self.completed.take();
                runtime.spawn(async move {
                    work.await;
                    if let Some(completed) = completed {
                        completed.send_replace(true);
                    }
                });
            }
            Err(_) => {
                tracing::warn!("chatkit stream dropped outside a tokio runtime; partial response not saved");
            }
        }
    }
}
