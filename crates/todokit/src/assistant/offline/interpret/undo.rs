//! Taking changes back: "undo", "wait, no, don't" and "oops, not 2".

use super::*;

impl Interpreter<'_> {
    /// Takes back the last change of this conversation.
    pub(super) async fn undo(&mut self) -> Step {
        let steps = std::mem::take(&mut self.state.last_change);
        if steps.is_empty() {
            self.say("There's nothing for me to undo in this conversation.");
            return Ok(());
        }
        self.undo_steps(steps).await?;
        // An undo is not itself undone by the next "undo".
        self.undoing = true;
        Ok(())
    }

    /// "wait, no, don't": takes back the change the last reply made; "oops, not 2" only task
    /// 2's part of it (the rest stays, and a later "undo" still takes it back).
    pub(super) async fn retract(&mut self, only: Option<TaskRef>) -> Step {
        if !self.state.last_reply_changed || self.state.last_change.is_empty() {
            self.say("Okay — I haven't changed anything since your last message.");
            return Ok(());
        }
        let Some(reference) = only else {
            return self.undo().await;
        };
        let (taken, kept): (Vec<Change>, Vec<Change>) = std::mem::take(&mut self.state.last_change)
            .into_iter()
            .partition(|step| step_concerns(step, &reference));
        self.state.last_change = kept;
        if taken.is_empty() {
            self.say("That task wasn't part of what I just did, so I left everything as it is.");
            return Ok(());
        }
        self.undo_steps(taken).await
    }

    /// Takes back `steps`, last first, and says what was taken back.
    pub(super) async fn undo_steps(&mut self, steps: Vec<Change>) -> Step {
        let (tools, ctx) = self.tools();
        let zone = self.now.time_zone().clone();
        let mut done = Vec::new();
        for step in steps.into_iter().rev() {
            match step {
                Change::Created { task } => {
                    let title = format!("Deleting “{}”", task.title);
                    let args = TaskIdArgs { task_id: TaskIdArg::Text(task.id.clone()) };
                    if self.turn.step(&title, "empty-circle", tools.delete_task(ctx, args)).await?.is_ok() {
                        done.push(format!("removed **{}** again", task.title));
                    }
                }
                Change::Deleted { task, kept } => {
                    // A single delete is kept for a while: the same task comes back whole.
                    let args = TaskIdArgs { task_id: TaskIdArg::Text(task.id.clone()) };
                    let title = format!("Restoring “{}”", task.title);
                    if kept
                        && let Ok(restored) =
                            self.turn.step(&title, "write", tools.restore_task(ctx, args)).await?
                    {
                        let restored = view(&restored.task);
                        done.push(format!("restored **{}**", restored.label()));
                        self.referred.push(restored);
                        continue;
                    }
                    let args = CreateTaskArgs {
                        title: task.title.clone(),
                        description: task.description.clone(),
                        due_date: task.due_at.map(|due| rfc3339(&due.to_zoned(zone.clone()))),
                        priority: Some(task.priority.clone()),
                        tags: Some(task.tags.clone()),
                        reminder: task
                            .reminder_minutes_before
                            .map(|minutes| ReminderArg::Minutes(minutes.into())),
                        recurrence: task.recurrence.as_deref().map(RecurrenceArg::from),
                    };
                    let title = format!("Restoring “{}”", task.title);
                    if let Ok(created) = self.turn.step(&title, "write", tools.create_task(ctx, args)).await?
                    {
                        let mut restored = view(&created.task);
                        if task.completed {
                            let args = CompleteTaskArgs {
                                task_id: TaskIdArg::Text(restored.id.clone()),
                                completed: true,
                            };
                            if let Ok(outcome) =
                                self.turn.step(&title, "check-circle", tools.complete_task(ctx, args)).await?
                            {
                                restored = view(&outcome.task);
                            }
                        }
                        done.push(format!("restored **{}**", restored.label()));
                        self.referred.push(restored);
                    }
                }
                Change::Completion { task_id, title, completed, .. } => {
                    let args = CompleteTaskArgs { task_id: TaskIdArg::Text(task_id), completed: !completed };
                    let step = format!("Restoring “{title}”");
                    if let Ok(outcome) =
                        self.turn.step(&step, "reload", tools.complete_task(ctx, args)).await?
                    {
                        let after = view(&outcome.task);
                        let state = if completed { "open again" } else { "complete again" };
                        done.push(format!("marked **{}** {state}", after.label()));
                        self.referred.push(after.clone());
                        self.outcome.changed.push(after);
                    }
                }
                Change::Updated { before } => {
                    let mut patch = UpdateTaskArgs::new(TaskIdArg::Text(before.id.clone()));
                    patch.title = Some(before.title.clone());
                    patch.description = Some(before.description.clone());
                    patch.priority = Some(before.priority.clone());
                    patch.tags = Some(before.tags.clone());
                    patch.due_date = Some(before.due_at.map(|due| rfc3339(&due.to_zoned(zone.clone()))));
                    patch.completed = Some(before.completed);
                    patch.reminder = Some(
                        before.reminder_minutes_before.map(|minutes| ReminderArg::Minutes(minutes.into())),
                    );
                    patch.recurrence = Some(before.recurrence.as_deref().map(RecurrenceArg::from));
                    let title = format!("Restoring “{}”", before.title);
                    if let Ok(outcome) =
                        self.turn.step(&title, "reload", tools.update_task(ctx, patch)).await?
                    {
                        let after = view(&outcome.task);
                        done.push(format!("put **{}** back as it was", after.label()));
                        self.referred.push(after.clone());
                        self.outcome.changed.push(after);
                    }
                }
            }
        }
        if done.is_empty() {
            self.say("I couldn't undo that — the task may have changed or been deleted since.");
        } else {
            self.say(format!("↩️ Undone: I {}.", done.join(", ")));
        }
        Ok(())
    }
}

/// Whether `step` changed the task `reference` names (by number, or by words of its title).
fn step_concerns(step: &Change, reference: &TaskRef) -> bool {
    let (number, title) = match step {
        Change::Created { task } | Change::Deleted { task, .. } | Change::Updated { before: task } => {
            (task.number, &task.title)
        }
        Change::Completion { number, title, .. } => (*number, title),
    };
    match reference {
        TaskRef::Number(wanted) => number == Some(i64::from(*wanted)),
        TaskRef::Title(phrase) => loosely_matches(phrase, title),
        _ => false,
    }
}
