//! Configuration from flags and `TODOKIT_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Who may create an account (`--signup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignupMode {
    /// Anyone who can reach the server (a personal install).
    Open,
    /// Only with a one-time invite code an administrator (or the operator) created.
    Invite,
    /// Nobody through the API; the operator adds accounts with `todokit user add`.
    Closed,
}

impl SignupMode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }
}

/// todokit: a self-hosted task manager with an AI assistant.
#[derive(Debug, Clone, Parser)]
#[command(version, about, long_about = None)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "TODOKIT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Where the other replicas sharing a PostgreSQL database reach this one
    /// (e.g. `http://10.0.0.5:8080`), to relay its running replies to clients
    /// that re-attach through them. Defaults to `http://<listen address>` unless
    /// that is every address (`0.0.0.0`, `[::]`).
    #[arg(long, env = "TODOKIT_ADVERTISE_URL")]
    pub advertise_url: Option<String>,

    /// Directory for the SQLite database and the generated signing secret.
    #[arg(long, env = "TODOKIT_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL: `postgres://user@host/db` for PostgreSQL, or `sqlite:path`.
    /// Defaults to `sqlite:<data-dir>/todokit.db`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Secret used to sign session tokens (HS256), at least 32 characters.
    /// When unset, one is generated on first run and kept in the data directory.
    #[arg(long, env = "TODOKIT_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// How long a sign-in stays valid, in days.
    #[arg(long, env = "TODOKIT_TOKEN_TTL_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub token_ttl_days: u32,

    /// Mark the session cookie `Secure` (serve over HTTPS when set).
    #[arg(long, env = "TODOKIT_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "TODOKIT_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Seconds a client may take to send a request's headers, counted from when its
    /// connection opens or its previous response ends: so also how long an idle keep-alive
    /// connection stays open. 0 = no limit.
    #[arg(long, env = "TODOKIT_HEADER_TIMEOUT_SECS", default_value_t = 20)]
    pub header_timeout_secs: u64,

    /// Seconds a stopping server keeps serving after SIGTERM (or Ctrl-C): `/readyz` answers 503
    /// at once so a load balancer stops sending new requests, while requests that still arrive
    /// (and keep-alive connections) are served as usual. Then the listener closes and running
    /// replies finish. A second signal ends the drain at once. 0 = close at once.
    #[arg(long, env = "TODOKIT_DRAIN_SECS", default_value_t = 10)]
    pub drain_secs: u64,

    /// Connections served at once; more are closed as soon as they are accepted.
    #[arg(long, env = "TODOKIT_MAX_CONNECTIONS", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,

    /// Connections served at once from one client address.
    #[arg(long, env = "TODOKIT_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections_per_address: u64,

    /// Failed sign-ins allowed per account from one client address within 15 minutes. One
    /// address (e.g. a shared office or NAT address) may fail ten times as many in all before
    /// it is held back, and one account ten times as many from all addresses.
    #[arg(long, env = "TODOKIT_SIGNIN_ATTEMPTS", default_value_t = 10)]
    pub signin_attempts: u32,

    /// Who may create an account: `open` (anyone), `invite` (with a one-time code an
    /// administrator creates) or `closed` (only the operator, with `todokit user add`).
    #[arg(long, env = "TODOKIT_SIGNUP", value_enum, default_value = "open")]
    pub signup: SignupMode,

    /// Accounts that may be created from one client address per hour (0 = no limit).
    #[arg(long, env = "TODOKIT_SIGNUPS_PER_HOUR", default_value_t = 50)]
    pub signups_per_hour: u32,

    /// Reverse proxies (addresses or CIDRs, comma-separated) whose `Forwarded` and
    /// `X-Forwarded-For` headers name the client. From any other peer those headers are ignored.
    #[arg(long, env = "TODOKIT_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Password hashes and checks (sign-up, sign-in) run at once, each using about
    /// 19 MiB; more wait their turn. 0 = one per CPU core.
    #[arg(long, env = "TODOKIT_PASSWORD_HASH_CONCURRENCY", default_value_t = 0)]
    pub password_hash_concurrency: usize,

    /// Chat messages allowed per user per minute (0 = no limit).
    #[arg(long, env = "TODOKIT_CHAT_MESSAGES_PER_MINUTE", default_value_t = 20)]
    pub chat_messages_per_minute: u32,

    /// Chat messages allowed per user per UTC day (0 = no limit).
    #[arg(long, env = "TODOKIT_CHAT_MESSAGES_PER_DAY", default_value_t = 100)]
    pub chat_messages_per_day: u32,

    /// Concurrent live event streams (`/api/events`) allowed per user.
    #[arg(long, env = "TODOKIT_MAX_EVENT_STREAMS", default_value_t = 8)]
    pub max_event_streams: usize,

    /// How long the live event log is kept for reconnecting clients, in hours.
    #[arg(long, env = "TODOKIT_EVENT_RETENTION_HOURS", default_value_t = 24)]
    pub event_retention_hours: u32,

    /// Seconds between two checks for due reminders (and event-log pruning).
    #[arg(long, env = "TODOKIT_REMINDER_INTERVAL_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub reminder_interval_secs: u64,

    /// Host names (or host:port) the MCP endpoint answers to, comma-separated. Defaults to
    /// localhost, 127.0.0.1, ::1 and the listen address; set it when serving under a domain.
    #[arg(long, env = "TODOKIT_MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub mcp_allowed_hosts: Vec<String>,

    /// Browser origins (`https://host[:port]`, comma-separated) allowed to call the MCP
    /// endpoint besides the server's own. A request with any other `Origin` header gets 403
    /// (DNS-rebinding protection); requests without one (non-browser clients) pass.
    #[arg(long, env = "TODOKIT_MCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub mcp_allowed_origins: Vec<String>,

    /// Origins (`https://host[:port]`, comma-separated) allowed to call the API from
    /// the browser with credentials (CORS), e.g. where the ChatKit UI is hosted.
    /// Empty (the default) keeps CORS closed; the server's own origin always works.
    #[arg(long, env = "TODOKIT_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Replicas on one PostgreSQL database: how long, in milliseconds, a reply's claim on its
    /// thread holds without renewal (renewed three times per lease). When a replica dies, its
    /// replies are finished by another replica (what they had streamed saved, marked
    /// interrupted) at most this long after. Every replica should use the same value.
    #[arg(long, env = "TODOKIT_CLAIM_LEASE_MS", default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(300..=3_600_000))]
    pub claim_lease_ms: u64,

    /// Log output format.
    #[arg(long, env = "TODOKIT_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// The assistant's model (provider, key, timeouts, retries).
    #[command(flatten)]
    pub llm: crate::assistant::llm::LlmArgs,
}

impl Config {
    /// The database to open: the explicit URL or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!("sqlite:{}", self.data_dir.join("todokit.db").display()),
        }
    }

    /// Where the data lives, for logs: the SQLite path, or the PostgreSQL
    /// host and database without credentials.
    pub fn database_location(&self) -> String {
        let url = self.database_url();
        match url.split_once("://") {
            Some((_, rest)) => {
                let without_credentials = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
                let without_query = without_credentials.split('?').next().unwrap_or(without_credentials);
                format!("postgres://{without_query}")
            }
            None => url,
        }
    }

    /// Defaults suitable for tests: loopback, port 0, the given data directory.
    pub fn for_tests(data_dir: PathBuf, database_url: Option<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            advertise_url: None,
            data_dir,
            database_url,
            jwt_secret: None,
            token_ttl_days: 7,
            secure_cookies: false,
            max_body_bytes: 1024 * 1024,
            header_timeout_secs: 20,
            drain_secs: 0,
            max_connections: 512,
            max_connections_per_address: 64,
            signin_attempts: 10,
            signup: SignupMode::Open,
            signups_per_hour: 0,
            trusted_proxies: Vec::new(),
            password_hash_concurrency: 0,
            chat_messages_per_minute: 20,
            chat_messages_per_day: 100,
            max_event_streams: 8,
            event_retention_hours: 24,
            reminder_interval_secs: 1,
            claim_lease_ms: 15_000,
            log_format: LogFormat::Text,
            llm: crate::assistant::llm::LlmArgs::default(),
            mcp_allowed_hosts: Vec::new(),
            mcp_allowed_origins: Vec::new(),
            cors_origins: Vec::new(),
        }
    }
}

/// Creates the data directory, if it is new, accessible by its owner only (0700) whatever the
/// umask: it holds the database and the token-signing secret. An existing directory keeps the
/// mode its operator gave it.
pub fn create_data_dir(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)?;
    // The umask may have taken bits off (even the owner's): set exactly 0700.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Config;

    #[test]
    fn database_location_never_shows_credentials() {
        let mut config = Config::for_tests(
            "data".into(),
            Some("postgres://app:s3cret@db.internal:5432/todo?sslmode=require".into()),
        );
        assert_eq!(config.database_location(), "postgres://db.internal:5432/todo");
        config.database_url = None;
        assert_eq!(config.database_location(), "sqlite:data/todokit.db");
    }
}
