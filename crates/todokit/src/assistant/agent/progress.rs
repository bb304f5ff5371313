//! How a tool call looks in the workflow shown above the answer.

use serde_json::Value;

/// Titles and icon of one tool call's workflow task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Description {
    /// While it runs: "Creating task “Buy milk”".
    pub running: String,
    /// After success: "Created task “Buy milk”".
    pub done: String,
    /// After failure: "Couldn't create task “Buy milk”".
    pub failed: String,
    /// An `IconName` from the ChatKit list.
    pub icon: &'static str,
}

const TITLE_CHARS: usize = 60;

/// Describes a call from its name and (possibly still unknown) arguments.
pub(crate) fn describe(name: &str, arguments: Option<&Value>) -> Description {
    let text = |key: &str| {
        arguments.and_then(|args| args.get(key)).and_then(|value| match value {
            Value::String(text) if !text.trim().is_empty() => Some(shorten(text.trim())),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        })
    };
    let flag = |key: &str| arguments.and_then(|args| args.get(key)).and_then(Value::as_bool);
    let task_ref = || match text("task_id") {
        Some(id) if id.chars().all(|c| c.is_ascii_digit()) => format!("task #{id}"),
        Some(id) => format!("task {id}"),
        None => "a task".to_owned(),
    };
    let (verb_ing, verb_ed, verb, object, icon) = match name {
        "create_task" => {
            let object = text("title").map_or_else(|| "a task".to_owned(), |title| format!("task “{title}”"));
            ("Creating", "Created", "create", object, "plus")
        }
        "list_tasks" => ("Looking up", "Looked up", "look up", "your tasks".to_owned(), "search"),
        "update_task" => ("Updating", "Updated", "update", task_ref(), "write"),
        "delete_task" => ("Deleting", "Deleted", "delete", task_ref(), "empty-circle"),
        "complete_task" if flag("completed") == Some(false) => {
            ("Reopening", "Reopened", "reopen", task_ref(), "reload")
        }
        "complete_task" => ("Completing", "Completed", "complete", task_ref(), "check-circle"),
        "complete_all_tasks" if flag("completed") == Some(false) => {
            ("Reopening", "Reopened", "reopen", "all tasks".to_owned(), "reload")
        }
        "complete_all_tasks" => {
            ("Completing", "Completed", "complete", "all tasks".to_owned(), "check-circle-filled")
        }
        "delete_all_tasks" if flag("confirmed") == Some(true) || flag("confirm") == Some(true) => {
            ("Deleting", "Deleted", "delete", "all tasks".to_owned(), "empty-circle")
        }
        "delete_all_tasks" => ("Counting", "Counted", "count", "the tasks to delete".to_owned(), "analytics"),
        other => {
            let object = format!("“{}”", shorten(other));
            return Description {
                running: format!("Running {object}"),
                done: format!("Ran {object}"),
                failed: format!("Couldn't run {object}"),
                icon: "bolt",
            };
        }
    };
    Description {
        running: format!("{verb_ing} {object}"),
        done: format!("{verb_ed} {object}"),
        failed: format!("Couldn't {verb} {object}"),
        icon,
    }
}

fn shorten(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= TITLE_CHARS {
        return collapsed;
    }
    let cut: String = collapsed.chars().take(TITLE_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn titles_name_the_task() {
        let create = describe("create_task", Some(&json!({"title": "Buy milk"})));
        assert_eq!(create.running, "Creating task “Buy milk”");
        assert_eq!(create.done, "Created task “Buy milk”");
        assert_eq!(create.failed, "Couldn't create task “Buy milk”");
        assert_eq!(describe("create_task", None).running, "Creating a task");
        assert_eq!(describe("complete_task", Some(&json!({"task_id": "3"}))).running, "Completing task #3");
        assert_eq!(
            describe("complete_task", Some(&json!({"task_id": 3, "completed": false}))).done,
            "Reopened task #3"
        );
        assert_eq!(
            describe("delete_all_tasks", Some(&json!({"confirmed": false}))).running,
            "Counting the tasks to delete"
        );
        assert_eq!(describe("delete_all_tasks", Some(&json!({"confirmed": true}))).done, "Deleted all tasks");
        assert_eq!(describe("frobnicate", None).running, "Running “frobnicate”");
        assert!(
            describe("create_task", Some(&json!({"title": "x".repeat(200)}))).running.chars().count() < 90
        );
    }

    #[test]
    fn icons_are_valid_chatkit_icon_names() {
        // ChatKit's `IconName` literals (openai-chatkit 1.6.5, the version the README names).
        const VALID: &[&str] = &[
            "plus",
            "search",
            "write",
            "empty-circle",
            "reload",
            "check-circle",
            "check-circle-filled",
            "analytics",
            "bolt",
        ];
        for name in [
            "create_task",
            "list_tasks",
            "update_task",
            "delete_task",
            "complete_task",
            "complete_all_tasks",
            "delete_all_tasks",
            "other",
        ] {
            for args in [json!({}), json!({"completed": false, "confirmed": true})] {
                let icon = describe(name, Some(&args)).icon;
                assert!(VALID.contains(&icon), "{name}: {icon}");
            }
        }
    }
}
