//! `POST /api/chatkit`: the ChatKit server protocol. Streaming request types
//! answer `text/event-stream` framed exactly `data: <json>\n\n`; the others
//! answer JSON. A client that drops a stream cancels its reply, as with the
//! reference server, unless it sent [`DETACH`] (then the reply goes on and can
//! be re-attached). Errors found before a stream starts (bad request, unknown or
//! foreign thread, locked thread, uploads) are JSON errors with a status;
//! errors during a response are in-band ChatKit `error` events.

use std::sync::LazyLock;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chatkit::{ProcessError, ProcessResult, ThreadStreamEvent, sse_frame};
use futures::StreamExt;

use super::extract::{AuthUser, RequestZone};
use crate::app::AppState;
use crate::chat::runs::{Reservation, StopOutcome, ThreadBusy};
use crate::chat::{ChatContext, ChatServer};
use crate::error::{AppError, AppResult};
use crate::tools::ToolContext;

impl From<ProcessError> for AppError {
    fn from(err: ProcessError) -> Self {
        match err {
            ProcessError::BadRequest(message) => Self::BadRequest { code: "invalid_request", message },
            ProcessError::NotFound(message) => Self::NotFound(message),
            ProcessError::Conflict(message) => Self::Conflict(message),
            ProcessError::Unsupported(message) => Self::BadRequest { code: "not_supported", message },
            // The store's errors arrive boxed; a database outage is still a 503.
            ProcessError::Internal(err) if crate::persistence::is_unavailable_error(err.as_ref()) => {
                Self::Unavailable(crate::persistence::UNAVAILABLE_MESSAGE.into())
            }
            ProcessError::Internal(err) => Self::Internal(anyhow::anyhow!(err)),
        }
    }
}

/// One endpoint for every ChatKit request type (`{type, params, metadata?}`).
#[utoipa::path(post, path = "/api/chatkit", tag = "chat",
    request_body(content = super::chatkit_schema::ChatKitRequest, description = "A ChatKit request: {type, params, metadata?}"),
    responses(
        (status = 200, description = "text/event-stream for threads.create, threads.add_user_message, threads.add_client_tool_output, threads.add_structured_input, threads.retry_after_item, threads.custom_action; JSON otherwise"),
        (status = 400, description = "Malformed JSON, unknown type, missing params, or a feature that is not enabled"),
        (status = 422, description = "A string breaks the input rule: control characters, an id not shaped as one, a thread title over 255 characters, over 100 items rated at once"),
        (status = 401), (status = 404, description = "Unknown thread or item (also another user's)"),
        (status = 409, description = "The thread is locked or closed, or a reply is still being written in it (on any replica sharing the database)"),
        (status = 429, description = "Over the chat message quota (per minute or per UTC day) for a request that sends a message: `threads.create`, `threads.add_user_message`, `threads.retry_after_item`; `Retry-After` says when to try again"),
    ),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn chatkit(
    State(state): State<AppState>,
    user: AuthUser,
    RequestZone(zone): RequestZone,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    // A whole number written with a fraction (`"limit": 3.0`) is that integer, as in every JSON body.
    let body = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(mut value) => {
            super::extract::integral_floats_as_integers(&mut value);
            serde_json::to_vec(&value).map(Bytes::from).unwrap_or(body)
        }
        Err(_) => body,
    };
    let request = ChatServer::parse(&body)?;
    let raw: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|error| AppError::BadRequest { code: "invalid_request", message: error.to_string() })?;
    super::chat_input::check_request(&raw)?;
    if let Some(text) = request.params.user_text() {
        let chars = text.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(AppError::validation(
                "input",
                format!("Messages are limited to {MAX_MESSAGE_CHARS} characters (this one has {chars})"),
            ));
        }
    }
    if request.params.sends_user_message() {
        let now = state.clock.now();
        if let Err(over) = state.chat_limits.check(&*state.repos.rate_counters, user.user_id(), now).await? {
            return Err(AppError::QuotaExceeded {
                message: over.message,
                retry_after_secs: over.retry_after_secs,
                limit: over.limit,
                resets_at: over.resets_at,
            });
        }
    }
    // Claim the thread before anything runs, so two replies never interleave.
    let reservation = if request.params.is_streaming() {
        Some(
            state
                .runs
                .reserve(request.params.thread_id(), user.user_id(), detached(&headers))
                .await?
                .map_err(|ThreadBusy| busy())?,
        )
    } else {
        None
    };
    let ctx = ChatContext {
        caller: ToolContext { user: user.user_id(), zone },
        new_thread_claim: reservation.as_ref().and_then(Reservation::new_thread_claim),
        clock: state.clock.clone(),
    };
    match state.chat.handle(request, ctx).await? {
        ProcessResult::Json(json) => {
            Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json).into_response())
        }
        ProcessResult::Stream(events) => {
            let reservation = reservation.ok_or_else(|| anyhow::anyhow!("a stream without a reservation"))?;
            let detached = reservation.is_detached();
            let run = state.runs.start(reservation, events, state.events.clone());
            if detached {
                Ok(sse_response(run.subscribe()))
            } else {
                Ok(sse_response(run.subscribe_owning()))
            }
        }
    }
}

/// The request header by which a client opts into detached replies: with `1` (or `true`),
/// a reply goes on when the client leaves, and `GET /api/chatkit/runs/{thread_id}`
/// re-attaches to it. Without it, leaving cancels the reply, as the official ChatKit UI
/// expects of its Stop button.
pub const DETACH: HeaderName = HeaderName::from_static("x-todokit-detach");

fn detached(headers: &HeaderMap) -> bool {
    headers
        .get(DETACH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| matches!(value.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// Longest accepted chat message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

fn busy() -> AppError {
    AppError::Conflict(
        "A reply is still being written in this thread; wait for it to finish or stop it".into(),
    )
}

/// The exact ChatKit framing: no comments or keep-alives on this stream.
fn sse_response(frames: impl futures::Stream<Item = Bytes> + Send + 'static) -> Response {
    let body = Body::from_stream(frames.map(Ok::<_, std::convert::Infallible>));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
        ],
        body,
    )
        .into_response()
}

/// Re-attach to the reply running on a thread: the events already sent, then
/// the live ones, framed like `/api/chatkit`. A reply that another replica
/// (sharing PostgreSQL) is writing is relayed from that replica. A reply whose
/// replica died (its claim lapsed) is finished by this one, and the stream is what it
/// had streamed, as saved (`thread.item.done`), then ends. 204 when no reply is running.
#[utoipa::path(get, path = "/api/chatkit/runs/{thread_id}", tag = "chat",
    params(("thread_id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,128}$", description = "The thread id: 1–128 letters, digits, `_` or `-`")),
    responses((status = 200, description = "text/event-stream: the running reply from its start (or, for a reply whose replica died, what it had streamed, as saved)"),
        (status = 204, description = "No reply is running on this thread"),
        (status = 422, description = "The thread id is not shaped as an id")),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn attach_run(
    State(state): State<AppState>,
    user: AuthUser,
    Path(thread_id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    super::chat_input::check_thread_id(&thread_id)?;
    // A re-attached reply ends with the caller's credential (revoked on any replica).
    let revoked = user.revoked(state.clone());
    if let Some(run) = state.runs.find(&thread_id, user.user_id()) {
        return Ok(sse_response(run.subscribe().take_until(revoked)));
    }
    // A relayed request is answered from this replica's own runs: never relayed on.
    if !headers.contains_key(RELAYED)
        && let Some(replica) = state.runs.running_elsewhere(&thread_id, user.user_id()).await?
        && let Some(frames) = relay_run(&replica, &thread_id, &headers).await
    {
        return Ok(sse_response(frames.take_until(revoked)));
    }
    // A reply whose replica died: finished now, and what it had streamed is the whole stream.
    if let Some(saved) = state.runs.finish_if_lapsed(&thread_id, user.user_id()).await? {
        let frames: Vec<Bytes> =
            saved.into_iter().map(|item| sse_frame(&ThreadStreamEvent::ThreadItemDone { item })).collect();
        return Ok(sse_response(futures::stream::iter(frames)));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Marks a re-attach that one replica relays to another.
const RELAYED: HeaderName = HeaderName::from_static("x-todokit-relayed");

/// The reply that the replica at `replica` is writing on `thread_id`, asked for with the
/// caller's own credentials (so that replica checks them again). None when it runs no
/// reply there any more, or cannot be reached.
async fn relay_run(
    replica: &str,
    thread_id: &str,
    headers: &HeaderMap,
) -> Option<impl futures::Stream<Item = Bytes> + Send + 'static> {
    static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .no_proxy()
            .build()
            .expect("a client with static settings builds")
    });
    let mut url = reqwest::Url::parse(replica).ok()?;
    url.path_segments_mut().ok()?.pop_if_empty().extend(["api", "chatkit", "runs", thread_id]);
    let mut request = CLIENT.get(url).header(RELAYED, "1");
    for name in [header::AUTHORIZATION, header::COOKIE] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value.clone());
        }
    }
    match request.send().await {
        Ok(response) if response.status() == StatusCode::OK => {
            // A broken relay ends the stream; the client re-attaches, as after any drop.
            Some(
                response
                    .bytes_stream()
                    .take_while(|chunk| std::future::ready(chunk.is_ok()))
                    .filter_map(|chunk| std::future::ready(chunk.ok())),
            )
        }
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%error, replica, "could not relay a reply from the replica writing it");
            None
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Stopped {
    stopped: bool,
}

/// Stop the reply running on a thread, on this replica or (PostgreSQL) on the
/// one running it. The partial reply is kept, with a hidden note that the
/// user stopped it; the answer comes once that is saved and the thread is free.
/// `{"stopped": false}`: nothing was running any more, because the replica
/// writing the reply died; what it had streamed is saved, marked interrupted.
#[utoipa::path(post, path = "/api/chatkit/runs/{thread_id}/stop", tag = "chat",
    params(("thread_id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,128}$", description = "The thread id: 1–128 letters, digits, `_` or `-`")),
    responses((status = 200, body = Stopped, description = "`stopped: true`: the reply was stopped; `false`: its replica had died, and what it had streamed is saved"),
        (status = 404, description = "No reply is running on this thread"),
        (status = 422, description = "The thread id is not shaped as an id")),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn stop_run(
    State(state): State<AppState>,
    user: AuthUser,
    Path(thread_id): Path<String>,
) -> AppResult<axum::Json<Stopped>> {
    super::chat_input::check_thread_id(&thread_id)?;
    match state.runs.stop(&thread_id, user.user_id(), &state.events).await? {
        StopOutcome::Stopped => Ok(axum::Json(Stopped { stopped: true })),
        StopOutcome::Interrupted => Ok(axum::Json(Stopped { stopped: false })),
        StopOutcome::NothingRunning => Err(AppError::NotFound("No reply is running on this thread".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_error_from_an_unreachable_database_is_a_503() {
        let unreachable = ProcessError::Internal(Box::new(sqlx::Error::PoolTimedOut));
        let error = AppError::from(unreachable);
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE, "{error:?}");
        let wrapped =
            chatkit::StoreError::other(crate::persistence::StorageError::Unavailable("down".into()));
        let error = AppError::from(ProcessError::Internal(Box::new(wrapped)));
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE, "{error:?}");
        let broken = ProcessError::Internal(Box::new(sqlx::Error::RowNotFound));
        assert_eq!(AppError::from(broken).status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
