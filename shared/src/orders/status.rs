//! Reading orders, customer cancellation and admin status changes.

use super::lifecycle::{Actor, Event};
use super::views::{OrderSummaryView, OrderView};
use super::{ApplyError, Orders, not_found};
use crate::auth::Caller;
use crate::domain::{OrderId, OrderStatus, Timestamp};
use crate::http::form_value::{bounded_text, text};
use crate::http::{ApiError, ErrorCode, FieldIssue, Form};
use crate::pagination::{PageRequest, Pagination, page_of};
use crate::store::orders::{OrderRecord, Tracking};

/// An admin's status change: SHIPPED needs a carrier and tracking number.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: OrderStatus,
    pub tracking: Option<Tracking>,
    pub note: Option<String>,
}

impl StatusChange {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut form = Form::from_body(body)?;
        form.only(&["status", "carrier", "trackingNumber", "trackingUrl", "note"]);
        let status = form.required("status", |v| OrderStatus::parse(&text(v)?).map_err(str::to_owned));
        let carrier = form.optional("carrier", bounded_text(50));
        let number = form.optional("trackingNumber", bounded_text(100));
        let url = form.optional("trackingUrl", super::super::catalog::categories::url);
        let note = form.optional("note", bounded_text(500));
        form.finish()?;
        let (Some(status), Some(carrier), Some(number), Some(url), Some(note)) = (status, carrier, number, url, note)
        else {
            return Err(ApiError::invalid_field("body", "is incomplete"));
        };
        let tracking = match (status, carrier, number) {
            (OrderStatus::Shipped, Some(carrier), Some(tracking_number)) => Some(Tracking {
                carrier,
                tracking_number,
                url,
            }),
            (OrderStatus::Shipped, carrier, number) => {
                let missing = [("carrier", carrier.is_none()), ("trackingNumber", number.is_none())]
                    .into_iter()
                    .filter(|(_, missing)| *missing)
                    .map(|(field, _)| FieldIssue::new(field, "is required to ship an order"))
                    .collect();
                return Err(ApiError::validation(Vec::new(), missing));
            }
            _ => None,
        };
        Ok(Self { status, tracking, note })
    }
}

impl Orders {
    /// The caller's order, or any order for an admin; another customer's is 404.
    pub async fn order_for(&self, caller: &Caller, order: OrderId) -> Result<OrderRecord, ApiError> {
        let order = self.store.order(order).await?.ok_or_else(not_found)?;
        if order.user_id != caller.user_id && !caller.is_admin() {
            return Err(not_found());
        }
        Ok(order)
    }

    /// The caller's orders, newest first, optionally of one status.
    pub async fn customer_orders(
        &self,
        caller: &Caller,
        status: Option<OrderStatus>,
        page: PageRequest,
    ) -> Result<(Vec<OrderSummaryView>, Pagination), ApiError> {
        let orders = self.store.customer_orders(caller.user_id).await?;
        let views = orders
            .iter()
            .filter(|o| status.is_none_or(|s| o.status == s))
            .map(|o| OrderSummaryView::new(o, false))
            .collect();
        Ok(page_of(views, page))
    }

    /// ADMIN: orders of one status created between two instants, newest first.
    pub async fn orders_by_status(
        &self,
        caller: &Caller,
        status: OrderStatus,
        between: (Timestamp, Timestamp),
        page: PageRequest,
    ) -> Result<(Vec<OrderSummaryView>, Pagination), ApiError> {
        caller.require_admin()?;
        let bound = |at: Timestamp, random: u128| {
            let millis = u64::try_from(at.unix().max(0)).unwrap_or(0) * 1000;
            format!("{}_{}", OrderId::PREFIX, ulid::Ulid::from_parts(millis, random))
        };
        let range = (bound(between.0, 0), bound(between.1.plus_seconds(1), 0));
        let (orders, total) = self
            .store
            .orders_by_status(status, range, page.page, page.limit)
            .await?;
        Ok((
            orders.iter().map(|o| OrderSummaryView::new(o, true)).collect(),
            Pagination::new(page, total),
        ))
    }

    /// The customer cancels before shipping: status, stock and coupon in one
    /// transaction; money already taken goes back through the outbox.
    #[tracing::instrument(skip_all, fields(orderId = %order))]
    pub async fn cancel(&self, caller: &Caller, order: OrderId, reason: Option<String>) -> Result<OrderView, ApiError> {
        let record = self.order_for(caller, order).await?;
        let reason = reason.unwrap_or_else(|| "cancelled_by_customer".to_owned());
        let applied = self
            .apply_to(record, |_| Event::Cancel {
                by: Actor::Customer,
                reason: reason.clone(),
            })
            .await
            .map_err(|err| match err {
                ApplyError::Refused { order, .. } => ApiError::new(
                    ErrorCode::InvalidCartOperation,
                    format!("An order that is {} can no longer be cancelled", order.status),
                ),
                other => other.into(),
            })?;
        Ok(OrderView::from(applied.order()))
    }

    /// ADMIN moves an order along its legal path; every step is on the timeline
    /// and goes to the customer.
    #[tracing::instrument(skip_all, fields(orderId = %order))]
    pub async fn change_status(
        &self,
        caller: &Caller,
        order: OrderId,
        change: StatusChange,
    ) -> Result<OrderView, ApiError> {
        caller.require_admin()?;
        let record = self.store.order(order).await?.ok_or_else(not_found)?;
        let illegal = |from: OrderStatus| {
            ApiError::new(
                ErrorCode::InvalidCartOperation,
                format!("An order that is {from} cannot become {}", change.status),
            )
            .with_details(serde_json::json!([{"field": "status", "message": "is not a legal next status"}]))
        };
        let note = change.note.clone();
        let event = match (change.status, &change.tracking) {
            (OrderStatus::Cancelled, _) => Event::Cancel {
                by: Actor::Admin,
                reason: note.unwrap_or_else(|| "cancelled_by_admin".to_owned()),
            },
            (OrderStatus::Confirmed, _) => Event::MarkPaid { note },
            (OrderStatus::Processing, _) => Event::Commit { by: Actor::Admin, note },
            (OrderStatus::Shipped, Some(tracking)) => Event::Ship {
                tracking: tracking.clone(),
                note,
            },
            (OrderStatus::Delivered, _) => Event::Deliver { note },
            _ => return Err(illegal(record.status)),
        };
        let applied = self
            .apply_to(record, |_| event.clone())
            .await
            .map_err(|err| match err {
                ApplyError::Refused { order, .. } => illegal(order.status),
                other => other.into(),
            })?;
        Ok(OrderView::from(applied.order()))
    }
}
