-- Where the replica writing a reply can be reached by the others, so that a
-- client re-attaching through any replica is relayed the reply from the one
-- writing it. NULL: that replica did not say (it listens on every address and
-- TODOKIT_ADVERTISE_URL is not set).
ALTER TABLE chat_runs ADD COLUMN replica_url TEXT;
