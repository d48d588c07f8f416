#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop::lambda::run_events::<aws_lambda_events::event::sqs::SqsEvent, _>(catalog_importer::App::new).await
}
