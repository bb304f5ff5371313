//! Accounts (`auth::Accounts`) on SQLite.

use jiff::Timestamp;
use uuid::Uuid;

use super::SqliteStorage;
use crate::auth::{Accounts, User, UserCredentials};
use crate::persistence::{StorageError, StorageResult};
use crate::storage::{from_micros, micros};

#[async_trait::async_trait]
impl Accounts for SqliteStorage {
    async fn create_user(
        &self,
        email: &str,
        email_normalized: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StorageResult<User> {
        let id = Uuid::now_v7();
        let statement = sqlx::query(
            "INSERT INTO users (id, email, email_normalized, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(id)
        .bind(email)
        .bind(email_normalized)
        .bind(password_hash)
        .bind(micros(now));
        let result = self.writer.write(async |connection| statement.execute(connection).await).await;
        match result {
            Ok(_) => Ok(User { id, email: email.to_owned(), created_at: now }),
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                Err(StorageError::Conflict("Email already registered".into()))
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn user_credentials(&self, email_normalized: &str) -> StorageResult<Option<UserCredentials>> {
        use sqlx::Row;
        let row =
            sqlx::query("SELECT id, email, password_hash, created_at FROM users WHERE email_normalized = $1")
                .bind(email_normalized)
                .fetch_optional(&mut *self.read_connection().await?)
                .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(UserCredentials {
            user: User {
                id: row.try_get("id")?,
                email: row.try_get("email")?,
                created_at: from_micros(row.try_get("created_at")?)?,
            },
            password_hash: row.try_get("password_hash")?,
        }))
    }

    async fn user_by_id(&self, id: Uuid) -> StorageResult<Option<User>> {
        use sqlx::Row;
        let row = sqlx::query("SELECT id, email, created_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.read_connection().await?)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(User {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            created_at: from_micros(row.try_get("created_at")?)?,
        }))
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

    async fn delete_user(&self, id: Uuid) -> StorageResult<bool> {
        let statement = sqlx::query("DELETE FROM users WHERE id = $1").bind(id);
        let result = self.writer.write(async |connection| statement.execute(connection).await).await?;
        self.known_users.forget(id);
        Ok(result.rows_affected() > 0)
    }
}
