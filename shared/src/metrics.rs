//! Metrics in CloudWatch's Embedded Metric Format (EMF): each measurement is
//! one JSON line on the function's log stream, which CloudWatch Logs turns
//! into a metric with no API call and no extra latency.
//!
//! Names come from [`Metric`] and dimensions stay bounded: `service` (the
//! application), `function`, and at most one more (`route` for requests,
//! `reason` for cancellations, `outcome` for notifications) whose values come
//! from a fixed set, never ids or emails. Ids travel as plain properties
//! (`orderId`, `requestId`), so a Logs Insights query finds the lines of one
//! order without a metric per order.
//!
//! `METRICS_NAMESPACE` names the namespace (one per stack; `Shop` by default)
//! and `METRICS_SERVICE` the `service` dimension (`shop`).

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::domain::OrderId;

/// Every metric the functions emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    OrdersPlaced,
    /// Dimension `reason`: `out_of_stock`, `expired`, `customer`, `admin`.
    OrdersCancelled,
    ReservationsHeld,
    PaymentsSucceeded,
    PaymentsFailed,
    Refunds,
    /// In the order's currency units.
    RefundedAmount,
    DuplicateWebhooks,
    CheckoutConflictsRetried,
    /// Dimension `outcome`: `sent`, `skipped`, `failed`.
    Notifications,
    LowStockAlerts,
    /// Unpaid orders still holding stock after their hold expired, and orders
    /// waiting for their reservation longer than they should (the sweeper's view).
    OrdersOverdue,
    /// Dimension `route`: the template route that answered.
    Requests,
    /// Dimension `route`.
    ServerErrors,
    /// Dimension `route`: time spent in the handler.
    Latency,
    /// Dimension `route`: DynamoDB requests made for one API request or event.
    DynamoDbRoundTrips,
    StripeLatency,
    StripeErrors,
    SmtpLatency,
    SmtpErrors,
    ColdStarts,
    BatchSize,
    BatchItemFailures,
    /// Outbox messages the sweeper sent again because their delivery from the stream failed.
    OutboxBacklog,
}

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    None,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
            Self::None => "None",
        }
    }
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Self::OrdersPlaced => "OrdersPlaced",
            Self::OrdersCancelled => "OrdersCancelled",
            Self::ReservationsHeld => "ReservationsHeld",
            Self::PaymentsSucceeded => "PaymentsSucceeded",
            Self::PaymentsFailed => "PaymentsFailed",
            Self::Refunds => "Refunds",
            Self::RefundedAmount => "RefundedAmount",
            Self::DuplicateWebhooks => "DuplicateWebhooks",
            Self::CheckoutConflictsRetried => "CheckoutConflictsRetried",
            Self::Notifications => "Notifications",
            Self::LowStockAlerts => "LowStockAlerts",
            Self::OrdersOverdue => "OrdersOverdue",
            Self::Requests => "Requests",
            Self::ServerErrors => "ServerErrors",
            Self::Latency => "Latency",
            Self::DynamoDbRoundTrips => "DynamoDbRoundTrips",
            Self::StripeLatency => "StripeLatency",
            Self::StripeErrors => "StripeErrors",
            Self::SmtpLatency => "SmtpLatency",
            Self::SmtpErrors => "SmtpErrors",
            Self::ColdStarts => "ColdStarts",
            Self::BatchSize => "BatchSize",
            Self::BatchItemFailures => "BatchItemFailures",
            Self::OutboxBacklog => "OutboxBacklog",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Self::Latency | Self::StripeLatency | Self::SmtpLatency => Unit::Milliseconds,
            Self::RefundedAmount => Unit::None,
            _ => Unit::Count,
        }
    }

    /// Business metrics: what happened to orders, payments and customers.
    pub fn is_business(self) -> bool {
        matches!(
            self,
            Self::OrdersPlaced
                | Self::OrdersCancelled
                | Self::ReservationsHeld
                | Self::PaymentsSucceeded
                | Self::PaymentsFailed
                | Self::Refunds
                | Self::RefundedAmount
                | Self::DuplicateWebhooks
                | Self::CheckoutConflictsRetried
                | Self::Notifications
                | Self::LowStockAlerts
                | Self::OrdersOverdue
        )
    }
}

/// One measurement on its way to the log stream.
#[must_use = "a measurement is written by `emit`"]
#[derive(Debug, Clone)]
pub struct Measure {
    values: Vec<(Metric, f64)>,
    dimension: Option<(&'static str, String)>,
    order: Option<OrderId>,
}

/// One more of `metric`.
pub fn count(metric: Metric) -> Measure {
    value(metric, 1.0)
}

/// `value` of `metric`.
pub fn value(metric: Metric, value: f64) -> Measure {
    Measure {
        values: vec![(metric, value)],
        dimension: None,
        order: None,
    }
}

/// How long something took, in milliseconds.
pub fn duration(metric: Metric, elapsed: Duration) -> Measure {
    value(metric, elapsed.as_secs_f64() * 1000.0)
}

impl Measure {
    /// Another metric in the same line, with the same dimensions.
    pub fn and(mut self, metric: Metric, value: f64) -> Self {
        self.values.push((metric, value));
        self
    }

    /// A third dimension; `value` must come from a fixed set.
    pub fn dimension(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.dimension = Some((name, value.into()));
        self
    }

    /// The order it is about (a property, not a dimension).
    pub fn order(mut self, order: OrderId) -> Self {
        self.order = Some(order);
        self
    }

    /// Writes the measurement as one EMF line.
    pub fn emit(self) {
        write(&self.document(now_millis()).to_string());
    }

    fn document(&self, timestamp: u64) -> Value {
        let settings = settings();
        let mut dimensions = vec![json!(["service"]), json!(["service", "function"])];
        let mut root = Map::new();
        root.insert("service".into(), json!(settings.service));
        root.insert("function".into(), json!(settings.function));
        if let Some((name, value)) = &self.dimension {
            dimensions.push(json!(["service", name]));
            root.insert((*name).into(), json!(value));
        }
        for (metric, value) in &self.values {
            // Thousandths are precision enough (microseconds for durations).
            root.insert(metric.name().into(), json!((value * 1000.0).round() / 1000.0));
        }
        if let Some(request) = crate::logging::request_id() {
            root.insert("requestId".into(), json!(request));
        }
        if let Some(order) = self.order {
            root.insert("orderId".into(), json!(order.to_string()));
        }
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": settings.namespace,
                    "Dimensions": dimensions,
                    "Metrics": self
                        .values
                        .iter()
                        .map(|(metric, _)| json!({"Name": metric.name(), "Unit": metric.unit().name()}))
                        .collect::<Vec<_>>(),
                }],
            }),
        );
        Value::Object(root)
    }
}

struct Settings {
    namespace: String,
    service: String,
    function: String,
}

fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        Settings {
            namespace: var("METRICS_NAMESPACE", "Shop"),
            service: var("METRICS_SERVICE", "shop"),
            function: var("AWS_LAMBDA_FUNCTION_NAME", "local"),
        }
    })
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Lines kept in memory as well as written, once [`record_in_memory`] is called.
static RECORDED: Mutex<Option<Vec<String>>> = Mutex::new(None);

fn write(line: &str) {
    crate::logging::write_line(line);
    if let Ok(mut recorded) = RECORDED.lock()
        && let Some(lines) = recorded.as_mut()
    {
        lines.push(line.to_owned());
    }
}

/// From now on, every line this process emits is also kept in memory, for
/// [`recorded`] (tests and the local runner's summary).
pub fn record_in_memory() {
    if let Ok(mut recorded) = RECORDED.lock() {
        recorded.get_or_insert_with(Vec::new);
    }
}

/// Every line emitted since [`record_in_memory`].
pub fn recorded() -> Vec<String> {
    RECORDED
        .lock()
        .map(|recorded| recorded.clone().unwrap_or_default())
        .unwrap_or_default()
}

tokio::task_local! {
    /// DynamoDB requests (every attempt) sent while handling the current invocation.
    static ROUND_TRIPS: std::cell::Cell<u32>;
}

/// Runs `work` counting the DynamoDB requests it sends; returns them with its output.
pub async fn counting_round_trips<F: std::future::Future>(work: F) -> (F::Output, u32) {
    ROUND_TRIPS
        .scope(std::cell::Cell::new(0), async {
            let output = work.await;
            (output, ROUND_TRIPS.with(std::cell::Cell::get))
        })
        .await
}

/// Counts every DynamoDB request attempt into the current invocation's
/// [`counting_round_trips`] (attached to the DynamoDB client).
#[derive(Debug, Clone, Copy, Default)]
pub struct RoundTripCounter;

impl aws_smithy_runtime_api::client::interceptors::Intercept for RoundTripCounter {
    fn name(&self) -> &'static str {
        "RoundTripCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let _ = ROUND_TRIPS.try_with(|count| count.set(count.get() + 1));
        Ok(())
    }
}

/// Why an EMF line breaks the specification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(String);

/// Checks one line against the EMF specification
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>):
/// the `_aws` metadata, namespaces, at most 30 dimensions per set and 100
/// metrics per directive, every dimension and metric present as a member of
/// the root with a string or a number, and names within their lengths.
pub fn validate(line: &str) -> Result<(), Invalid> {
    let invalid = |why: String| Err(Invalid(why));
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(line) else {
        return invalid("not a JSON object".into());
    };
    let Some(Value::Object(aws)) = root.get("_aws") else {
        return invalid("_aws is missing or not an object".into());
    };
    match aws.get("Timestamp") {
        Some(Value::Number(n)) if n.as_u64().is_some() => {}
        _ => return invalid("_aws.Timestamp must be a non-negative integer (epoch milliseconds)".into()),
    }
    let Some(Value::Array(directives)) = aws.get("CloudWatchMetrics") else {
        return invalid("_aws.CloudWatchMetrics must be an array".into());
    };
    for directive in directives {
        let Value::Object(directive) = directive else {
            return invalid("a metric directive is not an object".into());
        };
        match directive.get("Namespace") {
            Some(Value::String(ns)) if (1..=1024).contains(&ns.len()) => {}
            _ => return invalid("Namespace must be a string of 1 to 1024 characters".into()),
        }
        let Some(Value::Array(sets)) = directive.get("Dimensions") else {
            return invalid("Dimensions must be an array".into());
        };
        for set in sets {
            let Value::Array(names) = set else {
                return invalid("a dimension set is not an array".into());
            };
            if names.len() > 30 {
                return invalid("a dimension set has more than 30 dimensions".into());
            }
            for name in names {
                let Some(name) = name.as_str().filter(|n| (1..=255).contains(&n.len())) else {
                    return invalid("a dimension name is not a string of 1 to 255 characters".into());
                };
                match root.get(name) {
                    Some(Value::String(value)) if (1..=1024).contains(&value.len()) => {}
                    _ => return invalid(format!("dimension {name} has no string value in the root")),
                }
            }
        }
        let Some(Value::Array(metrics)) = directive.get("Metrics") else {
            return invalid("Metrics must be an array".into());
        };
        if metrics.len() > 100 {
            return invalid("a directive has more than 100 metrics".into());
        }
        for metric in metrics {
            let Some(name) = metric["Name"].as_str().filter(|n| (1..=255).contains(&n.len())) else {
                return invalid("a metric Name is not a string of 1 to 255 characters".into());
            };
            if let Some(unit) = metric.get("Unit")
                && !unit.as_str().is_some_and(|u| UNITS.contains(&u))
            {
                return invalid(format!("metric {name} has an unknown unit {unit}"));
            }
            let numeric = |v: &Value| v.as_f64().is_some();
            match root.get(name) {
                Some(v) if numeric(v) => {}
                Some(Value::Array(values))
                    if !values.is_empty() && values.len() <= 100 && values.iter().all(numeric) => {}
                _ => return invalid(format!("metric {name} has no numeric value in the root")),
            }
        }
    }
    Ok(())
}

const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// The metric lines among `lines` (log lines of any kind).
pub fn metric_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> impl Iterator<Item = &'a str> {
    lines.into_iter().filter(|line| line.contains("\"_aws\""))
}

/// The metrics of one EMF line, each with its value and extra dimension value.
pub fn measurements(line: &str) -> Vec<(String, f64, Option<String>)> {
    let Ok(root) = serde_json::from_str::<Value>(line) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for directive in root["_aws"]["CloudWatchMetrics"].as_array().into_iter().flatten() {
        let extra = directive["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|set| set.as_array())
            .flatten()
            .filter_map(Value::as_str)
            .find(|name| *name != "service" && *name != "function")
            .and_then(|name| root[name].as_str().map(str::to_owned));
        for metric in directive["Metrics"].as_array().into_iter().flatten() {
            if let Some(name) = metric["Name"].as_str() {
                let values: Vec<f64> = match &root[name] {
                    Value::Array(values) => values.iter().filter_map(Value::as_f64).collect(),
                    other => other.as_f64().into_iter().collect(),
                };
                for value in values {
                    found.push((name.to_owned(), value, extra.clone()));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_emits_a_valid_line() {
        let all = [
            Metric::OrdersPlaced,
            Metric::OrdersCancelled,
            Metric::RefundedAmount,
            Metric::Latency,
            Metric::OutboxBacklog,
        ];
        for metric in all {
            let line = count(metric).dimension("reason", "admin").document(1).to_string();
            assert_eq!(validate(&line), Ok(()), "{line}");
            let line = duration(metric, Duration::from_millis(12)).document(1).to_string();
            assert_eq!(validate(&line), Ok(()), "{line}");
        }
    }

    #[test]
    fn the_order_is_a_property_not_a_dimension() {
        let order = OrderId::generate();
        let doc = count(Metric::OrdersPlaced).order(order).document(5);
        assert_eq!(doc["orderId"], order.to_string());
        let dimensions = doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"].to_string();
        assert!(!dimensions.contains("orderId"), "{dimensions}");
        assert_eq!(doc["_aws"]["Timestamp"], 5);
        assert_eq!(doc["OrdersPlaced"], 1.0);
    }

    #[test]
    fn broken_lines_are_refused() {
        let good = count(Metric::Refunds).document(1);
        let mut missing_value = good.clone();
        missing_value.as_object_mut().unwrap().remove("Refunds");
        let mut missing_dimension = good.clone();
        missing_dimension.as_object_mut().unwrap().remove("function");
        let mut bad_unit = good.clone();
        bad_unit["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Parsecs");
        let mut text_value = good.clone();
        text_value["Refunds"] = json!("one");
        let mut no_timestamp = good;
        no_timestamp["_aws"].as_object_mut().unwrap().remove("Timestamp");
        for broken in [missing_value, missing_dimension, bad_unit, text_value, no_timestamp] {
            assert!(validate(&broken.to_string()).is_err(), "{broken}");
        }
        assert!(validate("not json").is_err());
    }

    #[test]
    fn measurements_read_back_what_was_written() {
        let line = value(Metric::OrdersCancelled, 1.0)
            .dimension("reason", "expired")
            .document(1)
            .to_string();
        assert_eq!(
            measurements(&line),
            vec![("OrdersCancelled".to_owned(), 1.0, Some("expired".to_owned()))]
        );
    }
}
