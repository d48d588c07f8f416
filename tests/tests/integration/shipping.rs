//! Shipping zones and tax rates by destination: their administration, a
//! cart's shipping options, and what checkout charges and keeps.

use serde_json::{Value, json};
use shop_local::HttpCall;
use shop_tests::{Session, TestApp, TestResponse, checkout_body, email};

/// A checkout body shipping to `country` (and `state`), choosing `method` when given.
fn checkout_to(country: &str, state: Option<&str>, method: Option<&str>) -> Value {
    let mut body = checkout_body();
    body["shippingAddress"]["country"] = json!(country);
    body["shippingAddress"]["state"] = json!(state);
    if let Some(method) = method {
        body["shippingMethodId"] = json!(method);
    }
    body
}

/// The United States: standard 4.99 (free from 150.00) and express 19.00.
fn domestic() -> Value {
    json!({
        "name": "Domestic",
        "countries": ["US"],
        "methods": [
            {"name": "Standard", "price": 4.99, "freeAbove": 150.00, "minDays": 3, "maxDays": 5},
            {"name": "Express", "price": 19.00, "minDays": 1, "maxDays": 2}
        ]
    })
}

/// Hawaii and Alaska only: air 24.00.
fn islands() -> Value {
    json!({
        "name": "Hawaii and Alaska",
        "countries": ["US"],
        "regions": ["US-HI", "us-ak"],
        "methods": [{"name": "Air", "price": 24.00, "minDays": 3, "maxDays": 6}]
    })
}

/// Germany and France: international 15.00, and a boat no longer offered.
fn europe() -> Value {
    json!({
        "name": "Europe",
        "countries": ["DE", "FR"],
        "methods": [
            {"name": "International", "price": 15.00, "minDays": 5, "maxDays": 9},
            {"name": "Boat", "price": 2.00, "minDays": 20, "maxDays": 40, "active": false}
        ]
    })
}

/// Creates a zone as `admin`; answers it.
async fn zone(app: &TestApp, admin: &Session, body: Value) -> Value {
    let created = app.create_shipping_zone(admin, body).await;
    created.expect_status(201);
    created.data().clone()
}

/// The id of the method called `name` of `zone`.
fn method_id(zone: &Value, name: &str) -> String {
    zone["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|method| method["name"] == name)
        .and_then(|method| method["methodId"].as_str())
        .unwrap_or_else(|| panic!("{zone} has no method {name}"))
        .to_owned()
}

/// Creates a tax rate as `admin`; answers it.
async fn rate(app: &TestApp, admin: &Session, body: Value) -> Value {
    let created = app.create_tax_rate(admin, body).await;
    created.expect_status(201);
    created.data().clone()
}

/// An admin, a customer, and the customer's cart holding `quantity` of a product at `price`.
async fn shop_with_cart(app: &TestApp, price: f64, quantity: u32) -> (Session, Session, String) {
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let product = app.product_for_sale(&admin, price, 50).await;
    app.add_to_cart(&jane, &product, quantity).await;
    (admin, jane, product)
}

fn option_names(response: &TestResponse) -> Vec<String> {
    response.data()["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|option| option["name"].as_str().unwrap().to_owned())
        .collect()
}

fn summary(total: [f64; 5]) -> Value {
    let [subtotal, discount, tax, shipping, total] = total;
    json!({"subtotal": subtotal, "discount": discount, "tax": tax, "shipping": shipping, "total": total})
}

#[tokio::test]
async fn with_nothing_configured_totals_and_orders_are_todays() {
    let app = TestApp::spawn().await;
    let (_, jane, _) = shop_with_cart(&app, 99.99, 2).await;
    let todays = summary([199.98, 0.00, 15.99, 10.00, 225.97]);

    assert_eq!(app.get_cart(&jane).await.data()["summary"], todays);
    let options = app.shipping_options(&jane, "country=US&region=NY").await;
    options.expect_status(200);
    assert_eq!(
        options.data(),
        &json!({"country": "US", "region": "US-NY", "shippable": true, "options": [], "summary": todays, "currency": "USD"})
    );
    let chosen = app
        .checkout(
            &jane,
            checkout_to("USA", Some("NY"), Some("ship_01JD0000000000000000000000")),
        )
        .await;
    chosen.expect_status(400);
    assert_eq!(
        chosen.bad_fields(),
        ["shippingMethodId"],
        "no zones: no method to choose"
    );

    let placed = app.checkout(&jane, checkout_body()).await;
    placed.expect_status(201);
    let order = placed.data();
    assert_eq!(order["summary"], todays);
    assert!(
        order.get("shippingMethod").is_none() && order.get("tax").is_none(),
        "{order}"
    );
}

#[tokio::test]
async fn zones_and_rates_are_for_admins_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let jane = app.customer(&email("jane")).await;
    let zone_id = zone(&app, &admin, domestic()).await["zoneId"]
        .as_str()
        .unwrap()
        .to_owned();
    let rate_id = rate(&app, &admin, json!({"name": "US", "country": "US", "rateBps": 500})).await["rateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let routes = [
        ("GET", "/api/v1/admin/shipping-zones".to_owned()),
        ("POST", "/api/v1/admin/shipping-zones".to_owned()),
        ("GET", format!("/api/v1/admin/shipping-zones/{zone_id}")),
        ("PUT", format!("/api/v1/admin/shipping-zones/{zone_id}")),
        ("DELETE", format!("/api/v1/admin/shipping-zones/{zone_id}")),
        ("GET", "/api/v1/admin/tax-rates".to_owned()),
        ("POST", "/api/v1/admin/tax-rates".to_owned()),
        ("GET", format!("/api/v1/admin/tax-rates/{rate_id}")),
        ("PUT", format!("/api/v1/admin/tax-rates/{rate_id}")),
        ("DELETE", format!("/api/v1/admin/tax-rates/{rate_id}")),
    ];
    for (method, path) in &routes {
        let as_customer = app.send_as(method, path, &jane, domestic()).await;
        assert_eq!(
            (as_customer.status, as_customer.code()),
            (403, "AUTH_004"),
            "{method} {path}"
        );
        let anonymous = app.call(HttpCall::new(method, path).json(&domestic())).await;
        assert_eq!(anonymous.status, 401, "{method} {path}");
    }
    app.get_shipping_zone(&admin, &zone_id).await.expect_status(200);
    app.get_tax_rate(&admin, &rate_id).await.expect_status(200);
}

#[tokio::test]
async fn zones_are_created_listed_replaced_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let created = zone(&app, &admin, domestic()).await;
    let id = created["zoneId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("zone_"));
    assert_eq!(
        (&created["countries"], &created["regions"], created["version"].as_u64()),
        (&json!(["US"]), &json!([]), Some(1))
    );
    assert_eq!(
        created["methods"][0],
        json!({
            "methodId": created["methods"][0]["methodId"],
            "name": "Standard", "price": 4.99, "freeAbove": 150.00, "minDays": 3, "maxDays": 5, "active": true
        })
    );
    assert_eq!(created["methods"][1]["freeAbove"], Value::Null);
    let islands = zone(&app, &admin, islands()).await;
    assert_eq!(islands["regions"], json!(["US-HI", "US-AK"]), "codes are upper-cased");

    let page = app.list_shipping_zones(&admin, "limit=1&page=2").await;
    page.expect_status(200);
    assert_eq!(page.data()["zones"][0]["zoneId"], islands["zoneId"], "oldest first");
    assert_eq!(
        (
            page.data()["pagination"]["totalItems"].as_u64(),
            page.data()["pagination"]["totalPages"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(app.get_shipping_zone(&admin, &id).await.data(), &created);

    let standard = method_id(&created, "Standard");
    let replacement = json!({
        "name": "Contiguous US",
        "countries": ["US"],
        "methods": [
            {"methodId": standard, "name": "Standard", "price": 5.99, "minDays": 3, "maxDays": 5},
            {"name": "Overnight", "price": 39.00, "minDays": 1, "maxDays": 1, "active": false}
        ],
        "version": 1
    });
    let replaced = app.update_shipping_zone(&admin, &id, replacement.clone()).await;
    replaced.expect_status(200);
    let replaced = replaced.data();
    assert_eq!(
        (replaced["name"].as_str(), replaced["version"].as_u64()),
        (Some("Contiguous US"), Some(2))
    );
    assert_eq!(
        method_id(replaced, "Standard"),
        standard,
        "a method sent with its id keeps it"
    );
    assert!(
        replaced["methods"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["name"] != "Express"),
        "left out: removed"
    );
    let stale = app.update_shipping_zone(&admin, &id, replacement).await;
    assert_eq!((stale.status, stale.code()), (409, "RES_003"));
    let foreign = json!({
        "name": "Contiguous US",
        "countries": ["US"],
        "methods": [{"methodId": method_id(&islands, "Air"), "name": "Air", "price": 1, "minDays": 1, "maxDays": 1}]
    });
    let refused = app.update_shipping_zone(&admin, &id, foreign).await;
    refused.expect_status(400);
    assert_eq!(refused.bad_fields(), ["methods[0].methodId"]);

    app.delete_shipping_zone(&admin, &id).await.expect_status(200);
    for gone in [
        app.get_shipping_zone(&admin, &id).await,
        app.delete_shipping_zone(&admin, &id).await,
        app.update_shipping_zone(&admin, &id, domestic()).await,
        app.get_shipping_zone(&admin, "zone_nope").await,
    ] {
        assert_eq!((gone.status, gone.code()), (404, "RES_001"), "{}", gone.body);
    }
    let left = app.list_shipping_zones(&admin, "").await;
    assert_eq!(left.data()["pagination"]["totalItems"], 1);
}

#[tokio::test]
async fn a_bad_zone_is_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let cases = [
        (json!({}), vec!["name", "countries", "methods"], "VAL_002"),
        (
            json!({"name": "X", "countries": ["US", "XX", "us"], "methods": [], "shipping": true}),
            vec!["shipping", "methods", "countries[1]", "countries[2]"],
            "VAL_001",
        ),
        (
            json!({"name": "X", "countries": ["US"], "regions": ["CA-ON", "NY"], "methods": [
                {"name": "Slow", "price": 1.00, "minDays": 9, "maxDays": 2},
                {"name": "", "price": -1, "freeAbove": 0, "minDays": 400, "maxDays": 1, "colour": "red"},
                {"methodId": "ship_01JD0000000000000000000000", "name": "Taken", "price": 1.999, "minDays": 1, "maxDays": 1},
                "fast"
            ]}),
            vec![
                "regions[1]",
                "regions[0]",
                "methods[0].maxDays",
                "methods[1].colour",
                "methods[1].name",
                "methods[1].price",
                "methods[1].freeAbove",
                "methods[1].minDays",
                "methods[2].methodId",
                "methods[2].price",
                "methods[3]",
            ],
            "VAL_001",
        ),
    ];
    for (body, fields, code) in cases {
        let refused = app.create_shipping_zone(&admin, body.clone()).await;
        refused.expect_status(400);
        assert_eq!(refused.code(), code, "{body}");
        let mut named = refused.bad_fields();
        let mut expected: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        named.sort();
        expected.sort();
        assert_eq!(named, expected, "{body}");
    }
    let listed = app.list_shipping_zones(&admin, "").await;
    assert_eq!(listed.data()["pagination"]["totalItems"], 0, "nothing was written");
}

#[tokio::test]
async fn tax_rates_are_one_per_country_and_one_per_region() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let ny = rate(
        &app,
        &admin,
        json!({"name": "NY sales tax", "country": "us", "region": "us-ny", "rateBps": 888, "appliesToShipping": true}),
    )
    .await;
    assert_eq!(
        ny,
        json!({
            "rateId": ny["rateId"], "name": "NY sales tax", "country": "US", "region": "US-NY", "rateBps": 888,
            "appliesToShipping": true, "version": 1, "createdAt": ny["createdAt"], "updatedAt": ny["updatedAt"]
        })
    );
    let us = rate(&app, &admin, json!({"name": "US", "country": "US", "rateBps": 500})).await;
    assert_eq!((&us["region"], &us["appliesToShipping"]), (&Value::Null, &json!(false)));

    let again = app
        .create_tax_rate(
            &admin,
            json!({"name": "NY again", "country": "US", "region": "US-NY", "rateBps": 1}),
        )
        .await;
    assert_eq!(
        (again.status, again.code(), again.bad_fields()),
        (409, "RES_002", vec!["region".to_owned()])
    );
    let country_again = app
        .create_tax_rate(&admin, json!({"name": "US again", "country": "US", "rateBps": 1}))
        .await;
    assert_eq!(
        (country_again.status, country_again.bad_fields()),
        (409, vec!["country".to_owned()])
    );
    let ca = rate(
        &app,
        &admin,
        json!({"name": "CA", "country": "US", "region": "US-CA", "rateBps": 725}),
    )
    .await;
    let ca_id = ca["rateId"].as_str().unwrap();
    let onto_ny = app
        .update_tax_rate(
            &admin,
            ca_id,
            json!({"name": "CA", "country": "US", "region": "US-NY", "rateBps": 725}),
        )
        .await;
    assert_eq!((onto_ny.status, onto_ny.code()), (409, "RES_002"));
    let moved = app
        .update_tax_rate(
            &admin,
            ca_id,
            json!({"name": "WA", "country": "US", "region": "US-WA", "rateBps": 650, "version": 1}),
        )
        .await;
    moved.expect_status(200);
    assert_eq!(
        (moved.data()["region"].as_str(), moved.data()["version"].as_u64()),
        (Some("US-WA"), Some(2))
    );
    let stale = app
        .update_tax_rate(
            &admin,
            ca_id,
            json!({"name": "WA", "country": "US", "rateBps": 1, "version": 1}),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (409, "RES_003"));
    rate(
        &app,
        &admin,
        json!({"name": "CA", "country": "US", "region": "US-CA", "rateBps": 725}),
    )
    .await;

    for (body, fields) in [
        (
            json!({"name": "x", "country": "US", "region": "CA-ON", "rateBps": 10}),
            vec!["region"],
        ),
        (
            json!({"name": "x", "country": "XX", "rateBps": 10_001}),
            vec!["country", "rateBps"],
        ),
        (
            json!({"name": "x", "country": "US", "region": "NY", "rateBps": 10}),
            vec!["region"],
        ),
        (
            json!({"name": "x", "country": "FR", "rateBps": 2000, "vat": true}),
            vec!["vat"],
        ),
    ] {
        let refused = app.create_tax_rate(&admin, body.clone()).await;
        refused.expect_status(400);
        assert_eq!(refused.bad_fields(), fields, "{body}");
    }

    let listed = app.list_tax_rates(&admin, "limit=2").await;
    assert_eq!(
        (
            listed.data()["taxRates"][0]["rateId"].as_str(),
            listed.data()["pagination"]["totalItems"].as_u64()
        ),
        (ny["rateId"].as_str(), Some(4))
    );
    let ny_id = ny["rateId"].as_str().unwrap();
    app.delete_tax_rate(&admin, ny_id).await.expect_status(200);
    app.get_tax_rate(&admin, ny_id).await.expect_status(404);
    app.delete_tax_rate(&admin, ny_id).await.expect_status(404);
    rate(
        &app,
        &admin,
        json!({"name": "NY", "country": "US", "region": "US-NY", "rateBps": 400}),
    )
    .await;
}

#[tokio::test]
async fn shipping_options_list_the_methods_serving_the_destination() {
    let app = TestApp::spawn().await;
    let (admin, jane, product) = shop_with_cart(&app, 99.99, 2).await;
    for body in [domestic(), islands(), europe()] {
        zone(&app, &admin, body).await;
    }

    let texas = app.shipping_options(&jane, "country=us&region=TX").await;
    texas.expect_status(200);
    assert_eq!(option_names(&texas), ["Standard", "Express"], "cheapest first");
    let standard = &texas.data()["options"][0];
    assert_eq!(
        (
            &standard["price"],
            &standard["freeAbove"],
            &standard["minDays"],
            &standard["maxDays"]
        ),
        (&json!(0.00), &json!(150.00), &json!(3), &json!(5)),
        "199.98 ships free from 150.00"
    );
    assert_eq!(standard["summary"], summary([199.98, 0.00, 15.99, 0.00, 215.97]));
    assert_eq!(texas.data()["options"][1]["summary"]["total"], json!(234.97));
    assert_eq!(
        texas.data()["summary"],
        standard["summary"],
        "checkout's default is the cheapest"
    );
    assert_eq!(texas.data()["region"], "US-TX");

    let hawaii = app.shipping_options(&jane, "country=US&region=US-HI").await;
    assert_eq!(option_names(&hawaii), ["Air"], "the zone listing the region wins");
    assert_eq!(
        option_names(&app.shipping_options(&jane, "country=US").await),
        ["Standard", "Express"]
    );
    let germany = app.shipping_options(&jane, "country=DE").await;
    assert_eq!(
        option_names(&germany),
        ["International"],
        "inactive methods are not offered"
    );
    assert_eq!(germany.data()["region"], Value::Null);

    let japan = app.shipping_options(&jane, "country=JP").await;
    japan.expect_status(200);
    assert_eq!(
        japan.data(),
        &json!({"country": "JP", "region": null, "shippable": false, "options": [], "currency": "USD"})
    );

    for (query, field, code) in [
        ("", "country", "VAL_002"),
        ("country=", "country", "VAL_002"),
        ("country=XX", "country", "VAL_001"),
        ("country=USA", "country", "VAL_001"),
        ("country=US&region=CA-ON", "region", "VAL_001"),
        ("country=US&region=New%20York", "region", "VAL_001"),
    ] {
        let refused = app.shipping_options(&jane, query).await;
        refused.expect_status(400);
        assert_eq!(
            (refused.code(), refused.bad_fields()),
            (code, vec![field.to_owned()]),
            "{query}"
        );
    }

    let guest = app
        .call(HttpCall::new("POST", "/api/v1/cart/items").json(&json!({"productId": product, "quantity": 1})))
        .await;
    let token = guest.header("x-cart-token").unwrap().to_owned();
    let guest_options = app.guest_shipping_options(&token, "country=US&region=TX").await;
    guest_options.expect_status(200);
    assert_eq!(option_names(&guest_options), ["Standard", "Express"]);
    assert_eq!(
        guest_options.data()["options"][0]["price"],
        json!(4.99),
        "99.99 is below the free-shipping amount"
    );
}

#[tokio::test]
async fn checkout_charges_the_chosen_or_the_cheapest_method_and_keeps_it() {
    let app = TestApp::spawn().await;
    let (admin, jane, product) = shop_with_cart(&app, 99.99, 2).await;
    let domestic = zone(&app, &admin, domestic()).await;
    let express = method_id(&domestic, "Express");

    let chosen = app.checkout(&jane, checkout_to("US", Some("TX"), Some(&express))).await;
    chosen.expect_status(201);
    let order = chosen.data();
    assert_eq!(order["summary"], summary([199.98, 0.00, 15.99, 19.00, 234.97]));
    assert_eq!(
        order["shippingMethod"],
        json!({"methodId": express, "name": "Express", "zoneId": domestic["zoneId"], "price": 19.00, "minDays": 1, "maxDays": 2})
    );
    let created = time::OffsetDateTime::parse(
        order["createdAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let delivery = time::OffsetDateTime::parse(
        order["estimatedDelivery"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(delivery - created, time::Duration::days(2), "the method's maxDays");
    let kept = app.order_of(&jane, order["orderId"].as_str().unwrap()).await;
    assert_eq!(
        kept["shippingMethod"], order["shippingMethod"],
        "the order keeps its method"
    );

    app.add_to_cart(&jane, &product, 2).await;
    let cheapest = app.checkout(&jane, checkout_body()).await;
    cheapest.expect_status(201);
    assert_eq!(cheapest.data()["shippingMethod"]["name"], "Standard");
    assert_eq!(cheapest.data()["summary"]["shipping"], json!(0.00), "free from 150.00");

    // The admin changes the method afterwards: the order keeps what it paid.
    let mut repriced = domestic_with_express_price(&domestic, 25.00);
    repriced["version"] = json!(1);
    app.update_shipping_zone(&admin, domestic["zoneId"].as_str().unwrap(), repriced)
        .await
        .expect_status(200);
    let after = app.order_of(&jane, order["orderId"].as_str().unwrap()).await;
    assert_eq!(after["shippingMethod"]["price"], json!(19.00));
    assert_eq!(after["summary"]["total"], json!(234.97));
}

/// The domestic zone as created, with its express method at `price`.
fn domestic_with_express_price(zone: &Value, price: f64) -> Value {
    let methods: Vec<Value> = zone["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|method| {
            let mut method = method.clone();
            if method["name"] == "Express" {
                method["price"] = json!(price);
            }
            if method["freeAbove"].is_null() {
                method.as_object_mut().unwrap().remove("freeAbove");
            }
            method
        })
        .collect();
    json!({"name": zone["name"], "countries": zone["countries"], "methods": methods})
}

#[tokio::test]
async fn checkout_refuses_a_method_or_an_address_the_zones_do_not_serve() {
    let app = TestApp::spawn().await;
    let (admin, jane, _) = shop_with_cart(&app, 99.99, 2).await;
    let domestic = zone(&app, &admin, domestic()).await;
    let islands = zone(&app, &admin, islands()).await;
    let europe = zone(&app, &admin, europe()).await;
    let saved = app
        .add_address(
            &jane,
            json!({"street": "1-1 Marunouchi", "city": "Tokyo", "zipCode": "100-0005", "country": "JP"}),
        )
        .await;
    saved.expect_status(201);
    let tokyo = saved.data()["addressId"].as_str().unwrap().to_owned();

    let cases = [
        (
            "a method of another zone",
            checkout_to("USA", Some("NY"), Some(&method_id(&islands, "Air"))),
            "shippingMethodId",
        ),
        (
            "an inactive method",
            checkout_to("DE", None, Some(&method_id(&europe, "Boat"))),
            "shippingMethodId",
        ),
        (
            "an unknown method",
            checkout_to("US", None, Some("ship_01JD0000000000000000000000")),
            "shippingMethodId",
        ),
        (
            "a malformed method id",
            checkout_to("US", None, Some("express")),
            "shippingMethodId",
        ),
        (
            "a country no zone serves",
            checkout_to("JP", None, None),
            "shippingAddress",
        ),
        (
            "a served method to a country no zone serves",
            checkout_to("JP", None, Some(&method_id(&domestic, "Express"))),
            "shippingAddress",
        ),
        (
            "a country written out",
            checkout_to("United States", Some("NY"), None),
            "shippingAddress",
        ),
        (
            "a saved address no zone serves",
            json!({"shippingAddressId": tokyo}),
            "shippingAddressId",
        ),
    ];
    for (case, body, field) in cases {
        let refused = app.checkout(&jane, body).await;
        refused.expect_status(400);
        assert_eq!(refused.bad_fields(), [field], "{case}: {}", refused.body);
    }
    assert_eq!(app.get_cart(&jane).await.data()["itemCount"], 2, "nothing was ordered");
    assert_eq!(app.list_orders(&jane).await.data()["pagination"]["totalItems"], 0);
    app.checkout(&jane, checkout_to("USA", Some("HI"), Some(&method_id(&islands, "Air"))))
        .await
        .expect_status(201);
}

#[tokio::test]
async fn tax_follows_the_region_then_the_country_then_nothing() {
    let app = TestApp::spawn().await;
    let (admin, jane, product) = shop_with_cart(&app, 100.00, 1).await;
    zone(
        &app,
        &admin,
        json!({"name": "Anywhere", "countries": ["US", "DE"], "methods": [{"name": "Post", "price": 10.00, "minDays": 2, "maxDays": 4}]}),
    )
    .await;
    let ny = rate(
        &app,
        &admin,
        json!({"name": "NY sales tax", "country": "US", "region": "US-NY", "rateBps": 888, "appliesToShipping": true}),
    )
    .await;
    rate(
        &app,
        &admin,
        json!({"name": "US sales tax", "country": "US", "rateBps": 500}),
    )
    .await;

    let tax_of = |response: &TestResponse| response.data()["summary"]["tax"].clone();
    let new_york = app.shipping_options(&jane, "country=US&region=NY").await;
    assert_eq!(
        tax_of(&new_york),
        json!(9.76),
        "8.88 % of 100.00 + 10.00 shipping, rounded down"
    );
    assert_eq!(
        new_york.data()["tax"],
        json!({"rateId": ny["rateId"], "name": "NY sales tax", "rateBps": 888, "appliesToShipping": true})
    );
    let texas = app.shipping_options(&jane, "country=US&region=TX").await;
    assert_eq!(
        (tax_of(&texas), &texas.data()["tax"]["name"]),
        (json!(5.00), &json!("US sales tax"))
    );
    let germany = app.shipping_options(&jane, "country=DE").await;
    assert_eq!(tax_of(&germany), json!(0.00), "rates exist, none for Germany");
    assert!(germany.data().get("tax").is_none());
    let cart = app.get_cart(&jane).await;
    assert_eq!(
        cart.data()["summary"],
        summary([100.00, 0.00, 0.00, 10.00, 110.00]),
        "before the destination is known: the cheapest shipping, no tax yet"
    );

    let in_ny = app.checkout(&jane, checkout_body()).await;
    in_ny.expect_status(201);
    assert_eq!(in_ny.data()["summary"], summary([100.00, 0.00, 9.76, 10.00, 119.76]));
    assert_eq!(
        in_ny.data()["tax"],
        json!({"rateId": ny["rateId"], "name": "NY sales tax", "rateBps": 888, "appliesToShipping": true, "amount": 9.76})
    );
    app.add_to_cart(&jane, &product, 1).await;
    let in_germany = app.checkout(&jane, checkout_to("DEU", None, None)).await;
    in_germany.expect_status(201);
    assert_eq!(in_germany.data()["summary"]["total"], json!(110.00));
    assert_eq!(
        in_germany.data()["tax"],
        json!({"rateBps": 0, "appliesToShipping": false, "amount": 0.00})
    );
}

#[tokio::test]
async fn tax_rates_without_zones_keep_the_flat_shipping_fee() {
    let app = TestApp::spawn().await;
    let (admin, jane, _) = shop_with_cart(&app, 99.99, 2).await;
    rate(
        &app,
        &admin,
        json!({"name": "NY", "country": "US", "region": "US-NY", "rateBps": 400}),
    )
    .await;
    let placed = app.checkout(&jane, checkout_body()).await;
    placed.expect_status(201);
    assert_eq!(placed.data()["summary"], summary([199.98, 0.00, 7.99, 10.00, 217.97]));
    assert!(placed.data().get("shippingMethod").is_none());
    assert_eq!(placed.data()["tax"]["rateBps"], 400);
}

#[tokio::test]
async fn shipping_is_free_from_the_methods_amount_after_the_discount() {
    let app = TestApp::spawn().await;
    let (admin, jane, _) = shop_with_cart(&app, 75.00, 2).await;
    zone(&app, &admin, domestic()).await;
    let standard_price = |response: &TestResponse| response.data()["options"][0]["price"].clone();

    let at_threshold = app.shipping_options(&jane, "country=US").await;
    assert_eq!(standard_price(&at_threshold), json!(0.00), "150.00 reaches 150.00");
    app.create_coupon(&admin, json!({"code": "TENOFF", "type": "FIXED", "value": 10}))
        .await
        .expect_status(201);
    app.apply_coupon(&jane, "TENOFF").await.expect_status(200);
    let discounted = app.shipping_options(&jane, "country=US").await;
    assert_eq!(standard_price(&discounted), json!(4.99), "140.00 after the discount");
    assert_eq!(
        discounted.data()["summary"],
        summary([150.00, 10.00, 11.20, 4.99, 156.19]),
        "8 % of 140.00, and the standard fee"
    );

    let items = app.get_cart(&jane).await.data()["items"].clone();
    app.update_cart_item(&jane, items[0]["itemId"].as_str().unwrap(), 3)
        .await
        .expect_status(200);
    let more = app.shipping_options(&jane, "country=US").await;
    assert_eq!(standard_price(&more), json!(0.00), "215.00 after the discount");
    let placed = app.checkout(&jane, checkout_body()).await;
    placed.expect_status(201);
    assert_eq!(placed.data()["summary"]["shipping"], json!(0.00));
}

#[tokio::test]
async fn warm_zones_and_rates_cost_the_cart_and_checkout_no_round_trip() {
    let app = TestApp::spawn().await;
    let (admin, jane, _) = shop_with_cart(&app, 99.99, 2).await;
    zone(&app, &admin, domestic()).await;
    rate(
        &app,
        &admin,
        json!({"name": "NY", "country": "US", "region": "US-NY", "rateBps": 888}),
    )
    .await;

    app.reset_calls();
    app.get_cart(&jane).await.expect_status(200);
    let mut cold = app.calls();
    cold.sort();
    assert_eq!(
        cold,
        ["BatchGetItem", "GetItem", "Query"],
        "after an admin change: the rules are read again, beside the products"
    );
    app.get_cart(&jane).await.expect_status(200);
    assert_eq!(app.calls(), ["GetItem", "BatchGetItem"], "the cart, warm");
    app.shipping_options(&jane, "country=US&region=NY")
        .await
        .expect_status(200);
    assert_eq!(app.calls(), ["GetItem", "BatchGetItem"], "shipping options, warm");
    app.checkout(&jane, checkout_body()).await.expect_status(201);
    assert_eq!(
        app.calls(),
        ["GetItem", "BatchGetItem", "TransactWriteItems"],
        "checkout, warm: cart, products, one transaction"
    );
}
