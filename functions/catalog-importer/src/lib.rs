//! `catalog-importer`: the SQS consumer that applies catalog import files.
//! A message names an import; the run claims it with a lease, applies the
//! file from its checkpoint on and, when its time is up, queues a
//! continuation. A duplicate message finds the import held or finished and
//! changes nothing; a failed run's message comes back and resumes.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::consumer::{self, RecordError};
use shop::imports::{ImportMessage, Imports};
use shop::lambda::{BoxFuture, Handler};

#[derive(Debug)]
pub struct App {
    imports: Imports,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            imports: Imports::from_config(config, clients),
        }
    }

    pub fn imports(&self) -> &Imports {
        &self.imports
    }
}

impl Handler<SqsEvent> for App {
    type Output = SqsBatchResponse;

    fn handle(&self, event: LambdaEvent<SqsEvent>) -> BoxFuture<'_, Result<SqsBatchResponse, Error>> {
        Box::pin(consumer::messages(
            event.payload,
            "import message",
            move |message: ImportMessage| async move {
                Box::pin(self.imports.run(&message)).await.map_err(RecordError::failed)
            },
        ))
    }
}
