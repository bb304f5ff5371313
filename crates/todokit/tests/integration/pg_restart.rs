//! PostgreSQL stops and starts again under a running todokit: requests fail
//! with 503 `unavailable` meanwhile, then succeed again without restarting
//! todokit, with the data written before the outage intact and nothing
//! half-written, and live events flowing again.
//!
//! The shared PostgreSQL on 127.0.0.1:5432 is never touched: the test makes
//! its own throwaway cluster (`initdb` into a temporary directory, as the
//! `postgres` user when running as root) on a free port, and a guard stops it
//! (`pg_ctl stop -m immediate`) even when the test panics.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;

use crate::chat::{chatkit, create_thread, user_input};
use crate::helpers::{TestApp, spawn_app_on_postgres};
use crate::live::{EventStream, LiveEvent};

/// Upper bound for waiting on something that is about to happen; never a
/// timing assertion, only a guard against hanging forever on a bug.
const PATIENCE: Duration = Duration::from_secs(30);

/// A PostgreSQL cluster of its own in a temporary directory.
pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// Running as root: PostgreSQL refuses to, so its tools run as `postgres`.
    as_postgres: bool,
}

impl Cluster {
    /// Creates and starts a cluster, or `None` (announced loudly) when the
    /// PostgreSQL server tools are not installed outside CI.
    pub async fn start_new() -> Option<Self> {
        Self::start_new_with(false).await
    }

    /// A cluster serving TLS too, with a self-signed certificate (made with `openssl`).
    pub async fn start_new_with_tls() -> Option<Self> {
        Self::start_new_with(true).await
    }

    async fn start_new_with(tls: bool) -> Option<Self> {
        let Some(bin) = server_tools() else {
            if std::env::var_os("CI").is_some() {
                panic!("initdb and pg_ctl are required in CI (looked in /usr/lib/postgresql/*/bin)");
            }
            crate::helpers::skipped("no initdb/pg_ctl under /usr/lib/postgresql/*/bin");
            return None;
        };
        let as_postgres = std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
        let dir = tempfile::Builder::new().prefix("todokit-pg-").tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Self { bin, dir, port, as_postgres };
        std::fs::create_dir(cluster.sockets()).unwrap();
        if as_postgres {
            run(std::process::Command::new("chown").arg("-R").arg("postgres:").arg(cluster.dir.path())).await;
        }
        let mut initdb = cluster.command("initdb");
        initdb.arg("-D").arg(cluster.data()).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        run(&mut initdb).await;
        if tls {
            cluster.turn_tls_on().await;
        }
        cluster.start().await;
        Some(cluster)
    }

    /// A self-signed certificate in the data directory, where `ssl = on` looks for it.
    async fn turn_tls_on(&self) {
        let (key, certificate) = (self.data().join("server.key"), self.data().join("server.crt"));
        let mut openssl = std::process::Command::new("openssl");
        openssl.args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ]);
        openssl.arg("-keyout").arg(&key).arg("-out").arg(&certificate);
        run(&mut openssl).await;
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        if self.as_postgres {
            run(std::process::Command::new("chown").arg("postgres:").arg(&key).arg(&certificate)).await;
        }
        let mut settings =
            std::fs::OpenOptions::new().append(true).open(self.data().join("postgresql.conf")).unwrap();
        std::io::Write::write_all(&mut settings, b"\nssl = on\n").unwrap();
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn sockets(&self) -> PathBuf {
        self.dir.path().join("sockets")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// A command for one of the server tools, as `postgres` when running as root.
    fn command(&self, tool: &str) -> std::process::Command {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            std::process::Command::new(program)
        };
        // The caller's directory may not be readable by `postgres`.
        command.current_dir(self.dir.path());
        command
    }

    fn pg_ctl(&self, action: &str) -> std::process::Command {
        let mut command = self.command("pg_ctl");
        command.arg("-D").arg(self.data()).args(["-w", "-t", "60", action]);
        command
    }

    async fn start(&self) {
        let mut start = self.pg_ctl("start");
        start.arg("-l").arg(self.log()).arg("-o").arg(format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c full_page_writes=off",
            self.port,
            self.sockets().display()
        ));
        if !try_run(&mut start).await {
            panic!("the throwaway PostgreSQL did not start; its log:\n{}", self.log_text());
        }
    }

    /// A fast shutdown: open connections are terminated, as in a restart.
    async fn stop(&self) {
        let mut stop = self.pg_ctl("stop");
        stop.args(["-m", "fast"]);
        run(&mut stop).await;
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// The URL of its `postgres` database, over TCP on loopback.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn options(&self) -> PgConnectOptions {
        PgConnectOptions::new().host("127.0.0.1").port(self.port).username("postgres").database("postgres")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Already stopped is fine; the temporary directory goes after this.
        let _ = self.pg_ctl("stop").args(["-m", "immediate"]).output();
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb` and `pg_ctl`.
fn server_tools() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// Runs a command to completion off the async runtime; true when it succeeded.
async fn try_run(command: &mut std::process::Command) -> bool {
    let description = format!("{command:?}");
    let mut command = std::mem::replace(command, std::process::Command::new("true"));
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap();
    match output {
        Ok(output) if output.status.success() => true,
        Ok(output) => {
            eprintln!(
                "{description} failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            false
        }
        Err(error) => {
            eprintln!("{description} could not run: {error}");
            false
        }
    }
}

async fn run(command: &mut std::process::Command) {
    let description = format!("{command:?}");
    assert!(try_run(command).await, "{description} failed (see above)");
}

/// Polls `check` until it holds, failing after [`PATIENCE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn readyz(app: &TestApp) -> crate::helpers::Response {
    app.send(Method::GET, "/readyz", None, None).await
}

#[track_caller]
fn assert_unavailable(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 503, "{what}: {body}");
    assert_eq!(body["error"]["code"], "unavailable", "{what}: {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}");
}

fn titles(list: &Value) -> Vec<String> {
    let mut titles: Vec<String> =
        list["tasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect();
    titles.sort();
    titles
}

async fn items(app: &TestApp, token: &str, thread_id: &str) -> Vec<Value> {
    let (status, _, page) =
        chatkit(app, token, json!({"type": "items.list", "params": {"thread_id": thread_id, "limit": 100}}))
            .await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().unwrap().clone()
}

/// Reads `stream` until the `task.created` event of `task_id`.
async fn until_task_created(stream: &mut EventStream, task_id: &str) -> LiveEvent {
    loop {
        let event = stream.next().await;
        if event.kind == "task.created" && event.data["task_id"] == task_id {
            return event;
        }
    }
}

#[tokio::test]
async fn postgres_restart_gives_503s_then_recovers_without_restarting_todokit() {
    let Some(cluster) = Cluster::start_new().await else { return };
    let app = spawn_app_on_postgres(cluster.options(), |_| {}).await;
    let token = app.new_user().await;

    // Before the outage everything works.
    app.create_task(&token, json!({"title": "Written before the outage", "tags": ["kept"]})).await;
    let (thread_id, _) = create_thread(&app, &token, "add buy milk").await;
    let tasks_before = app.get("/api/tasks", &token).await.expect(200);
    assert_eq!(titles(&tasks_before), ["Buy milk", "Written before the outage"]);
    let items_before = items(&app, &token, &thread_id).await;
    assert_eq!(readyz(&app).await.expect(200)["status"], "ready");
    let mut opened_before = EventStream::open(&app, &token, None).await;

    cluster.stop().await;

    // The first request finds the database gone (after the pool gives up);
    // later ones are answered at once while it stays down.
    let first = app.get("/api/tasks", &token).await;
    assert_unavailable(first.status.as_u16(), &first.body, "GET /api/tasks");
    // What makes the next ones fail at once instead of each waiting out the pool's timeout.
    assert!(app.state.db_health.is_down(), "the database is known to be down after a request found it so");
    let created = app.post("/api/tasks", &token, json!({"title": "Written during the outage"})).await;
    assert_unavailable(created.status.as_u16(), &created.body, "POST /api/tasks");
    let (status, _, body) = chatkit(
        &app,
        &token,
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("add call mom")}}),
    )
    .await;
    assert_unavailable(status, &body, "threads.add_user_message");
    let (status, _, body) = chatkit(
        &app,
        &token,
        json!({"type": "threads.create", "params": {"input": user_input("add pay rent")}}),
    )
    .await;
    assert_unavailable(status, &body, "threads.create");
    let (status, _, body) = chatkit(&app, &token, json!({"type": "threads.list", "params": {}})).await;
    assert_unavailable(status, &body, "threads.list");
    let ready = readyz(&app).await;
    assert_unavailable(ready.status.as_u16(), &ready.body, "/readyz");
    let events = EventStream::request(&app, &token, None).await;
    let status = events.status().as_u16();
    assert_unavailable(status, &TestApp::read(events).await.body, "GET /api/events");
    assert_eq!(app.send(Method::GET, "/healthz", None, None).await.expect(200)["status"], "ok");

    cluster.start().await;
    eventually("/readyz after PostgreSQL came back", || async { readyz(&app).await.status == 200 }).await;

    // The same requests work again, on the same todokit process, and the
    // data from before the outage is intact with nothing half-written.
    let tasks_after = app.get("/api/tasks", &token).await.expect(200);
    assert_eq!(tasks_after["tasks"], tasks_before["tasks"], "the tasks are exactly as before the outage");
    let (status, _, threads) = chatkit(&app, &token, json!({"type": "threads.list", "params": {}})).await;
    assert_eq!(status, 200, "{threads}");
    let thread_ids: Vec<&str> =
        threads["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(thread_ids, [thread_id.as_str()], "the refused threads.create left no thread behind");
    assert_eq!(items(&app, &token, &thread_id).await, items_before, "the thread is exactly as before");

    let mut opened_after = EventStream::open(&app, &token, None).await;
    let recovered = app.create_task(&token, json!({"title": "Written after the outage"})).await;
    let recovered_id = recovered["id"].as_str().unwrap();
    until_task_created(&mut opened_after, recovered_id).await;
    until_task_created(&mut opened_before, recovered_id).await;

    let (status, events, body) = chatkit(
        &app,
        &token,
        json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("add call mom")}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(events.iter().all(|e| e["type"] != "error"), "{events:?}");
    assert_eq!(
        titles(&app.get("/api/tasks", &token).await.expect(200)),
        ["Buy milk", "Call mom", "Written after the outage", "Written before the outage"]
    );
    let (_, created) = create_thread(&app, &token, "add pay rent").await;
    assert!(created.iter().all(|e| e["type"] != "error"), "{created:?}");
    assert_eq!(app.get("/api/tasks", &token).await.expect(200)["total"], 5);
}

/// A TCP proxy in front of PostgreSQL that can reset every connection
/// through it at once (as a dropped network path or a middlebox would).
struct ResettingProxy {
    port: u16,
    resets: tokio::sync::watch::Sender<u64>,
}

impl ResettingProxy {
    async fn start(upstream: (String, u16)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (resets, _) = tokio::sync::watch::channel(0u64);
        let watcher = resets.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Ok(mut server) = tokio::net::TcpStream::connect(upstream.clone()).await else { continue };
                let mut reset = watcher.subscribe();
                reset.mark_unchanged();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = reset.changed() => {
                            // Closing with a zero linger sends RST: the client's
                            // next read fails with "connection reset".
                            let _ = client.set_zero_linger();
                            let _ = server.set_zero_linger();
                        }
                    }
                });
            }
        });
        Self { port, resets }
    }

    fn reset_all(&self) {
        self.resets.send_modify(|generation| *generation += 1);
    }
}

#[tokio::test]
async fn live_events_resume_after_the_database_connections_are_reset() {
    let Some(pg) = crate::helpers::fresh_postgres_schema().await else { return };
    let proxy = ResettingProxy::start((pg.get_host().to_owned(), pg.get_port())).await;
    let app = spawn_app_on_postgres(pg.host("127.0.0.1").port(proxy.port), |_| {}).await;
    let token = app.new_user().await;
    let mut opened_before = EventStream::open(&app, &token, None).await;
    let task = app.create_task(&token, json!({"title": "Before the reset"})).await;
    until_task_created(&mut opened_before, task["id"].as_str().unwrap()).await;

    proxy.reset_all();

    eventually("the API after the reset", || async { app.get("/api/tasks", &token).await.status == 200 })
        .await;
    let mut opened_after = EventStream::open(&app, &token, None).await;
    let task = app.create_task(&token, json!({"title": "After the reset"})).await;
    let task_id = task["id"].as_str().unwrap();
    until_task_created(&mut opened_after, task_id).await;
    until_task_created(&mut opened_before, task_id).await;
}
