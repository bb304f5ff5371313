"""The peer for todokit's benchmarks: the stack the seed project was built on.

FastAPI + openai-chatkit's ChatKitServer + the OpenAI Agents SDK (OpenAIChatCompletionsModel,
tracing off), two function tools (create_task, list_tasks) writing to SQLite, and an
SQLite-backed ChatKit store — the documented ChatKit/Agents pattern, nothing tuned away.

Environment: PEER_DB (SQLite file), PEER_LLM_BASE_URL (e.g. http://127.0.0.1:PORT/v1),
PEER_LLM_MODEL (default "fake"). Auth: any bearer token; the token is the user id.

Run: uvicorn app:app --workers N --loop uvloop --http httptools  (cwd bench/peer)
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from datetime import datetime, timezone
from typing import Any, AsyncIterator

from agents import Agent, OpenAIChatCompletionsModel, RunContextWrapper, Runner, function_tool, set_tracing_disabled
from chatkit.agents import AgentContext, simple_to_agent_input, stream_agent_response
from chatkit.server import ChatKitServer, StreamingResult
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    Attachment,
    CustomTask,
    Page,
    ThreadItem,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
)
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from openai import AsyncOpenAI
from pydantic import TypeAdapter

set_tracing_disabled(True)

DB_PATH = os.environ.get("PEER_DB", "peer.db")
User = str


def connect() -> sqlite3.Connection:
    db = sqlite3.connect(DB_PATH, check_same_thread=False, isolation_level=None, timeout=5.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, title TEXT NOT NULL,
            completed INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS tasks_user ON tasks (user_id, created_at);
        CREATE TABLE IF NOT EXISTS threads (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at TEXT NOT NULL,
            data TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS threads_user ON threads (user_id, created_at);
        CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, user_id TEXT NOT NULL,
            created_at TEXT NOT NULL, data TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS items_thread ON items (thread_id, created_at);
        CREATE TABLE IF NOT EXISTS attachments (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, data TEXT NOT NULL);
        """
    )
    return db


DB = connect()
THREAD_ITEM = TypeAdapter(ThreadItem)
ATTACHMENT = TypeAdapter(Attachment)


class SQLiteStore(Store[User]):
    """ChatKit threads and items as JSON rows in SQLite, scoped by user."""

    def _thread_row(self, thread_id: str, user: User) -> sqlite3.Row | tuple:
        row = DB.execute("SELECT data FROM threads WHERE id = ? AND user_id = ?", (thread_id, user)).fetchone()
        if row is None:
            raise NotFoundError(f"thread {thread_id} not found")
        return row

    async def load_thread(self, thread_id: str, context: User) -> ThreadMetadata:
        return ThreadMetadata.model_validate_json(self._thread_row(thread_id, context)[0])

    async def save_thread(self, thread: ThreadMetadata, context: User) -> None:
        metadata = ThreadMetadata(**{name: getattr(thread, name) for name in ThreadMetadata.model_fields})
        DB.execute(
            "INSERT INTO threads (id, user_id, created_at, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (thread.id, context, thread.created_at.isoformat(), metadata.model_dump_json()),
        )

    async def load_threads(self, limit: int, after: str | None, order: str, context: User) -> Page[ThreadMetadata]:
        rows = DB.execute(
            f"SELECT id, data FROM threads WHERE user_id = ? ORDER BY created_at {'DESC' if order == 'desc' else 'ASC'}",
            (context,),
        ).fetchall()
        return _page([(row[0], ThreadMetadata.model_validate_json(row[1])) for row in rows], after, limit)

    async def delete_thread(self, thread_id: str, context: User) -> None:
        DB.execute("DELETE FROM threads WHERE id = ? AND user_id = ?", (thread_id, context))
        DB.execute("DELETE FROM items WHERE thread_id = ?", (thread_id,))

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: User
    ) -> Page[ThreadItem]:
        self._thread_row(thread_id, context)
        rows = DB.execute(
            "SELECT id, data FROM items WHERE thread_id = ? AND user_id = ? "
            f"ORDER BY created_at {'DESC' if order == 'desc' else 'ASC'}, rowid {'DESC' if order == 'desc' else 'ASC'}",
            (thread_id, context),
        ).fetchall()
        return _page([(row[0], THREAD_ITEM.validate_json(row[1])) for row in rows], after, limit)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: User) -> None:
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: User) -> None:
        DB.execute(
            "INSERT INTO items (id, thread_id, user_id, created_at, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (item.id, thread_id, context, item.created_at.isoformat(), item.model_dump_json()),
        )

    async def load_item(self, thread_id: str, item_id: str, context: User) -> ThreadItem:
        row = DB.execute(
            "SELECT data FROM items WHERE id = ? AND thread_id = ? AND user_id = ?", (item_id, thread_id, context)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"item {item_id} not found")
        return THREAD_ITEM.validate_json(row[0])

    async def delete_thread_item(self, thread_id: str, item_id: str, context: User) -> None:
        DB.execute("DELETE FROM items WHERE id = ? AND thread_id = ? AND user_id = ?", (item_id, thread_id, context))

    async def save_attachment(self, attachment: Attachment, context: User) -> None:
        DB.execute(
            "INSERT OR REPLACE INTO attachments (id, user_id, data) VALUES (?, ?, ?)",
            (attachment.id, context, attachment.model_dump_json()),
        )

    async def load_attachment(self, attachment_id: str, context: User) -> Attachment:
        row = DB.execute(
            "SELECT data FROM attachments WHERE id = ? AND user_id = ?", (attachment_id, context)
        ).fetchone()
        if row is None:
            raise NotFoundError(attachment_id)
        return ATTACHMENT.validate_json(row[0])

    async def delete_attachment(self, attachment_id: str, context: User) -> None:
        DB.execute("DELETE FROM attachments WHERE id = ? AND user_id = ?", (attachment_id, context))


def _page(rows: list[tuple[str, Any]], after: str | None, limit: int) -> Page[Any]:
    if after:
        ids = [row_id for row_id, _ in rows]
        rows = rows[ids.index(after) + 1 :] if after in ids else []
    page, has_more = rows[:limit], len(rows) > limit
    return Page(data=[value for _, value in page], has_more=has_more, after=page[-1][0] if has_more and page else None)


@function_tool
async def create_task(ctx: RunContextWrapper[AgentContext], title: str) -> str:
    """Create a task for the user.

    Args:
        title: The task's title.
    """
    task_id = uuid.uuid4().hex
    DB.execute(
        "INSERT INTO tasks (id, user_id, title, created_at) VALUES (?, ?, ?, ?)",
        (task_id, ctx.context.request_context, title, datetime.now(timezone.utc).isoformat()),
    )
    await ctx.context.add_workflow_task(CustomTask(title=f"Created “{title}”", status_indicator="complete"))
    return json.dumps({"id": task_id, "title": title, "completed": False})


@function_tool
async def list_tasks(ctx: RunContextWrapper[AgentContext], limit: int = 20) -> str:
    """List the user's most recent tasks.

    Args:
        limit: How many tasks to return.
    """
    rows = DB.execute(
        "SELECT id, title, completed FROM tasks WHERE user_id = ? ORDER BY created_at DESC LIMIT ?",
        (ctx.context.request_context, limit),
    ).fetchall()
    await ctx.context.add_workflow_task(CustomTask(title="Listed tasks", status_indicator="complete"))
    return json.dumps([{"id": row[0], "title": row[1], "completed": bool(row[2])} for row in rows])


MODEL = OpenAIChatCompletionsModel(
    model=os.environ.get("PEER_LLM_MODEL", "fake"),
    openai_client=AsyncOpenAI(base_url=os.environ.get("PEER_LLM_BASE_URL", "http://127.0.0.1:9/v1"), api_key="x"),
)
ASSISTANT = Agent[AgentContext](
    name="todo assistant",
    instructions="You manage the user's tasks. Use the tools to create and list tasks; answer briefly.",
    tools=[create_task, list_tasks],
    model=MODEL,
)


class PeerServer(ChatKitServer[User]):
    async def respond(
        self, thread: ThreadMetadata, input_user_message: UserMessageItem | None, context: User
    ) -> AsyncIterator[ThreadStreamEvent]:
        history = await self.store.load_thread_items(thread.id, None, 50, "desc", context)
        agent_input = await simple_to_agent_input(list(reversed(history.data)))
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        result = Runner.run_streamed(ASSISTANT, agent_input, context=agent_context)
        async for event in stream_agent_response(agent_context, result):
            yield event


server = PeerServer(SQLiteStore())
app = FastAPI()


def user_of(request: Request) -> User:
    return request.headers.get("authorization", "").removeprefix("Bearer ").strip() or "anonymous"


@app.post("/api/chatkit")
async def chatkit_endpoint(request: Request) -> Response:
    result = await server.process(await request.body(), user_of(request))
    if isinstance(result, StreamingResult):
        return StreamingResponse(result, media_type="text/event-stream")
    return Response(content=result.json, media_type="application/json")


@app.get("/api/tasks")
async def tasks(request: Request) -> dict[str, Any]:
    rows = DB.execute(
        "SELECT id, title, completed FROM tasks WHERE user_id = ? ORDER BY created_at DESC", (user_of(request),)
    ).fetchall()
    return {"tasks": [{"id": row[0], "title": row[1], "completed": bool(row[2])} for row in rows]}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ok"}
