use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts events (failed sign-ins, sign-ups) per key in a sliding window, so each key can be
/// held to a limit of its own.
pub struct Throttle {
    window: Duration,
    events: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Most distinct keys kept before the ones with no event in the window are dropped.
const MAX_KEYS: usize = 100_000;

impl Throttle {
    pub fn new(window: Duration) -> Self {
        Self { window, events: Mutex::new(HashMap::new()) }
    }

    /// Seconds until every key is under its limit again, when one of `limits` (key, most
    /// events in the window; 0 = no limit) has been reached.
    pub fn blocked_for(&self, limits: &[(&str, u32)]) -> Option<u64> {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        limits
            .iter()
            .filter(|(_, limit)| *limit > 0)
            .filter_map(|(key, limit)| {
                let times = events.get_mut(*key)?;
                times.retain(|at| now.duration_since(*at) < self.window);
                let count = u32::try_from(times.len()).unwrap_or(u32::MAX);
                (count >= *limit).then(|| {
                    // The window must pass over the oldest events until one fewer than the limit
                    // is left.
                    let frees_a_place = times[times.len() - *limit as usize];
                    self.window.saturating_sub(now.duration_since(frees_a_place)).as_secs().max(1)
                })
            })
            .max()
    }

    pub fn record(&self, keys: &[&str]) {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if events.len() > MAX_KEYS {
            // Bound memory under a spray of random keys: drop keys with no recent event.
            events.retain(|_, times| times.last().is_some_and(|at| now.duration_since(*at) < self.window));
        }
        for key in keys {
            events.entry((*key).to_owned()).or_default().push(now);
        }
    }

    pub fn forget(&self, key: &str) {
        let mut events = self.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        events.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Throttle;

    #[test]
    fn each_key_is_held_to_its_own_limit() {
        let throttle = Throttle::new(Duration::from_secs(900));
        let limits = [("pair:a@1", 3), ("addr:1", 5)];
        for _ in 0..3 {
            assert!(throttle.blocked_for(&limits).is_none());
            throttle.record(&["pair:a@1", "addr:1"]);
        }
        assert!(throttle.blocked_for(&limits).is_some(), "the pair reached its limit");
        assert!(throttle.blocked_for(&[("pair:b@1", 3), ("addr:1", 5)]).is_none(), "another account");
        throttle.record(&["pair:b@1", "addr:1"]);
        throttle.record(&["pair:c@1", "addr:1"]);
        assert!(throttle.blocked_for(&[("pair:d@1", 3), ("addr:1", 5)]).is_some(), "the address's ceiling");
        assert!(throttle.blocked_for(&[("pair:d@2", 3), ("addr:2", 5)]).is_none(), "another address");
        assert!(throttle.blocked_for(&[("addr:1", 0)]).is_none(), "0 is no limit");
        throttle.forget("addr:1");
        assert!(throttle.blocked_for(&[("addr:1", 5)]).is_none());
    }
}
