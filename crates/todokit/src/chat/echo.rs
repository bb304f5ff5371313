//! A minimal responder that repeats the user's message. Placeholder wiring
//! until the assistant lands; it exercises the real event pipeline.

use chatkit::{
    AssistantMessageContent, ItemKind, ResponseError, ResponseStream, ThreadHandle, ThreadItem,
    ThreadItemUpdate, ThreadStreamEvent, UserMessageContent, new_message_id, response_stream,
    title_from_text,
};

use crate::tools::ToolContext;

pub struct EchoResponder;

fn user_text(item: &ThreadItem) -> String {
    match &item.kind {
        ItemKind::UserMessage { content, .. } => content
            .iter()
            .map(|part| match part {
                UserMessageContent::InputText { text } => text.as_str(),
                UserMessageContent::InputTag { text, .. } => text.as_str(),
            })
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

impl chatkit::Responder<ToolContext> for EchoResponder {
    fn respond(
        &self,
        thread: ThreadHandle,
        user_message: Option<ThreadItem>,
        _ctx: ToolContext,
    ) -> ResponseStream {
        response_stream(move |sink| async move {
            let text = user_message.as_ref().map(user_text).unwrap_or_default();
            if thread.title().is_none() && !text.trim().is_empty() {
                thread.set_title(title_from_text(&text));
            }
            let reply = format!("You said: {text}");
            let item = ThreadItem::new(
                new_message_id(),
                thread.id(),
                ItemKind::AssistantMessage { content: vec![] },
            );
            let item_id = item.id.clone();
            let closed = |_| ResponseError::internal("client went away");
            sink.send(ThreadStreamEvent::ThreadItemAdded { item: item.clone() }).await.map_err(closed)?;
            let part = AssistantMessageContent::text("");
            sink.send(ThreadStreamEvent::ThreadItemUpdated {
                item_id: item_id.clone(),
                update: ThreadItemUpdate::ContentPartAdded { content_index: 0, content: part },
            })
            .await
            .map_err(closed)?;
            for word in reply.split_inclusive(' ') {
                sink.send(ThreadStreamEvent::ThreadItemUpdated {
                    item_id: item_id.clone(),
                    update: ThreadItemUpdate::TextDelta { content_index: 0, delta: word.to_owned() },
                })
                .await
                .map_err(closed)?;
            }
            let done = AssistantMessageContent::text(reply);
            sink.send(ThreadStreamEvent::ThreadItemUpdated {
                item_id: item_id.clone(),
                update: ThreadItemUpdate::ContentPartDone { content_index: 0, content: done.clone() },
            })
            .await
            .map_err(closed)?;
            let finished = ThreadItem { kind: ItemKind::AssistantMessage { content: vec![done] }, ..item };
            sink.send(ThreadStreamEvent::ThreadItemDone { item: finished }).await.map_err(closed)?;
            Ok(())
        })
    }
}
