use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts failed sign-ins per key (account and client address) in a sliding
/// window, so password guessing is slowed per account and per source.
pub struct SignInThrottle {
    max_failures: u32,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl SignInThrottle {
    pub fn new(max_failures: u32) -> Self {
        Self { max_failures, failures: Mutex::new(HashMap::new()) }
    }

    /// Seconds until the earliest of `keys` may try again, if any is blocked.
    pub fn blocked_for(&self, keys: &[&str]) -> Option<u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.iter()
            .filter_map(|key| {
                let attempts = failures.get_mut(*key)?;
                attempts.retain(|at| now.duration_since(*at) < WINDOW);
                (attempts.len() as u32 >= self.max_failures).then(|| {
                    let oldest = attempts.first().copied().unwrap_or(now);
                    WINDOW.saturating_sub(now.duration_since(oldest)).as_secs().max(1)
                })
            })
            .max()
    }

    pub fn record_failure(&self, keys: &[&str]) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() > 100_000 {
            // Bound memory under a spray of random keys: drop entries with no recent failure.
            failures.retain(|_, attempts| attempts.last().is_some_and(|at| now.duration_since(*at) < WINDOW));
        }
        for key in keys {
            failures.entry((*key).to_owned()).or_default().push(now);
        }
    }

    pub fn record_success(&self, account_key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.remove(account_key);
    }
}

#[cfg(test)]
mod tests {
    use super::SignInThrottle;

    #[test]
    fn blocks_after_the_limit_per_key() {
        let throttle = SignInThrottle::new(3);
        for _ in 0..3 {
            assert!(throttle.blocked_for(&["acct:a", "ip:1"]).is_none());
            throttle.record_failure(&["acct:a", "ip:1"]);
        }
        assert!(throttle.blocked_for(&["acct:a"]).is_some());
        assert!(throttle.blocked_for(&["ip:1"]).is_some());
        assert!(throttle.blocked_for(&["acct:b", "ip:2"]).is_none());
        throttle.record_success("acct:a");
        assert!(throttle.blocked_for(&["acct:a"]).is_none());
    }
}
