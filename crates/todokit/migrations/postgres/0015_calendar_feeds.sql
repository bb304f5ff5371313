-- Each user's calendar feed (issue 24): the SHA-256 of its secret URL token, never the token.
-- One feed per user: creating a new one replaces the row, so the old URL stops working. The
-- feed goes with its account (account deletion relies on the cascade).
CREATE TABLE calendar_feeds (
    user_id UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
