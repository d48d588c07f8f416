//! Feeds the table's DynamoDB stream to a function the way the Lambda event
//! source mapping does: records in order per shard, batched, filtered by the
//! trigger's patterns, a failed batch retried from its first failed record
//! (`ReportBatchItemFailures`), and after the retry limit reported to the
//! on-failure queue and skipped. DynamoDB Local implements the Streams API.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use crate::provision::BoxError;
use crate::template::StreamTrigger;

pub type StreamHandler =
    Arc<dyn Fn(StreamEvent) -> BoxFuture<'static, Result<DynamoDbEventResponse, BoxError>> + Send + Sync>;

/// What one [`StreamPoller::poll_once`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StreamReport {
    /// Records read from the stream.
    pub read: usize,
    /// Records that matched the filters and went to the function.
    pub delivered: usize,
    /// Records the function reported failed (they are read again).
    pub failed: usize,
    /// Records given up after the retry limit (sent to the on-failure queue).
    pub abandoned: usize,
}

/// Where one shard is read from.
#[derive(Debug)]
struct Shard {
    /// Where reading starts while no record has been handled.
    start: ShardIteratorType,
    iterator: Option<String>,
    /// The last record handled: reading resumes after it.
    after: Option<String>,
    closed: bool,
    /// Failed attempts of the batch that starts at `after`.
    attempts: u32,
}

#[derive(Debug, Default)]
struct State {
    stream_arn: Option<String>,
    shards: BTreeMap<String, Shard>,
    /// Look for the stream and its shards again (at first, after an error, when a shard closed).
    stale: bool,
}

/// Reads one table's stream for one function.
pub struct StreamPoller {
    dynamodb: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    sqs: aws_sdk_sqs::Client,
    table: String,
    trigger: StreamTrigger,
    /// The on-failure queue's URL.
    on_failure: Option<String>,
    handler: StreamHandler,
    /// Where shards found at the first read start (later shards start at their beginning).
    first_position: ShardIteratorType,
    region: String,
    state: Mutex<State>,
}

impl std::fmt::Debug for StreamPoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamPoller")
            .field("table", &self.table)
            .field("trigger", &self.trigger)
            .finish_non_exhaustive()
    }
}

impl StreamPoller {
    pub fn new(
        clients: (
            &aws_sdk_dynamodb::Client,
            &aws_sdk_dynamodbstreams::Client,
            &aws_sdk_sqs::Client,
        ),
        table: impl Into<String>,
        trigger: StreamTrigger,
        on_failure: Option<String>,
        handler: StreamHandler,
    ) -> Self {
        let (dynamodb, streams, sqs) = clients;
        let first_position = if trigger.starting_position == "LATEST" {
            ShardIteratorType::Latest
        } else {
            ShardIteratorType::TrimHorizon
        };
        let region = dynamodb
            .config()
            .region()
            .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
        Self {
            dynamodb: dynamodb.clone(),
            streams: streams.clone(),
            sqs: sqs.clone(),
            table: table.into(),
            trigger,
            on_failure,
            handler,
            first_position,
            region,
            state: Mutex::new(State::default()),
        }
    }

    /// Where shards known at the first read start (the dev stack starts at
    /// the newest record; earlier messages are the sweeper's to re-drive).
    pub fn starting_at(mut self, position: ShardIteratorType) -> Self {
        self.first_position = position;
        self
    }

    /// Reads every shard up to its current end once, delivering batches.
    pub async fn poll_once(&self) -> Result<StreamReport, BoxError> {
        let mut state = self.state.lock().await;
        if state.stale || state.stream_arn.is_none() {
            self.discover(&mut state).await?;
            state.stale = false;
        }
        let mut report = StreamReport::default();
        let arn = state.stream_arn.clone().unwrap_or_default();
        let ids: Vec<String> = state.shards.keys().cloned().collect();
        let mut stale = false;
        let mut failure = None;
        for id in ids {
            // A shard is read to its end, or until a batch fails (it is retried at the next poll).
            while let Some(shard) = state.shards.get_mut(&id) {
                let read = match self.read_batch(&arn, &id, shard, &mut report).await {
                    Ok(read) => read,
                    Err(err) => {
                        failure = Some(err);
                        break;
                    }
                };
                // A closed shard's children, if any, are new shards to find.
                stale |= shard.closed;
                if shard.closed || !matches!(read, Some(1..)) {
                    break;
                }
            }
            if failure.is_some() {
                break;
            }
        }
        state.stale = stale || failure.is_some();
        match failure {
            Some(err) => Err(err),
            None => Ok(report),
        }
    }

    /// Finds the stream and any shard not known yet.
    async fn discover(&self, state: &mut State) -> Result<(), BoxError> {
        let described = self.dynamodb.describe_table().table_name(&self.table).send().await?;
        let Some(arn) = described.table.and_then(|t| t.latest_stream_arn) else {
            return Err(format!("table {} has no stream", self.table).into());
        };
        let first_read = state.stream_arn.is_none();
        if state.stream_arn.as_deref() != Some(arn.as_str()) {
            state.stream_arn = Some(arn.clone());
            state.shards.clear();
        }
        let mut start = None;
        loop {
            let output = self
                .streams
                .describe_stream()
                .stream_arn(&arn)
                .set_exclusive_start_shard_id(start)
                .send()
                .await?;
            let Some(description) = output.stream_description else {
                break;
            };
            for shard in description.shards.unwrap_or_default() {
                let Some(id) = shard.shard_id else { continue };
                state.shards.entry(id).or_insert_with(|| Shard {
                    // A shard known at the first read starts where configured; later ones from their start.
                    start: if first_read {
                        self.first_position.clone()
                    } else {
                        ShardIteratorType::TrimHorizon
                    },
                    iterator: None,
                    after: None,
                    closed: false,
                    attempts: 0,
                });
            }
            match description.last_evaluated_shard_id {
                Some(last) => start = Some(last),
                None => break,
            }
        }
        Ok(())
    }

    /// Reads one batch of `shard` and hands it to the function; returns how
    /// many records it read, `None` when the function failed some of them.
    async fn read_batch(
        &self,
        arn: &str,
        id: &str,
        shard: &mut Shard,
        report: &mut StreamReport,
    ) -> Result<Option<usize>, BoxError> {
        if shard.iterator.is_none() {
            let position = match &shard.after {
                Some(_) => ShardIteratorType::AfterSequenceNumber,
                None => shard.start.clone(),
            };
            let output = self
                .streams
                .get_shard_iterator()
                .stream_arn(arn)
                .shard_id(id)
                .shard_iterator_type(position)
                .set_sequence_number(shard.after.clone())
                .send()
                .await?;
            shard.iterator = output.shard_iterator;
            if shard.iterator.is_none() {
                shard.closed = true;
                return Ok(Some(0));
            }
        }
        let output = match self
            .streams
            .get_records()
            .set_shard_iterator(shard.iterator.clone())
            .limit(i32::try_from(self.trigger.batch_size).unwrap_or(100))
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) => {
                // An expired or stale iterator (the emulator restarted): read again after the last record handled.
                tracing::debug!(shard = id, error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&err), "stream read failed");
                shard.iterator = None;
                return Err(err.into());
            }
        };
        let records = output.records.unwrap_or_default();
        let next = output.next_shard_iterator;
        if records.is_empty() {
            shard.iterator = next.clone();
            shard.closed = next.is_none();
            return Ok(Some(0));
        }
        report.read += records.len();
        let matching: Vec<&Record> = records.iter().filter(|r| self.matches(r)).collect();
        let failed_from = if matching.is_empty() {
            None
        } else {
            report.delivered += matching.len();
            self.deliver(arn, &matching).await
        };
        match failed_from {
            None => {
                shard.after = records.last().and_then(sequence);
                shard.iterator = next;
                shard.attempts = 0;
                shard.closed = shard.iterator.is_none();
            }
            Some(first_failed) => {
                report.failed += matching.len() - first_failed;
                let before = first_failed
                    .checked_sub(1)
                    .and_then(|i| matching.get(i))
                    .and_then(|r| sequence(r));
                // Everything before the first failed record is done; read again from it.
                if before.is_some() {
                    shard.after = before;
                    shard.attempts = 0;
                }
                shard.iterator = None;
                shard.attempts += 1;
                if shard.attempts > self.trigger.maximum_retry_attempts {
                    let rest: Vec<&Record> = matching[first_failed..].to_vec();
                    report.abandoned += rest.len();
                    self.give_up(arn, id, &rest).await;
                    shard.after = records.last().and_then(sequence);
                    shard.attempts = 0;
                }
                // Retried at the next poll.
                return Ok(None);
            }
        }
        Ok(Some(records.len()))
    }

    /// Calls the function; `Some(i)`: the batch failed from its `i`-th record on.
    async fn deliver(&self, arn: &str, records: &[&Record]) -> Option<usize> {
        let event = match lambda_event(records, arn, &self.region) {
            Ok(event) => event,
            Err(err) => {
                tracing::error!(error = %err, "stream records could not be turned into an event");
                return Some(0);
            }
        };
        match (self.handler)(event).await {
            Ok(response) => {
                let failed: Vec<String> = response
                    .batch_item_failures
                    .into_iter()
                    .filter_map(|f| f.item_identifier)
                    .collect();
                records
                    .iter()
                    .position(|r| sequence(r).is_some_and(|s| failed.contains(&s)))
            }
            Err(err) => {
                tracing::warn!(error = %err, "stream batch failed");
                Some(0)
            }
        }
    }

    /// Reports records given up to the on-failure queue, as Lambda does.
    async fn give_up(&self, arn: &str, shard: &str, records: &[&Record]) {
        let first = records.first().and_then(|r| sequence(r));
        let last = records.last().and_then(|r| sequence(r));
        tracing::error!(
            shard,
            count = records.len(),
            "stream records given up after the retry limit"
        );
        let Some(queue) = &self.on_failure else { return };
        let body = json!({
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": self.trigger.maximum_retry_attempts + 1},
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": first,
                "endSequenceNumber": last,
                "batchSize": records.len(),
                "streamArn": arn,
            },
        });
        if let Err(err) = self
            .sqs
            .send_message()
            .queue_url(queue)
            .message_body(body.to_string())
            .send()
            .await
        {
            tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "on-failure report not sent");
        }
    }

    fn matches(&self, record: &Record) -> bool {
        if self.trigger.filters.is_empty() {
            return true;
        }
        let value = record_json(record, "", "");
        self.trigger
            .filters
            .iter()
            .any(|pattern| pattern_matches(pattern, &value))
    }

    /// Polls until `shutdown` completes, backing off on errors.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut backoff = Duration::from_millis(500);
        tracing::info!(table = %self.table, "reading the table's stream");
        loop {
            let pause = match self.poll_once().await {
                Ok(report) if report.failed > 0 => {
                    // Lambda retries a failed batch until its retry limit; so does this, each second.
                    Duration::from_secs(1)
                }
                Ok(report) => {
                    backoff = Duration::from_millis(500);
                    if report.read > 0 {
                        tracing::debug!(?report, "stream batch delivered");
                        Duration::ZERO
                    } else {
                        Duration::from_millis(250)
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, retry_in = ?backoff, "stream polling failed");
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    backoff
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(table = %self.table, "stopped reading the stream");
    }
}

/// DynamoDB Local writes an empty map attribute into stream records as `{}`
/// instead of `{"M": {}}`, which no client can read; this mends the records
/// of a `GetRecords` answer before the SDK reads them.
#[derive(Debug, Clone, Copy)]
pub struct EmptyMaps;

impl aws_sdk_dynamodbstreams::config::Intercept for EmptyMaps {
    fn name(&self) -> &'static str {
        "EmptyMaps"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_sdk_dynamodbstreams::config::interceptors::BeforeDeserializationInterceptorContextMut<'_>,
        _components: &aws_sdk_dynamodbstreams::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodbstreams::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodbstreams::error::BoxError> {
        let response = context.response_mut();
        // The body changes, so its length and checksum no longer apply.
        response.headers_mut().remove("content-length");
        response.headers_mut().remove("x-amz-crc32");
        crate::body::rewrite_json(response.body_mut(), mend_records);
        Ok(())
    }
}

/// A `GetRecords` answer with its images' empty maps written out.
fn mend_records(answer: &mut Value) {
    let Some(records) = answer.get_mut("Records").and_then(Value::as_array_mut) else {
        return;
    };
    for record in records {
        for image in ["Keys", "NewImage", "OldImage"] {
            if let Some(Value::Object(item)) = record.get_mut("dynamodb").and_then(|d| d.get_mut(image)) {
                item.values_mut().for_each(mend_attribute);
            }
        }
    }
}

/// An attribute value with every empty map written out as `{"M": {}}`.
fn mend_attribute(value: &mut Value) {
    let Value::Object(typed) = value else { return };
    if typed.is_empty() {
        *value = json!({ "M": {} });
        return;
    }
    if let Some(Value::Object(map)) = typed.get_mut("M") {
        map.values_mut().for_each(mend_attribute);
    }
    if let Some(Value::Array(list)) = typed.get_mut("L") {
        list.iter_mut().for_each(mend_attribute);
    }
}

fn sequence(record: &Record) -> Option<String> {
    record.dynamodb.as_ref()?.sequence_number.clone()
}

/// An attribute value in DynamoDB's JSON form (`{"S": "…"}`).
fn attribute_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": STANDARD.encode(b.as_ref()) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(items) => json!({ "SS": items }),
        AttributeValue::Ns(items) => json!({ "NS": items }),
        AttributeValue::Bs(items) => {
            json!({ "BS": items.iter().map(|b| STANDARD.encode(b.as_ref())).collect::<Vec<_>>() })
        }
        AttributeValue::L(items) => json!({ "L": items.iter().map(attribute_json).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": item_json(map) }),
        _ => Value::Null,
    }
}

fn item_json(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), attribute_json(value)))
            .collect::<Map<String, Value>>(),
    )
}

/// A stream record as Lambda delivers it.
fn record_json(record: &Record, arn: &str, region: &str) -> Value {
    let change = record.dynamodb.as_ref();
    let mut dynamodb = Map::new();
    if let Some(change) = change {
        if let Some(at) = change.approximate_creation_date_time {
            dynamodb.insert("ApproximateCreationDateTime".into(), json!(at.secs()));
        }
        for (name, image) in [
            ("Keys", &change.keys),
            ("NewImage", &change.new_image),
            ("OldImage", &change.old_image),
        ] {
            if let Some(image) = image {
                dynamodb.insert(name.into(), item_json(image));
            }
        }
        dynamodb.insert("SequenceNumber".into(), json!(change.sequence_number));
        dynamodb.insert("SizeBytes".into(), json!(change.size_bytes.unwrap_or(0)));
        if let Some(view) = &change.stream_view_type {
            dynamodb.insert("StreamViewType".into(), json!(view.as_str()));
        }
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": record.event_version.clone().unwrap_or_else(|| "1.1".into()),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region.clone().unwrap_or_else(|| region.to_owned()),
        "dynamodb": dynamodb,
        "eventSourceARN": arn,
    })
}

/// The event Lambda builds from a batch of stream records.
pub fn lambda_event(records: &[&Record], arn: &str, region: &str) -> Result<StreamEvent, serde_json::Error> {
    let records: Vec<Value> = records.iter().map(|r| record_json(r, arn, region)).collect();
    serde_json::from_value(json!({ "Records": records }))
}

/// Lambda's event filtering, for the patterns a trigger uses: every key of the
/// pattern must match; a list matches when one of its entries does (a value,
/// or `{"prefix": …}`).
pub fn pattern_matches(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(name, expected)| value.get(name).is_some_and(|actual| pattern_matches(expected, actual))),
        Value::Array(choices) => choices.iter().any(|choice| match choice {
            Value::Object(rule) => match rule.get("prefix").and_then(Value::as_str) {
                Some(prefix) => value.as_str().is_some_and(|text| text.starts_with(prefix)),
                None => false,
            },
            literal => literal == value,
        }),
        literal => literal == value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_maps_are_mended() {
        let mut value = json!({"M": {"variants": {}, "list": {"L": [{}, {"S": "x"}]}}});
        mend_attribute(&mut value);
        assert_eq!(
            value,
            json!({"M": {"variants": {"M": {}}, "list": {"L": [{"M": {}}, {"S": "x"}]}}})
        );
    }

    #[test]
    fn filter_patterns_match_like_lambdas() {
        let pattern: Value = serde_json::from_str(
            r#"{"eventName": ["INSERT"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "OUTBOX#"}]}}}}"#,
        )
        .unwrap();
        let record = |name: &str, pk: &str| json!({"eventName": name, "dynamodb": {"Keys": {"PK": {"S": pk}}}});
        assert!(pattern_matches(&pattern, &record("INSERT", "OUTBOX#01")));
        assert!(!pattern_matches(&pattern, &record("REMOVE", "OUTBOX#01")));
        assert!(!pattern_matches(&pattern, &record("INSERT", "ORDER#01")));
        assert!(!pattern_matches(&pattern, &json!({"eventName": "INSERT"})));
    }
}
