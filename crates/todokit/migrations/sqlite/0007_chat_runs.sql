-- Which replica is writing a reply on a thread (see the PostgreSQL migration).
-- The same statements serve both backends; todokit uses these claims on
-- PostgreSQL only, where several processes share one database.
CREATE TABLE chat_runs (
    thread_id TEXT PRIMARY KEY NOT NULL REFERENCES chat_threads(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL,
    run_id BLOB NOT NULL,
    replica BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX chat_runs_replica ON chat_runs (replica);
