//! The OpenAPI document's shared parts: security schemes, the error body, and the error
//! responses every operation can give whatever its handler does (a missing or bad token, a
//! body that is not JSON, a query that does not parse, the database being down). Handlers
//! declare only their own statuses; [`CommonResponses`] adds the rest from the operation's
//! shape, so a new route is described completely without repeating the list.

use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::extract;

#[derive(OpenApi)]
#[openapi(
    info(title = "todokit", description = "Self-hosted task manager with an AI assistant. \
        Every error is `{\"error\":{\"code\",\"message\"}}` (see `Error`)."),
    components(schemas(Error, ErrorDetail, crate::tasks::model::SortKey, crate::tasks::model::SortOrder)),
    modifiers(&SecuritySchemes),
    tags((name = "auth"), (name = "tasks"), (name = "chat"), (name = "events"), (name = "tokens"), (name = "account"), (name = "health"))
)]
pub(super) struct ApiDoc;

/// Every error response: `{"error":{"code","message",…}}`.
#[derive(Serialize, ToSchema)]
pub struct Error {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: e.g. `bad_request`, `invalid_json`, `invalid_query`, `invalid_request`,
    /// `not_supported`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`,
    /// `conflict`, `payload_too_large`, `unsupported_media_type`, `validation_failed`,
    /// `rate_limited`, `unavailable`, `internal`.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// For people: says what was wrong and, where it helps, the limit.
    pub message: String,
    /// `validation_failed`: the field that failed, when one did.
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// `rate_limited`: seconds until a retry can succeed (also the `Retry-After` header).
    #[schema(nullable = false)]
    pub retry_after: Option<u64>,
    /// `rate_limited` by a quota: the quota.
    #[schema(nullable = false)]
    pub limit: Option<u32>,
    /// `rate_limited` by a quota: when it resets.
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub resets_at: Option<String>,
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or personal access token (tdk_…)")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(extract::AUTH_COOKIE))),
        );
    }
}

/// The rules between fields of a task that JSON Schema states with `if`/`then` (utoipa has no
/// words for them): a weekly rule alone lists weekdays; a reminder or a recurrence needs a due
/// date. A new task must carry it; a
/// change must not clear it while setting either (a change to a task that has none, without
/// setting one, is answered 409).
pub(super) struct DueDateRules;

impl Modify for DueDateRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use serde_json::json;
        let needs_due = |field: &str, kind: &str, required: bool| {
            let then = if required {
                json!({"required": ["due_at"], "properties": {"due_at": {"type": "string"}}})
            } else {
                json!({"properties": {"due_at": {"type": "string"}}})
            };
            json!({"if": {"required": [field], "properties": {field: {"type": kind}}}, "then": then})
        };
        let Some(components) = openapi.components.as_mut() else { return };
        if let Some(RefOr::T(utoipa::openapi::Schema::Object(recurrence))) =
            components.schemas.get_mut("Recurrence")
        {
            // Weekdays only with a weekly rule (an empty list is none).
            let weekly = json!([{
                "if": {"required": ["weekdays"], "properties": {"weekdays": {"type": "array", "minItems": 1}}},
                "then": {"properties": {"frequency": {"const": "weekly"}}},
            }]);
            recurrence.extensions.get_or_insert_with(Default::default).insert("allOf".to_owned(), weekly);
            // An RFC 3339 instant or `null`: the shortest instant has 20 characters (schemathesis
            // read the format beside a list of types loosely and sent `""`).
            if let Some(RefOr::T(utoipa::openapi::Schema::Object(until))) =
                recurrence.properties.get_mut("until")
            {
                until.min_length = Some("2026-01-01T00:00:00Z".len());
            }
        }
        for (schema, required) in [
            ("TaskInput", true),
            ("TaskPatchInput", false),
            // An imported task (`POST /api/account/import`) follows a new task's rule.
            ("ImportedTask", true),
        ] {
            if let Some(RefOr::T(utoipa::openapi::Schema::Object(object))) =
                components.schemas.get_mut(schema)
            {
                let rules = json!([
                    needs_due("reminder_offset_minutes", "integer", required),
                    needs_due("recurrence", "object", required),
                ]);
                object.extensions.get_or_insert_with(Default::default).insert("allOf".to_owned(), rules);
            }
        }
    }
}

/// The shared error responses, by status: (status, component name, description).
const SHARED: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "The request is malformed: a body that is not JSON, or a query string that does not parse",
    ),
    (
        "401",
        "Unauthorized",
        "No valid session or access token (`Authorization: Bearer …` or the `auth_token` cookie)",
    ),
    (
        "403",
        "Forbidden",
        "A cookie-authenticated change from another site (send `Origin`, or authenticate with a bearer token)",
    ),
    ("413", "PayloadTooLarge", "The body is larger than the server accepts"),
    ("415", "UnsupportedMediaType", "The body is not sent as `Content-Type: application/json`"),
    ("422", "ValidationFailed", "A field or path parameter breaks a rule (`error.field` names it)"),
    ("503", "Unavailable", "The database is not reachable; retry later"),
];

/// Adds the shared error responses to each operation, from its shape, and gives every error
/// response the [`Error`] body. Applied to the finished document (the routes add the paths).
pub(super) struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in SHARED {
            components.responses.insert((*name).to_owned(), RefOr::T(error_response(description)));
        }
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                (false, item.get.as_mut()),
                (true, item.post.as_mut()),
                (true, item.put.as_mut()),
                (true, item.patch.as_mut()),
                (true, item.delete.as_mut()),
            ];
            for (changes_state, operation) in operations {
                if let Some(operation) = operation {
                    add_shared_responses(path, changes_state, operation);
                }
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build(),
        )
        .build()
}

/// Path parameters that name something hold no control characters (see
/// [`super::extract::check_path_text`]); the ones with a shape of their own (a format, a
/// pattern) keep it.
fn plain_path_parameters(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && matches!(parameter.parameter_in, utoipa::openapi::path::ParameterIn::Path)
            && let Some(RefOr::T(utoipa::openapi::Schema::Object(schema))) = &mut parameter.schema
            && schema.pattern.is_none()
            && schema.format.is_none()
        {
            schema.pattern = Some(r"^[^\u0000-\u001f\u007f-\u009f]*$".to_owned());
        }
    }
}

fn add_shared_responses(path: &str, changes_state: bool, operation: &mut Operation) {
    plain_path_parameters(operation);
    let authenticated = operation.security.as_ref().is_some_and(|requirements| !requirements.is_empty());
    let has_body = operation.request_body.is_some();
    let has_query = operation.parameters.iter().flatten().any(|parameter| match parameter {
        RefOr::T(parameter) => matches!(parameter.parameter_in, utoipa::openapi::path::ParameterIn::Query),
        RefOr::Ref(_) => true,
    });
    let has_path_parameter = operation.parameters.iter().flatten().any(|parameter| match parameter {
        RefOr::T(parameter) => matches!(parameter.parameter_in, utoipa::openapi::path::ParameterIn::Path),
        RefOr::Ref(_) => false,
    });
    let needs_database = path.starts_with("/api/") || path == "/readyz";
    for (status, name, _) in SHARED {
        let applies = match *status {
            "400" => has_body || has_query,
            "401" => authenticated,
            "403" => authenticated && changes_state,
            "413" | "415" => has_body,
            "422" => has_body || has_path_parameter,
            "503" => needs_database,
            _ => false,
        };
        let responses = &mut operation.responses.responses;
        if applies && !responses.contains_key(*status) {
            responses.insert((*status).to_owned(), RefOr::Ref(Ref::from_response_name(*name)));
        }
    }
    // An error declared by the handler with only a description gets the error body too.
    for (status, response) in &mut operation.responses.responses {
        if let RefOr::T(response) = response
            && (status.starts_with('4') || status.starts_with('5'))
            && response.content.is_empty()
        {
            response.content.insert(
                "application/json".to_owned(),
                RefOr::T(ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build()),
            );
        }
    }
}
