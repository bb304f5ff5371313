//! The account itself: changing the password (other sessions end) and deleting the account
//! (everything of its own goes, in one transaction; its credentials and streams end at once).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use todokit::tasks::model::UserId;

use crate::helpers::{Db, TestApp, spawn_app};
use crate::on_both_backends;
use crate::sessions::{ACROSS_REPLICAS, STREAM_END, ends_within, open_events, sign_in_as, within};

on_both_backends!(
    a_password_change_needs_the_current_password_and_ends_the_other_sessions,
    wrong_current_passwords_are_held_to_the_sign_in_limits,
    deleting_the_account_removes_everything_of_its_own_and_frees_the_email,
    deleting_needs_the_password_and_touches_no_one_else,
);

const PASSWORD: &str = "correct horse battery";

async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::StatusCode {
    app.send(Method::POST, "/api/auth/sign-in", None, Some(json!({"email": email, "password": password})))
        .await
        .status
}

async fn a_password_change_needs_the_current_password_and_ends_the_other_sessions(app: TestApp) {
    let current = app.sign_up("pw@example.com", PASSWORD).await;
    let other = sign_in_as(&app, "pw@example.com", PASSWORD, "phone").await;
    let stream_of_other = open_events(&app, &other).await;
    let stream_of_current = open_events(&app, &current).await;
    let pat = app.post("/api/tokens", &current, json!({"name": "script"})).await.expect(201)["token_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = app.sign_up("stranger@example.com", PASSWORD).await;

    let change = |token: &String, body: Value| {
        let token = token.clone();
        let app = &app;
        async move { app.post("/api/account/password", &token, body).await }
    };
    let error =
        change(&current, json!({"current_password": "not it at all", "new_password": "brand new pass"}))
            .await
            .expect_error(403, "wrong_password");
    assert!(!error["message"].as_str().unwrap().is_empty());
    change(&current, json!({"current_password": PASSWORD, "new_password": "short"}))
        .await
        .expect_error(422, "validation_failed");
    change(&current, json!({"current_password": PASSWORD})).await.expect_error(422, "validation_failed");
    // Nothing changed so far.
    app.get("/api/tasks", &other).await.expect(200);
    assert_eq!(sign_in(&app, "pw@example.com", PASSWORD).await, 200);

    let done =
        change(&current, json!({"current_password": PASSWORD, "new_password": "brand new pass"})).await;
    assert_eq!(done.expect(204), Value::Null);
    app.get("/api/tasks", &current).await.expect(200);
    app.get("/api/tasks", &other).await.expect_error(401, "unauthorized");
    app.get("/api/tasks", &pat).await.expect(200);
    assert_eq!(sign_in(&app, "pw@example.com", PASSWORD).await, 401, "the old password fails");
    assert_eq!(sign_in(&app, "pw@example.com", "brand new pass").await, 200, "the new one works");
    assert!(ends_within(stream_of_other, STREAM_END).await, "the other session's stream ended");
    assert!(!ends_within(stream_of_current, Duration::from_millis(1_500)).await, "the caller's stays");

    // Another user's password and sessions are untouched.
    app.get("/api/tasks", &stranger).await.expect(200);
    assert_eq!(sign_in(&app, "stranger@example.com", PASSWORD).await, 200);
    app.send(
        Method::POST,
        "/api/account/password",
        None,
        Some(json!({"current_password": PASSWORD, "new_password": "brand new pass"})),
    )
    .await
    .expect_error(401, "unauthorized");
}

async fn wrong_current_passwords_are_held_to_the_sign_in_limits(app: TestApp) {
    let app = app.restart(|config| config.signin_attempts = 2).await;
    let token = app.sign_up("limit@example.com", PASSWORD).await;
    let wrong = json!({"current_password": "wrong-password", "new_password": "brand new pass"});
    for _ in 0..2 {
        app.post("/api/account/password", &token, wrong.clone()).await.expect_error(403, "wrong_password");
    }
    let right = json!({"current_password": PASSWORD, "new_password": "brand new pass"});
    app.post("/api/account/password", &token, right).await.expect_error(429, "rate_limited");
    // The same limit as signing in: that account and address are held back there too.
    let response = app
        .send(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": "limit@example.com", "password": PASSWORD})),
        )
        .await;
    response.expect_error(429, "rate_limited");
    app.send(Method::DELETE, "/api/account", Some(&token), Some(json!({"password": PASSWORD})))
        .await
        .expect_error(429, "rate_limited");
}

async fn delete_account(app: &TestApp, token: &str, password: &str) -> crate::helpers::Response {
    app.send(Method::DELETE, "/api/account", Some(token), Some(json!({"password": password}))).await
}

async fn deleting_the_account_removes_everything_of_its_own_and_frees_the_email(app: TestApp) {
    let token = app.sign_up("gone@example.com", PASSWORD).await;
    let other_session = sign_in_as(&app, "gone@example.com", PASSWORD, "phone").await;
    let me = app.get("/api/auth/session", &token).await.expect(200);
    let user = uuid::Uuid::parse_str(me["user"]["id"].as_str().unwrap()).unwrap();
    for title in ["one", "two"] {
        app.create_task(&token, json!({"title": title, "tags": ["x"]})).await;
    }
    let pat = app.post("/api/tokens", &token, json!({"name": "script"})).await.expect(201)["token_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(app.storage.events.latest_event_id(UserId(user)).await.unwrap() > 0, "it has events");
    let streams = [
        open_events(&app, &token).await,
        open_events(&app, &pat).await,
        open_events(&app, &other_session).await,
    ];

    let response = delete_account(&app, &token, PASSWORD).await;
    let removal = response.headers["set-cookie"].to_str().unwrap().to_owned();
    assert_eq!(response.expect(204), Value::Null);
    assert!(removal.contains("Max-Age=0"), "{removal}");

    // Every credential is refused at once; every stream ends.
    for credential in [&token, &other_session, &pat] {
        app.get("/api/tasks", credential).await.expect_error(401, "unauthorized");
    }
    for stream in streams {
        assert!(ends_within(stream, STREAM_END).await, "a stream of the deleted account ended");
    }
    // Nothing of it is left.
    assert!(app.storage.accounts.user_by_id(user).await.unwrap().is_none());
    assert_eq!(app.storage.access_tokens.list_access_tokens(user).await.unwrap(), vec![]);
    assert_eq!(app.storage.sessions.list_sessions(user, jiff::Timestamp::now()).await.unwrap(), vec![]);
    assert_eq!(app.storage.events.latest_event_id(UserId(user)).await.unwrap(), 0, "its events are gone");
    assert_eq!(sign_in(&app, "gone@example.com", PASSWORD).await, 401);

    // A new account with the same email starts empty.
    let again = app.sign_up("gone@example.com", "another password").await;
    let tasks = app.get("/api/tasks", &again).await.expect(200);
    assert_eq!(tasks["tasks"], json!([]), "{tasks}");
    let tags = app.get("/api/tasks/tags", &again).await.expect(200);
    assert!(!tags.to_string().contains("\"x\""), "{tags}");
    assert_eq!(app.get("/api/tokens", &again).await.expect(200)["tokens"], json!([]));
    assert_eq!(
        app.get("/api/auth/sessions", &again).await.expect(200)["sessions"].as_array().unwrap().len(),
        1
    );
    let first = app.create_task(&again, json!({"title": "fresh"})).await;
    assert_eq!(first["number"], 1, "task numbers start again: {first}");
}

async fn deleting_needs_the_password_and_touches_no_one_else(app: TestApp) {
    let token = app.sign_up("keep@example.com", PASSWORD).await;
    let neighbour = app.sign_up("neighbour@example.com", PASSWORD).await;
    let theirs = app.create_task(&neighbour, json!({"title": "theirs"})).await;
    let neighbour_stream = open_events(&app, &neighbour).await;

    delete_account(&app, &token, "not the password").await.expect_error(403, "wrong_password");
    app.send(Method::DELETE, "/api/account", Some(&token), Some(json!({})))
        .await
        .expect_error(422, "validation_failed");
    app.send(Method::DELETE, "/api/account", None, Some(json!({"password": PASSWORD})))
        .await
        .expect_error(401, "unauthorized");
    app.get("/api/tasks", &token).await.expect(200);

    delete_account(&app, &token, PASSWORD).await.expect(204);
    let task =
        app.get(&format!("/api/tasks/{}", theirs["id"].as_str().unwrap()), &neighbour).await.expect(200);
    assert_eq!(task["title"], "theirs");
    app.get("/api/auth/session", &neighbour).await.expect(200);
    assert!(
        !ends_within(neighbour_stream, Duration::from_millis(1_500)).await,
        "another user's stream is open"
    );
}

/// Deleted through replica A: replica B refuses its token within a couple of seconds and ends
/// its stream there.
#[tokio::test]
async fn an_account_deleted_on_one_replica_is_gone_on_another() {
    let Some(a) = spawn_app(Db::Postgres).await else { return };
    let b = a.replica(|_| {}).await.unwrap();
    let token = a.sign_up("replica@example.com", PASSWORD).await;
    b.get("/api/tasks", &token).await.expect(200);
    let stream_on_b = open_events(&b, &token).await;

    delete_account(&a, &token, PASSWORD).await.expect(204);
    let took = within(ACROSS_REPLICAS, || async { b.get("/api/tasks", &token).await.status == 401 }).await;
    assert!(took.is_some(), "replica B still accepted the deleted account's token");
    assert!(ends_within(stream_on_b, STREAM_END).await, "B's stream of the deleted account ended");
}
