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
