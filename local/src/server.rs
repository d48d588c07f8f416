//! Serves every HTTP route of the template on one local port, as API Gateway would.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::functions::Functions;
use crate::gateway::{self, HttpCall};
use crate::routes::Router;

/// The largest event Lambda accepts from API Gateway (a synchronous invocation's 6 MB).
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;
/// The HTTP API's limit on the request line and the header values together.
pub const MAX_REQUEST_LINE_AND_HEADERS: usize = 10_240;

#[derive(Debug)]
pub struct Gateway {
    pub functions: Functions,
    pub router: Router,
    pub cors: Cors,
}

/// The template's CORS rules with its origins resolved.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    pub origins: Vec<String>,
    pub headers: Vec<String>,
    pub methods: Vec<String>,
    pub expose: Vec<String>,
    pub max_age: Option<u64>,
}

impl Cors {
    fn from_stack(stack: &crate::Stack) -> Result<Self, crate::provision::BoxError> {
        let template = &stack.template.cors;
        let origins = match &template.allow_origins {
            Some(origins) => stack.resolve(origins)?,
            None => String::new(),
        };
        Ok(Self {
            origins: origins
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
            headers: template.allow_headers.clone(),
            methods: template.allow_methods.clone(),
            expose: template.expose_headers.clone(),
            max_age: template.max_age,
        })
    }

    /// What `Access-Control-Allow-Origin` says to `origin`: nothing unless it is allowed.
    fn allow(&self, origin: &str) -> Option<HeaderValue> {
        if self.origins.iter().any(|o| o == "*") {
            return Some(HeaderValue::from_static("*"));
        }
        self.origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
            .then(|| HeaderValue::from_str(origin).ok())
            .flatten()
    }

    fn list(items: &[String]) -> Option<HeaderValue> {
        HeaderValue::from_str(&items.join(", "))
            .ok()
            .filter(|_| !items.is_empty())
    }
}

impl Gateway {
    /// Every function of `stack`'s template behind its routes.
    pub fn new(stack: &crate::Stack, clients: &shop::aws::AwsClients) -> Result<Self, crate::provision::BoxError> {
        Ok(Self {
            functions: Functions::new(stack, clients)?,
            router: Router::from_template(&stack.template),
            cors: Cors::from_stack(stack)?,
        })
    }

    /// Answers `call` as API Gateway would: a CORS preflight itself, a route
    /// by its function, 404 when no route matches and 413 for a request line
    /// and headers over 10,240 bytes or an event larger than Lambda accepts;
    /// CORS headers only for an allowed `Origin`.
    pub async fn dispatch(&self, call: HttpCall) -> Response<Full<Bytes>> {
        let origin = header(&call, "origin").map(str::to_owned);
        let preflight = call.method == Method::OPTIONS.as_str()
            && origin.is_some()
            && header(&call, "access-control-request-method").is_some()
            && self.router.knows_path(&call.path);
        let mut response = if preflight {
            self.preflight(origin.as_deref().unwrap_or_default())
        } else {
            self.invoke(call).await
        };
        if let Some(allowed) = origin.as_deref().and_then(|o| self.cors.allow(o)) {
            let headers = response.headers_mut();
            headers.insert("access-control-allow-origin", allowed);
            if let Some(expose) = Cors::list(&self.cors.expose) {
                headers.insert("access-control-expose-headers", expose);
            }
        }
        response
    }

    async fn invoke(&self, call: HttpCall) -> Response<Full<Bytes>> {
        let request_line = call.method.len() + call.path.len() + call.query.len() + " ? HTTP/1.1".len();
        let header_values: usize = call.headers.iter().map(|(_, value)| value.len()).sum();
        if request_line + header_values > MAX_REQUEST_LINE_AND_HEADERS {
            return too_large();
        }
        let request_id = ulid::Ulid::new().to_string();
        let Some(matched) = self.router.find(&call.method, &call.path) else {
            return plain(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#);
        };
        let event = gateway::event(&call, &matched, &request_id);
        if serde_json::to_vec(&event).map_or(usize::MAX, |bytes| bytes.len()) > MAX_EVENT_BYTES {
            return too_large();
        }
        let request = match gateway::to_request(&event) {
            Ok(request) => request,
            Err(err) => {
                return plain(StatusCode::BAD_REQUEST, &format!(r#"{{"message":"{err}"}}"#));
            }
        };
        // The span the Lambda runtime opens for each invocation, so every log line carries the request id.
        let span =
            tracing::info_span!("Lambda runtime invoke", requestId = %request_id, function = %matched.target.function);
        let invocation = self
            .functions
            .call_http(&matched.target.function, request)
            .instrument(span);
        match invocation.await {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                Response::from_parts(parts, Full::new(Bytes::copy_from_slice(body.as_ref())))
            }
            Err(err) => {
                tracing::error!(requestId = %request_id, error = %err, "function failed");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    r#"{"message":"Internal Server Error"}"#,
                )
            }
        }
    }

    async fn serve_one(
        self: Arc<Self>,
        peer: SocketAddr,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        if let Some(page) = docs::page(request.uri().path()) {
            return Ok(page);
        }
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        let started = std::time::Instant::now();
        let mut call = HttpCall::new(parts.method.as_str(), &parts.uri.to_string())
            .from_ip(&peer.ip().to_string())
            .body(body.to_vec());
        call.path = parts.uri.path().to_owned();
        call.query = parts.uri.query().unwrap_or_default().to_owned();
        for (name, value) in &parts.headers {
            if let Ok(value) = value.to_str() {
                call.headers.push((name.as_str().to_owned(), value.to_owned()));
            }
        }
        let response = self.dispatch(call).await;
        tracing::info!(method = %parts.method, path = %parts.uri.path(), status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
        Ok(response)
    }

    /// API Gateway's own answer to a preflight: the rules for an allowed
    /// origin, a bare 204 for any other.
    fn preflight(&self, origin: &str) -> Response<Full<Bytes>> {
        let mut response = plain(StatusCode::NO_CONTENT, "");
        if self.cors.allow(origin).is_none() {
            return response;
        }
        let headers = response.headers_mut();
        if let Some(methods) = Cors::list(&self.cors.methods) {
            headers.insert("access-control-allow-methods", methods);
        }
        if let Some(allowed) = Cors::list(&self.cors.headers) {
            headers.insert("access-control-allow-headers", allowed);
        }
        if let Some(max_age) = self.cors.max_age {
            headers.insert("access-control-max-age", HeaderValue::from(max_age));
        }
        response
    }
}

fn too_large() -> Response<Full<Bytes>> {
    plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        r#"{"message":"Request Entity Too Large"}"#,
    )
}

fn header<'a>(call: &'a HttpCall, name: &str) -> Option<&'a str> {
    call.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn plain(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::copy_from_slice(body.as_bytes())));
    *response.status_mut() = status;
    if !body.is_empty() {
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    response
}

/// Serves until `shutdown` completes.
pub async fn serve(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                let gateway = gateway.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| gateway.clone().serve_one(peer, request));
                    if let Err(err) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                        tracing::debug!(error = %err, "connection closed with an error");
                    }
                });
            }
        }
    }
}

/// The API documentation at `/docs`: Swagger UI (installed by
/// `scripts/stack.sh install`) over the repository's `openapi.yaml`, served
/// beside the API by `shop-local serve` only (the deployed API has no such route).
mod docs {
    use std::path::{Path, PathBuf};

    use http::{Response, StatusCode};
    use http_body_util::Full;
    use hyper::body::Bytes;

    const INDEX: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Shop API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "/docs/openapi.yaml", dom_id: "#swagger-ui", deepLinking: true });
  </script>
</body>
</html>
"##;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The answer for a documentation path, `None` for any other.
    pub fn page(path: &str) -> Option<Response<Full<Bytes>>> {
        let rest = path.strip_prefix("/docs")?;
        let (body, kind) = match rest {
            "" | "/" | "/index.html" => (INDEX.as_bytes().to_vec(), "text/html; charset=utf-8"),
            "/openapi.yaml" => (std::fs::read(root().join("openapi.yaml")).ok()?, "application/yaml"),
            "/swagger-ui.css" | "/swagger-ui-bundle.js" => {
                let file = root().join(".local/npm/node_modules/swagger-ui-dist").join(&rest[1..]);
                match std::fs::read(file) {
                    Ok(bytes) => (
                        bytes,
                        if rest.ends_with(".css") {
                            "text/css"
                        } else {
                            "text/javascript"
                        },
                    ),
                    Err(_) => (
                        b"Swagger UI is not installed: run scripts/stack.sh install".to_vec(),
                        "text/plain",
                    ),
                }
            }
            _ => return None,
        };
        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", kind)
            .body(Full::new(Bytes::from(body)))
            .ok()
    }

    #[cfg(test)]
    mod tests {
        use http_body_util::BodyExt;

        #[tokio::test]
        async fn the_page_and_the_document_are_served_and_nothing_else() {
            let index = super::page("/docs").unwrap();
            assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
            let document = super::page("/docs/openapi.yaml").unwrap();
            let text = document.into_body().collect().await.unwrap().to_bytes();
            assert!(text.starts_with(b"openapi: 3"), "{:?}", &text[..20]);
            assert!(super::page("/docs/../Cargo.toml").is_none());
            assert!(super::page("/api/v1/products").is_none());
            assert!(super::page("/docsx").is_none());
        }
    }
}
