//! `todokit-loadgen`: the load generator behind `bench/run`.
//!
//! Every subcommand prints one JSON object on stdout (the measurements) and nothing else there.
//! It drives any server speaking the ChatKit protocol at `POST /api/chatkit` (todokit or the
//! Python peer), todokit's `GET /api/events`, and todokit's task REST API.
//!
//! * `chat`: ChatKit turns (`threads.create`, or `threads.add_user_message` with `--thread-id`)
//!   at a fixed concurrency: turns/s, full-turn latency, time to first event, time to first text
//!   delta, time to the first tool (workflow) event, and — when the fake LLM stamps its words
//!   with their send time (`--stamp-words`) — the delay added between the model writing a chunk
//!   and the client receiving the matching `text_delta`.
//! * `seed-thread`: a thread with at least `--items` items, for the history-cost scenario.
//! * `events`: N `/api/events` subscribers held open; then one task change, and how long the
//!   event takes to reach every subscriber.
//! * `rest`: closed-loop REST load (list with a filter, create, complete) for a fixed time.
//!
//! `--pid` (repeatable) samples the server's VmRSS from /proc every 50 ms (summed over the pids,
//! for multi-process servers) and reports idle, peak and VmHWM.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Debug, Parser)]
#[command(name = "todokit-loadgen")]
struct Args {
    /// Base URL of the server, e.g. http://127.0.0.1:8080
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Bearer token.
    #[arg(long, global = true, default_value = "bench")]
    token: String,
    /// Server process ids whose memory to sample (summed).
    #[arg(long = "pid", global = true)]
    pids: Vec<u32>,
    /// Client worker threads.
    #[arg(long, global = true, default_value_t = 2)]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Chat {
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// Total turns.
        #[arg(long, default_value_t = 20)]
        turns: usize,
        #[arg(long, default_value = "add buy milk")]
        message: String,
        /// Send `threads.add_user_message` to this thread instead of creating threads.
        #[arg(long)]
        thread_id: Option<String>,
        /// Give up on a turn after this long.
        #[arg(long, default_value_t = 300)]
        timeout_secs: u64,
    },
    SeedThread {
        #[arg(long, default_value_t = 50)]
        items: usize,
    },
    Events {
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
    },
    Rest {
        #[arg(long, value_enum)]
        op: RestOp,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 5.0)]
        duration_secs: f64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RestOp {
    /// GET /api/tasks?status=pending&priority=high&limit=100
    List,
    /// POST /api/tasks
    Create,
    /// POST /api/tasks/{id}/complete on distinct pending tasks
    Complete,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()?;
    // On a worker thread, not the main one: the turns then run on the threads that drive their
    // connections instead of waking one another across threads for every chunk (measured: a
    // quarter of the load generator's CPU was the kernel switching between them).
    let report = runtime.block_on(async { tokio::spawn(run(args)).await })??;
    println!("{report}");
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<Value> {
    let client = reqwest::Client::builder().tcp_nodelay(true).pool_max_idle_per_host(usize::MAX).build()?;
    let bench = Bench { client, url: args.url.trim_end_matches('/').to_owned(), token: args.token };
    let memory = MemorySampler::start(args.pids);
    let mut report = match args.command {
        Command::Chat { concurrency, turns, message, thread_id, timeout_secs } => {
            chat(&bench, concurrency, turns, &message, thread_id, Duration::from_secs(timeout_secs)).await?
        }
        Command::SeedThread { items } => seed_thread(&bench, items).await?,
        Command::Events { subscribers, timeout_secs } => {
            events(&bench, subscribers, Duration::from_secs(timeout_secs), &memory).await?
        }
        Command::Rest { op, concurrency, duration_secs } => {
            rest(&bench, op, concurrency, Duration::from_secs_f64(duration_secs)).await?
        }
    };
    if let Some(memory) = memory.finish().await {
        report["memory_kb"] = memory;
    }
    Ok(report)
}

struct Bench {
    client: reqwest::Client,
    url: String,
    token: String,
}

// ---------------------------------------------------------------- chat turns

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    item: Option<ItemHead>,
    #[serde(default)]
    update: Option<Update>,
    #[serde(default)]
    thread: Option<ItemHead>,
}

#[derive(Deserialize)]
struct ItemHead {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Update {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    delta: Option<String>,
}

/// What one turn measured (milliseconds from sending the request).
#[derive(Default)]
struct Turn {
    total: f64,
    first_event: Option<f64>,
    thread_created: Option<f64>,
    first_delta: Option<f64>,
    tool_event: Option<f64>,
    /// Model chunk written → text delta received, per stamped delta.
    delta_delays: Vec<f64>,
    thread_id: Option<String>,
    item_ids: Vec<String>,
}

fn user_input(text: &str) -> Value {
    json!({"content": [{"type": "input_text", "text": text}], "attachments": [], "inference_options": {}})
}

fn epoch_micros() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_micros())
}

async fn turn(bench: &Bench, body: &Value, timeout: Duration) -> anyhow::Result<Turn> {
    let started = Instant::now();
    let ms = move || started.elapsed().as_secs_f64() * 1000.0;
    let work = async {
        let response = bench
            .client
            .post(format!("{}/api/chatkit", bench.url))
            .bearer_auth(&bench.token)
            .json(body)
            .send()
            .await
            .context("sending")?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            bail!("HTTP {status}: {}", text.chars().take(200).collect::<String>());
        }
        let mut turn = Turn::default();
        let mut events = response.bytes_stream().eventsource();
        while let Some(event) = events.next().await {
            let event = event.context("reading the stream")?;
            let at = ms();
            turn.first_event.get_or_insert(at);
            let parsed: Event = serde_json::from_str(&event.data).context("an event that is not JSON")?;
            match parsed.kind.as_str() {
                "error" => bail!("error event: {}", event.data.chars().take(200).collect::<String>()),
                "thread.created" => {
                    turn.thread_created.get_or_insert(at);
                    turn.thread_id = parsed.thread.and_then(|thread| thread.id);
                }
                "thread.item.added" | "thread.item.done" => {
                    if let Some(item) = parsed.item {
                        if item.kind.as_deref() == Some("workflow") {
                            turn.tool_event.get_or_insert(at);
                        }
                        if let Some(id) = item.id
                            && !turn.item_ids.contains(&id)
                        {
                            turn.item_ids.push(id);
                        }
                    }
                }
                "thread.item.updated" => {
                    let Some(update) = parsed.update else { continue };
                    if update.kind.starts_with("workflow.") {
                        turn.tool_event.get_or_insert(at);
                    }
                    if update.kind == "assistant_message.content_part.text_delta" {
                        turn.first_delta.get_or_insert(at);
                        let received = epoch_micros();
                        if let Some(sent) = update.delta.as_deref().and_then(stamp) {
                            turn.delta_delays.push(received.saturating_sub(sent) as f64 / 1000.0);
                        }
                    }
                }
                _ => {}
            }
        }
        if turn.first_delta.is_none() {
            bail!("the stream ended without any assistant text");
        }
        turn.total = ms();
        Ok(turn)
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| anyhow::anyhow!("timed out after {timeout:?}"))?
}

/// The send time the fake LLM wrote into a word: `@<µs since the Unix epoch>`.
fn stamp(delta: &str) -> Option<u128> {
    delta.trim().strip_prefix('@')?.parse().ok()
}

async fn chat(
    bench: &Bench,
    concurrency: usize,
    turns: usize,
    message: &str,
    thread_id: Option<String>,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let body = match &thread_id {
        Some(thread_id) => json!({"type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input(message)}}),
        None => json!({"type": "threads.create", "params": {"input": user_input(message)}}),
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<anyhow::Result<Turn>>> = Mutex::new(Vec::with_capacity(turns));
    let started = Instant::now();
    let (next, results, body) = (&next, &results, &body);
    let workers = (0..concurrency.min(turns)).map(|_| async move {
        while next.fetch_add(1, Ordering::Relaxed) < turns {
            let result = turn(bench, body, timeout).await;
            results.lock().await.push(result);
        }
    });
    futures::future::join_all(workers).await;
    let elapsed = started.elapsed().as_secs_f64();
    let results = std::mem::take(&mut *results.lock().await);
    let mut summary = TurnSummary::default();
    let mut error_samples: Vec<String> = Vec::new();
    for result in results {
        match result {
            Ok(turn) => summary.add(turn),
            Err(error) => {
                summary.errors += 1;
                let text = format!("{error:#}");
                if error_samples.len() < 5 && !error_samples.contains(&text) {
                    error_samples.push(text);
                }
            }
        }
    }
    Ok(json!({
        "concurrency": concurrency,
        "turns": turns,
        "ok": summary.total.len(),
        "errors": summary.errors,
        "error_samples": error_samples,
        "elapsed_s": elapsed,
        "turns_per_s": summary.total.len() as f64 / elapsed,
        "latency_ms": percentiles(&mut summary.total),
        "first_event_ms": percentiles(&mut summary.first_event),
        "thread_created_ms": percentiles(&mut summary.thread_created),
        "first_delta_ms": percentiles(&mut summary.first_delta),
        "tool_event_ms": percentiles(&mut summary.tool_event),
        "delta_delay_ms": percentiles(&mut summary.delta_delays),
    }))
}

#[derive(Default)]
struct TurnSummary {
    errors: usize,
    total: Vec<f64>,
    first_event: Vec<f64>,
    thread_created: Vec<f64>,
    first_delta: Vec<f64>,
    tool_event: Vec<f64>,
    delta_delays: Vec<f64>,
}

impl TurnSummary {
    fn add(&mut self, turn: Turn) {
        self.total.push(turn.total);
        self.first_event.extend(turn.first_event);
        self.thread_created.extend(turn.thread_created);
        self.first_delta.extend(turn.first_delta);
        self.tool_event.extend(turn.tool_event);
        self.delta_delays.extend(turn.delta_delays);
    }
}

fn percentiles(values: &mut [f64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    values.sort_by(f64::total_cmp);
    let at = |p: f64| values[((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    json!({"n": values.len(), "p50": at(0.5), "p99": at(0.99), "max": values[values.len() - 1],
           "mean": values.iter().sum::<f64>() / values.len() as f64})
}

async fn seed_thread(bench: &Bench, items: usize) -> anyhow::Result<Value> {
    let timeout = Duration::from_secs(60);
    let first = turn(
        bench,
        &json!({"type": "threads.create", "params": {"input": user_input("add history 0")}}),
        timeout,
    )
    .await?;
    let thread_id = first.thread_id.clone().context("no thread.created event")?;
    let mut count = first.item_ids.len();
    let mut turns = 1;
    while count < items {
        let body = json!({"type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input(&format!("add history {turns}"))}});
        count += turn(bench, &body, timeout).await?.item_ids.len();
        turns += 1;
        if turns > items {
            bail!("{turns} turns produced only {count} items");
        }
    }
    Ok(json!({"thread_id": thread_id, "items": count, "turns": turns}))
}

// ---------------------------------------------------------------- /api/events subscribers

async fn events(
    bench: &Bench,
    subscribers: usize,
    timeout: Duration,
    memory: &MemorySampler,
) -> anyhow::Result<Value> {
    let connected = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopping = Arc::new(AtomicBool::new(false));
    let trigger: Arc<std::sync::OnceLock<Instant>> = Arc::new(std::sync::OnceLock::new());
    let arrivals: Arc<std::sync::Mutex<Vec<f64>>> = Arc::default();
    let errors: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let started = Instant::now();
    let mut handles = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let request = bench
            .client
            .get(format!("{}/api/events", bench.url))
            .bearer_auth(&bench.token)
            .header("accept", "text/event-stream");
        let (connected, failed, stop, stopping, trigger, arrivals, errors) = (
            connected.clone(),
            failed.clone(),
            stop.clone(),
            stopping.clone(),
            trigger.clone(),
            arrivals.clone(),
            errors.clone(),
        );
        handles.push(tokio::spawn(async move {
            let fail = |message: String| {
                failed.fetch_add(1, Ordering::Relaxed);
                let mut errors = errors.lock().unwrap();
                if errors.len() < 5 && !errors.contains(&message) {
                    errors.push(message);
                }
            };
            let response = match request.send().await {
                Ok(response) if response.status().is_success() => response,
                Ok(response) => return fail(format!("HTTP {}", response.status())),
                Err(error) => return fail(format!("{error:#}")),
            };
            connected.fetch_add(1, Ordering::Relaxed);
            let mut events = response.bytes_stream().eventsource();
            let mut seen = false;
            loop {
                tokio::select! {
                    event = events.next() => match event {
                        Some(Ok(_)) => {
                            if !seen && let Some(at) = trigger.get() {
                                seen = true;
                                arrivals.lock().unwrap().push(at.elapsed().as_secs_f64() * 1000.0);
                            }
                        }
                        Some(Err(error)) => {
                            if !stopping.load(Ordering::Relaxed) { fail(format!("stream: {error}")); }
                            return;
                        }
                        None => {
                            if !stopping.load(Ordering::Relaxed) { fail("stream ended".into()); }
                            return;
                        }
                    },
                    () = stop.notified() => return,
                }
            }
        }));
    }
    let deadline = Instant::now() + timeout;
    while connected.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < subscribers
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_s = started.elapsed().as_secs_f64();
    // Let the server settle, then read its memory with every stream open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_open_kb = memory.current();
    let open = connected.load(Ordering::Relaxed);
    trigger.set(Instant::now()).ok();
    let created = bench
        .client
        .post(format!("{}/api/tasks", bench.url))
        .bearer_auth(&bench.token)
        .json(&json!({"title": "fan-out"}))
        .send()
        .await?;
    if !created.status().is_success() {
        bail!("creating the trigger task: HTTP {}", created.status());
    }
    let fan_deadline = Instant::now() + Duration::from_secs(30);
    while arrivals.lock().unwrap().len() < open && Instant::now() < fan_deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut arrived = std::mem::take(&mut *arrivals.lock().unwrap());
    stopping.store(true, Ordering::Relaxed);
    stop.notify_waiters();
    for handle in handles {
        handle.abort();
    }
    let errors = std::mem::take(&mut *errors.lock().unwrap());
    Ok(json!({
        "subscribers": subscribers,
        "connected": open,
        "failed": failed.load(Ordering::Relaxed),
        "error_samples": errors,
        "connect_s": connect_s,
        "received": arrived.len(),
        "fanout_ms": percentiles(&mut arrived),
        "rss_open_kb": rss_open_kb,
    }))
}

// ---------------------------------------------------------------- REST

async fn rest(bench: &Bench, op: RestOp, concurrency: usize, duration: Duration) -> anyhow::Result<Value> {
    let ids: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    if let RestOp::Complete = op {
        let mut offset = 0;
        loop {
            let page: Value = bench
                .client
                .get(format!("{}/api/tasks?status=pending&limit=100&offset={offset}", bench.url))
                .bearer_auth(&bench.token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let tasks = page["tasks"].as_array().cloned().unwrap_or_default();
            if tasks.is_empty() || offset >= 50_000 {
                break;
            }
            offset += tasks.len();
            ids.lock()
                .unwrap()
                .extend(tasks.iter().filter_map(|task| task["id"].as_str().map(str::to_owned)));
        }
        if ids.lock().unwrap().is_empty() {
            bail!("no pending tasks to complete");
        }
    }
    let counter = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let latencies: Mutex<Vec<f64>> = Mutex::new(Vec::new());
    let started = Instant::now();
    let (counter, errors, latencies, ids) = (&counter, &errors, &latencies, &ids);
    let workers = (0..concurrency).map(|_| async move {
        let mut mine = Vec::new();
        while started.elapsed() < duration {
            let request = match op {
                RestOp::List => bench
                    .client
                    .get(format!("{}/api/tasks?status=pending&priority=high&sort=due&limit=100", bench.url)),
                RestOp::Create => {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    bench.client.post(format!("{}/api/tasks", bench.url)).json(&json!({
                        "title": format!("bench task {n}"), "priority": "high", "tags": ["bench"]}))
                }
                RestOp::Complete => {
                    let Some(id) = ids.lock().unwrap().pop() else { break };
                    bench.client.post(format!("{}/api/tasks/{id}/complete", bench.url))
                }
            };
            let sent = Instant::now();
            let ok = match request.bearer_auth(&bench.token).send().await {
                Ok(response) => {
                    let success = response.status().is_success();
                    response.bytes().await.is_ok() && success
                }
                Err(_) => false,
            };
            if ok {
                mine.push(sent.elapsed().as_secs_f64() * 1000.0);
            } else {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        latencies.lock().await.extend(mine);
    });
    futures::future::join_all(workers).await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = std::mem::take(&mut *latencies.lock().await);
    Ok(json!({
        "op": format!("{op:?}").to_lowercase(),
        "concurrency": concurrency,
        "requests": latencies.len(),
        "errors": errors.load(Ordering::Relaxed),
        "elapsed_s": elapsed,
        "req_per_s": latencies.len() as f64 / elapsed,
        "latency_ms": percentiles(&mut latencies),
    }))
}

// ---------------------------------------------------------------- memory

struct MemorySampler {
    pids: Vec<u32>,
    idle_kb: Option<u64>,
    peak_kb: Arc<std::sync::atomic::AtomicU64>,
    running: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MemorySampler {
    fn start(pids: Vec<u32>) -> Self {
        let peak_kb = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let running = Arc::new(AtomicBool::new(true));
        let idle_kb = if pids.is_empty() { None } else { Some(sum_status(&pids, "VmRSS:")) };
        let task = (!pids.is_empty()).then(|| {
            let (pids, peak_kb, running) = (pids.clone(), peak_kb.clone(), running.clone());
            tokio::spawn(async move {
                while running.load(Ordering::Relaxed) {
                    peak_kb.fetch_max(sum_status(&pids, "VmRSS:"), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        });
        MemorySampler { pids, idle_kb, peak_kb, running, task }
    }

    fn current(&self) -> Option<u64> {
        (!self.pids.is_empty()).then(|| sum_status(&self.pids, "VmRSS:"))
    }

    async fn finish(mut self) -> Option<Value> {
        let idle_kb = self.idle_kb?;
        self.running.store(false, Ordering::Relaxed);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        Some(json!({
            "before": idle_kb,
            "peak": self.peak_kb.load(Ordering::Relaxed).max(idle_kb),
            "after": sum_status(&self.pids, "VmRSS:"),
            "hwm": sum_status(&self.pids, "VmHWM:"),
        }))
    }
}

/// A /proc/<pid>/status field in kB, summed over the processes.
fn sum_status(pids: &[u32], field: &str) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line[field.len()..].trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum()
}
