//! Who may sign up: `--signup open|invite|closed`; the first account is the administrator and
//! may create invite codes, each good for one sign-up.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    the_first_account_is_the_administrator,
    of_sign_ups_racing_on_an_empty_server_one_is_the_administrator,
    closed_sign_up_refuses_everyone_but_keeps_sign_in,
    invite_sign_up_needs_a_code_that_works_once,
);

const PASSWORD: &str = "correct horse battery";

async fn sign_up(app: &TestApp, body: Value) -> crate::helpers::Response {
    app.send(Method::POST, "/api/auth/sign-up", None, Some(body)).await
}

async fn the_first_account_is_the_administrator(app: TestApp) {
    let first = app.sign_up("first@example.com", PASSWORD).await;
    let second = app.sign_up("second@example.com", PASSWORD).await;
    let session = app.get("/api/auth/session", &first).await.expect(200);
    assert_eq!((&session["is_admin"], &session["user"]["is_admin"]), (&json!(true), &json!(true)));
    assert_eq!(session["signup"], "open");
    let session = app.get("/api/auth/session", &second).await.expect(200);
    assert_eq!(session["is_admin"], false);

    // Only the administrator creates invites.
    let created = app.post("/api/admin/invites", &first, json!({})).await.expect(201);
    assert!(created["code"].as_str().unwrap().starts_with("inv_"), "{created}");
    let expires: jiff::Timestamp = created["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - jiff::Timestamp::now()).get_seconds() as f64 / 86_400.0;
    assert!((6.9..=7.0).contains(&days), "{days} days");
    app.post("/api/admin/invites", &second, json!({})).await.expect_error(403, "forbidden");
    app.send(Method::POST, "/api/admin/invites", None, None).await.expect_error(401, "unauthorized");
}

async fn of_sign_ups_racing_on_an_empty_server_one_is_the_administrator(app: TestApp) {
    let emails: Vec<String> = (0..8).map(|n| format!("racer{n}@example.com")).collect();
    let tokens = futures::future::join_all(emails.iter().map(|email| app.sign_up(email, PASSWORD))).await;
    let mut admins = 0;
    for token in &tokens {
        let session = app.get("/api/auth/session", token).await.expect(200);
        admins += usize::from(session["is_admin"] == json!(true));
    }
    assert_eq!(admins, 1, "every racer signed up, and exactly one is the administrator");
}

async fn closed_sign_up_refuses_everyone_but_keeps_sign_in(app: TestApp) {
    app.sign_up("before@example.com", PASSWORD).await;
    let app = app.restart(|config| config.signup = todokit::config::SignupMode::Closed).await;
    let error = sign_up(&app, json!({"email": "new@example.com", "password": PASSWORD}))
        .await
        .expect_error(403, "signup_closed");
    assert!(error["message"].as_str().unwrap().contains("closed"), "{error}");
    // An invite code does not open it.
    sign_up(&app, json!({"email": "new@example.com", "password": PASSWORD, "invite_code": "inv_x"}))
        .await
        .expect_error(403, "signup_closed");
    let signed_in = app
        .send(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": "before@example.com", "password": PASSWORD})),
        )
        .await
        .expect(200);
    let session = app.get("/api/auth/session", signed_in["token"].as_str().unwrap()).await.expect(200);
    assert_eq!(session["signup"], "closed");
    assert_eq!(
        app.send(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": "new@example.com", "password": PASSWORD}))
        )
        .await
        .status,
        401,
        "no account was made"
    );
}

async fn invite_sign_up_needs_a_code_that_works_once(app: TestApp) {
    let admin = app.sign_up("admin@example.com", PASSWORD).await;
    let member = app.sign_up("member@example.com", PASSWORD).await;
    let app = app.restart(|config| config.signup = todokit::config::SignupMode::Invite).await;
    assert_eq!(app.get("/api/auth/session", &admin).await.expect(200)["signup"], "invite");

    sign_up(&app, json!({"email": "new@example.com", "password": PASSWORD}))
        .await
        .expect_error(403, "invite_required");
    sign_up(&app, json!({"email": "new@example.com", "password": PASSWORD, "invite_code": "  "}))
        .await
        .expect_error(403, "invite_required");
    for bogus in ["inv_000000000000000000000000", &"x".repeat(500)] {
        sign_up(&app, json!({"email": "new@example.com", "password": PASSWORD, "invite_code": bogus}))
            .await
            .expect_error(403, "invalid_invite");
    }
    app.post("/api/admin/invites", &member, json!({})).await.expect_error(403, "forbidden");

    let code = app.post("/api/admin/invites", &admin, json!({})).await.expect(201)["code"]
        .as_str()
        .unwrap()
        .to_owned();
    // Bad input is still refused first, and does not use the code up.
    sign_up(&app, json!({"email": "new@example.com", "password": "short", "invite_code": code}))
        .await
        .expect_error(422, "validation_failed");
    // An email that is taken does not use it up either.
    sign_up(&app, json!({"email": "member@example.com", "password": PASSWORD, "invite_code": code}))
        .await
        .expect_error(409, "conflict");
    let created = sign_up(
        &app,
        json!({"email": "new@example.com", "password": PASSWORD, "invite_code": format!(" {code} ")}),
    )
    .await
    .expect(201);
    assert_eq!(created["user"]["is_admin"], false);
    app.get("/api/tasks", created["token"].as_str().unwrap()).await.expect(200);
    sign_up(&app, json!({"email": "third@example.com", "password": PASSWORD, "invite_code": code}))
        .await
        .expect_error(403, "invalid_invite");
}
