-- A new item moves its thread up the list (0006), now once per statement instead
-- of once per item, and only when the thread's time actually moves: a reply saves
-- several items in one statement, and every UPDATE writes a new row version of the
-- thread (and, as updated_at is indexed, new index entries), even one that changes
-- nothing. Same effect as before: updated_at becomes the newest item's time if
-- that is later, never earlier.
CREATE FUNCTION chat_items_touch_threads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chat_threads t SET updated_at = n.created_at
    FROM (SELECT thread_id, max(created_at) AS created_at FROM new_items GROUP BY thread_id) AS n
    WHERE t.id = n.thread_id AND t.updated_at < n.created_at;
    RETURN NULL;
END;
$$;
DROP TRIGGER chat_items_touch_thread ON chat_items;
DROP FUNCTION chat_items_touch_thread();
CREATE TRIGGER chat_items_touch_threads AFTER INSERT ON chat_items
    REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION chat_items_touch_threads();
