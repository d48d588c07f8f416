//! Baseline for the event functions' cold start (queues, streams, schedules):
//! `lambda_runtime` echoing its event, so the difference to a real function is
//! what that function adds on top of the runtime.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

async fn echo(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(echo)).await
}
