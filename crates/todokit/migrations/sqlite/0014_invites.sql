-- One-time invite codes for `--signup invite`: only the SHA-256 of the code is stored.
-- `created_by` is NULL for codes an operator made with `todokit invite create`.
CREATE TABLE invites (
    code_hash TEXT PRIMARY KEY NOT NULL,
    created_by BLOB REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by BLOB REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX invites_created_by ON invites (created_by);
