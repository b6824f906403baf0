//! What a consumer or the outbox relay says about itself at each change of state (running,
//! paused while a dependency is unavailable, stopped), for a service to show in its readiness
//! probe. stream-lib knows nothing of HTTP: a service hands it a [`StateListener`].

use std::sync::Arc;

/// The state of a background task of stream-lib.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    /// Doing its work.
    Running,
    /// Alive but not progressing: a dependency (Redis, PostgreSQL) does not answer.
    Paused { reason: String },
    /// Ended (at shutdown, or for good).
    Stopped { reason: String },
}

/// Told every change of state (called in the task, so it must be quick and must not block).
/// A closure `Fn(&TaskState)` is one.
pub trait StateListener: Send + Sync + 'static {
    fn changed(&self, state: &TaskState);
}

impl<F: Fn(&TaskState) + Send + Sync + 'static> StateListener for F {
    fn changed(&self, state: &TaskState) {
        self(state)
    }
}

/// A task's listener (none by default), telling only changes.
#[derive(Clone, Default)]
pub(crate) struct Reporter {
    listener: Option<Arc<dyn StateListener>>,
    last: Arc<std::sync::Mutex<Option<TaskState>>>,
}

impl Reporter {
    pub(crate) fn new(listener: impl StateListener) -> Self {
        Self {
            listener: Some(Arc::new(listener)),
            last: Arc::default(),
        }
    }

    pub(crate) fn report(&self, state: TaskState) {
        let Some(listener) = &self.listener else {
            return;
        };
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.as_ref() != Some(&state) {
            listener.changed(&state);
            *last = Some(state);
        }
    }

    pub(crate) fn running(&self) {
        self.report(TaskState::Running);
    }

    pub(crate) fn paused(&self, reason: impl std::fmt::Display) {
        self.report(TaskState::Paused {
            reason: reason.to_string(),
        });
    }

    pub(crate) fn stopped(&self, reason: &str) {
        self.report(TaskState::Stopped {
            reason: reason.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn a_listener_hears_each_change_once() {
        let heard: Arc<Mutex<Vec<TaskState>>> = Arc::default();
        let reporter = Reporter::new({
            let heard = heard.clone();
            move |state: &TaskState| heard.lock().unwrap().push(state.clone())
        });

        reporter.running();
        reporter.running();
        reporter.paused("redis: connection refused");
        reporter.paused("redis: connection refused");
        reporter.running();
        reporter.stopped("shutdown");

        let reason = |reason: &str| reason.to_owned();
        assert_eq!(
            *heard.lock().unwrap(),
            [
                TaskState::Running,
                TaskState::Paused {
                    reason: reason("redis: connection refused")
                },
                TaskState::Running,
                TaskState::Stopped {
                    reason: reason("shutdown")
                },
            ]
        );
    }

    #[test]
    fn without_a_listener_reporting_does_nothing() {
        Reporter::default().paused("nobody listens");
    }
}
