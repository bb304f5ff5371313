//! Failing fast while the database is down.
//!
//! A request that finds the database unreachable waits for the pool's acquire
//! timeout (a few seconds: a quick PostgreSQL restart is absorbed that way).
//! Once one request has seen it unavailable, [`DbHealth`] is marked down and
//! the HTTP layer answers 503 at once instead of making every request wait
//! again; a background probe pings the database and clears the mark as soon
//! as it answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Database;

/// Pause between two probes while the database is down.
const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// Whether the database was last seen unavailable. Cheap to share.
#[derive(Debug, Default)]
pub struct DbHealth {
    down: AtomicBool,
}

impl DbHealth {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Marks the database down and, unless one is running already, starts a
    /// probe that marks it up again once `database` answers a ping.
    pub fn report_down(self: &Arc<Self>, database: &Arc<dyn Database>, shutdown: &CancellationToken) {
        if self.down.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!("the database is unavailable: answering 503 at once until it is back");
        let health = self.clone();
        let database = database.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            loop {
                let answered = tokio::select! {
                    () = shutdown.cancelled() => return,
                    answered = async {
                        tokio::time::sleep(PROBE_INTERVAL).await;
                        database.ping().await.is_ok()
                    } => answered,
                };
                if answered {
                    health.down.store(false, Ordering::Release);
                    tracing::info!("the database is reachable again");
                    return;
                }
            }
        });
    }
}
