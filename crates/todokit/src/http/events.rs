//! `GET /api/events`: the signed-in user's live changes as Server-Sent Events.
//! Each event has an `id`; reconnecting with `Last-Event-ID` (or
//! `?last_event_id=`) replays what was missed from the event log, or sends a
//! `reset` event when the client is too far behind and must reload.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::extract::{AuthUser, Query};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::events::EventLog;
use crate::events::{Event, kind};
use crate::tasks::model::UserId;

/// How many events a reconnecting client may have missed before it is told to reload.
const REPLAY_LIMIT: u32 = 500;

/// Counts open event streams per user, to cap them.
#[derive(Default)]
pub struct StreamCounter {
    open: Mutex<HashMap<Uuid, usize>>,
}

/// Decrements the user's count when the stream ends.
pub struct StreamSlot {
    counter: Arc<StreamCounter>,
    user: Uuid,
}

impl StreamCounter {
    pub fn acquire(self: &Arc<Self>, user: Uuid, max: usize) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(user).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(StreamSlot { counter: self.clone(), user })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.counter.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EventsQuery {
    last_event_id: Option<i64>,
}

fn to_sse(event: &Event) -> SseEvent {
    SseEvent::default().id(event.id.to_string()).data(serde_json::to_string(event).unwrap_or_default())
}

fn reset_event() -> SseEvent {
    SseEvent::default().data(format!(r#"{{"kind":"{}"}}"#, kind::RESET))
}

struct Subscription {
    log: Arc<dyn EventLog>,
    user: UserId,
    receiver: tokio::sync::broadcast::Receiver<Arc<Event>>,
    pending: VecDeque<SseEvent>,
    /// Every id at or below this was replayed (or predates the stream).
    floor: i64,
    /// Ids sent live above `floor`. In-process publishers can broadcast a
    /// little out of id order, so a later, lower id is still sent once.
    sent: std::collections::BTreeSet<i64>,
    _slot: StreamSlot,
}

/// Live ids remembered above the floor before it is raised.
const SENT_WINDOW: usize = 1024;

impl Subscription {
    /// Queues everything after `floor` from the log that was not sent yet, or a reset.
    async fn catch_up(&mut self) {
        match self.log.events_after(self.user, self.floor, REPLAY_LIMIT).await {
            Ok(Some(events)) => {
                for event in events {
                    if !self.sent.contains(&event.id) {
                        self.pending.push_back(to_sse(&event));
                    }
                    self.floor = self.floor.max(event.id);
                }
                self.sent.retain(|id| *id > self.floor);
            }
            Ok(None) => self.pending.push_back(reset_event()),
            Err(err) => {
                tracing::warn!(error = %err, "event replay failed");
                self.pending.push_back(reset_event());
            }
        }
    }

    /// True the first time a live event is seen.
    fn first_sight(&mut self, id: i64) -> bool {
        if id <= self.floor || !self.sent.insert(id) {
            return false;
        }
        if self.sent.len() > SENT_WINDOW
            && let Some(oldest) = self.sent.pop_first()
        {
            self.floor = oldest;
        }
        true
    }

    async fn next(mut self) -> Option<(Result<SseEvent, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            match self.receiver.recv().await {
                Ok(event) if event.kind == kind::RESYNC => self.catch_up().await,
                Ok(event) if event.user == self.user.0 && self.first_sight(event.id) => {
                    return Some((Ok(to_sse(&event)), self));
                }
                Ok(_) => {}
                // Missed some broadcasts under load: the log has them.
                Err(RecvError::Lagged(_)) => self.catch_up().await,
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// The signed-in user's changes, live.
#[utoipa::path(get, path = "/api/events", tag = "events",
    params(("last_event_id" = Option<i64>, Query, description = "Replay events after this id (also the Last-Event-ID header)")),
    responses((status = 200, description = "text/event-stream of {id, kind, data, at}"), (status = 401), (status = 429)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn events(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> AppResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let slot = state.event_streams.acquire(user.id, state.config.max_event_streams).ok_or_else(|| {
        AppError::TooManyRequests {
            message: format!("At most {} live event streams per user", state.config.max_event_streams),
            retry_after_secs: 5,
        }
    })?;
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(query.last_event_id);
    // Subscribe before reading the log so nothing falls between the two.
    let receiver = state.events.subscribe();
    let mut subscription = Subscription {
        log: state.repos.events.clone(),
        user: user.user_id(),
        receiver,
        pending: VecDeque::new(),
        floor: 0,
        sent: Default::default(),
        _slot: slot,
    };
    match last_event_id {
        Some(last) => {
            subscription.floor = last;
            subscription.catch_up().await;
        }
        None => {
            // A fresh client starts from now.
            subscription.floor = state.repos.events.latest_event_id(user.user_id()).await?;
        }
    }
    // Ends at shutdown, so a graceful shutdown does not wait for open tabs; and when the
    // credential it was opened with is revoked (a session signed out or revoked, an access
    // token revoked, a password changed elsewhere, the account deleted), on any replica.
    let stream = futures::stream::unfold(subscription, Subscription::next)
        .take_until(state.shutdown.clone().cancelled_owned())
        .take_until(user.revoked(state.clone()));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
