//! The functions' own environment against the local emulators, resolved by
//! the local runner's provisioning in-process, so that the bench reads
//! `template.yaml` exactly as `make dev` (`shop-local env`, `shop-local seed`) does.

use std::collections::BTreeMap;

use shop::aws::AwsClients;
use shop_local::provision::{endpoints_from_env, local_parameters};
use shop_local::{Functions, Stack, Template};

use crate::BoxError;

/// The name prefix of everything the bench provisions (tables, queues,
/// secrets), apart from what `make dev` or the tests create on the same stack.
pub const PREFIX: &str = "shop-bench";

/// The template provisioned under [`PREFIX`] (what exists already is kept).
pub struct Environments {
    stack: Stack,
    clients: AwsClients,
}

impl Environments {
    /// Checks that the emulators' endpoints are in the environment, then
    /// provisions the table, queues and secrets.
    pub async fn provision() -> Result<Self, BoxError> {
        let endpoints = endpoints_from_env();
        let missing: Vec<_> = [
            ("DYNAMODB_ENDPOINT", endpoints.dynamodb.is_none()),
            ("SQS_ENDPOINT", endpoints.sqs.is_none()),
            ("SECRETSMANAGER_ENDPOINT", endpoints.secrets_manager.is_none()),
        ]
        .into_iter()
        .filter(|(_, missing)| *missing)
        .map(|(name, _)| name)
        .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{} not set: run the bench against emulators, e.g. `scripts/with-stack.sh cargo run --release -p shop-bench -- cold-start`",
                missing.join(", ")
            )
            .into());
        }
        let clients = AwsClients::new(&endpoints).await;
        let template = Template::load(&Template::default_path())?;
        let parameters = local_parameters(&template);
        let stack = Stack::provision(template, &clients, PREFIX, parameters, endpoints).await?;
        Ok(Self { stack, clients })
    }

    /// The function's environment with the emulators' endpoints (`shop-local env FUNCTION`).
    pub fn environment(&self, function: &str) -> Result<BTreeMap<String, String>, BoxError> {
        let definition = self
            .stack
            .function(function)
            .ok_or_else(|| format!("template.yaml has no function {function}"))?;
        self.stack.local_environment(definition)
    }

    /// Loads the demo catalog and accounts (`shop-local seed`).
    pub async fn seed(&self) -> Result<(), BoxError> {
        let functions = Functions::new(&self.stack, &self.clients)?;
        let report = shop_local::seed::seed(functions.catalog_api().catalog()).await?;
        eprintln!(
            "shop-bench: demo catalog: {} products created, {} already present",
            report.products_created, report.products_present
        );
        Ok(())
    }
}
