-- Timestamps are integer microseconds since the Unix epoch (UTC) on both backends so that
-- the same SQL text serves SQLite and PostgreSQL and ordering is exact.
CREATE TABLE users (
    id UUID PRIMARY KEY,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    task_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE tasks (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    priority TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
    priority_rank BIGINT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    due_at BIGINT,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    reminder_offset_minutes BIGINT,
    reminder_sent BOOLEAN NOT NULL DEFAULT FALSE,
    recurrence TEXT,
    series_id UUID,
    series_start_at BIGINT,
    occurrence_index BIGINT NOT NULL DEFAULT 0,
    parent_task_id UUID REFERENCES tasks(id) ON DELETE SET NULL,
    completed BOOLEAN NOT NULL DEFAULT FALSE,
    completed_at BIGINT,
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (user_id, number),
    UNIQUE (series_id, occurrence_index),
    CHECK (parent_task_id IS NULL OR parent_task_id <> id)
);
CREATE INDEX tasks_user_due ON tasks (user_id, due_at);
CREATE INDEX tasks_user_created ON tasks (user_id, created_at);
CREATE INDEX tasks_unsent_reminders ON tasks (due_at) WHERE reminder_sent = FALSE AND completed = FALSE AND reminder_offset_minutes IS NOT NULL;

CREATE TABLE task_tags (
    task_id UUID NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (task_id, tag)
);
CREATE INDEX task_tags_user_tag ON task_tags (user_id, tag);
