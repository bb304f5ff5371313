//! Accounts (`auth::Accounts`) and invites (`auth::Invites`), on both backends.

use jiff::Timestamp;
use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::auth::{Accounts, Invites, User, UserCredentials, UserSummary};
use crate::persistence::{StorageError, StorageResult};
use crate::storage::shared::accounts::{
    CREATE_USER, DELETE_USER_STATEMENTS, USE_INVITE, USER_COLUMNS, email_taken,
};
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
    fn decode_user(row: &DB::Row) -> anyhow::Result<User> {
        let row: StoredUser = sqlx::FromRow::from_row(row)?;
        Ok(User {
            id: row.id,
            email: row.email,
            created_at: from_micros(row.created_at)?,
            is_admin: row.is_admin,
        })
    }
}

/// The columns of `users` an account is read from (times in microseconds).
#[derive(sqlx::FromRow)]
struct StoredUser {
    id: Uuid,
    email: String,
    created_at: i64,
    is_admin: bool,
}

#[async_trait::async_trait]
impl<DB> Accounts for SqlStorage<DB>
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
    async fn create_user(
        &self,
        email: &str,
        email_normalized: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StorageResult<User> {
        let id = Uuid::now_v7();
        // A second try only after losing the race to be the first account (`users_one_admin`):
        // it then sees that account and is not the administrator.
        for attempt in 0..2 {
            let statement = sqlx::query(CREATE_USER)
                .bind(id)
                .bind(email)
                .bind(email_normalized)
                .bind(password_hash)
                .bind(micros(now));
            let result = self
                .writer
                .write(async |connection| {
                    use sqlx::Row;
                    statement.fetch_one(connection).await?.try_get::<bool, _>("is_admin")
                })
                .await;
            match result {
                Ok(is_admin) => return Ok(User { id, email: email.to_owned(), created_at: now, is_admin }),
                Err(sqlx::Error::Database(err)) if attempt == 0 && is_second_admin(err.as_ref()) => continue,
                Err(sqlx::Error::Database(err)) if err.is_unique_violation() => return Err(email_taken()),
                Err(err) => return Err(err.into()),
            }
        }
        Err(StorageError::Conflict("The account could not be created; try again".into()))
    }

    async fn create_invited_user(
        &self,
        email: &str,
        email_normalized: &str,
        password_hash: &str,
        invite_hash: &str,
        now: Timestamp,
    ) -> StorageResult<Option<User>> {
        let id = Uuid::now_v7();
        self.writer
            .transaction(async |tx| {
                use sqlx::Row;
                let created = sqlx::query(CREATE_USER)
                    .bind(id)
                    .bind(email)
                    .bind(email_normalized)
                    .bind(password_hash)
                    .bind(micros(now))
                    .fetch_one(&mut **tx)
                    .await;
                let is_admin: bool = match created {
                    Ok(row) => row.try_get("is_admin")?,
                    Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                        return Err(email_taken());
                    }
                    Err(err) => return Err(err.into()),
                };
                // Dropped without a commit when the invite is not usable: no account either.
                let used = sqlx::query(USE_INVITE)
                    .bind(micros(now))
                    .bind(invite_hash)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                if DB::rows_affected(&used) == 0 {
                    return Ok(None);
                }
                tx.commit().await?;
                Ok(Some(User { id, email: email.to_owned(), created_at: now, is_admin }))
            })
            .await
    }

    async fn user_credentials(&self, email_normalized: &str) -> StorageResult<Option<UserCredentials>> {
        use sqlx::Row;
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email_normalized = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email_normalized)
            .fetch_optional(&mut *self.read_connection().await?)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(UserCredentials {
            user: Self::decode_user(&row)?,
            password_hash: row.try_get("password_hash")?,
        }))
    }

    async fn user_by_id(&self, id: Uuid) -> StorageResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.read_connection().await?)
            .await?;
        Ok(row.as_ref().map(Self::decode_user).transpose()?)
    }

    async fn user_exists(&self, id: Uuid) -> StorageResult<bool> {
        if self.known_users.is_known(id) {
            return Ok(true);
        }
        let found = sqlx::query("SELECT 1 FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.read_connection().await?)
            .await?
            .is_some();
        if found {
            self.known_users.found(id);
        }
        Ok(found)
    }

    async fn list_users(&self) -> StorageResult<Vec<UserSummary>> {
        use sqlx::Row;
        let sql = format!(
            "SELECT {USER_COLUMNS}, (SELECT COUNT(*) FROM tasks WHERE tasks.user_id = users.id) AS tasks \
             FROM users ORDER BY created_at, id"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *self.read_connection().await?).await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            users.push(UserSummary { user: Self::decode_user(row)?, tasks: row.try_get("tasks")? });
        }
        Ok(users)
    }

    async fn change_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep: Option<Uuid>,
        now: Timestamp,
    ) -> StorageResult<bool> {
        let changed = self
            .writer
            .transaction(async |tx| {
                let updated =
                    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                        .bind(password_hash)
                        .bind(micros(now))
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                if DB::rows_affected(&updated) == 0 {
                    return Ok::<_, StorageError>(false);
                }
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                    .bind(id)
                    .bind(keep.unwrap_or(Uuid::nil()))
                    .execute(&mut **tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            })
            .await?;
        self.known_sessions.forget_owner(id);
        Ok(changed)
    }

    async fn delete_user(&self, id: Uuid) -> StorageResult<bool> {
        let deleted = self
            .writer
            .transaction(async |tx| {
                let mut removed = 0;
                for sql in DELETE_USER_STATEMENTS {
                    removed = DB::rows_affected(&sqlx::query(*sql).bind(id).execute(&mut **tx).await?);
                }
                tx.commit().await?;
                Ok::<_, StorageError>(removed > 0)
            })
            .await?;
        self.known_users.forget(id);
        self.known_sessions.forget_owner(id);
        self.known_tokens.forget_owner(id);
        Ok(deleted)
    }
}

#[async_trait::async_trait]
impl<DB> Invites for SqlStorage<DB>
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
    async fn create_invite(
        &self,
        code_hash: &str,
        created_by: Option<Uuid>,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StorageResult<()> {
        let statement = sqlx::query(
            "INSERT INTO invites (code_hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(code_hash)
        .bind(created_by)
        .bind(micros(now))
        .bind(micros(expires_at));
        self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(())
    }

    async fn invite_is_usable(&self, code_hash: &str, now: Timestamp) -> StorageResult<bool> {
        Ok(sqlx::query("SELECT 1 FROM invites WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(code_hash)
            .bind(micros(now))
            .fetch_optional(&mut *self.read_connection().await?)
            .await?
            .is_some())
    }
}

/// Whether an insert lost the race to be the first account (the `users_one_admin` index).
fn is_second_admin(err: &dyn sqlx::error::DatabaseError) -> bool {
    err.is_unique_violation()
        && (err.constraint() == Some("users_one_admin") || err.message().contains("users.is_admin"))
}
