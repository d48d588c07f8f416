//! Failures of the infrastructure in the middle of the flows: SQS that stops
//! answering while customers check out, pay, cancel and get refunds, and
//! DynamoDB restarted in the middle of a burst of checkouts. Each test runs on
//! emulators of its own, so freezing or restarting them disturbs no other test.

use std::time::Duration;

use serde_json::json;
use shop_local::HttpCall;
use shop_local::provision::endpoints_from_env;
use shop_tests::emulators::Emulator;
use shop_tests::{Session, TestApp, checkout_body, email, subjects};

/// How long the queue stays down (`FAULT_OUTAGE_SECS`; `make soak` makes it a minute).
fn outage() -> Duration {
    Duration::from_secs(
        std::env::var("FAULT_OUTAGE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5),
    )
}

fn count(app: &TestApp, customer: &Session, prefix: &str) -> usize {
    subjects(&app.mails_to(&customer.email))
        .iter()
        .filter(|subject| subject.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn with_sqs_frozen_checkouts_payments_cancels_and_refunds_all_end_right_once_it_is_back() {
    let moto = Emulator::moto().await;
    let mut endpoints = endpoints_from_env();
    endpoints.sqs = Some(moto.endpoint());
    endpoints.secrets_manager = Some(moto.endpoint());
    let app = TestApp::spawn_with(endpoints).await;
    let served = app.serve().await;
    // Every function has read its secrets before the outage (moto serves them too).
    let warm = reqwest_free_post(served.address, "/api/v1/payments/webhook").await;
    assert_eq!(warm, 400);
    let admin = app.admin(&email("admin")).await;
    let product = app.product_for_sale(&admin, 10.00, 50).await;
    let paying = app.customer(&email("paying")).await;
    let cancelling = app.customer(&email("cancelling")).await;
    let refunded = app.customer(&email("refunded")).await;
    let dropping = app.customer(&email("dropping")).await;
    let late = app.customer(&email("late")).await;
    let paying_order = app.reserved_order(&paying, &product, 1).await;
    let paying_payment = app.start_payment(&paying, &paying_order).await;
    let (cancelling_order, cancelling_payment) = app.paid_order(&cancelling, &product, 2).await;
    let (refunded_order, refunded_payment) = app.paid_order(&refunded, &product, 1).await;
    let dropping_order = app.reserved_order(&dropping, &product, 3).await;
    app.add_to_cart(&late, &product, 4).await;
    app.settle().await;

    moto.freeze();
    let during = async {
        app.confirm_payment(&paying, &paying_payment, "pm_card_visa")
            .await
            .expect_status(200);
        app.cancel_order(&cancelling, &cancelling_order)
            .await
            .expect_status(200);
        app.refund(&admin, &refunded_payment, json!({"amount": 3.00}))
            .await
            .expect_status(200);
        app.cancel_order(&dropping, &dropping_order).await.expect_status(200);
        let placed = app.checkout(&late, checkout_body()).await;
        placed.expect_status(201);
        // The stream's delivery fails while the queue is down.
        let report = app.pump_outbox().await;
        assert!(report.failed > 0, "{report:?}");
        placed.data()["orderId"].as_str().unwrap().to_owned()
    };
    let (late_order, ()) = tokio::join!(during, tokio::time::sleep(outage()));
    moto.thaw();

    app.settle().await;
    // What the stream gave up on while the queue was down, the sweeper sends again.
    let later = shop::domain::Timestamp::now().plus_seconds(3 * 60);
    app.orders().sweep(later).await.unwrap();
    app.settle().await;

    let paid = app.order_of(&paying, &paying_order).await;
    assert_eq!(
        (paid["status"].as_str(), paid["paymentStatus"].as_str()),
        (Some("processing"), Some("PAID"))
    );
    let cancelled = app.order_of(&cancelling, &cancelling_order).await;
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["paymentStatus"].as_str()),
        (Some("cancelled"), Some("REFUNDED"))
    );
    let at_stripe = app.stripe_refunds(&cancelling_payment).await;
    assert_eq!(at_stripe.len(), 1, "one refund, however often it was asked");
    let partly = app.order_of(&refunded, &refunded_order).await;
    assert_eq!(partly["payment"]["amountRefunded"], json!(3.00));
    assert_eq!(app.stripe_refunds(&refunded_payment).await.len(), 1);
    let dropped = app.order_of(&dropping, &dropping_order).await;
    assert_eq!(dropped["reservation"]["status"], "RELEASED");
    let placed = app.order_of(&late, &late_order).await;
    assert_eq!(placed["reservation"]["status"], "RESERVED");
    // 50 - 1 (paid) - 1 (partly refunded, kept) - 4 (late, held).
    assert_eq!(app.stock_of(&product).await, 44);

    // Every mail went out, once.
    assert_eq!(count(&app, &paying, "Payment confirmed"), 1);
    assert_eq!(
        count(&app, &paying, &format!("Order {paying_order} is being prepared")),
        1
    );
    assert_eq!(
        count(&app, &cancelling, &format!("Order {cancelling_order} cancelled")),
        1
    );
    assert_eq!(count(&app, &cancelling, "Refund for order"), 1);
    assert_eq!(count(&app, &refunded, "Partial refund for order"), 1);
    assert_eq!(count(&app, &dropping, &format!("Order {dropping_order} cancelled")), 1);
    assert_eq!(count(&app, &late, &format!("We received your order {late_order}")), 1);
    assert_eq!(count(&app, &late, "Welcome"), 1);
}

/// A POST without a body or signature to the served API; returns the status.
async fn reqwest_free_post(address: std::net::SocketAddr, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request =
        format!("POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0)
}

/// Places the customer's order, retrying (with the same key) what failed
/// while the database was away, as a client would; returns the order id and
/// how many attempts failed.
async fn checkout_until_placed(app: &TestApp, customer: &Session) -> (String, usize) {
    let key = format!("burst-{}", ulid::Ulid::new());
    for failed in 0..60 {
        let answer = app
            .call(
                HttpCall::new("POST", "/api/v1/orders")
                    .header("authorization", &customer.bearer())
                    .header("idempotency-key", &key)
                    .json(&checkout_body()),
            )
            .await;
        match answer.status {
            201 => return (answer.data()["orderId"].as_str().unwrap().to_owned(), failed),
            500.. => tokio::time::sleep(Duration::from_millis(300)).await,
            other => panic!("checkout answered {other}: {}", answer.body),
        }
    }
    panic!("the checkout never went through");
}

/// The number of units in the customer's cart, asking until the API answers
/// (each failed answer counted in `failures`).
async fn items_in_cart(app: &TestApp, customer: &Session, failures: &mut usize) -> u64 {
    for _ in 0..60 {
        let cart = app.get_cart(customer).await;
        if cart.status == 200 {
            return cart.data()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["quantity"].as_u64().unwrap())
                .sum();
        }
        *failures += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("the cart never answered");
}

#[tokio::test]
async fn with_dynamodb_restarted_mid_burst_no_order_is_lost_or_half_written() {
    let data = std::env::temp_dir().join(format!("dynamodb-{}", ulid::Ulid::new()));
    let mut dynamodb = Emulator::dynamodb(&data).await;
    let mut endpoints = endpoints_from_env();
    endpoints.dynamodb = Some(dynamodb.endpoint());
    let app = TestApp::spawn_with(endpoints).await;
    let admin = app.admin(&email("admin")).await;
    let product = app.product_for_sale(&admin, 7.00, 100).await;
    let mut customers = Vec::new();
    for n in 0..10 {
        customers.push(app.customer(&email(&format!("burst{n}"))).await);
    }

    // Each customer fills a cart and checks out, three times over; the
    // database goes away and comes back while they do.
    let shopping = |customer: &Session| {
        let app = &app;
        let product = product.clone();
        let customer = customer.clone();
        async move {
            let mut orders = Vec::new();
            let mut failures = 0;
            for _ in 0..3 {
                // An add whose answer was lost may still have landed: like a
                // careful client, look at the cart before adding again.
                while items_in_cart(app, &customer, &mut failures).await == 0 {
                    let added = app
                        .add_cart_item(&customer, json!({"productId": product, "quantity": 1}))
                        .await;
                    match added.status {
                        201 => break,
                        500.. => {
                            failures += 1;
                            tokio::time::sleep(Duration::from_millis(300)).await;
                        }
                        other => panic!("adding to the cart answered {other}: {}", added.body),
                    }
                }
                let (order, failed) = checkout_until_placed(app, &customer).await;
                orders.push(order);
                failures += failed;
            }
            (orders, failures)
        }
    };
    let burst = futures::future::join_all(customers.iter().map(shopping));
    let restart = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        dynamodb.restart().await;
    };
    let (results, ()) = tokio::join!(burst, restart);
    let failures: usize = results.iter().map(|(_, failed)| failed).sum();
    assert!(failures > 0, "the restart happened while customers were shopping");
    let placed: Vec<Vec<String>> = results.into_iter().map(|(orders, _)| orders).collect();

    for (customer, orders) in customers.iter().zip(&placed) {
        let mine = app.list_orders(customer).await;
        mine.expect_status(200);
        let mut ids: Vec<&str> = mine.data()["orders"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|o| o["orderId"].as_str())
            .collect();
        ids.sort_unstable();
        let mut answered: Vec<&str> = orders.iter().map(String::as_str).collect();
        answered.sort_unstable();
        assert_eq!(ids, answered, "one order per checkout, the one answered");
        let cart = app.get_cart(customer).await;
        assert_eq!(
            cart.data()["items"].as_array().unwrap().len(),
            0,
            "the cart went with the order"
        );
    }
    app.settle().await;
    let later = shop::domain::Timestamp::now().plus_seconds(3 * 60);
    app.orders().sweep(later).await.unwrap();
    app.settle().await;
    for (customer, orders) in customers.iter().zip(&placed) {
        for order in orders {
            let detail = app.order_of(customer, order).await;
            assert_eq!(detail["reservation"]["status"], "RESERVED", "{detail}");
            assert_eq!(count(&app, customer, &format!("We received your order {order}")), 1);
        }
    }
    assert_eq!(app.stock_of(&product).await, 100 - 3 * 10);
    drop(dynamodb);
    let _ = std::fs::remove_dir_all(&data);
}
