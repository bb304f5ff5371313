//! Threads, pages and small shared enums.

use jiff::Timestamp;
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::items::ThreadItem;

/// What a store persists about a thread (everything but its items).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadMetadata {
    /// Title shown in the history; set by the application, never invented by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Thread id (`thr_…`).
    pub id: String,
    /// Creation time.
    #[serde(with = "crate::timestamp")]
    pub created_at: Timestamp,
    /// Lifecycle status.
    #[serde(default)]
    pub status: ThreadStatus,
    /// If set, the only image hosts the client renders in assistant messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_image_domains: Option<Vec<String>>,
    /// Server-only data. Never sent to clients.
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

impl ThreadMetadata {
    /// A new, untitled, active thread created now.
    pub fn new(id: impl Into<String>) -> Self {
        ThreadMetadata {
            title: None,
            id: id.into(),
            created_at: crate::timestamp::now(),
            status: ThreadStatus::Active,
            allowed_image_domains: None,
            metadata: Map::new(),
        }
    }
}

/// Thread lifecycle status, discriminated on `type`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ThreadStatus {
    /// Open for new messages.
    #[default]
    Active,
    /// Composer shown but disabled; `reason` is its placeholder.
    Locked {
        /// Why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Composer replaced by a banner showing `reason`.
    Closed {
        /// Why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// The wire form of a thread: metadata plus a page of items, with server metadata always
/// sent as `{}`. Build it with [`Thread::summary`] or [`Thread::with_items`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Thread id.
    pub id: String,
    /// Creation time.
    #[serde(with = "crate::timestamp")]
    pub created_at: Timestamp,
    /// Lifecycle status.
    #[serde(default)]
    pub status: ThreadStatus,
    /// Allowed image hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_image_domains: Option<Vec<String>>,
    #[serde(default)]
    metadata: EmptyObject,
    /// Items (hidden items removed). Empty except in `threads.get_by_id`.
    pub items: Page<ThreadItem>,
}

impl Thread {
    /// The wire thread with an empty items page, as used by `thread.created`,
    /// `thread.updated`, `threads.list` and `threads.update`.
    pub fn summary(thread: &ThreadMetadata) -> Self {
        Thread::with_items(thread, Page::default())
    }

    /// The wire thread with a page of items; hidden items are dropped.
    pub fn with_items(thread: &ThreadMetadata, mut items: Page<ThreadItem>) -> Self {
        items.data.retain(|item| !item.is_hidden());
        Thread {
            title: thread.title.clone(),
            id: thread.id.clone(),
            created_at: thread.created_at,
            status: thread.status.clone(),
            allowed_image_domains: thread.allowed_image_domains.clone(),
            metadata: EmptyObject,
            items,
        }
    }
}

/// Always `{}` on the wire; whatever a client sends is ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Map::<String, Value>::new().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for EmptyObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| EmptyObject)
    }
}

/// A page of results: `{"data", "has_more", "after"?}`.
///
/// `after` is the id of the last element when `has_more`; the next page starts strictly
/// after that element, in the same order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The elements.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Whether more elements follow.
    #[serde(default)]
    pub has_more: bool,
    /// Cursor for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            data: Vec::new(),
            has_more: false,
            after: None,
        }
    }
}

/// Sort order by creation time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Oldest first.
    Asc,
    /// Newest first (the default for `threads.list` and `items.list`).
    #[default]
    Desc,
}

/// Feedback sentiment for `items.feedback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// Thumbs up.
    Positive,
    /// Thumbs down.
    Negative,
}

/// A widget or client action: `{"type", "payload"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Application-defined action name.
    #[serde(rename = "type")]
    pub kind: String,
    /// Application-defined payload (`null` when absent).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub payload: Value,
}

/// Result of `threads.sync_custom_action`: `{"updated_item": …}` or `{}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncCustomActionResponse {
    /// The item to replace in the client, if any. Not persisted by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_item: Option<ThreadItem>,
}
