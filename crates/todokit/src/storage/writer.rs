//! Writes, one at a time where the database needs it.
//!
//! SQLite allows one writer at a time, and its busy handler is unfair: a
//! waiting writer sleeps and retries, and on a busy machine can miss the lock
//! until its timeout runs out. So on SQLite every write first takes a turn
//! in-process, first come first served. PostgreSQL handles concurrent writers
//! itself: there the turn is a no-op.
//!
//! A write, like a read, waits out a busy pool (`super::patient_pool`) instead of failing at
//! the pool's acquire timeout.
//!
//! On SQLite the turn also holds the connection single-statement writes use, taken from the
//! pool once and kept: sqlx pings a connection every time it goes back to the pool (on SQLite a
//! round trip to the connection's thread), which doubled the hand-offs of every write and held
//! the next writer back. Transactions (rare) still take a pooled connection, in their turn.
//!
//! A write that starts a reply (the new thread `thread.created` announces) goes ahead of the
//! queue: it waits for the write in progress and at most one more, not for every queued write
//! of every other reply. It is the reply's first sign of life, and under load the queue is
//! most of its latency (measured: ~11 ms of waiting on average at 32 replies at once).
//!
//! The one rule: never wait for a second write while holding a turn — nor,
//! in a loop that drives a stream, wait for a write while the stream's
//! producer (which may be suspended holding a turn) is not being polled
//! (see `chat::runs`, which queues `run.started` without waiting for it).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Database, SqlSafeStr, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard, Semaphore};

use super::patient_pool::PatientPool;

#[derive(Debug)]
pub struct Writer<DB: Database> {
    pool: PatientPool<DB>,
    turns: Option<Arc<Turns<DB>>>,
}

/// One write at a time: ordinary writes in the order they came, writes that go ahead before them.
#[derive(Debug)]
struct Turns<DB: Database> {
    /// Held by the write in progress (tokio's mutex is first come, first served), with the
    /// connection kept for single statements once the first one took it from the pool.
    current: Arc<Mutex<Option<PoolConnection<DB>>>>,
    /// Ordinary writes queue here first, so that only one of them at a time waits for `current`
    /// and a write going ahead finds at most that one before it.
    line: Semaphore,
}

type Turn<DB> = OwnedMutexGuard<Option<PoolConnection<DB>>>;

impl<DB: Database> Clone for Writer<DB> {
    fn clone(&self) -> Self {
        Self { pool: self.pool.clone(), turns: self.turns.clone() }
    }
}

impl<DB: Database> Writer<DB> {
    /// Writers queue for one turn at a time.
    pub fn one_at_a_time(pool: PatientPool<DB>) -> Self {
        Self {
            pool,
            turns: Some(Arc::new(Turns { current: Arc::new(Mutex::new(None)), line: Semaphore::new(1) })),
        }
    }

    /// Writers run concurrently (the database orders them).
    pub fn concurrent(pool: PatientPool<DB>) -> Self {
        Self { pool, turns: None }
    }

    /// The line's semaphore is never closed, so acquiring it does not fail.
    async fn turn(&self, order: Order) -> Option<Turn<DB>> {
        let turns = self.turns.as_ref()?;
        let _place_in_line = match order {
            Order::InLine => Some(turns.line.acquire().await.ok()?),
            Order::Ahead => None,
        };
        Some(turns.current.clone().lock_owned().await)
    }

    /// A connection for one autocommit write statement.
    pub async fn acquire(&self) -> Result<WriteConnection<DB>, sqlx::Error> {
        self.acquire_in(Order::InLine).await
    }

    /// Like [`Writer::acquire`], ahead of the queued writes: for the write that starts a reply.
    pub async fn acquire_ahead(&self) -> Result<WriteConnection<DB>, sqlx::Error> {
        self.acquire_in(Order::Ahead).await
    }

    async fn acquire_in(&self, order: Order) -> Result<WriteConnection<DB>, sqlx::Error> {
        match self.turn(order).await {
            Some(mut turn) => {
                if turn.is_none() {
                    *turn = Some(self.pool.acquire().await?);
                }
                Ok(WriteConnection::Kept(turn))
            }
            None => Ok(WriteConnection::Pooled(self.pool.acquire().await?)),
        }
    }

    /// A transaction opened with `statement` (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self, statement: &'static str) -> Result<WriteTransaction<DB>, sqlx::Error> {
        let turn = self.turn(Order::InLine).await;
        let tx = Transaction::begin(self.pool.acquire().await?, Some(statement.into_sql_str())).await?;
        Ok(WriteTransaction { tx, _turn: turn })
    }
}

#[derive(Debug, Clone, Copy)]
enum Order {
    InLine,
    Ahead,
}

/// A connection for one write: the writer's own for the length of its turn, or a pooled one.
pub enum WriteConnection<DB: Database> {
    Kept(Turn<DB>),
    Pooled(PoolConnection<DB>),
}

impl<DB: Database> Deref for WriteConnection<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &Self::Target {
        match self {
            Self::Kept(turn) => turn.as_ref().expect("a kept turn holds its connection"),
            Self::Pooled(connection) => connection,
        }
    }
}

impl<DB: Database> DerefMut for WriteConnection<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Self::Kept(turn) => turn.as_mut().expect("a kept turn holds its connection"),
            Self::Pooled(connection) => connection,
        }
    }
}

/// A write transaction; the turn ends when it commits or is dropped.
pub struct WriteTransaction<DB: Database> {
    // Fields drop in order: an uncommitted transaction rolls back first.
    tx: Transaction<'static, DB>,
    _turn: Option<Turn<DB>>,
}

impl<DB: Database> WriteTransaction<DB> {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl<DB: Database> Deref for WriteTransaction<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: Database> DerefMut for WriteTransaction<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use super::*;
    use crate::storage::patient_pool::{self, PatientPool};

    /// A new database file in `dir`.
    fn database_in(dir: &tempfile::TempDir) -> SqliteConnectOptions {
        SqliteConnectOptions::new().filename(dir.path().join("writes.db")).create_if_missing(true)
    }

    /// Others holding the pool's connections in turn, longer in all than its acquire timeout:
    /// the write waits for its turn instead of failing.
    #[tokio::test]
    async fn a_write_waits_out_a_busy_pool_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let pool = patient_pool::tests::pool_of_one(&dir).await;
        let writer = Writer::concurrent(pool.clone());
        let write = async move { writer.begin("BEGIN").await?.commit().await };
        let written = patient_pool::tests::while_busy_past_the_timeout(&pool, write).await;
        written.expect("the write goes through in its turn");
    }

    /// A write that goes ahead waits for the write in progress and the one next in line only.
    #[tokio::test]
    async fn a_write_going_ahead_passes_the_queued_writes() {
        let dir = tempfile::tempdir().unwrap();
        let options = database_in(&dir);
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
        let writer = Writer::one_at_a_time(PatientPool::new(pool));
        let finished = Arc::new(std::sync::Mutex::new(Vec::new()));
        let in_progress = writer.acquire().await.unwrap();

        let mut writes = Vec::new();
        for name in ["queued 1", "queued 2", "queued 3", "ahead"] {
            let (writer, finished) = (writer.clone(), finished.clone());
            writes.push(tokio::spawn(async move {
                let connection =
                    if name == "ahead" { writer.acquire_ahead().await } else { writer.acquire().await };
                finished.lock().unwrap().push(name);
                drop(connection);
            }));
            // Each write is waiting for its turn before the next one comes (current-thread runtime).
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
        }
        assert!(finished.lock().unwrap().is_empty());
        drop(in_progress);
        for write in writes {
            write.await.unwrap();
        }
        assert_eq!(*finished.lock().unwrap(), ["queued 1", "ahead", "queued 2", "queued 3"]);
    }

    /// Single statements share the writer's own connection instead of taking one from the pool
    /// and giving it back (each return pings it): a TEMP table, which only the connection that
    /// made it sees, is still there for the next write.
    #[tokio::test]
    async fn single_statements_keep_one_connection_out_of_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let options = database_in(&dir);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.unwrap();
        // Four idle connections: the pool hands out the one idle longest.
        let opened: Vec<_> = futures::future::join_all((0..4).map(|_| pool.acquire())).await;
        drop(opened);
        while pool.num_idle() < 4 {
            tokio::task::yield_now().await;
        }
        let writer = Writer::one_at_a_time(PatientPool::new(pool.clone()));
        sqlx::query("CREATE TEMP TABLE made_here (n INTEGER)")
            .execute(&mut *writer.acquire().await.unwrap())
            .await
            .unwrap();
        for n in 0..3 {
            sqlx::query("INSERT INTO made_here (n) VALUES ($1)")
                .bind(n)
                .execute(&mut *writer.acquire_ahead().await.unwrap())
                .await
                .expect("the next write runs on the same connection");
        }
        assert_eq!(pool.num_idle(), 3, "the writer keeps its connection");
    }

    /// With no busy timeout at all, SQLite refuses a second concurrent writer
    /// at once (SQLITE_BUSY); writers that take turns never meet.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_writers_take_turns_instead_of_failing_busy() {
        let dir = tempfile::tempdir().unwrap();
        let options = database_in(&dir).journal_mode(SqliteJournalMode::Wal).busy_timeout(Duration::ZERO);
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)").execute(&pool).await.unwrap();
        let writer = Writer::one_at_a_time(PatientPool::new(pool.clone()));

        let tasks: Vec<_> = (0..32_i64)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    let mut tx = writer.begin("BEGIN IMMEDIATE").await?;
                    sqlx::query("INSERT INTO t (n) VALUES ($1)").bind(n).execute(&mut *tx).await?;
                    // Hold the turn across an await, as real transactions do.
                    tokio::task::yield_now().await;
                    tx.commit().await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&pool).await.unwrap();
        assert_eq!(rows, 32);
    }
}
