//! The embedded ledger's transport: the SDK's HTTP client, in process.
//!
//! `aws-sdk-dynamodb` sends every request to an [`HttpClient`]; this one hands the request to
//! the embedded emulator's [`dynoxide::Database`] inside the process and returns its answer, so
//! no socket is ever opened. The emulator's own HTTP server never checks signatures: served on
//! a loopback port, it let any local process read and rewrite the ledger (issue 13). Here there
//! is no port at all. The ledger code and the `aws-sdk-dynamodb` calls are the same as in every
//! other mode; only the transport under the SDK differs.
//!
//! Two more things happen here, both measured (BENCHMARKS.md):
//!
//! - `TransactWriteItems` loses its `ClientRequestToken` on the way in. The token only helps
//!   when an answer can be lost between the SDK and the server, which cannot happen in process;
//!   the emulator keeps every token for DynamoDB's ten-minute window and scans the whole cache on
//!   each transaction, which slowed a sustained collection load from 544 to 70 calls/s. The
//!   ledger's own tokens (`docs/ledger.md`) still make an SDK retry of an applied write
//!   recognise itself.
//! - Each write's outcome is kept, so `/healthz` can say whether the ledger can be written
//!   without writing on every probe.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use dynoxide::Database;

/// The address the SDK is given for the embedded ledger. Nothing listens there: requests never
/// leave the process (`.invalid` can never resolve, should one ever try).
pub const ENDPOINT: &str = "http://embedded-ledger.invalid";

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Whether the last write reached the ledger's storage.
#[derive(Clone, Debug, Default)]
pub struct WriteHealth {
    inner: Arc<Mutex<HealthState>>,
}

#[derive(Debug, Default)]
struct HealthState {
    /// The last write that failed in storage (disk full, I/O error), when no write has
    /// succeeded since: when, and what the emulator said.
    failing: Option<(Instant, String)>,
}

impl WriteHealth {
    /// `None` when the ledger takes writes; else how long ago a write last failed, and why.
    pub fn failing(&self) -> Option<(std::time::Duration, String)> {
        let state = self.inner.lock().ok()?;
        state
            .failing
            .as_ref()
            .map(|(at, why)| (at.elapsed(), why.clone()))
    }

    fn record(&self, result: Result<(), String>) {
        if let Ok(mut state) = self.inner.lock() {
            match result {
                Ok(()) => state.failing = None,
                Err(why) => state.failing = Some((Instant::now(), why)),
            }
        }
    }
}

/// The SDK client for the embedded `db`, and the health of its writes.
pub fn client(db: Database) -> (SharedHttpClient, WriteHealth) {
    let (connector, health) = connector(db);
    (http_client_fn(move |_, _| connector.clone()), health)
}

/// The connector under [`client`]: the simulation wraps it in its fault layer.
pub fn connector(db: Database) -> (SharedHttpConnector, WriteHealth) {
    let health = WriteHealth::default();
    let connector = SharedHttpConnector::new(InProcess {
        db,
        health: health.clone(),
    });
    (connector, health)
}

#[derive(Clone)]
struct InProcess {
    db: Database,
    health: WriteHealth,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess(embedded ledger)")
    }
}

/// The DynamoDB operation a request of the SDK names (`X-Amz-Target: DynamoDB_20120810.PutItem`).
pub fn operation(request: &HttpRequest) -> String {
    request
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("")
        .to_owned()
}

/// Whether `operation` writes.
pub fn is_write(operation: &str) -> bool {
    WRITES.contains(&operation)
}

impl HttpConnector for InProcess {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = operation(&request);
        let body = request.body().bytes().unwrap_or_default().to_vec();
        let this = self.clone();
        HttpConnectorFuture::new(async move {
            // SQLite blocks (it waits for the disk on every commit): off the async threads.
            let answer =
                tokio::task::spawn_blocking(move || this.dispatch(&operation, &body)).await;
            let (status, json) = answer.map_err(|e| ConnectorError::other(e.into(), None))?;
            let status =
                StatusCode::try_from(status).map_err(|e| ConnectorError::other(e.into(), None))?;
            let mut response = HttpResponse::new(status, SdkBody::from(json));
            response.headers_mut().insert("content-type", CONTENT_TYPE);
            Ok(response)
        })
    }
}

/// The operations the ledger and the local server use. Anything else is refused the way
/// DynamoDB refuses an operation it does not know.
const WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "TransactWriteItems",
    "BatchWriteItem",
];

impl InProcess {
    /// One request: its operation and JSON body in, the HTTP status and JSON answer out, as the
    /// emulator's HTTP server would answer.
    fn dispatch(&self, operation: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let result = self.run(operation, body);
        if is_write(operation) {
            match &result {
                Ok(_) => self.health.record(Ok(())),
                Err(Failure::Emulator(e)) if e.status_code() >= 500 => {
                    self.health.record(Err(e.to_string()));
                }
                Err(_) => {}
            }
        }
        match result {
            Ok(json) => (200, json),
            Err(Failure::Emulator(e)) => (e.status_code(), e.to_json().into_bytes()),
            Err(Failure::Request(kind, message)) => (
                400,
                serde_json::json!({"__type": format!("com.amazon.coral.service#{kind}"), "message": message})
                    .to_string()
                    .into_bytes(),
            ),
        }
    }

    fn run(&self, operation: &str, body: &[u8]) -> Result<Vec<u8>, Failure> {
        use dynoxide::actions::*;
        let db = &self.db;
        macro_rules! call {
            ($method:ident, $request:ty) => {{
                let request: $request = read(body)?;
                answer(&db.$method(request)?)
            }};
        }
        match operation {
            "CreateTable" => call!(create_table, create_table::CreateTableRequest),
            "DescribeTable" => call!(describe_table, describe_table::DescribeTableRequest),
            "DeleteTable" => call!(delete_table, delete_table::DeleteTableRequest),
            "ListTables" => call!(list_tables, list_tables::ListTablesRequest),
            "UpdateTimeToLive" => call!(
                update_time_to_live,
                update_time_to_live::UpdateTimeToLiveRequest
            ),
            "DescribeTimeToLive" => call!(
                describe_time_to_live,
                describe_time_to_live::DescribeTimeToLiveRequest
            ),
            "GetItem" => call!(get_item, get_item::GetItemRequest),
            "PutItem" => call!(put_item, put_item::PutItemRequest),
            "UpdateItem" => call!(update_item, update_item::UpdateItemRequest),
            "DeleteItem" => call!(delete_item, delete_item::DeleteItemRequest),
            "Query" => call!(query, query::QueryRequest),
            "Scan" => call!(scan, scan::ScanRequest),
            "BatchWriteItem" => call!(batch_write_item, batch_write_item::BatchWriteItemRequest),
            "TransactWriteItems" => {
                let mut request: transact_write_items::TransactWriteItemsRequest = read(body)?;
                // See the module's documentation: no answer can be lost in process.
                request.client_request_token = None;
                answer(&db.transact_write_items(request)?)
            }
            _ => Err(Failure::Request(
                "UnknownOperationException",
                format!("{operation} is not served by the embedded ledger"),
            )),
        }
    }
}

enum Failure {
    Emulator(dynoxide::DynoxideError),
    Request(&'static str, String),
}

impl From<dynoxide::DynoxideError> for Failure {
    fn from(e: dynoxide::DynoxideError) -> Failure {
        Failure::Emulator(e)
    }
}

fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| {
        // The emulator marks its own refusals inside serde's message; keep the words only.
        let message = e.to_string();
        let message = message
            .split_once("VALIDATION:")
            .map_or(message.as_str(), |(_, rest)| rest)
            .to_owned();
        Failure::Request("ValidationException", message)
    })
}

fn answer<T: serde::Serialize>(response: &T) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(response)
        .map_err(|e| Failure::Emulator(dynoxide::DynoxideError::InternalServerError(e.to_string())))
}
