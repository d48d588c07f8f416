//! The API requests tests make again and again, one call each. Every helper
//! answers with the raw [`TestResponse`], so a test still asserts the status
//! and the fields it cares about, refusals included.

use serde_json::{Value, json};
use shop_local::HttpCall;

use crate::{Session, TestApp, TestResponse};

/// `path?query`, or `path` alone when `query` is empty.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

impl TestApp {
    async fn get_anonymously(&self, path: &str) -> TestResponse {
        self.call(HttpCall::new("GET", path)).await
    }

    async fn delete_as(&self, path: &str, session: &Session) -> TestResponse {
        self.send_as("DELETE", path, session, json!(null)).await
    }
}

impl TestApp {
    /// Reads the customer's cart.
    pub async fn get_cart(&self, customer: &Session) -> TestResponse {
        self.get_as("/api/v1/cart", customer).await
    }

    /// Puts `body` (`productId`, `variantId`, `quantity`) into the customer's cart.
    pub async fn add_cart_item(&self, customer: &Session, body: Value) -> TestResponse {
        self.send_as("POST", "/api/v1/cart/items", customer, body).await
    }

    /// Sets the quantity of a line of the customer's cart.
    pub async fn update_cart_item(&self, customer: &Session, item: &str, quantity: u32) -> TestResponse {
        self.send_as(
            "PUT",
            &format!("/api/v1/cart/items/{item}"),
            customer,
            json!({"quantity": quantity}),
        )
        .await
    }

    /// Takes a line out of the customer's cart.
    pub async fn remove_cart_item(&self, customer: &Session, item: &str) -> TestResponse {
        self.delete_as(&format!("/api/v1/cart/items/{item}"), customer).await
    }

    /// Applies the coupon `code` to the customer's cart.
    pub async fn apply_coupon(&self, customer: &Session, code: &str) -> TestResponse {
        self.send_as("POST", "/api/v1/cart/coupon", customer, json!({"code": code}))
            .await
    }
}

impl TestApp {
    /// Reads one order as its customer (or an admin).
    pub async fn get_order(&self, session: &Session, order: &str) -> TestResponse {
        self.get_as(&format!("/api/v1/orders/{order}"), session).await
    }

    /// Lists the orders of the signed-in customer.
    pub async fn list_orders(&self, customer: &Session) -> TestResponse {
        self.get_as("/api/v1/orders", customer).await
    }

    /// Lists every customer's orders, filtered by `query` (`status=shipped&from=…`).
    pub async fn list_all_orders(&self, session: &Session, query: &str) -> TestResponse {
        self.get_as(&with_query("/api/v1/admin/orders", query), session).await
    }

    /// Cancels the order without giving a reason.
    pub async fn cancel_order(&self, customer: &Session, order: &str) -> TestResponse {
        self.send_as("POST", &format!("/api/v1/orders/{order}/cancel"), customer, json!({}))
            .await
    }

    /// Cancels the order, giving `reason`.
    pub async fn cancel_order_because(&self, customer: &Session, order: &str, reason: &str) -> TestResponse {
        self.send_as(
            "POST",
            &format!("/api/v1/orders/{order}/cancel"),
            customer,
            json!({"reason": reason}),
        )
        .await
    }

    /// Moves the order to the status in `body` (with its carrier and tracking when shipped).
    pub async fn change_order_status(&self, session: &Session, order: &str, body: Value) -> TestResponse {
        self.send_as("PATCH", &format!("/api/v1/orders/{order}/status"), session, body)
            .await
    }

    /// Creates the coupon described by `body`.
    pub async fn create_coupon(&self, session: &Session, body: Value) -> TestResponse {
        self.send_as("POST", "/api/v1/admin/coupons", session, body).await
    }

    /// Reads a coupon with its usage count.
    pub async fn get_coupon(&self, session: &Session, code: &str) -> TestResponse {
        self.get_as(&format!("/api/v1/admin/coupons/{code}"), session).await
    }

    /// Starts (or finds again) the payment of an order.
    pub async fn create_payment(&self, customer: &Session, order: &str) -> TestResponse {
        self.send_as("POST", "/api/v1/payments", customer, json!({"orderId": order}))
            .await
    }

    /// Reads the daily report of `date` (`YYYY-MM-DD`).
    pub async fn daily_report(&self, session: &Session, date: &str) -> TestResponse {
        self.get_as(&format!("/api/v1/admin/analytics/daily?date={date}"), session)
            .await
    }
}

impl TestApp {
    /// Reads which mails the customer agreed to receive.
    pub async fn notification_settings(&self, customer: &Session) -> TestResponse {
        self.get_as("/api/v1/notifications/settings", customer).await
    }

    /// Changes which mails the customer agrees to receive.
    pub async fn update_notification_settings(&self, customer: &Session, body: Value) -> TestResponse {
        self.send_as("PUT", "/api/v1/notifications/settings", customer, body)
            .await
    }

    /// Lists the notifications sent to the customer, paged by `query`.
    pub async fn list_notifications(&self, customer: &Session, query: &str) -> TestResponse {
        self.get_as(&with_query("/api/v1/notifications", query), customer).await
    }
}

impl TestApp {
    /// Trades a refresh token for new tokens.
    pub async fn refresh(&self, refresh_token: &str) -> TestResponse {
        self.post("/api/v1/auth/refresh", json!({"refreshToken": refresh_token}))
            .await
    }

    /// Asks for a password reset mail to `email`.
    pub async fn request_password_reset(&self, email: &str) -> TestResponse {
        self.post("/api/v1/auth/password-reset", json!({"email": email})).await
    }

    /// Sets a new password with the token of a reset mail.
    pub async fn confirm_password_reset(&self, token: &str, new_password: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "newPassword": new_password}),
        )
        .await
    }

    /// Reads the signed-in user's profile with their addresses.
    pub async fn profile(&self, session: &Session) -> TestResponse {
        self.get_as("/api/v1/users/profile", session).await
    }

    /// Changes the signed-in user's profile with `body`.
    pub async fn update_profile(&self, session: &Session, body: Value) -> TestResponse {
        self.send_as("PUT", "/api/v1/users/profile", session, body).await
    }

    /// Reads one user's account.
    pub async fn get_user(&self, session: &Session, user: &str) -> TestResponse {
        self.get_as(&format!("/api/v1/users/{user}"), session).await
    }

    /// Lists the accounts, paged by `query`.
    pub async fn list_users(&self, session: &Session, query: &str) -> TestResponse {
        self.get_as(&with_query("/api/v1/users", query), session).await
    }

    /// Adds `body` to the signed-in user's address book.
    pub async fn add_address(&self, session: &Session, body: Value) -> TestResponse {
        self.send_as("POST", "/api/v1/users/addresses", session, body).await
    }

    /// Lists the signed-in user's addresses, paged by `query`.
    pub async fn list_addresses(&self, session: &Session, query: &str) -> TestResponse {
        self.get_as(&with_query("/api/v1/users/addresses", query), session)
            .await
    }

    /// Changes the fields of an address that `body` names.
    pub async fn update_address(&self, session: &Session, address: &str, body: Value) -> TestResponse {
        self.send_as("PUT", &format!("/api/v1/users/addresses/{address}"), session, body)
            .await
    }

    /// Removes an address from the address book.
    pub async fn delete_address(&self, session: &Session, address: &str) -> TestResponse {
        self.delete_as(&format!("/api/v1/users/addresses/{address}"), session)
            .await
    }

    /// Puts a product on the signed-in user's wishlist.
    pub async fn add_to_wishlist(&self, session: &Session, product: &str) -> TestResponse {
        self.send_as("POST", "/api/v1/users/wishlist", session, json!({"productId": product}))
            .await
    }

    /// Reads the signed-in user's wishlist, paged by `query`.
    pub async fn wishlist(&self, session: &Session, query: &str) -> TestResponse {
        self.get_as(&with_query("/api/v1/users/wishlist", query), session).await
    }

    /// Takes a product off the signed-in user's wishlist.
    pub async fn remove_from_wishlist(&self, session: &Session, product: &str) -> TestResponse {
        self.delete_as(&format!("/api/v1/users/wishlist/{product}"), session)
            .await
    }
}

impl TestApp {
    /// Reads a product by id or slug, as a shopper who is not signed in.
    pub async fn get_product(&self, product: &str) -> TestResponse {
        self.get_anonymously(&format!("/api/v1/products/{product}")).await
    }

    /// Reads a product by id or slug as `session`.
    pub async fn get_product_as(&self, session: &Session, product: &str) -> TestResponse {
        self.get_as(&format!("/api/v1/products/{product}"), session).await
    }

    /// Lists the products `query` selects, as a shopper who is not signed in.
    pub async fn list_products(&self, query: &str) -> TestResponse {
        self.get_anonymously(&with_query("/api/v1/products", query)).await
    }

    /// Lists the products `query` selects, as `session`.
    pub async fn list_products_as(&self, session: &Session, query: &str) -> TestResponse {
        self.get_as(&with_query("/api/v1/products", query), session).await
    }

    /// Searches the catalog with `body`, as a shopper who is not signed in.
    pub async fn search(&self, body: Value) -> TestResponse {
        self.post("/api/v1/products/search", body).await
    }

    /// Creates a product from `body` as it is.
    pub async fn create_product(&self, session: &Session, body: Value) -> TestResponse {
        self.send_as("POST", "/api/v1/products", session, body).await
    }

    /// Replaces a product's description with `body` (`PUT`).
    pub async fn replace_product(&self, session: &Session, product: &str, body: Value) -> TestResponse {
        self.send_as("PUT", &format!("/api/v1/products/{product}"), session, body)
            .await
    }

    /// Changes the fields of a product that `body` names (`PATCH`).
    pub async fn update_product(&self, session: &Session, product: &str, body: Value) -> TestResponse {
        self.send_as("PATCH", &format!("/api/v1/products/{product}"), session, body)
            .await
    }

    /// Takes a product off sale; it stays in the table, ARCHIVED.
    pub async fn archive_product(&self, session: &Session, product: &str) -> TestResponse {
        self.delete_as(&format!("/api/v1/products/{product}"), session).await
    }

    /// Removes an archived product from the table.
    pub async fn delete_product_permanently(&self, session: &Session, product: &str) -> TestResponse {
        self.delete_as(&format!("/api/v1/products/{product}?permanent=true"), session)
            .await
    }

    /// Sets or adjusts a product's stock as `body` says, with its reason.
    pub async fn adjust_stock(&self, session: &Session, product: &str, body: Value) -> TestResponse {
        self.send_as("PATCH", &format!("/api/v1/products/{product}/stock"), session, body)
            .await
    }

    /// Reads every recorded change of a product's stock, newest first.
    pub async fn stock_history(&self, session: &Session, product: &str) -> TestResponse {
        self.get_as(&format!("/api/v1/products/{product}/stock/history"), session)
            .await
    }

    /// Reads the category tree.
    pub async fn list_categories(&self) -> TestResponse {
        self.get_anonymously("/api/v1/categories").await
    }

    /// Reads a category by id or slug with a page of its products, paged by `query`.
    pub async fn get_category(&self, category: &str, query: &str) -> TestResponse {
        self.get_anonymously(&with_query(&format!("/api/v1/categories/{category}"), query))
            .await
    }

    /// Creates a category from `body` as it is.
    pub async fn create_category(&self, session: &Session, body: Value) -> TestResponse {
        self.send_as("POST", "/api/v1/categories", session, body).await
    }

    /// Deletes a category by id or slug.
    pub async fn delete_category(&self, session: &Session, category: &str) -> TestResponse {
        self.delete_as(&format!("/api/v1/categories/{category}"), session).await
    }
}

impl TestApp {
    /// Reviews a product with `body` (`rating`, `title`, `content`).
    pub async fn create_review(&self, session: &Session, product: &str, body: Value) -> TestResponse {
        self.send_as("POST", &format!("/api/v1/products/{product}/reviews"), session, body)
            .await
    }

    /// Lists a product's approved reviews, sorted and paged by `query`.
    pub async fn list_reviews(&self, product: &str, query: &str) -> TestResponse {
        self.get_anonymously(&with_query(&format!("/api/v1/products/{product}/reviews"), query))
            .await
    }

    /// Lists the reviews waiting for moderation.
    pub async fn pending_reviews(&self, session: &Session) -> TestResponse {
        self.get_as("/api/v1/products/reviews/pending", session).await
    }

    /// Approves a review, which then counts toward the product's rating.
    pub async fn approve_review(&self, session: &Session, product: &str, review: &str) -> TestResponse {
        self.send_as(
            "POST",
            &format!("/api/v1/products/{product}/reviews/{review}/approve"),
            session,
            json!(null),
        )
        .await
    }

    /// Edits a review with `body`.
    pub async fn update_review(&self, session: &Session, product: &str, review: &str, body: Value) -> TestResponse {
        self.send_as(
            "PUT",
            &format!("/api/v1/products/{product}/reviews/{review}"),
            session,
            body,
        )
        .await
    }

    /// Deletes a review.
    pub async fn delete_review(&self, session: &Session, product: &str, review: &str) -> TestResponse {
        self.delete_as(&format!("/api/v1/products/{product}/reviews/{review}"), session)
            .await
    }
}

impl TestApp {
    /// Creates the shipping zone described by `body`.
    pub async fn create_shipping_zone(&self, session: &Session, body: Value) -> TestResponse {
        self.send_as("POST", "/api/v1/admin/shipping-zones", session, body)
            .await
    }

    /// Lists the shipping zones, paged by `query`.
    pub async fn list_shipping_zones(&self, session: &Session, query: &str) -> TestResponse {
        self.get_as(&with_query("/api/v1/admin/shipping-zones", query), session)
            .await
    }

    /// Reads one shipping zone with its methods.
    pub async fn get_shipping_zone(&self, session: &Session, zone: &str) -> TestResponse {
        self.get_as(&format!("/api/v1/admin/shipping-zones/{zone}"), session)
            .await
    }

    /// Replaces a shipping zone with `body`.
    pub async fn update_shipping_zone(&self, session: &Session, zone: &str, body: Value) -> TestResponse {
        self.send_as("PUT", &format!("/api/v1/admin/shipping-zones/{zone}"), session, body)
            .await
    }

    /// Deletes a shipping zone.
    pub async fn delete_shipping_zone(&self, session: &Session, zone: &str) -> TestResponse {
        self.delete_as(&format!("/api/v1/admin/shipping-zones/{zone}"), session)
            .await
    }

    /// Creates the tax rate described by `body`.
    pub async fn create_tax_rate(&self, session: &Session, body: Value) -> TestResponse {
        self.send_as("POST", "/api/v1/admin/tax-rates", session, body).await
    }

    /// Lists the tax rates, paged by `query`.
    pub async fn list_tax_rates(&self, session: &Session, query: &str) -> TestResponse {
        self.get_as(&with_query("/api/v1/admin/tax-rates", query), session)
            .await
    }

    /// Reads one tax rate.
    pub async fn get_tax_rate(&self, session: &Session, rate: &str) -> TestResponse {
        self.get_as(&format!("/api/v1/admin/tax-rates/{rate}"), session).await
    }

    /// Replaces a tax rate with `body`.
    pub async fn update_tax_rate(&self, session: &Session, rate: &str, body: Value) -> TestResponse {
        self.send_as("PUT", &format!("/api/v1/admin/tax-rates/{rate}"), session, body)
            .await
    }

    /// Deletes a tax rate.
    pub async fn delete_tax_rate(&self, session: &Session, rate: &str) -> TestResponse {
        self.delete_as(&format!("/api/v1/admin/tax-rates/{rate}"), session)
            .await
    }

    /// The shipping options of the customer's cart for `query` (`country=US&region=NY`).
    pub async fn shipping_options(&self, customer: &Session, query: &str) -> TestResponse {
        self.get_as(&with_query("/api/v1/cart/shipping-options", query), customer)
            .await
    }

    /// The shipping options of the guest cart of `cart_token` for `query`.
    pub async fn guest_shipping_options(&self, cart_token: &str, query: &str) -> TestResponse {
        self.call(
            HttpCall::new("GET", &with_query("/api/v1/cart/shipping-options", query))
                .header("x-cart-token", cart_token),
        )
        .await
    }
}
