-- A new item moves its thread up the list (threads are listed by updated_at).
-- Done here rather than by a second statement, so that saving an item is one
-- statement: the item insert, with the thread ownership check in its SELECT.
CREATE TRIGGER chat_items_touch_thread AFTER INSERT ON chat_items
BEGIN
    UPDATE chat_threads SET updated_at = max(updated_at, NEW.created_at) WHERE id = NEW.thread_id;
END;
