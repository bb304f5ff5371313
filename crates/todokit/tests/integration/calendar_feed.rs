//! The calendar feed (issue 24, point 6): a secret URL with no other credential, VEVENT by
//! default and VTODO on request, ETag/304, replacement and revocation, and another user's view.

use reqwest::header;
use serde_json::json;

use crate::helpers::{Db, Response, TestApp, spawn_app, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(
    the_feed_serves_due_tasks_without_any_other_credential,
    polling_an_unchanged_feed_costs_a_304,
    a_replaced_or_revoked_feed_is_404,
    each_feed_shows_only_its_owners_tasks,
);

/// The feed URL's path (`/calendar/….ics`), checked to be an absolute URL on this server.
fn feed_path(app: &TestApp, created: &serde_json::Value) -> String {
    let url = created["url"].as_str().unwrap();
    let path = url.strip_prefix(&app.url).unwrap_or_else(|| panic!("{url} is not on {}", app.url));
    assert!(path.starts_with("/calendar/") && path.ends_with(".ics"), "{url}");
    assert_eq!(path.len(), "/calendar/".len() + 43 + ".ics".len(), "{url}");
    path.to_owned()
}

/// Reads `path` with no credential at all (and optionally an `If-None-Match`).
async fn fetch(app: &TestApp, path: &str, if_none_match: Option<&str>) -> Response {
    let mut request = app.client.get(format!("{}{path}", app.url));
    if let Some(tag) = if_none_match {
        request = request.header(header::IF_NONE_MATCH, tag);
    }
    TestApp::read(request.send().await.unwrap()).await
}

async fn the_feed_serves_due_tasks_without_any_other_credential(app: TestApp) {
    let token = app.new_user().await;
    assert_eq!(
        app.get("/api/calendar-feed", &token).await.expect(200),
        json!({"active": false, "created_at": null})
    );
    app.create_task(
        &token,
        json!({"title": "Dentist", "due_at": "2030-05-06T14:30:00Z", "reminder_offset_minutes": 60}),
    )
    .await;
    app.create_task(&token, json!({"title": "Someday", "description": "no date"})).await;
    app.post(
        "/api/tasks?timezone=Europe/Berlin",
        &token,
        json!({"title": "Standup", "due_at": "2030-05-04T09:00:00+02:00",
               "recurrence": {"frequency": "weekly", "weekdays": ["monday", "wednesday"]}}),
    )
    .await
    .expect(201);
    let created = app.post("/api/calendar-feed", &token, json!({})).await.expect(201);
    assert!(created["created_at"].is_string());
    let path = feed_path(&app, &created);
    let status = app.get("/api/calendar-feed", &token).await.expect(200);
    assert_eq!(status, json!({"active": true, "created_at": created["created_at"]}));
    assert!(!status.to_string().contains(&path[10..53]), "the URL is never shown again");

    let feed = fetch(&app, &path, None).await;
    assert_eq!(feed.status, 200, "{:?}", feed.body);
    assert_eq!(feed.headers[header::CONTENT_TYPE], "text/calendar; charset=utf-8");
    assert_eq!(feed.headers[header::CACHE_CONTROL], "private, max-age=300");
    let text = feed.body.as_str().unwrap().to_owned();
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 2, "due tasks only: {text}");
    assert!(!text.contains("VTODO") && !text.contains("Someday"), "{text}");
    assert!(text.contains("SUMMARY:Dentist\r\n"), "{text}");
    assert!(text.contains("DTSTART:20300506T143000Z\r\n"), "{text}");
    assert!(text.contains("TRIGGER:-PT1H\r\n"), "{text}");
    assert!(text.contains("RRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\n"), "{text}");
    assert!(
        text.contains("DTSTART;TZID=Europe/Berlin:20300504T090000\r\n"),
        "a repeating event keeps its zone: {text}"
    );

    let todos = fetch(&app, &format!("{path}?kind=todo"), None).await;
    assert_eq!(todos.status, 200);
    let text = todos.body.as_str().unwrap();
    assert_eq!(text.matches("BEGIN:VTODO").count(), 2, "{text}");
    assert!(!text.contains("VEVENT"), "{text}");
    assert_ne!(todos.headers[header::ETAG], feed.headers[header::ETAG]);
    fetch(&app, &format!("{path}?kind=journal"), None).await.expect_error(422, "validation_failed");
    fetch(&app, &format!("{path}?kind="), None).await.expect_error(422, "validation_failed");
    // A cookie or a bearer token is not needed, and a wrong secret of the right shape is a 404.
    let wrong = format!("/calendar/{}.ics", "A".repeat(43));
    fetch(&app, &wrong, None).await.expect_error(404, "not_found");
    fetch(&app, "/calendar/short.ics", None).await.expect_error(404, "not_found");
    fetch(&app, &path.replace(".ics", ".ical"), None).await.expect_error(404, "not_found");
    app.send(reqwest::Method::POST, "/api/calendar-feed", None, None).await.expect_error(401, "unauthorized");
}

async fn polling_an_unchanged_feed_costs_a_304(app: TestApp) {
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "Dentist", "due_at": "2030-05-06T14:30:00Z"})).await;
    let path = feed_path(&app, &app.post("/api/calendar-feed", &token, json!({})).await.expect(201));
    let first = fetch(&app, &path, None).await;
    let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"), "strong: {etag}");
    let again = fetch(&app, &path, Some(&etag)).await;
    assert_eq!(again.status, 304);
    assert_eq!(again.body, serde_json::Value::Null);
    assert_eq!(again.headers[header::ETAG].to_str().unwrap(), etag);
    assert_eq!(again.headers[header::CACHE_CONTROL], "private, max-age=300");
    // The same tasks give the same calendar, byte for byte.
    assert_eq!(fetch(&app, &path, None).await.body, first.body);
    assert_eq!(fetch(&app, &path, Some("\"something-else\"")).await.status, 200);
    // A change to a task changes the tag.
    app.patch("/api/tasks/1", &token, json!({"title": "Dentist (moved)"})).await.expect(200);
    let changed = fetch(&app, &path, Some(&etag)).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.headers[header::ETAG].to_str().unwrap(), etag);
    assert!(changed.body.as_str().unwrap().contains("SUMMARY:Dentist (moved)"));
}

async fn a_replaced_or_revoked_feed_is_404(app: TestApp) {
    let token = app.new_user().await;
    let first = feed_path(&app, &app.post("/api/calendar-feed", &token, json!({})).await.expect(201));
    assert_eq!(fetch(&app, &first, None).await.status, 200);
    let second = feed_path(&app, &app.post("/api/calendar-feed", &token, json!({})).await.expect(201));
    assert_ne!(first, second);
    fetch(&app, &first, None).await.expect_error(404, "not_found");
    assert_eq!(fetch(&app, &second, None).await.status, 200);
    let revoked = app.delete("/api/calendar-feed", &token).await;
    assert_eq!(revoked.status, 204);
    fetch(&app, &second, None).await.expect_error(404, "not_found");
    assert_eq!(app.get("/api/calendar-feed", &token).await.expect(200)["active"], false);
    // Revoking again is harmless.
    assert_eq!(app.delete("/api/calendar-feed", &token).await.status, 204);
}

async fn each_feed_shows_only_its_owners_tasks(app: TestApp) {
    let alice = app.new_user().await;
    let bob = app.new_user().await;
    app.create_task(&alice, json!({"title": "Alice's appointment", "due_at": "2030-05-06T14:30:00Z"})).await;
    app.create_task(&bob, json!({"title": "Bob's appointment", "due_at": "2030-05-07T14:30:00Z"})).await;
    let alices = feed_path(&app, &app.post("/api/calendar-feed", &alice, json!({})).await.expect(201));
    // Bob has no feed: his status says so, and his revoke leaves Alice's alone.
    assert_eq!(app.get("/api/calendar-feed", &bob).await.expect(200)["active"], false);
    assert_eq!(app.delete("/api/calendar-feed", &bob).await.status, 204);
    assert_eq!(app.get("/api/calendar-feed", &alice).await.expect(200)["active"], true);
    let bobs = feed_path(&app, &app.post("/api/calendar-feed", &bob, json!({})).await.expect(201));
    let text = fetch(&app, &alices, None).await.body.as_str().unwrap().to_owned();
    assert!(text.contains("Alice's appointment") && !text.contains("Bob's"), "{text}");
    let text = fetch(&app, &bobs, None).await.body.as_str().unwrap().to_owned();
    assert!(text.contains("Bob's appointment") && !text.contains("Alice's"), "{text}");
    // Bob's new feed and his revoking it leave Alice's working.
    assert_eq!(app.delete("/api/calendar-feed", &bob).await.status, 204);
    fetch(&app, &bobs, None).await.expect_error(404, "not_found");
    assert_eq!(fetch(&app, &alices, None).await.status, 200);
}

/// Creates a feed with `headers` on the request and returns its URL.
async fn feed_url_with(app: &TestApp, token: &str, headers: &[(&str, &str)]) -> String {
    let mut request = app.client.post(format!("{}/api/calendar-feed", app.url)).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let created = TestApp::read(request.send().await.unwrap()).await.expect(201);
    created["url"].as_str().unwrap().to_owned()
}

/// The URL names the host the client asked for; a proxy's forwarded scheme and host count only
/// when the proxy is trusted (`--trusted-proxies`), so a client cannot make the server hand out
/// a URL on another site.
#[tokio::test]
async fn the_feed_url_names_this_server_as_the_client_reached_it() {
    let forwarded = [
        ("host", "tasks.example.com:8443"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "calendar.example.org"),
    ];
    let Some(app) = spawn_app(Db::Sqlite).await else { return };
    let token = app.new_user().await;
    let url = feed_url_with(&app, &token, &forwarded).await;
    assert!(url.starts_with("http://tasks.example.com:8443/calendar/"), "{url}");
    let mut bad_host = app.client.post(format!("{}/api/calendar-feed", app.url)).bearer_auth(&token);
    bad_host = bad_host.header("host", "bad host/../x");
    TestApp::read(bad_host.send().await.unwrap()).await.expect_error(400, "bad_request");

    let Some(proxied) =
        spawn_app_with(Db::Sqlite, |config| config.trusted_proxies = vec!["127.0.0.1/32".into()]).await
    else {
        return;
    };
    let token = proxied.new_user().await;
    let url = feed_url_with(&proxied, &token, &forwarded).await;
    assert!(url.starts_with("https://calendar.example.org/calendar/"), "{url}");
    // The URL works through the proxy's path as well.
    let path = &url["https://calendar.example.org".len()..];
    assert_eq!(fetch(&proxied, path, None).await.status, 200);
}
