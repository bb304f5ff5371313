//! The ChatKit store on the database, as the chat service needs it.

use std::sync::Arc;

use async_trait::async_trait;

use super::ChatContext;

/// ChatKit threads and items, scoped by the caller in the chat context.
pub type DynChatStore = Arc<dyn chatkit::Store<ChatContext>>;

/// What a thread save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadSaved {
    Created,
    Updated,
}

/// The SQL ChatKit store: [`chatkit::Store`] plus thread saves that say whether they
/// created the thread, which the database knows from the save itself (so callers need not
/// load the thread first to find out).
#[async_trait]
pub trait ChatStore: chatkit::Store<ChatContext> {
    /// Saves like [`chatkit::Store::save_thread`]: the caller's own thread is updated, a new
    /// one inserted. A thread id that belongs to another user is `NotFound`, and nothing is
    /// written.
    async fn save_thread_reporting(
        &self,
        thread: &chatkit::ThreadMetadata,
        ctx: &ChatContext,
    ) -> Result<ThreadSaved, chatkit::StoreError>;

    /// Stores a thread `threads.create` made, with its first item and (PostgreSQL replicas)
    /// its reply's claim, in one statement. An id that exists already is saved like any
    /// other save, and the item added to it.
    async fn start_thread(
        &self,
        thread: &chatkit::ThreadMetadata,
        first_item: &chatkit::ThreadItem,
        ctx: &ChatContext,
    ) -> Result<ThreadSaved, chatkit::StoreError>;
}

pub type DynSqlChatStore = Arc<dyn ChatStore>;
