//! Sessions (`auth::Sessions`), on both backends.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::auth::session::LAST_SEEN_PRECISION_SECS;
use crate::auth::{Session, Sessions};
use crate::persistence::StorageResult;
use crate::storage::shared::SESSION_COLUMNS as COLUMNS;
use crate::storage::{from_micros, micros};

impl<DB> SqlStorage<DB>
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
    fn decode_session(row: &DB::Row) -> anyhow::Result<Session> {
        let row: StoredSession = sqlx::FromRow::from_row(row)?;
        Ok(Session {
            id: row.id,
            user_id: row.user_id,
            created_at: from_micros(row.created_at)?,
            last_seen_at: from_micros(row.last_seen_at)?,
            expires_at: from_micros(row.expires_at)?,
            user_agent: row.user_agent,
            address: row.address,
        })
    }
}

/// A row of `sessions`, as stored (times in microseconds).
#[derive(sqlx::FromRow)]
struct StoredSession {
    id: Uuid,
    user_id: Uuid,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    user_agent: Option<String>,
    address: String,
}

#[async_trait]
impl<DB> Sessions for SqlStorage<DB>
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
    async fn create_session(&self, session: &Session) -> StorageResult<()> {
        let prune = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2")
            .bind(session.user_id)
            .bind(micros(session.created_at));
        let insert = sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, user_agent, address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.id)
        .bind(session.user_id)
        .bind(micros(session.created_at))
        .bind(micros(session.last_seen_at))
        .bind(micros(session.expires_at))
        .bind(&session.user_agent)
        .bind(&session.address);
        self.writer
            .write(async |connection| {
                prune.execute(&mut *connection).await?;
                insert.execute(connection).await
            })
            .await?;
        // A live session is a live account (the foreign key): both are known.
        self.known_sessions.found_owned(session.id, session.user_id);
        self.known_users.found(session.user_id);
        Ok(())
    }

    async fn session_is_live(&self, id: Uuid, user: Uuid, now: Timestamp) -> StorageResult<bool> {
        use sqlx::Row;
        if self.known_sessions.is_known_as(id, user) {
            return Ok(true);
        }
        let row = sqlx::query("SELECT user_id, last_seen_at, expires_at FROM sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.read_connection().await?)
            .await?;
        let Some(row) = row else { return Ok(false) };
        let owner: Uuid = row.try_get("user_id")?;
        let last_seen: i64 = row.try_get("last_seen_at")?;
        let expires: i64 = row.try_get("expires_at")?;
        if owner != user || expires <= micros(now) {
            return Ok(false);
        }
        self.known_sessions.found_owned(id, user);
        self.known_users.found(user);
        // Recording every use would turn each request into a write; once a minute is enough.
        let stale_before = micros(now) - LAST_SEEN_PRECISION_SECS * 1_000_000;
        if last_seen < stale_before {
            let touch =
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $3")
                    .bind(micros(now))
                    .bind(id)
                    .bind(stale_before);
            self.writer.write(async |connection| touch.execute(connection).await).await?;
        }
        Ok(true)
    }

    async fn list_sessions(&self, user: Uuid, now: Timestamp) -> StorageResult<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .bind(micros(now))
            .fetch_all(&mut *self.read_connection().await?)
            .await?;
        Ok(rows.iter().map(Self::decode_session).collect::<anyhow::Result<Vec<_>>>()?)
    }

    async fn revoke_session(&self, user: Uuid, id: Uuid, now: Timestamp) -> StorageResult<bool> {
        let statement =
            sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING expires_at")
                .bind(id)
                .bind(user);
        let expires: Option<i64> = self
            .writer
            .write(async |connection| {
                use sqlx::Row;
                statement.fetch_optional(connection).await?.map(|row| row.try_get("expires_at")).transpose()
            })
            .await?;
        self.known_sessions.forget(id);
        Ok(expires.is_some_and(|expires| expires > micros(now)))
    }

    async fn revoke_sessions_except(
        &self,
        user: Uuid,
        keep: Option<Uuid>,
        now: Timestamp,
    ) -> StorageResult<u64> {
        let statement =
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING id, expires_at")
                .bind(user)
                .bind(keep.unwrap_or(Uuid::nil()));
        let revoked: Vec<(Uuid, i64)> = self
            .writer
            .write(async |connection| {
                use sqlx::Row;
                statement
                    .fetch_all(connection)
                    .await?
                    .iter()
                    .map(|row| Ok((row.try_get("id")?, row.try_get("expires_at")?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            })
            .await?;
        for (id, _) in &revoked {
            self.known_sessions.forget(*id);
        }
        Ok(revoked.iter().filter(|(_, expires)| *expires > micros(now)).count() as u64)
    }

    async fn prune_sessions(&self, now: Timestamp) -> StorageResult<u64> {
        let statement = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(micros(now));
        let pruned = self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(DB::rows_affected(&pruned))
    }
}
