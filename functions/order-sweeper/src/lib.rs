//! `order-sweeper`: every minute, cancels unpaid reservations that expired
//! (their stock returned exactly once) and sends again the outbox messages
//! whose delivery from the table's stream failed for good. It reads both
//! through an index: no Scan.

use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::domain::Timestamp;
use shop::lambda::{BoxFuture, Handler};
use shop::orders::{Orders, SweepReport};

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

/// The scheduled event's content is not needed: the sweep runs as of now.
impl Handler<serde_json::Value> for App {
    type Output = SweepReport;

    fn handle(&self, _event: LambdaEvent<serde_json::Value>) -> BoxFuture<'_, Result<SweepReport, Error>> {
        Box::pin(async move { Ok(self.orders.sweep(Timestamp::now()).await?) })
    }
}
