//! todokit: a self-hosted task manager with an AI assistant.
//!
//! Dependencies point one way: [`http`] → services ([`tasks`], [`chat`], [`events`], [`auth`],
//! [`account_data`]) → the repository traits those services own ← [`storage`], which implements
//! them.
//!
//! - [`app`]: wiring (the shared state, built from [`storage::connect`]) and the
//!   `serve(listener, state, shutdown)` entry point; [`config`]: flags and environment
//! - [`http`]: routes, extractors, middleware and the OpenAPI document; [`error`]: the one error
//!   type clients see
//! - [`tasks`]: the task service, its model and `TaskRepository`
//! - [`chat`]: the ChatKit server wired to the store (`ChatStore`), reply runs, their claims and
//!   checkpoints (`RunClaims`, `ReplyCheckpoints`), rate limits (`RateCounters`)
//! - [`assistant`]: who answers in the chat: the LLM agent or the offline interpreter
//! - [`tools`]: the seven task tools; [`mcp`]: the MCP server over them
//! - [`events`]: live change events, their log (`EventLog`) and fan-out
//! - [`auth`]: passwords, sessions and access tokens, sign-in throttling, who may sign up
//!   (`Accounts`, `Sessions`, `AccessTokens`, `Invites`)
//! - [`background`]: reminders and pruning, once per interval
//! - [`clock`]: where the server reads the time (`Clock`, in the application state)
//! - [`persistence`]: what every repository speaks (the storage error, the backend, health)
//! - [`account_data`]: export, import and the calendar feed (`AccountData`, `CalendarFeeds`)
//! - [`storage`]: the SQLite and PostgreSQL implementations of the repositories

pub mod account_data;
pub mod app;
pub mod assistant;
pub mod auth;
pub mod background;
pub mod chat;
pub mod clock;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod mcp;
pub mod persistence;
pub mod storage;
pub mod tasks;
pub mod tools;

pub use app::{AppState, app, serve};
pub use clock::Clock;
pub use config::Config;
