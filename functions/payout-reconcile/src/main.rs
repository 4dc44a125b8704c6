//! payout-reconcile (SPEC 13.6): on EventBridge Scheduler's schedules, `{"run": "payouts"}`
//! every 30 minutes and `{"run": "daily"}` after midnight Manila.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use skypay::aws::dynamo;
use skypay::outbound::reconcile::Reconciler;
use skypay::protocol::time::SystemClock;
use skypay::{Config, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    // The DynamoDB and SkyPay clients are built once, outside the handler.
    let ledger = dynamo::ledger_from_env(&config)?;
    let reconciler = Reconciler::new(config, ledger, Arc::new(SystemClock))?;
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let reconciler = reconciler.clone();
        async move {
            reconciler
                .handle(&event.payload, &event.context.request_id)
                .await
        }
    }))
    .await
}
