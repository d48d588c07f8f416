#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop::lambda::run_events::<serde_json::Value, _>(daily_report::App::new).await
}
