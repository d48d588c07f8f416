#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop::lambda::run_events::<aws_lambda_events::event::dynamodb::Event, _>(outbox_dispatcher::App::new).await
}
