//! Personal access tokens (`auth::AccessTokens`), on both backends: stored as the SHA-256 of the
//! secret, never the secret itself.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::auth::access_token::LAST_USED_PRECISION_SECS;
use crate::auth::{AccessToken, AccessTokens};
use crate::persistence::StorageResult;
use crate::storage::shared::ACCESS_TOKEN_COLUMNS as COLUMNS;
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
    fn decode_access_token(row: &DB::Row) -> anyhow::Result<AccessToken> {
        let row: StoredAccessToken = sqlx::FromRow::from_row(row)?;
        let optional_time = |value: Option<i64>| value.map(from_micros).transpose();
        Ok(AccessToken {
            id: row.id,
            user_id: row.user_id,
            name: row.name,
            prefix: row.prefix,
            created_at: from_micros(row.created_at)?,
            last_used_at: optional_time(row.last_used_at)?,
            expires_at: optional_time(row.expires_at)?,
            revoked_at: optional_time(row.revoked_at)?,
        })
    }
}

/// The columns of `access_tokens` a token is described by (times in microseconds; the secret's
/// hash is never read back this way).
#[derive(sqlx::FromRow)]
struct StoredAccessToken {
    id: Uuid,
    user_id: Uuid,
    name: String,
    prefix: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

#[async_trait]
impl<DB> AccessTokens for SqlStorage<DB>
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
    async fn create_access_token(&self, token: &AccessToken, token_hash: &str) -> StorageResult<()> {
        let statement = sqlx::query(
            "INSERT INTO access_tokens (id, user_id, name, token_hash, prefix, created_at, \
             last_used_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(token.id)
        .bind(token.user_id)
        .bind(&token.name)
        .bind(token_hash)
        .bind(&token.prefix)
        .bind(micros(token.created_at))
        .bind(token.last_used_at.map(micros))
        .bind(token.expires_at.map(micros))
        .bind(token.revoked_at.map(micros));
        self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(())
    }

    async fn list_access_tokens(&self, user: Uuid) -> StorageResult<Vec<AccessToken>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM access_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .fetch_all(&mut *self.read_connection().await?)
            .await?;
        Ok(rows.iter().map(Self::decode_access_token).collect::<anyhow::Result<Vec<_>>>()?)
    }

    async fn revoke_access_token(
        &self,
        user: Uuid,
        id: Uuid,
        now: Timestamp,
    ) -> StorageResult<Option<AccessToken>> {
        let statement = sqlx::query(
            "UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND user_id = $3",
        )
        .bind(micros(now))
        .bind(id)
        .bind(user);
        self.writer.write(async |connection| statement.execute(connection).await).await?;
        self.known_tokens.forget(id);
        let sql = format!("SELECT {COLUMNS} FROM access_tokens WHERE id = $1 AND user_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(user)
            .fetch_optional(&mut *self.read_connection().await?)
            .await?;
        Ok(row.as_ref().map(Self::decode_access_token).transpose()?)
    }

    async fn access_token_by_hash(&self, token_hash: &str) -> StorageResult<Option<AccessToken>> {
        let sql = format!("SELECT {COLUMNS} FROM access_tokens WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&mut *self.read_connection().await?)
            .await?;
        Ok(row.as_ref().map(Self::decode_access_token).transpose()?)
    }

    async fn access_token_is_live(&self, id: Uuid, now: Timestamp) -> StorageResult<bool> {
        if self.known_tokens.is_known(id) {
            return Ok(true);
        }
        let sql = format!("SELECT {COLUMNS} FROM access_tokens WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.read_connection().await?)
            .await?;
        let Some(token) = row.as_ref().map(Self::decode_access_token).transpose()? else {
            return Ok(false);
        };
        let live = token.is_active(now);
        if live {
            self.known_tokens.found_owned(id, token.user_id);
        }
        Ok(live)
    }

    async fn touch_access_token(&self, id: Uuid, now: Timestamp) -> StorageResult<()> {
        let statement = sqlx::query(
            "UPDATE access_tokens SET last_used_at = $1 WHERE id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(micros(now))
        .bind(id)
        .bind(micros(now) - LAST_USED_PRECISION_SECS * 1_000_000);
        self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(())
    }
}
