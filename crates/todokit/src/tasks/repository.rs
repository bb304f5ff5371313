//! Where tasks are kept: the repository the task service and the reminder pass use.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use super::model::{
    BulkDeletion, BulkOutcome, Completion, NewTask, TagCount, Task, TaskCounts, TaskFilter, TaskKey,
    TaskPage, TaskPatch, TaskQuery, UserId,
};
use crate::persistence::StorageResult;

/// Every call is scoped by the owning user, except the reminder pass's (every user's).
#[async_trait]
pub trait TaskRepository: Send + Sync + 'static {
    /// Allocates the next per-user number in the same write as the insert.
    async fn create_task(&self, user: UserId, task: &NewTask, now: Timestamp) -> StorageResult<Task>;
    async fn get_task(&self, user: UserId, key: TaskKey) -> StorageResult<Option<Task>>;
    async fn update_task(
        &self,
        user: UserId,
        key: TaskKey,
        patch: &TaskPatch,
        now: Timestamp,
    ) -> StorageResult<Option<Task>>;
    /// Deletes the task and keeps it whole in `deleted_tasks` for [`restore_task`]; copies
    /// deleted before `prune_before` are dropped in the same transaction.
    ///
    /// [`restore_task`]: TaskRepository::restore_task
    async fn delete_task(
        &self,
        user: UserId,
        key: TaskKey,
        now: Timestamp,
        prune_before: Timestamp,
    ) -> StorageResult<Option<Task>>;
    /// Brings back a task deleted at or after `deleted_since`, with its id, number and every
    /// field as they were (a parent task deleted meanwhile is forgotten). `None` if there is no
    /// such copy; a conflict if its recurrence slot has been taken meanwhile.
    async fn restore_task(
        &self,
        user: UserId,
        id: Uuid,
        deleted_since: Timestamp,
    ) -> StorageResult<Option<Task>>;
    /// Completing a recurring task creates its next occurrence in the same
    /// transaction; completing again after a reopen does not duplicate it.
    async fn set_completed(
        &self,
        user: UserId,
        key: TaskKey,
        completed: bool,
        now: Timestamp,
    ) -> StorageResult<Option<Completion>>;
    async fn list_tasks(&self, user: UserId, query: &TaskQuery) -> StorageResult<TaskPage>;
    async fn count_tasks(&self, user: UserId, filter: &TaskFilter) -> StorageResult<TaskCounts>;
    async fn tag_counts(&self, user: UserId) -> StorageResult<Vec<TagCount>>;
    /// Completes (or reopens) every matching task, each like `set_completed`.
    async fn set_completed_matching(
        &self,
        user: UserId,
        filter: &TaskFilter,
        completed: bool,
        now: Timestamp,
    ) -> StorageResult<BulkOutcome>;
    /// Deletes every matching task in one transaction, unless `expected_count` is given and
    /// differs from how many match (then nothing is deleted).
    async fn delete_matching(
        &self,
        user: UserId,
        filter: &TaskFilter,
        expected_count: Option<u64>,
    ) -> StorageResult<BulkDeletion>;

    /// Pending tasks whose reminder time (`due_at − offset`) is at or before
    /// `now` and that have not been reminded yet.
    async fn due_reminders(&self, now: Timestamp, limit: u32) -> StorageResult<Vec<(UserId, Task)>>;
    /// Marks a pending task's reminder sent. True only for the one caller that
    /// flipped it, so each reminder fires once even across replicas; false for
    /// a task completed or deleted since `due_reminders` saw it.
    async fn mark_reminder_sent(&self, task: Uuid) -> StorageResult<bool>;
}
