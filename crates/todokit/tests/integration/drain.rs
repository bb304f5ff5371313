//! Stopping behind a load balancer: from the stop signal on, `/readyz` answers 503 while every
//! other request, on new connections too, is still served for the drain period; then the
//! listener closes and open streams end cleanly. No timing assertions: the drain is long and
//! cut short explicitly (as a second SIGTERM does), and polling has a deadline.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use crate::helpers::{Db, spawn_app_with};

/// A guard against hanging on a bug; never a timing assertion.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_stopping_server_turns_unready_serves_through_the_drain_then_closes() {
    let Some(mut app) = spawn_app_with(Db::Sqlite, |config| config.drain_secs = 3600).await else { return };
    let token = app.new_user().await;
    app.send(reqwest::Method::GET, "/readyz", None, None).await.expect(200);
    // A live event stream, open across the whole stop.
    let events = app.client.get(format!("{}/api/events", app.url)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(events.status(), 200);

    app.begin_stop();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let unready = loop {
        let response = app.send(reqwest::Method::GET, "/readyz", None, None).await;
        if response.status == 503 {
            break response;
        }
        assert_eq!(response.status, 200, "{}", response.body);
        assert!(tokio::time::Instant::now() < deadline, "/readyz never turned 503 after the stop signal");
        tokio::task::yield_now().await;
    };
    unready.expect_error(503, "unavailable");

    // Still serving while draining: on a new connection, reads and writes, and liveness.
    let fresh = reqwest::Client::new();
    let health = fresh.get(format!("{}/healthz", app.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let created = app.create_task(&token, json!({"title": "written while draining"})).await;
    let listed = app.get("/api/tasks", &token).await.expect(200);
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["tasks"][0]["id"], created["id"]);
    // Readiness stays off; a database outage is not what it reports (other requests still pass).
    app.send(reqwest::Method::GET, "/readyz", None, None).await.expect_error(503, "unavailable");
    app.get("/api/tasks/tags", &token).await.expect(200);

    // The drain ends (cut short, as a second signal does): the server finishes and the
    // listener is closed; the event stream ended cleanly rather than being torn down.
    let address = app.url.trim_start_matches("http://").to_owned();
    app.state.drain.cut_short();
    tokio::time::timeout(PATIENCE, app.stop()).await.expect("the server did not stop after the drain");
    let mut stream = events.bytes_stream();
    let ended = tokio::time::timeout(PATIENCE, async {
        while let Some(chunk) = stream.next().await {
            chunk.expect("the event stream broke instead of ending");
        }
    })
    .await;
    assert!(ended.is_ok(), "the event stream did not end with the server");
    let refused = tokio::net::TcpStream::connect(&address).await;
    assert!(refused.is_err(), "the listener still accepts connections after the drain");
}

/// Without a drain period (`--drain-secs 0`) the listener closes as soon as the signal comes.
#[tokio::test]
async fn without_a_drain_the_listener_closes_at_once() {
    let Some(mut app) = spawn_app_with(Db::Sqlite, |config| config.drain_secs = 0).await else { return };
    let address = app.url.trim_start_matches("http://").to_owned();
    tokio::time::timeout(PATIENCE, app.stop()).await.expect("the server did not stop");
    assert!(tokio::net::TcpStream::connect(&address).await.is_err());
}
