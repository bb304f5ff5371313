//! Cross-site request forgery and CORS: a cookie alone never lets another
//! site change anything, and CORS stays closed unless origins are configured.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Db, TestApp, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(cookie_authenticated_changes_need_a_same_site_origin);

async fn cookie_request(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    origin: Option<(&str, &str)>,
) -> crate::helpers::Response {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.url))
        .header("cookie", format!("auth_token={token}"))
        .json(&json!({"title": "Forged"}));
    if let Some((name, value)) = origin {
        request = request.header(name, value);
    }
    TestApp::read(request.send().await.unwrap()).await
}

async fn cookie_authenticated_changes_need_a_same_site_origin(app: TestApp) {
    let token = app.new_user().await;
    let task = app.create_task(&token, json!({"title": "Mine"})).await;
    let own = app.url.clone();
    let own_referer = format!("{own}/tasks?view=all");
    let task_path = format!("/api/tasks/{}", task["id"].as_str().unwrap());

    let refused = [
        None,
        Some(("origin", "https://evil.example")),
        Some(("origin", "null")),
        Some(("referer", "https://evil.example/page")),
        Some(("origin", "http://127.0.0.1:1")),
    ];
    for origin in refused {
        for (method, path) in [
            (Method::POST, "/api/tasks"),
            (Method::PATCH, task_path.as_str()),
            (Method::DELETE, task_path.as_str()),
            (Method::POST, "/api/tasks/bulk/delete"),
            (Method::POST, "/api/chatkit"),
            (Method::POST, "/api/tokens"),
            (Method::POST, "/api/auth/sign-out"),
            (Method::POST, "/mcp"),
        ] {
            let error = cookie_request(&app, method.clone(), path, &token, origin)
                .await
                .expect_error(403, "forbidden");
            assert!(error["message"].as_str().unwrap().contains("Cross-site"), "{method} {path}: {error}");
        }
    }
    let list = app.get("/api/tasks", &token).await.expect(200);
    assert_eq!(list["total"], 1, "nothing was created or deleted: {list}");
    assert_eq!(app.get(&task_path, &token).await.expect(200)["title"], "Mine");

    // Reads by cookie need no origin; same-origin changes (Origin or Referer) work.
    cookie_request(&app, Method::GET, "/api/tasks", &token, None).await.expect(200);
    cookie_request(&app, Method::POST, "/api/tasks", &token, Some(("origin", &own))).await.expect(201);
    cookie_request(&app, Method::PATCH, &task_path, &token, Some(("referer", &own_referer)))
        .await
        .expect(200);
    // A Bearer token cannot be sent by a forging page, so it needs no origin.
    app.send(Method::POST, "/api/tasks", Some(&token), Some(json!({"title": "By bearer"}))).await.expect(201);
    assert_eq!(app.get("/api/tasks", &token).await.expect(200)["total"], 3);

    // CORS is closed by default: no Access-Control headers for any origin.
    let preflight = app
        .client
        .request(Method::OPTIONS, format!("{}/api/chatkit", app.url))
        .header("origin", "https://chat.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none());
    let simple =
        cookie_request(&app, Method::GET, "/api/tasks", &token, Some(("origin", "https://chat.example.com")))
            .await;
    assert!(simple.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn configured_origins_get_cors_with_credentials_and_may_post_by_cookie() {
    let Some(app) = spawn_app_with(Db::Sqlite, |config| {
        config.cors_origins = vec!["https://chat.example.com".into()];
    })
    .await
    else {
        return;
    };
    let token = app.new_user().await;
    let preflight = app
        .client
        .request(Method::OPTIONS, format!("{}/api/chatkit", app.url))
        .header("origin", "https://chat.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "https://chat.example.com");
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let allowed = headers["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));

    let other = app
        .client
        .request(Method::OPTIONS, format!("{}/api/chatkit", app.url))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let created = cookie_request(
        &app,
        Method::POST,
        "/api/tasks",
        &token,
        Some(("origin", "https://chat.example.com")),
    )
    .await;
    assert_eq!(created.headers["access-control-allow-origin"], "https://chat.example.com");
    created.expect(201);
    cookie_request(&app, Method::POST, "/api/tasks", &token, Some(("origin", "https://evil.example")))
        .await
        .expect_error(403, "forbidden");
}
