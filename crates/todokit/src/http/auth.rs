//! Sign-up, sign-in, sign-out and the current session.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
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
use crate::auth::invite::{CODE_MAX_CHARS, hash_code};
use crate::auth::session::start_session;
use crate::auth::{Email, Password, SessionToken, UNKNOWN_ACCOUNT_HASH};
use crate::config::SignupMode;
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

#[derive(Deserialize, ToSchema)]
pub struct SignUpInput {
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
    /// The one-time invite code, when the server admits sign-ups by invite only
    /// (`signup` is `invite` in `GET /api/auth/session`); ignored otherwise.
    #[schema(max_length = 64, nullable = false)]
    invite_code: Option<String>,
}

impl std::fmt::Debug for SignUpInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpInput").field("email", &self.email).finish_non_exhaustive()
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: Uuid,
    email: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// The first account is the administrator: it may create invites.
    is_admin: bool,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self { id: user.id, email: user.email, created_at: user.created_at, is_admin: user.is_admin }
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
    /// Whether the caller is the administrator (may create invites).
    is_admin: bool,
    /// Who may create an account on this server.
    signup: SignupMode,
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

/// Where a new session comes from: the client's address and user agent.
pub struct SignInFrom<'a> {
    pub address: std::net::IpAddr,
    pub headers: &'a HeaderMap,
}

/// Starts a session for `user` (a row, then a token naming it) and answers with it.
async fn signed_in(
    state: &AppState,
    status: StatusCode,
    message: &'static str,
    user: User,
    from: SignInFrom<'_>,
) -> AppResult<Response> {
    let user_agent = from.headers.get(header::USER_AGENT).and_then(|value| value.to_str().ok());
    let (_, session) = start_session(
        &*state.repos.sessions,
        &state.tokens,
        user.id,
        state.clock.now(),
        user_agent,
        from.address,
    )
    .await?;
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
#[utoipa::path(post, path = "/api/auth/sign-up", tag = "auth", request_body = SignUpInput,
    responses((status = 201, body = SignedIn), (status = 400),
        (status = 403, description = "Sign-up is closed (`signup_closed`), or needs an invite code (`invite_required`) and the one sent is unknown, used or expired (`invalid_invite`)"),
        (status = 409), (status = 429)))]
pub async fn sign_up(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Json(credentials): Json<SignUpInput>,
) -> AppResult<Response> {
    if state.config.signup == SignupMode::Closed {
        return Ok(forbidden(
            "signup_closed",
            "Sign-up is closed on this server; ask its operator for an account",
        ));
    }
    let email = Email::parse(&credentials.email)
        .map_err(|message| AppError::Validation { field: Some("email"), message: message.into() })?;
    let password = Password::parse(credentials.password)
        .map_err(|message| AppError::Validation { field: Some("password"), message })?;
    // By invite: the hash of the code sent (`None` for one too long to be a code).
    let invite = match state.config.signup {
        SignupMode::Invite => {
            let code = credentials.invite_code.as_deref().map(str::trim).filter(|code| !code.is_empty());
            let Some(code) = code else {
                return Ok(forbidden("invite_required", "Sign-up on this server needs an invite code"));
            };
            Some((code.chars().count() <= CODE_MAX_CHARS).then(|| hash_code(code)))
        }
        SignupMode::Open | SignupMode::Closed => None,
    };
    let invalid_invite = || forbidden("invalid_invite", "This invite code is unknown, used or expired");
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
    let now = state.clock.now();
    // Checked before the (slow) hash, and again when it is used up with the new account.
    if let Some(invite) = &invite {
        let usable = match invite {
            Some(hash) => state.repos.invites.invite_is_usable(hash, now).await?,
            None => false,
        };
        if !usable {
            return Ok(invalid_invite());
        }
    }
    let hash = state.passwords.hash(password).await?;
    let accounts = &state.repos.accounts;
    let user = match invite.flatten() {
        Some(invite) => {
            let created =
                accounts.create_invited_user(email.as_str(), email.normalized(), &hash, &invite, now).await?;
            match created {
                Some(user) => user,
                // Used up meanwhile by another sign-up.
                None => return Ok(invalid_invite()),
            }
        }
        None => accounts.create_user(email.as_str(), email.normalized(), &hash, now).await?,
    };
    tracing::info!(user = %user.id, admin = user.is_admin, "account created");
    let from = SignInFrom { address: client, headers: &headers };
    signed_in(&state, StatusCode::CREATED, "Account created successfully", user, from).await
}

/// A 403 with an error code of its own (`signup_closed`, `wrong_password`, …), in the usual
/// error shape.
pub fn forbidden(code: &'static str, message: &str) -> Response {
    let mut response = AppError::BadRequest { code, message: message.to_owned() }.into_response();
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/auth/sign-in", tag = "auth", request_body = Credentials,
    responses((status = 200, body = SignedIn), (status = 401), (status = 429)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Json(credentials): Json<Credentials>,
) -> AppResult<Response> {
    let invalid = || AppError::Unauthorized("Invalid email or password".into());
    let attempt = PasswordAttempt::start(&state, &credentials.email, client)?;
    let Ok(email) = Email::parse(&credentials.email) else {
        attempt.failed(&state);
        return Err(invalid());
    };
    let stored = state.repos.accounts.user_credentials(email.normalized()).await?;
    let hash = stored.as_ref().map_or(UNKNOWN_ACCOUNT_HASH, |c| c.password_hash.as_str()).to_owned();
    let matches = state.passwords.verify(credentials.password, hash).await?;
    match stored {
        Some(stored) if matches => {
            attempt.succeeded(&state);
            let from = SignInFrom { address: client, headers: &headers };
            signed_in(&state, StatusCode::OK, "Signed in", stored.user, from).await
        }
        _ => {
            attempt.failed(&state);
            Err(invalid())
        }
    }
}

/// One try of an account's password (a sign-in, or the password a change or a deletion asks
/// for), held to the sign-in limits. Counted per account and address together, so one client
/// guessing (or mistyping) never locks out the others behind the same address, nor the
/// account's owner elsewhere. The address and the account each have a ceiling ten times
/// higher, against guessing many accounts from one address or one account from many.
pub struct PasswordAttempt {
    pair_key: String,
    address_key: String,
    account_key: String,
}

impl PasswordAttempt {
    /// 429 when the account or address has failed too often lately.
    pub fn start(state: &AppState, email: &str, client: std::net::IpAddr) -> AppResult<Self> {
        let account = email.trim().to_lowercase();
        let attempt = Self {
            pair_key: format!("pair:{account}@{client}"),
            address_key: format!("addr:{client}"),
            account_key: format!("acct:{account}"),
        };
        let per_pair = state.config.signin_attempts;
        let ceiling = per_pair.saturating_mul(10);
        let limits = [
            (attempt.pair_key.as_str(), per_pair),
            (attempt.address_key.as_str(), ceiling),
            (attempt.account_key.as_str(), ceiling),
        ];
        if let Some(retry_after_secs) = state.throttle.blocked_for(&limits) {
            return Err(AppError::TooManyRequests {
                message: format!(
                    "Too many failed sign-in attempts; try again in {} minutes",
                    retry_after_secs.div_ceil(60)
                ),
                retry_after_secs,
            });
        }
        Ok(attempt)
    }

    pub fn failed(&self, state: &AppState) {
        state.throttle.record(&[&self.pair_key, &self.address_key, &self.account_key]);
    }

    pub fn succeeded(&self, state: &AppState) {
        state.throttle.forget(&self.pair_key);
    }
}

/// Sign out: ends the current session (its token and cookie are refused from now on) and
/// clears the session cookie. Without a session (none, or an access token) only the cookie is
/// cleared.
#[utoipa::path(post, path = "/api/auth/sign-out", tag = "auth",
    responses((status = 204, description = "Signed out; the session cookie is cleared")))]
pub async fn sign_out(State(state): State<AppState>, user: Option<AuthUser>) -> AppResult<Response> {
    if let Some(AuthUser { id, session: Some(session), .. }) = user {
        state.repos.sessions.revoke_session(id, session, state.clock.now()).await?;
    }
    Ok((StatusCode::NO_CONTENT, CookieJar::new().add(removed_cookie(&state))).into_response())
}

/// Clears the session cookie in the browser.
pub fn removed_cookie(state: &AppState) -> Cookie<'static> {
    Cookie::build((AUTH_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .path("/")
        .max_age(time_duration(0))
        .build()
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
    let is_admin = record.is_admin;
    Ok(Json(Session {
        authenticated: true,
        user: record.into(),
        expires_at,
        is_admin,
        signup: state.config.signup,
    }))
}
