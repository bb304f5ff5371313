//! Replies' claims on their threads (`chat::RunClaims`) on PostgreSQL.

use jiff::Timestamp;
use uuid::Uuid;

use super::PostgresStorage;
use crate::chat::{RunClaim, RunClaims, RunHolder};
use crate::persistence::StorageResult;
use crate::storage::{from_micros, micros};
use crate::tasks::model::UserId;

/// Claims renewed by one statement: well under either database's limit on bound values, with
/// thousands of replies running on one replica.
const RUNS_RENEWED_PER_STATEMENT: usize = 1000;

/// A row of `chat_runs`: who holds the thread.
#[derive(sqlx::FromRow)]
struct RunHolderRow {
    replica: Uuid,
    replica_url: Option<String>,
    expires_at: i64,
    finishing: bool,
}

#[async_trait::async_trait]
impl RunClaims for PostgresStorage {
    async fn claim_run(&self, run: &RunClaim) -> StorageResult<bool> {
        // The SELECT is the ownership check. Taken over: only a claim of this replica's own,
        // which its caller only asks for when no run of its holds the thread (a release that
        // failed left it behind), unless it is finishing a lapsed reply. A lapsed claim of
        // another replica is finished first (`take_lapsed_run`), then released.
        let statement = sqlx::query(
            "INSERT INTO chat_runs (thread_id, user_id, run_id, replica, expires_at, replica_url) \
             SELECT id, user_id, $3, $4, $5, $6 FROM chat_threads WHERE id = $1 AND user_id = $2 \
             ON CONFLICT (thread_id) DO UPDATE SET user_id = excluded.user_id, run_id = excluded.run_id, \
             replica = excluded.replica, expires_at = excluded.expires_at, replica_url = excluded.replica_url, \
             checkpoint = NULL, finishing = FALSE \
             WHERE chat_runs.replica = $4 AND NOT chat_runs.finishing",
        )
        .bind(&run.thread_id)
        .bind(run.user.0)
        .bind(run.run_id)
        .bind(run.replica)
        .bind(micros(run.expires_at))
        .bind(&run.replica_url);
        let result = self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(result.rows_affected() == 1)
    }

    async fn run_holder(
        &self,
        thread_id: &str,
        user: UserId,
        now: Timestamp,
    ) -> StorageResult<Option<RunHolder>> {
        let holder: Option<RunHolderRow> = sqlx::query_as(
            "SELECT replica, replica_url, expires_at, finishing FROM chat_runs \
             WHERE thread_id = $1 AND user_id = $2 AND expires_at > $3",
        )
        .bind(thread_id)
        .bind(user.0)
        .bind(micros(now))
        .fetch_optional(&mut *self.read_connection().await?)
        .await?;
        let Some(row) = holder else { return Ok(None) };
        Ok(Some(RunHolder {
            replica: row.replica,
            replica_url: row.replica_url,
            expires_at: from_micros(row.expires_at)?,
            finishing: row.finishing,
        }))
    }

    async fn release_run(&self, thread_id: &str, run_id: Uuid) -> StorageResult<()> {
        let statement = sqlx::query("DELETE FROM chat_runs WHERE thread_id = $1 AND run_id = $2")
            .bind(thread_id)
            .bind(run_id);
        self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(())
    }

    async fn renew_runs(&self, replica: Uuid, runs: &[Uuid], expires_at: Timestamp) -> StorageResult<u64> {
        let mut renewed = 0;
        for runs in runs.chunks(RUNS_RENEWED_PER_STATEMENT) {
            let mut update = sqlx::QueryBuilder::<sqlx::Postgres>::new("UPDATE chat_runs SET expires_at = ");
            update.push_bind(micros(expires_at)).push(" WHERE replica = ").push_bind(replica);
            update.push(" AND run_id IN (");
            let mut ids = update.separated(", ");
            for run in runs {
                ids.push_bind(*run);
            }
            update.push(")");
            renewed += self
                .writer
                .write(async |connection| update.build().execute(connection).await)
                .await?
                .rows_affected();
        }
        Ok(renewed)
    }
}
