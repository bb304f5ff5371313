//! Subcommands besides `serve`. They open the database with the same
//! configuration as the server, so run them where the server runs.

use std::io::IsTerminal;

use anyhow::Context;
use clap::{Parser, Subcommand};
use todokit::Config;
use todokit::auth::AccessToken;
use todokit::auth::access_token::create_access_token;
use todokit::auth::invite::create_invite;
use todokit::auth::{Email, Password, PasswordHasher, UserSummary};
use todokit::persistence::StorageError;
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
    /// Manage accounts (as the operator).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage invite codes for `--signup invite`.
    Invite {
        #[command(subcommand)]
        action: InviteAction,
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
pub enum UserAction {
    /// Create an account (whatever `--signup` says). The first account is the administrator.
    Add {
        #[arg(long)]
        email: String,
        /// The password; asked for when left out (read as one line when stdin is not a
        /// terminal). Beware that a password on the command line shows in `ps` and shell history.
        #[arg(long)]
        password: Option<String>,
    },
    /// List accounts: email, created, administrator, number of tasks.
    List,
    /// Delete an account and everything that is its own, for good.
    Remove {
        #[arg(long)]
        email: String,
    },
    /// Set a new password for an account and end all its sessions (access tokens keep working).
    ResetPassword {
        #[arg(long)]
        email: String,
        /// The new password; asked for when left out, as for `user add`.
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum InviteAction {
    /// Create a one-time invite code, valid for 7 days, and print it.
    Create,
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
        Command::User { action } => {
            let repos = connect(&config).await?;
            user_command(&repos, action).await
        }
        Command::Invite { action: InviteAction::Create } => {
            let repos = connect(&config).await?;
            let (code, expires_at) =
                create_invite(&*repos.invites, None, todokit::Clock::system().now()).await?;
            eprintln!("Invite code, valid once until {expires_at}:");
            println!("{code}");
            Ok(())
        }
    }
}

/// Opens the database `serve` would (creating the data directory for a new SQLite one).
async fn connect(config: &Config) -> anyhow::Result<Repositories> {
    todokit::config::create_data_dir(&config.data_dir)
        .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
    todokit::storage::connect(&config.database_url()).await
}

/// The password given, else one asked for: without echo on a terminal (twice, to catch a
/// typo), else one line of stdin.
fn new_password(given: Option<String>) -> anyhow::Result<Password> {
    let raw = match given {
        Some(password) => password,
        None if std::io::stdin().is_terminal() => {
            let first = prompt_hidden("New password: ")?;
            let again = prompt_hidden("Again: ")?;
            anyhow::ensure!(first == again, "the passwords differ");
            first
        }
        None => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("cannot read the password from stdin")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    Password::parse(raw).map_err(anyhow::Error::msg)
}

/// Asks on the terminal, which does not echo what is typed.
fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    // rpassword shows the prompt and only then turns echo off, so an answer typed the moment
    // the prompt shows could be echoed (a terminal test caught it under load). Echo goes off
    // before the prompt, as sudo does.
    #[cfg(unix)]
    let _echo_off = EchoOff::on_terminal();
    match rpassword::prompt_password(prompt) {
        Err(error) if error.kind() == std::io::ErrorKind::Interrupted => anyhow::bail!("interrupted"),
        read => read.context("cannot read the password from the terminal"),
    }
}

/// The terminal in the mode rpassword reads in (no echo, keys one by one, Ctrl-C a key),
/// until dropped: whatever is typed once the prompt shows, Ctrl-C included, is rpassword's.
///
/// rpassword answers Ctrl-C by restoring the mode it found (this one, silent) and raising
/// SIGINT; that would end the process with the terminal still silent. So SIGINT is caught
/// (tokio keeps catching it for the rest of this short command), rpassword returns
/// `Interrupted`, and dropping this guard brings echo back.
#[cfg(unix)]
struct EchoOff {
    terminal: std::fs::File,
    original: rustix::termios::Termios,
    _interrupt: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl EchoOff {
    /// `None` when there is no terminal to silence; rpassword then says why it cannot read.
    fn on_terminal() -> Option<Self> {
        use rustix::termios::{LocalModes, OptionalActions, SpecialCodeIndex, tcgetattr, tcsetattr};
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok()?;
        let terminal = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").ok()?;
        let original = tcgetattr(&terminal).ok()?;
        let mut silent = original.clone();
        silent
            .local_modes
            .remove(LocalModes::ECHO | LocalModes::ECHONL | LocalModes::ICANON | LocalModes::ISIG);
        silent.special_codes[SpecialCodeIndex::VMIN] = 1;
        silent.special_codes[SpecialCodeIndex::VTIME] = 0;
        tcsetattr(&terminal, OptionalActions::Now, &silent).ok()?;
        Some(Self { terminal, original, _interrupt: interrupt })
    }
}

#[cfg(unix)]
impl Drop for EchoOff {
    fn drop(&mut self) {
        let restored =
            rustix::termios::tcsetattr(&self.terminal, rustix::termios::OptionalActions::Now, &self.original);
        if restored.is_err() {
            eprintln!("todokit: could not turn the terminal's echo back on (`stty echo` does)");
        }
    }
}

async fn user_command(repos: &Repositories, action: UserAction) -> anyhow::Result<()> {
    let now = todokit::Clock::system().now();
    match action {
        UserAction::Add { email, password } => {
            let email = Email::parse(&email).map_err(anyhow::Error::msg)?;
            let password = new_password(password)?;
            let hash = PasswordHasher::new(1).hash(password).await?;
            let user = match repos.accounts.create_user(email.as_str(), email.normalized(), &hash, now).await
            {
                Err(StorageError::Conflict(_)) => {
                    anyhow::bail!("an account with the email {} exists already", email.as_str())
                }
                other => other?,
            };
            let admin = if user.is_admin { " (the administrator)" } else { "" };
            println!("Created {}{admin}", user.email);
        }
        UserAction::List => {
            let users = repos.accounts.list_users().await?;
            if users.is_empty() {
                eprintln!("No accounts.");
                return Ok(());
            }
            println!("{:<40}  {:<27}  {:<5}  TASKS", "EMAIL", "CREATED", "ADMIN");
            for UserSummary { user, tasks } in users {
                let admin = if user.is_admin { "yes" } else { "no" };
                let created = user.created_at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
                println!("{:<40}  {created:<27}  {admin:<5}  {tasks}", user.email);
            }
        }
        UserAction::Remove { email } => {
            let user = user_id(repos, &email).await?;
            repos.accounts.delete_user(user).await?;
            println!("Removed {email} and everything that was theirs");
        }
        UserAction::ResetPassword { email, password } => {
            let user = user_id(repos, &email).await?;
            let password = new_password(password)?;
            let hash = PasswordHasher::new(1).hash(password).await?;
            repos.accounts.change_password(user, &hash, None, now).await?;
            println!("Set a new password for {email}; all of its sessions are ended");
        }
    }
    Ok(())
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
