//! The soak: randomised order and payment sequences run concurrently through
//! the real functions, DynamoDB Local, localstripe (its webhooks included) and
//! moto, while the consumers run beside them; then stored orders, Stripe's
//! records and the mails in the SMTP sink are checked against the lifecycle's
//! invariants. `SOAK_SEQUENCES` sets how many (a few in `make test`, hundreds
//! in `make soak`), `SOAK_SEED` replays one run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shop_local::HttpCall;
use shop_tests::{Session, TestApp, WEBHOOK_SECRET, checkout_body, email, stripe_signature};
use tokio::sync::Mutex;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn cents(value: &Value) -> i64 {
    (value.as_f64().unwrap_or(0.0) * 100.0).round() as i64
}

/// What one sequence did to its order, as far as the checks need it.
#[derive(Debug, Default, Clone)]
struct Trail {
    customer: Option<Session>,
    order: Option<String>,
    payment: Option<String>,
    /// Refunds asked for (an admin's, the Dashboard's) that Stripe made, in cents.
    asked_refunds: i64,
}

struct Soak {
    app: TestApp,
    admin: Session,
    products: Vec<String>,
    events: AtomicUsize,
}

impl Soak {
    fn event(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
    }

    async fn order(&self, trail: &Trail) -> Value {
        let order = trail.order.as_deref().unwrap_or_default();
        self.app.order_of(&self.admin, order).await
    }

    /// One customer's randomised life of one order.
    async fn sequence(&self, seed: u64) -> Trail {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut trail = Trail::default();
        let app = &self.app;
        let customer = app.customer(&email("soak")).await;
        trail.customer = Some(customer.clone());
        let product = &self.products[rng.random_range(0..self.products.len())];
        let quantity: u32 = rng.random_range(1..=3);
        let added = app
            .add_cart_item(&customer, json!({"productId": product, "quantity": quantity}))
            .await;
        self.event();
        if added.status != 201 {
            // Sold out already.
            return trail;
        }
        let placed = app.checkout(&customer, checkout_body()).await;
        self.event();
        if placed.status != 201 {
            return trail;
        }
        let order = placed.data()["orderId"].as_str().unwrap().to_owned();
        trail.order = Some(order.clone());
        let held = app
            .wait_for_order(&customer, &order, |o| o["reservation"]["status"] != "PENDING")
            .await;
        if held["reservation"]["status"] != "RESERVED" {
            return trail;
        }
        if rng.random_bool(0.15) {
            // Cancelled before paying (or left to expire).
            if rng.random_bool(0.5) {
                app.cancel_order(&customer, &order).await;
                self.event();
            }
            return trail;
        }
        let payment = app.start_payment(&customer, &order).await;
        self.event();
        trail.payment = Some(payment.clone());
        if rng.random_bool(0.2) {
            app.confirm_payment(&customer, &payment, "pm_card_visa_chargeDeclined")
                .await;
            self.event();
        }
        let racing_cancel = rng.random_bool(0.15);
        let in_browser = rng.random_bool(0.35);
        let pay = async {
            if in_browser {
                let _ = stripe_core::payment_intent::ConfirmPaymentIntent::new(payment.as_str())
                    .payment_method("pm_card_visa")
                    .send(&app.stripe())
                    .await;
            } else {
                app.confirm_payment(&customer, &payment, "pm_card_visa").await;
            }
        };
        let cancel = async {
            if racing_cancel {
                app.cancel_order(&customer, &order).await;
            }
        };
        tokio::join!(pay, cancel);
        self.event();
        if racing_cancel {
            self.event();
        }
        // Stripe sends its report again, perhaps late (only for a payment it took).
        if rng.random_bool(0.3) {
            let intent = stripe_core::payment_intent::RetrievePaymentIntent::new(payment.as_str())
                .send(&app.stripe())
                .await;
            if intent.is_ok_and(|i| i.status.to_string() == "succeeded") {
                let total = cents(&held["summary"]["total"]);
                self.replay_succeeded(&payment, total).await;
            }
        }
        let paid = app
            .wait_for_order(&customer, &order, |o| {
                o["paymentStatus"] != "UNPAID" && o["paymentStatus"] != "FAILED" || o["status"] == "cancelled"
            })
            .await;
        let captured = cents(&paid["payment"]["amountCaptured"]);
        if captured == 0 {
            return trail;
        }
        if rng.random_bool(0.35) {
            // One to three admins refund the same amount at once.
            let amount = rng.random_range(1..=captured.min(500)) as f64 / 100.0;
            let times = rng.random_range(1..=3);
            let key = format!("soak-refund-{}", ulid::Ulid::new());
            let answers = futures::future::join_all((0..times).map(|_| {
                app.call(
                    HttpCall::new("POST", &format!("/api/v1/payments/{payment}/refund"))
                        .header("authorization", &self.admin.bearer())
                        .header("idempotency-key", &key)
                        .json(&json!({ "amount": amount })),
                )
            }))
            .await;
            self.events.fetch_add(times, Ordering::Relaxed);
            if answers.iter().any(|a| a.status == 200) {
                trail.asked_refunds += (amount * 100.0).round() as i64;
            }
        }
        if rng.random_bool(0.15) {
            let made = stripe_core::refund::CreateRefund::new()
                .payment_intent(payment.as_str())
                .amount(100)
                .send(&app.stripe())
                .await;
            self.event();
            if made.is_ok() {
                trail.asked_refunds += 100;
            }
        }
        if rng.random_bool(0.25) {
            app.cancel_order(&customer, &order).await;
            self.event();
        } else if rng.random_bool(0.4) {
            let processing = app
                .wait_for_order(&customer, &order, |o| o["status"] != "confirmed")
                .await;
            if processing["status"] == "processing" {
                let shipped = app
                    .change_order_status(
                        &self.admin,
                        &order,
                        json!({"status": "shipped", "carrier": "UPS", "trackingNumber": "1Z"}),
                    )
                    .await;
                self.event();
                if shipped.status == 200 && rng.random_bool(0.5) {
                    app.change_order_status(&self.admin, &order, json!({"status": "delivered"}))
                        .await;
                    self.event();
                }
            }
        }
        trail
    }

    async fn replay_succeeded(&self, payment: &str, total: i64) {
        let event = json!({
            "id": format!("evt_{}", ulid::Ulid::new()),
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": payment, "object": "payment_intent", "amount": total, "amount_received": total, "status": "succeeded"}}
        })
        .to_string();
        self.app
            .call(
                HttpCall::new("POST", "/api/v1/payments/webhook")
                    .header("stripe-signature", &stripe_signature(&event, WEBHOOK_SECRET))
                    .body(event),
            )
            .await;
        self.event();
    }

    /// Every invariant the lifecycle promises, for one order; returns what is wrong.
    async fn violations(&self, trail: &Trail) -> Vec<String> {
        let Some(order_id) = &trail.order else {
            return Vec::new();
        };
        let order = self.order(trail).await;
        let mut wrong = Vec::new();
        let mut check = |ok: bool, what: String| {
            if !ok {
                wrong.push(format!("{order_id}: {what}"));
            }
        };
        let status = order["status"].as_str().unwrap_or_default();
        let payment = &order["payment"];
        let captured = cents(&payment["amountCaptured"]);
        let refunded = cents(&payment["amountRefunded"]);
        let refunds = payment["refunds"].as_array().cloned().unwrap_or_default();
        let listed: i64 = refunds.iter().map(|r| cents(&r["amount"])).sum();
        check(
            listed == refunded,
            format!("refunds add up to {listed}, not {refunded}"),
        );
        check(refunded <= captured, format!("refunded {refunded} of {captured}"));
        let mut ids: Vec<&str> = refunds.iter().filter_map(|r| r["refundId"].as_str()).collect();
        ids.sort_unstable();
        let unique = ids.len();
        ids.dedup();
        check(ids.len() == unique, "a Stripe refund is listed twice".into());
        if let Some(intent) = &trail.payment {
            let mut at_stripe = self.app.stripe_refunds(intent).await;
            at_stripe.sort();
            let stripe_total: i64 = at_stripe.iter().map(|(_, c)| c).sum();
            check(
                stripe_total == refunded,
                format!("Stripe refunded {stripe_total}, the order says {refunded}"),
            );
            let stripe_ids: Vec<&str> = at_stripe.iter().map(|(id, _)| id.as_str()).collect();
            check(
                stripe_ids == ids,
                format!("Stripe's refunds {stripe_ids:?}, the order's {ids:?}"),
            );
        }
        if status == "cancelled" {
            check(
                refunded == captured,
                format!("cancelled, but {refunded} of {captured} refunded"),
            );
        } else if status != "refunded" {
            check(
                refunded == trail.asked_refunds,
                format!("refunded {refunded}, asked for {}", trail.asked_refunds),
            );
        }
        let customer = trail.customer.as_ref().expect("a customer");
        let mails: Vec<String> = self.app.mails_to(&customer.email);
        let about = |needle: &str| mails.iter().filter(|m| m.contains(needle)).count();
        check(
            about(&format!("Subject: We received your order {order_id}")) == 1,
            "the order was not mailed once".into(),
        );
        check(
            about(&format!("Subject: Payment confirmed for order {order_id}")) <= 1,
            "confirmed mailed twice".into(),
        );
        check(
            about(&format!("Subject: Order {order_id} is being prepared")) <= 1,
            "processing mailed twice".into(),
        );
        let cancelled_mails = about(&format!("Subject: Order {order_id} cancelled"));
        check(
            cancelled_mails == usize::from(status == "cancelled"),
            format!("{cancelled_mails} cancellation mails for a {status} order"),
        );
        let refund_mails: i64 = mails
            .iter()
            .filter(|m| m.contains(&format!("efund for order {order_id}")))
            .filter_map(|m| {
                let amount = m.split("Your refund of ").nth(1)?.split_whitespace().next()?;
                Some(
                    (amount
                        .trim_end_matches(|c: char| !c.is_ascii_digit())
                        .parse::<f64>()
                        .ok()?
                        * 100.0)
                        .round() as i64,
                )
            })
            .sum();
        check(
            refund_mails == refunded,
            format!("refund mails tell of {refund_mails}, {refunded} was refunded"),
        );
        wrong
    }
}

#[tokio::test]
async fn randomised_concurrent_order_sequences_keep_money_stock_and_mail_right() {
    let sequences = setting("SOAK_SEQUENCES", 12);
    let seed = setting("SOAK_SEED", rand::random::<u32>().into());
    let app = TestApp::spawn().await;
    let _served = app.serve().await;
    let admin = app.admin(&email("admin")).await;
    // Enough for about half the sequences: the rest race for the last units.
    let stocked = i64::try_from(6 + sequences / 4).unwrap_or(i64::MAX);
    let mut products = Vec::new();
    for _ in 0..4 {
        products.push(app.product_for_sale(&admin, 12.50, stocked).await);
    }
    let soak = Arc::new(Soak {
        app,
        admin,
        products,
        events: AtomicUsize::new(0),
    });

    // The consumers run all along, as Lambda's event sources would.
    let done = Arc::new(AtomicBool::new(false));
    let worker = {
        let (soak, done) = (soak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                soak.app.deliver_pending().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let trails = Arc::new(Mutex::new(Vec::new()));
    let concurrency = 8;
    let batches: Vec<Vec<u64>> = (0..sequences)
        .collect::<Vec<_>>()
        .chunks(concurrency)
        .map(<[u64]>::to_vec)
        .collect();
    for batch in batches {
        let runs = batch.iter().map(|n| {
            let soak = soak.clone();
            let trails = trails.clone();
            let seed = seed.wrapping_mul(1_000_003).wrapping_add(*n);
            async move {
                let trail = soak.sequence(seed).await;
                trails.lock().await.push(trail);
            }
        });
        futures::future::join_all(runs).await;
    }
    done.store(true, Ordering::Relaxed);
    worker.await.unwrap();

    // Unpaid holds expire; late webhooks arrive; everything pending is delivered.
    let app = &soak.app;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    app.settle().await;
    app.orders()
        .sweep(shop::domain::Timestamp::now().plus_seconds(20 * 60))
        .await
        .unwrap();
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    app.settle().await;

    let trails = trails.lock().await.clone();
    let mut violations = Vec::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut held: BTreeMap<String, i64> = BTreeMap::new();
    for trail in &trails {
        violations.extend(soak.violations(trail).await);
        if trail.order.is_some() {
            let order = soak.order(trail).await;
            *statuses
                .entry(order["status"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
            if matches!(order["reservation"]["status"].as_str(), Some("RESERVED" | "COMMITTED")) {
                for item in order["items"].as_array().into_iter().flatten() {
                    let product = item["productId"].as_str().unwrap_or_default().to_owned();
                    *held.entry(product).or_default() += item["quantity"].as_i64().unwrap_or(0);
                }
            }
        }
    }
    for product in &soak.products {
        let available = app.stock_of(product).await;
        let kept = held.get(product).copied().unwrap_or(0);
        if available < 0 || available + kept != stocked {
            violations.push(format!(
                "{product}: {available} available + {kept} held or sold != {stocked} stocked"
            ));
        }
    }
    let orders: usize = statuses.values().sum();
    println!(
        "soak: seed {seed}, {sequences} sequences, {} events, {orders} orders {statuses:?}, {} violations",
        soak.events.load(Ordering::Relaxed),
        violations.len()
    );
    assert!(violations.is_empty(), "{violations:#?}");
}
