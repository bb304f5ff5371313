"""Unit tests for the oracle itself: it must accept the captured reference output
(chatkit-protocol.md §2.8, §3, §4.2) and reject every malformed case of §10.3.
No server needed."""

from __future__ import annotations

import copy
import json

import pytest
from pydantic import TypeAdapter

import oracle
from chatkit.types import ThreadStreamEvent
from oracle import OracleError

# §2.8: the exact bytes the reference server produced for threads.create.
CAPTURED_CREATE = [
    '{"type":"thread.created","thread":{"id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.558740","status":{"type":"active"},"metadata":{},"items":{"data":[],"has_more":false}}}',
    '{"type":"thread.item.done","item":{"id":"msg_d0cc94af","thread_id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.569604","type":"user_message","content":[{"type":"input_text","text":"hi"}],"attachments":[],"inference_options":{}}}',
    '{"type":"stream_options","stream_options":{"allow_cancel":true}}',
    '{"type":"progress_update","icon":"search","text":"Thinking..."}',
    '{"type":"thread.item.added","item":{"id":"msg_06796765","thread_id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.580015","type":"assistant_message","content":[]}}',
    '{"type":"thread.item.updated","item_id":"msg_06796765","update":{"type":"assistant_message.content_part.added","content_index":0,"content":{"annotations":[],"text":"","type":"output_text"}}}',
    '{"type":"thread.item.updated","item_id":"msg_06796765","update":{"type":"assistant_message.content_part.text_delta","content_index":0,"delta":"Hello"}}',
    '{"type":"thread.item.updated","item_id":"msg_06796765","update":{"type":"assistant_message.content_part.done","content_index":0,"content":{"annotations":[],"text":"Hello","type":"output_text"}}}',
    '{"type":"thread.item.done","item":{"id":"msg_06796765","thread_id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.580015","type":"assistant_message","content":[{"annotations":[],"text":"Hello","type":"output_text"}]}}',
    '{"type":"thread.updated","thread":{"title":"Greeting","id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.558740","status":{"type":"active"},"metadata":{},"items":{"data":[],"has_more":false}}}',
]

# §3 / §4.2: other captured single events and items.
CAPTURED_EVENTS = [
    '{"type":"client_effect","name":"highlight_text","data":{"index":142,"length":35}}',
    '{"type":"error","code":"custom","message":"Nope","allow_retry":true}',
    '{"type":"error","code":"stream.error","allow_retry":true}',
    '{"type":"notice","level":"warning","message":"You\'ve reached your limit. [Upgrade](https://...)","title":"Limit"}',
    '{"type":"thread.item.removed","item_id":"msg_2"}',
    '{"type":"thread.item.done","item":{"id":"msg_162a0cb2","thread_id":"thr_8d28260f","created_at":"2026-11-21T10:32:06.405116","type":"user_message","content":[{"type":"input_text","text":"see "},{"type":"input_tag","id":"doc_1","text":"Q2 plan","data":{"k":"v"},"group":"Docs","interactive":true}],"attachments":[{"id":"atc_e83ba6c1","name":"cat.png","mime_type":"image/png","thread_id":"thr_8d28260f","type":"image","preview_url":"https://files.example/atc_e83ba6c1/preview"}],"quoted_text":"q","inference_options":{"tool_choice":{"id":"search"},"model":"gpt-5"}}}',
    '{"type":"thread.item.done","item":{"id":"tc_1","thread_id":"thr_808c9db0","created_at":"2026-11-21T10:29:53.863086","type":"client_tool_call","status":"pending","call_id":"call_1","name":"get_sel","arguments":{"x":1}}}',
    '{"type":"thread.item.done","item":{"id":"wf_93c1168f","thread_id":"thr_x","created_at":"2026-11-21T10:29:53.863086","type":"workflow","workflow":{"type":"reasoning","tasks":[{"status_indicator":"none","type":"thought","content":"Thinking"}],"summary":{"duration":0},"expanded":false}}}',
    # widget dicts are free-form: unknown props (camelCase or not) must pass
    '{"type":"thread.item.done","item":{"id":"msg_9663de95","thread_id":"thr_1","created_at":"2026-11-21T10:29:53Z","type":"widget","widget":{"type":"Card","size":"sm","someFutureProp":1,"children":[{"id":"md1","type":"Markdown","value":"Hello","streaming":false,"x-unknown":{"a":1}}]},"copy_text":"Hello world"}}',
]

GOOD_GET_BY_ID = {
    "title": "Greeting", "id": "thr_f8adfa33", "created_at": "2026-11-21T10:29:37.558740",
    "status": {"type": "active"}, "metadata": {},
    "items": {"data": [json.loads(CAPTURED_CREATE[1])["item"], json.loads(CAPTURED_CREATE[8])["item"]], "has_more": False},
}
GOOD_LIST = {"data": [json.loads(CAPTURED_CREATE[9])["thread"]], "has_more": False}


def sse(payloads: list[str]) -> bytes:
    return b"".join(b"data: " + p.encode() + b"\n\n" for p in payloads)


def mutate(index: int, fn) -> list[str]:
    """The captured stream with event ``index`` changed by ``fn(dict)``."""
    events = list(CAPTURED_CREATE)
    raw = json.loads(events[index])
    fn(raw)
    events[index] = json.dumps(raw, separators=(",", ":"))
    return events


# ------------------------------------------------------------------ accepted


def test_accepts_captured_create_stream():
    events = oracle.check_events_bytes("threads.create", sse(CAPTURED_CREATE))
    assert [e.type for e in events][:3] == ["thread.created", "thread.item.done", "stream_options"]
    assert len(events) == 10


@pytest.mark.parametrize("payload", CAPTURED_EVENTS)
def test_accepts_captured_events(payload):
    oracle.parse_event(payload)


def test_accepts_good_json_bodies():
    oracle.validate_json_body("threads.get_by_id", json.dumps(GOOD_GET_BY_ID))
    oracle.validate_json_body("threads.list", json.dumps(GOOD_LIST))
    oracle.validate_json_body("items.list", '{"data":[],"has_more":false}')
    oracle.validate_json_body("threads.delete", b"{}")
    oracle.validate_json_body("threads.sync_custom_action", b"{}")


def test_accepts_timezone_suffixed_timestamps():
    oracle.parse_event(CAPTURED_CREATE[0].replace("37.558740", "37.558740Z"))
    oracle.parse_event(CAPTURED_CREATE[0].replace("37.558740", "37.558+00:00"))


# ------------------------------------------------------- §10.3 negative cases


def _drop_delta(raw):
    del raw["update"]["delta"]


def _content_type_text(raw):
    raw["item"]["content"][0]["type"] = "text"


def _bad_date(raw):
    raw["thread"]["created_at"] = "not-a-date"


def _int_date(raw):
    raw["thread"]["created_at"] = 1759320001


def _upload_icon(raw):
    raw["icon"] = "upload"


def _extra_field(raw):
    raw["thread"]["extra_field"] = 1


NEGATIVE_STREAMS = {
    "text_delta without delta": mutate(6, _drop_delta),
    "assistant content type 'text'": mutate(8, _content_type_text),
    "created_at 'not-a-date'": mutate(0, _bad_date),
    "progress_update icon 'upload'": mutate(3, _upload_icon),
    "integer created_at": mutate(0, _int_date),
    "extra_field on a thread": mutate(0, _extra_field),
    "updated before added": CAPTURED_CREATE[:4] + CAPTURED_CREATE[5:6] + CAPTURED_CREATE[4:5] + CAPTURED_CREATE[6:],
    "error code 'rate_limited'": CAPTURED_CREATE + ['{"type":"error","code":"rate_limited","allow_retry":false}'],
}


# Which check must catch each case (§10.3 "Caught by").
CAUGHT_BY = {
    "extra_field on a thread": "unknown key 'extra_field'",
    "updated before added": "never announced",
}


@pytest.mark.parametrize("case", sorted(NEGATIVE_STREAMS))
def test_rejects_malformed_stream(case):
    with pytest.raises(OracleError, match=CAUGHT_BY.get(case, r"\(strict\)")):
        oracle.check_events_bytes("threads.create", sse(NEGATIVE_STREAMS[case]))


def test_integer_created_at_only_caught_by_strict_mode():
    payload = NEGATIVE_STREAMS["integer created_at"][0]
    TypeAdapter(ThreadStreamEvent).validate_json(payload)  # lax mode accepts it...
    with pytest.raises(OracleError, match="strict"):
        oracle.parse_event(payload)  # ...the oracle does not


def test_extra_field_only_caught_by_unknown_key_walk():
    payload = NEGATIVE_STREAMS["extra_field on a thread"][0]
    TypeAdapter(ThreadStreamEvent).validate_json(payload, strict=True)  # pydantic accepts it...
    with pytest.raises(OracleError, match="unknown key 'extra_field'"):
        oracle.parse_event(payload)


def test_rejects_get_by_id_without_id():
    body = copy.deepcopy(GOOD_GET_BY_ID)
    del body["id"]
    with pytest.raises(OracleError):
        oracle.validate_json_body("threads.get_by_id", json.dumps(body))


def test_rejects_page_missing_has_more():
    body = copy.deepcopy(GOOD_LIST)
    del body["has_more"]
    with pytest.raises(OracleError, match="has_more"):
        oracle.validate_json_body("threads.list", json.dumps(body))
    with pytest.raises(OracleError, match="has_more"):
        oracle.validate_json_body("items.list", '{"data":[]}')
    with pytest.raises(OracleError, match="has_more"):
        oracle.validate_json_body("items.list", "{}")


# ----------------------------------------------------- further oracle checks


def test_rejects_nested_page_missing_data():
    body = copy.deepcopy(GOOD_GET_BY_ID)
    del body["items"]["data"]
    with pytest.raises(OracleError, match="data"):
        oracle.validate_json_body("threads.get_by_id", json.dumps(body))


def test_rejects_has_more_without_after():
    with pytest.raises(OracleError, match="after"):
        oracle.validate_json_body("items.list", '{"data":[],"has_more":true}')


def test_rejects_null_field():
    with pytest.raises(OracleError, match="null"):
        oracle.parse_event(CAPTURED_CREATE[0].replace('"id":"thr_f8adfa33"', '"title":null,"id":"thr_f8adfa33"'))


def test_rejects_missing_default_field():
    with pytest.raises(OracleError, match="metadata"):
        oracle.parse_event(CAPTURED_CREATE[0].replace('"metadata":{},', ""))


def test_rejects_unknown_key_deep_inside_item():
    with pytest.raises(OracleError, match="unknown key 'bogus'"):
        oracle.parse_event(CAPTURED_CREATE[8].replace('"annotations":[]', '"annotations":[],"bogus":1'))


def test_rejects_hidden_items_in_stream_and_pages():
    hidden = '{"type":"thread.item.done","item":{"id":"shcx_1","thread_id":"thr_f8adfa33","created_at":"2026-11-21T10:29:37.580015","type":"sdk_hidden_context","content":"x"}}'
    with pytest.raises(OracleError, match="hidden"):
        oracle.check_events_bytes("threads.create", sse(CAPTURED_CREATE + [hidden]))
    page = {"data": [json.loads(hidden)["item"]], "has_more": False}
    with pytest.raises(OracleError, match="hidden"):
        oracle.validate_json_body("items.list", json.dumps(page))


def test_rejects_wrong_create_order():
    swapped = [CAPTURED_CREATE[1], CAPTURED_CREATE[0]] + CAPTURED_CREATE[2:]
    with pytest.raises(OracleError, match="must start with"):
        oracle.check_events_bytes("threads.create", sse(swapped))
    without_options = CAPTURED_CREATE[:2] + CAPTURED_CREATE[3:]
    with pytest.raises(OracleError, match="must start with"):
        oracle.check_events_bytes("threads.create", sse(without_options))


def test_rejects_add_user_message_without_user_message_first():
    with pytest.raises(OracleError):
        oracle.check_events_bytes("threads.add_user_message", sse(CAPTURED_CREATE[2:]))
    oracle.check_events_bytes("threads.add_user_message", sse(CAPTURED_CREATE[1:9]))


@pytest.mark.parametrize(
    "body",
    [
        sse(CAPTURED_CREATE)[:-1],  # no trailing blank line
        b"event: message\n" + sse(CAPTURED_CREATE),  # event: field
        b": ping\n\n" + sse(CAPTURED_CREATE),  # comment / keep-alive
        sse(CAPTURED_CREATE).replace(b"\n\n", b"\r\n\r\n"),  # CRLF
        sse(CAPTURED_CREATE) + b"data: [DONE]\n\n",  # sentinel
        b"data:" + sse(CAPTURED_CREATE)[6:],  # no space after data:
        b"",  # empty body
    ],
    ids=["no-trailing-blank", "event-line", "comment", "crlf", "done-sentinel", "no-space", "empty"],
)
def test_rejects_bad_framing(body):
    with pytest.raises(OracleError):
        oracle.check_events_bytes("threads.create", body)


def test_rejects_non_literal_empty_body():
    with pytest.raises(OracleError):
        oracle.validate_json_body("threads.delete", b'{"ok":true}')
    with pytest.raises(OracleError):
        oracle.validate_json_body("items.feedback", b"{ }")


def test_request_validation_catches_probe_bugs():
    oracle.validate_request({"type": "threads.list", "params": {}})
    with pytest.raises(OracleError):
        oracle.validate_request({"type": "threads.list"})
    with pytest.raises(OracleError):
        oracle.validate_request({"type": "threads.create", "params": {"input": {"content": []}}})


def test_error_response_shape():
    ok = oracle.Response(404, {"content-type": "application/json"}, b'{"error":{"code":"not_found","message":"Thread not found"}}')
    oracle.check_error_response(ok, (404,))
    for bad in (
        oracle.Response(500, {"content-type": "application/json"}, ok.body),
        oracle.Response(404, {"content-type": "text/plain"}, b"Not Found"),
        oracle.Response(404, {"content-type": "application/json"}, b'{"detail":"Not Found"}'),
    ):
        with pytest.raises(OracleError):
            oracle.check_error_response(bad, (404,))
