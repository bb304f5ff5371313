//! Chat rate limits per user: a per-minute burst limit and a daily message
//! quota (UTC days). Counters live in the database, so on PostgreSQL the
//! limits hold across replicas.

use jiff::{Timestamp, ToSpan, tz::TimeZone};

use crate::storage::{DynStorage, StorageResult};
use crate::tasks::model::UserId;

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
    /// Counts one message; `Err` when it is over a limit.
    pub async fn check(
        &self,
        storage: &DynStorage,
        user: UserId,
        now: Timestamp,
    ) -> StorageResult<Result<(), LimitExceeded>> {
        if self.per_minute > 0 {
            let minute = now.as_second().div_euclid(60);
            let resets_at = Timestamp::from_second((minute + 1) * 60).unwrap_or(now);
            let count = storage.hit_rate_counter(user, &format!("minute:{minute}"), resets_at).await?;
            if count > i64::from(self.per_minute) {
                return Ok(Err(exceeded(
                    format!("Too many messages: at most {} per minute. Try again shortly.", self.per_minute),
                    self.per_minute,
                    resets_at,
                    now,
                )));
            }
        }
        if self.per_day > 0 {
            let today = now.to_zoned(TimeZone::UTC).date();
            let resets_at = today
                .checked_add(1.day())
                .ok()
                .and_then(|tomorrow| tomorrow.to_zoned(TimeZone::UTC).ok())
                .map_or(now, |z| z.timestamp());
            let count = storage.hit_rate_counter(user, &format!("day:{today}"), resets_at).await?;
            if count > i64::from(self.per_day) {
                return Ok(Err(exceeded(
                    format!(
                        "Daily message limit reached ({} per day). It resets at {resets_at} (UTC midnight).",
                        self.per_day
                    ),
                    self.per_day,
                    resets_at,
                    now,
                )));
            }
        }
        Ok(Ok(()))
    }
}

fn exceeded(message: String, limit: u32, resets_at: Timestamp, now: Timestamp) -> LimitExceeded {
    let retry_after_secs = u64::try_from(resets_at.duration_since(now).as_secs()).unwrap_or(0).max(1);
    LimitExceeded { message, limit, resets_at, retry_after_secs }
}
