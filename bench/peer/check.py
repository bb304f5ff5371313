"""Correctness check before timing: one chat turn ("add <title>") against a server, every SSE
event validated with openai-chatkit's own `chatkit.types.ThreadStreamEvent`, and the task must
then be in the user's task list (GET /api/tasks). Works for todokit and for the peer.

Usage: python check.py URL TOKEN   (exit status 0 when correct; prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import urllib.request
import uuid

from chatkit.types import ThreadStreamEvent
from pydantic import TypeAdapter

EVENT = TypeAdapter(ThreadStreamEvent)


def main(url: str, token: str) -> int:
    title = f"check {uuid.uuid4().hex[:8]}"
    body = {
        "type": "threads.create",
        "params": {"input": {"content": [{"type": "input_text", "text": f"add {title}"}], "attachments": [],
                             "inference_options": {}}},
    }
    request = urllib.request.Request(
        f"{url}/api/chatkit", data=json.dumps(body).encode(), method="POST",
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    kinds: list[str] = []
    text = ""
    with urllib.request.urlopen(request, timeout=60) as response:
        for raw in response:
            line = raw.decode().rstrip("\n")
            if not line.startswith("data: "):
                continue
            event = EVENT.validate_json(line[len("data: "):])
            kinds.append(event.type)
            if event.type == "error":
                raise SystemExit(f"error event: {line}")
            update = getattr(event, "update", None)
            if update is not None and update.type == "assistant_message.content_part.text_delta":
                text += update.delta
    tasks_request = urllib.request.Request(f"{url}/api/tasks?limit=100", headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(tasks_request, timeout=30) as response:
        titles = [task["title"] for task in json.load(response)["tasks"]]
    ok = title in titles and bool(text) and "thread.created" in kinds
    print(json.dumps({"ok": ok, "events": len(kinds), "types": sorted(set(kinds)), "task_created": title in titles,
                      "reply_chars": len(text)}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/"), sys.argv[2]))
