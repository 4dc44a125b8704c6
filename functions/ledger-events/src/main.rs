//! ledger-events (SPEC 13.5): the ledger's stream in, domain events on EventBridge out.

use lambda_runtime::{Error, run, service_fn};
use ledger_events::{Publisher, handle};
use skypay::telemetry;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    // The EventBridge client is built once, outside the handler.
    let publisher = Publisher::from_env()?;
    run(service_fn(|event| handle(&publisher, event))).await
}
