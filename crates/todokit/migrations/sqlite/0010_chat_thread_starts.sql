-- A new thread and its first item (the user's message) in one statement:
-- SQLite has no data-modifying WITH, so `threads.create` inserts one row into
-- this view and the trigger writes both, atomically (PostgreSQL does the same
-- with WITH clauses, no migration needed). The view itself lists nothing.
CREATE VIEW chat_thread_starts AS
SELECT t.id, t.user_id, t.title, t.status, t.allowed_image_domains, t.metadata, t.created_at, t.updated_at,
       i.id AS item_id, i.item_type, i.data AS item_data, i.created_at AS item_created_at
FROM chat_threads t JOIN chat_items i ON i.thread_id = t.id
WHERE 0;

CREATE TRIGGER chat_thread_starts_insert INSTEAD OF INSERT ON chat_thread_starts
BEGIN
    INSERT INTO chat_threads (id, user_id, title, status, allowed_image_domains, metadata, created_at, updated_at)
        VALUES (NEW.id, NEW.user_id, NEW.title, NEW.status, NEW.allowed_image_domains, NEW.metadata,
                NEW.created_at, NEW.updated_at);
    INSERT INTO chat_items (id, thread_id, user_id, item_type, data, created_at)
        VALUES (NEW.item_id, NEW.id, NEW.user_id, NEW.item_type, NEW.item_data, NEW.item_created_at);
END;
