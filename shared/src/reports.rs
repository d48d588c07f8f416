//! The daily report: a day's orders rolled up into one item (read back in one
//! GetItem), and low-stock alerts. The day is read through the status index
//! (order ids are time-ordered ULIDs), never by scanning.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::domain::{Money, OrderId, OrderStatus, PaymentStatus, ProductId, ProductStatus, Timestamp};
use crate::http::ApiError;
use crate::messages::{Notification, Outgoing};
use crate::store::Store;
use crate::store::orders::OrderRecord;
use crate::store::outbox::OutboxRecord;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductSales {
    pub product_id: ProductId,
    pub name: String,
    pub units: u64,
    pub revenue: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyReport {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Orders placed that day, whatever became of them.
    pub orders: u64,
    pub paid_orders: u64,
    /// Order totals of the paid orders (before refunds).
    pub revenue: Money,
    pub average_order_value: Money,
    pub units_sold: u64,
    /// By revenue, at most 10.
    pub top_products: Vec<ProductSales>,
    pub cancellations: u64,
    pub refunds: u64,
    pub refunded_amount: Money,
    pub currency: String,
    pub generated_at: Timestamp,
}

/// The UTC day `date` as a pair of instants (start inclusive, end exclusive).
pub fn day_bounds(date: &str) -> Result<(Timestamp, Timestamp), ApiError> {
    let start = Timestamp::parse(&format!("{}T00:00:00Z", date.trim()))
        .map_err(|_| ApiError::invalid_field("date", "must be a date such as 2026-11-20"))?;
    Ok((start, start.plus_seconds(24 * 3600)))
}

/// The figures of `orders` (all created on `date`).
pub fn summarize(date: &str, orders: &[OrderRecord], currency: &str) -> DailyReport {
    let paid: Vec<&OrderRecord> = orders
        .iter()
        .filter(|o| {
            matches!(
                o.payment_status,
                PaymentStatus::Paid | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
            )
        })
        .collect();
    let revenue: Money = paid.iter().map(|o| o.totals.total).sum();
    let mut products: HashMap<ProductId, ProductSales> = HashMap::new();
    for line in paid.iter().flat_map(|o| &o.lines) {
        let entry = products.entry(line.product_id).or_insert_with(|| ProductSales {
            product_id: line.product_id,
            name: line.name.clone(),
            units: 0,
            revenue: Money::ZERO,
        });
        entry.units += u64::from(line.quantity);
        entry.revenue = entry.revenue + line.subtotal;
    }
    let units_sold = products.values().map(|p| p.units).sum();
    let mut top: Vec<ProductSales> = products.into_values().collect();
    top.sort_by(|a, b| {
        b.revenue
            .cmp(&a.revenue)
            .then_with(|| b.units.cmp(&a.units))
            .then_with(|| a.name.cmp(&b.name))
    });
    top.truncate(10);
    let refunded: Vec<Money> = orders
        .iter()
        .map(OrderRecord::refunded)
        .filter(|a| *a > Money::ZERO)
        .collect();
    DailyReport {
        date: date.to_owned(),
        orders: orders.len() as u64,
        paid_orders: paid.len() as u64,
        revenue,
        average_order_value: Money::from_cents(if paid.is_empty() {
            0
        } else {
            revenue.cents() / paid.len() as i64
        }),
        units_sold,
        top_products: top,
        cancellations: orders.iter().filter(|o| o.status == OrderStatus::Cancelled).count() as u64,
        refunds: refunded.len() as u64,
        refunded_amount: refunded.iter().copied().sum(),
        currency: currency.to_owned(),
        generated_at: Timestamp::now(),
    }
}

/// What a run of the job did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRun {
    pub date: String,
    pub orders: u64,
    pub low_stock_alerts: usize,
}

#[derive(Debug)]
pub struct Reports {
    pub store: Store,
    pub currency: String,
}

impl Reports {
    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self {
            store: Store::from_config(config, clients),
            currency: config.commerce.currency.clone(),
        }
    }

    /// Builds and stores the report of `date`, and alerts on low stock.
    #[tracing::instrument(skip_all, fields(date = %date))]
    pub async fn run(&self, date: &str) -> Result<ReportRun, ApiError> {
        let (start, end) = day_bounds(date)?;
        let bound = |at: Timestamp| {
            let millis = u64::try_from(at.unix().max(0)).unwrap_or(0) * 1000;
            format!("{}_{}", OrderId::PREFIX, ulid::Ulid::from_parts(millis, 0))
        };
        let range = (bound(start), bound(end));
        let days = OrderStatus::ALL
            .iter()
            .map(|status| self.store.orders_created(*status, range.clone()));
        // An order that changed status while the partitions were read shows up in
        // two of them (or neither, which a rerun of the day fixes): keep its latest version.
        let mut latest: HashMap<OrderId, OrderRecord> = HashMap::new();
        for order in futures::future::try_join_all(days).await?.into_iter().flatten() {
            match latest.get(&order.order_id) {
                Some(seen) if seen.updated_at >= order.updated_at => {}
                _ => {
                    latest.insert(order.order_id, order);
                }
            }
        }
        let orders: Vec<OrderRecord> = latest.into_values().collect();
        let report = summarize(date, &orders, &self.currency);
        let document = serde_json::to_string(&report).map_err(|e| ApiError::internal(e.to_string()))?;
        let alerts = self.low_stock_alerts(date).await?;
        let messages = alerts.iter().map(OutboxRecord::item).collect::<Result<Vec<_>, _>>()?;
        self.store.save_report(date, document, messages).await?;
        tracing::info!(
            orders = report.orders,
            revenue = report.revenue.cents(),
            alerts = alerts.len(),
            "daily report stored"
        );
        Ok(ReportRun {
            date: date.to_owned(),
            orders: report.orders,
            low_stock_alerts: alerts.len(),
        })
    }

    /// One alert per ACTIVE product at or below its threshold; the message id
    /// names the product and the day, so a rerun the same day mails nothing twice.
    async fn low_stock_alerts(&self, date: &str) -> Result<Vec<OutboxRecord>, ApiError> {
        let cards = self.store.catalog_cards(&[ProductStatus::Active]).await?;
        let now = Timestamp::now();
        Ok(cards
            .iter()
            .filter(|c| c.inventory <= c.low_stock_threshold)
            .map(|card| {
                Outgoing::Notification(Notification::LowStock {
                    product_id: card.product_id,
                    name: card.name.clone(),
                    sku: card.sku.to_string(),
                    stock: card.inventory,
                    threshold: card.low_stock_threshold,
                })
                .into_outbox_with_id(format!("low-stock-{date}-{}", card.product_id), now)
            })
            .collect())
    }

    /// ADMIN: the stored report of a day (one GetItem).
    pub async fn report(&self, caller: &Caller, date: &str) -> Result<DailyReport, ApiError> {
        caller.require_admin()?;
        day_bounds(date)?;
        let document = self
            .store
            .report_document(date.trim())
            .await?
            .ok_or_else(|| ApiError::not_found("Report for this date"))?;
        serde_json::from_str(&document).map_err(|e| ApiError::internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_report_reads_back() {
        let report = summarize("2026-11-20", &[], "USD");
        let back: DailyReport = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
        assert_eq!(back, report);
    }
}
