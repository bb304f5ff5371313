//! Tool-argument decoding: whatever a model sends as a tool call's arguments decodes into the
//! tool's argument type or gives an error message, never a panic.
//!
//! `args.rs` is compiled in from the server crate's source rather than depending on `todokit`:
//! that crate pulls in the whole server (SQL drivers, TLS, MCP), whose instrumented build
//! would take longer than the fuzzing itself.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/todokit/src/tools/args.rs"]
mod args;

use args::{
    CompleteAllTasksArgs, CompleteTaskArgs, CreateTaskArgs, DeleteAllTasksArgs, ListTasksArgs, TaskIdArgs,
    UpdateTaskArgs, decode_arguments,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn decode_as_every_tool(arguments: &Value) {
    let _ = decode_arguments::<CreateTaskArgs>("create_task", arguments.clone());
    let _ = decode_arguments::<ListTasksArgs>("list_tasks", arguments.clone());
    let _ = decode_arguments::<UpdateTaskArgs>("update_task", arguments.clone());
    let _ = decode_arguments::<TaskIdArgs>("delete_task", arguments.clone());
    let _ = decode_arguments::<CompleteTaskArgs>("complete_task", arguments.clone());
    let _ = decode_arguments::<CompleteAllTasksArgs>("complete_all_tasks", arguments.clone());
    let _ = decode_arguments::<DeleteAllTasksArgs>("delete_all_tasks", arguments.clone());
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // As a model sends it: a JSON value, or arguments double-encoded as a JSON string.
    if let Ok(arguments) = serde_json::from_str::<Value>(text) {
        decode_as_every_tool(&arguments);
    }
    decode_as_every_tool(&Value::String(text.to_owned()));
});
