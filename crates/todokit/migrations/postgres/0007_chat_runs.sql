-- Which replica is writing a reply on a thread, so that a second message to the
-- thread is refused on every replica sharing the database, and a stop sent to
-- any replica reaches the one running the reply. A claim lapses at expires_at
-- unless its replica renews it, so the threads of a replica that crashed free
-- themselves.
CREATE TABLE chat_runs (
    thread_id TEXT PRIMARY KEY REFERENCES chat_threads(id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    run_id UUID NOT NULL,
    replica UUID NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX chat_runs_replica ON chat_runs (replica);
