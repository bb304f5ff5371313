//! The repositories on SQLite.

mod accounts;
mod chat;
mod claims;
mod counters;
mod events;
mod sessions;
mod tasks;
mod tokens;

use std::sync::Arc;

use crate::persistence::{Backend, StorageResult};
use crate::storage::known_users::KnownUsers;
use crate::storage::patient_pool::PatientPool;
use crate::storage::writer::Writer;

/// Reads use `pool`; every statement that writes uses `writer` (one
/// connection on SQLite, the same pool on PostgreSQL). Both wait out a busy pool.
#[derive(Clone)]
pub struct SqliteStorage {
    pub(in crate::storage) pool: PatientPool<sqlx::Sqlite>,
    pub(in crate::storage) writer: Writer<sqlx::Sqlite>,
    pub(in crate::storage) known_users: Arc<KnownUsers>,
    /// Sessions found live a moment ago (by id, with their account).
    pub(in crate::storage) known_sessions: Arc<KnownUsers>,
    /// Access tokens found active a moment ago (by id, with their account).
    pub(in crate::storage) known_tokens: Arc<KnownUsers>,
}

impl SqliteStorage {
    pub fn new(pool: PatientPool<sqlx::Sqlite>, writer: Writer<sqlx::Sqlite>) -> Self {
        Self {
            pool,
            writer,
            known_users: Arc::default(),
            known_sessions: Arc::default(),
            known_tokens: Arc::default(),
        }
    }

    /// A connection for one read; it waits out a busy pool, as writes do.
    pub(in crate::storage) async fn read_connection(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>, sqlx::Error> {
        self.pool.acquire().await
    }
}

#[async_trait::async_trait]
impl crate::persistence::Database for SqliteStorage {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1").execute(self.pool.inner()).await?;
        Ok(())
    }
}
