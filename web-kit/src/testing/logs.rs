//! A capture of the services' JSON log lines ([`crate::telemetry::json_layer`]), kept in memory
//! for a test to read back.
//!
//! The capture is a process-wide subscriber whose layer writes only on a thread that installed a
//! capture (a current-thread test runtime polls every task on its test's thread), so tests running
//! beside it neither see its lines nor pay for formatting theirs. (A thread-local default
//! subscriber would miss spans whose callsite another thread registered first.)

use std::{
    cell::RefCell,
    io::Write,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use serde_json::Value;
use tracing::{Level, Metadata};
use tracing_subscriber::{
    Layer,
    filter::{LevelFilter, dynamic_filter_fn},
    fmt::MakeWriter,
    layer::SubscriberExt,
    util::SubscriberInitExt,
};

thread_local! {
    static CURRENT: RefCell<Option<CapturedLogs>> = const { RefCell::new(None) };
}

/// JSON log lines written in the services' own format, in memory (cheap to clone; clones share
/// the lines).
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

/// Captures on this thread until dropped.
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CURRENT.with(|current| current.borrow_mut().take());
    }
}

/// What the capture keeps (asked at every callsite, every time: whether this thread captures
/// changes): `INFO` and above, `DEBUG` of stream-lib (one line per handled event).
fn wanted(metadata: &Metadata<'_>) -> bool {
    let captured = CURRENT.with(|current| current.borrow().is_some());
    captured
        && (*metadata.level() <= Level::INFO
            || (*metadata.level() <= Level::DEBUG && metadata.target().starts_with("stream_lib")))
}

impl CapturedLogs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Captures what this thread logs (and the tasks a current-thread runtime on it runs) until
    /// the guard is dropped. Panics when another global subscriber was installed first (a test
    /// binary run with `RUST_LOG`: run the capturing tests without it).
    pub fn install(&self) -> CaptureGuard {
        static INSTALLED: OnceLock<bool> = OnceLock::new();
        let installed = *INSTALLED.get_or_init(|| {
            tracing_subscriber::registry()
                .with(
                    crate::telemetry::json_layer(Writer).with_filter(
                        dynamic_filter_fn(|metadata, _| wanted(metadata))
                            .with_max_level_hint(LevelFilter::DEBUG),
                    ),
                )
                .try_init()
                .is_ok()
        });
        assert!(
            installed,
            "another global subscriber is installed (RUST_LOG?)"
        );
        CURRENT.with(|current| *current.borrow_mut() = Some(self.clone()));
        CaptureGuard(())
    }

    /// Every line logged so far, parsed.
    pub fn lines(&self) -> Vec<Value> {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str(line).expect("every log line is JSON"))
            .collect()
    }
}

/// Writes to the capture of the current thread, if any.
struct Writer;

impl Write for Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CURRENT.with(|current| {
            if let Some(capture) = current.borrow().as_ref() {
                capture
                    .0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Writer {
    type Writer = Writer;

    fn make_writer(&'a self) -> Self::Writer {
        Writer
    }
}
