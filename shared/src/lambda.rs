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

use crate::Config;
use crate::aws::AwsClients;
use crate::http::{ApiResult, Incoming};

/// An HTTP function: routes one parsed request to its handler.
pub trait Api: Send + Sync {
    /// Boxed: a router's future holds every handler's state, too large for a worker's stack.
    fn route<'a>(&'a self, request: &'a Incoming) -> BoxFuture<'a, ApiResult>;
}

/// A function triggered by events of type `E` (a queue batch, a stream batch, a schedule).
pub trait Handler<E>: Send + Sync {
    type Output: Serialize;

    /// Boxed: consumers' futures are deep, and a worker thread's stack is small.
    fn handle(&self, event: LambdaEvent<E>) -> BoxFuture<'_, Result<Self::Output, Error>>;
}

/// One API Gateway request: parsed, routed with its request id as the
/// current one (records it leaves name it), and answered in the envelope.
pub async fn handle_http<A: Api + ?Sized>(app: &A, request: Request) -> Result<Response<Body>, Error> {
    let incoming = Incoming::new(request);
    let result = crate::logging::with_request_id(incoming.request_id.clone(), app.route(&incoming)).await;
    Ok(incoming.respond(result))
}

/// The function's state, built from the environment at cold start.
async fn cold_start<T>(build: impl FnOnce(&Config, &AwsClients) -> T) -> Result<T, Error> {
    crate::logging::init();
    let config = Config::from_env()?;
    let clients = AwsClients::new(&config.endpoints).await;
    Ok(build(&config, &clients))
}

/// The `main` of an HTTP function.
pub async fn run_http<A: Api>(build: impl FnOnce(&Config, &AwsClients) -> A) -> Result<(), Error> {
    let app = cold_start(build).await?;
    lambda_http::run(service_fn(|request| handle_http(&app, request))).await
}

/// The `main` of an event function.
pub async fn run_events<E, H>(build: impl FnOnce(&Config, &AwsClients) -> H) -> Result<(), Error>
where
    E: DeserializeOwned + Send + 'static,
    H: Handler<E>,
{
    let app = cold_start(build).await?;
    lambda_runtime::run(service_fn(|event| app.handle(event))).await
}
