//! payoutInquiry (SPEC 13): SkyPay calls this Lambda through API Gateway.

use lambda_http::{Error, run, service_fn};
use skypay::aws::{dynamo, lambda};
use skypay::{Action, Config, Gateway, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    // The DynamoDB client is built once, outside the handler.
    let ledger = dynamo::ledger_from_env(&config)?;
    let gateway = Gateway::new(config, ledger);
    run(service_fn(|request| {
        lambda::respond(&gateway, Action::PayoutInquiry, request)
    }))
    .await
}
