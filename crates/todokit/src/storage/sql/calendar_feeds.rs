//! Calendar feeds (`account_data::feed::CalendarFeeds`), on both backends: the SHA-256 of each secret.

use jiff::Timestamp;

use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::account_data::feed::CalendarFeeds;
use crate::persistence::StorageResult;
use crate::storage::{from_micros, micros};
use crate::tasks::model::UserId;

#[async_trait::async_trait]
impl<DB> CalendarFeeds for SqlStorage<DB>
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
    async fn replace_calendar_feed(
        &self,
        user: UserId,
        secret_hash: &str,
        now: Timestamp,
    ) -> StorageResult<()> {
        let statement = sqlx::query(
            "INSERT INTO calendar_feeds (user_id, secret_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET secret_hash = excluded.secret_hash, created_at = excluded.created_at",
        )
        .bind(user.0)
        .bind(secret_hash)
        .bind(micros(now));
        self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(())
    }

    async fn calendar_feed_created_at(&self, user: UserId) -> StorageResult<Option<Timestamp>> {
        let created: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM calendar_feeds WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(&mut *self.read_connection().await?)
                .await?;
        Ok(created.map(from_micros).transpose()?)
    }

    async fn delete_calendar_feed(&self, user: UserId) -> StorageResult<bool> {
        let statement = sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1").bind(user.0);
        let deleted = self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(DB::rows_affected(&deleted) > 0)
    }

    async fn calendar_feed_owner(&self, secret_hash: &str) -> StorageResult<Option<UserId>> {
        let owner: Option<uuid::Uuid> =
            sqlx::query_scalar("SELECT user_id FROM calendar_feeds WHERE secret_hash = $1")
                .bind(secret_hash)
                .fetch_optional(&mut *self.read_connection().await?)
                .await?;
        Ok(owner.map(UserId))
    }
}
