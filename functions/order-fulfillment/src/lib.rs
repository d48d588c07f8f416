//! `order-fulfillment`: paid orders have their held stock sold, their purchases
//! recorded (reviews become verified) and move to processing; money taken for
//! an order that was cancelled first is refunded. Idempotent, partial batch
//! failures reported, unreadable messages end in the DLQ.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::consumer::{self, RecordError};
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
}

pub async fn handle(app: &App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let batch = consumer::process(event.payload, |record| async move {
        let message: FulfillmentMessage = consumer::parse(&record, "fulfillment message")?;
        let failed = |err: Box<dyn std::error::Error + Send + Sync>| RecordError::Failed(err);
        match &message.action {
            FulfillmentAction::Fulfill { order_id } => Box::pin(app.payments.orders.fulfill(*order_id))
                .await
                .map(|_| ())
                .map_err(|e| failed(Box::new(e))),
            FulfillmentAction::Refund { order_id, reason } => {
                Box::pin(app.payments.refund_unfulfillable(*order_id, reason))
                    .await
                    .map(|_| ())
                    .map_err(|e| failed(e.to_string().into()))
            }
        }
    });
    // Boxed: the handler's futures are deep, and a worker thread's stack is small.
    Ok(Box::pin(batch).await)
}
