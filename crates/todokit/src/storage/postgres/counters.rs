//! Chat rate-limit counters (`chat::RateCounters`) on PostgreSQL.

use jiff::Timestamp;

use super::PostgresStorage;
use crate::chat::{RateCounters, RateWindow};
use crate::persistence::StorageResult;
use crate::storage::micros;
use crate::tasks::model::UserId;

#[async_trait::async_trait]
impl RateCounters for PostgresStorage {
    async fn hit_rate_counters(&self, user: UserId, windows: &[RateWindow<'_>]) -> StorageResult<Vec<i64>> {
        use sqlx::Row;
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "INSERT INTO rate_counters (user_id, window_key, count, expires_at) ",
        );
        insert.push_values(windows, |mut row, window| {
            row.push_bind(user.0).push_bind(window.key).push("1").push_bind(micros(window.expires_at));
        });
        insert.push(
            " ON CONFLICT (user_id, window_key) DO UPDATE SET count = rate_counters.count + 1 \
             RETURNING window_key, count",
        );
        // Every row is read, so the autocommit statement is over when this returns.
        let rows = self.writer.write(async |connection| insert.build().fetch_all(connection).await).await?;
        let mut counts = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            counts.insert(row.try_get::<String, _>("window_key")?, row.try_get::<i64, _>("count")?);
        }
        Ok(windows.iter().map(|window| counts.get(window.key).copied().unwrap_or(1)).collect())
    }

    async fn prune_rate_counters(&self, now: Timestamp) -> StorageResult<u64> {
        let statement = sqlx::query("DELETE FROM rate_counters WHERE expires_at < $1").bind(micros(now));
        let counters = self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(counters.rows_affected())
    }

    async fn unhit_rate_counter(&self, user: UserId, key: &str) -> StorageResult<()> {
        let statement = sqlx::query(
            "UPDATE rate_counters SET count = count - 1 WHERE user_id = $1 AND window_key = $2 AND count > 0",
        )
        .bind(user.0)
        .bind(key);
        self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(())
    }
}
