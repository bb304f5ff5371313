//! A user's whole data for export and import (`account_data::AccountData`), on both backends.

use chatkit::{ThreadItem, ThreadMetadata, ThreadStatus};

use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::account_data::{AccountData, StoredThread};
use crate::persistence::{StorageError, StorageResult};
use crate::storage::shared::tasks::task_columns;
use crate::storage::{from_micros, micros};
use crate::tasks::model::{Task, UserId};

/// Thread items per insert statement (6 parameters each).
const ITEMS_PER_STATEMENT: usize = 500;

fn json_error(err: serde_json::Error) -> StorageError {
    StorageError::Other(anyhow::Error::new(err).context("a stored thread or item is not valid JSON"))
}

#[async_trait::async_trait]
impl<DB> AccountData for SqlStorage<DB>
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
    async fn all_tasks(&self, user: UserId, due_only: bool) -> StorageResult<Vec<Task>> {
        let sql = if due_only {
            concat!(
                "SELECT ",
                task_columns!(),
                " FROM tasks WHERE user_id = $1 AND due_at IS NOT NULL ORDER BY number"
            )
        } else {
            concat!("SELECT ", task_columns!(), " FROM tasks WHERE user_id = $1 ORDER BY number")
        };
        let rows = sqlx::query(sql).bind(user.0).fetch_all(&mut *self.read_connection().await?).await?;
        Ok(rows.iter().map(Self::decode_task).collect::<anyhow::Result<Vec<_>>>()?)
    }

    async fn all_threads(&self, user: UserId) -> StorageResult<Vec<StoredThread>> {
        use sqlx::Row;
        let mut connection = self.read_connection().await?;
        let rows = sqlx::query(
            "SELECT id, title, status, allowed_image_domains, metadata, created_at, updated_at \
             FROM chat_threads WHERE user_id = $1 ORDER BY created_at, seq",
        )
        .bind(user.0)
        .fetch_all(&mut *connection)
        .await?;
        let mut threads = Vec::with_capacity(rows.len());
        let mut positions = std::collections::HashMap::new();
        for row in &rows {
            let status: String = row.try_get("status")?;
            let domains: Option<String> = row.try_get("allowed_image_domains")?;
            let metadata: String = row.try_get("metadata")?;
            let mut thread = ThreadMetadata::new(row.try_get::<String, _>("id")?);
            thread.title = row.try_get("title")?;
            thread.status = serde_json::from_str::<ThreadStatus>(&status).map_err(json_error)?;
            thread.allowed_image_domains =
                domains.as_deref().map(serde_json::from_str).transpose().map_err(json_error)?;
            thread.metadata = serde_json::from_str(&metadata).map_err(json_error)?;
            thread.created_at = from_micros(row.try_get("created_at")?)?;
            let updated_at = from_micros(row.try_get("updated_at")?)?;
            positions.insert(thread.id.clone(), threads.len());
            threads.push(StoredThread { thread, updated_at, items: Vec::new() });
        }
        let items = sqlx::query(
            "SELECT thread_id, data FROM chat_items WHERE user_id = $1 ORDER BY thread_id, created_at, seq",
        )
        .bind(user.0)
        .fetch_all(&mut *connection)
        .await?;
        for row in &items {
            let thread_id: String = row.try_get("thread_id")?;
            let data: String = row.try_get("data")?;
            if let Some(&position) = positions.get(&thread_id) {
                let item: ThreadItem = serde_json::from_str(&data).map_err(json_error)?;
                threads[position].items.push(item);
            }
        }
        Ok(threads)
    }

    async fn import(&self, user: UserId, tasks: &[Task], threads: &[StoredThread]) -> StorageResult<()> {
        let encoded = threads
            .iter()
            .map(|stored| {
                let thread = &stored.thread;
                Ok((
                    serde_json::to_string(&thread.status)?,
                    thread.allowed_image_domains.as_ref().map(serde_json::to_string).transpose()?,
                    serde_json::to_string(&thread.metadata)?,
                    stored.items.iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?,
                ))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(json_error)?;
        self.writer
            .transaction(async |tx| {
                for task in tasks {
                    Self::insert_new_task(&mut **tx, user.0, task.clone()).await?;
                }
                for (stored, (status, domains, metadata, items)) in threads.iter().zip(&encoded) {
                    let thread = &stored.thread;
                    sqlx::query(
                        "INSERT INTO chat_threads (id, user_id, title, status, allowed_image_domains, \
                         metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&thread.id)
                    .bind(user.0)
                    .bind(&thread.title)
                    .bind(status)
                    .bind(domains)
                    .bind(metadata)
                    .bind(micros(thread.created_at))
                    .bind(micros(stored.updated_at))
                    .execute(&mut **tx)
                    .await?;
                    let pairs: Vec<(&ThreadItem, &String)> = stored.items.iter().zip(items).collect();
                    for chunk in pairs.chunks(ITEMS_PER_STATEMENT) {
                        let mut insert = sqlx::QueryBuilder::<DB>::new(
                            "INSERT INTO chat_items (id, thread_id, user_id, item_type, data, created_at) ",
                        );
                        insert.push_values(chunk, |mut row, (item, data)| {
                            row.push_bind(item.id.clone())
                                .push_bind(thread.id.clone())
                                .push_bind(user.0)
                                .push_bind(item.type_name())
                                .push_bind((*data).clone())
                                .push_bind(micros(item.created_at));
                        });
                        insert.build().execute(&mut **tx).await?;
                    }
                    // New items move their thread's time (a trigger): put back the exported one.
                    sqlx::query("UPDATE chat_threads SET updated_at = $1 WHERE id = $2 AND user_id = $3")
                        .bind(micros(stored.updated_at))
                        .bind(&thread.id)
                        .bind(user.0)
                        .execute(&mut **tx)
                        .await?;
                }
                tx.commit().await?;
                Ok::<_, StorageError>(())
            })
            .await
    }
}
