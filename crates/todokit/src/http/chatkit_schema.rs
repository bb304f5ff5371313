//! The OpenAPI description of a `POST /api/chatkit` body: one schema per request type this
//! server answers (`{type, params, metadata?}`, `params` as the protocol defines it for `type`),
//! with the input rule of [`super::chat_input`] written into it (ids shaped as ids, no control
//! characters but newline, CR and tab in free text, none in titles, at most 100 rated items).
//!
//! The types the server always refuses (`attachments.create`, `attachments.delete`,
//! `input.transcribe`: uploads and dictation are not enabled) are left out, and so are
//! attachments in a message: the document lists what is accepted. One limit spans several
//! fields, which JSON Schema cannot state: a message holds at most 10,000 characters in all its
//! parts together. It is in the description; a longer message is a 422.

use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema};

use super::chat_input::{MAX_FEEDBACK_ITEMS, MAX_ID_CHARS};

/// Free text: anything but control characters other than tab, newline and carriage return.
const TEXT_PATTERN: &str = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$";

/// A thread title: 1–255 characters, none of them a control character, not only white space.
const THREAD_TITLE_PATTERN: &str = concat!(
    r"^[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"[^\u0000-\u001f\u007f-\u009f]{0,254}$"
);

/// A schema written out as JSON (utoipa's builders have no words for `const`, `$defs` or
/// recursive `anyOf`): every key is carried as is.
fn raw(schema: Value) -> Schema {
    let mut object = ObjectBuilder::new().build();
    let extensions = object.extensions.get_or_insert_with(Default::default);
    if let Value::Object(fields) = schema {
        for (key, value) in fields {
            extensions.insert(key, value);
        }
    }
    Schema::Object(object)
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn id(description: &str) -> Value {
    json!({"type": "string", "pattern": format!("^[A-Za-z0-9_-]{{1,{MAX_ID_CHARS}}}$"), "description": description})
}

fn nullable_id(description: &str) -> Value {
    let mut schema = id(description);
    schema["type"] = json!(["string", "null"]);
    schema
}

fn text(description: &str) -> Value {
    json!({"type": "string", "pattern": TEXT_PATTERN, "description": description})
}

/// Any JSON value whose strings, object keys included, are free text. Written without `anyOf`:
/// `pattern` only applies to strings, `propertyNames` and `additionalProperties` only to
/// objects, `items` only to arrays, so every other value is accepted as it is. (Every type is
/// listed all the same, so that no tool reads `pattern` as meaning a string.)
fn json_value() -> Value {
    json!({
        "description": "Any JSON; its strings (object keys too) hold no control characters but tab, newline and carriage return.",
        "type": ["string", "number", "integer", "boolean", "null", "array", "object"],
        "pattern": TEXT_PATTERN,
        "propertyNames": {"pattern": TEXT_PATTERN},
        "additionalProperties": reference("ChatKitJson"),
        "items": reference("ChatKitJson"),
    })
}

/// An object with the given properties whose other members are free JSON, as serde reads it
/// (unknown fields are ignored, but their text is checked like any other).
fn object(required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "required": required,
        "properties": properties,
        "propertyNames": {"pattern": TEXT_PATTERN},
        "additionalProperties": reference("ChatKitJson"),
    })
}

fn page_params() -> Value {
    json!({
        "limit": {"type": ["integer", "null"], "minimum": 0, "maximum": 4_294_967_295_u32,
                  "description": "Page size: absent, null or 0 for 20; larger than 100 reads as 100."},
        "order": {"type": "string", "enum": ["asc", "desc"], "description": "Newest first (desc) unless asc."},
    })
}

fn user_message_input() -> Value {
    let text_part =
        object(&["type", "text"], json!({"type": {"const": "input_text"}, "text": text("The text.")}));
    let tag_part = object(
        &["type", "id", "text", "data"],
        json!({
            "type": {"const": "input_tag"},
            "id": text("Entity id."),
            "text": text("Display text."),
            "data": object(&[], json!({})),
            "group": {"type": ["string", "null"], "pattern": TEXT_PATTERN},
            "interactive": {"type": "boolean"},
        }),
    );
    let tool_choice = {
        let mut schema = object(&["id"], json!({"id": text("Tool id.")}));
        schema["type"] = json!(["object", "null"]);
        schema
    };
    let mut input = object(
        &["content"],
        json!({
            "content": {"type": "array", "items": {"oneOf": [text_part, tag_part]}},
            "attachments": {"type": "array", "maxItems": 0, "description": "Uploads are not enabled: empty."},
            "quoted_text": {"type": ["string", "null"], "pattern": TEXT_PATTERN},
            "inference_options": object(&[], json!({
                "tool_choice": tool_choice,
                "model": {"type": ["string", "null"], "pattern": TEXT_PATTERN},
            })),
        }),
    );
    input["description"] =
        json!("The message. Its text parts together hold at most 10,000 characters (more is a 422).");
    input
}

fn action() -> Value {
    object(&["type"], json!({"type": text("The action's name."), "payload": reference("ChatKitJson")}))
}

/// The request types this server answers, each with its params: (type, description,
/// required params, params).
fn request_types() -> Vec<(&'static str, &'static str, Vec<&'static str>, Value)> {
    let thread = || id("The thread.");
    let item = || id("The item.");
    let mut list = page_params();
    list["after"] = nullable_id("Cursor: the last thread of the previous page.");
    let mut items = page_params();
    items["thread_id"] = thread();
    items["after"] = nullable_id("Cursor: the last item of the previous page.");
    let answer = object(
        &[],
        json!({"values": {"type": "array", "items": text("A value.")}, "skipped": {"type": "boolean"}}),
    );
    let mut answers = object(&[], json!({}));
    answers["additionalProperties"] = answer;
    let submission = object(
        &[],
        json!({"status": {"type": "string", "enum": ["answered", "skipped"]}, "answers": answers}),
    );
    let title = json!({"type": "string", "pattern": THREAD_TITLE_PATTERN,
                       "description": "1–255 characters, no control characters, not only white space."});
    let rated = json!({"type": "array", "maxItems": MAX_FEEDBACK_ITEMS, "items": item()});
    let sender = || nullable_id("The widget that sent it.");
    vec![
        (
            "threads.create",
            "Starts a thread with a first message (streamed reply).",
            vec!["input"],
            json!({"input": user_message_input()}),
        ),
        (
            "threads.add_user_message",
            "Adds a message to a thread (streamed reply).",
            vec!["thread_id", "input"],
            json!({"thread_id": thread(), "input": user_message_input()}),
        ),
        (
            "threads.add_client_tool_output",
            "Answers the thread's pending client tool call (streamed reply).",
            vec!["thread_id", "result"],
            json!({"thread_id": thread(), "result": reference("ChatKitJson")}),
        ),
        (
            "threads.add_structured_input",
            "Answers a pending structured input item (streamed reply).",
            vec!["thread_id", "item_id", "input"],
            json!({"thread_id": thread(), "item_id": item(), "input": submission}),
        ),
        (
            "threads.retry_after_item",
            "Answers a user message again, deleting what came after it (streamed reply).",
            vec!["thread_id", "item_id"],
            json!({"thread_id": thread(), "item_id": item()}),
        ),
        (
            "threads.custom_action",
            "A widget or client action (streamed reply).",
            vec!["thread_id", "action"],
            json!({"thread_id": thread(), "item_id": sender(), "action": action()}),
        ),
        (
            "threads.get_by_id",
            "A thread with its first page of items.",
            vec!["thread_id"],
            json!({"thread_id": thread()}),
        ),
        ("threads.list", "The user's threads, a page at a time.", vec![], list),
        (
            "threads.update",
            "Renames a thread.",
            vec!["thread_id", "title"],
            json!({"thread_id": thread(), "title": title}),
        ),
        ("threads.delete", "Deletes a thread.", vec!["thread_id"], json!({"thread_id": thread()})),
        (
            "threads.sync_custom_action",
            "A widget or client action answered at once (JSON).",
            vec!["thread_id", "action"],
            json!({"thread_id": thread(), "item_id": sender(), "action": action()}),
        ),
        ("items.list", "A thread's items, a page at a time.", vec!["thread_id"], items),
        (
            "items.feedback",
            "Rates items of a thread.",
            vec!["thread_id", "item_ids", "kind"],
            json!({"thread_id": thread(), "item_ids": rated, "kind": {"type": "string", "enum": ["positive", "negative"]}}),
        ),
    ]
}

/// The body of `POST /api/chatkit`: one of the request types, told apart by `type`.
pub struct ChatKitRequest;

impl utoipa::PartialSchema for ChatKitRequest {
    fn schema() -> RefOr<Schema> {
        let variants: Vec<Value> = request_types()
            .into_iter()
            .map(|(kind, description, required, params)| {
                let mut metadata = object(&[], json!({}));
                metadata["type"] = json!(["object", "null"]);
                metadata["description"] = json!("Client metadata; unused by the server.");
                let mut variant = object(
                    &["type", "params"],
                    json!({"type": {"const": kind}, "params": object(&required, params), "metadata": metadata}),
                );
                variant["title"] = json!(kind);
                variant["description"] = json!(description);
                variant
            })
            .collect();
        RefOr::T(raw(json!({
            "description": "A ChatKit request: `{type, params, metadata?}`, `params` as the protocol defines it for `type`.",
            "oneOf": variants,
        })))
    }
}

impl utoipa::ToSchema for ChatKitRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("ChatKitJson".to_owned(), RefOr::T(raw(json_value()))));
    }
}
