//! The functions' log, read back: `shop-local logs` shows it readably (one
//! order's or one request's lines), `shop-local metrics` sums up the metric
//! lines in it and checks them against the EMF specification, and
//! `shop-local check-logs` looks for personal data or secrets that must never
//! be logged. The log is the file `SHOP_LOG_FILE` names (`make dev` and
//! `make test` set it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use crate::provision::BoxError;

/// The log `make dev` writes, unless `--file` or `SHOP_LOG_FILE` says otherwise.
pub fn default_path() -> PathBuf {
    if let Some(path) = std::env::var_os("SHOP_LOG_FILE").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let dir = std::env::var_os("STACK_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.local/dev"),
        PathBuf::from,
    );
    dir.join("logs").join("functions.jsonl")
}

pub fn read(path: &Path) -> Result<String, BoxError> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read the log {}: {e}", path.display()).into())
}

/// The lines that mention `needle` (an order id, a request id), each as
/// `LEVEL message  key=value …` with the span fields first.
pub fn show(log: &str, needle: Option<&str>) -> Vec<String> {
    log.lines()
        .filter(|line| needle.is_none_or(|n| line.contains(n)))
        .map(readable)
        .collect()
}

fn readable(line: &str) -> String {
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(line) else {
        return line.to_owned();
    };
    if fields.contains_key("_aws") {
        let metrics: Vec<String> = shop::metrics::measurements(line)
            .into_iter()
            .map(|(name, value, extra)| match extra {
                Some(extra) => format!("{name}[{extra}]={value}"),
                None => format!("{name}={value}"),
            })
            .collect();
        let order = fields.get("orderId").and_then(Value::as_str).unwrap_or_default();
        return format!("METRIC {} {order}", metrics.join(" ")).trim_end().to_owned();
    }
    let level = fields.remove("level").and_then(|v| v.as_str().map(str::to_owned));
    let message = fields.remove("message").and_then(|v| v.as_str().map(str::to_owned));
    let mut out = format!(
        "{:5} {}",
        level.as_deref().unwrap_or("-"),
        message.as_deref().unwrap_or_default()
    );
    let mut context = BTreeMap::new();
    if let Some(Value::Array(spans)) = fields.remove("spans") {
        for span in spans {
            if let Value::Object(span) = span {
                for (key, value) in span {
                    if key != "name" {
                        context.insert(key, value);
                    }
                }
            }
        }
    }
    context.extend(fields);
    for (key, value) in context {
        let value = match value {
            Value::String(text) => text,
            other => other.to_string(),
        };
        let _ = write!(out, "  {key}={value}");
    }
    out
}

/// Data points, sum, min and max of one metric.
type Totals = (usize, f64, f64, f64);

/// Per metric (and its extra dimension's value): data points, sum, min, max.
pub fn summary(log: &str) -> (Vec<String>, Vec<String>) {
    let mut totals: BTreeMap<(String, Option<String>), Totals> = BTreeMap::new();
    let mut invalid = Vec::new();
    for (number, line) in log.lines().enumerate() {
        if !line.contains("\"_aws\"") {
            continue;
        }
        if let Err(err) = shop::metrics::validate(line) {
            invalid.push(format!("line {}: {err}", number + 1));
            continue;
        }
        for (name, value, extra) in shop::metrics::measurements(line) {
            let entry = totals
                .entry((name, extra))
                .or_insert((0, 0.0, f64::INFINITY, f64::NEG_INFINITY));
            entry.0 += 1;
            entry.1 += value;
            entry.2 = entry.2.min(value);
            entry.3 = entry.3.max(value);
        }
    }
    let mut rows = vec![format!(
        "{:<28} {:<28} {:>8} {:>12} {:>10} {:>10}",
        "metric", "dimension", "points", "sum", "min", "max"
    )];
    for ((name, extra), (points, sum, min, max)) in totals {
        rows.push(format!(
            "{name:<28} {:<28} {points:>8} {sum:>12.2} {min:>10.2} {max:>10.2}",
            extra.unwrap_or_default()
        ));
    }
    (rows, invalid)
}

/// Something in the log that must not be there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub line: usize,
    pub kind: &'static str,
}

/// Every line holding an email address (unmasked), a token, a secret or a
/// card number.
pub fn leaks(log: &str) -> Vec<Leak> {
    let patterns: Vec<(&'static str, Regex)> = [
        // Masked addresses (`j***@example.com`) are what logs may hold.
        (
            "email address",
            r"[A-Za-z0-9._%+-]*[A-Za-z0-9_%+-]@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
        ),
        (
            "JSON Web Token",
            r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        ),
        ("bearer token", r"(?i)bearer\s+[A-Za-z0-9._-]{16,}"),
        ("Stripe secret key", r"\b(sk|rk)_(test|live)_[A-Za-z0-9]{8,}"),
        ("Stripe webhook secret", r"\bwhsec_[A-Za-z0-9]{8,}"),
        ("PaymentIntent client secret", r"\bpi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"),
        (
            "password field",
            r#"(?i)"(password|newPassword|currentPassword)"\s*:\s*"[^"]+""#,
        ),
        // Card networks start with 2 to 6 (timestamps in milliseconds start with 1).
        ("card number", r"(?:^|[^\d.])[2-6](?:[ -]?\d){12,18}\b"),
    ]
    .into_iter()
    .map(|(kind, pattern)| (kind, Regex::new(pattern).expect("the patterns are valid")))
    .collect();
    let mut found = Vec::new();
    for (number, line) in log.lines().enumerate() {
        for (kind, pattern) in &patterns {
            let leaked = pattern.find_iter(line).any(|hit| match *kind {
                "email address" => !hit.as_str().contains("***@"),
                "card number" => luhn(hit.as_str()),
                _ => true,
            });
            if leaked {
                found.push(Leak { line: number + 1, kind });
            }
        }
    }
    found
}

/// A card number's check digit holds (ids and timestamps rarely pass it by
/// chance, and a real card number always does).
fn luhn(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_data_is_found_and_masked_data_is_not() {
        let log = [
            r#"{"level":"INFO","message":"notification sent","recipient":"j***@example.com"}"#,
            r#"{"level":"INFO","message":"registered","email":"jane@example.com"}"#,
            r#"{"message":"auth","header":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop"}"#,
            r#"{"message":"key sk_test_4eC39HqLyjWDarjtT1zdp7dc"}"#,
            r#"{"message":"paid","card":"4242 4242 4242 4242"}"#,
            r#"{"message":"order placed","orderId":"ord_01JH3S4M5N6P7Q8R9S0T1V2W3X","total":"225.97"}"#,
            r#"{"message":"login","body":{"password":"Customer-Pass-123!"}}"#,
        ]
        .join("\n");
        let kinds: Vec<(usize, &str)> = leaks(&log).iter().map(|l| (l.line, l.kind)).collect();
        assert_eq!(
            kinds,
            [
                (2, "email address"),
                (3, "JSON Web Token"),
                (3, "bearer token"),
                (4, "Stripe secret key"),
                (5, "card number"),
                (7, "password field"),
            ]
        );
    }

    #[test]
    fn luhn_accepts_card_numbers_only() {
        assert!(luhn("4242424242424242"));
        assert!(!luhn("4242424242424241"));
        assert!(!luhn("1733145600000"));
    }

    #[test]
    fn a_line_reads_with_its_spans_first_and_metrics_summed() {
        let line = r#"{"level":"INFO","message":"order changed","spans":[{"name":"request","requestId":"r-1"}],"to":"confirmed"}"#;
        assert_eq!(readable(line), "INFO  order changed  requestId=r-1  to=confirmed");
        let emf = r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["service"]],"Metrics":[{"Name":"OrdersPlaced","Unit":"Count"}]}]},"service":"shop","OrdersPlaced":1}"#;
        let (rows, invalid) = summary(&format!("{emf}\n{emf}\n{{\"_aws\":{{}}}}"));
        assert_eq!(invalid.len(), 1, "{invalid:?}");
        assert!(rows[1].starts_with("OrdersPlaced"), "{rows:?}");
        assert!(rows[1].contains("       2 "), "{rows:?}");
    }
}
