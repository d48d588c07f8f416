//! Feeds SQS messages to a consumer the way the Lambda SQS event source does:
//! batches arrive as real `SqsEvent`s, partial batch failures are honoured, and
//! failed messages go back to the queue so that its redrive policy eventually
//! moves them to the dead-letter queue.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName,
    QueueAttributeName,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

use crate::provision::BoxError;

pub type SqsHandler = Arc<dyn Fn(SqsEvent) -> BoxFuture<'static, Result<SqsBatchResponse, BoxError>> + Send + Sync>;

/// SQS returns at most 10 messages per receive and takes at most 10 entries per batch call.
const SQS_BATCH_LIMIT: usize = 10;
/// The longest long poll SQS allows.
const MAX_WAIT_SECONDS: i32 = 20;
const MAX_VISIBILITY_SECONDS: u64 = 43_200;
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// What one [`QueuePoller::poll_once`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollReport {
    pub received: usize,
    pub succeeded: usize,
    pub failed: usize,
}

/// Delivers one queue's messages to one handler, like an event source mapping.
pub struct QueuePoller {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    queue_arn: String,
    region: String,
    batch_size: usize,
    handler: SqsHandler,
    retry_after: Duration,
    name: String,
}

impl std::fmt::Debug for QueuePoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuePoller")
            .field("queue_url", &self.queue_url)
            .field("queue_arn", &self.queue_arn)
            .field("batch_size", &self.batch_size)
            .field("retry_after", &self.retry_after)
            .finish_non_exhaustive()
    }
}

/// `client` with room for long polls (up to 20 s), which the functions' own
/// time bounds would cut short.
pub fn long_polling(client: &aws_sdk_sqs::Client) -> aws_sdk_sqs::Client {
    let timeouts = aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(90))
        .build();
    aws_sdk_sqs::Client::from_conf(client.config().to_builder().timeout_config(timeouts).build())
}

/// The queue's ARN, which Lambda puts in every record as `eventSourceARN`.
pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<String, BoxError> {
    let output = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|err| sdk_error("GetQueueAttributes", queue_url, err))?;
    output
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| format!("{queue_url} has no QueueArn attribute").into())
}

fn sdk_error(operation: &str, queue: &str, err: impl std::error::Error) -> BoxError {
    format!("{operation} on {queue}: {}", DisplayErrorContext(err)).into()
}

impl QueuePoller {
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        queue_url: String,
        queue_arn: String,
        batch_size: u32,
        handler: SqsHandler,
    ) -> Self {
        // arn:aws:sqs:<region>:<account>:<name>
        let region = queue_arn
            .split(':')
            .nth(3)
            .filter(|region| !region.is_empty())
            .map(str::to_owned)
            .or_else(|| sqs.config().region().map(ToString::to_string))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let name = queue_url.rsplit('/').next().unwrap_or(&queue_url).to_owned();
        Self {
            sqs,
            queue_url,
            queue_arn,
            region,
            batch_size: usize::try_from(batch_size).unwrap_or(usize::MAX).max(1),
            handler,
            retry_after: Duration::from_secs(1),
            name,
        }
    }

    /// How long a failed message stays invisible before it is delivered again.
    /// Lambda leaves it for the queue's visibility timeout; locally the default
    /// is one second so that retries and the redrive to the DLQ take seconds.
    pub fn retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = delay;
        self
    }

    /// Receives up to the batch size (long polling up to `wait_seconds`), calls
    /// the handler once, deletes the messages that succeeded and makes the
    /// failed ones visible again after [`Self::retry_after`]. A handler error
    /// or panic fails the whole batch, as it does in Lambda.
    pub async fn poll_once(&self, wait_seconds: i32) -> Result<PollReport, BoxError> {
        let messages = self.receive(wait_seconds).await?;
        self.deliver(messages).await
    }

    /// Polls until `shutdown` completes, logging errors and backing off on
    /// them. Shutdown interrupts a receive but not a batch already received.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut backoff = MIN_BACKOFF;
        tracing::info!(queue = %self.name, batch_size = self.batch_size, "polling queue");
        loop {
            let received = tokio::select! {
                biased;
                () = &mut shutdown => break,
                received = self.receive(MAX_WAIT_SECONDS) => received,
            };
            let result = match received {
                Ok(messages) => self.deliver(messages).await,
                Err(err) => Err(err),
            };
            match result {
                Ok(report) => {
                    backoff = MIN_BACKOFF;
                    if report.received > 0 {
                        tracing::debug!(queue = %self.name, ?report, "batch delivered");
                    }
                }
                Err(err) => {
                    tracing::warn!(queue = %self.name, error = %err, retry_in = ?backoff, "queue polling failed");
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        tracing::info!(queue = %self.name, "stopped polling queue");
    }

    async fn receive(&self, wait_seconds: i32) -> Result<Vec<Message>, BoxError> {
        let mut messages = Vec::new();
        let mut wait = wait_seconds.clamp(0, MAX_WAIT_SECONDS);
        // Batches above 10 take several receives; only the first one waits.
        while messages.len() < self.batch_size {
            let wanted = (self.batch_size - messages.len()).min(SQS_BATCH_LIMIT);
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(i32::try_from(wanted).unwrap_or(10))
                .wait_time_seconds(wait)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await;
            let batch = match received {
                Ok(output) => output.messages.unwrap_or_default(),
                Err(err) if messages.is_empty() => return Err(sdk_error("ReceiveMessage", &self.name, err)),
                Err(err) => {
                    // What is already in hand is invisible now; deliver it rather than strand it.
                    tracing::warn!(queue = %self.name, error = %DisplayErrorContext(err), "receive failed mid-batch");
                    break;
                }
            };
            let short = batch.len() < wanted;
            messages.extend(batch);
            if short {
                break;
            }
            wait = 0;
        }
        Ok(messages)
    }

    async fn deliver(&self, messages: Vec<Message>) -> Result<PollReport, BoxError> {
        if messages.is_empty() {
            return Ok(PollReport::default());
        }
        let event = sqs_event(&messages, &self.queue_arn, &self.region)?;
        let ids: Vec<&str> = messages.iter().map(|m| m.message_id().unwrap_or_default()).collect();
        let handler = Arc::clone(&self.handler);
        let outcome = AssertUnwindSafe(async move { handler(event).await })
            .catch_unwind()
            .await;
        let failed: HashSet<&str> = match outcome {
            Ok(Ok(response)) => failed_ids(&ids, &response).unwrap_or_else(|reason| {
                tracing::warn!(queue = %self.name, %reason, "invalid batch response; retrying the whole batch");
                ids.iter().copied().collect()
            }),
            Ok(Err(err)) => {
                tracing::warn!(queue = %self.name, error = %err, "handler failed; retrying the whole batch");
                ids.iter().copied().collect()
            }
            Err(panic) => {
                let panic = panic
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("non-string panic payload");
                tracing::error!(queue = %self.name, panic, "handler panicked; retrying the whole batch");
                ids.iter().copied().collect()
            }
        };
        let (retry, done): (Vec<&Message>, Vec<&Message>) = messages
            .iter()
            .partition(|message| failed.contains(message.message_id().unwrap_or_default()));
        self.delete(&done).await?;
        self.release(&retry).await?;
        if !retry.is_empty() {
            tracing::info!(queue = %self.name, failed = retry.len(), retry_after = ?self.retry_after, "messages returned to the queue");
        }
        Ok(PollReport {
            received: messages.len(),
            succeeded: done.len(),
            failed: retry.len(),
        })
    }

    async fn delete(&self, messages: &[&Message]) -> Result<(), BoxError> {
        for chunk in messages.chunks(SQS_BATCH_LIMIT) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(index, message)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .set_receipt_handle(message.receipt_handle.clone())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|err| sdk_error("DeleteMessageBatch", &self.name, err))?;
            for failure in output.failed() {
                tracing::warn!(queue = %self.name, code = failure.code(), message = failure.message(), "could not delete a processed message; it will be delivered again");
            }
        }
        Ok(())
    }

    async fn release(&self, messages: &[&Message]) -> Result<(), BoxError> {
        let seconds = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        let seconds = i32::try_from(seconds.min(MAX_VISIBILITY_SECONDS)).unwrap_or(i32::MAX);
        for chunk in messages.chunks(SQS_BATCH_LIMIT) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(index, message)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(index.to_string())
                        .set_receipt_handle(message.receipt_handle.clone())
                        .visibility_timeout(seconds)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .sqs
                .change_message_visibility_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|err| sdk_error("ChangeMessageVisibilityBatch", &self.name, err))?;
            for failure in output.failed() {
                tracing::warn!(queue = %self.name, code = failure.code(), message = failure.message(), "could not return a failed message early; it reappears after the visibility timeout");
            }
        }
        Ok(())
    }
}

/// The ids of the messages that go back to the queue. Like Lambda, a response
/// naming a message that was not in the batch fails the whole batch.
fn failed_ids<'a>(ids: &[&'a str], response: &SqsBatchResponse) -> Result<HashSet<&'a str>, String> {
    response
        .batch_item_failures
        .iter()
        .map(|failure| {
            ids.iter()
                .copied()
                .find(|id| *id == failure.item_identifier)
                .ok_or_else(|| format!("itemIdentifier {:?} is not in the batch", failure.item_identifier))
        })
        .collect()
}

/// The event Lambda would build for these messages. The event types are
/// `non_exhaustive`, so they are built from their JSON form.
fn sqs_event(messages: &[Message], queue_arn: &str, region: &str) -> Result<SqsEvent, BoxError> {
    let records: Vec<Value> = messages.iter().map(|m| record(m, queue_arn, region)).collect();
    Ok(serde_json::from_value(json!({ "Records": records }))?)
}

fn record(message: &Message, queue_arn: &str, region: &str) -> Value {
    let attributes: Map<String, Value> = message
        .attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.as_str().to_owned(), Value::String(value.clone())))
        .collect();
    let message_attributes: Map<String, Value> = message
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let binary_list: Vec<String> = value
                .binary_list_values()
                .iter()
                .map(|blob| STANDARD.encode(blob.as_ref()))
                .collect();
            let attribute = json!({
                "stringValue": value.string_value(),
                "binaryValue": value.binary_value().map(|blob| STANDARD.encode(blob.as_ref())),
                "stringListValues": value.string_list_values(),
                "binaryListValues": binary_list,
                "dataType": value.data_type(),
            });
            (name.clone(), attribute)
        })
        .collect();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body(),
        "md5OfMessageAttributes": message.md5_of_message_attributes(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aws_sdk_sqs::primitives::Blob;
    use aws_sdk_sqs::types::MessageAttributeValue;
    use shop::aws::AwsClients;

    use super::*;

    const ARN: &str = "arn:aws:sqs:eu-west-1:000000000000:orders";

    fn response(ids: &[&str]) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for id in ids {
            response.add_failure(*id);
        }
        response
    }

    #[test]
    fn batch_response_selects_the_failed_messages() {
        let ids = ["a", "b", "c"];
        assert_eq!(failed_ids(&ids, &response(&[])), Ok(HashSet::new()));
        assert_eq!(failed_ids(&ids, &response(&["b"])), Ok(HashSet::from(["b"])));
        assert_eq!(
            failed_ids(&ids, &response(&["c", "a", "c"])),
            Ok(HashSet::from(["a", "c"]))
        );
        assert!(failed_ids(&ids, &response(&["b", "zzz"])).is_err());
        assert!(failed_ids(&ids, &response(&[""])).is_err());
    }

    #[test]
    fn records_carry_what_lambda_sends() {
        let message = Message::builder()
            .message_id("m-1")
            .receipt_handle("rh-1")
            .body(r#"{"orderId":"o-1"}"#)
            .md5_of_body("abc")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "1")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1700000000000")
            .message_attributes(
                "kind",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("order.created")
                    .build()
                    .unwrap(),
            )
            .message_attributes(
                "raw",
                MessageAttributeValue::builder()
                    .data_type("Binary")
                    .binary_value(Blob::new(b"\x00\x01".to_vec()))
                    .build()
                    .unwrap(),
            )
            .build();
        let event = sqs_event(&[message], ARN, "eu-west-1").unwrap();
        let [record] = &event.records[..] else {
            panic!("one record")
        };
        assert_eq!(record.message_id.as_deref(), Some("m-1"));
        assert_eq!(record.receipt_handle.as_deref(), Some("rh-1"));
        assert_eq!(record.body.as_deref(), Some(r#"{"orderId":"o-1"}"#));
        assert_eq!(record.md5_of_body.as_deref(), Some("abc"));
        assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
        assert_eq!(record.event_source_arn.as_deref(), Some(ARN));
        assert_eq!(record.aws_region.as_deref(), Some("eu-west-1"));
        assert_eq!(record.attributes["ApproximateReceiveCount"], "1");
        assert_eq!(record.attributes["SentTimestamp"], "1700000000000");
        assert_eq!(
            record.message_attributes["kind"].string_value.as_deref(),
            Some("order.created")
        );
        assert_eq!(record.message_attributes["kind"].data_type.as_deref(), Some("String"));
        assert_eq!(
            record.message_attributes["raw"]
                .binary_value
                .as_deref()
                .map(Vec::as_slice),
            Some(&b"\x00\x01"[..])
        );
        // And it serialises back to the field names Lambda uses.
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["Records"][0]["eventSourceARN"], ARN);
        assert_eq!(json["Records"][0]["eventSource"], "aws:sqs");
    }

    async fn sqs_client() -> Option<aws_sdk_sqs::Client> {
        if std::env::var("SQS_ENDPOINT").is_err() {
            eprintln!("skipping: SQS_ENDPOINT is not set (run under scripts/with-stack.sh)");
            return None;
        }
        let shared = aws_config::load_from_env().await;
        Some(
            AwsClients::from_shared(&shared, &crate::provision::endpoints_from_env())
                .sqs()
                .clone(),
        )
    }

    async fn receive_all(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Message> {
        sqs.receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn failed_messages_are_retried_then_dead_lettered() {
        let Some(sqs) = sqs_client().await else { return };
        let prefix = format!("queues-test-{}", ulid::Ulid::new().to_string().to_lowercase());
        let dlq_url = sqs
            .create_queue()
            .queue_name(format!("{prefix}-dlq"))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let dlq_arn = queue_arn(&sqs, &dlq_url).await.unwrap();
        let policy = json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2" });
        let url = sqs
            .create_queue()
            .queue_name(&prefix)
            .attributes(QueueAttributeName::RedrivePolicy, policy.to_string())
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let arn = queue_arn(&sqs, &url).await.unwrap();
        assert!(arn.ends_with(&format!(":{prefix}")), "{arn}");

        let bodies = ["one", "two", "poison", "three", "four"];
        for body in bodies {
            sqs.send_message()
                .queue_url(&url)
                .message_body(body)
                .send()
                .await
                .unwrap();
        }

        let events: Arc<Mutex<Vec<SqsEvent>>> = Arc::default();
        let seen = Arc::clone(&events);
        let handler: SqsHandler = Arc::new(move |event: SqsEvent| {
            let seen = Arc::clone(&seen);
            Box::pin(async move {
                let mut response = SqsBatchResponse::default();
                for record in &event.records {
                    if record.body.as_deref() == Some("poison") {
                        response.add_failure(record.message_id.clone().unwrap_or_default());
                    }
                }
                seen.lock().unwrap().push(event);
                Ok(response)
            })
        });
        let poller = QueuePoller::new(sqs.clone(), url.clone(), arn.clone(), 10, handler).retry_after(Duration::ZERO);

        let first = poller.poll_once(1).await.unwrap();
        assert_eq!(
            first,
            PollReport {
                received: 5,
                succeeded: 4,
                failed: 1
            }
        );
        {
            let events = events.lock().unwrap();
            let records = &events[0].records;
            let mut got: Vec<&str> = records.iter().filter_map(|r| r.body.as_deref()).collect();
            got.sort_unstable();
            let mut want = bodies.to_vec();
            want.sort_unstable();
            assert_eq!(got, want);
            for record in records {
                assert_eq!(record.event_source_arn.as_deref(), Some(arn.as_str()));
                assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
                assert_eq!(record.aws_region.as_deref(), Some("us-east-1"));
                assert_eq!(
                    record.attributes.get("ApproximateReceiveCount").map(String::as_str),
                    Some("1")
                );
                for name in ["SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"] {
                    assert!(
                        record.attributes.contains_key(name),
                        "{name} missing: {:?}",
                        record.attributes
                    );
                }
                assert!(record.message_id.is_some() && record.receipt_handle.is_some());
                assert!(record.md5_of_body.is_some());
            }
        }

        // The poison message comes back until it has been received
        // maxReceiveCount times; the receive after that moves it to the DLQ.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut poison_receives = 1;
        loop {
            assert!(
                std::time::Instant::now() < deadline,
                "poison message never left the queue"
            );
            let report = poller.poll_once(1).await.unwrap();
            assert_eq!(report.succeeded, 0, "{report:?}");
            poison_receives += report.received;
            if report.received == 0 && poison_receives >= 2 {
                break;
            }
        }
        assert_eq!(poison_receives, 2);
        {
            let events = events.lock().unwrap();
            let retry = &events.last().unwrap().records;
            assert_eq!(retry.len(), 1);
            assert_eq!(retry[0].body.as_deref(), Some("poison"));
            assert_eq!(retry[0].attributes["ApproximateReceiveCount"], "2");
        }

        let dead = receive_all(&sqs, &dlq_url).await;
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].body(), Some("poison"));
        assert!(receive_all(&sqs, &url).await.is_empty());
        let counts = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        for name in [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ] {
            assert_eq!(counts.get(&name).map(String::as_str), Some("0"), "{name:?}");
        }

        for queue in [&url, &dlq_url] {
            sqs.delete_queue().queue_url(queue).send().await.unwrap();
        }
    }

    #[tokio::test]
    async fn handler_errors_fail_the_whole_batch_and_run_stops_on_shutdown() {
        let Some(sqs) = sqs_client().await else { return };
        let name = format!("queues-test-{}", ulid::Ulid::new().to_string().to_lowercase());
        let url = sqs
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let arn = queue_arn(&sqs, &url).await.unwrap();
        for body in ["a", "b", "c"] {
            sqs.send_message()
                .queue_url(&url)
                .message_body(body)
                .send()
                .await
                .unwrap();
        }
        let calls = Arc::new(Mutex::new(0_usize));
        let counter = Arc::clone(&calls);
        let handler: SqsHandler = Arc::new(move |_event| {
            let counter = Arc::clone(&counter);
            Box::pin(async move {
                let call = {
                    let mut calls = counter.lock().unwrap();
                    *calls += 1;
                    *calls
                };
                match call {
                    1 => Err("downstream unavailable".into()),
                    2 => panic!("handler bug"),
                    _ => Ok(SqsBatchResponse::default()),
                }
            })
        });
        let poller = QueuePoller::new(sqs.clone(), url.clone(), arn, 10, handler).retry_after(Duration::ZERO);
        let all_failed = PollReport {
            received: 3,
            succeeded: 0,
            failed: 3,
        };
        assert_eq!(poller.poll_once(1).await.unwrap(), all_failed);
        assert_eq!(poller.poll_once(1).await.unwrap(), all_failed);

        // `run` delivers the rest, then returns soon after shutdown even mid long poll.
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let run = tokio::spawn(poller.run(async {
            let _ = stopped.await;
        }));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while *calls.lock().unwrap() < 3 {
            assert!(std::time::Instant::now() < deadline, "run never delivered the batch");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(2), run)
            .await
            .unwrap()
            .unwrap();
        assert!(receive_all(&sqs, &url).await.is_empty());
        sqs.delete_queue().queue_url(&url).send().await.unwrap();
    }
}
