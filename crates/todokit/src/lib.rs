//! todokit: a self-hosted task manager with an AI assistant.
//!
//! - [`tasks`]: the task service and model (used by REST, the assistant and MCP)
//! - [`storage`]: the storage trait with SQLite and PostgreSQL implementations
//! - [`auth`]: passwords, session tokens, sign-in throttling
//! - [`http`]: routes, extractors and the OpenAPI document
//! - [`tools`]: the seven task tools; [`mcp`]: the MCP server over them
//! - [`app`]: wiring and the `serve(listener, shutdown)` entry point

pub mod app;
pub mod assistant;
pub mod auth;
pub mod background;
pub mod chat;
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
pub use config::Config;
