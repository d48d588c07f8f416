//! Every function of the template, built in-process with the configuration the
//! template gives it, and called the way the Lambda runtime would.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::{Body, Request, Response};
use shop::aws::AwsClients;

use crate::provision::{BoxError, Stack};

/// The function states, one per function of the template.
#[derive(Debug)]
pub struct Functions {
    users_api: users_api::App,
    catalog_api: catalog_api::App,
    cart_api: cart_api::App,
    orders_api: orders_api::App,
    admin_api: admin_api::App,
    inventory_reservation: inventory_reservation::App,
    order_sweeper: order_sweeper::App,
    payments_api: payments_api::App,
    order_fulfillment: order_fulfillment::App,
    notifications: notifications::App,
    daily_report: daily_report::App,
}

impl Functions {
    pub fn new(stack: &Stack, clients: &AwsClients) -> Result<Self, BoxError> {
        let config = |binary: &str| -> Result<shop::Config, BoxError> {
            let function = stack
                .function(binary)
                .ok_or_else(|| format!("template.yaml has no function {binary}"))?;
            stack.config(function)
        };
        Ok(Self {
            users_api: users_api::App::new(&config("users-api")?, clients),
            catalog_api: catalog_api::App::new(&config("catalog-api")?, clients),
            cart_api: cart_api::App::new(&config("cart-api")?, clients),
            orders_api: orders_api::App::new(&config("orders-api")?, clients),
            admin_api: admin_api::App::new(&config("admin-api")?, clients),
            inventory_reservation: inventory_reservation::App::new(&config("inventory-reservation")?, clients),
            order_sweeper: order_sweeper::App::new(&config("order-sweeper")?, clients),
            payments_api: payments_api::App::new(&config("payments-api")?, clients),
            order_fulfillment: order_fulfillment::App::new(&config("order-fulfillment")?, clients),
            notifications: notifications::App::new(&config("notifications")?, clients),
            daily_report: daily_report::App::new(&config("daily-report")?, clients),
        })
    }

    pub fn users_api(&self) -> &users_api::App {
        &self.users_api
    }

    pub fn catalog_api(&self) -> &catalog_api::App {
        &self.catalog_api
    }

    pub fn orders_api(&self) -> &orders_api::App {
        &self.orders_api
    }

    /// Invokes the HTTP function `binary` with an API Gateway request.
    pub async fn call_http(&self, binary: &str, request: Request) -> Result<Response<Body>, BoxError> {
        match binary {
            "users-api" => Ok(users_api::handle(&self.users_api, request).await?),
            "catalog-api" => Ok(catalog_api::handle(&self.catalog_api, request).await?),
            "cart-api" => Ok(cart_api::handle(&self.cart_api, request).await?),
            "orders-api" => Ok(orders_api::handle(&self.orders_api, request).await?),
            "admin-api" => Ok(admin_api::handle(&self.admin_api, request).await?),
            "payments-api" => Ok(payments_api::handle(&self.payments_api, request).await?),
            other => Err(format!("no HTTP function named {other}").into()),
        }
    }

    /// Invokes the SQS consumer `binary` with a batch.
    pub async fn call_sqs(&self, binary: &str, event: SqsEvent) -> Result<SqsBatchResponse, BoxError> {
        let event = LambdaEvent::new(event, Context::default());
        match binary {
            "inventory-reservation" => Ok(inventory_reservation::handle(&self.inventory_reservation, event).await?),
            "order-fulfillment" => Ok(order_fulfillment::handle(&self.order_fulfillment, event).await?),
            "notifications" => Ok(notifications::handle(&self.notifications, event).await?),
            other => Err(format!("no SQS consumer named {other}").into()),
        }
    }

    /// Invokes the scheduled function `binary` with a scheduled event; returns what it returned.
    pub async fn call_job(&self, binary: &str, event: serde_json::Value) -> Result<serde_json::Value, BoxError> {
        let event = LambdaEvent::new(event, Context::default());
        match binary {
            "order-sweeper" => Ok(serde_json::to_value(
                order_sweeper::handle(&self.order_sweeper, event).await?,
            )?),
            "daily-report" => Ok(serde_json::to_value(
                daily_report::handle(&self.daily_report, event).await?,
            )?),
            other => Err(format!("no scheduled function named {other}").into()),
        }
    }
}
