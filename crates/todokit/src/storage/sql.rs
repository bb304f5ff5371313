//! The SQL shared by both backends. SQLite accepts `$n` placeholders, and the
//! schema keeps to types both understand (UUID, BIGINT microseconds, TEXT
//! JSON), so one body of code serves both; the macro stamps it out per driver
//! because sqlx's generic executor bounds would be harder to read than this.

use anyhow::Context;
use jiff::Timestamp;
use todokit_domain::{Priority, Recurrence};
use uuid::Uuid;

use super::postgres::PostgresStorage;
use super::sqlite::SqliteStorage;
use super::{from_micros, micros};
use crate::tasks::model::{NewTask, SortKey, SortOrder, Task, TaskFilter, TaskPatch};

macro_rules! task_columns {
    () => {
        "id, number, title, description, priority, tags, due_at, time_zone, \
         reminder_offset_minutes, reminder_sent, recurrence, series_id, series_start_at, \
         occurrence_index, parent_task_id, completed, completed_at, created_at, updated_at"
    };
}

/// Lower-cased text that substring search runs over, kept in a column so the
/// search is Unicode-aware on both backends.
fn search_text(title: &str, description: Option<&str>) -> String {
    let mut text = title.to_lowercase();
    if let Some(description) = description {
        text.push('\n');
        text.push_str(&description.to_lowercase());
    }
    text
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(needle: &str) -> String {
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

fn order_by(sort: SortKey, order: SortOrder) -> &'static str {
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

/// A task built in Rust from a validated input, ready to insert.
fn new_task_record(task: &NewTask, number: i64, now: Timestamp) -> Task {
    let id = Uuid::now_v7();
    let recurring = task.recurrence.is_some() && task.due_at.is_some();
    Task {
        id,
        number,
        title: task.title.as_str().to_owned(),
        description: task.description.as_ref().map(|d| d.as_str().to_owned()).filter(|d| !d.is_empty()),
        priority: task.priority,
        tags: task.tags.as_slice().to_vec(),
        due_at: task.due_at,
        time_zone: task.time_zone.clone(),
        reminder_offset_minutes: task.reminder.map(|r| r.minutes()),
        reminder_sent: false,
        recurrence: task.recurrence.clone(),
        parent_task_id: None,
        completed: task.completed,
        completed_at: task.completed.then_some(now),
        created_at: now,
        updated_at: now,
        occurrence_index: 0,
        series_id: recurring.then_some(id),
        series_start_at: if recurring { task.due_at } else { None },
    }
}

/// Applies a validated patch to a stored task. Returns whether anything changed.
fn apply_patch(task: &mut Task, patch: &TaskPatch) -> bool {
    let before = task.clone();
    if let Some(title) = &patch.title {
        task.title = title.as_str().to_owned();
    }
    if let Some(description) = &patch.description {
        task.description = description.as_ref().map(|d| d.as_str().to_owned()).filter(|d| !d.is_empty());
    }
    if let Some(priority) = patch.priority {
        task.priority = priority;
    }
    if let Some(tags) = &patch.tags {
        task.tags = tags.as_slice().to_vec();
    }
    if let Some(zone) = &patch.time_zone {
        task.time_zone = zone.clone();
    }
    if let Some(due_at) = patch.due_at {
        if task.due_at != due_at {
            // A new due time is a new schedule: reminders fire again.
            task.reminder_sent = false;
        }
        task.due_at = due_at;
    }
    if let Some(reminder) = patch.reminder {
        task.reminder_offset_minutes = reminder.map(|r| r.minutes());
        task.reminder_sent = false;
    }
    if let Some(recurrence) = &patch.recurrence {
        task.recurrence = recurrence.clone();
    }
    // The series restarts from the current due time whenever the schedule changes.
    let schedule_changed = before.due_at != task.due_at || before.recurrence != task.recurrence;
    if schedule_changed {
        match (task.recurrence.is_some(), task.due_at) {
            (true, Some(due)) => {
                task.series_id = Some(Uuid::now_v7());
                task.series_start_at = Some(due);
                task.occurrence_index = 0;
            }
            _ => {
                task.series_id = None;
                task.series_start_at = None;
                task.occurrence_index = 0;
            }
        }
    }
    *task != before || task.series_id != before.series_id
}

/// The next occurrence of a recurring task, if the rule allows one.
fn next_occurrence(task: &Task, number: i64, now: Timestamp) -> Option<Task> {
    let recurrence: &Recurrence = task.recurrence.as_ref()?;
    let series_id = task.series_id?;
    let series_start = task.series_start_at?;
    let zone = jiff::tz::TimeZone::get(&task.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let index = task.occurrence_index + 1;
    let due = recurrence.occurrence_due(series_start, &zone, index)?;
    Some(Task {
        id: Uuid::now_v7(),
        number,
        title: task.title.clone(),
        description: task.description.clone(),
        priority: task.priority,
        tags: task.tags.clone(),
        due_at: Some(due),
        time_zone: task.time_zone.clone(),
        reminder_offset_minutes: task.reminder_offset_minutes,
        reminder_sent: false,
        recurrence: task.recurrence.clone(),
        parent_task_id: Some(task.id),
        completed: false,
        completed_at: None,
        created_at: now,
        updated_at: now,
        occurrence_index: index,
        series_id: Some(series_id),
        series_start_at: Some(series_start),
    })
}

fn decode_priority(raw: &str) -> anyhow::Result<Priority> {
    Priority::parse(raw).map_err(|err| anyhow::anyhow!("stored priority {raw:?}: {err}"))
}

fn decode_tags(raw: &str) -> anyhow::Result<Vec<String>> {
    serde_json::from_str(raw).context("stored tags are not a JSON array")
}

fn decode_recurrence(raw: Option<String>) -> anyhow::Result<Option<Recurrence>> {
    raw.map(|raw| serde_json::from_str(&raw).context("stored recurrence is not valid")).transpose()
}

fn encode_recurrence(recurrence: Option<&Recurrence>) -> anyhow::Result<Option<String>> {
    recurrence.map(|r| serde_json::to_string(r).context("recurrence does not serialize")).transpose()
}

/// Tasks deleted by one statement of a bulk delete: well under either database's limit on
/// bound values.
const DELETED_PER_STATEMENT: usize = 500;

macro_rules! task_repository {
    ($name:ident, $db:ty) => {
        impl $name {
            fn decode_task(row: &<$db as sqlx::Database>::Row) -> anyhow::Result<Task> {
                use sqlx::Row;
                let optional_time = |value: Option<i64>| value.map(from_micros).transpose();
                Ok(Task {
                    id: row.try_get("id")?,
                    number: row.try_get("number")?,
                    title: row.try_get("title")?,
                    description: row.try_get("description")?,
                    priority: decode_priority(&row.try_get::<String, _>("priority")?)?,
                    tags: decode_tags(&row.try_get::<String, _>("tags")?)?,
                    due_at: optional_time(row.try_get("due_at")?)?,
                    time_zone: row.try_get("time_zone")?,
                    reminder_offset_minutes: row
                        .try_get::<Option<i64>, _>("reminder_offset_minutes")?
                        .map(u32::try_from)
                        .transpose()?,
                    reminder_sent: row.try_get("reminder_sent")?,
                    recurrence: decode_recurrence(row.try_get("recurrence")?)?,
                    series_id: row.try_get("series_id")?,
                    series_start_at: optional_time(row.try_get("series_start_at")?)?,
                    occurrence_index: u32::try_from(row.try_get::<i64, _>("occurrence_index")?)?,
                    parent_task_id: row.try_get("parent_task_id")?,
                    completed: row.try_get("completed")?,
                    completed_at: optional_time(row.try_get("completed_at")?)?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    updated_at: from_micros(row.try_get("updated_at")?)?,
                })
            }

            async fn allocate_number(
                tx: &mut super::writer::WriteTransaction<$db>,
                user: Uuid,
            ) -> Result<i64, sqlx::Error> {
                sqlx::query_scalar(
                    "UPDATE users SET task_seq = task_seq + 1 WHERE id = $1 RETURNING task_seq",
                )
                .bind(user)
                .fetch_all(&mut **tx)
                .await?
                .first()
                .copied()
                .ok_or(sqlx::Error::RowNotFound)
            }

            /// Inserts `task`, numbered `task.number` (the database indexes its tags).
            async fn insert_task(
                tx: &mut super::writer::WriteTransaction<$db>,
                user: Uuid,
                task: &Task,
            ) -> super::StorageResult<()> {
                // The number is the last parameter, so the fields bind the same way when the
                // database draws the number itself (`insert_new_task`).
                let insert = sqlx::query(concat!(
                    "INSERT INTO tasks (",
                    task_columns!(),
                    ", user_id, priority_rank, search_text) VALUES ($1, $22, $2, $3, $4, $5, $6, $7, $8, \
                     $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
                ));
                Self::bind_task_fields(insert, user, task)?.bind(task.number).execute(&mut **tx).await?;
                Ok(())
            }

            /// Inserts a new task with the user's next number, drawn by the database as it inserts,
            /// in one statement (`INSERT_NEW_TASK`, per backend; the database indexes its tags).
            async fn insert_new_task(&self, user: Uuid, mut task: Task) -> super::StorageResult<Task> {
                let insert = Self::bind_task_fields(sqlx::query(Self::INSERT_NEW_TASK), user, &task)?;
                let row = self.writer.write(async |connection| insert.fetch_one(connection).await).await?;
                task.number = sqlx::Row::try_get(&row, "number")?;
                Ok(task)
            }

            /// Binds every field of `task` but its number, as `$1`–`$21` in `insert_task`'s order
            /// (also `save_task`'s).
            fn bind_task_fields<'q>(
                query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>,
                user: Uuid,
                task: &'q Task,
            ) -> anyhow::Result<sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>> {
                Ok(query
                    .bind(task.id)
                    .bind(&task.title)
                    .bind(&task.description)
                    .bind(task.priority.as_str())
                    .bind(serde_json::to_string(&task.tags).context("tags")?)
                    .bind(task.due_at.map(micros))
                    .bind(&task.time_zone)
                    .bind(task.reminder_offset_minutes.map(i64::from))
                    .bind(task.reminder_sent)
                    .bind(encode_recurrence(task.recurrence.as_ref())?)
                    .bind(task.series_id)
                    .bind(task.series_start_at.map(micros))
                    .bind(i64::from(task.occurrence_index))
                    .bind(task.parent_task_id)
                    .bind(task.completed)
                    .bind(task.completed_at.map(micros))
                    .bind(micros(task.created_at))
                    .bind(micros(task.updated_at))
                    .bind(user)
                    .bind(i64::from(task.priority.rank()))
                    .bind(search_text(&task.title, task.description.as_deref())))
            }

            async fn save_task(
                tx: &mut super::writer::WriteTransaction<$db>,
                user: Uuid,
                task: &Task,
            ) -> super::StorageResult<()> {
                // `insert_task`'s parameters; the number, `parent_task_id` ($14) and
                // `created_at` ($17) never change.
                let update = sqlx::query(
                    "UPDATE tasks SET title = $2, description = $3, priority = $4, tags = $5, due_at = $6, \
                     time_zone = $7, reminder_offset_minutes = $8, reminder_sent = $9, recurrence = $10, \
                     series_id = $11, series_start_at = $12, occurrence_index = $13, completed = $15, \
                     completed_at = $16, updated_at = $18, priority_rank = $20, search_text = $21 \
                     WHERE id = $1 AND user_id = $19",
                );
                Self::bind_task_fields(update, user, task)?.execute(&mut **tx).await?;
                Ok(())
            }

            async fn load_task<'e, E>(
                executor: E,
                user: Uuid,
                key: crate::tasks::model::TaskKey,
            ) -> super::StorageResult<Option<Task>>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                use crate::tasks::model::TaskKey;
                let row = match key {
                    TaskKey::Id(id) => {
                        sqlx::query(concat!(
                            "SELECT ",
                            task_columns!(),
                            " FROM tasks WHERE user_id = $1 AND id = $2"
                        ))
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

            /// The page of tasks `query` asks for (tests put `EXPLAIN` before it).
            fn push_list(
                builder: &mut sqlx::QueryBuilder<$db>,
                user: Uuid,
                query: &crate::tasks::model::TaskQuery,
            ) {
                builder.push(concat!("SELECT ", task_columns!(), " FROM tasks"));
                Self::push_filter(builder, user, &query.filter);
                builder.push(order_by(query.sort, query.order));
                builder.push(" LIMIT ").push_bind(i64::from(query.limit));
                builder.push(" OFFSET ").push_bind(i64::from(query.offset));
            }

            fn push_filter(
                builder: &mut sqlx::QueryBuilder<$db>,
                user: Uuid,
                filter: &TaskFilter,
            ) {
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
                    builder
                        .push(" AND search_text LIKE ")
                        .push_bind(like_pattern(search))
                        .push(" ESCAPE '\\'");
                }
            }

            /// Completes or reopens one loaded task inside `tx`.
            async fn complete_in_tx(
                tx: &mut super::writer::WriteTransaction<$db>,
                user: Uuid,
                mut task: Task,
                completed: bool,
                now: Timestamp,
            ) -> super::StorageResult<crate::tasks::model::Completion> {
                use crate::tasks::model::Completion;
                if task.completed == completed {
                    return Ok(Completion { task, next_instance: None });
                }
                task.completed = completed;
                task.completed_at = completed.then_some(now);
                task.updated_at = now;
                Self::save_task(tx, user, &task).await?;
                let mut next_instance = None;
                if completed && task.recurrence.is_some() {
                    let already_exists: Option<Uuid> = sqlx::query_scalar(
                        "SELECT id FROM tasks WHERE series_id = $1 AND occurrence_index = $2",
                    )
                    .bind(task.series_id)
                    .bind(i64::from(task.occurrence_index) + 1)
                    .fetch_optional(&mut **tx)
                    .await?;
                    if already_exists.is_none() && next_occurrence(&task, 0, now).is_some() {
                        let number = Self::allocate_number(tx, user).await?;
                        if let Some(next) = next_occurrence(&task, number, now) {
                            Self::insert_task(tx, user, &next).await?;
                            next_instance = Some(next);
                        }
                    }
                }
                Ok(Completion { task, next_instance })
            }
        }

        #[async_trait::async_trait]
        impl crate::tasks::TaskRepository for $name {
            async fn create_task(
                &self,
                user: crate::tasks::model::UserId,
                task: &NewTask,
                now: Timestamp,
            ) -> super::StorageResult<Task> {
                // Numbered by the database as it is inserted.
                self.insert_new_task(user.0, new_task_record(task, 0, now)).await
            }

            async fn get_task(
                &self,
                user: crate::tasks::model::UserId,
                key: crate::tasks::model::TaskKey,
            ) -> super::StorageResult<Option<Task>> {
                Self::load_task(&mut *self.read_connection().await?, user.0, key).await
            }

            async fn update_task(
                &self,
                user: crate::tasks::model::UserId,
                key: crate::tasks::model::TaskKey,
                patch: &TaskPatch,
                now: Timestamp,
            ) -> super::StorageResult<Option<Task>> {
                self.writer.transaction(async |tx| {
                let Some(mut task) = Self::load_task(&mut **tx, user.0, key).await? else {
                    return Ok(None);
                };
                if apply_patch(&mut task, patch) {
                    task.updated_at = now;
                    Self::save_task(tx, user.0, &task).await?;
                    tx.commit().await?;
                }
                Ok(Some(task))
                }).await
            }

            async fn delete_task(
                &self,
                user: crate::tasks::model::UserId,
                key: crate::tasks::model::TaskKey,
                now: Timestamp,
                prune_before: Timestamp,
            ) -> super::StorageResult<Option<Task>> {
                self.writer.transaction(async |tx| {
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
                }).await
            }

            async fn restore_task(
                &self,
                user: crate::tasks::model::UserId,
                id: Uuid,
                deleted_since: Timestamp,
            ) -> super::StorageResult<Option<Task>> {
                self.writer.transaction(async |tx| {
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
                    Ok(result) => result.rows_affected(),
                    Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                        return Err(super::StorageError::Conflict(
                            "This task cannot come back: its place in the repeating series is taken".into(),
                        ));
                    }
                    Err(err) => return Err(err.into()),
                };
                if restored == 0 {
                    return Ok(None);
                }
                sqlx::query("DELETE FROM deleted_tasks WHERE id = $1").bind(id).execute(&mut **tx).await?;
                let task = Self::load_task(&mut **tx, user.0, crate::tasks::model::TaskKey::Id(id)).await?;
                tx.commit().await?;
                Ok(task)
                }).await
            }

            async fn set_completed(
                &self,
                user: crate::tasks::model::UserId,
                key: crate::tasks::model::TaskKey,
                completed: bool,
                now: Timestamp,
            ) -> super::StorageResult<Option<crate::tasks::model::Completion>> {
                self.writer.transaction(async |tx| {
                let Some(task) = Self::load_task(&mut **tx, user.0, key).await? else {
                    return Ok(None);
                };
                let completion = Self::complete_in_tx(tx, user.0, task, completed, now).await?;
                tx.commit().await?;
                Ok(Some(completion))
                }).await
            }

            async fn list_tasks(
                &self,
                user: crate::tasks::model::UserId,
                query: &crate::tasks::model::TaskQuery,
            ) -> super::StorageResult<crate::tasks::model::TaskPage> {
                let mut builder = sqlx::QueryBuilder::<$db>::new("");
                Self::push_list(&mut builder, user.0, query);
                let rows = builder.build().fetch_all(&mut *self.read_connection().await?).await?;
                let tasks = rows.iter().map(Self::decode_task).collect::<anyhow::Result<Vec<_>>>()?;

                let mut count = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM tasks");
                Self::push_filter(&mut count, user.0, &query.filter);
                let total: i64 =
                    count.build_query_scalar().fetch_one(&mut *self.read_connection().await?).await?;
                Ok(crate::tasks::model::TaskPage { tasks, total: u64::try_from(total).unwrap_or(0) })
            }

            async fn count_tasks(
                &self,
                user: crate::tasks::model::UserId,
                filter: &TaskFilter,
            ) -> super::StorageResult<crate::tasks::model::TaskCounts> {
                use sqlx::Row;
                let mut builder = sqlx::QueryBuilder::<$db>::new(
                    "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN completed THEN 1 ELSE 0 END), 0) AS done FROM tasks",
                );
                Self::push_filter(&mut builder, user.0, filter);
                let row = builder.build().fetch_one(&mut *self.read_connection().await?).await?;
                let total = u64::try_from(row.try_get::<i64, _>("total")?).unwrap_or(0);
                let completed = u64::try_from(row.try_get::<i64, _>("done")?).unwrap_or(0);
                Ok(crate::tasks::model::TaskCounts { total, completed, pending: total - completed.min(total) })
            }

            async fn tag_counts(
                &self,
                user: crate::tasks::model::UserId,
            ) -> super::StorageResult<Vec<crate::tasks::model::TagCount>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT tag, COUNT(*) AS uses FROM task_tags WHERE user_id = $1 \
                     GROUP BY tag ORDER BY uses DESC, tag ASC",
                )
                .bind(user.0)
                .fetch_all(&mut *self.read_connection().await?)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(name, count)| crate::tasks::model::TagCount { name, count: u64::try_from(count).unwrap_or(0) })
                    .collect())
            }

            async fn set_completed_matching(
                &self,
                user: crate::tasks::model::UserId,
                filter: &TaskFilter,
                completed: bool,
                now: Timestamp,
            ) -> super::StorageResult<crate::tasks::model::BulkOutcome> {
                self.writer.transaction(async |tx| {
                let mut builder = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", task_columns!(), " FROM tasks"));
                Self::push_filter(&mut builder, user.0, filter);
                builder.push(" ORDER BY number ASC");
                let rows = builder.build().fetch_all(&mut **tx).await?;
                let tasks = rows.iter().map(Self::decode_task).collect::<anyhow::Result<Vec<_>>>()?;
                let mut outcome = crate::tasks::model::BulkOutcome { total_count: tasks.len() as u64, ..Default::default() };
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
                }).await
            }

            async fn delete_matching(
                &self,
                user: crate::tasks::model::UserId,
                filter: &TaskFilter,
                expected_count: Option<u64>,
            ) -> super::StorageResult<crate::tasks::model::BulkDeletion> {
                // One write transaction: the tasks counted are exactly the tasks deleted.
                self.writer.transaction(async |tx| {
                let mut builder = sqlx::QueryBuilder::<$db>::new(concat!("SELECT ", task_columns!(), " FROM tasks"));
                Self::push_filter(&mut builder, user.0, filter);
                builder.push(" ORDER BY number ASC");
                let rows = builder.build().fetch_all(&mut **tx).await?;
                let tasks = rows.iter().map(Self::decode_task).collect::<anyhow::Result<Vec<_>>>()?;
                let matched = tasks.len() as u64;
                if expected_count.is_some_and(|expected| expected != matched) {
                    return Ok(crate::tasks::model::BulkDeletion { matched, deleted: Vec::new() });
                }
                for chunk in tasks.chunks(DELETED_PER_STATEMENT) {
                    let mut builder = sqlx::QueryBuilder::<$db>::new("DELETE FROM tasks WHERE user_id = ");
                    builder.push_bind(user.0).push(" AND id IN (");
                    let mut ids = builder.separated(", ");
                    for task in chunk {
                        ids.push_bind(task.id);
                    }
                    builder.push(")");
                    builder.build().execute(&mut **tx).await?;
                }
                tx.commit().await?;
                Ok(crate::tasks::model::BulkDeletion { matched, deleted: tasks })
                }).await
            }

            async fn due_reminders(
                &self,
                now: Timestamp,
                limit: u32,
            ) -> super::StorageResult<Vec<(crate::tasks::model::UserId, Task)>> {
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
                        Ok((crate::tasks::model::UserId(user), Self::decode_task(row)?))
                    })
                    .collect()
            }

            async fn mark_reminder_sent(&self, task: Uuid) -> super::StorageResult<bool> {
                let result = self.writer.write(async |connection| sqlx::query("UPDATE tasks SET reminder_sent = TRUE WHERE id = $1 AND reminder_sent = FALSE AND completed = FALSE")
                    .bind(task).execute(connection).await).await?;
                Ok(result.rows_affected() == 1)
            }
        }

    };
}

task_repository!(SqliteStorage, sqlx::Sqlite);
task_repository!(PostgresStorage, sqlx::Postgres);

impl SqliteStorage {
    /// `insert_new_task`'s statement. SQLite has no data-modifying `WITH`: the insert numbers
    /// the task from the user's sequence, and a trigger moves the sequence up in the same
    /// statement (migration 0009). One statement is one hand-off to the connection's thread,
    /// where a transaction (`BEGIN IMMEDIATE`, number, insert, `COMMIT`) was four.
    const INSERT_NEW_TASK: &'static str = concat!(
        "INSERT INTO tasks (",
        task_columns!(),
        ", user_id, priority_rank, search_text) SELECT $1, task_seq + 1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21 FROM users WHERE id = $19 \
         RETURNING number"
    );
}

impl PostgresStorage {
    /// `insert_new_task`'s statement: the user's row stays locked for the number only while it
    /// runs, not across round trips, so one user's concurrent creates queue far less.
    const INSERT_NEW_TASK: &'static str = concat!(
        "WITH numbered AS (UPDATE users SET task_seq = task_seq + 1 WHERE id = $19 RETURNING task_seq) \
         INSERT INTO tasks (",
        task_columns!(),
        ", user_id, priority_rank, search_text) SELECT $1, task_seq, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21 FROM numbered RETURNING number"
    );
}

#[cfg(test)]
mod tests {
    use sqlx::Row;
    use sqlx::postgres::PgConnectOptions;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use sqlx::{ConnectOptions, Connection};

    use super::*;
    use crate::tasks::model::TaskQuery;

    /// The list's usual first pages, in its default order (due time, tasks without one last):
    /// every status; pending or done; one status and priority.
    fn usual_first_pages() -> Vec<TaskQuery> {
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

    /// A long list's first page is read in order from an index, not sorted whole.
    #[tokio::test]
    async fn sqlite_reads_the_usual_first_pages_in_order_from_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let options =
            SqliteConnectOptions::new().filename(dir.path().join("plans.db")).create_if_missing(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        sqlx::migrate!("./migrations/sqlite").run(&pool).await.unwrap();
        for query in usual_first_pages() {
            let mut explain = sqlx::QueryBuilder::new("EXPLAIN QUERY PLAN ");
            SqliteStorage::push_list(&mut explain, Uuid::now_v7(), &query);
            let plan: Vec<String> =
                explain.build().fetch_all(&pool).await.unwrap().iter().map(|row| row.get("detail")).collect();
            assert!(plan.iter().any(|step| step.contains("USING INDEX tasks_user")), "{query:?}: {plan:?}");
            assert!(plan.iter().all(|step| !step.contains("TEMP B-TREE")), "{query:?} sorts: {plan:?}");
        }
    }

    /// The same on PostgreSQL: with sorting priced out, the planner still finds a plan without
    /// a sort, so an index gives the order. (On an empty table it would otherwise rightly sort.)
    #[tokio::test]
    async fn postgres_can_read_the_usual_first_pages_in_order_from_an_index() {
        let url = std::env::var("TODOKIT_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let admin: PgConnectOptions = url.parse().unwrap();
        let mut conn = match admin.connect().await {
            Ok(conn) => conn,
            Err(err) if std::env::var_os("CI").is_none() => {
                // As the integration tests' `helpers::skipped` does: libtest hides this output.
                let test = std::thread::current().name().unwrap_or("?").to_owned();
                let reason = format!("SKIPPED {test}: PostgreSQL unreachable at {url}: {err}");
                eprintln!("\n!!!!! {reason} !!!!!\n");
                if let Some(log) = std::env::var_os("TODOKIT_SKIPPED_LOG") {
                    use std::io::Write;
                    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
                    writeln!(log, "{reason}").unwrap();
                }
                return;
            }
            Err(err) => panic!("PostgreSQL is required in CI but unreachable: {err}"),
        };
        let schema = format!("plans_{}", Uuid::now_v7().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.unwrap();
        let mut in_schema = admin.options([("search_path", schema.as_str())]).connect().await.unwrap();
        sqlx::migrate!("./migrations/postgres").run(&mut in_schema).await.unwrap();
        sqlx::raw_sql("SET enable_sort = off; SET enable_seqscan = off")
            .execute(&mut in_schema)
            .await
            .unwrap();
        let mut failures = Vec::new();
        for query in usual_first_pages() {
            let mut explain = sqlx::QueryBuilder::new("EXPLAIN ");
            PostgresStorage::push_list(&mut explain, Uuid::now_v7(), &query);
            let plan: Vec<String> = explain
                .build()
                .fetch_all(&mut in_schema)
                .await
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect();
            let in_order = plan.iter().any(|step| step.contains("Index Scan using tasks_user"))
                && plan
                    .iter()
                    .all(|step| !step.trim_start().trim_start_matches("->").trim().starts_with("Sort"));
            if !in_order {
                failures.push(format!("{query:?}: {plan:#?}"));
            }
        }
        in_schema.close().await.ok();
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&mut conn)
            .await
            .unwrap();
        assert!(failures.is_empty(), "sorted instead of read in order:\n{}", failures.join("\n"));
    }
}
