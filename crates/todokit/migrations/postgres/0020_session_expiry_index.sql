-- The background pass deletes expired sessions (of every account) by their expiry.
CREATE INDEX sessions_expiry ON sessions (expires_at);
