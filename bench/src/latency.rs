//! Part 3, `shop-bench latency`: warm latency of each route class through the
//! local runner's gateway, beside the time the same DynamoDB requests take
//! when the SDK sends them alone to the same emulator.
//!
//! Every request a handler sends is recorded as sent (operation and body);
//! right after the call, the same requests are sent again by a bare SDK
//! client, those that overlapped in time together and the others one after
//! the other, as the handler did. The ratio of the two is what the handler
//! adds around its DynamoDB round trips: routing, parsing, token checks,
//! business rules, serialization.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::body::SdkBody;
use serde_json::json;
use shop_local::HttpCall;
use shop_local::seed::{CUSTOMER_EMAIL, CUSTOMER_PASSWORD};

use crate::BoxError;
use crate::meter::Request;
use crate::report::{Table, figure, times};
use crate::shopper::{Shopper, login_call};
use crate::stack::LocalStack;
use crate::stats::{median, millis, percentile, ratio};

/// The section of `docs/performance.md` this part owns.
pub const SECTION: &str = "latency";

/// The budget: a warm handler within 15 % of its raw SDK time.
pub const BUDGET: f64 = 1.15;

#[derive(Debug, Clone)]
pub struct Options {
    /// Measured calls per route class (after one warm-up call each).
    pub iterations: usize,
}

/// A route class: one representative request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    ProductList,
    ProductGet,
    Search,
    CartGet,
    CartAdd,
    Checkout,
    OrderGet,
    Login,
}

/// In this order: a checkout comes before the order read that reads it.
const ROUTES: [Route; 8] = [
    Route::ProductList,
    Route::ProductGet,
    Route::Search,
    Route::CartGet,
    Route::CartAdd,
    Route::Checkout,
    Route::OrderGet,
    Route::Login,
];

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::ProductList => "product list",
            Route::ProductGet => "product get",
            Route::Search => "search",
            Route::CartGet => "cart get",
            Route::CartAdd => "cart add",
            Route::Checkout => "checkout",
            Route::OrderGet => "order get",
            Route::Login => "login",
        }
    }

    fn request(self) -> &'static str {
        match self {
            Route::ProductList => "GET /products?limit=20",
            Route::ProductGet => "GET /products/{id}",
            Route::Search => "POST /products/search",
            Route::CartGet => "GET /cart",
            Route::CartAdd => "POST /cart/items",
            Route::Checkout => "POST /orders",
            Route::OrderGet => "GET /orders/{id}",
            Route::Login => "POST /users/login",
        }
    }

    fn expected_status(self) -> u16 {
        match self {
            Route::CartAdd | Route::Checkout => 201,
            _ => 200,
        }
    }
}

/// What the requests need: a signed-in customer, a product, a word of its
/// name, and the last order placed.
struct Fixture {
    shopper: Shopper,
    product: String,
    word: String,
    order: Option<String>,
}

impl Fixture {
    async fn new(stack: &LocalStack) -> Result<Self, BoxError> {
        let shopper = Shopper::login(stack, CUSTOMER_EMAIL, CUSTOMER_PASSWORD).await?;
        let listed = stack
            .call(HttpCall::new("GET", "/api/v1/products?limit=20"))
            .await
            .expect(200, "list products")?;
        let products = listed.data()["products"].as_array().cloned().unwrap_or_default();
        let product = products
            .iter()
            .find(|p| p["inventory"].as_i64().is_some_and(|n| n > 0))
            .ok_or("the demo catalog has no product in stock")?;
        let name = product["name"].as_str().unwrap_or_default().to_lowercase();
        let word = name
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| w.len() >= 4)
            .unwrap_or("shirt")
            .to_owned();
        Ok(Self {
            shopper,
            product: product["productId"].as_str().unwrap_or_default().to_owned(),
            word,
            order: None,
        })
    }

    /// Sets up what `route` needs, untimed: a cart holding one line, or none.
    async fn prepare(&self, stack: &LocalStack, route: Route) -> Result<(), BoxError> {
        match route {
            Route::CartAdd => self.shopper.clear_cart(stack).await,
            Route::CartGet | Route::Checkout => {
                self.shopper.clear_cart(stack).await?;
                self.shopper.add_to_cart(stack, &self.product, 1).await
            }
            _ => Ok(()),
        }
    }

    fn call(&self, route: Route) -> HttpCall {
        match route {
            Route::ProductList => HttpCall::new("GET", "/api/v1/products?limit=20"),
            Route::ProductGet => HttpCall::new("GET", &format!("/api/v1/products/{}", self.product)),
            Route::Search => HttpCall::new("POST", "/api/v1/products/search").json(&json!({"query": self.word})),
            Route::CartGet => self.shopper.request("GET", "/api/v1/cart"),
            Route::CartAdd => self.shopper.add_to_cart_call(&self.product, 1),
            Route::Checkout => self.shopper.checkout_call(),
            Route::OrderGet => self.shopper.order_call(self.order.as_deref().unwrap_or("none")),
            Route::Login => login_call(CUSTOMER_EMAIL, CUSTOMER_PASSWORD),
        }
    }
}

/// One measured call.
#[derive(Debug, Clone)]
struct Sample {
    handler: Duration,
    raw: Duration,
    requests: usize,
    refused: usize,
}

/// Measures, and returns the Markdown of the section.
pub async fn run(options: &Options) -> Result<String, BoxError> {
    let stack = LocalStack::provision("latency").await?;
    let measured = measure(&stack, options).await;
    stack.remove().await;
    Ok(render(&measured?, options))
}

async fn measure(stack: &LocalStack, options: &Options) -> Result<Vec<(Route, String, Vec<Sample>)>, BoxError> {
    stack.seed().await?;
    let mut fixture = Fixture::new(stack).await?;
    let replayer = Replayer::new(stack);
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); ROUTES.len()];
    // Round 0 warms every function (secrets, caches, connections) and is not kept.
    for round in 0..=options.iterations {
        for (index, route) in ROUTES.into_iter().enumerate() {
            fixture.prepare(stack, route).await?;
            stack.dynamodb.take();
            let answer = stack.call(fixture.call(route)).await;
            let handler = answer.elapsed;
            let answer = answer.expect(route.expected_status(), route.label())?;
            let requests = stack.dynamodb.take();
            if route == Route::Checkout {
                let order = answer.data()["orderId"]
                    .as_str()
                    .ok_or("checkout answered without an order id")?;
                fixture.order = Some(order.to_owned());
            }
            let (raw, refused) = replayer.replay(&requests).await?;
            if round > 0 {
                samples[index].push(Sample {
                    handler,
                    raw,
                    requests: requests.len(),
                    refused,
                });
            }
        }
    }
    let functions = ROUTES.map(|route| function_of(stack, &fixture.call(route)));
    Ok(ROUTES
        .into_iter()
        .zip(functions)
        .zip(samples)
        .map(|((route, function), samples)| (route, function, samples))
        .collect())
}

fn function_of(stack: &LocalStack, call: &HttpCall) -> String {
    stack
        .gateway
        .router
        .find(&call.method, &call.path)
        .map_or_else(|| "–".to_owned(), |matched| matched.target.function)
}

/// Sends recorded DynamoDB requests again with a bare SDK client.
struct Replayer {
    client: aws_sdk_dynamodb::Client,
}

impl Replayer {
    fn new(stack: &LocalStack) -> Self {
        Self {
            client: stack.plain.dynamodb().clone(),
        }
    }

    /// Sends `requests` in the handler's order, concurrently where they
    /// overlapped; returns the time taken and how many the table refused.
    async fn replay(&self, requests: &[Request]) -> Result<(Duration, usize), BoxError> {
        let started = Instant::now();
        let mut refused = 0;
        for stage in stages(requests) {
            let outcomes = futures::future::join_all(stage.into_iter().map(|request| self.send(request))).await;
            for outcome in outcomes {
                refused += usize::from(outcome?);
            }
        }
        Ok((started.elapsed(), refused))
    }

    /// Sends one request as recorded: the SDK's GetItem operation, its target
    /// and body replaced by the recorded ones before signing (the answer's
    /// fields GetItem does not know are skipped by its parser). `true` when
    /// the table refused it, as it refuses a write whose condition the first
    /// sending already used up.
    async fn send(&self, request: &Request) -> Result<bool, BoxError> {
        let (target, body) = (request.target.clone(), request.body.clone());
        let sent = self
            .client
            .get_item()
            .table_name("replayed")
            .key("PK", AttributeValue::S("replayed".into()))
            .customize()
            .mutate_request(move |http| {
                http.headers_mut().insert("x-amz-target", target.clone());
                http.headers_mut().insert("content-length", body.len().to_string());
                *http.body_mut() = SdkBody::from(body.clone());
            })
            .send()
            .await;
        match sent {
            Ok(_) => Ok(false),
            Err(SdkError::ServiceError(_)) => Ok(true),
            Err(err) => Err(format!("replaying {}: {}", request.operation, DisplayErrorContext(err)).into()),
        }
    }
}

/// The requests in groups: those whose times overlapped were in flight
/// together (a join in the handler); a group starts when a request starts
/// after everything before it ended.
fn stages(requests: &[Request]) -> Vec<Vec<&Request>> {
    let mut sorted: Vec<&Request> = requests.iter().collect();
    sorted.sort_by_key(|request| request.started);
    let mut stages: Vec<Vec<&Request>> = Vec::new();
    let mut open_until: Option<Instant> = None;
    for request in sorted {
        match (open_until, stages.last_mut()) {
            (Some(until), Some(stage)) if request.started < until => {
                stage.push(request);
                open_until = Some(until.max(request.ended));
            }
            _ => {
                stages.push(vec![request]);
                open_until = Some(request.ended);
            }
        }
    }
    stages
}

fn render(measured: &[(Route, String, Vec<Sample>)], options: &Options) -> String {
    let mut table = Table::new(&[
        "route",
        "request",
        "function",
        "DynamoDB requests",
        "handler p50 ms",
        "handler p99 ms",
        "SDK p50 ms",
        "SDK p99 ms",
        "handler − SDK p50 ms",
        "handler ÷ SDK",
        "≤ 1.15×",
    ]);
    let mut refused = 0;
    for (route, function, samples) in measured {
        let handler: Vec<f64> = samples.iter().map(|s| millis(s.handler)).collect();
        let raw: Vec<f64> = samples.iter().map(|s| millis(s.raw)).collect();
        let counts: Vec<usize> = samples.iter().map(|s| s.requests).collect();
        refused += samples.iter().map(|s| s.refused).sum::<usize>();
        let (handler_p50, raw_p50) = (median(&handler), median(&raw));
        let overhead = ratio(handler_p50, raw_p50);
        table.row(vec![
            route.label().to_owned(),
            format!("`{}`", route.request()),
            function.clone(),
            range(&counts),
            figure(handler_p50, 2),
            figure(percentile(&handler, 0.99), 2),
            figure(raw_p50, 2),
            figure(percentile(&raw, 0.99), 2),
            figure(handler_p50.zip(raw_p50).map(|(h, r)| h - r), 2),
            times(overhead),
            overhead.map_or_else(|| "–".into(), |r| if r <= BUDGET { "yes" } else { "no" }.into()),
        ]);
    }
    format!(
        "{}\n{} warm call(s) per route class after one warm-up call, interleaved route by route, through the \
         local runner's in-process gateway (the API Gateway event, the function's handler and its SDK clients, \
         built with the release profile) against DynamoDB Local on loopback. The demo catalog is loaded; the \
         customer is the demo customer, with one line in the cart for `GET /cart` and the checkout.\n\n\
         - **handler**: the gateway's call, from the request to the response.\n\
         - **SDK**: the DynamoDB requests that call sent, recorded as sent by an SDK interceptor, sent again \
         right after by a bare SDK client to the same table — requests that were in flight together again \
         together, the others one after the other. It is the time of the call's DynamoDB round trips alone; \
         **handler ÷ SDK** compares the medians (the budget: at most {BUDGET:.2}×). A write whose condition \
         the first sending used up is refused when sent again, after the same work (replays refused in this \
         run: {refused}).\n\
         - Login hashes the password (Argon2) on purpose: its time is not DynamoDB's, and no budget can hold it.\n\
         - p50 is the median, p99 the nearest-rank 99th percentile ({iterations} samples each).\n",
        table.render(4),
        options.iterations,
        iterations = options.iterations,
    )
}

/// `2`, or `1–3` when the count varies.
fn range(counts: &[usize]) -> String {
    match (counts.iter().min(), counts.iter().max()) {
        (Some(min), Some(max)) if min == max => min.to_string(),
        (Some(min), Some(max)) => format!("{min}–{max}"),
        _ => "–".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(start_ms: u64, end_ms: u64, base: Instant) -> Request {
        Request {
            operation: "GetItem".into(),
            target: "DynamoDB_20120810.GetItem".into(),
            body: bytes::Bytes::new(),
            started: base + Duration::from_millis(start_ms),
            ended: base + Duration::from_millis(end_ms),
            attempts: 1,
            refused: false,
            units: None,
        }
    }

    #[test]
    fn overlapping_requests_share_a_stage() {
        let base = Instant::now();
        let requests = vec![
            request(0, 5, base),
            request(1, 4, base),
            request(6, 9, base),
            request(7, 12, base),
            request(13, 14, base),
        ];
        let sizes: Vec<usize> = stages(&requests).iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
    }

    #[test]
    fn counts_read_as_a_range_when_they_vary() {
        assert_eq!(range(&[2, 2]), "2");
        assert_eq!(range(&[3, 1, 2]), "1–3");
        assert_eq!(range(&[]), "–");
    }
}
