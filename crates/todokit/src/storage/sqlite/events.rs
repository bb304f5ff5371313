//! Appending to the event log on SQLite (reading it back is shared: `storage/sql/events.rs`).

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::broadcast;

use super::SqliteStorage;
use crate::chat::RunClaims;
use crate::events::{ClaimRelease, Event, NewEvent};
use crate::persistence::StorageResult;
use crate::storage::micros;
use crate::storage::sql::EventAppender;

#[async_trait::async_trait]
impl EventAppender for SqliteStorage {
    /// Appends `events` in one autocommit statement; returns their ids. SQLite has one
    /// writer at a time, so ids are committed in order already.
    ///
    /// `releases` is empty in practice (claims are kept on PostgreSQL only); any given are
    /// ended before the events are written, so nobody sees an event before its claim is gone.
    async fn insert_events(
        &self,
        events: &[NewEvent],
        releases: &[ClaimRelease],
        now: Timestamp,
    ) -> StorageResult<Vec<i64>> {
        for release in releases {
            RunClaims::release_run(self, &release.thread_id, release.run_id).await?;
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut insert =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO events (user_id, kind, data, created_at) ");
        insert.push_values(events, |mut row, event| {
            row.push_bind(event.user.0)
                .push_bind(event.kind.as_str())
                .push_bind(event.data.to_string())
                .push_bind(micros(now));
        });
        insert.push(" RETURNING id");
        Ok(self
            .writer
            .write(async |connection| insert.build_query_scalar().fetch_all(connection).await)
            .await?)
    }

    async fn listen_for_events(&self, sink: broadcast::Sender<Arc<Event>>) -> anyhow::Result<bool> {
        // One process: `EventBus` fans events out in-process.
        let _ = sink;
        Ok(false)
    }
}
