//! `inventory-reservation`: the SQS consumer that reserves, releases and commits
//! the stock of orders. Each action is an event of the order lifecycle (the
//! order's state makes a duplicate or late one change nothing), failed records
//! are reported so only they come back, and a message that cannot be read ends
//! in the dead-letter queue after its retries.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::consumer::{self, RecordError};
use shop::lambda::{BoxFuture, Handler};
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

impl Handler<SqsEvent> for App {
    type Output = SqsBatchResponse;

    fn handle(&self, event: LambdaEvent<SqsEvent>) -> BoxFuture<'_, Result<SqsBatchResponse, Error>> {
        Box::pin(consumer::messages(
            event.payload,
            "inventory message",
            move |message: InventoryMessage| async move {
                let handled = Box::pin(self.orders.handle_inventory(&message)).await;
                handled.map(|_| ()).map_err(RecordError::failed)
            },
        ))
    }
}
