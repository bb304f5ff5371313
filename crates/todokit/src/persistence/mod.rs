//! What the repositories speak besides their own types: the error every repository returns,
//! which backend is in use, and whether the database answers.
//!
//! The repository traits live with the code that needs them (`tasks::TaskRepository`,
//! `events::EventLog`, `chat::{ChatStore, RateCounters, RunClaims}`,
//! `auth::{Accounts, AccessTokens}`); `storage` implements them on SQLite and PostgreSQL.
//! This module sits below both, so neither imports the other.

mod health;

use async_trait::async_trait;

pub use health::DbHealth;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A uniqueness rule was violated (e.g. the email is taken).
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached right now.
    #[error("{0}")]
    Unavailable(String),
    /// A domain rule refused the change, checked on the row read inside the write.
    #[error(transparent)]
    Invalid(todokit_domain::DomainError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// What a client is told while the database cannot be reached.
pub const UNAVAILABLE_MESSAGE: &str = "The database is unavailable; try again shortly";

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            Self::Unavailable(UNAVAILABLE_MESSAGE.into())
        } else {
            Self::Other(err.into())
        }
    }
}

/// Errors that say the database cannot be reached (or is restarting) rather
/// than that a query is wrong: connection and pool failures, and PostgreSQL's
/// SQLSTATE classes 08 (connection exception) and 57P (shutdown, cannot
/// connect now).
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P"))
        }
        _ => false,
    }
}

/// Whether `err`, or any error in its source chain, says the database is
/// unavailable (for errors that crossed a boxed boundary, such as the ChatKit
/// store's).
pub fn is_unavailable_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(error) = current {
        if let Some(sql) = error.downcast_ref::<sqlx::Error>()
            && is_unavailable(sql)
        {
            return true;
        }
        if let Some(StorageError::Unavailable(_)) = error.downcast_ref::<StorageError>() {
            return true;
        }
        current = error.source();
    }
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The database itself: which backend, and whether it answers.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    async fn ping(&self) -> StorageResult<()>;
}
