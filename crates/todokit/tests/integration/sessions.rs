//! Server-side sessions: every sign-in is a session the user can list and end; signing out
//! ends it for good (the same token and cookie are refused); a revocation on one replica is
//! honoured on another within a couple of seconds; live event streams end with the credential
//! they were opened with.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Db, JWT_SECRET, TestApp, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    every_sign_in_is_a_session_listed_newest_first,
    sign_out_ends_the_session_for_the_token_and_the_cookie,
    one_session_or_all_others_can_be_ended,
    sessions_are_private,
    tokens_without_a_live_session_are_refused,
    an_event_stream_ends_when_its_session_or_token_is_revoked,
    the_last_use_is_written_at_most_once_a_minute,
    the_background_pass_deletes_expired_sessions,
);

/// How long a revocation may take to reach another replica (the storage's 2-second memory of
/// live sessions), with room for the request itself.
pub const ACROSS_REPLICAS: Duration = Duration::from_millis(2_500);

/// Guards a wait for a stream to end; a stream that outlives it failed the test.
pub const STREAM_END: Duration = Duration::from_secs(4);

pub async fn sign_in_as(app: &TestApp, email: &str, password: &str, user_agent: &str) -> String {
    let response = app
        .client
        .post(format!("{}/api/auth/sign-in", app.url))
        .header("user-agent", user_agent)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let body = TestApp::read(response).await.expect(200);
    body["token"].as_str().unwrap().to_owned()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let decoded = base64_url_decode(payload);
    serde_json::from_slice(&decoded).unwrap()
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes() {
        let value = ALPHABET.iter().position(|c| *c == byte).unwrap() as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

pub fn session_id_of(token: &str) -> String {
    claims_of(token)["sid"].as_str().expect("a session token names its session").to_owned()
}

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/auth/sessions", token).await.expect(200)["sessions"].as_array().unwrap().clone()
}

async fn every_sign_in_is_a_session_listed_newest_first(app: TestApp) {
    let first = app.sign_up("ses@example.com", "the-password").await;
    let second = sign_in_as(&app, "ses@example.com", "the-password", "Firefox/146 on Linux").await;
    let long_agent = "x".repeat(400);
    let third = sign_in_as(&app, "ses@example.com", "the-password", &long_agent).await;
    // A few requests: the last use is written at most once a minute, not on each.
    for _ in 0..3 {
        app.get("/api/tasks", &second).await.expect(200);
    }

    let listed = sessions(&app, &second).await;
    let ids: Vec<_> = listed.iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, [session_id_of(&third), session_id_of(&second), session_id_of(&first)], "newest first");
    let current: Vec<_> = listed.iter().map(|s| s["current"].as_bool().unwrap()).collect();
    assert_eq!(current, [false, true, false]);
    assert_eq!(listed[1]["user_agent"], "Firefox/146 on Linux");
    assert_eq!(listed[0]["user_agent"].as_str().unwrap().len(), 255, "truncated");
    for session in &listed {
        assert_eq!(session["address"], "127.0.0.1");
        assert_eq!(session["last_seen_at"], session["created_at"], "{session}");
    }
    // The same list for any of them, each seeing itself as current.
    let from_first = sessions(&app, &first).await;
    assert_eq!(from_first.len(), 3);
    assert_eq!(from_first[2]["current"], true);
}

async fn sign_out_ends_the_session_for_the_token_and_the_cookie(app: TestApp) {
    let token = app.sign_up("out@example.com", "the-password").await;
    let other = sign_in_as(&app, "out@example.com", "the-password", "phone").await;
    let cookie = format!("auth_token={token}");
    let by_cookie = |cookie: String| {
        app.client.get(format!("{}/api/auth/session", app.url)).header("cookie", cookie).send()
    };
    assert_eq!(by_cookie(cookie.clone()).await.unwrap().status(), 200);

    let response = app.send(Method::POST, "/api/auth/sign-out", Some(&token), None).await;
    let removal = response.headers["set-cookie"].to_str().unwrap().to_owned();
    assert_eq!(response.expect(204), Value::Null);
    assert!(removal.starts_with("auth_token=;") && removal.contains("Max-Age=0"), "{removal}");

    let error = app.get("/api/auth/session", &token).await.expect_error(401, "unauthorized");
    assert!(error["message"].as_str().unwrap().contains("sign in again"), "{error}");
    assert_eq!(by_cookie(cookie).await.unwrap().status(), 401, "the cookie carries the same session");
    app.get("/api/tasks", &token).await.expect_error(401, "unauthorized");
    // The other session is untouched, and lists one session now.
    assert_eq!(sessions(&app, &other).await.len(), 1);
    // Signing out again (the session is gone) or without any credential only clears the cookie.
    app.send(Method::POST, "/api/auth/sign-out", Some(&token), None).await.expect(204);
    app.send(Method::POST, "/api/auth/sign-out", None, None).await.expect(204);
    // Signing in again starts a new session.
    let again = sign_in_as(&app, "out@example.com", "the-password", "laptop").await;
    assert_ne!(session_id_of(&again), session_id_of(&token));
    app.get("/api/tasks", &again).await.expect(200);
}

async fn one_session_or_all_others_can_be_ended(app: TestApp) {
    let a = app.sign_up("many@example.com", "the-password").await;
    let b = sign_in_as(&app, "many@example.com", "the-password", "b").await;
    let c = sign_in_as(&app, "many@example.com", "the-password", "c").await;
    let d = sign_in_as(&app, "many@example.com", "the-password", "d").await;
    let pat = app.post("/api/tokens", &a, json!({"name": "script"})).await.expect(201)["token_secret"]
        .as_str()
        .unwrap()
        .to_owned();

    let path = format!("/api/auth/sessions/{}", session_id_of(&b));
    assert_eq!(app.delete(&path, &a).await.expect(204), Value::Null);
    app.get("/api/tasks", &b).await.expect_error(401, "unauthorized");
    app.delete(&path, &a).await.expect_error(404, "not_found");
    app.delete("/api/auth/sessions/not-a-uuid", &a).await.expect_error(404, "not_found");
    app.delete(&format!("/api/auth/sessions/{}", uuid::Uuid::now_v7()), &a)
        .await
        .expect_error(404, "not_found");

    // Sign out everywhere else: c and d end, a stays, access tokens keep working.
    let revoked = app.post("/api/auth/sessions/revoke-others", &a, json!({})).await.expect(200);
    assert_eq!(revoked, json!({"revoked": 2}));
    for ended in [&c, &d] {
        app.get("/api/tasks", ended).await.expect_error(401, "unauthorized");
    }
    app.get("/api/tasks", &a).await.expect(200);
    app.get("/api/tasks", &pat).await.expect(200);
    let left = sessions(&app, &a).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["current"], true);
    assert_eq!(app.post("/api/auth/sessions/revoke-others", &a, json!({})).await.expect(200)["revoked"], 0);

    // Through an access token there is no current session: all of them end.
    let e = sign_in_as(&app, "many@example.com", "the-password", "e").await;
    assert_eq!(app.post("/api/auth/sessions/revoke-others", &pat, json!({})).await.expect(200)["revoked"], 2);
    for ended in [&a, &e] {
        app.get("/api/tasks", ended).await.expect_error(401, "unauthorized");
    }
    assert_eq!(sessions(&app, &pat).await, Vec::<Value>::new());
}

async fn sessions_are_private(app: TestApp) {
    let alice = app.sign_up("alice@example.com", "the-password").await;
    let bob = app.sign_up("bob@example.com", "the-password").await;
    let listed = sessions(&app, &bob).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], session_id_of(&bob));

    // Bob cannot end Alice's session: the same 404 as for a session that does not exist.
    let theirs = app.delete(&format!("/api/auth/sessions/{}", session_id_of(&alice)), &bob).await;
    let missing = app.delete(&format!("/api/auth/sessions/{}", uuid::Uuid::now_v7()), &bob).await;
    assert_eq!((theirs.status, &theirs.body), (missing.status, &missing.body));
    assert_eq!(theirs.status, 404);
    app.get("/api/tasks", &alice).await.expect(200);
    // Nor sign her out by signing himself out everywhere else.
    app.post("/api/auth/sessions/revoke-others", &bob, json!({})).await.expect(200);
    app.get("/api/tasks", &alice).await.expect(200);

    for (method, path) in [
        (Method::GET, "/api/auth/sessions".to_owned()),
        (Method::DELETE, format!("/api/auth/sessions/{}", session_id_of(&alice))),
        (Method::POST, "/api/auth/sessions/revoke-others".to_owned()),
    ] {
        app.send(method, &path, None, None).await.expect_error(401, "unauthorized");
    }
    app.get("/api/tasks", &alice).await.expect(200);
}

fn forge(claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

async fn tokens_without_a_live_session_are_refused(app: TestApp) {
    let token = app.new_user().await;
    let claims = claims_of(&token);
    let future = jiff::Timestamp::now().as_second() + 3600;
    let (sub, sid) = (claims["sub"].clone(), claims["sid"].clone());
    // Signed with the right key and naming the live session: accepted, proving the rest fail
    // for their flaw alone.
    app.get("/api/auth/session", &forge(json!({"sub": sub, "sid": sid, "iat": 1, "exp": future})))
        .await
        .expect(200);
    let other_user = app.new_user().await;
    let other_sub = claims_of(&other_user)["sub"].clone();
    for claims in [
        // Issued before sessions existed: no `sid`.
        json!({"sub": sub, "iat": 1, "exp": future}),
        json!({"sub": sub, "sid": uuid::Uuid::now_v7(), "iat": 1, "exp": future}),
        // Another user's account with this session.
        json!({"sub": other_sub, "sid": sid, "iat": 1, "exp": future}),
    ] {
        app.get("/api/auth/session", &forge(claims)).await.expect_error(401, "unauthorized");
    }
}

/// Each check through a storage that has not seen the session lately reads the database; it
/// writes the use only when the recorded one is more than a minute old.
async fn the_last_use_is_written_at_most_once_a_minute(app: TestApp) {
    let token = app.new_user().await;
    let claims = claims_of(&token);
    let user = uuid::Uuid::parse_str(claims["sub"].as_str().unwrap()).unwrap();
    let session = uuid::Uuid::parse_str(claims["sid"].as_str().unwrap()).unwrap();
    let listed = || async { sessions(&app, &token).await[0].clone() };
    let created: jiff::Timestamp = listed().await["created_at"].as_str().unwrap().parse().unwrap();

    let half_a_minute_on = created + jiff::SignedDuration::from_secs(30);
    let fresh = app.another_storage().await;
    assert!(fresh.sessions.session_is_live(session, user, half_a_minute_on).await.unwrap());
    assert_eq!(listed().await["last_seen_at"], listed().await["created_at"], "not written within the minute");

    let later = created + jiff::SignedDuration::from_secs(61);
    let fresh = app.another_storage().await;
    assert!(fresh.sessions.session_is_live(session, user, later).await.unwrap());
    let seen: jiff::Timestamp = listed().await["last_seen_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(seen, later, "written once the recorded use was over a minute old");

    // Another account never passes for the owner, and a session past its expiry is not live.
    let fresh = app.another_storage().await;
    assert!(!fresh.sessions.session_is_live(session, uuid::Uuid::now_v7(), later).await.unwrap());
    let expired = created + jiff::SignedDuration::from_hours(24 * 8);
    assert!(!fresh.sessions.session_is_live(session, user, expired).await.unwrap());
}

/// Sessions past their expiry are deleted by the background pass (before, only the owner's next
/// sign-in did); live ones stay.
async fn the_background_pass_deletes_expired_sessions(app: TestApp) {
    let token = app.new_user().await;
    let claims = claims_of(&token);
    let user = uuid::Uuid::parse_str(claims["sub"].as_str().unwrap()).unwrap();
    let session = uuid::Uuid::parse_str(claims["sid"].as_str().unwrap()).unwrap();
    let now = app.state.clock.now();
    let app = &app;
    let live = |at| async move {
        app.another_storage().await.sessions.session_is_live(session, user, at).await.unwrap()
    };

    assert_eq!(todokit::background::run_pass(&app.state, now).await.unwrap().sessions_pruned, 0);
    assert!(live(now).await, "a live session stays");

    // A pass eight days on finds the session expired and deletes its row: even at today's
    // time (before its expiry) it is no longer there.
    let expired = now + jiff::SignedDuration::from_hours(24 * 8);
    assert_eq!(todokit::background::run_pass(&app.state, expired).await.unwrap().sessions_pruned, 1);
    assert!(!live(now).await, "the expired session's row is gone");
}

/// Reads a stream to its end; `true` when it ended within `within`.
pub async fn ends_within(response: reqwest::Response, within: Duration) -> bool {
    let mut response = response;
    tokio::time::timeout(within, async move { while let Ok(Some(_)) = response.chunk().await {} })
        .await
        .is_ok()
}

pub async fn open_events(app: &TestApp, token: &str) -> reqwest::Response {
    let response = app.client.get(format!("{}/api/events", app.url)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200, "events stream refused");
    response
}

async fn an_event_stream_ends_when_its_session_or_token_is_revoked(app: TestApp) {
    let token = app.new_user().await;
    let other = app.new_user().await;
    let pat = app.post("/api/tokens", &token, json!({"name": "feed"})).await.expect(201);
    let secret = pat["token_secret"].as_str().unwrap().to_owned();

    // Another user's and another credential's streams stay open (checked below).
    let kept = open_events(&app, &other).await;
    let by_session = open_events(&app, &token).await;
    let by_token = open_events(&app, &secret).await;

    app.send(Method::POST, "/api/auth/sign-out", Some(&token), None).await.expect(204);
    assert!(ends_within(by_session, STREAM_END).await, "the signed-out session's stream ended");

    let id = pat["id"].as_str().unwrap();
    app.delete(&format!("/api/tokens/{id}"), &other).await.expect_error(404, "not_found");
    let sibling = open_events(&app, &secret).await;
    app.delete(&format!("/api/tokens/{id}"), &app.new_user().await).await.expect(404);
    // Revoked by its owner through a new session.
    let owner = sign_in_with_token_owner(&app, &secret).await;
    app.delete(&format!("/api/tokens/{id}"), &owner).await.expect(200);
    assert!(ends_within(by_token, STREAM_END).await, "the revoked token's stream ended");
    assert!(ends_within(sibling, STREAM_END).await);

    assert!(!ends_within(kept, Duration::from_millis(1_500)).await, "another user's stream is open");
}

/// A fresh session of the account that owns the access token `secret`.
async fn sign_in_with_token_owner(app: &TestApp, secret: &str) -> String {
    let email =
        app.get("/api/auth/session", secret).await.expect(200)["user"]["email"].as_str().unwrap().to_owned();
    sign_in_as(app, &email, "correct horse battery", "test").await
}

// ----- two replicas on one PostgreSQL database ----------------------------------------------

/// Polls `check` until it holds; the time it took, or `None` past `deadline`.
pub async fn within<F: std::future::Future<Output = bool>>(
    deadline: Duration,
    mut check: impl FnMut() -> F,
) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if check().await {
            return Some(start.elapsed());
        }
        if start.elapsed() > deadline {
            return None;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_session_revoked_on_one_replica_is_refused_on_another_within_two_seconds() {
    let Some(a) = spawn_app(Db::Postgres).await else { return };
    let b = a.replica(|_| {}).await.unwrap();
    let token = a.new_user().await;
    let other = sign_in_as(&a, &email_of(&a, &token).await, "correct horse battery", "b").await;
    // Known to B as live a moment ago (B remembers it).
    b.get("/api/tasks", &token).await.expect(200);
    b.get("/api/tasks", &other).await.expect(200);
    let stream_on_b = open_events(&b, &token).await;

    a.send(Method::POST, "/api/auth/sign-out", Some(&token), None).await.expect(204);
    a.get("/api/tasks", &token).await.expect_error(401, "unauthorized");
    let took = within(ACROSS_REPLICAS, || async { b.get("/api/tasks", &token).await.status == 401 }).await;
    assert!(took.is_some(), "replica B still accepted the signed-out session after {ACROSS_REPLICAS:?}");
    assert!(ends_within(stream_on_b, STREAM_END).await, "B's stream of the session ended");
    b.get("/api/tasks", &other).await.expect(200);
}

#[tokio::test]
async fn a_token_revoked_on_one_replica_ends_its_stream_on_another() {
    let Some(a) = spawn_app(Db::Postgres).await else { return };
    let b = a.replica(|_| {}).await.unwrap();
    let token = a.new_user().await;
    let pat = a.post("/api/tokens", &token, json!({"name": "feed"})).await.expect(201);
    let secret = pat["token_secret"].as_str().unwrap();
    let stream_on_b = open_events(&b, secret).await;
    let session_stream_on_b = open_events(&b, &token).await;

    a.delete(&format!("/api/tokens/{}", pat["id"].as_str().unwrap()), &token).await.expect(200);
    b.get("/api/tasks", secret).await.expect_error(401, "unauthorized");
    assert!(ends_within(stream_on_b, STREAM_END).await, "B's stream of the revoked token ended");
    assert!(!ends_within(session_stream_on_b, Duration::from_millis(1_500)).await, "the session's stays");
}

pub async fn email_of(app: &TestApp, token: &str) -> String {
    app.get("/api/auth/session", token).await.expect(200)["user"]["email"].as_str().unwrap().to_owned()
}

// ----- re-attached replies ------------------------------------------------------------------

/// A reply re-attached (`GET /api/chatkit/runs/{id}`) with a session ends when that session is
/// signed out, while the reply itself goes on (the model holds it until the test releases it,
/// so without the check the stream would stay open).
async fn a_reattached_reply_ends_when_its_session_is_signed_out(db: Db) {
    use todokit_fake_llm::{FakeLlm, Reply, Rule, Script};
    let fake = FakeLlm::builder().build();
    let addr = fake.spawn().await.unwrap();
    let held = Reply { words: Some(40), hold_after_chunks: Some(3), ..Reply::default() };
    fake.set_script(Script {
        rules: vec![Rule { when: Default::default(), respond: held }],
        ..Script::default()
    });
    let base_url = format!("http://{addr}/v1");
    let Some(app) = crate::helpers::spawn_app_with(db, move |config| {
        config.llm.base_url = Some(base_url);
        config.llm.model = Some("fake-model".into());
        config.llm.max_retries = 0;
    })
    .await
    else {
        return;
    };
    let token = app.sign_up("reattach@example.com", "correct horse battery").await;
    let other = sign_in_as(&app, "reattach@example.com", "correct horse battery", "tablet").await;

    // A detached reply, read until it surely runs (its first text).
    let body = json!({"type": "threads.create", "params": {"input": crate::chat::user_input("talk slowly")}});
    let mut reply = app
        .client
        .post(format!("{}/api/chatkit", app.url))
        .bearer_auth(&token)
        .header("x-todokit-detach", "1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let mut seen = String::new();
    let thread_id = loop {
        let chunk =
            tokio::time::timeout(STREAM_END, reply.chunk()).await.unwrap().unwrap().expect("reply ended");
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
        if seen.contains("text_delta") {
            let first = seen.split("\n\n").next().unwrap().trim().strip_prefix("data: ").unwrap();
            let created: Value = serde_json::from_str(first).unwrap();
            assert_eq!(created["type"], "thread.created", "{created}");
            break created["thread"]["id"].as_str().unwrap().to_owned();
        }
    };

    let attach = |token: &str| {
        app.client
            .get(format!("{}/api/chatkit/runs/{thread_id}", app.url))
            .bearer_auth(token.to_owned())
            .send()
    };
    let by_other = attach(&other).await.unwrap();
    assert_eq!(by_other.status(), 200);
    let by_token = attach(&token).await.unwrap();
    assert_eq!(by_token.status(), 200);

    app.send(Method::POST, "/api/auth/sign-out", Some(&other), None).await.expect(204);
    assert!(ends_within(by_other, STREAM_END).await, "the signed-out session's re-attachment ended");
    assert!(!ends_within(by_token, Duration::from_millis(1_000)).await, "the other session's is still open");
    fake.release_held();
    assert!(ends_within(reply, Duration::from_secs(20)).await, "the reply itself runs to its end");
}

#[tokio::test]
async fn a_reattached_reply_ends_when_its_session_is_signed_out_sqlite() {
    a_reattached_reply_ends_when_its_session_is_signed_out(Db::Sqlite).await;
}

#[tokio::test]
async fn a_reattached_reply_ends_when_its_session_is_signed_out_postgres() {
    a_reattached_reply_ends_when_its_session_is_signed_out(Db::Postgres).await;
}
