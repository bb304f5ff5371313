//! The calendar feed (issue 24): `POST`/`GET`/`DELETE /api/calendar-feed` manage the caller's
//! secret feed URL; `GET /calendar/{secret}.ics` serves it to calendar apps with no other
//! credential.
//!
//! The feed is VEVENT by default — Google Calendar, Outlook and Apple Calendar show only events —
//! and VTODO with `?kind=todo`, for task apps. Only tasks with a due date are in it. Polling is
//! cheap: a strong `ETag` (the SHA-256 of the calendar) answers `If-None-Match` with 304, and
//! `Cache-Control: private, max-age=300`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AuthUser, Json};
use crate::account_data::feed::{CalendarFeedService, FeedKind, REFRESH_MINUTES};
use crate::app::AppState;
use crate::error::{AppError, AppResult};

fn service(state: &AppState) -> CalendarFeedService {
    CalendarFeedService::new(
        state.repos.calendar_feeds.clone(),
        state.repos.account_data.clone(),
        state.clock.clone(),
    )
}

/// `scheme://host[:port]` of this server as the client reached it: the `Host` header, and
/// `X-Forwarded-Proto`/`X-Forwarded-Host` only from a trusted proxy (`--trusted-proxies`).
/// Without a forwarded scheme it is `https` when cookies are `Secure` (the server is served
/// over HTTPS), else `http`.
pub struct PublicBase(pub String);

impl FromRequestParts<AppState> for PublicBase {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip());
        let trusted = peer.is_some_and(|peer| state.trusted_proxies.trusts(peer));
        let header_text = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .map(|value| value.trim().to_owned())
        };
        let forwarded_proto = trusted
            .then(|| header_text("x-forwarded-proto"))
            .flatten()
            .map(|proto| proto.to_ascii_lowercase())
            .filter(|proto| proto == "http" || proto == "https");
        let scheme = forwarded_proto
            .unwrap_or_else(|| if state.config.secure_cookies { "https" } else { "http" }.to_owned());
        let host = trusted
            .then(|| header_text("x-forwarded-host"))
            .flatten()
            .filter(|host| is_plain_host(host))
            .or_else(|| header_text("host").filter(|host| is_plain_host(host)))
            .or_else(|| parts.uri.authority().map(|authority| authority.to_string()))
            .ok_or_else(|| AppError::bad_request("The request names no host (send a Host header)"))?;
        Ok(Self(format!("{scheme}://{}", host.to_ascii_lowercase())))
    }
}

/// A host name or address with an optional port, and nothing else.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// The new feed: its URL is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedFeed {
    /// The secret feed URL (`…/calendar/<secret>.ics`): anyone who has it can read your tasks'
    /// calendar, so share it only with your calendar app. Add `?kind=todo` for VTODOs.
    #[schema(example = "https://tasks.example.com/calendar/3q2-7wQ…mA.ics")]
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Whether the caller has a feed (its URL cannot be shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedStatus {
    pub active: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<Timestamp>,
}

/// Create your calendar feed, replacing any earlier one (whose URL stops working at once).
#[utoipa::path(post, path = "/api/calendar-feed", tag = "account",
    responses((status = 201, body = CreatedFeed),
        (status = 400, description = "The request names no usable host (a `Host` header is needed to build the URL)"),
        (status = 401)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_feed(
    State(state): State<AppState>,
    user: AuthUser,
    PublicBase(base): PublicBase,
) -> AppResult<(StatusCode, Json<CreatedFeed>)> {
    let (secret, created_at) = service(&state).create(user.user_id()).await?;
    Ok((StatusCode::CREATED, Json(CreatedFeed { url: format!("{base}/calendar/{secret}.ics"), created_at })))
}

/// Whether you have a calendar feed, and since when.
#[utoipa::path(get, path = "/api/calendar-feed", tag = "account",
    responses((status = 200, body = FeedStatus), (status = 401)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn feed_status(State(state): State<AppState>, user: AuthUser) -> AppResult<Json<FeedStatus>> {
    let created_at = service(&state).created_at(user.user_id()).await?;
    Ok(Json(FeedStatus { active: created_at.is_some(), created_at }))
}

/// Revoke your calendar feed: its URL answers 404 from now on. Idempotent.
#[utoipa::path(delete, path = "/api/calendar-feed", tag = "account",
    responses((status = 204, description = "No feed any more"), (status = 401)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn revoke_feed(State(state): State<AppState>, user: AuthUser) -> AppResult<StatusCode> {
    service(&state).revoke(user.user_id()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; the handler reads it raw
pub struct FeedQuery {
    /// `event` (default): a VEVENT per task, what most calendar apps show; `todo`: a VTODO per task.
    #[param(value_type = Option<FeedKindName>, inline)]
    kind: Option<String>,
}

/// The feed's component kinds, as `?kind=` names them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // documents the query parameter; the handler reads the text itself
pub enum FeedKindName {
    Event,
    Todo,
}

/// The calendar feed: your tasks with a due date, as iCalendar. Authenticated by the secret in
/// the URL alone (`POST /api/calendar-feed` makes it). Send `If-None-Match` with the last `ETag`
/// to get 304 when nothing changed.
#[utoipa::path(get, path = "/calendar/{file}", tag = "account",
    params(("file" = String, Path, description = "`<secret>.ics`", pattern = "^[A-Za-z0-9_-]{43}\\.ics$"), FeedQuery),
    responses(
        (status = 200, description = "The calendar", content_type = "text/calendar", body = String,
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag",
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 404, description = "No feed has this secret (revoked, replaced or never made)"),
        (status = 422, description = "An unknown `kind`"),
        (status = 503, description = "The database is not reachable; retry later")))]
pub async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> AppResult<Response> {
    let not_found = || AppError::NotFound("No such calendar feed".into());
    // Read from the raw query: `?kind=` (empty) is an unknown kind, not the default.
    let kind = super::account_data::query_value(query.as_deref(), "kind");
    let kind = match kind.as_deref() {
        None | Some("event") => FeedKind::Event,
        Some("todo") => FeedKind::Todo,
        Some(_) => return Err(AppError::validation("kind", "kind must be event or todo")),
    };
    let secret = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let calendar = service(&state).calendar(secret, kind).await?.ok_or_else(not_found)?;
    let etag = HeaderValue::from_str(&calendar.etag).map_err(anyhow::Error::from)?;
    let cache = HeaderValue::from_str(&format!("private, max-age={}", REFRESH_MINUTES * 60))
        .map_err(anyhow::Error::from)?;
    let unchanged = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim() == calendar.etag || tag.trim() == "*");
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(calendar.body))
    };
    let out = response.headers_mut();
    if !unchanged {
        out.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
        out.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline; filename=\"todokit.ics\""));
    }
    out.insert(header::ETAG, etag);
    out.insert(header::CACHE_CONTROL, cache);
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}
