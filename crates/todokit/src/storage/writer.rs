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
//! round trip to the connection's thread), which would double the hand-offs of every write.
//! Transactions (rare) still take a pooled connection, in their turn.
//!
//! A write that starts a reply (the new thread `thread.created` announces) goes ahead of the
//! queue ([`Writer::write_ahead`]): it waits for the write in progress and at most one more, not
//! for every queued write of every other reply (its first sign of life; see
//! `bench/RESULTS-notes.md`, "Mechanisms and what they measured").
//!
//! The one rule — never wait for a second write while holding a turn — is kept by the API: a
//! turn exists only for the length of the closure given to [`Writer::write`],
//! [`Writer::write_ahead`] or [`Writer::transaction`], which gets a connection, not the turn.
//! Debug builds also panic when such a closure starts another write (on either backend, so
//! PostgreSQL runs catch what would deadlock SQLite). What the API cannot see is a loop that
//! waits for a write while a stream whose producer is inside a write is not being polled
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
    /// The statement that opens a write transaction.
    begin: &'static str,
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
        Self { pool: self.pool.clone(), turns: self.turns.clone(), begin: self.begin }
    }
}

impl<DB: Database> Writer<DB> {
    /// Writers queue for one turn at a time; transactions open with `BEGIN IMMEDIATE` (SQLite).
    pub fn one_at_a_time(pool: PatientPool<DB>) -> Self {
        Self {
            pool,
            turns: Some(Arc::new(Turns { current: Arc::new(Mutex::new(None)), line: Semaphore::new(1) })),
            begin: "BEGIN IMMEDIATE",
        }
    }

    /// Writers run concurrently (the database orders them); transactions open with `BEGIN`.
    pub fn concurrent(pool: PatientPool<DB>) -> Self {
        Self { pool, turns: None, begin: "BEGIN" }
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

    /// Runs `write` (autocommit statements) in a turn, on the writer's own connection on
    /// SQLite or a pooled one on PostgreSQL. The turn ends when `write` returns.
    pub async fn write<T, E>(
        &self,
        write: impl AsyncFnOnce(&mut DB::Connection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<sqlx::Error>,
    {
        self.write_in(Order::InLine, write).await
    }

    /// Like [`Writer::write`], ahead of the queued writes: for the write that starts a reply.
    pub async fn write_ahead<T, E>(
        &self,
        write: impl AsyncFnOnce(&mut DB::Connection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<sqlx::Error>,
    {
        self.write_in(Order::Ahead, write).await
    }

    async fn write_in<T, E>(
        &self,
        order: Order,
        write: impl AsyncFnOnce(&mut DB::Connection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<sqlx::Error>,
    {
        one_write_at_a_time_per_task(async {
            match self.turn(order).await {
                Some(mut turn) => {
                    if turn.is_none() {
                        *turn = Some(self.pool.acquire().await?);
                    }
                    write(turn.as_mut().expect("the turn holds its connection")).await
                }
                None => write(&mut *self.pool.acquire().await?).await,
            }
        })
        .await
    }

    /// Runs `body` in a write transaction, in a turn. `body` commits it
    /// ([`WriteTransaction::commit`]); one not committed when `body` returns is rolled back.
    pub async fn transaction<T, E>(
        &self,
        body: impl AsyncFnOnce(&mut WriteTransaction<DB>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<sqlx::Error>,
    {
        one_write_at_a_time_per_task(async {
            let _turn = self.turn(Order::InLine).await;
            let connection = self.pool.acquire().await?;
            let tx = Transaction::begin(connection, Some(self.begin.into_sql_str())).await?;
            // Dropped before the turn: an uncommitted transaction rolls back first.
            let mut tx = WriteTransaction { tx: Some(tx) };
            body(&mut tx).await
        })
        .await
    }
}

#[cfg(debug_assertions)]
tokio::task_local! {
    /// Set while a task runs a write's closure.
    static IN_A_WRITE: ();
}

/// Runs `write`; in debug builds, first panics if this task is inside another write's closure:
/// on SQLite the second write would wait forever for the turn the first one holds.
async fn one_write_at_a_time_per_task<F: Future>(write: F) -> F::Output {
    #[cfg(debug_assertions)]
    {
        assert!(
            IN_A_WRITE.try_with(|_| ()).is_err(),
            "a write started another write while holding its turn (on SQLite this waits forever)"
        );
        IN_A_WRITE.scope((), write).await
    }
    #[cfg(not(debug_assertions))]
    write.await
}

#[derive(Debug, Clone, Copy)]
enum Order {
    InLine,
    Ahead,
}

/// A write transaction, lent to [`Writer::transaction`]'s body.
pub struct WriteTransaction<DB: Database> {
    tx: Option<Transaction<'static, DB>>,
}

impl<DB: Database> WriteTransaction<DB> {
    pub async fn commit(&mut self) -> Result<(), sqlx::Error> {
        match self.tx.take() {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        }
    }
}

impl<DB: Database> Deref for WriteTransaction<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &Self::Target {
        self.tx.as_deref().expect("a transaction is not used after its commit")
    }
}

impl<DB: Database> DerefMut for WriteTransaction<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.tx.as_deref_mut().expect("a transaction is not used after its commit")
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
        let write = async move { writer.transaction(async |tx| tx.commit().await).await };
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
        let (end_write, write_ends) = tokio::sync::oneshot::channel::<()>();
        let in_progress = {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .write(async |_| {
                        write_ends.await.unwrap();
                        Ok::<_, sqlx::Error>(())
                    })
                    .await
                    .unwrap()
            })
        };
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }

        let mut writes = Vec::new();
        for name in ["queued 1", "queued 2", "queued 3", "ahead"] {
            let (writer, finished) = (writer.clone(), finished.clone());
            writes.push(tokio::spawn(async move {
                let note = async |_: &mut sqlx::SqliteConnection| {
                    finished.lock().unwrap().push(name);
                    Ok::<_, sqlx::Error>(())
                };
                if name == "ahead" { writer.write_ahead(note).await } else { writer.write(note).await }
                    .unwrap();
            }));
            // Each write is waiting for its turn before the next one comes (current-thread runtime).
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
        }
        assert!(finished.lock().unwrap().is_empty());
        end_write.send(()).unwrap();
        in_progress.await.unwrap();
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
        writer
            .write(async |connection| {
                sqlx::query("CREATE TEMP TABLE made_here (n INTEGER)").execute(connection).await
            })
            .await
            .unwrap();
        for n in 0..3 {
            writer
                .write_ahead(async |connection| {
                    sqlx::query("INSERT INTO made_here (n) VALUES ($1)").bind(n).execute(connection).await
                })
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
                    writer
                        .transaction(async |tx| {
                            sqlx::query("INSERT INTO t (n) VALUES ($1)").bind(n).execute(&mut **tx).await?;
                            // Hold the turn across an await, as real transactions do.
                            tokio::task::yield_now().await;
                            tx.commit().await
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&pool).await.unwrap();
        assert_eq!(rows, 32);
    }

    /// A write that starts another from inside its turn would wait forever on SQLite (the
    /// second waits for the turn the first holds). Debug builds panic instead, on either
    /// backend: here a PostgreSQL-shaped writer, whose turns never wait, still catches it.
    #[cfg(debug_assertions)]
    #[tokio::test]
    #[should_panic(expected = "a write started another write while holding its turn")]
    async fn a_write_inside_a_write_panics_in_debug_builds() {
        let dir = tempfile::tempdir().unwrap();
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(database_in(&dir)).await.unwrap();
        let writer = Writer::concurrent(PatientPool::new(pool));
        writer.write(async |_| writer.transaction(async |_| Ok::<_, sqlx::Error>(())).await).await.unwrap();
    }

    /// The same on SQLite's writer, where without the check this test would never end.
    #[cfg(debug_assertions)]
    #[tokio::test]
    #[should_panic(expected = "a write started another write while holding its turn")]
    async fn a_write_inside_a_sqlite_write_panics_instead_of_waiting_forever() {
        let dir = tempfile::tempdir().unwrap();
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(database_in(&dir)).await.unwrap();
        let writer = Writer::one_at_a_time(PatientPool::new(pool));
        writer
            .transaction(async |_| writer.write_ahead(async |_| Ok::<_, sqlx::Error>(())).await)
            .await
            .unwrap();
    }

    /// Writes one after another in one task are fine: the check is about nesting only.
    #[tokio::test]
    async fn writes_one_after_another_in_one_task_do_not_trip_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(database_in(&dir)).await.unwrap();
        let writer = Writer::one_at_a_time(PatientPool::new(pool));
        for _ in 0..3 {
            writer.write(async |_| Ok::<_, sqlx::Error>(())).await.unwrap();
            writer.transaction(async |tx| tx.commit().await).await.unwrap();
        }
    }
}
