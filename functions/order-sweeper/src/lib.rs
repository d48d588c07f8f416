//! `order-sweeper`: every minute, cancels unpaid reservations that expired
//! (their stock returned exactly once) and re-sends the reservation of orders
//! whose reservation message never arrived. It reads due orders through an
//! index: no Scan.

use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::domain::Timestamp;
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
pub async fn handle(app: &App, _event: LambdaEvent<serde_json::Value>) -> Result<SweepReport, Error> {
    Ok(Box::pin(app.orders.sweep(Timestamp::now())).await?)
}
