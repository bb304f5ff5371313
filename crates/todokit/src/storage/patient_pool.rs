//! Waiting out a busy pool.
//!
//! The pool's acquire timeout is there to notice a database that cannot be reached. A
//! statement that times out while the pool is merely busy — every connection open and
//! connections still being handed out, as in a burst of thousands of chat replies at once —
//! keeps waiting instead (up to [`BUSY_POOL_PATIENCE`]): a write that gave up there would lose
//! the user's change, and a read that gave up would fail the reply it belongs to, though the
//! database is answering all along.
//!
//! Busy is told from broken by progress, not by a snapshot of the pool: under load a returned
//! connection sits idle for a moment before the next waiter takes it, so "none idle" is often
//! false in a burst (see `bench/RESULTS-notes.md`, "Mechanisms and what they measured"). A database
//! that stopped answering hands out no connection for a whole acquire timeout: dead ones fail
//! their check and new ones fail to open.
//!
//! A burst is logged where it starts and where it ends, not once per statement: sqlx's own
//! warning for every slow acquire is turned off in `storage::connect_*` (one line per statement
//! flooded the log in a burst).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};
// tokio's clock (the system's, unless a test pauses it) measures the waits, as sqlx's acquire
// timeout does, so tests can run on a paused clock whatever the machine's load.
use tokio::time::Instant;

/// Longest a statement waits for a connection while the pool is busy: a burst queues, a
/// database that stopped answering still fails it.
pub const BUSY_POOL_PATIENCE: Duration = Duration::from_secs(60);

/// A pool whose statements wait out a burst. Cheap to clone; clones share its state.
#[derive(Debug)]
pub struct PatientPool<DB: Database> {
    pool: Pool<DB>,
    state: Arc<State>,
}

/// A burst has ended once no statement waited long for this long.
const QUIET_AFTER_BURST: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct State {
    /// Connections handed out so far.
    handed_out: AtomicU64,
    /// When a statement last waited longer than the pool's slow-acquire threshold, in
    /// milliseconds since `created` plus one; 0 when no burst is under way.
    last_slow_wait: AtomicU64,
    created: Instant,
}

impl State {
    /// Now, as `last_slow_wait` counts (never 0).
    fn now(&self) -> u64 {
        u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }
}

impl<DB: Database> Clone for PatientPool<DB> {
    fn clone(&self) -> Self {
        Self { pool: self.pool.clone(), state: self.state.clone() }
    }
}

impl<DB: Database> PatientPool<DB> {
    pub fn new(pool: Pool<DB>) -> Self {
        let state = State {
            handed_out: AtomicU64::new(0),
            last_slow_wait: AtomicU64::new(0),
            created: Instant::now(),
        };
        Self { pool, state: Arc::new(state) }
    }

    /// The pool itself, for what should fail at its acquire timeout (a health check).
    pub fn inner(&self) -> &Pool<DB> {
        &self.pool
    }

    /// A pooled connection; past the pool's acquire timeout, only while the pool is busy.
    pub async fn acquire(&self) -> Result<PoolConnection<DB>, sqlx::Error> {
        let waiting_since = Instant::now();
        loop {
            let handed_out_before = self.state.handed_out.load(Ordering::Relaxed);
            match self.pool.acquire().await {
                Ok(connection) => {
                    self.state.handed_out.fetch_add(1, Ordering::Relaxed);
                    self.note_wait(waiting_since.elapsed());
                    return Ok(connection);
                }
                Err(sqlx::Error::PoolTimedOut)
                    if self.is_busy(handed_out_before) && waiting_since.elapsed() < BUSY_POOL_PATIENCE =>
                {
                    self.note_wait(waiting_since.elapsed());
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Logs when statements start waiting long for a connection, and when they have stopped
    /// for a while ([`QUIET_AFTER_BURST`]: within a burst, some get one at once).
    fn note_wait(&self, waited: Duration) {
        let slow_threshold = self.pool.options().get_acquire_slow_threshold();
        if waited >= slow_threshold {
            if self.state.last_slow_wait.swap(self.state.now(), Ordering::Relaxed) == 0 {
                tracing::warn!(
                    waited_ms = waited.as_millis() as u64,
                    "every database connection is in use: statements wait for their turn (past the \
                     pool's acquire timeout if need be, for up to {BUSY_POOL_PATIENCE:?})"
                );
            }
            return;
        }
        let last_slow_wait = self.state.last_slow_wait.load(Ordering::Relaxed);
        if last_slow_wait == 0 {
            return;
        }
        let quiet = u64::try_from(QUIET_AFTER_BURST.as_millis()).unwrap_or(u64::MAX);
        if self.state.now().saturating_sub(last_slow_wait) >= quiet
            && self
                .state
                .last_slow_wait
                .compare_exchange(last_slow_wait, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::info!("database connections are handed out within {slow_threshold:?} again");
        }
    }

    /// Every connection is open, and others got one while this statement waited.
    fn is_busy(&self, handed_out_before: u64) -> bool {
        self.pool.size() >= self.pool.options().get_max_connections()
            && self.state.handed_out.load(Ordering::Relaxed) != handed_out_before
    }
}

#[cfg(test)]
pub(super) mod tests {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    use super::*;

    // No test here depends on how fast the machine is: holders hand the connection on when the
    // test says so, and the logging test runs on tokio's paused clock.

    /// The pool's acquire timeout in these tests: a window in which a hand-off the test started
    /// surely completes (a ping on SQLite's worker thread).
    pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

    /// A wait for a connection longer than this is slow (logged).
    const SLOW_ACQUIRE: Duration = Duration::from_millis(50);

    /// A pool of one SQLite connection (in `dir`) that gives up waiting for it after
    /// [`ACQUIRE_TIMEOUT`].
    pub async fn pool_of_one(dir: &tempfile::TempDir) -> PatientPool<sqlx::Sqlite> {
        let options =
            SqliteConnectOptions::new().filename(dir.path().join("busy.db")).create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .acquire_slow_threshold(SLOW_ACQUIRE)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .unwrap();
        PatientPool::new(pool)
    }

    /// Runs `statement` (which needs a connection of `pool`) while the pool stays busy past its
    /// acquire timeout, handing its one connection from one holder to another meanwhile, and
    /// returns what it returned. Call on a current-thread runtime.
    ///
    /// In line for the connection: a second holder, the statement, and a plain acquire of the
    /// pool. The first holder lets go at once, so the second holder gets the connection while
    /// the statement waits; it keeps it until the plain acquire has timed out, which is after
    /// the statement's own first wait timed out too. Only then is the statement's turn.
    pub async fn while_busy_past_the_timeout<T: Send + 'static>(
        pool: &PatientPool<sqlx::Sqlite>,
        statement: impl Future<Output = T> + Send + 'static,
    ) -> T {
        let first_holder = pool.acquire().await.unwrap();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let second_holder = {
            let pool = pool.clone();
            tokio::spawn(async move {
                let _held = pool.acquire().await.expect("the second holder gets its turn");
                let _ = released.await;
            })
        };
        let in_line = || async {
            for _ in 0..20 {
                tokio::task::yield_now().await;
            }
        };
        in_line().await;
        let statement = tokio::spawn(statement);
        in_line().await;
        let impatient = pool.inner().clone();
        let impatient = tokio::spawn(async move { impatient.acquire().await.map(drop) });
        in_line().await;
        drop(first_holder);
        assert!(
            matches!(impatient.await.unwrap(), Err(sqlx::Error::PoolTimedOut)),
            "the pool's own acquire gives up while the second holder keeps the connection"
        );
        release.send(()).unwrap();
        second_holder.await.unwrap();
        statement.await.unwrap()
    }

    #[tokio::test]
    async fn a_statement_waits_while_others_keep_getting_connections() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool_of_one(&dir).await;
        let patient = {
            let pool = pool.clone();
            async move { pool.acquire().await.map(drop) }
        };
        while_busy_past_the_timeout(&pool, patient).await.expect("the pool was busy, not broken");
    }

    /// No connection handed out for a whole acquire timeout: as for a database that stopped
    /// answering, the statement fails instead of waiting out the patience.
    #[tokio::test]
    async fn a_statement_fails_when_no_connection_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool_of_one(&dir).await;
        let _stuck = pool.acquire().await.unwrap();
        let waited = tokio::time::timeout(BUSY_POOL_PATIENCE / 2, pool.acquire()).await;
        assert!(matches!(waited, Ok(Err(sqlx::Error::PoolTimedOut))), "{waited:?}");
    }

    /// Many statements waiting long in one burst: one warning where it starts, one line where it
    /// has ended, not one each.
    #[tokio::test]
    async fn a_burst_of_long_waits_is_logged_where_it_starts_and_ends() {
        #[derive(Clone, Default)]
        struct Log(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Log {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let log = Log::default();
        let writer = log.clone();
        let subscriber =
            tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let _logging = tracing::subscriber::set_default(subscriber);
        let lines =
            |text: &str| String::from_utf8(log.0.lock().unwrap().clone()).unwrap().matches(text).count();
        let (started, ended) = ("every database connection is in use", "are handed out within");

        let dir = tempfile::tempdir().unwrap();
        let pool = pool_of_one(&dir).await;
        tokio::time::pause();
        // Within a burst, some statements wait long and some get a connection at once.
        for _ in 0..100 {
            pool.note_wait(SLOW_ACQUIRE * 3);
            pool.note_wait(Duration::ZERO);
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        assert_eq!((lines(started), lines(ended)), (1, 0));
        tokio::time::advance(QUIET_AFTER_BURST).await;
        pool.note_wait(Duration::ZERO);
        pool.note_wait(Duration::ZERO);
        assert_eq!((lines(started), lines(ended)), (1, 1));
        // The next burst is logged again.
        pool.note_wait(SLOW_ACQUIRE * 3);
        assert_eq!((lines(started), lines(ended)), (2, 1));
    }
}
