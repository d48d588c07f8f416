//! What the functions ask of AWS, seen from inside their SDK clients. A
//! [`Recorder`] is an SDK interceptor: it keeps every request a client sends
//! (its operation, its body as sent, when it started and ended) and, when
//! asked to, makes each DynamoDB request return its consumed capacity
//! (`ReturnConsumedCapacity: TOTAL`, added to the serialized request) and reads
//! it from the answer. The functions' code is not touched: the bench builds
//! their clients with the interceptor, as a test would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError as SdkBoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use bytes::Bytes;
use serde::Deserialize;

/// DynamoDB operations that take `ReturnConsumedCapacity`, and whether each
/// reads or writes.
const METERED: &[(&str, Units)] = &[
    ("GetItem", Units::Read),
    ("BatchGetItem", Units::Read),
    ("Query", Units::Read),
    ("Scan", Units::Read),
    ("TransactGetItems", Units::Read),
    ("PutItem", Units::Write),
    ("UpdateItem", Units::Write),
    ("DeleteItem", Units::Write),
    ("BatchWriteItem", Units::Write),
    ("TransactWriteItems", Units::Write),
];

/// Which kind of request unit an operation consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    Read,
    Write,
}

/// One request, as the client sent it and as it ended.
#[derive(Debug, Clone)]
pub struct Request {
    /// The operation (`Query`, `SendMessage`, `GetSecretValue`), from `X-Amz-Target`.
    pub operation: String,
    /// The whole `X-Amz-Target` header, to send the same request again.
    pub target: String,
    /// The body of the last attempt, as sent.
    pub body: Bytes,
    pub started: Instant,
    pub ended: Instant,
    /// Attempts that reached the service (retries included).
    pub attempts: u32,
    /// The service answered the last attempt with an error (a condition not
    /// met, a cancelled transaction, …).
    pub refused: bool,
    /// Request units as AWS bills them, when they were asked for (DynamoDB only).
    pub units: Option<(Units, f64)>,
}

/// The interceptor; clones share one log.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    log: Arc<Mutex<Vec<Request>>>,
    capacity: Arc<AtomicBool>,
}

impl Recorder {
    /// Whether DynamoDB requests ask for their consumed capacity from now on.
    pub fn meter_capacity(&self, on: bool) {
        self.capacity.store(on, Ordering::SeqCst);
    }

    /// The requests recorded since the last call, oldest first.
    pub fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Request>> {
        // A panic elsewhere cannot leave a half-pushed request behind.
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What an operation's attempts left in its config bag, read when it ends.
#[derive(Debug, Clone)]
struct Started(Instant);

#[derive(Debug, Clone)]
struct Sent {
    target: String,
    body: Bytes,
    attempts: u32,
}

#[derive(Debug, Clone, Default)]
struct Answered {
    refused: bool,
    units: Option<(Units, f64)>,
}

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}
impl Storable for Sent {
    type Storer = StoreReplace<Self>;
}
impl Storable for Answered {
    type Storer = StoreReplace<Self>;
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "shop-bench Recorder"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), SdkBoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    /// Adds `ReturnConsumedCapacity: TOTAL` to a metered DynamoDB request that
    /// does not ask for it (before signing, so the signature covers it).
    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), SdkBoxError> {
        if !self.capacity.load(Ordering::SeqCst) {
            return Ok(());
        }
        let request = context.request_mut();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        if units_of(operation_of(target)).is_none() {
            return Ok(());
        }
        let Some(body) = request.body().bytes() else {
            return Ok(());
        };
        if let Some(asked) = with_consumed_capacity(body) {
            request.headers_mut().insert("content-length", asked.len().to_string());
            *request.body_mut() = SdkBody::from(asked);
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), SdkBoxError> {
        let request = context.request();
        let attempts = cfg.load::<Sent>().map_or(0, |sent| sent.attempts);
        cfg.interceptor_state().store_put(Sent {
            target: request.headers().get("x-amz-target").unwrap_or_default().to_owned(),
            body: Bytes::copy_from_slice(request.body().bytes().unwrap_or_default()),
            attempts: attempts + 1,
        });
        Ok(())
    }

    /// The answer's body is whole here (read before deserialization); every
    /// attempt that consumed capacity adds to the operation's units.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), SdkBoxError> {
        let response = context.response();
        let refused = !response.status().is_success();
        let mut answered = cfg.load::<Answered>().cloned().unwrap_or_default();
        answered.refused = refused;
        let sent = cfg.load::<Sent>();
        let kind = sent.and_then(|sent| units_of(operation_of(&sent.target)));
        if let (Some(kind), Some(sent), true) = (kind, sent, self.capacity.load(Ordering::SeqCst)) {
            let units = if refused {
                refused_write_units(operation_of(&sent.target), &sent.body)
            } else {
                let reported = response.body().bytes().map_or(0.0, reported_units);
                billed_units(operation_of(&sent.target), &sent.body, reported)
            };
            let before = answered.units.map_or(0.0, |(_, units)| units);
            answered.units = Some((kind, before + units));
        }
        cfg.interceptor_state().store_put(answered);
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), SdkBoxError> {
        let Some(sent) = cfg.load::<Sent>().cloned() else {
            // Failed before anything was sent (a bad input): nothing to record.
            return Ok(());
        };
        let started = cfg.load::<Started>().map_or_else(Instant::now, |s| s.0);
        let answered = cfg.load::<Answered>().cloned().unwrap_or_default();
        self.lock().push(Request {
            operation: operation_of(&sent.target).to_owned(),
            target: sent.target,
            body: sent.body,
            started,
            ended: Instant::now(),
            attempts: sent.attempts,
            refused: answered.refused,
            units: answered.units,
        });
        Ok(())
    }
}

/// `DynamoDB_20120810.Query` → `Query`.
pub fn operation_of(target: &str) -> &str {
    target.rsplit('.').next().unwrap_or(target)
}

fn units_of(operation: &str) -> Option<Units> {
    METERED
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, units)| *units)
}

/// The request body with `ReturnConsumedCapacity: TOTAL`, or `None` when it
/// already says what to return (or is not JSON).
fn with_consumed_capacity(body: &[u8]) -> Option<Vec<u8>> {
    let mut json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = json.as_object_mut()?;
    if object.contains_key("ReturnConsumedCapacity") {
        return None;
    }
    object.insert("ReturnConsumedCapacity".into(), "TOTAL".into());
    serde_json::to_vec(&json).ok()
}

/// The capacity units a DynamoDB answer reports: `ConsumedCapacity` is one
/// object, or a list of them (batches and transactions, one per table).
fn reported_units(body: &[u8]) -> f64 {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "ConsumedCapacity", default)]
        consumed: Option<Consumed>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Consumed {
        One(Capacity),
        Many(Vec<Capacity>),
    }
    #[derive(Deserialize)]
    struct Capacity {
        #[serde(rename = "CapacityUnits", default)]
        units: f64,
    }
    match serde_json::from_slice::<Answer>(body).map(|answer| answer.consumed) {
        Ok(Some(Consumed::One(capacity))) => capacity.units,
        Ok(Some(Consumed::Many(list))) => list.iter().map(|c| c.units).sum(),
        _ => 0.0,
    }
}

/// How many items a transaction holds (`TransactItems`), else 1.
fn items_in(body: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|json| json["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(1)
}

/// The units AWS bills for an answered request. A transaction costs two units
/// per item and per started 1 KB (writes) or 4 KB (reads) of each item;
/// DynamoDB Local rounds the items' summed size instead, so a transaction of
/// small items reads low there: it counts at least two units per item.
fn billed_units(operation: &str, body: &[u8], reported: f64) -> f64 {
    match operation {
        "TransactWriteItems" | "TransactGetItems" => reported.max(2.0 * items_in(body) as f64),
        _ => reported,
    }
}

/// A refused conditional write is billed as if it had written (AWS answers
/// errors without `ConsumedCapacity`): at least one unit per item, two in a
/// transaction. A refused read consumed nothing worth counting.
fn refused_write_units(operation: &str, body: &[u8]) -> f64 {
    match operation {
        "TransactWriteItems" => 2.0 * items_in(body) as f64,
        "PutItem" | "UpdateItem" | "DeleteItem" => 1.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_asked_for_once() {
        let asked = with_consumed_capacity(br#"{"TableName":"t"}"#).expect("added");
        let json: serde_json::Value = serde_json::from_slice(&asked).expect("json");
        assert_eq!(json["ReturnConsumedCapacity"], "TOTAL");
        assert!(with_consumed_capacity(&asked).is_none());
        assert!(with_consumed_capacity(b"not json").is_none());
    }

    #[test]
    fn reported_units_are_summed_over_tables() {
        assert_eq!(
            reported_units(br#"{"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}"#),
            0.5
        );
        let many = br#"{"Items":[],"ConsumedCapacity":[{"CapacityUnits":2.0},{"CapacityUnits":1.0}]}"#;
        assert_eq!(reported_units(many), 3.0);
        assert_eq!(reported_units(br#"{"Item":{}}"#), 0.0);
    }

    #[test]
    fn a_transaction_costs_at_least_two_units_per_item() {
        let body = br#"{"TransactItems":[{"Put":{}},{"Update":{}},{"Delete":{}}]}"#;
        assert_eq!(billed_units("TransactWriteItems", body, 2.0), 6.0);
        assert_eq!(billed_units("TransactWriteItems", body, 8.0), 8.0);
        assert_eq!(billed_units("PutItem", b"{}", 3.0), 3.0);
        assert_eq!(refused_write_units("TransactWriteItems", body), 6.0);
        assert_eq!(refused_write_units("Query", b"{}"), 0.0);
    }

    #[test]
    fn the_operation_is_the_last_part_of_the_target() {
        assert_eq!(operation_of("DynamoDB_20120810.Query"), "Query");
        assert_eq!(operation_of("AmazonSQS.SendMessage"), "SendMessage");
        assert_eq!(units_of("Query"), Some(Units::Read));
        assert_eq!(units_of("DescribeTable"), None);
    }
}
