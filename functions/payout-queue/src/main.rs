//! payout-queue (SPEC section 7): payout instructions from SQS, pushed to SkyPay's payoutQueue.

use lambda_runtime::{Error, run, service_fn};
use skypay::aws::{dynamo, lambda};
use skypay::outbound::push::PayoutQueue;
use skypay::{Config, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    config.require_skypay_api()?;
    // The DynamoDB and SkyPay clients are built once, outside the handler.
    let ledger = dynamo::ledger_from_env(&config)?;
    let queue = PayoutQueue::new(config, ledger)?;
    run(service_fn(|event| {
        lambda::handle_sqs(event, |id, body| queue.clone().process_message(id, body))
    }))
    .await
}
