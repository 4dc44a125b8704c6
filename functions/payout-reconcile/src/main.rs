//! payout-reconcile (SPEC 13.6): on EventBridge Scheduler's schedules, `{"run": "payouts"}`
//! every 30 minutes and `{"run": "daily"}` after midnight Manila.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use skypay::reconcile::Reconciler;
use skypay::time::SystemClock;
use skypay::{Config, Ledger, dynamo, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env()?;
    // The DynamoDB and SkyPay clients are built once, outside the handler.
    let ledger = Ledger::new(dynamo::client_from_env()?, config.table_name.as_str());
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
