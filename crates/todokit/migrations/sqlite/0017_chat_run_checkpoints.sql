-- A running reply's checkpoint: its unfinished assistant items (JSON), saved every
-- second or so, so that when its replica dies the replica that finds the lapsed
-- claim saves the words already streamed. `finishing`: a replica took the lapsed
-- claim and is saving that reply (a stop answers that nothing was running).
-- (Replicas share PostgreSQL only; the columns keep both schemas alike.)
ALTER TABLE chat_runs ADD COLUMN checkpoint TEXT;
ALTER TABLE chat_runs ADD COLUMN finishing INTEGER NOT NULL DEFAULT 0;
