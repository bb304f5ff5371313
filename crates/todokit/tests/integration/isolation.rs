//! Another user's tasks are invisible and unchangeable, and every answer is
//! exactly the one for a task that does not exist.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(another_users_tasks_behave_like_missing_ones);

async fn another_users_tasks_behave_like_missing_ones(app: TestApp) {
    let owner = app.new_user().await;
    let intruder = app.new_user().await;
    let task = app
        .create_task(
            &owner,
            json!({"title": "Private", "tags": ["secret"], "due_at": "2030-01-01T00:00:00Z"}),
        )
        .await;
    let id = task["id"].as_str().unwrap();
    let missing = uuid::Uuid::now_v7().to_string();

    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::PATCH, "", Some(json!({"title": "Pwned"}))),
        (Method::DELETE, "", None),
        (Method::POST, "/complete", Some(json!({}))),
        (Method::POST, "/reopen", None),
    ] {
        for key in [id, "1"] {
            let theirs = app
                .send(method.clone(), &format!("/api/tasks/{key}{suffix}"), Some(&intruder), body.clone())
                .await;
            let absent = app
                .send(method.clone(), &format!("/api/tasks/{missing}{suffix}"), Some(&intruder), body.clone())
                .await;
            assert_eq!(theirs.status, absent.status, "{method} {key}{suffix}");
            assert_eq!(theirs.body, absent.body, "{method} {key}{suffix}");
            assert_eq!(theirs.status, 404);
        }
    }
    let list = app.get("/api/tasks?status=all", &intruder).await.expect(200);
    assert_eq!(list["total"], 0);
    assert_eq!(list["counts"]["total"], 0);
    assert_eq!(app.get("/api/tasks/tags", &intruder).await.expect(200), json!({"tags": []}));
    app.post("/api/tasks/bulk/complete", &intruder, json!({})).await.expect(200);
    let deleted = app.post("/api/tasks/bulk/delete", &intruder, json!({"confirm": true})).await.expect(200);
    assert_eq!(deleted["deleted_count"], 0);

    let after = app.get(&format!("/api/tasks/{id}"), &owner).await.expect(200);
    assert_eq!(after, task, "the owner's task is untouched");
}
