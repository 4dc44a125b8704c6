//! One SkyPay call in, one envelope out, one log line: the part every endpoint shares, used by
//! the Lambda adapter and the local server alike.
//!
//! Order of checks (SPEC section 2): source address (403), parse (2001), authenticate (-1001),
//! `action` (2003), the action's fields, the ledger; any ledger failure is -1009.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

use crate::actions::{Action, CallLog};
use crate::auth::Verifier;
use crate::codes::ResponseCode;
use crate::config::{Config, Encryption};
use crate::error::Rejection;
use crate::ledger::{Ledger, WriteContext};
use crate::wire::{Envelope, Fields, Transport};

/// One inbound call, whatever carried it.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub body: &'a [u8],
    /// The caller's address as API Gateway saw it (`requestContext.http.sourceIp`).
    pub source_ip: Option<IpAddr>,
    /// For the log: API Gateway's or the local server's request id.
    pub request_id: &'a str,
}

/// What goes back over HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Reply {
    /// SPEC 12.11: a source outside `ALLOWED_SOURCE_CIDRS` gets what API Gateway itself would
    /// answer, with no envelope.
    fn forbidden() -> Reply {
        Reply {
            status: 403,
            content_type: "application/json",
            body: r#"{"message":"Forbidden"}"#.to_owned(),
        }
    }
}

/// The gateway: configuration, credentials and the ledger, built once per process.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    verifier: Verifier,
    ledger: Ledger,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("config", &self.inner.config)
            .field("ledger", &self.inner.ledger)
            .finish()
    }
}

impl Gateway {
    pub fn new(config: Config, ledger: Ledger) -> Gateway {
        let verifier = Verifier::new(&config);
        Gateway {
            inner: Arc::new(Inner {
                config,
                verifier,
                ledger,
            }),
        }
    }

    /// Builds the DynamoDB client from the environment (the region and credentials Lambda
    /// provides, and `AWS_ENDPOINT_URL_DYNAMODB`) and the gateway around it.
    pub fn from_config(config: Config) -> Result<Gateway, crate::ConfigError> {
        let client = crate::dynamo::client_from_env()?;
        let ledger = Ledger::new(client, config.table_name.as_str());
        Ok(Gateway::new(config, ledger))
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// Handles one SkyPay call. Never fails and never panics: every outcome is an envelope
    /// (or the 403 of a refused source), and exactly one log line.
    pub async fn handle(&self, action: Action, call: Call<'_>) -> Reply {
        let started = Instant::now();
        let config = &self.inner.config;
        let mut log = CallLog::default();
        if !config.source_allowed(call.source_ip) {
            tracing::warn!(
                action = action.name(),
                requestId = call.request_id,
                sourceIp = ?call.source_ip,
                status = 403,
                latencyUs = elapsed_us(started),
                "source address not allowed"
            );
            return Reply::forbidden();
        }
        let ctx = WriteContext::new(call.request_id);
        let mut transport = match config.encryption {
            Encryption::Required(_) => Transport::Encrypted,
            _ => Transport::Plain,
        };
        let result = self
            .process(action, call.body, &ctx, &mut log, &mut transport)
            .await;
        let (code, description) = match &result {
            Ok(()) => (ResponseCode::Success, "Success".to_owned()),
            Err(rejection) => rejection.response(action),
        };
        let envelope = Envelope::new(Utc::now(), code.as_str(), &description);
        let (body, content_type) = envelope.render(transport, &config.encryption);
        log_line(action, call, &log, code, &result, started);
        Reply {
            status: 200,
            content_type,
            body,
        }
    }

    async fn process(
        &self,
        action: Action,
        body: &[u8],
        ctx: &WriteContext,
        log: &mut CallLog,
        transport: &mut Transport,
    ) -> Result<(), Rejection> {
        let config = &self.inner.config;
        let (fields, arrived) = Fields::decode(body, &config.encryption)?;
        *transport = arrived;
        // The number the call is about, for the log line, even when it is refused below.
        if let Some(number) = ["controlNumber", "contractNumber"]
            .into_iter()
            .find_map(|name| fields.text(name).ok().flatten())
        {
            log.subject(&number);
        }
        authenticate(&self.inner.verifier, &fields)?;
        match fields.text("action") {
            Ok(Some(a)) if a == action.name() => {}
            _ => {
                return Err(Rejection::WrongAction {
                    expected: action.name(),
                });
            }
        }
        action
            .run(&fields, &config.prefix, &self.inner.ledger, ctx, log)
            .await
    }
}

/// -1001 unless both credentials are present and right; never says which part failed.
fn authenticate(verifier: &Verifier, fields: &Fields) -> Result<(), Rejection> {
    let user = fields.text("userName").ok().flatten();
    let key = fields.text("authentication").ok().flatten();
    if verifier.verify(user.as_deref(), key.as_deref()) {
        Ok(())
    } else {
        Err(Rejection::Unauthenticated)
    }
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The call's one JSON log line: action, number, responseCode, latency, request id. Never the
/// key, never a full phone (actions mask what they add).
fn log_line(
    action: Action,
    call: Call<'_>,
    log: &CallLog,
    code: ResponseCode,
    result: &Result<(), Rejection>,
    started: Instant,
) {
    let latency = elapsed_us(started);
    let subject = log.subject.as_deref().unwrap_or("");
    let outcome = log.outcome.unwrap_or("");
    let warnings = log.warnings.join("; ");
    match result {
        Err(Rejection::Ledger(error)) => tracing::error!(
            action = action.name(),
            number = subject,
            responseCode = code.as_str(),
            latencyUs = latency,
            requestId = call.request_id,
            error = %error,
            "skypay call failed in the ledger"
        ),
        Err(rejection) => tracing::info!(
            action = action.name(),
            number = subject,
            responseCode = code.as_str(),
            latencyUs = latency,
            requestId = call.request_id,
            reason = %rejection,
            warnings = warnings.as_str(),
            "skypay call refused"
        ),
        Ok(()) if !warnings.is_empty() => tracing::warn!(
            action = action.name(),
            number = subject,
            responseCode = code.as_str(),
            latencyUs = latency,
            requestId = call.request_id,
            outcome,
            warnings = warnings.as_str(),
            "skypay call accepted with warnings"
        ),
        Ok(()) => tracing::info!(
            action = action.name(),
            number = subject,
            responseCode = code.as_str(),
            latencyUs = latency,
            requestId = call.request_id,
            outcome,
            "skypay call accepted"
        ),
    }
}
