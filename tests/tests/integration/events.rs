//! Every file in `events/` is a fixture: it parses as an API Gateway event and
//! gets the documented status from its function.

use serde_json::Value;
use shop_tests::{TestApp, checkout_body, email};

/// `(file, event)` for each named file of `events/`.
macro_rules! events {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("../../../events/", $name)))),*]
    };
}

const USERS_API_EVENTS: [(&str, &str); 15] = events![
    "users-api-register.json",
    "users-api-login.json",
    "users-api-get-profile.json",
    "users-api-me.json",
    "users-api-update-profile.json",
    "users-api-create-address.json",
    "users-api-list-addresses.json",
    "users-api-update-address.json",
    "users-api-delete-address.json",
    "users-api-get-user.json",
    "users-api-list-users.json",
    "users-api-refresh.json",
    "users-api-logout.json",
    "users-api-request-password-reset.json",
    "users-api-confirm-password-reset.json",
];

const CATALOG_API_EVENTS: [(&str, &str); 24] = events![
    "catalog-api-create-category.json",
    "catalog-api-list-categories.json",
    "catalog-api-get-category.json",
    "catalog-api-update-category.json",
    "catalog-api-delete-category.json",
    "catalog-api-create-product.json",
    "catalog-api-list-products.json",
    "catalog-api-get-product.json",
    "catalog-api-replace-product.json",
    "catalog-api-update-product.json",
    "catalog-api-adjust-stock.json",
    "catalog-api-stock-history.json",
    "catalog-api-search-products.json",
    "catalog-api-create-review.json",
    "catalog-api-update-review.json",
    "catalog-api-list-pending-reviews.json",
    "catalog-api-approve-review.json",
    "catalog-api-list-reviews.json",
    "catalog-api-reject-review.json",
    "catalog-api-delete-review.json",
    "catalog-api-add-to-wishlist.json",
    "catalog-api-get-wishlist.json",
    "catalog-api-remove-from-wishlist.json",
    "catalog-api-delete-product.json",
];

const COMMERCE_EVENTS: [(&str, &str); 19] = events![
    "cart-api-add-item.json",
    "cart-api-get-cart.json",
    "cart-api-update-item.json",
    "cart-api-apply-coupon.json",
    "cart-api-remove-coupon.json",
    "cart-api-remove-item.json",
    "cart-api-merge-cart.json",
    "cart-api-clear-cart.json",
    "orders-api-create-order.json",
    "orders-api-list-orders.json",
    "orders-api-get-order.json",
    "orders-api-change-order-status.json",
    "orders-api-cancel-order.json",
    "orders-api-list-orders-by-status.json",
    "admin-api-create-coupon.json",
    "admin-api-list-coupons.json",
    "admin-api-get-coupon.json",
    "admin-api-update-coupon.json",
    "admin-api-delete-coupon.json",
];

const PAYMENTS_EVENTS: [(&str, &str); 8] = events![
    "users-api-list-notifications.json",
    "users-api-get-notification-settings.json",
    "users-api-update-notification-settings.json",
    "payments-api-create-payment.json",
    "payments-api-confirm-payment.json",
    "payments-api-webhook.json",
    "payments-api-refund-payment.json",
    "admin-api-daily-analytics.json",
];

const SHIPPING_EVENTS: [(&str, &str); 11] = events![
    "admin-api-create-shipping-zone.json",
    "admin-api-list-shipping-zones.json",
    "admin-api-get-shipping-zone.json",
    "admin-api-update-shipping-zone.json",
    "admin-api-create-tax-rate.json",
    "admin-api-list-tax-rates.json",
    "admin-api-get-tax-rate.json",
    "admin-api-update-tax-rate.json",
    "cart-api-shipping-options.json",
    "admin-api-delete-tax-rate.json",
    "admin-api-delete-shipping-zone.json",
];

const WORKER_EVENTS: [(&str, &str); 6] = events![
    "inventory-reservation-sqs.json",
    "order-sweeper-schedule.json",
    "order-fulfillment-sqs.json",
    "notifications-sqs.json",
    "daily-report-schedule.json",
    "outbox-dispatcher-stream.json",
];

const IMPORT_EVENTS: [(&str, &str); 7] = events![
    "admin-api-import-products.json",
    "admin-api-list-imports.json",
    "admin-api-get-import.json",
    "admin-api-export-products.json",
    "admin-api-create-import-upload.json",
    "admin-api-start-import.json",
    "catalog-importer-sqs.json",
];
const SAMPLE_IMPORT_ID: &str = "imp_01JD0000000000000000000000";

const SAMPLE_ADDRESS_ID: &str = "addr_01JD0000000000000000000000";
const SAMPLE_USER_ID: &str = "usr_01JD0000000000000000000000";

#[test]
fn every_event_file_is_covered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut covered: Vec<String> = USERS_API_EVENTS
        .iter()
        .chain(&CATALOG_API_EVENTS)
        .chain(&COMMERCE_EVENTS)
        .chain(&PAYMENTS_EVENTS)
        .chain(&SHIPPING_EVENTS)
        .chain(&WORKER_EVENTS)
        .chain(&IMPORT_EVENTS)
        .map(|(name, _)| (*name).to_owned())
        .collect();
    covered.sort();
    assert_eq!(on_disk, covered, "each file in events/ needs a test");
}

/// Fills the event's placeholders and invokes its function (named by the file's prefix) with it.
async fn invoke(app: &TestApp, name: &str, substitutions: &[(&str, &str)]) -> (u16, Value) {
    let (_, raw) = USERS_API_EVENTS
        .iter()
        .chain(&CATALOG_API_EVENTS)
        .chain(&COMMERCE_EVENTS)
        .chain(&PAYMENTS_EVENTS)
        .chain(&SHIPPING_EVENTS)
        .chain(&IMPORT_EVENTS)
        .find(|(file, _)| *file == name)
        .unwrap();
    let mut text = (*raw).to_owned();
    for (placeholder, value) in substitutions {
        text = text.replace(placeholder, value);
    }
    if text.contains("STRIPE_SIGNATURE") {
        // Signed as Stripe signs, over the body as sent.
        let event: Value = serde_json::from_str(&text).unwrap();
        let signature = shop_tests::stripe_signature(event["body"].as_str().unwrap(), shop_tests::WEBHOOK_SECRET);
        text = text.replace("STRIPE_SIGNATURE", &signature);
    }
    let request =
        lambda_http::request::from_str(&text).unwrap_or_else(|err| panic!("{name} is not an API Gateway event: {err}"));
    let function = [
        "users-api",
        "catalog-api",
        "cart-api",
        "orders-api",
        "admin-api",
        "payments-api",
    ]
    .into_iter()
    .find(|prefix| name.starts_with(prefix))
    .unwrap();
    let response = app.gateway.functions.call_http(function, request).await.unwrap();
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (response.status().as_u16(), body)
}

#[tokio::test]
async fn each_users_api_event_gets_its_documented_status() {
    let app = TestApp::spawn().await;
    let expect = |name: &str, (status, body): (u16, Value), wanted: u16| {
        assert_eq!(status, wanted, "{name}: {body}");
        body
    };

    expect("register", invoke(&app, "users-api-register.json", &[]).await, 201);
    let login = expect("login", invoke(&app, "users-api-login.json", &[]).await, 200);
    let access = login["data"]["accessToken"].as_str().unwrap().to_owned();
    let refresh = login["data"]["refreshToken"].as_str().unwrap().to_owned();
    let user_id = login["data"]["user"]["userId"].as_str().unwrap().to_owned();
    let as_jane = [("ACCESS_TOKEN", access.as_str())];

    expect(
        "get-profile",
        invoke(&app, "users-api-get-profile.json", &as_jane).await,
        200,
    );
    expect("me", invoke(&app, "users-api-me.json", &as_jane).await, 200);
    expect(
        "update-profile",
        invoke(&app, "users-api-update-profile.json", &as_jane).await,
        200,
    );
    let created = expect(
        "create-address",
        invoke(&app, "users-api-create-address.json", &as_jane).await,
        201,
    );
    let address_id = created["data"]["addressId"].as_str().unwrap().to_owned();
    expect(
        "list-addresses",
        invoke(&app, "users-api-list-addresses.json", &as_jane).await,
        200,
    );
    let with_address = [
        ("ACCESS_TOKEN", access.as_str()),
        (SAMPLE_ADDRESS_ID, address_id.as_str()),
    ];
    expect(
        "update-address",
        invoke(&app, "users-api-update-address.json", &with_address).await,
        200,
    );
    expect(
        "delete-address",
        invoke(&app, "users-api-delete-address.json", &with_address).await,
        200,
    );
    let own_id = [("ACCESS_TOKEN", access.as_str()), (SAMPLE_USER_ID, user_id.as_str())];
    expect("get-user", invoke(&app, "users-api-get-user.json", &own_id).await, 200);
    expect(
        "list-users as a customer",
        invoke(&app, "users-api-list-users.json", &as_jane).await,
        403,
    );
    let admin = app.admin(&email("admin")).await;
    expect(
        "list-users",
        invoke(
            &app,
            "users-api-list-users.json",
            &[("ACCESS_TOKEN", admin.access_token.as_str())],
        )
        .await,
        200,
    );

    let rotated = expect(
        "refresh",
        invoke(&app, "users-api-refresh.json", &[("REFRESH_TOKEN", refresh.as_str())]).await,
        200,
    );
    let rotated = rotated["data"]["refreshToken"].as_str().unwrap().to_owned();
    expect(
        "logout",
        invoke(&app, "users-api-logout.json", &[("REFRESH_TOKEN", rotated.as_str())]).await,
        200,
    );

    app.drain_queue("NotificationsQueue").await;
    expect(
        "request-password-reset",
        invoke(&app, "users-api-request-password-reset.json", &[]).await,
        202,
    );
    let reset = app.drain_queue("NotificationsQueue").await;
    let token = reset[0]["token"].as_str().unwrap();
    expect(
        "confirm-password-reset",
        invoke(&app, "users-api-confirm-password-reset.json", &[("RESET_TOKEN", token)]).await,
        200,
    );
}

const SAMPLE_PRODUCT_ID: &str = "prod_01JD0000000000000000000000";
const SAMPLE_REVIEW_ID: &str = "rev_01JD0000000000000000000000";

#[tokio::test]
async fn each_catalog_api_event_gets_its_documented_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let customer = app.customer(&email("customer")).await;
    let expect = |name: &str, (status, body): (u16, Value), wanted: u16| {
        assert_eq!(status, wanted, "{name}: {body}");
        body
    };
    let as_admin = [("ACCESS_TOKEN", admin.access_token.as_str())];

    expect(
        "create-category",
        invoke(&app, "catalog-api-create-category.json", &as_admin).await,
        201,
    );
    app.category(&admin, "Clearance", None).await;
    expect(
        "delete-category",
        invoke(&app, "catalog-api-delete-category.json", &as_admin).await,
        200,
    );
    expect(
        "list-categories",
        invoke(&app, "catalog-api-list-categories.json", &[]).await,
        200,
    );
    expect(
        "update-category",
        invoke(&app, "catalog-api-update-category.json", &as_admin).await,
        200,
    );
    let created = expect(
        "create-product",
        invoke(&app, "catalog-api-create-product.json", &as_admin).await,
        201,
    );
    let product = created["data"]["productId"].as_str().unwrap().to_owned();
    let on_product = [
        ("ACCESS_TOKEN", admin.access_token.as_str()),
        (SAMPLE_PRODUCT_ID, product.as_str()),
    ];
    expect(
        "get-category",
        invoke(&app, "catalog-api-get-category.json", &[]).await,
        200,
    );
    let listed = expect(
        "list-products",
        invoke(&app, "catalog-api-list-products.json", &[]).await,
        200,
    );
    assert_eq!(listed["data"]["pagination"]["totalItems"], 1);
    expect(
        "get-product",
        invoke(&app, "catalog-api-get-product.json", &[]).await,
        200,
    );
    expect(
        "replace-product",
        invoke(&app, "catalog-api-replace-product.json", &on_product).await,
        200,
    );
    expect(
        "update-product",
        invoke(&app, "catalog-api-update-product.json", &on_product).await,
        200,
    );
    expect(
        "adjust-stock",
        invoke(&app, "catalog-api-adjust-stock.json", &on_product).await,
        200,
    );
    expect(
        "stock-history",
        invoke(&app, "catalog-api-stock-history.json", &on_product).await,
        200,
    );
    let found = expect(
        "search-products",
        invoke(&app, "catalog-api-search-products.json", &[]).await,
        200,
    );
    assert_eq!(found["data"]["products"][0]["productId"], product.as_str());

    let as_customer = [
        ("ACCESS_TOKEN", customer.access_token.as_str()),
        (SAMPLE_PRODUCT_ID, product.as_str()),
    ];
    let review = expect(
        "create-review",
        invoke(&app, "catalog-api-create-review.json", &as_customer).await,
        201,
    );
    let review = review["data"]["reviewId"].as_str().unwrap().to_owned();
    let customer_review = [
        ("ACCESS_TOKEN", customer.access_token.as_str()),
        (SAMPLE_PRODUCT_ID, product.as_str()),
        (SAMPLE_REVIEW_ID, review.as_str()),
    ];
    let admin_review = [
        ("ACCESS_TOKEN", admin.access_token.as_str()),
        (SAMPLE_PRODUCT_ID, product.as_str()),
        (SAMPLE_REVIEW_ID, review.as_str()),
    ];
    expect(
        "update-review",
        invoke(&app, "catalog-api-update-review.json", &customer_review).await,
        200,
    );
    expect(
        "list-pending-reviews",
        invoke(&app, "catalog-api-list-pending-reviews.json", &as_admin).await,
        200,
    );
    expect(
        "approve-review",
        invoke(&app, "catalog-api-approve-review.json", &admin_review).await,
        200,
    );
    let reviews = expect(
        "list-reviews",
        invoke(&app, "catalog-api-list-reviews.json", &on_product).await,
        200,
    );
    assert_eq!(reviews["data"]["pagination"]["totalItems"], 1);
    expect(
        "reject-review",
        invoke(&app, "catalog-api-reject-review.json", &admin_review).await,
        200,
    );
    expect(
        "delete-review",
        invoke(&app, "catalog-api-delete-review.json", &customer_review).await,
        200,
    );

    expect(
        "add-to-wishlist",
        invoke(&app, "catalog-api-add-to-wishlist.json", &as_customer).await,
        201,
    );
    expect(
        "get-wishlist",
        invoke(&app, "catalog-api-get-wishlist.json", &as_customer).await,
        200,
    );
    expect(
        "remove-from-wishlist",
        invoke(&app, "catalog-api-remove-from-wishlist.json", &as_customer).await,
        200,
    );
    expect(
        "delete-product",
        invoke(&app, "catalog-api-delete-product.json", &on_product).await,
        200,
    );
}

const SAMPLE_ITEM_ID: &str = "item_01JD0000000000000000000000";
const SAMPLE_ORDER_ID: &str = "ord_01JD0000000000000000000000";

#[tokio::test]
async fn each_cart_orders_and_admin_event_gets_its_documented_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let category = app.category(&admin, "Audio", None).await;
    let product = app
        .product(&admin, &category, serde_json::json!({"price": 99.99, "stock": 20}))
        .await;
    let product = product["productId"].as_str().unwrap().to_owned();
    let expect = |name: &str, (status, body): (u16, Value), wanted: u16| {
        assert_eq!(status, wanted, "{name}: {body}");
        body
    };
    let as_admin = [("ACCESS_TOKEN", admin.access_token.as_str())];
    expect(
        "create-coupon",
        invoke(&app, "admin-api-create-coupon.json", &as_admin).await,
        201,
    );
    expect(
        "list-coupons",
        invoke(&app, "admin-api-list-coupons.json", &as_admin).await,
        200,
    );
    expect(
        "get-coupon",
        invoke(&app, "admin-api-get-coupon.json", &as_admin).await,
        200,
    );
    expect(
        "update-coupon",
        invoke(&app, "admin-api-update-coupon.json", &as_admin).await,
        200,
    );

    let as_jane = [
        ("ACCESS_TOKEN", jane.access_token.as_str()),
        (SAMPLE_PRODUCT_ID, product.as_str()),
    ];
    let added = expect("add-item", invoke(&app, "cart-api-add-item.json", &as_jane).await, 201);
    let item = added["data"]["items"][0]["itemId"].as_str().unwrap().to_owned();
    let with_item = [
        ("ACCESS_TOKEN", jane.access_token.as_str()),
        (SAMPLE_ITEM_ID, item.as_str()),
    ];
    expect("get-cart", invoke(&app, "cart-api-get-cart.json", &as_jane).await, 200);
    expect(
        "update-item",
        invoke(&app, "cart-api-update-item.json", &with_item).await,
        200,
    );
    expect(
        "apply-coupon",
        invoke(&app, "cart-api-apply-coupon.json", &as_jane).await,
        200,
    );
    expect(
        "remove-coupon",
        invoke(&app, "cart-api-remove-coupon.json", &as_jane).await,
        200,
    );
    let guest = app
        .call(shop_local::HttpCall::new("POST", "/api/v1/cart/items").json(&serde_json::json!({"productId": product})))
        .await;
    let cart_token = guest.header("x-cart-token").unwrap().to_owned();
    let merging = [
        ("ACCESS_TOKEN", jane.access_token.as_str()),
        ("CART_TOKEN", cart_token.as_str()),
    ];
    expect(
        "merge-cart",
        invoke(&app, "cart-api-merge-cart.json", &merging).await,
        200,
    );
    expect(
        "remove-item",
        invoke(&app, "cart-api-remove-item.json", &with_item).await,
        200,
    );
    expect(
        "clear-cart",
        invoke(&app, "cart-api-clear-cart.json", &as_jane).await,
        200,
    );

    app.add_to_cart(&jane, &product, 2).await;
    let ordering = [
        ("ACCESS_TOKEN", jane.access_token.as_str()),
        ("IDEMPOTENCY_KEY", "events-order-1"),
    ];
    let order = expect(
        "create-order",
        invoke(&app, "orders-api-create-order.json", &ordering).await,
        201,
    );
    let order = order["data"]["orderId"].as_str().unwrap().to_owned();
    app.drain_queue("InventoryReservationQueue").await;
    let (_, batch) = WORKER_EVENTS[0];
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&batch.replace(SAMPLE_ORDER_ID, &order)).unwrap();
    let response = app
        .gateway
        .functions
        .call_sqs("inventory-reservation", event)
        .await
        .unwrap();
    assert!(
        response.batch_item_failures.is_empty(),
        "inventory-reservation-sqs.json"
    );
    let on_order = [
        ("ACCESS_TOKEN", jane.access_token.as_str()),
        (SAMPLE_ORDER_ID, order.as_str()),
    ];
    let reserved = expect(
        "get-order",
        invoke(&app, "orders-api-get-order.json", &on_order).await,
        200,
    );
    assert_eq!(
        reserved["data"]["reservation"]["status"], "RESERVED",
        "the batch reserved once (its second record is the same message delivered again)"
    );
    expect(
        "list-orders",
        invoke(&app, "orders-api-list-orders.json", &on_order).await,
        200,
    );
    let admin_on_order = [
        ("ACCESS_TOKEN", admin.access_token.as_str()),
        (SAMPLE_ORDER_ID, order.as_str()),
    ];
    let confirmed = expect(
        "change-order-status",
        invoke(&app, "orders-api-change-order-status.json", &admin_on_order).await,
        200,
    );
    assert_eq!(
        (
            confirmed["data"]["status"].as_str(),
            confirmed["data"]["reservation"]["status"].as_str()
        ),
        (Some("confirmed"), Some("COMMITTED")),
        "paid by bank transfer: the held stock is sold"
    );
    expect(
        "cancel-order",
        invoke(&app, "orders-api-cancel-order.json", &on_order).await,
        200,
    );
    let listed = expect(
        "list-orders-by-status",
        invoke(&app, "orders-api-list-orders-by-status.json", &as_admin).await,
        200,
    );
    assert_eq!(listed["data"]["orders"][0]["orderId"], order.as_str());
    expect(
        "delete-coupon",
        invoke(&app, "admin-api-delete-coupon.json", &as_admin).await,
        200,
    );

    let (_, schedule) = WORKER_EVENTS[1];
    let report = app
        .gateway
        .functions
        .call_job("order-sweeper", serde_json::from_str(schedule).unwrap())
        .await
        .unwrap();
    assert_eq!(
        report,
        serde_json::json!({"expired": 0, "redriven": 0, "overdue": 0}),
        "order-sweeper-schedule.json"
    );
}

const SAMPLE_PAYMENT_ID: &str = "pi_01JD0000000000000000000000";

#[tokio::test]
async fn each_payments_notifications_and_report_event_gets_its_documented_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let expect = |name: &str, (status, body): (u16, Value), wanted: u16| {
        assert_eq!(status, wanted, "{name}: {body}");
        body
    };
    let as_jane = [("ACCESS_TOKEN", jane.access_token.as_str())];
    expect(
        "list-notifications",
        invoke(&app, "users-api-list-notifications.json", &as_jane).await,
        200,
    );
    expect(
        "get-notification-settings",
        invoke(&app, "users-api-get-notification-settings.json", &as_jane).await,
        200,
    );
    let updated = expect(
        "update-notification-settings",
        invoke(&app, "users-api-update-notification-settings.json", &as_jane).await,
        200,
    );
    assert_eq!(updated["data"]["marketing"], false);

    let (_, batch) = WORKER_EVENTS[3];
    let response = app
        .gateway
        .functions
        .call_sqs("notifications", serde_json::from_str(batch).unwrap())
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty(), "notifications-sqs.json");

    let category = app.category(&admin, "Audio", None).await;
    let product = app
        .product(&admin, &category, serde_json::json!({"price": 20.00, "stock": 20}))
        .await;
    app.add_to_cart(&jane, product["productId"].as_str().unwrap(), 1).await;
    let order = app.checkout(&jane, checkout_body()).await;
    order.expect_status(201);
    let order = order.data()["orderId"].as_str().unwrap().to_owned();
    app.run_consumer("InventoryReservationQueue", "inventory-reservation")
        .await;

    let on_order = [
        ("ACCESS_TOKEN", jane.access_token.as_str()),
        (SAMPLE_ORDER_ID, order.as_str()),
    ];
    let created = expect(
        "create-payment",
        invoke(&app, "payments-api-create-payment.json", &on_order).await,
        201,
    );
    let payment = created["data"]["paymentId"].as_str().unwrap().to_owned();
    let on_payment = [
        ("ACCESS_TOKEN", jane.access_token.as_str()),
        (SAMPLE_PAYMENT_ID, payment.as_str()),
        (SAMPLE_ORDER_ID, order.as_str()),
    ];
    expect(
        "confirm-payment",
        invoke(&app, "payments-api-confirm-payment.json", &on_payment).await,
        200,
    );
    let hook = expect(
        "webhook",
        invoke(&app, "payments-api-webhook.json", &on_payment).await,
        200,
    );
    assert_eq!(
        hook["data"]["outcome"], "unchanged",
        "the confirm call already applied it"
    );

    app.drain_queue("OrderFulfillmentQueue").await;
    let (_, batch) = WORKER_EVENTS[2];
    let response = app
        .gateway
        .functions
        .call_sqs(
            "order-fulfillment",
            serde_json::from_str(&batch.replace(SAMPLE_ORDER_ID, &order)).unwrap(),
        )
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty(), "order-fulfillment-sqs.json");
    let processing = app.get_order(&jane, &order).await;
    assert_eq!(processing.data()["status"], "processing");

    let as_admin = [
        ("ACCESS_TOKEN", admin.access_token.as_str()),
        (SAMPLE_PAYMENT_ID, payment.as_str()),
    ];
    expect(
        "refund-payment",
        invoke(&app, "payments-api-refund-payment.json", &as_admin).await,
        200,
    );

    let (_, schedule) = WORKER_EVENTS[4];
    let run = app
        .gateway
        .functions
        .call_job("daily-report", serde_json::from_str(schedule).unwrap())
        .await
        .unwrap();
    assert_eq!(
        run["date"], "2026-11-20",
        "daily-report-schedule.json reports the day before"
    );
    expect(
        "daily-analytics",
        invoke(&app, "admin-api-daily-analytics.json", &as_admin).await,
        200,
    );
}

#[tokio::test]
async fn the_outbox_stream_event_sends_its_new_outbox_item_and_skips_the_rest() {
    let app = TestApp::spawn().await;
    app.pump_outbox().await;
    let (_, batch) = WORKER_EVENTS[5];
    let event: aws_lambda_events::event::dynamodb::Event = serde_json::from_str(batch).unwrap();

    let response = app
        .gateway
        .functions
        .call_stream("outbox-dispatcher", event)
        .await
        .unwrap();

    assert!(response.batch_item_failures.is_empty(), "outbox-dispatcher-stream.json");
    let sent = app.drain_queue("NotificationsQueue").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["id"], "01JD0000000000000000000009");
    assert_eq!(sent[0]["type"], "welcome");
}

const SAMPLE_ZONE_ID: &str = "zone_01JD0000000000000000000000";
const SAMPLE_METHOD_ID: &str = "ship_01JD0000000000000000000000";
const SAMPLE_RATE_ID: &str = "tax_01JD0000000000000000000000";

#[tokio::test]
async fn each_shipping_event_gets_its_documented_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, 99.99, 10).await;
    app.add_to_cart(&jane, &product, 2).await;
    let expect = |name: &str, (status, body): (u16, Value), wanted: u16| {
        assert_eq!(status, wanted, "{name}: {body}");
        body
    };
    let as_admin = [("ACCESS_TOKEN", admin.access_token.as_str())];

    let zone = expect(
        "create-shipping-zone",
        invoke(&app, "admin-api-create-shipping-zone.json", &as_admin).await,
        201,
    );
    let zone_id = zone["data"]["zoneId"].as_str().unwrap().to_owned();
    let standard = zone["data"]["methods"][0]["methodId"].as_str().unwrap().to_owned();
    let on_zone = [
        ("ACCESS_TOKEN", admin.access_token.as_str()),
        (SAMPLE_ZONE_ID, zone_id.as_str()),
        (SAMPLE_METHOD_ID, standard.as_str()),
    ];
    let listed = expect(
        "list-shipping-zones",
        invoke(&app, "admin-api-list-shipping-zones.json", &as_admin).await,
        200,
    );
    assert_eq!(listed["data"]["pagination"]["totalItems"], 1);
    expect(
        "get-shipping-zone",
        invoke(&app, "admin-api-get-shipping-zone.json", &on_zone).await,
        200,
    );
    let updated = expect(
        "update-shipping-zone",
        invoke(&app, "admin-api-update-shipping-zone.json", &on_zone).await,
        200,
    );
    assert_eq!(
        updated["data"]["methods"][0]["methodId"],
        standard.as_str(),
        "the method kept its id"
    );
    assert_eq!(updated["data"]["version"], 2);

    let rate = expect(
        "create-tax-rate",
        invoke(&app, "admin-api-create-tax-rate.json", &as_admin).await,
        201,
    );
    let rate_id = rate["data"]["rateId"].as_str().unwrap().to_owned();
    let on_rate = [
        ("ACCESS_TOKEN", admin.access_token.as_str()),
        (SAMPLE_RATE_ID, rate_id.as_str()),
    ];
    expect(
        "list-tax-rates",
        invoke(&app, "admin-api-list-tax-rates.json", &as_admin).await,
        200,
    );
    expect(
        "get-tax-rate",
        invoke(&app, "admin-api-get-tax-rate.json", &on_rate).await,
        200,
    );
    expect(
        "update-tax-rate",
        invoke(&app, "admin-api-update-tax-rate.json", &on_rate).await,
        200,
    );

    let options = expect(
        "shipping-options",
        invoke(
            &app,
            "cart-api-shipping-options.json",
            &[("ACCESS_TOKEN", jane.access_token.as_str())],
        )
        .await,
        200,
    );
    let options = &options["data"];
    assert_eq!(
        options["options"].as_array().unwrap().len(),
        1,
        "the overnight method is inactive: {options}"
    );
    assert_eq!(
        options["options"][0]["price"],
        serde_json::json!(0.00),
        "free from 100.00"
    );
    assert_eq!(options["tax"]["rateBps"], 875);

    expect(
        "delete-tax-rate",
        invoke(&app, "admin-api-delete-tax-rate.json", &on_rate).await,
        200,
    );
    expect(
        "delete-shipping-zone",
        invoke(&app, "admin-api-delete-shipping-zone.json", &on_zone).await,
        200,
    );
}

#[tokio::test]
async fn each_import_event_gets_its_documented_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    app.category(&admin, "Kitchen", None).await;
    let expect = |name: &str, (status, body): (u16, Value), wanted: u16| {
        assert_eq!(status, wanted, "{name}: {body}");
        body
    };
    let as_admin = [("ACCESS_TOKEN", admin.access_token.as_str())];
    let imported = expect(
        "import-products",
        invoke(&app, "admin-api-import-products.json", &as_admin).await,
        200,
    );
    assert_eq!(imported["data"]["import"]["created"], 2);
    let import_id = imported["data"]["import"]["importId"].as_str().unwrap().to_owned();
    let on_import = [
        ("ACCESS_TOKEN", admin.access_token.as_str()),
        (SAMPLE_IMPORT_ID, import_id.as_str()),
    ];
    let listed = expect(
        "list-imports",
        invoke(&app, "admin-api-list-imports.json", &as_admin).await,
        200,
    );
    assert_eq!(listed["data"]["pagination"]["totalItems"], 1);
    expect(
        "get-import",
        invoke(&app, "admin-api-get-import.json", &on_import).await,
        200,
    );
    // The export is CSV, not the JSON envelope.
    let (status, _) = invoke(&app, "admin-api-export-products.json", &as_admin).await;
    assert_eq!(status, 200, "export-products");

    let upload = expect(
        "create-import-upload",
        invoke(&app, "admin-api-create-import-upload.json", &as_admin).await,
        201,
    );
    let waiting = upload["data"]["import"]["importId"].as_str().unwrap().to_owned();
    let on_upload = [
        ("ACCESS_TOKEN", admin.access_token.as_str()),
        (SAMPLE_IMPORT_ID, waiting.as_str()),
    ];
    // Nothing was uploaded at its URL yet.
    expect(
        "start-import",
        invoke(&app, "admin-api-start-import.json", &on_upload).await,
        400,
    );
    // The finished inline import started again: answered as it is.
    expect(
        "start-import",
        invoke(&app, "admin-api-start-import.json", &on_import).await,
        202,
    );

    let (_, batch) = IMPORT_EVENTS[6];
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&batch.replace(SAMPLE_IMPORT_ID, &import_id)).unwrap();
    let response = app.gateway.functions.call_sqs("catalog-importer", event).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "catalog-importer-sqs.json");
}
