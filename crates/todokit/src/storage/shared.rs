//! What both backends share: encodings of stored values, and SQL text that is the same on both
//! (SQLite accepts PostgreSQL's `$n` placeholders, and the schema keeps to types both
//! understand: UUID, BIGINT microseconds, TEXT JSON).

/// An access token's columns, as both backends read them.
pub(super) const ACCESS_TOKEN_COLUMNS: &str =
    "id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at";

/// The ChatKit store's encodings.
pub(super) mod chat {
    use chatkit::{FeedbackKind, Page, SortOrder, StoreError, ThreadMetadata};

    use crate::storage::micros;

    pub(in crate::storage) fn store_error(err: impl Into<chatkit::BoxError>) -> StoreError {
        StoreError::other(err)
    }

    pub(in crate::storage) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
        serde_json::to_string(value).map_err(store_error)
    }

    pub(in crate::storage) fn from_json<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, StoreError> {
        serde_json::from_str(raw).map_err(store_error)
    }

    /// `>` walks forward in ascending order, `<` in descending order.
    pub(in crate::storage) fn cursor_op(order: SortOrder) -> (&'static str, &'static str) {
        match order {
            SortOrder::Asc => (">", "ASC"),
            SortOrder::Desc => ("<", "DESC"),
        }
    }

    /// Trims the extra row fetched to learn whether more follow, and sets the cursor.
    pub(in crate::storage) fn into_page<T>(mut rows: Vec<(String, T)>, limit: usize) -> Page<T> {
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let after = if has_more { rows.last().map(|(id, _)| id.clone()) } else { None };
        Page { data: rows.into_iter().map(|(_, value)| value).collect(), has_more, after }
    }

    pub(in crate::storage) fn feedback_name(kind: FeedbackKind) -> &'static str {
        match kind {
            FeedbackKind::Positive => "positive",
            FeedbackKind::Negative => "negative",
        }
    }

    /// A new thread; an id that exists already inserts nothing.
    pub(in crate::storage) const INSERT_THREAD: &str = "INSERT INTO chat_threads (id, user_id, title, status, allowed_image_domains, metadata, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id";

    /// A thread's columns, encoded once for an insert or an update.
    pub(in crate::storage) struct ThreadRow<'a> {
        pub thread: &'a ThreadMetadata,
        pub status: String,
        pub image_domains: Option<String>,
        pub metadata: String,
        pub saved_at: i64,
    }

    impl<'a> ThreadRow<'a> {
        pub fn new(thread: &'a ThreadMetadata) -> Result<Self, StoreError> {
            Ok(Self {
                thread,
                status: to_json(&thread.status)?,
                image_domains: thread.allowed_image_domains.as_ref().map(to_json).transpose()?,
                metadata: to_json(&thread.metadata)?,
                saved_at: micros(crate::storage::now()),
            })
        }
    }

    pub(in crate::storage) fn claims_on_postgres_only() -> StoreError {
        store_error("reply claims are kept on PostgreSQL only")
    }
}
