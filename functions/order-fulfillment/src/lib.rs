//! `order-fulfillment`: paid orders have their held stock sold, their purchases
//! recorded (reviews become verified) and move to processing; money an order
//! cannot use (it was cancelled) is refunded. Idempotent, partial batch
//! failures reported, unreadable messages end in the DLQ.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::consumer::{self, RecordError};
use shop::lambda::{BoxFuture, Handler};
use shop::messages::{FulfillmentAction, FulfillmentMessage};
use shop::payments::Payments;

#[derive(Debug)]
pub struct App {
    payments: Payments,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            payments: Payments::from_config(config, clients),
        }
    }

    async fn fulfil(&self, message: FulfillmentMessage) -> Result<(), RecordError> {
        match message.action {
            FulfillmentAction::Fulfill { order_id } => Box::pin(self.payments.orders.fulfill(order_id))
                .await
                .map(|_| ())
                .map_err(RecordError::failed),
            FulfillmentAction::Refund {
                order_id,
                reason,
                amount,
            } => Box::pin(self.payments.refund_unfulfillable(order_id, &reason, amount))
                .await
                .map(|_| ())
                .map_err(|e| RecordError::failed(e.to_string())),
        }
    }
}

impl Handler<SqsEvent> for App {
    type Output = SqsBatchResponse;

    fn handle(&self, event: LambdaEvent<SqsEvent>) -> BoxFuture<'_, Result<SqsBatchResponse, Error>> {
        Box::pin(consumer::messages(event.payload, "fulfillment message", |message| {
            self.fulfil(message)
        }))
    }
}
