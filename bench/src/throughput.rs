//! Part 4, `shop-bench throughput`: customers at once, each registering,
//! signing in, filling a cart, checking out, paying and waiting for
//! fulfilment, on the whole local stack (the event sources polling in the
//! background, the fake Stripe's webhooks served). Orders per second, each
//! step's distribution, and a check that the stock came out right: the
//! product has fewer units than the customers want, so some must be refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::BoxError;
use crate::report::{Table, figure};
use crate::shopper::{Checkout, PASSWORD, Shopper, new_email};
use crate::stack::{Answer, LocalStack};
use crate::stats::{median, millis, percentile};

/// The section of `docs/performance.md` this part owns.
pub const SECTION: &str = "throughput";

/// Units each customer buys.
const UNITS: u32 = 1;
/// How often a customer reads the order while waiting for the consumers.
const POLL_EVERY: Duration = Duration::from_millis(50);
/// How long a customer waits for one asynchronous step.
const STEP_LIMIT: Duration = Duration::from_secs(120);
/// The code of `Only N available`.
const INSUFFICIENT_INVENTORY: &str = "BUS_001";

#[derive(Debug, Clone)]
pub struct Options {
    pub customers: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Register,
    Login,
    AddToCart,
    Checkout,
    Reservation,
    Payment,
    Fulfilment,
    WholeOrder,
}

const STEPS: [Step; 8] = [
    Step::Register,
    Step::Login,
    Step::AddToCart,
    Step::Checkout,
    Step::Reservation,
    Step::Payment,
    Step::Fulfilment,
    Step::WholeOrder,
];

impl Step {
    fn label(self) -> &'static str {
        match self {
            Step::Register => "register",
            Step::Login => "login",
            Step::AddToCart => "add to cart",
            Step::Checkout => "checkout",
            Step::Reservation => "reservation",
            Step::Payment => "pay",
            Step::Fulfilment => "fulfilment",
            Step::WholeOrder => "whole order",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Step::Register => "`POST /users/register`",
            Step::Login => "`POST /users/login`",
            Step::AddToCart => "`POST /cart/items`",
            Step::Checkout => "`POST /orders`",
            Step::Reservation => "order placed → reservation `RESERVED` read (outbox, stream, queue, consumer)",
            Step::Payment => "`POST /payments` and `POST /payments/{id}/confirm` (fake Stripe)",
            Step::Fulfilment => "payment confirmed → order `processing` read (outbox, queue, consumer)",
            Step::WholeOrder => "register → `processing`, completed orders only",
        }
    }
}

/// How a customer's order ended.
#[derive(Debug, Clone)]
enum Outcome {
    Completed,
    /// Refused for want of stock, at the cart, the checkout or the reservation.
    OutOfStock,
    Failed(String),
}

/// One customer's steps and how they ended.
#[derive(Debug, Default)]
struct Journey {
    steps: Vec<(Step, Duration)>,
}

struct Measured {
    customers: usize,
    journeys: Vec<(Journey, Outcome)>,
    wall: Duration,
    initial_stock: i64,
    final_stock: i64,
    lowest_stock: i64,
}

/// Measures, and returns the Markdown of the section.
pub async fn run(options: &Options) -> Result<String, BoxError> {
    let stack = LocalStack::provision("throughput").await?;
    let measured = measure(&stack, options).await;
    stack.remove().await;
    Ok(render(&measured?))
}

/// The stock: a quarter fewer units than the customers want, so the last
/// ones are refused (and nobody when there is one customer).
fn stock_for(customers: usize) -> i64 {
    let wanted = customers as i64 * i64::from(UNITS);
    (wanted - wanted / 4).max(1)
}

async fn measure(stack: &Arc<LocalStack>, options: &Options) -> Result<Measured, BoxError> {
    let admin = Shopper::admin(stack).await?;
    let category = admin.create_category(stack, "Bench").await?;
    let initial_stock = stock_for(options.customers);
    let product = admin
        .create_product(stack, &category, "Bench Headphones", initial_stock)
        .await?;
    let _webhooks = stack.serve_webhooks().await?;
    let (stop, shutdown) = shop_local::workers::Shutdown::new();
    let workers = stack.event_sources().await?.run(&shutdown);
    let watcher = StockWatcher::start(stack, &product);

    let started = Instant::now();
    let customers: Vec<_> = (0..options.customers)
        .map(|_| {
            let (stack, product) = (stack.clone(), product.clone());
            tokio::spawn(async move {
                let mut journey = Journey::default();
                let outcome = match journey.walk(&stack, &product).await {
                    Ok(outcome) => outcome,
                    Err(err) => Outcome::Failed(err.to_string()),
                };
                (journey, outcome)
            })
        })
        .collect();
    let mut journeys = Vec::with_capacity(customers.len());
    for customer in customers {
        journeys.push(customer.await?);
    }
    let wall = started.elapsed();

    let lowest_stock = watcher.stop().await?;
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    let product_id = shop::domain::ProductId::parse(&product)?;
    let final_stock = stack
        .store()
        .product_consistent(product_id)
        .await?
        .ok_or("the product is gone")?
        .inventory;
    Ok(Measured {
        customers: options.customers,
        journeys,
        wall,
        initial_stock,
        final_stock,
        lowest_stock: lowest_stock.min(final_stock),
    })
}

impl Journey {
    async fn walk(&mut self, stack: &LocalStack, product: &str) -> Result<Outcome, BoxError> {
        let begun = Instant::now();
        let email = new_email("customer");
        self.time(Step::Register, Shopper::register(stack, &email)).await?;
        let shopper = self.time(Step::Login, Shopper::login(stack, &email, PASSWORD)).await?;
        let added = self
            .time(Step::AddToCart, async {
                Ok(stack.call(shopper.add_to_cart_call(product, UNITS)).await)
            })
            .await?;
        if is_out_of_stock(&added) {
            return Ok(Outcome::OutOfStock);
        }
        added.expect(201, "add to cart")?;
        let order = match self.time(Step::Checkout, shopper.checkout(stack)).await? {
            Checkout::Placed { order } => order,
            Checkout::Refused(answer) if is_out_of_stock(&answer) => return Ok(Outcome::OutOfStock),
            Checkout::Refused(answer) => return Err(answer.unexpected(201, "checkout")),
        };
        let held = |o: &serde_json::Value| o["reservation"]["status"] != "PENDING";
        let reserved = self
            .time(
                Step::Reservation,
                shopper.wait_for_order(stack, &order, held, (POLL_EVERY, STEP_LIMIT)),
            )
            .await?;
        if reserved["reservation"]["status"] != "RESERVED" {
            return Ok(Outcome::OutOfStock);
        }
        self.time(Step::Payment, shopper.pay(stack, &order)).await?;
        let processing = |o: &serde_json::Value| o["status"] == "processing";
        self.time(
            Step::Fulfilment,
            shopper.wait_for_order(stack, &order, processing, (POLL_EVERY, STEP_LIMIT)),
        )
        .await?;
        self.steps.push((Step::WholeOrder, begun.elapsed()));
        Ok(Outcome::Completed)
    }

    async fn time<T>(
        &mut self,
        step: Step,
        future: impl std::future::Future<Output = Result<T, BoxError>>,
    ) -> Result<T, BoxError> {
        let started = Instant::now();
        let value = future.await.map_err(|e| format!("{}: {e}", step.label()))?;
        self.steps.push((step, started.elapsed()));
        Ok(value)
    }
}

fn is_out_of_stock(answer: &Answer) -> bool {
    answer.status == 400 && answer.body["error"]["code"] == INSUFFICIENT_INVENTORY
}

/// Reads the product's stock every 100 ms while the customers shop; keeps the lowest.
struct StockWatcher {
    done: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Result<i64, String>>,
}

impl StockWatcher {
    fn start(stack: &LocalStack, product: &str) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let store = stack.store();
        let product = product.to_owned();
        let stop = done.clone();
        let task = tokio::spawn(async move {
            let id = shop::domain::ProductId::parse(&product).map_err(|e| e.to_string())?;
            let mut lowest = i64::MAX;
            while !stop.load(Ordering::SeqCst) {
                if let Some(product) = store.product(id).await.map_err(|e| e.to_string())? {
                    lowest = lowest.min(product.inventory);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(lowest)
        });
        Self { done, task }
    }

    async fn stop(self) -> Result<i64, BoxError> {
        self.done.store(true, Ordering::SeqCst);
        Ok(self.task.await??)
    }
}

fn render(measured: &Measured) -> String {
    let completed = measured
        .journeys
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::Completed))
        .count();
    let refused = measured
        .journeys
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::OutOfStock))
        .count();
    let failures: Vec<&str> = measured
        .journeys
        .iter()
        .filter_map(|(_, outcome)| match outcome {
            Outcome::Failed(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    let seconds = measured.wall.as_secs_f64();
    let per_second = if seconds > 0.0 { completed as f64 / seconds } else { 0.0 };

    let mut steps = Table::new(&["step", "what", "samples", "p50 ms", "p99 ms"]);
    for step in STEPS {
        let samples: Vec<f64> = measured
            .journeys
            .iter()
            .flat_map(|(journey, _)| journey.steps.iter())
            .filter(|(s, _)| *s == step)
            .map(|(_, duration)| millis(*duration))
            .collect();
        steps.row(vec![
            step.label().to_owned(),
            step.what().to_owned(),
            samples.len().to_string(),
            figure(median(&samples), 1),
            figure(percentile(&samples, 0.99), 1),
        ]);
    }

    let sold = completed as i64 * i64::from(UNITS);
    let expected = measured.initial_stock - sold;
    let held = measured.final_stock != expected;
    let oversold = measured.lowest_stock < 0 || sold > measured.initial_stock;
    let verdict = match (oversold, held) {
        (true, _) => "**oversold**",
        (false, true) => "not oversold, but units are still held by unfinished orders",
        (false, false) => "nothing oversold",
    };
    let mut check = Table::new(&[
        "verdict",
        "initial stock",
        "units sold",
        "final stock",
        "initial − sold",
        "lowest seen",
    ]);
    check.row(vec![
        verdict.to_owned(),
        measured.initial_stock.to_string(),
        sold.to_string(),
        measured.final_stock.to_string(),
        expected.to_string(),
        measured.lowest_stock.to_string(),
    ]);

    let mut out = format!(
        "**{customers} customers at once**, each buying {UNITS} unit of one product stocked with {stock}: \
         **{completed} orders completed in {seconds:.1} s, {per_second:.2} orders/s**; {refused} refused for \
         want of stock, {failed} failed.\n\n",
        customers = measured.customers,
        stock = measured.initial_stock,
        failed = failures.len(),
    );
    out.push_str(&steps.render(2));
    out.push('\n');
    out.push_str(&check.render(1));
    out.push('\n');
    for failure in failures.iter().take(3) {
        let mut shown = (*failure).to_owned();
        shown.truncate(200);
        out.push_str(&format!("- failed: {shown}\n"));
    }
    out.push_str(&format!(
        "Every customer is a task of the bench, calling the API through the local runner's in-process gateway \
         (release build); the event sources poll in the background as under `make dev` (one poller per queue, \
         one reader of the table's stream), and the fake Stripe's webhooks reach the API over loopback HTTP. \
         Customers read their order every {poll} ms while waiting for a consumer, which adds load of its own. \
         Register and login hash a password (Argon2), which dominates their time. The stock is read every 100 ms \
         during the run (**lowest seen**) and once, consistently, at the end: nothing is oversold when it never \
         goes below zero and ends at the initial stock minus the units of completed orders.\n",
        poll = POLL_EVERY.as_millis(),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stock_falls_short_of_demand_by_a_quarter() {
        assert_eq!(stock_for(20), 15);
        assert_eq!(stock_for(4), 3);
        assert_eq!(stock_for(1), 1);
    }
}
