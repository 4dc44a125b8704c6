//! partner-api (SPEC 13.5): the loan system's `/admin` routes, behind an HTTP API with IAM auth.

use std::sync::Arc;

use lambda_http::{Error, run};
use skypay::lambda::Callers;
use skypay::{Config, Ledger, dynamo, telemetry};
use skypay_admin::{AdminState, only_for, router, sqs::SqsRetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    config.require_skypay_api()?;
    // The DynamoDB, SkyPay and SQS clients are built once, outside the handler.
    let ledger = Ledger::new(dynamo::client_from_env()?, config.table_name.as_str());
    let retry = Arc::new(SqsRetry::from_env()?);
    let callers = Callers::from_env()?;
    let state = AdminState::new(config, ledger, Some(retry), skypay_admin::BODY_TIMEOUT)?;
    run(only_for(router(state), callers)).await
}
