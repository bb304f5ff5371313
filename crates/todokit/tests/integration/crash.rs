//! Crash safety: the real binary is SIGKILLed in the middle of a burst of concurrent writes
//! (task creates, completions of recurring tasks, chat turns with the offline assistant,
//! thread deletes), restarted on the same database (SQLite file, or a PostgreSQL schema),
//! and the data must be consistent:
//! every acknowledged write is there, task numbers are unique and keep increasing,
//! recurring series have no duplicate or missing occurrence, no chat item outlived its thread.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, Row, SqliteConnection};
use tokio::sync::Notify;

use crate::chat::user_input;
use crate::helpers::JWT_SECRET;

const USERS: usize = 4;
/// Acknowledged writes of each kind (create, completion, chat turn) to wait for before the
/// kill: enough that every kind of write is in flight, few enough to keep the test short.
const WRITES_OF_EACH_KIND_BEFORE_KILL: usize = 15;
const CREATE: usize = 0;
const COMPLETION: usize = 1;
const CHAT_TURN: usize = 2;

struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts the binary; an empty `database_url` means SQLite in `data_dir`.
    async fn start(data_dir: &Path, database_url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_todokit"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir)
            .env_clear()
            .env("TODOKIT_JWT_SECRET", JWT_SECRET)
            .env("DATABASE_URL", database_url)
            .env("TODOKIT_CHAT_MESSAGES_PER_MINUTE", "0")
            .env("TODOKIT_CHAT_MESSAGES_PER_DAY", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, url: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if client.get(format!("{}/readyz", server.url)).send().await.is_ok_and(|r| r.status() == 200) {
                return server;
            }
            assert!(Instant::now() < deadline, "the server did not become ready within 60 s");
            // Readiness polling interval, not a timing assumption.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown hook, no flush, exactly like a power cut for the process.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the clients were told succeeded before the crash.
#[derive(Default)]
struct Acknowledged {
    /// Task id → number, per user.
    tasks: Vec<(usize, String, i64)>,
    /// Threads whose first turn streamed to the end and were not deleted.
    threads: Vec<(usize, String)>,
    server_errors: Vec<String>,
}

struct Burst {
    client: reqwest::Client,
    url: String,
    tokens: Vec<String>,
    /// Acknowledged writes by kind: [`CREATE`], [`COMPLETION`], [`CHAT_TURN`].
    acked_writes: [AtomicUsize; 3],
    progress: Notify,
    acknowledged: std::sync::Mutex<Acknowledged>,
}

impl Burst {
    fn acked(&self, kind: usize) {
        self.acked_writes[kind].fetch_add(1, Ordering::SeqCst);
        self.progress.notify_one();
    }

    fn server_error(&self, what: String) {
        self.acknowledged.lock().unwrap().server_errors.push(what);
    }

    /// Creates tasks until the server goes away.
    async fn create_tasks(&self, user: usize) {
        for n in 0.. {
            let Ok(response) = self
                .client
                .post(format!("{}/api/tasks", self.url))
                .bearer_auth(&self.tokens[user])
                .json(&json!({"title": format!("burst task {n}"), "tags": ["burst"]}))
                .send()
                .await
            else {
                return;
            };
            let status = response.status();
            let Ok(body) = response.json::<Value>().await else { return };
            if status.is_server_error() {
                self.server_error(format!("create: {status} {body}"));
            } else if status == 201 {
                let id = body["id"].as_str().unwrap().to_owned();
                self.acknowledged.lock().unwrap().tasks.push((user, id, body["number"].as_i64().unwrap()));
                self.acked(CREATE);
            }
        }
    }

    /// Completes the pending occurrence of the user's daily task again and again.
    async fn complete_recurring(&self, user: usize, first_number: i64) {
        let mut number = first_number;
        loop {
            let Ok(response) = self
                .client
                .post(format!("{}/api/tasks/{number}/complete", self.url))
                .bearer_auth(&self.tokens[user])
                .send()
                .await
            else {
                return;
            };
            let status = response.status();
            let Ok(body) = response.json::<Value>().await else { return };
            if status.is_server_error() {
                self.server_error(format!("complete: {status} {body}"));
                return;
            }
            assert_eq!(status, 200, "completing #{number}: {body}");
            number = body["next_instance"]["number"].as_i64().expect("a daily task has a next occurrence");
            self.acked(COMPLETION);
        }
    }

    /// Chat turns that create tasks through the offline assistant; every third thread is deleted.
    async fn chat(&self, user: usize) {
        for n in 0.. {
            let request = json!({"type": "threads.create",
                "params": {"input": user_input(&format!("add chat task {n} tomorrow at 5pm"))}});
            let Some((status, text)) = self.chatkit(user, &request).await else { return };
            if status >= 500 {
                self.server_error(format!("chat: {status} {text}"));
                return;
            }
            let Some(thread) = thread_id(&text) else {
                // The stream broke off: the turn was never acknowledged.
                return;
            };
            if !text.contains("\"type\":\"thread.item.done\"") {
                return;
            }
            if n % 3 == 2 {
                let delete = json!({"type": "threads.delete", "params": {"thread_id": thread}});
                let Some((status, text)) = self.chatkit(user, &delete).await else { return };
                if status >= 500 {
                    self.server_error(format!("thread delete: {status} {text}"));
                }
                if status != 200 {
                    return;
                }
            } else {
                self.acknowledged.lock().unwrap().threads.push((user, thread));
            }
            self.acked(CHAT_TURN);
        }
    }

    async fn chatkit(&self, user: usize, body: &Value) -> Option<(u16, String)> {
        let response = self
            .client
            .post(format!("{}/api/chatkit", self.url))
            .bearer_auth(&self.tokens[user])
            .json(body)
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }
}

/// The thread id from a stream's `thread.created` event, if the stream got that far.
fn thread_id(stream: &str) -> Option<String> {
    let first = stream.split("\n\n").next()?.strip_prefix("data: ")?;
    let event: Value = serde_json::from_str(first).ok()?;
    Some(event["thread"]["id"].as_str()?.to_owned())
}

async fn sign_up(client: &reqwest::Client, url: &str, n: usize) -> String {
    let body: Value = client
        .post(format!("{url}/api/auth/sign-up"))
        .json(&json!({"email": format!("crash-{n}@example.com"), "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_concurrent_writes_on_sqlite() {
    let data = tempfile::tempdir().unwrap();
    let (server, tokens) = crash_and_restart(data.path(), "").await;
    let mut db = SqliteConnection::connect(&format!("sqlite:{}", data.path().join("todokit.db").display()))
        .await
        .unwrap();
    check_database!(&mut db, server, tokens);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_concurrent_writes_on_postgres() {
    let Some((url, schema)) = fresh_postgres_schema().await else { return };
    let data = tempfile::tempdir().unwrap();
    let (server, tokens) = crash_and_restart(data.path(), &url).await;
    let mut db = PgConnection::connect(&url).await.unwrap();
    check_database!(&mut db, server, tokens);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut db).await.unwrap();
}

/// A fresh schema in the shared `todokit_test` database (the one the other PostgreSQL tests
/// use), as a URL the binary accepts; `None` when PostgreSQL is unreachable outside CI.
async fn fresh_postgres_schema() -> Option<(String, String)> {
    let admin = std::env::var("TODOKIT_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = match PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(err) if std::env::var_os("CI").is_none() => {
            crate::helpers::skipped(&format!("PostgreSQL unreachable: {err}"));
            return None;
        }
        Err(err) => panic!("PostgreSQL is required in CI but unreachable: {err}"),
    };
    // Another test process may create it at the same moment; either outcome is fine.
    let _ = sqlx::query("CREATE DATABASE todokit_test").execute(&mut conn).await;
    let base = admin.rsplit_once('/').expect("URL with a database").0;
    let database = format!("{base}/todokit_test");
    let schema = format!("t_{}_{}", jiff::Timestamp::now().as_second(), uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&database).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.unwrap();
    Some((format!("{database}?options=-c%20search_path%3D{schema}"), schema))
}

/// Runs the burst, kills the server, restarts it and checks through the API that everything
/// acknowledged is there. Returns the restarted server and the users' tokens.
async fn crash_and_restart(data_dir: &Path, database_url: &str) -> (Server, Vec<String>) {
    let mut server = Server::start(data_dir, database_url).await;
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    let mut recurring = Vec::new();
    for user in 0..USERS {
        let token = sign_up(&client, &server.url, user).await;
        let daily: Value = client
            .post(format!("{}/api/tasks", server.url))
            .bearer_auth(&token)
            .json(&json!({"title": "Water the plants", "due_at": "2030-01-01T09:00:00Z",
                "recurrence": {"frequency": "daily"}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        recurring.push(daily["number"].as_i64().unwrap());
        tokens.push(token);
    }

    let burst = Arc::new(Burst {
        client: client.clone(),
        url: server.url.clone(),
        tokens: tokens.clone(),
        acked_writes: Default::default(),
        progress: Notify::new(),
        acknowledged: Default::default(),
    });
    let mut workers = Vec::new();
    for (user, &first) in recurring.iter().enumerate() {
        let b = burst.clone();
        workers.push(tokio::spawn(async move { b.create_tasks(user).await }));
        let b = burst.clone();
        workers.push(tokio::spawn(async move { b.complete_recurring(user, first).await }));
        let b = burst.clone();
        workers.push(tokio::spawn(async move { b.chat(user).await }));
    }
    tokio::time::timeout(Duration::from_secs(120), async {
        while burst.acked_writes.iter().any(|n| n.load(Ordering::SeqCst) < WRITES_OF_EACH_KIND_BEFORE_KILL) {
            burst.progress.notified().await;
        }
    })
    .await
    .expect("the burst made progress");
    server.kill();
    for worker in workers {
        tokio::time::timeout(Duration::from_secs(60), worker)
            .await
            .expect("clients notice the dead server")
            .expect("no client panicked");
    }
    let acknowledged = std::mem::take(&mut *burst.acknowledged.lock().unwrap());
    assert_eq!(acknowledged.server_errors, Vec::<String>::new(), "no 5xx during the burst");
    assert!(!acknowledged.tasks.is_empty() && !acknowledged.threads.is_empty(), "every kind of write ran");

    let server = Server::start(data_dir, database_url).await;
    for (user, id, number) in &acknowledged.tasks {
        let response = client
            .get(format!("{}/api/tasks/{id}", server.url))
            .bearer_auth(&tokens[*user])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "acknowledged task {id} survived the crash");
        assert_eq!(response.json::<Value>().await.unwrap()["number"], *number);
    }
    for (user, thread) in &acknowledged.threads {
        let request = json!({"type": "items.list", "params": {"thread_id": thread, "limit": 100}});
        let response =
            client.post(format!("{}/api/chatkit", server.url)).bearer_auth(&tokens[*user]).json(&request);
        let response = response.send().await.unwrap();
        assert_eq!(response.status(), 200, "acknowledged thread {thread} survived the crash");
        let items = response.json::<Value>().await.unwrap();
        let kinds: Vec<&str> =
            items["data"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
        assert!(
            kinds.contains(&"user_message") && kinds.contains(&"assistant_message"),
            "thread {thread} kept its turn: {items}"
        );
    }
    (server, tokens)
}

/// The same checks on either backend's connection, straight in the database.
macro_rules! check_database {
    ($db:expr, $server:expr, $tokens:expr) => {{
        let (db, server, tokens) = ($db, $server, $tokens);
        let client = reqwest::Client::new();
        let users: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT user_id) FROM tasks")
            .fetch_one(&mut *db)
            .await
            .unwrap();
        assert_eq!(users, USERS as i64);
        // Numbering carries on above everything that exists, including what was written
        // but not acknowledged before the kill.
        for token in &tokens {
            let created: Value = client
                .post(format!("{}/api/tasks", server.url))
                .bearer_auth(token)
                .json(&json!({"title": "after the crash"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let user_max: i64 = sqlx::query_scalar(
                "SELECT MAX(number) FROM tasks \
                 WHERE user_id = (SELECT user_id FROM tasks WHERE id = $1) AND id <> $1",
            )
            .bind(uuid::Uuid::parse_str(created["id"].as_str().unwrap()).unwrap())
            .fetch_one(&mut *db)
            .await
            .unwrap();
            assert!(created["number"].as_i64().unwrap() > user_max, "new number above all existing: {created}");
        }
        drop(server);
        let duplicate_numbers: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM tasks GROUP BY user_id, number HAVING COUNT(*) > 1) AS duplicates",
        )
        .fetch_one(&mut *db)
        .await
        .unwrap();
        assert_eq!(duplicate_numbers, 0, "task numbers are unique per user");
        let duplicate_occurrences: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE series_id IS NOT NULL \
             GROUP BY series_id, occurrence_index HAVING COUNT(*) > 1) AS duplicates",
        )
        .fetch_one(&mut *db)
        .await
        .unwrap();
        assert_eq!(duplicate_occurrences, 0, "no recurring occurrence exists twice");
        // Each series is occurrences 0..n with only the last one pending: a completion and the
        // next occurrence it creates are written together or not at all.
        let series = sqlx::query(
            "SELECT COUNT(*) AS occurrences, MAX(occurrence_index) AS last, \
             SUM(CASE WHEN completed THEN 0 ELSE 1 END) AS pending, \
             MAX(CASE WHEN completed THEN -1 ELSE occurrence_index END) AS pending_index \
             FROM tasks WHERE series_id IS NOT NULL GROUP BY series_id",
        )
        .fetch_all(&mut *db)
        .await
        .unwrap();
        assert_eq!(series.len(), USERS, "one series per user");
        for row in series {
            let (occurrences, last): (i64, i64) = (row.get("occurrences"), row.get("last"));
            assert_eq!(occurrences, last + 1, "no occurrence is missing");
            assert_eq!(row.get::<i64, _>("pending"), 1, "exactly one pending occurrence");
            assert_eq!(row.get::<i64, _>("pending_index"), last, "the pending occurrence is the last one");
        }
        let orphan_items: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM chat_items LEFT JOIN chat_threads ON chat_threads.id = chat_items.thread_id \
             WHERE chat_threads.id IS NULL",
        )
        .fetch_one(&mut *db)
        .await
        .unwrap();
        assert_eq!(orphan_items, 0, "no chat item outlives its thread");
    }};
}
use check_database;
