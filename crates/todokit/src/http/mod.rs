//! The HTTP surface: routes, middleware and the OpenAPI document generated
//! from the same router.

pub mod account;
pub mod account_data;
pub mod auth;
pub mod calendar_feed;
pub mod chat_input;
pub mod chatkit;
pub mod chatkit_schema;
pub mod client_address;
pub mod connections;
pub mod events;
pub mod extract;
pub mod health;
pub mod openapi;
pub mod parse;
pub mod security;
pub mod tasks;
pub mod tokens;
pub mod web;

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, header};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::error::AppError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The API docs (Swagger UI) as the web UI's policy, except that its styles may be inline
/// (Swagger UI sets some): scripts only from this origin, no plugins, no framing.
const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Longest `X-Request-Id` a client may choose. The id is echoed and written into every log line
/// of the request, so a longer one, or one with other characters than `A-Z a-z 0-9 - _ . :`,
/// is replaced by a fresh UUID.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// Drops a client's `X-Request-Id` unless it is one short, plain id (see [`MAX_REQUEST_ID_LEN`]);
/// `SetRequestIdLayer` then gives the request a fresh one.
async fn bounded_request_id(mut request: Request<axum::body::Body>) -> Request<axum::body::Body> {
    let mut ids = request.headers().get_all(&REQUEST_ID).iter();
    let acceptable = match (ids.next(), ids.next()) {
        (Some(id), None) => is_plain_request_id(id.as_bytes()),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !acceptable {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

fn is_plain_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id.iter().all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(byte))
}

/// The API routes and their OpenAPI description, built together.
pub fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(auth::sign_up))
        .routes(routes!(auth::sign_in))
        .routes(routes!(auth::sign_out))
        .routes(routes!(auth::session))
        .routes(routes!(tasks::create_task, tasks::list_tasks))
        .routes(routes!(tasks::list_tags))
        .routes(routes!(tasks::get_task, tasks::update_task, tasks::delete_task))
        .routes(routes!(tasks::complete_task))
        .routes(routes!(tasks::reopen_task))
        .routes(routes!(tasks::restore_task))
        .routes(routes!(tasks::bulk_complete))
        .routes(routes!(tasks::bulk_delete))
        .routes(routes!(chatkit::chatkit))
        .routes(routes!(chatkit::attach_run))
        .routes(routes!(chatkit::stop_run))
        .routes(routes!(events::events))
        .routes(routes!(parse::parse_task))
        .routes(routes!(tokens::create_token, tokens::list_tokens))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(account_data::export))
        .routes(routes!(account_data::import))
        .routes(routes!(calendar_feed::create_feed, calendar_feed::feed_status, calendar_feed::revoke_feed))
        .routes(routes!(calendar_feed::feed))
        // Accounts: sessions, password, deletion, invites.
        .routes(routes!(account::list_sessions))
        .routes(routes!(account::revoke_session))
        .routes(routes!(account::revoke_other_sessions))
        .routes(routes!(account::change_password))
        .routes(routes!(account::delete_account))
        .routes(routes!(account::create_invite))
        .split_for_parts();
    utoipa::Modify::modify(&openapi::CommonResponses, &mut document);
    utoipa::Modify::modify(&openapi::DueDateRules, &mut document);
    (router, document)
}

/// The OpenAPI document, e.g. for snapshot tests.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().1
}

async fn method_not_allowed() -> Response {
    let mut response = AppError::BadRequest {
        code: "method_not_allowed",
        message: "This endpoint does not support that method".into(),
    }
    .into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    AppError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
}

pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_router();
    let max_body = state.config.max_body_bytes;
    let mcp = Router::new()
        .nest_service("/mcp", crate::mcp::http_service(&state))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::mcp::require_auth))
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(crate::mcp::allowed_origins(&state)),
            crate::mcp::require_allowed_origin,
        ));
    let allowed_origins = std::sync::Arc::new(security::AllowedOrigins::new(&state.config.cors_origins));
    let cors = allowed_origins.cors_layer();
    let docs = Router::from(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi)).layer(
        tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
        ),
    );
    api.merge(docs)
        .merge(mcp)
        .merge(web::router())
        .fallback(web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), health::fail_fast_while_database_is_down))
        .layer(axum::middleware::from_fn(security::json_client_errors))
        .layer(axum::middleware::from_fn_with_state(allowed_origins, security::csrf_guard))
        .layer(tower::util::option_layer(cors))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                let client = request
                    .extensions()
                    .get::<client_address::ClientAddress>()
                    .map_or_else(|| "-".to_owned(), |client| client.0.to_string());
                tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id, client)
            }),
        )
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(bounded_request_id))
        .with_state(state)
}

/// Keep-alive for idle connections; kept short so shutdown is not held up.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
