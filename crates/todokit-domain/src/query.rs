//! The words for picking and ordering tasks, shared by the REST API, the assistant's tools (and
//! MCP) and the natural-language interpreter: a completion status, a due window, a sort key and
//! an order. Their serde names are the wire names everywhere.
//!
//! Schema notes: the OpenAPI document (utoipa) and the tools' JSON Schemas (schemars) are both
//! generated from these types. The values are explained in `//` comments rather than doc
//! comments: a variant doc would make schemars describe the enum as a `oneOf` of `const`s, which
//! models handle worse than a plain `enum` (and Gemini's schema dialect has no `const`), and a
//! type doc becomes the schema's description in the OpenAPI document. The fields and query
//! parameters that use them describe the values instead.

use serde::{Deserialize, Serialize};

// Completion state to filter on. `StatusFilter`, `SortKey` and `SortOrder` carry no doc
// comment: it would become their schemas' description (see the module notes).
#[allow(missing_docs)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, utoipa::ToSchema, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    // Every task.
    #[default]
    All,
    // Not completed.
    Pending,
    // Completed.
    Completed,
    // Pending and due before now.
    Overdue,
}

/// Due-date windows, evaluated in the caller's time zone.
#[allow(missing_docs)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DueWindow {
    // Pending and due before now.
    Overdue,
    // From the start of today until the start of tomorrow.
    Today,
    // From the start of today until the end of the seventh day.
    Week,
    // This calendar month.
    Month,
}

// How a list is ordered.
#[allow(missing_docs)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, utoipa::ToSchema, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    // Due date, soonest first, tasks without one last.
    #[default]
    Due,
    // High priority first.
    Priority,
    // Newest first.
    Created,
    // Most recently changed first.
    Updated,
    // Alphabetical.
    Title,
}

// Ascending or descending.
#[allow(missing_docs)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortKey {
    /// The order that reads naturally for each key: soonest due and A to Z first, highest
    /// priority and newest first.
    pub fn natural_order(self) -> SortOrder {
        match self {
            Self::Due | Self::Title => SortOrder::Asc,
            Self::Priority | Self::Created | Self::Updated => SortOrder::Desc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_the_lowercase_variant_names() {
        let cases: [(serde_json::Value, &str); 15] = [
            (serde_json::to_value(StatusFilter::All).unwrap(), "all"),
            (serde_json::to_value(StatusFilter::Pending).unwrap(), "pending"),
            (serde_json::to_value(StatusFilter::Completed).unwrap(), "completed"),
            (serde_json::to_value(StatusFilter::Overdue).unwrap(), "overdue"),
            (serde_json::to_value(DueWindow::Overdue).unwrap(), "overdue"),
            (serde_json::to_value(DueWindow::Today).unwrap(), "today"),
            (serde_json::to_value(DueWindow::Week).unwrap(), "week"),
            (serde_json::to_value(DueWindow::Month).unwrap(), "month"),
            (serde_json::to_value(SortKey::Due).unwrap(), "due"),
            (serde_json::to_value(SortKey::Priority).unwrap(), "priority"),
            (serde_json::to_value(SortKey::Created).unwrap(), "created"),
            (serde_json::to_value(SortKey::Updated).unwrap(), "updated"),
            (serde_json::to_value(SortKey::Title).unwrap(), "title"),
            (serde_json::to_value(SortOrder::Asc).unwrap(), "asc"),
            (serde_json::to_value(SortOrder::Desc).unwrap(), "desc"),
        ];
        for (value, name) in cases {
            assert_eq!(value, name);
        }
        for (name, status) in [
            ("all", StatusFilter::All),
            ("pending", StatusFilter::Pending),
            ("completed", StatusFilter::Completed),
            ("overdue", StatusFilter::Overdue),
        ] {
            assert_eq!(serde_json::from_value::<StatusFilter>(name.into()).unwrap(), status);
        }
        assert_eq!(StatusFilter::default(), StatusFilter::All);
        assert_eq!(SortKey::default(), SortKey::Due);
    }

    #[test]
    fn each_sort_key_has_its_natural_order() {
        let cases = [
            (SortKey::Due, SortOrder::Asc),
            (SortKey::Title, SortOrder::Asc),
            (SortKey::Priority, SortOrder::Desc),
            (SortKey::Created, SortOrder::Desc),
            (SortKey::Updated, SortOrder::Desc),
        ];
        for (key, order) in cases {
            assert_eq!(key.natural_order(), order, "{key:?}");
        }
    }

    #[test]
    fn the_tool_schemas_are_plain_enums() {
        // What models are offered: `{"type": "string", "enum": [...]}`, no `oneOf`.
        let schema = serde_json::to_value(schemars::schema_for!(SortKey)).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(["due", "priority", "created", "updated", "title"]));
        assert!(schema.get("oneOf").is_none(), "{schema}");
    }
}
