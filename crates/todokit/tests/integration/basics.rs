use reqwest::Method;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(health_and_readiness, unknown_routes_and_methods_are_json_errors);

async fn health_and_readiness(app: TestApp) {
    assert_eq!(app.send(Method::GET, "/healthz", None, None).await.expect(200)["status"], "ok");
    let ready = app.send(Method::GET, "/readyz", None, None).await.expect(200);
    let expected = match app.db {
        crate::helpers::Db::Sqlite => "sqlite",
        crate::helpers::Db::Postgres => "postgres",
    };
    assert_eq!(ready["database"], expected);
}

async fn unknown_routes_and_methods_are_json_errors(app: TestApp) {
    app.send(Method::GET, "/api/nope", None, None).await.expect_error(404, "not_found");
    app.send(Method::PUT, "/api/tasks", None, None).await.expect_error(405, "method_not_allowed");
    let response = app.send(Method::GET, "/healthz", None, None).await;
    assert!(response.headers.contains_key("x-request-id"), "every response carries a request id");
}

#[tokio::test]
async fn openapi_document_lists_every_route_and_docs_are_served() {
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await else { return };
    let doc = app.send(Method::GET, "/api/openapi.json", None, None).await.expect(200);
    let mut operations: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    operations.sort();
    insta::assert_snapshot!(operations.join("\n"));
    // Recurrence is described field by field, weekdays included.
    let weekdays = &doc["components"]["schemas"]["Recurrence"]["properties"]["weekdays"];
    assert!(weekdays.to_string().contains("Weekday"), "{weekdays}");
    let weekday = &doc["components"]["schemas"]["Weekday"]["enum"];
    assert_eq!(weekday, &serde_json::json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), "{weekday}");
    // Every reference names something the document defines (SortKey and SortOrder once did not).
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/").skip(1) {
        let path = reference.split('"').next().unwrap();
        let (kind, name) = path.split_once('/').unwrap();
        assert!(doc["components"][kind].get(name).is_some(), "{path} is referenced but not defined");
    }
    // Every authenticated operation declares 401, every operation with a body the errors a body
    // can cause, and every error has the `{"error":{…}}` body.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let declares = |status: &str| responses.contains_key(status);
            if operation.get("security").is_some() {
                assert!(declares("401"), "{method} {path} does not declare 401");
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(declares(status), "{method} {path} does not declare {status}");
                }
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let body = response.to_string();
                    assert!(
                        body.contains("#/components/responses/")
                            || body.contains("#/components/schemas/Error"),
                        "{method} {path} {status} has no error body: {body}"
                    );
                }
            }
        }
    }
    let docs = app.client.get(format!("{}/api/docs/", app.url)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let policy = docs.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("script-src 'self';") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(docs.text().await.unwrap().contains("swagger"), "the docs page is served from the binary");
}

/// A client's own request id is kept when it is a short, plain id; anything else (too long,
/// odd characters, two of them) is replaced by a fresh one, so nothing unbounded is echoed or
/// logged.
#[tokio::test]
async fn a_client_chosen_request_id_is_echoed_only_when_short_and_plain() {
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Db::Sqlite).await else { return };
    let echoed = |ids: &[&str]| {
        let mut request = app.client.get(format!("{}/healthz", app.url));
        for id in ids {
            request = request.header("x-request-id", *id);
        }
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let ids: Vec<String> = response
                .headers()
                .get_all("x-request-id")
                .iter()
                .map(|id| id.to_str().unwrap().to_owned())
                .collect();
            assert_eq!(ids.len(), 1, "{ids:?}");
            ids.into_iter().next().unwrap()
        }
    };
    let longest = "a".repeat(todokit::http::MAX_REQUEST_ID_LEN);
    for kept in ["trace-7f3a.b_c:1", longest.as_str()] {
        assert_eq!(echoed(&[kept]).await, kept);
    }
    let too_long = "a".repeat(todokit::http::MAX_REQUEST_ID_LEN + 1);
    let huge = "b".repeat(20_000);
    for replaced in
        [&[too_long.as_str()][..], &[huge.as_str()], &["has space"], &["<script>"], &["x\"y"], &["a", "b"]]
    {
        let id = echoed(replaced).await;
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{replaced:?} was not replaced by a fresh id: {id}");
    }
}
