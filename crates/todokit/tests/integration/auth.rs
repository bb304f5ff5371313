use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{JWT_SECRET, TestApp};
use crate::on_both_backends;

on_both_backends!(
    sign_up_signs_in_and_sets_a_safe_cookie,
    emails_are_unique_case_insensitively,
    sign_up_validates_email_and_password,
    sign_in_failures_are_generic,
    sign_in_is_throttled_per_account,
    session_accepts_bearer_or_cookie_but_not_query,
    forged_expired_and_orphaned_tokens_are_refused,
    an_account_found_a_moment_ago_is_not_looked_up_again,
    sign_out_clears_the_cookie,
    generated_secret_survives_a_restart,
);

async fn sign_up_signs_in_and_sets_a_safe_cookie(app: TestApp) {
    let response = app
        .send(
            Method::POST,
            "/api/auth/sign-up",
            None,
            Some(json!({"email": "Ada@Example.com", "password": "longenough"})),
        )
        .await;
    let cookie = response.headers["set-cookie"].to_str().unwrap().to_owned();
    let body = response.expect(201);
    assert_eq!(body["user"]["email"], "Ada@Example.com");
    assert_eq!(body["message"], "Account created successfully");
    assert!(body["expires_at"].as_str().is_some());
    assert!(cookie.starts_with("auth_token="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(cookie.contains(flag), "cookie lacks {flag}: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "Secure is off unless configured: {cookie}");
    let token = body["token"].as_str().unwrap();
    let session = app.get("/api/auth/session", token).await.expect(200);
    assert_eq!(session["authenticated"], true);
    assert_eq!(session["user"]["id"], body["user"]["id"]);
}

async fn emails_are_unique_case_insensitively(app: TestApp) {
    app.sign_up("bob@example.com", "password-1").await;
    let error = app
        .send(
            Method::POST,
            "/api/auth/sign-up",
            None,
            Some(json!({"email": " BOB@example.COM ", "password": "password-2"})),
        )
        .await
        .expect_error(409, "conflict");
    assert_eq!(error["message"], "Email already registered");
}

async fn sign_up_validates_email_and_password(app: TestApp) {
    let cases = [
        (json!({"email": "not-an-email", "password": "longenough"}), "email"),
        (json!({"email": "a@nodot", "password": "longenough"}), "email"),
        (json!({"email": "c@example.com", "password": "short"}), "password"),
    ];
    for (body, field) in cases {
        let error = app
            .send(Method::POST, "/api/auth/sign-up", None, Some(body))
            .await
            .expect_error(422, "validation_failed");
        assert_eq!(error["field"], field);
    }
    let error = app
        .send(Method::POST, "/api/auth/sign-up", None, Some(json!({"email": "c@example.com"})))
        .await
        .expect_error(422, "validation_failed");
    assert!(error["message"].as_str().unwrap().contains("password"), "{error}");
}

async fn sign_in_failures_are_generic(app: TestApp) {
    app.sign_up("carol@example.com", "the-password").await;
    let wrong_password = app
        .send(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": "carol@example.com", "password": "nope-nope"})),
        )
        .await
        .expect_error(401, "unauthorized");
    let unknown_email = app
        .send(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": "nobody@example.com", "password": "nope-nope"})),
        )
        .await
        .expect_error(401, "unauthorized");
    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password["message"], "Invalid email or password");
    let ok = app
        .send(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": "CAROL@example.com", "password": "the-password"})),
        )
        .await
        .expect(200);
    app.get("/api/auth/session", ok["token"].as_str().unwrap()).await.expect(200);
}

async fn sign_in_is_throttled_per_account(app: TestApp) {
    let app = app.restart(|config| config.signin_attempts = 3).await;
    app.sign_up("dave@example.com", "the-password").await;
    let attempt = |password: &'static str| {
        app.send(
            Method::POST,
            "/api/auth/sign-in",
            None,
            Some(json!({"email": "dave@example.com", "password": password})),
        )
    };
    for _ in 0..3 {
        attempt("wrong-password").await.expect_error(401, "unauthorized");
    }
    let response = attempt("the-password").await;
    let retry_after: u64 = response.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0 && retry_after <= 900);
    let error = response.expect_error(429, "rate_limited");
    assert!(error["message"].as_str().unwrap().contains("try again"), "{error}");
}

async fn session_accepts_bearer_or_cookie_but_not_query(app: TestApp) {
    let token = app.new_user().await;
    let by_cookie = app
        .client
        .get(format!("{}/api/auth/session", app.url))
        .header("cookie", format!("auth_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);
    let by_query = app
        .client
        .get(format!("{}/api/auth/session?token={token}&auth_token={token}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), 401);
    app.send(Method::GET, "/api/auth/session", None, None).await.expect_error(401, "unauthorized");
    app.send(Method::GET, "/api/tasks", None, None).await.expect_error(401, "unauthorized");
}

fn forge(secret: &str, sub: &str, sid: &str, exp: i64) -> String {
    let claims = json!({"sub": sub, "sid": sid, "iat": 1, "exp": exp});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn forged_expired_and_orphaned_tokens_are_refused(app: TestApp) {
    let token = app.new_user().await;
    let session = app.get("/api/auth/session", &token).await.expect(200);
    let user_id = session["user"]["id"].as_str().unwrap().to_owned();
    let future = jiff::Timestamp::now().as_second() + 3600;
    let sid = crate::sessions::session_id_of(&token);
    // The right key works, proving the forgeries below fail for their flaw alone.
    app.get("/api/auth/session", &forge(JWT_SECRET, &user_id, &sid, future)).await.expect(200);

    let wrong_key = forge("another-secret-another-secret-another-secret", &user_id, &sid, future);
    let expired = forge(JWT_SECRET, &user_id, &sid, jiff::Timestamp::now().as_second() - 3600);
    let other_sub = forge(JWT_SECRET, &uuid::Uuid::now_v7().to_string(), &sid, future);
    // Signed with the right key, but expiring later than any token this server issues (7 days).
    let far_future =
        forge(JWT_SECRET, &user_id, &sid, jiff::Timestamp::now().as_second() + 10 * 365 * 86_400);
    let (header, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
    let payload = base64_url(&json!({"sub": user_id, "sid": sid, "exp": future}).to_string());
    let alg_none = format!("{none_header}.{payload}.");
    let tampered = format!("{header}.{payload}.{signature}");
    for bad in [wrong_key, expired, other_sub, far_future, alg_none, tampered, "garbage".into()] {
        app.get("/api/auth/session", &bad).await.expect_error(401, "unauthorized");
    }

    assert!(app.storage.accounts.delete_user(uuid::Uuid::parse_str(&user_id).unwrap()).await.unwrap());
    app.get("/api/auth/session", &token).await.expect_error(401, "unauthorized");
}

/// Authenticating a request checks that the account exists; the storage remembers for a moment
/// the accounts it found (`storage::known_users`), so a signed-in user's next requests do not ask
/// the database again. An account removed through the same storage is refused at once (the test
/// above); one removed by another process sharing the database is still known from memory here
/// until the window ends (unit-tested with a paused clock), while that process refuses it at once.
async fn an_account_found_a_moment_ago_is_not_looked_up_again(app: TestApp) {
    let token = app.new_user().await;
    let session = app.get("/api/auth/session", &token).await.expect(200);
    let user_id = uuid::Uuid::parse_str(session["user"]["id"].as_str().unwrap()).unwrap();
    let elsewhere = app.another_storage().await;

    assert!(elsewhere.accounts.user_exists(user_id).await.unwrap());
    assert!(elsewhere.accounts.delete_user(user_id).await.unwrap());
    assert!(
        !elsewhere.accounts.user_exists(user_id).await.unwrap(),
        "removed through this storage: refused at once"
    );
    assert!(
        app.storage.accounts.user_by_id(user_id).await.unwrap().is_none(),
        "the account is gone from the database"
    );
    assert!(
        app.storage.accounts.user_exists(user_id).await.unwrap(),
        "found by the server a moment ago: not asked again"
    );
    let stranger = uuid::Uuid::now_v7();
    assert!(
        !app.storage.accounts.user_exists(stranger).await.unwrap(),
        "an account never found is always looked up"
    );
}

fn base64_url(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

async fn sign_out_clears_the_cookie(app: TestApp) {
    let token = app.new_user().await;
    let response = app.send(Method::POST, "/api/auth/sign-out", Some(&token), None).await;
    let cookie = response.headers["set-cookie"].to_str().unwrap().to_owned();
    response.expect(204);
    assert!(cookie.starts_with("auth_token=;") && cookie.contains("Max-Age=0"), "{cookie}");
}

async fn generated_secret_survives_a_restart(app: TestApp) {
    // Without a configured secret one is generated into the data directory.
    let app = app.restart(|config| config.jwt_secret = None).await;
    let token = app.new_user().await;
    assert!(app.data_dir.path().join("jwt_secret").exists());
    let app = app.restart(|config| config.jwt_secret = None).await;
    app.get("/api/auth/session", &token).await.expect(200);
    // A configured secret replaces it, so the old token no longer verifies.
    let app = app.restart(|_| {}).await;
    app.get("/api/auth/session", &token).await.expect_error(401, "unauthorized");
}
