//! Running replies' checkpoints and lapsed claims (`chat::ReplyCheckpoints`) on SQLite:
//! both live in the reply's `chat_runs` row. Replicas share PostgreSQL only; this keeps the
//! backends alike.

use jiff::Timestamp;
use uuid::Uuid;

use super::SqliteStorage;
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
impl ReplyCheckpoints for SqliteStorage {
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
        let statement = sqlx::query_as::<_, LapsedRow>(
            "UPDATE chat_runs SET replica = $3, replica_url = NULL, expires_at = $5, finishing = TRUE \
             WHERE thread_id = $1 AND expires_at <= $4 AND ($2 IS NULL OR user_id = $2) \
             RETURNING user_id, run_id, checkpoint",
        )
        .bind(thread_id)
        .bind(user.map(|user| user.0))
        .bind(replica)
        .bind(micros(now))
        .bind(micros(expires_at));
        let row = self.writer.write(async |connection| statement.fetch_optional(connection).await).await?;
        Ok(row.map(|row| LapsedRun {
            thread_id: thread_id.to_owned(),
            user: UserId(row.user_id),
            run_id: row.run_id,
            checkpoint: row.checkpoint,
        }))
    }
}
