//! The thread's stored items as Chat Completions messages, within a budget of
//! estimated tokens.

use std::collections::HashSet;

use chatkit::{ItemKind, SortOrder, Store, StoreError, ThreadItem, UserMessageContent};
use serde::{Deserialize, Serialize};

use crate::assistant::llm::{ChatMessage, ToolCall};
use crate::chat::ChatContext;

/// `type` of the hidden item that records one model step's tool calls.
pub(crate) const TOOL_ROUND_TYPE: &str = "todokit.tool_round";

const PAGE_SIZE: usize = 100;
/// Bytes of JSON per token, on the low side (JSON, ids and non-English text tokenize worse
/// than prose), so the estimate errs towards too many tokens.
const BYTES_PER_TOKEN: usize = 3;
/// Tokens a chat template adds around each message (role markers).
const TOKENS_PER_MESSAGE: usize = 4;
/// Hard cap on items read per turn, whatever their size.
const MAX_ITEMS: usize = 2_000;

/// Content of a `hidden_context_item` recording one model step that called
/// tools: the assistant message exactly as the model sent it (including
/// thought signatures) and every result, so the next request can replay it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ToolRound {
    #[serde(rename = "type")]
    pub kind: String,
    /// Text the model wrote in the same step; it is also shown as an
    /// `assistant_message` item (listed in `text_item_ids`), which the history
    /// skips so the text is not sent twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default)]
    pub text_item_ids: Vec<String>,
    pub tool_calls: Vec<ToolCall>,
    pub results: Vec<ToolResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ToolResult {
    pub tool_call_id: String,
    pub name: String,
    /// What the model reads (JSON text).
    pub content: String,
    pub is_error: bool,
}

impl ToolRound {
    pub fn new(
        text: Option<String>,
        text_item_ids: Vec<String>,
        tool_calls: Vec<ToolCall>,
        results: Vec<ToolResult>,
    ) -> Self {
        Self { kind: TOOL_ROUND_TYPE.to_owned(), text, text_item_ids, tool_calls, results }
    }

    /// The assistant tool-call message followed by one tool message per call. Arguments
    /// that are not a JSON object go back as `{}`: they were answered with an error and never
    /// ran, and servers that parse the history (llama.cpp) refuse the whole request over them.
    pub fn messages(&self) -> Vec<ChatMessage> {
        let tool_calls = self
            .tool_calls
            .iter()
            .map(|call| {
                let mut call = call.clone();
                if !is_json_object(&call.function.arguments) {
                    call.function.arguments = "{}".to_owned();
                }
                call
            })
            .collect();
        let mut messages = vec![ChatMessage::Assistant { content: self.text.clone(), tool_calls }];
        messages.extend(self.results.iter().map(|result| ChatMessage::Tool {
            tool_call_id: result.tool_call_id.clone(),
            content: result.content.clone(),
        }));
        messages
    }

    fn from_item(item: &ThreadItem) -> Option<Self> {
        match &item.kind {
            ItemKind::HiddenContext { content }
                if content.get("type").and_then(|kind| kind.as_str()) == Some(TOOL_ROUND_TYPE) =>
            {
                serde_json::from_value(content.clone()).ok()
            }
            _ => None,
        }
    }
}

fn is_json_object(text: &str) -> bool {
    matches!(serde_json::from_str::<serde_json::Value>(text), Ok(serde_json::Value::Object(_)))
}

/// Estimated tokens of a message as a model sees it.
pub(crate) fn estimate_tokens(message: &ChatMessage) -> usize {
    estimate_tokens_of_json(&serde_json::to_string(message).unwrap_or_default()) + TOKENS_PER_MESSAGE
}

/// Estimated tokens of a piece of JSON (the tool list, an item).
pub(crate) fn estimate_tokens_of_json(json: &str) -> usize {
    json.len().div_ceil(BYTES_PER_TOKEN)
}

/// Loads the newest items of a thread (about twice the budget, so the cut can
/// fall on a unit boundary) and converts them.
pub(crate) async fn load(
    store: &dyn Store<ChatContext>,
    thread_id: &str,
    ctx: &ChatContext,
    budget_tokens: usize,
) -> Result<Vec<ChatMessage>, StoreError> {
    let mut newest_first = Vec::new();
    let mut loaded_tokens = 0usize;
    let mut after: Option<String> = None;
    loop {
        let page =
            store.load_thread_items(thread_id, after.as_deref(), PAGE_SIZE, SortOrder::Desc, ctx).await?;
        for item in page.data {
            loaded_tokens += serde_json::to_string(&item).map_or(0, |json| estimate_tokens_of_json(&json));
            newest_first.push(item);
        }
        if !page.has_more
            || page.after.is_none()
            || loaded_tokens > budget_tokens.saturating_mul(2)
            || newest_first.len() >= MAX_ITEMS
        {
            break;
        }
        after = page.after;
    }
    newest_first.reverse();
    Ok(fit_budget(units(&newest_first), budget_tokens))
}

/// Groups items into units that are kept or dropped whole: a user message,
/// an assistant message, or a tool round (a call is never separated from its
/// result).
///
/// Hidden notes (e.g. "the user cancelled the stream") go to the model in the user's role, worded
/// as the reference server words them, at the head of the next user message: a system message
/// mid-history, or two user messages in a row, is refused by chat templates that require strict
/// alternation (Gemma's on llama.cpp).
pub(crate) fn units(items: &[ThreadItem]) -> Vec<Vec<ChatMessage>> {
    let rounds: Vec<Option<ToolRound>> = items.iter().map(ToolRound::from_item).collect();
    let covered: HashSet<&str> =
        rounds.iter().flatten().flat_map(|round| round.text_item_ids.iter().map(String::as_str)).collect();
    let mut units = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for (item, round) in items.iter().zip(&rounds) {
        if let Some(round) = round {
            units.push(round.messages());
            continue;
        }
        match &item.kind {
            ItemKind::UserMessage { content, quoted_text, .. } => {
                let text = user_text(content, quoted_text.as_deref());
                if !text.is_empty() {
                    notes.push(text);
                    units.push(vec![ChatMessage::user(std::mem::take(&mut notes).join("\n\n"))]);
                }
            }
            ItemKind::AssistantMessage { content } if !covered.contains(item.id.as_str()) => {
                let text: String = content.iter().map(|part| part.text.as_str()).collect();
                if !text.trim().is_empty() {
                    units.push(vec![ChatMessage::assistant(text)]);
                }
            }
            ItemKind::SdkHiddenContext { content } => notes.push(hidden_note(content)),
            // Workflows repeat what the rounds hold; widgets and the rest are UI only.
            _ => {}
        }
    }
    if !notes.is_empty() {
        units.push(vec![ChatMessage::user(notes.join("\n\n"))]);
    }
    units
}

/// A hidden note as the reference server (`openai-chatkit`'s `sdk_hidden_context_to_input`)
/// words it for the model.
fn hidden_note(content: &str) -> String {
    format!(
        "Hidden context for the agent (not shown to the user):\n<HiddenContext>\n{content}\n</HiddenContext>"
    )
}

/// The newest units whose estimated tokens fit `budget_tokens` (the newest is kept
/// even when alone it is larger), starting at a user message when possible.
pub(crate) fn fit_budget(units: Vec<Vec<ChatMessage>>, budget_tokens: usize) -> Vec<ChatMessage> {
    let mut total = 0usize;
    let mut kept = 0usize;
    for unit in units.iter().rev() {
        let size: usize = unit.iter().map(estimate_tokens).sum();
        if kept > 0 && total + size > budget_tokens {
            break;
        }
        total += size;
        kept += 1;
    }
    let mut window = &units[units.len() - kept..];
    let starts_with_user = |unit: &Vec<ChatMessage>| matches!(unit.first(), Some(ChatMessage::User { .. }));
    if window.iter().any(starts_with_user) {
        while !window.first().is_some_and(starts_with_user) {
            window = &window[1..];
        }
    }
    window.iter().flatten().cloned().collect()
}

/// The text of a user message, with the quoted text it replies to.
pub(crate) fn user_text(content: &[UserMessageContent], quoted_text: Option<&str>) -> String {
    let text = content.iter().map(UserMessageContent::text).collect::<Vec<_>>().join("").trim().to_owned();
    match quoted_text.map(str::trim).filter(|quote| !quote.is_empty()) {
        Some(quote) => format!("> {}\n\n{text}", quote.replace('\n', "\n> ")),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use chatkit::{AssistantMessageContent, InferenceOptions};
    use serde_json::json;

    use super::*;
    use crate::assistant::llm::FunctionCall;

    fn item(id: &str, kind: ItemKind) -> ThreadItem {
        ThreadItem::new(id, "thr_1", kind)
    }

    fn user(id: &str, text: &str) -> ThreadItem {
        item(
            id,
            ItemKind::UserMessage {
                content: vec![UserMessageContent::InputText { text: text.into() }],
                attachments: vec![],
                quoted_text: None,
                inference_options: InferenceOptions::default(),
            },
        )
    }

    fn assistant(id: &str, text: &str) -> ThreadItem {
        item(id, ItemKind::AssistantMessage { content: vec![AssistantMessageContent::text(text)] })
    }

    fn round(id: &str, text_item: Option<&str>, call_id: &str) -> ThreadItem {
        let round = ToolRound::new(
            text_item.map(|_| "Let me add that.".to_owned()),
            text_item.into_iter().map(str::to_owned).collect(),
            vec![ToolCall {
                id: call_id.into(),
                kind: "function".into(),
                function: FunctionCall { name: "create_task".into(), arguments: "{}".into() },
                extra_content: Some(json!({"google": {"thought_signature": "sig"}})),
            }],
            vec![ToolResult {
                tool_call_id: call_id.into(),
                name: "create_task".into(),
                content: "{}".into(),
                is_error: false,
            }],
        );
        item(id, ItemKind::HiddenContext { content: serde_json::to_value(round).unwrap() })
    }

    #[test]
    fn rounds_replace_the_text_they_cover_and_other_hidden_items_are_ignored() {
        let items = vec![
            user("m1", "add milk"),
            assistant("m2", "Let me add that."),
            round("m3", Some("m2"), "c1"),
            item("m4", ItemKind::HiddenContext { content: json!({"type": "someone.else"}) }),
            assistant("m5", "Added."),
        ];
        let messages: Vec<_> = units(&items).into_iter().flatten().collect();
        assert_eq!(messages.len(), 4);
        assert_eq!(messages[0], ChatMessage::user("add milk"));
        match &messages[1] {
            ChatMessage::Assistant { content, tool_calls } => {
                assert_eq!(content.as_deref(), Some("Let me add that."));
                assert_eq!(
                    tool_calls[0].extra_content,
                    Some(json!({"google": {"thought_signature": "sig"}}))
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&messages[2], ChatMessage::Tool { tool_call_id, .. } if tool_call_id == "c1"));
        assert_eq!(messages[3], ChatMessage::assistant("Added."));
    }

    #[test]
    fn a_cancellation_note_leads_the_next_user_message_so_roles_alternate() {
        let note = "The user cancelled the stream. Stop responding to the prior request.";
        let items = vec![
            user("m1", "tell me a story"),
            assistant("m2", "Once upon"),
            item("m3", ItemKind::SdkHiddenContext { content: note.into() }),
            user("m4", "shorter, please"),
        ];
        let messages: Vec<_> = units(&items).into_iter().flatten().collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert_eq!(messages[1], ChatMessage::assistant("Once upon"));
        match &messages[2] {
            ChatMessage::User { content } => {
                assert!(content.starts_with("Hidden context for the agent"), "{content}");
                assert!(content.contains(note) && content.ends_with("\n\nshorter, please"), "{content}");
            }
            other => panic!("{other:?}"),
        }
        // A note with no message after it yet is still sent, as the user's.
        let messages: Vec<_> = units(&items[..3]).into_iter().flatten().collect();
        assert!(
            matches!(&messages[2], ChatMessage::User { content } if content.contains(note)),
            "{messages:?}"
        );
    }

    #[test]
    fn the_budget_drops_oldest_units_whole_and_starts_at_a_user_message() {
        let items = vec![
            user("m1", &"old ".repeat(100)),
            round("m2", None, "c1"),
            assistant("m3", "Done."),
            user("m4", "what did I add?"),
        ];
        let all = units(&items);
        let newest_three: usize = all[1..].iter().flatten().map(estimate_tokens).sum();
        let messages = fit_budget(all.clone(), newest_three);
        // The round and answer fit, but the window must not start mid-conversation.
        assert_eq!(messages, vec![ChatMessage::user("what did I add?")]);
        let everything: usize = all.iter().flatten().map(estimate_tokens).sum();
        assert_eq!(fit_budget(all.clone(), everything).len(), 5);
        // The newest unit is kept even when it alone exceeds the budget.
        assert_eq!(fit_budget(all, 1), vec![ChatMessage::user("what did I add?")]);
    }

    #[test]
    fn arguments_that_are_not_a_json_object_go_back_as_an_empty_object() {
        let call = |arguments: &str| ToolCall {
            id: "c1".into(),
            kind: "function".into(),
            function: FunctionCall { name: "complete_task".into(), arguments: arguments.into() },
            extra_content: None,
        };
        let result = ToolResult {
            tool_call_id: "c1".into(),
            name: "complete_task".into(),
            content: "{}".into(),
            is_error: true,
        };
        for (sent, replayed) in [
            (r#"{"task_id":"3"}{"task_id":"3"}"#, "{}"),
            (r#"{"task_id": "3""#, "{}"),
            ("[1]", "{}"),
            (r#"{"task_id":"3"}"#, r#"{"task_id":"3"}"#),
        ] {
            let round = ToolRound::new(None, vec![], vec![call(sent)], vec![result.clone()]);
            match &round.messages()[0] {
                ChatMessage::Assistant { tool_calls, .. } => {
                    assert_eq!(tool_calls[0].function.arguments, replayed, "{sent}")
                }
                other => panic!("{other:?}"),
            }
            // What the round stores keeps what the model sent.
            assert_eq!(round.tool_calls[0].function.arguments, sent);
        }
    }

    #[test]
    fn quoted_text_is_kept() {
        let content = vec![UserMessageContent::InputText { text: "do this".into() }];
        assert_eq!(user_text(&content, Some("a\nb")), "> a\n> b\n\ndo this");
    }
}
