//! The whole stack for one part of the bench: the template provisioned on the
//! emulators under a name of its own, every function built in-process behind
//! the local runner's gateway (the release build of the bench is the release
//! build of the functions), their SDK clients recorded by [`Recorder`]s, and
//! every invocation timed. The event sources (queue pollers, the stream
//! reader) are the local runner's, with clients that record nothing: in AWS
//! their requests are Lambda's, not the functions'.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::Value;
use shop::aws::AwsClients;
use shop_local::provision::{endpoints_from_env, local_parameters, streams_client};
use shop_local::queues::{QueuePoller, SqsHandler, long_polling, queue_arn};
use shop_local::streams::{StreamHandler, StreamPoller};
use shop_local::workers::Shutdown;
use shop_local::{Gateway, HttpCall, Stack, Template};

use crate::BoxError;
use crate::emulators::PREFIX;
use crate::meter::Recorder;

/// How a function was invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Through the HTTP API (one API Gateway request).
    Http,
    /// A batch of queue messages, from the queue's event source.
    Queue,
    /// A batch of the table's stream records.
    Stream,
}

/// One invocation of one function.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub function: String,
    pub trigger: Trigger,
    pub duration: Duration,
}

/// An HTTP answer as a client reads it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The gateway's time, from the request to the response (reading the body aside).
    pub elapsed: Duration,
}

impl Answer {
    /// The envelope's `data`.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// This answer if its status is `expected`, else an error naming `what`.
    pub fn expect(self, expected: u16, what: &str) -> Result<Self, BoxError> {
        if self.status == expected {
            Ok(self)
        } else {
            Err(self.unexpected(expected, what))
        }
    }

    /// The error for an answer that is not the `expected` one.
    pub fn unexpected(&self, expected: u16, what: &str) -> BoxError {
        let mut body = self.body.to_string();
        body.truncate(300);
        format!("{what}: expected {expected}, got {}: {body}", self.status).into()
    }
}

pub struct LocalStack {
    pub stack: Stack,
    pub gateway: Gateway,
    /// The functions' requests to each service.
    pub dynamodb: Recorder,
    pub sqs: Recorder,
    pub secrets: Recorder,
    /// Clients that record nothing, for setting up, checking and the event sources.
    pub plain: AwsClients,
    invocations: Mutex<Vec<Invocation>>,
}

impl LocalStack {
    /// Provisions the template under `shop-bench-<part>-<ulid>` and builds every function.
    pub async fn provision(part: &str) -> Result<Arc<Self>, BoxError> {
        let endpoints = endpoints_from_env();
        if endpoints.dynamodb.is_none() || endpoints.sqs.is_none() || endpoints.secrets_manager.is_none() {
            return Err(format!(
                "DYNAMODB_ENDPOINT, SQS_ENDPOINT and SECRETSMANAGER_ENDPOINT must point at the emulators: \
                 run it with `scripts/with-stack.sh cargo run --release -p shop-bench -- {part}`"
            )
            .into());
        }
        let shared = aws_config::load_from_env().await;
        let plain = AwsClients::from_shared(&shared, &endpoints);
        let (dynamodb, sqs, secrets) = (Recorder::default(), Recorder::default(), Recorder::default());
        let recorded = AwsClients::with_clients(
            aws_sdk_dynamodb::Client::from_conf(
                plain
                    .dynamodb()
                    .config()
                    .to_builder()
                    .interceptor(dynamodb.clone())
                    .build(),
            ),
            aws_sdk_sqs::Client::from_conf(plain.sqs().config().to_builder().interceptor(sqs.clone()).build()),
            aws_sdk_secretsmanager::Client::from_conf(
                plain
                    .secrets()
                    .config()
                    .to_builder()
                    .interceptor(secrets.clone())
                    .build(),
            ),
            &plain,
        );
        let template = Template::load(&Template::default_path())?;
        let prefix = format!("{PREFIX}-{part}-{}", ulid::Ulid::new().to_string().to_lowercase());
        let parameters = local_parameters(&template);
        let stack = Stack::provision(template, &plain, &prefix, parameters, endpoints).await?;
        let gateway = Gateway::new(&stack, &recorded)?;
        Ok(Arc::new(Self {
            stack,
            gateway,
            dynamodb,
            sqs,
            secrets,
            plain,
            invocations: Mutex::new(Vec::new()),
        }))
    }

    /// A store on the stack's table that records nothing.
    pub fn store(&self) -> shop::store::Store {
        shop::store::Store::new(self.plain.dynamodb().clone(), &self.stack.table_name)
    }

    /// [`Self::store`] with room for bulk work: a busy emulator may take
    /// longer than the functions' own time bounds allow a request.
    pub fn bulk_store(&self) -> shop::store::Store {
        let timeouts = aws_smithy_types::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(60))
            .operation_timeout(Duration::from_secs(300))
            .build();
        let config = self
            .plain
            .dynamodb()
            .config()
            .to_builder()
            .timeout_config(timeouts)
            .build();
        shop::store::Store::new(aws_sdk_dynamodb::Client::from_conf(config), &self.stack.table_name)
    }

    /// Loads the demo catalog and accounts (`shop-local seed`) through the functions.
    pub async fn seed(&self) -> Result<(), BoxError> {
        shop_local::seed::seed(self.gateway.functions.catalog_api().catalog()).await?;
        Ok(())
    }

    /// Sends `call` through the gateway, as a client of the API would.
    pub async fn call(&self, call: HttpCall) -> Answer {
        let started = Instant::now();
        let response = self.dispatch(call).await;
        let elapsed = started.elapsed();
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, body, elapsed }
    }

    /// The gateway's answer to `call`, the function it routes to timed.
    async fn dispatch(&self, call: HttpCall) -> hyper::Response<Full<bytes::Bytes>> {
        let function = self
            .gateway
            .router
            .find(&call.method, &call.path)
            .map(|matched| matched.target.function);
        let started = Instant::now();
        let response = self.gateway.dispatch(call).await;
        if let Some(function) = function {
            self.record(function, Trigger::Http, started.elapsed());
        }
        response
    }

    fn record(&self, function: String, trigger: Trigger, duration: Duration) {
        let invocation = Invocation {
            function,
            trigger,
            duration,
        };
        self.invocations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(invocation);
    }

    /// The invocations since the last call.
    pub fn take_invocations(&self) -> Vec<Invocation> {
        std::mem::take(
            &mut *self
                .invocations
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Forgets every request and invocation recorded so far.
    pub fn forget(&self) {
        self.dynamodb.take();
        self.sqs.take();
        self.secrets.take();
        self.take_invocations();
    }

    /// The template's event sources, delivering to the functions here.
    pub async fn event_sources(self: &Arc<Self>) -> Result<EventSources, BoxError> {
        let sqs = long_polling(self.plain.sqs());
        let streams = streams_client(&self.stack.endpoints).await;
        let mut sources = EventSources::default();
        for function in &self.stack.template.functions {
            for trigger in &function.queues {
                let url = self
                    .stack
                    .queue_url(&trigger.queue)
                    .ok_or_else(|| format!("{} reads unknown queue {}", function.binary, trigger.queue))?;
                let arn = queue_arn(&sqs, url).await?;
                let stack = self.clone();
                let binary = function.binary.clone();
                let handler: SqsHandler = Arc::new(move |event| {
                    let (stack, binary) = (stack.clone(), binary.clone());
                    Box::pin(async move {
                        let started = Instant::now();
                        let answer = stack.gateway.functions.call_sqs(&binary, event).await;
                        stack.record(binary, Trigger::Queue, started.elapsed());
                        answer
                    })
                });
                let poller = QueuePoller::new(sqs.clone(), url.to_owned(), arn, trigger.batch_size, handler)
                    .retry_after(Duration::from_secs(1));
                sources.queues.push(poller);
            }
            for trigger in &function.streams {
                let on_failure = trigger
                    .on_failure
                    .as_ref()
                    .and_then(|queue| self.stack.queue_url(queue))
                    .map(str::to_owned);
                let stack = self.clone();
                let binary = function.binary.clone();
                let handler: StreamHandler = Arc::new(move |event| {
                    let (stack, binary) = (stack.clone(), binary.clone());
                    Box::pin(async move {
                        let started = Instant::now();
                        let answer = stack.gateway.functions.call_stream(&binary, event).await;
                        stack.record(binary, Trigger::Stream, started.elapsed());
                        answer
                    })
                });
                sources.streams.push(StreamPoller::new(
                    (self.plain.dynamodb(), &streams, self.plain.sqs()),
                    self.stack.table_name.clone(),
                    trigger.clone(),
                    on_failure,
                    handler,
                ));
            }
        }
        Ok(sources)
    }

    /// Serves the payment webhook on a free loopback port through this stack's
    /// gateway, and points the fake Stripe's webhooks at it; stops when dropped.
    pub async fn serve_webhooks(self: &Arc<Self>) -> Result<Webhooks, BoxError> {
        let stripe = self
            .stack
            .endpoints
            .stripe
            .clone()
            .ok_or("STRIPE_API_BASE is not set: run the bench with scripts/with-stack.sh")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let stack = self.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((stream, _)) = accepted else { continue };
                let stack = stack.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let stack = stack.clone();
                        async move { Ok::<_, Infallible>(stack.forward(request).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        let url = format!("http://{address}/api/v1/payments/webhook");
        let secret = self
            .stack
            .parameters
            .get("StripeWebhookSecret")
            .cloned()
            .unwrap_or_default();
        shop_local::stripe::register_webhook(&stripe, &self.stack.prefix, &url, &secret).await?;
        Ok(Webhooks { stop: Some(stop) })
    }

    async fn forward(&self, request: hyper::Request<Incoming>) -> hyper::Response<Full<bytes::Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let mut call = HttpCall::new(parts.method.as_str(), &parts.uri.to_string()).body(body.to_vec());
        for (name, value) in &parts.headers {
            if let Ok(value) = value.to_str() {
                call.headers.push((name.as_str().to_owned(), value.to_owned()));
            }
        }
        self.dispatch(call).await
    }

    /// Deletes the table, queues and secrets (best effort: the emulators may
    /// be gone already), so that a long run does not fill DynamoDB Local.
    pub async fn remove(&self) {
        let table = &self.stack.table_name;
        if let Err(err) = self.plain.dynamodb().delete_table().table_name(table).send().await {
            eprintln!("shop-bench: could not delete table {table}: {err}");
        }
        for url in self.stack.queue_urls.values() {
            let _ = self.plain.sqs().delete_queue().queue_url(url).send().await;
        }
        for id in self.stack.secret_ids.values() {
            let _ = self
                .plain
                .secrets()
                .delete_secret()
                .secret_id(id)
                .force_delete_without_recovery(true)
                .send()
                .await;
        }
    }
}

/// The queue pollers and stream readers of a stack.
#[derive(Default)]
pub struct EventSources {
    queues: Vec<QueuePoller>,
    streams: Vec<StreamPoller>,
}

impl EventSources {
    /// Reads the streams and the queues, delivering what they hold, until a
    /// round finds nothing; returns how many records and messages there were.
    pub async fn settle(&self) -> Result<usize, BoxError> {
        let mut total = 0;
        for _ in 0..50 {
            let mut round = 0;
            for stream in &self.streams {
                round += stream.poll_once().await?.read;
            }
            for queue in &self.queues {
                round += queue.poll_once(0).await?.received;
            }
            if round == 0 {
                return Ok(total);
            }
            total += round;
        }
        Err("the event sources kept finding messages after 50 rounds".into())
    }

    /// Polls in the background, as the running stack does, until `shutdown`.
    pub fn run(self, shutdown: &Shutdown) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        for stream in self.streams {
            tasks.push(tokio::spawn(stream.run(shutdown.clone().wait())));
        }
        for queue in self.queues {
            tasks.push(tokio::spawn(queue.run(shutdown.clone().wait())));
        }
        tasks
    }
}

/// The webhook endpoint of a stack; dropping it stops serving.
pub struct Webhooks {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Webhooks {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
