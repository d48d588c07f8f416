//! The order and payment lifecycle on the real stack: late and repeated Stripe
//! reports, racing refunds, refunds made outside the API, racing checkout
//! retries, queues that refuse messages and reads left unprocessed.

use std::time::Duration;

use serde_json::{Value, json};
use shop::store::outbox::Destination;
use shop_local::HttpCall;
use shop_tests::{Session, TestApp, WEBHOOK_SECRET, checkout_body, email, stripe_signature, subjects};

/// A signed `payment_intent.succeeded` for the payment, as Stripe sends it again.
async fn replay_payment_succeeded(app: &TestApp, payment: &str, cents: i64) -> Value {
    let event = json!({
        "id": format!("evt_{}", ulid::Ulid::new()),
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": payment, "object": "payment_intent", "amount": cents, "amount_received": cents, "status": "succeeded"}}
    })
    .to_string();
    let delivered = app
        .call(
            HttpCall::new("POST", "/api/v1/payments/webhook")
                .header("stripe-signature", &stripe_signature(&event, WEBHOOK_SECRET))
                .body(event),
        )
        .await;
    delivered.expect_status(200);
    delivered.data().clone()
}

fn cents(value: &Value) -> i64 {
    (value.as_f64().unwrap() * 100.0).round() as i64
}

/// The mails `customer` got whose subject starts with `prefix`.
fn mails_about(app: &TestApp, customer: &Session, prefix: &str) -> Vec<String> {
    subjects(&app.mails_to(&customer.email))
        .into_iter()
        .filter(|subject| subject.starts_with(prefix))
        .collect()
}

#[tokio::test]
async fn a_payment_report_arriving_after_a_partial_refund_refunds_nothing_more() {
    let app = TestApp::spawn().await;
    let _served = app.serve().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 25.00, 6).await;
    let order = app.reserved_order(&jane, &product, 2).await;
    let payment = app.start_payment(&jane, &order).await;

    // Confirmed, then partly refunded at once: localstripe's own
    // payment_intent.succeeded webhook is still on its way (it arrives ~1 s later).
    app.confirm_payment(&jane, &payment, "pm_card_visa")
        .await
        .expect_status(200);
    app.refund(&admin, &payment, json!({"amount": 2.00}))
        .await
        .expect_status(200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // And Stripe delivers it once more.
    let total = cents(&app.order_of(&jane, &order).await["summary"]["total"]);
    let replayed = replay_payment_succeeded(&app, &payment, total).await;
    assert_eq!(replayed["outcome"], "unchanged");

    let after = app.order_of(&jane, &order).await;
    assert_eq!(after["status"], "confirmed");
    assert_eq!(after["paymentStatus"], "PARTIALLY_REFUNDED");
    assert_eq!(after["reservation"]["status"], "RESERVED");
    assert_eq!(after["payment"]["amountRefunded"], json!(2.00));
    assert_eq!(after["payment"]["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(app.stock_of(&product).await, 4, "nothing went back on the shelf");
    assert_eq!(app.stripe_refunds(&payment).await.len(), 1, "Stripe refunded once");

    // Shipped, the order ignores the report just as well.
    app.run_consumer("OrderFulfillmentQueue", "order-fulfillment").await;
    app.change_order_status(
        &admin,
        &order,
        json!({"status": "shipped", "carrier": "UPS", "trackingNumber": "1Z999"}),
    )
    .await
    .expect_status(200);
    replay_payment_succeeded(&app, &payment, total).await;
    let shipped = app.order_of(&jane, &order).await;
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["payment"]["amountRefunded"], json!(2.00));
    assert_eq!(app.stripe_refunds(&payment).await.len(), 1);
}

#[tokio::test]
async fn refunds_asked_three_times_at_once_are_listed_and_mailed_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 30.00, 5).await;
    let (order, payment) = app.paid_order(&jane, &product, 1).await;

    // An admin's screen sends the same refund three times (double clicks, retries).
    let key = format!("refund-{}", ulid::Ulid::new());
    let partial = futures::future::join_all((0..3).map(|_| {
        app.call(
            HttpCall::new("POST", &format!("/api/v1/payments/{payment}/refund"))
                .header("authorization", &admin.bearer())
                .header("idempotency-key", &key)
                .json(&json!({"amount": 2.00})),
        )
    }))
    .await;
    for response in &partial {
        response.expect_status(200);
    }
    let after = app.order_of(&jane, &order).await;
    let refunds = after["payment"]["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{after}");
    assert_eq!(after["payment"]["amountRefunded"], json!(2.00));
    assert_eq!(app.stripe_refunds(&payment).await.len(), 1);

    // Three refunds of "the rest" without a key: those that read the same state
    // are one Stripe refund; whatever Stripe made is listed once and adds up.
    let full = futures::future::join_all((0..3).map(|_| app.refund(&admin, &payment, json!({})))).await;
    assert!(full.iter().any(|r| r.status == 200));
    let refunded = app.order_of(&jane, &order).await;
    assert_eq!(refunded["status"], "refunded");
    let listed: i64 = refunded["payment"]["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| cents(&r["amount"]))
        .sum();
    assert_eq!(
        listed,
        cents(&refunded["payment"]["amountRefunded"]),
        "the list adds up"
    );
    assert_eq!(listed, cents(&refunded["summary"]["total"]));
    let at_stripe: i64 = app.stripe_refunds(&payment).await.iter().map(|(_, c)| c).sum();
    assert_eq!(at_stripe, listed);

    app.run_consumer("NotificationsQueue", "notifications").await;
    assert_eq!(mails_about(&app, &jane, "Partial refund for order").len(), 1);
    assert_eq!(mails_about(&app, &jane, "Refund for order").len(), 1);
}

#[tokio::test]
async fn a_refund_made_in_the_stripe_dashboard_is_listed_and_mailed() {
    let app = TestApp::spawn().await;
    let _served = app.serve().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 40.00, 5).await;
    let (order, payment) = app.paid_order(&jane, &product, 1).await;

    let made = stripe_core::refund::CreateRefund::new()
        .payment_intent(payment.as_str())
        .amount(300)
        .send(&app.stripe())
        .await
        .unwrap();

    // Stripe tells the API with charge.refunded.
    let after = app
        .wait_for_order(&jane, &order, |o| o["payment"]["amountRefunded"] == json!(3.00))
        .await;
    let refunds = after["payment"]["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["refundId"], made.id.as_str());
    assert_eq!(after["paymentStatus"], "PARTIALLY_REFUNDED");
    assert_eq!(after["status"], "confirmed", "a partial refund keeps the order");
    app.run_consumer("NotificationsQueue", "notifications").await;
    let partial = app.mails_to(&jane.email);
    let mail = partial
        .iter()
        .find(|m| m.contains("Subject: Partial refund for order"))
        .expect("a partial refund is mailed");
    assert!(mail.contains("3.00"), "{mail}");
}

#[tokio::test]
async fn retries_of_one_checkout_racing_each_other_all_answer_with_its_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 5.00, 1000).await;
    for round in 0..40 {
        app.add_to_cart(&jane, &product, 1).await;
        let key = format!("retry-{round}-{}", ulid::Ulid::new());
        let attempts = (0..4).map(|_| {
            app.call(
                HttpCall::new("POST", "/api/v1/orders")
                    .header("authorization", &jane.bearer())
                    .header("idempotency-key", &key)
                    .json(&checkout_body()),
            )
        });
        let answers = futures::future::join_all(attempts).await;
        let orders: Vec<&str> = answers
            .iter()
            .map(|answer| {
                answer.expect_status(201);
                answer.data()["orderId"].as_str().unwrap()
            })
            .collect();
        assert!(orders.iter().all(|o| *o == orders[0]), "round {round}: {orders:?}");
        let created = answers
            .iter()
            .filter(|a| a.header("idempotent-replayed").is_none())
            .count();
        assert_eq!(created, 1, "round {round}: one request created the order");
    }
}

#[tokio::test]
async fn a_refund_asked_while_the_queue_is_unreachable_is_made_once_it_is_back() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 12.00, 5).await;
    let (order, payment) = app.paid_order(&jane, &product, 1).await;
    app.pump_outbox().await;

    app.cancel_order(&jane, &order).await.expect_status(200);
    // The dispatcher cannot reach SQS: the refund request stays in the outbox.
    let unreachable = app.with_sqs_at("http://127.0.0.1:9").await;
    let failed = unreachable.poll_once().await.unwrap();
    assert!(failed.failed >= 1, "{failed:?}");
    let now = shop::domain::Timestamp::now();
    let pending = app
        .orders()
        .store
        .pending_outbox(now.unix() * 1000 + 1000)
        .await
        .unwrap();
    assert!(
        pending
            .iter()
            .any(|m| m.destination == Destination::Fulfillment && m.order_id.is_some_and(|o| o.to_string() == order)),
        "the refund request waits in the outbox: {pending:?}"
    );

    // SQS is back: the sweeper re-drives, the stream delivers too; one refund either way.
    let swept = app.orders().sweep(now.plus_seconds(3 * 60)).await.unwrap();
    assert!(swept.redriven >= 2, "{swept:?}");
    app.run_consumer("OrderFulfillmentQueue", "order-fulfillment").await;
    let refunded = app.order_of(&jane, &order).await;
    assert_eq!(refunded["status"], "cancelled");
    assert_eq!(refunded["paymentStatus"], "REFUNDED");
    assert_eq!(app.stripe_refunds(&payment).await.len(), 1);
    app.run_consumer("NotificationsQueue", "notifications").await;
    assert_eq!(mails_about(&app, &jane, "Refund for order").len(), 1);
    assert_eq!(mails_about(&app, &jane, &format!("Order {order} cancelled")).len(), 1);
}

#[tokio::test]
async fn reads_left_unprocessed_by_a_throttled_table_fail_instead_of_losing_products() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 9.00, 5).await;
    app.add_to_cart(&jane, &product, 2).await;
    let throttled = app.with_batch_reads_unprocessed().await;

    let cart = app
        .call_via(
            &throttled,
            HttpCall::new("GET", "/api/v1/cart").header("authorization", &jane.bearer()),
        )
        .await;
    assert_eq!(cart.status, 503, "the cart is not shown with its products missing");
    let checkout = app
        .call_via(
            &throttled,
            HttpCall::new("POST", "/api/v1/orders")
                .header("authorization", &jane.bearer())
                .json(&checkout_body()),
        )
        .await;
    assert_eq!(checkout.status, 503);

    let intact = app.get_cart(&jane).await;
    intact.expect_status(200);
    assert_eq!(
        intact.data()["items"].as_array().unwrap().len(),
        1,
        "nothing was written"
    );
    assert_eq!(app.stock_of(&product).await, 5);
}

#[tokio::test]
async fn each_order_and_payment_change_costs_its_documented_round_trips() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 10.00, 9).await;
    let order = app.reserved_order(&jane, &product, 1).await;

    app.reset_calls();
    let payment = app.start_payment(&jane, &order).await;
    assert_eq!(app.calls(), ["GetItem", "TransactWriteItems"], "start a payment");

    app.confirm_payment(&jane, &payment, "pm_card_visa")
        .await
        .expect_status(200);
    assert_eq!(
        app.calls(),
        ["GetItem", "GetItem", "TransactWriteItems"],
        "confirm: lookup, order, one transaction"
    );

    app.refund(&admin, &payment, json!({"amount": 1.00}))
        .await
        .expect_status(200);
    assert_eq!(
        app.calls(),
        ["GetItem", "GetItem", "TransactWriteItems"],
        "refund: lookup, order, one transaction"
    );

    let total = cents(&app.order_of(&jane, &order).await["summary"]["total"]);
    app.reset_calls();
    replay_payment_succeeded(&app, &payment, total).await;
    assert_eq!(app.calls(), ["GetItem", "GetItem"], "a webhook that changes nothing");

    let fulfil = app.drain_queue("OrderFulfillmentQueue").await;
    app.reset_calls();
    let batch = shop_tests::sqs_event(&[fulfil[0].to_string()]);
    app.gateway_functions()
        .call_sqs("order-fulfillment", batch)
        .await
        .unwrap();
    assert_eq!(
        app.calls(),
        ["GetItem", "TransactWriteItems"],
        "fulfilment: the order, one transaction with the purchases"
    );

    app.change_order_status(
        &admin,
        &order,
        json!({"status": "shipped", "carrier": "UPS", "trackingNumber": "1Z"}),
    )
    .await
    .expect_status(200);
    assert_eq!(app.calls(), ["GetItem", "TransactWriteItems"], "an admin status change");

    let other = app.reserved_order(&jane, &product, 1).await;
    app.reset_calls();
    app.cancel_order(&jane, &other).await.expect_status(200);
    assert_eq!(
        app.calls(),
        ["GetItem", "TransactWriteItems"],
        "cancel: the order, one transaction with its stock"
    );
}
