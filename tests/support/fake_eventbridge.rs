//! A fake EventBridge on loopback: it takes `PutEvents` (awsJson 1.1) as the real one does,
//! keeps every entry it accepted and how entries were batched, and refuses the entries the test
//! scripts (by detail-type, for a number of tries), answering `FailedEntryCount` as EventBridge
//! does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::oneshot;

#[derive(Clone, Default)]
struct Shared {
    accepted: Arc<Mutex<Vec<Value>>>,
    batches: Arc<Mutex<Vec<usize>>>,
    /// detail-type -> how many more tries its entries are refused (u32::MAX: always).
    refuse: Arc<Mutex<HashMap<String, u32>>>,
}

pub struct FakeEventBridge {
    pub url: String,
    shared: Shared,
    _stop: oneshot::Sender<()>,
}

impl FakeEventBridge {
    pub async fn start() -> FakeEventBridge {
        let shared = Shared::default();
        let app = Router::new()
            .route("/", post(put_events))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = crate::serve_until_stopped(listener, app);
        FakeEventBridge {
            url,
            shared,
            _stop: stop,
        }
    }

    /// Refuse entries of `detail_type` for the next `tries` calls that carry them.
    pub fn refuse(&self, detail_type: &str, tries: u32) {
        self.shared
            .refuse
            .lock()
            .unwrap()
            .insert(detail_type.to_owned(), tries);
    }

    /// Every entry accepted so far, with `Detail` parsed.
    pub fn accepted(&self) -> Vec<Value> {
        self.shared.accepted.lock().unwrap().clone()
    }

    /// The number of entries in each PutEvents call.
    pub fn batches(&self) -> Vec<usize> {
        self.shared.batches.lock().unwrap().clone()
    }

    /// An EventBridge client of the SDK, on the gateway's shared AWS settings, pointed here.
    pub fn client(&self) -> aws_sdk_eventbridge::Client {
        let url = self.url.clone();
        let source = move |name: &str| match name {
            "AWS_REGION" => Some("ap-southeast-1".to_owned()),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("test".to_owned()),
            "AWS_ENDPOINT_URL_EVENTBRIDGE" => Some(url.clone()),
            _ => None,
        };
        let sdk = skypay::aws::dynamo::sdk_config_from(&source, "AWS_ENDPOINT_URL_EVENTBRIDGE")
            .expect("AWS settings");
        aws_sdk_eventbridge::Client::new(&sdk)
    }
}

async fn put_events(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if target != "AWSEvents.PutEvents" {
        return (axum::http::StatusCode::BAD_REQUEST, "unknown target").into_response();
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let entries = request["Entries"].as_array().cloned().unwrap_or_default();
    shared.batches.lock().unwrap().push(entries.len());
    let mut results = Vec::new();
    let mut failed = 0;
    for entry in entries {
        let detail_type = entry["DetailType"].as_str().unwrap_or("").to_owned();
        let refused = {
            let mut refuse = shared.refuse.lock().unwrap();
            match refuse.get_mut(&detail_type) {
                Some(0) | None => false,
                Some(n) => {
                    if *n != u32::MAX {
                        *n -= 1;
                    }
                    true
                }
            }
        };
        if refused {
            failed += 1;
            results.push(json!({"ErrorCode": "InternalFailure", "ErrorMessage": "scripted"}));
        } else {
            let mut kept = entry.clone();
            kept["Detail"] = serde_json::from_str(entry["Detail"].as_str().unwrap_or("null"))
                .unwrap_or(Value::Null);
            let id = format!("e-{}", shared.accepted.lock().unwrap().len());
            shared.accepted.lock().unwrap().push(kept);
            results.push(json!({"EventId": id}));
        }
    }
    (
        [("content-type", "application/x-amz-json-1.1")],
        json!({"FailedEntryCount": failed, "Entries": results}).to_string(),
    )
        .into_response()
}
