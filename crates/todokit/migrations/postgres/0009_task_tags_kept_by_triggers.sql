-- task_tags indexes tasks.tags (a JSON array) for filtering and counting. The
-- database keeps it, so that saving a task is one statement whatever its tags.
-- The WHEN clauses are checked without calling the function: a task without
-- tags, or a save that leaves them as they were, costs nothing here.
CREATE FUNCTION tasks_index_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM task_tags WHERE task_id = NEW.id;
    END IF;
    INSERT INTO task_tags (task_id, user_id, tag)
        SELECT NEW.id, NEW.user_id, tag FROM json_array_elements_text(NEW.tags::json) AS tag;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_index_tags_on_insert AFTER INSERT ON tasks
    FOR EACH ROW WHEN (NEW.tags <> '[]') EXECUTE FUNCTION tasks_index_tags();

CREATE TRIGGER tasks_index_tags_on_update AFTER UPDATE OF tags ON tasks
    FOR EACH ROW WHEN (OLD.tags IS DISTINCT FROM NEW.tags) EXECUTE FUNCTION tasks_index_tags();
