-- A bounded log of per-user change events, replayed to clients that reconnect
-- with Last-Event-ID. Payloads are small; clients fetch bodies through the API.
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    user_id UUID NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_user_id ON events (user_id, id);

-- Fixed-window counters for chat rate limits (per user, per window), shared by replicas.
CREATE TABLE rate_counters (
    user_id UUID NOT NULL,
    window_key TEXT NOT NULL,
    count BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, window_key)
);
