#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop::lambda::run_http(orders_api::App::new).await
}
