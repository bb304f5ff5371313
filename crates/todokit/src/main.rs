mod cli;

use clap::Parser;
use todokit::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// glibc malloc keeps freed memory in per-thread arenas (argon2 alone needs ~19 MiB per
/// sign-in, on whichever blocking thread runs it); mimalloc returns it, so RSS falls back
/// after load (measured with scripts/soak; figures in SECURITY.md).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// By default mimalloc keeps freed pages for a while before returning them; todokit's
/// biggest allocations are argon2's ~19 MiB blocks, which then stayed resident at idle.
/// Returning them at once took idle RSS after a sign-up from ~55 MB to ~36 MB. The option
/// number is mimalloc v2's `mi_option_purge_delay` (mimalloc.h), which libmimalloc-sys does
/// not name. (`MIMALLOC_ARENA_EAGER_COMMIT=0` in the environment saves ~15 MB more; it must
/// be set before the allocator starts, so only the environment can set it.)
#[cfg(not(feature = "system-allocator"))]
fn return_freed_memory_promptly() {
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a process-wide allocator option, which mimalloc reads when it next
    // purges; 0 (purge at once) is a documented value.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
}

/// Logs go to stderr: stdout belongs to `todokit mcp` (the MCP stdio
/// transport) and to commands whose output is piped.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing in-flight requests");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    #[cfg(not(feature = "system-allocator"))]
    return_freed_memory_promptly();
    let cli::Cli { config, command } = cli::Cli::parse();
    init_logging(config.log_format);
    match command.unwrap_or(cli::Command::Serve) {
        cli::Command::Serve => serve(config).await,
        other => cli::run(other, config).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let state = todokit::AppState::build(config.clone()).await?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(
        address = %format!("http://{}", listener.local_addr()?),
        database = state.storage.backend().name(),
        location = %config.database_location(),
        "todokit is listening"
    );
    todokit::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}
