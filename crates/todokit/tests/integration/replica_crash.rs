//! A replica killed mid-reply: two server processes (the real binary) on one PostgreSQL
//! database, with a short claim lease (`--claim-lease-ms`). Replica A streams a long reply
//! slowly and is SIGKILLed in the middle of it. Then, on replica B: the thread keeps the words
//! A had streamed up to its last checkpoint, with the hidden note that the reply was
//! interrupted; a client re-attached through B sees its stream end and hears `run.finished`;
//! a stop sent meanwhile answers that nothing was running; the next message is accepted; and
//! a normal reply leaves exactly one assistant message. No sleeps: every wait polls with a
//! deadline.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use todokit_fake_llm::{Condition, FakeLlm, Reply, Rule, Script};

use crate::chat::user_input;
use crate::helpers::JWT_SECRET;
use crate::live::EventStream;

/// A guard against hanging on a bug; never a timing assertion.
const PATIENCE: Duration = Duration::from_secs(30);
/// The claim lease of both replicas: a dead replica's reply is finished about this long after.
const LEASE_MS: u64 = 1000;

struct Server {
    child: Child,
    url: String,
    _data_dir: tempfile::TempDir,
}

impl Server {
    async fn start(database_url: &str, llm_base_url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let data_dir = tempfile::tempdir().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_todokit"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir.path())
            .env_clear()
            .env("TODOKIT_JWT_SECRET", JWT_SECRET)
            .env("DATABASE_URL", database_url)
            .env("TODOKIT_CHAT_MESSAGES_PER_MINUTE", "0")
            .env("TODOKIT_CHAT_MESSAGES_PER_DAY", "0")
            .env("TODOKIT_CLAIM_LEASE_MS", LEASE_MS.to_string())
            .env("TODOKIT_LLM_BASE_URL", llm_base_url)
            .env("TODOKIT_LLM_MODEL", "fake-model")
            .env("TODOKIT_LLM_API_KEY", "test-key")
            .env("TODOKIT_LLM_MAX_RETRIES", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, url: format!("http://127.0.0.1:{port}"), _data_dir: data_dir };
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

    /// SIGKILL: no shutdown hook, no release of claims, like a power cut for the process.
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

/// A fresh schema in the shared `todokit_test` database, as a `DATABASE_URL`, with its name.
async fn fresh_postgres_schema() -> Option<(String, String)> {
    let admin = crate::helpers::postgres_admin_url();
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

/// The text of the assistant messages among `items` (ChatKit items as JSON).
fn texts(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter(|item| item["type"] == "assistant_message")
        .map(|item| item["content"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect())
        .collect()
}

/// ChatKit SSE frames (`data: <json>\n\n`) from a response, until it ends or breaks.
fn frames(response: reqwest::Response) -> impl futures::Stream<Item = Value> {
    futures::stream::unfold(
        (response.bytes_stream().boxed(), String::new()),
        |(mut body, mut buffer)| async move {
            loop {
                if let Some(end) = buffer.find("\n\n") {
                    let frame: String = buffer.drain(..end + 2).collect();
                    let data = frame.trim_end().strip_prefix("data: ").expect("exact ChatKit framing");
                    return Some((serde_json::from_str(data).unwrap(), (body, buffer)));
                }
                match body.next().await {
                    Some(Ok(chunk)) => buffer.push_str(std::str::from_utf8(&chunk).unwrap()),
                    // A broken connection (the replica died) ends the stream, as for a client.
                    Some(Err(_)) | None => return None,
                }
            }
        },
    )
}

fn text_delta(event: &Value) -> Option<&str> {
    (event["type"] == "thread.item.updated"
        && event["update"]["type"] == "assistant_message.content_part.text_delta")
        .then(|| event["update"]["delta"].as_str().unwrap())
}

struct Client {
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn chatkit(&self, server: &Server, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/chatkit", server.url))
            .bearer_auth(&self.token)
            .header("x-todokit-detach", "1")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn items(&self, server: &Server, thread_id: &str) -> Vec<Value> {
        let list =
            json!({"type": "items.list", "params": {"thread_id": thread_id, "limit": 100, "order": "asc"}});
        let response = self.chatkit(server, list).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        page["data"].as_array().unwrap().clone()
    }
}

/// The reply's checkpoint text, as saved in the database (first unfinished item, first part).
async fn checkpoint_text(db: &mut PgConnection, thread_id: &str) -> Option<String> {
    let saved: Option<Option<String>> =
        sqlx::query_scalar("SELECT checkpoint FROM chat_runs WHERE thread_id = $1")
            .bind(thread_id)
            .fetch_optional(&mut *db)
            .await
            .unwrap();
    let items: Vec<Value> = serde_json::from_str(&saved.flatten()?).unwrap();
    Some(texts(&items).concat())
}

#[tokio::test]
async fn a_replica_killed_mid_reply_has_its_reply_finished_by_another() {
    let Some((database_url, schema)) = fresh_postgres_schema().await else { return };
    let fake = FakeLlm::builder().build();
    let llm = format!("http://{}/v1", fake.spawn().await.unwrap());
    // Slow: 400 words, one every 25 ms (10 s in all, far more than the test waits). Quick: 60
    // words in about 1.5 s, long enough to be checkpointed on the way.
    let quick = Reply { words: Some(60), chunk_delay_ms: 25, ..Reply::default() };
    let slow = Reply { words: Some(400), chunk_delay_ms: 25, ..Reply::default() };
    fake.set_script(Script {
        rules: vec![Rule {
            when: Condition { user_contains: Some("quickly".into()), ..Condition::default() },
            respond: quick,
        }],
        fallback: Some(slow),
        ..Script::default()
    });
    let mut a = Server::start(&database_url, &llm).await;
    let b = Server::start(&database_url, &llm).await;
    let mut db = PgConnection::connect(&database_url).await.unwrap();
    let http = reqwest::Client::new();
    let signed_up: Value = http
        .post(format!("{}/api/auth/sign-up", a.url))
        .json(&json!({"email": "crash@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = Client { http: http.clone(), token: signed_up["token"].as_str().unwrap().to_owned() };
    let events_on_b =
        http.get(format!("{}/api/events", b.url)).bearer_auth(&client.token).send().await.unwrap();
    assert_eq!(events_on_b.status(), 200);
    let mut events_on_b = EventStream::from(events_on_b);

    // A streams a long reply; the client reads all it can, in the background.
    let create = json!({"type": "threads.create", "params": {"input": user_input("tell me a long story")}});
    let response = client.chatkit(&a, create).await;
    assert_eq!(response.status(), 200);
    let mut on_a = Box::pin(frames(response));
    let first = on_a.next().await.unwrap();
    assert_eq!(first["type"], "thread.created", "{first}");
    let thread_id = first["thread"]["id"].as_str().unwrap().to_owned();
    let streamed = Arc::new(Mutex::new(String::new()));
    let reader = tokio::spawn({
        let streamed = streamed.clone();
        async move {
            while let Some(event) = on_a.next().await {
                if let Some(delta) = text_delta(&event) {
                    streamed.lock().unwrap().push_str(delta);
                }
            }
        }
    });
    // A client re-attached through B: relayed from A.
    let attached = http
        .get(format!("{}/api/chatkit/runs/{thread_id}", b.url))
        .bearer_auth(&client.token)
        .send()
        .await
        .unwrap();
    assert_eq!(attached.status(), 200);
    let mut through_b = Box::pin(frames(attached));

    // Once a checkpoint holds some text, and the client has more than it: kill A.
    let deadline = Instant::now() + PATIENCE;
    let checkpointed = loop {
        if let Some(text) = checkpoint_text(&mut db, &thread_id).await.filter(|text| !text.is_empty())
            && streamed.lock().unwrap().len() > text.len()
        {
            break text;
        }
        assert!(Instant::now() < deadline, "no checkpoint with text was saved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    a.kill();
    reader.await.unwrap();
    let streamed = streamed.lock().unwrap().clone();
    assert!(streamed.starts_with(&checkpointed), "{checkpointed:?} / {streamed:?}");

    // (c) A stop sent through B now, while A's claim has not lapsed yet, waits it out and
    // answers that nothing was running.
    let stop = {
        let (http, url, token) =
            (http.clone(), format!("{}/api/chatkit/runs/{thread_id}/stop", b.url), client.token.clone());
        tokio::spawn(async move { http.post(url).bearer_auth(token).json(&json!({})).send().await.unwrap() })
    };

    // (b) The client re-attached through B sees its stream end, and B's live events say the
    // reply finished, interrupted.
    tokio::time::timeout(PATIENCE, async { while through_b.next().await.is_some() {} })
        .await
        .expect("the re-attached stream did not end");
    let finished = tokio::time::timeout(PATIENCE, async {
        loop {
            let event = events_on_b.until("run.finished").await;
            if event.data["thread_id"] == thread_id.as_str() {
                return event;
            }
        }
    })
    .await
    .expect("no run.finished for the killed reply");
    assert_eq!(finished.data["interrupted"], true, "{:?}", finished.data);
    assert_eq!(finished.data["stopped"], false, "{:?}", finished.data);

    let stopped = stop.await.unwrap();
    assert_eq!(stopped.status(), 200);
    assert_eq!(stopped.json::<Value>().await.unwrap(), json!({"stopped": false}));

    // (a) The thread holds what A had streamed, up to its last checkpoint at least, and (hidden,
    // for the model) the note that the reply was interrupted; the claim is gone.
    let items = client.items(&b, &thread_id).await;
    let types: Vec<&str> = items.iter().map(|item| item["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["user_message", "assistant_message"], "{items:?}");
    let saved = &texts(&items)[0];
    assert!(saved.starts_with(&checkpointed), "saved {saved:?}, checkpointed {checkpointed:?}");
    assert!(streamed.starts_with(saved.as_str()), "saved {saved:?}, streamed {streamed:?}");
    let hidden: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM chat_items WHERE thread_id = $1 AND item_type = 'sdk_hidden_context' ORDER BY seq",
    )
    .bind(&thread_id)
    .fetch_all(&mut db)
    .await
    .unwrap();
    let notes: Vec<Value> =
        hidden.iter().map(|data| serde_json::from_str::<Value>(data).unwrap()["content"].clone()).collect();
    assert_eq!(notes, [json!(todokit::chat::runs::INTERRUPTED_NOTE)]);
    let claims: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_runs").fetch_one(&mut db).await.unwrap();
    assert_eq!(claims, 0, "the lapsed claim was released");
    // Nothing runs any more: a second stop finds nothing, a re-attach gets nothing.
    let again = http
        .post(format!("{}/api/chatkit/runs/{thread_id}/stop", b.url))
        .bearer_auth(&client.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let reattached = http
        .get(format!("{}/api/chatkit/runs/{thread_id}", b.url))
        .bearer_auth(&client.token)
        .send()
        .await
        .unwrap();
    assert_eq!(reattached.status(), 204);

    // (d) The next message is accepted on B, and (e) its normal reply (checkpointed on the way)
    // leaves exactly one assistant message, the one streamed, and no claim.
    let message = json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("now answer quickly")}});
    let response = client.chatkit(&b, message).await;
    assert_eq!(response.status(), 200);
    let events: Vec<Value> =
        tokio::time::timeout(PATIENCE, frames(response).collect()).await.expect("the reply stalled");
    let done: Vec<&Value> = events
        .iter()
        .filter(|event| event["type"] == "thread.item.done" && event["item"]["type"] == "assistant_message")
        .map(|event| &event["item"])
        .collect();
    assert_eq!(done.len(), 1, "{events:?}");
    let items = client.items(&b, &thread_id).await;
    let types: Vec<&str> = items.iter().map(|item| item["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["user_message", "assistant_message", "user_message", "assistant_message"],
        "{items:?}"
    );
    assert_eq!(&items[3], done[0]);
    assert_eq!(texts(&items)[1].split_whitespace().count(), 60);
    let claims: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_runs").fetch_one(&mut db).await.unwrap();
    assert_eq!(claims, 0);
    let hidden: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM chat_items WHERE thread_id = $1 AND item_type = 'sdk_hidden_context'",
    )
    .bind(&thread_id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(hidden, 1, "no note for a reply that finished");

    drop(b);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut db).await.unwrap();
    db.close().await.ok();
}
