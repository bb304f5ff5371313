//! The web UI: static files from `crates/todokit/web/`, embedded in release
//! builds and read from disk in debug builds (edit and reload).
//!
//! `/` and any unknown non-API `GET` path answer `index.html`, so the client
//! can route; `/assets/*` are the modules and styles; `/sw.js` is the service
//! worker that keeps the app shell for offline use (served from the root so its
//! scope is the whole app). Unknown `/api/*` paths
//! keep the JSON 404. Every response revalidates by `ETag` (the file's SHA-256),
//! so a new binary never serves stale code and an unchanged file costs a 304.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "web/"]
struct WebAssets;

/// Scripts and styles only from this origin, no inline script, no plugins, no
/// framing; `data:` images for the favicon.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/sw.js", get(service_worker))
        .route("/assets/{*path}", get(asset))
}

/// The fallback for paths no route claims: the page for browser navigation,
/// the JSON 404 for the API and for anything that is not a `GET`.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let is_api = path == "/api" || path.starts_with("/api/");
    let is_asset = path.starts_with("/assets/");
    if is_api || is_asset || !(method == Method::GET || method == Method::HEAD) {
        return AppError::NotFound("No such endpoint".into()).into_response();
    }
    serve("index.html", &headers)
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn service_worker(headers: HeaderMap) -> Response {
    serve("sw.js", &headers)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("assets/{path}"), &headers)
}

fn serve(path: &str, request_headers: &HeaderMap) -> Response {
    // rust-embed refuses `..` and absolute paths, in debug builds too.
    let Some(file) = WebAssets::get(path) else {
        return AppError::NotFound("No such file".into()).into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let etag_value = HeaderValue::from_str(&etag).expect("hex is a valid header value");
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));

    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(file.data.into_owned()));
        let mime = file.metadata.mimetype();
        let content_type = if mime.starts_with("text/") || mime == "application/javascript" {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_owned()
        };
        if let Ok(value) = HeaderValue::from_str(&content_type) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag_value);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if path.ends_with(".html") {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
