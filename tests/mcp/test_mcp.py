"""todokit's MCP server, driven by the official MCP Python SDK client.

Starts the real `todokit` binary (TODOKIT_BIN, default target/debug/todokit) on a free port
with a temporary SQLite data directory, then talks to /mcp over Streamable HTTP and to
`todokit mcp` over stdio.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import anyio
import httpx2
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("TODOKIT_BIN", str(ROOT / "target" / "debug" / "todokit"))
JWT_SECRET = "mcp-test-secret-mcp-test-secret-mcp-test-secret"
TOOL_NAMES = {
    "create_task",
    "list_tasks",
    "update_task",
    "delete_task",
    "complete_task",
    "complete_all_tasks",
    "delete_all_tasks",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_body(raw: bytes):
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {"raw": raw.decode(errors="replace")}


class Server:
    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="todokit-mcp-")
        self.data_dir = Path(self.tmp.name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "TODOKIT_LISTEN": f"127.0.0.1:{self.port}",
            "TODOKIT_DATA_DIR": str(self.data_dir),
            "TODOKIT_JWT_SECRET": JWT_SECRET,
            "RUST_LOG": "warn",
            # No drain on SIGTERM: a test server has no load balancer to wait for.
            "TODOKIT_DRAIN_SECS": "0",
        }
        self.env.pop("DATABASE_URL", None)
        self.log = open(self.data_dir / "server.log", "wb")
        self.process = subprocess.Popen([BIN], env=self.env, stdout=self.log, stderr=self.log)
        try:
            self._wait_ready()
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise

    def _wait_ready(self) -> None:
        # Poll readiness (the server binds after applying migrations).
        for _ in range(300):
            if self.process.poll() is not None:
                raise RuntimeError(f"todokit exited: {(self.data_dir / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("todokit did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()
        self.tmp.cleanup()

    def request(self, method: str, path: str, token: str | None = None, body=None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        request.add_header("Accept", "application/json, text/event-stream")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, parse_body(response.read())
        except urllib.error.HTTPError as error:
            return error.code, parse_body(error.read())

    def new_user(self) -> tuple[str, str]:
        email = f"mcp-{uuid.uuid4().hex}@example.com"
        status, body = self.request("POST", "/api/auth/sign-up", body={"email": email, "password": "correct horse battery"})
        assert status == 201, body
        return email, body["token"]

    def new_access_token(self, jwt: str, name: str = "mcp test") -> dict:
        status, body = self.request("POST", "/api/tokens", jwt, {"name": name})
        assert status == 201, body
        assert body["token_secret"].startswith("tdk_")
        return body

    def cli(self, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [BIN, *args],
            env={**self.env, **(extra_env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def server():
    instance = Server()
    yield instance
    instance.stop()


async def with_http_session(server: Server, token: str | None, body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(f"{server.url}/mcp", http_client=http) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await body(session)


def run_http(server: Server, token: str | None, body):
    return anyio.run(with_http_session, server, token, body)


async def call(session: ClientSession, name: str, arguments: dict | None = None):
    result = await session.call_tool(name, arguments or {})
    value = result.structured_content
    assert value is not None, result
    # The text content carries the same JSON for clients that ignore structured content.
    assert json.loads(result.content[0].text) == value
    return result, value


def test_initialize_and_tool_schemas_match_the_assistant(server):
    _, jwt = server.new_user()
    secret = server.new_access_token(jwt)["token_secret"]

    async def body(session):
        return await session.list_tools()

    listed = run_http(server, secret, body)
    assert {tool.name for tool in listed.tools} == TOOL_NAMES
    exported = server.cli("tools", "schema")
    assert exported.returncode == 0, exported.stderr
    definitions = {d["name"]: d for d in json.loads(exported.stdout)}
    for tool in listed.tools:
        assert tool.input_schema == definitions[tool.name]["parameters"], tool.name
        assert tool.description == definitions[tool.name]["description"]
    # The snapshot the Rust tests keep is the same document.
    snapshot = ROOT / "crates/todokit/tests/integration/snapshots/integration__tools__tool_definitions.snap"
    assert snapshot.is_file(), f"the Rust tests' tool snapshot is gone (renamed?): {snapshot}"
    text = snapshot.read_text()
    assert json.loads(text[text.index("---", 3) + 3 :]) == json.loads(exported.stdout)


def test_every_tool_works(server):
    _, jwt = server.new_user()
    secret = server.new_access_token(jwt)["token_secret"]

    async def body(session):
        _, created = await call(
            session,
            "create_task",
            {"title": "Buy milk #shopping", "due_date": "2031-05-01T17:00:00+02:00", "priority": "urgent"},
        )
        assert created["success"] is True
        task = created["task"]
        assert task["title"] == "Buy milk" and task["tags"] == ["shopping"] and task["priority"] == "high"
        assert task["number"] == 1
        _, second = await call(session, "create_task", {"title": "Call mom", "due_date": "tomorrow at 5pm"})
        assert second["task"]["due_date"] is not None

        _, listed = await call(session, "list_tasks", {"status": "pending", "sort": "due"})
        assert listed["total"] == 2 and listed["pending"] == 2 and listed["completed"] == 0
        assert listed["summary"] == "Found 2 tasks (2 pending, 0 completed)"
        assert [t["number"] for t in listed["tasks"]] == [2, 1]

        _, updated = await call(session, "update_task", {"task_id": "#1", "title": "Buy oat milk", "priority": "low"})
        assert updated["task"]["title"] == "Buy oat milk"
        assert "title from 'Buy milk' to 'Buy oat milk'" in updated["message"]

        _, completed = await call(session, "complete_task", {"task_id": 1, "completed": True})
        assert completed["old_status"] == "pending" and completed["new_status"] == "completed"
        _, reopened = await call(session, "complete_task", {"task_id": "1", "completed": False})
        assert reopened["new_status"] == "pending"

        _, bulk = await call(session, "complete_all_tasks", {})
        assert (bulk["updated_count"], bulk["skipped_count"], bulk["total_count"]) == (2, 0, 2)
        _, again = await call(session, "complete_all_tasks", {})
        assert again["updated_count"] == 0 and "already completed" in again["message"]

        _, deleted = await call(session, "delete_task", {"task_id": task["id"]})
        assert deleted["task"]["id"] == task["id"]

        _, ask = await call(session, "delete_all_tasks", {})
        assert ask["requires_confirmation"] is True and ask["task_count"] == 1
        _, still = await call(session, "list_tasks", {})
        assert still["total"] == 1, "the unconfirmed call deletes nothing"
        _, done = await call(session, "delete_all_tasks", {"confirmed": True})
        assert done["deleted_count"] == 1

        await call(session, "create_task", {"title": "Pending one"})
        resources = await session.list_resources()
        assert [str(r.uri) for r in resources.resources] == ["todokit://tasks/pending"]
        read = await session.read_resource("todokit://tasks/pending")
        pending = json.loads(read.contents[0].text)
        assert [t["title"] for t in pending["tasks"]] == ["Pending one"]

    run_http(server, secret, body)


FORMAT_CHECKER = FormatChecker()
# Formats JSON Schema does not define: a strict validator with format checking refuses them.
NON_STANDARD_FORMATS = {"int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float", "double"}


def walk(schema):
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from walk(value)


def strict_validator(schema: dict) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    for node in walk(schema):
        assert node.get("format") not in NON_STANDARD_FORMATS, node
        # Gemini's function declarations take one type per schema, never a list with "null".
        assert not isinstance(node.get("type"), list), node
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def test_tool_metadata_schemas_and_results_are_strict(server):
    assert {"date-time", "uuid"} <= set(FORMAT_CHECKER.checkers), "format checking is on"
    _, jwt = server.new_user()
    secret = server.new_access_token(jwt)["token_secret"]

    async def body(session):
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == TOOL_NAMES
        inputs, outputs = {}, {}
        for name, tool in tools.items():
            assert tool.title and tool.annotations.title == tool.title, name
            assert tool.output_schema is not None, name
            inputs[name] = strict_validator(tool.input_schema)
            outputs[name] = strict_validator(tool.output_schema)
        hints = {name: tool.annotations for name, tool in tools.items()}
        assert hints["list_tasks"].read_only_hint is True and hints["list_tasks"].idempotent_hint is True
        assert [n for n, h in hints.items() if h.read_only_hint] == ["list_tasks"]
        assert {n for n, h in hints.items() if h.destructive_hint} == {"delete_task", "delete_all_tasks"}
        assert {n for n, h in hints.items() if h.idempotent_hint} == {"list_tasks", "update_task", "complete_task"}

        async def checked(name, arguments):
            inputs[name].validate(arguments)
            result, value = await call(session, name, arguments)
            assert result.is_error is not True, value
            errors = [e.message for e in outputs[name].iter_errors(value)]
            assert errors == [], (name, value, errors)
            return value

        created = await checked(
            "create_task",
            {"title": "Stand-up #work", "description": "daily sync", "due_date": "2031-10-30T09:00:00-04:00",
             "reminder": "30 minutes before", "recurrence": {"frequency": "weekly", "weekdays": ["mon", "thu"], "count": 10}},
        )
        assert created["task"]["recurrence"]["weekdays"] == ["mon", "thu"]
        await checked("create_task", {"title": "Read", "priority": "low"})
        await checked("list_tasks", {"status": "pending", "tags": ["work"], "sort": "due", "limit": 10})
        await checked("update_task", {"task_id": 1, "add_tags": ["team"], "reminder": 15, "recurrence": "every weekday"})
        await checked("update_task", {"task_id": "#2", "clear": ["tags"], "due_date": "2031-11-01T10:00:00Z"})
        completed = await checked("complete_task", {"task_id": 1, "completed": True})
        assert completed["next_task"]["number"] == 3
        await checked("complete_all_tasks", {"priority": "low"})
        ask = await checked("delete_all_tasks", {"status": "completed"})
        assert ask["requires_confirmation"] is True and ask["task_count"] == 2
        done = await checked("delete_all_tasks", {"status": "completed", "confirm": True, "expected_count": 2})
        assert [t["number"] for t in done["tasks"]] == [1, 2]
        await checked("delete_task", {"task_id": 3})

    run_http(server, secret, body)


def test_bad_arguments_are_tool_errors(server):
    _, jwt = server.new_user()

    async def body(session):
        cases = [
            ("create_task", {"title": 5}, "title"),
            ("create_task", {"title": "x" * 300}, "255"),
            ("create_task", {"title": "ok", "due_date": "whenever the moon is blue"}, "due_date"),
            ("create_task", {"title": "ok", "user_id": "someone-else"}, "user_id"),
            ("update_task", {"task_id": 999, "title": "nope"}, "Could not find task with ID 999"),
            ("complete_task", {"task_id": "groceries", "completed": True}, "task_id"),
            ("complete_task", {"task_id": 1}, "completed"),
            ("list_tasks", {"limit": 1000}, "limit"),
            ("no_such_tool", {}, "no_such_tool"),
        ]
        for name, arguments, hint in cases:
            result, value = await call(session, name, arguments)
            assert result.is_error is True, (name, arguments, value)
            assert value["success"] is False and value["error"] and hint in value["message"], value
        # The server is still fine afterwards.
        _, listed = await call(session, "list_tasks", {})
        assert listed["total"] == 0

    run_http(server, jwt, body)  # a session JWT works as well as an access token


def test_a_second_user_sees_nothing_of_the_first(server):
    _, owner_jwt = server.new_user()
    _, other_jwt = server.new_user()
    owner = server.new_access_token(owner_jwt)["token_secret"]
    other = server.new_access_token(other_jwt)["token_secret"]

    async def create(session):
        _, value = await call(session, "create_task", {"title": "Private plans"})
        return value["task"]

    task = run_http(server, owner, create)

    async def snoop(session):
        _, listed = await call(session, "list_tasks", {})
        assert listed["total"] == 0 and listed["tasks"] == []
        for name, arguments in [
            ("update_task", {"task_id": task["id"], "title": "Pwned"}),
            ("complete_task", {"task_id": 1, "completed": True}),
            ("delete_task", {"task_id": task["id"]}),
        ]:
            result, value = await call(session, name, arguments)
            assert result.is_error and value["error"] == "Task not found", value
        _, bulk = await call(session, "delete_all_tasks", {"confirmed": True})
        assert bulk["deleted_count"] == 0
        read = await session.read_resource("todokit://tasks/pending")
        assert json.loads(read.contents[0].text)["tasks"] == []

    run_http(server, other, snoop)
    status, body = server.request("GET", f"/api/tasks/{task['id']}", owner_jwt)
    assert status == 200 and body["title"] == "Private plans" and body["completed"] is False


def raw_initialize(server: Server, token: str | None) -> int:
    status, _ = server.request(
        "POST",
        "/mcp",
        token,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        },
    )
    return status


def test_missing_revoked_and_expired_tokens_are_refused(server):
    _, jwt = server.new_user()
    revoked = server.new_access_token(jwt, "to revoke")
    expired = server.new_access_token(jwt, "to expire")
    assert raw_initialize(server, None) == 401
    assert raw_initialize(server, "tdk_notarealtoken") == 401
    assert raw_initialize(server, "not-a-jwt") == 401
    assert raw_initialize(server, revoked["token_secret"]) == 200

    status, _ = server.request("DELETE", f"/api/tokens/{revoked['id']}", jwt)
    assert status == 200
    with sqlite3.connect(server.data_dir / "todokit.db") as db:
        db.execute("UPDATE access_tokens SET expires_at = 1 WHERE prefix = ?", (expired["prefix"],))
    for secret in (revoked["token_secret"], expired["token_secret"]):
        assert raw_initialize(server, secret) == 401
        with pytest.raises(Exception):
            run_http(server, secret, lambda session: session.list_tools())
        status, _ = server.request("GET", "/api/tasks", secret)
        assert status == 401


def test_stdio_mode_with_a_token_from_the_cli(server):
    email, jwt = server.new_user()
    created = server.cli("token", "create", "--email", email, "--name", "desktop")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("tdk_")
    listed = server.cli("token", "list", "--email", email)
    assert "desktop" in listed.stdout and secret not in listed.stdout

    params = StdioServerParameters(
        command=BIN,
        args=["mcp"],
        env={
            "TODOKIT_DATA_DIR": str(server.data_dir),
            "TODOKIT_TOKEN": secret,
            "TODOKIT_TIMEZONE": "Europe/Berlin",
            "RUST_LOG": "warn",
        },
    )

    async def body():
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                tools = await session.list_tools()
                assert {tool.name for tool in tools.tools} == TOOL_NAMES
                _, value = await call(session, "create_task", {"title": "From the desktop", "due_date": "2031-01-01T09:00"})
                assert value["task"]["due_date"] == "2031-01-01T09:00:00+01:00"
                result, value = await call(session, "delete_task", {"task_id": 42})
                assert result.is_error

    anyio.run(body)
    status, tasks = server.request("GET", "/api/tasks", jwt)
    assert status == 200 and [t["title"] for t in tasks["tasks"]] == ["From the desktop"]

    _, tokens = server.request("GET", "/api/tokens", jwt)
    token_id = tokens["tokens"][0]["id"]
    revoked = server.cli("token", "revoke", "--email", email, token_id)
    assert revoked.returncode == 0, revoked.stderr
    refused = server.cli("mcp", extra_env={"TODOKIT_TOKEN": secret})
    assert refused.returncode != 0 and "revoked" in refused.stderr
