-- task_tags indexes tasks.tags (a JSON array) for filtering and counting. The
-- database keeps it, so that saving a task is one statement whatever its tags.
CREATE TRIGGER tasks_index_tags_on_insert AFTER INSERT ON tasks
WHEN NEW.tags <> '[]'
BEGIN
    INSERT INTO task_tags (task_id, user_id, tag)
        SELECT NEW.id, NEW.user_id, value FROM json_each(NEW.tags);
END;

CREATE TRIGGER tasks_index_tags_on_update AFTER UPDATE OF tags ON tasks
WHEN NEW.tags IS NOT OLD.tags
BEGIN
    DELETE FROM task_tags WHERE task_id = NEW.id;
    INSERT INTO task_tags (task_id, user_id, tag)
        SELECT NEW.id, NEW.user_id, value FROM json_each(NEW.tags);
END;

-- A new task is numbered task_seq + 1 by its own insert (SQLite has no
-- data-modifying WITH); this moves the sequence up in the same statement, so
-- a number is never given twice.
CREATE TRIGGER tasks_advance_user_seq AFTER INSERT ON tasks
BEGIN
    UPDATE users SET task_seq = NEW.number WHERE id = NEW.user_id AND task_seq < NEW.number;
END;
