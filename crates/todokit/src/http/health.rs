use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::Json;
use crate::app::AppState;
use crate::error::{AppError, AppResult};

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

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Health), (status = 503)))]
pub async fn readyz(state: axum::extract::State<AppState>) -> AppResult<(StatusCode, Json<Health>)> {
    state.storage.ping().await.map_err(|_| AppError::Unavailable("The database is not reachable".into()))?;
    Ok((StatusCode::OK, Json(Health { status: "ready", database: Some(state.storage.backend().name()) })))
}
