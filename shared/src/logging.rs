//! JSON logs through `tracing`. The Lambda runtime opens a span carrying the
//! `requestId` for every invocation; printing the span list puts it on every line.

use tracing_subscriber::EnvFilter;

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
        .try_init();
}
