//! What a `DATABASE_URL` naming PostgreSQL connects with.

use sqlx::{ConnectOptions, Connection};

use crate::pg_restart::Cluster;

async fn uses_tls(url: &str) -> bool {
    let mut conn = todokit::storage::postgres_options(url).unwrap().connect().await.expect("connect");
    let tls = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    tls
}

/// On a throwaway cluster with TLS turned on (the shared server may have it off).
#[tokio::test]
async fn a_loopback_postgres_is_reached_without_tls_unless_the_url_asks_for_it() {
    let Some(cluster) = Cluster::start_new_with_tls().await else { return };
    let url = cluster.url();
    let mut conn = todokit::storage::postgres_options(&url).unwrap().connect().await.expect("connect");
    let server_offers_tls: String = sqlx::query_scalar("SHOW ssl").fetch_one(&mut conn).await.unwrap();
    conn.close().await.ok();
    assert_eq!(server_offers_tls, "on");
    assert!(std::env::var_os("PGSSLMODE").is_none(), "unset PGSSLMODE for this test");
    let separator = if url.contains('?') { '&' } else { '?' };

    assert!(!uses_tls(&url).await, "a loopback URL without sslmode should connect in plain text");
    assert!(uses_tls(&format!("{url}{separator}sslmode=require")).await, "sslmode=require must get TLS");
    assert!(
        uses_tls(&format!("{url}{separator}sslmode=prefer")).await,
        "an explicit prefer keeps sqlx's rule"
    );
}
