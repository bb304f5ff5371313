//! `/api/account/export` and `/api/account/import`: a user's data as files (issue 24).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AuthUser, RequestZone};
use crate::account_data::{
    AccountDataService, DataError, ExportDocument, ImportDocument, Imported, MAX_IMPORT_BYTES,
};
use crate::app::AppState;
use crate::error::{AppError, AppResult};

impl From<DataError> for AppError {
    fn from(err: DataError) -> Self {
        match err {
            DataError::Invalid(message) => Self::BadRequest { code: "invalid_import", message },
            DataError::TooMany(message) => Self::Validation { field: None, message },
            DataError::TooLarge(message) => Self::PayloadTooLarge(message),
            DataError::NoAccount => Self::Unauthorized("Sign in to continue".into()),
            DataError::Storage(err) => err.into(),
        }
    }
}

/// The service over this server's repositories.
pub(super) fn service(state: &AppState) -> AccountDataService {
    AccountDataService::new(
        state.repos.account_data.clone(),
        state.repos.accounts.clone(),
        state.clock.clone(),
    )
    .with_events(state.events.clone())
}

/// What the export is written as.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The whole account: tasks and conversations (the default).
    Json,
    /// The tasks, one row each, with a header row.
    Csv,
    /// The tasks as iCalendar, one VTODO each.
    Ics,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; the handler reads it raw (`query_value`)
pub struct ExportQuery {
    /// `json` (default: tasks and conversations), `csv` or `ics` (tasks only).
    #[param(value_type = Option<ExportFormat>, inline)]
    format: Option<String>,
}

/// The last value of `name` in a raw query string (`Some("")` for `?name=`).
pub(super) fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .last()
}

/// Download everything of yours: every task and every conversation as one versioned JSON
/// document (no secrets), or the tasks as CSV (`?format=csv`) or iCalendar (`?format=ics`).
#[utoipa::path(get, path = "/api/account/export", tag = "account", params(ExportQuery),
    responses(
        (status = 200, description = "The export, as an attachment named `todokit-export-YYYY-MM-DD.<json|csv|ics>`",
            headers(("Content-Disposition" = String, description = "attachment; filename=\"todokit-export-YYYY-MM-DD.json\"")),
            content((ExportDocument = "application/json"), (String = "text/csv"), (String = "text/calendar"))),
        (status = 401), (status = 422, description = "An unknown `format`")),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn export(
    State(state): State<AppState>,
    user: AuthUser,
    RawQuery(query): RawQuery,
) -> AppResult<Response> {
    let service = service(&state);
    // Read from the raw query: `?format=` (empty) is an unknown format, not the default.
    let format = query_value(query.as_deref(), "format");
    let format = match format.as_deref() {
        None | Some("json") => ExportFormat::Json,
        Some("csv") => ExportFormat::Csv,
        Some("ics") => ExportFormat::Ics,
        Some(_) => return Err(AppError::validation("format", "format must be json, csv or ics")),
    };
    let date = service.clock().now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let (body, content_type, extension) = match format {
        ExportFormat::Json => {
            let document = service.export_document(user.user_id()).await?;
            let body = serde_json::to_vec(&document).map_err(anyhow::Error::from)?;
            (body, "application/json", "json")
        }
        ExportFormat::Csv => (service.export_csv(user.user_id()).await?, "text/csv; charset=utf-8", "csv"),
        ExportFormat::Ics => {
            (service.export_ics(user.user_id()).await?.into_bytes(), "text/calendar; charset=utf-8", "ics")
        }
    };
    let disposition =
        format!("attachment; filename=\"todokit-export-{}.{extension}\"", date.strftime("%Y-%m-%d"));
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(anyhow::Error::from)?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// What an import created.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub imported: ImportedCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedCounts {
    #[schema(minimum = 0, maximum = 10000)]
    pub tasks: usize,
    #[schema(minimum = 0, maximum = 1000)]
    pub threads: usize,
}

impl From<Imported> for ImportResult {
    fn from(imported: Imported) -> Self {
        Self { imported: ImportedCounts { tasks: imported.tasks, threads: imported.threads } }
    }
}

/// A Todoist CSV template export. Any file Todoist writes is read; the pattern shows the
/// simplest one (a header row naming at least TYPE and CONTENT, then plain task rows).
pub struct TodoistCsv;

impl utoipa::PartialSchema for TodoistCsv {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(
                r"^TYPE,CONTENT(,[A-Z_]{1,20}){0,12}\r?\n(task,[A-Za-z][A-Za-z ]{0,40}\r?\n){1,20}$",
            ))
            .description(Some("A Todoist CSV template export (\"Export as CSV template\")."))
            .examples(["TYPE,CONTENT,PRIORITY,DATE\ntask,Buy milk\ntask,Water the plants\n"])
            .into()
    }
}

impl ToSchema for TodoistCsv {
    fn name() -> std::borrow::Cow<'static, str> {
        "TodoistCsv".into()
    }
}

/// Bring data in: a todokit export (`Content-Type: application/json`) or a Todoist CSV export
/// (`Content-Type: text/csv`; its dates are read in the `X-Timezone`/`timezone` zone). All or
/// nothing: a problem anywhere is a 400 naming the line (CSV) or the JSON path, and nothing is
/// imported. Imported tasks get new ids and the next numbers after yours. Limits: 5 MiB;
/// 10,000 tasks, 1,000 conversations and 10,000 conversation items per file.
#[utoipa::path(post, path = "/api/account/import", tag = "account",
    request_body(content((ImportDocument = "application/json"), (TodoistCsv = "text/csv")),
        description = "A todokit export document, or a Todoist CSV template export"),
    responses(
        (status = 200, body = ImportResult),
        (status = 400, description = "The file is not a valid export; the message names the line or the JSON path"),
        (status = 401),
        (status = 413, description = "The file is larger than 5 MiB"),
        (status = 415, description = "Neither `application/json` nor `text/csv`"),
        (status = 422, description = "More tasks, conversations or items than one import takes")),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn import(
    State(state): State<AppState>,
    user: AuthUser,
    RequestZone(zone): RequestZone,
    headers: HeaderMap,
    body: Body,
) -> AppResult<axum::Json<ImportResult>> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    let is_csv = match media_type.as_deref() {
        Some("application/json") => false,
        Some("text/csv") => true,
        _ => {
            return Err(AppError::UnsupportedMediaType(
                "Send a todokit export as Content-Type: application/json, or a Todoist CSV export as \
                 Content-Type: text/csv"
                    .into(),
            ));
        }
    };
    let bytes = read_limited(&headers, body).await?;
    let service = service(&state);
    let imported = if is_csv {
        service.import_todoist(user.user_id(), &bytes, zone.name()).await?
    } else {
        service.import_json(user.user_id(), &bytes).await?
    };
    Ok(axum::Json(imported.into()))
}

/// The body, refused with 413 as soon as it is known to be over [`MAX_IMPORT_BYTES`].
async fn read_limited(headers: &HeaderMap, body: Body) -> AppResult<Vec<u8>> {
    let too_large =
        || AppError::PayloadTooLarge(format!("The file is larger than {MAX_IMPORT_BYTES} bytes (5 MiB)"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_IMPORT_BYTES as u64) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| AppError::bad_request("The request body could not be read"))?;
        if bytes.len() + chunk.len() > MAX_IMPORT_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
