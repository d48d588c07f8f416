//! Every function of the template, built in-process with the configuration the
//! template gives it, and called the way the Lambda runtime would. Adding a
//! function to the stack is one line in [`Functions::new`].

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::{Body, Request, Response};
use shop::Config;
use shop::aws::AwsClients;
use shop::lambda::{Api, BoxFuture, Handler};

use crate::provision::{BoxError, Stack};

type SqsFunction = dyn Handler<SqsEvent, Output = SqsBatchResponse>;
type StreamFunction = dyn Handler<StreamEvent, Output = DynamoDbEventResponse>;

/// A scheduled function, whatever its report: its output as JSON.
trait Job: Send + Sync {
    fn run(&self, event: LambdaEvent<serde_json::Value>) -> BoxFuture<'_, Result<serde_json::Value, BoxError>>;
}

impl<H: Handler<serde_json::Value>> Job for H {
    fn run(&self, event: LambdaEvent<serde_json::Value>) -> BoxFuture<'_, Result<serde_json::Value, BoxError>> {
        Box::pin(async move { Ok(serde_json::to_value(self.handle(event).await?)?) })
    }
}

/// How one function is invoked.
enum Trigger {
    Http(Arc<dyn Api>),
    Sqs(Arc<SqsFunction>),
    Job(Arc<dyn Job>),
    Stream(Arc<StreamFunction>),
}

struct Function {
    trigger: Trigger,
    /// The function's state, for callers that need its services.
    state: Arc<dyn Any + Send + Sync>,
}

/// The function states, one per function of the template.
pub struct Functions {
    functions: BTreeMap<&'static str, Function>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.functions.keys()).finish()
    }
}

/// Builds functions with the configuration the template gives each.
struct Registry<'a> {
    stack: &'a Stack,
    clients: &'a AwsClients,
    functions: BTreeMap<&'static str, Function>,
}

impl Registry<'_> {
    fn config(&self, binary: &str) -> Result<Config, BoxError> {
        let function = self
            .stack
            .function(binary)
            .ok_or_else(|| format!("template.yaml has no function {binary}"))?;
        self.stack.config(function)
    }

    fn add<T: Send + Sync + 'static>(
        &mut self,
        binary: &'static str,
        build: fn(&Config, &AwsClients) -> T,
        trigger: impl FnOnce(Arc<T>) -> Trigger,
    ) -> Result<&mut Self, BoxError> {
        let state = Arc::new(build(&self.config(binary)?, self.clients));
        let function = Function {
            trigger: trigger(state.clone()),
            state,
        };
        self.functions.insert(binary, function);
        Ok(self)
    }

    fn http<A: Api + 'static>(
        &mut self,
        binary: &'static str,
        build: fn(&Config, &AwsClients) -> A,
    ) -> Result<&mut Self, BoxError> {
        self.add(binary, build, |app| Trigger::Http(app))
    }

    fn sqs<H: Handler<SqsEvent, Output = SqsBatchResponse> + 'static>(
        &mut self,
        binary: &'static str,
        build: fn(&Config, &AwsClients) -> H,
    ) -> Result<&mut Self, BoxError> {
        self.add(binary, build, |app| Trigger::Sqs(app))
    }

    fn job<H: Handler<serde_json::Value> + 'static>(
        &mut self,
        binary: &'static str,
        build: fn(&Config, &AwsClients) -> H,
    ) -> Result<&mut Self, BoxError> {
        self.add(binary, build, |app| Trigger::Job(app))
    }

    fn stream<H: Handler<StreamEvent, Output = DynamoDbEventResponse> + 'static>(
        &mut self,
        binary: &'static str,
        build: fn(&Config, &AwsClients) -> H,
    ) -> Result<&mut Self, BoxError> {
        self.add(binary, build, |app| Trigger::Stream(app))
    }
}

impl Functions {
    pub fn new(stack: &Stack, clients: &AwsClients) -> Result<Self, BoxError> {
        let mut registry = Registry {
            stack,
            clients,
            functions: BTreeMap::new(),
        };
        registry
            .http("users-api", users_api::App::new)?
            .http("catalog-api", catalog_api::App::new)?
            .http("cart-api", cart_api::App::new)?
            .http("orders-api", orders_api::App::new)?
            .http("admin-api", admin_api::App::new)?
            .http("payments-api", payments_api::App::new)?
            .sqs("inventory-reservation", inventory_reservation::App::new)?
            .sqs("order-fulfillment", order_fulfillment::App::new)?
            .sqs("notifications", notifications::App::new)?
            .sqs("catalog-importer", catalog_importer::App::new)?
            .job("order-sweeper", order_sweeper::App::new)?
            .job("daily-report", daily_report::App::new)?
            .stream("outbox-dispatcher", outbox_dispatcher::App::new)?;
        Ok(Self {
            functions: registry.functions,
        })
    }

    /// The state of function `binary`, as its own type (`orders_api::App`, …).
    pub fn app<T: 'static>(&self, binary: &str) -> Option<&T> {
        self.functions.get(binary)?.state.downcast_ref()
    }

    pub fn catalog_api(&self) -> &catalog_api::App {
        self.app("catalog-api").expect("catalog-api is registered")
    }

    pub fn orders_api(&self) -> &orders_api::App {
        self.app("orders-api").expect("orders-api is registered")
    }

    pub fn users_api(&self) -> &users_api::App {
        self.app("users-api").expect("users-api is registered")
    }

    fn trigger(&self, binary: &str) -> Result<&Trigger, BoxError> {
        Ok(&self
            .functions
            .get(binary)
            .ok_or_else(|| format!("no function named {binary}"))?
            .trigger)
    }

    /// Invokes the HTTP function `binary` with an API Gateway request.
    pub async fn call_http(&self, binary: &str, request: Request) -> Result<Response<Body>, BoxError> {
        match self.trigger(binary)? {
            Trigger::Http(api) => Ok(shop::lambda::handle_http(api.as_ref(), request).await?),
            _ => Err(format!("{binary} is not an HTTP function").into()),
        }
    }

    /// Invokes the SQS consumer `binary` with a batch.
    pub async fn call_sqs(&self, binary: &str, event: SqsEvent) -> Result<SqsBatchResponse, BoxError> {
        match self.trigger(binary)? {
            Trigger::Sqs(consumer) => Ok(consumer.handle(LambdaEvent::new(event, Context::default())).await?),
            _ => Err(format!("{binary} is not an SQS consumer").into()),
        }
    }

    /// Invokes the scheduled function `binary` with a scheduled event; returns what it returned.
    pub async fn call_job(&self, binary: &str, event: serde_json::Value) -> Result<serde_json::Value, BoxError> {
        match self.trigger(binary)? {
            Trigger::Job(job) => job.run(LambdaEvent::new(event, Context::default())).await,
            _ => Err(format!("{binary} is not a scheduled function").into()),
        }
    }

    /// Invokes the stream consumer `binary` with a batch of the table's stream records.
    pub async fn call_stream(&self, binary: &str, event: StreamEvent) -> Result<DynamoDbEventResponse, BoxError> {
        match self.trigger(binary)? {
            Trigger::Stream(consumer) => Ok(consumer.handle(LambdaEvent::new(event, Context::default())).await?),
            _ => Err(format!("{binary} is not a stream consumer").into()),
        }
    }
}
