//! The world's DynamoDB: the embedded dynoxide in process (skypay-local's own transport), under
//! a fault layer the seed drives. The ledger code and its `aws-sdk-dynamodb` calls are the
//! production ones; only what happens to a request on its way differs.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use skypay::Ledger;

/// What happens to one DynamoDB request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DdbFault {
    /// The next write is applied and its answer never arrives (a timeout): the SDK retries it.
    LoseAnswer,
    /// The next request is refused as throttled (HTTP 400 ProvisionedThroughputExceeded),
    /// nothing applied: the SDK retries it.
    Throttle,
    /// The next request gets HTTP 500, nothing applied: the SDK retries it.
    ServerError,
    /// The next write is applied, then the function is killed before it reads the answer: the
    /// call fails (no retry) and the world drops every service's memory after the step.
    Crash,
    /// The function is killed just before its next write (after a push reached SkyPay, before
    /// its outcome is recorded): nothing applied, the call fails, memory dropped.
    CrashBeforeWrite,
}

impl DdbFault {
    fn needs_write(self) -> bool {
        matches!(
            self,
            DdbFault::LoseAnswer | DdbFault::Crash | DdbFault::CrashBeforeWrite
        )
    }
}

/// The faults waiting for the next requests, and whether a crash happened.
#[derive(Clone, Debug, Default)]
pub struct DdbFaults {
    inner: Arc<Mutex<FaultState>>,
}

#[derive(Debug, Default)]
struct FaultState {
    next: VecDeque<DdbFault>,
    crashed: bool,
    /// The bodies of the writes sent since the last [`DdbFaults::take_written`]: the checks
    /// read again only the payouts and contracts they name.
    written: Vec<String>,
}

impl DdbFaults {
    pub fn push(&self, fault: DdbFault) {
        self.inner.lock().unwrap().next.push_back(fault);
    }

    /// Drops the faults no request met: how many there were, and whether a crash happened
    /// since the last call.
    pub fn clear(&self) -> (usize, bool) {
        let mut state = self.inner.lock().unwrap();
        let unmet = state.next.len();
        state.next.clear();
        (unmet, std::mem::take(&mut state.crashed))
    }

    /// The write bodies sent since the last call.
    pub fn take_written(&self) -> Vec<String> {
        std::mem::take(&mut self.inner.lock().unwrap().written)
    }

    /// The fault for a request of `operation`, taken off the queue.
    fn take(&self, operation: &str, body: &[u8]) -> Option<DdbFault> {
        let mut state = self.inner.lock().unwrap();
        let write = skypay_local::embedded::is_write(operation);
        if write {
            state
                .written
                .push(String::from_utf8_lossy(body).into_owned());
        }
        let position = state.next.iter().position(|f| write || !f.needs_write())?;
        let fault = state.next.remove(position)?;
        if matches!(fault, DdbFault::Crash | DdbFault::CrashBeforeWrite) {
            state.crashed = true;
        }
        Some(fault)
    }
}

#[derive(Clone)]
struct Faulty {
    inner: SharedHttpConnector,
    faults: DdbFaults,
}

impl std::fmt::Debug for Faulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Faulty(embedded ledger)")
    }
}

fn refusal(status: u16, kind: &str) -> Result<HttpResponse, ConnectorError> {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
        "message": "injected by the simulation",
    })
    .to_string();
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).map_err(|e| ConnectorError::other(e.into(), None))?,
        SdkBody::from(body),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    Ok(response)
}

/// The function killed: a connector error the SDK does not retry.
fn killed() -> ConnectorError {
    ConnectorError::other("the simulation killed the function".into(), None)
}

impl HttpConnector for Faulty {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = skypay_local::embedded::operation(&request);
        let body = request.body().bytes().unwrap_or_default();
        match self.faults.take(&operation, body) {
            None => self.inner.call(request),
            Some(DdbFault::Throttle) => {
                HttpConnectorFuture::ready(refusal(400, "ProvisionedThroughputExceededException"))
            }
            Some(DdbFault::ServerError) => {
                HttpConnectorFuture::ready(refusal(500, "InternalServerError"))
            }
            Some(DdbFault::CrashBeforeWrite) => HttpConnectorFuture::ready(Err(killed())),
            Some(fault @ (DdbFault::LoseAnswer | DdbFault::Crash)) => {
                // Applied; what comes back is not its answer.
                let applied = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    let _ = applied.await;
                    Err(match fault {
                        DdbFault::LoseAnswer => {
                            ConnectorError::timeout("the simulation lost the answer".into())
                        }
                        _ => killed(),
                    })
                })
            }
        }
    }
}

pub const TABLE: &str = "skypay-ledger";

/// A ledger on `db` whose requests meet `faults`: the production client (its timeouts and
/// three attempts), with the retries' backoff taken out so that a run never sleeps.
pub fn ledger(db: &dynoxide::Database, faults: &DdbFaults) -> Ledger {
    let (inner, _) = skypay_local::embedded::connector(db.clone());
    let connector = SharedHttpConnector::new(Faulty {
        inner,
        faults: faults.clone(),
    });
    let client = skypay::aws::dynamo::client_for_endpoint_over(
        http_client_fn(move |_, _| connector.clone()),
        skypay_local::embedded::ENDPOINT,
        crate::PATIENT,
    );
    let config = client
        .config()
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::ZERO),
        )
        .build();
    Ledger::new(aws_sdk_dynamodb::Client::from_conf(config), TABLE)
}
