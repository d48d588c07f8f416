#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop::lambda::run_http(cart_api::App::new).await
}
