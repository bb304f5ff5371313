use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;

pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 1024;

/// Checked against when a sign-in names an unknown email, so that answer takes as long as a
/// wrong password and timing does not reveal which emails exist. A hash of a random string with
/// the parameters new hashes use (a test holds them equal); fixed, so start-up does not spend
/// ~30 ms of CPU making one.
pub const UNKNOWN_ACCOUNT_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$Kh90wPqkuJSqjy6lBHH9SQ$hMRxvB6UfuCtSKCjc+6vQOo9xoKpYdL6wtgrEWjqxvY";

/// A password that meets the length rules. Never logged (`Debug` is redacted).
pub struct Password(String);

impl Password {
    pub fn parse(raw: String) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!("Password must be at least {MIN_PASSWORD_CHARS} characters"));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!("Password must be at most {MAX_PASSWORD_CHARS} characters"));
        }
        Ok(Self(raw))
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Runs argon2id hashing and verification on the blocking pool, at most
/// `limit` at a time. Each one holds about 19 MiB for its whole run, so a burst
/// of sign-ups or sign-ins must queue here rather than all allocate at once;
/// waiting callers are served in arrival order and never turned away.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    slots: Arc<Semaphore>,
    limit: usize,
    waiting: Arc<AtomicUsize>,
}

impl PasswordHasher {
    /// At most `limit` (at least 1) hashes or verifications at once.
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self { slots: Arc::new(Semaphore::new(limit)), limit, waiting: Arc::default() }
    }

    /// One at a time per CPU core: argon2 is CPU-bound, so more would only
    /// add memory, not throughput.
    pub fn per_cpu() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
    }

    /// How many may run at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Callers queued for a slot right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    pub async fn hash(&self, password: Password) -> anyhow::Result<String> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.0.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|err| anyhow::anyhow!("password hashing failed: {err}"))
        })
        .await?
    }

    /// A malformed stored hash counts as a mismatch.
    pub async fn verify(&self, password: String, hash: String) -> anyhow::Result<bool> {
        self.run(move || Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok()).await
    }

    /// Waits for a slot, then runs `work` on the blocking pool. The slot moves
    /// into the blocking task, so a caller that gives up (a client that
    /// disconnects) still holds it until the work, and its memory, is done.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let queued = Queued::enter(&self.waiting);
        let slot = self.slots.clone().acquire_owned().await?;
        drop(queued);
        Ok(tokio::task::spawn_blocking(move || {
            let result = work();
            drop(slot);
            result
        })
        .await?)
    }
}

/// Counts a caller as waiting until it gets a slot or gives up.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn enter(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::SeqCst);
        Self(waiting)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Condvar, Mutex};
    use std::time::{Duration, Instant};

    use super::*;

    #[tokio::test]
    async fn the_unknown_account_hash_costs_what_a_new_hash_costs() {
        let hasher = PasswordHasher::new(1);
        let new = hasher.hash(Password::parse("some password".into()).unwrap()).await.unwrap();
        let parameters = |hash: &str| hash.rsplitn(3, '$').nth(2).map(str::to_owned);
        // `$argon2id$v=19$m=…,t=…,p=…`: algorithm, version and cost, before salt and hash.
        assert_eq!(parameters(UNKNOWN_ACCOUNT_HASH), parameters(&new));
        assert!(!hasher.verify("some password".into(), UNKNOWN_ACCOUNT_HASH.into()).await.unwrap());
    }

    /// Guards every wait so a broken run fails instead of hanging; never reached when things work.
    const GUARD: Duration = Duration::from_secs(30);

    /// What the blocking work reports, and the tickets that let it finish.
    #[derive(Default)]
    struct Probe {
        state: Mutex<ProbeState>,
        released: Condvar,
    }

    #[derive(Default)]
    struct ProbeState {
        running: usize,
        finished: usize,
        most_at_once: usize,
        tickets: usize,
    }

    impl Probe {
        /// The work: counts itself running, then holds its slot until the test hands it a ticket.
        fn work(&self) {
            let mut state = self.state.lock().unwrap();
            state.running += 1;
            state.most_at_once = state.most_at_once.max(state.running);
            let (mut state, timeout) =
                self.released.wait_timeout_while(state, GUARD, |state| state.tickets == 0).unwrap();
            assert!(!timeout.timed_out(), "the test never released this work");
            state.tickets -= 1;
            state.running -= 1;
            state.finished += 1;
        }

        fn release_one(&self) {
            self.state.lock().unwrap().tickets += 1;
            self.released.notify_one();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_calls_run_at_most_limit_at_once_and_the_rest_queue() {
        const LIMIT: usize = 3;
        const CALLS: usize = 12;
        let hasher = PasswordHasher::new(LIMIT);
        let probe = Arc::new(Probe::default());
        let calls: Vec<_> = (0..CALLS)
            .map(|_| {
                let (hasher, probe) = (hasher.clone(), probe.clone());
                tokio::spawn(async move { hasher.run(move || probe.work()).await })
            })
            .collect();

        let deadline = Instant::now() + GUARD;
        for released in 0..CALLS {
            // Settled: every call still to finish is either running its work or queued for a
            // slot. Without the limit nothing queues, so all of them would be running here.
            let running = loop {
                let (running, finished) = {
                    let state = probe.state.lock().unwrap();
                    (state.running, state.finished)
                };
                if finished == released && running + hasher.waiting() == CALLS - released {
                    break running;
                }
                assert!(Instant::now() < deadline, "the calls never settled");
                tokio::task::yield_now().await;
            };
            assert!(running <= LIMIT, "{running} ran at once with a limit of {LIMIT}");
            if released == 0 {
                assert_eq!(
                    (running, hasher.waiting()),
                    (LIMIT, CALLS - LIMIT),
                    "the first calls take every slot"
                );
            }
            probe.release_one();
        }
        for call in calls {
            call.await.unwrap().unwrap();
        }
        let state = probe.state.lock().unwrap();
        assert_eq!((state.finished, state.most_at_once), (CALLS, LIMIT));
        assert_eq!(hasher.waiting(), 0);
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_while_queued_leaves_the_queue() {
        let hasher = PasswordHasher::new(1);
        let probe = Arc::new(Probe::default());
        let holder = {
            let (hasher, probe) = (hasher.clone(), probe.clone());
            tokio::spawn(async move { hasher.run(move || probe.work()).await })
        };
        let deadline = Instant::now() + GUARD;
        while probe.state.lock().unwrap().running == 0 {
            assert!(Instant::now() < deadline, "the first call never ran");
            tokio::task::yield_now().await;
        }
        let queued = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.run(|| ()).await })
        };
        while hasher.waiting() == 0 {
            assert!(Instant::now() < deadline, "the second call never queued");
            tokio::task::yield_now().await;
        }
        queued.abort();
        assert!(queued.await.unwrap_err().is_cancelled());
        assert_eq!(hasher.waiting(), 0);
        probe.release_one();
        holder.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn hashes_verify_through_the_limiter() {
        let hasher = PasswordHasher::new(0);
        assert_eq!(hasher.limit(), 1, "a limit of 0 still lets one through");
        let hash = hasher.hash(Password::parse("correct horse".into()).unwrap()).await.unwrap();
        assert!(hasher.verify("correct horse".into(), hash.clone()).await.unwrap());
        assert!(!hasher.verify("wrong horse!".into(), hash).await.unwrap());
        assert!(!hasher.verify("correct horse".into(), "not a hash".into()).await.unwrap());
    }
}
