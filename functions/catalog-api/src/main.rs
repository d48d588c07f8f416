#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shop::lambda::run_http(catalog_api::App::new).await
}
