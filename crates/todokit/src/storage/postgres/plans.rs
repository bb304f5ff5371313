//! The task list's usual first pages are read in order from an index on PostgreSQL.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

use uuid::Uuid;

use super::PostgresStorage;
use crate::storage::shared::tasks::tests::usual_first_pages;

/// The same on PostgreSQL: with sorting priced out, the planner still finds a plan without
/// a sort, so an index gives the order. (On an empty table it would otherwise rightly sort.)
#[tokio::test]
async fn postgres_can_read_the_usual_first_pages_in_order_from_an_index() {
    let url = std::env::var("TODOKIT_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin: PgConnectOptions = url.parse().unwrap();
    let mut conn = match admin.connect().await {
        Ok(conn) => conn,
        Err(err) if std::env::var_os("CI").is_none() => {
            // As the integration tests' `helpers::skipped` does: libtest hides this output.
            let test = std::thread::current().name().unwrap_or("?").to_owned();
            let reason = format!("SKIPPED {test}: PostgreSQL unreachable at {url}: {err}");
            eprintln!("\n!!!!! {reason} !!!!!\n");
            if let Some(log) = std::env::var_os("TODOKIT_SKIPPED_LOG") {
                use std::io::Write;
                let mut log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
                writeln!(log, "{reason}").unwrap();
            }
            return;
        }
        Err(err) => panic!("PostgreSQL is required in CI but unreachable: {err}"),
    };
    let schema = format!("plans_{}", Uuid::now_v7().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.unwrap();
    let mut in_schema = admin.options([("search_path", schema.as_str())]).connect().await.unwrap();
    sqlx::migrate!("./migrations/postgres").run(&mut in_schema).await.unwrap();
    sqlx::raw_sql("SET enable_sort = off; SET enable_seqscan = off").execute(&mut in_schema).await.unwrap();
    let mut failures = Vec::new();
    for query in usual_first_pages() {
        let mut explain = sqlx::QueryBuilder::new("EXPLAIN ");
        PostgresStorage::push_list(&mut explain, Uuid::now_v7(), &query);
        let plan: Vec<String> =
            explain.build().fetch_all(&mut in_schema).await.unwrap().iter().map(|row| row.get(0)).collect();
        let in_order = plan.iter().any(|step| step.contains("Index Scan using tasks_user"))
            && plan.iter().all(|step| !step.trim_start().trim_start_matches("->").trim().starts_with("Sort"));
        if !in_order {
            failures.push(format!("{query:?}: {plan:#?}"));
        }
    }
    in_schema.close().await.ok();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(failures.is_empty(), "sorted instead of read in order:\n{}", failures.join("\n"));
}
