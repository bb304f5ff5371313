//! Running replies' checkpoints and lapsed claims (`chat::ReplyCheckpoints`), on both backends:
//! both live in the reply's `chat_runs` row, so releasing the claim drops the checkpoint.
//! Replicas share PostgreSQL only; SQLite keeps them too, so the backends stay alike.

use jiff::Timestamp;
use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::chat::{LapsedRun, ReplyCheckpoints};
use crate::persistence::StorageResult;
use crate::storage::micros;
use crate::tasks::model::UserId;

#[derive(sqlx::FromRow)]
struct LapsedRow {
    user_id: Uuid,
    run_id: Uuid,
    checkpoint: Option<String>,
}

#[async_trait::async_trait]
impl<DB> ReplyCheckpoints for SqlStorage<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    Uuid: Value<DB>,
    i64: Value<DB>,
    bool: Value<DB>,
    String: Value<DB>,
    Option<i64>: Value<DB>,
    Option<String>: Value<DB>,
    Option<Uuid>: Value<DB>,
    for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB> + sqlx::ColumnIndex<DB::Row>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn save_checkpoint(&self, thread_id: &str, run_id: Uuid, checkpoint: &str) -> StorageResult<()> {
        let statement =
            sqlx::query("UPDATE chat_runs SET checkpoint = $3 WHERE thread_id = $1 AND run_id = $2")
                .bind(thread_id)
                .bind(run_id)
                .bind(checkpoint);
        self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(())
    }

    async fn lapsed_runs(&self, now: Timestamp, limit: u32) -> StorageResult<Vec<String>> {
        let threads = sqlx::query_scalar(
            "SELECT thread_id FROM chat_runs WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2",
        )
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.read_connection().await?)
        .await?;
        Ok(threads)
    }

    async fn take_lapsed_run(
        &self,
        thread_id: &str,
        user: Option<UserId>,
        replica: Uuid,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StorageResult<Option<LapsedRun>> {
        // Of replicas updating at once, the first takes the row; the others wait for its lock,
        // then find the claim renewed, and match nothing.
        let mut statement = sqlx::QueryBuilder::<DB>::new("UPDATE chat_runs SET replica = ");
        statement
            .push_bind(replica)
            .push(", replica_url = NULL, expires_at = ")
            .push_bind(micros(expires_at));
        statement.push(", finishing = TRUE WHERE thread_id = ").push_bind(thread_id.to_owned());
        statement.push(" AND expires_at <= ").push_bind(micros(now));
        if let Some(user) = user {
            statement.push(" AND user_id = ").push_bind(user.0);
        }
        statement.push(" RETURNING user_id, run_id, checkpoint");
        let row = self
            .writer
            .write(async |connection| {
                statement.build_query_as::<LapsedRow>().fetch_optional(connection).await
            })
            .await?;
        Ok(row.map(|row| LapsedRun {
            thread_id: thread_id.to_owned(),
            user: UserId(row.user_id),
            run_id: row.run_id,
            checkpoint: row.checkpoint,
        }))
    }
}
