//! Calendar feeds (`account_data::feed::CalendarFeeds`) on SQLite: the SHA-256 of each secret.

use jiff::Timestamp;

use super::SqliteStorage;
use crate::account_data::feed::CalendarFeeds;
use crate::persistence::StorageResult;
use crate::storage::{from_micros, micros};
use crate::tasks::model::UserId;

#[async_trait::async_trait]
impl CalendarFeeds for SqliteStorage {
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
        Ok(deleted.rows_affected() > 0)
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
