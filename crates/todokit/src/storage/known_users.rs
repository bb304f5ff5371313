//! Accounts (and sessions, and access tokens) this process found in the database a moment ago.
//!
//! Every authenticated request checks that its account still exists: a session token stays
//! valid for days and would otherwise outlive its account. Most requests are a signed-in
//! user's next one, so the answer is remembered for [`KNOWN_FOR`] instead of a database round trip
//! on every request (what it saved: `bench/RESULTS-notes.md`, "Mechanisms and what they measured").
//! Removing an account through this process forgets it at once; another replica (or an
//! operator's SQL) is noticed within [`KNOWN_FOR`].
//!
//! The same map, one instance each, remembers live sessions and live access tokens by id, each
//! with the account that owns it, so that revoking one forgets it and removing an account (or
//! changing its password) forgets all of its own at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

/// How long an account found in the database is taken to exist without asking again.
pub const KNOWN_FOR: Duration = Duration::from_secs(2);

/// The map is swept of stale entries when it reaches this size, and then at twice what is left.
const FIRST_SWEEP_AT: usize = 1024;

#[derive(Debug)]
pub struct KnownUsers {
    seen: Mutex<Seen>,
}

#[derive(Debug)]
struct Seen {
    /// When each id was last found, and the account it belongs to.
    found_at: HashMap<Uuid, (Instant, Uuid)>,
    sweep_at: usize,
}

impl Default for KnownUsers {
    fn default() -> Self {
        Self { seen: Mutex::new(Seen { found_at: HashMap::new(), sweep_at: FIRST_SWEEP_AT }) }
    }
}

impl KnownUsers {
    /// Whether `user` was found in the database less than [`KNOWN_FOR`] ago.
    pub fn is_known(&self, user: Uuid) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.found_at.get(&user).is_some_and(|(found, _)| found.elapsed() < KNOWN_FOR)
    }

    /// Whether `id` was found live, as `owner`'s, less than [`KNOWN_FOR`] ago.
    pub fn is_known_as(&self, id: Uuid, owner: Uuid) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.found_at
            .get(&id)
            .is_some_and(|(found, owned_by)| *owned_by == owner && found.elapsed() < KNOWN_FOR)
    }

    /// `user` was just found in the database.
    pub fn found(&self, user: Uuid) {
        self.found_owned(user, user);
    }

    /// `id` (a session or token of `owner`) was just found live in the database.
    pub fn found_owned(&self, id: Uuid, owner: Uuid) {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.found_at.insert(id, (now, owner));
        if seen.found_at.len() >= seen.sweep_at {
            seen.found_at.retain(|_, (found, _)| now.duration_since(*found) < KNOWN_FOR);
            seen.sweep_at = (seen.found_at.len() * 2).max(FIRST_SWEEP_AT);
        }
    }

    /// `user` was removed: the next check asks the database.
    pub fn forget(&self, user: Uuid) {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).found_at.remove(&user);
    }

    /// Forgets every id `owner` owns (its account was removed, or its sessions revoked).
    pub fn forget_owner(&self, owner: Uuid) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.found_at.retain(|_, (_, owned_by)| *owned_by != owner);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.lock().unwrap().found_at.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_account_is_known_until_the_window_passes_or_it_is_forgotten() {
        let known = KnownUsers::default();
        let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(!known.is_known(ada), "nothing is known before it is found");

        known.found(ada);
        known.found(bob);
        tokio::time::advance(KNOWN_FOR - Duration::from_millis(1)).await;
        assert!(known.is_known(ada) && known.is_known(bob));

        known.forget(bob);
        assert!(!known.is_known(bob), "a removed account is asked about again at once");

        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(!known.is_known(ada), "after the window the database is asked again");
        known.found(ada);
        assert!(known.is_known(ada), "finding it again starts a new window");
    }

    #[tokio::test(start_paused = true)]
    async fn stale_accounts_are_swept_as_the_map_grows() {
        let known = KnownUsers::default();
        for _ in 0..FIRST_SWEEP_AT - 1 {
            known.found(Uuid::now_v7());
        }
        tokio::time::advance(KNOWN_FOR).await;
        let recent = Uuid::now_v7();
        known.found(recent);
        assert_eq!(known.len(), 1, "the stale ones went when the map reached its sweep size");
        assert!(known.is_known(recent));

        // Fresh entries are kept, and the next sweep waits for twice as many.
        for _ in 0..FIRST_SWEEP_AT * 2 {
            known.found(Uuid::now_v7());
        }
        assert_eq!(known.len(), FIRST_SWEEP_AT * 2 + 1);
    }
}

#[cfg(test)]
mod owned_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn forgetting_an_owner_forgets_everything_it_owns() {
        let known = KnownUsers::default();
        let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let (ada_1, ada_2, bob_1) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        known.found_owned(ada_1, ada);
        known.found_owned(ada_2, ada);
        known.found_owned(bob_1, bob);
        assert!(known.is_known(ada_1) && known.is_known(ada_2) && known.is_known(bob_1));
        known.forget_owner(ada);
        assert!(!known.is_known(ada_1) && !known.is_known(ada_2), "all of Ada's are forgotten");
        assert!(known.is_known(bob_1), "Bob's are kept");
    }
}
