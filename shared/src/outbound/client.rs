//! The client for SkyPay's own API (payoutQueue, seed 001; SPEC 13.1 and 13.6): one hyper client
//! per process, reused across invocations, on the same rustls/ring stack as the DynamoDB
//! client, with bounded timeouts.
//!
//! With `SKYPAY_ENCRYPTION_KEY` set (and the layer not `off`), every body we send is encrypted
//! and sent as `text/plain`, and SkyPay's answer is decrypted; a plain JSON answer is accepted
//! too. The answer is read by the same decoder as SkyPay's calls to us (`wire::Fields`).

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

use crate::protocol::crypto;
use crate::protocol::crypto::Encryption;
use crate::protocol::wire::Fields;

/// Connecting to SkyPay should take well under a second from AWS in Singapore.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// SkyPay's longest answers are report pages of 100 rows and status lists of 50 numbers, a few
/// dozen KiB; anything past this is not an answer.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

#[derive(Clone, Debug)]
pub struct SkyPayClient {
    http: Client<Https, Full<Bytes>>,
    url: hyper::Uri,
    timeout: Duration,
    encryption: Encryption,
}

/// What SkyPay said, as far as we could read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A readable `responseCode`, with its description.
    Code { code: String, description: String },
    /// No readable code: non-200, unreadable body, reset, timeout (SPEC 12.7): the request may
    /// have reached SkyPay. The text is for the log and the ledger; it never holds the key.
    Unreadable { reason: String },
    /// The request never left: no connection could be made (SPEC 14.3 counts this apart from
    /// an unknown outcome: SkyPay cannot have seen it).
    NotSent { reason: String },
}

/// Why a call got no answer: whether the request may have reached SkyPay.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Failure {
    NotSent(String),
    MaybeSent(String),
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the SkyPay client: {0}")]
pub struct ClientError(String);

impl SkyPayClient {
    /// `timeout` bounds the whole exchange, answer included; `encryption` is the AES layer of
    /// SPEC 13.1 (its key, unless `off`).
    pub fn new(
        url: &str,
        timeout: Duration,
        encryption: Encryption,
    ) -> Result<SkyPayClient, ClientError> {
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
        Ok(SkyPayClient {
            http,
            url,
            timeout,
            encryption,
        })
    }

    /// POSTs one body and reads SkyPay's code from the answer.
    pub async fn post(&self, body: &Value) -> Answer {
        match self.send(body).await {
            Ok(fields) => read_answer(&fields),
            Err(Failure::MaybeSent(reason)) => Answer::Unreadable { reason },
            Err(Failure::NotSent(reason)) => Answer::NotSent { reason },
        }
    }

    /// POSTs one body and decodes the answer: one JSON object, decrypted when it was sent
    /// encrypted. The error is for the log and the ledger; it never holds the key.
    pub async fn call(&self, body: &Value) -> Result<Fields, String> {
        self.send(body).await.map_err(|failure| match failure {
            Failure::NotSent(reason) | Failure::MaybeSent(reason) => reason,
        })
    }

    async fn send(&self, body: &Value) -> Result<Fields, Failure> {
        match tokio::time::timeout(self.timeout, self.exchange(body)).await {
            Ok(answer) => answer,
            // A timeout may have come after the request left, during connect or not.
            Err(_) => Err(Failure::MaybeSent("timed out".to_owned())),
        }
    }

    async fn exchange(&self, body: &Value) -> Result<Fields, Failure> {
        let json = body.to_string();
        let (payload, content_type) = match self.encryption.key() {
            Some(key) => (crypto::encrypt(key, json.as_bytes()), "text/plain"),
            None => (json, "application/json"),
        };
        let request = Request::post(self.url.clone())
            .header(CONTENT_TYPE, content_type)
            .header(
                USER_AGENT,
                concat!("skypay-partner-gateway/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(payload)))
            .map_err(|_| Failure::NotSent("the request could not be built".to_owned()))?;
        let response = match self.http.request(request).await {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return Err(Failure::NotSent("could not connect".to_owned()));
            }
            Err(_) => return Err(Failure::MaybeSent("the connection failed".to_owned())),
        };
        let status = response.status();
        if status != hyper::StatusCode::OK {
            return Err(Failure::MaybeSent(format!("HTTP {}", status.as_u16())));
        }
        let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|_| Failure::MaybeSent("the answer was cut off or too long".to_owned()))?
            .to_bytes();
        decode_answer(&bytes, &self.encryption).map_err(Failure::MaybeSent)
    }
}

/// SkyPay's answer: a plain JSON object, or (with a key) the encrypted form of one.
fn decode_answer(bytes: &[u8], encryption: &Encryption) -> Result<Fields, String> {
    let lenient = match encryption.keys() {
        Some(keys) => Encryption::Auto(keys.clone()),
        None => Encryption::Off,
    };
    Fields::decode_within(bytes, &lenient, MAX_ANSWER_BYTES)
        .0
        .map_err(|e| format!("the answer is unreadable: {e}"))
}

/// `responseCode` as a string or a number; `responseDescription` if there is one.
fn read_answer(fields: &Fields) -> Answer {
    let code = match fields.text("responseCode") {
        Ok(Some(code)) if is_code(&code) => code,
        _ => {
            return Answer::Unreadable {
                reason: "the answer has no readable responseCode".to_owned(),
            };
        }
    };
    let description = match fields.text("responseDescription") {
        Ok(Some(s)) => s.chars().take(255).collect(),
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

    fn read_answer(bytes: &[u8]) -> Answer {
        match decode_answer(bytes, &Encryption::Off) {
            Ok(fields) => super::read_answer(&fields),
            Err(reason) => Answer::Unreadable { reason },
        }
    }

    #[test]
    fn reads_encrypted_and_plain_answers_with_a_key() {
        let key = crypto::derive_key(b"SkyPay-Partner-Secret");
        let plain = br#"{"responseCode":"1000","responseDescription":"Success"}"#;
        let sealed = crypto::encrypt(&key, plain);
        let keys = crypto::Keys::one(key.clone());
        for encryption in [
            Encryption::Auto(keys.clone()),
            Encryption::Required(keys.clone()),
        ] {
            for body in [&plain[..], sealed.as_bytes()] {
                let fields = decode_answer(body, &encryption).unwrap();
                assert_eq!(
                    super::read_answer(&fields),
                    Answer::Code {
                        code: "1000".into(),
                        description: "Success".into()
                    }
                );
            }
        }
        // Without a key, an encrypted answer cannot be read.
        assert!(decode_answer(sealed.as_bytes(), &Encryption::Off).is_err());
    }

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
