#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop::lambda::run_http(users_api::App::new).await
}
