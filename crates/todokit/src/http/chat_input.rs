//! One rule for every string a ChatKit request carries, checked before anything reaches the
//! database (PostgreSQL refuses a NUL byte in text with an error, SQLite would store it):
//!
//! * no control characters, except newline, carriage return and tab in free text (messages,
//!   metadata, action payloads); none at all in ids and titles;
//! * ids (`thread_id`, `item_id`, `after`, `attachment_id`, `item_ids`) shaped as ids:
//!   1–[`MAX_ID_CHARS`] characters of `A-Z a-z 0-9 _ -`;
//! * a thread title at most [`TITLE_MAX_CHARS`] characters, like a task title;
//! * at most [`MAX_FEEDBACK_ITEMS`] items in one `items.feedback`.
//!
//! It walks the request's raw JSON rather than the parsed types, so a field added later is
//! covered too. serde_json has already refused invalid UTF-8 and unpaired surrogates.

use serde_json::Value;
pub use todokit_domain::task::TITLE_MAX_CHARS;

use crate::error::AppError;

/// Longest id accepted; every id todokit makes is far shorter (`thr_` + 32 hex digits).
pub const MAX_ID_CHARS: usize = 128;

/// Most items one `items.feedback` may rate (a reply is a handful of items).
pub const MAX_FEEDBACK_ITEMS: usize = 100;

/// Fields holding ids, as they are named in `params`.
const ID_FIELDS: [&str; 4] = ["thread_id", "item_id", "after", "attachment_id"];

/// Members the protocol defines as objects (`*`: every element or member). serde also reads a
/// struct from an array (`[a, b]` as its fields in order); the protocol does not, and neither
/// does the OpenAPI document, so an array there is refused.
const OBJECT_MEMBERS: [&[&str]; 7] = [
    &["params"],
    &["params", "input"],
    &["params", "input", "content", "*"],
    &["params", "input", "inference_options"],
    &["params", "input", "inference_options", "tool_choice"],
    &["params", "input", "answers", "*"],
    &["params", "action"],
];

fn arrays_at<'a>(value: &'a Value, path: &[&str], found: &mut Vec<&'a Value>) {
    let Some((first, rest)) = path.split_first() else {
        if value.is_array() {
            found.push(value);
        }
        return;
    };
    match (*first, value) {
        ("*", Value::Array(items)) => items.iter().for_each(|item| arrays_at(item, rest, found)),
        ("*", Value::Object(members)) => members.values().for_each(|member| arrays_at(member, rest, found)),
        (name, Value::Object(members)) => {
            if let Some(member) = members.get(name) {
                arrays_at(member, rest, found);
            }
        }
        _ => {}
    }
}

/// Checks a parsed ChatKit request body (`{type, params, metadata?}`).
pub fn check_request(request: &Value) -> Result<(), AppError> {
    for path in OBJECT_MEMBERS {
        let mut found = Vec::new();
        arrays_at(request, path, &mut found);
        if !found.is_empty() {
            let name = path.iter().filter(|part| **part != "*").copied().collect::<Vec<_>>().join(".");
            return Err(AppError::validation("params", format!("`{name}` must be an object, not an array")));
        }
    }
    if let Some(params) = request.get("params").and_then(Value::as_object) {
        for (key, value) in params {
            match (key.as_str(), value) {
                (field, Value::String(id)) if ID_FIELDS.contains(&field) => check_id(id, static_name(field))?,
                ("item_ids", Value::Array(ids)) => {
                    if ids.len() > MAX_FEEDBACK_ITEMS {
                        return Err(AppError::validation(
                            "item_ids",
                            format!("At most {MAX_FEEDBACK_ITEMS} items can be rated at once"),
                        ));
                    }
                    for id in ids.iter().filter_map(Value::as_str) {
                        check_id(id, "item_ids")?;
                    }
                }
                ("title", Value::String(title)) => check_title(title)?,
                _ => check_text(value)?,
            }
        }
    }
    check_text(request)
}

/// Checks a thread id taken from a path.
pub fn check_thread_id(id: &str) -> Result<(), AppError> {
    check_id(id, "thread_id")
}

fn static_name(field: &str) -> &'static str {
    ID_FIELDS.into_iter().find(|known| *known == field).unwrap_or("params")
}

fn check_id(id: &str, field: &'static str) -> Result<(), AppError> {
    let well_formed = (1..=MAX_ID_CHARS).contains(&id.len())
        && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    if well_formed {
        Ok(())
    } else {
        Err(AppError::validation(
            field,
            format!("`{field}` must be an id: 1–{MAX_ID_CHARS} letters, digits, `_` or `-`"),
        ))
    }
}

fn check_title(title: &str) -> Result<(), AppError> {
    let chars = title.chars().count();
    if chars > TITLE_MAX_CHARS {
        return Err(AppError::validation(
            "title",
            format!("Thread titles are limited to {TITLE_MAX_CHARS} characters (this one has {chars})"),
        ));
    }
    if title.chars().any(char::is_control) {
        return Err(AppError::validation("title", "Thread titles cannot contain control characters"));
    }
    Ok(())
}

/// Every string in `value`, keys included: no control characters but newline, CR and tab.
fn check_text(value: &Value) -> Result<(), AppError> {
    let allowed = |text: &str| !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    let fine = match value {
        Value::String(text) => allowed(text),
        Value::Array(values) => return values.iter().try_for_each(check_text),
        Value::Object(fields) => {
            for (key, value) in fields {
                if !allowed(key) {
                    return Err(control_characters());
                }
                check_text(value)?;
            }
            true
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    };
    if fine { Ok(()) } else { Err(control_characters()) }
}

fn control_characters() -> AppError {
    AppError::validation(
        "params",
        "Text cannot contain NUL or other control characters (newlines and tabs are fine)",
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(request: Value) -> bool {
        check_request(&request).is_err()
    }

    #[test]
    fn ids_titles_and_text_follow_one_rule() {
        let message = |text: &str| json!({"type": "threads.add_user_message", "params": {"thread_id": "thr_1", "input": {"content": [{"type": "input_text", "text": text}]}}});
        assert!(!refused(message("two\nlines\tand a tab\r\n")));
        assert!(refused(message("nul \u{0} inside")));
        assert!(refused(message("escape \u{1b}[31m")));
        assert!(refused(message("next line \u{85}")));

        let get = |id: &str| json!({"type": "threads.get_by_id", "params": {"thread_id": id}});
        assert!(!refused(get("thr_0190b8e2c3a87c4e9d1f5a6b7c8d9e0f")));
        for id in ["", "thr 1", "thr_\u{0}", "thr_1\n", "../etc", &"a".repeat(MAX_ID_CHARS + 1)] {
            assert!(refused(get(id)), "{id:?}");
        }

        let rename =
            |title: &str| json!({"type": "threads.update", "params": {"thread_id": "thr_1", "title": title}});
        assert!(!refused(rename(&"é".repeat(TITLE_MAX_CHARS))));
        assert!(refused(rename(&"é".repeat(TITLE_MAX_CHARS + 1))));
        assert!(refused(rename("two\nlines")));

        let rate = |count: usize| {
            let ids: Vec<String> = (0..count).map(|n| format!("msg_{n}")).collect();
            json!({"type": "items.feedback", "params": {"thread_id": "thr_1", "item_ids": ids, "kind": "positive"}})
        };
        assert!(!refused(rate(MAX_FEEDBACK_ITEMS)));
        assert!(refused(rate(MAX_FEEDBACK_ITEMS + 1)));
        assert!(refused(
            json!({"type": "items.feedback", "params": {"thread_id": "thr_1", "item_ids": ["msg\u{0}"], "kind": "positive"}})
        ));

        assert!(refused(json!({"type": "threads.list", "params": {"after": "thr\u{0}"}})));
        // Objects are objects: serde would read a struct from an array of its fields.
        let create = |input: Value| json!({"type": "threads.create", "params": {"input": input}});
        assert!(!refused(create(json!({"content": [], "inference_options": {}}))));
        assert!(refused(create(json!({"content": [], "inference_options": [null, null]}))));
        assert!(refused(create(json!([[]]))));
        assert!(refused(create(json!({"content": [["input_text", "hi"]]}))));
        assert!(refused(json!({"type": "threads.get_by_id", "params": ["thr_1"]})));
        assert!(refused(json!({"type": "threads.list", "params": {}, "metadata": {"k\u{0}": 1}})));
    }
}
