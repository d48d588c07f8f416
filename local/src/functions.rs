//! Every function of the template, built in-process with the configuration the
//! template gives it, and called the way the Lambda runtime would.

use lambda_http::{Body, Request, Response};
use shop::aws::AwsClients;

use crate::provision::{BoxError, Stack};

/// The function states, one per function of the template.
#[derive(Debug)]
pub struct Functions {
    users_api: users_api::App,
    catalog_api: catalog_api::App,
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
        })
    }

    pub fn users_api(&self) -> &users_api::App {
        &self.users_api
    }

    pub fn catalog_api(&self) -> &catalog_api::App {
        &self.catalog_api
    }

    /// Invokes the HTTP function `binary` with an API Gateway request.
    pub async fn call_http(&self, binary: &str, request: Request) -> Result<Response<Body>, BoxError> {
        match binary {
            "users-api" => Ok(users_api::handle(&self.users_api, request).await?),
            "catalog-api" => Ok(catalog_api::handle(&self.catalog_api, request).await?),
            other => Err(format!("no HTTP function named {other}").into()),
        }
    }
}
