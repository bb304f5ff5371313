//! What both backends share: encodings of stored values, and SQL text that is the same on both
//! (SQLite accepts PostgreSQL's `$n` placeholders, and the schema keeps to types both
//! understand: UUID, BIGINT microseconds, TEXT JSON).

/// An access token's columns, as both backends read them.
pub(super) const ACCESS_TOKEN_COLUMNS: &str =
    "id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at";

/// A session's columns, as both backends read them.
pub(super) const SESSION_COLUMNS: &str =
    "id, user_id, created_at, last_seen_at, expires_at, user_agent, address";

/// Accounts' SQL, the same on both backends.
pub(super) mod accounts {
    use crate::persistence::StorageError;

    /// A user's columns, as both backends read them.
    pub(in crate::storage) const USER_COLUMNS: &str = "id, email, created_at, is_admin";

    /// A new account ($1 id, $2 email, $3 normalized email, $4 password hash, $5 now); the first
    /// one is the administrator. Returns `is_admin`.
    pub(in crate::storage) const CREATE_USER: &str = "INSERT INTO users \
         (id, email, email_normalized, password_hash, created_at, updated_at, is_admin) \
         SELECT $1, $2, $3, $4, $5, $5, NOT EXISTS (SELECT 1 FROM users) RETURNING is_admin";

    /// Uses up an invite ($1 now, $2 code hash, $3 the new account) if it is usable.
    pub(in crate::storage) const USE_INVITE: &str = "UPDATE invites SET used_at = $1, used_by = $3 \
         WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1";

    /// Removes an account ($1) and what is its own: the tables below have no foreign key to
    /// `users` (kept short-lived or written at a high rate), the rest goes with the account
    /// (`ON DELETE CASCADE`: tasks and their tags, deleted tasks, chat threads with their items,
    /// feedback and runs, access tokens, sessions, invites it made, calendar feeds). The last
    /// statement's row count says whether the account existed.
    pub(in crate::storage) const DELETE_USER_STATEMENTS: &[&str] = &[
        "DELETE FROM events WHERE user_id = $1",
        "DELETE FROM rate_counters WHERE user_id = $1",
        "DELETE FROM chat_runs WHERE user_id = $1",
        "DELETE FROM users WHERE id = $1",
    ];

    pub(in crate::storage) fn email_taken() -> StorageError {
        StorageError::Conflict("Email already registered".into())
    }
}

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
        pub fn new(thread: &'a ThreadMetadata, saved_at: jiff::Timestamp) -> Result<Self, StoreError> {
            Ok(Self {
                thread,
                status: to_json(&thread.status)?,
                image_domains: thread.allowed_image_domains.as_ref().map(to_json).transpose()?,
                metadata: to_json(&thread.metadata)?,
                saved_at: micros(saved_at),
            })
        }
    }

    pub(in crate::storage) fn claims_on_postgres_only() -> StoreError {
        store_error("reply claims are kept on PostgreSQL only")
    }
}

/// The task repository's encodings and SQL pieces.
pub(super) mod tasks {
    use anyhow::Context;
    use todokit_domain::{Priority, Recurrence};

    use crate::tasks::model::{SortKey, SortOrder};

    /// A task's columns, in the order every statement here names them.
    macro_rules! task_columns {
        () => {
            "id, number, title, description, priority, tags, due_at, time_zone, \
             reminder_offset_minutes, reminder_sent, recurrence, series_id, series_start_at, \
             occurrence_index, parent_task_id, completed, completed_at, created_at, updated_at"
        };
    }
    pub(in crate::storage) use task_columns;

    /// Lower-cased text that substring search runs over, kept in a column so the
    /// search is Unicode-aware on both backends.
    pub(in crate::storage) fn search_text(title: &str, description: Option<&str>) -> String {
        let mut text = title.to_lowercase();
        if let Some(description) = description {
            text.push('\n');
            text.push_str(&description.to_lowercase());
        }
        text
    }

    /// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
    pub(in crate::storage) fn like_pattern(needle: &str) -> String {
        let mut pattern = String::with_capacity(needle.len() + 2);
        pattern.push('%');
        for ch in needle.chars() {
            if matches!(ch, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(ch);
        }
        pattern.push('%');
        pattern
    }

    pub(in crate::storage) fn order_by(sort: SortKey, order: SortOrder) -> &'static str {
        use SortKey::*;
        use SortOrder::*;
        match (sort, order) {
            (Due, Asc) => " ORDER BY (due_at IS NULL), due_at ASC, number ASC",
            (Due, Desc) => " ORDER BY (due_at IS NULL), due_at DESC, number DESC",
            (Priority, Desc) => " ORDER BY priority_rank DESC, (due_at IS NULL), due_at ASC, number ASC",
            (Priority, Asc) => " ORDER BY priority_rank ASC, (due_at IS NULL), due_at ASC, number ASC",
            (Created, Asc) => " ORDER BY created_at ASC, number ASC",
            (Created, Desc) => " ORDER BY created_at DESC, number DESC",
            (Updated, Asc) => " ORDER BY updated_at ASC, number ASC",
            (Updated, Desc) => " ORDER BY updated_at DESC, number DESC",
            (Title, Asc) => " ORDER BY lower(title) ASC, number ASC",
            (Title, Desc) => " ORDER BY lower(title) DESC, number DESC",
        }
    }

    pub(in crate::storage) fn decode_priority(raw: &str) -> anyhow::Result<Priority> {
        Priority::parse(raw).map_err(|err| anyhow::anyhow!("stored priority {raw:?}: {err}"))
    }

    pub(in crate::storage) fn decode_tags(raw: &str) -> anyhow::Result<Vec<String>> {
        serde_json::from_str(raw).context("stored tags are not a JSON array")
    }

    pub(in crate::storage) fn decode_recurrence(raw: Option<String>) -> anyhow::Result<Option<Recurrence>> {
        raw.map(|raw| serde_json::from_str(&raw).context("stored recurrence is not valid")).transpose()
    }

    pub(in crate::storage) fn encode_recurrence(
        recurrence: Option<&Recurrence>,
    ) -> anyhow::Result<Option<String>> {
        recurrence.map(|r| serde_json::to_string(r).context("recurrence does not serialize")).transpose()
    }

    /// Tasks deleted by one statement of a bulk delete: well under either database's limit on
    /// bound values.
    pub(in crate::storage) const DELETED_PER_STATEMENT: usize = 500;

    /// A task's columns as both backends store them, encoded once; each statement binds them by
    /// name, in its own order.
    pub(in crate::storage) struct TaskRow<'a> {
        pub id: uuid::Uuid,
        pub title: &'a str,
        pub description: Option<&'a str>,
        pub priority: &'a str,
        pub tags: String,
        pub due_at: Option<i64>,
        pub time_zone: &'a str,
        pub reminder_offset_minutes: Option<i64>,
        pub reminder_sent: bool,
        pub recurrence: Option<String>,
        pub series_id: Option<uuid::Uuid>,
        pub series_start_at: Option<i64>,
        pub occurrence_index: i64,
        pub parent_task_id: Option<uuid::Uuid>,
        pub completed: bool,
        pub completed_at: Option<i64>,
        pub created_at: i64,
        pub updated_at: i64,
        pub priority_rank: i64,
        pub search_text: String,
    }

    impl<'a> TaskRow<'a> {
        pub fn encode(task: &'a crate::tasks::model::Task) -> anyhow::Result<Self> {
            use crate::storage::micros;
            Ok(Self {
                id: task.id,
                title: &task.title,
                description: task.description.as_deref(),
                priority: task.priority.as_str(),
                tags: serde_json::to_string(&task.tags).context("tags")?,
                due_at: task.due_at.map(micros),
                time_zone: &task.time_zone,
                reminder_offset_minutes: task.reminder_offset_minutes.map(i64::from),
                reminder_sent: task.reminder_sent,
                recurrence: encode_recurrence(task.recurrence.as_ref())?,
                series_id: task.series_id,
                series_start_at: task.series_start_at.map(micros),
                occurrence_index: i64::from(task.occurrence_index),
                parent_task_id: task.parent_task_id,
                completed: task.completed,
                completed_at: task.completed_at.map(micros),
                created_at: micros(task.created_at),
                updated_at: micros(task.updated_at),
                priority_rank: i64::from(task.priority.rank()),
                search_text: search_text(&task.title, task.description.as_deref()),
            })
        }
    }

    #[cfg(test)]
    pub(in crate::storage) mod tests {
        use todokit_domain::Priority;

        use crate::tasks::model::{SortKey, SortOrder, TaskFilter, TaskQuery};

        /// The list's usual first pages, in its default order (due time, tasks without one last):
        /// every status; pending or done; one status and priority.
        pub fn usual_first_pages() -> Vec<TaskQuery> {
            let page = |completed, priority| TaskQuery {
                filter: TaskFilter { completed, priority, ..TaskFilter::default() },
                sort: SortKey::Due,
                order: SortOrder::Asc,
                offset: 0,
                limit: 100,
            };
            vec![
                page(None, None),
                page(Some(false), None),
                page(Some(true), None),
                page(Some(false), Some(Priority::High)),
                page(Some(true), Some(Priority::Low)),
            ]
        }
    }
}
