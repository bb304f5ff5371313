//! An in-memory [`Store`] for tests and examples.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use jiff::Timestamp;

use crate::store::{Store, StoreError};
use crate::types::{FeedbackKind, Page, SortOrder, ThreadItem, ThreadMetadata};

/// Keeps everything in a mutex-guarded map. The context's `as_ref()` string is the owner:
/// threads are only visible to the owner that created them.
///
/// Ordering is `(created_at, insertion sequence)`, so elements with equal timestamps keep
/// a stable order and cursor pagination neither skips nor repeats them.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

/// One `items.feedback` submission, as recorded by [`MemoryStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackRecord {
    /// Owner that submitted it.
    pub owner: String,
    /// Thread.
    pub thread_id: String,
    /// Rated items.
    pub item_ids: Vec<String>,
    /// Sentiment.
    pub kind: FeedbackKind,
}

#[derive(Debug, Default)]
struct State {
    next_seq: u64,
    threads: HashMap<String, StoredThread>,
    feedback: Vec<FeedbackRecord>,
}

#[derive(Debug)]
struct StoredThread {
    owner: String,
    seq: u64,
    metadata: ThreadMetadata,
    items: Vec<StoredItem>,
}

#[derive(Debug)]
struct StoredItem {
    seq: u64,
    item: ThreadItem,
}

type SortKey = (Timestamp, u64);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// All feedback recorded so far, oldest first.
    pub fn feedback(&self) -> Vec<FeedbackRecord> {
        self.lock().feedback.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters for a test store, so keep going.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn thread(&self, thread_id: &str, owner: &str) -> Result<&StoredThread, StoreError> {
        self.threads
            .get(thread_id)
            .filter(|thread| thread.owner == owner)
            .ok_or(StoreError::NotFound)
    }

    fn thread_mut(
        &mut self,
        thread_id: &str,
        owner: &str,
    ) -> Result<&mut StoredThread, StoreError> {
        self.threads
            .get_mut(thread_id)
            .filter(|thread| thread.owner == owner)
            .ok_or(StoreError::NotFound)
    }

    fn upsert_item(
        &mut self,
        thread_id: &str,
        owner: &str,
        item: &ThreadItem,
    ) -> Result<(), StoreError> {
        let seq = self.next_seq();
        let thread = self.thread_mut(thread_id, owner)?;
        match thread
            .items
            .iter_mut()
            .find(|stored| stored.item.id == item.id)
        {
            Some(stored) => stored.item = item.clone(),
            None => thread.items.push(StoredItem {
                seq,
                item: item.clone(),
            }),
        }
        Ok(())
    }
}

/// Sorts `entries` and cuts the page that follows `after`. An `after` that names no element
/// yields an empty page.
fn paginate<T>(
    mut entries: Vec<(SortKey, String, T)>,
    after: Option<&str>,
    limit: usize,
    order: SortOrder,
) -> Page<T> {
    entries.sort_by_key(|(key, _, _)| *key);
    if order == SortOrder::Desc {
        entries.reverse();
    }
    let start = match after {
        None => 0,
        Some(cursor) => match entries.iter().position(|(_, id, _)| id == cursor) {
            Some(position) => position + 1,
            None => return Page::default(),
        },
    };
    let limit = limit.max(1);
    let mut rest = entries.into_iter().skip(start);
    let data: Vec<(SortKey, String, T)> = rest.by_ref().take(limit).collect();
    let has_more = rest.next().is_some();
    let after = if has_more {
        data.last().map(|(_, id, _)| id.clone())
    } else {
        None
    };
    Page {
        data: data.into_iter().map(|(_, _, value)| value).collect(),
        has_more,
        after,
    }
}

#[async_trait]
impl<C> Store<C> for MemoryStore
where
    C: AsRef<str> + Send + Sync,
{
    async fn load_thread(&self, thread_id: &str, ctx: &C) -> Result<ThreadMetadata, StoreError> {
        Ok(self
            .lock()
            .thread(thread_id, ctx.as_ref())?
            .metadata
            .clone())
    }

    async fn save_thread(&self, thread: &ThreadMetadata, ctx: &C) -> Result<(), StoreError> {
        let mut state = self.lock();
        let seq = state.next_seq();
        match state.threads.get_mut(&thread.id) {
            Some(stored) if stored.owner == ctx.as_ref() => stored.metadata = thread.clone(),
            Some(_) => return Err(StoreError::NotFound),
            None => {
                state.threads.insert(
                    thread.id.clone(),
                    StoredThread {
                        owner: ctx.as_ref().to_owned(),
                        seq,
                        metadata: thread.clone(),
                        items: Vec::new(),
                    },
                );
            }
        }
        Ok(())
    }

    async fn delete_thread(&self, thread_id: &str, ctx: &C) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.thread(thread_id, ctx.as_ref())?;
        state.threads.remove(thread_id);
        state
            .feedback
            .retain(|record| record.thread_id != thread_id);
        Ok(())
    }

    async fn load_threads(
        &self,
        limit: usize,
        after: Option<&str>,
        order: SortOrder,
        ctx: &C,
    ) -> Result<Page<ThreadMetadata>, StoreError> {
        let state = self.lock();
        let entries = state
            .threads
            .values()
            .filter(|thread| thread.owner == ctx.as_ref())
            .map(|thread| {
                (
                    (thread.metadata.created_at, thread.seq),
                    thread.metadata.id.clone(),
                    thread.metadata.clone(),
                )
            })
            .collect();
        Ok(paginate(entries, after, limit, order))
    }

    async fn load_thread_items(
        &self,
        thread_id: &str,
        after: Option<&str>,
        limit: usize,
        order: SortOrder,
        ctx: &C,
    ) -> Result<Page<ThreadItem>, StoreError> {
        let state = self.lock();
        let entries = state
            .thread(thread_id, ctx.as_ref())?
            .items
            .iter()
            .map(|stored| {
                (
                    (stored.item.created_at, stored.seq),
                    stored.item.id.clone(),
                    stored.item.clone(),
                )
            })
            .collect();
        Ok(paginate(entries, after, limit, order))
    }

    async fn add_thread_item(
        &self,
        thread_id: &str,
        item: &ThreadItem,
        ctx: &C,
    ) -> Result<(), StoreError> {
        self.lock().upsert_item(thread_id, ctx.as_ref(), item)
    }

    async fn save_item(
        &self,
        thread_id: &str,
        item: &ThreadItem,
        ctx: &C,
    ) -> Result<(), StoreError> {
        self.lock().upsert_item(thread_id, ctx.as_ref(), item)
    }

    async fn load_item(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &C,
    ) -> Result<ThreadItem, StoreError> {
        self.lock()
            .thread(thread_id, ctx.as_ref())?
            .items
            .iter()
            .find(|stored| stored.item.id == item_id)
            .map(|stored| stored.item.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn delete_thread_item(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &C,
    ) -> Result<(), StoreError> {
        self.lock()
            .thread_mut(thread_id, ctx.as_ref())?
            .items
            .retain(|stored| stored.item.id != item_id);
        Ok(())
    }

    async fn delete_thread_items_after(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &C,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let thread = state.thread_mut(thread_id, ctx.as_ref())?;
        let cutoff: SortKey = thread
            .items
            .iter()
            .find(|stored| stored.item.id == item_id)
            .map(|stored| (stored.item.created_at, stored.seq))
            .ok_or(StoreError::NotFound)?;
        thread
            .items
            .retain(|stored| (stored.item.created_at, stored.seq) <= cutoff);
        Ok(())
    }

    async fn save_feedback(
        &self,
        thread_id: &str,
        item_ids: &[String],
        kind: FeedbackKind,
        ctx: &C,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.thread(thread_id, ctx.as_ref())?;
        state.feedback.push(FeedbackRecord {
            owner: ctx.as_ref().to_owned(),
            thread_id: thread_id.to_owned(),
            item_ids: item_ids.to_vec(),
            kind,
        });
        Ok(())
    }
}
