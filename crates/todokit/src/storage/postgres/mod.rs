//! The repositories on PostgreSQL.

mod events;
#[cfg(test)]
mod plans;

use crate::persistence::{Backend, StorageResult};
use crate::storage::shared::tasks::task_columns;
use crate::storage::sql::{Dialect, SqlStorage};

pub type PostgresStorage = SqlStorage<sqlx::Postgres>;

impl Dialect for sqlx::Postgres {
    /// `insert_new_task`'s statement: the user's row stays locked for the number only while it
    /// runs, not across round trips, so one user's concurrent creates queue far less.
    const INSERT_NEW_TASK: &'static str = concat!(
        "WITH numbered AS (UPDATE users SET task_seq = task_seq + 1 WHERE id = $19 RETURNING task_seq) \
         INSERT INTO tasks (",
        task_columns!(),
        ", user_id, priority_rank, search_text) SELECT $1, task_seq, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21 FROM numbered RETURNING number"
    );

    /// What a read inside a write transaction adds to hold its rows until commit, so a
    /// concurrent update cannot land between the read and the write built from it.
    const LOCK_ROWS: &'static str = " FOR UPDATE";

    /// The new thread and its first item, as data-modifying WITH clauses (`thread`, `item`). An
    /// id that exists already fails the whole statement.
    const START_THREAD: &'static str = "WITH thread AS (INSERT INTO chat_threads (id, user_id, title, status, \
         allowed_image_domains, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING id, user_id), \
         item AS (INSERT INTO chat_items (id, thread_id, user_id, item_type, data, created_at) \
         SELECT $9, id, user_id, $10, $11, $12 FROM thread) \
         SELECT id FROM thread";
    /// The same, with the reply's claim (`claim`).
    const START_CLAIMED_THREAD: Option<&'static str> = Some(
        "WITH thread AS (INSERT INTO chat_threads (id, user_id, title, status, \
         allowed_image_domains, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING id, user_id), \
         item AS (INSERT INTO chat_items (id, thread_id, user_id, item_type, data, created_at) \
         SELECT $9, id, user_id, $10, $11, $12 FROM thread), \
         claim AS (INSERT INTO chat_runs (thread_id, user_id, run_id, replica, expires_at, replica_url) \
         SELECT id, user_id, $13, $14, $15, $16 FROM thread) \
         SELECT id FROM thread",
    );
    const INSERT_CLAIMED_THREAD: Option<&'static str> = Some(
        "WITH thread AS (INSERT INTO chat_threads (id, user_id, title, status, allowed_image_domains, \
         metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO NOTHING RETURNING id, user_id) \
         INSERT INTO chat_runs (thread_id, user_id, run_id, replica, expires_at, replica_url) \
         SELECT id, user_id, $9, $10, $11, $12 FROM thread RETURNING thread_id",
    );

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

#[async_trait::async_trait]
impl crate::persistence::Database for PostgresStorage {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1").execute(self.pool.inner()).await?;
        Ok(())
    }
}
