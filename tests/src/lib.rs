//! The integration-test harness: each [`TestApp`] gets its own table, queues and
//! secrets on the local emulators (provisioned from `template.yaml`), and calls
//! the functions through the same API Gateway events the local runner builds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod contract;
pub mod emulators;
mod flows;
mod requests;

pub use flows::{checkout_body, subjects};

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use serde_json::{Value, json};
use shop::auth::TokenKeys;
use shop::aws::AwsClients;
use shop_local::provision::{endpoints_from_env, local_parameters};
use shop_local::streams::{StreamPoller, StreamReport};
use shop_local::{Functions, Gateway, HttpCall, Stack, Template};

pub const PASSWORD: &str = "SecurePass123!";

/// The stream reader of the template's outbox dispatcher, from the stream's start.
pub async fn outbox_poller(stack: &Stack, clients: &AwsClients, functions: &std::sync::Arc<Functions>) -> StreamPoller {
    let function = stack
        .function("outbox-dispatcher")
        .expect("the template has outbox-dispatcher");
    let trigger = function
        .streams
        .first()
        .expect("outbox-dispatcher reads the table's stream")
        .clone();
    let on_failure = trigger
        .on_failure
        .as_ref()
        .and_then(|queue| stack.queue_url(queue))
        .map(str::to_owned);
    let streams = shop_local::provision::streams_client(&stack.endpoints).await;
    let functions = functions.clone();
    let handler: shop_local::streams::StreamHandler = std::sync::Arc::new(move |event| {
        let functions = functions.clone();
        Box::pin(async move { functions.call_stream("outbox-dispatcher", event).await })
    });
    StreamPoller::new(
        (clients.dynamodb(), &streams, clients.sqs()),
        stack.table_name.clone(),
        trigger,
        on_failure,
        handler,
    )
}

/// Records the name of every DynamoDB request a client sends.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<String>>>);

impl CallLog {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    /// Every request sent, retries included: `X-Amz-Target: DynamoDB_20120810.Query`.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        self.0.lock().unwrap().push(operation);
        Ok(())
    }
}

/// A response as a client sees it.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The error code, e.g. `"AUTH_003"`.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Panics with the body when the status is not `expected`.
    pub fn expect_status(&self, expected: u16) -> &Self {
        assert_eq!(self.status, expected, "unexpected status; body: {}", self.body);
        self
    }

    /// The fields named in `error.details`.
    pub fn bad_fields(&self) -> Vec<String> {
        self.body["error"]["details"]
            .as_array()
            .map(|issues| {
                issues
                    .iter()
                    .filter_map(|i| i["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Sends `call` through `gateway`; returns the response and whether its body was empty.
async fn send(gateway: &Gateway, call: HttpCall) -> (TestResponse, bool) {
    let response = gateway.dispatch(call).await;
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body).await.unwrap().to_bytes();
    let json = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("application/json"));
    let body = if bytes.is_empty() {
        Value::Null
    } else if json {
        serde_json::from_slice(&bytes).expect("a JSON response")
    } else {
        // A file (a CSV export): its text.
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    };
    let response = TestResponse {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    };
    (response, bytes.is_empty())
}

/// A registered, logged-in customer.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl Session {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.access_token)
    }
}

pub struct TestApp {
    pub stack: Stack,
    pub clients: AwsClients,
    pub gateway: Gateway,
    /// A second instance of every function (same table and queues), for consumers and jobs.
    pub functions: std::sync::Arc<shop_local::Functions>,
    pub dynamodb_calls: CallLog,
    /// Reads the table's stream into the outbox dispatcher, as Lambda's event source would.
    outbox: StreamPoller,
}

fn emulator_endpoints() -> shop::config::Endpoints {
    let endpoints = endpoints_from_env();
    assert!(
        endpoints.dynamodb.is_some() && endpoints.sqs.is_some() && endpoints.secrets_manager.is_some(),
        "integration tests need the local emulators: run them with `make test` \
         (scripts/with-stack.sh sets DYNAMODB_ENDPOINT, SQS_ENDPOINT and SECRETSMANAGER_ENDPOINT)"
    );
    endpoints
}

impl TestApp {
    /// A fresh table, queues and secrets named after a new ULID.
    pub async fn spawn() -> Self {
        Self::spawn_with(emulator_endpoints()).await
    }

    pub async fn spawn_with(endpoints: shop::config::Endpoints) -> Self {
        if std::env::var_os("TEST_LOGS").is_some() || std::env::var_os("SHOP_LOG_FILE").is_some() {
            // The functions' own logs: printed (`TEST_LOGS=1 … -- --nocapture`), or
            // kept in SHOP_LOG_FILE, which `make test` checks for private data
            // and invalid metric lines after the run.
            shop::logging::init();
        }
        shop::metrics::record_in_memory();
        let shared = aws_config::load_from_env().await;
        let clients = AwsClients::from_shared(&shared, &endpoints);
        let calls = CallLog::default();
        let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&shared)
            .interceptor(calls.clone())
            .interceptor(shop::metrics::RoundTripCounter);
        if let Some(url) = &endpoints.dynamodb {
            dynamodb = dynamodb.endpoint_url(url);
        }
        let clients = clients.with_dynamodb(aws_sdk_dynamodb::Client::from_conf(dynamodb.build()));
        let template = Template::load(&Template::default_path()).unwrap();
        let prefix = format!("t{}", ulid::Ulid::new().to_string().to_lowercase());
        let parameters = local_parameters(&template);
        let stack = Stack::provision(template, &clients, &prefix, parameters, endpoints)
            .await
            .expect("provisioning the test stack");
        let gateway = Gateway::new(&stack, &clients).unwrap();
        let functions = std::sync::Arc::new(Functions::new(&stack, &clients).unwrap());
        let outbox = outbox_poller(&stack, &clients, &functions).await;
        calls.take();
        Self {
            stack,
            clients,
            gateway,
            functions,
            dynamodb_calls: calls,
            outbox,
        }
    }

    /// Sends every outbox message written so far to its queue (what the
    /// outbox-dispatcher does from the table's stream in AWS); returns the report.
    pub async fn pump_outbox(&self) -> StreamReport {
        let mut total = StreamReport::default();
        let mut errors = 0;
        loop {
            let report = match self.outbox.poll_once().await {
                Ok(report) => report,
                // An emulator restarting: its stream comes back.
                Err(err) if errors < 30 => {
                    errors += 1;
                    eprintln!("reading the table's stream failed ({err}); again in a moment");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    continue;
                }
                Err(err) => panic!("reading the table's stream: {err}"),
            };
            total.read += report.read;
            total.delivered += report.delivered;
            total.failed += report.failed;
            total.abandoned += report.abandoned;
            if report.read == 0 || report.failed > 0 {
                return total;
            }
        }
    }

    /// Sends `call` through the gateway to its function; panics when the
    /// response is not what `openapi.yaml` documents for it (see [`contract`]).
    pub async fn call(&self, call: HttpCall) -> TestResponse {
        self.call_via(&self.gateway, call).await
    }

    /// Sends `call` through another gateway of this stack (one whose clients
    /// misbehave, say), checked against `openapi.yaml` like [`TestApp::call`].
    pub async fn call_via(&self, gateway: &Gateway, call: HttpCall) -> TestResponse {
        let method = call.method.clone();
        let target = if call.query.is_empty() {
            call.path.clone()
        } else {
            format!("{}?{}", call.path, call.query)
        };
        let (response, empty) = send(gateway, call).await;
        let checked = contract::check(
            &method,
            &target,
            contract::Response {
                status: response.status,
                content_type: response.header("content-type"),
                body: (!empty).then_some(&response.body),
            },
        );
        if let Err(violation) = checked {
            panic!("{violation}");
        }
        response
    }

    /// Sends `call` like [`TestApp::call`] without checking the response
    /// against `openapi.yaml`: only for requests that are deliberately not the
    /// documented API (say why where it is used).
    pub async fn call_off_contract(&self, call: HttpCall) -> TestResponse {
        send(&self.gateway, call).await.0
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.call(HttpCall::new("POST", path).json(&body)).await
    }

    pub async fn get_as(&self, path: &str, session: &Session) -> TestResponse {
        self.call(HttpCall::new("GET", path).header("authorization", &session.bearer()))
            .await
    }

    pub async fn send_as(&self, method: &str, path: &str, session: &Session, body: Value) -> TestResponse {
        self.call(
            HttpCall::new(method, path)
                .header("authorization", &session.bearer())
                .json(&body),
        )
        .await
    }

    pub async fn register(&self, email: &str) -> TestResponse {
        self.post(
            "/api/v1/users/register",
            json!({"email": email, "password": PASSWORD, "firstName": "Jane", "lastName": "Doe", "phoneNumber": "+1234567890"}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post("/api/v1/users/login", json!({"email": email, "password": password}))
            .await
    }

    /// Registers `email` and logs in.
    pub async fn customer(&self, email: &str) -> Session {
        self.register(email).await.expect_status(201);
        self.session(email).await
    }

    pub async fn session(&self, email: &str) -> Session {
        self.session_with(email, PASSWORD).await
    }

    pub async fn session_with(&self, email: &str, password: &str) -> Session {
        let login = self.login(email, password).await;
        login.expect_status(200);
        let data = login.data();
        Session {
            user_id: data["user"]["userId"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            access_token: data["accessToken"].as_str().unwrap().to_owned(),
            refresh_token: data["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    /// An admin account, made with the same bootstrap the `create-admin` command uses.
    pub async fn admin(&self, email: &str) -> Session {
        let store = shop::store::Store::new(self.clients.dynamodb().clone(), &self.stack.table_name);
        let input = shop::users::NewUser {
            email: shop::domain::Email::parse(email).unwrap(),
            password: shop::domain::Password::parse(PASSWORD).unwrap(),
            first_name: shop::domain::PersonName::parse("Ada").unwrap(),
            last_name: shop::domain::PersonName::parse("Admin").unwrap(),
            phone_number: None,
        };
        shop::users::bootstrap_admin(&store, input).await.unwrap();
        self.session(email).await
    }

    /// The signing keys of this stack, read from its secrets (to forge test tokens).
    pub async fn token_keys(&self) -> TokenKeys {
        let read = |logical: &str| {
            let id = self.stack.secret_ids[logical].clone();
            let client = self.clients.secrets().clone();
            async move {
                client
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .unwrap()
                    .secret_string
                    .unwrap()
            }
        };
        let access = read("JwtAccessKeySecret").await;
        let refresh = read("JwtRefreshKeySecret").await;
        TokenKeys::new(access.as_bytes(), refresh.as_bytes())
    }

    /// Receives and deletes every message waiting on a queue of the template
    /// (the outbox is sent first).
    pub async fn drain_queue(&self, logical_id: &str) -> Vec<Value> {
        self.pump_outbox().await;
        let url = self.stack.queue_url(logical_id).unwrap();
        let mut messages = Vec::new();
        loop {
            let output = self
                .clients
                .sqs()
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let batch = output.messages.unwrap_or_default();
            if batch.is_empty() {
                return messages;
            }
            for message in batch {
                messages.push(serde_json::from_str(message.body().unwrap()).unwrap());
                self.clients
                    .sqs()
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// Forgets the DynamoDB calls made so far.
    pub fn reset_calls(&self) {
        self.dynamodb_calls.take();
    }

    /// The DynamoDB operations made since the last reset.
    pub fn calls(&self) -> Vec<String> {
        self.dynamodb_calls.take()
    }
}

impl TestApp {
    /// Creates a category as `admin`; returns its id.
    pub async fn category(&self, admin: &Session, name: &str, parent: Option<&str>) -> String {
        let mut body = json!({"name": name});
        if let Some(parent) = parent {
            body["parentId"] = json!(parent);
        }
        let response = self.create_category(admin, body).await;
        response.expect_status(201);
        response.data()["categoryId"].as_str().unwrap().to_owned()
    }

    /// Creates an ACTIVE product as `admin` from `overrides` on top of a valid body.
    pub async fn product(&self, admin: &Session, category: &str, overrides: Value) -> Value {
        let response = self.create_product(admin, product_body(category, overrides)).await;
        response.expect_status(201);
        response.data().clone()
    }

    /// Loads the demo catalog into this test's table.
    pub async fn seed(&self) -> shop_local::seed::SeedReport {
        shop_local::seed::seed(self.gateway.functions.catalog_api().catalog())
            .await
            .unwrap()
    }
}

impl TestApp {
    /// Delivers every message waiting on a queue of the template to its consumer,
    /// as the SQS event source would, until the queue is empty; returns the totals.
    pub async fn run_consumer(&self, queue: &str, binary: &str) -> shop_local::queues::PollReport {
        self.pump_outbox().await;
        let url = self.stack.queue_url(queue).unwrap().to_owned();
        let arn = shop_local::queues::queue_arn(self.clients.sqs(), &url).await.unwrap();
        let functions = self.gateway_functions();
        let binary = binary.to_owned();
        let handler: shop_local::queues::SqsHandler = std::sync::Arc::new(move |event| {
            let functions = functions.clone();
            let binary = binary.clone();
            Box::pin(async move { functions.call_sqs(&binary, event).await })
        });
        let poller = shop_local::queues::QueuePoller::new(self.clients.sqs().clone(), url, arn, 10, handler)
            .retry_after(std::time::Duration::from_secs(0));
        let mut total = shop_local::queues::PollReport::default();
        loop {
            let report = poller.poll_once(0).await.unwrap();
            if report.received == 0 {
                return total;
            }
            total.received += report.received;
            total.succeeded += report.succeeded;
            total.failed += report.failed;
        }
    }

    /// Delivers every pending message to its consumer, again and again, until
    /// nothing is left (consumers' own messages included).
    pub async fn settle(&self) {
        for _ in 0..30 {
            if self.deliver_pending().await == 0 {
                return;
            }
        }
        panic!("messages kept coming");
    }

    /// Delivers what waits on every queue once; returns how many messages there were.
    pub async fn deliver_pending(&self) -> usize {
        let mut delivered = 0;
        for (queue, function) in [
            ("InventoryReservationQueue", "inventory-reservation"),
            ("OrderFulfillmentQueue", "order-fulfillment"),
            ("NotificationsQueue", "notifications"),
            ("ImportsQueue", "catalog-importer"),
        ] {
            delivered += self.run_consumer(queue, function).await.received;
        }
        delivered
    }

    /// The functions, shareable with pollers and spawned tasks.
    pub fn gateway_functions(&self) -> std::sync::Arc<shop_local::Functions> {
        self.functions.clone()
    }

    pub fn orders(&self) -> &shop::orders::Orders {
        self.functions.orders_api().orders()
    }

    /// How many messages wait on a queue of the template (visible ones).
    pub async fn queue_depth(&self, queue: &str) -> usize {
        self.pump_outbox().await;
        let url = self.stack.queue_url(queue).unwrap();
        let output = self
            .clients
            .sqs()
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        output
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                    .cloned()
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// The API served over real HTTP on a free port, with the fake Stripe's webhooks
/// pointed at it (as `make dev` does).
pub struct Served {
    pub address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The webhook signing secret of the local stack (`StripeWebhookSecret`).
pub const WEBHOOK_SECRET: &str = "whsec_local";

impl TestApp {
    pub async fn serve(&self) -> Served {
        let gateway = std::sync::Arc::new(Gateway::new(&self.stack, &self.clients).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(shop_local::server::serve(gateway, listener, async {
            let _ = stopped.await;
        }));
        let stripe = self.stack.endpoints.stripe.clone().expect("STRIPE_API_BASE");
        let url = format!("http://{address}/api/v1/payments/webhook");
        // One hook per test stack: webhooks of other tests' orders are unknown payments here.
        shop_local::stripe::register_webhook(&stripe, &self.stack.prefix, &url, WEBHOOK_SECRET)
            .await
            .unwrap();
        Served {
            address,
            stop: Some(stop),
        }
    }

    /// The mails the SMTP sink received for `recipient`, as raw messages.
    pub fn mails_to(&self, recipient: &str) -> Vec<String> {
        let Ok(dir) = std::env::var("MAIL_DIR") else {
            return Vec::new();
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .filter(|path| path.extension().is_some_and(|e| e == "eml"))
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .filter(|mail| {
                mail.lines()
                    .take(5)
                    .any(|l| l.starts_with("X-Envelope-To:") && l.contains(recipient))
            })
            .collect()
    }
}

/// `Stripe-Signature` for `body`, as Stripe signs webhooks.
pub fn stripe_signature(body: &str, secret: &str) -> String {
    use hmac::Mac;
    let t = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// An SQS event carrying `bodies`, as the event source builds it.
pub fn sqs_event(bodies: &[String]) -> aws_lambda_events::event::sqs::SqsEvent {
    let records: Vec<Value> = bodies
        .iter()
        .map(|body| {
            json!({
                "messageId": ulid::Ulid::new().to_string(),
                "receiptHandle": "test",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:test",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// A valid product body in `category`, with `overrides` applied.
pub fn product_body(category: &str, overrides: Value) -> Value {
    let unique = ulid::Ulid::new().to_string();
    let mut body = json!({
        "name": format!("Test Product {}", &unique[20..]),
        "description": "A product made for a test",
        "price": 19.99,
        "categoryId": category,
        "brand": "TestBrand",
        "sku": format!("T-{unique}"),
        "status": "ACTIVE",
        "stock": 10,
        "images": ["https://cdn.example.com/products/test/1.jpg"],
    });
    if let (Some(body), Some(overrides)) = (body.as_object_mut(), overrides.as_object()) {
        for (key, value) in overrides {
            body.insert(key.clone(), value.clone());
        }
    }
    body
}

/// A unique email for a test.
pub fn email(name: &str) -> String {
    format!("{name}.{}@example.com", ulid::Ulid::new().to_string().to_lowercase())
}

/// Answers every BatchGetItem as a throttled table does: what was asked comes
/// back unprocessed, however often it is asked again.
#[derive(Debug, Clone, Copy)]
struct BatchReadsUnprocessed;

/// The operation an interceptor sees, kept from request to response.
#[derive(Debug, Clone)]
struct Operation(String);

impl aws_smithy_types::config_bag::Storable for Operation {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl Intercept for BatchReadsUnprocessed {
    fn name(&self) -> &'static str {
        "BatchReadsUnprocessed"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or_default();
        cfg.interceptor_state()
            .store_put(Operation(target.rsplit('.').next().unwrap_or_default().to_owned()));
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if cfg.load::<Operation>().is_none_or(|op| op.0 != "BatchGetItem") {
            return Ok(());
        }
        let response = context.response_mut();
        response.headers_mut().remove("content-length");
        response.headers_mut().remove("x-amz-crc32");
        shop_local::body::rewrite_json(response.body_mut(), |answer| {
            let Some(Value::Object(tables)) = answer.get_mut("Responses").map(Value::take) else {
                return;
            };
            let mut unprocessed = serde_json::Map::new();
            for (table, items) in tables {
                let keys: Vec<Value> = items
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|item| json!({"PK": item["PK"], "SK": item["SK"]}))
                    .collect();
                unprocessed.insert(table, json!({ "Keys": keys }));
            }
            answer["Responses"] = json!({});
            answer["UnprocessedKeys"] = Value::Object(unprocessed);
        });
        Ok(())
    }
}

impl TestApp {
    /// The functions of this stack behind a gateway whose table leaves every
    /// batch read unprocessed (a throttled table).
    pub async fn with_batch_reads_unprocessed(&self) -> Gateway {
        let shared = aws_config::load_from_env().await;
        let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&shared).interceptor(BatchReadsUnprocessed);
        if let Some(url) = &self.stack.endpoints.dynamodb {
            dynamodb = dynamodb.endpoint_url(url);
        }
        let clients = self
            .clients
            .clone()
            .with_dynamodb(aws_sdk_dynamodb::Client::from_conf(dynamodb.build()));
        Gateway::new(&self.stack, &clients).unwrap()
    }

    /// A reader of this stack's outbox whose dispatcher sends to SQS at `url`
    /// (an unreachable one plays a queue that is down).
    pub async fn with_sqs_at(&self, url: &str) -> StreamPoller {
        let mut endpoints = self.stack.endpoints.clone();
        endpoints.sqs = Some(url.to_owned());
        let shared = aws_config::load_from_env().await;
        let clients = AwsClients::from_shared(&shared, &endpoints).with_dynamodb(self.clients.dynamodb().clone());
        let functions = std::sync::Arc::new(Functions::new(&self.stack, &clients).unwrap());
        outbox_poller(&self.stack, &clients, &functions).await
    }
}
