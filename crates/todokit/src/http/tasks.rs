//! `/api/tasks`: thin handlers over the task service.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AuthUser, Json, Query, RequestZone};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::tasks::model::{BulkOutcome, Completion, SortKey, SortOrder, TagCount, Task, TaskCounts, TaskKey};
use crate::tasks::{DueWindow, ListCriteria, StatusFilter, TaskError, TaskInput, TaskPatchInput};
use todokit_domain::Priority;

impl From<TaskError> for AppError {
    fn from(err: TaskError) -> Self {
        match err {
            TaskError::Invalid(err) => err.into(),
            TaskError::InvalidField { field, message } => Self::Validation { field: Some(field), message },
            TaskError::NotFound => Self::task_not_found(),
            TaskError::Conflict { message, .. } => Self::Conflict(message),
            TaskError::Storage(err) => err.into(),
        }
    }
}

/// The REST API takes a priority as its document names it (`low`, `medium`, `high`); the
/// synonyms and spellings the assistant and the MCP tools read ("urgent", "HIGH") are for
/// natural language.
fn exact_priority(priority: Option<&str>) -> AppResult<()> {
    match priority {
        None | Some("low" | "medium" | "high") => Ok(()),
        Some(_) => Err(AppError::validation("priority", "priority must be low, medium or high")),
    }
}

fn task_key(raw: &str) -> AppResult<TaskKey> {
    super::extract::check_path_text("task", raw)?;
    // An unparseable key can name no task: same answer as a missing one.
    TaskKey::parse(raw).ok_or_else(AppError::task_not_found)
}

/// Filters shared by listing (as query parameters) and the bulk operations (in the body).
#[derive(Debug, Default, Deserialize, Serialize, IntoParams, ToSchema)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// all (default), pending, completed or overdue.
    status: Option<StatusFilter>,
    /// low, medium or high.
    #[schema(value_type = Option<Priority>)]
    #[param(value_type = Option<Priority>)]
    priority: Option<String>,
    /// Tasks must carry every listed tag. Repeat the parameter or separate with commas.
    #[schema(schema_with = crate::tasks::schema::tags)]
    #[param(schema_with = tags_in_query)]
    tags: Vec<String>,
    /// today, week, month or overdue, in the caller's time zone.
    due: Option<DueWindow>,
    /// Due strictly before this RFC 3339 instant.
    #[schema(schema_with = due_before_in_body, required = false)]
    #[param(schema_with = due_before)]
    due_before: Option<String>,
    /// Due at or after this RFC 3339 instant.
    #[schema(schema_with = due_after_in_body, required = false)]
    #[param(schema_with = due_after)]
    due_after: Option<String>,
    /// Case-insensitive text search over title and description.
    #[serde(alias = "search")]
    #[schema(schema_with = search_in_body, required = false)]
    #[param(schema_with = search)]
    q: Option<String>,
    /// IANA time zone for due windows (default UTC; also `X-Timezone`).
    #[schema(schema_with = time_zone_in_body, required = false)]
    #[param(schema_with = time_zone)]
    timezone: Option<String>,
}

// The filters' documented shapes: in a query string, or (also `null`) in a bulk body.
const DUE_BEFORE: &str = "Due strictly before this instant (RFC 3339).";
const DUE_AFTER: &str = "Due at or after this instant (RFC 3339).";

fn due_before() -> utoipa::openapi::Object {
    crate::tasks::schema::due_at(false, DUE_BEFORE)
}

fn due_before_in_body() -> utoipa::openapi::Object {
    crate::tasks::schema::due_at(true, DUE_BEFORE)
}

fn due_after() -> utoipa::openapi::Object {
    crate::tasks::schema::due_at(false, DUE_AFTER)
}

fn due_after_in_body() -> utoipa::openapi::Object {
    crate::tasks::schema::due_at(true, DUE_AFTER)
}

fn tags_in_query() -> utoipa::openapi::Array {
    let mut schema = crate::tasks::schema::tags();
    schema.description = Some(
        "Tasks must carry every listed tag. Repeat the parameter or separate with commas. At most \
         20 tags of at most 50 characters each, no control characters."
            .into(),
    );
    schema
}

fn search() -> utoipa::openapi::Object {
    crate::tasks::schema::search(false)
}

fn search_in_body() -> utoipa::openapi::Object {
    crate::tasks::schema::search(true)
}

fn time_zone() -> utoipa::openapi::Object {
    crate::tasks::schema::time_zone(false)
}

fn time_zone_in_body() -> utoipa::openapi::Object {
    crate::tasks::schema::time_zone(true)
}

impl FilterParams {
    fn criteria(self) -> AppResult<ListCriteria> {
        exact_priority(self.priority.as_deref())?;
        Ok(ListCriteria {
            status: self.status.unwrap_or_default(),
            priority: self.priority,
            tags: self.tags.iter().flat_map(|t| t.split(',')).map(str::to_owned).collect(),
            due: self.due,
            due_before: self.due_before,
            due_after: self.due_after,
            search: self.q,
            ..Default::default()
        })
    }
}

/// Sorting and paging of a listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// due (default), priority, created, updated or title.
    sort: Option<SortKey>,
    /// asc or desc; each sort key has a natural default.
    order: Option<SortOrder>,
    /// How many matching tasks to skip.
    #[param(maximum = 4_294_967_295_u32)]
    offset: u32,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// The listing query: the filters and the page, both read from the one query string (two
/// structs rather than one `#[serde(flatten)]`ed into the other, because flattening breaks
/// repeated keys and numbers in query strings). An empty choice (`status=`) is refused.
#[derive(Debug, Default)]
pub struct ListQuery {
    filter: FilterParams,
    page: PageParams,
}

impl ListQuery {
    fn criteria(self) -> AppResult<ListCriteria> {
        Ok(ListCriteria {
            sort: self.page.sort,
            order: self.page.order,
            offset: self.page.offset,
            limit: self.page.limit,
            ..self.filter.criteria()?
        })
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ListQuery {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> AppResult<Self> {
        reject_empty_choices(parts.uri.query())?;
        let Query(filter) = Query::<FilterParams>::from_request_parts(parts, state).await?;
        let Query(page) = Query::<PageParams>::from_request_parts(parts, state).await?;
        Ok(Self { filter, page })
    }
}

impl IntoParams for ListQuery {
    fn into_params(
        parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let mut parameters = FilterParams::into_params(&parameter_in_provider);
        parameters.extend(PageParams::into_params(&parameter_in_provider));
        // A parameter documented by its own schema (`schema_with`) says what it is there.
        for parameter in &mut parameters {
            if parameter.description.is_none()
                && let Some(utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(schema))) =
                    &parameter.schema
            {
                parameter.description.clone_from(&schema.description);
            }
        }
        parameters
    }
}

/// The query parameters that cannot be empty: choices from a fixed set, instants, the time zone
/// and numbers. The query extractor reads `status=` as if `status` were absent; an empty value
/// is refused instead, as any other value outside the parameter's set is. (`q=` and `tags=` are
/// an empty search and no tag.)
const CHOICE_PARAMETERS: [&str; 10] =
    ["status", "priority", "due", "sort", "order", "due_before", "due_after", "timezone", "offset", "limit"];

fn reject_empty_choices(query: Option<&str>) -> AppResult<()> {
    let pairs = query.unwrap_or_default().split('&').map(|pair| pair.split_once('=').unwrap_or((pair, "")));
    for (name, value) in pairs {
        if let Some(name) = CHOICE_PARAMETERS.iter().find(|choice| **choice == name)
            && value.is_empty()
        {
            return Err(AppError::validation(
                name,
                format!("{name} must not be empty (leave it out instead)"),
            ));
        }
    }
    Ok(())
}

#[derive(Serialize, ToSchema)]
pub struct TaskList {
    tasks: Vec<Task>,
    /// Tasks matching the filter.
    total: u64,
    offset: u32,
    limit: u32,
    /// Across all of the user's tasks.
    counts: TaskCounts,
}

/// Create a task.
#[utoipa::path(post, path = "/api/tasks", tag = "tasks", request_body = TaskInput,
    responses((status = 201, body = Task), (status = 401), (status = 422)), security(("bearer" = []), ("cookie" = [])))]
pub async fn create_task(
    State(state): State<AppState>,
    user: AuthUser,
    RequestZone(zone): RequestZone,
    Json(input): Json<TaskInput>,
) -> AppResult<(StatusCode, Json<Task>)> {
    exact_priority(input.priority.as_deref())?;
    let task = state.tasks.create(user.user_id(), input, &zone).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// List tasks with filters, sorting and pagination.
#[utoipa::path(get, path = "/api/tasks", tag = "tasks", params(ListQuery),
    responses((status = 200, body = TaskList), (status = 401), (status = 422)), security(("bearer" = []), ("cookie" = [])))]
pub async fn list_tasks(
    State(state): State<AppState>,
    user: AuthUser,
    RequestZone(zone): RequestZone,
    query: ListQuery,
) -> AppResult<Json<TaskList>> {
    let criteria = query.criteria()?;
    let page = state.tasks.list(user.user_id(), &criteria, &zone).await?;
    let counts = state.tasks.counts(user.user_id(), &ListCriteria::default(), &zone).await?;
    Ok(Json(TaskList {
        tasks: page.tasks,
        total: page.total,
        offset: criteria.offset,
        limit: criteria.limit.unwrap_or(crate::tasks::model::DEFAULT_PAGE_SIZE),
        counts,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TagList {
    tags: Vec<TagCount>,
}

/// Tags in use, most used first.
#[utoipa::path(get, path = "/api/tasks/tags", tag = "tasks", responses((status = 200, body = TagList)), security(("bearer" = []), ("cookie" = [])))]
pub async fn list_tags(State(state): State<AppState>, user: AuthUser) -> AppResult<Json<TagList>> {
    Ok(Json(TagList { tags: state.tasks.tags(user.user_id()).await? }))
}

/// One task, by id or number.
#[utoipa::path(get, path = "/api/tasks/{task}", tag = "tasks",
    params(("task" = String, Path, description = "Task id (UUID) or number (`3` or `#3`)")),
    responses((status = 200, body = Task), (status = 404)), security(("bearer" = []), ("cookie" = [])))]
pub async fn get_task(
    State(state): State<AppState>,
    user: AuthUser,
    Path(task): Path<String>,
) -> AppResult<Json<Task>> {
    Ok(Json(state.tasks.get(user.user_id(), task_key(&task)?).await?))
}

/// Change some fields of a task; `null` clears a field.
#[utoipa::path(patch, path = "/api/tasks/{task}", tag = "tasks", request_body = TaskPatchInput,
    params(("task" = String, Path, description = "Task id or number")),
    responses((status = 200, body = Task), (status = 404),
        (status = 409, description = "A reminder or recurrence for a task without a due date (set `due_at` in the same change)"),
        (status = 422)), security(("bearer" = []), ("cookie" = [])))]
pub async fn update_task(
    State(state): State<AppState>,
    user: AuthUser,
    RequestZone(zone): RequestZone,
    Path(task): Path<String>,
    Json(input): Json<TaskPatchInput>,
) -> AppResult<Json<Task>> {
    exact_priority(input.priority.as_deref())?;
    Ok(Json(state.tasks.update(user.user_id(), task_key(&task)?, input, &zone).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    deleted: bool,
    /// The task as it was, so a client can offer undo.
    task: Task,
}

/// Delete a task.
#[utoipa::path(delete, path = "/api/tasks/{task}", tag = "tasks",
    params(("task" = String, Path, description = "Task id or number")),
    responses((status = 200, body = Deleted), (status = 404)), security(("bearer" = []), ("cookie" = [])))]
pub async fn delete_task(
    State(state): State<AppState>,
    user: AuthUser,
    Path(task): Path<String>,
) -> AppResult<Json<Deleted>> {
    let task = state.tasks.delete(user.user_id(), task_key(&task)?).await?;
    Ok(Json(Deleted { deleted: true, task }))
}

/// Undo a delete: the task comes back as it was (same id, number, tags, reminder and
/// recurrence). Works for 30 minutes after the delete; later, or for an id that was never
/// deleted, the answer is 404.
#[utoipa::path(post, path = "/api/tasks/{task}/restore", tag = "tasks",
    params(("task" = String, Path, description = "Id (UUID) of the deleted task")),
    responses((status = 200, body = Task), (status = 404), (status = 409)), security(("bearer" = []), ("cookie" = [])))]
pub async fn restore_task(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> AppResult<Json<Task>> {
    super::extract::check_path_text("task", &id)?;
    // Only the id names a deleted task (numbers are looked up among the live ones).
    let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::task_not_found())?;
    Ok(Json(state.tasks.restore(user.user_id(), id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// true (default) completes, false reopens.
    #[serde(default = "yes")]
    completed: bool,
}

fn yes() -> bool {
    true
}

/// Complete (or reopen) a task. Completing a recurring task creates its next occurrence.
#[utoipa::path(post, path = "/api/tasks/{task}/complete", tag = "tasks", request_body(content = Option<CompleteBody>),
    params(("task" = String, Path, description = "Task id or number")),
    responses((status = 200, body = Completion), (status = 404)), security(("bearer" = []), ("cookie" = [])))]
pub async fn complete_task(
    State(state): State<AppState>,
    user: AuthUser,
    Path(task): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Json<Completion>> {
    // The body is optional: an empty one means "complete".
    let completed = if body.iter().all(u8::is_ascii_whitespace) {
        true
    } else {
        // `null` is the same as no body.
        serde_json::from_slice::<Option<CompleteBody>>(&body)
            .map_err(|err| AppError::BadRequest { code: "invalid_json", message: err.to_string() })?
            .is_none_or(|body| body.completed)
    };
    Ok(Json(state.tasks.set_completed(user.user_id(), task_key(&task)?, completed).await?))
}

/// Reopen a completed task.
#[utoipa::path(post, path = "/api/tasks/{task}/reopen", tag = "tasks",
    params(("task" = String, Path, description = "Task id or number")),
    responses((status = 200, body = Completion), (status = 404)), security(("bearer" = []), ("cookie" = [])))]
pub async fn reopen_task(
    State(state): State<AppState>,
    user: AuthUser,
    Path(task): Path<String>,
) -> AppResult<Json<Completion>> {
    Ok(Json(state.tasks.set_completed(user.user_id(), task_key(&task)?, false).await?))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
// `deny_unknown_fields` does not combine with `flatten` in serde.
#[serde(default)]
pub struct BulkCompleteBody {
    #[serde(flatten)]
    filter: FilterParams,
    /// true (default) completes, false reopens.
    completed: Option<bool>,
}

/// Complete (or reopen) every task matching the filter.
#[utoipa::path(post, path = "/api/tasks/bulk/complete", tag = "tasks", request_body = BulkCompleteBody,
    responses((status = 200, body = BulkOutcome)), security(("bearer" = []), ("cookie" = [])))]
pub async fn bulk_complete(
    State(state): State<AppState>,
    user: AuthUser,
    RequestZone(zone): RequestZone,
    Json(body): Json<BulkCompleteBody>,
) -> AppResult<Json<BulkOutcome>> {
    let zone =
        body.filter.timezone.as_deref().map(crate::tasks::UserZone::parse).transpose()?.unwrap_or(zone);
    let completed = body.completed.unwrap_or(true);
    let criteria = body.filter.criteria()?;
    Ok(Json(state.tasks.set_completed_matching(user.user_id(), &criteria, &zone, completed).await?))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct BulkDeleteBody {
    #[serde(flatten)]
    filter: FilterParams,
    /// Must be true: deleting many tasks is never implicit.
    #[schema(schema_with = must_be_true, required = true)]
    confirm: bool,
}

/// `true`, the only value that is accepted.
fn must_be_true() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Boolean)
        .enum_values(Some([true]))
        .description(Some("Must be true: deleting many tasks is never implicit."))
        .build()
}

#[derive(Serialize, ToSchema)]
pub struct BulkDeleted {
    deleted_count: u64,
}

/// Delete every task matching the filter (requires `"confirm": true`).
#[utoipa::path(post, path = "/api/tasks/bulk/delete", tag = "tasks", request_body = BulkDeleteBody,
    responses((status = 200, body = BulkDeleted), (status = 422)), security(("bearer" = []), ("cookie" = [])))]
pub async fn bulk_delete(
    State(state): State<AppState>,
    user: AuthUser,
    RequestZone(zone): RequestZone,
    Json(body): Json<BulkDeleteBody>,
) -> AppResult<Json<BulkDeleted>> {
    if !body.confirm {
        return Err(AppError::validation("confirm", "bulk delete requires \"confirm\": true"));
    }
    let zone =
        body.filter.timezone.as_deref().map(crate::tasks::UserZone::parse).transpose()?.unwrap_or(zone);
    let criteria = body.filter.criteria()?;
    let deleted_count = state.tasks.delete_matching(user.user_id(), &criteria, &zone).await?;
    Ok(Json(BulkDeleted { deleted_count }))
}
