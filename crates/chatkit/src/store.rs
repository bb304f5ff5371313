//! Persistence interface.

use async_trait::async_trait;

use crate::types::{FeedbackKind, Page, SortOrder, ThreadItem, ThreadMetadata};

/// Boxed error used for failures this crate only reports.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thread or item does not exist, or belongs to another owner.
    #[error("not found")]
    NotFound,
    /// Anything else (database down, corrupt row, …).
    #[error("store failure: {0}")]
    Other(#[source] BoxError),
}

impl StoreError {
    /// Wraps any error as [`StoreError::Other`].
    pub fn other(error: impl Into<BoxError>) -> Self {
        StoreError::Other(error.into())
    }
}

/// Where threads and items live. `C` is the per-request context (e.g. the authenticated
/// user) that the server passes to every call.
///
/// # Contract
///
/// - **Scoping.** Every method must scope to the owner identified by `ctx`. A thread that
///   belongs to another owner must behave exactly like a missing one ([`StoreError::NotFound`]),
///   and item methods must verify that the thread is the caller's.
/// - **Ordering.** Items and threads sort by `created_at` with a deterministic tie-break for
///   equal timestamps (e.g. an insertion sequence or the time-ordered id), so pages never
///   skip or repeat elements.
/// - **Cursors.** `after` is the id of the last element of the previous page; the next page
///   starts strictly after it in the requested order. Return `after = Some(last id)` only
///   when `has_more`.
/// - **Hidden items** (`hidden_context_item`, `sdk_hidden_context`) are stored and returned
///   like any other item; the *server* filters them from client output.
/// - **Items are upserts.** `add_thread_item` and `save_item` both insert or replace by id;
///   a replaced item keeps its position (tie-break) but takes the new `created_at`.
#[async_trait]
pub trait Store<C>: Send + Sync + 'static
where
    C: Send + Sync,
{
    /// Loads a thread's metadata. `NotFound` if missing or foreign.
    async fn load_thread(&self, thread_id: &str, ctx: &C) -> Result<ThreadMetadata, StoreError>;

    /// Inserts or updates thread metadata (never items). A new thread belongs to `ctx`'s
    /// owner; updating a foreign thread is `NotFound`.
    async fn save_thread(&self, thread: &ThreadMetadata, ctx: &C) -> Result<(), StoreError>;

    /// Saves a thread the server has just made (`threads.create`) with its first item, the
    /// user's message. Default: `save_thread`, then `add_thread_item`. A store that can write
    /// both at once (all or none) saves a write, and never keeps a thread without its message.
    async fn create_thread(
        &self,
        thread: &ThreadMetadata,
        first_item: &ThreadItem,
        ctx: &C,
    ) -> Result<(), StoreError> {
        self.save_thread(thread, ctx).await?;
        self.add_thread_item(&thread.id, first_item, ctx).await
    }

    /// Deletes a thread, its items and feedback. `NotFound` if missing or foreign.
    async fn delete_thread(&self, thread_id: &str, ctx: &C) -> Result<(), StoreError>;

    /// Lists the owner's threads, `limit` at a time.
    async fn load_threads(
        &self,
        limit: usize,
        after: Option<&str>,
        order: SortOrder,
        ctx: &C,
    ) -> Result<Page<ThreadMetadata>, StoreError>;

    /// Lists a thread's items (hidden ones included), `limit` at a time.
    async fn load_thread_items(
        &self,
        thread_id: &str,
        after: Option<&str>,
        limit: usize,
        order: SortOrder,
        ctx: &C,
    ) -> Result<Page<ThreadItem>, StoreError>;

    /// Persists a finished item (upsert by id).
    async fn add_thread_item(&self, thread_id: &str, item: &ThreadItem, ctx: &C) -> Result<(), StoreError>;

    /// Persists finished items in order (upserts by id). The server stores a response's
    /// hidden items with the next item it stores, so a store that can write them all at once
    /// (all or none) saves a write. Default: `add_thread_item` for each.
    async fn add_thread_items(
        &self,
        thread_id: &str,
        items: &[ThreadItem],
        ctx: &C,
    ) -> Result<(), StoreError> {
        for item in items {
            self.add_thread_item(thread_id, item, ctx).await?;
        }
        Ok(())
    }

    /// Replaces an item (upsert by id).
    async fn save_item(&self, thread_id: &str, item: &ThreadItem, ctx: &C) -> Result<(), StoreError>;

    /// Loads one item. `NotFound` if the thread or item is missing or foreign.
    async fn load_item(&self, thread_id: &str, item_id: &str, ctx: &C) -> Result<ThreadItem, StoreError>;

    /// Deletes one item. Deleting a missing item of an existing thread succeeds.
    async fn delete_thread_item(&self, thread_id: &str, item_id: &str, ctx: &C) -> Result<(), StoreError>;

    /// Deletes every item that sorts after `item_id` in ascending order (used by retry).
    /// `NotFound` if the item is missing.
    async fn delete_thread_items_after(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &C,
    ) -> Result<(), StoreError>;

    /// Records feedback on items of a thread.
    async fn save_feedback(
        &self,
        thread_id: &str,
        item_ids: &[String],
        kind: FeedbackKind,
        ctx: &C,
    ) -> Result<(), StoreError>;
}
