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
    /// The first account created is the administrator: it may create invites.
    pub is_admin: bool,
}

/// An account as the operator's `todokit user list` shows it.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub user: User,
    pub tasks: i64,
}

#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Fails with `Conflict` when the normalized email is taken. The first account is the
    /// administrator.
    async fn create_user(
        &self,
        email: &str,
        email_normalized: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StorageResult<User>;
    /// Like [`Accounts::create_user`], using up the invite whose code hashes to `invite_hash`
    /// in the same transaction: `None` (and no account) when that invite is unknown, used or
    /// expired at `now`.
    async fn create_invited_user(
        &self,
        email: &str,
        email_normalized: &str,
        password_hash: &str,
        invite_hash: &str,
        now: Timestamp,
    ) -> StorageResult<Option<User>>;
    async fn user_credentials(&self, email_normalized: &str) -> StorageResult<Option<UserCredentials>>;
    async fn user_by_id(&self, id: Uuid) -> StorageResult<Option<User>>;
    /// Whether the account exists, for authenticating a request: an account found a moment
    /// ago may be taken to still exist without asking the database (the storage's
    /// `known_users`). One removed through this repository is refused at once; one removed
    /// elsewhere (another replica) within a couple of seconds.
    async fn user_exists(&self, id: Uuid) -> StorageResult<bool>;
    /// Every account, oldest first, with how many tasks it has.
    async fn list_users(&self) -> StorageResult<Vec<UserSummary>>;
    /// Sets a new password hash and revokes every session of the user but `keep`, in one
    /// transaction. False when there is no such account.
    async fn change_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep: Option<Uuid>,
        now: Timestamp,
    ) -> StorageResult<bool>;
    /// Removes the account and everything that is its own (tasks, threads and items, events,
    /// access tokens, sessions, rate counters, invites it made, calendar feeds) in one
    /// transaction. Its sessions and tokens are refused at once through this storage.
    async fn delete_user(&self, id: Uuid) -> StorageResult<bool>;
}
