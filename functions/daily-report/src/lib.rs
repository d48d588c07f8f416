//! `daily-report`: once a day, the previous UTC day's orders rolled up into one
//! report item, and low-stock alerts for the operations address.

use lambda_runtime::{Error, LambdaEvent};
use shop::Config;
use shop::aws::AwsClients;
use shop::domain::Timestamp;
use shop::lambda::{BoxFuture, Handler};
use shop::reports::{ReportRun, Reports};

#[derive(Debug)]
pub struct App {
    reports: Reports,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            reports: Reports::from_config(config, clients),
        }
    }
}

/// Reports on the day before the event's `time` (EventBridge runs it half an hour after
/// midnight UTC); `detail.date` (`YYYY-MM-DD`) asks for a given day instead.
impl Handler<serde_json::Value> for App {
    type Output = ReportRun;

    fn handle(&self, event: LambdaEvent<serde_json::Value>) -> BoxFuture<'_, Result<ReportRun, Error>> {
        Box::pin(async move {
            let date = match event.payload["detail"]["date"].as_str() {
                Some(date) => date.to_owned(),
                None => {
                    let at = event.payload["time"]
                        .as_str()
                        .and_then(|t| Timestamp::parse(t).ok())
                        .unwrap_or_else(Timestamp::now);
                    at.plus_seconds(-24 * 3600).to_string()[..10].to_owned()
                }
            };
            Ok(self.reports.run(&date).await?)
        })
    }
}
