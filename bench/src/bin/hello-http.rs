//! Baseline for the HTTP functions' cold start: `lambda_http` with a handler
//! that does nothing but answer, so the difference to a real function is what
//! that function adds (logging, configuration, AWS clients, its router).

use lambda_http::{Body, Error, Request, Response, run, service_fn};

async fn hello(_request: Request) -> Result<Response<Body>, Error> {
    Ok(Response::builder().status(200).body(Body::from("hello"))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(hello)).await
}
