//! Part 5, `shop-bench cost`: what one completed order costs in AWS, from
//! what its requests consumed on the local stack. A returning customer signs
//! in, browses, fills a cart, checks out and pays; the event sources deliver
//! the reservation, the fulfilment and the mails; Stripe's webhook arrives.
//! Along the way every DynamoDB request of the functions returns its consumed
//! capacity (see [`crate::meter`]), every invocation is timed, and every
//! request to SQS and Secrets Manager is counted; the usage is priced at
//! us-east-1 list prices.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use shop_local::HttpCall;

use crate::BoxError;
use crate::meter::{Request, Units};
use crate::report::{Table, figure};
use crate::shopper::{Checkout, PASSWORD, Shopper, new_email};
use crate::stack::{Invocation, LocalStack, Trigger};
use crate::workspace::Workspace;

/// The section of `docs/performance.md` this part owns.
pub const SECTION: &str = "cost";

/// How long Stripe's webhook may take to arrive after the payment.
const WEBHOOK_LIMIT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub struct Options {
    /// Orders measured after the first one (which meets cold functions).
    pub orders: usize,
}

/// What is billed, one line of the bill each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Meter {
    ReadUnits,
    WriteUnits,
    LambdaRequests,
    LambdaGbSeconds,
    ApiRequests,
    SqsRequests,
    SecretsCalls,
    Mails,
    LogBytes,
}

/// A us-east-1 list price: USD per `per` units of a meter.
struct Price {
    meter: Meter,
    what: &'static str,
    usd: f64,
    per: f64,
    unit: &'static str,
}

/// The prices used (on-demand DynamoDB, arm64 Lambda, HTTP API, standard SQS queues).
const PRICES: [Price; 9] = [
    Price {
        meter: Meter::ReadUnits,
        what: "DynamoDB read request units (on-demand)",
        usd: 0.125,
        per: 1e6,
        unit: "million RRU",
    },
    Price {
        meter: Meter::WriteUnits,
        what: "DynamoDB write request units (on-demand)",
        usd: 0.625,
        per: 1e6,
        unit: "million WRU",
    },
    Price {
        meter: Meter::LambdaRequests,
        what: "Lambda requests",
        usd: 0.20,
        per: 1e6,
        unit: "million requests",
    },
    Price {
        meter: Meter::LambdaGbSeconds,
        what: "Lambda duration, arm64 (GB-seconds)",
        usd: 0.000_013_333_4,
        per: 1.0,
        unit: "GB-second",
    },
    Price {
        meter: Meter::ApiRequests,
        what: "API Gateway HTTP API requests",
        usd: 1.00,
        per: 1e6,
        unit: "million requests",
    },
    Price {
        meter: Meter::SqsRequests,
        what: "SQS requests (standard queues)",
        usd: 0.40,
        per: 1e6,
        unit: "million requests",
    },
    Price {
        meter: Meter::SecretsCalls,
        what: "Secrets Manager API calls",
        usd: 0.05,
        per: 1e4,
        unit: "10,000 calls",
    },
    Price {
        meter: Meter::Mails,
        what: "Mails sent through SES SMTP",
        usd: 0.10,
        per: 1e3,
        unit: "1,000 mails",
    },
    Price {
        meter: Meter::LogBytes,
        what: "CloudWatch Logs ingestion (the functions' log lines, bytes)",
        usd: 0.50,
        per: 1_073_741_824.0,
        unit: "GB",
    },
];

/// What one phase (or one order) used.
#[derive(Debug, Clone, Default)]
struct Usage {
    meters: BTreeMap<Meter, f64>,
    dynamodb_requests: f64,
    refused_writes: f64,
    sqs_by_functions: f64,
    /// Invocations, milliseconds and GB-seconds per function.
    functions: BTreeMap<String, (f64, f64, f64)>,
}

impl Usage {
    fn get(&self, meter: Meter) -> f64 {
        self.meters.get(&meter).copied().unwrap_or(0.0)
    }

    fn add_to(&mut self, meter: Meter, amount: f64) {
        *self.meters.entry(meter).or_default() += amount;
    }

    fn add(&mut self, other: &Usage) {
        for (meter, amount) in &other.meters {
            self.add_to(*meter, *amount);
        }
        self.dynamodb_requests += other.dynamodb_requests;
        self.refused_writes += other.refused_writes;
        self.sqs_by_functions += other.sqs_by_functions;
        for (function, (count, ms, gb_s)) in &other.functions {
            let entry = self.functions.entry(function.clone()).or_default();
            entry.0 += count;
            entry.1 += ms;
            entry.2 += gb_s;
        }
    }

    /// Every figure divided by `n` (the mean of `n` orders).
    fn divided(&self, n: f64) -> Usage {
        let mut mean = self.clone();
        mean.meters.values_mut().for_each(|v| *v /= n);
        mean.dynamodb_requests /= n;
        mean.refused_writes /= n;
        mean.sqs_by_functions /= n;
        for (count, ms, gb_s) in mean.functions.values_mut() {
            *count /= n;
            *ms /= n;
            *gb_s /= n;
        }
        mean
    }

    /// USD.
    fn cost(&self) -> f64 {
        PRICES.iter().map(|p| self.get(p.meter) * p.usd / p.per).sum()
    }
}

/// The phases of one order, in order.
const PHASES: [&str; 9] = [
    "sign in",
    "browse",
    "cart",
    "checkout",
    "reservation",
    "payment",
    "webhook",
    "fulfilment and mails",
    "order page",
];

struct Measured {
    first: Vec<Usage>,
    /// The mean of the measured orders, phase by phase.
    mean: Vec<Usage>,
    orders: usize,
    memory_mb: BTreeMap<String, u64>,
    mails_counted: bool,
    logs_counted: bool,
}

/// Measures, and returns the Markdown of the section.
pub async fn run(options: &Options) -> Result<String, BoxError> {
    let memory_mb = Workspace::locate()?
        .functions()?
        .into_iter()
        .map(|f| (f.name, f.memory_mb))
        .collect();
    let stack = LocalStack::provision("cost").await?;
    let measured = measure(&stack, options, memory_mb).await;
    stack.remove().await;
    Ok(render(&measured?))
}

/// Everything one order needs: the customer and the product.
struct Order<'a> {
    stack: &'a std::sync::Arc<LocalStack>,
    sources: &'a crate::stack::EventSources,
    email: String,
    product: String,
    word: String,
    memory_mb: &'a BTreeMap<String, u64>,
    mails_seen: std::cell::Cell<usize>,
    log_seen: std::cell::Cell<u64>,
}

async fn measure(
    stack: &std::sync::Arc<LocalStack>,
    options: &Options,
    memory_mb: BTreeMap<String, u64>,
) -> Result<Measured, BoxError> {
    stack.dynamodb.meter_capacity(true);
    stack.seed().await?;
    let email = new_email("customer");
    Shopper::register(stack, &email).await?;
    let listed = stack
        .call(HttpCall::new("GET", "/api/v1/products?limit=50"))
        .await
        .expect(200, "list products")?;
    let products = listed.data()["products"].as_array().cloned().unwrap_or_default();
    let product = products
        .iter()
        .max_by_key(|p| p["inventory"].as_i64().unwrap_or(0))
        .filter(|p| p["inventory"].as_i64().unwrap_or(0) > options.orders as i64)
        .ok_or("the demo catalog has no product with enough stock")?;
    let name = product["name"].as_str().unwrap_or_default().to_lowercase();
    let word = name
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| w.len() >= 4)
        .unwrap_or("shirt")
        .to_owned();
    let _webhooks = stack.serve_webhooks().await?;
    let sources = stack.event_sources().await?;
    // What setting up left on the queues (welcome mails) is not the order's.
    sources.settle().await?;
    stack.forget();

    let order = Order {
        stack,
        sources: &sources,
        email,
        product: product["productId"].as_str().unwrap_or_default().to_owned(),
        word,
        memory_mb: &memory_mb,
        mails_seen: std::cell::Cell::new(mail_count().unwrap_or(0)),
        log_seen: std::cell::Cell::new(log_size().unwrap_or(0)),
    };
    let first = order.place().await?;
    let mut total = vec![Usage::default(); PHASES.len()];
    for _ in 0..options.orders {
        for (sum, phase) in total.iter_mut().zip(order.place().await?) {
            sum.add(&phase);
        }
    }
    let n = options.orders.max(1) as f64;
    Ok(Measured {
        first,
        mean: total.iter().map(|u| u.divided(n)).collect(),
        orders: options.orders,
        memory_mb,
        mails_counted: mail_count().is_some(),
        logs_counted: log_size().is_some(),
    })
}

impl Order<'_> {
    /// One order, phase by phase; returns each phase's usage.
    async fn place(&self) -> Result<Vec<Usage>, BoxError> {
        let stack = self.stack;
        let mut phases = Vec::with_capacity(PHASES.len());

        let shopper = Shopper::login(stack, &self.email, PASSWORD).await?;
        phases.push(self.usage(Vec::new()));

        stack
            .call(HttpCall::new("GET", "/api/v1/products?limit=20"))
            .await
            .expect(200, "list products")?;
        let search = HttpCall::new("POST", "/api/v1/products/search").json(&json!({"query": self.word}));
        stack.call(search).await.expect(200, "search")?;
        let page = HttpCall::new("GET", &format!("/api/v1/products/{}", self.product));
        stack.call(page).await.expect(200, "product page")?;
        phases.push(self.usage(Vec::new()));

        shopper.add_to_cart(stack, &self.product, 1).await?;
        stack
            .call(shopper.request("GET", "/api/v1/cart"))
            .await
            .expect(200, "read the cart")?;
        phases.push(self.usage(Vec::new()));

        let order = match shopper.checkout(stack).await? {
            Checkout::Placed { order } => order,
            Checkout::Refused(answer) => return Err(answer.unexpected(201, "checkout")),
        };
        phases.push(self.usage(Vec::new()));

        self.sources.settle().await?;
        phases.push(self.usage(Vec::new()));
        let reserved = shopper.order(stack, &order).await?;
        if reserved["reservation"]["status"] != "RESERVED" {
            return Err(format!("order {order} was not reserved: {}", reserved["reservation"]).into());
        }
        // The read that checked it is the bench's, not the order's.
        stack.forget();

        shopper.pay(stack, &order).await?;
        phases.push(self.usage(Vec::new()));

        let webhooks = self.wait_for_webhooks().await?;
        phases.push(self.usage(webhooks));

        self.sources.settle().await?;
        phases.push(self.usage(Vec::new()));

        let done = shopper.order(stack, &order).await?;
        if done["status"] != "processing" {
            return Err(format!("order {order} is {} after fulfilment", done["status"]).into());
        }
        phases.push(self.usage(Vec::new()));
        Ok(phases)
    }

    /// Waits for Stripe's webhook invocations after a payment: the first,
    /// then any that follow within half a second.
    async fn wait_for_webhooks(&self) -> Result<Vec<Invocation>, BoxError> {
        let deadline = Instant::now() + WEBHOOK_LIMIT;
        let mut arrived = Vec::new();
        let mut quiet_since: Option<Instant> = None;
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let new = self.stack.take_invocations();
            if !new.is_empty() {
                quiet_since = Some(Instant::now());
            }
            arrived.extend(new);
            match quiet_since {
                Some(since) if since.elapsed() >= Duration::from_millis(500) => return Ok(arrived),
                None if Instant::now() >= deadline => {
                    return Err("no Stripe webhook arrived after the payment".into());
                }
                _ => {}
            }
        }
    }

    /// Everything recorded since the last phase, plus `earlier` invocations
    /// already taken.
    fn usage(&self, earlier: Vec<Invocation>) -> Usage {
        let mut usage = Usage::default();
        let mut invocations = earlier;
        invocations.extend(self.stack.take_invocations());
        for invocation in &invocations {
            let memory = self.memory_mb.get(&invocation.function).copied().unwrap_or(128);
            let billed_ms = (invocation.duration.as_secs_f64() * 1000.0).ceil();
            let gb_s = billed_ms / 1000.0 * memory as f64 / 1024.0;
            usage.add_to(Meter::LambdaRequests, 1.0);
            usage.add_to(Meter::LambdaGbSeconds, gb_s);
            match invocation.trigger {
                Trigger::Http => usage.add_to(Meter::ApiRequests, 1.0),
                // The event source's receive and its batch delete.
                Trigger::Queue => usage.add_to(Meter::SqsRequests, 2.0),
                // Lambda reads DynamoDB streams for its triggers free of charge.
                Trigger::Stream => {}
            }
            let entry = usage.functions.entry(invocation.function.clone()).or_default();
            entry.0 += 1.0;
            entry.1 += billed_ms;
            entry.2 += gb_s;
        }
        for request in self.stack.dynamodb.take() {
            usage.dynamodb_requests += 1.0;
            usage.refused_writes += f64::from(u8::from(request.refused && is_write(&request)));
            match request.units {
                Some((Units::Read, units)) => usage.add_to(Meter::ReadUnits, units),
                Some((Units::Write, units)) => usage.add_to(Meter::WriteUnits, units),
                None => {}
            }
        }
        let sqs = self.stack.sqs.take().len() as f64;
        usage.sqs_by_functions += sqs;
        usage.add_to(Meter::SqsRequests, sqs);
        usage.add_to(Meter::SecretsCalls, self.stack.secrets.take().len() as f64);
        usage.add_to(Meter::Mails, self.mails_since() as f64);
        usage.add_to(Meter::LogBytes, self.log_bytes_since() as f64);
        usage
    }

    /// Mails the SMTP sink received since the last look (its directory only grows).
    fn mails_since(&self) -> usize {
        let now = mail_count().unwrap_or(0);
        let seen = self.mails_seen.replace(now);
        now.saturating_sub(seen)
    }

    /// Bytes the functions logged since the last look.
    fn log_bytes_since(&self) -> u64 {
        let now = log_size().unwrap_or(0);
        let seen = self.log_seen.replace(now);
        now.saturating_sub(seen)
    }
}

/// The mails in the SMTP sink's directory (`MAIL_DIR`), if it has one.
fn mail_count() -> Option<usize> {
    let dir = std::env::var_os("MAIL_DIR")?;
    let entries = std::fs::read_dir(dir).ok()?;
    Some(
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .count(),
    )
}

/// The size of the functions' log (`SHOP_LOG_FILE`), if they log to a file.
fn log_size() -> Option<u64> {
    let path = std::env::var_os("SHOP_LOG_FILE")?;
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn is_write(request: &Request) -> bool {
    matches!(request.units, Some((Units::Write, _)))
}

fn total(phases: &[Usage]) -> Usage {
    let mut sum = Usage::default();
    for phase in phases {
        sum.add(phase);
    }
    sum
}

/// `$0.125`, `$0.20`, `$1.00`, `$0.0000133334`: as the price lists write them.
fn list_price(usd: f64) -> String {
    if usd < 0.01 {
        return format!("${usd}");
    }
    let three = format!("{usd:.3}");
    format!("${}", three.strip_suffix('0').unwrap_or(&three))
}

fn dollars(usd: f64) -> String {
    format!("${usd:.7}")
}

fn per_million(usd: f64) -> String {
    format!("${:.2}", usd * 1e6)
}

fn render(measured: &Measured) -> String {
    let order = total(&measured.mean);
    let first = total(&measured.first);
    let mut out = format!(
        "**One order costs {} in AWS, {} per million orders** (mean of {} order(s) on warm functions; the first \
         order, on cold ones, {} — {} per million).\n\n",
        dollars(order.cost()),
        per_million(order.cost()),
        measured.orders,
        dollars(first.cost()),
        per_million(first.cost()),
    );

    let mut bill = Table::new(&["item", "per order", "price", "$ per order", "$ per million orders"]);
    for price in &PRICES {
        let amount = order.get(price.meter);
        let usd = amount * price.usd / price.per;
        let counted = match price.meter {
            Meter::Mails => measured.mails_counted,
            Meter::LogBytes => measured.logs_counted,
            _ => true,
        };
        let shown = match price.meter {
            _ if !counted => "not counted".to_owned(),
            Meter::LambdaGbSeconds => figure(Some(amount), 4),
            Meter::LogBytes => figure(Some(amount), 0),
            _ => figure(Some(amount), 2),
        };
        bill.row(vec![
            price.what.to_owned(),
            shown,
            format!("{} per {}", list_price(price.usd), price.unit),
            dollars(usd),
            per_million(usd),
        ]);
    }
    bill.row(vec![
        "**total**".into(),
        String::new(),
        String::new(),
        format!("**{}**", dollars(order.cost())),
        format!("**{}**", per_million(order.cost())),
    ]);
    out.push_str(&bill.render(3));
    out.push('\n');

    let mut phases = Table::new(&[
        "phase",
        "API requests",
        "Lambda invocations",
        "GB-s",
        "DynamoDB requests",
        "RRU",
        "WRU",
        "SQS requests",
        "mails",
        "$ per million orders",
    ]);
    for (name, usage) in PHASES.iter().zip(&measured.mean) {
        phases.row(vec![
            (*name).to_owned(),
            figure(Some(usage.get(Meter::ApiRequests)), 1),
            figure(Some(usage.get(Meter::LambdaRequests)), 1),
            figure(Some(usage.get(Meter::LambdaGbSeconds)), 4),
            figure(Some(usage.dynamodb_requests), 1),
            figure(Some(usage.get(Meter::ReadUnits)), 1),
            figure(Some(usage.get(Meter::WriteUnits)), 1),
            figure(Some(usage.get(Meter::SqsRequests)), 1),
            figure(Some(usage.get(Meter::Mails)), 1),
            per_million(usage.cost()),
        ]);
    }
    out.push_str(&phases.render(1));
    out.push('\n');

    let mut functions = Table::new(&["function", "memory MB", "invocations", "billed ms", "GB-s"]);
    for (function, (count, ms, gb_s)) in &order.functions {
        functions.row(vec![
            function.clone(),
            measured
                .memory_mb
                .get(function)
                .map_or_else(|| "–".into(), u64::to_string),
            figure(Some(*count), 1),
            figure(Some(*ms), 0),
            figure(Some(*gb_s), 4),
        ]);
    }
    out.push_str(&functions.render(1));
    out.push('\n');

    out.push_str(&format!(
        "The order: a returning customer signs in, lists the catalog, searches, opens a product, adds it to the \
         cart and reads the cart, checks out, pays (`POST /payments`, then the confirm route, against the fake \
         Stripe) and reads the order once it is `processing`; in between, the table's stream and the queues are \
         read until they are empty, and Stripe's `payment_intent.succeeded` webhook is awaited. Per order and per \
         phase: the mean of {orders} order(s) after a first one, which met cold functions (Secrets Manager calls: \
         {first_secrets:.0} in the first order, {secrets:.1} per order after it).\n\n\
         - **DynamoDB**: every request of the functions' clients asks for `ReturnConsumedCapacity: TOTAL` (added by \
         the bench's SDK interceptor) and the units DynamoDB Local reports are summed, index writes included. \
         Transactions count at least 2 units per item, as AWS bills them (DynamoDB Local rounds their summed size \
         instead); a refused conditional write would count as written ({refused:.1} per order). Reads are counted \
         as read request units, writes as write request units.\n\
         - **Lambda**: one request per invocation; duration as measured here in-process, rounded up to the \
         millisecond, times the function's memory in template.yaml. This machine runs a full x86 core and loopback \
         emulators: in AWS a 256 MB function gets about a seventh of an arm64 vCPU and pays network round trips, \
         so real durations, and the GB-seconds, are longer.\n\
         - **API Gateway**: one request per HTTP invocation (the webhook included).\n\
         - **SQS**: the functions' own requests ({sqs_functions:.1} per order: the outbox dispatcher's sends) plus, for \
         each batch an event source delivers, its receive and its batch delete; the event sources' idle long polls \
         are a fixed cost per queue, not per order.\n\
         - **Secrets Manager**: the functions' calls; they fetch a secret once per execution environment, so \
         warm functions make none.\n\
         - **Mails**: the messages the SMTP sink received, priced as SES outbound mail.\n\
         - **CloudWatch Logs**: the bytes the functions' log lines (JSON logs at `info`, and the metrics they \
         emit as log lines) added to their log file; Lambda's own START, END and REPORT lines come on top.\n\
         - Not included: DynamoDB Streams reads (free for Lambda triggers), storage (table, logs, secrets at \
         $0.40 per secret-month), custom metrics and alarms (billed per metric and month, not per order), X-Ray, \
         data transfer, Lambda's billed init phase on cold starts, and Stripe's own fees.\n\
         - Prices: us-east-1 list prices, USD, without free tiers (the **price** column).\n",
        orders = measured.orders,
        first_secrets = first.get(Meter::SecretsCalls),
        secrets = order.get(Meter::SecretsCalls),
        refused = order.refused_writes,
        sqs_functions = order.sqs_by_functions,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_as_the_lists_write_them() {
        assert_eq!(list_price(0.125), "$0.125");
        assert_eq!(list_price(0.20), "$0.20");
        assert_eq!(list_price(1.0), "$1.00");
        assert_eq!(list_price(0.000_013_333_4), "$0.0000133334");
    }

    #[test]
    fn a_usage_is_priced_line_by_line() {
        let mut usage = Usage::default();
        usage.add_to(Meter::WriteUnits, 1e6);
        usage.add_to(Meter::ReadUnits, 2e6);
        usage.add_to(Meter::SecretsCalls, 1e4);
        assert!((usage.cost() - (0.625 + 0.25 + 0.05)).abs() < 1e-9);
        let half = usage.divided(2.0);
        assert!((half.get(Meter::ReadUnits) - 1e6).abs() < 1e-9);
    }
}
