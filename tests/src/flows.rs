//! One-call steps of the order and payment flows, shared by every test module:
//! a product on sale, a filled cart, a checkout, a reserved or paid order, a
//! refund, and reading back what came of them.

use std::time::Duration;

use crate::{Session, TestApp, TestResponse};
use serde_json::{Value, json};

const ADDRESS: &str =
    r#"{"street": "123 Main St", "city": "New York", "state": "NY", "zipCode": "10001", "country": "USA"}"#;

/// A valid checkout body: an inline address for shipping and billing, a card.
pub fn checkout_body() -> Value {
    let address: Value = serde_json::from_str(ADDRESS).expect("the address is JSON");
    json!({"shippingAddress": address, "billingAddress": address, "paymentMethod": {"type": "credit_card", "token": "tok_visa_1234"}})
}

/// The subjects of raw mails.
pub fn subjects(mails: &[String]) -> Vec<String> {
    mails
        .iter()
        .filter_map(|mail| {
            mail.lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .map(str::to_owned)
        })
        .collect()
}

impl TestApp {
    /// An ACTIVE product in a new category, as `admin`; returns its id.
    pub async fn product_for_sale(&self, admin: &Session, price: f64, stock: i64) -> String {
        let category = self.category(admin, &format!("Cat {}", ulid::Ulid::new()), None).await;
        let product = self
            .product(
                admin,
                &category,
                json!({
                    "name": "Wireless Headphones",
                    "slug": format!("wireless-headphones-{}", ulid::Ulid::new().to_string().to_lowercase()),
                    "price": price,
                    "stock": stock
                }),
            )
            .await;
        product["productId"].as_str().expect("a product id").to_owned()
    }

    /// Adds `quantity` of `product` to the customer's cart.
    pub async fn add_to_cart(&self, customer: &Session, product: &str, quantity: u32) {
        self.add_cart_item(customer, json!({"productId": product, "quantity": quantity}))
            .await
            .expect_status(201);
    }

    /// `POST /api/v1/orders` with `body`.
    pub async fn checkout(&self, customer: &Session, body: Value) -> TestResponse {
        self.send_as("POST", "/api/v1/orders", customer, body).await
    }

    /// The product's available stock, as a shopper sees it.
    pub async fn stock_of(&self, product: &str) -> i64 {
        self.get_product(product).await.data()["inventory"]
            .as_i64()
            .expect("inventory is a number")
    }

    /// The order as its customer (or an admin) reads it.
    pub async fn order_of(&self, customer: &Session, order: &str) -> Value {
        let response = self.get_order(customer, order).await;
        response.expect_status(200);
        response.data().clone()
    }

    /// Cart → checkout → the inventory consumer holds the stock; returns the order id.
    pub async fn reserved_order(&self, customer: &Session, product: &str, quantity: u32) -> String {
        self.add_to_cart(customer, product, quantity).await;
        let created = self.checkout(customer, checkout_body()).await;
        created.expect_status(201);
        let order = created.data()["orderId"].as_str().expect("an order id").to_owned();
        self.run_consumer("InventoryReservationQueue", "inventory-reservation")
            .await;
        assert_eq!(
            self.order_of(customer, &order).await["reservation"]["status"],
            "RESERVED"
        );
        order
    }

    /// `POST /api/v1/payments` for the order; returns the PaymentIntent id.
    pub async fn start_payment(&self, customer: &Session, order: &str) -> String {
        let started = self.create_payment(customer, order).await;
        started.expect_status(201);
        assert!(
            started.data()["clientSecret"]
                .as_str()
                .is_some_and(|s| s.contains("_secret_"))
        );
        started.data()["paymentId"].as_str().expect("a payment id").to_owned()
    }

    /// `POST /api/v1/payments/{payment}/confirm` with a payment method (`pm_card_visa`, …).
    pub async fn confirm_payment(&self, customer: &Session, payment: &str, method: &str) -> TestResponse {
        self.send_as(
            "POST",
            &format!("/api/v1/payments/{payment}/confirm"),
            customer,
            json!({"paymentMethod": method}),
        )
        .await
    }

    /// A reserved order paid with `pm_card_visa`; returns (order, payment).
    pub async fn paid_order(&self, customer: &Session, product: &str, quantity: u32) -> (String, String) {
        let order = self.reserved_order(customer, product, quantity).await;
        let payment = self.start_payment(customer, &order).await;
        self.confirm_payment(customer, &payment, "pm_card_visa")
            .await
            .expect_status(200);
        (order, payment)
    }

    /// `POST /api/v1/payments/{payment}/refund` as `admin` (`{}` refunds the rest).
    pub async fn refund(&self, admin: &Session, payment: &str, body: Value) -> TestResponse {
        self.send_as("POST", &format!("/api/v1/payments/{payment}/refund"), admin, body)
            .await
    }

    /// Waits (up to 30 s, for a machine busy with other tests) until `done`
    /// holds for the order, as webhooks and consumers catch up.
    pub async fn wait_for_order(&self, customer: &Session, order: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..300 {
            let current = self.order_of(customer, order).await;
            if done(&current) {
                return current;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "order {order} never got there: {}",
            self.order_of(customer, order).await
        );
    }

    /// A Stripe client on the local fake Stripe (what the Dashboard or Stripe.js would do).
    pub fn stripe(&self) -> stripe::Client {
        let base = self.stack.endpoints.stripe.clone().expect("STRIPE_API_BASE");
        stripe::ClientBuilder::new("sk_test_local")
            .url(base)
            .build()
            .expect("a Stripe client")
    }

    /// Every refund Stripe holds for a PaymentIntent, as (id, cents).
    pub async fn stripe_refunds(&self, payment: &str) -> Vec<(String, i64)> {
        let refunds = stripe_core::refund::ListRefund::new()
            .payment_intent(payment)
            .limit(100)
            .send(&self.stripe())
            .await
            .expect("listing Stripe's refunds");
        refunds.data.iter().map(|r| (r.id.to_string(), r.amount)).collect()
    }
}
