//! The repositories on SQLite.

mod events;
#[cfg(test)]
mod plans;

use crate::persistence::{Backend, StorageResult};
use crate::storage::shared::tasks::task_columns;
use crate::storage::sql::{Dialect, SqlStorage};

pub type SqliteStorage = SqlStorage<sqlx::Sqlite>;

impl Dialect for sqlx::Sqlite {
    /// `insert_new_task`'s statement. SQLite has no data-modifying `WITH`: the insert numbers
    /// the task from the user's sequence, and a trigger moves the sequence up in the same
    /// statement (migration 0009). One statement is one hand-off to the connection's thread,
    /// where a transaction (`BEGIN IMMEDIATE`, number, insert, `COMMIT`) was four.
    const INSERT_NEW_TASK: &'static str = concat!(
        "INSERT INTO tasks (",
        task_columns!(),
        ", user_id, priority_rank, search_text) SELECT $1, task_seq + 1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21 FROM users WHERE id = $19 \
         RETURNING number"
    );

    /// What a read inside a write transaction adds to hold its rows until commit: nothing, as
    /// `BEGIN IMMEDIATE` already keeps every other writer out.
    const LOCK_ROWS: &'static str = "";

    /// SQLite has no data-modifying WITH: inserting into the view inserts both rows, in one
    /// statement (migration 0010). An id that exists already fails the whole statement.
    const START_THREAD: &'static str = "INSERT INTO chat_thread_starts (id, user_id, title, status, allowed_image_domains, \
         metadata, created_at, updated_at, item_id, item_type, item_data, item_created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    /// SQLite is one process and keeps no claims.
    const START_CLAIMED_THREAD: Option<&'static str> = None;
    const INSERT_CLAIMED_THREAD: Option<&'static str> = None;

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

#[async_trait::async_trait]
impl crate::persistence::Database for SqliteStorage {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1").execute(self.pool.inner()).await?;
        Ok(())
    }
}
