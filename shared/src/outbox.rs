//! Delivering the outbox: the messages written by committed changes go to
//! their queues, then leave the table. The `outbox-dispatcher` function does it
//! for each message as the table's stream reports it; the sweeper re-drives
//! what is still pending a while later (a delivery that failed for good).
//! Delivery is at least once: consumers recognise a redelivered message by its id.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

use crate::config::QueueUrls;
use crate::domain::Timestamp;
use crate::store::outbox::{Destination, OutboxRecord};
use crate::store::{Store, StoreError};

/// SendMessageBatch takes at most ten entries.
const SQS_BATCH: usize = 10;

/// Sends outbox messages to their queues; built once per cold start.
#[derive(Debug, Clone)]
pub struct Outbox {
    store: Store,
    sqs: aws_sdk_sqs::Client,
    queues: QueueUrls,
}

/// What one delivery did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub sent: usize,
    /// Ids of the messages that could not be sent (they stay pending).
    pub failed: Vec<String>,
}

impl Outbox {
    pub fn new(store: Store, sqs: aws_sdk_sqs::Client, queues: QueueUrls) -> Self {
        Self { store, sqs, queues }
    }

    pub fn from_config(config: &crate::Config, clients: &crate::aws::AwsClients) -> Self {
        Self::new(
            Store::new(clients.dynamodb().clone(), &config.table_name),
            clients.sqs().clone(),
            config.queues.clone(),
        )
    }

    fn queue_url(&self, destination: Destination) -> &str {
        match destination {
            Destination::Inventory => &self.queues.inventory,
            Destination::Fulfillment => &self.queues.fulfillment,
            Destination::Notifications => &self.queues.notifications,
        }
    }

    /// Sends `records` (ten per request, per queue) and deletes the ones sent.
    /// A message whose deletion fails is sent again by a later re-drive.
    pub async fn deliver(&self, records: &[OutboxRecord]) -> Delivery {
        let mut by_queue: BTreeMap<Destination, Vec<&OutboxRecord>> = BTreeMap::new();
        for record in records {
            by_queue.entry(record.destination).or_default().push(record);
        }
        let mut delivery = Delivery::default();
        let mut sent: Vec<&str> = Vec::new();
        for (destination, records) in by_queue {
            for chunk in records.chunks(SQS_BATCH) {
                match self.send_batch(destination, chunk).await {
                    Ok(failed) => {
                        for record in chunk {
                            if failed.contains(&record.message_id) {
                                delivery.failed.push(record.message_id.clone());
                            } else {
                                sent.push(&record.message_id);
                            }
                        }
                    }
                    Err(err) => {
                        tracing::warn!(queue = destination.as_str(), error = %crate::http::error_chain(&*err), "outbox messages not sent");
                        delivery.failed.extend(chunk.iter().map(|r| r.message_id.clone()));
                    }
                }
            }
        }
        delivery.sent = sent.len();
        if let Err(err) = self.store.delete_outbox(&sent).await {
            tracing::warn!(error = %crate::http::error_chain(&err), "sent outbox messages not deleted; a re-drive sends them again");
        }
        for record in records.iter().filter(|r| sent.contains(&r.message_id.as_str())) {
            tracing::info!(
                messageId = %record.message_id,
                orderId = record.order_id.map(|id| id.to_string()),
                originRequestId = record.request_id.as_deref(),
                queue = record.destination.as_str(),
                "outbox message sent"
            );
        }
        delivery
    }

    /// Sends one batch to one queue; returns the ids SQS refused.
    async fn send_batch(
        &self,
        destination: Destination,
        records: &[&OutboxRecord],
    ) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
        let attribute = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
        };
        let mut entries = Vec::new();
        for record in records {
            let mut entry = SendMessageBatchRequestEntry::builder()
                .id(&record.message_id)
                .message_body(&record.body)
                .message_attributes("messageId", attribute(&record.message_id)?);
            if let Some(order) = record.order_id {
                entry = entry.message_attributes("orderId", attribute(&order.to_string())?);
            }
            if let Some(request) = &record.request_id {
                entry = entry.message_attributes("requestId", attribute(request)?);
            }
            entries.push(entry.build()?);
        }
        let output = self
            .sqs
            .send_message_batch()
            .queue_url(self.queue_url(destination))
            .set_entries(Some(entries))
            .send()
            .await?;
        Ok(output.failed.into_iter().map(|failure| failure.id).collect())
    }

    /// Sends again the messages still pending `age_secs` after they were
    /// written: their delivery from the stream failed for good.
    pub async fn redrive(&self, now: Timestamp, age_secs: i64) -> Result<Delivery, StoreError> {
        let before = (now.unix() - age_secs) * 1000;
        let pending = self.store.pending_outbox(before).await?;
        if pending.is_empty() {
            return Ok(Delivery::default());
        }
        tracing::warn!(count = pending.len(), "re-driving outbox messages");
        Ok(self.deliver(&pending).await)
    }
}
