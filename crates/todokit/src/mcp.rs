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
    CallToolRequestParams, CallToolResponse, CallToolResult, CustomRequest, CustomResult, ErrorCode,
    Implementation, ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig,
    Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServerHandler};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::AccessTokens;
use crate::auth::access_token::authenticate_access_token;
use crate::error::AppError;
use crate::http::extract::{AuthUser, RequestZone};
use crate::http::security::{AllowedOrigins, mcp_origin_is_allowed};
use crate::tasks::UserZone;
use crate::tasks::model::UserId;
use crate::tools::{TaskTools, ToolContext, ToolExecutor};

pub const PENDING_TASKS_URI: &str = "todokit://tasks/pending";

/// The request methods this server answers (besides notifications).
const SERVED_METHODS: &[&str] =
    &["initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/read"];

/// Where a request's user comes from.
#[derive(Clone)]
enum Caller {
    /// Put into the HTTP request extensions by [`require_auth`].
    HttpRequest,
    /// A personal access token, re-checked on every request (stdio).
    AccessToken { tokens: Arc<dyn AccessTokens>, secret: String, zone: UserZone },
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
        tokens: Arc<dyn AccessTokens>,
        secret: String,
        zone: UserZone,
    ) -> Self {
        Self { tools, caller: Caller::AccessToken { tokens, secret, zone } }
    }

    async fn tool_context(&self, context: &RequestContext<RoleServer>) -> Result<ToolContext, McpError> {
        match &self.caller {
            Caller::HttpRequest => context
                .extensions
                .get::<Parts>()
                .and_then(|parts| parts.extensions.get::<ToolContext>())
                .cloned()
                .ok_or_else(|| McpError::invalid_request("Not authenticated", None)),
            Caller::AccessToken { tokens, secret, zone } => {
                let token = authenticate_access_token(&**tokens, secret, crate::Clock::system().now())
                    .await
                    .map_err(|err| {
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

    /// rmcp hands over a request whose `params` do not fit its method (missing, not an
    /// object, no tool name) as a custom request; for a method this server serves that is
    /// invalid params (-32602), not an unknown method (-32601).
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        if SERVED_METHODS.contains(&request.method.as_str()) {
            let message = match &request.params {
                None => format!("{} needs params", request.method),
                Some(Value::Object(_)) => format!("The params do not fit {}", request.method),
                Some(_) => format!("The params of {} must be an object", request.method),
            };
            return Err(McpError::invalid_params(message, None));
        }
        Err(McpError::new(ErrorCode::METHOD_NOT_FOUND, request.method, None))
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

/// Refuses `/mcp` requests whose `Origin` is neither the server's own (the request's
/// `Host` or the advertise URL) nor in `TODOKIT_MCP_ALLOWED_ORIGINS` with 403, before
/// authentication (MCP Streamable HTTP: DNS-rebinding protection). Requests without an
/// `Origin` header (non-browser clients) pass.
pub async fn require_allowed_origin(
    State(allowed): State<Arc<AllowedOrigins>>,
    request: Request,
    next: Next,
) -> Response {
    if !mcp_origin_is_allowed(request.headers(), request.uri(), &allowed) {
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("");
        tracing::warn!(origin = %origin.chars().take(200).collect::<String>(), "refused an MCP request from a foreign origin");
        return AppError::Forbidden(
            "This Origin may not call the MCP endpoint (allow it with TODOKIT_MCP_ALLOWED_ORIGINS)".into(),
        )
        .into_response();
    }
    next.run(request).await
}

/// The origins `/mcp` accepts besides the request's own host.
pub fn allowed_origins(state: &AppState) -> AllowedOrigins {
    AllowedOrigins::new(&state.config.mcp_allowed_origins)
        .with_origin_of(state.config.advertise_url.as_deref())
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
    if parts.method != axum::http::Method::POST {
        return next.run(Request::from_parts(parts, body)).await;
    }
    // rmcp refuses a message whose `params` is not an object with a plain HTTP 400;
    // JSON-RPC wants an invalid-params error (-32602) for it.
    let Ok(bytes) = axum::body::to_bytes(body, state.config.max_body_bytes).await else {
        return AppError::PayloadTooLarge("The request body is too large".into()).into_response();
    };
    if let Some(reply) = serde_json::from_slice::<Value>(&bytes).ok().as_ref().and_then(invalid_params_reply)
    {
        return axum::Json(reply).into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// The JSON-RPC error reply for a request to a method this server serves whose `params`
/// are present but not an object (rmcp cannot parse such a message at all).
fn invalid_params_reply(message: &Value) -> Option<Value> {
    let method = message.get("method")?.as_str()?;
    let id = message.get("id")?;
    let params = message.get("params")?;
    if params.is_object() || !SERVED_METHODS.contains(&method) || !(id.is_string() || id.is_number()) {
        return None;
    }
    Some(json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": -32602, "message": format!("The params of {method} must be an object")},
    }))
}

/// Runs the MCP server on stdin/stdout until the client disconnects.
pub async fn serve_stdio(
    tokens: Arc<dyn AccessTokens>,
    tasks: crate::tasks::TaskService,
    secret: String,
    zone: UserZone,
) -> anyhow::Result<()> {
    use rmcp::ServiceExt;
    let token = authenticate_access_token(&*tokens, &secret, crate::Clock::system().now())
        .await?
        .ok_or_else(|| anyhow::anyhow!("the access token is invalid, expired or revoked"))?;
    tracing::info!(token = %token.prefix, "serving MCP on stdio");
    let server = McpServer::for_access_token(Arc::new(TaskTools::new(tasks)), tokens, secret, zone);
    // rmcp drops a line that is not JSON without a word; JSON-RPC wants a -32700 reply
    // (id null). So stdin goes through `filter_lines`, which answers such lines itself
    // and passes the rest on; both its replies and the server's go out through one
    // writer, a whole line at a time.
    let (to_server, server_in) = tokio::io::duplex(64 * 1024);
    let (server_out, from_server) = tokio::io::duplex(64 * 1024);
    let (lines, outgoing) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(write_lines(outgoing, tokio::io::stdout()));
    let forwarder = tokio::spawn(forward_lines(from_server, lines.clone()));
    let reader = tokio::spawn(filter_lines(tokio::io::stdin(), to_server, lines));
    let running = server.serve((server_in, server_out)).await?;
    running.waiting().await?;
    reader.abort();
    let _ = forwarder.await;
    let _ = writer.await;
    Ok(())
}

/// The longest line read from stdin (as rmcp's own limit).
const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Passes each stdin line that is JSON on to the server; answers any other
/// non-blank line with a JSON-RPC parse error (-32700, id null) and goes on.
async fn filter_lines(
    input: impl tokio::io::AsyncRead + Unpin,
    mut to_server: impl tokio::io::AsyncWrite + Unpin,
    replies: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let mut input = tokio::io::BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut input).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.len() > MAX_LINE_BYTES && !line.ends_with(b"\n") {
            if skip_line(&mut input).await.is_err() {
                break;
            }
            let _ = replies.send(parse_error("The message is too long"));
            continue;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let message = match serde_json::from_slice::<Value>(text) {
            Ok(message) => message,
            Err(err) => {
                tracing::debug!(error = %err, "answered an unparsable MCP message with a parse error");
                let _ = replies.send(parse_error(&format!("The message is not JSON: {err}")));
                continue;
            }
        };
        if let Some(reply) = invalid_params_reply(&message) {
            let mut line = serde_json::to_vec(&reply).unwrap_or_default();
            line.push(b'\n');
            let _ = replies.send(line);
            continue;
        }
        if to_server.write_all(text).await.is_err() || to_server.write_all(b"\n").await.is_err() {
            break;
        }
    }
    let _ = to_server.shutdown().await;
}

/// Reads up to and including the next newline, keeping nothing.
async fn skip_line(input: &mut (impl tokio::io::AsyncBufRead + Unpin)) -> std::io::Result<()> {
    use tokio::io::AsyncBufReadExt;
    loop {
        let buffer = input.fill_buf().await?;
        if buffer.is_empty() {
            return Ok(());
        }
        if let Some(end) = buffer.iter().position(|&b| b == b'\n') {
            input.consume(end + 1);
            return Ok(());
        }
        let len = buffer.len();
        input.consume(len);
    }
}

fn parse_error(message: &str) -> Vec<u8> {
    let mut line = serde_json::to_vec(&json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32700, "message": format!("Parse error: {message}")},
    }))
    .unwrap_or_default();
    line.push(b'\n');
    line
}

/// Passes the server's output on, one whole line at a time.
async fn forward_lines(
    from_server: impl tokio::io::AsyncRead + Unpin,
    lines: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
) {
    use tokio::io::AsyncBufReadExt;
    let mut from_server = tokio::io::BufReader::new(from_server);
    loop {
        let mut line = Vec::new();
        match from_server.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if lines.send(line).is_err() {
                    break;
                }
            }
        }
    }
}

async fn write_lines(
    mut lines: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
    mut output: impl tokio::io::AsyncWrite + Unpin,
) {
    use tokio::io::AsyncWriteExt;
    while let Some(line) = lines.recv().await {
        if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
            break;
        }
    }
}
