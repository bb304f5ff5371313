//! The event log (`events::EventLog`) on both backends. How events are appended and fanned
//! out to other replicas differs per backend ([`EventAppender`]); reading them back does not.

use std::sync::Arc;

use anyhow::Context;
use jiff::Timestamp;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::events::{ClaimRelease, Event, EventLog, NewEvent};
use crate::persistence::StorageResult;
use crate::storage::{from_micros, micros};
use crate::tasks::model::UserId;

/// What each backend does its own way: appending (SQLite: one autocommit insert;
/// PostgreSQL: insert, notify and end claims in one ordered statement) and listening for
/// other replicas' events.
#[async_trait::async_trait]
pub(in crate::storage) trait EventAppender {
    /// Appends `events` and ends the claims `releases` names; returns the events' ids.
    async fn insert_events(
        &self,
        events: &[NewEvent],
        releases: &[ClaimRelease],
        now: Timestamp,
    ) -> StorageResult<Vec<i64>>;

    /// Forwards other replicas' events to `sink`; `false` where there are none (one process).
    async fn listen_for_events(&self, sink: broadcast::Sender<Arc<Event>>) -> anyhow::Result<bool>;
}

#[async_trait::async_trait]
impl<DB> EventLog for SqlStorage<DB>
where
    Self: EventAppender,
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    Uuid: Value<DB>,
    i64: Value<DB>,
    bool: Value<DB>,
    String: Value<DB>,
    Option<i64>: Value<DB>,
    Option<String>: Value<DB>,
    Option<Uuid>: Value<DB>,
    for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB> + sqlx::ColumnIndex<DB::Row>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
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
        Ok(DB::rows_affected(&events))
    }

    async fn listen_for_events(&self, sink: broadcast::Sender<Arc<Event>>) -> anyhow::Result<bool> {
        EventAppender::listen_for_events(self, sink).await
    }
}
