//! The event log (`events::EventLog`) on SQLite.

use std::sync::Arc;

use anyhow::Context;
use jiff::Timestamp;
use tokio::sync::broadcast;

use super::SqliteStorage;
use crate::chat::RunClaims;
use crate::events::{ClaimRelease, Event, EventLog, NewEvent};
use crate::persistence::StorageResult;
use crate::storage::{from_micros, micros};
use crate::tasks::model::UserId;

#[async_trait::async_trait]
impl EventLog for SqliteStorage {
    async fn append_events(
        &self,
        events: &[NewEvent],
        releases: &[ClaimRelease],
        now: Timestamp,
    ) -> StorageResult<Vec<Event>> {
        if events.is_empty() && releases.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids = self.insert_events(events, releases, now).await?;
        // Rows take ids in input order; RETURNING's own order is unspecified.
        ids.sort_unstable();
        let events: Vec<Event> = ids
            .into_iter()
            .zip(events)
            .map(|(id, event)| Event {
                id,
                user: event.user.0,
                kind: event.kind.clone(),
                data: event.data.clone(),
                at: now,
            })
            .collect();
        Ok(events)
    }

    async fn events_after(&self, user: UserId, after: i64, limit: u32) -> StorageResult<Option<Vec<Event>>> {
        if after > 0 {
            let known: Option<i64> =
                sqlx::query_scalar("SELECT id FROM events WHERE id = $1 AND user_id = $2")
                    .bind(after)
                    .bind(user.0)
                    .fetch_optional(&mut *self.read_connection().await?)
                    .await?;
            if known.is_none() {
                return Ok(None);
            }
        }
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, kind, data, created_at FROM events WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(user.0)
        .bind(after)
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *self.read_connection().await?)
        .await?;
        if rows.len() > limit as usize {
            return Ok(None);
        }
        let events = rows
            .into_iter()
            .map(|(id, kind, data, at)| {
                Ok(Event {
                    id,
                    user: user.0,
                    kind,
                    data: serde_json::from_str(&data).context("stored event data")?,
                    at: from_micros(at)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Some(events))
    }

    async fn latest_event_id(&self, user: UserId) -> StorageResult<i64> {
        let latest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events WHERE user_id = $1")
            .bind(user.0)
            .fetch_one(&mut *self.read_connection().await?)
            .await?;
        Ok(latest.unwrap_or(0))
    }

    async fn prune_events(&self, before: Timestamp) -> StorageResult<u64> {
        let statement = sqlx::query("DELETE FROM events WHERE created_at < $1").bind(micros(before));
        let events = self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(events.rows_affected())
    }

    async fn listen_for_events(&self, sink: broadcast::Sender<Arc<Event>>) -> anyhow::Result<bool> {
        // One process: `EventBus` fans events out in-process.
        let _ = sink;
        Ok(false)
    }
}

impl SqliteStorage {
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
}
