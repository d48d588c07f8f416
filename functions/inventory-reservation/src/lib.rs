//! `inventory-reservation`: the SQS consumer that reserves, releases and commits
//! the stock of orders. Each action is idempotent (the order's reservation state
//! guards it), failed records are reported so only they come back, and a message
//! that cannot be read ends in the dead-letter queue after its retries.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::consumer::{self, RecordError};
use shop::messages::InventoryMessage;
use shop::orders::Orders;

#[derive(Debug)]
pub struct App {
    orders: Orders,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            orders: Orders::from_config(config, clients),
        }
    }
}

pub async fn handle(app: &App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    // Boxed: the reservation futures are deep, and a worker thread's stack is small.
    let batch = consumer::process(event.payload, |record| async move {
        let message: InventoryMessage = consumer::parse(&record, "inventory message")?;
        let handled = Box::pin(app.orders.handle_inventory(&message)).await;
        handled.map(|_| ()).map_err(|err| RecordError::Failed(Box::new(err)))
    });
    Ok(Box::pin(batch).await)
}
