//! The client for SkyPay's own API (payoutQueue, seed 001): one `reqwest` client per process,
//! reused across invocations, with bounded timeouts.

use std::time::Duration;

use serde_json::Value;

/// Connecting to SkyPay should take well under a second from AWS in Singapore.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// SkyPay's answers are three short members; anything much longer is not an answer.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct SkyPayClient {
    http: reqwest::Client,
    url: reqwest::Url,
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
        let url = reqwest::Url::parse(url).map_err(|e| ClientError(e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .user_agent(concat!(
                "skypay-partner-gateway/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| ClientError(e.to_string()))?;
        Ok(SkyPayClient { http, url })
    }

    /// POSTs one JSON body and reads the answer.
    pub async fn post(&self, body: &Value) -> Answer {
        let unreadable = |reason: String| Answer::Unreadable { reason };
        let request = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return unreadable("timed out".to_owned()),
            Err(e) if e.is_connect() => return unreadable("could not connect".to_owned()),
            Err(_) => return unreadable("the connection failed".to_owned()),
        };
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return unreadable(format!("HTTP {}", status.as_u16()));
        }
        let bytes = match response.bytes().await {
            Ok(b) if b.len() <= MAX_ANSWER_BYTES => b,
            Ok(_) => return unreadable("the answer is too long".to_owned()),
            Err(e) if e.is_timeout() => {
                return unreadable("timed out reading the answer".to_owned());
            }
            Err(_) => return unreadable("the answer was cut off".to_owned()),
        };
        read_answer(&bytes)
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
