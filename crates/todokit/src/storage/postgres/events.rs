//! Appending to the event log on PostgreSQL, and hearing other replicas' events (reading the
//! log back is shared: `storage/sql/events.rs`).

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::PostgresStorage;
use crate::events::{ClaimRelease, Event, NewEvent};
use crate::persistence::StorageResult;
use crate::storage::micros;
use crate::storage::sql::EventAppender;

#[async_trait::async_trait]
impl EventAppender for PostgresStorage {
    /// Appends `events`, ends the claims `releases` names and notifies every replica, in one
    /// statement (one round trip, its own transaction); returns the events' ids. A reply's
    /// claim ends with its `run.finished`: a replica told the reply finished finds the
    /// thread free, and a turn costs no statement of its own for it.
    ///
    /// The advisory lock serializes appends until commit, so ids become visible (and are
    /// notified) in increasing order: a stream that skips ids at or below the last one sent,
    /// or a replay from `Last-Event-ID`, then never misses one that committed late. The lock
    /// is joined into the rows being inserted, so it is held before the first id is drawn.
    /// NOTIFY is delivered at commit, so listeners never see an event that rolled back;
    /// PostgreSQL evaluates the volatile `pg_notify` after the sort, so in id order.
    /// Payloads stay small (ids and counts), far below PostgreSQL's 8000-byte limit.
    async fn insert_events(
        &self,
        events: &[NewEvent],
        releases: &[ClaimRelease],
        now: Timestamp,
    ) -> StorageResult<Vec<i64>> {
        let released_threads: Vec<&str> = releases.iter().map(|release| release.thread_id.as_str()).collect();
        let released_runs: Vec<Uuid> = releases.iter().map(|release| release.run_id).collect();
        let users: Vec<Uuid> = events.iter().map(|event| event.user.0).collect();
        let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
        let data: Vec<String> = events.iter().map(|event| event.data.to_string()).collect();
        let statement = sqlx::query_as(
            "WITH released AS ( \
                 DELETE FROM chat_runs c USING unnest($7::text[], $8::uuid[]) AS r(thread_id, run_id) \
                 WHERE c.thread_id = r.thread_id AND c.run_id = r.run_id), \
             appended AS ( \
                 INSERT INTO events (user_id, kind, data, created_at) \
                 SELECT t.user_id, t.kind, t.data, $5 \
                 FROM (SELECT pg_advisory_xact_lock($1)) AS ordered, \
                      unnest($2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS t(user_id, kind, data, n) \
                 ORDER BY t.n \
                 RETURNING id, user_id, kind, data, created_at) \
             SELECT id, pg_notify($6, json_build_object( \
                 'id', id, 'user', user_id, 'kind', kind, 'data', data::json, 'at', created_at)::text)::text \
             FROM appended ORDER BY id",
        )
        .bind(EVENTS_ORDER_LOCK)
        .bind(users)
        .bind(kinds)
        .bind(data)
        .bind(micros(now))
        .bind(EVENTS_CHANNEL)
        .bind(released_threads)
        .bind(released_runs);
        let appended: Vec<(i64, String)> =
            self.writer.write(async |connection| statement.fetch_all(connection).await).await?;
        Ok(appended.into_iter().map(|(id, _)| id).collect())
    }

    async fn listen_for_events(&self, sink: broadcast::Sender<Arc<Event>>) -> anyhow::Result<bool> {
        Self::spawn_event_listener(self.pool.inner(), sink).await
    }
}

impl PostgresStorage {
    async fn spawn_event_listener(
        pool: &sqlx::PgPool,
        sink: broadcast::Sender<Arc<Event>>,
    ) -> anyhow::Result<bool> {
        let mut listener = Self::event_listener(pool).await?;
        let pool = pool.clone();
        tokio::spawn(async move {
            let resync = || {
                let marker = Event {
                    id: 0,
                    user: Uuid::nil(),
                    kind: crate::events::kind::RESYNC.to_owned(),
                    data: serde_json::Value::Null,
                    at: Timestamp::UNIX_EPOCH,
                };
                let _ = sink.send(Arc::new(marker));
            };
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => match decode_notification(notification.payload()) {
                        Some(event) => {
                            let _ = sink.send(Arc::new(event));
                        }
                        None => tracing::warn!("ignored a malformed event notification"),
                    },
                    // The connection dropped and was re-established (listening
                    // again): what was published meanwhile is in the log.
                    Ok(None) => resync(),
                    // The app shut down.
                    Err(sqlx::Error::PoolClosed) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "event listener lost PostgreSQL; reconnecting");
                        // Start over with a new listener: after some failures
                        // (a connection reset) the old one keeps its dead
                        // connection and would fail forever.
                        listener = loop {
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                            match Self::event_listener(&pool).await {
                                Ok(listener) => break listener,
                                Err(sqlx::Error::PoolClosed) => return,
                                Err(error) => {
                                    tracing::debug!(%error, "event listener: PostgreSQL still unreachable")
                                }
                            }
                        };
                        tracing::info!("event listener reconnected to PostgreSQL");
                        resync();
                    }
                }
            }
        });
        Ok(true)
    }

    /// A listener on its own connection, listening on the events channel.
    async fn event_listener(pool: &sqlx::PgPool) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        Ok(listener)
    }
}

/// Channel used for cross-replica event fan-out on PostgreSQL.
const EVENTS_CHANNEL: &str = "todokit_events";
/// Advisory lock key taken while appending an event (PostgreSQL).
const EVENTS_ORDER_LOCK: i64 = 0x746f_646f_6b69_7401;

fn decode_notification(payload: &str) -> Option<Event> {
    #[derive(serde::Deserialize)]
    struct Wire {
        id: i64,
        user: Uuid,
        kind: String,
        data: serde_json::Value,
        at: i64,
    }
    let wire: Wire = serde_json::from_str(payload).ok()?;
    Some(Event {
        id: wire.id,
        user: wire.user,
        kind: wire.kind,
        data: wire.data,
        at: Timestamp::from_microsecond(wire.at).ok()?,
    })
}
