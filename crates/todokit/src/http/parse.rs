//! `POST /api/tasks/parse`: the quick-add parser, so the web UI can show what
//! a line means (date, priority, tags) before it is saved.

use serde::{Deserialize, Serialize};
use todokit_domain::nl::parse_quick_add;
use utoipa::ToSchema;

use super::extract::{AuthUser, Json, RequestZone};
use crate::error::{AppError, AppResult};

/// Longest line the parser accepts; a title is at most 255 characters, and a
/// description may follow it.
const MAX_QUICK_ADD_CHARS: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParseRequest {
    /// One line such as "Call mom tomorrow at 5pm #family !high".
    #[schema(schema_with = quick_add_text)]
    text: String,
}

/// At most [`MAX_QUICK_ADD_CHARS`] characters; no control characters but tab, newline and CR.
fn quick_add_text() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .pattern(Some(r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]{0,2000}$"))
        .description(Some(
            "One line such as \"Call mom tomorrow at 5pm #family !high\": at most 2000 characters, no \
             control characters but tab, newline and carriage return.",
        ))
        .build()
}

/// What the line means. Nothing is validated or saved: send the fields to
/// `POST /api/tasks` to create the task.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParsedTask {
    /// The title with date, priority and tag phrases removed; empty when the
    /// line named no task.
    title: String,
    description: Option<String>,
    /// The first date/time in the line, resolved in the caller's time zone (UTC instant).
    #[schema(value_type = Option<String>, format = DateTime)]
    due_at: Option<jiff::Timestamp>,
    /// false when only a day was named (the time is then the end of that day).
    due_has_time: bool,
    /// low, medium or high, when the line named one.
    #[schema(value_type = Option<String>, example = "high")]
    priority: Option<todokit_domain::Priority>,
    tags: Vec<String>,
    /// A recurrence phrase ("every Thursday", "every weekday", "on the 15th of every month"),
    /// as `POST /api/tasks` takes it; `due_at` is then its first occurrence.
    #[schema(value_type = Option<Object>)]
    recurrence: Option<todokit_domain::Recurrence>,
    /// The recurrence in words, for a chip: "every Mon and Thu", "every other week".
    recurrence_text: Option<String>,
    /// A reminder phrase ("remind me an hour before"): minutes before `due_at`, as
    /// `POST /api/tasks` takes it.
    reminder_offset_minutes: Option<u32>,
    /// The zone the date was read in.
    time_zone: String,
}

/// Parse a quick-add line without saving anything.
#[utoipa::path(post, path = "/api/tasks/parse", tag = "tasks", request_body = ParseRequest,
    responses((status = 200, body = ParsedTask), (status = 401), (status = 422)), security(("bearer" = []), ("cookie" = [])))]
pub async fn parse_task(
    _user: AuthUser,
    RequestZone(zone): RequestZone,
    Json(request): Json<ParseRequest>,
) -> AppResult<Json<ParsedTask>> {
    if request.text.chars().count() > MAX_QUICK_ADD_CHARS {
        return Err(AppError::validation(
            "text",
            format!("text must be at most {MAX_QUICK_ADD_CHARS} characters"),
        ));
    }
    if request.text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(AppError::validation(
            "text",
            "text must not contain control characters (tabs and newlines are fine)",
        ));
    }
    let now = jiff::Zoned::now().with_time_zone(zone.tz().clone());
    let parsed = parse_quick_add(&request.text, &now);
    Ok(Json(ParsedTask {
        title: parsed.title,
        description: parsed.description,
        due_at: parsed.due.map(|due| due.timestamp()),
        due_has_time: parsed.due_has_time,
        priority: parsed.priority,
        tags: parsed.tags,
        recurrence: parsed.repeat.as_ref().and_then(|repeat| repeat.to_recurrence().ok()),
        recurrence_text: parsed.repeat.as_ref().map(|repeat| repeat.describe()),
        reminder_offset_minutes: parsed.reminder_minutes,
        time_zone: zone.name().to_owned(),
    }))
}
