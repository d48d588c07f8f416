//! SQS consumers: each record in its own span, failures reported per record
//! (`ReportBatchItemFailures`) so only they are delivered again.

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde::de::DeserializeOwned;
use tracing::Instrument;

/// Why a record failed: a message that cannot be read will never succeed (it
/// goes to the DLQ after its retries), a failed attempt may succeed later.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the message is not a valid {kind}: {reason}")]
    Malformed { kind: &'static str, reason: String },
    #[error("handling failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl RecordError {
    /// A failed attempt, from any error.
    pub fn failed(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Failed(error.into())
    }
}

/// Handles every record of `event` as a message of type `M` (`kind` names it
/// in errors) and reports the ones that failed.
pub async fn messages<M, F, Fut>(
    event: SqsEvent,
    kind: &'static str,
    handle: F,
) -> Result<SqsBatchResponse, lambda_http::Error>
where
    M: DeserializeOwned,
    F: Fn(M) -> Fut,
    Fut: Future<Output = Result<(), RecordError>>,
{
    let handle = &handle;
    Ok(process(event, |record| async move { handle(parse(&record, kind)?).await }).await)
}

/// Reads a record's JSON body as `T`.
pub fn parse<T: DeserializeOwned>(record: &SqsMessage, kind: &'static str) -> Result<T, RecordError> {
    let body = record.body.as_deref().unwrap_or_default();
    serde_json::from_str(body).map_err(|err| RecordError::Malformed {
        kind,
        reason: err.to_string(),
    })
}

/// Handles every record of `event` in turn and reports the ones that failed.
pub async fn process<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), RecordError>>,
{
    let mut failures = Vec::new();
    let size = event.records.len();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let receives = record
            .attributes
            .get("ApproximateReceiveCount")
            .cloned()
            .unwrap_or_default();
        // The order and the request that started its flow, as the outbox sent them.
        let attribute = |name: &str| {
            record
                .message_attributes
                .get(name)
                .and_then(|value| value.string_value.clone())
        };
        let order = attribute("orderId");
        let origin = attribute("requestId");
        let span = tracing::info_span!(
            "record",
            messageId = %id,
            receiveCount = %receives,
            orderId = order.as_deref(),
            originRequestId = origin.as_deref(),
        );
        let handled = crate::logging::with_request_id(origin.unwrap_or_default(), handle(record));
        if let Err(err) = handled.instrument(span.clone()).await {
            span.in_scope(|| tracing::error!(error = %crate::http::error_chain(&err), "record failed"));
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failures.push(failure);
        }
    }
    crate::metrics::value(crate::metrics::Metric::BatchSize, size as f64)
        .and(crate::metrics::Metric::BatchItemFailures, failures.len() as f64)
        .emit();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}
