use serde_json::json;
use shop::domain::{ProductId, Timestamp, UserId};
use shop::store::Store;
use shop::store::reviews::PurchaseRecord;
use shop_local::HttpCall;
use shop_tests::{TestApp, email};

#[tokio::test]
async fn an_approved_review_counts_toward_the_rating_and_a_second_one_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let joe = app.customer(&email("joe")).await;
    let category = app.category(&admin, "Audio", None).await;
    let product = app.product(&admin, &category, json!({})).await;
    let id = product["productId"].as_str().unwrap();

    let first = app
        .create_review(
            &jane,
            id,
            json!({"rating": 5, "title": "Great", "content": "Love them"}),
        )
        .await;
    first.expect_status(201);
    assert_eq!(first.data()["status"], "PENDING");
    assert_eq!(first.data()["authorName"], "Jane D.");
    let second = app
        .create_review(&jane, id, json!({"rating": 1, "content": "Changed my mind"}))
        .await;
    second.expect_status(409);
    assert_eq!(second.code(), "RES_002");
    app.create_review(&joe, id, json!({"rating": 4, "content": "Good"}))
        .await
        .expect_status(201);
    let listed = app.list_reviews(id, "").await;
    assert_eq!(
        listed.data()["pagination"]["totalItems"],
        0,
        "pending reviews are not shown"
    );

    let queue = app.pending_reviews(&admin).await;
    queue.expect_status(200);
    assert_eq!(queue.data()["pagination"]["totalItems"], 2);
    app.pending_reviews(&jane).await.expect_status(403);
    let review_ids: Vec<String> = queue.data()["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reviewId"].as_str().unwrap().to_owned())
        .collect();
    for review in &review_ids {
        app.approve_review(&admin, id, review).await.expect_status(200);
    }
    app.approve_review(&admin, id, &review_ids[0]).await.expect_status(200);

    let detail = app.get_product(id).await;
    assert_eq!(
        (detail.data()["rating"].as_f64(), detail.data()["reviewCount"].as_i64()),
        (Some(4.5), Some(2)),
        "approving twice counts once"
    );
    let newest = app.list_reviews(id, "").await;
    assert_eq!(newest.data()["reviews"][0]["rating"], 4);
    let highest = app.list_reviews(id, "sort=highest").await;
    assert_eq!(highest.data()["reviews"][0]["rating"], 5);

    let jane_review = first.data()["reviewId"].as_str().unwrap();
    app.send_as(
        "POST",
        &format!("/api/v1/products/{id}/reviews/{jane_review}/reject"),
        &admin,
        json!(null),
    )
    .await
    .expect_status(200);
    let detail = app.get_product(id).await;
    assert_eq!(
        (detail.data()["rating"].as_f64(), detail.data()["reviewCount"].as_i64()),
        (Some(4.0), Some(1))
    );
}

#[tokio::test]
async fn editing_an_approved_review_sends_it_back_to_moderation() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let mallory = app.customer(&email("mallory")).await;
    let category = app.category(&admin, "Books", None).await;
    let product = app.product(&admin, &category, json!({})).await;
    let id = product["productId"].as_str().unwrap();
    let created = app
        .create_review(&jane, id, json!({"rating": 2, "content": "Meh"}))
        .await;
    let review = created.data()["reviewId"].as_str().unwrap();
    app.approve_review(&admin, id, review).await.expect_status(200);

    app.update_review(&mallory, id, review, json!({"rating": 1}))
        .await
        .expect_status(404);
    app.delete_review(&mallory, id, review).await.expect_status(404);
    let edited = app
        .update_review(
            &jane,
            id,
            review,
            json!({"rating": 3, "content": "Better on second read"}),
        )
        .await;
    edited.expect_status(200);
    assert_eq!(edited.data()["status"], "PENDING");

    let detail = app.get_product(id).await;
    assert_eq!(
        detail.data()["reviewCount"],
        0,
        "the edited review leaves the rating until approved again"
    );
    let bad = app.update_review(&jane, id, review, json!({"rating": 6})).await;
    bad.expect_status(400);
    assert_eq!(bad.bad_fields(), ["rating"]);
    app.delete_review(&jane, id, review).await.expect_status(200);
    app.create_review(&jane, id, json!({"rating": 5, "content": "Again"}))
        .await
        .expect_status(201);
}

#[tokio::test]
async fn a_review_of_a_purchased_product_is_verified() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let buyer = app.customer(&email("buyer")).await;
    let browser = app.customer(&email("browser")).await;
    let category = app.category(&admin, "Kitchen", None).await;
    let product = app.product(&admin, &category, json!({})).await;
    let product_id = product["productId"].as_str().unwrap();
    let store = Store::new(app.clients.dynamodb().clone(), &app.stack.table_name);
    let purchase = PurchaseRecord {
        user_id: UserId::parse(&buyer.user_id).unwrap(),
        product_id: ProductId::parse(product_id).unwrap(),
        order_id: "ord_01JD0000000000000000000000".to_owned(),
        purchased_at: Timestamp::now(),
    };
    let key = shop::store::keys::purchase(purchase.user_id, purchase.product_id);
    store
        .put_items(vec![shop::store::to_item(&key, &purchase).unwrap()])
        .await
        .unwrap();

    let verified = app
        .create_review(&buyer, product_id, json!({"rating": 5, "content": "Bought it"}))
        .await;
    let unverified = app
        .create_review(&browser, product_id, json!({"rating": 5, "content": "Saw it"}))
        .await;

    assert_eq!(verified.data()["isVerified"], true);
    assert_eq!(unverified.data()["isVerified"], false);
    let anonymous = app
        .call(
            HttpCall::new("POST", &format!("/api/v1/products/{product_id}/reviews"))
                .json(&json!({"rating": 5, "content": "x"})),
        )
        .await;
    anonymous.expect_status(401);
    let missing = app.create_review(&buyer, product_id, json!({})).await;
    assert_eq!(missing.code(), "VAL_002");
    assert_eq!(missing.bad_fields(), ["rating", "content"]);
}

#[tokio::test]
async fn the_wishlist_is_idempotent_paginated_and_shows_what_is_no_longer_sold() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let joe = app.customer(&email("joe")).await;
    let category = app.category(&admin, "Toys", None).await;
    let kite = app.product(&admin, &category, json!({"name": "Kite"})).await;
    let yoyo = app.product(&admin, &category, json!({"name": "Yoyo"})).await;
    let draft = app.product(&admin, &category, json!({"status": "DRAFT"})).await;
    let kite_id = kite["productId"].as_str().unwrap();

    let added = app.add_to_wishlist(&jane, kite_id).await;
    added.expect_status(201);
    let again = app.add_to_wishlist(&jane, kite_id).await;
    again.expect_status(200);
    app.add_to_wishlist(&jane, yoyo["productId"].as_str().unwrap())
        .await
        .expect_status(201);
    app.add_to_wishlist(&jane, draft["productId"].as_str().unwrap())
        .await
        .expect_status(404);
    let bad = app.add_to_wishlist(&jane, "kite").await;
    assert_eq!(bad.bad_fields(), ["productId"]);

    let page = app.wishlist(&jane, "limit=1").await;
    page.expect_status(200);
    assert_eq!(page.data()["pagination"]["totalItems"], 2);
    assert_eq!(page.data()["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.wishlist(&joe, "").await.data()["pagination"]["totalItems"],
        0,
        "wishlists are private"
    );

    app.archive_product(&admin, yoyo["productId"].as_str().unwrap())
        .await
        .expect_status(200);
    let list = app.wishlist(&jane, "").await;
    let yoyo_entry = list.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["productId"] == yoyo["productId"])
        .unwrap()
        .clone();
    assert_eq!(yoyo_entry["available"], false);
    assert!(yoyo_entry["product"].is_null());
    let kite_entry = list.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["productId"] == kite["productId"])
        .unwrap()
        .clone();
    assert_eq!(kite_entry["product"]["name"], "Kite");

    app.remove_from_wishlist(&jane, kite_id).await.expect_status(200);
    app.remove_from_wishlist(&jane, kite_id).await.expect_status(200);
    assert_eq!(app.wishlist(&jane, "").await.data()["pagination"]["totalItems"], 1);
    app.call(HttpCall::new("GET", "/api/v1/users/wishlist"))
        .await
        .expect_status(401);
}
