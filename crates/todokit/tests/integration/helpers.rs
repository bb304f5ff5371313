//! `spawn_app()` for SQLite (a temp file) and PostgreSQL (a fresh schema per
//! test on 127.0.0.1:5432, or `TODOKIT_TEST_PG_URL`).

use std::io::Write;
use std::str::FromStr;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use todokit::storage::Repositories;
use todokit::{AppState, Config};
use tokio::sync::oneshot;

pub const JWT_SECRET: &str = "integration-test-secret-integration-test-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs one scenario against each backend as separate tests.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn sqlite() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Db::Sqlite).await {
                        super::$scenario(app).await;
                    }
                }

                #[tokio::test]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Db::Postgres).await {
                        super::$scenario(app).await;
                    }
                }
            }
        )+
    };
}

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub storage: Repositories,
    pub data_dir: tempfile::TempDir,
    pub db: Db,
    pub pg: Option<PgConnectOptions>,
    /// The running server's state, for calling the app directly (e.g. a background pass).
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Response {
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self.body
    }

    /// Asserts the app's error shape and returns the error object.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        let body = self.expect(status);
        assert_eq!(body["error"]["code"], code, "unexpected error: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        body["error"].clone()
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("TODOKIT_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Reports the running test as skipped (outside CI only: callers panic in CI). libtest shows a
/// passing test's output to no one, so the test's name is also appended to the file named by
/// `TODOKIT_SKIPPED_LOG`, which `scripts/test` counts into a loud summary line.
pub fn skipped(reason: &str) {
    let test = std::thread::current().name().unwrap_or("an unnamed test").to_owned();
    eprintln!("\n!!!!! SKIPPED {test}: {reason} !!!!!\n");
    if let Some(path) = std::env::var_os("TODOKIT_SKIPPED_LOG") {
        let mut log =
            std::fs::OpenOptions::new().create(true).append(true).open(path).expect("skipped-tests log");
        writeln!(log, "{test}: {reason}").expect("write the skipped-tests log");
    }
}

/// A connection to the test server's admin database, or `None` (announced loudly)
/// when PostgreSQL is unreachable outside CI.
pub async fn postgres_admin() -> Option<(PgConnectOptions, sqlx::PgConnection)> {
    let admin =
        PgConnectOptions::from_str(&postgres_admin_url()).expect("TODOKIT_TEST_PG_URL is not a valid URL");
    match admin.connect().await {
        Ok(conn) => Some((admin, conn)),
        Err(err) => {
            if std::env::var_os("CI").is_some() {
                panic!("PostgreSQL is required in CI but unreachable: {err}");
            }
            skipped(&format!("PostgreSQL unreachable at {}: {err}", postgres_admin_url()));
            None
        }
    }
}

/// A fresh schema in the `todokit_test` database, or `None` (announced loudly)
/// when PostgreSQL is unreachable outside CI.
pub async fn fresh_postgres_schema() -> Option<PgConnectOptions> {
    let (admin, mut conn) = postgres_admin().await?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = 'todokit_test'")
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    if exists.is_none() {
        // Two test processes may race to create it; either outcome is fine.
        let _ = sqlx::query("CREATE DATABASE todokit_test").execute(&mut conn).await;
    }
    conn.close().await.ok();

    let database = admin.clone().database("todokit_test");
    let mut conn = database.connect().await.expect("connect to todokit_test");
    let now = jiff::Timestamp::now().as_second();
    drop_stale_schemas(&mut conn, now).await;
    let schema = format!("t_{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("create test schema");
    conn.close().await.ok();
    Some(database.options([("search_path", schema.as_str())]))
}

/// Schemas are named `t_<unix seconds>_<random>`; drop those older than an hour.
async fn drop_stale_schemas(conn: &mut sqlx::PgConnection, now: i64) {
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for schema in schemas {
        let created = schema.split('_').nth(1).and_then(|s| s.parse::<i64>().ok());
        if created.is_some_and(|created| now - created > 3600) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut *conn)
                .await;
        }
    }
}

pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, |_| {}).await
}

pub async fn spawn_app_with(db: Db, configure: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let data_dir = tempfile::tempdir().unwrap();
    let pg = match db {
        Db::Sqlite => None,
        Db::Postgres => Some(fresh_postgres_schema().await?),
    };
    let app = TestApp::start(db, data_dir, pg, configure).await;
    Some(app)
}

/// A server on a PostgreSQL database of the caller's choosing (e.g. a
/// throwaway cluster), with a fresh data directory.
pub async fn spawn_app_on_postgres(
    options: PgConnectOptions,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    TestApp::start(Db::Postgres, tempfile::tempdir().unwrap(), Some(options), configure).await
}

impl TestApp {
    async fn start(
        db: Db,
        data_dir: tempfile::TempDir,
        pg: Option<PgConnectOptions>,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::for_tests(data_dir.path().to_path_buf(), None);
        config.jwt_secret = Some(JWT_SECRET.into());
        configure(&mut config);
        let storage = match &pg {
            Some(options) => todokit::storage::connect_postgres(options.clone()).await.unwrap(),
            None => todokit::storage::connect(&config.database_url()).await.unwrap(),
        };
        let state = AppState::with_storage(config, storage.clone()).await.unwrap();
        let server_state = state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(todokit::serve(listener, server_state, async move {
            let _ = shutdown_rx.await;
        }));
        Self {
            url,
            client: reqwest::Client::new(),
            storage,
            data_dir,
            db,
            pg,
            state,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// Stops the server and starts a new one on the same data directory and
    /// database, as a restart would.
    pub async fn restart(mut self, configure: impl FnOnce(&mut Config)) -> Self {
        self.stop().await;
        let data_dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir().unwrap());
        TestApp::start(self.db, data_dir, self.pg.take(), configure).await
    }

    /// A second server on the same PostgreSQL schema (another replica), with
    /// its own data directory and the same signing secret. `None` on SQLite.
    pub async fn replica(&self, configure: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let pg = self.pg.clone()?;
        Some(TestApp::start(Db::Postgres, tempfile::tempdir().unwrap(), Some(pg), configure).await)
    }

    /// Sends the stop signal (SIGTERM, for the binary) without waiting for the server to end:
    /// the drain (`drain_secs`) begins.
    pub fn begin_stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    pub async fn stop(&mut self) {
        self.begin_stop();
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, format!("{}{}", self.url, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::read(request.send().await.unwrap()).await
    }

    pub async fn read(response: reqwest::Response) -> Response {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Response { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.send(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// A storage of its own on this server's database, as another process or replica opens.
    pub async fn another_storage(&self) -> Repositories {
        match &self.pg {
            Some(options) => todokit::storage::connect_postgres(options.clone()).await.unwrap(),
            None => {
                let config = Config::for_tests(self.data_dir.path().to_path_buf(), None);
                todokit::storage::connect(&config.database_url()).await.unwrap()
            }
        }
    }

    /// Signs up a new user with a unique email; returns the bearer token.
    pub async fn new_user(&self) -> String {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        self.sign_up(&email, "correct horse battery").await
    }

    pub async fn sign_up(&self, email: &str, password: &str) -> String {
        let body = self
            .send(
                Method::POST,
                "/api/auth/sign-up",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await
            .expect(201);
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn create_task(&self, token: &str, body: Value) -> Value {
        self.post("/api/tasks", token, body).await.expect(201)
    }
}

/// A server whose assistant talks to a fresh in-process fake LLM running
/// `script` at `path` (`/v1` for the OpenAI shape, Gemini's path for its
/// quirks), with the configuration changed by `tune`.
pub async fn app_with_model(
    db: Db,
    path: &str,
    script: Value,
    tune: impl FnOnce(&mut Config),
) -> Option<(TestApp, todokit_fake_llm::FakeLlm)> {
    let fake = todokit_fake_llm::FakeLlm::builder().api_key("test-key").build();
    fake.set_script(todokit_fake_llm::Script::from_json(&script.to_string()).expect("valid script"));
    let addr = fake.spawn().await.unwrap();
    let base_url = format!("http://{addr}{path}");
    let app = spawn_app_with(db, move |config| {
        config.llm.base_url = Some(base_url);
        config.llm.model = Some("fake-model".into());
        config.llm.api_key = Some(todokit::assistant::llm::ApiKey::new("test-key"));
        tune(config);
    })
    .await?;
    Some((app, fake))
}
