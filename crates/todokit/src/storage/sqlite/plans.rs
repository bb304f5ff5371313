//! The task list's usual first pages are read in order from an index on SQLite.

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use uuid::Uuid;

use super::SqliteStorage;
use crate::storage::shared::tasks::tests::usual_first_pages;

/// A long list's first page is read in order from an index, not sorted whole.
#[tokio::test]
async fn sqlite_reads_the_usual_first_pages_in_order_from_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new().filename(dir.path().join("plans.db")).create_if_missing(true);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    sqlx::migrate!("./migrations/sqlite").run(&pool).await.unwrap();
    for query in usual_first_pages() {
        let mut explain = sqlx::QueryBuilder::new("EXPLAIN QUERY PLAN ");
        SqliteStorage::push_list(&mut explain, Uuid::now_v7(), &query);
        let plan: Vec<String> =
            explain.build().fetch_all(&pool).await.unwrap().iter().map(|row| row.get("detail")).collect();
        assert!(plan.iter().any(|step| step.contains("USING INDEX tasks_user")), "{query:?}: {plan:?}");
        assert!(plan.iter().all(|step| !step.contains("TEMP B-TREE")), "{query:?} sorts: {plan:?}");
    }
}

/// Deleting a task looks up the tasks that name it as their parent (the foreign key's
/// `ON DELETE SET NULL`) through an index, not by scanning every task.
#[tokio::test]
async fn sqlite_finds_a_deleted_tasks_children_through_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new().filename(dir.path().join("plans.db")).create_if_missing(true);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    sqlx::migrate!("./migrations/sqlite").run(&pool).await.unwrap();
    let plan: Vec<String> = sqlx::query("EXPLAIN QUERY PLAN SELECT 1 FROM tasks WHERE parent_task_id = $1")
        .bind(Uuid::now_v7())
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get("detail"))
        .collect();
    assert!(plan.iter().any(|step| step.contains("USING COVERING INDEX tasks_parent")), "{plan:?}");
}
