//! Waiting out a busy pool.
//!
//! The pool's acquire timeout is there to notice a database that cannot be reached. A
//! statement that finds every connection of the pool open and in use — a burst of thousands
//! of chat replies at once — keeps waiting (up to [`BUSY_POOL_PATIENCE`]) instead: a write
//! that gave up there would lose the user's change, and a read that gave up would fail the
//! reply it belongs to, though the database is answering all along.

use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};

/// Longest a statement waits for a connection while the pool is busy: a burst queues, a
/// database that stopped answering still fails it.
pub const BUSY_POOL_PATIENCE: Duration = Duration::from_secs(60);

/// A pooled connection; past the pool's acquire timeout, only while the pool is busy.
pub async fn acquire<DB: Database>(pool: &Pool<DB>) -> Result<PoolConnection<DB>, sqlx::Error> {
    let waiting_since = Instant::now();
    loop {
        match pool.acquire().await {
            Err(sqlx::Error::PoolTimedOut)
                if is_busy(pool) && waiting_since.elapsed() < BUSY_POOL_PATIENCE =>
            {
                tracing::debug!("every database connection is in use; the statement keeps waiting");
            }
            acquired => return acquired,
        }
    }
}

/// Every connection is open and in use. A database that cannot be reached leaves the pool
/// short of connections instead (dead ones are dropped, new ones fail to open).
fn is_busy<DB: Database>(pool: &Pool<DB>) -> bool {
    pool.size() >= pool.options().get_max_connections() && pool.num_idle() == 0
}
