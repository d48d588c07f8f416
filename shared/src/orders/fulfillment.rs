//! A paid order's next step: its held stock is sold, its purchases recorded,
//! and it moves to processing, in one transaction. A redelivered message
//! changes nothing.

use super::Orders;
use super::lifecycle::{Actor, Event};
use super::reservation::{Handled, handled};
use crate::domain::OrderId;
use crate::store::StoreError;

impl Orders {
    #[tracing::instrument(skip_all, fields(orderId = %order_id))]
    pub async fn fulfill(&self, order_id: OrderId) -> Result<Handled, StoreError> {
        let commit = |_: &_| Event::Commit {
            by: Actor::System,
            note: None,
        };
        let outcome = handled(self.apply(order_id, commit).await)?;
        if outcome == Handled::Done {
            tracing::info!("order fulfilled: processing");
        }
        Ok(outcome)
    }
}
