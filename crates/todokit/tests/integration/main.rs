//! One integration-test binary: every test starts the real server on port 0
//! and drives it over HTTP, against SQLite and against PostgreSQL.

mod helpers;

mod auth;
mod basics;
mod chat;
mod isolation;
mod live;
mod mcp;
mod offline_assistant;
mod tasks;
mod tokens;
mod tools;
mod web;
