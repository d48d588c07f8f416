use serde_json::{Value, json};
use shop::domain::{OrderId, Timestamp};
use shop::messages::{InventoryAction, InventoryMessage};
use shop_local::HttpCall;
use shop_tests::{TestApp, checkout_body, email, sqs_event};

#[tokio::test]
async fn checkout_creates_the_documented_order_clears_the_cart_and_reserves_the_stock() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 99.99, 10).await;
    app.add_to_cart(&jane, &product, 2).await;
    app.drain_queue("NotificationsQueue").await;
    app.reset_calls();

    let created = app.checkout(&jane, checkout_body()).await;

    created.expect_status(201);
    let calls = app.calls();
    assert_eq!(
        calls,
        ["GetItem", "BatchGetItem", "TransactWriteItems"],
        "three round trips: cart, products, one transaction"
    );
    let order = created.data();
    assert_eq!(created.body["message"], "Order created successfully");
    assert!(order["orderId"].as_str().unwrap().starts_with("ord_"));
    assert_eq!(order["userId"], jane.user_id.as_str());
    assert_eq!(order["status"], "pending");
    assert_eq!(order["items"][0]["price"], json!(99.99));
    assert_eq!(order["items"][0]["subtotal"], json!(199.98));
    assert_eq!(
        order["summary"],
        json!({"subtotal": 199.98, "discount": 0.00, "tax": 15.99, "shipping": 10.00, "total": 225.97})
    );
    assert_eq!(order["shippingAddress"]["city"], "New York");
    assert!(order["estimatedDelivery"].is_string());
    assert_eq!(order["reservation"]["status"], "PENDING");
    assert_eq!(app.get_cart(&jane).await.data()["itemCount"], 0, "the cart is cleared");

    let delivered = app
        .run_consumer("InventoryReservationQueue", "inventory-reservation")
        .await;
    assert_eq!((delivered.received, delivered.failed), (1, 0));
    let id = order["orderId"].as_str().unwrap();
    let reserved = app.order_of(&jane, id).await;
    assert_eq!(reserved["reservation"]["status"], "RESERVED");
    assert!(reserved["reservation"]["expiresAt"].is_string());
    assert_eq!(app.stock_of(&product).await, 8);
    let notes = app.drain_queue("NotificationsQueue").await;
    assert!(
        notes
            .iter()
            .any(|n| n["type"] == "order_status" && n["status"] == "pending" && n["orderId"] == id)
    );

    let list = app.list_orders(&jane).await;
    assert_eq!(
        list.data()["orders"][0],
        json!({"orderId": id, "status": "pending", "total": 225.97, "itemCount": 2,
        "createdAt": order["createdAt"], "estimatedDelivery": order["estimatedDelivery"]})
    );
    assert_eq!(list.data()["pagination"]["itemsPerPage"], 10);
}

#[tokio::test]
async fn an_idempotency_key_returns_the_same_order_and_refuses_another_body() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 10.00, 10).await;
    app.add_to_cart(&jane, &product, 1).await;
    let send = |body: Value| {
        app.call(
            HttpCall::new("POST", "/api/v1/orders")
                .header("authorization", &jane.bearer())
                .header("idempotency-key", "order-42")
                .json(&body),
        )
    };

    let first = send(checkout_body()).await;
    let retry = send(checkout_body()).await;
    let mut other = checkout_body();
    other["paymentMethod"]["type"] = json!("debit_card");
    let conflicting = send(other).await;

    first.expect_status(201);
    retry.expect_status(201);
    assert_eq!(retry.data()["orderId"], first.data()["orderId"]);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    conflicting.expect_status(409);
    assert_eq!(conflicting.bad_fields(), ["Idempotency-Key"]);
    assert_eq!(app.list_orders(&jane).await.data()["pagination"]["totalItems"], 1);
    let empty = app.checkout(&jane, checkout_body()).await;
    empty.expect_status(400);
    assert_eq!(empty.code(), "BUS_002");
}

#[tokio::test]
async fn fifty_buyers_racing_for_ten_units_never_oversell() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let product = app.product_for_sale(&admin, 5.00, 10).await;
    let buyers = futures::future::join_all((0..50).map(|n| {
        let app = &app;
        async move { app.customer(&email(&format!("buyer{n}"))).await }
    }))
    .await;
    futures::future::join_all(buyers.iter().map(|b| app.add_to_cart(b, &product, 1))).await;
    let orders = futures::future::join_all(buyers.iter().map(|b| app.checkout(b, checkout_body()))).await;
    assert!(orders.iter().all(|o| o.status == 201));

    // Five consumers at once, as the event source's concurrency allows.
    let consumers = futures::future::join_all(
        (0..5).map(|_| app.run_consumer("InventoryReservationQueue", "inventory-reservation")),
    )
    .await;
    // SQS delivers at least once: concurrent consumers may both get a message; the state below proves it does not matter.
    assert!(consumers.iter().map(|c| c.succeeded).sum::<usize>() >= 50);

    let mut reserved = 0;
    let mut sold_out = 0;
    for (buyer, order) in buyers.iter().zip(&orders) {
        let order = app.order_of(buyer, order.data()["orderId"].as_str().unwrap()).await;
        match (order["status"].as_str(), order["reservation"]["status"].as_str()) {
            (Some("pending"), Some("RESERVED")) => reserved += 1,
            (Some("cancelled"), Some("FAILED")) => {
                assert_eq!(order["cancelReason"], "out_of_stock");
                sold_out += 1;
            }
            other => panic!("unexpected state {other:?}"),
        }
    }
    assert_eq!((reserved, sold_out), (10, 40));
    assert_eq!(app.stock_of(&product).await, 0);
}

#[tokio::test]
async fn each_inventory_message_delivered_three_times_changes_the_state_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 5.00, 10).await;
    app.add_to_cart(&jane, &product, 3).await;
    let order = app.checkout(&jane, checkout_body()).await;
    let id = OrderId::parse(order.data()["orderId"].as_str().unwrap()).unwrap();
    app.drain_queue("InventoryReservationQueue").await;
    let deliver = |action: InventoryAction| {
        let body = serde_json::to_string(&InventoryMessage::new(action)).unwrap();
        let functions = app.gateway_functions();
        async move {
            for _ in 0..3 {
                let response = functions
                    .call_sqs("inventory-reservation", sqs_event(std::slice::from_ref(&body)))
                    .await
                    .unwrap();
                assert!(response.batch_item_failures.is_empty());
            }
        }
    };

    deliver(InventoryAction::Reserve { order_id: id }).await;
    assert_eq!(app.stock_of(&product).await, 7, "reserved once");
    let order = id.to_string();
    app.cancel_order(&jane, &order).await.expect_status(200);
    app.cancel_order(&jane, &order).await.expect_status(400);
    assert_eq!(app.stock_of(&product).await, 10, "released once");
    deliver(InventoryAction::Reserve { order_id: id }).await;
    assert_eq!(
        app.stock_of(&product).await,
        10,
        "a late reserve after the release changes nothing"
    );
    let detail = app.order_of(&jane, &order).await;
    assert_eq!(
        (detail["status"].as_str(), detail["reservation"]["status"].as_str()),
        (Some("cancelled"), Some("RELEASED"))
    );
    let cancelled_entries = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "cancelled")
        .count();
    assert_eq!(cancelled_entries, 1);
}

#[tokio::test]
async fn a_coupon_limited_to_five_uses_is_used_exactly_five_times_under_twenty_concurrent_checkouts() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let product = app.product_for_sale(&admin, 50.00, 100).await;
    app.create_coupon(
        &admin,
        json!({"code": "FIVE", "type": "FIXED", "value": 5.00, "usageLimit": 5}),
    )
    .await
    .expect_status(201);
    let buyers = futures::future::join_all((0..20).map(|n| {
        let app = &app;
        async move { app.customer(&email(&format!("c{n}"))).await }
    }))
    .await;
    for buyer in &buyers {
        app.add_to_cart(buyer, &product, 1).await;
        app.apply_coupon(buyer, "FIVE").await.expect_status(200);
    }

    let results = futures::future::join_all(buyers.iter().map(|b| app.checkout(b, checkout_body()))).await;

    let placed: Vec<_> = results.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        placed.len(),
        5,
        "{:?}",
        results
            .iter()
            .filter(|r| r.status != 201)
            .map(|r| r.body.to_string())
            .next()
    );
    assert!(
        placed
            .iter()
            .all(|r| r.data()["summary"]["discount"] == json!(5.00) && r.data()["couponCode"] == "FIVE")
    );
    assert!(
        results
            .iter()
            .filter(|r| r.status != 201)
            .all(|r| r.code() == "BUS_002")
    );
    let coupon = app.get_coupon(&admin, "FIVE").await;
    assert_eq!(coupon.data()["usedCount"], 5);
}

#[tokio::test]
async fn an_expired_reservation_is_cancelled_and_its_stock_released_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 5.00, 4).await;
    app.add_to_cart(&jane, &product, 4).await;
    let order = app.checkout(&jane, checkout_body()).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    app.run_consumer("InventoryReservationQueue", "inventory-reservation")
        .await;
    assert_eq!(app.stock_of(&product).await, 0);

    let now = app.orders().sweep(Timestamp::now()).await.unwrap();
    assert_eq!(now.expired, 0, "not expired yet");
    let later = Timestamp::now().plus_seconds(16 * 60);
    let first = app.orders().sweep(later).await.unwrap();
    let second = app.orders().sweep(later).await.unwrap();

    assert_eq!((first.expired, second.expired), (1, 0));
    assert_eq!(app.stock_of(&product).await, 4);
    let detail = app.order_of(&jane, &id).await;
    assert_eq!(
        (detail["status"].as_str(), detail["cancelReason"].as_str()),
        (Some("cancelled"), Some("reservation_expired"))
    );
}

#[tokio::test]
async fn an_outbox_message_the_stream_never_delivered_is_re_driven_by_the_sweeper() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 5.00, 4).await;
    app.add_to_cart(&jane, &product, 1).await;
    let order = app.checkout(&jane, checkout_body()).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();

    // The stream's delivery failed for good: the reservation request and the
    // "order received" mail are still in the outbox, and the queue is empty.
    let early = app.orders().sweep(Timestamp::now()).await.unwrap();
    let report = app.orders().sweep(Timestamp::now().plus_seconds(3 * 60)).await.unwrap();
    let again = app.orders().sweep(Timestamp::now().plus_seconds(3 * 60)).await.unwrap();

    // Jane's welcome mail was never sent either.
    assert_eq!((early.redriven, report.redriven, again.redriven), (0, 3, 0));
    // The stream's late delivery of the same messages is recognised by their ids.
    app.run_consumer("InventoryReservationQueue", "inventory-reservation")
        .await;
    assert_eq!(app.order_of(&jane, &id).await["reservation"]["status"], "RESERVED");
    assert_eq!(app.stock_of(&product).await, 3);
    app.run_consumer("NotificationsQueue", "notifications").await;
    let received: Vec<String> = app
        .mails_to(&jane.email)
        .iter()
        .filter(|mail| mail.contains(&format!("We received your order {id}")))
        .cloned()
        .collect();
    assert_eq!(received.len(), 1, "one mail, however often it was sent");
}

#[tokio::test]
async fn a_customer_cannot_read_or_cancel_another_customers_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let mallory = app.customer(&email("mallory")).await;
    let product = app.product_for_sale(&admin, 5.00, 4).await;
    app.add_to_cart(&jane, &product, 2).await;
    let order = app.checkout(&jane, checkout_body()).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    app.run_consumer("InventoryReservationQueue", "inventory-reservation")
        .await;

    app.get_order(&mallory, &id).await.expect_status(404);
    app.cancel_order(&mallory, &id).await.expect_status(404);
    assert_eq!(app.list_orders(&mallory).await.data()["pagination"]["totalItems"], 0);
    app.change_order_status(&mallory, &id, json!({"status": "confirmed"}))
        .await
        .expect_status(403);

    let cancelled = app.cancel_order_because(&jane, &id, "changed my mind").await;
    cancelled.expect_status(200);
    assert_eq!(cancelled.data()["status"], "cancelled");
    assert_eq!(app.stock_of(&product).await, 4, "cancelling returns the stock");
    let again = app.cancel_order(&jane, &id).await;
    again.expect_status(400);
    assert_eq!(app.stock_of(&product).await, 4);
}

#[tokio::test]
async fn admins_move_orders_only_along_legal_transitions_and_each_step_is_recorded() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 5.00, 4).await;
    app.add_to_cart(&jane, &product, 1).await;
    let order = app.checkout(&jane, checkout_body()).await;
    let id = order.data()["orderId"].as_str().unwrap().to_owned();
    let set = |body: Value| app.change_order_status(&admin, &id, body);

    let early = set(json!({"status": "confirmed"})).await;
    early.expect_status(400);
    app.run_consumer("InventoryReservationQueue", "inventory-reservation")
        .await;
    app.drain_queue("NotificationsQueue").await;
    let skip = set(json!({"status": "shipped", "carrier": "UPS", "trackingNumber": "1Z"})).await;
    skip.expect_status(400);
    assert_eq!(skip.bad_fields(), ["status"]);
    set(json!({"status": "confirmed"})).await.expect_status(200);
    set(json!({"status": "processing"})).await.expect_status(200);
    let untracked = set(json!({"status": "shipped"})).await;
    untracked.expect_status(400);
    assert_eq!(untracked.bad_fields(), ["carrier", "trackingNumber"]);
    let shipped = set(
        json!({"status": "shipped", "carrier": "UPS", "trackingNumber": "1Z999AA10123456784",
        "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784"}),
    )
    .await;
    shipped.expect_status(200);
    assert_eq!(shipped.data()["tracking"]["carrier"], "UPS");
    app.cancel_order(&jane, &id).await.expect_status(400);
    set(json!({"status": "delivered"})).await.expect_status(200);

    let detail = app.order_of(&jane, &id).await;
    let steps: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["pending", "confirmed", "processing", "shipped", "delivered"]);
    assert_eq!(
        (
            detail["paymentStatus"].as_str(),
            detail["reservation"]["status"].as_str()
        ),
        (Some("PAID"), Some("COMMITTED"))
    );
    let notes = app.drain_queue("NotificationsQueue").await;
    let statuses: Vec<&str> = notes.iter().filter_map(|n| n["status"].as_str()).collect();
    assert_eq!(statuses, ["confirmed", "processing", "shipped", "delivered"]);

    let by_status = app.list_all_orders(&admin, "status=delivered").await;
    by_status.expect_status(200);
    assert_eq!(by_status.data()["orders"][0]["orderId"], id.as_str());
    let none_yet = app
        .list_all_orders(&admin, "status=delivered&from=2020-01-01&to=2020-12-31")
        .await;
    assert_eq!(none_yet.data()["pagination"]["totalItems"], 0);
    app.list_all_orders(&admin, "").await.expect_status(400);
    app.list_all_orders(&jane, "status=delivered").await.expect_status(403);

    // Confirmed orders make reviews verified.
    let review = app
        .create_review(&jane, &product, json!({"rating": 5, "content": "Arrived fast"}))
        .await;
    assert_eq!(review.data()["isVerified"], true);
}

#[tokio::test]
async fn a_poison_inventory_message_ends_in_the_dead_letter_queue() {
    let app = TestApp::spawn().await;
    let url = app.stack.queue_url("InventoryReservationQueue").unwrap();
    app.clients
        .sqs()
        .send_message()
        .queue_url(url)
        .message_body("{not json")
        .send()
        .await
        .unwrap();

    let mut failures = 0;
    for _ in 0..10 {
        failures += app
            .run_consumer("InventoryReservationQueue", "inventory-reservation")
            .await
            .failed;
        if app.queue_depth("InventoryReservationDLQ").await == 1 {
            break;
        }
    }

    assert_eq!(failures, 5, "delivered maxReceiveCount times");
    assert_eq!(app.queue_depth("InventoryReservationDLQ").await, 1);
    assert_eq!(app.queue_depth("InventoryReservationQueue").await, 0);
}

#[tokio::test]
async fn checkout_uses_a_saved_address_and_names_a_foreign_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let mallory = app.customer(&email("mallory")).await;
    let product = app.product_for_sale(&admin, 5.00, 4).await;
    let saved = app.add_address(&jane, checkout_body()["shippingAddress"].clone()).await;
    let saved = saved.data()["addressId"].as_str().unwrap().to_owned();
    app.add_to_cart(&mallory, &product, 1).await;
    let foreign = app.checkout(&mallory, json!({"shippingAddressId": saved})).await;
    foreign.expect_status(400);
    assert_eq!(foreign.bad_fields(), ["shippingAddressId"]);
    let missing = app.checkout(&mallory, json!({"paymentMethod": {"type": "cash"}})).await;
    missing.expect_status(400);

    app.add_to_cart(&jane, &product, 1).await;
    let placed = app.checkout(&jane, json!({"shippingAddressId": saved})).await;
    placed.expect_status(201);
    assert_eq!(placed.data()["shippingAddress"]["street"], "123 Main St");
    assert_eq!(placed.data()["billingAddress"]["zipCode"], "10001");
}

#[tokio::test]
async fn cancelling_an_order_gives_its_coupon_use_back() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 30.00, 10).await;
    app.create_coupon(
        &admin,
        json!({"code": "ONCE", "type": "FIXED", "value": 5.00, "perCustomerLimit": 1}),
    )
    .await
    .expect_status(201);
    let buy = || async {
        app.add_to_cart(&jane, &product, 1).await;
        app.apply_coupon(&jane, "ONCE").await
    };

    buy().await.expect_status(200);
    let order = app.checkout(&jane, checkout_body()).await;
    order.expect_status(201);
    let used = buy().await;
    used.expect_status(400);
    assert_eq!(used.bad_fields(), ["code"], "the single use is spent");
    let id = order.data()["orderId"].as_str().unwrap();
    app.cancel_order(&jane, id).await.expect_status(200);

    buy().await.expect_status(200);
    let coupon = app.get_coupon(&admin, "ONCE").await;
    assert_eq!(coupon.data()["usedCount"], 0);
    let guest = app
        .call(HttpCall::new("POST", "/api/v1/cart/coupon").json(&json!({"code": "ONCE"})))
        .await;
    assert_eq!(guest.code(), "BUS_002", "no cart, no coupon");
    let forged = app
        .call(HttpCall::new("GET", "/api/v1/cart").header("x-cart-token", "made-up"))
        .await;
    assert_eq!(forged.bad_fields(), ["X-Cart-Token"]);
}
