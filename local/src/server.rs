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

#[derive(Debug)]
pub struct Gateway {
    pub functions: Functions,
    pub router: Router,
    pub allowed_headers: Vec<String>,
}

impl Gateway {
    /// Every function of `stack`'s template behind its routes.
    pub fn new(stack: &crate::Stack, clients: &shop::aws::AwsClients) -> Result<Self, crate::provision::BoxError> {
        Ok(Self {
            functions: Functions::new(stack, clients)?,
            router: Router::from_template(&stack.template),
            allowed_headers: stack.template.allowed_headers.clone(),
        })
    }

    /// Routes `call` to its function and returns the function's response; 404 like
    /// API Gateway when no route matches.
    pub async fn dispatch(&self, call: HttpCall) -> Response<Full<Bytes>> {
        let request_id = ulid::Ulid::new().to_string();
        let Some(matched) = self.router.find(&call.method, &call.path) else {
            return plain(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#);
        };
        let event = gateway::event(&call, &matched, &request_id);
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
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        let started = std::time::Instant::now();
        let mut response = if parts.method == Method::OPTIONS && self.router.knows_path(parts.uri.path()) {
            self.preflight()
        } else {
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
            self.dispatch(call).await
        };
        if let Some(origin) = parts.headers.get("origin") {
            response
                .headers_mut()
                .insert("access-control-allow-origin", origin.clone());
            response.headers_mut().insert(
                "access-control-expose-headers",
                HeaderValue::from_static("ETag, X-Request-Id, Retry-After, X-Cart-Token, Idempotent-Replayed"),
            );
        }
        tracing::info!(method = %parts.method, path = %parts.uri.path(), status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
        Ok(response)
    }

    fn preflight(&self) -> Response<Full<Bytes>> {
        let mut response = plain(StatusCode::NO_CONTENT, "");
        let headers = response.headers_mut();
        headers.insert(
            "access-control-allow-methods",
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
        if let Ok(value) = HeaderValue::from_str(&self.allowed_headers.join(", ")) {
            headers.insert("access-control-allow-headers", value);
        }
        headers.insert("access-control-max-age", HeaderValue::from_static("600"));
        response
    }
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
