//! A loopback HTTP proxy in front of a DynamoDB API: it counts the requests that reach the
//! server (by operation) and can inject faults (stall, slow, throttle, 500, lose the answer).
//! Tests use it in-process; `ddb-local` serves it as a program for the Lambda runtime emulator
//! checks and the benchmarks.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use tokio::sync::oneshot;

/// What the proxy does to the next requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// Accept the request and never answer.
    Stall,
    /// Wait, then forward.
    Slow(Duration),
    /// Answer as DynamoDB does when throttling (HTTP 400 ProvisionedThroughputExceeded).
    Throttle,
    /// Answer HTTP 500 InternalServerError.
    ServerError,
    /// Forward (so the write is applied), then never answer: the answer is lost.
    LoseAnswer,
    /// Like `LoseAnswer` for the next request only, then forward normally.
    LoseNextAnswer,
    /// Like `LoseNextAnswer`, for the next request of this operation (`TransactWriteItems`);
    /// the others before it are forwarded.
    LoseNextAnswerOf(&'static str),
}

struct ProxyState {
    upstream: String,
    fault: Mutex<Fault>,
    counts: Mutex<BTreeMap<String, u64>>,
    /// The IAM actions the requests needed (a transaction: those of its parts).
    actions: Mutex<std::collections::BTreeSet<String>>,
    client: reqwest::Client,
}

pub struct Proxy {
    pub url: String,
    pub addr: SocketAddr,
    state: Arc<ProxyState>,
    _stop: oneshot::Sender<()>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Proxy {
        Proxy::start_on("127.0.0.1:0".parse().unwrap(), upstream).await
    }

    pub async fn start_on(listen: SocketAddr, upstream: &str) -> Proxy {
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            fault: Mutex::new(Fault::None),
            counts: Mutex::new(BTreeMap::new()),
            actions: Mutex::new(std::collections::BTreeSet::new()),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap(),
        });
        let app = Router::new()
            .route("/__counts", get(counts))
            .route("/__counts/reset", post(reset))
            .fallback(any(forward))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = crate::serve_until_stopped(listener, app);
        Proxy {
            url: format!("http://{addr}"),
            addr,
            state,
            _stop: stop,
        }
    }

    pub fn set_fault(&self, fault: Fault) {
        *self.state.fault.lock().unwrap() = fault;
    }

    /// Requests that reached the server, by DynamoDB operation.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.state.counts.lock().unwrap().clone()
    }

    pub fn total(&self) -> u64 {
        self.counts().values().sum()
    }

    pub fn reset(&self) {
        self.state.counts.lock().unwrap().clear();
        self.state.actions.lock().unwrap().clear();
    }

    /// The IAM actions (`dynamodb:...`) the requests so far needed.
    pub fn iam_actions(&self) -> std::collections::BTreeSet<String> {
        self.state.actions.lock().unwrap().clone()
    }
}

async fn counts(State(state): State<Arc<ProxyState>>) -> Response {
    let counts = state.counts.lock().unwrap().clone();
    let actions = state.actions.lock().unwrap().clone();
    let total: u64 = counts.values().sum();
    axum::Json(serde_json::json!({"total": total, "byOperation": counts, "iamActions": actions}))
        .into_response()
}

async fn reset(State(state): State<Arc<ProxyState>>) -> Response {
    state.counts.lock().unwrap().clear();
    state.actions.lock().unwrap().clear();
    StatusCode::NO_CONTENT.into_response()
}

/// The IAM actions one request needs: `dynamodb:<Operation>`, or for a transaction those of
/// its parts (IAM checks a `TransactWriteItems` as the PutItem, UpdateItem, DeleteItem and
/// ConditionCheckItem it holds).
fn iam_actions(operation: &str, body: &[u8]) -> Vec<String> {
    if operation != "TransactWriteItems" {
        return vec![format!("dynamodb:{operation}")];
    }
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let mut actions: Vec<String> = parsed["TransactItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_object()?.keys().next().cloned())
        .map(|part| match part.as_str() {
            "ConditionCheck" => "dynamodb:ConditionCheckItem".to_owned(),
            other => format!("dynamodb:{other}Item"),
        })
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

fn dynamo_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/x-amz-json-1.0")],
        serde_json::json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message}).to_string(),
    )
        .into_response()
}

async fn forward(
    State(state): State<Arc<ProxyState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("(other)")
        .to_owned();
    let fault = {
        let mut fault = state.fault.lock().unwrap();
        match *fault {
            Fault::LoseNextAnswer => {
                *fault = Fault::None;
                Fault::LoseNextAnswer
            }
            Fault::LoseNextAnswerOf(op) if op == operation => {
                *fault = Fault::None;
                Fault::LoseNextAnswer
            }
            Fault::LoseNextAnswerOf(_) => Fault::None,
            other => other,
        }
    };
    match fault {
        Fault::Stall => std::future::pending::<()>().await,
        Fault::Throttle => {
            return dynamo_error(
                StatusCode::BAD_REQUEST,
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
            );
        }
        Fault::ServerError => {
            return dynamo_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Internal server error",
            );
        }
        Fault::Slow(wait) => tokio::time::sleep(wait).await,
        Fault::None | Fault::LoseAnswer | Fault::LoseNextAnswer | Fault::LoseNextAnswerOf(_) => {}
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = state
        .client
        .request(method, format!("{}{path}", state.upstream))
        .body(body.clone());
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    state
        .actions
        .lock()
        .unwrap()
        .extend(iam_actions(&operation, &body));
    *state.counts.lock().unwrap().entry(operation).or_insert(0) += 1;
    let upstream = match request.send().await {
        Ok(r) => r,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = upstream.status();
    let upstream_headers = upstream.headers().clone();
    let bytes = upstream.bytes().await.unwrap_or_default();
    if matches!(fault, Fault::LoseAnswer | Fault::LoseNextAnswer) {
        // The server applied the request; its answer never reaches the caller.
        std::future::pending::<()>().await;
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for (name, value) in &upstream_headers {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}
