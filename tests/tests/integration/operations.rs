//! What an operator sees: the metrics an order's path emits (exactly those),
//! every metric line valid Embedded Metric Format, and the order's id on the
//! log lines and queue messages that carry it from function to function.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use shop_local::HttpCall;
use shop_tests::{TestApp, WEBHOOK_SECRET, email, stripe_signature};

/// The business metrics emitted about `order`: name (with the extra
/// dimension's value) → summed value.
fn business_metrics_of(order: &str) -> BTreeMap<String, f64> {
    let mut found = BTreeMap::new();
    for line in shop::metrics::recorded() {
        let parsed: Value = serde_json::from_str(&line).unwrap();
        if parsed["orderId"] != order {
            continue;
        }
        for (name, value, extra) in shop::metrics::measurements(&line) {
            let business = ALL.iter().any(|m| m.name() == name && m.is_business());
            if business {
                let key = extra.map_or_else(|| name.clone(), |extra| format!("{name}[{extra}]"));
                *found.entry(key).or_insert(0.0) += value;
            }
        }
    }
    found
}

const ALL: [shop::metrics::Metric; 12] = {
    use shop::metrics::Metric::*;
    [
        OrdersPlaced,
        OrdersCancelled,
        ReservationsHeld,
        PaymentsSucceeded,
        PaymentsFailed,
        Refunds,
        RefundedAmount,
        DuplicateWebhooks,
        CheckoutConflictsRetried,
        Notifications,
        LowStockAlerts,
        OrdersOverdue,
    ]
};

fn expected(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), *value)).collect()
}

#[tokio::test]
async fn an_order_paid_through_repeated_webhooks_emits_exactly_its_business_metrics() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 20.00, 5).await;
    let order = app.reserved_order(&jane, &product, 1).await;
    let payment = app.start_payment(&jane, &order).await;
    let amount = 20_00 + 1_60 + 10_00;
    let event = json!({
        "id": format!("evt_{}", ulid::Ulid::new()),
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": payment, "object": "payment_intent", "amount": amount, "amount_received": amount, "status": "succeeded"}}
    })
    .to_string();
    // Stripe delivers the same event three times: one payment, two duplicates.
    for _ in 0..3 {
        app.call(
            HttpCall::new("POST", "/api/v1/payments/webhook")
                .header("stripe-signature", &stripe_signature(&event, WEBHOOK_SECRET))
                .body(event.clone()),
        )
        .await
        .expect_status(200);
    }
    app.settle().await;
    let delivered = app.run_consumer("NotificationsQueue", "notifications").await;
    assert_eq!(delivered.failed, 0);
    assert_eq!(app.order_of(&jane, &order).await["status"], "processing");

    // Received, payment confirmed, being prepared: three mails about the order.
    assert_eq!(
        business_metrics_of(&order),
        expected(&[
            ("OrdersPlaced", 1.0),
            ("ReservationsHeld", 1.0),
            ("PaymentsSucceeded", 1.0),
            ("DuplicateWebhooks", 2.0),
            ("Notifications[sent]", 3.0),
        ])
    );

    let cancelled = app.reserved_order(&jane, &product, 1).await;
    app.cancel_order(&jane, &cancelled).await.expect_status(200);
    app.settle().await;
    assert_eq!(
        business_metrics_of(&cancelled),
        expected(&[
            ("OrdersPlaced", 1.0),
            ("ReservationsHeld", 1.0),
            ("OrdersCancelled[customer]", 1.0),
            // Received, cancelled.
            ("Notifications[sent]", 2.0),
        ])
    );
}

#[tokio::test]
async fn every_metric_line_follows_the_embedded_metric_format_and_names_no_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 5.00, 3).await;
    let order = app.reserved_order(&jane, &product, 1).await;
    app.get_order(&jane, &order).await.expect_status(200);
    app.get_order(&jane, "ord_unknown").await.expect_status(404);
    app.settle().await;

    let lines = shop::metrics::recorded();
    assert!(!lines.is_empty());
    for line in &lines {
        assert_eq!(shop::metrics::validate(line), Ok(()), "{line}");
        assert!(!line.contains('@'), "no email in a metric line: {line}");
        let parsed: Value = serde_json::from_str(line).unwrap();
        for directive in parsed["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            for set in directive["Dimensions"].as_array().unwrap() {
                for dimension in set.as_array().unwrap() {
                    let name = dimension.as_str().unwrap();
                    assert!(
                        ["service", "function", "route", "reason", "outcome"].contains(&name),
                        "bounded dimensions only: {line}"
                    );
                    let value = parsed[name].as_str().unwrap();
                    assert!(
                        !value.contains("ord_") && !value.contains("usr_"),
                        "no id as a dimension: {line}"
                    );
                }
            }
        }
    }
    // The order's reads are measured per route template, not per order.
    let route_lines: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("\"route\":\"GET /api/v1/orders/{orderId}\""))
        .collect();
    assert!(route_lines.len() >= 2, "{route_lines:?}");
    // (Other tests' requests share the route: an unauthenticated one reads nothing.)
    let trips: Vec<f64> = route_lines
        .iter()
        .flat_map(|line| shop::metrics::measurements(line))
        .filter(|(name, _, _)| name == "DynamoDbRoundTrips")
        .map(|(_, value, _)| value)
        .collect();
    assert!(trips.iter().any(|value| *value >= 1.0), "{trips:?}");
}

#[tokio::test]
async fn an_order_id_and_its_request_travel_with_its_queue_messages() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 5.00, 3).await;
    app.add_to_cart(&jane, &product, 1).await;
    let placed = app.checkout(&jane, shop_tests::checkout_body()).await;
    placed.expect_status(201);
    let order = placed.data()["orderId"].as_str().unwrap().to_owned();
    app.pump_outbox().await;
    let received = app
        .clients
        .sqs()
        .receive_message()
        .queue_url(app.stack.queue_url("InventoryReservationQueue").unwrap())
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let messages = received.messages.unwrap_or_default();
    let ours = messages
        .iter()
        .find(|m| m.body().unwrap_or_default().contains(&order))
        .expect("the reservation message");
    let attributes = ours.message_attributes().unwrap();
    assert_eq!(attributes["orderId"].string_value(), Some(order.as_str()));
    let request = attributes["requestId"].string_value().unwrap();
    assert!(!request.is_empty());
    // The metric of the order's placement carries the same request id.
    let placed_line = shop::metrics::recorded()
        .into_iter()
        .find(|line| line.contains("OrdersPlaced") && line.contains(&order))
        .unwrap();
    let parsed: Value = serde_json::from_str(&placed_line).unwrap();
    assert_eq!(parsed["requestId"], request);
}
