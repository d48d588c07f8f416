//! The order and payment lifecycle, as one pure function.
//!
//! [`decide`] takes an order as read and an [`Event`], and answers with the
//! new order and the [`Effect`]s that must be written with it (stock moved,
//! coupon uses given back, purchases recorded, queue messages), with `None`
//! when the event changes nothing (a duplicate, or one that arrives too late),
//! or with a [`Refusal`] for a command the order's state does not allow. It
//! does no I/O: callers read the order, decide, and write the result
//! conditioned on the version they read; a caller that lost a race reads again
//! and decides again. The README shows the lifecycle as a state table and a
//! diagram.
//!
//! Money rules: what Stripe took (`captured`) is never more than once, refunds
//! are kept by Stripe refund id (so each counts once, whoever reports it), and
//! money the order cannot use (it was cancelled) goes back in full.

use crate::domain::{Money, OrderStatus, PaymentStatus, ReservationStatus, Timestamp};
use crate::messages::{FulfillmentAction, InventoryAction, Notification, Outgoing, TrackingNote};
use crate::store::orders::{OrderRecord, PaymentRecord, REMEMBERED_EVENTS, RefundRecord, TimelineEntry, Tracking};

/// Who asked for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Customer,
    Admin,
    /// A consumer, the sweeper or Stripe.
    System,
}

/// Something that happened to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The inventory consumer holds every line until `expires_at` (epoch seconds).
    Reserved {
        expires_at: i64,
    },
    /// Some line was short: nothing is held.
    OutOfStock,
    /// The sweeper looked at the unpaid hold as of `at` (epoch seconds).
    HoldExpired {
        at: i64,
    },
    /// A Stripe PaymentIntent was created for the order.
    PaymentStarted {
        payment: PaymentRecord,
    },
    /// Stripe took `amount_received` (the synchronous confirm, or the webhook).
    PaymentSucceeded {
        intent_id: String,
        amount_received: Money,
        stripe_event: Option<String>,
    },
    /// A payment attempt failed. Only Stripe's webhook (`stripe_event`) mails
    /// the customer: the synchronous confirm answers them itself.
    PaymentFailed {
        intent_id: String,
        reason: String,
        stripe_event: Option<String>,
    },
    /// Refunds of the payment as Stripe reports them, whoever made them (an
    /// admin through the API, the refund after a cancellation, the Dashboard).
    /// `captured` is what the charge took, when the report says (a refund
    /// report can arrive before the payment's own).
    Refunded {
        intent_id: String,
        captured: Option<Money>,
        refunds: Vec<RefundRecord>,
        stripe_event: Option<String>,
    },
    Cancel {
        by: Actor,
        reason: String,
    },
    /// The held stock is sold and the order is prepared (fulfilment, or an admin).
    Commit {
        by: Actor,
        note: Option<String>,
    },
    /// ADMIN: paid outside the API; the held stock is sold.
    MarkPaid {
        note: Option<String>,
    },
    Ship {
        tracking: Tracking,
        note: Option<String>,
    },
    Deliver {
        note: Option<String>,
    },
}

impl Event {
    /// The Stripe event this is, if it came from Stripe's webhook.
    pub fn stripe_event(&self) -> Option<&str> {
        match self {
            Self::PaymentSucceeded { stripe_event, .. }
            | Self::PaymentFailed { stripe_event, .. }
            | Self::Refunded { stripe_event, .. } => stripe_event.as_deref(),
            _ => None,
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Reserved { .. } => "reserved",
            Self::OutOfStock => "out_of_stock",
            Self::HoldExpired { .. } => "hold_expired",
            Self::PaymentStarted { .. } => "payment_started",
            Self::PaymentSucceeded { .. } => "payment_succeeded",
            Self::PaymentFailed { .. } => "payment_failed",
            Self::Refunded { .. } => "refunded",
            Self::Cancel { .. } => "cancel",
            Self::Commit { .. } => "commit",
            Self::MarkPaid { .. } => "mark_paid",
            Self::Ship { .. } => "ship",
            Self::Deliver { .. } => "deliver",
        }
    }
}

/// What must be written together with the new order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Hold every line's stock (the write fails if some product is short).
    TakeStock,
    /// Give the held (or sold, not shipped) stock back.
    ReturnStock,
    /// Give the order's coupon use back.
    ReleaseCoupon,
    /// The customer bought these products (their reviews become verified).
    RecordPurchases,
    /// Link the payment's intent to the order.
    LinkPayment { intent_id: String },
    /// A queue message, through the outbox.
    Send(Outgoing),
}

/// A change to write: the new order (its version one higher) and its effects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub order: OrderRecord,
    pub effects: Vec<Effect>,
}

impl Transition {
    pub fn messages(&self) -> impl Iterator<Item = &Outgoing> {
        self.effects.iter().filter_map(|effect| match effect {
            Effect::Send(message) => Some(message),
            _ => None,
        })
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The order's state does not allow it.
    #[error("an order that is {status} cannot do that")]
    NotAllowed { status: OrderStatus },
    /// Only a pending order whose stock is held can be paid.
    #[error("this order cannot be paid now (it is {status}, stock {reservation})")]
    NotPayable {
        status: OrderStatus,
        reservation: &'static str,
    },
    /// The event is about another PaymentIntent than the order's.
    #[error("the order has another payment")]
    OtherPayment,
    /// Stripe reported refunds beyond what it took, or of a payment it never took.
    #[error("refunds of {refunded} exceed the {captured} taken")]
    Inconsistent { refunded: Money, captured: Money },
}

/// The effects of placing `order` at checkout: its stock is requested and the
/// customer hears that it was received.
pub fn placed(order: &OrderRecord) -> Vec<Effect> {
    vec![
        Effect::Send(Outgoing::Inventory(InventoryAction::Reserve {
            order_id: order.order_id,
        })),
        Effect::Send(Outgoing::Notification(status_notice(
            order,
            OrderStatus::Pending,
            None,
            None,
        ))),
    ]
}

/// How much of `requested` (all that is left when `None`) can still be refunded.
pub fn refund_due(order: &OrderRecord, requested: Option<Money>) -> Money {
    let left = order.captured() - order.refunded();
    requested.map_or(left, |asked| asked.min(left)).max(Money::ZERO)
}

/// Only a pending, unpaid order whose stock is held (and not expired) can be paid.
pub fn payable(order: &OrderRecord, now: Timestamp) -> Result<(), Refusal> {
    let held = order.reservation == ReservationStatus::Reserved
        && order.reservation_expires_at.is_some_and(|at| at > now.unix());
    if order.status == OrderStatus::Pending && order.captured() == Money::ZERO && held {
        Ok(())
    } else {
        Err(Refusal::NotPayable {
            status: order.status,
            reservation: order.reservation.as_str(),
        })
    }
}

/// Applies `event` to `order` as of `now`.
pub fn decide(order: &OrderRecord, event: &Event, now: Timestamp) -> Result<Option<Transition>, Refusal> {
    let seen = |id: &str| {
        order
            .payment
            .as_ref()
            .is_some_and(|p| p.applied_events.iter().any(|e| e == id))
    };
    if event.stripe_event().is_some_and(seen) {
        return Ok(None);
    }
    let mut draft = Draft::new(order, now);
    match event {
        Event::Reserved { expires_at } => draft.reserve(*expires_at),
        Event::OutOfStock => draft.out_of_stock(),
        Event::HoldExpired { at } => draft.expire(*at),
        Event::PaymentStarted { payment } => draft.start_payment(payment)?,
        Event::PaymentSucceeded {
            intent_id,
            amount_received,
            ..
        } => draft.capture(intent_id, *amount_received)?,
        Event::PaymentFailed {
            intent_id,
            reason,
            stripe_event,
        } => draft.fail_payment(intent_id, reason, stripe_event.is_some())?,
        Event::Refunded {
            intent_id,
            captured,
            refunds,
            ..
        } => draft.refund(intent_id, *captured, refunds)?,
        Event::Cancel { reason, .. } => draft.cancel_on_request(reason)?,
        Event::Commit { by, note } => draft.commit(*by, note.clone())?,
        Event::MarkPaid { note } => draft.mark_paid(note.clone())?,
        Event::Ship { tracking, note } => draft.ship(tracking, note.clone())?,
        Event::Deliver { note } => draft.deliver(note.clone())?,
    }
    Ok(draft.finish(event.stripe_event()))
}

/// The order being changed and what the change implies.
struct Draft<'a> {
    before: &'a OrderRecord,
    order: OrderRecord,
    effects: Vec<Effect>,
    now: Timestamp,
}

impl<'a> Draft<'a> {
    fn new(before: &'a OrderRecord, now: Timestamp) -> Self {
        Self {
            before,
            order: before.clone(),
            effects: Vec::new(),
            now,
        }
    }

    fn finish(mut self, stripe_event: Option<&str>) -> Option<Transition> {
        if self.order == *self.before && self.effects.is_empty() {
            return None;
        }
        if self.order.payment != self.before.payment
            && let Some(payment) = self.order.payment.as_mut()
        {
            payment.updated_at = self.now;
        }
        if let (Some(id), Some(payment)) = (stripe_event, self.order.payment.as_mut()) {
            payment.applied_events.push(id.to_owned());
            let excess = payment.applied_events.len().saturating_sub(REMEMBERED_EVENTS);
            payment.applied_events.drain(..excess);
        }
        self.order.version = self.before.version + 1;
        self.order.updated_at = self.now;
        Some(Transition {
            order: self.order,
            effects: self.effects,
        })
    }

    fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    fn send(&mut self, message: Outgoing) {
        self.effects.push(Effect::Send(message));
    }

    fn notify(&mut self, notification: Notification) {
        self.send(Outgoing::Notification(notification));
    }

    /// Moves to `status`, on the timeline.
    fn status(&mut self, status: OrderStatus, note: Option<String>) {
        self.order.status = status;
        self.order.timeline.push(TimelineEntry {
            status,
            timestamp: self.now,
            note,
        });
    }

    /// Moves to `status` and tells the customer.
    fn announce(&mut self, status: OrderStatus, note: Option<String>, tracking: Option<&Tracking>) {
        self.status(status, note.clone());
        let notice = status_notice(&self.order, status, note, tracking);
        self.notify(notice);
    }

    fn holds_stock(&self) -> bool {
        matches!(
            self.order.reservation,
            ReservationStatus::Reserved | ReservationStatus::Committed
        )
    }

    fn reserve(&mut self, expires_at: i64) {
        if self.order.status == OrderStatus::Pending && self.order.reservation == ReservationStatus::Pending {
            self.order.reservation = ReservationStatus::Reserved;
            self.order.reservation_expires_at = Some(expires_at);
            self.effect(Effect::TakeStock);
        }
    }

    fn out_of_stock(&mut self) {
        if self.order.status == OrderStatus::Pending && self.order.reservation == ReservationStatus::Pending {
            self.cancel("out_of_stock", ReservationStatus::Failed);
        }
    }

    fn expire(&mut self, at: i64) {
        let expired = self.order.reservation_expires_at.is_some_and(|expires| expires <= at);
        if self.order.status == OrderStatus::Pending && self.order.reservation == ReservationStatus::Reserved && expired
        {
            self.cancel("reservation_expired", ReservationStatus::Released);
        }
    }

    fn cancel_on_request(&mut self, reason: &str) -> Result<(), Refusal> {
        if !self.order.status.customer_can_cancel() {
            return Err(Refusal::NotAllowed {
                status: self.order.status,
            });
        }
        self.cancel(reason, ReservationStatus::Released);
        Ok(())
    }

    /// Cancels: stock and coupon use go back, the customer is told, and money
    /// already taken is refunded.
    fn cancel(&mut self, reason: &str, reservation: ReservationStatus) {
        if self.holds_stock() {
            self.effect(Effect::ReturnStock);
        }
        if self.order.coupon_code.is_some() {
            self.effect(Effect::ReleaseCoupon);
        }
        self.order.reservation = reservation;
        self.order.reservation_expires_at = None;
        self.order.cancel_reason = Some(reason.to_owned());
        self.announce(OrderStatus::Cancelled, Some(reason.to_owned()), None);
        self.refund_the_rest(reason);
    }

    fn refund_the_rest(&mut self, reason: &str) {
        let due = refund_due(&self.order, None);
        if due > Money::ZERO {
            self.send(Outgoing::Fulfillment(FulfillmentAction::Refund {
                order_id: self.order.order_id,
                reason: reason.to_owned(),
                amount: Some(due),
            }));
        }
    }

    fn same_intent(&self, intent_id: &str) -> Result<(), Refusal> {
        match &self.order.payment {
            Some(payment) if payment.intent_id != intent_id => Err(Refusal::OtherPayment),
            _ => Ok(()),
        }
    }

    fn payment(&mut self, intent_id: &str) -> &mut PaymentRecord {
        let now = self.now;
        let (amount, currency) = (self.order.totals.total, self.order.currency.clone());
        self.order
            .payment
            .get_or_insert_with(|| PaymentRecord::started(intent_id, amount, currency, now))
    }

    fn start_payment(&mut self, payment: &PaymentRecord) -> Result<(), Refusal> {
        if self.order.payment.is_some() {
            return self.same_intent(&payment.intent_id);
        }
        payable(&self.order, self.now)?;
        self.order.payment = Some(payment.clone());
        self.effect(Effect::LinkPayment {
            intent_id: payment.intent_id.clone(),
        });
        Ok(())
    }

    /// Stripe took the money: a pending order whose stock is held is confirmed
    /// and goes to fulfilment; any other order cannot use it and it goes back.
    fn capture(&mut self, intent_id: &str, received: Money) -> Result<(), Refusal> {
        self.same_intent(intent_id)?;
        if self.order.captured() > Money::ZERO {
            return Ok(());
        }
        let usable = self.order.status == OrderStatus::Pending && self.order.reservation == ReservationStatus::Reserved;
        let payment = self.payment(intent_id);
        let taken = if received > Money::ZERO {
            received
        } else {
            payment.amount
        };
        payment.amount_captured = taken;
        payment.status = "succeeded".into();
        payment.last_error = None;
        payment.unusable = !usable;
        self.order.payment_status = PaymentStatus::Paid;
        if usable {
            self.status(OrderStatus::Confirmed, Some("payment received".into()));
            let notice = status_notice(&self.order, OrderStatus::Confirmed, None, None);
            self.notify(notice);
            self.send(Outgoing::Fulfillment(FulfillmentAction::Fulfill {
                order_id: self.order.order_id,
            }));
        } else {
            self.refund_the_rest("paid_after_cancellation");
        }
        Ok(())
    }

    fn fail_payment(&mut self, intent_id: &str, reason: &str, tell: bool) -> Result<(), Refusal> {
        self.same_intent(intent_id)?;
        if self.order.status != OrderStatus::Pending || self.order.captured() > Money::ZERO {
            return Ok(());
        }
        let payment = self.payment(intent_id);
        payment.status = "requires_payment_method".into();
        payment.last_error = Some(reason.to_owned());
        self.order.payment_status = PaymentStatus::Failed;
        if tell {
            self.notify(Notification::PaymentFailed {
                order_id: self.order.order_id,
                user_id: self.order.user_id,
                email: self.order.email.clone(),
                reason: reason.to_owned(),
            });
        }
        Ok(())
    }

    /// Merges Stripe's refunds by id. Fully refunded, an order that has not
    /// been cancelled becomes refunded (its stock returned if it has not
    /// shipped); each refund that gives money back is mailed once.
    fn refund(&mut self, intent_id: &str, captured: Option<Money>, refunds: &[RefundRecord]) -> Result<(), Refusal> {
        self.same_intent(intent_id)?;
        if self.order.captured() == Money::ZERO {
            match captured {
                // The refund's report came first: the payment it refunds was taken.
                Some(taken) if taken > Money::ZERO => self.capture(intent_id, taken)?,
                _ => {
                    return Err(Refusal::Inconsistent {
                        refunded: refunds.iter().map(|r| r.amount).sum(),
                        captured: Money::ZERO,
                    });
                }
            }
        }
        let before = self.order.refunded();
        let taken = self.order.captured();
        let payment = self.payment(intent_id);
        for refund in refunds {
            match payment
                .refunds
                .iter_mut()
                .find(|known| known.refund_id == refund.refund_id)
            {
                Some(known) => {
                    known.status.clone_from(&refund.status);
                    known.amount = refund.amount;
                }
                None => payment.refunds.push(refund.clone()),
            }
        }
        let total: Money = payment.refunds.iter().filter(|r| r.counts()).map(|r| r.amount).sum();
        if total > taken {
            return Err(Refusal::Inconsistent {
                refunded: total,
                captured: taken,
            });
        }
        payment.amount_refunded = total;
        let full = total >= taken;
        self.order.payment_status = if total == Money::ZERO {
            PaymentStatus::Paid
        } else if full {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
        let unusable = self.order.payment.as_ref().is_some_and(|p| p.unusable);
        if full && before < taken && !unusable {
            self.close_refunded();
        }
        if total > before {
            self.notify(Notification::Refund {
                order_id: self.order.order_id,
                user_id: self.order.user_id,
                email: self.order.email.clone(),
                amount: total - before,
                total_refunded: total,
                full,
            });
        }
        Ok(())
    }

    /// A fully refunded order that was not cancelled is refunded; stock that
    /// has not left the warehouse goes back.
    fn close_refunded(&mut self) {
        match self.order.status {
            OrderStatus::Pending | OrderStatus::Confirmed | OrderStatus::Processing => {
                if self.holds_stock() {
                    self.effect(Effect::ReturnStock);
                    self.order.reservation = ReservationStatus::Released;
                }
                self.order.reservation_expires_at = None;
                self.status(OrderStatus::Refunded, Some("refunded".into()));
            }
            OrderStatus::Shipped | OrderStatus::Delivered => {
                self.status(OrderStatus::Refunded, Some("refunded".into()))
            }
            OrderStatus::Cancelled | OrderStatus::Refunded => {}
        }
    }

    fn not_allowed(&self) -> Refusal {
        Refusal::NotAllowed {
            status: self.order.status,
        }
    }

    fn commit(&mut self, by: Actor, note: Option<String>) -> Result<(), Refusal> {
        let paid = matches!(
            self.order.payment_status,
            PaymentStatus::Paid | PaymentStatus::PartiallyRefunded
        );
        if self.order.status != OrderStatus::Confirmed || !paid || !self.holds_stock() {
            return if by == Actor::System {
                Ok(())
            } else {
                Err(self.not_allowed())
            };
        }
        if self.order.reservation == ReservationStatus::Reserved {
            self.effect(Effect::RecordPurchases);
        }
        self.order.reservation = ReservationStatus::Committed;
        self.order.reservation_expires_at = None;
        self.announce(OrderStatus::Processing, note, None);
        Ok(())
    }

    fn mark_paid(&mut self, note: Option<String>) -> Result<(), Refusal> {
        if self.order.status != OrderStatus::Pending
            || self.order.reservation != ReservationStatus::Reserved
            || self.order.captured() > Money::ZERO
        {
            return Err(self.not_allowed());
        }
        self.order.reservation = ReservationStatus::Committed;
        self.order.reservation_expires_at = None;
        self.order.payment_status = PaymentStatus::Paid;
        self.effect(Effect::RecordPurchases);
        self.announce(OrderStatus::Confirmed, note, None);
        Ok(())
    }

    fn ship(&mut self, tracking: &Tracking, note: Option<String>) -> Result<(), Refusal> {
        if self.order.status != OrderStatus::Processing {
            return Err(self.not_allowed());
        }
        self.order.tracking = Some(tracking.clone());
        self.announce(OrderStatus::Shipped, note, Some(tracking));
        Ok(())
    }

    fn deliver(&mut self, note: Option<String>) -> Result<(), Refusal> {
        if self.order.status != OrderStatus::Shipped {
            return Err(self.not_allowed());
        }
        self.announce(OrderStatus::Delivered, note, None);
        Ok(())
    }
}

/// The mail telling the customer that `order` is now `status`.
fn status_notice(
    order: &OrderRecord,
    status: OrderStatus,
    note: Option<String>,
    tracking: Option<&Tracking>,
) -> Notification {
    Notification::OrderStatus {
        order_id: order.order_id,
        user_id: order.user_id,
        email: order.email.clone(),
        status,
        note,
        total: Some(order.totals.total),
        tracking: tracking.map(|t| TrackingNote {
            carrier: t.carrier.clone(),
            tracking_number: t.tracking_number.clone(),
            url: t.url.clone(),
        }),
    }
}
