//! Replies that survive the connection. A streaming ChatKit response runs as
//! a detached task that writes its SSE frames into a buffer; HTTP clients are
//! subscribers of that buffer. A client that goes away (network drop, tab
//! closed, refresh) does not stop the run, and can re-attach: it receives the
//! frames already sent, then the live ones. An explicit stop cancels the run,
//! which saves the partial reply and a hidden "user cancelled" note.
//!
//! One run per thread at a time (per replica): a message sent to a thread that
//! is still answering is refused with 409 `thread_busy`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chatkit::{ThreadEventStream, ThreadStreamEvent, sse_frame};
use futures::{Stream, StreamExt};
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::events::{EventBus, kind};
use crate::tasks::model::UserId;

/// One response being produced.
pub struct Run {
    owner: Uuid,
    frames: Mutex<Vec<Bytes>>,
    /// (frames written, finished)
    progress: watch::Sender<(usize, bool)>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Run {
    fn push(&self, frame: Bytes) {
        let count = {
            let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
            frames.push(frame);
            frames.len()
        };
        self.progress.send_replace((count, false));
    }

    fn finish(&self) {
        let count = self.frames.lock().unwrap_or_else(|p| p.into_inner()).len();
        self.progress.send_replace((count, true));
    }

    /// Every frame from the start, then the live ones, until the run ends.
    pub fn subscribe(self: &Arc<Self>) -> impl Stream<Item = Bytes> + Send + 'static {
        let progress = self.progress.subscribe();
        futures::stream::unfold((self.clone(), progress, 0usize), |(run, mut progress, next)| async move {
            loop {
                let frame = run.frames.lock().unwrap_or_else(|p| p.into_inner()).get(next).cloned();
                if let Some(frame) = frame {
                    return Some((frame, (run, progress, next + 1)));
                }
                let (_, finished) = *progress.borrow_and_update();
                let written = run.frames.lock().unwrap_or_else(|p| p.into_inner()).len();
                if finished && next >= written {
                    return None;
                }
                if next >= written && progress.changed().await.is_err() {
                    return None;
                }
            }
        })
    }
}

/// Why a run could not start.
#[derive(Debug)]
pub struct ThreadBusy;

#[derive(Default)]
pub struct Runs {
    by_thread: Mutex<HashMap<String, Arc<Run>>>,
}

/// A thread claimed for a run that has not started streaming yet. Dropping
/// it without starting releases the thread.
pub struct Reservation {
    runs: Arc<Runs>,
    thread_id: Option<String>,
    run: Arc<Run>,
    stop: oneshot::Receiver<()>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(thread_id) = self.thread_id.take() {
            self.runs.release(&thread_id, &self.run);
        }
    }
}

impl Runs {
    /// Claims `thread_id` (None for a thread that does not exist yet).
    pub fn reserve(
        self: &Arc<Self>,
        thread_id: Option<&str>,
        owner: UserId,
    ) -> Result<Reservation, ThreadBusy> {
        let (stop_tx, stop) = oneshot::channel();
        let run = Arc::new(Run {
            owner: owner.0,
            frames: Mutex::default(),
            progress: watch::channel((0, false)).0,
            stop: Mutex::new(Some(stop_tx)),
        });
        if let Some(thread_id) = thread_id {
            let mut by_thread = self.by_thread.lock().unwrap_or_else(|p| p.into_inner());
            match by_thread.get(thread_id) {
                Some(current) if current.owner == owner.0 => return Err(ThreadBusy),
                // Someone else's thread: claim nothing and say nothing; the
                // store answers 404 as for any thread that is not theirs.
                Some(_) => {
                    return Ok(Reservation { runs: self.clone(), thread_id: None, run, stop });
                }
                None => {
                    by_thread.insert(thread_id.to_owned(), run.clone());
                }
            }
        }
        Ok(Reservation { runs: self.clone(), thread_id: thread_id.map(str::to_owned), run, stop })
    }

    fn release(&self, thread_id: &str, run: &Arc<Run>) {
        let mut by_thread = self.by_thread.lock().unwrap_or_else(|p| p.into_inner());
        if by_thread.get(thread_id).is_some_and(|current| Arc::ptr_eq(current, run)) {
            by_thread.remove(thread_id);
        }
    }

    /// The user's running reply on `thread_id`, if any.
    pub fn find(&self, thread_id: &str, user: UserId) -> Option<Arc<Run>> {
        let by_thread = self.by_thread.lock().unwrap_or_else(|p| p.into_inner());
        by_thread.get(thread_id).filter(|run| run.owner == user.0).cloned()
    }

    /// Asks the user's running reply on `thread_id` to stop. False when none runs.
    pub fn stop(&self, thread_id: &str, user: UserId) -> bool {
        let Some(run) = self.find(thread_id, user) else { return false };
        let sender = run.stop.lock().unwrap_or_else(|p| p.into_inner()).take();
        sender.is_some_and(|sender| sender.send(()).is_ok())
    }

    /// Drives `events` to completion in a detached task and returns the run
    /// so the caller can subscribe to it.
    pub fn start(
        self: &Arc<Self>,
        mut reservation: Reservation,
        mut events: ThreadEventStream,
        bus: EventBus,
    ) -> Arc<Run> {
        let run = reservation.run.clone();
        let runs = self.clone();
        let owner = UserId(run.owner);
        let mut thread_id = reservation.thread_id.take();
        let mut stop = std::mem::replace(&mut reservation.stop, oneshot::channel().1);
        drop(reservation);
        let task_run = run.clone();
        tokio::spawn(async move {
            let run = task_run;
            let mut stopped = false;
            let mut announced = false;
            loop {
                tokio::select! {
                    biased;
                    signal = &mut stop, if !stopped => {
                        if signal.is_ok() {
                            stopped = true;
                            break;
                        }
                    }
                    next = events.next() => {
                        let Some(event) = next else { break };
                        if let (None, ThreadStreamEvent::ThreadCreated { thread }) = (&thread_id, &event) {
                            // A new thread is claimed as soon as it has an id.
                            runs.by_thread
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(thread.id.clone(), run.clone());
                            thread_id = Some(thread.id.clone());
                        }
                        if let (false, Some(id)) = (announced, &thread_id) {
                            // Not awaited: while this loop waits, the response
                            // producer is not polled and may hold a write turn.
                            bus.publish_in_background(owner, kind::RUN_STARTED, serde_json::json!({"thread_id": id}));
                            announced = true;
                        }
                        run.push(sse_frame(&event));
                    }
                }
            }
            if stopped {
                events.cancel().await;
            }
            if let Some(id) = &thread_id {
                runs.release(id, &run);
                // Awaited before the stream ends: the log keeps publication order, so once
                // this is logged, so is every event the reply queued (live_store.rs).
                bus.publish(
                    owner,
                    kind::RUN_FINISHED,
                    serde_json::json!({"thread_id": id, "stopped": stopped}),
                )
                .await;
            }
            run.finish();
        });
        run
    }
}
