#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop::lambda::run_http(admin_api::App::new).await
}
