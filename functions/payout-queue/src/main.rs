//! payout-queue (SPEC section 7): payout instructions from SQS, pushed to SkyPay's payoutQueue.

use lambda_runtime::{Error, run, service_fn};
use skypay::actions::payout_queue::PayoutQueue;
use skypay::{Config, Ledger, dynamo, lambda, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    config.require_skypay_api()?;
    // The DynamoDB and SkyPay clients are built once, outside the handler.
    let ledger = Ledger::new(dynamo::client_from_env()?, config.table_name.as_str());
    let queue = PayoutQueue::new(config, ledger)?;
    run(service_fn(|event| lambda::handle_sqs(&queue, event))).await
}
