//! `todokit-fake-llm`: run the scripted fake OpenAI-compatible server from the command line.
//!
//! The first line on stdout is the bound address (`127.0.0.1:PORT`), so scripts can start it on
//! port 0 and read where it landed. Logs go to stderr (`RUST_LOG`, default `warn`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use todokit_fake_llm::{Benchmark, FakeLlm, Script, Shape};

/// A scripted fake of an OpenAI-compatible Chat Completions server (test double only).
#[derive(Debug, Parser)]
#[command(name = "todokit-fake-llm", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", env = "FAKE_LLM_ADDR")]
    addr: SocketAddr,

    /// Script file (JSON; format in the crate docs). Default: echo.
    #[arg(long, env = "FAKE_LLM_SCRIPT")]
    script: Option<PathBuf>,

    /// Shape for replies when the script sets none (default: from the request path).
    #[arg(long, value_enum)]
    shape: Option<ShapeArg>,

    /// Require `Authorization: Bearer <KEY>` on provider endpoints.
    #[arg(long, env = "FAKE_LLM_API_KEY")]
    api_key: Option<String>,

    /// Enable the built-in benchmark rules ("add ..." → create_task; tool result → 20 words).
    #[arg(long)]
    benchmark: bool,

    /// Benchmark rules: delay before each chunk after the first, in milliseconds.
    #[arg(long, default_value_t = 0, requires = "benchmark")]
    chunk_delay_ms: u64,

    /// Benchmark rules: delay before the first chunk, in milliseconds.
    #[arg(long, default_value_t = 0, requires = "benchmark")]
    first_chunk_delay_ms: u64,

    /// Benchmark rules: each reply word is its chunk's send time (`@<µs since the Unix epoch>`).
    #[arg(long, requires = "benchmark")]
    stamp_words: bool,

    /// Recorded requests to keep for `GET /_fake/requests` [default: 1000, or 0 with --benchmark].
    #[arg(long)]
    record_limit: Option<usize>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ShapeArg {
    Openai,
    Gemini,
    #[value(name = "llama.cpp")]
    LlamaCpp,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let mut script = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading script {}", path.display()))?;
            Script::from_json(&text).with_context(|| format!("parsing script {}", path.display()))?
        }
        None => Script::default(),
    };
    if script.shape.is_none() {
        script.shape = args.shape.map(|shape| match shape {
            ShapeArg::Openai => Shape::Openai,
            ShapeArg::Gemini => Shape::Gemini,
            ShapeArg::LlamaCpp => Shape::LlamaCpp,
        });
    }
    if args.benchmark {
        script.benchmark = Some(Benchmark {
            first_chunk_delay_ms: args.first_chunk_delay_ms,
            chunk_delay_ms: args.chunk_delay_ms,
            stamp_words: args.stamp_words,
            ..Benchmark::default()
        });
    }

    let mut builder =
        FakeLlm::builder().script(script).record_limit(args.record_limit.unwrap_or(if args.benchmark {
            // At benchmark volume, recording would only cost memory and lock contention.
            0
        } else {
            todokit_fake_llm::DEFAULT_RECORD_LIMIT
        }));
    if let Some(key) = args.api_key {
        builder = builder.api_key(key);
    }
    let listener =
        tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("binding {}", args.addr))?;
    let address = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{address}")?;
    stdout.flush()?;
    drop(stdout);

    tokio::select! {
        served = todokit_fake_llm::serve(listener, builder.build()) => served.context("serving")?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
