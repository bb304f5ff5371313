//! Work the server does on its own: sending due reminders, pruning the live event log,
//! dropping ended rate-limit windows and expired sessions. One task per process, started by
//! [`crate::serve`] and stopped with it. Every replica runs it; claiming a reminder is atomic in
//! the database, so each reminder is announced once across replicas.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::events::kind;
use crate::persistence::StorageResult;

/// Reminders claimed per query; more are taken on the next pass.
const REMINDER_BATCH: u32 = 200;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassOutcome {
    pub reminders_sent: u64,
    pub events_pruned: u64,
    pub rate_counters_pruned: u64,
    pub sessions_pruned: u64,
}

/// Runs a pass every `reminder_interval_secs` until the app shuts down.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = Duration::from_secs(state.config.reminder_interval_secs.max(1));
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = state.shutdown.cancelled() => break,
                _ = ticks.tick() => {}
            }
            // A database outage only delays the work to the next pass.
            if let Err(err) = run_pass(&state, state.clock.now()).await {
                tracing::warn!(error = %err, "background pass failed; retrying on the next one");
            }
        }
    })
}

/// Announces every reminder due at `now`, prunes events older than the retention, drops the
/// rate-limit counters whose window has ended and the sessions that have expired.
pub async fn run_pass(state: &AppState, now: Timestamp) -> StorageResult<PassOutcome> {
    let reminders_sent = send_due_reminders(state, now).await?;
    let retention = SignedDuration::from_hours(i64::from(state.config.event_retention_hours));
    let cutoff = now.checked_sub(retention).unwrap_or(Timestamp::MIN);
    let events_pruned = state.repos.events.prune_events(cutoff).await?;
    let rate_counters_pruned = state.repos.rate_counters.prune_rate_counters(now).await?;
    let sessions_pruned = state.repos.sessions.prune_sessions(now).await?;
    Ok(PassOutcome { reminders_sent, events_pruned, rate_counters_pruned, sessions_pruned })
}

async fn send_due_reminders(state: &AppState, now: Timestamp) -> StorageResult<u64> {
    let mut sent = 0;
    loop {
        let due = state.repos.tasks.due_reminders(now, REMINDER_BATCH).await?;
        let batch_len = due.len();
        let mut claimed = 0;
        for (user, task) in due {
            // Only the caller that flips the flag announces it: once, across replicas.
            if state.repos.tasks.mark_reminder_sent(task.id).await? {
                let data = json!({
                    "task_id": task.id,
                    "number": task.number,
                    "title": task.title,
                    "due_at": task.due_at,
                });
                state.events.publish(user, kind::REMINDER_DUE, data).await;
                claimed += 1;
            }
        }
        sent += claimed;
        if batch_len < REMINDER_BATCH as usize || claimed == 0 {
            return Ok(sent);
        }
    }
}
