//! SPEC 14.6: skypay-local's `/admin` belongs to the machine it runs on. A web page the
//! developer opens can POST to `http://127.0.0.1:3000` (a "simple" cross-origin request needs no
//! preflight) and a DNS-rebinding page can even read the answers; before this guard, a
//! `text/plain` POST with a foreign `Origin` and `Host` registered a payout and pushed it.
//!
//! | request | answer |
//! |---|---|
//! | `Host` not a loopback name or address (unless `--allow-remote`) | 403 |
//! | `Origin` other than the server's own | 403 |
//! | `--allow-remote`, without `Authorization: Bearer TOKEN` | 401 |
//! | `POST` whose `Content-Type` is not `application/json` | 415 (after routing: the admin router's `json_only`) |
//!
//! SkyPay's own routes are not guarded: SkyPay sends any content type and no Origin.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use skypay::protocol::mask::Private;
use subtle::ConstantTimeEq;

/// Who may reach `/admin`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AdminAccess {
    /// This machine only (the default): a loopback `--listen`, loopback `Host`.
    #[default]
    Loopback,
    /// `--allow-remote`: any host, with this bearer token.
    Remote { token: Private<String> },
}

/// The guard's state: the server's port (its own origins) and who may call.
#[derive(Clone, Debug)]
pub struct Guard {
    pub port: u16,
    pub access: AdminAccess,
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"))
}

impl Guard {
    /// The refusal a request gets, if any.
    pub fn check(&self, headers: &HeaderMap) -> Option<Response> {
        let host = header_text(headers, header::HOST).unwrap_or("");
        let remote = matches!(self.access, AdminAccess::Remote { .. });
        if !remote && !skypay::config::authority_is_loopback(host) {
            return Some(refuse(
                StatusCode::FORBIDDEN,
                "/admin answers only requests addressed to this machine (Host must be \
                 localhost or a loopback address)",
            ));
        }
        if let Some(origin) = header_text(headers, header::ORIGIN) {
            let own = [
                format!("http://127.0.0.1:{}", self.port),
                format!("http://localhost:{}", self.port),
                format!("http://[::1]:{}", self.port),
            ];
            let same_host = remote && origin == format!("http://{host}");
            if !same_host && !own.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
                return Some(refuse(
                    StatusCode::FORBIDDEN,
                    "/admin refuses requests from another origin (a web page cannot register or \
                     move a payout)",
                ));
            }
        }
        if let AdminAccess::Remote { token } = &self.access {
            let given = header_text(headers, header::AUTHORIZATION)
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            let matches: bool = given.as_bytes().ct_eq(token.as_str().as_bytes()).into();
            if !matches {
                return Some(refuse(
                    StatusCode::UNAUTHORIZED,
                    "/admin needs Authorization: Bearer <the token skypay-local printed at start>",
                ));
            }
        }
        None
    }
}

/// The middleware in front of `/admin`.
pub async fn guard(State(guard): State<Guard>, request: Request<Body>, next: Next) -> Response {
    match guard.check(request.headers()) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

/// A bearer token for `--allow-remote`: 32 random bytes, hex.
pub fn new_token() -> Private<String> {
    Private(skypay::ledger::random_token() + &skypay::ledger::random_token())
}
