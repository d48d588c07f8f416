//! A customer, or the admin, using the API through a stack's gateway: one
//! method per step, each checking the status the API documents for it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shop_local::HttpCall;

use crate::BoxError;
use crate::stack::{Answer, LocalStack};

/// The password of every account the bench registers.
pub const PASSWORD: &str = "Bench-Pass-123!";

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub email: String,
    token: String,
}

/// How a checkout ended.
#[derive(Debug, Clone)]
pub enum Checkout {
    Placed {
        order: String,
    },
    /// Refused for want of stock (409) or of a valid cart (400).
    Refused(Answer),
}

/// A unique address for a new account.
pub fn new_email(name: &str) -> String {
    format!(
        "{name}.{}@bench.example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

/// The body of `POST /api/v1/orders`: one address for shipping and billing, a card.
pub fn checkout_body() -> Value {
    let address =
        json!({"street": "123 Main St", "city": "New York", "state": "NY", "zipCode": "10001", "country": "USA"});
    json!({
        "shippingAddress": address,
        "billingAddress": address,
        "paymentMethod": {"type": "credit_card", "token": "tok_visa_1234"}
    })
}

impl Shopper {
    /// `POST /api/v1/users/register`.
    pub async fn register(stack: &LocalStack, email: &str) -> Result<(), BoxError> {
        let body = json!({"email": email, "password": PASSWORD, "firstName": "Bench", "lastName": "Shopper", "phoneNumber": "+1234567890"});
        let call = HttpCall::new("POST", "/api/v1/users/register").json(&body);
        stack.call(call).await.expect(201, "register")?;
        Ok(())
    }

    /// `POST /api/v1/users/login`.
    pub async fn login(stack: &LocalStack, email: &str, password: &str) -> Result<Self, BoxError> {
        let answer = stack.call(login_call(email, password)).await.expect(200, "login")?;
        let token = answer.data()["accessToken"]
            .as_str()
            .ok_or("login answered without an access token")?;
        Ok(Self {
            email: email.to_owned(),
            token: token.to_owned(),
        })
    }

    /// An admin made with the bootstrap `shop-local create-admin` uses, signed in.
    pub async fn admin(stack: &LocalStack) -> Result<Self, BoxError> {
        let email = new_email("admin");
        let input = shop::users::NewUser {
            email: shop::domain::Email::parse(&email)?,
            password: shop::domain::Password::parse(PASSWORD).map_err(|e| e.to_string())?,
            first_name: shop::domain::PersonName::parse("Bench")?,
            last_name: shop::domain::PersonName::parse("Admin")?,
            phone_number: None,
        };
        shop::users::bootstrap_admin(&stack.store(), input)
            .await
            .map_err(|e| e.to_string())?;
        Self::login(stack, &email, PASSWORD).await
    }

    /// A request with this account's bearer token.
    pub fn request(&self, method: &str, path: &str) -> HttpCall {
        HttpCall::new(method, path).header("authorization", &format!("Bearer {}", self.token))
    }

    /// A request with a JSON body and this account's bearer token.
    pub fn send(&self, method: &str, path: &str, body: &Value) -> HttpCall {
        self.request(method, path).json(body)
    }

    /// `POST /api/v1/categories` (admin); returns its id.
    pub async fn create_category(&self, stack: &LocalStack, name: &str) -> Result<String, BoxError> {
        let call = self.send("POST", "/api/v1/categories", &json!({"name": name}));
        let answer = stack.call(call).await.expect(201, "create a category")?;
        id_of(&answer, "categoryId")
    }

    /// `POST /api/v1/products` (admin): an ACTIVE product; returns its id.
    pub async fn create_product(
        &self,
        stack: &LocalStack,
        category: &str,
        name: &str,
        stock: i64,
    ) -> Result<String, BoxError> {
        let unique = ulid::Ulid::new().to_string();
        let body = json!({
            "name": name,
            "description": "A product the bench sells",
            "price": 24.99,
            "categoryId": category,
            "brand": "Bench",
            "sku": format!("B-{unique}"),
            "status": "ACTIVE",
            "stock": stock,
            "images": ["https://cdn.example.com/products/bench/1.jpg"],
        });
        let call = self.send("POST", "/api/v1/products", &body);
        let answer = stack.call(call).await.expect(201, "create a product")?;
        id_of(&answer, "productId")
    }

    pub async fn add_to_cart(&self, stack: &LocalStack, product: &str, quantity: u32) -> Result<(), BoxError> {
        stack
            .call(self.add_to_cart_call(product, quantity))
            .await
            .expect(201, "add to cart")?;
        Ok(())
    }

    pub fn add_to_cart_call(&self, product: &str, quantity: u32) -> HttpCall {
        self.send(
            "POST",
            "/api/v1/cart/items",
            &json!({"productId": product, "quantity": quantity}),
        )
    }

    /// `DELETE /api/v1/cart`.
    pub async fn clear_cart(&self, stack: &LocalStack) -> Result<(), BoxError> {
        let answer = stack.call(self.request("DELETE", "/api/v1/cart")).await;
        match answer.status {
            200 | 204 => Ok(()),
            _ => Err(answer.unexpected(204, "clear the cart")),
        }
    }

    /// `POST /api/v1/orders` with the cart.
    pub async fn checkout(&self, stack: &LocalStack) -> Result<Checkout, BoxError> {
        let answer = stack.call(self.checkout_call()).await;
        match answer.status {
            201 => Ok(Checkout::Placed {
                order: id_of(&answer, "orderId")?,
            }),
            400 | 409 => Ok(Checkout::Refused(answer)),
            _ => Err(answer.unexpected(201, "checkout")),
        }
    }

    pub fn checkout_call(&self) -> HttpCall {
        self.send("POST", "/api/v1/orders", &checkout_body())
    }

    /// `POST /api/v1/payments`, then `POST /api/v1/payments/{id}/confirm` with
    /// a card the fake Stripe accepts; returns the PaymentIntent id.
    pub async fn pay(&self, stack: &LocalStack, order: &str) -> Result<String, BoxError> {
        let call = self.send("POST", "/api/v1/payments", &json!({"orderId": order}));
        let started = stack.call(call).await.expect(201, "start a payment")?;
        let payment = id_of(&started, "paymentId")?;
        let confirm = self.send(
            "POST",
            &format!("/api/v1/payments/{payment}/confirm"),
            &json!({"paymentMethod": "pm_card_visa"}),
        );
        stack.call(confirm).await.expect(200, "confirm the payment")?;
        Ok(payment)
    }

    /// `GET /api/v1/orders/{order}`.
    pub async fn order(&self, stack: &LocalStack, order: &str) -> Result<Value, BoxError> {
        let answer = stack.call(self.order_call(order)).await.expect(200, "read the order")?;
        Ok(answer.data().clone())
    }

    pub fn order_call(&self, order: &str) -> HttpCall {
        self.request("GET", &format!("/api/v1/orders/{order}"))
    }

    /// Reads the order every `every` until `done` holds for it; gives up after `limit`.
    pub async fn wait_for_order(
        &self,
        stack: &LocalStack,
        order: &str,
        done: impl Fn(&Value) -> bool,
        (every, limit): (Duration, Duration),
    ) -> Result<Value, BoxError> {
        let deadline = Instant::now() + limit;
        loop {
            let current = self.order(stack, order).await?;
            if done(&current) {
                return Ok(current);
            }
            if Instant::now() >= deadline {
                let mut shown = current.to_string();
                shown.truncate(400);
                return Err(format!("order {order} did not get there within {limit:?}: {shown}").into());
            }
            tokio::time::sleep(every).await;
        }
    }
}

/// `POST /api/v1/users/login` for `email`.
pub fn login_call(email: &str, password: &str) -> HttpCall {
    HttpCall::new("POST", "/api/v1/users/login").json(&json!({"email": email, "password": password}))
}

fn id_of(answer: &Answer, field: &str) -> Result<String, BoxError> {
    answer.data()[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("the answer has no data.{field}").into())
}
