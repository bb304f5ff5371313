//! One integration-test binary: every test starts the real server on port 0
//! and drives it over HTTP, against SQLite and against PostgreSQL.

mod helpers;

mod account;
mod assistant;
mod auth;
mod authz;
mod basics;
mod calendar_feed;
mod chat;
mod chat_input;
mod connections;
mod crash;
mod csrf;
mod data_files;
mod database_url;
mod drain;
mod export_import;
mod injection;
mod input_matrix;
mod isolation;
mod limits;
mod live;
mod logs;
mod mcp;
mod offline_assistant;
mod pg_restart;
mod provider_faults;
mod proxies;
mod replica_crash;
mod sessions;
mod signup;
mod tasks;
mod tokens;
mod tools;
mod user_cli;
mod web;
