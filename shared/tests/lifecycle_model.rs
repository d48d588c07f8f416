//! The order lifecycle against a model of everything around it: generated
//! sequences of checkouts, reservations, payments (synchronous and in the
//! browser), Stripe webhooks (duplicated and reordered), admin and Dashboard
//! refunds, cancellations, expiries, fulfilment and shipping, with queue
//! messages delivered late, twice or in any order, and pairs of events racing
//! for the same order version. The invariants are checked after every step,
//! and once more when every pending message and webhook has been delivered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use shop::domain::{
    AddressInput, CouponCode, Email, Money, OrderId, OrderStatus, ProductId, ReservationStatus, Sku, Timestamp, UserId,
};
use shop::messages::{FulfillmentAction, InventoryAction, Notification, Outgoing};
use shop::orders::lifecycle::{self, Actor, Effect, Event, Transition};
use shop::store::orders::{OrderLine, OrderRecord, PaymentMethod, PaymentRecord, RefundRecord, Totals, Tracking};

const HOLD_SECS: i64 = 900;

/// What the customer, the admin, Stripe and the queues can do next.
#[derive(Debug, Clone)]
enum Action {
    /// Deliver the pending queue message at this position (kept for another delivery when `again`).
    Deliver {
        index: usize,
        again: bool,
    },
    StartPayment(usize),
    /// The API confirms the payment (and applies Stripe's answer at once).
    Confirm {
        order: usize,
        decline: bool,
    },
    /// The customer pays in the browser: only Stripe's webhook tells the API.
    PayInBrowser {
        order: usize,
        decline: bool,
    },
    /// Deliver the pending Stripe webhook at this position (Stripe may send it again when `again`).
    Webhook {
        index: usize,
        again: bool,
    },
    AdminRefund {
        order: usize,
        cents: Option<i64>,
    },
    DashboardRefund {
        order: usize,
        cents: i64,
    },
    Cancel {
        order: usize,
        admin: bool,
    },
    /// Time passes beyond every hold and the sweeper runs.
    Expire,
    Commit(usize),
    MarkPaid(usize),
    Ship(usize),
    Deliver_(usize),
    /// Two actions decided on the same read of their order; the second write loses and decides again.
    Race(Box<Action>, Box<Action>),
}

fn action() -> impl Strategy<Value = Action> {
    let order = 0..3usize;
    let leaf = prop_oneof![
        6 => (0..8usize, any::<bool>()).prop_map(|(index, again)| Action::Deliver { index, again }),
        3 => order.clone().prop_map(Action::StartPayment),
        3 => (order.clone(), prop::bool::weighted(0.25)).prop_map(|(order, decline)| Action::Confirm { order, decline }),
        2 => (order.clone(), prop::bool::weighted(0.25)).prop_map(|(order, decline)| Action::PayInBrowser { order, decline }),
        5 => (0..8usize, any::<bool>()).prop_map(|(index, again)| Action::Webhook { index, again }),
        2 => (order.clone(), prop::option::of(1..3000i64)).prop_map(|(order, cents)| Action::AdminRefund { order, cents }),
        1 => (order.clone(), 1..3000i64).prop_map(|(order, cents)| Action::DashboardRefund { order, cents }),
        2 => (order.clone(), any::<bool>()).prop_map(|(order, admin)| Action::Cancel { order, admin }),
        1 => Just(Action::Expire),
        1 => order.clone().prop_map(Action::Commit),
        1 => order.clone().prop_map(Action::MarkPaid),
        1 => order.clone().prop_map(Action::Ship),
        1 => order.prop_map(Action::Deliver_),
    ];
    leaf.prop_recursive(1, 4, 2, |inner| {
        (inner.clone(), inner).prop_map(|(a, b)| Action::Race(Box::new(a), Box::new(b)))
    })
}

/// Stripe's side of one order's payment.
#[derive(Debug, Clone, Default)]
struct Intent {
    id: String,
    amount: i64,
    captured: i64,
    /// Refund id → amount.
    refunds: BTreeMap<String, i64>,
    /// Idempotency key → refund id.
    keys: BTreeMap<String, String>,
}

impl Intent {
    fn refunded(&self) -> i64 {
        self.refunds.values().sum()
    }
}

#[derive(Debug, Clone)]
struct Webhook {
    id: String,
    order: usize,
    event: Event,
}

#[derive(Debug, Clone)]
struct Message {
    id: u64,
    order: usize,
    message: Outgoing,
}

/// Everything around the orders: stock, Stripe, the outbox's queues, the mail sink.
struct World {
    now: i64,
    initial: BTreeMap<ProductId, i64>,
    stock: BTreeMap<ProductId, i64>,
    orders: Vec<OrderRecord>,
    intents: Vec<Option<Intent>>,
    messages: Vec<Message>,
    next_message: u64,
    /// Message ids already delivered (consumers recognise a redelivery).
    seen_messages: BTreeSet<u64>,
    webhooks: Vec<Webhook>,
    next_event: u64,
    next_refund: u64,
    /// Mails sent, by order and kind.
    mails: BTreeMap<(usize, String), u32>,
    refund_mail_total: Vec<i64>,
    fulfil_requests: Vec<u32>,
    /// Uses of the coupon counted by checkouts, minus those given back.
    coupon_uses: i64,
    transitions: usize,
    declines: Vec<u32>,
    /// Refunds someone asked for (an admin, the Dashboard), by order.
    asked_refunds: Vec<i64>,
    /// The order could not use its money when it arrived (cancelled, or paid otherwise).
    unusable_money: Vec<bool>,
}

fn address() -> AddressInput {
    AddressInput {
        street: "1 Main St".into(),
        city: "Springfield".into(),
        state: Some("IL".into()),
        zip_code: "62701".into(),
        country: "US".into(),
    }
}

fn new_order(lines: &[(ProductId, u32)], coupon: bool, now: Timestamp) -> OrderRecord {
    let lines: Vec<OrderLine> = lines
        .iter()
        .map(|(product, quantity)| OrderLine {
            product_id: *product,
            variant_id: None,
            sku: Sku::parse("SKU-1").unwrap(),
            name: "Thing".into(),
            options: BTreeMap::new(),
            price: Money::from_cents(1000),
            quantity: *quantity,
            subtotal: Money::from_cents(1000 * i64::from(*quantity)),
            image: None,
        })
        .collect();
    let subtotal: Money = lines.iter().map(|l| l.subtotal).sum();
    OrderRecord {
        order_id: OrderId::generate(),
        user_id: UserId::generate(),
        email: Email::parse("jane@example.com").unwrap(),
        status: OrderStatus::Pending,
        reservation: ReservationStatus::Pending,
        reservation_expires_at: None,
        payment_status: shop::domain::PaymentStatus::Unpaid,
        lines,
        totals: Totals {
            subtotal,
            discount: Money::ZERO,
            tax: Money::ZERO,
            shipping: Money::from_cents(1000),
            total: subtotal + Money::from_cents(1000),
        },
        currency: "USD".into(),
        coupon_code: coupon.then(|| CouponCode::parse("SAVE10").unwrap()),
        shipping_address: address(),
        billing_address: address(),
        shipping_method: None,
        tax: None,
        payment_method: PaymentMethod {
            kind: "card".into(),
            token: None,
        },
        tracking: None,
        timeline: Vec::new(),
        cancel_reason: None,
        payment: None,
        estimated_delivery: now,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

impl World {
    fn new(stock: &[i64], orders: &[(Vec<(usize, u32)>, bool)]) -> Self {
        let products: Vec<ProductId> = stock.iter().map(|_| ProductId::generate()).collect();
        let initial: BTreeMap<ProductId, i64> = products.iter().copied().zip(stock.iter().copied()).collect();
        let now = Timestamp::from_unix(1_800_000_000);
        let mut world = Self {
            now: now.unix(),
            stock: initial.clone(),
            initial,
            orders: Vec::new(),
            intents: Vec::new(),
            messages: Vec::new(),
            next_message: 0,
            seen_messages: BTreeSet::new(),
            webhooks: Vec::new(),
            next_event: 0,
            next_refund: 0,
            mails: BTreeMap::new(),
            refund_mail_total: Vec::new(),
            fulfil_requests: Vec::new(),
            coupon_uses: 0,
            transitions: 0,
            declines: Vec::new(),
            asked_refunds: Vec::new(),
            unusable_money: Vec::new(),
        };
        for (lines, coupon) in orders {
            let lines: Vec<(ProductId, u32)> = lines.iter().map(|(p, q)| (products[*p % products.len()], *q)).collect();
            let order = new_order(&lines, *coupon, now);
            let index = world.orders.len();
            world.coupon_uses += i64::from(*coupon);
            for effect in lifecycle::placed(&order) {
                if let Effect::Send(message) = effect {
                    world.send(index, message);
                }
            }
            world.orders.push(order);
            world.intents.push(None);
            world.refund_mail_total.push(0);
            world.fulfil_requests.push(0);
            world.declines.push(0);
            world.asked_refunds.push(0);
            world.unusable_money.push(false);
        }
        world
    }

    fn time(&self) -> Timestamp {
        Timestamp::from_unix(self.now)
    }

    fn send(&mut self, order: usize, message: Outgoing) {
        self.next_message += 1;
        if matches!(message, Outgoing::Fulfillment(FulfillmentAction::Fulfill { .. })) {
            self.fulfil_requests[order] += 1;
        }
        self.messages.push(Message {
            id: self.next_message,
            order,
            message,
        });
    }

    /// Decides `event` on the order as read (`stale` when another write may
    /// have come first), and writes it conditioned on that version: a lost
    /// race reads again and decides again, as the store does.
    fn apply_from(&mut self, order: usize, event: &Event, read: &OrderRecord) -> Option<Transition> {
        let mut current = read.clone();
        for _ in 0..5 {
            let decided = lifecycle::decide(&current, event, self.time()).ok().flatten();
            let transition = decided?;
            if self.orders[order].version != current.version {
                current = self.orders[order].clone();
                continue;
            }
            return self.commit(order, transition, event);
        }
        panic!("the order kept changing");
    }

    fn apply(&mut self, order: usize, event: &Event) -> Option<Transition> {
        let read = self.orders[order].clone();
        self.apply_from(order, event, &read)
    }

    /// Writes a transition with its effects in one step, as the transaction does.
    fn commit(&mut self, order: usize, transition: Transition, event: &Event) -> Option<Transition> {
        let before = self.orders[order].clone();
        let quantities = before.quantities();
        if transition.effects.contains(&Effect::TakeStock) {
            let short = quantities.iter().any(|((product, _), q)| self.stock[product] < *q);
            if short {
                // The stock conditions fail: the order is out of stock instead.
                let out = lifecycle::decide(&before, &Event::OutOfStock, self.time())
                    .unwrap()
                    .unwrap();
                return self.commit(order, out, &Event::OutOfStock);
            }
        }
        assert_eq!(transition.order.version, before.version + 1, "one version per change");
        for effect in &transition.effects {
            match effect {
                Effect::TakeStock => quantities
                    .iter()
                    .for_each(|((p, _), q)| *self.stock.get_mut(p).unwrap() -= q),
                Effect::ReturnStock => quantities
                    .iter()
                    .for_each(|((p, _), q)| *self.stock.get_mut(p).unwrap() += q),
                Effect::ReleaseCoupon => self.coupon_uses -= 1,
                Effect::RecordPurchases | Effect::LinkPayment { .. } => {}
                Effect::Send(message) => self.send(order, message.clone()),
            }
        }
        let _ = event;
        if before.captured() == Money::ZERO && transition.order.captured() > Money::ZERO {
            let usable = before.status == OrderStatus::Pending && before.reservation == ReservationStatus::Reserved;
            self.unusable_money[order] = !usable;
        }
        self.orders[order] = transition.order.clone();
        self.transitions += 1;
        Some(transition)
    }

    fn webhook(&mut self, order: usize, event: Event) {
        self.webhooks.push(Webhook {
            id: format!("evt_{}", self.next_event),
            order,
            event,
        });
        self.next_event += 1;
    }

    /// Stripe refunds `cents` (refusing more than is left); an idempotency key
    /// asked again returns the refund it made first.
    fn stripe_refund(&mut self, order: usize, cents: i64, key: Option<String>) -> Option<RefundRecord> {
        let intent = self.intents[order].as_mut()?;
        if let Some(existing) = key.as_ref().and_then(|k| intent.keys.get(k)) {
            let amount = intent.refunds[existing];
            return Some(refund(existing, amount));
        }
        if cents <= 0 || intent.refunded() + cents > intent.captured {
            return None;
        }
        self.next_refund += 1;
        let id = format!("re_{}", self.next_refund);
        intent.refunds.insert(id.clone(), cents);
        if let Some(key) = key {
            intent.keys.insert(key, id.clone());
        }
        let snapshot: Vec<RefundRecord> = intent.refunds.iter().map(|(id, amount)| refund(id, *amount)).collect();
        let captured = intent.captured;
        let intent_id = intent.id.clone();
        self.webhook(
            order,
            Event::Refunded {
                intent_id,
                captured: Some(Money::from_cents(captured)),
                refunds: snapshot,
                stripe_event: None,
            },
        );
        Some(refund(&id, cents))
    }

    /// What the API's refund (admin or after cancellation) does: Stripe first,
    /// then the order. False when Stripe refused it.
    fn refund_through_api(&mut self, order: usize, cents: i64) -> bool {
        let before = self.orders[order].clone();
        let key = format!("{}-{}", before.refunded().cents(), cents);
        let Some(made) = self.stripe_refund(order, cents, Some(key)) else {
            return false;
        };
        {
            let intent_id = self.intents[order].as_ref().unwrap().id.clone();
            self.apply(
                order,
                &Event::Refunded {
                    intent_id,
                    captured: None,
                    refunds: vec![made],
                    stripe_event: None,
                },
            );
        }
        true
    }

    fn deliver(&mut self, index: usize, again: bool) {
        if self.messages.is_empty() {
            return;
        }
        let index = index % self.messages.len();
        let message = if again {
            self.messages[index].clone()
        } else {
            self.messages.remove(index)
        };
        let order = message.order;
        let first_time = self.seen_messages.insert(message.id);
        match message.message.clone() {
            Outgoing::Inventory(InventoryAction::Reserve { .. }) => {
                let expires_at = self.now + HOLD_SECS;
                self.apply(order, &Event::Reserved { expires_at });
            }
            Outgoing::Fulfillment(FulfillmentAction::Fulfill { .. }) => {
                self.apply(
                    order,
                    &Event::Commit {
                        by: Actor::System,
                        note: None,
                    },
                );
            }
            Outgoing::Fulfillment(FulfillmentAction::Refund { amount, .. }) => {
                if lifecycle::refund_due(&self.orders[order], amount) == Money::ZERO {
                    return;
                }
                // What Stripe refunded already (the Dashboard's webhook may still be on its way) is recorded first.
                let intent = self.intents[order].clone().unwrap_or_default();
                let known: Vec<RefundRecord> = intent.refunds.iter().map(|(id, cents)| refund(id, *cents)).collect();
                self.apply(
                    order,
                    &Event::Refunded {
                        intent_id: intent.id,
                        captured: None,
                        refunds: known,
                        stripe_event: None,
                    },
                );
                let due = lifecycle::refund_due(&self.orders[order], amount);
                if due > Money::ZERO && !self.refund_through_api(order, due.cents()) && !again {
                    // Stripe refused: the message is delivered again later.
                    self.messages.push(message);
                }
            }
            Outgoing::Notification(notification) => {
                if first_time {
                    self.mail(order, &notification);
                }
            }
        }
    }

    fn mail(&mut self, order: usize, notification: &Notification) {
        *self.mails.entry((order, notification.kind())).or_default() += 1;
        if let Notification::Refund { amount, .. } = notification {
            assert!(*amount > Money::ZERO, "a refund mail is for money given back");
            self.refund_mail_total[order] += amount.cents();
        }
    }

    fn deliver_webhook(&mut self, index: usize, again: bool) {
        if self.webhooks.is_empty() {
            return;
        }
        let index = index % self.webhooks.len();
        let hook = if again {
            self.webhooks[index].clone()
        } else {
            self.webhooks.remove(index)
        };
        let event = match hook.event {
            Event::PaymentSucceeded {
                intent_id,
                amount_received,
                ..
            } => Event::PaymentSucceeded {
                intent_id,
                amount_received,
                stripe_event: Some(hook.id),
            },
            Event::PaymentFailed { intent_id, reason, .. } => Event::PaymentFailed {
                intent_id,
                reason,
                stripe_event: Some(hook.id),
            },
            Event::Refunded {
                intent_id,
                captured,
                refunds,
                ..
            } => Event::Refunded {
                intent_id,
                captured,
                refunds,
                stripe_event: Some(hook.id),
            },
            other => other,
        };
        self.apply(hook.order, &event);
    }

    /// Stripe takes (or declines) the payment; the API hears of it from the
    /// webhook, and also at once when it confirmed the payment itself.
    fn pay(&mut self, order: usize, decline: bool, through_api: bool) {
        if through_api && lifecycle::payable(&self.orders[order], self.time()).is_err() {
            return;
        }
        let Some(intent) = self.intents[order].as_mut() else {
            return;
        };
        if intent.captured > 0 {
            return;
        }
        let intent_id = intent.id.clone();
        let event = if decline {
            self.declines[order] += 1;
            Event::PaymentFailed {
                intent_id,
                reason: "Your card was declined.".into(),
                stripe_event: None,
            }
        } else {
            intent.captured = intent.amount;
            Event::PaymentSucceeded {
                intent_id,
                amount_received: Money::from_cents(intent.amount),
                stripe_event: None,
            }
        };
        self.webhook(order, event.clone());
        if through_api {
            self.apply(order, &event);
        }
    }

    fn event_of(&mut self, action: &Action) -> Option<(usize, Event)> {
        let now = self.time();
        Some(match action {
            Action::Cancel { order, admin } => (
                *order,
                Event::Cancel {
                    by: if *admin { Actor::Admin } else { Actor::Customer },
                    reason: "changed my mind".into(),
                },
            ),
            Action::Commit(order) => (
                *order,
                Event::Commit {
                    by: Actor::Admin,
                    note: None,
                },
            ),
            Action::MarkPaid(order) => (*order, Event::MarkPaid { note: None }),
            Action::Ship(order) => (
                *order,
                Event::Ship {
                    tracking: Tracking {
                        carrier: "UPS".into(),
                        tracking_number: "1Z".into(),
                        url: None,
                    },
                    note: None,
                },
            ),
            Action::Deliver_(order) => (*order, Event::Deliver { note: None }),
            Action::StartPayment(order) => {
                let current = &self.orders[*order];
                lifecycle::payable(current, now).ok()?;
                let amount = current.totals.total;
                let intent = self.intents[*order].get_or_insert_with(|| Intent {
                    id: format!("pi_{order}"),
                    amount: amount.cents(),
                    ..Intent::default()
                });
                (
                    *order,
                    Event::PaymentStarted {
                        payment: PaymentRecord::started(intent.id.clone(), amount, "USD", now),
                    },
                )
            }
            _ => return None,
        })
    }

    fn run(&mut self, action: &Action) {
        let order_count = self.orders.len();
        match action {
            Action::Deliver { index, again } => self.deliver(*index, *again),
            Action::Confirm { order, decline } => self.pay(order % order_count, *decline, true),
            Action::PayInBrowser { order, decline } => self.pay(order % order_count, *decline, false),
            Action::Webhook { index, again } => self.deliver_webhook(*index, *again),
            Action::AdminRefund { order, cents } => {
                let order = order % order_count;
                let current = &self.orders[order];
                let due = lifecycle::refund_due(current, None).cents();
                let asked = cents.unwrap_or(due);
                if current.captured() > Money::ZERO && due > 0 && asked <= due && self.refund_through_api(order, asked)
                {
                    self.asked_refunds[order] += asked;
                }
            }
            Action::DashboardRefund { order, cents } => {
                if self.stripe_refund(order % order_count, *cents, None).is_some() {
                    self.asked_refunds[order % order_count] += cents;
                }
            }
            Action::Expire => {
                self.now += HOLD_SECS + 1;
                for order in 0..order_count {
                    let at = self.now;
                    self.apply(order, &Event::HoldExpired { at });
                }
            }
            Action::Race(first, second) => {
                let (Some((a, event_a)), Some((b, event_b))) = (self.clamped(first), self.clamped(second)) else {
                    self.run(first);
                    self.run(second);
                    return;
                };
                // Both read now; the first write wins; the second was decided on
                // what it read, and must read again.
                let read_b = self.orders[b].clone();
                self.apply(a, &event_a);
                self.apply_from(b, &event_b, &read_b);
            }
            other => {
                if let Some((order, event)) = self.clamped(other) {
                    self.apply(order, &event);
                }
            }
        }
    }

    /// The order event of `action` (its order index kept in range), when it is one.
    fn clamped(&mut self, action: &Action) -> Option<(usize, Event)> {
        let count = self.orders.len();
        let action = match action.clone() {
            Action::StartPayment(o) => Action::StartPayment(o % count),
            Action::Cancel { order, admin } => Action::Cancel {
                order: order % count,
                admin,
            },
            Action::Commit(o) => Action::Commit(o % count),
            Action::MarkPaid(o) => Action::MarkPaid(o % count),
            Action::Ship(o) => Action::Ship(o % count),
            Action::Deliver_(o) => Action::Deliver_(o % count),
            _ => return None,
        };
        self.event_of(&action)
    }

    /// Delivers everything still pending, each once, until nothing is left.
    fn settle(&mut self) {
        for _ in 0..50 {
            if self.messages.is_empty() && self.webhooks.is_empty() {
                return;
            }
            while !self.webhooks.is_empty() {
                self.deliver_webhook(0, false);
            }
            while !self.messages.is_empty() {
                self.deliver(0, false);
            }
        }
        panic!("messages kept coming");
    }

    fn check(&self, previous: &[OrderRecord]) {
        for (index, order) in self.orders.iter().enumerate() {
            let captured = order.captured();
            let refunded = order.refunded();
            assert!(refunded <= captured, "refunded {refunded} of {captured}: {order:?}");
            if let Some(payment) = &order.payment {
                let counted: Money = payment.refunds.iter().filter(|r| r.counts()).map(|r| r.amount).sum();
                assert_eq!(counted, payment.amount_refunded, "the refunds add up");
                let ids: BTreeSet<_> = payment.refunds.iter().map(|r| &r.refund_id).collect();
                assert_eq!(ids.len(), payment.refunds.len(), "each Stripe refund is listed once");
            }
            let before = &previous[index];
            if before.captured() > Money::ZERO {
                assert_eq!(captured, before.captured(), "money is taken once");
                assert_eq!(
                    order.payment.as_ref().map(|p| p.unusable),
                    before.payment.as_ref().map(|p| p.unusable),
                    "whether the order could use its money is decided once"
                );
            }
            if matches!(before.status, OrderStatus::Cancelled | OrderStatus::Refunded) {
                assert_eq!(order.status, before.status, "{} is terminal", before.status);
            }
            if before.status == OrderStatus::Delivered {
                assert!(matches!(order.status, OrderStatus::Delivered | OrderStatus::Refunded));
            }
            assert!(order.version >= before.version);
            for kind in [
                "order_pending",
                "order_confirmed",
                "order_processing",
                "order_shipped",
                "order_delivered",
                "order_cancelled",
            ] {
                let sent = self.mails.get(&(index, kind.to_owned())).copied().unwrap_or(0);
                assert!(sent <= 1, "{kind} mailed {sent} times");
            }
            assert!(self.fulfil_requests[index] <= 1, "one fulfilment per order");
            let failures = self
                .mails
                .get(&(index, "payment_failed".to_owned()))
                .copied()
                .unwrap_or(0);
            assert!(failures <= self.declines[index], "one mail per declined payment");
            assert!(
                self.refund_mail_total[index] <= refunded.cents(),
                "refund mails tell of money that went back"
            );
        }
        for (product, initial) in &self.initial {
            let held = |state: ReservationStatus| -> i64 {
                self.orders
                    .iter()
                    .filter(|o| o.reservation == state)
                    .flat_map(|o| o.quantities())
                    .filter(|((p, _), _)| p == product)
                    .map(|(_, q)| q)
                    .sum()
            };
            let available = self.stock[product];
            assert!(available >= 0, "stock never goes negative");
            assert_eq!(
                available + held(ReservationStatus::Reserved) + held(ReservationStatus::Committed),
                *initial,
                "available + reserved + sold = stocked"
            );
        }
        let kept = self
            .orders
            .iter()
            .filter(|o| o.coupon_code.is_some() && o.status != OrderStatus::Cancelled)
            .count();
        assert_eq!(
            self.coupon_uses,
            i64::try_from(kept).unwrap(),
            "a cancelled order gives its coupon use back once"
        );
    }

    /// Once everything is delivered: money and Stripe agree.
    fn check_settled(&self) {
        for (index, order) in self.orders.iter().enumerate() {
            let stripe = self.intents[index].clone().unwrap_or_default();
            assert_eq!(
                order.captured().cents(),
                stripe.captured,
                "the order knows what Stripe took"
            );
            assert_eq!(
                order.refunded().cents(),
                stripe.refunded(),
                "the order knows every Stripe refund"
            );
            if order.status == OrderStatus::Cancelled || self.unusable_money[index] {
                assert_eq!(
                    order.refunded(),
                    order.captured(),
                    "money an order cannot use goes back in full"
                );
            } else {
                assert_eq!(
                    order.refunded().cents(),
                    self.asked_refunds[index],
                    "an order that keeps its money is refunded only what was asked"
                );
            }
            assert_eq!(
                self.refund_mail_total[index],
                order.refunded().cents(),
                "every refund is mailed, once"
            );
        }
    }
}

fn refund(id: &str, cents: i64) -> RefundRecord {
    RefundRecord {
        refund_id: id.to_owned(),
        amount: Money::from_cents(cents),
        status: "succeeded".into(),
        created_at: Timestamp::from_unix(0),
    }
}

fn orders() -> impl Strategy<Value = Vec<(Vec<(usize, u32)>, bool)>> {
    prop::collection::vec((prop::collection::vec((0..2usize, 1..4u32), 1..3), any::<bool>()), 1..4)
}

fn cases() -> u32 {
    std::env::var("LIFECYCLE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn money_stock_and_mail_stay_right_under_any_interleaving(
        stock in prop::collection::vec(0..7i64, 2),
        orders in orders(),
        actions in prop::collection::vec(action(), 1..40),
    ) {
        let mut world = World::new(&stock, &orders);
        world.check(&world.orders.clone());
        for action in &actions {
            let before = world.orders.clone();
            world.run(action);
            world.check(&before);
        }
        let before = world.orders.clone();
        world.settle();
        world.check(&before);
        world.check_settled();
    }
}

#[test]
fn a_payment_report_after_a_partial_refund_changes_nothing() {
    let mut world = World::new(&[5, 5], &[(vec![(0, 1)], false)]);
    world.deliver(0, false);
    world.run(&Action::StartPayment(0));
    world.run(&Action::Confirm {
        order: 0,
        decline: false,
    });
    world.run(&Action::AdminRefund {
        order: 0,
        cents: Some(200),
    });
    let partly = world.orders[0].clone();
    assert_eq!(partly.status, OrderStatus::Confirmed);
    assert_eq!(partly.refunded(), Money::from_cents(200));
    // Stripe's payment_intent.succeeded arrives now (it was sent before the refund).
    let succeeded = world
        .webhooks
        .iter()
        .position(|h| matches!(h.event, Event::PaymentSucceeded { .. }))
        .unwrap();
    world.deliver_webhook(succeeded, false);
    assert_eq!(world.orders[0], partly, "the late report is a no-op");
    assert_eq!(world.stock.values().sum::<i64>(), 9, "nothing went back on the shelf");
    assert_eq!(
        world.intents[0].as_ref().unwrap().refunded(),
        200,
        "Stripe refunded once"
    );
}
