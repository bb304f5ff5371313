//! `POST /api/chatkit`: the ChatKit server protocol. Streaming request types
//! answer `text/event-stream` framed exactly `data: <json>\n\n`; the others
//! answer JSON. Errors found before a stream starts (bad request, unknown or
//! foreign thread, locked thread, uploads) are JSON errors with a status;
//! errors during a response are in-band ChatKit `error` events.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chatkit::{ProcessError, ProcessResult};
use futures::StreamExt;

use super::extract::{AuthUser, RequestZone};
use crate::app::AppState;
use crate::chat::ChatServer;
use crate::error::{AppError, AppResult};
use crate::tools::ToolContext;

impl From<ProcessError> for AppError {
    fn from(err: ProcessError) -> Self {
        match err {
            ProcessError::BadRequest(message) => Self::BadRequest { code: "invalid_request", message },
            ProcessError::NotFound(message) => Self::NotFound(message),
            ProcessError::Conflict(message) => Self::Conflict(message),
            ProcessError::Unsupported(message) => Self::BadRequest { code: "not_supported", message },
            ProcessError::Internal(err) => Self::Internal(anyhow::anyhow!(err)),
        }
    }
}

/// One endpoint for every ChatKit request type (`{type, params, metadata?}`).
#[utoipa::path(post, path = "/api/chatkit", tag = "chat",
    request_body(content = Object, description = "A ChatKit request: {type, params, metadata?}"),
    responses(
        (status = 200, description = "text/event-stream for threads.create, threads.add_user_message, threads.add_client_tool_output, threads.add_structured_input, threads.retry_after_item, threads.custom_action; JSON otherwise"),
        (status = 400, description = "Malformed JSON, unknown type, missing params, or a feature that is not enabled"),
        (status = 401), (status = 404, description = "Unknown thread or item (also another user's)"),
        (status = 409, description = "The thread is locked or closed"),
    ),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn chatkit(
    State(state): State<AppState>,
    user: AuthUser,
    RequestZone(zone): RequestZone,
    body: Bytes,
) -> AppResult<Response> {
    let request = ChatServer::parse(&body)?;
    let ctx = ToolContext { user: user.user_id(), zone };
    match state.chat.handle(request, ctx).await? {
        ProcessResult::Json(json) => {
            Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json).into_response())
        }
        ProcessResult::Stream(events) => {
            let body = Body::from_stream(events.into_sse().map(Ok::<_, std::convert::Infallible>));
            Ok((
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream; charset=utf-8")),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                    (header::HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
                ],
                body,
            )
                .into_response())
        }
    }
}
