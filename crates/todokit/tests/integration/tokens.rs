//! Personal access tokens over REST: create (secret once), list (never
//! secrets), revoke (at once), expiry, and another user's tokens.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(access_tokens_authenticate_and_revoke_at_once, tokens_are_private_and_validated);

async fn access_tokens_authenticate_and_revoke_at_once(app: TestApp) {
    let jwt = app.new_user().await;
    let created =
        app.post("/api/tokens", &jwt, json!({"name": "script", "expires_in_days": 30})).await.expect(201);
    let secret = created["token_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tdk_") && secret.len() > 40);
    assert!(secret.starts_with(created["prefix"].as_str().unwrap()));
    assert_eq!(created["active"], true);
    assert!(created["expires_at"].is_string());

    // The token works for REST like a session.
    let task = app.create_task(&secret, json!({"title": "Via token"})).await;
    assert_eq!(app.get("/api/tasks", &jwt).await.expect(200)["tasks"][0]["id"], task["id"]);
    let session = app.get("/api/auth/session", &secret).await.expect(200);
    assert_eq!(session["authenticated"], true);

    // A token may manage tokens, but never sees a secret in a list.
    let listed = app.get("/api/tokens", &secret).await.expect(200);
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(!listed.to_string().contains(&secret));
    assert!(tokens[0]["last_used_at"].is_string(), "use is recorded");
    let second = app.post("/api/tokens", &secret, json!({"name": "no expiry"})).await.expect(201);
    assert_eq!(second["expires_at"], serde_json::Value::Null);

    let id = created["id"].as_str().unwrap();
    let revoked = app.delete(&format!("/api/tokens/{id}"), &jwt).await.expect(200);
    assert_eq!(revoked["active"], false);
    assert!(revoked["revoked_at"].is_string());
    app.get("/api/tasks", &secret).await.expect_error(401, "unauthorized");
    // Revoking again is harmless; the other token still works.
    app.delete(&format!("/api/tokens/{id}"), &jwt).await.expect(200);
    app.get("/api/tasks", second["token_secret"].as_str().unwrap()).await.expect(200);

    // Expiry: a token past its expiry is refused at once.
    let user = uuid::Uuid::parse_str(session["user"]["id"].as_str().unwrap()).unwrap();
    let past = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1);
    let (expired, expired_secret) = todokit::auth::access_token::issue_access_token(
        &*app.storage.access_tokens,
        user,
        "expired",
        Some(past),
        app.state.clock.now(),
    )
    .await
    .unwrap();
    app.get("/api/tasks", &expired_secret).await.expect_error(401, "unauthorized");
    let listed = app.get("/api/tokens", &jwt).await.expect(200);
    let shown = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == expired.id.to_string())
        .unwrap()
        .clone();
    assert_eq!(shown["active"], false);

    // Unknown tokens and look-alikes are refused.
    app.get("/api/tasks", "tdk_0000000000000000000000000000000000000000")
        .await
        .expect_error(401, "unauthorized");
}

async fn tokens_are_private_and_validated(app: TestApp) {
    let owner = app.new_user().await;
    let other = app.new_user().await;
    let created = app.post("/api/tokens", &owner, json!({"name": "mine"})).await.expect(201);
    let id = created["id"].as_str().unwrap();

    assert_eq!(app.get("/api/tokens", &other).await.expect(200)["tokens"], json!([]));
    let theirs = app.delete(&format!("/api/tokens/{id}"), &other).await;
    let missing = app.delete(&format!("/api/tokens/{}", uuid::Uuid::now_v7()), &other).await;
    assert_eq!((theirs.status, &theirs.body), (missing.status, &missing.body));
    assert_eq!(theirs.status, 404);
    app.delete("/api/tokens/not-a-uuid", &other).await.expect_error(404, "not_found");
    app.get("/api/tasks", created["token_secret"].as_str().unwrap()).await.expect(200);

    app.post("/api/tokens", &owner, json!({"name": "  "})).await.expect_error(422, "validation_failed");
    app.post("/api/tokens", &owner, json!({"name": "x".repeat(101)}))
        .await
        .expect_error(422, "validation_failed");
    app.post("/api/tokens", &owner, json!({"name": "a", "expires_in_days": 0}))
        .await
        .expect_error(422, "validation_failed");
    app.post("/api/tokens", &owner, json!({"name": "a", "expires_in_days": 5000}))
        .await
        .expect_error(422, "validation_failed");
    app.send(reqwest::Method::GET, "/api/tokens", None, None).await.expect_error(401, "unauthorized");
}
