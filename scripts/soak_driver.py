#!/usr/bin/env python3
"""Mixed load for scripts/soak: many users chatting (the model is the fake LLM) and using REST.

Usage: soak_driver.py URL SERVER_PID SECONDS USERS
Fails (exit 1) on any 5xx or unexpected status, or when a created task or chat item is missing
afterwards. Prints VmRSS of the server before, at peak (VmHWM) and after the load.
Python standard library only: HTTP/1.0 over asyncio streams (the server closes each response).
"""

import asyncio
import json
import random
import sys
import time
from urllib.parse import urlsplit

URL, PID, SECONDS, USERS = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
HOST, PORT = urlsplit(URL).hostname, urlsplit(URL).port


class Failure(Exception):
    pass


def rss_kib(field="VmRSS"):
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise Failure(f"no {field} for pid {PID}")


def dechunk(body):
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
    return out


async def http(method, path, token=None, body=None, expect=(200,)):
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.0\r\nHost: {HOST}:{PORT}\r\nContent-Length: {len(data)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    reader, writer = await asyncio.open_connection(HOST, PORT)
    try:
        writer.write(head.encode() + b"\r\n" + data)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    header_block, _, payload = raw.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        payload = dechunk(payload)
    if status >= 500 or status not in expect:
        raise Failure(f"{method} {path} -> {status}: {payload[:300]!r}")
    return status, headers, payload


def sse_events(payload):
    return [json.loads(chunk[len("data: "):]) for chunk in payload.decode().split("\n\n") if chunk.startswith("data: ")]


class User:
    def __init__(self, n):
        self.n = n
        self.token = None
        self.rest_created = []  # task ids from 201s
        self.chat_adds = 0  # turns asking the model to add a task
        self.turns = {}  # thread id -> user messages sent
        self.requests = 0

    async def sign_up(self):
        email = f"soak-{self.n}-{random.getrandbits(32):08x}@example.com"
        _, _, body = await http("POST", "/api/auth/sign-up", body={"email": email, "password": "correct horse battery"}, expect=(201,))
        self.token = json.loads(body)["token"]

    async def chat(self):
        text = f"add soak chat task {self.chat_adds + 1} from user {self.n}"
        threads = list(self.turns)
        if threads and random.random() < 0.5:
            thread = random.choice(threads)
            request = {"type": "threads.add_user_message", "params": {"thread_id": thread, "input": user_input(text)}}
        else:
            thread = None
            request = {"type": "threads.create", "params": {"input": user_input(text)}}
        _, _, payload = await http("POST", "/api/chatkit", self.token, request)
        events = sse_events(payload)
        if any(event.get("type") == "error" for event in events):
            raise Failure(f"chat error event: {events}")
        if thread is None:
            thread = events[0]["thread"]["id"]
        self.turns[thread] = self.turns.get(thread, 0) + 1
        self.chat_adds += 1

    async def create(self):
        _, _, body = await http("POST", "/api/tasks", self.token, {"title": f"soak rest task {len(self.rest_created)}", "priority": random.choice(["low", "medium", "high"]), "tags": ["soak"]}, expect=(201,))
        self.rest_created.append(json.loads(body)["id"])

    async def complete(self):
        if self.rest_created:
            await http("POST", f"/api/tasks/{random.choice(self.rest_created)}/complete", self.token, {"completed": random.random() < 0.8})

    async def list(self):
        await http("GET", f"/api/tasks?status={random.choice(['all', 'pending', 'completed'])}&limit=50", self.token)

    async def run(self, deadline):
        actions = [self.chat, self.chat, self.create, self.create, self.complete, self.list]
        while time.monotonic() < deadline:
            await random.choice(actions)()
            self.requests += 1

    async def verify(self):
        ids, offset = set(), 0
        while True:
            _, _, body = await http("GET", f"/api/tasks?limit=100&offset={offset}", self.token)
            page = json.loads(body)
            ids.update(task["id"] for task in page["tasks"])
            offset += len(page["tasks"])
            if not page["tasks"] or offset >= page["total"]:
                break
        missing = set(self.rest_created) - ids
        if missing:
            raise Failure(f"user {self.n}: REST-created tasks missing: {sorted(missing)[:5]}")
        expected = len(self.rest_created) + self.chat_adds
        if len(ids) != expected:
            raise Failure(f"user {self.n}: {len(ids)} tasks, expected {len(self.rest_created)} REST + {self.chat_adds} chat")
        for thread, sent in self.turns.items():
            _, _, body = await http("POST", "/api/chatkit", self.token, {"type": "items.list", "params": {"thread_id": thread, "limit": 100}})
            kinds = [item["type"] for item in json.loads(body)["data"]]
            if kinds.count("user_message") != sent or kinds.count("assistant_message") < sent:
                raise Failure(f"user {self.n}: thread {thread} has {kinds}, expected {sent} turns")


def user_input(text):
    return {"content": [{"type": "input_text", "text": text}], "attachments": [], "inference_options": {}}


async def sample_peak(peak):
    # VmHWM alone lags (the kernel batches RSS counters per thread), so sample VmRSS too.
    while True:
        peak[0] = max(peak[0], rss_kib())
        await asyncio.sleep(0.25)


async def main():
    users = [User(n) for n in range(USERS)]
    idle = rss_kib()
    # Sign-ups hash passwords (argon2, ~19 MiB each) on blocking threads: measured separately.
    await asyncio.gather(*(user.sign_up() for user in users))
    before = rss_kib()
    peak = [before]
    sampler = asyncio.create_task(sample_peak(peak))
    started = time.monotonic()
    await asyncio.gather(*(user.run(started + SECONDS) for user in users))
    elapsed = time.monotonic() - started
    await asyncio.gather(*(user.verify() for user in users))
    sampler.cancel()
    peak = max(peak[0], rss_kib("VmHWM"))
    # Let the allocator settle (detached runs finish, pools go idle), then measure.
    await asyncio.sleep(5)
    after = rss_kib()
    total = sum(user.requests for user in users)
    print(f"soak: {USERS} users, {total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s), "
          f"{sum(len(u.rest_created) for u in users)} REST tasks, {sum(u.chat_adds for u in users)} chat turns, "
          f"{sum(len(u.turns) for u in users)} threads, zero 5xx, everything accounted for")
    print(f"soak: RSS idle {idle / 1024:.1f} MiB, after sign-ups {before / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, after {after / 1024:.1f} MiB")


try:
    asyncio.run(main())
except Failure as failure:
    print(f"soak FAILED: {failure}", file=sys.stderr)
    sys.exit(1)
