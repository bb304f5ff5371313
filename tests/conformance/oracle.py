"""Conformance oracle for the ChatKit server protocol (openai-chatkit==1.6.5).

Everything here validates against the real pydantic models from ``chatkit.types``;
nothing is re-modelled by hand. Needs only ``openai-chatkit`` (installed with
``--no-deps``), ``pydantic`` and ``jinja2``; the HTTP helper uses the stdlib.

Entry points:
    validate_request(body)                          -> dict (the request, validated)
    check_stream(request_type, response, ...)       -> list[Event] (validated stream)
    check_json_response(request_type, response, ..) -> (model, raw JSON)
    check_error_response(response, statuses)        -> dict (the JSON error body)
    post(url, body, token)                          -> Response (raw HTTP result)

Every failure raises ``OracleError`` with the offending event / body in the message.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from chatkit.types import (
    Attachment,
    ChatKitReq,
    Page,
    SyncCustomActionResponse,
    Thread,
    ThreadItem,
    ThreadStreamEvent,
    TranscriptionResult,
)
from chatkit.widgets import WidgetComponentBase

HTTP_TIMEOUT_S = 30.0

STREAMING_TYPES = frozenset(
    {
        "threads.create",
        "threads.add_user_message",
        "threads.add_client_tool_output",
        "threads.add_structured_input",
        "threads.retry_after_item",
        "threads.custom_action",
    }
)
NON_STREAMING_TYPES = frozenset(
    {
        "threads.get_by_id",
        "threads.list",
        "threads.update",
        "threads.delete",
        "threads.sync_custom_action",
        "items.list",
        "items.feedback",
        "attachments.create",
        "attachments.delete",
        "input.transcribe",
    }
)
HIDDEN_ITEM_TYPES = frozenset({"hidden_context_item", "sdk_hidden_context"})

# Response model of each JSON request type; None means the literal body `{}`.
RESPONSE_MODELS: dict[str, Any] = {
    "threads.get_by_id": Thread,
    "threads.update": Thread,
    "threads.list": Page[Thread],
    "items.list": Page[ThreadItem],
    "threads.sync_custom_action": SyncCustomActionResponse,
    "attachments.create": Attachment,
    "input.transcribe": TranscriptionResult,
    "threads.delete": None,
    "items.feedback": None,
    "attachments.delete": None,
}

_REQUEST = TypeAdapter(ChatKitReq)
_EVENT = TypeAdapter(ThreadStreamEvent)
_ADAPTERS = {k: TypeAdapter(v) for k, v in RESPONSE_MODELS.items() if v is not None}


class OracleError(AssertionError):
    """A protocol violation. The message shows the offending JSON."""


def _show(raw: Any, limit: int = 1500) -> str:
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


# --------------------------------------------------------------------------- HTTP


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    transport_error: str | None = None  # e.g. chunked body broke off mid-stream

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)


def post(url: str, body: Any, token: str | None = None, timeout: float = HTTP_TIMEOUT_S) -> Response:
    """POST ``body`` (dict → JSON, or raw bytes/str sent verbatim) and read the whole response."""
    data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream, application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    parts = urllib.parse.urlsplit(url)
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(parts.netloc, timeout=timeout)
    try:
        conn.request("POST", parts.path or "/", body=data, headers=headers)
        resp = conn.getresponse()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        try:
            payload, err = resp.read(), None
        except http.client.IncompleteRead as e:
            payload, err = e.partial, f"body broke off: {e!r}"
        except (socket.timeout, ConnectionError) as e:
            payload, err = b"", f"body read failed: {e!r}"
        return Response(resp.status, hdrs, payload, err)
    finally:
        conn.close()


# ----------------------------------------------------------------------- requests


def validate_request(body: dict) -> dict:
    """Fail fast if the probe itself would send something the reference rejects."""
    try:
        _REQUEST.validate_python(body)
    except ValidationError as e:
        raise OracleError(f"probe bug: request does not validate as ChatKitReq:\n{_show(body)}\n{e}") from e
    return body


# ------------------------------------------------------------------ unknown keys


def unknown_key_walk(model: Any, raw: Any, where: str = "$") -> None:
    """Walk ``raw`` JSON alongside the validated ``model``.

    Fails on any key the model would not produce (pydantic silently ignores
    extras), on keys sent as ``null`` (the reference omits nulls: exclude_none),
    and on default-valued fields the reference always emits but ``raw`` left out.
    Widget components are free-form (extra="allow"), as are dict[str, Any] values,
    so the walk does not descend into them.
    """
    if isinstance(model, WidgetComponentBase):
        return  # permissive widget dicts: validated, but no key comparison
    if isinstance(model, BaseModel):
        _walk_model(model, raw, where)
    elif isinstance(model, (list, tuple)) and isinstance(raw, list):
        for i, (m, r) in enumerate(zip(model, raw)):
            unknown_key_walk(m, r, f"{where}[{i}]")
    elif isinstance(model, dict) and isinstance(raw, dict):
        for k, r in raw.items():
            unknown_key_walk(model.get(k), r, f"{where}.{k}")


def _walk_model(model: BaseModel, raw: Any, where: str) -> None:
    if not isinstance(raw, dict):
        raise OracleError(f"{where}: expected an object for {type(model).__name__}, got {_show(raw)}")
    fields = type(model).model_fields
    by_alias = {(f.alias or name): name for name, f in fields.items()}
    extras = model.model_extra or {}
    for key, value in raw.items():
        if key in extras:
            continue
        if key not in by_alias:
            raise OracleError(
                f"{where}: unknown key {key!r} for {type(model).__name__} "
                f"(allowed: {sorted(by_alias)}) in {_show(raw)}"
            )
        if value is None:
            raise OracleError(
                f"{where}.{key}: null value; the reference omits null fields (exclude_none) in {_show(raw)}"
            )
        unknown_key_walk(getattr(model, by_alias[key]), value, f"{where}.{key}")
    expected = model.model_dump(by_alias=True, exclude_none=True, context={"exclude_metadata": True})
    missing = [k for k in expected if k not in raw]
    if missing:
        raise OracleError(
            f"{where}: {type(model).__name__} lacks {missing}; the reference always emits "
            f"default-valued fields in {_show(raw)}"
        )


def walk_pages(model: Any, raw: Any, where: str = "$") -> None:
    """Every Page (top level or nested in a Thread) must carry explicit data/has_more."""
    if isinstance(model, Page):
        for key in ("data", "has_more"):
            if not isinstance(raw, dict) or key not in raw:
                raise OracleError(f"{where}: page without explicit {key!r}: {_show(raw)}")
        if raw["has_more"] and not raw.get("after"):
            raise OracleError(f"{where}: page has_more=true but no 'after' cursor: {_show(raw)}")
    if isinstance(model, BaseModel) and not isinstance(model, WidgetComponentBase) and isinstance(raw, dict):
        for name, f in type(model).model_fields.items():
            key = f.alias or name
            if key in raw:
                walk_pages(getattr(model, name), raw[key], f"{where}.{key}")
    elif isinstance(model, list) and isinstance(raw, list):
        for i, (m, r) in enumerate(zip(model, raw)):
            walk_pages(m, r, f"{where}[{i}]")


# ------------------------------------------------------------------ SSE framing


@dataclass
class Event:
    raw: dict  # the JSON as received
    model: Any  # the validated pydantic event
    text: str  # the payload string

    @property
    def type(self) -> str:
        return self.raw["type"]


def check_content_type(request_type: str, resp: Response) -> None:
    want = "text/event-stream" if request_type in STREAMING_TYPES else "application/json"
    got = resp.content_type.split(";")[0].strip().lower()
    if got != want:
        raise OracleError(
            f"{request_type}: content-type {resp.content_type!r}, want {want!r}; body: {_show(resp.body.decode(errors='replace'))}"
        )


def split_sse(body: bytes, allow_empty: bool = False) -> list[str]:
    """Check reference framing (`data: <json>\\n\\n` per event) and return the payloads."""
    if not body:
        if allow_empty:
            return []
        raise OracleError("empty SSE body: no events at all")
    text = body.decode("utf-8")
    if "\r" in text:
        raise OracleError(f"SSE body contains CR characters; reference uses bare \\n: {_show(text)}")
    if not text.endswith("\n\n"):
        raise OracleError(f"SSE body does not end with a blank line (\\n\\n): ...{_show(text[-300:])}")
    payloads = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        for line in lines:
            if line and not line.startswith("data: "):
                raise OracleError(f"SSE line does not start with 'data: ': {_show(line)}")
        if len(lines) != 1 or not lines[0]:
            raise OracleError(f"SSE event is not exactly one 'data: ' line followed by a blank line: {_show(block)}")
        payloads.append(lines[0][len("data: "):])
    return payloads


def parse_event(payload: str) -> Event:
    """Strict model validation plus the unknown-key walk for one event payload."""
    try:
        raw = json.loads(payload)
    except json.JSONDecodeError as e:
        raise OracleError(f"event is not JSON ({e}): {_show(payload)}") from e
    try:
        model = _EVENT.validate_json(payload, strict=True)
    except ValidationError as e:
        raise OracleError(f"event fails ThreadStreamEvent (strict):\n{_show(payload)}\n{e}") from e
    try:
        unknown_key_walk(model, raw)
        walk_pages(model, raw)
    except OracleError as e:
        raise OracleError(f"{e}\n  in event: {_show(payload)}") from None
    return Event(raw, model, payload)


# --------------------------------------------------------------- stream checks


def _item_of(ev: Event) -> dict | None:
    return ev.raw.get("item") if ev.type in ("thread.item.added", "thread.item.done", "thread.item.replaced") else None


def check_event_sequence(request_type: str, events: list[Event], thread_id: str | None = None) -> None:
    """Ordering invariants the models cannot express."""
    types = [e.type for e in events]
    if request_type == "threads.create":
        _expect_prefix(events, ["thread.created", "thread.item.done", "stream_options"], request_type)
        _expect_user_message(events[1], request_type)
        thread_id = thread_id or events[0].raw["thread"]["id"]
    elif request_type == "threads.add_user_message":
        _expect_prefix(events, ["thread.item.done", "stream_options"], request_type)
        _expect_user_message(events[0], request_type)
    elif events and types[0] != "stream_options":
        # other phases start with stream_options; a lone error event is the one early-exit shape
        if not (types == ["error"]):
            raise OracleError(f"{request_type}: first event must be stream_options, got {_show(events[0].raw)}")
    if types.count("stream_options") > 1:
        raise OracleError(f"{request_type}: more than one stream_options event: {types}")
    if types.count("thread.created") > (1 if request_type == "threads.create" else 0):
        raise OracleError(f"{request_type}: unexpected thread.created: {types}")

    announced: set[str] = set()
    for ev in events:
        item = _item_of(ev)
        if item is not None:
            if item.get("type") in HIDDEN_ITEM_TYPES:
                raise OracleError(f"hidden item leaked to the client: {ev.text}")
            if thread_id is not None and item.get("thread_id") != thread_id:
                raise OracleError(f"item thread_id {item.get('thread_id')!r} != thread {thread_id!r}: {ev.text}")
            if ev.type == "thread.item.added":
                announced.add(item["id"])
        if ev.type == "thread.item.updated" and ev.raw["item_id"] not in announced:
            raise OracleError(f"thread.item.updated for an item never announced by thread.item.added: {ev.text}")
        if ev.type in ("thread.created", "thread.updated"):
            _expect_empty_items(ev.raw["thread"], ev.text)
            if thread_id is not None and ev.raw["thread"]["id"] != thread_id:
                raise OracleError(f"{ev.type} for another thread (expected {thread_id}): {ev.text}")


def _expect_prefix(events: list[Event], prefix: list[str], request_type: str) -> None:
    got = [e.type for e in events[: len(prefix)]]
    if got != prefix:
        shown = "\n".join(e.text for e in events[: len(prefix) + 1])
        raise OracleError(f"{request_type}: stream must start with {prefix}, got {got}:\n{shown}")


def _expect_user_message(ev: Event, request_type: str) -> None:
    if ev.raw["item"].get("type") != "user_message":
        raise OracleError(f"{request_type}: thread.item.done must carry the user_message: {ev.text}")


def _expect_empty_items(thread: dict, shown: str) -> None:
    if thread["items"]["data"]:
        raise OracleError(f"thread outside threads.get_by_id must carry an empty items page: {_show(shown)}")


def check_stream(
    request_type: str,
    resp: Response,
    thread_id: str | None = None,
    allow_empty: bool = False,
) -> list[Event]:
    """Full check of a streaming response; returns the validated events."""
    if resp.status != 200:
        raise OracleError(f"{request_type}: HTTP {resp.status}, want 200; body: {_show(resp.body.decode(errors='replace'))}")
    check_content_type(request_type, resp)
    if resp.transport_error:
        raise OracleError(f"{request_type}: {resp.transport_error}; partial body: {_show(resp.body.decode(errors='replace'))}")
    events = [parse_event(p) for p in split_sse(resp.body, allow_empty=allow_empty)]
    check_event_sequence(request_type, events, thread_id)
    return events


def check_events_bytes(request_type: str, body: bytes, thread_id: str | None = None) -> list[Event]:
    """Check a captured SSE body without HTTP (used by the unit tests)."""
    events = [parse_event(p) for p in split_sse(body)]
    check_event_sequence(request_type, events, thread_id)
    return events


# ----------------------------------------------------------- JSON responses


def validate_json_body(request_type: str, body: bytes | str) -> tuple[Any, Any]:
    """Validate a non-streaming body against the response model of ``request_type``."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if RESPONSE_MODELS[request_type] is None:
        if text != "{}":
            raise OracleError(f"{request_type}: body must be the literal {{}}, got {_show(text)}")
        return None, {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise OracleError(f"{request_type}: body is not JSON ({e}): {_show(text)}") from e
    try:
        model = _ADAPTERS[request_type].validate_json(text, strict=True)
    except ValidationError as e:
        raise OracleError(f"{request_type}: body fails {RESPONSE_MODELS[request_type]} (strict):\n{_show(text)}\n{e}") from e
    try:
        unknown_key_walk(model, raw)
        walk_pages(model, raw)
    except OracleError as e:
        raise OracleError(f"{request_type}: {e}\n  in body: {_show(text)}") from None
    _check_json_invariants(request_type, raw, text)
    return model, raw


def _check_json_invariants(request_type: str, raw: Any, text: str) -> None:
    items: list[dict] = []
    if request_type == "items.list":
        items = raw["data"]
    elif request_type == "threads.get_by_id":
        items = raw["items"]["data"]
    elif request_type == "threads.update":
        _expect_empty_items(raw, text)
    elif request_type == "threads.list":
        for thread in raw["data"]:
            _expect_empty_items(thread, text)
    elif request_type == "threads.sync_custom_action" and "updated_item" in raw:
        items = [raw["updated_item"]]
    for item in items:
        if item.get("type") in HIDDEN_ITEM_TYPES:
            raise OracleError(f"{request_type}: hidden item leaked to the client: {_show(item)}")


def check_json_response(request_type: str, resp: Response) -> tuple[Any, Any]:
    if resp.status != 200:
        raise OracleError(f"{request_type}: HTTP {resp.status}, want 200; body: {_show(resp.body.decode(errors='replace'))}")
    check_content_type(request_type, resp)
    if resp.transport_error:
        raise OracleError(f"{request_type}: {resp.transport_error}")
    return validate_json_body(request_type, resp.body)


def check_error_response(resp: Response, statuses: tuple[int, ...] | range = range(400, 500)) -> dict:
    """A JSON error `{"error":{"code":str,"message":str,...}}` with a status in ``statuses``."""
    shown = _show(resp.body.decode(errors="replace"))
    if resp.status not in statuses:
        raise OracleError(f"HTTP {resp.status}, want one of {list(statuses)}; body: {shown}")
    if resp.content_type.split(";")[0].strip().lower() != "application/json":
        raise OracleError(f"error response content-type {resp.content_type!r}, want application/json; body: {shown}")
    try:
        body = resp.json()
    except ValueError as e:
        raise OracleError(f"error body is not JSON: {shown}") from e
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("code"), str) or not isinstance(err.get("message"), str):
        raise OracleError(f'error body must be {{"error":{{"code":str,"message":str}}}}, got {shown}')
    return body


def check_stream_or_client_error(request_type: str, resp: Response, thread_id: str | None = None) -> list[Event] | dict:
    """For requests a server may legitimately refuse: a valid stream, or a 4xx JSON error."""
    if resp.status == 200:
        return check_stream(request_type, resp, thread_id, allow_empty=True)
    return check_error_response(resp)
