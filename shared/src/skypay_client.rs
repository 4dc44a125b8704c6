//! The client for SkyPay's own API (payoutQueue, seed 001): one hyper client per process,
//! reused across invocations, on the same rustls/ring stack as the DynamoDB client, with
//! bounded timeouts.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, USER_AGENT};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Connecting to SkyPay should take well under a second from AWS in Singapore.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// SkyPay's answers are three short members; anything much longer is not an answer.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

#[derive(Clone, Debug)]
pub struct SkyPayClient {
    http: Client<Https, Full<Bytes>>,
    url: hyper::Uri,
    timeout: Duration,
}

/// What SkyPay said, as far as we could read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A readable `responseCode`, with its description.
    Code { code: String, description: String },
    /// No readable code: non-200, unreadable body, refused, reset, timeout (SPEC 12.7). The
    /// text is for the log and the ledger; it never holds the key.
    Unreadable { reason: String },
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the SkyPay client: {0}")]
pub struct ClientError(String);

impl SkyPayClient {
    /// `timeout` bounds the whole exchange, answer included.
    pub fn new(url: &str, timeout: Duration) -> Result<SkyPayClient, ClientError> {
        let url: hyper::Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| ClientError(e.to_string()))?;
        if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
            return Err(ClientError("the URL must be http(s)://host/...".to_owned()));
        }
        let mut tcp = HttpConnector::new();
        tcp.set_connect_timeout(Some(CONNECT_TIMEOUT.min(timeout)));
        tcp.enforce_http(false);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // Mozilla's roots, compiled in (webpki-roots): reading the system's store instead took
        // 3.6 ms of every cold start (BENCHMARKS.md), and SkyPay's certificate is a public one.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)
            .map_err(|e| ClientError(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let http = Client::builder(TokioExecutor::new()).build(https);
        Ok(SkyPayClient { http, url, timeout })
    }

    /// POSTs one JSON body and reads the answer.
    pub async fn post(&self, body: &Value) -> Answer {
        match tokio::time::timeout(self.timeout, self.exchange(body)).await {
            Ok(answer) => answer,
            Err(_) => Answer::Unreadable {
                reason: "timed out".to_owned(),
            },
        }
    }

    async fn exchange(&self, body: &Value) -> Answer {
        let unreadable = |reason: &str| Answer::Unreadable {
            reason: reason.to_owned(),
        };
        let request = Request::post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("skypay-partner-gateway/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body.to_string())));
        let Ok(request) = request else {
            return unreadable("the request could not be built");
        };
        let response = match self.http.request(request).await {
            Ok(r) => r,
            Err(e) if e.is_connect() => return unreadable("could not connect"),
            Err(_) => return unreadable("the connection failed"),
        };
        let status = response.status();
        if status != hyper::StatusCode::OK {
            return Answer::Unreadable {
                reason: format!("HTTP {}", status.as_u16()),
            };
        }
        match Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
        {
            Ok(collected) => read_answer(&collected.to_bytes()),
            Err(_) => unreadable("the answer was cut off or too long"),
        }
    }
}

/// `responseCode` as a string or a number; `responseDescription` if there is one.
fn read_answer(bytes: &[u8]) -> Answer {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
        return Answer::Unreadable {
            reason: "the answer is not a JSON object".to_owned(),
        };
    };
    let code = match map.get("responseCode") {
        Some(Value::String(s)) if is_code(s) => s.clone(),
        Some(Value::Number(n)) if is_code(&n.to_string()) => n.to_string(),
        _ => {
            return Answer::Unreadable {
                reason: "the answer has no readable responseCode".to_owned(),
            };
        }
    };
    let description = match map.get("responseDescription") {
        Some(Value::String(s)) => s.chars().take(255).collect(),
        _ => String::new(),
    };
    Answer::Code { code, description }
}

/// SkyPay's codes: 1000, -1xxx, -9999, and partner-style 2xxx.
fn is_code(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_as_strings_or_numbers() {
        assert_eq!(
            read_answer(br#"{"responseTime":"x","responseCode":"-1008","responseDescription":"Control number is already exists"}"#),
            Answer::Code {
                code: "-1008".into(),
                description: "Control number is already exists".into()
            }
        );
        assert_eq!(
            read_answer(br#"{"responseCode":1000}"#),
            Answer::Code {
                code: "1000".into(),
                description: String::new()
            }
        );
        for garbage in [
            &b"<html>"[..],
            b"{}",
            br#"{"responseCode":"OK"}"#,
            br#"{"responseCode":true}"#,
            b"",
        ] {
            assert!(matches!(read_answer(garbage), Answer::Unreadable { .. }));
        }
    }
}
