//! What the background tasks of a service (event consumers, the outbox relay, sweepers) say about
//! themselves, so that `GET /ready` fails while one of them is stopped or paused, and names it.
//!
//! A service makes one [`Background`], hands it to its router (`.layer(axum::Extension(...))`)
//! and gives each task a [`TaskHandle`] from [`Background::register`]. The task reports
//! `paused(reason)` while a dependency it needs is unavailable and `running()` once it is back; a
//! handle dropped without [`TaskHandle::stopped`] (the task returned or panicked) marks it stopped.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

/// What one task last reported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TaskState {
    /// Doing its work.
    Running,
    /// Alive but not progressing, waiting for a dependency (Redis unreachable, say).
    Paused { reason: String },
    /// Ended: it will not run again in this process.
    Stopped { reason: String },
}

impl TaskState {
    /// `running`, `paused` or `stopped`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused { .. } => "paused",
            Self::Stopped { .. } => "stopped",
        }
    }
}

type Tasks = Arc<Mutex<BTreeMap<String, TaskState>>>;

fn lock(tasks: &Tasks) -> MutexGuard<'_, BTreeMap<String, TaskState>> {
    // A panic while holding the lock leaves a consistent map (every write is one insert).
    tasks.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The registry of one service's background tasks (cheap to clone; clones share it).
#[derive(Debug, Clone, Default)]
pub struct Background {
    tasks: Tasks,
}

impl Background {
    /// An empty registry: with no tasks, readiness depends on the databases alone.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the task `name` as running and returns the handle it reports through. Names are
    /// what `/ready` shows, e.g. `consumer inventory_stream/orders-service`; registering a name
    /// again (a restarted task) replaces the earlier entry.
    pub fn register(&self, name: impl Into<String>) -> TaskHandle {
        let name = name.into();
        lock(&self.tasks).insert(name.clone(), TaskState::Running);
        TaskHandle {
            name,
            tasks: self.tasks.clone(),
            done: false,
        }
    }

    /// Every task and its state, by name.
    pub fn snapshot(&self) -> BTreeMap<String, TaskState> {
        lock(&self.tasks).clone()
    }

    /// The tasks that are not running, by name.
    pub fn not_running(&self) -> Vec<(String, TaskState)> {
        lock(&self.tasks)
            .iter()
            .filter(|(_, state)| **state != TaskState::Running)
            .map(|(name, state)| (name.clone(), state.clone()))
            .collect()
    }
}

/// One task's voice in its [`Background`].
#[derive(Debug)]
pub struct TaskHandle {
    name: String,
    tasks: Tasks,
    done: bool,
}

impl TaskHandle {
    /// The name the task was registered with.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn set(&self, state: TaskState) {
        let mut tasks = lock(&self.tasks);
        if tasks.get(&self.name) != Some(&state) {
            match &state {
                TaskState::Running => tracing::info!(task = %self.name, "background task running"),
                TaskState::Paused { reason } => {
                    tracing::warn!(task = %self.name, %reason, "background task paused")
                }
                TaskState::Stopped { reason } => {
                    tracing::warn!(task = %self.name, %reason, "background task stopped")
                }
            }
        }
        tasks.insert(self.name.clone(), state);
    }

    /// Reports `state` (what a task's own state callback calls; a `Stopped` state stays when the
    /// handle is dropped afterwards).
    pub fn report(&self, state: TaskState) {
        self.set(state);
    }

    /// Working again (after [`Self::paused`]).
    pub fn running(&self) {
        self.set(TaskState::Running);
    }

    /// Not progressing until a dependency is back; `reason` is shown by `/ready`.
    pub fn paused(&self, reason: impl Into<String>) {
        self.set(TaskState::Paused {
            reason: reason.into(),
        });
    }

    /// Ended for good (including a clean end at shutdown: a stopping service is not ready).
    pub fn stopped(mut self, reason: impl Into<String>) {
        self.set(TaskState::Stopped {
            reason: reason.into(),
        });
        self.done = true;
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        let stopped = matches!(
            lock(&self.tasks).get(&self.name),
            Some(TaskState::Stopped { .. })
        );
        if !self.done && !stopped {
            let reason = if std::thread::panicking() {
                "panicked"
            } else {
                "exited"
            };
            self.set(TaskState::Stopped {
                reason: reason.to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_task_is_running_until_it_says_otherwise() {
        let background = Background::new();
        let task = background.register("consumer inventory_stream/orders-service");

        assert!(background.not_running().is_empty());
        task.paused("redis unavailable");
        assert_eq!(
            background.not_running(),
            vec![(
                "consumer inventory_stream/orders-service".to_owned(),
                TaskState::Paused {
                    reason: "redis unavailable".to_owned()
                }
            )]
        );
        task.running();
        assert!(background.not_running().is_empty());
    }

    #[test]
    fn a_dropped_handle_marks_its_task_stopped() {
        let background = Background::new();
        let task = background.register("outbox relay");

        drop(task);

        assert_eq!(
            background.snapshot()["outbox relay"],
            TaskState::Stopped {
                reason: "exited".to_owned()
            }
        );
    }

    #[test]
    fn a_task_that_panics_is_stopped_as_panicked() {
        let background = Background::new();
        let task = background.register("sweeper");

        let outcome = std::thread::spawn(move || {
            let _task = task;
            panic!("boom");
        })
        .join();

        assert!(outcome.is_err());
        assert_eq!(
            background.snapshot()["sweeper"],
            TaskState::Stopped {
                reason: "panicked".to_owned()
            }
        );
    }

    #[test]
    fn a_reported_stop_keeps_its_reason_when_the_handle_is_dropped() {
        let background = Background::new();
        let task = background.register("consumer orders_stream/products-service");

        task.report(TaskState::Stopped {
            reason: "shut down".to_owned(),
        });
        drop(task);

        assert_eq!(
            background.snapshot()["consumer orders_stream/products-service"],
            TaskState::Stopped {
                reason: "shut down".to_owned()
            }
        );
    }

    #[test]
    fn a_stopped_task_keeps_its_reason_and_a_restart_replaces_it() {
        let background = Background::new();
        background.register("relay").stopped("shutdown");
        assert_eq!(background.not_running()[0].1.name(), "stopped");

        let _again = background.register("relay");

        assert!(background.not_running().is_empty());
    }
}
