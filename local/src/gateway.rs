//! Builds the API Gateway (HTTP API, payload 2.0) event a real gateway would send,
//! and turns it into the `lambda_http::Request` the function handlers receive.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::routes::Matched;

/// An HTTP request as it reached the gateway.
#[derive(Debug, Clone, Default)]
pub struct HttpCall {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub source_ip: String,
}

impl HttpCall {
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        Self {
            method: method.to_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            source_ip: "127.0.0.1".to_owned(),
            ..Self::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.body = body.to_string().into_bytes();
        self.header("content-type", "application/json")
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn from_ip(mut self, ip: &str) -> Self {
        ip.clone_into(&mut self.source_ip);
        self
    }
}

/// Encodes everything but unreserved characters as `%XX` (form values, query strings).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Decodes `%XX` escapes; a malformed escape is kept as it is.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| {
                std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            })
            .flatten();
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_query(query: &str) -> Map<String, Value> {
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| percent_decode(&s.replace('+', " "));
        params.entry(decode(key)).or_default().push(decode(value));
    }
    // API Gateway joins repeated parameters with commas.
    params
        .into_iter()
        .map(|(k, v)| (k, Value::String(v.join(","))))
        .collect()
}

/// The payload-2.0 event for `call`, routed to `matched`.
pub fn event(call: &HttpCall, matched: &Matched, request_id: &str) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &call.headers {
        let name = name.to_lowercase();
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| Value::String(c.trim().to_owned())));
            continue;
        }
        let joined = match headers.get(&name).and_then(Value::as_str) {
            Some(existing) => format!("{existing},{value}"),
            None => value.clone(),
        };
        headers.insert(name, Value::String(joined));
    }
    headers
        .entry("host")
        .or_insert_with(|| Value::String("127.0.0.1:3000".to_owned()));
    let now = time::OffsetDateTime::now_utc();
    let (body, encoded) = match std::str::from_utf8(&call.body) {
        Ok(_) if call.body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(STANDARD.encode(&call.body)), true),
    };
    let route_key = matched.target.route.key();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": call.path,
        "rawQueryString": call.query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": call.method,
                "path": call.path,
                "protocol": "HTTP/1.1",
                "sourceIp": call.source_ip,
                "userAgent": headers.get("user-agent").and_then(Value::as_str).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format(&time::format_description::well_known::Rfc2822).unwrap_or_default(),
            "timeEpoch": now.unix_timestamp() * 1000,
        },
        "isBase64Encoded": encoded,
    });
    if !call.query.is_empty() {
        event["queryStringParameters"] = Value::Object(decode_query(&call.query));
    }
    if !matched.path_parameters.is_empty() {
        event["pathParameters"] = json!(matched.path_parameters);
    }
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

/// The request a function handler receives for `event` (the same parsing the runtime does).
pub fn to_request(event: &Value) -> Result<lambda_http::Request, serde_json::Error> {
    lambda_http::request::from_str(&event.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Router;
    use crate::template::Template;
    use lambda_http::RequestExt;

    #[test]
    fn encoding_round_trips() {
        let text = "events[]=payment_intent.succeeded&x y";
        assert_eq!(percent_decode(&percent_encode(text)), text);
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn an_event_carries_route_parameters_query_and_source_ip() {
        let router = Router::from_template(&Template::load(&Template::default_path()).unwrap());
        let call = HttpCall::new("PUT", "/api/v1/users/addresses/addr_1?x=1&x=2&q=a%20b")
            .from_ip("10.1.2.3")
            .header("Authorization", "Bearer t");
        let matched = router.find(&call.method, &call.path).unwrap();
        let request = to_request(&event(&call, &matched, "req-1")).unwrap();
        assert_eq!(request.path_parameters().first("addressId"), Some("addr_1"));
        assert_eq!(request.query_string_parameters().all("x"), Some(vec!["1", "2"]));
        assert_eq!(request.headers()["authorization"], "Bearer t");
        let Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) = request.request_context_ref() else {
            panic!()
        };
        assert_eq!(ctx.http.source_ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(
            ctx.route_key.as_deref(),
            Some("PUT /api/v1/users/addresses/{addressId}")
        );
    }
}
