use lambda_runtime::{Error, service_fn};
use shop::aws::AwsClients;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shop::logging::init();
    let config = shop::Config::from_env()?;
    let clients = AwsClients::new(&config.endpoints).await;
    let app = daily_report::App::new(&config, &clients);
    lambda_runtime::run(service_fn(|event| daily_report::handle(&app, event))).await
}
