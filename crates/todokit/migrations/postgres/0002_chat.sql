-- ChatKit threads and items. `seq` is a monotonically increasing tie-break so
-- ordering is stable when timestamps are equal.
CREATE TABLE chat_threads (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT,
    status TEXT NOT NULL,
    allowed_image_domains TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX chat_threads_user_updated ON chat_threads (user_id, updated_at, seq);

CREATE TABLE chat_items (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL,
    thread_id TEXT NOT NULL REFERENCES chat_threads(id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    item_type TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (thread_id, id)
);
CREATE INDEX chat_items_thread_order ON chat_items (thread_id, created_at, seq);

CREATE TABLE chat_feedback (
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    thread_id TEXT NOT NULL REFERENCES chat_threads(id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('positive', 'negative')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (thread_id, item_id)
);
