-- A deleted task is kept here, whole, for a short while (the undo window) so that "Undo"
-- brings back the same task: same id and number, tags, reminder and recurrence. The columns
-- mirror `tasks` so a restore is one INSERT … SELECT; rows past the window are pruned when
-- the next task is deleted.
CREATE TABLE deleted_tasks (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    deleted_at INTEGER NOT NULL,
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    priority TEXT NOT NULL,
    priority_rank INTEGER NOT NULL,
    tags TEXT NOT NULL,
    due_at INTEGER,
    time_zone TEXT NOT NULL,
    reminder_offset_minutes INTEGER,
    reminder_sent BOOLEAN NOT NULL,
    recurrence TEXT,
    series_id BLOB,
    series_start_at INTEGER,
    occurrence_index INTEGER NOT NULL,
    parent_task_id BLOB,
    completed BOOLEAN NOT NULL,
    completed_at INTEGER,
    search_text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX deleted_tasks_deleted_at ON deleted_tasks (deleted_at);
