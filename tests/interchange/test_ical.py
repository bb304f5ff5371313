"""The iCalendar todokit writes, read by a real parser (Python's `icalendar`): the export's VTODOs
(SUMMARY, DESCRIPTION, DUE, PRIORITY, CATEGORIES, STATUS/COMPLETED, RRULE, VALARM) and the calendar
feed's VEVENTs. Run against a live server by scripts/test (scripts/with-server sets TODOKIT_URL)."""

import datetime
import json
import os
import urllib.request
import uuid

import icalendar
import pytest

URL = os.environ.get("TODOKIT_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="needs a running server (TODOKIT_URL)")


def call(method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(URL + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request) as response:
        return response.status, response.headers, response.read()


def new_user():
    email = f"ical-{uuid.uuid4().hex}@example.com"
    _, _, body = call("POST", "/api/auth/sign-up", body={"email": email, "password": "correct horse battery"})
    return json.loads(body)["token"]


@pytest.fixture(scope="module")
def token():
    token = new_user()
    tasks = [
        {"title": "Standup, daily; with \\ backslash", "description": "Line one\nLine two, with; specials",
         "priority": "high", "tags": ["work", "team"], "due_at": "2030-03-04T09:00:00+01:00",
         "reminder_offset_minutes": 15, "time_zone": "Europe/Berlin",
         "recurrence": {"frequency": "weekly", "interval": 1, "weekdays": ["monday", "thursday"], "count": 10}},
        {"title": "Pay rent", "due_at": "2030-01-31T23:59:59-05:00", "time_zone": "America/New_York",
         "recurrence": {"frequency": "monthly", "interval": 1}},
        {"title": "Done already", "priority": "low", "completed": True},
        {"title": "No date", "description": "Grüße 🦀 " + "long " * 40},
    ]
    for task in tasks:
        zone = task.pop("time_zone", None)
        path = "/api/tasks" + (f"?timezone={zone}" if zone else "")
        status, _, body = call("POST", path, token, task)
        assert status == 201, body
    return token


def components(calendar, name):
    return [c for c in calendar.walk() if c.name == name]


def test_the_export_is_one_vtodo_per_task_with_every_field(token):
    status, headers, body = call("GET", "/api/account/export?format=ics", token)
    assert status == 200
    assert headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0"
    todos = {str(todo["SUMMARY"]): todo for todo in components(calendar, "VTODO")}
    assert set(todos) == {"Standup, daily; with \\ backslash", "Pay rent", "Done already", "No date"}

    standup = todos["Standup, daily; with \\ backslash"]
    assert str(standup["DESCRIPTION"]) == "Line one\nLine two, with; specials"
    assert int(standup["PRIORITY"]) == 1
    assert [str(c) for c in standup["CATEGORIES"].cats] == ["work", "team"]
    assert str(standup["STATUS"]) == "NEEDS-ACTION"
    due = standup["DUE"].dt
    assert due.tzinfo is not None
    assert due.astimezone(datetime.timezone.utc) == datetime.datetime(2030, 3, 4, 8, 0, tzinfo=datetime.timezone.utc)
    rule = standup["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    assert rule["BYDAY"] == ["MO", "TH"]
    assert rule["COUNT"] == [10]
    alarms = components(standup, "VALARM")
    assert len(alarms) == 1
    assert str(alarms[0]["ACTION"]) == "DISPLAY"
    trigger = alarms[0]["TRIGGER"]
    assert trigger.dt == datetime.timedelta(minutes=-15)
    assert trigger.params["RELATED"] == "END"

    rent = todos["Pay rent"]
    assert rent["RRULE"]["FREQ"] == ["MONTHLY"]
    # The month-end clamp: Jan 31 → Feb 28 → Mar 31, not a skipped February.
    assert rent["RRULE"]["BYSETPOS"] == [-1]

    done = todos["Done already"]
    assert str(done["STATUS"]) == "COMPLETED"
    assert isinstance(done["COMPLETED"].dt, datetime.datetime)
    assert int(done["PRIORITY"]) == 9
    assert "DUE" not in done

    no_date = todos["No date"]
    assert str(no_date["DESCRIPTION"]).startswith("Grüße 🦀 long long")
    assert "DUE" not in no_date and "VALARM" not in [c.name for c in no_date.subcomponents]


def test_the_feed_is_vevents_for_due_tasks_and_vtodos_on_request(token):
    status, _, body = call("POST", "/api/calendar-feed", token, {})
    assert status == 201
    url = json.loads(body)["url"]
    assert url.startswith(URL + "/calendar/") and url.endswith(".ics")
    with urllib.request.urlopen(url) as response:  # no credential
        assert response.status == 200
        etag = response.headers["ETag"]
        calendar = icalendar.Calendar.from_ical(response.read())
    events = {str(event["SUMMARY"]): event for event in components(calendar, "VEVENT")}
    assert set(events) == {"Standup, daily; with \\ backslash", "Pay rent"}
    standup = events["Standup, daily; with \\ backslash"]
    assert standup["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert standup["DTSTART"].dt.replace(tzinfo=None) == datetime.datetime(2030, 3, 4, 9, 0)
    assert standup["DURATION"].dt == datetime.timedelta(minutes=30)
    assert standup["RRULE"]["BYDAY"] == ["MO", "TH"]
    assert components(standup, "VALARM")[0]["TRIGGER"].dt == datetime.timedelta(minutes=-15)
    assert str(standup["TRANSP"]) == "TRANSPARENT"
    rent = events["Pay rent"]
    # Due at the end of a day: an all-day event on that day.
    assert rent["DTSTART"].dt == datetime.date(2030, 1, 31)
    assert components(calendar, "VTIMEZONE"), "a repeating event's zone is described"

    request = urllib.request.Request(url, headers={"If-None-Match": etag})
    try:
        urllib.request.urlopen(request)
        raise AssertionError("expected 304")
    except urllib.error.HTTPError as unchanged:
        assert unchanged.code == 304

    with urllib.request.urlopen(url + "?kind=todo") as response:
        todos = components(icalendar.Calendar.from_ical(response.read()), "VTODO")
    assert sorted(str(t["SUMMARY"]) for t in todos) == ["Pay rent", "Standup, daily; with \\ backslash"]
