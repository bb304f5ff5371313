//! The repositories written once for both backends, generic over the sqlx driver: SQLite
//! accepts PostgreSQL's `$n` placeholders, and the schema keeps to types both understand
//! (UUID, BIGINT microseconds, TEXT JSON). What differs is a statement or two per repository,
//! which each backend gives as its [`Dialect`].
//!
//! Every generic implementation carries the same `where` list (see [`SqlStorage`]): Rust does
//! not carry a trait's `where` clauses to its users, so it cannot be named once.

mod account_data;
mod accounts;
mod calendar_feeds;
mod chat;
mod checkpoints;
mod claims;
mod counters;
mod events;
mod sessions;
mod tasks;
mod tokens;

use std::sync::Arc;

use crate::storage::known_users::KnownUsers;
use crate::storage::patient_pool::PatientPool;
use crate::storage::writer::Writer;
pub(in crate::storage) use events::EventAppender;

/// The repositories on one database. Reads use `pool`; every statement that writes uses
/// `writer` (one connection at a time on SQLite, the same pool on PostgreSQL). Both wait out a
/// busy pool.
///
/// Its generic implementations require, of the driver `DB`:
/// ```text
/// DB: Dialect,
/// for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
/// DB::Arguments: sqlx::IntoArguments<DB>,
/// Uuid: Value<DB>, i64: Value<DB>, bool: Value<DB>, String: Value<DB>,
/// Option<i64>: Value<DB>, Option<String>: Value<DB>, Option<Uuid>: Value<DB>,
/// for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
/// for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB> + sqlx::ColumnIndex<DB::Row>,
/// usize: sqlx::ColumnIndex<DB::Row>,
/// ```
pub struct SqlStorage<DB: sqlx::Database> {
    pub(in crate::storage) pool: PatientPool<DB>,
    pub(in crate::storage) writer: Writer<DB>,
    pub(in crate::storage) known_users: Arc<KnownUsers>,
    /// Sessions found live a moment ago (by id, with their account).
    pub(in crate::storage) known_sessions: Arc<KnownUsers>,
    /// Access tokens found active a moment ago (by id, with their account).
    pub(in crate::storage) known_tokens: Arc<KnownUsers>,
}

impl<DB: sqlx::Database> Clone for SqlStorage<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            writer: self.writer.clone(),
            known_users: self.known_users.clone(),
            known_sessions: self.known_sessions.clone(),
            known_tokens: self.known_tokens.clone(),
        }
    }
}

impl<DB: sqlx::Database> SqlStorage<DB> {
    pub fn new(pool: PatientPool<DB>, writer: Writer<DB>) -> Self {
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
    ) -> Result<sqlx::pool::PoolConnection<DB>, sqlx::Error> {
        self.pool.acquire().await
    }
}

/// The statements one backend writes its own way, and what its driver does not share.
pub trait Dialect: sqlx::Database {
    /// Inserts a task numbered from its owner's sequence, in one statement: binds the columns
    /// in `task_columns!` order (all but `number`), then `user_id` ($19), `priority_rank`,
    /// `search_text`; returns `number`.
    const INSERT_NEW_TASK: &'static str;
    /// What a read inside a write transaction adds to hold its rows until commit, so a
    /// concurrent update cannot land between the read and the write built from it.
    const LOCK_ROWS: &'static str;
    /// A new thread ($1–$8, as `INSERT_THREAD`) and its first item ($9–$12: id, type, data,
    /// created) in one statement; an id that exists already fails the whole statement.
    const START_THREAD: &'static str;
    /// The same with the reply's claim ($13–$16), where the backend keeps claims.
    const START_CLAIMED_THREAD: Option<&'static str>;
    /// `INSERT_THREAD` with the reply's claim ($9–$12), where the backend keeps claims.
    const INSERT_CLAIMED_THREAD: Option<&'static str>;

    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// A Rust type the driver binds and reads back as itself.
pub trait Value<DB: sqlx::Database>:
    for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>
{
}

impl<DB: sqlx::Database, T> Value<DB> for T where
    T: for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>
{
}
