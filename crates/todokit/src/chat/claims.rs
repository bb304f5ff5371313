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
    /// Until when the claim holds unless renewed.
    pub expires_at: Timestamp,
    /// The claim lapsed (its replica died) and `replica` took it to save what that reply had
    /// ([`ReplyCheckpoints::take_lapsed_run`]): nothing is being written any more.
    pub finishing: bool,
}

#[async_trait]
pub trait RunClaims: Send + Sync + 'static {
    /// Claims `user`'s thread `thread_id` for the reply `run` that `replica` runs, until
    /// `expires_at`. False, writing nothing, when another replica's claim holds the thread,
    /// even one that lapsed (that reply is finished first, see
    /// [`ReplyCheckpoints::take_lapsed_run`]), or when the thread is not `user`'s. A claim of
    /// the same replica is taken over (unless it is finishing a lapsed reply): the replica asks
    /// only when none of its runs holds the thread.
    async fn claim_run(&self, run: &RunClaim) -> StorageResult<bool>;
    /// The replica whose claim, not lapsed at `now`, holds `user`'s thread `thread_id`.
    /// A lapsed claim is no holder: nothing is being written.
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

/// A reply whose claim lapsed (its replica died without releasing it), taken by the replica
/// that finishes it.
#[derive(Debug, Clone)]
pub struct LapsedRun {
    pub thread_id: String,
    pub user: UserId,
    pub run_id: Uuid,
    /// The reply's last checkpoint ([`ReplyCheckpoints::save_checkpoint`]), if it saved one.
    pub checkpoint: Option<String>,
}

/// Checkpoints of running replies, kept with their claims, and the lapsed claims of replies
/// whose replica died: one replica finishes each (`runs.rs`).
#[async_trait]
pub trait ReplyCheckpoints: Send + Sync + 'static {
    /// Saves `checkpoint` (the reply's unfinished items, as JSON) with the claim of the reply
    /// `run_id` on `thread_id`, if it still holds the thread; else writes nothing.
    async fn save_checkpoint(&self, thread_id: &str, run_id: Uuid, checkpoint: &str) -> StorageResult<()>;
    /// Threads whose claim lapsed at `now`, at most `limit` of them.
    async fn lapsed_runs(&self, now: Timestamp, limit: u32) -> StorageResult<Vec<String>>;
    /// Takes the claim on `thread_id` (of `user`, when given) if it lapsed at `now`, for
    /// `replica` until `expires_at`, marked as finishing, and returns what the reply left.
    /// Atomic: of replicas asking at once, one gets it. `None` when no lapsed claim holds the
    /// thread.
    async fn take_lapsed_run(
        &self,
        thread_id: &str,
        user: Option<UserId>,
        replica: Uuid,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StorageResult<Option<LapsedRun>>;
}
