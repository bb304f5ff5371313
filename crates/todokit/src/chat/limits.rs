//! Chat rate limits per user: a per-minute burst limit and a daily message
//! quota (UTC days). Counters live in the database, so on PostgreSQL the
//! limits hold across replicas.

use async_trait::async_trait;
use jiff::{Timestamp, ToSpan, tz::TimeZone};

use crate::persistence::StorageResult;
use crate::tasks::model::UserId;

/// A rate-limit counter: which window it counts, and when it expires.
#[derive(Debug, Clone, Copy)]
pub struct RateWindow<'a> {
    pub key: &'a str,
    pub expires_at: Timestamp,
}

/// Per-user counters of messages per window, kept in the database.
#[async_trait]
pub trait RateCounters: Send + Sync + 'static {
    /// Adds one to each of the user's rate-limit counters `windows` (its key and when it
    /// expires), in one statement, and returns their new counts in the same order.
    async fn hit_rate_counters(&self, user: UserId, windows: &[RateWindow<'_>]) -> StorageResult<Vec<i64>>;
    /// Takes one back from the user's counter `key`, for a message another limit refused.
    async fn unhit_rate_counter(&self, user: UserId, key: &str) -> StorageResult<()>;
    /// Deletes the rate-limit counters whose window ended before `now`.
    async fn prune_rate_counters(&self, now: Timestamp) -> StorageResult<u64>;
}

#[derive(Debug, Clone, Copy)]
pub struct ChatLimits {
    /// Messages per minute; 0 switches the limit off.
    pub per_minute: u32,
    /// Messages per UTC day; 0 switches the quota off.
    pub per_day: u32,
}

/// Which limit was hit and when it resets.
#[derive(Debug, Clone)]
pub struct LimitExceeded {
    pub message: String,
    pub limit: u32,
    pub resets_at: Timestamp,
    pub retry_after_secs: u64,
}

impl ChatLimits {
    /// Counts one message; `Err` when it is over a limit. Both counters are counted in one
    /// statement (two were a large share of a chat turn's cost: `bench/RESULTS-notes.md`). A
    /// message the per-minute limit refuses is taken back from the daily quota,
    /// so retrying too fast does not use it up.
    pub async fn check(
        &self,
        counters: &dyn RateCounters,
        user: UserId,
        now: Timestamp,
    ) -> StorageResult<Result<(), LimitExceeded>> {
        let minute = (self.per_minute > 0).then(|| {
            let minute = now.as_second().div_euclid(60);
            (format!("minute:{minute}"), Timestamp::from_second((minute + 1) * 60).unwrap_or(now))
        });
        let day = (self.per_day > 0).then(|| {
            let today = now.to_zoned(TimeZone::UTC).date();
            let resets_at = today
                .checked_add(1.day())
                .ok()
                .and_then(|tomorrow| tomorrow.to_zoned(TimeZone::UTC).ok())
                .map_or(now, |z| z.timestamp());
            (format!("day:{today}"), resets_at)
        });
        let windows: Vec<RateWindow> = [&minute, &day]
            .into_iter()
            .flatten()
            .map(|(key, expires_at)| RateWindow { key, expires_at: *expires_at })
            .collect();
        let mut counts = counters.hit_rate_counters(user, &windows).await?.into_iter();

        if let Some((_, resets_at)) = &minute
            && counts.next().unwrap_or(0) > i64::from(self.per_minute)
        {
            if let Some((day_key, _)) = &day {
                counters.unhit_rate_counter(user, day_key).await?;
            }
            return Ok(Err(exceeded(
                format!("Too many messages: at most {} per minute. Try again shortly.", self.per_minute),
                self.per_minute,
                *resets_at,
                now,
            )));
        }
        if let Some((_, resets_at)) = &day
            && counts.next().unwrap_or(0) > i64::from(self.per_day)
        {
            return Ok(Err(exceeded(
                format!(
                    "Daily message limit reached ({} per day). It resets at {resets_at} (UTC midnight).",
                    self.per_day
                ),
                self.per_day,
                *resets_at,
                now,
            )));
        }
        Ok(Ok(()))
    }
}

fn exceeded(message: String, limit: u32, resets_at: Timestamp, now: Timestamp) -> LimitExceeded {
    let retry_after_secs = u64::try_from(resets_at.duration_since(now).as_secs()).unwrap_or(0).max(1);
    LimitExceeded { message, limit, resets_at, retry_after_secs }
}
