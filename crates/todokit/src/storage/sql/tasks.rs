//! Tasks and their reminders (`tasks::TaskRepository`), on both backends.

use jiff::Timestamp;
use uuid::Uuid;

use super::{Dialect, SqlStorage, Value};
use crate::persistence::{StorageError, StorageResult};
use crate::storage::shared::tasks::{
    DELETED_PER_STATEMENT, TaskRow, decode_priority, decode_recurrence, decode_tags, like_pattern, order_by,
    task_columns,
};
use crate::storage::writer::WriteTransaction;
use crate::storage::{from_micros, micros};
use crate::tasks::TaskRepository;
use crate::tasks::model::{
    BulkDeletion, BulkOutcome, Completion, NewTask, TagCount, Task, TaskCounts, TaskFilter, TaskKey,
    TaskPage, TaskPatch, TaskQuery, UserId,
};

/// A row of `tasks` as read back: times in microseconds, tags and recurrence as JSON text.
#[derive(sqlx::FromRow)]
struct StoredTask {
    id: Uuid,
    number: i64,
    title: String,
    description: Option<String>,
    priority: String,
    tags: String,
    due_at: Option<i64>,
    time_zone: String,
    reminder_offset_minutes: Option<i64>,
    reminder_sent: bool,
    recurrence: Option<String>,
    series_id: Option<Uuid>,
    series_start_at: Option<i64>,
    occurrence_index: i64,
    parent_task_id: Option<Uuid>,
    completed: bool,
    completed_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

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
    pub(in crate::storage) fn decode_task(row: &DB::Row) -> anyhow::Result<Task> {
        let row: StoredTask = sqlx::FromRow::from_row(row)?;
        let optional_time = |value: Option<i64>| value.map(from_micros).transpose();
        Ok(Task {
            id: row.id,
            number: row.number,
            title: row.title,
            description: row.description,
            priority: decode_priority(&row.priority)?,
            tags: decode_tags(&row.tags)?,
            due_at: optional_time(row.due_at)?,
            time_zone: row.time_zone,
            reminder_offset_minutes: row.reminder_offset_minutes.map(u32::try_from).transpose()?,
            reminder_sent: row.reminder_sent,
            recurrence: decode_recurrence(row.recurrence)?,
            series_id: row.series_id,
            series_start_at: optional_time(row.series_start_at)?,
            occurrence_index: u32::try_from(row.occurrence_index)?,
            parent_task_id: row.parent_task_id,
            completed: row.completed,
            completed_at: optional_time(row.completed_at)?,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
        })
    }

    /// Inserts a new task with the user's next number, drawn by the database as it inserts,
    /// in one statement (`INSERT_NEW_TASK`, per backend; the database indexes its tags).
    /// The only way a task gets its number: new tasks and next occurrences alike.
    pub(in crate::storage) async fn insert_new_task<'e, E>(
        executor: E,
        user: Uuid,
        mut task: Task,
    ) -> StorageResult<Task>
    where
        E: sqlx::Executor<'e, Database = DB>,
    {
        let row = TaskRow::encode(&task)?;
        let inserted =
            Self::bind_insert(sqlx::query(DB::INSERT_NEW_TASK), user, &row).fetch_one(executor).await?;
        let number = sqlx::Row::try_get(&inserted, "number")?;
        task.number = number;
        Ok(task)
    }

    /// Binds `row` and its owner as `INSERT_NEW_TASK` names them: the columns in `task_columns!`
    /// order (all but `number`, which the database draws), then `user_id`, `priority_rank` and
    /// `search_text`.
    fn bind_insert<'q>(
        query: sqlx::query::Query<'q, DB, DB::Arguments>,
        user: Uuid,
        row: &'q TaskRow<'q>,
    ) -> sqlx::query::Query<'q, DB, DB::Arguments> {
        query
            .bind(row.id)
            .bind(row.title)
            .bind(row.description)
            .bind(row.priority)
            .bind(&row.tags)
            .bind(row.due_at)
            .bind(row.time_zone)
            .bind(row.reminder_offset_minutes)
            .bind(row.reminder_sent)
            .bind(&row.recurrence)
            .bind(row.series_id)
            .bind(row.series_start_at)
            .bind(row.occurrence_index)
            .bind(row.parent_task_id)
            .bind(row.completed)
            .bind(row.completed_at)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(user)
            .bind(row.priority_rank)
            .bind(&row.search_text)
    }

    async fn save_task(tx: &mut WriteTransaction<DB>, user: Uuid, task: &Task) -> StorageResult<()> {
        // The number, `parent_task_id` and `created_at` never change.
        let row = TaskRow::encode(task)?;
        sqlx::query(
            "UPDATE tasks SET title = $1, description = $2, priority = $3, tags = $4, due_at = $5, \
             time_zone = $6, reminder_offset_minutes = $7, reminder_sent = $8, recurrence = $9, \
             series_id = $10, series_start_at = $11, occurrence_index = $12, completed = $13, \
             completed_at = $14, updated_at = $15, priority_rank = $16, search_text = $17 \
             WHERE id = $18 AND user_id = $19",
        )
        .bind(row.title)
        .bind(row.description)
        .bind(row.priority)
        .bind(&row.tags)
        .bind(row.due_at)
        .bind(row.time_zone)
        .bind(row.reminder_offset_minutes)
        .bind(row.reminder_sent)
        .bind(&row.recurrence)
        .bind(row.series_id)
        .bind(row.series_start_at)
        .bind(row.occurrence_index)
        .bind(row.completed)
        .bind(row.completed_at)
        .bind(row.updated_at)
        .bind(row.priority_rank)
        .bind(&row.search_text)
        .bind(row.id)
        .bind(user)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn load_task<'e, E>(executor: E, user: Uuid, key: TaskKey) -> StorageResult<Option<Task>>
    where
        E: sqlx::Executor<'e, Database = DB>,
    {
        use TaskKey;
        let row = match key {
            TaskKey::Id(id) => {
                sqlx::query(concat!("SELECT ", task_columns!(), " FROM tasks WHERE user_id = $1 AND id = $2"))
                    .bind(user)
                    .bind(id)
                    .fetch_optional(executor)
                    .await?
            }
            TaskKey::Number(number) => {
                sqlx::query(concat!(
                    "SELECT ",
                    task_columns!(),
                    " FROM tasks WHERE user_id = $1 AND number = $2"
                ))
                .bind(user)
                .bind(number)
                .fetch_optional(executor)
                .await?
            }
        };
        Ok(row.as_ref().map(Self::decode_task).transpose()?)
    }

    /// Loads a task to change it in `tx`, its row locked until commit where the backend
    /// needs it (`LOCK_ROWS`): no other write lands between this read and the write built
    /// from it, so rules checked on what it returns hold when that write commits.
    async fn load_task_for_write(
        tx: &mut WriteTransaction<DB>,
        user: Uuid,
        key: TaskKey,
    ) -> StorageResult<Option<Task>> {
        use TaskKey;
        let mut builder = sqlx::QueryBuilder::<DB>::new(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE user_id = "
        ));
        builder.push_bind(user);
        match key {
            TaskKey::Id(id) => builder.push(" AND id = ").push_bind(id),
            TaskKey::Number(number) => builder.push(" AND number = ").push_bind(number),
        };
        builder.push(DB::LOCK_ROWS);
        let row = builder.build().fetch_optional(&mut **tx).await?;
        Ok(row.as_ref().map(Self::decode_task).transpose()?)
    }

    /// The page of tasks `query` asks for (tests put `EXPLAIN` before it).
    pub(in crate::storage) fn push_list(builder: &mut sqlx::QueryBuilder<DB>, user: Uuid, query: &TaskQuery) {
        builder.push(concat!("SELECT ", task_columns!(), " FROM tasks"));
        Self::push_filter(builder, user, &query.filter);
        builder.push(order_by(query.sort, query.order));
        builder.push(" LIMIT ").push_bind(i64::from(query.limit));
        builder.push(" OFFSET ").push_bind(i64::from(query.offset));
    }

    fn push_filter(builder: &mut sqlx::QueryBuilder<DB>, user: Uuid, filter: &TaskFilter) {
        builder.push(" WHERE user_id = ").push_bind(user);
        if let Some(completed) = filter.completed {
            builder.push(" AND completed = ").push_bind(completed);
        }
        if let Some(priority) = filter.priority {
            builder.push(" AND priority = ").push_bind(priority.as_str().to_owned());
        }
        for tag in &filter.tags {
            builder
                .push(" AND EXISTS (SELECT 1 FROM task_tags tt WHERE tt.task_id = tasks.id AND tt.tag = ")
                .push_bind(tag.clone())
                .push(")");
        }
        if let Some(from) = filter.due_from {
            builder.push(" AND due_at >= ").push_bind(micros(from));
        }
        if let Some(before) = filter.due_before {
            builder.push(" AND due_at < ").push_bind(micros(before));
        }
        if let Some(search) = &filter.search {
            builder.push(" AND search_text LIKE ").push_bind(like_pattern(search)).push(" ESCAPE '\\'");
        }
    }

    /// Completes or reopens one loaded task inside `tx`.
    async fn complete_in_tx(
        tx: &mut WriteTransaction<DB>,
        user: Uuid,
        mut task: Task,
        completed: bool,
        now: Timestamp,
    ) -> StorageResult<Completion> {
        use Completion;
        if !task.set_completed(completed, now) {
            return Ok(Completion { task, next_instance: None });
        }
        Self::save_task(tx, user, &task).await?;
        let mut next_instance = None;
        if completed && task.recurrence.is_some() {
            let already_exists: Option<Uuid> =
                sqlx::query_scalar("SELECT id FROM tasks WHERE series_id = $1 AND occurrence_index = $2")
                    .bind(task.series_id)
                    .bind(i64::from(task.occurrence_index) + 1)
                    .fetch_optional(&mut **tx)
                    .await?;
            if already_exists.is_none()
                && let Some(next) = task.next_occurrence(now)
            {
                next_instance = Some(Self::insert_new_task(&mut **tx, user, next).await?);
            }
        }
        Ok(Completion { task, next_instance })
    }
}

#[async_trait::async_trait]
impl<DB> TaskRepository for SqlStorage<DB>
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
    async fn create_task(&self, user: UserId, task: &NewTask, now: Timestamp) -> StorageResult<Task> {
        // Numbered by the database as it is inserted.
        self.writer
            .write(async |connection| Self::insert_new_task(connection, user.0, Task::new(task, now)).await)
            .await
    }

    async fn get_task(&self, user: UserId, key: TaskKey) -> StorageResult<Option<Task>> {
        Self::load_task(&mut *self.read_connection().await?, user.0, key).await
    }

    async fn update_task(
        &self,
        user: UserId,
        key: TaskKey,
        patch: &TaskPatch,
        now: Timestamp,
    ) -> StorageResult<Option<Task>> {
        self.writer
            .transaction(async |tx| {
                let Some(mut task) = Self::load_task_for_write(tx, user.0, key).await? else {
                    return Ok(None);
                };
                // The patch's rules are checked on the row this transaction holds.
                if task.apply(patch, now).map_err(StorageError::Invalid)? {
                    Self::save_task(tx, user.0, &task).await?;
                    tx.commit().await?;
                }
                Ok(Some(task))
            })
            .await
    }

    async fn delete_task(
        &self,
        user: UserId,
        key: TaskKey,
        now: Timestamp,
        prune_before: Timestamp,
    ) -> StorageResult<Option<Task>> {
        self.writer
            .transaction(async |tx| {
                let Some(task) = Self::load_task(&mut **tx, user.0, key).await? else {
                    return Ok(None);
                };
                sqlx::query("DELETE FROM deleted_tasks WHERE deleted_at < $1")
                    .bind(micros(prune_before))
                    .execute(&mut **tx)
                    .await?;
                // An earlier copy of the same task (deleted, restored, deleted again) is replaced.
                sqlx::query("DELETE FROM deleted_tasks WHERE id = $1")
                    .bind(task.id)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(concat!(
                    "INSERT INTO deleted_tasks (deleted_at, user_id, priority_rank, search_text, ",
                    task_columns!(),
                    ") SELECT $1, user_id, priority_rank, search_text, ",
                    task_columns!(),
                    " FROM tasks WHERE id = $2 AND user_id = $3"
                ))
                .bind(micros(now))
                .bind(task.id)
                .bind(user.0)
                .execute(&mut **tx)
                .await?;
                sqlx::query("DELETE FROM tasks WHERE id = $1 AND user_id = $2")
                    .bind(task.id)
                    .bind(user.0)
                    .execute(&mut **tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(task))
            })
            .await
    }

    async fn restore_task(
        &self,
        user: UserId,
        id: Uuid,
        deleted_since: Timestamp,
    ) -> StorageResult<Option<Task>> {
        self.writer
            .transaction(async |tx| {
                // The link to a parent deleted meanwhile would break the foreign key.
                sqlx::query(
                    "UPDATE deleted_tasks SET parent_task_id = NULL WHERE id = $1 AND user_id = $2 \
                     AND parent_task_id IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM tasks WHERE tasks.id = deleted_tasks.parent_task_id)",
                )
                .bind(id)
                .bind(user.0)
                .execute(&mut **tx)
                .await?;
                let restored = sqlx::query(concat!(
                    "INSERT INTO tasks (user_id, priority_rank, search_text, ",
                    task_columns!(),
                    ") SELECT user_id, priority_rank, search_text, ",
                    task_columns!(),
                    " FROM deleted_tasks WHERE id = $1 AND user_id = $2 AND deleted_at >= $3"
                ))
                .bind(id)
                .bind(user.0)
                .bind(micros(deleted_since))
                .execute(&mut **tx)
                .await;
                let restored = match restored {
                    Ok(result) => DB::rows_affected(&result),
                    Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                        return Err(StorageError::Conflict(
                            "This task cannot come back: its place in the repeating series is taken".into(),
                        ));
                    }
                    Err(err) => return Err(err.into()),
                };
                if restored == 0 {
                    return Ok(None);
                }
                sqlx::query("DELETE FROM deleted_tasks WHERE id = $1").bind(id).execute(&mut **tx).await?;
                let task = Self::load_task(&mut **tx, user.0, TaskKey::Id(id)).await?;
                tx.commit().await?;
                Ok(task)
            })
            .await
    }

    async fn set_completed(
        &self,
        user: UserId,
        key: TaskKey,
        completed: bool,
        now: Timestamp,
    ) -> StorageResult<Option<Completion>> {
        self.writer
            .transaction(async |tx| {
                let Some(task) = Self::load_task_for_write(tx, user.0, key).await? else {
                    return Ok(None);
                };
                let completion = Self::complete_in_tx(tx, user.0, task, completed, now).await?;
                tx.commit().await?;
                Ok(Some(completion))
            })
            .await
    }

    async fn list_tasks(&self, user: UserId, query: &TaskQuery) -> StorageResult<TaskPage> {
        let mut builder = sqlx::QueryBuilder::<DB>::new("");
        Self::push_list(&mut builder, user.0, query);
        let rows = builder.build().fetch_all(&mut *self.read_connection().await?).await?;
        let tasks = rows.iter().map(Self::decode_task).collect::<anyhow::Result<Vec<_>>>()?;

        let mut count = sqlx::QueryBuilder::<DB>::new("SELECT COUNT(*) FROM tasks");
        Self::push_filter(&mut count, user.0, &query.filter);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *self.read_connection().await?).await?;
        Ok(TaskPage { tasks, total: u64::try_from(total).unwrap_or(0) })
    }

    async fn count_tasks(&self, user: UserId, filter: &TaskFilter) -> StorageResult<TaskCounts> {
        use sqlx::Row;
        let mut builder = sqlx::QueryBuilder::<DB>::new(
            "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN completed THEN 1 ELSE 0 END), 0) AS done FROM tasks",
        );
        Self::push_filter(&mut builder, user.0, filter);
        let row = builder.build().fetch_one(&mut *self.read_connection().await?).await?;
        let total = u64::try_from(row.try_get::<i64, _>("total")?).unwrap_or(0);
        let completed = u64::try_from(row.try_get::<i64, _>("done")?).unwrap_or(0);
        Ok(TaskCounts { total, completed, pending: total - completed.min(total) })
    }

    async fn tag_counts(&self, user: UserId) -> StorageResult<Vec<TagCount>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT tag, COUNT(*) AS uses FROM task_tags WHERE user_id = $1 \
             GROUP BY tag ORDER BY uses DESC, tag ASC",
        )
        .bind(user.0)
        .fetch_all(&mut *self.read_connection().await?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, count)| TagCount { name, count: u64::try_from(count).unwrap_or(0) })
            .collect())
    }

    async fn set_completed_matching(
        &self,
        user: UserId,
        filter: &TaskFilter,
        completed: bool,
        now: Timestamp,
    ) -> StorageResult<BulkOutcome> {
        self.writer
            .transaction(async |tx| {
                let mut builder =
                    sqlx::QueryBuilder::<DB>::new(concat!("SELECT ", task_columns!(), " FROM tasks"));
                Self::push_filter(&mut builder, user.0, filter);
                builder.push(" ORDER BY number ASC").push(DB::LOCK_ROWS);
                let rows = builder.build().fetch_all(&mut **tx).await?;
                let tasks = rows.iter().map(Self::decode_task).collect::<anyhow::Result<Vec<_>>>()?;
                let mut outcome = BulkOutcome { total_count: tasks.len() as u64, ..Default::default() };
                for task in tasks {
                    if task.completed == completed {
                        outcome.skipped_count += 1;
                        continue;
                    }
                    let changed = Self::complete_in_tx(tx, user.0, task, completed, now).await?;
                    outcome.updated_count += 1;
                    outcome.changed.push(changed);
                }
                tx.commit().await?;
                Ok(outcome)
            })
            .await
    }

    async fn delete_matching(
        &self,
        user: UserId,
        filter: &TaskFilter,
        expected_count: Option<u64>,
    ) -> StorageResult<BulkDeletion> {
        // One write transaction: the tasks counted are exactly the tasks deleted.
        self.writer
            .transaction(async |tx| {
                let mut builder =
                    sqlx::QueryBuilder::<DB>::new(concat!("SELECT ", task_columns!(), " FROM tasks"));
                Self::push_filter(&mut builder, user.0, filter);
                builder.push(" ORDER BY number ASC").push(DB::LOCK_ROWS);
                let rows = builder.build().fetch_all(&mut **tx).await?;
                let tasks = rows.iter().map(Self::decode_task).collect::<anyhow::Result<Vec<_>>>()?;
                let matched = tasks.len() as u64;
                if expected_count.is_some_and(|expected| expected != matched) {
                    return Ok(BulkDeletion { matched, deleted: Vec::new() });
                }
                for chunk in tasks.chunks(DELETED_PER_STATEMENT) {
                    let mut builder = sqlx::QueryBuilder::<DB>::new("DELETE FROM tasks WHERE user_id = ");
                    builder.push_bind(user.0).push(" AND id IN (");
                    let mut ids = builder.separated(", ");
                    for task in chunk {
                        ids.push_bind(task.id);
                    }
                    builder.push(")");
                    builder.build().execute(&mut **tx).await?;
                }
                tx.commit().await?;
                Ok(BulkDeletion { matched, deleted: tasks })
            })
            .await
    }

    async fn due_reminders(&self, now: Timestamp, limit: u32) -> StorageResult<Vec<(UserId, Task)>> {
        use sqlx::Row;
        let rows = sqlx::query(concat!(
            "SELECT user_id, ",
            task_columns!(),
            " FROM tasks WHERE reminder_sent = FALSE AND completed = FALSE AND due_at IS NOT NULL \
             AND reminder_offset_minutes IS NOT NULL AND due_at - reminder_offset_minutes * 60000000 <= $1 \
             ORDER BY due_at LIMIT $2"
        ))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.read_connection().await?)
        .await?;
        rows.iter()
            .map(|row| {
                let user: Uuid = row.try_get("user_id").map_err(anyhow::Error::from)?;
                Ok((UserId(user), Self::decode_task(row)?))
            })
            .collect()
    }

    async fn mark_reminder_sent(&self, task: Uuid) -> StorageResult<bool> {
        let statement = sqlx::query("UPDATE tasks SET reminder_sent = TRUE WHERE id = $1 AND reminder_sent = FALSE AND completed = FALSE")
            .bind(task);
        let result = self.writer.write(async |connection| statement.execute(connection).await).await?;
        Ok(DB::rows_affected(&result) == 1)
    }
}
