//! The events of one assistant turn, shaped like a model's: tool calls as tasks of one
//! `custom` workflow, then the answer streamed as an `assistant_message`.

use chatkit::{
    AssistantMessageContent, EventSink, IdKind, ItemKind, StreamClosed, Task, TaskKind, TaskStatusIndicator,
    ThreadItem, ThreadItemUpdate, ThreadStreamEvent, Workflow, WorkflowKind, WorkflowSummary, new_id,
    new_message_id,
};

/// How many `text_delta` events a reply is split into (at most).
const TEXT_CHUNKS: usize = 4;

pub(super) struct Turn {
    sink: EventSink,
    thread_id: String,
    workflow: Option<OpenWorkflow>,
}

struct OpenWorkflow {
    item: ThreadItem,
    tasks: Vec<Task>,
}

fn custom_task(title: &str, icon: &str, status: TaskStatusIndicator) -> Task {
    Task {
        status_indicator: status,
        kind: TaskKind::Custom { title: Some(title.to_owned()), icon: Some(icon.to_owned()), content: None },
    }
}

impl Turn {
    pub(super) fn new(sink: EventSink, thread_id: String) -> Self {
        Self { sink, thread_id, workflow: None }
    }

    pub(super) fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// Runs one tool call (`call`), shown as a workflow task that spins until it returns. A
    /// call that failed is never shown as done: it gets no check mark.
    pub(super) async fn step<T, E>(
        &mut self,
        title: &str,
        icon: &str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<Result<T, E>, StreamClosed> {
        if self.workflow.is_none() {
            let workflow =
                Workflow { kind: WorkflowKind::Custom, tasks: Vec::new(), summary: None, expanded: false };
            let item =
                ThreadItem::new(new_id(IdKind::Workflow), &self.thread_id, ItemKind::Workflow { workflow });
            self.sink.send(ThreadStreamEvent::ThreadItemAdded { item: item.clone() }).await?;
            self.workflow = Some(OpenWorkflow { item, tasks: Vec::new() });
        }
        let (item_id, task_index) = match &self.workflow {
            Some(open) => (open.item.id.clone(), open.tasks.len()),
            None => unreachable!("opened above"),
        };
        let loading = custom_task(title, icon, TaskStatusIndicator::Loading);
        self.sink
            .send(ThreadStreamEvent::ThreadItemUpdated {
                item_id: item_id.clone(),
                update: ThreadItemUpdate::WorkflowTaskAdded { task_index, task: loading.clone() },
            })
            .await?;
        if let Some(open) = &mut self.workflow {
            open.tasks.push(loading);
        }
        let output = call.await;
        let status = if output.is_ok() { TaskStatusIndicator::Complete } else { TaskStatusIndicator::None };
        let complete = custom_task(title, icon, status);
        self.sink
            .send(ThreadStreamEvent::ThreadItemUpdated {
                item_id,
                update: ThreadItemUpdate::WorkflowTaskUpdated { task_index, task: complete.clone() },
            })
            .await?;
        if let Some(open) = &mut self.workflow {
            open.tasks[task_index] = complete;
        }
        Ok(output)
    }

    /// Ends the workflow (if any tool ran), as a model integration does when the answer starts.
    async fn finish_workflow(&mut self) -> Result<(), StreamClosed> {
        let Some(OpenWorkflow { mut item, tasks }) = self.workflow.take() else { return Ok(()) };
        let summary = match tasks.as_slice() {
            [Task { kind: TaskKind::Custom { title: Some(title), icon, .. }, .. }] => {
                WorkflowSummary::Custom { title: title.clone(), icon: icon.clone() }
            }
            _ => WorkflowSummary::Custom {
                title: format!("{} steps", tasks.len()),
                icon: Some("batch".to_owned()),
            },
        };
        item.kind = ItemKind::Workflow {
            workflow: Workflow { kind: WorkflowKind::Custom, tasks, summary: Some(summary), expanded: false },
        };
        self.sink.send(ThreadStreamEvent::ThreadItemDone { item }).await
    }

    /// Streams `text` as an assistant message in a few deltas.
    pub(super) async fn say(&mut self, text: &str) -> Result<(), StreamClosed> {
        self.finish_workflow().await?;
        let id = new_message_id();
        let empty = ThreadItem::new(&id, &self.thread_id, ItemKind::AssistantMessage { content: Vec::new() });
        self.sink.send(ThreadStreamEvent::ThreadItemAdded { item: empty }).await?;
        let update = |update| ThreadStreamEvent::ThreadItemUpdated { item_id: id.clone(), update };
        self.sink
            .send(update(ThreadItemUpdate::ContentPartAdded {
                content_index: 0,
                content: AssistantMessageContent::text(""),
            }))
            .await?;
        for delta in chunks(text, TEXT_CHUNKS) {
            self.sink
                .send(update(ThreadItemUpdate::TextDelta { content_index: 0, delta: delta.to_owned() }))
                .await?;
        }
        let content = AssistantMessageContent::text(text);
        self.sink
            .send(update(ThreadItemUpdate::ContentPartDone { content_index: 0, content: content.clone() }))
            .await?;
        let done = ThreadItem::new(
            id.clone(),
            &self.thread_id,
            ItemKind::AssistantMessage { content: vec![content] },
        );
        self.sink.send(ThreadStreamEvent::ThreadItemDone { item: done }).await
    }

    /// Sends a finished item (a widget, hidden context).
    pub(super) async fn add_item(&mut self, item: ThreadItem) -> Result<(), StreamClosed> {
        self.finish_workflow().await?;
        self.sink.send(ThreadStreamEvent::ThreadItemDone { item }).await
    }
}

/// Splits `text` into at most `count` pieces at whitespace, so words are never cut.
pub(super) fn chunks(text: &str, count: usize) -> Vec<&str> {
    let target = text.len().div_ceil(count.max(1)).max(1);
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + target).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        // Extend to the next whitespace so the piece ends after a whole word.
        end = text[end..].find(char::is_whitespace).map_or(text.len(), |offset| end + offset);
        if pieces.len() + 1 == count {
            end = text.len();
        }
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::chunks;

    #[test]
    fn chunks_rebuild_the_text_without_cutting_words() {
        for text in ["", "Hi", "✅ Added **Buy milk** — due Sun Nov 22, 5:00 PM", &"word ".repeat(50)] {
            let pieces = chunks(text, 4);
            assert_eq!(pieces.concat(), text);
            assert!(pieces.len() <= 4);
            assert!(pieces.iter().all(|piece| !piece.is_empty()));
        }
        assert!(chunks("one two three four five six seven eight", 4).len() > 1);
    }
}
