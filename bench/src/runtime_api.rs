//! A stand-in for the Lambda Runtime API, enough for one function process.
//!
//! The bench needs to know *when* the runtime asks for work and when it answers,
//! which the real service does not tell and the emulators do not offer: every
//! request is recorded with the [`Instant`] its head arrived, and the events to
//! hand out are fixed up front. Once they are used up, `GET .../next` is held
//! open for good, as Lambda does while no invocation is pending, so the process
//! sits idle in its poll loop until the bench ends it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

const API_PREFIX: &str = "/2018-06-01/runtime";

/// How long a handed-out invocation may run, as told in `Lambda-Runtime-Deadline-Ms`.
const DEADLINE: Duration = Duration::from_secs(60);

/// One request the function made.
#[derive(Debug)]
pub enum Call {
    /// `GET /invocation/next`; the id of the invocation handed out, or `None`
    /// when no event was left and the request is held open.
    Next { handed_out: Option<String> },
    /// `POST /invocation/{id}/response` with the handler's result.
    Response { request_id: String, body: Bytes },
    /// `POST /invocation/{id}/error`: the handler failed.
    InvocationError { request_id: String, body: Bytes },
    /// `POST /init/error`: the function could not start.
    InitError { body: Bytes },
    /// Anything else; the stub answers 404 and the bench treats it as a failure.
    Unknown { method: Method, path: String },
}

/// A [`Call`] with the instant its request head arrived.
#[derive(Debug)]
pub struct Recorded {
    pub call: Call,
    pub at: Instant,
}

struct State {
    events: Mutex<VecDeque<Bytes>>,
    invocations: AtomicU64,
    function_arn: String,
    calls: mpsc::UnboundedSender<Recorded>,
}

/// A running stub, listening on a free loopback port; dropping it stops it and
/// every connection it holds.
pub struct RuntimeApi {
    address: SocketAddr,
    calls: mpsc::UnboundedReceiver<Recorded>,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Starts serving `events`, in order, to a function called `function_name`.
    pub async fn start(function_name: &str, events: Vec<Bytes>) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (sender, calls) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            events: Mutex::new(events.into()),
            invocations: AtomicU64::new(0),
            function_arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{function_name}"),
            calls: sender,
        });
        let server = tokio::spawn(accept_loop(listener, state));
        Ok(Self { address, calls, server })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `host:port`, without a scheme.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// The next request the function made, waiting for it if need be; `None`
    /// only if the stub stopped.
    pub async fn next_call(&mut self) -> Option<Recorded> {
        self.calls.recv().await
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    // Owned here so that aborting this task ends every connection too.
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_connection(stream, state.clone()));
    }
}

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
    // Small answers must not wait for the client's delayed ACK (Nagle).
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| handle(state.clone(), request));
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = path.strip_prefix(API_PREFIX).unwrap_or(&path);
    let segments: Vec<&str> = route.trim_matches('/').split('/').collect();
    let record = |call| {
        let _ = state.calls.send(Recorded { call, at });
    };
    match (&method, segments.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => {
            let event = state.events.lock().map(|mut events| events.pop_front()).ok().flatten();
            let Some(event) = event else {
                record(Call::Next { handed_out: None });
                let never: Infallible = std::future::pending().await;
                match never {}
            };
            let number = state.invocations.fetch_add(1, Ordering::Relaxed) + 1;
            let request_id = format!("bench-{number:04}");
            record(Call::Next {
                handed_out: Some(request_id.clone()),
            });
            Ok(invocation(&state, number, &request_id, event))
        }
        (&Method::POST, ["invocation", id, "response"]) => {
            let request_id = (*id).to_owned();
            let body = read_body(request).await;
            record(Call::Response { request_id, body });
            Ok(accepted())
        }
        (&Method::POST, ["invocation", id, "error"]) => {
            let request_id = (*id).to_owned();
            let body = read_body(request).await;
            record(Call::InvocationError { request_id, body });
            Ok(accepted())
        }
        (&Method::POST, ["init", "error"]) => {
            let body = read_body(request).await;
            record(Call::InitError { body });
            Ok(accepted())
        }
        _ => {
            record(Call::Unknown { method, path });
            Ok(status(StatusCode::NOT_FOUND, "{}"))
        }
    }
}

/// The answer to `GET /invocation/next`: the event and the headers the runtime reads.
fn invocation(state: &State, number: u64, request_id: &str, event: Bytes) -> Response<Full<Bytes>> {
    let deadline = SystemTime::now() + DEADLINE;
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let built = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", request_id)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header("lambda-runtime-invoked-function-arn", &state.function_arn)
        .header(
            "lambda-runtime-trace-id",
            format!("Root=1-00000000-{number:024x};Sampled=0"),
        )
        .body(Full::new(event));
    built.unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR, "{}"))
}

fn accepted() -> Response<Full<Bytes>> {
    status(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn status(code: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = code;
    response
}

async fn read_body(request: Request<Incoming>) -> Bytes {
    match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    }
}
