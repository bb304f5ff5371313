-- A deleted task is kept here, whole, for a short while (the undo window) so that "Undo"
-- brings back the same task: same id and number, tags, reminder and recurrence. The columns
-- mirror `tasks` so a restore is one INSERT … SELECT; rows past the window are pruned when
-- the next task is deleted.
CREATE TABLE deleted_tasks (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    deleted_at BIGINT NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    priority TEXT NOT NULL,
    priority_rank BIGINT NOT NULL,
    tags TEXT NOT NULL,
    due_at BIGINT,
    time_zone TEXT NOT NULL,
    reminder_offset_minutes BIGINT,
    reminder_sent BOOLEAN NOT NULL,
    recurrence TEXT,
    series_id UUID,
    series_start_at BIGINT,
    occurrence_index BIGINT NOT NULL,
    parent_task_id UUID,
    completed BOOLEAN NOT NULL,
    completed_at BIGINT,
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deleted_tasks_deleted_at ON deleted_tasks (deleted_at);
