//! `outbox-dispatcher`: fed by the table's DynamoDB stream, it sends every
//! outbox message that a committed change wrote (reservation, fulfilment and
//! refund requests, mails) to its queue, then deletes it. A message that could
//! not be sent is reported by its record's sequence number, so the stream
//! delivers it again; consumers recognise a message sent twice by its id.
//! Records that are not new outbox items (the stream carries every change of
//! the table; the template's filter lets only these through) are skipped.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::lambda::{BoxFuture, Handler};
use shop::outbox::Outbox;
use shop::store::outbox::OutboxRecord;

#[derive(Debug)]
pub struct App {
    outbox: Outbox,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            outbox: Outbox::from_config(config, clients),
        }
    }
}

/// The outbox message a stream record carries, if it is a new one.
fn outbox_message(record: &EventRecord) -> Option<OutboxRecord> {
    let pk = record.change.keys.get("PK")?;
    let is_outbox = match pk {
        serde_dynamo::AttributeValue::S(pk) => OutboxRecord::is_outbox_item(pk),
        _ => false,
    };
    if record.event_name != "INSERT" || !is_outbox {
        return None;
    }
    match serde_dynamo::from_item(record.change.new_image.clone()) {
        Ok(message) => Some(message),
        Err(err) => {
            // It can never be sent: it stays pending for an operator (the sweeper's re-drive fails on it too).
            tracing::error!(eventId = %record.event_id, error = %err, "unreadable outbox item");
            None
        }
    }
}

impl Handler<Event> for App {
    type Output = DynamoDbEventResponse;

    fn handle(&self, event: LambdaEvent<Event>) -> BoxFuture<'_, Result<DynamoDbEventResponse, Error>> {
        Box::pin(async move {
            let messages: Vec<(String, OutboxRecord)> = event
                .payload
                .records
                .iter()
                .filter_map(|record| {
                    let message = outbox_message(record)?;
                    Some((record.change.sequence_number.clone().unwrap_or_default(), message))
                })
                .collect();
            let records: Vec<OutboxRecord> = messages.iter().map(|(_, message)| message.clone()).collect();
            let delivery = self.outbox.deliver(&records).await;
            let mut response = DynamoDbEventResponse::default();
            response.batch_item_failures = messages
                .into_iter()
                .filter(|(_, message)| delivery.failed.contains(&message.message_id))
                .map(|(sequence, _)| {
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = Some(sequence);
                    failure
                })
                .collect();
            tracing::info!(
                received = event.payload.records.len(),
                sent = delivery.sent,
                failed = delivery.failed.len(),
                "outbox batch"
            );
            Ok(response)
        })
    }
}
