//! What every function shares around its own code: the cold start (logging,
//! configuration, clients, the function's state, built once) and the
//! per-invocation glue. An HTTP function implements [`Api`] (its router); an
//! event function implements [`Handler`] for its event type. `main` is then
//! one call to [`run_http`] or [`run_events`], and the local runner calls the
//! same [`handle_http`] and [`Handler::handle`].

pub use futures::future::BoxFuture;
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{Body, Error, Request, Response, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;

use tracing::Instrument;

use crate::Config;
use crate::aws::AwsClients;
use crate::http::{ApiResult, Incoming};
use crate::metrics::{self, Metric};

/// An HTTP function: routes one parsed request to its handler.
pub trait Api: Send + Sync {
    /// Boxed: a router's future holds every handler's state, too large for a worker's stack.
    fn route<'a>(&'a self, request: &'a Incoming) -> BoxFuture<'a, ApiResult>;

    /// Once, at cold start: fetches the secrets the function needs (and so
    /// opens its connection to Secrets Manager), so the first request does
    /// not pay for them. Nothing by default.
    fn warm_up(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A function triggered by events of type `E` (a queue batch, a stream batch, a schedule).
pub trait Handler<E>: Send + Sync {
    type Output: Serialize;

    /// Boxed: consumers' futures are deep, and a worker thread's stack is small.
    fn handle(&self, event: LambdaEvent<E>) -> BoxFuture<'_, Result<Self::Output, Error>>;

    /// Once, at cold start, as [`Api::warm_up`]. Nothing by default.
    fn warm_up(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// One API Gateway request: parsed, routed with its request id as the
/// current one (records it leaves name it), and answered in the envelope.
///
/// Every line it logs carries the gateway's request id, the route and, on
/// an order's routes, the order id; one metrics line per request gives its
/// route's count, latency, DynamoDB round trips and server errors.
pub async fn handle_http<A: Api + ?Sized>(app: &A, request: Request) -> Result<Response<Body>, Error> {
    let incoming = Incoming::new(request);
    let span = tracing::info_span!(
        "request",
        requestId = %incoming.request_id,
        route = %incoming.route_key,
        orderId = incoming.path_param("orderId").ok(),
    );
    let started = std::time::Instant::now();
    let routed = crate::logging::with_request_id(incoming.request_id.clone(), async {
        let (result, round_trips) = metrics::counting_round_trips(app.route(&incoming)).await;
        let response = incoming.respond(result);
        let failed = response.status().is_server_error();
        metrics::count(Metric::Requests)
            .and(Metric::ServerErrors, f64::from(u8::from(failed)))
            .and(Metric::Latency, started.elapsed().as_secs_f64() * 1000.0)
            .and(Metric::DynamoDbRoundTrips, f64::from(round_trips))
            // A path is unbounded (ids): only a template route is a dimension.
            .dimension(
                "route",
                if incoming.gateway_route {
                    incoming.route_key.as_str()
                } else {
                    "unrouted"
                },
            )
            .emit();
        response
    });
    Ok(routed.instrument(span).await)
}

/// The function's state, built from the environment at cold start.
async fn cold_start<T>(build: impl FnOnce(&Config, &AwsClients) -> T) -> Result<(T, Config, AwsClients), Error> {
    crate::logging::init();
    metrics::count(Metric::ColdStarts).emit();
    let config = Config::from_env()?;
    let clients = AwsClients::new(&config.endpoints).await;
    let app = build(&config, &clients);
    Ok((app, config, clients))
}

/// Longest the warm-up may hold up the cold start.
const WARM_UP_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Lambda's init phase runs at full CPU and is not billed by the request: the
/// TLS handshakes and secret fetches the first request would otherwise pay
/// happen here. The table's connection is opened by a GetItem of a key that
/// holds nothing (`WARMUP`); the function's own warm-up fetches its secrets.
/// A failure only means the first request pays after all: it is logged.
pub async fn warm_up(config: &Config, clients: &AwsClients, own: BoxFuture<'_, ()>) {
    if !config.warm_up {
        return;
    }
    let started = std::time::Instant::now();
    let table = async {
        let key = crate::store::Key::new(crate::store::keys::WARM_UP, crate::store::keys::WARM_UP);
        let read = clients
            .dynamodb()
            .get_item()
            .table_name(&config.table_name)
            .set_key(Some(key.primary()))
            .send()
            .await;
        if let Err(err) = read {
            tracing::warn!(error = %crate::http::error_chain(&err), "warm-up: the table did not answer");
        }
    };
    if tokio::time::timeout(WARM_UP_LIMIT, futures::future::join(table, own))
        .await
        .is_err()
    {
        tracing::warn!("warm-up: gave up after {WARM_UP_LIMIT:?}");
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "warmed up");
}

/// The `main` of an HTTP function.
pub async fn run_http<A: Api>(build: impl FnOnce(&Config, &AwsClients) -> A) -> Result<(), Error> {
    let (app, config, clients) = cold_start(build).await?;
    warm_up(&config, &clients, app.warm_up()).await;
    lambda_http::run(service_fn(|request| handle_http(&app, request))).await
}

/// The `main` of an event function.
pub async fn run_events<E, H>(build: impl FnOnce(&Config, &AwsClients) -> H) -> Result<(), Error>
where
    E: DeserializeOwned + Send + 'static,
    H: Handler<E>,
{
    let (app, config, clients) = cold_start(build).await?;
    warm_up(&config, &clients, app.warm_up()).await;
    lambda_runtime::run(service_fn(|event| app.handle(event))).await
}
