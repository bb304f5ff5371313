//! The SQLite and PostgreSQL implementations of the repositories (`tasks::TaskRepository`,
//! `events::EventLog`, `auth::{Accounts, AccessTokens, Sessions, Invites}`,
//! `chat::{ChatStore, RateCounters, RunClaims, ReplyCheckpoints}`,
//! `account_data::{AccountData, feed::CalendarFeeds}`), opened together by [`connect`].
//!
//! The SQL is written once for both backends, generic over the sqlx driver (`sql/`: one file
//! per repository), with each backend's few statements of its own given by its `sql::Dialect`
//! (`sqlite/mod.rs`, `postgres/mod.rs`). Appending to the event log is plain code per backend
//! (`sqlite/events.rs`, `postgres/events.rs`: PostgreSQL's also notifies the other replicas).
//! `shared.rs` holds the encodings both use. Each backend has its own migrations under
//! `migrations/<backend>/`. Every query is parameterized and scoped by the owning user.

mod known_users;
mod patient_pool;
mod postgres;
mod shared;
mod sql;
mod sqlite;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::account_data::AccountData;
use crate::account_data::feed::CalendarFeeds;
use crate::auth::{AccessTokens, Accounts, Invites, Sessions};
use crate::chat::{ChatStore, RateCounters, ReplyCheckpoints, RunClaims};
use crate::events::EventLog;
use crate::persistence::Database;
#[allow(unused_imports)] // named as `super::…` by the backends
use crate::persistence::{Backend, StorageError, StorageResult};
use crate::tasks::TaskRepository;
use patient_pool::PatientPool;
use postgres::PostgresStorage;
use sqlite::SqliteStorage;

/// One handle per repository, all on one database (what [`connect`] opens). Cheap to clone.
#[derive(Clone)]
pub struct Repositories {
    pub database: Arc<dyn Database>,
    pub accounts: Arc<dyn Accounts>,
    pub access_tokens: Arc<dyn AccessTokens>,
    pub tasks: Arc<dyn TaskRepository>,
    pub events: Arc<dyn EventLog>,
    pub rate_counters: Arc<dyn RateCounters>,
    pub run_claims: Arc<dyn RunClaims>,
    pub reply_checkpoints: Arc<dyn ReplyCheckpoints>,
    pub chat: Arc<dyn ChatStore>,
    pub account_data: Arc<dyn AccountData>,
    pub calendar_feeds: Arc<dyn CalendarFeeds>,
    pub sessions: Arc<dyn Sessions>,
    pub invites: Arc<dyn Invites>,
}

impl Repositories {
    /// Every repository on `backend` (one value shared by all of them).
    fn on<B>(backend: B) -> Self
    where
        B: Database
            + Accounts
            + AccessTokens
            + TaskRepository
            + EventLog
            + RateCounters
            + RunClaims
            + ReplyCheckpoints
            + ChatStore
            + AccountData
            + CalendarFeeds
            + Sessions
            + Invites,
    {
        let backend = Arc::new(backend);
        Self {
            database: backend.clone(),
            accounts: backend.clone(),
            access_tokens: backend.clone(),
            tasks: backend.clone(),
            events: backend.clone(),
            rate_counters: backend.clone(),
            run_claims: backend.clone(),
            reply_checkpoints: backend.clone(),
            account_data: backend.clone(),
            calendar_feeds: backend.clone(),
            sessions: backend.clone(),
            invites: backend.clone(),
            chat: backend,
        }
    }
}

/// Opens the database named by `url` (`sqlite:` path or `postgres://`) and
/// applies its migrations.
pub async fn connect(url: &str) -> anyhow::Result<Repositories> {
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
pub async fn connect_sqlite(options: SqliteConnectOptions) -> anyhow::Result<Repositories> {
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
    Ok(Repositories::on(SqliteStorage::new(pool.clone(), writer::Writer::one_at_a_time(pool))))
}

/// Connections opened at start beside the one that applies the migrations, for the event
/// listener and the first requests. A new connection is mostly waiting, so opening them side by
/// side shortens start to ready (`bench/RESULTS-notes.md`, "Mechanisms and what they measured").
const CONNECTIONS_OPENED_AT_START: usize = 3;

/// How long a PostgreSQL connection may sit idle in the pool and still be used without a ping
/// (HikariCP skips its check the same way, for connections used in the last 500 ms).
const PING_IF_IDLE_FOR: Duration = Duration::from_millis(500);

pub async fn connect_postgres(options: PgConnectOptions) -> anyhow::Result<Repositories> {
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
    Ok(Repositories::on(PostgresStorage::new(pool.clone(), writer::Writer::concurrent(pool))))
}

pub(crate) fn micros(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

pub(crate) fn from_micros(value: i64) -> anyhow::Result<Timestamp> {
    Timestamp::from_microsecond(value).context("stored timestamp out of range")
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::tasks::model::{TaskKey, UserId};

    /// Others holding the pool's connection in turn, longer in all than its acquire timeout:
    /// a read waits for its turn, as a write does, instead of failing.
    #[tokio::test]
    async fn a_read_waits_out_a_busy_pool_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let pool = patient_pool::tests::pool_of_one(&dir).await;
        sqlx::migrate!("./migrations/sqlite").run(pool.inner()).await.unwrap();
        let storage = SqliteStorage::new(pool.clone(), writer::Writer::one_at_a_time(pool.clone()));
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
