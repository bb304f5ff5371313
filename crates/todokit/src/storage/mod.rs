//! Persistence behind one trait, with an SQLite and a PostgreSQL implementation.
//!
//! Both backends run the same SQL text (see `sql.rs`); each has its own
//! migrations under `migrations/<backend>/`. Every query is parameterized and
//! scoped by the owning user.

mod chat_sql;
mod health;
mod known_users;
mod patient_pool;
mod sql;
mod tokens;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;

use crate::tasks::model::{
    BulkDeletion, BulkOutcome, Completion, NewTask, TagCount, Task, TaskCounts, TaskFilter, TaskKey,
    TaskPage, TaskPatch, TaskQuery, UserId,
};

pub use health::DbHealth;
use patient_pool::PatientPool;
pub use sql::{PostgresStorage, SqliteStorage};
pub use tokens::{AccessToken, AccessTokenStorage, LAST_USED_PRECISION_SECS};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A uniqueness rule was violated (e.g. the email is taken).
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached right now.
    #[error("{0}")]
    Unavailable(String),
    /// A domain rule refused the change, checked on the row read inside the write.
    #[error(transparent)]
    Invalid(todokit_domain::DomainError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// What a client is told while the database cannot be reached.
pub const UNAVAILABLE_MESSAGE: &str = "The database is unavailable; try again shortly";

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            Self::Unavailable(UNAVAILABLE_MESSAGE.into())
        } else {
            Self::Other(err.into())
        }
    }
}

/// Errors that say the database cannot be reached (or is restarting) rather
/// than that a query is wrong: connection and pool failures, and PostgreSQL's
/// SQLSTATE classes 08 (connection exception) and 57P (shutdown, cannot
/// connect now).
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P"))
        }
        _ => false,
    }
}

/// Whether `err`, or any error in its source chain, says the database is
/// unavailable (for errors that crossed a boxed boundary, such as the ChatKit
/// store's).
pub fn is_unavailable_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(error) = current {
        if let Some(sql) = error.downcast_ref::<sqlx::Error>()
            && is_unavailable(sql)
        {
            return true;
        }
        if let Some(StorageError::Unavailable(_)) = error.downcast_ref::<StorageError>() {
            return true;
        }
        current = error.source();
    }
    false
}

pub type StorageResult<T> = Result<T, StorageError>;

/// A rate-limit counter: which window it counts, and when it expires.
#[derive(Debug, Clone, Copy)]
pub struct RateWindow<'a> {
    pub key: &'a str,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

#[async_trait]
pub trait Storage: AccessTokenStorage + Send + Sync + 'static {
    fn backend(&self) -> Backend;
    async fn ping(&self) -> StorageResult<()>;

    /// Fails with `Conflict` when the normalized email is taken.
    async fn create_user(
        &self,
        email: &str,
        email_normalized: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StorageResult<User>;
    async fn user_credentials(&self, email_normalized: &str) -> StorageResult<Option<UserCredentials>>;
    async fn user_by_id(&self, id: Uuid) -> StorageResult<Option<User>>;
    /// Whether the account exists, for authenticating a request: an account found a moment
    /// ago is taken to still exist without asking the database (`known_users`). One removed
    /// through this storage is refused at once; one removed elsewhere (another replica) within
    /// `known_users::KNOWN_FOR`.
    async fn user_exists(&self, id: Uuid) -> StorageResult<bool>;
    async fn delete_user(&self, id: Uuid) -> StorageResult<bool>;

    /// Allocates the next per-user number in the same transaction as the insert.
    async fn create_task(&self, user: UserId, task: &NewTask, now: Timestamp) -> StorageResult<Task>;
    async fn get_task(&self, user: UserId, key: TaskKey) -> StorageResult<Option<Task>>;
    async fn update_task(
        &self,
        user: UserId,
        key: TaskKey,
        patch: &TaskPatch,
        now: Timestamp,
    ) -> StorageResult<Option<Task>>;
    /// Deletes the task and keeps it whole in `deleted_tasks` for [`restore_task`]; copies
    /// deleted before `prune_before` are dropped in the same transaction.
    ///
    /// [`restore_task`]: Storage::restore_task
    async fn delete_task(
        &self,
        user: UserId,
        key: TaskKey,
        now: Timestamp,
        prune_before: Timestamp,
    ) -> StorageResult<Option<Task>>;
    /// Brings back a task deleted at or after `deleted_since`, with its id, number and every
    /// field as they were (a parent task deleted meanwhile is forgotten). `None` if there is no
    /// such copy; a conflict if its recurrence slot has been taken meanwhile.
    async fn restore_task(
        &self,
        user: UserId,
        id: Uuid,
        deleted_since: Timestamp,
    ) -> StorageResult<Option<Task>>;
    /// Completing a recurring task creates its next occurrence in the same
    /// transaction; completing again after a reopen does not duplicate it.
    async fn set_completed(
        &self,
        user: UserId,
        key: TaskKey,
        completed: bool,
        now: Timestamp,
    ) -> StorageResult<Option<Completion>>;
    async fn list_tasks(&self, user: UserId, query: &TaskQuery) -> StorageResult<TaskPage>;
    async fn count_tasks(&self, user: UserId, filter: &TaskFilter) -> StorageResult<TaskCounts>;
    async fn tag_counts(&self, user: UserId) -> StorageResult<Vec<TagCount>>;
    /// Completes (or reopens) every matching task, each like `set_completed`.
    async fn set_completed_matching(
        &self,
        user: UserId,
        filter: &TaskFilter,
        completed: bool,
        now: Timestamp,
    ) -> StorageResult<BulkOutcome>;
    /// Deletes every matching task in one transaction, unless `expected_count` is given and
    /// differs from how many match (then nothing is deleted).
    async fn delete_matching(
        &self,
        user: UserId,
        filter: &TaskFilter,
        expected_count: Option<u64>,
    ) -> StorageResult<BulkDeletion>;

    /// The ChatKit store on the same database.
    fn chat_store(&self) -> DynSqlChatStore;

    /// Appends events to the log in one transaction, in order (and, on
    /// PostgreSQL, notifies every replica at commit), ending the reply claims
    /// `releases` names in the same transaction. Returns the events with ids.
    async fn append_events(
        &self,
        events: &[crate::events::NewEvent],
        releases: &[ClaimRelease],
        now: Timestamp,
    ) -> StorageResult<Vec<crate::events::Event>>;
    /// The user's events after `after` (oldest first), or `None` when `after`
    /// is no longer in the log (pruned or unknown): the client must reload.
    async fn events_after(
        &self,
        user: UserId,
        after: i64,
        limit: u32,
    ) -> StorageResult<Option<Vec<crate::events::Event>>>;
    /// The id of the user's newest event, or 0.
    async fn latest_event_id(&self, user: UserId) -> StorageResult<i64>;
    /// Deletes events created before `before`.
    async fn prune_events(&self, before: Timestamp) -> StorageResult<u64>;
    /// Deletes the rate-limit counters whose window ended before `now`.
    async fn prune_rate_counters(&self, now: Timestamp) -> StorageResult<u64>;
    /// Forwards events published by any replica into `sink`. Returns false
    /// when the backend has no cross-process fan-out (SQLite).
    async fn listen_for_events(
        &self,
        sink: tokio::sync::broadcast::Sender<Arc<crate::events::Event>>,
    ) -> anyhow::Result<bool>;

    /// Adds one to each of the user's rate-limit counters `windows` (its key and when it
    /// expires), in one statement, and returns their new counts in the same order.
    async fn hit_rate_counters(&self, user: UserId, windows: &[RateWindow<'_>]) -> StorageResult<Vec<i64>>;
    /// Takes one back from the user's counter `key`, for a message another limit refused.
    async fn unhit_rate_counter(&self, user: UserId, key: &str) -> StorageResult<()>;

    /// Pending tasks whose reminder time (`due_at − offset`) is at or before
    /// `now` and that have not been reminded yet.
    async fn due_reminders(&self, now: Timestamp, limit: u32) -> StorageResult<Vec<(UserId, Task)>>;
    /// Marks a pending task's reminder sent. True only for the one caller that
    /// flipped it, so each reminder fires once even across replicas; false for
    /// a task completed or deleted since `due_reminders` saw it.
    async fn mark_reminder_sent(&self, task: Uuid) -> StorageResult<bool>;

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

/// A reply's claim to end (if it still holds its thread) with the event that says the reply
/// finished: whoever sees the event finds the thread free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRelease {
    pub thread_id: String,
    pub run_id: Uuid,
}

/// The replica writing a reply, as its claim names it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunHolder {
    pub replica: Uuid,
    pub replica_url: Option<String>,
}

pub type DynStorage = Arc<dyn Storage>;

/// ChatKit threads and items, scoped by the caller in the chat context.
pub type DynChatStore = Arc<dyn chatkit::Store<crate::chat::ChatContext>>;

/// What a thread save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadSaved {
    Created,
    Updated,
}

/// The SQL ChatKit store: [`chatkit::Store`] plus thread saves that say whether they
/// created the thread, which the database knows from the save itself (so callers need not
/// load the thread first to find out).
#[async_trait]
pub trait ChatStore: chatkit::Store<crate::chat::ChatContext> {
    /// Saves like [`chatkit::Store::save_thread`]: the caller's own thread is updated, a new
    /// one inserted. A thread id that belongs to another user is `NotFound`, and nothing is
    /// written.
    async fn save_thread_reporting(
        &self,
        thread: &chatkit::ThreadMetadata,
        ctx: &crate::chat::ChatContext,
    ) -> Result<ThreadSaved, chatkit::StoreError>;

    /// Stores a thread `threads.create` made, with its first item and (PostgreSQL replicas)
    /// its reply's claim, in one statement. An id that exists already is saved like any
    /// other save, and the item added to it.
    async fn start_thread(
        &self,
        thread: &chatkit::ThreadMetadata,
        first_item: &chatkit::ThreadItem,
        ctx: &crate::chat::ChatContext,
    ) -> Result<ThreadSaved, chatkit::StoreError>;
}

pub type DynSqlChatStore = Arc<dyn ChatStore>;

/// Opens the database named by `url` (`sqlite:` path or `postgres://`) and
/// applies its migrations.
pub async fn connect(url: &str) -> anyhow::Result<DynStorage> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        connect_postgres(postgres_options(url)?).await
    } else {
        let options =
            SqliteConnectOptions::from_str(url).context("invalid SQLite URL")?.create_if_missing(true);
        if !url.contains(":memory:") && !url.contains("mode=memory") {
            create_private_file(options.get_filename())
                .with_context(|| format!("cannot create {}", options.get_filename().display()))?;
        }
        connect_sqlite(options).await
    }
}

/// Creates the database file, if it is new, readable and writable by its owner only (0600)
/// whatever the umask: SQLite gives its `-wal` and `-shm` files the database file's mode, so
/// all three stay private. An existing file keeps the mode its operator gave it.
fn create_private_file(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        // The umask may have taken bits off (even the owner's): set exactly 0600.
        #[cfg(unix)]
        Ok(_) => std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)),
        #[cfg(not(unix))]
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// The connect options for a `postgres://` URL, with one default of our own: a loopback
/// address connects without TLS unless the URL (`sslmode=`) or `PGSSLMODE` asks for a mode.
///
/// TLS on loopback protects nothing: reading loopback traffic takes root on the host, which can
/// read the database's files anyway. And sqlx's default mode, `prefer`, verifies no certificate,
/// so it only ever guards against passive sniffing. It costs a handshake per new connection (most
/// of PostgreSQL's start to ready here) and encryption of every statement on both sides. libpq's
/// own default, a Unix socket, has no TLS either. `sslmode=require` or `verify-full` still get it.
pub fn postgres_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url).context("invalid PostgreSQL URL")?;
    let mode_in_url = ::url::Url::parse(url)
        .context("invalid PostgreSQL URL")?
        .query_pairs()
        .any(|(key, _)| key == "sslmode" || key == "ssl-mode");
    let mode_chosen = mode_in_url || std::env::var_os("PGSSLMODE").is_some();
    Ok(if !mode_chosen && is_loopback(options.get_host()) {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
}

/// `localhost` or a loopback IP address (an IPv6 one as URLs write it, in brackets).
fn is_loopback(host: &str) -> bool {
    let ip = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.eq_ignore_ascii_case("localhost") || ip.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Writes take turns in-process (`writer::Writer`): SQLite has one writer at
/// a time, and in-process queueing is fair where its busy handler is not.
/// Reads never wait for a writer (WAL).
pub async fn connect_sqlite(options: SqliteConnectOptions) -> anyhow::Result<DynStorage> {
    let options = options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(15))
        // Reads come from the page cache shared with the OS instead of a
        // copy per connection, which every commit by another connection clears.
        .pragma("mmap_size", "268435456");
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        // sqlx pings a connection before every use by default: for SQLite, a round trip to the
        // connection's worker thread that holds the writer's turn longer and finds nothing (a
        // file connection does not drop).
        .test_before_acquire(false)
        // Waiting past the acquire timeout is logged once per burst (`PatientPool`).
        .acquire_slow_level(log::LevelFilter::Off)
        .connect_with(options)
        .await
        .context("cannot open the SQLite database")?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await.context("SQLite migrations failed")?;
    let pool = PatientPool::new(pool);
    Ok(Arc::new(SqliteStorage::new(pool.clone(), writer::Writer::one_at_a_time(pool))))
}

/// Connections opened at start beside the one that applies the migrations, for the event
/// listener and the first requests. A new connection is mostly waiting (a TLS handshake when
/// the server offers TLS: ~100–150 ms measured here), so opening them side by side instead of
/// one after another took start to ready on PostgreSQL from ~290 to ~185 ms (measured here).
const CONNECTIONS_OPENED_AT_START: usize = 3;

/// How long a PostgreSQL connection may sit idle in the pool and still be used without a ping
/// (HikariCP skips its check the same way, for connections used in the last 500 ms).
const PING_IF_IDLE_FOR: Duration = Duration::from_millis(500);

pub async fn connect_postgres(options: PgConnectOptions) -> anyhow::Result<DynStorage> {
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings a connection before every use by default: one more round trip per
        // statement. Only a connection idle for a while is pinged (one that PostgreSQL may have
        // dropped meanwhile); a dead one in use fails its statement with 503 `unavailable`.
        .test_before_acquire(false)
        // Waiting past the acquire timeout is logged once per burst (`PatientPool`).
        .acquire_slow_level(log::LevelFilter::Off)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options);
    // Handed back as soon as they are open: the pool checks each one on its way back, which is
    // over before the migrations end, so the listener then finds one idle instead of opening one.
    let opened = async {
        futures::future::try_join_all((0..CONNECTIONS_OPENED_AT_START).map(|_| pool.acquire()))
            .await
            .map(drop)
    };
    let (opened, migrated) =
        tokio::join!(opened, async { sqlx::migrate!("./migrations/postgres").run(&pool).await });
    // Both fail when the server is unreachable; the connection error says why.
    opened.context("cannot connect to PostgreSQL")?;
    migrated.context("PostgreSQL migrations failed")?;
    let pool = PatientPool::new(pool);
    Ok(Arc::new(PostgresStorage::new(pool.clone(), writer::Writer::concurrent(pool))))
}

/// The current time at the precision the database keeps (microseconds), so
/// what a write returns equals what a later read returns.
///
/// Only the chat store reads it (chatkit's `Store` methods carry no time); everything else is
/// given the time by the caller, from the application's [`crate::Clock`].
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
}

pub(crate) fn micros(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

pub(crate) fn from_micros(value: i64) -> anyhow::Result<Timestamp> {
    Timestamp::from_microsecond(value).context("stored timestamp out of range")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Others holding the pool's connection in turn, longer in all than its acquire timeout:
    /// a read waits for its turn, as a write does, instead of failing.
    #[tokio::test]
    async fn a_read_waits_out_a_busy_pool_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let pool = patient_pool::tests::pool_of_one(&dir).await;
        sqlx::migrate!("./migrations/sqlite").run(pool.inner()).await.unwrap();
        let storage = sql::SqliteStorage::new(pool.clone(), writer::Writer::one_at_a_time(pool.clone()));
        let read = async move {
            storage.get_task(UserId(Uuid::new_v4()), TaskKey::Number(1)).await.map(|t| t.is_none())
        };
        let task = patient_pool::tests::while_busy_past_the_timeout(&pool, read).await;
        assert!(task.expect("the read answers in its turn"), "no such task");
    }

    fn ssl_mode(url: &str) -> PgSslMode {
        assert!(std::env::var_os("PGSSLMODE").is_none(), "these cases assume PGSSLMODE is unset");
        postgres_options(url).unwrap().get_ssl_mode()
    }

    #[test]
    fn a_loopback_address_defaults_to_no_tls() {
        for url in ["postgres://u@127.0.0.1:5432/db", "postgres://u@localhost/db", "postgresql://u@[::1]/db"]
        {
            assert!(matches!(ssl_mode(url), PgSslMode::Disable), "{url}");
        }
    }

    #[test]
    fn a_mode_the_url_chooses_or_another_host_keeps_sqlx_s_rules() {
        assert!(matches!(ssl_mode("postgres://u@127.0.0.1/db?sslmode=require"), PgSslMode::Require));
        assert!(matches!(ssl_mode("postgres://u@localhost/db?sslmode=prefer"), PgSslMode::Prefer));
        assert!(matches!(ssl_mode("postgres://u@127.0.0.1/db?ssl-mode=verify-full"), PgSslMode::VerifyFull));
        assert!(matches!(ssl_mode("postgres://u@db.internal/db"), PgSslMode::Prefer));
        assert!(matches!(ssl_mode("postgres://u@10.0.0.5/db"), PgSslMode::Prefer));
    }
}
