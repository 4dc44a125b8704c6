//! financeNotification (SPEC 13): SkyPay calls this Lambda through API Gateway.

use lambda_http::{Error, run, service_fn};
use skypay::{Action, Config, Gateway, lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    // The DynamoDB client is built once, outside the handler.
    let gateway = Gateway::from_config(config)?;
    run(service_fn(|request| {
        lambda::respond(&gateway, Action::FinanceNotification, request)
    }))
    .await
}
