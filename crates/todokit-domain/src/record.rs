//! Task records and the rules that change them: a new task from a validated input, a validated
//! patch applied to a stored task, completing and reopening, and the next occurrence of a
//! recurring task. Storage reads and writes these records; it decides nothing about them.
//!
//! Task numbers are not drawn here: a task's number (`#1`, `#2`, …) is per user and never
//! reused, so storage assigns it as it inserts the record (the user's next number, taken in the
//! same statement). A record built here carries number 0 until then.

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::task::{Description, DomainError, Priority, Recurrence, ReminderOffset, Tags, Title};

/// A task as stored. Timestamps are UTC; `time_zone` is the IANA zone the
/// due time was set in, used for DST-safe recurrence.
// Field docs become descriptions in the OpenAPI document, which the undocumented fields do not
// have: documenting them here would change what the API advertises.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Task {
    pub id: Uuid,
    /// Per-user number (#1, #2, …), never reused.
    pub number: i64,
    pub title: String,
    pub description: Option<String>,
    #[schema(value_type = String, example = "medium")]
    pub priority: Priority,
    pub tags: Vec<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    pub time_zone: String,
    pub reminder_offset_minutes: Option<u32>,
    pub reminder_sent: bool,
    pub recurrence: Option<Recurrence>,
    pub parent_task_id: Option<Uuid>,
    pub completed: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Occurrence number within a recurring series (0 for the first).
    #[serde(skip)]
    pub occurrence_index: u32,
    #[serde(skip)]
    pub series_id: Option<Uuid>,
    #[serde(skip)]
    pub series_start_at: Option<Timestamp>,
}

/// A validated new task.
#[allow(missing_docs)]
#[derive(Debug, Clone)]
pub struct NewTask {
    pub title: Title,
    pub description: Option<Description>,
    pub priority: Priority,
    pub tags: Tags,
    pub due_at: Option<Timestamp>,
    /// The IANA zone the due time was given in.
    pub time_zone: String,
    pub reminder: Option<ReminderOffset>,
    pub recurrence: Option<Recurrence>,
    pub completed: bool,
}

/// A validated partial update. `Some(None)` clears a nullable field.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default)]
pub struct TaskPatch {
    pub title: Option<Title>,
    pub description: Option<Option<Description>>,
    pub priority: Option<Priority>,
    pub tags: Option<Tags>,
    pub due_at: Option<Option<Timestamp>>,
    /// The zone a new due time was given in (set together with `due_at`).
    pub time_zone: Option<String>,
    pub reminder: Option<Option<ReminderOffset>>,
    pub recurrence: Option<Option<Recurrence>>,
}

impl TaskPatch {
    /// Whether the patch changes no field a caller can name (the zone only comes with a due time).
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.priority.is_none()
            && self.tags.is_none()
            && self.due_at.is_none()
            && self.reminder.is_none()
            && self.recurrence.is_none()
    }
}

/// The rule that recurrence and reminders need a due time: checks a task about to have `due_at`,
/// given whether a recurrence rule and a reminder are being set on it.
fn require_due(
    setting_recurrence: bool,
    setting_reminder: bool,
    due_at: Option<Timestamp>,
) -> Result<(), DomainError> {
    if due_at.is_some() {
        return Ok(());
    }
    if setting_recurrence {
        return Err(DomainError::NeedsDueDate { field: "recurrence" });
    }
    if setting_reminder {
        return Err(DomainError::NeedsDueDate { field: "reminder_offset_minutes" });
    }
    Ok(())
}

impl NewTask {
    /// Checks the rules between fields: a recurrence rule or a reminder needs a due time.
    pub fn check(&self) -> Result<(), DomainError> {
        require_due(self.recurrence.is_some(), self.reminder.is_some(), self.due_at)
    }
}

impl Task {
    /// A task built from a validated input, created at `now`, ready to insert (numbered by
    /// storage as it is inserted). A recurring task starts its series at its due time.
    pub fn new(task: &NewTask, now: Timestamp) -> Task {
        let id = Uuid::now_v7();
        let recurring = task.recurrence.is_some() && task.due_at.is_some();
        Task {
            id,
            number: 0,
            title: task.title.as_str().to_owned(),
            description: task.description.as_ref().map(|d| d.as_str().to_owned()).filter(|d| !d.is_empty()),
            priority: task.priority,
            tags: task.tags.as_slice().to_vec(),
            due_at: task.due_at,
            time_zone: task.time_zone.clone(),
            reminder_offset_minutes: task.reminder.map(|r| r.minutes()),
            reminder_sent: false,
            recurrence: task.recurrence.clone(),
            parent_task_id: None,
            completed: task.completed,
            completed_at: task.completed.then_some(now),
            created_at: now,
            updated_at: now,
            occurrence_index: 0,
            series_id: recurring.then_some(id),
            series_start_at: if recurring { task.due_at } else { None },
        }
    }

    /// Applies a validated patch at `now`. Returns whether anything changed (`updated_at` moves
    /// to `now` only then).
    ///
    /// Refuses, leaving the task as it was, a patch that sets a recurrence rule or a reminder
    /// while the task would have no due time. A new due time re-arms the reminder, and so does a
    /// new reminder; a new schedule (due time or rule) restarts the series from the due time.
    pub fn apply(&mut self, patch: &TaskPatch, now: Timestamp) -> Result<bool, DomainError> {
        require_due(
            patch.recurrence.as_ref().is_some_and(Option::is_some),
            patch.reminder.as_ref().is_some_and(Option::is_some),
            patch.due_at.unwrap_or(self.due_at),
        )?;
        let before = self.clone();
        if let Some(title) = &patch.title {
            self.title = title.as_str().to_owned();
        }
        if let Some(description) = &patch.description {
            self.description = description.as_ref().map(|d| d.as_str().to_owned()).filter(|d| !d.is_empty());
        }
        if let Some(priority) = patch.priority {
            self.priority = priority;
        }
        if let Some(tags) = &patch.tags {
            self.tags = tags.as_slice().to_vec();
        }
        if let Some(zone) = &patch.time_zone {
            self.time_zone = zone.clone();
        }
        if let Some(due_at) = patch.due_at {
            if self.due_at != due_at {
                // A new due time is a new schedule: reminders fire again.
                self.reminder_sent = false;
            }
            self.due_at = due_at;
        }
        if let Some(reminder) = patch.reminder {
            self.reminder_offset_minutes = reminder.map(|r| r.minutes());
            self.reminder_sent = false;
        }
        if let Some(recurrence) = &patch.recurrence {
            self.recurrence = recurrence.clone();
        }
        // The series restarts from the current due time whenever the schedule changes.
        let schedule_changed = before.due_at != self.due_at || before.recurrence != self.recurrence;
        if schedule_changed {
            match (self.recurrence.is_some(), self.due_at) {
                (true, Some(due)) => {
                    self.series_id = Some(Uuid::now_v7());
                    self.series_start_at = Some(due);
                    self.occurrence_index = 0;
                }
                _ => {
                    self.series_id = None;
                    self.series_start_at = None;
                    self.occurrence_index = 0;
                }
            }
        }
        let changed = *self != before || self.series_id != before.series_id;
        if changed {
            self.updated_at = now;
        }
        Ok(changed)
    }

    /// Completes (`true`) or reopens (`false`) the task at `now`. Returns whether it changed:
    /// a task already in that state is left alone.
    pub fn set_completed(&mut self, completed: bool, now: Timestamp) -> bool {
        if self.completed == completed {
            return false;
        }
        self.completed = completed;
        self.completed_at = completed.then_some(now);
        self.updated_at = now;
        true
    }

    /// The next occurrence of a recurring task, created at `now`, if the rule allows one: due at
    /// the rule's next date in the task's zone (counted from the series start, so it never
    /// drifts), with the reminder armed again, linked to this task and numbered by storage as
    /// it is inserted.
    pub fn next_occurrence(&self, now: Timestamp) -> Option<Task> {
        let recurrence = self.recurrence.as_ref()?;
        let series_id = self.series_id?;
        let series_start = self.series_start_at?;
        let zone = jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let index = self.occurrence_index + 1;
        let due = recurrence.occurrence_due(series_start, &zone, index)?;
        Some(Task {
            id: Uuid::now_v7(),
            number: 0,
            title: self.title.clone(),
            description: self.description.clone(),
            priority: self.priority,
            tags: self.tags.clone(),
            due_at: Some(due),
            time_zone: self.time_zone.clone(),
            reminder_offset_minutes: self.reminder_offset_minutes,
            reminder_sent: false,
            recurrence: self.recurrence.clone(),
            parent_task_id: Some(self.id),
            completed: false,
            completed_at: None,
            created_at: now,
            updated_at: now,
            occurrence_index: index,
            series_id: Some(series_id),
            series_start_at: Some(series_start),
        })
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
