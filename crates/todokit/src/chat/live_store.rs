//! A chat store that announces changes on the live event bus, so other tabs
//! and replicas see threads and items as they are saved.
//!
//! Saves made while a reply streams (threads, items) queue their event without
//! waiting for the event log: the reply would otherwise wait for a log write
//! after each save (its first event, `thread.created`, for two writes in a row).
//! The log keeps publication order, and the run ends its stream only after its
//! `run.finished` is logged (`runs.rs`), so when a reply's stream ends, all of its
//! events are in the log.

use async_trait::async_trait;
use chatkit::{FeedbackKind, Page, SortOrder, Store, StoreError, ThreadItem, ThreadMetadata};
use serde_json::json;

use super::{ChatContext, DynSqlChatStore, ThreadSaved};
use crate::events::{EventBus, kind};

pub struct LiveStore {
    inner: DynSqlChatStore,
    events: EventBus,
}

impl LiveStore {
    pub fn new(inner: DynSqlChatStore, events: EventBus) -> Self {
        Self { inner, events }
    }
}

#[async_trait]
impl Store<ChatContext> for LiveStore {
    async fn load_thread(&self, thread_id: &str, ctx: &ChatContext) -> Result<ThreadMetadata, StoreError> {
        self.inner.load_thread(thread_id, ctx).await
    }

    async fn create_thread(
        &self,
        thread: &ThreadMetadata,
        first_item: &ThreadItem,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        let saved = self.inner.start_thread(thread, first_item, ctx).await?;
        self.announce_thread(thread, saved, ctx);
        self.announce_item(&thread.id, first_item, ctx);
        Ok(())
    }

    async fn save_thread(&self, thread: &ThreadMetadata, ctx: &ChatContext) -> Result<(), StoreError> {
        let saved = self.inner.save_thread_reporting(thread, ctx).await?;
        self.announce_thread(thread, saved, ctx);
        Ok(())
    }

    async fn delete_thread(&self, thread_id: &str, ctx: &ChatContext) -> Result<(), StoreError> {
        self.inner.delete_thread(thread_id, ctx).await?;
        self.events.publish(ctx.user, kind::THREAD_DELETED, json!({"thread_id": thread_id})).await;
        Ok(())
    }

    async fn load_threads(
        &self,
        limit: usize,
        after: Option<&str>,
        order: SortOrder,
        ctx: &ChatContext,
    ) -> Result<Page<ThreadMetadata>, StoreError> {
        self.inner.load_threads(limit, after, order, ctx).await
    }

    async fn load_thread_items(
        &self,
        thread_id: &str,
        after: Option<&str>,
        limit: usize,
        order: SortOrder,
        ctx: &ChatContext,
    ) -> Result<Page<ThreadItem>, StoreError> {
        self.inner.load_thread_items(thread_id, after, limit, order, ctx).await
    }

    async fn add_thread_item(
        &self,
        thread_id: &str,
        item: &ThreadItem,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.inner.add_thread_item(thread_id, item, ctx).await?;
        self.announce_item(thread_id, item, ctx);
        Ok(())
    }

    async fn add_thread_items(
        &self,
        thread_id: &str,
        items: &[ThreadItem],
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.inner.add_thread_items(thread_id, items, ctx).await?;
        for item in items {
            self.announce_item(thread_id, item, ctx);
        }
        Ok(())
    }

    async fn save_item(
        &self,
        thread_id: &str,
        item: &ThreadItem,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.inner.save_item(thread_id, item, ctx).await?;
        self.announce_item(thread_id, item, ctx);
        Ok(())
    }

    async fn load_item(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &ChatContext,
    ) -> Result<ThreadItem, StoreError> {
        self.inner.load_item(thread_id, item_id, ctx).await
    }

    async fn delete_thread_item(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.inner.delete_thread_item(thread_id, item_id, ctx).await?;
        self.events
            .publish(ctx.user, kind::ITEM_REMOVED, json!({"thread_id": thread_id, "item_id": item_id}))
            .await;
        Ok(())
    }

    async fn delete_thread_items_after(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.inner.delete_thread_items_after(thread_id, item_id, ctx).await?;
        self.events.publish(ctx.user, kind::THREAD_UPDATED, json!({"thread_id": thread_id})).await;
        Ok(())
    }

    async fn save_feedback(
        &self,
        thread_id: &str,
        item_ids: &[String],
        kind: FeedbackKind,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.inner.save_feedback(thread_id, item_ids, kind, ctx).await
    }
}

impl LiveStore {
    fn announce_thread(&self, thread: &ThreadMetadata, saved: ThreadSaved, ctx: &ChatContext) {
        let kind = match saved {
            ThreadSaved::Created => kind::THREAD_CREATED,
            ThreadSaved::Updated => kind::THREAD_UPDATED,
        };
        self.events.publish_in_background(ctx.user, kind, json!({"thread_id": thread.id}));
    }

    fn announce_item(&self, thread_id: &str, item: &ThreadItem, ctx: &ChatContext) {
        // Hidden items are server-side context; clients never see them.
        if !item.is_hidden() {
            let data = json!({"thread_id": thread_id, "item_id": item.id, "item_type": item.type_name()});
            self.events.publish_in_background(ctx.user, kind::ITEM_DONE, data);
        }
    }
}
