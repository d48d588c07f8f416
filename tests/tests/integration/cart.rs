use serde_json::{Value, json};
use shop_local::HttpCall;
use shop_tests::{Session, TestApp, email};

/// An admin, a category and one ACTIVE product at `price` with `stock`.
async fn shop_with_product(app: &TestApp, price: f64, stock: i64) -> (Session, String, String) {
    let admin = app.admin(&email("admin")).await;
    let category = app.category(&admin, "Audio", None).await;
    let product = app
        .product(
            &admin,
            &category,
            json!({"name": "Wireless Headphones", "price": price, "stock": stock}),
        )
        .await;
    (admin, category, product["productId"].as_str().unwrap().to_owned())
}

fn summary(response: &shop_tests::TestResponse) -> Value {
    response.data()["summary"].clone()
}

#[tokio::test]
async fn the_cart_summary_follows_the_worked_examples() {
    let app = TestApp::spawn().await;
    let (_, _, product) = shop_with_product(&app, 99.99, 50).await;
    let jane = app.customer(&email("jane")).await;

    let empty = app.get_cart(&jane).await;
    empty.expect_status(200);
    assert_eq!(
        summary(&empty),
        json!({"subtotal": 0.00, "discount": 0.00, "tax": 0.00, "shipping": 0.00, "total": 0.00})
    );
    assert_eq!(empty.data()["cartId"], format!("cart_{}", jane.user_id));

    let two = app
        .add_cart_item(&jane, json!({"productId": product, "quantity": 2}))
        .await;
    two.expect_status(201);
    assert_eq!(two.body["message"], "Item added to cart successfully");
    assert_eq!(
        summary(&two),
        json!({"subtotal": 199.98, "discount": 0.00, "tax": 15.99, "shipping": 10.00, "total": 225.97})
    );
    let item = &two.data()["items"][0];
    assert_eq!(
        (
            item["price"].clone(),
            item["quantity"].clone(),
            item["subtotal"].clone()
        ),
        (json!(99.99), json!(2), json!(199.98))
    );
    assert_eq!(item["name"], "Wireless Headphones");
    let item_id = item["itemId"].as_str().unwrap().to_owned();

    let three = app.update_cart_item(&jane, &item_id, 3).await;
    three.expect_status(200);
    assert_eq!(
        summary(&three),
        json!({"subtotal": 299.97, "discount": 0.00, "tax": 23.99, "shipping": 10.00, "total": 333.96})
    );
    // The body text shows the cents exactly as documented.
    let raw = serde_json::to_string(&summary(&three)).unwrap();
    assert!(raw.contains("\"shipping\":10.0"), "{raw}");

    let removed = app.remove_cart_item(&jane, &item_id).await;
    removed.expect_status(200);
    assert_eq!(summary(&removed)["total"], json!(0.00));
    assert_eq!(removed.data()["items"], json!([]));
}

#[tokio::test]
async fn prices_are_always_current_from_the_catalog() {
    let app = TestApp::spawn().await;
    let (admin, _, product) = shop_with_product(&app, 50.00, 10).await;
    let jane = app.customer(&email("jane")).await;
    app.add_cart_item(&jane, json!({"productId": product}))
        .await
        .expect_status(201);

    app.update_product(&admin, &product, json!({"price": 40.00}))
        .await
        .expect_status(200);

    let cart = app.get_cart(&jane).await;
    assert_eq!(cart.data()["items"][0]["price"], json!(40.00));
    assert_eq!(summary(&cart)["subtotal"], json!(40.00));
    app.archive_product(&admin, &product).await.expect_status(200);
    let archived = app.get_cart(&jane).await;
    assert_eq!(archived.data()["items"][0]["available"], false);
    assert_eq!(
        summary(&archived)["total"],
        json!(0.00),
        "an item no longer sold is not charged"
    );
}

#[tokio::test]
async fn bad_cart_operations_are_rejected_clearly() {
    let app = TestApp::spawn().await;
    let (admin, category, product) = shop_with_product(&app, 10.00, 5).await;
    let jane = app.customer(&email("jane")).await;
    let mallory = app.customer(&email("mallory")).await;
    let draft = app.product(&admin, &category, json!({"status": "DRAFT"})).await;
    let sized = app
        .product(&admin, &category, json!({"stock": 0, "variants": [{"sku": format!("SZ-{}", ulid::Ulid::new()), "options": {"Size": "M"}, "stock": 2}]}))
        .await;

    let unknown = app
        .add_cart_item(&jane, json!({"productId": "prod_01JD0000000000000000000000"}))
        .await;
    unknown.expect_status(404);
    app.add_cart_item(&jane, json!({"productId": draft["productId"]}))
        .await
        .expect_status(404);
    for quantity in [0, 100] {
        let bad = app
            .add_cart_item(&jane, json!({"productId": product, "quantity": quantity}))
            .await;
        bad.expect_status(400);
        assert_eq!(bad.bad_fields(), ["quantity"]);
    }
    let too_many = app
        .add_cart_item(&jane, json!({"productId": product, "quantity": 6}))
        .await;
    too_many.expect_status(400);
    assert_eq!(too_many.code(), "BUS_001");
    let no_variant = app.add_cart_item(&jane, json!({"productId": sized["productId"]})).await;
    no_variant.expect_status(400);
    assert_eq!(no_variant.bad_fields(), ["variantId"]);
    let variant = sized["variants"][0]["variantId"].clone();
    let with_variant = app
        .add_cart_item(
            &jane,
            json!({"productId": sized["productId"], "variantId": variant, "quantity": 2}),
        )
        .await;
    with_variant.expect_status(201);
    assert_eq!(with_variant.data()["items"][0]["options"]["Size"], "M");

    let mine = with_variant.data()["items"][0]["itemId"].as_str().unwrap().to_owned();
    app.update_cart_item(&mallory, &mine, 1).await.expect_status(404);
    app.remove_cart_item(&mallory, &mine).await.expect_status(404);
    let over = app.update_cart_item(&jane, &mine, 3).await;
    assert_eq!(over.code(), "BUS_001");
    let typo = app.add_cart_item(&jane, json!({"product": product})).await;
    typo.expect_status(400);
    assert_eq!(app.get_cart(&jane).await.data()["itemCount"], 2, "nothing half-written");
}

#[tokio::test]
async fn a_guest_cart_merges_into_the_customer_cart_capped_by_stock() {
    let app = TestApp::spawn().await;
    let (_, _, product) = shop_with_product(&app, 20.00, 5).await;
    let jane = app.customer(&email("jane")).await;
    app.add_to_cart(&jane, &product, 3).await;

    let guest = app
        .call(HttpCall::new("POST", "/api/v1/cart/items").json(&json!({"productId": product, "quantity": 4})))
        .await;
    guest.expect_status(201);
    let token = guest.header("x-cart-token").unwrap().to_owned();
    assert_eq!(guest.data()["cartToken"], token.as_str());
    let again = app
        .call(HttpCall::new("GET", "/api/v1/cart").header("x-cart-token", &token))
        .await;
    assert_eq!(again.data()["itemCount"], 4);
    let stranger = app.call(HttpCall::new("GET", "/api/v1/cart")).await;
    assert_eq!(stranger.data()["itemCount"], 0);

    let merged = app
        .call(
            HttpCall::new("POST", "/api/v1/cart/merge")
                .header("authorization", &jane.bearer())
                .header("x-cart-token", &token),
        )
        .await;

    merged.expect_status(200);
    assert_eq!(merged.data()["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        merged.data()["items"][0]["quantity"],
        5,
        "3 + 4 capped by the 5 in stock"
    );
    let emptied = app
        .call(HttpCall::new("GET", "/api/v1/cart").header("x-cart-token", &token))
        .await;
    assert_eq!(emptied.data()["itemCount"], 0);
    let without_token = app
        .call(HttpCall::new("POST", "/api/v1/cart/merge").header("authorization", &jane.bearer()))
        .await;
    without_token.expect_status(400);
}

#[tokio::test]
async fn a_coupon_shows_its_discount_and_refuses_carts_it_does_not_fit() {
    let app = TestApp::spawn().await;
    let (admin, _, product) = shop_with_product(&app, 100.00, 10).await;
    let jane = app.customer(&email("jane")).await;
    let created = app
        .create_coupon(
            &admin,
            json!({"code": "save10", "type": "PERCENTAGE", "value": 10, "minSubtotal": 150.00}),
        )
        .await;
    created.expect_status(201);
    assert_eq!(created.data()["code"], "SAVE10");
    app.create_coupon(&admin, json!({"code": "SAVE10", "type": "FIXED", "value": 5}))
        .await
        .expect_status(409);
    app.create_coupon(&jane, json!({"code": "MINE", "type": "FIXED", "value": 5}))
        .await
        .expect_status(403);
    app.add_cart_item(&jane, json!({"productId": product}))
        .await
        .expect_status(201);

    let too_small = app.apply_coupon(&jane, "SAVE10").await;
    too_small.expect_status(400);
    assert_eq!(too_small.bad_fields(), ["code"]);
    app.add_cart_item(&jane, json!({"productId": product}))
        .await
        .expect_status(201);
    let applied = app.apply_coupon(&jane, "save10").await;
    applied.expect_status(200);
    assert_eq!(
        summary(&applied),
        json!({"subtotal": 200.00, "discount": 20.00, "tax": 14.40, "shipping": 10.00, "total": 204.40})
    );
    assert_eq!(applied.data()["coupon"]["code"], "SAVE10");
    let unknown = app.apply_coupon(&jane, "NOPE1").await;
    assert_eq!(unknown.bad_fields(), ["code"]);
    let removed = app.send_as("DELETE", "/api/v1/cart/coupon", &jane, json!(null)).await;
    assert_eq!(summary(&removed)["discount"], json!(0.00));
}

#[tokio::test]
async fn applying_another_coupon_answers_with_its_discount() {
    let app = TestApp::spawn().await;
    let (admin, _, product) = shop_with_product(&app, 100.00, 10).await;
    let jane = app.customer(&email("jane")).await;
    app.create_coupon(&admin, json!({"code": "TENOFF", "type": "PERCENTAGE", "value": 10}))
        .await
        .expect_status(201);
    app.create_coupon(&admin, json!({"code": "FIVE", "type": "FIXED", "value": 5}))
        .await
        .expect_status(201);
    app.add_cart_item(&jane, json!({"productId": product}))
        .await
        .expect_status(201);

    let first = app.apply_coupon(&jane, "TENOFF").await;
    first.expect_status(200);
    assert_eq!(summary(&first)["discount"], json!(10.00));
    let second = app.apply_coupon(&jane, "FIVE").await;
    second.expect_status(200);
    assert_eq!(second.data()["coupon"]["code"], "FIVE");
    assert_eq!(summary(&second)["discount"], json!(5.00), "{}", second.body);
    let read = app.get_cart(&jane).await;
    assert_eq!(summary(&read), summary(&second), "the answer is the cart as saved");

    app.reset_calls();
    let again = app.apply_coupon(&jane, "TENOFF").await;
    assert_eq!(again.data()["coupon"]["code"], "TENOFF");
    assert_eq!(
        app.calls(),
        ["GetItem", "BatchGetItem", "PutItem"],
        "the cart, its products with the coupon, the conditional put"
    );
}
