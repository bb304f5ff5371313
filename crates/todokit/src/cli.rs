//! Subcommands besides `serve`. They open the database with the same
//! configuration as the server, so run them where the server runs.

use clap::{Parser, Subcommand};
use todokit::Config;
use todokit::auth::AccessToken;
use todokit::auth::Email;
use todokit::auth::access_token::create_access_token;
use todokit::storage::Repositories;
use todokit::tasks::{TaskService, UserZone};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(version, about = "todokit: a self-hosted task manager with an AI assistant.", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Serve the task tools over MCP on stdin/stdout, for desktop MCP clients.
    Mcp {
        /// A personal access token (`tdk_…`); create one with `todokit token create`.
        #[arg(long, env = "TODOKIT_TOKEN", hide_env_values = true)]
        token: String,
        /// IANA time zone for due dates; defaults to this machine's zone.
        #[arg(long, env = "TODOKIT_TIMEZONE")]
        timezone: Option<String>,
    },
    /// Manage personal access tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Inspect the assistant's task tools.
    Tools {
        #[command(subcommand)]
        action: ToolsAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print its secret (shown only this once).
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for, e.g. "Claude Desktop".
        #[arg(long)]
        name: String,
        /// Days until it expires; no expiry when left out.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List a user's tokens (never their secrets).
    List {
        #[arg(long)]
        email: String,
    },
    /// Revoke a token by id; it stops working at once.
    Revoke {
        #[arg(long)]
        email: String,
        id: Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub enum ToolsAction {
    /// Print the tool definitions (name, description, JSON Schema) as JSON.
    Schema,
}

pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => unreachable!("serve is handled by main"),
        Command::Tools { action: ToolsAction::Schema } => {
            println!("{}", serde_json::to_string_pretty(&todokit::tools::definitions())?);
            Ok(())
        }
        Command::Mcp { token, timezone } => {
            let repos = todokit::storage::connect(&config.database_url()).await?;
            let zone = match timezone {
                Some(name) => UserZone::parse(&name)?,
                None => system_zone(),
            };
            todokit::mcp::serve_stdio(repos.access_tokens, TaskService::new(repos.tasks), token, zone).await
        }
        Command::Token { action } => {
            let repos = todokit::storage::connect(&config.database_url()).await?;
            token_command(&repos, action).await
        }
    }
}

fn system_zone() -> UserZone {
    jiff::tz::TimeZone::system()
        .iana_name()
        .and_then(|name| UserZone::parse(name).ok())
        .unwrap_or_else(UserZone::utc)
}

async fn user_id(repos: &Repositories, email: &str) -> anyhow::Result<Uuid> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let user = repos
        .accounts
        .user_credentials(email.normalized())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account with the email {}", email.as_str()))?;
    Ok(user.user.id)
}

fn describe(token: &AccessToken) -> String {
    let state = if token.revoked_at.is_some() {
        "revoked".to_owned()
    } else if !token.is_active(jiff::Timestamp::now()) {
        "expired".to_owned()
    } else {
        "active".to_owned()
    };
    let expires = token.expires_at.map_or_else(|| "never".to_owned(), |t| t.to_string());
    let used = token.last_used_at.map_or_else(|| "never".to_owned(), |t| t.to_string());
    format!(
        "{}  {:<16}  {:<8}  {}  created {}  expires {}  last used {}",
        token.id, token.prefix, state, token.name, token.created_at, expires, used
    )
}

async fn token_command(repos: &Repositories, action: TokenAction) -> anyhow::Result<()> {
    match action {
        TokenAction::Create { email, name, expires_in_days } => {
            let user = user_id(repos, &email).await?;
            let (token, secret) = create_access_token(
                &*repos.access_tokens,
                user,
                &name,
                expires_in_days,
                todokit::Clock::system().now(),
            )
            .await?;
            eprintln!(
                "Created token {} ({}). Copy the secret now; it is not shown again:",
                token.id, token.name
            );
            println!("{secret}");
        }
        TokenAction::List { email } => {
            let user = user_id(repos, &email).await?;
            let tokens = repos.access_tokens.list_access_tokens(user).await?;
            if tokens.is_empty() {
                eprintln!("No access tokens.");
            }
            for token in tokens {
                println!("{}", describe(&token));
            }
        }
        TokenAction::Revoke { email, id } => {
            let user = user_id(repos, &email).await?;
            let token = repos
                .access_tokens
                .revoke_access_token(user, id, todokit::Clock::system().now())
                .await?
                .ok_or_else(|| anyhow::anyhow!("{email} has no access token {id}"))?;
            println!("Revoked {}", describe(&token));
        }
    }
    Ok(())
}
