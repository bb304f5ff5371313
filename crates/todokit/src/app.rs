//! Wiring: the shared state, the router and the server entry point used by
//! both `main` and the tests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{PasswordHasher, SignInThrottle, TokenKeys, load_or_create_secret};
use crate::chat::limits::ChatLimits;
use crate::chat::runs::Runs;
use crate::chat::{Assistant, ChatServer, DynChatStore, LiveStore, chat_server};
use crate::config::Config;
use crate::events::EventBus;
use crate::http::events::StreamCounter;
use crate::storage::{self, Backend, DbHealth, DynStorage};
use crate::tasks::TaskService;
use crate::tools::TaskTools;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub storage: DynStorage,
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
    pub throttle: Arc<SignInThrottle>,
    /// Every password hash and verification goes through here, so a burst of
    /// sign-ups or sign-ins queues instead of running out of memory.
    pub passwords: PasswordHasher,
    /// Cancelled when the server shuts down: ends live event streams and
    /// background work so a graceful shutdown does not wait on them.
    pub shutdown: CancellationToken,
}

impl AppState {
    /// Opens storage (applying migrations) and loads the signing secret.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        crate::config::create_data_dir(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        let storage = storage::connect(&config.database_url()).await?;
        Self::with_storage(config, storage).await
    }

    pub async fn with_storage(config: Config, storage: DynStorage) -> anyhow::Result<Self> {
        let secret = load_or_create_secret(config.jwt_secret.as_deref(), &config.data_dir)?;
        let passwords = match config.password_hash_concurrency {
            0 => PasswordHasher::per_cpu(),
            limit => PasswordHasher::new(limit),
        };
        let events = EventBus::start(storage.clone()).await?;
        let tasks = TaskService::new(storage.clone()).with_events(events.clone());
        let chat_store: DynChatStore = Arc::new(LiveStore::new(storage.chat_store(), events.clone()));
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
        Ok(Self {
            tokens: Arc::new(TokenKeys::new(&secret, config.token_ttl_days)),
            throttle: Arc::new(SignInThrottle::new(config.signin_attempts)),
            tasks,
            chat: chat_server(chat_store, assistant),
            events,
            event_streams: Arc::default(),
            // SQLite is for one process; replicas share PostgreSQL.
            runs: Arc::new(match storage.backend() {
                Backend::Sqlite => Runs::local(),
                Backend::Postgres => Runs::shared(storage.clone()),
            }),
            chat_limits: ChatLimits {
                per_minute: config.chat_messages_per_minute,
                per_day: config.chat_messages_per_day,
            },
            storage,
            db_health: Arc::default(),
            shutdown: CancellationToken::new(),
            passwords,
            config: Arc::new(config),
        })
    }
}

/// The whole application as a router.
pub fn app(state: AppState) -> Router {
    crate::http::router(state)
}

/// Serves (with the background work of [`crate::background`]) until
/// `shutdown` resolves, then ends live event streams and lets in-flight
/// requests, including running chat replies, finish.
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
    // Streamed replies are many small writes: without TCP_NODELAY, Nagle's algorithm holds the
    // first event back until the headers are acknowledged (the client's delayed ACK, ~40 ms).
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let signal = {
        let stopping = stopping.clone();
        async move {
            shutdown.await;
            stopping.cancel();
        }
    };
    let served = axum::serve(listener, service).with_graceful_shutdown(signal).await;
    stopping.cancel();
    let _ = background.await;
    served_all.cancel();
    if let Some(claim_keeper) = claim_keeper {
        let _ = claim_keeper.await;
    }
    served
}
