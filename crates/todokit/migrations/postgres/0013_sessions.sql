-- Server-side sessions: every sign-in is a row, and a session token (JWT, claim `sid`) is
-- accepted only while its row exists. Signing out or revoking deletes the row.
CREATE TABLE sessions (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- When the token issued with it expires; a row past it is no longer listed.
    expires_at BIGINT NOT NULL,
    user_agent TEXT,
    address TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- The first account is the administrator (it may create invites). On an existing install,
-- the oldest account is.
ALTER TABLE users ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET is_admin = TRUE
    WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);
