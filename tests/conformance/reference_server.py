"""The Python reference (openai-chatkit 1.6.5 ChatKitServer) behind todokit's routes,
so the conformance suite can prove its oracle against the real thing.

Needs the full install (see README): /work/venvs/chatkit-ref.
Run:  python reference_server.py --port 8765
Then: TODOKIT_URL=http://127.0.0.1:8765 CONFORMANCE_TARGET=reference pytest tests/conformance

Unmodified SDK behaviour on purpose: ChatKitServer.process() errors are NOT mapped to
4xx (the reference answers 500 / breaks the stream), which is why the suite skips
todokit-only error-path expectations for this target.
"""

from __future__ import annotations

import argparse
import re
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from chatkit.server import ChatKitServer, StreamingResult, stream_widget
from chatkit.store import AttachmentStore, NotFoundError, Store
from chatkit.types import (
    Action,
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    Attachment,
    AttachmentCreateParams,
    AttachmentUploadDescriptor,
    AudioInput,
    ClientToolCallItem,
    CustomTask,
    FileAttachment,
    Page,
    ProgressUpdateEvent,
    StructuredInputFreeform,
    StructuredInputItem,
    StructuredInputMultipleChoice,
    StructuredInputMultipleChoiceOption,
    SyncCustomActionResponse,
    ThreadItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    TranscriptionResult,
    UserMessageItem,
    WidgetItem,
    Workflow,
    WorkflowItem,
    WorkflowTaskAdded,
)
from chatkit.widgets import WidgetTemplate

User = str  # the request context: the bearer token is the user id


class MemoryStore(Store[User]):
    """Dict-based store, scoped per user, with the reference's cursor semantics (§5)."""

    def __init__(self) -> None:
        self.threads: dict[User, dict[str, ThreadMetadata]] = defaultdict(dict)
        self.items: dict[str, list[ThreadItem]] = defaultdict(list)
        self.attachments: dict[str, Attachment] = {}

    def _thread(self, thread_id: str, user: User) -> ThreadMetadata:
        try:
            return self.threads[user][thread_id]
        except KeyError:
            raise NotFoundError(f"thread {thread_id} not found") from None

    @staticmethod
    def _page(rows: list[Any], after: str | None, limit: int, order: str) -> Page[Any]:
        rows = sorted(rows, key=lambda r: r.created_at, reverse=(order == "desc"))
        if after:
            ids = [r.id for r in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        page, has_more = rows[:limit], len(rows) > limit
        return Page(data=page, has_more=has_more, after=page[-1].id if has_more and page else None)

    async def load_thread(self, thread_id, context):
        return self._thread(thread_id, context).model_copy(deep=True)

    async def save_thread(self, thread, context):
        # the SDK sometimes passes a full Thread (with items): keep only metadata
        fields = ThreadMetadata.model_fields
        self.threads[context][thread.id] = ThreadMetadata(**{k: getattr(thread, k) for k in fields})

    async def load_thread_items(self, thread_id, after, limit, order, context):
        self._thread(thread_id, context)
        return self._page(self.items[thread_id], after, limit, order)

    async def load_threads(self, limit, after, order, context):
        return self._page(list(self.threads[context].values()), after, limit, order)

    async def add_thread_item(self, thread_id, item, context):
        await self.save_item(thread_id, item, context)  # upsert, as recommended in §6

    async def save_item(self, thread_id, item, context):
        self._thread(thread_id, context)
        rows = self.items[thread_id]
        for i, existing in enumerate(rows):
            if existing.id == item.id:
                rows[i] = item
                return
        rows.append(item)

    async def load_item(self, thread_id, item_id, context):
        self._thread(thread_id, context)
        for item in self.items[thread_id]:
            if item.id == item_id:
                return item.model_copy(deep=True)
        raise NotFoundError(f"item {item_id} not found")

    async def delete_thread(self, thread_id, context):
        self._thread(thread_id, context)
        del self.threads[context][thread_id]
        self.items.pop(thread_id, None)

    async def delete_thread_item(self, thread_id, item_id, context):
        self.items[thread_id] = [i for i in self.items[thread_id] if i.id != item_id]

    async def save_attachment(self, attachment, context):
        self.attachments[attachment.id] = attachment

    async def load_attachment(self, attachment_id, context):
        try:
            return self.attachments[attachment_id]
        except KeyError:
            raise NotFoundError(attachment_id) from None

    async def delete_attachment(self, attachment_id, context):
        self.attachments.pop(attachment_id, None)


class MemoryAttachmentStore(AttachmentStore[User]):
    async def create_attachment(self, input: AttachmentCreateParams, context: User) -> Attachment:
        att_id = self.generate_attachment_id(input.mime_type, context)
        return FileAttachment(
            id=att_id,
            name=input.name,
            mime_type=input.mime_type,
            upload_descriptor=AttachmentUploadDescriptor(url=f"https://files.example/{att_id}/upload", method="PUT"),
        )

    async def delete_attachment(self, attachment_id: str, context: User) -> None:
        return None


TASK_WIDGET = WidgetTemplate(
    {
        "version": "1.0",
        "name": "task",
        "template": '{"type":"Card","size":"sm","children":[{"type":"Text","id":"title","value":{{ title | tojson }}},'
        '{"type":"Button","label":"Done","onClickAction":{"type":"task.complete","payload":{"id":"t1"}}}]}',
    }
)


class ScriptedServer(ChatKitServer[User]):
    """`respond` is a script keyed on words in the user's message (no model calls)."""

    async def respond(self, thread, input_user_message, context) -> AsyncIterator[ThreadStreamEvent]:
        text = _text_of(input_user_message)
        yield ProgressUpdateEvent(icon="search", text="Thinking...")
        async for ev in self._workflow(thread, context):
            yield ev
        async for ev in self._assistant_message(thread, context, f"Got it: {text or 'continuing'}"):
            yield ev
        if text.startswith("add"):
            async for ev in stream_widget(thread, TASK_WIDGET.build({"title": text}), copy_text=text,
                                          generate_id=lambda t: self.store.generate_item_id(t, thread, context)):
                yield ev
        if "ask" in text:
            yield ThreadItemDoneEvent(item=self._structured_input(thread, context))
        if "tool" in text:  # must be the newest item for add_client_tool_output
            yield ThreadItemDoneEvent(item=ClientToolCallItem(
                id=self.store.generate_item_id("tool_call", thread, context), thread_id=thread.id,
                created_at=datetime.now(), call_id="call_1", name="get_selection", arguments={"x": 1}))
        if thread.title is None:
            thread.title = (text or "Conversation")[:40]

    async def action(self, thread, action, sender, context) -> AsyncIterator[ThreadStreamEvent]:
        async for ev in self._assistant_message(thread, context, f"Action {action.type} on {sender.id if sender else 'thread'}"):
            yield ev

    async def sync_action(self, thread, action, sender, context) -> SyncCustomActionResponse:
        return SyncCustomActionResponse(updated_item=sender)

    async def transcribe(self, audio_input: AudioInput, context: User) -> TranscriptionResult:
        return TranscriptionResult(text=f"{len(audio_input.data)} bytes of {audio_input.media_type}")

    async def _assistant_message(self, thread, context, text: str) -> AsyncIterator[ThreadStreamEvent]:
        item = AssistantMessageItem(id=self.store.generate_item_id("message", thread, context),
                                    thread_id=thread.id, created_at=datetime.now(), content=[])
        yield ThreadItemAddedEvent(item=item)
        yield ThreadItemUpdatedEvent(item_id=item.id, update=AssistantMessageContentPartAdded(
            content_index=0, content=AssistantMessageContent(text="")))
        for word in text.split(" "):
            yield ThreadItemUpdatedEvent(item_id=item.id, update=AssistantMessageContentPartTextDelta(
                content_index=0, delta=word + " "))
        final = AssistantMessageContent(text=text + " ")
        yield ThreadItemUpdatedEvent(item_id=item.id, update=AssistantMessageContentPartDone(content_index=0, content=final))
        yield ThreadItemDoneEvent(item=item.model_copy(update={"content": [final]}))

    async def _workflow(self, thread, context) -> AsyncIterator[ThreadStreamEvent]:
        task = CustomTask(title="Parsing command", icon="lucide:list-checks", status_indicator="complete")
        item = WorkflowItem(id=self.store.generate_item_id("workflow", thread, context), thread_id=thread.id,
                            created_at=datetime.now(), workflow=Workflow(type="custom", tasks=[]))
        yield ThreadItemAddedEvent(item=item)
        yield ThreadItemUpdatedEvent(item_id=item.id, update=WorkflowTaskAdded(task_index=0, task=task))
        yield ThreadItemDoneEvent(item=item.model_copy(update={"workflow": Workflow(type="custom", tasks=[task])}))

    def _structured_input(self, thread, context) -> StructuredInputItem:
        return StructuredInputItem(
            id=self.store.generate_item_id("message", thread, context), thread_id=thread.id, created_at=datetime.now(),
            inputs=[StructuredInputMultipleChoice(id="when", question="When?", options=[
                        StructuredInputMultipleChoiceOption(value="today"),
                        StructuredInputMultipleChoiceOption(value="tomorrow")]),
                    StructuredInputFreeform(id="note", question="Any note?")])


def _text_of(message: UserMessageItem | None) -> str:
    if message is None:
        return ""
    return " ".join(getattr(part, "text", "") for part in message.content).strip()


# --fault NAME corrupts the wire output, to prove the suite catches it (expect failures).
FAULTS = {
    "extra-key": lambda b: b.replace(b'{"', b'{"x_extra":1,"', 1),
    "int-timestamp": lambda b: re.sub(rb'"created_at":"[^"]+"', b'"created_at":1759320001', b),
    "json-null": lambda b: b.replace(b'"metadata":{}', b'"metadata":{},"allowed_image_domains":null'),
    "event-line": lambda b: b"event: message\n" + b if b.startswith(b"data: ") else b,
    "no-stream-options": lambda b: b"" if b'"type":"stream_options"' in b else b,
}


async def _corrupt(chunks, fault):
    async for chunk in chunks:
        if out := fault(chunk):
            yield out


def create_app(fault: str | None = None) -> FastAPI:
    app = FastAPI()
    server = ScriptedServer(MemoryStore(), MemoryAttachmentStore())
    corrupt = FAULTS[fault] if fault else None

    @app.post("/api/auth/sign-up", status_code=201)
    async def sign_up(body: dict[str, Any]) -> dict[str, Any]:
        token = f"ref_{uuid.uuid4().hex}"
        expires = datetime.now(timezone.utc) + timedelta(hours=1)
        return {"user": {"id": token, "email": body.get("email")}, "token": token, "expires_at": expires.isoformat()}

    @app.post("/api/chatkit")
    async def chatkit_endpoint(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        user = auth.removeprefix("Bearer ").strip() or "anonymous"
        result = await server.process(await request.body(), user)
        if isinstance(result, StreamingResult):
            body = _corrupt(result, corrupt) if corrupt else result
            return StreamingResponse(body, media_type="text/event-stream")
        body = corrupt(result.json) if corrupt and result.json != b"{}" else result.json
        return Response(content=body, media_type="application/json")

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fault", choices=sorted(FAULTS), help="corrupt the output (self-test of the suite)")
    args = parser.parse_args()
    uvicorn.run(create_app(args.fault), host=args.host, port=args.port, log_level="warning")
