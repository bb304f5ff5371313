use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::Json;
use crate::app::AppState;
use crate::error::{AppError, AppResult, DatabaseUnavailable};

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok", database: None })
}

/// Ready for requests: the database answers and the server is not stopping.
///
/// From a stop signal on, through the drain period (`--drain-secs`), this answers 503 while
/// every other route is still served, so a load balancer can take the server out of rotation
/// first.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Health),
    (status = 503, description = "The database is not reachable, or the server is stopping")))]
pub async fn readyz(state: axum::extract::State<AppState>) -> Response {
    if state.drain.is_draining() {
        let mut response = AppError::Unavailable("The server is shutting down".into()).into_response();
        // Not a database outage: requests other than this one are still served as usual.
        response.extensions_mut().remove::<DatabaseUnavailable>();
        return response;
    }
    ready(&state).await.into_response()
}

async fn ready(state: &AppState) -> AppResult<(StatusCode, Json<Health>)> {
    state
        .repos
        .database
        .ping()
        .await
        .map_err(|_| AppError::Unavailable("The database is not reachable".into()))?;
    Ok((
        StatusCode::OK,
        Json(Health { status: "ready", database: Some(state.repos.database.backend().name()) }),
    ))
}

/// Routes answered without the database (everything else under `/api/`, and
/// `/readyz`, needs it).
fn needs_database(path: &str) -> bool {
    if path == "/readyz" {
        return true;
    }
    path.starts_with("/api/")
        && !path.starts_with("/api/docs")
        && path != "/api/openapi.json"
        && path != "/api/auth/sign-out"
}

/// While the database is known to be down, answers 503 `unavailable` at once
/// instead of letting each request wait for the pool to give up; notices
/// when a response says the database is unavailable (see
/// [`crate::persistence::DbHealth`]).
pub async fn fail_fast_while_database_is_down(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.db_health.is_down() && needs_database(request.uri().path()) {
        return AppError::Unavailable(crate::persistence::UNAVAILABLE_MESSAGE.into()).into_response();
    }
    let response = next.run(request).await;
    if response.extensions().get::<DatabaseUnavailable>().is_some() {
        state.db_health.report_down(&state.repos.database, &state.shutdown);
    }
    response
}
