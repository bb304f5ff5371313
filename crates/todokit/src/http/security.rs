//! Cross-origin protection.
//!
//! * **CSRF**: a request that changes state and is authenticated only by the
//!   `auth_token` cookie (no `Authorization` header) must come from a page of
//!   this site: its `Origin` (or, when a browser sends none, its `Referer`)
//!   must name the request's own host or an origin in `TODOKIT_CORS_ORIGINS`.
//!   The cookie is also `SameSite=Lax`; the check covers what Lax does not
//!   (same-site sibling hosts, old browsers). Bearer requests cannot be forged
//!   by a browser, so they pass.
//! * **CORS**: closed unless `TODOKIT_CORS_ORIGINS` lists origins (e.g. where
//!   the official ChatKit UI is hosted); those get credentials and the
//!   headers ChatKit sends.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::extract::AUTH_COOKIE;
use crate::error::AppError;

/// Origins allowed besides the server's own, normalised (`scheme://host[:port]`, lower case).
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn new<'a>(origins: impl IntoIterator<Item = &'a String>) -> Self {
        Self(
            origins
                .into_iter()
                .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|origin| !origin.is_empty())
                .collect(),
        )
    }

    /// Adds the origin of `url` (e.g. the advertise URL), if it has one.
    pub fn with_origin_of(mut self, url: Option<&str>) -> Self {
        if let Some(origin) = url.and_then(normalise_origin) {
            self.0.push(origin);
        }
        self
    }

    fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }

    /// The CORS layer, or `None` when no origin is allowed (CORS closed).
    pub fn cors_layer(&self) -> Option<CorsLayer> {
        if self.0.is_empty() {
            return None;
        }
        let origins: Vec<HeaderValue> = self.0.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_credentials(true)
                .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::ACCEPT,
                    HeaderName::from_static("x-timezone"),
                    HeaderName::from_static("last-event-id"),
                    crate::http::chatkit::DETACH,
                ])
                .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
                .max_age(std::time::Duration::from_secs(600)),
        )
    }
}

/// Refuses cookie-authenticated state changes that do not come from an allowed origin.
pub async fn csrf_guard(
    State(allowed): State<Arc<AllowedOrigins>>,
    request: Request,
    next: Next,
) -> Response {
    if needs_origin_check(request.method(), request.headers())
        && !origin_is_allowed(request.headers(), request.uri(), &allowed)
    {
        tracing::warn!(method = %request.method(), path = request.uri().path(), "refused a cross-site request");
        return AppError::Forbidden(
            "Cross-site request refused: cookie-authenticated changes must come from this site \
             (send an Origin header, or authenticate with a Bearer token)"
                .into(),
        )
        .into_response();
    }
    next.run(request).await
}

/// Client errors in the app's JSON error shape, whichever layer produced them:
/// axum's `Bytes` extractor answers a too-large body in plain text, and the MCP
/// transport answers an unreadable body with a plain-text 415.
pub async fn json_client_errors(request: Request, next: Next) -> Response {
    let on_mcp = request.uri().path().starts_with("/mcp");
    let sent_json = is_json(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    if !status.is_client_error() || is_json(response.headers()) {
        return response;
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::PayloadTooLarge("The request body is too large".into()).into_response();
    }
    if !on_mcp {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 16 * 1024).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_owned();
    let message = if message.is_empty() { "The request could not be handled".to_owned() } else { message };
    if status == StatusCode::UNSUPPORTED_MEDIA_TYPE && sent_json {
        return AppError::BadRequest { code: "invalid_json", message }.into_response();
    }
    let error = match status {
        StatusCode::UNAUTHORIZED => AppError::Unauthorized(message),
        StatusCode::FORBIDDEN => AppError::Forbidden(message),
        StatusCode::NOT_FOUND => AppError::NotFound(message),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType(message),
        _ => AppError::BadRequest { code: "bad_request", message },
    };
    let mut response = error.into_response();
    *response.status_mut() = status;
    response
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn needs_origin_check(method: &Method, headers: &HeaderMap) -> bool {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    !safe
        && !headers.contains_key(header::AUTHORIZATION)
        && CookieJar::from_headers(headers).get(AUTH_COOKIE).is_some()
}

fn origin_is_allowed(headers: &HeaderMap, uri: &Uri, allowed: &AllowedOrigins) -> bool {
    let presented = match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().ok().and_then(normalise_origin),
        None => headers.get(header::REFERER).and_then(|r| r.to_str().ok()).and_then(normalise_origin),
    };
    let Some(origin) = presented else { return false };
    is_own_or_allowed(&origin, headers, uri, allowed)
}

/// For `/mcp` (MCP Streamable HTTP, DNS-rebinding protection): a request without an
/// `Origin` header (a non-browser client) passes; one with an `Origin` passes only if it
/// is the server's own origin (the request's `Host`) or in `allowed`.
pub fn mcp_origin_is_allowed(headers: &HeaderMap, uri: &Uri, allowed: &AllowedOrigins) -> bool {
    let mut origins = headers.get_all(header::ORIGIN).iter();
    let Some(value) = origins.next() else { return true };
    if origins.next().is_some() {
        return false;
    }
    let Some(origin) = value.to_str().ok().and_then(normalise_origin) else { return false };
    is_own_or_allowed(&origin, headers, uri, allowed)
}

/// The origin (normalised) is in `allowed` or names the request's own host.
fn is_own_or_allowed(origin: &str, headers: &HeaderMap, uri: &Uri, allowed: &AllowedOrigins) -> bool {
    if allowed.contains(origin) {
        return true;
    }
    let own_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .map(str::to_ascii_lowercase);
    own_host
        .is_some_and(|host| authority_of(origin).is_some_and(|authority| same_authority(&authority, &host)))
}

/// `scheme://host[:port]` of an origin or URL, lower case; `None` for `null` or garbage.
fn normalise_origin(value: &str) -> Option<String> {
    let uri: Uri = value.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = uri.authority()?.as_str().to_ascii_lowercase();
    if authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

/// The origin's authority with the scheme's default port made explicit.
fn authority_of(origin: &str) -> Option<String> {
    let (scheme, authority) = origin.split_once("://")?;
    Some(with_port(authority, if scheme == "https" { 443 } else { 80 }))
}

fn with_port(authority: &str, default_port: u16) -> String {
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    if has_port { authority.to_owned() } else { format!("{authority}:{default_port}") }
}

/// The Host header carries no scheme; a port-less Host matches either default port.
fn same_authority(origin_authority: &str, host: &str) -> bool {
    origin_authority == with_port(host, 80) || origin_authority == with_port(host, 443)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(HeaderName::from_static(name), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn allowed(origins: &[&str]) -> AllowedOrigins {
        let owned: Vec<String> = origins.iter().map(|s| (*s).to_owned()).collect();
        AllowedOrigins::new(&owned)
    }

    #[test]
    fn same_host_origins_pass_and_others_do_not() {
        let uri = Uri::from_static("/api/tasks");
        let none = allowed(&[]);
        let cases = [
            ("localhost:8080", "http://localhost:8080", true),
            ("LOCALHOST:8080", "http://localhost:8080", true),
            ("tasks.example.com", "https://tasks.example.com", true),
            ("tasks.example.com", "https://tasks.example.com:443", true),
            ("tasks.example.com", "http://tasks.example.com", true),
            ("[::1]:8080", "http://[::1]:8080", true),
            ("localhost:8080", "http://localhost:8081", false),
            ("tasks.example.com", "https://evil.example", false),
            ("tasks.example.com", "https://tasks.example.com.evil.example", false),
            ("tasks.example.com", "null", false),
            ("tasks.example.com", "file://tasks.example.com", false),
        ];
        for (host, origin, expected) in cases {
            let map = headers(&[("host", host), ("origin", origin)]);
            assert_eq!(origin_is_allowed(&map, &uri, &none), expected, "{host} vs {origin}");
        }
    }

    #[test]
    fn referer_is_used_only_without_origin_and_the_allow_list_opens_other_origins() {
        let uri = Uri::from_static("/api/tasks");
        let none = allowed(&[]);
        let referer = headers(&[("host", "localhost:8080"), ("referer", "http://localhost:8080/app?x=1")]);
        assert!(origin_is_allowed(&referer, &uri, &none));
        let both = headers(&[
            ("host", "localhost:8080"),
            ("origin", "https://evil.example"),
            ("referer", "http://localhost:8080/"),
        ]);
        assert!(!origin_is_allowed(&both, &uri, &none));
        assert!(!origin_is_allowed(&headers(&[("host", "localhost:8080")]), &uri, &none));
        let list = allowed(&["https://chat.example.com/ ", "HTTPS://UI.example.com"]);
        for origin in ["https://chat.example.com", "https://ui.example.com"] {
            assert!(origin_is_allowed(&headers(&[("host", "api.example"), ("origin", origin)]), &uri, &list));
        }
        assert!(!origin_is_allowed(
            &headers(&[("host", "api.example"), ("origin", "http://chat.example.com")]),
            &uri,
            &list
        ));
    }

    #[test]
    fn mcp_requests_pass_without_origin_or_with_their_own_or_a_listed_one() {
        let uri = Uri::from_static("/mcp");
        let list = allowed(&["https://inspector.example"]);
        let cases = [
            (None, true),
            (Some("http://localhost:8080"), true),
            (Some("https://inspector.example"), true),
            (Some("https://evil.example"), false),
            (Some("http://localhost:8081"), false),
            (Some("null"), false),
            (Some("garbage"), false),
        ];
        for (origin, expected) in cases {
            let mut map = headers(&[("host", "localhost:8080")]);
            if let Some(origin) = origin {
                map.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
            }
            assert_eq!(mcp_origin_is_allowed(&map, &uri, &list), expected, "{origin:?}");
        }
        let mut twice = headers(&[("host", "localhost:8080"), ("origin", "http://localhost:8080")]);
        twice.append(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!mcp_origin_is_allowed(&twice, &uri, &list));
    }

    #[test]
    fn only_cookie_authenticated_state_changes_are_checked() {
        let cookie = headers(&[("cookie", "auth_token=abc")]);
        assert!(needs_origin_check(&Method::POST, &cookie));
        assert!(needs_origin_check(&Method::DELETE, &cookie));
        assert!(!needs_origin_check(&Method::GET, &cookie));
        assert!(!needs_origin_check(&Method::OPTIONS, &cookie));
        let bearer = headers(&[("cookie", "auth_token=abc"), ("authorization", "Bearer x")]);
        assert!(!needs_origin_check(&Method::POST, &bearer));
        assert!(!needs_origin_check(&Method::POST, &headers(&[("cookie", "theme=dark")])));
    }
}
