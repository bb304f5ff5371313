//! The MCP server (official Rust SDK, rmcp): the same seven task tools as the
//! assistant, with the same schemas and results, plus a resource listing
//! pending tasks.
//!
//! - Over HTTP at `/mcp` (Streamable HTTP, stateless: no MCP sessions, so any
//!   replica can answer any request). An axum middleware authenticates the
//!   Bearer JWT or personal access token and puts the [`ToolContext`] into the
//!   request extensions; rmcp hands the HTTP request parts to the handler.
//! - Over stdio (`todokit mcp`), authenticated with a personal access token
//!   that is checked again on every request, so revoking it takes effect at once.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServerHandler};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::access_token::authenticate_access_token;
use crate::http::extract::{AuthUser, RequestZone};
use crate::storage::DynStorage;
use crate::tasks::UserZone;
use crate::tasks::model::UserId;
use crate::tools::{TaskTools, ToolContext, ToolExecutor};

pub const PENDING_TASKS_URI: &str = "todokit://tasks/pending";

/// Where a request's user comes from.
#[derive(Clone)]
enum Caller {
    /// Put into the HTTP request extensions by [`require_auth`].
    HttpRequest,
    /// A personal access token, re-checked on every request (stdio).
    AccessToken { storage: DynStorage, secret: String, zone: UserZone },
}

/// An MCP server over any [`ToolExecutor`].
#[derive(Clone)]
pub struct McpServer {
    tools: Arc<dyn ToolExecutor>,
    caller: Caller,
}

impl McpServer {
    /// For `/mcp`: the caller comes from each HTTP request.
    pub fn for_http(tools: Arc<dyn ToolExecutor>) -> Self {
        Self { tools, caller: Caller::HttpRequest }
    }

    /// For stdio: every request is checked against the access token.
    pub fn for_access_token(
        tools: Arc<dyn ToolExecutor>,
        storage: DynStorage,
        secret: String,
        zone: UserZone,
    ) -> Self {
        Self { tools, caller: Caller::AccessToken { storage, secret, zone } }
    }

    async fn tool_context(&self, context: &RequestContext<RoleServer>) -> Result<ToolContext, McpError> {
        match &self.caller {
            Caller::HttpRequest => context
                .extensions
                .get::<Parts>()
                .and_then(|parts| parts.extensions.get::<ToolContext>())
                .cloned()
                .ok_or_else(|| McpError::invalid_request("Not authenticated", None)),
            Caller::AccessToken { storage, secret, zone } => {
                let token = authenticate_access_token(storage, secret).await.map_err(|err| {
                    tracing::error!(error = %err, "access token check failed");
                    McpError::internal_error("The database is unavailable", None)
                })?;
                let token = token.ok_or_else(|| {
                    McpError::invalid_request("The access token is invalid, expired or revoked", None)
                })?;
                Ok(ToolContext { user: UserId(token.user_id), zone: zone.clone() })
            }
        }
    }

    /// The tools as MCP describes them: the executor's own definitions, with a human title,
    /// the schema of a successful result (`outputSchema`) and behaviour hints.
    pub fn tools(&self) -> Vec<Tool> {
        self.tools
            .definitions()
            .into_iter()
            .map(|definition| {
                let mut tool = Tool::new(
                    definition.name,
                    definition.description,
                    Arc::new(json_object(definition.parameters)),
                );
                if let Some(metadata) = self.tools.metadata(definition.name) {
                    let annotations = ToolAnnotations::with_title(metadata.title)
                        .read_only(metadata.hints.read_only)
                        .destructive(metadata.hints.destructive)
                        .idempotent(metadata.hints.idempotent)
                        // The tools reach the user's own tasks and nothing else.
                        .open_world(false);
                    tool = tool
                        .with_title(metadata.title)
                        .with_raw_output_schema(Arc::new(json_object(metadata.output_schema)))
                        .with_annotations(annotations);
                }
                tool
            })
            .collect()
    }
}

fn json_object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Default::default(),
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("todokit", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "todokit task manager. Tasks are numbered per user; refer to them by number (3 or \"#3\"). \
                 Send due dates as RFC 3339 in the user's time zone. delete_all_tasks needs a second call \
                 with confirm: true and expected_count after the user agrees.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let ctx = self.tool_context(&context).await?;
        let arguments = request.arguments.map(Value::Object).unwrap_or(Value::Null);
        let output = self.tools.call(&ctx, &request.name, arguments).await;
        let result = if output.is_error {
            CallToolResult::structured_error(output.value)
        } else {
            CallToolResult::structured(output.value)
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        self.tool_context(&context).await?;
        let resource = Resource::new(PENDING_TASKS_URI, "pending-tasks")
            .with_title("Pending tasks")
            .with_description(
                "The user's pending tasks (up to 100), soonest due first, as list_tasks returns them",
            )
            .with_mime_type("application/json");
        Ok(ListResourcesResult::with_all_items(vec![resource]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let ctx = self.tool_context(&context).await?;
        if request.uri != PENDING_TASKS_URI {
            return Err(McpError::resource_not_found(
                format!("No resource {}; available: {PENDING_TASKS_URI}", request.uri),
                None,
            ));
        }
        let output = self.tools.call(&ctx, "list_tasks", json!({"status": "pending", "limit": 100})).await;
        if output.is_error {
            return Err(McpError::internal_error(output.value["message"].to_string(), None));
        }
        let contents = ResourceContents::text(output.value.to_string(), PENDING_TASKS_URI)
            .with_mime_type("application/json");
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

/// Hosts `/mcp` answers to: the configured list, or loopback names plus the
/// listen address's host.
pub fn allowed_hosts(state: &AppState) -> Vec<String> {
    if !state.config.mcp_allowed_hosts.is_empty() {
        return state.config.mcp_allowed_hosts.clone();
    }
    let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    let listen = state.config.listen.ip();
    if !listen.is_unspecified() && !listen.is_loopback() {
        hosts.push(listen.to_string());
    }
    hosts
}

/// The `/mcp` service: stateless Streamable HTTP.
pub fn http_service(state: &AppState) -> StreamableHttpService<McpServer, NeverSessionManager> {
    let server = McpServer::for_http(Arc::new(TaskTools::new(state.tasks.clone())));
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(allowed_hosts(state))
        .with_max_request_body_bytes(state.config.max_body_bytes);
    StreamableHttpService::new(move || Ok(server.clone()), Arc::new(NeverSessionManager::default()), config)
}

/// Refuses `/mcp` requests without a valid Bearer JWT or access token before
/// any MCP handling, and passes the caller on as a [`ToolContext`].
pub async fn require_auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let user =
        match <AuthUser as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &state)
            .await
        {
            Ok(user) => user,
            Err(err) => {
                let mut response = err.into_response();
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return response;
            }
        };
    let zone = match <RequestZone as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, &state,
    )
    .await
    {
        Ok(RequestZone(zone)) => zone,
        Err(err) => return err.into_response(),
    };
    parts.extensions.insert(ToolContext { user: user.user_id(), zone });
    next.run(Request::from_parts(parts, body)).await
}

/// Runs the MCP server on stdin/stdout until the client disconnects.
pub async fn serve_stdio(
    storage: DynStorage,
    tasks: crate::tasks::TaskService,
    secret: String,
    zone: UserZone,
) -> anyhow::Result<()> {
    use rmcp::ServiceExt;
    let token = authenticate_access_token(&storage, &secret)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the access token is invalid, expired or revoked"))?;
    tracing::info!(token = %token.prefix, "serving MCP on stdio");
    let server = McpServer::for_access_token(Arc::new(TaskTools::new(tasks)), storage, secret, zone);
    let running = server.serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}
