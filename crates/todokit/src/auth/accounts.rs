//! Accounts as the rest of the server sees them, and the repository that keeps them.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::persistence::StorageResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Fails with `Conflict` when the normalized email is taken.
    async fn create_user(
        &self,
        email: &str,
        email_normalized: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StorageResult<User>;
    async fn user_credentials(&self, email_normalized: &str) -> StorageResult<Option<UserCredentials>>;
    async fn user_by_id(&self, id: Uuid) -> StorageResult<Option<User>>;
    /// Whether the account exists, for authenticating a request: an account found a moment
    /// ago may be taken to still exist without asking the database (the storage's
    /// `known_users`). One removed through this repository is refused at once; one removed
    /// elsewhere (another replica) within a couple of seconds.
    async fn user_exists(&self, id: Uuid) -> StorageResult<bool>;
    async fn delete_user(&self, id: Uuid) -> StorageResult<bool>;
}
