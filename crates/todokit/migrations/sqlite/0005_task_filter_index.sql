-- Lists filter by status and priority and sort by due time; counts add up
-- completed per user. One index serves both without reading the table rows.
CREATE INDEX tasks_user_status_priority_due ON tasks (user_id, completed, priority, due_at);
