//! Live sync and resilience: `/api/events`, reminders, chat runs (detached:
//! disconnect, re-attach; attached: a client that leaves cancels; stop, busy
//! threads), chat rate limits, provider errors, and two replicas on one
//! PostgreSQL database.

use std::time::Duration;

use futures::StreamExt;
use jiff::SignedDuration;
use serde_json::{Value, json};
use todokit::chat::ChatContext;
use todokit::chat::{NewThreadClaim, RunClaim, RunHolder, ThreadSaved};
use todokit::events::ClaimRelease;
use todokit::events::NewEvent;
use todokit::tasks::UserZone;
use todokit::tasks::model::UserId;
use todokit::tools::ToolContext;
use todokit_fake_llm::{FakeLlm, Reply, Rule, Script};
use uuid::Uuid;

use crate::chat::{chatkit, create_thread, user_input};
use crate::helpers::{Db, TestApp, spawn_app, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(
    task_changes_stream_to_their_owner_only,
    chat_turns_announce_threads_and_items,
    reconnecting_replays_what_was_missed_or_says_reset,
    a_replay_holds_only_the_users_own_events,
    event_streams_are_capped_per_user,
    a_due_reminder_is_announced_once,
    reminders_skip_completed_and_deleted_tasks,
    chat_rate_limits_answer_429_with_when_it_resets,
    a_message_refused_per_minute_does_not_use_up_the_daily_quota,
    one_users_refused_messages_leave_another_users_daily_quota_alone,
    reminders_reach_their_owner_only,
    reply_claims_hold_until_released_or_lapsed,
    a_background_pass_prunes_old_events_and_ended_rate_windows_separately,
);

/// Upper bound for waiting on something the server is about to do; never a
/// timing assertion, only a guard against hanging forever on a bug.
const PATIENCE: Duration = Duration::from_secs(20);

/// A client of `GET /api/events`, parsing SSE frames (comments included).
pub struct EventStream {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub id: Option<i64>,
    pub kind: String,
    pub data: Value,
}

impl EventStream {
    pub async fn open(app: &TestApp, token: &str, last_event_id: Option<i64>) -> Self {
        let response = Self::request(app, token, last_event_id).await;
        assert_eq!(response.status(), 200, "events stream refused");
        assert!(
            response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"),
            "{:?}",
            response.headers()
        );
        Self::from(response)
    }

    /// A stream already opened (e.g. on a server process of a test's own).
    pub fn from(response: reqwest::Response) -> Self {
        Self { body: response.bytes_stream().boxed(), buffer: String::new() }
    }

    pub async fn request(app: &TestApp, token: &str, last_event_id: Option<i64>) -> reqwest::Response {
        let mut request = app.client.get(format!("{}/api/events", app.url)).bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        request.send().await.unwrap()
    }

    /// The next event (keep-alive comments are skipped, as a browser does).
    pub async fn next(&mut self) -> LiveEvent {
        tokio::time::timeout(PATIENCE, self.next_frame()).await.expect("no live event arrived")
    }

    async fn next_frame(&mut self) -> LiveEvent {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = Some(value.trim().parse().expect("numeric event id"));
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    } else {
                        assert!(line.is_empty() || line.starts_with(':'), "unexpected SSE line {line:?}");
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                let value: Value = serde_json::from_str(&data).expect("event data is JSON");
                let kind = value["kind"].as_str().expect("event kind").to_owned();
                if let Some(id) = id {
                    assert_eq!(value["id"], id, "the SSE id and the payload id agree");
                }
                return LiveEvent { id, kind, data: value["data"].clone() };
            }
            let chunk = self.body.next().await.expect("event stream ended").expect("event stream failed");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Skips events until one of `kind` arrives.
    pub async fn until(&mut self, kind: &str) -> LiveEvent {
        loop {
            let event = self.next().await;
            if event.kind == kind {
                return event;
            }
        }
    }
}

async fn user_context(app: &TestApp, token: &str) -> ChatContext {
    let me = app.get("/api/auth/session", token).await.expect(200);
    ChatContext::from(ToolContext {
        user: UserId(uuid::Uuid::parse_str(me["user"]["id"].as_str().unwrap()).unwrap()),
        zone: UserZone::utc(),
    })
}

async fn task_changes_stream_to_their_owner_only(app: TestApp) {
    let alice = app.new_user().await;
    let bob = app.new_user().await;
    let mut alice_events = EventStream::open(&app, &alice, None).await;
    let mut bob_events = EventStream::open(&app, &bob, None).await;

    let task = app.create_task(&alice, json!({"title": "water the plants"})).await;
    let id = task["id"].clone();
    app.patch(&format!("/api/tasks/{}", id.as_str().unwrap()), &alice, json!({"title": "water plants"}))
        .await
        .expect(200);
    app.post(&format!("/api/tasks/{}/complete", id.as_str().unwrap()), &alice, json!({})).await.expect(200);
    app.delete(&format!("/api/tasks/{}", id.as_str().unwrap()), &alice).await.expect(200);

    let mut previous = 0;
    for expected in ["task.created", "task.updated", "task.completed", "task.deleted"] {
        let event = alice_events.next().await;
        assert_eq!(event.kind, expected);
        assert_eq!(event.data["task_id"], id);
        assert_eq!(event.data["number"], task["number"]);
        let event_id = event.id.expect("every change has an id");
        assert!(event_id > previous, "ids increase");
        previous = event_id;
    }

    // Bob's stream skipped all of Alice's changes: his own comes first.
    let bobs = app.create_task(&bob, json!({"title": "bob's"})).await;
    let event = bob_events.next().await;
    assert_eq!((event.kind.as_str(), &event.data["task_id"]), ("task.created", &bobs["id"]));
}

async fn chat_turns_announce_threads_and_items(app: TestApp) {
    let token = app.new_user().await;
    let mut events = EventStream::open(&app, &token, None).await;
    let (thread_id, _) = create_thread(&app, &token, "add buy milk").await;

    let mut seen = Vec::new();
    loop {
        let event = events.next().await;
        if event.kind == "run.finished" {
            assert_eq!(event.data["thread_id"], thread_id);
            assert_eq!(event.data["stopped"], false);
            break;
        }
        seen.push(event);
    }
    let kinds: Vec<&str> = seen.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"thread.created"), "{kinds:?}");
    // Later saves of the same thread (its title from the first message) are updates.
    assert_eq!(kinds.iter().filter(|kind| **kind == "thread.created").count(), 1, "{kinds:?}");
    assert!(kinds.contains(&"thread.updated"), "{kinds:?}");
    assert!(kinds.contains(&"run.started"), "{kinds:?}");
    assert!(kinds.contains(&"task.created"), "the assistant's tool call is a live change too: {kinds:?}");
    let items: Vec<&Value> =
        seen.iter().filter(|e| e.kind == "thread.item.done").map(|e| &e.data["item_type"]).collect();
    assert!(items.contains(&&json!("user_message")), "{kinds:?} {items:?}");
    assert!(items.iter().any(|t| *t != "user_message"), "the assistant's reply is announced: {items:?}");
    for event in &seen {
        if event.kind.starts_with("thread.") {
            assert_eq!(event.data["thread_id"], thread_id);
        }
    }
}

async fn reconnecting_replays_what_was_missed_or_says_reset(app: TestApp) {
    let token = app.new_user().await;
    let mut events = EventStream::open(&app, &token, None).await;
    app.create_task(&token, json!({"title": "one"})).await;
    let first_id = events.next().await.id.unwrap();
    drop(events);

    // Changes made while the tab slept.
    let second = app.create_task(&token, json!({"title": "two"})).await;
    let third = app.create_task(&token, json!({"title": "three"})).await;

    let mut resumed = EventStream::open(&app, &token, Some(first_id)).await;
    assert_eq!(resumed.next().await.data["task_id"], second["id"]);
    assert_eq!(resumed.next().await.data["task_id"], third["id"]);
    // Then live.
    let fourth = app.create_task(&token, json!({"title": "four"})).await;
    assert_eq!(resumed.next().await.data["task_id"], fourth["id"]);
    drop(resumed);

    // The query parameter works like the header.
    let response = app
        .client
        .get(format!("{}/api/events?last_event_id={first_id}", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let mut by_query = EventStream { body: response.bytes_stream().boxed(), buffer: String::new() };
    assert_eq!(by_query.next().await.data["task_id"], second["id"]);
    drop(by_query);

    // An id this user never had (another user's, or made up) → reset.
    let other = app.new_user().await;
    let mut foreign = EventStream::open(&app, &other, Some(first_id)).await;
    assert_eq!(foreign.next().await.kind, "reset");
    let mut unknown = EventStream::open(&app, &token, Some(i64::MAX / 2)).await;
    assert_eq!(unknown.next().await.kind, "reset");

    // Pruned past the retention → reset too.
    let far_future = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365);
    app.storage.events.prune_events(far_future).await.unwrap();
    let mut pruned = EventStream::open(&app, &token, Some(first_id)).await;
    let reset = pruned.next().await;
    assert_eq!((reset.kind.as_str(), reset.id), ("reset", None));
    // …and the stream goes on live after the reset.
    let fifth = app.create_task(&token, json!({"title": "five"})).await;
    assert_eq!(pruned.next().await.data["task_id"], fifth["id"]);
}

async fn a_replay_holds_only_the_users_own_events(app: TestApp) {
    replays_hold_only_the_users_own_events(&app, &app).await;
}

/// Bob's tab sleeps while Alice writes (through `written_on`), then reconnects (through
/// `read_on`) from an event id of his own below Alice's, and from the start: he gets his own
/// events only, and none of hers live either.
async fn replays_hold_only_the_users_own_events(written_on: &TestApp, read_on: &TestApp) {
    let alice = written_on.new_user().await;
    let bob = written_on.new_user().await;
    let mut bobs_tab = EventStream::open(read_on, &bob, None).await;
    let bobs_first = written_on.create_task(&bob, json!({"title": "bob's first"})).await;
    let slept_at = bobs_tab.next().await;
    assert_eq!(slept_at.data["task_id"], bobs_first["id"]);
    let slept_at = slept_at.id.unwrap();
    drop(bobs_tab);

    let mut alices_tab = EventStream::open(read_on, &alice, None).await;
    let alices = written_on.create_task(&alice, json!({"title": "alice's secret"})).await;
    let alices_path = format!("/api/tasks/{}", alices["id"].as_str().unwrap());
    written_on.patch(&alices_path, &alice, json!({"title": "alice's secret, renamed"})).await.expect(200);
    written_on.delete(&alices_path, &alice).await.expect(200);
    // Alice's events lie in the range Bob replays (the test would prove nothing otherwise).
    for _ in 0..3 {
        let event = alices_tab.next().await;
        assert_eq!(event.data["task_id"], alices["id"], "{event:?}");
        assert!(event.id.unwrap() > slept_at, "{event:?} is not after {slept_at}");
    }
    let bobs_live = EventStream::open(read_on, &bob, None).await;
    let bobs_marker = written_on.create_task(&bob, json!({"title": "bob's marker"})).await;

    let until_marker = |mut stream: EventStream| {
        let marker = bobs_marker["id"].clone();
        async move {
            let mut seen = Vec::new();
            loop {
                let event = stream.next().await;
                let is_marker = event.data["task_id"] == marker;
                seen.push((event.kind, event.data["task_id"].clone()));
                if is_marker {
                    return seen;
                }
            }
        }
    };
    let created = |task: &Value| ("task.created".to_owned(), task["id"].clone());
    let resumed = until_marker(EventStream::open(read_on, &bob, Some(slept_at)).await).await;
    assert_eq!(resumed, [created(&bobs_marker)], "replayed after Bob's own id");
    let from_start = until_marker(EventStream::open(read_on, &bob, Some(0)).await).await;
    assert_eq!(from_start, [created(&bobs_first), created(&bobs_marker)], "replayed from the start");
    assert_eq!(until_marker(bobs_live).await, [created(&bobs_marker)], "live");
}

/// The same through two replicas: Alice writes on A, Bob reads on B.
#[tokio::test]
async fn a_replay_through_another_replica_holds_only_the_users_own_events() {
    let Some(a) = spawn_app(Db::Postgres).await else { return };
    let b = a.replica(|_| {}).await.unwrap();
    replays_hold_only_the_users_own_events(&a, &b).await;
}

async fn event_streams_are_capped_per_user(app: TestApp) {
    let token = app.new_user().await;
    let max = app.state.config.max_event_streams;
    let mut open = Vec::new();
    for _ in 0..max {
        open.push(EventStream::open(&app, &token, None).await);
    }
    let refused = TestApp::read(EventStream::request(&app, &token, None).await).await;
    assert!(refused.headers.contains_key("retry-after"));
    refused.expect_error(429, "rate_limited");

    // Another user is not affected by this user's streams.
    let other = app.new_user().await;
    let mut others = EventStream::open(&app, &other, None).await;
    let task = app.create_task(&other, json!({"title": "mine"})).await;
    assert_eq!(others.next().await.data["task_id"], task["id"]);
}

/// `minutes` from now, to the second (what the API stores and returns).
fn minutes_from_now(minutes: i64) -> String {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(minutes);
    jiff::Timestamp::from_second(at.as_second()).unwrap().to_string()
}

/// A background pass now, as the server's own loop would do it.
async fn pass(app: &TestApp) -> u64 {
    todokit::background::run_pass(&app.state, app.state.clock.now()).await.unwrap().reminders_sent
}

/// Every `reminder.due` in the user's event log, read through `/api/events`
/// from the start up to a marker task created now.
async fn logged_reminders(app: &TestApp, token: &str) -> Vec<LiveEvent> {
    let marker = app.create_task(token, json!({"title": "marker"})).await;
    let mut replay = EventStream::open(app, token, Some(0)).await;
    let mut reminders = Vec::new();
    loop {
        let event = replay.next().await;
        if event.kind == "task.created" && event.data["task_id"] == marker["id"] {
            return reminders;
        }
        if event.kind == "reminder.due" {
            reminders.push(event);
        }
    }
}

async fn a_due_reminder_is_announced_once(app: TestApp) {
    let token = app.new_user().await;
    let mut events = EventStream::open(&app, &token, None).await;
    // Reminder 30 minutes before a time 10 minutes away: due now.
    let task = app
        .create_task(
            &token,
            json!({"title": "dentist", "due_at": minutes_from_now(10), "reminder_offset_minutes": 30}),
        )
        .await;
    assert_eq!(task["reminder_offset_minutes"], 30, "{task}");
    // Not due for hours: never announced in this test.
    app.create_task(
        &token,
        json!({"title": "later", "due_at": minutes_from_now(300), "reminder_offset_minutes": 10}),
    )
    .await;

    // The server's own loop announces it.
    let reminder = events.until("reminder.due").await;
    assert_eq!(reminder.data["task_id"], task["id"]);
    assert_eq!(reminder.data["number"], task["number"]);
    assert_eq!(reminder.data["title"], "dentist");
    assert_eq!(reminder.data["due_at"], task["due_at"]);

    assert_eq!(pass(&app).await, 0, "already sent");
    let app = app.restart(|_| {}).await;
    assert_eq!(pass(&app).await, 0, "not again after a restart");
    let reminders = logged_reminders(&app, &token).await;
    assert_eq!(reminders.len(), 1, "{reminders:?}");

    // A new due time is a new schedule: it reminds again.
    app.patch(
        &format!("/api/tasks/{}", task["id"].as_str().unwrap()),
        &token,
        json!({"due_at": minutes_from_now(20)}),
    )
    .await
    .expect(200);
    let mut events = EventStream::open(&app, &token, None).await;
    let again = events.until("reminder.due").await;
    assert_eq!(again.data["task_id"], task["id"]);
    assert_eq!(logged_reminders(&app, &token).await.len(), 2);
}

async fn reminders_skip_completed_and_deleted_tasks(app: TestApp) {
    // Start with no loop of its own in the way: passes are run by the test.
    let app = app.restart(|config| config.reminder_interval_secs = 3600).await;
    let token = app.new_user().await;
    let due_at = minutes_from_now(5);
    let body = |title: &str| json!({"title": title, "due_at": due_at, "reminder_offset_minutes": 15});
    let done = app.create_task(&token, body("done already")).await;
    let deleted = app.create_task(&token, body("deleted")).await;
    let pending = app.create_task(&token, body("pending")).await;
    app.post(&format!("/api/tasks/{}/complete", done["id"].as_str().unwrap()), &token, json!({}))
        .await
        .expect(200);
    app.delete(&format!("/api/tasks/{}", deleted["id"].as_str().unwrap()), &token).await.expect(200);

    assert_eq!(pass(&app).await, 1);
    let reminders = logged_reminders(&app, &token).await;
    let reminded: Vec<&Value> = reminders.iter().map(|e| &e.data["task_id"]).collect();
    assert_eq!(reminded, vec![&pending["id"]]);
    // Reopening a completed task does not bring back a missed reminder twice.
    assert_eq!(pass(&app).await, 0);
}

async fn chat_rate_limits_answer_429_with_when_it_resets(app: TestApp) {
    let app = app
        .restart(|config| {
            config.chat_messages_per_minute = 2;
            config.chat_messages_per_day = 0;
        })
        .await;
    // The per-minute window is the calendar minute: a run that straddles a minute boundary is
    // tried again with a new user (three messages never straddle two boundaries).
    let minute = || jiff::Timestamp::now().as_second().div_euclid(60);
    let mut attempts = 0;
    let (refused, answered_at) = loop {
        attempts += 1;
        let started_in = minute();
        let token = app.new_user().await;
        let (thread_id, _) = create_thread(&app, &token, "hello").await;
        // Read-only requests are not messages.
        for _ in 0..5 {
            let (status, _, _) = chatkit(&app, &token, json!({"type": "threads.list", "params": {}})).await;
            assert_eq!(status, 200);
            let (status, _, _) =
                chatkit(&app, &token, json!({"type": "items.list", "params": {"thread_id": thread_id}}))
                    .await;
            assert_eq!(status, 200);
        }
        let message = json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("list my tasks")}});
        let (status, _, _) = chatkit(&app, &token, message.clone()).await;
        assert_eq!(status, 200, "the second message of the minute is allowed");
        let response = crate::chat::post_chatkit(&app, &token, &message).await;
        let refused = TestApp::read(response).await;
        if minute() != started_in && refused.status != 429 {
            assert!(attempts < 3, "three runs each straddled a minute boundary");
            continue;
        }
        break (refused, jiff::Timestamp::now());
    };
    let retry_after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let error = refused.expect_error(429, "rate_limited");
    assert_eq!(error["limit"], 2);
    let reported_reset: jiff::Timestamp = error["resets_at"].as_str().unwrap().parse().unwrap();
    assert!(reported_reset > answered_at - jiff::SignedDuration::from_secs(1), "{error}");

    // Another user has their own quota.
    let other = app.new_user().await;
    create_thread(&app, &other, "hello").await;

    // The daily quota, on its own.
    let app = app
        .restart(|config| {
            config.chat_messages_per_minute = 0;
            config.chat_messages_per_day = 1;
        })
        .await;
    let token = app.new_user().await;
    create_thread(&app, &token, "hello").await;
    let (status, _, body) =
        chatkit(&app, &token, json!({"type": "threads.create", "params": {"input": user_input("again")}}))
            .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["limit"], 1);
    assert!(body["error"]["message"].as_str().unwrap().contains("Daily"), "{body}");
}

/// Both limits at once: a message the per-minute limit refuses is not counted against the daily
/// quota, so a client retrying too fast does not use up its day.
async fn a_message_refused_per_minute_does_not_use_up_the_daily_quota(app: TestApp) {
    const PER_DAY: u32 = 8;
    let app = app
        .restart(|config| {
            config.chat_messages_per_minute = 1;
            config.chat_messages_per_day = PER_DAY;
        })
        .await;
    let token = app.new_user().await;
    let new_thread = json!({"type": "threads.create", "params": {"input": user_input("hello")}});
    let (mut allowed, mut refused) = (0, 0);
    for _ in 0..5 {
        let (status, _, body) = chatkit(&app, &token, new_thread.clone()).await;
        match status {
            200 => allowed += 1,
            429 => {
                assert_eq!(body["error"]["limit"], 1, "refused by the per-minute limit: {body}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // Two are allowed only when the minute turned between the messages.
    assert!((1..=2).contains(&allowed) && refused >= 3, "{allowed} allowed, {refused} refused");

    let app = app
        .restart(|config| {
            config.chat_messages_per_minute = 0;
            config.chat_messages_per_day = PER_DAY;
        })
        .await;
    let mut allowed_today = allowed;
    loop {
        let (status, _, body) = chatkit(&app, &token, new_thread.clone()).await;
        if status == 429 {
            assert_eq!(body["error"]["limit"], PER_DAY, "{body}");
            break;
        }
        assert_eq!(status, 200, "{body}");
        allowed_today += 1;
        assert!(allowed_today <= PER_DAY, "the daily quota let more than {PER_DAY} through");
    }
    assert_eq!(allowed_today, PER_DAY, "refused messages were counted against the daily quota");
}

/// A message the per-minute limit refuses is taken back from its own user's daily count, never
/// from another user's (the counters share their window names).
async fn one_users_refused_messages_leave_another_users_daily_quota_alone(app: TestApp) {
    const PER_DAY: u32 = 2;
    let new_thread = json!({"type": "threads.create", "params": {"input": user_input("hello")}});
    let app = app
        .restart(|config| {
            config.chat_messages_per_minute = 0;
            config.chat_messages_per_day = PER_DAY;
        })
        .await;
    let alice = app.new_user().await;
    for _ in 0..PER_DAY {
        assert_eq!(chatkit(&app, &alice, new_thread.clone()).await.0, 200);
    }

    let app = app
        .restart(|config| {
            config.chat_messages_per_minute = 1;
            config.chat_messages_per_day = PER_DAY;
        })
        .await;
    let bob = app.new_user().await;
    let mut refused = 0;
    for _ in 0..6 {
        let (status, _, body) = chatkit(&app, &bob, new_thread.clone()).await;
        match status {
            200 => {}
            429 => refused += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(refused >= 3, "Bob's messages were refused: {refused}");

    let (status, _, body) = chatkit(&app, &alice, new_thread.clone()).await;
    assert_eq!(status, 429, "Alice's day is still used up: {body}");
    assert_eq!(body["error"]["limit"], PER_DAY, "{body}");
}

/// Alice's due reminder reaches her stream and log, never Bob's (whose own reminder is due in
/// the same pass).
async fn reminders_reach_their_owner_only(app: TestApp) {
    // No loop of its own in the way: the test runs the pass.
    let app = app.restart(|config| config.reminder_interval_secs = 3600).await;
    let alice = app.new_user().await;
    let bob = app.new_user().await;
    let reminded = |minutes| json!({"due_at": minutes_from_now(minutes), "reminder_offset_minutes": 30});
    let mut bobs = reminded(5);
    bobs["title"] = json!("bob's");
    let bobs = app.create_task(&bob, bobs).await;
    let mut alices = reminded(10);
    alices["title"] = json!("alice's");
    let alices = app.create_task(&alice, alices).await;
    let mut bobs_tab = EventStream::open(&app, &bob, None).await;
    let mut alices_tab = EventStream::open(&app, &alice, None).await;

    assert_eq!(pass(&app).await, 2);
    let ids = |reminders: Vec<LiveEvent>| -> Vec<Value> {
        reminders.into_iter().map(|event| event.data["task_id"].clone()).collect()
    };
    assert_eq!(ids(logged_reminders(&app, &bob).await), [bobs["id"].clone()]);
    assert_eq!(ids(logged_reminders(&app, &alice).await), [alices["id"].clone()]);
    // Live too: each tab's first reminder is its own.
    assert_eq!(bobs_tab.until("reminder.due").await.data["task_id"], bobs["id"]);
    assert_eq!(alices_tab.until("reminder.due").await.data["task_id"], alices["id"]);
}

// ----- runs: a slow model, disconnects, stop, re-attach -------------------------------------

const SLOW_WORDS: usize = 40;

/// A fake model whose replies (one word per chunk) stop after their first words and go on only
/// when the test calls `release_held`: a reply is surely still running while the test acts,
/// however slow the machine.
async fn slow_model() -> (FakeLlm, String) {
    let fake = FakeLlm::builder().build();
    let addr = fake.spawn().await.unwrap();
    fake.set_script(held_replies());
    (fake, format!("http://{addr}/v1"))
}

fn held_replies() -> Script {
    // The role chunk and two words reach the client; the other words wait for the release.
    let held = Reply { words: Some(SLOW_WORDS), hold_after_chunks: Some(3), ..Reply::default() };
    Script { rules: vec![Rule { when: Default::default(), respond: held }], ..Script::default() }
}

/// Replies that run to their end at once, for the requests a test waits on.
fn whole_replies() -> Script {
    let whole = Reply { words: Some(SLOW_WORDS), ..Reply::default() };
    Script { rules: vec![Rule { when: Default::default(), respond: whole }], ..Script::default() }
}

async fn spawn_with_model(db: Db, base_url: &str) -> Option<TestApp> {
    let base_url = base_url.to_owned();
    spawn_app_with(db, move |config| {
        config.llm.base_url = Some(base_url);
        config.llm.model = Some("fake-model".into());
        config.llm.max_retries = 0;
    })
    .await
}

/// A ChatKit request whose SSE body is read frame by frame.
struct ChatStream {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl ChatStream {
    /// A request as todokit's web UI sends it: its reply is detached (goes on if this
    /// client leaves, and can be re-attached).
    async fn post(app: &TestApp, token: &str, body: Value) -> Self {
        Self::send(app, token, body, true).await
    }

    /// A request as the official ChatKit UI sends it: leaving cancels the reply.
    async fn post_attached(app: &TestApp, token: &str, body: Value) -> Self {
        Self::send(app, token, body, false).await
    }

    async fn send(app: &TestApp, token: &str, body: Value, detached: bool) -> Self {
        let mut request = app.client.post(format!("{}/api/chatkit", app.url)).bearer_auth(token).json(&body);
        if detached {
            request = request.header("x-todokit-detach", "1");
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        Self::from(response)
    }

    fn from(response: reqwest::Response) -> Self {
        Self { body: response.bytes_stream().boxed(), buffer: String::new() }
    }

    async fn next(&mut self) -> Option<Value> {
        tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let frame: String = self.buffer.drain(..end + 2).collect();
                    let data = frame.trim_end().strip_prefix("data: ").expect("exact ChatKit framing");
                    return Some(serde_json::from_str(data).unwrap());
                }
                match self.body.next().await {
                    Some(chunk) => self.buffer.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap()),
                    None => return None,
                }
            }
        })
        .await
        .expect("the reply stalled")
    }

    async fn rest(mut self) -> Vec<Value> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }

    /// Starts a detached reply on a new thread and reads until its first text: a reply surely
    /// running.
    async fn new_thread_replying(app: &TestApp, token: &str, text: &str) -> (Self, String) {
        let body = json!({"type": "threads.create", "params": {"input": user_input(text)}});
        let mut stream = Self::post(app, token, body).await;
        let thread_id = thread_id_of(&stream.until_text().await);
        (stream, thread_id)
    }

    /// The same, attached to this client.
    async fn new_thread_replying_attached(app: &TestApp, token: &str, text: &str) -> (Self, String) {
        let body = json!({"type": "threads.create", "params": {"input": user_input(text)}});
        let mut stream = Self::post_attached(app, token, body).await;
        let thread_id = thread_id_of(&stream.until_text().await);
        (stream, thread_id)
    }

    /// Reads until the first piece of assistant text.
    async fn until_text(&mut self) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.next().await.expect("the reply ended before any text");
            let is_text = event["type"] == "thread.item.updated"
                && event["update"]["type"] == "assistant_message.content_part.text_delta";
            events.push(event);
            if is_text {
                return events;
            }
        }
    }
}

fn thread_id_of(events: &[Value]) -> String {
    assert_eq!(events[0]["type"], "thread.created", "{events:?}");
    events[0]["thread"]["id"].as_str().unwrap().to_owned()
}

async fn assistant_texts(app: &TestApp, token: &str, thread_id: &str) -> Vec<String> {
    let (status, _, page) =
        chatkit(app, token, json!({"type": "items.list", "params": {"thread_id": thread_id, "limit": 100}}))
            .await;
    assert_eq!(status, 200, "{page}");
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "assistant_message")
        .map(|item| item["content"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect())
        .collect()
}

macro_rules! on_both_backends_with_model {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn sqlite() {
                    super::with_slow_model($crate::helpers::Db::Sqlite, super::$scenario).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::with_slow_model($crate::helpers::Db::Postgres, super::$scenario).await;
                }
            }
        )+
    };
}

async fn with_slow_model<F, Fut>(db: Db, scenario: F)
where
    F: FnOnce(TestApp, FakeLlm) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (fake, base_url) = slow_model().await;
    if let Some(app) = spawn_with_model(db, &base_url).await {
        scenario(app, fake).await;
    }
}

on_both_backends_with_model!(
    a_reply_finishes_after_its_client_leaves_and_can_be_reattached,
    stop_keeps_the_partial_reply_and_a_hidden_note,
    a_busy_thread_refuses_a_second_message,
    provider_errors_are_retryable_in_the_stream,
    a_client_that_leaves_cancels_its_attached_reply_as_the_reference_does,
    the_next_message_after_leaving_or_stopping_is_never_refused,
);

/// The note the reference server (`openai-chatkit`, `handle_stream_cancelled`) stores, hidden,
/// when a reply is cancelled.
const REFERENCE_CANCELLED_NOTE: &str = "The user cancelled the stream. Stop responding to the prior request.";

/// The hidden cancellation notes stored in a thread.
async fn cancellation_notes(app: &TestApp, token: &str, thread_id: &str) -> Vec<Value> {
    let ctx = user_context(app, token).await;
    let items = app
        .storage
        .chat
        .load_thread_items(thread_id, None, 100, chatkit::SortOrder::Asc, &ctx)
        .await
        .unwrap();
    items
        .data
        .iter()
        .map(|item| serde_json::to_value(item).unwrap())
        .filter(|item| item["type"] == "sdk_hidden_context")
        .map(|item| item["content"].clone())
        .collect()
}

async fn a_client_that_leaves_cancels_its_attached_reply_as_the_reference_does(app: TestApp, fake: FakeLlm) {
    let token = app.new_user().await;
    let mut live = EventStream::open(&app, &token, None).await;
    let (stream, thread_id) = ChatStream::new_thread_replying_attached(&app, &token, "talk slowly").await;
    drop(stream); // the official UI's Stop: it aborts the request

    let finished = live.until("run.finished").await;
    assert_eq!(finished.data["thread_id"], thread_id);
    assert_eq!(finished.data["stopped"], true, "the reply was cancelled, not finished");
    let texts = assistant_texts(&app, &token, &thread_id).await;
    assert_eq!(texts.len(), 1, "the partial reply is kept: {texts:?}");
    let words = texts[0].split_whitespace().count();
    assert!((1..SLOW_WORDS).contains(&words), "partial: {words} words");
    assert_eq!(cancellation_notes(&app, &token, &thread_id).await, vec![json!(REFERENCE_CANCELLED_NOTE)]);
    assert_eq!(app.get(&format!("/api/chatkit/runs/{thread_id}"), &token).await.status, 204);

    // The next turn tells the model the previous answer was cancelled.
    let (status, _, _) = chatkit(&app, &token, json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("never mind")}})).await;
    assert_eq!(status, 200);
    let last = fake.request_bodies().pop().unwrap();
    assert!(last["messages"].to_string().contains(REFERENCE_CANCELLED_NOTE), "{last}");
    // In the user's role, as the reference sends it, and never breaking the alternation that
    // strict chat templates (Gemma's on llama.cpp) require.
    let roles: Vec<&str> =
        last["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"], "{last}");
}

/// The official UI's Stop while the model has not said a word yet (a slow local model's
/// first token can take many seconds): the server notices the closed connection although it has
/// nothing to write, and cancels.
#[tokio::test]
async fn a_client_that_leaves_before_the_first_token_cancels_too() {
    let fake = FakeLlm::builder().build();
    let addr = fake.spawn().await.unwrap();
    fake.set_script(Script {
        fallback: Some(Reply { hang: Some(todokit_fake_llm::Hang::AfterHeaders), ..Reply::default() }),
        ..Script::default()
    });
    let base_url = format!("http://{addr}/v1");
    let Some(app) = spawn_app_with(Db::Sqlite, move |config| {
        config.llm.base_url = Some(base_url);
        config.llm.model = Some("fake-model".into());
        // Far beyond PATIENCE: only the client leaving can end this reply in time.
        config.llm.first_token_timeout_secs = 600;
        config.llm.run_timeout_secs = 600;
    })
    .await
    else {
        return;
    };
    let token = app.new_user().await;
    let mut live = EventStream::open(&app, &token, None).await;
    let body = json!({"type": "threads.create", "params": {"input": user_input("think hard")}});
    let mut stream = ChatStream::post_attached(&app, &token, body).await;
    let mut started = Vec::new();
    while started.last().is_none_or(|event: &Value| event["type"] != "stream_options") {
        started.push(stream.next().await.expect("the reply starts"));
    }
    let thread_id = thread_id_of(&started);
    drop(stream);
    let finished = live.until("run.finished").await;
    assert_eq!((&finished.data["thread_id"], &finished.data["stopped"]), (&json!(thread_id), &json!(true)));
    assert_eq!(cancellation_notes(&app, &token, &thread_id).await, vec![json!(REFERENCE_CANCELLED_NOTE)]);
}

async fn the_next_message_after_leaving_or_stopping_is_never_refused(app: TestApp, _fake: FakeLlm) {
    let token = app.new_user().await;
    let message = |thread_id: &str, text: &str| json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(text)}});

    // The official UI: Stop aborts the request, and the next message follows at once.
    let (stream, thread_id) = ChatStream::new_thread_replying_attached(&app, &token, "talk slowly").await;
    drop(stream);
    let (status, _, body) = chatkit(&app, &token, message(&thread_id, "shorter, please")).await;
    assert_eq!(status, 200, "the cancelled reply freed the thread: {body}");
    let texts = assistant_texts(&app, &token, &thread_id).await;
    assert_eq!(texts.len(), 2, "the partial reply, then the full one: {texts:?}");
    assert!(texts.iter().any(|text| text.split_whitespace().count() < SLOW_WORDS), "{texts:?}");

    // todokit's UI: a detached reply stopped with the stop endpoint; the next message at once.
    let (stream, thread_id) = ChatStream::new_thread_replying(&app, &token, "talk slowly").await;
    app.post(&format!("/api/chatkit/runs/{thread_id}/stop"), &token, json!({})).await.expect(200);
    let (status, _, body) = chatkit(&app, &token, message(&thread_id, "shorter, please")).await;
    assert_eq!(status, 200, "the stop freed the thread before it answered: {body}");
    stream.rest().await;
    assert_eq!(assistant_texts(&app, &token, &thread_id).await.len(), 2);
    assert_eq!(cancellation_notes(&app, &token, &thread_id).await, vec![json!(REFERENCE_CANCELLED_NOTE)]);
}

async fn a_reply_finishes_after_its_client_leaves_and_can_be_reattached(app: TestApp, fake: FakeLlm) {
    let token = app.new_user().await;
    let mut first = ChatStream::post(
        &app,
        &token,
        json!({"type": "threads.create", "params": {"input": user_input("tell me a story")}}),
    )
    .await;
    let before = first.until_text().await;
    let thread_id = thread_id_of(&before);
    drop(first); // the tab closes mid-reply

    // Re-attach: the run's events from its start, then live, to the end.
    let response = app
        .client
        .get(format!("{}/api/chatkit/runs/{thread_id}", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the reply is still running");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    fake.release_held();
    let replayed = ChatStream::from(response).rest().await;
    assert_eq!(replayed[..before.len()], before[..], "replayed from the start");
    let done = replayed
        .iter()
        .rev()
        .find(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "assistant_message")
        .expect("the reply finished");
    let full_text = done["item"]["content"][0]["text"].as_str().unwrap();
    assert_eq!(full_text.split_whitespace().count(), SLOW_WORDS);

    // Everything it produced is saved.
    assert_eq!(assistant_texts(&app, &token, &thread_id).await, vec![full_text.to_owned()]);
    // Nothing runs now.
    let idle = app.get(&format!("/api/chatkit/runs/{thread_id}"), &token).await;
    assert_eq!(idle.status, 204);
    let (status, _, _) = chatkit(&app, &token, json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("again")}})).await;
    assert_eq!(status, 200, "the thread is free again");
}

async fn stop_keeps_the_partial_reply_and_a_hidden_note(app: TestApp, _fake: FakeLlm) {
    let token = app.new_user().await;
    let ctx = user_context(&app, &token).await;
    let (stream, thread_id) = ChatStream::new_thread_replying(&app, &token, "talk slowly").await;

    // Another user cannot stop (or see) it: like a thread with nothing running.
    let intruder = app.new_user().await;
    app.post(&format!("/api/chatkit/runs/{thread_id}/stop"), &intruder, json!({}))
        .await
        .expect_error(404, "not_found");
    assert_eq!(app.get(&format!("/api/chatkit/runs/{thread_id}"), &intruder).await.status, 204);

    let stopped =
        app.post(&format!("/api/chatkit/runs/{thread_id}/stop"), &token, json!({})).await.expect(200);
    assert_eq!(stopped["stopped"], true);
    stream.rest().await; // the stream ends

    let items = app
        .storage
        .chat
        .load_thread_items(&thread_id, None, 100, chatkit::SortOrder::Asc, &ctx)
        .await
        .unwrap();
    let types: Vec<Value> =
        items.data.iter().map(|i| serde_json::to_value(i).unwrap()["type"].clone()).collect();
    assert!(types.contains(&json!("sdk_hidden_context")), "{types:?}");
    let texts = assistant_texts(&app, &token, &thread_id).await;
    assert_eq!(texts.len(), 1, "the partial reply is kept: {texts:?}");
    let words = texts[0].split_whitespace().count();
    assert!((1..SLOW_WORDS).contains(&words), "partial: {words} words");
    // Clients never see the hidden note.
    let (_, _, page) =
        chatkit(&app, &token, json!({"type": "items.list", "params": {"thread_id": thread_id}})).await;
    assert!(!page.to_string().contains("sdk_hidden_context"), "{page}");
    // Stopping again: nothing runs.
    app.post(&format!("/api/chatkit/runs/{thread_id}/stop"), &token, json!({}))
        .await
        .expect_error(404, "not_found");
}

async fn a_busy_thread_refuses_a_second_message(app: TestApp, fake: FakeLlm) {
    let token = app.new_user().await;
    let (stream, thread_id) = ChatStream::new_thread_replying(&app, &token, "long answer").await;
    let (status, _, body) = chatkit(&app, &token, json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("hurry")}})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    // Another user's message to it is a 404 (not theirs), never a 409 that would reveal it.
    let intruder = app.new_user().await;
    let (status, _, _) = chatkit(&app, &intruder, json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("hi")}})).await;
    assert_eq!(status, 404);
    fake.release_held();
    stream.rest().await;
    assert_eq!(
        assistant_texts(&app, &token, &thread_id).await.len(),
        1,
        "the refused message started nothing"
    );
}

async fn provider_errors_are_retryable_in_the_stream(app: TestApp, fake: FakeLlm) {
    let token = app.new_user().await;
    fake.set_script(Script {
        turns: vec![Reply::error(500), Reply::text("Here I am.")],
        ..Script::default()
    });
    let (thread_id, events) = create_thread(&app, &token, "hello").await;
    let error = events.iter().find(|e| e["type"] == "error").expect("an in-stream error");
    assert_eq!(error["allow_retry"], true, "{error}");
    assert!(!error["message"].as_str().unwrap_or_default().is_empty(), "{error}");
    let user_item = events
        .iter()
        .find(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "user_message")
        .expect("the message was saved")["item"]["id"]
        .clone();

    let (status, retried, _) = chatkit(
        &app,
        &token,
        json!({"type": "threads.retry_after_item", "params": {"thread_id": thread_id, "item_id": user_item}}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(retried.iter().all(|e| e["type"] != "error"), "{retried:?}");
    assert_eq!(assistant_texts(&app, &token, &thread_id).await, vec!["Here I am.".to_owned()]);
}

// ----- two replicas on one PostgreSQL database ----------------------------------------------

#[tokio::test]
async fn replicas_share_events_chat_runs_and_the_daily_quota() {
    let (fake, base_url) = slow_model().await;
    fake.set_script(whole_replies());
    let configure = |config: &mut todokit::Config| {
        config.llm.base_url = Some(base_url.clone());
        config.llm.model = Some("fake-model".into());
        config.chat_messages_per_minute = 0;
        config.chat_messages_per_day = 3;
    };
    let Some(a) = spawn_app_with(Db::Postgres, configure).await else { return };
    let b = a.replica(configure).await.unwrap();
    let token = a.new_user().await; // one account, signed in on both
    let mut on_b = EventStream::open(&b, &token, None).await;

    // A task created through A appears on B's stream.
    let task = a.create_task(&token, json!({"title": "from A"})).await;
    let event = on_b.next().await;
    assert_eq!((event.kind.as_str(), &event.data["task_id"]), ("task.created", &task["id"]));

    // A chat run on A is visible to a client of B: events, then items.
    let (thread_id, events) = create_thread(&a, &token, "hello from A").await;
    let reply = events
        .iter()
        .find(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "assistant_message")
        .expect("a reply")["item"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = on_b.until("thread.created").await;
    assert_eq!(created.data["thread_id"], thread_id);
    let finished = on_b.until("run.finished").await;
    assert_eq!(finished.data["thread_id"], thread_id);
    assert_eq!(assistant_texts(&b, &token, &thread_id).await, vec![reply]);

    // The daily quota (3) counts messages on both replicas.
    let message = |text: &str| json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(text)}});
    assert_eq!(chatkit(&b, &token, message("second, on B")).await.0, 200);
    assert_eq!(chatkit(&a, &token, message("third, on A")).await.0, 200);
    let (status, _, body) = chatkit(&b, &token, message("fourth, on B")).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["limit"], 3);

    // A reconnecting client of A replays what B's clients saw, with the same ids.
    let replay_from = event.id.unwrap();
    let mut on_a = EventStream::open(&a, &token, Some(replay_from)).await;
    let replayed = on_a.next().await;
    assert_eq!(replayed.kind, "thread.created");
    assert_eq!(replayed.id, created.id);
}

/// A client re-attaching through a replica that is not writing the reply gets it relayed from
/// the one that is: every event from the start, live, to the end, as that replica's own
/// clients get it. Nobody else gets anything, and a relayed request is never relayed on.
#[tokio::test]
async fn a_reply_is_relayed_to_clients_reattaching_through_another_replica() {
    let (fake, base_url) = slow_model().await;
    let configure = |config: &mut todokit::Config| {
        config.llm.base_url = Some(base_url.clone());
        config.llm.model = Some("fake-model".into());
    };
    let Some(a) = spawn_app_with(Db::Postgres, configure).await else { return };
    let b = a.replica(configure).await.unwrap();
    let token = a.new_user().await;
    let intruder = a.new_user().await;
    let (on_a, thread_id) = ChatStream::new_thread_replying(&a, &token, "talk slowly").await;
    let attach = |app: &TestApp| {
        app.client.get(format!("{}/api/chatkit/runs/{thread_id}", app.url)).bearer_auth(&token)
    };

    assert_eq!(b.get(&format!("/api/chatkit/runs/{thread_id}"), &intruder).await.status, 204);
    let relayed_on = attach(&b).header("x-todokit-relayed", "1").send().await.unwrap();
    assert_eq!(relayed_on.status(), 204, "B runs nothing itself");

    // Through B as the web UI asks (by cookie), through A by bearer token.
    let by_cookie = b.client.get(format!("{}/api/chatkit/runs/{thread_id}", b.url));
    let through_b = by_cookie.header("cookie", format!("auth_token={token}")).send().await.unwrap();
    assert_eq!(through_b.status(), 200);
    assert_eq!(through_b.headers()["content-type"], "text/event-stream; charset=utf-8");
    let mut through_b = ChatStream::from(through_b);
    let through_a = ChatStream::from(attach(&a).send().await.unwrap());
    // Live: B's client reads text while A is still writing the reply.
    let first_part = through_b.until_text().await;
    assert!(
        a.state.runs.find(&thread_id, user_context(&a, &token).await.user).is_some(),
        "still running on A"
    );
    fake.release_held();
    let relayed: Vec<Value> = first_part.into_iter().chain(through_b.rest().await).collect();
    let direct = through_a.rest().await;
    assert_eq!(relayed, direct);
    let done = relayed
        .iter()
        .filter(|e| e["type"] == "thread.item.done" && e["item"]["type"] == "assistant_message");
    let texts: Vec<&Value> = done.map(|e| &e["item"]["content"][0]["text"]).collect();
    assert_eq!(texts.len(), 1, "the whole reply: {relayed:?}");
    assert_eq!(vec![texts[0].as_str().unwrap().to_owned()], assistant_texts(&b, &token, &thread_id).await);
    on_a.rest().await;

    // Ended: nothing to relay.
    assert_eq!(attach(&b).send().await.unwrap().status(), 204);
}

/// Replicas appending to the log at once: every replica hears every event in id order
/// (what lets a stream skip ids it has sent, and a replay from `Last-Event-ID` miss none).
#[tokio::test]
async fn concurrent_appends_reach_every_replica_in_id_order() {
    const WRITERS: usize = 8;
    const APPENDS: usize = 25;
    let Some(a) = spawn_app_with(Db::Postgres, |_| {}).await else { return };
    let b = a.replica(|_| {}).await.unwrap();
    let mut heard_on_b = b.state.events.subscribe();
    let user = UserId(Uuid::new_v4());
    let batch = move |writer: usize, n: usize| -> Vec<NewEvent> {
        (0..1 + n % 3)
            .map(|i| NewEvent {
                user,
                kind: "test.append".into(),
                data: json!({"writer": writer, "n": n, "i": i}),
            })
            .collect()
    };
    let expected: usize = (0..APPENDS).map(|n| batch(0, n).len()).sum::<usize>() * WRITERS;
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let storage = if writer % 2 == 0 { a.storage.clone() } else { b.storage.clone() };
            tokio::spawn(async move {
                for n in 0..APPENDS {
                    storage
                        .events
                        .append_events(&batch(writer, n), &[], todokit::Clock::system().now())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }

    let mut heard = Vec::new();
    while heard.len() < expected {
        let event =
            tokio::time::timeout(PATIENCE, heard_on_b.recv()).await.expect("every event is heard").unwrap();
        if event.user == user.0 {
            heard.push(event.id);
        }
    }
    assert!(heard.windows(2).all(|pair| pair[0] < pair[1]), "heard out of order: {heard:?}");
    let logged: Vec<i64> = b
        .storage
        .events
        .events_after(user, 0, 1000)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|event| event.id)
        .collect();
    assert_eq!(heard, logged);
}

#[tokio::test]
async fn replicas_refuse_a_second_reply_and_pass_stops_on() {
    let (fake, base_url) = slow_model().await;
    let configure = |config: &mut todokit::Config| {
        config.llm.base_url = Some(base_url.clone());
        config.llm.model = Some("fake-model".into());
        config.llm.max_retries = 0;
    };
    let Some(a) = spawn_app_with(Db::Postgres, configure).await else { return };
    let b = a.replica(configure).await.unwrap();
    let token = a.new_user().await; // one account, signed in on both
    let intruder = a.new_user().await;
    let message = |thread_id: &str, text: &str| json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(text)}});
    let stop = |thread_id: &str| format!("/api/chatkit/runs/{thread_id}/stop");

    // While A writes a reply on a thread it has just created, B refuses a second message to it…
    let (on_a, thread_id) = ChatStream::new_thread_replying(&a, &token, "talk slowly").await;
    let (status, _, body) = chatkit(&b, &token, message(&thread_id, "hurry")).await;
    assert_eq!((status, &body["error"]["code"]), (409, &json!("conflict")), "{body}");
    // …tells another user nothing…
    assert_eq!(chatkit(&b, &intruder, message(&thread_id, "hi")).await.0, 404);
    b.post(&stop(&thread_id), &intruder, json!({})).await.expect_error(404, "not_found");
    // …and passes the owner's stop on to A, which keeps the partial reply.
    assert_eq!(b.post(&stop(&thread_id), &token, json!({})).await.expect(200)["stopped"], true);
    on_a.rest().await;
    let texts = assistant_texts(&b, &token, &thread_id).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].split_whitespace().count() < SLOW_WORDS, "stopped early: {texts:?}");

    // Ended, the thread is free everywhere. A reply B runs on it is refused on A in turn.
    let mut on_b = ChatStream::post(&b, &token, message(&thread_id, "again, slowly")).await;
    on_b.until_text().await;
    let (status, _, body) = chatkit(&a, &token, message(&thread_id, "hurry")).await;
    assert_eq!(status, 409, "{body}");
    fake.set_script(whole_replies());
    fake.release_held();
    on_b.rest().await;
    assert_eq!(chatkit(&a, &token, message(&thread_id, "now")).await.0, 200);
    assert_eq!(
        assistant_texts(&a, &token, &thread_id).await.len(),
        3,
        "two full replies after the stopped one"
    );
    b.post(&stop(&thread_id), &token, json!({})).await.expect_error(404, "not_found");
}

/// A reply whose replica died (its claim lapsed, with a checkpoint) is finished by the first
/// request that finds it, before any sweep does (the lease here is an hour, so this replica's
/// sweeps, one at start and one per 20 minutes, never meet it): a re-attach streams what it had
/// saved and ends, a stop answers that nothing was running, a message is accepted after it.
/// Each time the partial text is saved with the interrupted note, and `run.finished` says so.
#[tokio::test]
async fn a_lapsed_reply_is_finished_by_the_first_request_that_finds_it() {
    let Some(app) = spawn_app_with(Db::Postgres, |config| config.claim_lease_ms = 3_600_000).await else {
        return;
    };
    let token = app.new_user().await;
    let user = user_context(&app, &token).await.user;
    let mut events = EventStream::open(&app, &token, None).await;
    let dead_replica = Uuid::new_v4();
    // A thread whose reply was cut off mid-sentence by its replica's death.
    let lapsed_thread = |text: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let (thread_id, _) = create_thread(app, token, "hello").await;
            let run_id = Uuid::now_v7();
            let lapsed = RunClaim {
                thread_id: thread_id.clone(),
                user,
                run_id,
                replica: dead_replica,
                replica_url: Some("http://127.0.0.1:9".into()),
                expires_at: todokit::Clock::system().now() - SignedDuration::from_secs(1),
            };
            assert!(app.storage.run_claims.claim_run(&lapsed).await.unwrap());
            let partial = chatkit::ThreadItem::new(
                chatkit::new_message_id(),
                &thread_id,
                chatkit::ItemKind::AssistantMessage {
                    content: vec![chatkit::AssistantMessageContent::text(text)],
                },
            );
            let checkpoint = serde_json::to_string(&[&partial]).unwrap();
            app.storage.reply_checkpoints.save_checkpoint(&thread_id, run_id, &checkpoint).await.unwrap();
            (thread_id, serde_json::to_value(&partial).unwrap())
        }
    };
    // The thread's next `run.finished` after its first reply's own.
    let finished = async |events: &mut EventStream, thread_id: &str| {
        let mut ends = Vec::new();
        while ends.len() < 2 {
            let event = events.until("run.finished").await;
            if event.data["thread_id"] == thread_id {
                ends.push(event.data);
            }
        }
        assert_eq!(ends[0], json!({"thread_id": thread_id, "stopped": false}), "the first reply's end");
        ends.pop().unwrap()
    };
    let interrupted =
        |thread_id: &str| json!({"thread_id": thread_id, "stopped": false, "interrupted": true});

    // Re-attached: the saved text, as `thread.item.done`, then the end.
    let (thread_id, partial) = lapsed_thread("Once upon a ti").await;
    let response = app
        .client
        .get(format!("{}/api/chatkit/runs/{thread_id}", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let frames: Vec<Value> = body
        .split("\n\n")
        .filter(|frame| !frame.is_empty())
        .map(|frame| serde_json::from_str(frame.strip_prefix("data: ").unwrap()).unwrap())
        .collect();
    assert_eq!(frames, [json!({"type": "thread.item.done", "item": partial})]);
    assert_eq!(finished(&mut events, &thread_id).await, interrupted(&thread_id));
    assert_eq!(
        assistant_texts(&app, &token, &thread_id).await.first().unwrap(),
        "Once upon a ti",
        "newest first"
    );
    assert_eq!(
        cancellation_notes(&app, &token, &thread_id).await,
        [json!(todokit::chat::runs::INTERRUPTED_NOTE)]
    );
    assert_eq!(app.get(&format!("/api/chatkit/runs/{thread_id}"), &token).await.status, 204);

    // Stopped: nothing was running.
    let (thread_id, _) = lapsed_thread("There was").await;
    let stop = format!("/api/chatkit/runs/{thread_id}/stop");
    assert_eq!(app.post(&stop, &token, json!({})).await.expect(200), json!({"stopped": false}));
    assert_eq!(finished(&mut events, &thread_id).await, interrupted(&thread_id));
    assert_eq!(assistant_texts(&app, &token, &thread_id).await.first().unwrap(), "There was");
    app.post(&stop, &token, json!({})).await.expect_error(404, "not_found");

    // Another message: accepted, after the interrupted reply is saved before it.
    let (thread_id, _) = lapsed_thread("The end is").await;
    let message = json!({"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("go on")}});
    assert_eq!(chatkit(&app, &token, message).await.0, 200);
    let texts = assistant_texts(&app, &token, &thread_id).await;
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[1], "The end is");
    assert_eq!(
        cancellation_notes(&app, &token, &thread_id).await,
        [json!(todokit::chat::runs::INTERRUPTED_NOTE)]
    );
    let claims =
        app.storage.run_claims.run_holder(&thread_id, user, todokit::Clock::system().now()).await.unwrap();
    assert!(claims.is_none(), "{claims:?}");
}

async fn reply_claims_hold_until_released_or_lapsed(app: TestApp) {
    let token = app.new_user().await;
    let (thread_id, _) = create_thread(&app, &token, "hello").await;
    let user = user_context(&app, &token).await.user;
    let other = user_context(&app, &app.new_user().await).await.user;
    let storage = &app.storage;
    let lease = SignedDuration::from_secs(30);
    let start = todokit::Clock::system().now();
    let (first_run, second_run) = (Uuid::now_v7(), Uuid::now_v7());
    let (replica_a, replica_b) = (Uuid::new_v4(), Uuid::new_v4());
    let claim = |run_id, replica, expires_at| RunClaim {
        thread_id: thread_id.clone(),
        user,
        run_id,
        replica,
        replica_url: Some(format!("http://{replica}.replicas.test")),
        expires_at,
    };
    let held_by = |replica: Uuid| Some((replica, Some(format!("http://{replica}.replicas.test")), false));
    let holder = |found: Option<RunHolder>| found.map(|h| (h.replica, h.replica_url, h.finishing));

    assert!(storage.run_claims.claim_run(&claim(first_run, replica_a, start + lease)).await.unwrap());
    assert_eq!(
        holder(storage.run_claims.run_holder(&thread_id, user, start).await.unwrap()),
        held_by(replica_a)
    );
    // Held: no other run takes it, from any replica.
    assert!(!storage.run_claims.claim_run(&claim(second_run, replica_b, start + lease)).await.unwrap());
    // Another user can neither claim the thread (even once the claim lapsed) nor see the claim.
    let foreign = RunClaim { user: other, ..claim(second_run, replica_b, start + lease * 3) };
    assert!(!storage.run_claims.claim_run(&foreign).await.unwrap());
    assert!(storage.run_claims.run_holder(&thread_id, other, start).await.unwrap().is_none());

    // Renewed, a claim outlives its first lease; a replica renews only the runs it names as
    // running (a claim whose release failed is left to lapse), and only its own claims…
    assert_eq!(storage.run_claims.renew_runs(replica_a, &[second_run], start + lease * 9).await.unwrap(), 0);
    // (Past a thousand running replies, the ids go in more than one statement.)
    let many_running: Vec<Uuid> = (0..1500).map(|_| Uuid::now_v7()).chain([first_run]).collect();
    assert_eq!(storage.run_claims.renew_runs(replica_a, &many_running, start + lease * 2).await.unwrap(), 1);
    assert_eq!(
        storage.run_claims.renew_runs(replica_b, &[first_run], start + lease * 9).await.unwrap(),
        0,
        "B holds nothing"
    );
    assert!(!storage.run_claims.claim_run(&claim(second_run, replica_b, start + lease * 3)).await.unwrap());
    // …and once it lapses (its replica stopped renewing it), nobody claims the thread over it:
    // one replica takes it, to finish that reply, with the checkpoint that reply saved.
    let checkpoints = &storage.reply_checkpoints;
    checkpoints.save_checkpoint(&thread_id, first_run, r#"["saved"]"#).await.unwrap();
    checkpoints.save_checkpoint(&thread_id, second_run, r#"["not this run's"]"#).await.unwrap();
    let lapsed_at = start + lease * 2;
    assert!(storage.run_claims.run_holder(&thread_id, user, lapsed_at).await.unwrap().is_none());
    assert!(!storage.run_claims.claim_run(&claim(second_run, replica_b, lapsed_at + lease)).await.unwrap());
    assert!(checkpoints.lapsed_runs(start, 10).await.unwrap().is_empty());
    assert_eq!(checkpoints.lapsed_runs(lapsed_at, 10).await.unwrap(), std::slice::from_ref(&thread_id));
    let take =
        |replica, user| checkpoints.take_lapsed_run(&thread_id, user, replica, lapsed_at, lapsed_at + lease);
    assert!(take(replica_b, Some(other)).await.unwrap().is_none(), "not another user's");
    let replica_c = Uuid::new_v4();
    assert!(take(replica_b, Some(user)).await.unwrap().is_some_and(|taken| taken.run_id == first_run
        && taken.user == user
        && taken.thread_id == thread_id
        && taken.checkpoint.as_deref() == Some(r#"["saved"]"#)));
    assert!(take(replica_c, None).await.unwrap().is_none(), "taken once");
    assert_eq!(
        holder(storage.run_claims.run_holder(&thread_id, user, lapsed_at).await.unwrap()),
        Some((replica_b, None, true))
    );
    // Being finished, it is nobody's to take over, not even its taker's next reply; it ends with
    // that reply's release (in the write that logs its `run.finished`).
    assert!(!storage.run_claims.claim_run(&claim(second_run, replica_b, lapsed_at + lease)).await.unwrap());
    storage.run_claims.release_run(&thread_id, first_run).await.unwrap();
    assert!(checkpoints.lapsed_runs(lapsed_at + lease * 2, 10).await.unwrap().is_empty());
    assert!(storage.run_claims.claim_run(&claim(second_run, replica_b, start + lease * 3)).await.unwrap());
    // The first run's late release leaves the new claim alone; the holder's own ends it.
    storage.run_claims.release_run(&thread_id, first_run).await.unwrap();
    assert_eq!(
        holder(storage.run_claims.run_holder(&thread_id, user, start + lease * 2).await.unwrap()),
        held_by(replica_b)
    );
    storage.run_claims.release_run(&thread_id, second_run).await.unwrap();
    assert!(storage.run_claims.run_holder(&thread_id, user, start).await.unwrap().is_none());

    // A reply that creates its thread saves its claim with it (PostgreSQL, one statement): claimed
    // from the moment the thread exists; saved again (an update), the claim is left as it is.
    // SQLite is one process and keeps no claims: it refuses, and writes nothing.
    let mut created = ChatContext::from(user_context(&app, &token).await.caller);
    created.new_thread_claim = Some(NewThreadClaim {
        run_id: first_run,
        replica: replica_a,
        replica_url: Some(format!("http://{replica_a}.replicas.test")),
        expires_at: start + lease,
    });
    let mut new_thread = chatkit::ThreadMetadata::new("thr_claimed_on_creation");
    let first_message = chatkit::ThreadItem::new(
        chatkit::new_message_id(),
        &new_thread.id,
        chatkit::ItemKind::AssistantMessage {
            content: vec![chatkit::AssistantMessageContent::text("hello")],
        },
    );
    let chat = storage.chat.clone();
    match app.db {
        Db::Postgres => {
            assert_eq!(
                chat.start_thread(&new_thread, &first_message, &created).await.unwrap(),
                ThreadSaved::Created
            );
            assert_eq!(
                holder(storage.run_claims.run_holder(&new_thread.id, user, start).await.unwrap()),
                held_by(replica_a)
            );
            new_thread.title = Some("Renamed".into());
            assert_eq!(
                chat.save_thread_reporting(&new_thread, &created).await.unwrap(),
                ThreadSaved::Updated
            );
            storage.run_claims.release_run(&new_thread.id, first_run).await.unwrap();
            assert!(storage.run_claims.run_holder(&new_thread.id, user, start).await.unwrap().is_none());
        }
        Db::Sqlite => {
            assert!(chat.start_thread(&new_thread, &first_message, &created).await.is_err());
            assert!(chat.save_thread_reporting(&new_thread, &created).await.is_err());
            assert!(matches!(
                chat.load_thread(&new_thread.id, &created).await,
                Err(chatkit::StoreError::NotFound)
            ));
        }
    }

    // A replica takes over a claim of its own that a failed release left behind.
    assert!(storage.run_claims.claim_run(&claim(first_run, replica_a, start + lease)).await.unwrap());
    assert!(storage.run_claims.claim_run(&claim(second_run, replica_a, start + lease)).await.unwrap());
    storage.run_claims.release_run(&thread_id, second_run).await.unwrap();
    assert!(storage.run_claims.run_holder(&thread_id, user, start).await.unwrap().is_none());

    // A claim ends in the write that logs its reply's end; one naming another run is left alone.
    assert!(storage.run_claims.claim_run(&claim(first_run, replica_a, start + lease)).await.unwrap());
    let finished = NewEvent { user, kind: "run.finished".into(), data: json!({"thread_id": thread_id}) };
    let ending = |run_id| [ClaimRelease { thread_id: thread_id.clone(), run_id }];
    let before = storage.events.latest_event_id(user).await.unwrap();
    storage.events.append_events(std::slice::from_ref(&finished), &ending(second_run), start).await.unwrap();
    assert_eq!(
        holder(storage.run_claims.run_holder(&thread_id, user, start).await.unwrap()),
        held_by(replica_a)
    );
    let logged = storage
        .events
        .append_events(std::slice::from_ref(&finished), &ending(first_run), start)
        .await
        .unwrap();
    assert!(storage.run_claims.run_holder(&thread_id, user, start).await.unwrap().is_none());
    let log = storage.events.events_after(user, before, 10).await.unwrap().unwrap();
    assert_eq!(
        log.iter().map(|event| event.kind.as_str()).collect::<Vec<_>>(),
        ["run.finished", "run.finished"]
    );
    assert_eq!(log.last().map(|event| event.id), logged.first().map(|event| event.id));
}

#[tokio::test]
async fn event_streams_end_when_the_server_shuts_down() {
    let Some(mut app) = spawn_app(Db::Sqlite).await else { return };
    let token = app.new_user().await;
    let mut events = EventStream::open(&app, &token, None).await;
    // A graceful shutdown completes although a tab keeps its stream open…
    tokio::time::timeout(PATIENCE, app.stop()).await.expect("shutdown waited on an open event stream");
    // …and the stream ends cleanly.
    let end = tokio::time::timeout(PATIENCE, events.body.next()).await.unwrap();
    assert!(end.is_none_or(|chunk| chunk.is_err() || chunk.unwrap().is_empty()));
}

/// The background pass prunes the event log and the rate-limit counters as two steps: pruning
/// events leaves every counter alone, and only counters whose window ended go.
async fn a_background_pass_prunes_old_events_and_ended_rate_windows_separately(app: TestApp) {
    use todokit::chat::RateWindow;
    let token = app.new_user().await;
    app.create_task(&token, json!({"title": "an event"})).await;
    let email = format!("counted-{}@example.com", uuid::Uuid::new_v4().simple());
    let now = todokit::Clock::system().now();
    let user = todokit::tasks::model::UserId(
        app.storage.accounts.create_user(&email, &email, "x", now).await.unwrap().id,
    );
    let hour = jiff::SignedDuration::from_hours(1);
    // Both windows end after the real now, so the app's own background pass (pruning at the
    // real time) leaves them alone; the pass below runs as if an hour had gone by.
    let later = now + hour;
    let ended = RateWindow { key: "ended", expires_at: now + hour / 2 };
    let open = RateWindow { key: "open", expires_at: now + hour * 2 };
    assert_eq!(app.storage.rate_counters.hit_rate_counters(user, &[ended, open]).await.unwrap(), [1, 1]);

    // Every event is older than a cutoff in the future; no counter goes with them.
    assert!(app.storage.events.prune_events(later).await.unwrap() >= 1);
    assert_eq!(app.storage.rate_counters.hit_rate_counters(user, &[ended, open]).await.unwrap(), [2, 2]);

    // The counters whose window ended by then go; the open one keeps counting.
    assert!(app.storage.rate_counters.prune_rate_counters(later).await.unwrap() >= 1);
    assert_eq!(app.storage.rate_counters.hit_rate_counters(user, &[ended, open]).await.unwrap(), [1, 3]);
}
