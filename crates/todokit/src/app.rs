//! Wiring: the shared state, the router and the server entry point used by
//! both `main` and the tests.

use std::future::Future;
use std::sync::Arc;

use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{PasswordHasher, Throttle, TokenKeys, load_or_create_secret};
use crate::chat::limits::ChatLimits;
use crate::chat::runs::{Replicas, Runs};
use crate::chat::{Assistant, ChatServer, DynChatStore, LiveStore, chat_server};
use crate::clock::Clock;
use crate::config::Config;
use crate::events::EventBus;
use crate::http::client_address::{ClientAddress, TrustedProxies};
use crate::http::connections::ConnectionLimits;
use crate::http::events::StreamCounter;
use crate::persistence::{Backend, DbHealth};
use crate::storage::{self, Repositories};
use crate::tasks::TaskService;
use crate::tools::TaskTools;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// Where every part of the server reads the time (a manual one in tests).
    pub clock: Clock,
    /// One handle per repository, all on the one database.
    pub repos: Repositories,
    /// Marked down when a request found the database unavailable; requests
    /// then fail fast until a probe reaches it again.
    pub db_health: Arc<DbHealth>,
    pub tasks: TaskService,
    pub chat: ChatServer,
    pub events: EventBus,
    pub runs: Arc<Runs>,
    pub chat_limits: ChatLimits,
    pub event_streams: Arc<StreamCounter>,
    pub tokens: Arc<TokenKeys>,
    /// Failed sign-ins, per account and client address (15 minutes).
    pub throttle: Arc<Throttle>,
    /// Sign-ups per client address (an hour).
    pub sign_ups: Arc<Throttle>,
    /// Whose forwarding headers name the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Every password hash and verification goes through here, so a burst of
    /// sign-ups or sign-ins queues instead of running out of memory.
    pub passwords: PasswordHasher,
    /// Cancelled when the server shuts down: ends live event streams and
    /// background work so a graceful shutdown does not wait on them.
    pub shutdown: CancellationToken,
    /// The drain before shutdown: not ready any more, still serving.
    pub drain: Drain,
}

/// The drain period between a stop signal and the listener closing (`--drain-secs`): `/readyz`
/// answers 503 so load balancers take this server out of rotation, while whatever still
/// arrives, new connections included, is served as usual.
#[derive(Clone, Default)]
pub struct Drain {
    started: CancellationToken,
    cut: CancellationToken,
}

impl Drain {
    /// Whether the drain has begun: the server is stopping and no longer ready.
    pub fn is_draining(&self) -> bool {
        self.started.is_cancelled()
    }

    /// Ends the drain now instead of at its deadline (a second stop signal does this).
    pub fn cut_short(&self) {
        self.cut.cancel();
    }

    /// Resolves when the drain has run for `period` or was cut short.
    async fn run(&self, period: Duration) {
        self.started.cancel();
        if period.is_zero() {
            return;
        }
        tracing::info!(
            seconds = period.as_secs_f64(),
            "draining: /readyz answers 503, requests are still served"
        );
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            () = self.cut.cancelled() => tracing::info!("drain cut short"),
        }
    }
}

impl AppState {
    /// Opens storage (applying migrations) and loads the signing secret.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        crate::config::create_data_dir(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        let repos = storage::connect(&config.database_url()).await?;
        Self::with_storage(config, repos).await
    }

    pub async fn with_storage(config: Config, repos: Repositories) -> anyhow::Result<Self> {
        Self::with_storage_and_clock(config, repos, Clock::system()).await
    }

    /// Like [`AppState::with_storage`], reading the time from `clock`.
    pub async fn with_storage_and_clock(
        config: Config,
        repos: Repositories,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let secret = load_or_create_secret(config.jwt_secret.as_deref(), &config.data_dir)?;
        let trusted_proxies = Arc::new(TrustedProxies::parse(&config.trusted_proxies)?);
        let passwords = match config.password_hash_concurrency {
            0 => PasswordHasher::per_cpu(),
            limit => PasswordHasher::new(limit),
        };
        let events = EventBus::start(repos.events.clone(), clock.clone()).await?;
        let tasks =
            TaskService::new(repos.tasks.clone()).with_events(events.clone()).with_clock(clock.clone());
        let chat_store: DynChatStore = Arc::new(LiveStore::new(repos.chat.clone(), events.clone()));
        let assistant = Assistant::new(
            config.llm.resolve()?,
            Arc::new(TaskTools::new(tasks.clone())),
            chat_store.clone(),
        )?;
        match assistant.model() {
            Some(model) => tracing::info!(model, "assistant: language model"),
            None => tracing::info!(
                "assistant: offline command interpreter (set GEMINI_API_KEY or TODOKIT_LLM_* for a model)"
            ),
        }
        // SQLite is for one process; replicas share PostgreSQL.
        let runs = Arc::new(match repos.database.backend() {
            Backend::Sqlite => Runs::local(),
            Backend::Postgres => Runs::shared(Replicas {
                claims: repos.run_claims.clone(),
                checkpoints: repos.reply_checkpoints.clone(),
                store: chat_store.clone(),
                events: events.clone(),
                lease: Duration::from_millis(config.claim_lease_ms),
            }),
        });
        Ok(Self {
            tokens: Arc::new(TokenKeys::new(&secret, config.token_ttl_days)),
            throttle: Arc::new(Throttle::new(Duration::from_secs(15 * 60))),
            sign_ups: Arc::new(Throttle::new(Duration::from_secs(60 * 60))),
            trusted_proxies,
            tasks,
            chat: chat_server(chat_store, assistant),
            events,
            event_streams: Arc::default(),
            runs,
            chat_limits: ChatLimits {
                per_minute: config.chat_messages_per_minute,
                per_day: config.chat_messages_per_day,
            },
            repos,
            db_health: Arc::default(),
            clock,
            shutdown: CancellationToken::new(),
            drain: Drain::default(),
            passwords,
            config: Arc::new(config),
        })
    }
}

/// After a failed accept (e.g. out of file descriptors), waits a moment instead of spinning.
async fn wait_after_accept_error(error: std::io::Error) {
    tracing::warn!(%error, "could not accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The whole application as a router.
pub fn app(state: AppState) -> Router {
    crate::http::router(state)
}

/// Serves (with the background work of [`crate::background`]) until
/// `shutdown` resolves, then drains for `--drain-secs` (see [`Drain`]: `/readyz` answers 503,
/// everything else is still served), closes the listener, ends live event streams and lets
/// in-flight requests, including running chat replies, finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = state.shutdown.clone();
    let background = crate::background::spawn(state.clone());
    // Kept until the server is done, not only until shutdown starts: replies still finishing
    // keep their threads claimed, and a stop sent to another replica still reaches them.
    let served_all = CancellationToken::new();
    let claim_keeper = state.runs.spawn_claim_keeper(&state.events, served_all.clone());
    let advertised = state.config.advertise_url.clone().or_else(|| {
        let address = listener.local_addr().ok().filter(|address| !address.ip().is_unspecified())?;
        Some(format!("http://{address}"))
    });
    if let Some(url) = advertised {
        state.runs.advertise(url);
    }
    let limits = ConnectionLimits::new(
        usize::try_from(state.config.max_connections).unwrap_or(usize::MAX),
        usize::try_from(state.config.max_connections_per_address).unwrap_or(usize::MAX),
    );
    let header_timeout =
        Some(Duration::from_secs(state.config.header_timeout_secs)).filter(|timeout| !timeout.is_zero());
    let trusted_proxies = state.trusted_proxies.clone();
    let drain = state.drain.clone();
    let drain_period = Duration::from_secs(state.config.drain_secs);
    let router = app(state);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let accept = |stream: tokio::net::TcpStream, peer: std::net::SocketAddr| {
        // A trusted proxy carries many clients: only the total cap applies to it.
        let proxied = trusted_proxies.trusts(peer.ip());
        let Some(admitted) = limits.admit(peer.ip(), !proxied) else {
            tracing::debug!(%peer, "connection closed at once: over the connection limits");
            return;
        };
        // Streamed replies are many small writes: without TCP_NODELAY, Nagle's algorithm holds
        // the first event back until the headers are acknowledged (the client's delayed ACK).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let router = router.clone();
        let trusted_proxies = trusted_proxies.clone();
        let service =
            hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                let client = trusted_proxies.client_address(peer.ip(), request.headers());
                request.extensions_mut().insert(ClientAddress(client));
                request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(router.clone(), request)
            });
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
        let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            drop(admitted);
        });
    };
    // Serving until the stop signal, then through the drain: not ready, still serving.
    let stop = async move {
        shutdown.await;
        drain.run(drain_period).await;
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => accept(stream, peer),
                Err(error) => wait_after_accept_error(error).await,
            },
            () = &mut stop => break,
        }
    }
    drop(listener);
    // Live event streams end (their clients reconnect through the balancer, to another
    // replica by now); in-flight requests, running chat replies included, finish.
    stopping.cancel();
    connections.shutdown().await;
    let _ = background.await;
    served_all.cancel();
    if let Some(claim_keeper) = claim_keeper {
        let _ = claim_keeper.await;
    }
    Ok(())
}
