//! partner-api (SPEC 13.5): the loan system's `/admin` routes, behind an HTTP API with IAM auth.

use lambda_http::{Error, run};
use skypay::aws::dynamo;
use skypay::aws::lambda::Callers;
use skypay::{Config, telemetry};
use skypay_admin::{AdminState, PendingRetry, only_for, router, sqs::SqsRetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    config.require_skypay_api()?;
    // The DynamoDB, SkyPay and SQS clients are built once, outside the handler.
    let ledger = dynamo::ledger_from_env(&config)?;
    let retry = PendingRetry::Sqs(SqsRetry::from_env()?);
    let callers = Callers::from_env()?;
    let state = AdminState::new(config, ledger, Some(retry), skypay_admin::BODY_TIMEOUT)?;
    run(only_for(router(state), callers)).await
}
