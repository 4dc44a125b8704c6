//! One SkyPay call in, one envelope out, one log line: the part every endpoint shares, used by
//! the Lambda adapter and the local server alike.
//!
//! A call goes through two steps:
//!
//! 1. **admit** ([`Admission::admit`], pure): source address (403), parse (2001), authenticate
//!    (-1001), `action` (2003), the action's fields;
//! 2. **apply** ([`Request::apply`]): the action's one ledger call; any ledger failure is -1009.
//!
//! and [`Admission::reply`] is the one place where the outcome becomes an envelope.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::inbound::error::Rejection;
use crate::inbound::{Accepted, Admit, Apply, CallLog, Request};
use crate::ledger::{Ledger, WriteContext};
use crate::metrics;
use crate::protocol::action::Action;
use crate::protocol::auth::Verifier;
use crate::protocol::codes::ResponseCode;
use crate::protocol::wire::{Envelope, Fields, Transport};

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

/// A call that has been through the admit step: the request to apply (or why not), and how the
/// reply must travel (encrypted or not, decided even for a body that was refused).
#[derive(Debug)]
pub struct Admitted {
    pub request: Result<Request, Rejection>,
    pub transport: Transport,
}

/// The pure part of a call: configuration and credentials, no I/O. The fuzz target and the
/// benchmark run exactly this.
#[derive(Debug)]
pub struct Admission {
    config: Config,
    verifier: Verifier,
}

impl Admission {
    pub fn new(config: Config) -> Admission {
        let verifier = Verifier::new(&config.username, &config.auth_keys);
        Admission { config, verifier }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Decode, authenticate, check `action`, check the action's fields, in the SPEC's order.
    pub fn admit(&self, action: Action, body: &[u8], log: &mut CallLog) -> Admitted {
        let (decoded, transport) = Fields::decode(body, &self.config.encryption);
        let request = decoded
            .map_err(Rejection::from)
            .and_then(|fields| self.admit_fields(action, &fields, log));
        Admitted { request, transport }
    }

    fn admit_fields(
        &self,
        action: Action,
        fields: &Fields,
        log: &mut CallLog,
    ) -> Result<Request, Rejection> {
        // The number the call is about, for the log line, even when it is refused below.
        if let Some(number) = ["controlNumber", "contractNumber"]
            .into_iter()
            .find_map(|name| fields.text(name).ok().flatten())
        {
            log.subject(&number);
        }
        let user = fields.text("userName").ok().flatten();
        let key = fields.text("authentication").ok().flatten();
        // -1001 unless both are present and right; never says which part failed.
        if !self.verifier.verify(user.as_deref(), key.as_deref()) {
            return Err(Rejection::Unauthenticated);
        }
        match fields.text("action") {
            Ok(Some(a)) if action.accepts(&a) => {}
            _ => {
                return Err(Rejection::WrongAction {
                    expected: action.name(),
                });
            }
        }
        let mut cx = Admit {
            config: &self.config,
            log,
        };
        Request::parse(action, fields, &mut cx)
    }

    /// The reply to a call: the one place an outcome becomes a code, a description and an
    /// envelope (plus the members an accepted call adds), encrypted when the call was.
    pub fn reply(
        &self,
        action: Action,
        outcome: &Result<Accepted, Rejection>,
        transport: Transport,
        now: DateTime<Utc>,
    ) -> (ResponseCode, Reply) {
        let (code, description, extra) = match outcome {
            Ok(accepted) => (
                ResponseCode::Success,
                "Success".to_owned(),
                accepted.extra.as_slice(),
            ),
            Err(rejection) => {
                let (code, description) = rejection.response(action);
                (code, description, &[][..])
            }
        };
        let envelope = Envelope::new(now, code.as_str(), &description);
        let (body, content_type) = envelope.render_with(extra, transport, &self.config.encryption);
        let reply = Reply {
            status: 200,
            content_type,
            body,
        };
        (code, reply)
    }
}

/// The gateway: the admit step and the ledger, built once per process.
#[derive(Clone, Debug)]
pub struct Gateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    admission: Admission,
    ledger: Ledger,
    /// The time each call's writes are stamped with, and its answer's `responseTime` (read
    /// again when the answer is written).
    clock: Arc<dyn crate::protocol::time::Clock>,
}

impl Gateway {
    pub fn new(config: Config, ledger: Ledger) -> Gateway {
        Gateway::with_clock(config, ledger, Arc::new(crate::protocol::time::SystemClock))
    }

    /// The same on another clock (the simulation's).
    pub fn with_clock(
        config: Config,
        ledger: Ledger,
        clock: Arc<dyn crate::protocol::time::Clock>,
    ) -> Gateway {
        Gateway {
            inner: Arc::new(Inner {
                admission: Admission::new(config),
                ledger,
                clock,
            }),
        }
    }

    pub fn config(&self) -> &Config {
        self.inner.admission.config()
    }

    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// Handles one SkyPay call. Never fails and never panics: every outcome is an envelope
    /// (or the 403 of a refused source), and exactly one log line.
    pub async fn handle(&self, action: Action, call: Call<'_>) -> Reply {
        let mut log = CallLog::default();
        let admitted =
            |admission: &Admission, log: &mut CallLog| admission.admit(action, call.body, log);
        self.answer(action, call, &mut log, admitted).await
    }

    /// Answers a call whose body the transport would not, or could not, read (larger than the
    /// limit, broken framing, too slow): the same 2001 envelope (SPEC 2), source check and log
    /// line as any other call.
    pub async fn refuse_body(
        &self,
        action: Action,
        source_ip: Option<IpAddr>,
        request_id: &str,
        error: crate::protocol::wire::BodyError,
    ) -> Reply {
        let call = Call {
            body: &[],
            source_ip,
            request_id,
        };
        let mut log = CallLog::default();
        let refused = |admission: &Admission, _: &mut CallLog| Admitted {
            request: Err(Rejection::Body(error)),
            transport: match admission.config().encryption {
                crate::protocol::crypto::Encryption::Required(_) => {
                    Transport::Encrypted(crate::protocol::crypto::KeySlot::First)
                }
                _ => Transport::Plain,
            },
        };
        self.answer(action, call, &mut log, refused).await
    }

    async fn answer(
        &self,
        action: Action,
        call: Call<'_>,
        log: &mut CallLog,
        admit: impl FnOnce(&Admission, &mut CallLog) -> Admitted,
    ) -> Reply {
        let started = Instant::now();
        let admission = &self.inner.admission;
        if !admission.config().source_allowed(call.source_ip) {
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
        let admitted = admit(admission, log);
        let ctx = WriteContext::at(call.request_id, self.inner.clock.now());
        let outcome = match admitted.request {
            Ok(request) => {
                let mut cx = Apply {
                    ledger: &self.inner.ledger,
                    config: admission.config(),
                    ctx: &ctx,
                    log,
                };
                request.apply(&mut cx).await
            }
            Err(rejection) => Err(rejection),
        };
        let replied_at = self.inner.clock.now();
        let (code, reply) = admission.reply(action, &outcome, admitted.transport, replied_at);
        log_line(action, call, log, code, &outcome, started);
        reply
    }
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The call's one JSON log line: action, number, responseCode, latency, request id. Never the
/// key, never a full phone (actions mask what they add). Public for the handler bench, which
/// times it through the functions' own subscriber.
pub fn log_line(
    action: Action,
    call: Call<'_>,
    log: &CallLog,
    code: ResponseCode,
    outcome: &Result<Accepted, Rejection>,
    started: Instant,
) {
    let latency = elapsed_us(started);
    let subject = log.subject.as_deref().unwrap_or("");
    let result = outcome.as_ref().map_or("", |accepted| accepted.outcome);
    let warnings = log.warnings.join("; ");
    // The same line is the call's CloudWatch metrics (EMF): `action`, `responseCode` and
    // `api` are its dimensions, `calls`, `latencyUs` and `ledgerFailures` its metrics.
    let ledger_failures = u64::from(matches!(outcome, Err(Rejection::Ledger(_))));
    let auth_failures = u64::from(matches!(outcome, Err(Rejection::Unauthenticated)));
    let anomaly = outcome.as_ref().err().is_some_and(Rejection::is_anomaly);
    let anomalies = u64::from(anomaly);
    macro_rules! call_line {
        ($level:ident, $($rest:tt)+) => {
            tracing::$level!(
                _emf = metrics::CALL.name,
                api = metrics::CALL_API,
                action = action.name(),
                number = subject,
                responseCode = code.as_str(),
                calls = 1_u64,
                latencyUs = latency,
                ledgerFailures = ledger_failures,
                authFailures = auth_failures,
                anomalies = anomalies,
                requestId = call.request_id,
                $($rest)+
            )
        };
    }
    match outcome {
        Err(Rejection::Ledger(error)) => {
            call_line!(error, error = %error, "skypay call failed in the ledger")
        }
        Err(rejection) if anomaly => call_line!(
            warn,
            reason = %rejection,
            detail = rejection.log_detail().unwrap_or(""),
            warnings = warnings.as_str(),
            "skypay call refused: an anomaly"
        ),
        Err(rejection) => call_line!(
            info,
            reason = %rejection,
            detail = rejection.log_detail().unwrap_or(""),
            warnings = warnings.as_str(),
            "skypay call refused"
        ),
        Ok(_) if !warnings.is_empty() => call_line!(
            warn,
            outcome = result,
            warnings = warnings.as_str(),
            "skypay call accepted with warnings"
        ),
        Ok(_) => call_line!(info, outcome = result, "skypay call accepted"),
    }
}
