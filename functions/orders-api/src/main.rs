use lambda_http::{Error, service_fn};
use shop::aws::AwsClients;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shop::logging::init();
    let config = shop::Config::from_env()?;
    let clients = AwsClients::new(&config.endpoints).await;
    let app = orders_api::App::new(&config, &clients);
    lambda_http::run(service_fn(|request| orders_api::handle(&app, request))).await
}
