//! The signed-in user's own account: sessions (list, revoke one, sign out everywhere else),
//! password change, account deletion, and invites (the administrator's).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{PasswordAttempt, forbidden, removed_cookie};
use super::client_address::ClientAddress;
use super::extract::{AuthUser, Json};
use crate::app::AppState;
use crate::auth::{Email, Password, Session};
use crate::error::{AppError, AppResult};

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// Updated at most once a minute.
    #[schema(value_type = String, format = DateTime)]
    last_seen_at: Timestamp,
    /// The browser or client it signed in with (at most 255 characters), when it said.
    #[schema(max_length = 255)]
    user_agent: Option<String>,
    /// The client address it signed in from.
    address: String,
    /// Whether this is the session of the request.
    current: bool,
}

impl SessionView {
    fn of(session: Session, current: Option<Uuid>) -> Self {
        Self {
            current: current == Some(session.id),
            id: session.id,
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            user_agent: session.user_agent,
            address: session.address,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Live sessions, newest first.
    sessions: Vec<SessionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    /// How many sessions were ended.
    #[schema(minimum = 0)]
    revoked: u64,
}

/// The caller's live sessions (sign-ins), newest first.
#[utoipa::path(get, path = "/api/auth/sessions", tag = "auth",
    responses((status = 200, body = SessionList)), security(("bearer" = []), ("cookie" = [])))]
pub async fn list_sessions(State(state): State<AppState>, user: AuthUser) -> AppResult<Json<SessionList>> {
    let sessions = state.repos.sessions.list_sessions(user.id, state.clock.now()).await?;
    let sessions = sessions.into_iter().map(|session| SessionView::of(session, user.session)).collect();
    Ok(Json(SessionList { sessions }))
}

/// End one of the caller's sessions: its token and cookie are refused from now on.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "auth",
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "The session is ended"), (status = 404, description = "The caller has no live session with this id")),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn revoke_session(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    super::extract::check_path_text("id", &id)?;
    let not_found = || AppError::NotFound("No such session".into());
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    if !state.repos.sessions.revoke_session(user.id, id, state.clock.now()).await? {
        return Err(not_found());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out everywhere else: ends every session of the caller but the current one (all of
/// them when the caller uses an access token).
#[utoipa::path(post, path = "/api/auth/sessions/revoke-others", tag = "auth",
    responses((status = 200, body = Revoked)), security(("bearer" = []), ("cookie" = [])))]
pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> AppResult<Json<Revoked>> {
    let revoked =
        state.repos.sessions.revoke_sessions_except(user.id, user.session, state.clock.now()).await?;
    Ok(Json(Revoked { revoked }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The password in use now.
    #[schema(max_length = 1024)]
    current_password: String,
    /// 8–1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct AccountDeletion {
    /// The account's password, to confirm.
    #[schema(max_length = 1024)]
    password: String,
}

/// Checks the caller's password, held to the sign-in limits: `Err` with the response to give
/// (403 `wrong_password`) when it is wrong.
async fn check_password(
    state: &AppState,
    user: &AuthUser,
    client: std::net::IpAddr,
    password: String,
) -> AppResult<Result<(), Response>> {
    let unauthorized = || AppError::Unauthorized("Sign in to continue".into());
    let account = state.repos.accounts.user_by_id(user.id).await?.ok_or_else(unauthorized)?;
    let email = Email::parse(&account.email).map_err(|message| anyhow::anyhow!("stored email: {message}"))?;
    let attempt = PasswordAttempt::start(state, email.normalized(), client)?;
    let stored = state.repos.accounts.user_credentials(email.normalized()).await?.ok_or_else(unauthorized)?;
    if state.passwords.verify(password, stored.password_hash).await? {
        attempt.succeeded(state);
        Ok(Ok(()))
    } else {
        attempt.failed(state);
        Ok(Err(forbidden("wrong_password", "The password is not right")))
    }
}

/// Change the password. Every other session of the account ends; the current one stays.
/// Access tokens keep working.
#[utoipa::path(post, path = "/api/account/password", tag = "account", request_body = PasswordChange,
    responses((status = 204, description = "The password is changed"),
        (status = 403, description = "`wrong_password`: the current password is not right"),
        (status = 429, description = "Too many wrong passwords lately (the sign-in limits)")),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    ClientAddress(client): ClientAddress,
    Json(input): Json<PasswordChange>,
) -> AppResult<Response> {
    let new_password = Password::parse(input.new_password)
        .map_err(|message| AppError::Validation { field: Some("new_password"), message })?;
    if let Err(refusal) = check_password(&state, &user, client, input.current_password).await? {
        return Ok(refusal);
    }
    let hash = state.passwords.hash(new_password).await?;
    if !state.repos.accounts.change_password(user.id, &hash, user.session, state.clock.now()).await? {
        return Err(AppError::Unauthorized("Sign in to continue".into()));
    }
    tracing::info!(user = %user.id, "password changed; other sessions ended");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Delete the account and everything that is its own (tasks, conversations, tokens, sessions,
/// calendar feeds), at once and for good. Its tokens and cookies are refused from now on.
#[utoipa::path(delete, path = "/api/account", tag = "account", request_body = AccountDeletion,
    responses((status = 204, description = "The account and its data are gone; the session cookie is cleared"),
        (status = 403, description = "`wrong_password`: the password is not right"),
        (status = 429, description = "Too many wrong passwords lately (the sign-in limits)")),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn delete_account(
    State(state): State<AppState>,
    user: AuthUser,
    ClientAddress(client): ClientAddress,
    Json(input): Json<AccountDeletion>,
) -> AppResult<Response> {
    if let Err(refusal) = check_password(&state, &user, client, input.password).await? {
        return Ok(refusal);
    }
    state.repos.accounts.delete_user(user.id).await?;
    tracing::info!(user = %user.id, "account deleted");
    Ok((StatusCode::NO_CONTENT, CookieJar::new().add(removed_cookie(&state))).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInvite {
    /// The one-time code, shown this once: the new user enters it when signing up.
    code: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// Create a one-time invite code (the administrator only), valid for 7 days.
#[utoipa::path(post, path = "/api/admin/invites", tag = "account",
    responses((status = 201, body = CreatedInvite), (status = 403, description = "The caller is not the administrator")),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_invite(
    State(state): State<AppState>,
    user: AuthUser,
) -> AppResult<(StatusCode, Json<CreatedInvite>)> {
    let account = state.repos.accounts.user_by_id(user.id).await?;
    if !account.is_some_and(|account| account.is_admin) {
        return Err(AppError::Forbidden("Only the administrator may create invites".into()));
    }
    let (code, expires_at) =
        crate::auth::invite::create_invite(&*state.repos.invites, Some(user.id), state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(CreatedInvite { code, expires_at })))
}
