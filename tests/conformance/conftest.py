"""Fixtures for the live suite: target URL, signed-up users, and a small client
that validates every request before sending it and every response after."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

import oracle

BASE_URL = os.environ.get("TODOKIT_URL", "http://127.0.0.1:8080").rstrip("/")
TARGET = os.environ.get("CONFORMANCE_TARGET", "todokit")  # "todokit" | "reference"
CHATKIT_URL = f"{BASE_URL}/api/chatkit"

todokit_only = pytest.mark.skipif(
    TARGET == "reference",
    reason="todokit-specific HTTP error mapping; the Python reference answers 500 / aborts the stream here",
)


def user_message(text: str) -> dict[str, Any]:
    return {"content": [{"type": "input_text", "text": text}], "attachments": [], "inference_options": {}}


class Client:
    """One signed-up user talking to /api/chatkit."""

    def __init__(self, token: str | None):
        self.token = token

    def send(self, type_: str, params: dict[str, Any], validate: bool = True) -> oracle.Response:
        body = {"type": type_, "params": params}
        if validate:
            oracle.validate_request(body)
        return oracle.post(CHATKIT_URL, body, self.token)

    def stream(self, type_: str, params: dict[str, Any], thread_id: str | None = None, allow_empty: bool = False) -> list[oracle.Event]:
        return oracle.check_stream(type_, self.send(type_, params), thread_id or params.get("thread_id"), allow_empty)

    def json(self, type_: str, params: dict[str, Any]) -> Any:
        """Validated JSON body (raw dict) of a non-streaming request."""
        return oracle.check_json_response(type_, self.send(type_, params))[1]

    def create_thread(self, text: str) -> tuple[str, list[oracle.Event]]:
        events = self.stream("threads.create", {"input": user_message(text)})
        return events[0].raw["thread"]["id"], events

    def items(self, thread_id: str, order: str = "asc", limit: int | None = None) -> list[dict]:
        return collect_pages(self, "items.list", {"thread_id": thread_id, "order": order}, limit)

    def threads(self, order: str = "desc", limit: int | None = None) -> list[dict]:
        return collect_pages(self, "threads.list", {"order": order}, limit)


def collect_pages(client: Client, type_: str, params: dict[str, Any], limit: int | None, max_pages: int = 500) -> list[dict]:
    """Follow `after` until has_more is false; every page is validated by the oracle."""
    rows: list[dict] = []
    after = None
    for _ in range(max_pages):
        page = client.json(type_, {**params, "limit": limit, "after": after})
        if limit is not None:
            assert len(page["data"]) <= limit, f"{type_}: page larger than limit={limit}: {page}"
        rows.extend(page["data"])
        if not page["has_more"]:
            return rows
        assert page["after"] != after, f"{type_}: cursor did not advance ({after!r}): {page}"
        after = page["after"]
    raise AssertionError(f"{type_}: more than {max_pages} pages; pagination never ends")


def sign_up() -> str:
    email = f"conformance-{uuid.uuid4().hex[:12]}@example.com"
    resp = oracle.post(f"{BASE_URL}/api/auth/sign-up", {"email": email, "password": f"pw-{uuid.uuid4().hex}"})
    assert resp.status == 201, f"sign-up: HTTP {resp.status}: {resp.body[:500]!r}"
    body = resp.json()
    assert isinstance(body.get("token"), str) and body["token"], f"sign-up: no token in {body}"
    assert isinstance(body.get("user"), dict) and "expires_at" in body, f"sign-up: unexpected body {body}"
    return body["token"]


@pytest.fixture(scope="session")
def alice() -> Client:
    return Client(sign_up())


@pytest.fixture(scope="session")
def bob() -> Client:
    return Client(sign_up())


class Conversation:
    """Alice's main thread: threads.create then threads.add_user_message."""

    def __init__(self, client: Client):
        self.thread_id, self.create_events = client.create_thread("add buy milk tomorrow at 5pm")
        self.add_events = client.stream(
            "threads.add_user_message", {"thread_id": self.thread_id, "input": user_message("show my tasks")}
        )

    @property
    def first_user_message_id(self) -> str:
        return self.create_events[1].raw["item"]["id"]

    def done_item_ids(self) -> list[str]:
        return [e.raw["item"]["id"] for e in self.create_events + self.add_events if e.type == "thread.item.done"]


@pytest.fixture(scope="session")
def convo(alice: Client) -> Conversation:
    return Conversation(alice)
