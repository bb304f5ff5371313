//! Where the server reads the time. Held in [`crate::AppState`] and handed to the services, the
//! tools, the background pass and the handlers that need "now"; storage is given the time as a
//! parameter and never reads a clock for task, token or event writes.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// The system clock, or, in tests, a clock that stands still until it is set.
///
/// Times are at the precision the database keeps (microseconds), so what a write returns equals
/// what a later read returns. Clones share the time: setting a test clock moves every holder.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None` for the system clock.
    manual: Option<Arc<Mutex<Timestamp>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that reads `at` until [`set`](Self::set) or [`advance`](Self::advance) moves it.
    pub fn manual(at: Timestamp) -> Self {
        Self { manual: Some(Arc::new(Mutex::new(to_micros(at)))) }
    }

    /// The current time, to the microsecond.
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            None => to_micros(Timestamp::now()),
            Some(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Sets a manual clock to `at`.
    ///
    /// # Panics
    /// On the system clock, which cannot be set.
    pub fn set(&self, at: Timestamp) {
        let manual = self.manual.as_ref().expect("only a manual clock can be set");
        *manual.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = to_micros(at);
    }

    /// Moves a manual clock on by `by`.
    ///
    /// # Panics
    /// On the system clock, which cannot be set.
    pub fn advance(&self, by: SignedDuration) {
        self.set(self.now() + by);
    }
}

fn to_micros(at: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_reads_microseconds_and_moves() {
        let clock = Clock::system();
        let first = clock.now();
        assert_eq!(first.subsec_nanosecond() % 1000, 0);
        assert!(clock.now() >= first);
        assert!(Timestamp::now().duration_since(first) < SignedDuration::from_secs(60));
    }

    #[test]
    fn a_manual_clock_stands_still_until_set_and_clones_share_it() {
        let start: Timestamp = "2026-03-01T12:00:00.123456789Z".parse().unwrap();
        let clock = Clock::manual(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), "2026-03-01T12:00:00.123456Z".parse::<Timestamp>().unwrap());
        assert_eq!(clock.now(), clock.now());
        shared.advance(SignedDuration::from_mins(5));
        assert_eq!(clock.now(), "2026-03-01T12:05:00.123456Z".parse::<Timestamp>().unwrap());
        clock.set("2027-01-01T00:00:00Z".parse().unwrap());
        assert_eq!(shared.now(), "2027-01-01T00:00:00Z".parse::<Timestamp>().unwrap());
    }

    #[test]
    #[should_panic(expected = "only a manual clock can be set")]
    fn the_system_clock_cannot_be_set() {
        Clock::system().set(Timestamp::UNIX_EPOCH);
    }
}
