use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

/// A successful response: the `data` of the envelope, an optional message, status and headers.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    /// The serialised `data`, kept as text so amounts keep their two decimals.
    pub data: Box<serde_json::value::RawValue>,
    pub message: Option<String>,
    pub headers: HeaderMap,
    /// A body sent as it is instead of the envelope (a CSV download), with its content type.
    pub raw: Option<(&'static str, String)>,
}

/// `Cache-Control` for public catalog reads: a CDN may keep them for `max_age`
/// seconds; `Vary: Authorization` keeps admin views out of shared caches.
pub fn public_cache(max_age: u32) -> String {
    format!("public, max-age={max_age}")
}

/// `Cache-Control` for personal or admin responses.
pub const PRIVATE: &str = "private, no-store";

impl Reply {
    pub fn with_status(status: StatusCode, data: impl Serialize) -> Self {
        Self {
            status,
            // Serialising our own response types cannot fail (string keys, no non-finite floats).
            data: serde_json::value::to_raw_value(&data).unwrap_or_default(),
            message: None,
            headers: HeaderMap::new(),
            raw: None,
        }
    }

    /// A 200 whose body is `body` itself (no envelope), of type `content_type`.
    pub fn file(content_type: &'static str, body: String) -> Self {
        Self {
            raw: Some((content_type, body)),
            ..Self::ok(serde_json::Value::Null)
        }
    }

    pub fn ok(data: impl Serialize) -> Self {
        Self::with_status(StatusCode::OK, data)
    }

    pub fn created(data: impl Serialize) -> Self {
        Self::with_status(StatusCode::CREATED, data)
    }

    pub fn accepted(data: impl Serialize) -> Self {
        Self::with_status(StatusCode::ACCEPTED, data)
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Cacheable by anyone for `max_age` seconds, or private when `private` (admin views).
    pub fn cached(self, max_age: u32, private: bool) -> Self {
        if private {
            self.header("cache-control", PRIVATE)
        } else {
            self.header("cache-control", &public_cache(max_age))
                .header("vary", "Authorization")
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(name, value);
        }
        self
    }
}
