//! Replies' claims on their threads, shared by the replicas of one database (PostgreSQL), and
//! the repository that keeps them. `runs.rs` takes and renews them.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::persistence::StorageResult;
use crate::tasks::model::UserId;

/// A reply's claim on its thread, shared by the replicas of one database.
#[derive(Debug, Clone)]
pub struct RunClaim {
    pub thread_id: String,
    pub user: UserId,
    pub run_id: Uuid,
    pub replica: Uuid,
    /// Where the other replicas reach `replica`, if it said.
    pub replica_url: Option<String>,
    pub expires_at: Timestamp,
}

/// A claim for the thread a reply is about to create, saved with the thread itself (in the
/// same statement), so the thread is never unclaimed while a reply is writing to it.
#[derive(Debug, Clone)]
pub struct NewThreadClaim {
    pub run_id: Uuid,
    pub replica: Uuid,
    pub replica_url: Option<String>,
    pub expires_at: Timestamp,
}

impl NewThreadClaim {
    /// The claim on `user`'s thread `thread_id`, on these terms.
    pub fn for_thread(&self, thread_id: &str, user: UserId) -> RunClaim {
        RunClaim {
            thread_id: thread_id.to_owned(),
            user,
            run_id: self.run_id,
            replica: self.replica,
            replica_url: self.replica_url.clone(),
            expires_at: self.expires_at,
        }
    }
}

/// The replica writing a reply, as its claim names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunHolder {
    pub replica: Uuid,
    pub replica_url: Option<String>,
}

#[async_trait]
pub trait RunClaims: Send + Sync + 'static {
    /// Claims `user`'s thread `thread_id` for the reply `run` that `replica` runs, until
    /// `expires_at`. False, writing nothing, when another replica's claim that has not lapsed at
    /// `now` holds the thread or when the thread is not `user`'s. A claim of the same replica is
    /// taken over: the replica asks only when none of its runs holds the thread.
    async fn claim_run(&self, run: &RunClaim, now: Timestamp) -> StorageResult<bool>;
    /// The replica whose claim, not lapsed at `now`, holds `user`'s thread `thread_id`.
    async fn run_holder(
        &self,
        thread_id: &str,
        user: UserId,
        now: Timestamp,
    ) -> StorageResult<Option<RunHolder>>;
    /// Ends the claim of the reply `run_id` on `thread_id`, if it still holds it.
    async fn release_run(&self, thread_id: &str, run_id: Uuid) -> StorageResult<()>;
    /// Extends to `expires_at` the claims `replica` holds for the replies `runs` (those still
    /// running there): a claim whose release failed is not among them, and lapses.
    async fn renew_runs(&self, replica: Uuid, runs: &[Uuid], expires_at: Timestamp) -> StorageResult<u64>;
}
