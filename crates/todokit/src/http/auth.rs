//! Sign-up, sign-in, sign-out and the current session.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::client_address::ClientAddress;
use super::extract::{AUTH_COOKIE, AuthUser, Json};
use crate::app::AppState;
use crate::auth::User;
use crate::auth::{Email, Password, SessionToken, UNKNOWN_ACCOUNT_HASH};
use crate::error::{AppError, AppResult};

#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    /// At most 255 characters, `name@domain.tld`; matched without regard to case.
    #[schema(
        max_length = 255,
        pattern = r"^[^\s@\u0000-\u001f\u007f-\u009f]+@[^\s@.\u0000-\u001f\u007f-\u009f]+(?:\.[^\s@.\u0000-\u001f\u007f-\u009f]+)+$",
        example = "ada@example.com"
    )]
    email: String,
    /// 8–1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("email", &self.email).finish_non_exhaustive()
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: Uuid,
    email: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self { id: user.id, email: user.email, created_at: user.created_at }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    success: bool,
    message: &'static str,
    user: UserView,
    /// Send as `Authorization: Bearer <token>`; also set as the `auth_token` cookie.
    token: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

#[derive(Serialize, ToSchema)]
pub struct Session {
    authenticated: bool,
    user: UserView,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

#[derive(Serialize, ToSchema)]
pub struct SignedOut {
    success: bool,
}

fn session_cookie(state: &AppState, session: &SessionToken) -> Cookie<'static> {
    Cookie::build((AUTH_COOKIE, session.token.clone()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .path("/")
        .max_age(time_duration(state.tokens.ttl().as_secs()))
        .build()
}

fn time_duration(secs: i64) -> time::Duration {
    time::Duration::seconds(secs)
}

fn signed_in(state: &AppState, status: StatusCode, message: &'static str, user: User) -> AppResult<Response> {
    let session = state.tokens.issue(user.id)?;
    let jar = CookieJar::new().add(session_cookie(state, &session));
    let body = SignedIn {
        success: true,
        message,
        user: user.into(),
        token: session.token,
        expires_at: session.expires_at,
    };
    Ok((status, jar, Json(body)).into_response())
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/api/auth/sign-up", tag = "auth", request_body = Credentials,
    responses((status = 201, body = SignedIn), (status = 400), (status = 409), (status = 429)))]
pub async fn sign_up(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(credentials): Json<Credentials>,
) -> AppResult<Response> {
    let email = Email::parse(&credentials.email)
        .map_err(|message| AppError::Validation { field: Some("email"), message: message.into() })?;
    let password = Password::parse(credentials.password)
        .map_err(|message| AppError::Validation { field: Some("password"), message })?;
    // Counted before the (deliberately slow) hash: a flood of sign-ups from one address would
    // otherwise keep the hashers busy for everyone.
    let address_key = format!("signup:{client}");
    if let Some(retry_after_secs) =
        state.sign_ups.blocked_for(&[(&address_key, state.config.signups_per_hour)])
    {
        return Err(AppError::TooManyRequests {
            message: format!(
                "Too many accounts created from this address; try again in {} minutes",
                retry_after_secs.div_ceil(60)
            ),
            retry_after_secs,
        });
    }
    state.sign_ups.record(&[&address_key]);
    let hash = state.passwords.hash(password).await?;
    let user = state
        .repos
        .accounts
        .create_user(email.as_str(), email.normalized(), &hash, state.clock.now())
        .await?;
    tracing::info!(user = %user.id, "account created");
    signed_in(&state, StatusCode::CREATED, "Account created successfully", user)
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/auth/sign-in", tag = "auth", request_body = Credentials,
    responses((status = 200, body = SignedIn), (status = 401), (status = 429)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(credentials): Json<Credentials>,
) -> AppResult<Response> {
    let invalid = || AppError::Unauthorized("Invalid email or password".into());
    // Counted per account and address together, so one client guessing (or mistyping) never
    // locks out the others behind the same address, nor the account's owner elsewhere. The
    // address and the account each have a ceiling ten times higher, against guessing many
    // accounts from one address or one account from many.
    let account = credentials.email.trim().to_lowercase();
    let pair_key = format!("pair:{account}@{client}");
    let address_key = format!("addr:{client}");
    let account_key = format!("acct:{account}");
    let keys = [pair_key.as_str(), address_key.as_str(), account_key.as_str()];
    let per_pair = state.config.signin_attempts;
    let ceiling = per_pair.saturating_mul(10);
    let limits = [(keys[0], per_pair), (keys[1], ceiling), (keys[2], ceiling)];
    if let Some(retry_after_secs) = state.throttle.blocked_for(&limits) {
        return Err(AppError::TooManyRequests {
            message: format!(
                "Too many failed sign-in attempts; try again in {} minutes",
                retry_after_secs.div_ceil(60)
            ),
            retry_after_secs,
        });
    }
    let Ok(email) = Email::parse(&credentials.email) else {
        state.throttle.record(&keys);
        return Err(invalid());
    };
    let stored = state.repos.accounts.user_credentials(email.normalized()).await?;
    let hash = stored.as_ref().map_or(UNKNOWN_ACCOUNT_HASH, |c| c.password_hash.as_str()).to_owned();
    let matches = state.passwords.verify(credentials.password, hash).await?;
    match stored {
        Some(stored) if matches => {
            state.throttle.forget(&pair_key);
            signed_in(&state, StatusCode::OK, "Signed in", stored.user)
        }
        _ => {
            state.throttle.record(&keys);
            Err(invalid())
        }
    }
}

/// Sign out: clears the session cookie.
#[utoipa::path(post, path = "/api/auth/sign-out", tag = "auth", responses((status = 200, body = SignedOut)))]
pub async fn sign_out(State(state): State<AppState>) -> Response {
    let removal = Cookie::build((AUTH_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .path("/")
        .max_age(time_duration(0))
        .build();
    (CookieJar::new().add(removal), Json(SignedOut { success: true })).into_response()
}

/// The current session.
#[utoipa::path(get, path = "/api/auth/session", tag = "auth", responses((status = 200, body = Session), (status = 401)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn session(State(state): State<AppState>, user: AuthUser) -> AppResult<Json<Session>> {
    let record = state
        .repos
        .accounts
        .user_by_id(user.id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("Sign in to continue".into()))?;
    let expires_at = Timestamp::from_second(user.expires_at).map_err(anyhow::Error::from)?;
    Ok(Json(Session { authenticated: true, user: record.into(), expires_at }))
}
