//! Which event from `events/` each function is measured with.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::BoxError;

/// How a function is invoked, which decides its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// API Gateway HTTP API (payload 2.0) through `lambda_http`.
    Http,
    /// Any other event (SQS, DynamoDB stream, EventBridge) through `lambda_runtime`.
    Event,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Event => "event",
        }
    }
}

/// One representative event per function: a read where the function serves
/// reads, since a cold start meets reads far more often than writes. The
/// placeholders of the fixtures (`Bearer ACCESS_TOKEN`, `STRIPE_SIGNATURE`) are
/// kept: the 401/400 they earn still runs the routing, the secret fetch and
/// the token or signature check. `true`: the event needs the demo catalog.
const PREFERRED: &[(&str, &str, bool)] = &[
    ("users-api", "users-api-me.json", false),
    ("catalog-api", "catalog-api-list-products.json", true),
    ("cart-api", "cart-api-get-cart.json", false),
    ("orders-api", "orders-api-list-orders.json", false),
    ("admin-api", "admin-api-list-coupons.json", false),
    ("payments-api", "payments-api-webhook.json", false),
];

/// The baselines answer any event; they get one of each kind's fixtures.
pub const HELLO_HTTP_FIXTURE: &str = "catalog-api-list-products.json";
pub const HELLO_RUNTIME_FIXTURE: &str = "inventory-reservation-sqs.json";

/// An event file, read and classified.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub file: String,
    pub kind: Kind,
    pub needs_demo_data: bool,
    pub event: Bytes,
}

impl Fixture {
    /// Reads `events/<file>`.
    pub fn load(events_dir: &Path, file: &str, needs_demo_data: bool) -> Result<Self, BoxError> {
        let path = events_dir.join(file);
        let event = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: serde_json::Value = serde_json::from_slice(&event).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self {
            file: file.to_owned(),
            kind: kind_of(&json),
            needs_demo_data,
            event: event.into(),
        })
    }

    /// The fixture `function` is measured with: the preferred one, else the
    /// first `events/<function>-*.json` by name (so a new function is measured
    /// without touching the bench).
    pub fn for_function(events_dir: &Path, function: &str) -> Result<Self, BoxError> {
        if let Some((_, file, seeded)) = PREFERRED.iter().find(|(name, _, _)| *name == function) {
            return Self::load(events_dir, file, *seeded);
        }
        let first = first_fixture(events_dir, function)?
            .ok_or_else(|| format!("no events/{function}-*.json to invoke {function} with"))?;
        let file = first
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        Self::load(events_dir, &file, false)
    }

    /// The fixture name without its extension, for tables.
    pub fn label(&self) -> &str {
        self.file.strip_suffix(".json").unwrap_or(&self.file)
    }
}

fn first_fixture(events_dir: &Path, function: &str) -> Result<Option<PathBuf>, BoxError> {
    let prefix = format!("{function}-");
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(events_dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with(&prefix) && name.ends_with(".json")
        })
        .collect();
    candidates.sort();
    Ok(candidates.into_iter().next())
}

/// An API Gateway HTTP API event carries `routeKey` and `requestContext`.
fn kind_of(event: &serde_json::Value) -> Kind {
    if event.get("routeKey").is_some() && event.get("requestContext").is_some() {
        Kind::Http
    } else {
        Kind::Event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_gateway_events_are_http_and_the_rest_are_events() {
        let http = serde_json::json!({"version": "2.0", "routeKey": "GET /x", "requestContext": {}});
        let sqs = serde_json::json!({"Records": []});
        assert_eq!(kind_of(&http), Kind::Http);
        assert_eq!(kind_of(&sqs), Kind::Event);
    }
}
