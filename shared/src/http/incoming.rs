use http::{HeaderMap, Method};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;

use super::{ApiError, ApiResult, ErrorCode, Reply};

#[derive(serde::Serialize)]
struct Success<'a> {
    success: bool,
    data: &'a serde_json::value::RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// What a handler needs from an API Gateway (HTTP API, payload 2.0) request.
#[derive(Debug)]
pub struct Incoming {
    pub method: Method,
    /// `"POST /api/v1/users/register"`: the template route that matched.
    pub route_key: String,
    /// The gateway named the route (an event without one, such as a
    /// hand-written test event, gets `METHOD path` as its route key).
    pub gateway_route: bool,
    pub path: String,
    pub request_id: String,
    pub source_ip: String,
    pub headers: HeaderMap,
    query: lambda_http::aws_lambda_events::query_map::QueryMap,
    path_params: lambda_http::aws_lambda_events::query_map::QueryMap,
    body: Body,
}

impl Incoming {
    pub fn new(request: Request) -> Self {
        let query = request.query_string_parameters();
        let path_params = request.path_parameters();
        let lambda_request_id = request.lambda_context_ref().map(|ctx| ctx.request_id.clone());
        let (route_key, gateway_request_id, source_ip) = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => (
                ctx.route_key.clone(),
                ctx.request_id.clone(),
                ctx.http.source_ip.clone(),
            ),
            _ => (None, None, None),
        };
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_owned();
        let request_id = gateway_request_id
            .or(lambda_request_id)
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| ulid::Ulid::new().to_string());
        Self {
            gateway_route: route_key.is_some(),
            route_key: route_key.unwrap_or_else(|| format!("{} {}", parts.method, path)),
            method: parts.method,
            path,
            request_id,
            source_ip: source_ip.unwrap_or_else(|| "unknown".to_owned()),
            headers: parts.headers,
            query,
            path_params,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `Idempotency-Key` header: 1 to 100 printable characters, when sent.
    pub fn idempotency_key(&self) -> Result<Option<String>, ApiError> {
        match self.header("idempotency-key").map(str::trim) {
            None => Ok(None),
            Some(key) if (1..=100).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic()) => {
                Ok(Some(key.to_owned()))
            }
            Some(_) => Err(ApiError::invalid_field(
                "Idempotency-Key",
                "must be 1 to 100 printable characters",
            )),
        }
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.first(name)
    }

    /// A path parameter of the matched route; a missing one is a routing bug, reported as 404.
    pub fn path_param(&self, name: &str) -> Result<&str, ApiError> {
        self.path_params
            .first(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| ApiError::not_found("Resource"))
    }

    pub fn body(&self) -> &[u8] {
        self.body.as_ref()
    }

    /// An error for a route this function does not serve.
    pub fn unknown_route(&self) -> ApiError {
        ApiError::new(
            ErrorCode::NotFound,
            format!("No route for {} {}", self.method, self.path),
        )
    }

    /// Turns a handler result into the response envelope, logging any server-side cause.
    pub fn respond(&self, result: ApiResult) -> Response<Body> {
        let mut content_type = "application/json";
        let (status, mut headers, payload) = match result {
            Ok(Reply {
                status,
                headers,
                raw: Some((raw_type, body)),
                ..
            }) => {
                content_type = raw_type;
                (status, headers, body)
            }
            Ok(mut reply) => {
                let envelope = Success {
                    success: true,
                    data: &reply.data,
                    message: reply.message.as_deref(),
                };
                let text = serde_json::to_string(&envelope).unwrap_or_default();
                if self.method == http::Method::GET && reply.status == http::StatusCode::OK {
                    let cacheable = reply.headers.contains_key(http::header::CACHE_CONTROL);
                    if cacheable
                        && !reply.headers.contains_key(http::header::ETAG)
                        && let Ok(tag) = http::HeaderValue::from_str(&content_etag(text.as_bytes()))
                    {
                        reply.headers.insert(http::header::ETAG, tag);
                    }
                    if self.etag_matches(reply.headers.get(http::header::ETAG)) {
                        return self.not_modified(reply.headers);
                    }
                }
                (reply.status, reply.headers, text)
            }
            Err(error) => {
                let (status, headers, envelope) = self.error_parts(error);
                (status, headers, envelope.to_string())
            }
        };
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
        if let Ok(value) = http::HeaderValue::from_str(&self.request_id) {
            headers.insert("x-request-id", value);
        }
        let mut response = Response::new(Body::Text(payload));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }

    /// True when `If-None-Match` names `etag` (or `*`); weak and strong tags compare equal.
    fn etag_matches(&self, etag: Option<&http::HeaderValue>) -> bool {
        let (Some(wanted), Some(etag)) = (self.header("if-none-match"), etag.and_then(|v| v.to_str().ok())) else {
            return false;
        };
        let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
        wanted
            .split(',')
            .any(|candidate| candidate.trim() == "*" || bare(candidate) == bare(etag))
    }

    fn not_modified(&self, headers: HeaderMap) -> Response<Body> {
        let mut response = Response::new(Body::Empty);
        *response.status_mut() = http::StatusCode::NOT_MODIFIED;
        *response.headers_mut() = headers;
        if let Ok(value) = http::HeaderValue::from_str(&self.request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        response
    }

    fn error_parts(&self, error: ApiError) -> (http::StatusCode, HeaderMap, serde_json::Value) {
        let status = error.status();
        if status.is_server_error() {
            let chain = error
                .cause
                .as_deref()
                .map(|cause| error_chain(cause))
                .unwrap_or_default();
            tracing::error!(requestId = %self.request_id, path = %self.path, code = error.code.as_str(), cause = %chain, "request failed");
        } else {
            tracing::info!(requestId = %self.request_id, path = %self.path, code = error.code.as_str(), status = status.as_u16(), "request rejected");
        }
        let mut headers = HeaderMap::new();
        if let Some(seconds) = error.retry_after {
            headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        let mut body = json!({
            "code": error.code.as_str(),
            "message": error.message,
            "timestamp": crate::domain::Timestamp::now().to_string(),
            "path": self.path,
            "requestId": self.request_id,
        });
        if let Some(details) = error.details {
            body["details"] = details;
        }
        (status, headers, json!({ "success": false, "error": body }))
    }
}

/// A weak ETag over a response body.
fn content_etag(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// `outer: inner: innermost`, for logs.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
