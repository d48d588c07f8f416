//! JSON logs through `tracing`. The Lambda runtime opens a span carrying the
//! `requestId` for every invocation; printing the span list puts it on every line.
//!
//! Lines go to stdout (the function's log stream), or, when `SHOP_LOG_FILE`
//! names a file, are appended to it: the local runner and the integration
//! tests keep the log there for `shop-local logs` and `shop-local metrics`.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, OnceLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests, the local runner) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(false)
        .without_time()
        .with_writer(Destination)
        .try_init();
}

fn log_file() -> Option<&'static Mutex<File>> {
    static FILE: OnceLock<Option<Mutex<File>>> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::var_os("SHOP_LOG_FILE").filter(|p| !p.is_empty())?;
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(Mutex::new)
    })
    .as_ref()
}

/// Writes one line (a metric, a record) to where the logs go.
pub fn write_line(line: &str) {
    let mut out = Destination.make_writer();
    let _ = writeln!(out, "{line}");
}

/// Where log lines go: stdout, or the log file.
struct Destination;

enum Line {
    Stdout(io::StdoutLock<'static>),
    File(MutexGuard<'static, File>),
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File(file) => file.flush(),
        }
    }
}

impl<'a> MakeWriter<'a> for Destination {
    type Writer = Line;

    fn make_writer(&'a self) -> Self::Writer {
        match log_file().and_then(|file| file.lock().ok()) {
            Some(file) => Line::File(file),
            None => Line::Stdout(io::stdout().lock()),
        }
    }
}

tokio::task_local! {
    /// The id of the request being handled, for the records it leaves behind (outbox messages).
    static REQUEST_ID: String;
}

/// Runs `work` with `id` as the current request id.
pub async fn with_request_id<F: std::future::Future>(id: String, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// The id of the request being handled, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok().filter(|id| !id.is_empty())
}
