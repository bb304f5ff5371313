//! The embedded web UI and the quick-add parse endpoint it uses.

use reqwest::Method;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::json;

use crate::helpers::{Db, TestApp, spawn_app};
use crate::on_both_backends;

on_both_backends!(parse_reads_the_line_in_the_callers_zone_and_saves_nothing);

#[tokio::test]
async fn the_page_is_served_with_a_strict_policy_and_revalidates_by_etag() {
    let Some(app) = spawn_app(Db::Sqlite).await else { return };
    let page = app.client.get(format!("{}/", app.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    let csp = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(csp.starts_with("default-src 'self'; script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let etag = page.headers()[ETAG].clone();
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/assets/js/main.js"></script>"#));

    let again = app.client.get(format!("{}/", app.url)).header(IF_NONE_MATCH, etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    let script = app.client.get(format!("{}/assets/js/main.js", app.url)).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(script.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    let css = app.client.get(format!("{}/assets/app.css", app.url)).send().await.unwrap();
    assert_eq!(css.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
}

#[tokio::test]
async fn the_service_worker_is_served_from_the_root_and_keeps_every_module() {
    let Some(app) = spawn_app(Db::Sqlite).await else { return };
    let worker = app.client.get(format!("{}/sw.js", app.url)).send().await.unwrap();
    assert_eq!(worker.status(), 200);
    assert_eq!(worker.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    let source = worker.text().await.unwrap();
    // A module left out of the shell list would be missing when the page opens offline.
    let modules = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/web/assets/js")).unwrap();
    for module in modules {
        let name = module.unwrap().file_name().into_string().unwrap();
        assert!(source.contains(&format!("\"/assets/js/{name}\"")), "sw.js does not keep {name}");
    }
}

#[tokio::test]
async fn client_routes_get_the_page_while_unknown_api_and_asset_paths_stay_404() {
    let Some(app) = spawn_app(Db::Sqlite).await else { return };
    for path in ["/tasks", "/sign-in", "/tasks/anything?status=pending"] {
        let response = app.client.get(format!("{}{path}", app.url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()[CONTENT_TYPE], "text/html; charset=utf-8", "{path}");
    }
    app.send(Method::GET, "/api/nope", None, None).await.expect_error(404, "not_found");
    app.send(Method::POST, "/api/nope", None, None).await.expect_error(404, "not_found");
    app.send(Method::GET, "/assets/missing.js", None, None).await.expect_error(404, "not_found");
    app.send(Method::POST, "/tasks", None, None).await.expect_error(404, "not_found");
}

async fn parse_reads_the_line_in_the_callers_zone_and_saves_nothing(app: TestApp) {
    let text = json!({"text": "Call mom tomorrow at 5pm #family !high"});
    app.send(Method::POST, "/api/tasks/parse", None, Some(text.clone()))
        .await
        .expect_error(401, "unauthorized");

    let token = app.new_user().await;
    let response = app
        .client
        .post(format!("{}/api/tasks/parse", app.url))
        .bearer_auth(&token)
        .header("x-timezone", "America/New_York")
        .json(&text)
        .send()
        .await
        .unwrap();
    let parsed = TestApp::read(response).await.expect(200);
    assert_eq!(parsed["title"], "Call mom");
    assert_eq!(parsed["priority"], "high");
    assert_eq!(parsed["tags"], json!(["family"]));
    assert_eq!(parsed["due_has_time"], true);
    assert_eq!(parsed["time_zone"], "America/New_York");
    let due: jiff::Timestamp = parsed["due_at"].as_str().unwrap().parse().unwrap();
    let local = due.to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap());
    let tomorrow = jiff::Zoned::now().with_time_zone(local.time_zone().clone()).date().tomorrow().unwrap();
    assert_eq!((local.date(), local.hour(), local.minute()), (tomorrow, 17, 0));

    let none = app.post("/api/tasks/parse", &token, json!({"text": "water the plants"})).await.expect(200);
    assert_eq!(none["title"], "Water the plants");
    assert_eq!(none["due_at"], serde_json::Value::Null);
    assert_eq!(none["priority"], serde_json::Value::Null);

    // Recurrence and reminder chips come from the same parser, in the shape POST /api/tasks takes.
    let gym = app
        .post(
            "/api/tasks/parse",
            &token,
            json!({"text": "gym every Mon and Thu at 6pm, remind me an hour before"}),
        )
        .await
        .expect(200);
    assert_eq!(gym["title"], "Gym");
    assert_eq!(gym["recurrence"], json!({"frequency": "weekly", "interval": 1, "weekdays": ["mon", "thu"]}));
    assert_eq!(gym["recurrence_text"], "every Mon and Thu");
    assert_eq!(gym["reminder_offset_minutes"], 60);
    assert_eq!(none["recurrence"], serde_json::Value::Null);
    assert_eq!(none["reminder_offset_minutes"], serde_json::Value::Null);

    app.post("/api/tasks/parse", &token, json!({"text": "x".repeat(2001)}))
        .await
        .expect_error(422, "validation_failed");
    app.post("/api/tasks/parse", &token, json!({"words": "x"})).await.expect_error(422, "validation_failed");
    assert_eq!(app.get("/api/tasks", &token).await.expect(200)["total"], 0, "parsing never saves");
}
