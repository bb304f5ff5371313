//! Cancelling a response whose producer is suspended inside a store write, on a store that
//! writes one at a time (as todokit's SQLite store does): the cleanup's writes must not wait
//! for the suspended producer.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chatkit::{
    ChatKitServer, FeedbackKind, MemoryStore, Page, ProcessResult, Responder, ResponseStream, SortOrder,
    Store, StoreError, ThreadHandle, ThreadItem, ThreadMetadata, ThreadStreamEvent, response_stream,
};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::Mutex;

/// A memory store whose writes take one shared turn, like a single-writer database.
struct OneWriterStore {
    inner: MemoryStore,
    turn: Arc<Mutex<()>>,
}

#[async_trait]
impl Store<String> for OneWriterStore {
    async fn load_thread(&self, thread_id: &str, ctx: &String) -> Result<ThreadMetadata, StoreError> {
        self.inner.load_thread(thread_id, ctx).await
    }
    async fn save_thread(&self, thread: &ThreadMetadata, ctx: &String) -> Result<(), StoreError> {
        let _turn = self.turn.lock().await;
        self.inner.save_thread(thread, ctx).await
    }
    async fn delete_thread(&self, thread_id: &str, ctx: &String) -> Result<(), StoreError> {
        let _turn = self.turn.lock().await;
        self.inner.delete_thread(thread_id, ctx).await
    }
    async fn load_threads(
        &self,
        limit: usize,
        after: Option<&str>,
        order: SortOrder,
        ctx: &String,
    ) -> Result<Page<ThreadMetadata>, StoreError> {
        self.inner.load_threads(limit, after, order, ctx).await
    }
    async fn load_thread_items(
        &self,
        thread_id: &str,
        after: Option<&str>,
        limit: usize,
        order: SortOrder,
        ctx: &String,
    ) -> Result<Page<ThreadItem>, StoreError> {
        self.inner.load_thread_items(thread_id, after, limit, order, ctx).await
    }
    async fn add_thread_item(
        &self,
        thread_id: &str,
        item: &ThreadItem,
        ctx: &String,
    ) -> Result<(), StoreError> {
        let _turn = self.turn.lock().await;
        self.inner.add_thread_item(thread_id, item, ctx).await
    }
    async fn save_item(&self, thread_id: &str, item: &ThreadItem, ctx: &String) -> Result<(), StoreError> {
        let _turn = self.turn.lock().await;
        self.inner.save_item(thread_id, item, ctx).await
    }
    async fn load_item(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &String,
    ) -> Result<ThreadItem, StoreError> {
        self.inner.load_item(thread_id, item_id, ctx).await
    }
    async fn delete_thread_item(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &String,
    ) -> Result<(), StoreError> {
        let _turn = self.turn.lock().await;
        self.inner.delete_thread_item(thread_id, item_id, ctx).await
    }
    async fn delete_thread_items_after(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &String,
    ) -> Result<(), StoreError> {
        let _turn = self.turn.lock().await;
        self.inner.delete_thread_items_after(thread_id, item_id, ctx).await
    }
    async fn save_feedback(
        &self,
        thread_id: &str,
        item_ids: &[String],
        kind: FeedbackKind,
        ctx: &String,
    ) -> Result<(), StoreError> {
        let _turn = self.turn.lock().await;
        self.inner.save_feedback(thread_id, item_ids, kind, ctx).await
    }
}

/// Sends a text delta, then takes the store's write turn and stays suspended holding it, as a
/// producer awaiting a slow write does.
struct StuckInAWrite(Arc<Mutex<()>>);

impl Responder<String> for StuckInAWrite {
    fn respond(&self, thread: ThreadHandle, _message: Option<ThreadItem>, _ctx: String) -> ResponseStream {
        let turn = self.0.clone();
        response_stream(move |sink| async move {
            let id = chatkit::new_message_id();
            let thread_id = thread.id();
            let item = json!({"id": id, "thread_id": thread_id, "created_at": "2026-01-01T00:00:00Z",
                "type": "assistant_message", "content": []});
            sink.send(serde_json::from_value(json!({"type": "thread.item.added", "item": item})).unwrap())
                .await?;
            sink.send(
                serde_json::from_value(json!({"type": "thread.item.updated", "item_id": id,
                    "update": {"type": "assistant_message.content_part.text_delta", "content_index": 0,
                        "delta": "partial"}}))
                .unwrap(),
            )
            .await?;
            let _held = turn.lock_owned().await;
            futures::future::pending::<()>().await;
            Ok(())
        })
    }
}

#[tokio::test]
async fn cancelling_a_producer_stuck_in_a_write_still_saves_the_partial_reply() {
    let turn = Arc::new(Mutex::new(()));
    let store = Arc::new(OneWriterStore { inner: MemoryStore::new(), turn: turn.clone() });
    let server = ChatKitServer::new(store.clone(), Arc::new(StuckInAWrite(turn.clone())));
    let request = serde_json::to_vec(&json!({"type": "threads.create", "params": {"input": {
        "content": [{"type": "input_text", "text": "hi"}], "attachments": [], "inference_options": {}}}}))
    .unwrap();
    let Ok(ProcessResult::Stream(mut stream)) = server.process(&request, "alice".to_owned()).await else {
        panic!("expected a stream");
    };
    let mut thread_id = None;
    while let Some(event) = stream.next().await {
        if let ThreadStreamEvent::ThreadCreated { thread } = &event {
            thread_id = Some(thread.id.clone());
        }
        if matches!(event, ThreadStreamEvent::ThreadItemUpdated { .. }) {
            break;
        }
    }
    let thread_id = thread_id.expect("thread.created came first");
    // Let the producer take the turn: the next poll finds it suspended holding it.
    while turn.try_lock().is_ok() {
        tokio::task::yield_now().await;
        let _ = futures::poll!(stream.next());
    }
    // A bound on a wait that otherwise never ends, not a timing assertion.
    tokio::time::timeout(Duration::from_secs(30), stream.cancel())
        .await
        .expect("the cleanup does not wait for the producer's write turn");
    let items =
        store.load_thread_items(&thread_id, None, 10, SortOrder::Asc, &"alice".to_owned()).await.unwrap();
    // The partial reply and the hidden "cancelled" note were saved (order is by `created_at`).
    let mut kinds: Vec<_> = items.data.iter().map(ThreadItem::type_name).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["assistant_message", "sdk_hidden_context", "user_message"]);
}
