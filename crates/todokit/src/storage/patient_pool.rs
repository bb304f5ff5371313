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
//! false in a burst (measured: 960 of 10,000 streams failed that way on PostgreSQL). A database
//! that stopped answering hands out no connection for a whole acquire timeout: dead ones fail
//! their check and new ones fail to open.
//!
//! A burst is logged where it starts and where it ends, not once per statement: sqlx's own
//! warning for every slow acquire is turned off in `storage::connect_*` (it wrote 16,000 lines
//! in one 10,000-stream burst).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};

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
    use tokio::task::JoinHandle;

    use super::*;

    /// The pool's acquire timeout in these tests: five times what a holder keeps a connection
    /// (a hand-off may stall on a loaded machine), and under half of what they keep it in turn.
    pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(200);

    /// How long each holder keeps its connection.
    const HOLD: Duration = Duration::from_millis(40);

    /// A wait for a connection longer than this is slow (logged); from the third holder on,
    /// every one waits past it.
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

    /// Ten holders queued for the pool's connections, each keeping one for [`HOLD`]: the pool is
    /// busy for twice its acquire timeout, and a connection is handed out at every turn. Call
    /// on a current-thread runtime; when it returns, the holders are in line.
    pub async fn queue_holders<DB: Database>(pool: &PatientPool<DB>) -> Vec<JoinHandle<()>> {
        let holders = (0..10)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let _held = pool.acquire().await.expect("each holder gets its turn");
                    tokio::time::sleep(HOLD).await;
                })
            })
            .collect();
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        holders
    }

    #[tokio::test]
    async fn a_statement_waits_while_others_keep_getting_connections() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool_of_one(&dir).await;
        let holders = queue_holders(&pool).await;
        // Queued behind the holders, the pool's own acquire gives up…
        let impatient = pool.inner().clone();
        let impatient = tokio::spawn(async move { impatient.acquire().await.map(drop) });
        let patient = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.acquire().await.map(drop) })
        };
        assert!(matches!(impatient.await.unwrap(), Err(sqlx::Error::PoolTimedOut)));
        // …and a patient one waits for its turn.
        patient.await.unwrap().expect("the pool was busy, not broken");
        for holder in holders {
            holder.await.unwrap();
        }
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

    /// Many statements waiting long in one burst: one warning, not one each.
    #[tokio::test]
    async fn a_burst_of_long_waits_is_logged_once() {
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
        // A current-thread runtime: every task here logs to this subscriber.
        let _logging = tracing::subscriber::set_default(subscriber);

        let dir = tempfile::tempdir().unwrap();
        let pool = pool_of_one(&dir).await;
        for holder in queue_holders(&pool).await {
            holder.await.unwrap();
        }
        let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        assert_eq!(log.matches("every database connection is in use").count(), 1, "{log}");
    }
}
