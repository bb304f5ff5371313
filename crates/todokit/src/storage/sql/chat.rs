//! ChatKit threads and items (`chat::ChatStore`) on both backends. Every statement is scoped by the
//! owning user, so another user's thread behaves exactly like a missing one. Ordering is
//! `(timestamp, seq)`: `seq` is a monotonically increasing tie-break for equal timestamps.

use chatkit::{FeedbackKind, Page, SortOrder, StoreError, ThreadItem, ThreadMetadata, ThreadStatus};
use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::chat::{ChatContext, ChatStore, NewThreadClaim, ThreadSaved};
use crate::storage::shared::chat::{
    INSERT_THREAD, ThreadRow, claims_on_postgres_only, cursor_op, feedback_name, from_json, into_page,
    store_error, to_json,
};
use crate::storage::{from_micros, micros};

impl<DB> SqlStorage<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    Uuid: Value<DB>,
    i64: Value<DB>,
    bool: Value<DB>,
    String: Value<DB>,
    Option<i64>: Value<DB>,
    Option<String>: Value<DB>,
    Option<Uuid>: Value<DB>,
    for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB> + sqlx::ColumnIndex<DB::Row>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    fn decode_thread(row: &DB::Row) -> Result<ThreadMetadata, StoreError> {
        let row: StoredThread = sqlx::FromRow::from_row(row).map_err(store_error)?;
        Ok(ThreadMetadata {
            title: row.title,
            id: row.id,
            created_at: from_micros(row.created_at).map_err(store_error)?,
            status: from_json::<ThreadStatus>(&row.status)?,
            allowed_image_domains: row.allowed_image_domains.as_deref().map(from_json).transpose()?,
            metadata: from_json(&row.metadata)?,
        })
    }

    /// Saves a thread: updates the caller's own or inserts a new one, and says which.
    /// An id taken by another user's thread writes nothing: `NotFound`.
    async fn upsert_thread(
        &self,
        thread: &ThreadMetadata,
        ctx: &ChatContext,
    ) -> Result<ThreadSaved, StoreError> {
        let row = ThreadRow::new(thread, ctx.clock.now())?;
        let user = ctx.user.0;
        if self.update_thread(&row, user).await? {
            return Ok(ThreadSaved::Updated);
        }
        if self.insert_thread(&row, user, ctx.new_thread_claim.as_ref()).await? {
            return Ok(ThreadSaved::Created);
        }
        Err(StoreError::NotFound)
    }

    /// A new thread, its first item and its reply's claim, if any, in one statement
    /// (`START_THREAD`, per backend); an id that exists already is an upsert.
    async fn start_new_thread(
        &self,
        thread: &ThreadMetadata,
        first_item: &ThreadItem,
        ctx: &ChatContext,
    ) -> Result<ThreadSaved, StoreError> {
        let row = ThreadRow::new(thread, ctx.clock.now())?;
        let user = ctx.user.0;
        let claim = ctx.new_thread_claim.as_ref();
        let sql = match claim {
            None => DB::START_THREAD,
            Some(_) => DB::START_CLAIMED_THREAD.ok_or_else(claims_on_postgres_only)?,
        };
        let start = Self::bind_thread(sqlx::query(sql), &row, user)
            .bind(&first_item.id)
            .bind(first_item.type_name())
            .bind(to_json(first_item)?)
            .bind(micros(first_item.created_at));
        let start = Self::bind_claim(start, claim);
        // A new thread starts a reply: its write goes ahead of the other replies' (`writer`).
        let started = self
            .writer
            .write_ahead(async |connection| Ok::<_, sqlx::Error>(start.execute(connection).await))
            .await
            .map_err(store_error)?;
        match started {
            Ok(_) => Ok(ThreadSaved::Created),
            // The id is taken (nothing was written): the caller's own thread is updated.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                let saved = self.upsert_thread(thread, ctx).await?;
                self.upsert_items(&thread.id, std::slice::from_ref(first_item), user).await?;
                Ok(saved)
            }
            Err(error) => Err(store_error(error)),
        }
    }

    /// Inserts a new thread, with its reply's claim when `claim` is given (PostgreSQL
    /// replicas; see `chat::runs`), in one statement. False when the id exists.
    async fn insert_thread(
        &self,
        row: &ThreadRow<'_>,
        user: Uuid,
        claim: Option<&NewThreadClaim>,
    ) -> Result<bool, StoreError> {
        let sql = match claim {
            None => INSERT_THREAD,
            Some(_) => DB::INSERT_CLAIMED_THREAD.ok_or_else(claims_on_postgres_only)?,
        };
        let insert = Self::bind_claim(Self::bind_thread(sqlx::query(sql), row, user), claim);
        // Every row is read (`fetch_all`), so the statement has finished
        // before the connection goes back to the pool.
        let inserted = self
            .writer
            .write(async |connection| insert.fetch_all(connection).await)
            .await
            .map_err(store_error)?;
        Ok(!inserted.is_empty())
    }

    /// Binds a thread's columns as `$1`–`$8`, in `INSERT_THREAD`'s order.
    fn bind_thread<'q>(
        query: sqlx::query::Query<'q, DB, DB::Arguments>,
        row: &'q ThreadRow<'q>,
        user: Uuid,
    ) -> sqlx::query::Query<'q, DB, DB::Arguments> {
        query
            .bind(&row.thread.id)
            .bind(user)
            .bind(&row.thread.title)
            .bind(&row.status)
            .bind(&row.image_domains)
            .bind(&row.metadata)
            .bind(micros(row.thread.created_at))
            .bind(row.saved_at)
    }

    /// Binds a reply's claim, if any, as the next four parameters.
    fn bind_claim<'q>(
        query: sqlx::query::Query<'q, DB, DB::Arguments>,
        claim: Option<&'q NewThreadClaim>,
    ) -> sqlx::query::Query<'q, DB, DB::Arguments> {
        match claim {
            Some(claim) => query
                .bind(claim.run_id)
                .bind(claim.replica)
                .bind(micros(claim.expires_at))
                .bind(claim.replica_url.as_deref()),
            None => query,
        }
    }

    /// Updates the caller's own thread. False when there is none.
    async fn update_thread(&self, row: &ThreadRow<'_>, user: Uuid) -> Result<bool, StoreError> {
        let statement = sqlx::query(
            "UPDATE chat_threads SET title = $1, status = $2, allowed_image_domains = $3, metadata = $4, \
             updated_at = $5 WHERE id = $6 AND user_id = $7",
        )
        .bind(&row.thread.title)
        .bind(&row.status)
        .bind(&row.image_domains)
        .bind(&row.metadata)
        .bind(row.saved_at)
        .bind(&row.thread.id)
        .bind(user);
        let updated = self
            .writer
            .write(async |connection| statement.execute(connection).await)
            .await
            .map_err(store_error)?;
        Ok(DB::rows_affected(&updated) > 0)
    }

    async fn owns_thread(&self, thread_id: &str, user: Uuid) -> Result<bool, StoreError> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM chat_threads WHERE id = $1 AND user_id = $2")
                .bind(thread_id)
                .bind(user)
                .fetch_optional(&mut *self.read_connection().await.map_err(store_error)?)
                .await
                .map_err(store_error)?;
        Ok(found.is_some())
    }

    async fn require_thread(&self, thread_id: &str, user: Uuid) -> Result<(), StoreError> {
        if self.owns_thread(thread_id, user).await? { Ok(()) } else { Err(StoreError::NotFound) }
    }

    /// Items, in order, in one statement: the join with the caller's thread is the
    /// ownership check (nothing is written to another user's thread), and a trigger
    /// moves a thread with a new item up the list (migration 0006).
    async fn upsert_items(
        &self,
        thread_id: &str,
        items: &[ThreadItem],
        user: Uuid,
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let encoded = items.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
        let mut insert = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO chat_items (id, thread_id, user_id, item_type, data, created_at) \
             SELECT v.column1, t.id, t.user_id, v.column2, v.column3, v.column4 FROM chat_threads t, (",
        );
        // `column5` is the item's position: rows go in (and take their `seq`) in order.
        insert.push_values(items.iter().zip(encoded).enumerate(), |mut row, (position, (item, data))| {
            row.push_bind(item.id.clone())
                .push_bind(item.type_name())
                .push_bind(data)
                .push_bind(micros(item.created_at))
                .push(position.to_string());
        });
        insert
            .push(") AS v WHERE t.id = ")
            .push_bind(thread_id.to_owned())
            .push(" AND t.user_id = ")
            .push_bind(user)
            .push(
                " ORDER BY v.column5 \
                 ON CONFLICT (thread_id, id) DO UPDATE SET item_type = excluded.item_type, data = excluded.data",
            );
        let statement = insert.build();
        let saved = self
            .writer
            .write(async |connection| statement.execute(connection).await)
            .await
            .map_err(store_error)?;
        if DB::rows_affected(&saved) == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// `(created_at, seq)` of an item, for cursors.
    async fn item_position(
        &self,
        thread_id: &str,
        item_id: &str,
        user: Uuid,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        sqlx::query_as(
            "SELECT created_at, seq FROM chat_items WHERE thread_id = $1 AND id = $2 AND user_id = $3",
        )
        .bind(thread_id)
        .bind(item_id)
        .bind(user)
        .fetch_optional(&mut *self.read_connection().await.map_err(store_error)?)
        .await
        .map_err(store_error)
    }
}

/// A row of `chat_threads` as read back (times in microseconds; status, image domains and
/// metadata as JSON text).
#[derive(sqlx::FromRow)]
struct StoredThread {
    id: String,
    title: Option<String>,
    status: String,
    allowed_image_domains: Option<String>,
    metadata: String,
    created_at: i64,
}

#[async_trait::async_trait]
impl<DB> chatkit::Store<ChatContext> for SqlStorage<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    Uuid: Value<DB>,
    i64: Value<DB>,
    bool: Value<DB>,
    String: Value<DB>,
    Option<i64>: Value<DB>,
    Option<String>: Value<DB>,
    Option<Uuid>: Value<DB>,
    for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB> + sqlx::ColumnIndex<DB::Row>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn load_thread(&self, thread_id: &str, ctx: &ChatContext) -> Result<ThreadMetadata, StoreError> {
        let row = sqlx::query(
            "SELECT id, title, status, allowed_image_domains, metadata, created_at \
             FROM chat_threads WHERE id = $1 AND user_id = $2",
        )
        .bind(thread_id)
        .bind(ctx.user.0)
        .fetch_optional(&mut *self.read_connection().await.map_err(store_error)?)
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        Self::decode_thread(&row)
    }

    async fn save_thread(&self, thread: &ThreadMetadata, ctx: &ChatContext) -> Result<(), StoreError> {
        self.upsert_thread(thread, ctx).await.map(|_| ())
    }

    async fn create_thread(
        &self,
        thread: &ThreadMetadata,
        first_item: &ThreadItem,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.start_new_thread(thread, first_item, ctx).await.map(|_| ())
    }

    async fn delete_thread(&self, thread_id: &str, ctx: &ChatContext) -> Result<(), StoreError> {
        let statement = sqlx::query("DELETE FROM chat_threads WHERE id = $1 AND user_id = $2")
            .bind(thread_id)
            .bind(ctx.user.0);
        let deleted = self
            .writer
            .write(async |connection| statement.execute(connection).await)
            .await
            .map_err(store_error)?;
        if DB::rows_affected(&deleted) == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn load_threads(
        &self,
        limit: usize,
        after: Option<&str>,
        order: SortOrder,
        ctx: &ChatContext,
    ) -> Result<Page<ThreadMetadata>, StoreError> {
        let (op, direction) = cursor_op(order);
        let mut query = sqlx::QueryBuilder::<DB>::new(
            "SELECT id, title, status, allowed_image_domains, metadata, created_at FROM chat_threads WHERE user_id = ",
        );
        query.push_bind(ctx.user.0);
        if let Some(after) = after {
            let position: Option<(i64, i64)> =
                sqlx::query_as("SELECT updated_at, seq FROM chat_threads WHERE id = $1 AND user_id = $2")
                    .bind(after)
                    .bind(ctx.user.0)
                    .fetch_optional(&mut *self.read_connection().await.map_err(store_error)?)
                    .await
                    .map_err(store_error)?;
            let Some((updated_at, seq)) = position else { return Ok(Page::default()) };
            query
                .push(format_args!(" AND (updated_at {op} "))
                .push_bind(updated_at)
                .push(" OR (updated_at = ")
                .push_bind(updated_at)
                .push(format_args!(" AND seq {op} "))
                .push_bind(seq)
                .push("))");
        }
        query.push(format_args!(" ORDER BY updated_at {direction}, seq {direction} LIMIT "));
        query.push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
        let rows = query
            .build()
            .fetch_all(&mut *self.read_connection().await.map_err(store_error)?)
            .await
            .map_err(store_error)?;
        let threads = rows
            .iter()
            .map(|row| Self::decode_thread(row).map(|thread| (thread.id.clone(), thread)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(threads, limit))
    }

    async fn load_thread_items(
        &self,
        thread_id: &str,
        after: Option<&str>,
        limit: usize,
        order: SortOrder,
        ctx: &ChatContext,
    ) -> Result<Page<ThreadItem>, StoreError> {
        // Items are scoped by user, so a foreign thread reads as empty;
        // only an empty answer needs the ownership check (404 vs none).
        let (op, direction) = cursor_op(order);
        let mut query = sqlx::QueryBuilder::<DB>::new("SELECT id, data FROM chat_items WHERE thread_id = ");
        query.push_bind(thread_id.to_owned());
        query.push(" AND user_id = ").push_bind(ctx.user.0);
        if let Some(after) = after {
            let Some((created_at, seq)) = self.item_position(thread_id, after, ctx.user.0).await? else {
                self.require_thread(thread_id, ctx.user.0).await?;
                return Ok(Page::default());
            };
            query
                .push(format_args!(" AND (created_at {op} "))
                .push_bind(created_at)
                .push(" OR (created_at = ")
                .push_bind(created_at)
                .push(format_args!(" AND seq {op} "))
                .push_bind(seq)
                .push("))");
        }
        query.push(format_args!(" ORDER BY created_at {direction}, seq {direction} LIMIT "));
        query.push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
        let rows: Vec<(String, String)> = query
            .build_query_as()
            .fetch_all(&mut *self.read_connection().await.map_err(store_error)?)
            .await
            .map_err(store_error)?;
        if rows.is_empty() {
            self.require_thread(thread_id, ctx.user.0).await?;
        }
        let items = rows
            .into_iter()
            .map(|(id, data)| from_json::<ThreadItem>(&data).map(|item| (id, item)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(items, limit))
    }

    async fn add_thread_item(
        &self,
        thread_id: &str,
        item: &ThreadItem,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.upsert_items(thread_id, std::slice::from_ref(item), ctx.user.0).await
    }

    async fn add_thread_items(
        &self,
        thread_id: &str,
        items: &[ThreadItem],
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.upsert_items(thread_id, items, ctx.user.0).await
    }

    async fn save_item(
        &self,
        thread_id: &str,
        item: &ThreadItem,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.upsert_items(thread_id, std::slice::from_ref(item), ctx.user.0).await
    }

    async fn load_item(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &ChatContext,
    ) -> Result<ThreadItem, StoreError> {
        let data: String = sqlx::query_scalar(
            "SELECT data FROM chat_items WHERE thread_id = $1 AND id = $2 AND user_id = $3",
        )
        .bind(thread_id)
        .bind(item_id)
        .bind(ctx.user.0)
        .fetch_optional(&mut *self.read_connection().await.map_err(store_error)?)
        .await
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)?;
        from_json(&data)
    }

    async fn delete_thread_item(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.require_thread(thread_id, ctx.user.0).await?;
        let statement =
            sqlx::query("DELETE FROM chat_items WHERE thread_id = $1 AND id = $2 AND user_id = $3")
                .bind(thread_id)
                .bind(item_id)
                .bind(ctx.user.0);
        self.writer
            .write(async |connection| statement.execute(connection).await)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete_thread_items_after(
        &self,
        thread_id: &str,
        item_id: &str,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        let (created_at, seq) =
            self.item_position(thread_id, item_id, ctx.user.0).await?.ok_or(StoreError::NotFound)?;
        let statement = sqlx::query(
            "DELETE FROM chat_items WHERE thread_id = $1 AND user_id = $2 \
             AND (created_at > $3 OR (created_at = $3 AND seq > $4))",
        )
        .bind(thread_id)
        .bind(ctx.user.0)
        .bind(created_at)
        .bind(seq);
        self.writer
            .write(async |connection| statement.execute(connection).await)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn save_feedback(
        &self,
        thread_id: &str,
        item_ids: &[String],
        kind: FeedbackKind,
        ctx: &ChatContext,
    ) -> Result<(), StoreError> {
        self.require_thread(thread_id, ctx.user.0).await?;
        let now = micros(ctx.clock.now());
        // Only an item of this thread is rated; for any other id nothing is saved (`NotFound`,
        // and the transaction rolls back).
        const SAVE: &str = "INSERT INTO chat_feedback (user_id, thread_id, item_id, kind, created_at) \
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS \
             (SELECT 1 FROM chat_items WHERE thread_id = $2 AND id = $3 AND user_id = $1) \
             ON CONFLICT (thread_id, item_id) DO UPDATE SET kind = excluded.kind, \
             created_at = excluded.created_at";
        self.writer
            .transaction(async |tx| {
                for item_id in item_ids {
                    let saved = sqlx::query(SAVE)
                        .bind(ctx.user.0)
                        .bind(thread_id)
                        .bind(item_id)
                        .bind(feedback_name(kind))
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                    if DB::rows_affected(&saved) == 0 {
                        return Ok(Err(StoreError::NotFound));
                    }
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Ok(()))
            })
            .await
            .map_err(store_error)?
    }
}

#[async_trait::async_trait]
impl<DB> ChatStore for SqlStorage<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    Uuid: Value<DB>,
    i64: Value<DB>,
    bool: Value<DB>,
    String: Value<DB>,
    Option<i64>: Value<DB>,
    Option<String>: Value<DB>,
    Option<Uuid>: Value<DB>,
    for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB> + sqlx::ColumnIndex<DB::Row>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn save_thread_reporting(
        &self,
        thread: &ThreadMetadata,
        ctx: &ChatContext,
    ) -> Result<ThreadSaved, StoreError> {
        self.upsert_thread(thread, ctx).await
    }

    async fn start_thread(
        &self,
        thread: &ThreadMetadata,
        first_item: &ThreadItem,
        ctx: &ChatContext,
    ) -> Result<ThreadSaved, StoreError> {
        self.start_new_thread(thread, first_item, ctx).await
    }
}
