-- One administrator: the first account. Two sign-ups racing on an empty PostgreSQL database
-- could both see no account yet; the second insert now fails on this index and is retried,
-- when it sees the first (storage/sql/accounts.rs).
CREATE UNIQUE INDEX users_one_admin ON users (is_admin) WHERE is_admin;
