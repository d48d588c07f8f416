//! Payments against localstripe, fulfilment, notifications through the SMTP
//! sink, and the daily report.

use serde_json::json;
use shop_local::HttpCall;
use shop_tests::{Session, TestApp, WEBHOOK_SECRET, email, stripe_signature, subjects};
use std::time::Duration;

#[tokio::test]
async fn a_customer_pays_the_order_ships_and_every_step_is_mailed() {
    let app = TestApp::spawn().await;
    let _served = app.serve().await;
    let admin = app.admin(&email("admin")).await;
    let jane_email = email("jane");
    let jane = app.customer(&jane_email).await;
    let product = app.product_for_sale(&admin, 49.99, 10).await;
    let browsed = app.list_products("limit=50").await;
    browsed.expect_status(200);
    assert!(
        browsed.data()["products"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["productId"] == product.as_str()),
        "the product is in the catalog"
    );
    let order = app.reserved_order(&jane, &product, 2).await;

    let payment = app.start_payment(&jane, &order).await;
    assert!(payment.starts_with("pi_"));
    let again = app.create_payment(&jane, &order).await;
    again.expect_status(201);
    assert_eq!(again.data()["paymentId"], payment.as_str(), "one intent per order");
    assert_eq!(again.data()["amount"], json!(117.97));

    let stranger = app.customer(&email("stranger")).await;
    app.confirm_payment(&stranger, &payment, "pm_card_visa")
        .await
        .expect_status(404);

    // The customer pays in the browser (Stripe.js confirms with the client secret):
    // only localstripe's signed payment_intent.succeeded webhook tells the API.
    let paid_in_browser = stripe_core::payment_intent::ConfirmPaymentIntent::new(payment.as_str())
        .payment_method("pm_card_visa")
        .send(&app.stripe())
        .await
        .unwrap();
    assert_eq!(paid_in_browser.status.to_string(), "succeeded");
    let paid = app.wait_for_order(&jane, &order, |o| o["status"] == "confirmed").await;
    assert_eq!(paid["paymentStatus"], "PAID");
    assert_eq!(paid["payment"]["status"], "succeeded");
    let twice = app.confirm_payment(&jane, &payment, "pm_card_visa").await;
    twice.expect_status(400);
    assert_eq!(twice.code(), "BUS_003", "paid once, never twice");
    assert_eq!(
        app.queue_depth("OrderFulfillmentQueue").await,
        1,
        "fulfilment asked once"
    );

    let fulfilled = app.run_consumer("OrderFulfillmentQueue", "order-fulfillment").await;
    assert_eq!((fulfilled.received, fulfilled.failed), (1, 0));
    let processing = app.order_of(&jane, &order).await;
    assert_eq!(processing["status"], "processing");
    assert_eq!(processing["reservation"]["status"], "COMMITTED");
    assert_eq!(app.stock_of(&product).await, 8);

    app.change_order_status(
        &admin,
        &order,
        json!({"status": "shipped", "carrier": "UPS", "trackingNumber": "1Z999AA10123456784",
               "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784"}),
    )
    .await
    .expect_status(200);
    app.change_order_status(&admin, &order, json!({"status": "delivered"}))
        .await
        .expect_status(200);

    let delivered = app.run_consumer("NotificationsQueue", "notifications").await;
    assert_eq!(delivered.failed, 0);
    let mails = app.mails_to(&jane_email);
    let subjects = subjects(&mails);
    for expected in [
        "Welcome to".to_owned(),
        format!("We received your order {order}"),
        format!("Payment confirmed for order {order}"),
        format!("Order {order} is being prepared"),
        format!("Order {order} shipped"),
        format!("Order {order} delivered"),
    ] {
        assert_eq!(
            subjects.iter().filter(|s| s.starts_with(&expected)).count(),
            1,
            "{expected} in {subjects:?}"
        );
    }
    let shipped = mails
        .iter()
        .find(|m| m.contains(&format!("Subject: Order {order} shipped")))
        .unwrap();
    assert!(shipped.contains("1Z999AA10123456784"), "{shipped}");

    let history = app.list_notifications(&jane, "limit=50").await;
    history.expect_status(200);
    let sent: Vec<&str> = history.data()["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["status"] == "SENT")
        .map(|n| n["subject"].as_str().unwrap())
        .collect();
    assert_eq!(sent.len(), 6, "{sent:?}");
    let theirs = app.list_notifications(&stranger, "").await;
    assert!(
        theirs.data()["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["type"] == "welcome"),
        "one customer's mail is not another's: {}",
        theirs.body
    );

    let review = app
        .create_review(
            &jane,
            &product,
            json!({"rating": 5, "title": "Great sound", "content": "Crisp highs and deep bass, worth it."}),
        )
        .await;
    review.expect_status(201);
    assert_eq!(
        review.data()["isVerified"],
        true,
        "a paid order makes the review verified"
    );
}

#[tokio::test]
async fn a_webhook_delivered_three_times_confirms_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 20.00, 5).await;
    let order = app.reserved_order(&jane, &product, 1).await;
    let payment = app.start_payment(&jane, &order).await;
    app.drain_queue("NotificationsQueue").await;
    let amount = 20_00 + 1_60 + 10_00;
    let event = json!({
        "id": format!("evt_{}", ulid::Ulid::new()),
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": payment, "object": "payment_intent", "amount": amount, "amount_received": amount, "status": "succeeded"}}
    })
    .to_string();

    let forged = app
        .call(
            HttpCall::new("POST", "/api/v1/payments/webhook")
                .header("stripe-signature", &stripe_signature(&event, "whsec_not_ours"))
                .body(event.clone()),
        )
        .await;
    forged.expect_status(400);
    assert_eq!(forged.bad_fields(), ["Stripe-Signature"]);
    let unsigned = app
        .call(HttpCall::new("POST", "/api/v1/payments/webhook").body(event.clone()))
        .await;
    unsigned.expect_status(400);
    assert_eq!(app.order_of(&jane, &order).await["paymentStatus"], "UNPAID");

    for _ in 0..3 {
        app.call(
            HttpCall::new("POST", "/api/v1/payments/webhook")
                .header("stripe-signature", &stripe_signature(&event, WEBHOOK_SECRET))
                .body(event.clone()),
        )
        .await
        .expect_status(200);
    }
    let paid = app.order_of(&jane, &order).await;
    assert_eq!(paid["status"], "confirmed");
    assert_eq!(paid["paymentStatus"], "PAID");
    let confirmations = paid["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["status"] == "confirmed")
        .count();
    assert_eq!(confirmations, 1);
    assert_eq!(app.queue_depth("OrderFulfillmentQueue").await, 1);
    let queued = app.drain_queue("NotificationsQueue").await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0]["status"], "confirmed");

    // A fulfilment message delivered twice moves the order once.
    let fulfil = app.drain_queue("OrderFulfillmentQueue").await;
    let body = fulfil[0].to_string();
    let first = app
        .gateway_functions()
        .call_sqs("order-fulfillment", shop_tests::sqs_event(&[body.clone(), body]))
        .await
        .unwrap();
    assert!(first.batch_item_failures.is_empty());
    let processing = app.order_of(&jane, &order).await;
    assert_eq!(processing["status"], "processing");
    assert_eq!(
        processing["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["status"] == "processing")
            .count(),
        1
    );
    assert_eq!(app.stock_of(&product).await, 4);
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_payable_and_tells_the_customer() {
    let app = TestApp::spawn().await;
    let _served = app.serve().await;
    let admin = app.admin(&email("admin")).await;
    let jane_email = email("jane");
    let jane = app.customer(&jane_email).await;
    let product = app.product_for_sale(&admin, 30.00, 5).await;
    let order = app.reserved_order(&jane, &product, 1).await;
    let payment = app.start_payment(&jane, &order).await;

    let declined = app
        .confirm_payment(&jane, &payment, "pm_card_visa_chargeDeclined")
        .await;
    declined.expect_status(400);
    assert_eq!(declined.code(), "BUS_003");
    let failed = app.order_of(&jane, &order).await;
    assert_eq!(failed["status"], "pending");
    assert_eq!(failed["paymentStatus"], "FAILED");
    assert_eq!(failed["payment"]["status"], "requires_payment_method");
    assert!(
        failed["payment"]["lastError"].as_str().unwrap().contains("declined"),
        "{failed}"
    );

    let bad = app.confirm_payment(&jane, &payment, "4242").await;
    bad.expect_status(400);
    assert_eq!(bad.bad_fields(), ["paymentMethod"]);

    // localstripe's payment_intent.payment_failed webhook queues the mail.
    let mut mails = Vec::new();
    for _ in 0..50 {
        app.run_consumer("NotificationsQueue", "notifications").await;
        mails = subjects(&app.mails_to(&jane_email));
        if mails.iter().any(|s| s.starts_with("Payment failed")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        mails.contains(&format!("Payment failed for order {order}")),
        "{mails:?}"
    );

    let retried = app.confirm_payment(&jane, &payment, "pm_card_visa").await;
    retried.expect_status(200);
    app.wait_for_order(&jane, &order, |o| o["paymentStatus"] == "PAID")
        .await;
}

#[tokio::test]
async fn an_admin_refund_of_an_unshipped_order_returns_its_stock() {
    let app = TestApp::spawn().await;
    let _served = app.serve().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 25.00, 6).await;
    let order = app.reserved_order(&jane, &product, 2).await;
    let payment = app.start_payment(&jane, &order).await;
    app.confirm_payment(&jane, &payment, "pm_card_visa")
        .await
        .expect_status(200);
    app.run_consumer("OrderFulfillmentQueue", "order-fulfillment").await;
    assert_eq!(app.stock_of(&product).await, 4);

    app.refund(&jane, &payment, json!({})).await.expect_status(403);
    let too_much = app.refund(&admin, &payment, json!({"amount": 1000.00})).await;
    too_much.expect_status(400);
    assert_eq!(too_much.bad_fields(), ["amount"]);

    let partial = app.refund(&admin, &payment, json!({"amount": 10.00})).await;
    partial.expect_status(200);
    assert_eq!(partial.data()["status"], "partially_refunded");
    assert_eq!(app.stock_of(&product).await, 4, "a partial refund keeps the order");

    let rest = app.refund(&admin, &payment, json!({})).await;
    rest.expect_status(200);
    assert_eq!(rest.data()["status"], "refunded");
    let refunded = app.order_of(&jane, &order).await;
    assert_eq!(refunded["status"], "refunded");
    assert_eq!(refunded["paymentStatus"], "REFUNDED");
    assert_eq!(refunded["payment"]["paymentId"], payment.as_str());
    assert_eq!(refunded["payment"]["amountRefunded"], refunded["summary"]["total"]);
    let refunds = refunded["payment"]["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 2);
    assert_eq!(refunds[0]["amount"], json!(10.00));
    assert_eq!(app.stock_of(&product).await, 6, "the stock goes back on the shelf");
    // localstripe's charge.refunded webhooks arrive later and change nothing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.stock_of(&product).await, 6);

    app.refund(&admin, &payment, json!({})).await.expect_status(400);
}

#[tokio::test]
async fn a_poison_fulfilment_message_ends_in_the_dead_letter_queue() {
    let app = TestApp::spawn().await;
    let response = app
        .gateway_functions()
        .call_sqs("order-fulfillment", shop_tests::sqs_event(&["not json".to_owned()]))
        .await
        .unwrap();
    assert_eq!(response.batch_item_failures.len(), 1, "reported, not swallowed");

    let url = app.stack.queue_url("OrderFulfillmentQueue").unwrap().to_owned();
    app.clients
        .sqs()
        .send_message()
        .queue_url(&url)
        .message_body("{\"type\": \"fulfill\"}")
        .send()
        .await
        .unwrap();
    for _ in 0..5 {
        app.run_consumer("OrderFulfillmentQueue", "order-fulfillment").await;
    }
    assert_eq!(app.queue_depth("OrderFulfillmentQueue").await, 0);
    let dead = app.drain_queue("OrderFulfillmentDLQ").await;
    assert_eq!(dead, [json!({"type": "fulfill"})]);
}

#[tokio::test]
async fn the_daily_report_adds_up_the_day_and_alerts_on_low_stock() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 40.00, 8).await;
    let paid = app.reserved_order(&jane, &product, 3).await;
    let payment = app.start_payment(&jane, &paid).await;
    app.confirm_payment(&jane, &payment, "pm_card_visa")
        .await
        .expect_status(200);
    app.run_consumer("OrderFulfillmentQueue", "order-fulfillment").await;
    let unpaid = app.reserved_order(&jane, &product, 1).await;
    app.cancel_order_because(&jane, &unpaid, "changed my mind")
        .await
        .expect_status(200);
    app.drain_queue("NotificationsQueue").await;

    let today = time::OffsetDateTime::now_utc().date().to_string();
    let run = app
        .gateway_functions()
        .call_job(
            "daily-report",
            json!({"detail-type": "Scheduled Event", "time": "2026-01-01T00:05:00Z", "detail": {"date": today}}),
        )
        .await
        .unwrap();
    assert_eq!(run, json!({"date": today, "orders": 2, "lowStockAlerts": 1}));
    let alerts = app.drain_queue("NotificationsQueue").await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["type"], "low_stock");
    assert_eq!(alerts[0]["productId"], product.as_str());

    app.daily_report(&jane, &today).await.expect_status(403);
    let report = app.daily_report(&admin, &today).await;
    report.expect_status(200);
    let report = report.data();
    assert_eq!(report["orders"], 2);
    assert_eq!(report["paidOrders"], 1);
    assert_eq!(report["cancellations"], 1);
    assert_eq!(report["unitsSold"], 3);
    assert_eq!(report["revenue"], json!(139.60), "120.00 + 9.60 tax + 10.00 shipping");
    assert_eq!(report["topProducts"][0]["productId"], product.as_str());

    let bad = app.daily_report(&admin, "yesterday").await;
    bad.expect_status(400);
    assert_eq!(bad.bad_fields(), ["date"]);
    app.daily_report(&admin, "2001-01-01").await.expect_status(404);

    // The alert is mailed once, even when a retried schedule runs the job again.
    let sku = app.get_product(&product).await.data()["sku"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        app.gateway_functions()
            .call_job("daily-report", json!({"detail": {"date": today}}))
            .await
            .unwrap();
        app.run_consumer("NotificationsQueue", "notifications").await;
    }
    let alerts = subjects(&app.mails_to("operations@shop.local"));
    assert_eq!(alerts.iter().filter(|s| s.contains(&sku)).count(), 1, "{alerts:?}");
}

#[tokio::test]
async fn a_customer_who_opts_out_of_marketing_still_gets_order_mail() {
    let app = TestApp::spawn().await;
    let jane_email = email("jane");
    let jane = app.customer(&jane_email).await;

    let settings = app.notification_settings(&jane).await;
    settings.expect_status(200);
    assert_eq!(settings.data()["marketing"], true);
    let invalid = app
        .update_notification_settings(&jane, json!({"marketing": "no"}))
        .await;
    invalid.expect_status(400);
    assert_eq!(invalid.bad_fields(), ["marketing"]);
    app.update_notification_settings(&jane, json!({"marketing": false}))
        .await
        .expect_status(200);
    assert_eq!(app.notification_settings(&jane).await.data()["marketing"], false);

    app.request_password_reset(&jane_email).await.expect_status(202);
    let report = app.run_consumer("NotificationsQueue", "notifications").await;
    assert_eq!(report.failed, 0);

    let subjects = subjects(&app.mails_to(&jane_email));
    assert!(!subjects.iter().any(|s| s.starts_with("Welcome")), "{subjects:?}");
    assert!(subjects.iter().any(|s| s.starts_with("Reset your")), "{subjects:?}");
    let history = app.list_notifications(&jane, "").await;
    let statuses: Vec<(String, String)> = history.data()["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap().to_owned(),
                n["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("welcome".to_owned(), "SKIPPED".to_owned())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("password_reset".to_owned(), "SENT".to_owned())),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_paid_order_outlives_its_hold_and_its_undelivered_fulfilment_is_re_driven() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 15.00, 5).await;
    let (order, _) = app.paid_order(&jane, &product, 2).await;

    // Nothing left the outbox yet: the fulfilment request waits there.
    let later = shop::domain::Timestamp::now().plus_seconds(60 * 60);
    let report = app.orders().sweep(later).await.unwrap();
    assert_eq!(report.expired, 0, "a paid order is never expired");
    assert!(report.redriven >= 1, "{report:?}");
    assert_eq!(app.order_of(&jane, &order).await["status"], "confirmed");
    app.run_consumer("OrderFulfillmentQueue", "order-fulfillment").await;
    let fulfilled = app.order_of(&jane, &order).await;
    assert_eq!(fulfilled["status"], "processing");
    assert_eq!(fulfilled["paymentStatus"], "PAID");
    assert_eq!(app.stock_of(&product).await, 3);
}

#[tokio::test]
async fn a_cancelled_order_cannot_be_charged() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 15.00, 5).await;
    let order = app.reserved_order(&jane, &product, 1).await;
    let payment = app.start_payment(&jane, &order).await;
    app.cancel_order(&jane, &order).await.expect_status(200);

    let refused = app.confirm_payment(&jane, &payment, "pm_card_visa").await;
    refused.expect_status(400);
    assert_eq!(refused.code(), "BUS_003");
    let cancelled = app.order_of(&jane, &order).await;
    assert_eq!(cancelled["paymentStatus"], "UNPAID");
    assert_eq!(cancelled["payment"]["status"], "requires_payment_method");
}

/// A second product, one of it in the customer's cart; returns its id.
async fn spare_in_cart(app: &TestApp, admin: &Session, customer: &Session) -> String {
    let category = app.category(admin, "Spares", None).await;
    let spare = app
        .product(
            admin,
            &category,
            json!({"name": "Spare Cable", "price": 20.00, "stock": 5}),
        )
        .await["productId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.add_to_cart(customer, &spare, 1).await;
    spare
}

/// Archives, then permanently deletes, a product.
async fn delete_for_good(app: &TestApp, admin: &Session, product: &str) {
    app.archive_product(admin, product).await.expect_status(200);
    app.delete_product_permanently(admin, product).await.expect_status(200);
}

#[tokio::test]
async fn cancelling_a_partly_refunded_order_refunds_the_rest_even_when_a_product_is_gone() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let kept = app.product_for_sale(&admin, 15.00, 5).await;
    let gone = spare_in_cart(&app, &admin, &jane).await;
    let order = app.reserved_order(&jane, &kept, 1).await;
    let payment = app.start_payment(&jane, &order).await;
    app.confirm_payment(&jane, &payment, "pm_card_visa")
        .await
        .expect_status(200);
    app.refund(&admin, &payment, json!({"amount": 5.00}))
        .await
        .expect_status(200);
    delete_for_good(&app, &admin, &gone).await;

    app.cancel_order(&jane, &order).await.expect_status(200);
    assert_eq!(app.stock_of(&kept).await, 5, "what still exists goes back");
    let report = app.run_consumer("OrderFulfillmentQueue", "order-fulfillment").await;
    assert_eq!(report.failed, 0);
    let refunded = app.order_of(&jane, &order).await;
    assert_eq!(refunded["status"], "cancelled");
    assert_eq!(refunded["paymentStatus"], "REFUNDED");
    assert_eq!(refunded["payment"]["amountRefunded"], refunded["summary"]["total"]);
}

#[tokio::test]
async fn a_full_refund_returns_the_stock_that_still_exists() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let kept = app.product_for_sale(&admin, 15.00, 5).await;
    let gone = spare_in_cart(&app, &admin, &jane).await;
    let (order, payment) = app.paid_order(&jane, &kept, 2).await;
    assert_eq!(app.stock_of(&kept).await, 3);
    delete_for_good(&app, &admin, &gone).await;

    app.refund(&admin, &payment, json!({})).await.expect_status(200);
    let refunded = app.order_of(&jane, &order).await;
    assert_eq!(refunded["status"], "refunded");
    assert_eq!(refunded["reservation"]["status"], "RELEASED");
    assert_eq!(app.stock_of(&kept).await, 5);
}

#[tokio::test]
async fn with_stripe_unreachable_a_payment_is_a_503_and_the_order_stays_payable() {
    let endpoints = shop::config::Endpoints {
        stripe: Some("http://127.0.0.1:9".to_owned()),
        ..shop_local::provision::endpoints_from_env()
    };
    let app = TestApp::spawn_with(endpoints).await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 15.00, 5).await;
    let order = app.reserved_order(&jane, &product, 1).await;

    let down = app.create_payment(&jane, &order).await;
    down.expect_status(503);
    let untouched = app.order_of(&jane, &order).await;
    assert_eq!(untouched["status"], "pending");
    assert_eq!(untouched["paymentStatus"], "UNPAID");
    assert!(untouched.get("payment").is_none(), "{untouched}");
}

#[tokio::test]
async fn a_mail_that_could_not_be_sent_is_sent_on_the_next_delivery() {
    use shop::email::{MailContext, Mailer, SmtpSecurity};
    use shop::messages::{Notification, NotificationMessage};
    use shop::notifications::Notifier;

    let app = TestApp::spawn().await;
    let recipient = email("jane");
    let message = NotificationMessage::new(Notification::Welcome {
        user_id: shop::domain::UserId::parse("usr_01JD0000000000000000000000").unwrap(),
        email: shop::domain::Email::parse(&recipient).unwrap(),
        first_name: "Jane".into(),
    });
    let notifier = |host: &str, port: u16| Notifier {
        store: shop::store::Store::new(app.clients.dynamodb().clone(), &app.stack.table_name),
        mailer: Mailer::new(host, port, SmtpSecurity::None, None, "shop@shop.local").unwrap(),
        context: MailContext {
            shop_name: "Shop".into(),
            storefront_url: "http://127.0.0.1:3000".into(),
        },
        alert_email: shop::domain::Email::parse("operations@shop.local").unwrap(),
    };

    let down = notifier("127.0.0.1", 9);
    assert!(down.deliver(&message).await.is_err(), "SMTP is down");
    let smtp_port: u16 = std::env::var("SMTP_PORT").unwrap().parse().unwrap();
    let up = notifier("127.0.0.1", smtp_port);
    assert!(
        matches!(up.deliver(&message).await, Ok(shop::notifications::Delivered::Sent)),
        "the failed attempt did not hold the message"
    );
    assert!(matches!(
        up.deliver(&message).await,
        Ok(shop::notifications::Delivered::Duplicate)
    ));
    assert_eq!(app.mails_to(&recipient).len(), 1);
}
