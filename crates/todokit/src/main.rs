mod cli;

use clap::Parser;
use std::io::IsTerminal;
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
/// not name. (`MIMALLOC_ARENA_EAGER_COMMIT=0` in the environment saves ~3 MB more at idle,
/// measured with [`use_small_pages`] in place; only the environment can set it.)
#[cfg(not(feature = "system-allocator"))]
fn return_freed_memory_promptly() {
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a process-wide allocator option, which mimalloc reads when it next
    // purges; 0 (purge at once) is a documented value.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
}

/// mimalloc asks the kernel for transparent huge pages, and a 2 MiB huge page is resident
/// as soon as any byte of it is used: idle RSS was ~42 MB with them and ~25 MB without
/// (measured; `MIMALLOC_ALLOW_THP=0` in the environment does the same). mimalloc reads its
/// option before `main`, so the process opts out itself; pages faulted in from now on are
/// small.
#[cfg(all(target_os = "linux", not(feature = "system-allocator")))]
fn use_small_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments and only sets a flag on this process.
    let failed = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0;
    if failed {
        // Harmless: memory use is higher, nothing else changes.
        eprintln!("todokit: could not opt out of transparent huge pages");
    }
}

/// Logs go to stderr: stdout belongs to `todokit mcp` (the MCP stdio
/// transport) and to commands whose output is piped.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    // Colour codes only on a terminal: not in files, pipes or journald.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
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
}

fn main() -> anyhow::Result<()> {
    // Allocator settings first: the runtime's own allocations would come before them.
    #[cfg(not(feature = "system-allocator"))]
    return_freed_memory_promptly();
    #[cfg(all(target_os = "linux", not(feature = "system-allocator")))]
    use_small_pages();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
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
        database = state.repos.database.backend().name(),
        location = %config.database_location(),
        "todokit is listening"
    );
    // The first SIGTERM or Ctrl-C starts the drain (--drain-secs); a second one ends it at once.
    let drain = state.drain.clone();
    let drain_secs = config.drain_secs;
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!(drain_secs, "shutting down: draining, then finishing in-flight requests");
        tokio::spawn(async move {
            shutdown_signal().await;
            drain.cut_short();
        });
    };
    todokit::serve(listener, state, shutdown).await?;
    Ok(())
}
