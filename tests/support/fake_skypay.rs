//! A fake SkyPay on loopback: it records every body we POST to its payoutQueue and answers what
//! the test scripted, one answer per request (then 1000).
//!
//! Started with a key ([`FakeSkyPay::start_encrypted`]) it speaks SkyPay's encrypted protocol
//! (SPEC 13.1) as real SkyPay does: it takes only `text/plain` ciphertext, refuses a plain body
//! with an HTTP 400, and answers encrypted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// HTTP 200 with this responseCode.
    Code(&'static str),
    /// An HTTP status with an HTML body.
    Http(u16),
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// Wait this long, then answer 1000 (longer than the client's timeout: a timeout).
    Stall(Duration),
}

#[derive(Clone, Default)]
struct Shared {
    script: Arc<Mutex<VecDeque<Behaviour>>>,
    received: Arc<Mutex<Vec<Value>>>,
    /// The content types the bodies came with.
    content_types: Arc<Mutex<Vec<String>>>,
    key: Option<skypay::crypto::Key>,
}

pub struct FakeSkyPay {
    pub url: String,
    shared: Shared,
    _stop: oneshot::Sender<()>,
}

impl FakeSkyPay {
    pub async fn start() -> FakeSkyPay {
        FakeSkyPay::start_with(None).await
    }

    /// SkyPay's encrypted protocol, with this key text (SKYPAY_ENCRYPTION_KEY).
    pub async fn start_encrypted(key: &str) -> FakeSkyPay {
        FakeSkyPay::start_with(Some(skypay::crypto::derive_key(key.as_bytes()))).await
    }

    async fn start_with(key: Option<skypay::crypto::Key>) -> FakeSkyPay {
        let shared = Shared {
            key,
            ..Shared::default()
        };
        let app = Router::new()
            .route("/api/payoutQueue", post(answer))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/payoutQueue", listener.local_addr().unwrap());
        let stop = crate::serve_until_stopped(listener, app);
        FakeSkyPay {
            url,
            shared,
            _stop: stop,
        }
    }

    /// The next answers, in order.
    pub fn script(&self, answers: &[Behaviour]) {
        self.shared
            .script
            .lock()
            .unwrap()
            .extend(answers.iter().cloned());
    }

    /// Every body received so far (decrypted).
    pub fn received(&self) -> Vec<Value> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The content type of every body received so far.
    pub fn content_types(&self) -> Vec<String> {
        self.shared.content_types.lock().unwrap().clone()
    }
}

async fn answer(
    State(shared): State<Shared>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    shared.content_types.lock().unwrap().push(content_type);
    let plain = match &shared.key {
        None => body.to_vec(),
        Some(key) => match std::str::from_utf8(&body)
            .ok()
            .and_then(|text| skypay::crypto::decrypt(key, text))
        {
            Some(plain) => plain,
            None => return (StatusCode::BAD_REQUEST, "not ciphertext").into_response(),
        },
    };
    let parsed = serde_json::from_slice::<Value>(&plain).unwrap_or(Value::Null);
    shared.received.lock().unwrap().push(parsed);
    let seal = |text: String| match &shared.key {
        Some(key) => skypay::crypto::encrypt(key, text.as_bytes()),
        None => text,
    };
    let next = shared.script.lock().unwrap().pop_front();
    let envelope = |code: &str, description: &str| {
        json!({
            "responseTime": "2024-01-01 10:00:00.0000",
            "responseCode": code,
            "responseDescription": description,
        })
        .to_string()
    };
    match next.unwrap_or(Behaviour::Code("1000")) {
        Behaviour::Code(code) => {
            let description = match code {
                "1000" => "Success",
                "-1008" => "Control number is already exists",
                "-1009" => "Unpredictable exception occur/Merchant is not available",
                "-9999" => "Service not available/Connection error",
                "-1021" => "Bank No is incorrect",
                "-1022" => "Invalid Accountnumber",
                _ => "Scripted",
            };
            (StatusCode::OK, seal(envelope(code, description))).into_response()
        }
        Behaviour::Http(status) => (
            StatusCode::from_u16(status).unwrap(),
            "<html><body>Bad Gateway</body></html>",
        )
            .into_response(),
        Behaviour::Garbage => (StatusCode::OK, "Service Unavailable").into_response(),
        Behaviour::Stall(wait) => {
            tokio::time::sleep(wait).await;
            (StatusCode::OK, seal(envelope("1000", "Success"))).into_response()
        }
    }
}
