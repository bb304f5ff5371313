//! Chat rate-limit counters (`chat::RateCounters`) on both backends.

use jiff::Timestamp;
use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::chat::{RateCounters, RateWindow};
use crate::persistence::StorageResult;
use crate::storage::micros;
use crate::tasks::model::UserId;

#[async_trait::async_trait]
impl<DB> RateCounters for SqlStorage<DB>
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
    async fn hit_rate_counters(&self, user: UserId, windows: &[RateWindow<'_>]) -> StorageResult<Vec<i64>> {
        use sqlx::Row;
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let mut insert = sqlx::QueryBuilder::<DB>::new(
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
        Ok(DB::rows_affected(&counters))
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
