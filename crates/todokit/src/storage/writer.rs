//! Writes, one at a time where the database needs it.
//!
//! SQLite allows one writer at a time, and its busy handler is unfair: a
//! waiting writer sleeps and retries, and on a busy machine can miss the lock
//! until its timeout runs out. So on SQLite every write first takes a turn
//! from an in-process FIFO semaphore, and only then a connection. PostgreSQL
//! handles concurrent writers itself: there the turn is a no-op.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool, Transaction};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug)]
pub struct Writer<DB: Database> {
    pool: Pool<DB>,
    turns: Option<Arc<Semaphore>>,
}

impl<DB: Database> Clone for Writer<DB> {
    fn clone(&self) -> Self {
        Self { pool: self.pool.clone(), turns: self.turns.clone() }
    }
}

impl<DB: Database> Writer<DB> {
    /// Writers queue for one turn at a time.
    pub fn one_at_a_time(pool: Pool<DB>) -> Self {
        Self { pool, turns: Some(Arc::new(Semaphore::new(1))) }
    }

    /// Writers run concurrently (the database orders them).
    pub fn concurrent(pool: Pool<DB>) -> Self {
        Self { pool, turns: None }
    }

    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        match &self.turns {
            // The semaphore is never closed.
            Some(turns) => turns.clone().acquire_owned().await.ok(),
            None => None,
        }
    }

    /// A connection for one autocommit write statement.
    pub async fn acquire(&self) -> Result<WriteConnection<DB>, sqlx::Error> {
        let turn = self.turn().await;
        Ok(WriteConnection { connection: self.pool.acquire().await?, _turn: turn })
    }

    /// A transaction opened with `statement` (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self, statement: &'static str) -> Result<WriteTransaction<DB>, sqlx::Error> {
        let turn = self.turn().await;
        Ok(WriteTransaction { tx: self.pool.begin_with(statement).await?, _turn: turn })
    }
}

/// A pooled connection held for the length of the writer's turn.
pub struct WriteConnection<DB: Database> {
    // Fields drop in order: the connection goes back before the turn ends.
    connection: PoolConnection<DB>,
    _turn: Option<OwnedSemaphorePermit>,
}

impl<DB: Database> Deref for WriteConnection<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &Self::Target {
        &self.connection
    }
}

impl<DB: Database> DerefMut for WriteConnection<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.connection
    }
}

/// A write transaction; the turn ends when it commits or is dropped.
pub struct WriteTransaction<DB: Database> {
    // Fields drop in order: an uncommitted transaction rolls back first.
    tx: Transaction<'static, DB>,
    _turn: Option<OwnedSemaphorePermit>,
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
