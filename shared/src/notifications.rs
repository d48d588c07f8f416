//! Notifications: what the `notifications` consumer does with each message
//! (render, claim, send once, record), and the customer's history and settings.

use serde::Serialize;

use crate::auth::Caller;
use crate::domain::{Email, Timestamp};
use crate::email::{MailContext, Mailer, render};
use crate::http::form_value::boolean;
use crate::http::{ApiError, Form};
use crate::messages::{Notification, NotificationMessage};
use crate::metrics::{self, Metric};
use crate::pagination::{PageRequest, Pagination};
use crate::store::notifications::{Claim, Delivery, NotificationRecord, NotificationSettings};
use crate::store::{Store, StoreError};

/// A claim older than this was left by a consumer that died mid-send.
const STALE_CLAIM_SECS: i64 = 120;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("another delivery of this message is in progress")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] crate::email::MailError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// The customer opted out of this kind of mail.
    Skipped,
    /// Delivered before (a redelivered message).
    Duplicate,
}

/// Sends notifications; built once per cold start of the consumer.
#[derive(Debug)]
pub struct Notifier {
    pub store: Store,
    pub mailer: Mailer,
    pub context: MailContext,
    pub alert_email: Email,
}

impl Notifier {
    #[tracing::instrument(skip_all, fields(messageId = %message.id, kind = %message.notification.kind()))]
    pub async fn deliver(&self, message: &NotificationMessage) -> Result<Delivered, DeliveryError> {
        let notification = &message.notification;
        let recipient = match notification {
            Notification::Welcome { email, .. }
            | Notification::PasswordReset { email, .. }
            | Notification::OrderStatus { email, .. }
            | Notification::Refund { email, .. }
            | Notification::PaymentFailed { email, .. } => email.clone(),
            Notification::LowStock { .. } => self.alert_email.clone(),
        };
        let skip = match notification.user_id() {
            Some(user) if !notification.is_transactional() => !self.store.notification_settings(user).await?.marketing,
            _ => false,
        };
        let content = render(notification, &self.context);
        let now = Timestamp::now();
        let mut record = NotificationRecord {
            message_id: message.id.clone(),
            kind: notification.kind(),
            user_id: notification.user_id(),
            recipient: recipient.to_string(),
            subject: content.subject.clone(),
            delivery: Delivery::Sending,
            claimed_at: now,
            sent_at: None,
        };
        match self.store.claim_notification(&record, STALE_CLAIM_SECS).await? {
            Claim::Done => return Ok(Delivered::Duplicate),
            Claim::Busy => return Err(DeliveryError::Busy),
            Claim::Claimed => {}
        }
        let outcome = |name: &'static str| {
            let measure = metrics::count(Metric::Notifications).dimension("outcome", name);
            match notification.order_id() {
                Some(order) => measure.order(order),
                None => measure,
            }
        };
        if skip {
            record.delivery = Delivery::Skipped;
            self.store.finish_notification(&record).await?;
            outcome("skipped").emit();
            return Ok(Delivered::Skipped);
        }
        let started = std::time::Instant::now();
        let sent = self.mailer.send(&recipient, &content, &message.id).await;
        metrics::duration(Metric::SmtpLatency, started.elapsed())
            .and(Metric::SmtpErrors, f64::from(u8::from(sent.is_err())))
            .emit();
        if let Err(err) = sent {
            outcome("failed").emit();
            if let Err(release) = self.store.release_notification(&record).await {
                tracing::warn!(error = %crate::http::error_chain(&release), "claim not released; it goes stale instead");
            }
            return Err(err.into());
        }
        record.delivery = Delivery::Sent;
        record.sent_at = Some(Timestamp::now());
        self.store.finish_notification(&record).await?;
        outcome("sent").emit();
        if matches!(notification, Notification::LowStock { .. }) {
            metrics::count(Metric::LowStockAlerts).emit();
        }
        tracing::info!(recipient = %recipient.masked(), "notification sent");
        Ok(Delivered::Sent)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub notification_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub subject: String,
    pub status: Delivery,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

impl From<&NotificationRecord> for NotificationView {
    fn from(record: &NotificationRecord) -> Self {
        Self {
            notification_id: record.message_id.clone(),
            kind: record.kind.clone(),
            subject: record.subject.clone(),
            status: record.delivery,
            created_at: record.claimed_at,
            sent_at: record.sent_at,
        }
    }
}

pub fn parse_settings(body: &[u8]) -> Result<NotificationSettings, ApiError> {
    let mut form = Form::from_body(body)?;
    form.only(&["marketing"]);
    let marketing = form.required("marketing", boolean);
    form.finish()?;
    marketing
        .map(|marketing| NotificationSettings { marketing })
        .ok_or_else(|| ApiError::invalid_field("marketing", "is required"))
}

impl crate::users::Users {
    /// The caller's notifications, newest first.
    pub async fn notifications(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<(Vec<NotificationView>, Pagination), ApiError> {
        let (records, total) = self
            .store
            .notification_history(caller.user_id, page.page, page.limit)
            .await?;
        Ok((
            records.iter().map(NotificationView::from).collect(),
            Pagination::new(page, total),
        ))
    }

    pub async fn notification_settings(&self, caller: &Caller) -> Result<NotificationSettings, ApiError> {
        Ok(self.store.notification_settings(caller.user_id).await?)
    }

    pub async fn update_notification_settings(
        &self,
        caller: &Caller,
        settings: NotificationSettings,
    ) -> Result<NotificationSettings, ApiError> {
        self.store.save_notification_settings(caller.user_id, &settings).await?;
        Ok(settings)
    }
}
