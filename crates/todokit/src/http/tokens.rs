//! `/api/tokens`: personal access tokens. A token may manage tokens too
//! (scripts rotate their own), but no listing ever shows a secret: it is
//! returned once, by the create call.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{AuthUser, Json};
use crate::app::AppState;
use crate::auth::AccessToken;
use crate::auth::access_token::{AccessTokenError, create_access_token};
use crate::error::{AppError, AppResult};

impl From<AccessTokenError> for AppError {
    fn from(err: AccessTokenError) -> Self {
        match err {
            AccessTokenError::Invalid { field, message } => Self::Validation { field: Some(field), message },
            AccessTokenError::Storage(err) => err.into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccessToken {
    /// What the token is for, e.g. "Claude Desktop": 1–100 characters once trimmed, no
    /// control characters.
    #[schema(schema_with = token_name)]
    name: String,
    /// Days until the token stops working (1–3650); no expiry when left out.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
}

fn token_name() -> utoipa::openapi::Object {
    let mut schema = crate::tasks::schema::title();
    // The title's pattern with the name's limit: 1 + {0,98} + 1 characters.
    schema.pattern = schema.pattern.map(|pattern| pattern.replace("{0,253}", "{0,98}"));
    schema.description = Some("1–100 characters once trimmed, no control characters.".into());
    schema.examples = vec![serde_json::json!("Claude Desktop")];
    schema
}

/// A token as listed: never the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessTokenView {
    id: Uuid,
    name: String,
    /// The start of the secret, to recognise it.
    prefix: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    revoked_at: Option<Timestamp>,
    /// Neither revoked nor expired.
    active: bool,
}

impl From<AccessToken> for AccessTokenView {
    fn from(token: AccessToken) -> Self {
        Self {
            active: token.is_active(Timestamp::now()),
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            expires_at: token.expires_at,
            revoked_at: token.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccessToken {
    #[serde(flatten)]
    token: AccessTokenView,
    /// The secret, shown this once. Send it as `Authorization: Bearer <token>`.
    token_secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessTokenList {
    tokens: Vec<AccessTokenView>,
}

/// Create a personal access token. The secret is in the response only.
#[utoipa::path(post, path = "/api/tokens", tag = "tokens", request_body = NewAccessToken,
    responses((status = 201, body = CreatedAccessToken), (status = 401), (status = 422)), security(("bearer" = []), ("cookie" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    user: AuthUser,
    Json(input): Json<NewAccessToken>,
) -> AppResult<(StatusCode, Json<CreatedAccessToken>)> {
    let (token, secret) = create_access_token(
        &*state.repos.access_tokens,
        user.id,
        &input.name,
        input.expires_in_days,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedAccessToken { token: token.into(), token_secret: secret })))
}

/// The caller's personal access tokens, newest first (revoked ones included).
#[utoipa::path(get, path = "/api/tokens", tag = "tokens",
    responses((status = 200, body = AccessTokenList), (status = 401)), security(("bearer" = []), ("cookie" = [])))]
pub async fn list_tokens(State(state): State<AppState>, user: AuthUser) -> AppResult<Json<AccessTokenList>> {
    let tokens = state.repos.access_tokens.list_access_tokens(user.id).await?;
    Ok(Json(AccessTokenList { tokens: tokens.into_iter().map(Into::into).collect() }))
}

/// Revoke a token; it stops working at once.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "tokens",
    params(("id" = Uuid, Path, description = "Token id")),
    responses((status = 200, body = AccessTokenView), (status = 404)), security(("bearer" = []), ("cookie" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> AppResult<Json<AccessTokenView>> {
    super::extract::check_path_text("id", &id)?;
    let not_found = || AppError::NotFound("No such access token".into());
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    let token = state
        .repos
        .access_tokens
        .revoke_access_token(user.id, id, state.clock.now())
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(token.into()))
}
