//! The asynchronous side of the stack: a poller for every SQS trigger and a
//! scheduler for every schedule of the template, calling the functions in-process.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use shop::aws::AwsClients;

use crate::provision::{BoxError, Stack};
use crate::queues::{QueuePoller, SqsHandler, queue_arn};
use crate::schedules::{JobHandler, Schedule, Scheduler};
use crate::server::Gateway;
use crate::streams::{StreamHandler, StreamPoller};
use crate::template::StreamTrigger;

/// A signal every worker listens to; `stop` ends them all.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    pub fn new() -> (watch::Sender<bool>, Self) {
        let (sender, receiver) = watch::channel(false);
        (sender, Self(receiver))
    }

    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

/// Starts a poller per SQS trigger, a reader of the table's stream per stream
/// trigger, and one scheduler for every schedule.
pub async fn start(
    gateway: Arc<Gateway>,
    stack: &Stack,
    clients: &AwsClients,
    shutdown: Shutdown,
) -> Result<Vec<tokio::task::JoinHandle<()>>, BoxError> {
    let sqs = crate::queues::long_polling(clients.sqs());
    let streams = crate::provision::streams_client(&stack.endpoints).await;
    let mut tasks = Vec::new();
    let mut scheduler = Scheduler::new();
    for function in &stack.template.functions {
        for trigger in &function.streams {
            let poller = stream_poller(&gateway, stack, clients, &streams, &function.binary, trigger)
                // What was written while the stack was down is the sweeper's to re-drive.
                .starting_at(aws_sdk_dynamodbstreams::types::ShardIteratorType::Latest);
            tasks.push(tokio::spawn(poller.run(shutdown.clone().wait())));
            tracing::info!(function = %function.binary, table = %stack.table_name, "reading the table's stream");
        }
        for trigger in &function.queues {
            let url = stack
                .queue_url(&trigger.queue)
                .ok_or_else(|| format!("{} listens to unknown queue {}", function.binary, trigger.queue))?;
            let arn = queue_arn(&sqs, url).await?;
            let binary = function.binary.clone();
            let gateway = gateway.clone();
            let handler: SqsHandler = Arc::new(move |event| {
                let gateway = gateway.clone();
                let binary = binary.clone();
                Box::pin(async move { gateway.functions.call_sqs(&binary, event).await })
            });
            // Failed messages come back after a second here, not the queue's visibility timeout.
            let poller = QueuePoller::new(sqs.clone(), url.to_owned(), arn, trigger.batch_size, handler)
                .retry_after(Duration::from_secs(1));
            tasks.push(tokio::spawn(poller.run(shutdown.clone().wait())));
            tracing::info!(function = %function.binary, queue = %trigger.queue, "polling");
        }
        for schedule in &function.schedules {
            let binary = function.binary.clone();
            let gateway = gateway.clone();
            let handler: JobHandler = Arc::new(move |event| {
                let gateway = gateway.clone();
                let binary = binary.clone();
                Box::pin(async move { gateway.functions.call_job(&binary, event).await.map(|_| ()) })
            });
            let parsed = Schedule::parse(&schedule.expression).map_err(|e| format!("{}: {e}", function.binary))?;
            scheduler.add(format!("{}-{}", function.binary, schedule.name), parsed, handler);
            tracing::info!(function = %function.binary, schedule = %schedule.expression, "scheduled");
        }
    }
    tasks.push(tokio::spawn(scheduler.run(shutdown.wait())));
    Ok(tasks)
}

/// A reader of the table's stream that hands its batches to function `binary`.
pub fn stream_poller(
    gateway: &Arc<Gateway>,
    stack: &Stack,
    clients: &AwsClients,
    streams: &aws_sdk_dynamodbstreams::Client,
    binary: &str,
    trigger: &StreamTrigger,
) -> StreamPoller {
    let on_failure = trigger
        .on_failure
        .as_ref()
        .and_then(|queue| stack.queue_url(queue))
        .map(str::to_owned);
    let gateway = gateway.clone();
    let binary = binary.to_owned();
    let handler: StreamHandler = Arc::new(move |event| {
        let gateway = gateway.clone();
        let binary = binary.clone();
        Box::pin(async move { gateway.functions.call_stream(&binary, event).await })
    });
    StreamPoller::new(
        (clients.dynamodb(), streams, clients.sqs()),
        stack.table_name.clone(),
        trigger.clone(),
        on_failure,
        handler,
    )
}
