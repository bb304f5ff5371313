//! Extractors that turn request parts into domain values, with every
//! rejection rendered in the app's JSON error shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::AppError;
use crate::tasks::UserZone;
use crate::tasks::model::UserId;

/// `axum::Json` whose rejections use the app's error shape, and which reads a whole number
/// written with a fraction (`3.0`, `1e2`) as the integer it is: JSON has one number type and
/// JSON Schema counts `3.0` as an `integer`, so a field documented as an integer takes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        // Content type, body size and syntax are checked as `axum::Json` checks them.
        let axum::Json(mut value) = axum::Json::<serde_json::Value>::from_request(request, state).await?;
        integral_floats_as_integers(&mut value);
        serde_path_to_error::deserialize(value).map(Json).map_err(|error| AppError::Validation {
            field: None,
            message: format!("Failed to deserialize the JSON body into the target type: {error}"),
        })
    }
}

/// Rewrites every number with a zero fraction that fits an `i64` or `u64` (`3.0`, `-2.0`, `1e2`)
/// as that integer, in place.
pub fn integral_floats_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
            {
                // `as` saturates; the range checks make the conversion exact.
                if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&float) {
                    *number = serde_json::Number::from(float as i64);
                } else if (0.0..1.844_674_407_370_955_2e19).contains(&float) {
                    *number = serde_json::Number::from(float as u64);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        serde_json::Value::String(_) | serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let message = rejection.body_text();
        match rejection.status() {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Self::UnsupportedMediaType("Expected a JSON body with Content-Type: application/json".into())
            }
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge("The request body is too large".into()),
            StatusCode::UNPROCESSABLE_ENTITY => Self::Validation { field: None, message },
            _ => Self::BadRequest { code: "invalid_json", message },
        }
    }
}

/// `axum_extra`'s query extractor (repeated keys become lists) with the
/// app's error shape.
#[derive(Debug, Clone, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum_extra::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

impl From<axum_extra::extract::QueryRejection> for AppError {
    fn from(rejection: axum_extra::extract::QueryRejection) -> Self {
        Self::BadRequest { code: "invalid_query", message: rejection.to_string() }
    }
}

pub const AUTH_COOKIE: &str = "auth_token";

/// A path segment naming something (a task, a token) holds no control characters: a 422 like
/// any other string with them, before it is looked up (an id that merely names nothing is a
/// 404). The OpenAPI document says so with a pattern on every such path parameter.
pub fn check_path_text(field: &'static str, raw: &str) -> Result<(), AppError> {
    if raw.chars().any(char::is_control) {
        return Err(AppError::validation(field, format!("`{field}` must not contain control characters")));
    }
    Ok(())
}

/// The signed-in user. Accepts `Authorization: Bearer` first, then the
/// `auth_token` cookie; never a token in the query string. The token is a
/// session JWT or a personal access token (`tdk_…`); a token for a deleted
/// account, a JWT whose session was revoked (or that names none), or a revoked
/// or expired access token, is refused.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub id: Uuid,
    /// Expiry of the presented token (unix seconds); far in the future for an
    /// access token without expiry.
    pub expires_at: i64,
    /// The personal access token used, when it was not a session JWT.
    pub access_token: Option<Uuid>,
    /// The session (`auth::session`) of the session JWT used.
    pub session: Option<Uuid>,
}

impl AuthUser {
    pub fn user_id(&self) -> UserId {
        UserId(self.id)
    }
}

pub fn presented_token(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned());
    }
    CookieJar::from_headers(&parts.headers).get(AUTH_COOKIE).map(|cookie| cookie.value().to_owned())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized = || AppError::Unauthorized("Sign in to continue".into());
        let token = presented_token(parts).ok_or_else(unauthorized)?;
        if crate::auth::access_token::is_access_token(&token) {
            let access = crate::auth::access_token::authenticate_access_token(
                &*state.repos.access_tokens,
                &token,
                state.clock.now(),
            )
            .await?
            .ok_or_else(|| {
                AppError::Unauthorized("This access token is invalid, expired or revoked".into())
            })?;
            if !state.repos.accounts.user_exists(access.user_id).await? {
                return Err(unauthorized());
            }
            let expires_at = access.expires_at.unwrap_or(jiff::Timestamp::MAX).as_second();
            return Ok(Self { id: access.user_id, expires_at, access_token: Some(access.id), session: None });
        }
        let ended = || AppError::Unauthorized("Your session is invalid or has ended; sign in again".into());
        let claims = state.tokens.verify(&token).ok_or_else(|| {
            tracing::debug!("rejected an invalid or expired session token");
            ended()
        })?;
        // A token from before server-side sessions names none: it cannot be revoked, so it is
        // not accepted. A session goes with its account (the foreign key), so a live session is
        // a live account.
        let session = claims.sid.ok_or_else(ended)?;
        if !state.repos.sessions.session_is_live(session, claims.sub, state.clock.now()).await? {
            return Err(ended());
        }
        Ok(Self { id: claims.sub, expires_at: claims.exp, access_token: None, session: Some(session) })
    }
}

impl AuthUser {
    /// Whether the credential this user authenticated with still holds: the session is live, or
    /// the access token is neither revoked nor expired (and its account still exists). Cached
    /// for a moment like the check of every request, so a revocation on another replica is
    /// seen within a couple of seconds; one on this replica at once.
    pub async fn still_valid(&self, state: &AppState) -> Result<bool, AppError> {
        let now = state.clock.now();
        if self.expires_at <= now.as_second() {
            return Ok(false);
        }
        if let Some(session) = self.session {
            return Ok(state.repos.sessions.session_is_live(session, self.id, now).await?);
        }
        if let Some(token) = self.access_token {
            return Ok(state.repos.access_tokens.access_token_is_live(token, now).await?
                && state.repos.accounts.user_exists(self.id).await?);
        }
        Ok(state.repos.accounts.user_exists(self.id).await?)
    }

    /// Resolves when the credential stops holding ([`AuthUser::still_valid`], checked every
    /// [`REVOCATION_CHECK`]): a long-lived response (an event stream, a re-attached reply) ends
    /// with it. A check that fails (the database is down) is not taken for a revocation.
    pub async fn revoked(self, state: AppState) {
        let mut ticks = tokio::time::interval(REVOCATION_CHECK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.still_valid(&state).await {
                Ok(false) => return,
                Ok(true) => {}
                Err(error) => tracing::debug!(%error, "could not re-check a stream's credential"),
            }
        }
    }
}

/// How often a long-lived response re-checks the credential it was opened with.
pub const REVOCATION_CHECK: std::time::Duration = std::time::Duration::from_millis(500);

impl OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        match <Self as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(user) => Ok(Some(user)),
            Err(AppError::Unauthorized(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

#[derive(Deserialize)]
struct ZoneQuery {
    timezone: Option<String>,
}

/// The caller's time zone: the `timezone` query parameter, else the
/// `X-Timezone` header, else UTC.
pub struct RequestZone(pub UserZone);

impl<S: Send + Sync> FromRequestParts<S> for RequestZone {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_query =
            axum_extra::extract::Query::<ZoneQuery>::try_from_uri(&parts.uri).ok().and_then(|q| q.0.timezone);
        let from_header = || parts.headers.get("x-timezone").and_then(|v| v.to_str().ok()).map(str::to_owned);
        match from_query.or_else(from_header) {
            Some(name) => Ok(Self(UserZone::parse(&name)?)),
            None => Ok(Self(UserZone::utc())),
        }
    }
}
