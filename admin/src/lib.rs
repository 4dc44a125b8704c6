//! The loan system's `/admin` routes as one axum router (SPEC 9 and 13.5). `skypay-local`
//! serves it with its own bounded server; the partner-api Lambda serves it through
//! `lambda_http`, behind an HTTP API whose only authorizer is IAM. The routes' logic is
//! [`skypay::admin`]; this crate is only the HTTP glue, written once for both hosts.
//!
//! | route | answer |
//! |---|---|
//! | `POST /admin/payouts` | 201 the payout; 200 the same instruction again, the payout as it stands; 400 naming the field; 409 a different instruction, or a push in flight |
//! | `GET /admin/payouts/{n}?limit=&cursor=` | 200 the payout and a page of its events; 404 |
//! | `POST /admin/payouts/{n}/cancel` | 200 CANCELLED (a shop pickup not paid, or a pushed payout SkyPay never took); 409 paid, closed, or pushed and maybe SkyPay's; 404 |
//! | `POST /admin/contracts` | 201; 200 identical; 409 different |
//! | `GET /admin/contracts/{n}?limit=&cursor=` | 200 the contract and a page of its receipts; 404 |
//! | `GET /admin/finance?date=` | 200 a day's finance notifications; 400 |
//! | `POST /admin/reconcile` | 200 what a payout run did; 502 SkyPay failed; 404 where runs are not served |
//! | `POST /admin/reconcile/daily?date=` | 200 the day's differences; 502; 400; 404 likewise |
//! | `GET /admin/reconciliation?date=` | 200 a day's latest reconciliation; 404 before one; 400 |
//! | anything else | 404 |
//!
//! A body over 64 KiB is 413 (refused at its declared length, before it is read); one that
//! stalls, 408; broken framing, 400.

pub mod handlers;
pub mod out;
pub mod sqs;

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use handlers::{AdminReply, PageQuery};
use http_body_util::BodyExt;
use skypay::outbound::push::PayoutQueue;
use skypay::outbound::reconcile::Reconciler;
use skypay::protocol::wire::MAX_BODY_BYTES;
use skypay::{Config, Ledger};

/// How long a request's body may take to arrive, in Lambda (API Gateway has read it already;
/// skypay-local takes its `--body-timeout`).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a payout left PENDING by a transient SkyPay failure goes to be pushed again: the
/// payout queue, in AWS (SQS retries it with the guarantees and the dead-letter queue of any
/// instruction sent there). Locally there is none: posting the instruction again retries.
#[derive(Clone, Debug)]
pub enum PendingRetry {
    Sqs(sqs::SqsRetry),
}

impl PendingRetry {
    /// Sends the instruction (canonical, with its control number) to be pushed again.
    async fn enqueue(&self, instruction: &str) -> Result<(), String> {
        match *self {
            PendingRetry::Sqs(ref queue) => queue.enqueue(instruction).await,
        }
    }
}

/// What the routes need, built once per process.
#[derive(Clone, Debug)]
pub struct AdminState {
    ledger: Ledger,
    config: Config,
    queue: PayoutQueue,
    retry: Option<PendingRetry>,
    reconciler: Option<Reconciler>,
    body_timeout: Duration,
    /// skypay-local (SPEC 14.6): a POST without `Content-Type: application/json` is 415, so
    /// that a web page's form post cannot reach a route.
    json_only: bool,
}

impl AdminState {
    /// `retry` takes the payouts a transient SkyPay failure left PENDING (the payout queue, in
    /// AWS); `body_timeout` bounds how long a request's body may take to arrive.
    pub fn new(
        config: Config,
        ledger: Ledger,
        retry: Option<PendingRetry>,
        body_timeout: Duration,
    ) -> Result<AdminState, String> {
        let queue = PayoutQueue::new(config.clone(), ledger.clone()).map_err(|e| e.to_string())?;
        Ok(AdminState {
            ledger,
            config,
            queue,
            retry,
            reconciler: None,
            body_timeout,
            json_only: false,
        })
    }

    /// Every POST must be `application/json`, else 415 (skypay-local, SPEC 14.6). Checked
    /// after routing, so a method a route does not have is still 405.
    pub fn json_only(mut self) -> AdminState {
        self.json_only = true;
        self
    }

    /// Registers and pushes through `queue` instead of the one `new` built (the simulation's,
    /// on its clock).
    pub fn with_queue(mut self, queue: PayoutQueue) -> AdminState {
        self.queue = queue;
        self
    }

    /// Serves `POST /admin/reconcile` and `/admin/reconcile/daily` with this service (the local
    /// server; in AWS the payout-reconcile function runs them on a schedule).
    pub fn with_reconciler(mut self, reconciler: Reconciler) -> AdminState {
        self.reconciler = Some(reconciler);
        self
    }
}

/// The `/admin` router.
pub fn router(state: AdminState) -> Router {
    // The POST routes, behind the JSON rule (it only runs for a POST that found its route).
    let json_post = |route: axum::routing::MethodRouter<AdminState>| {
        route.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_json,
        ))
    };
    Router::new()
        .route("/admin/payouts", json_post(post(post_payout)))
        .route("/admin/payouts/{control_number}", get(get_payout))
        .route(
            "/admin/payouts/{control_number}/cancel",
            json_post(post(cancel_payout)),
        )
        .route("/admin/contracts", json_post(post(post_contract)))
        .route("/admin/contracts/{contract_number}", get(get_contract))
        .route("/admin/finance", get(get_finance))
        .route("/admin/reconcile", json_post(post(reconcile)))
        .route("/admin/reconcile/daily", json_post(post(reconcile_daily)))
        .route("/admin/reconciliation", get(get_reconciliation))
        .fallback(|| async {
            json(AdminReply {
                status: 404,
                body: serde_json::json!({"error": "no such route"}),
            })
        })
        .with_state(state)
}

/// `router`, answering only `callers` (SPEC 14.5): partner-api in AWS. Anything else, a direct
/// Lambda invoke without the HTTP API's IAM identity included, is 403 `{"error"}` before any
/// route runs; the refusal is logged at warn with the signer's ARN.
pub fn only_for(router: Router, callers: skypay::aws::lambda::Callers) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let callers = callers.clone();
            async move {
                let context = request
                    .extensions()
                    .get::<lambda_http::request::RequestContext>();
                if callers.allow(context) {
                    return next.run(request).await;
                }
                tracing::warn!(
                    caller = skypay::aws::lambda::caller_arn(context).unwrap_or(""),
                    path = request.uri().path(),
                    status = 403,
                    "partner-api: a caller not in PARTNER_API_CALLER_ARNS"
                );
                json(AdminReply {
                    status: 403,
                    body: serde_json::json!({
                        "error": "this principal may not call partner-api (PartnerApiCallerArns)"
                    }),
                })
            }
        },
    ))
}

/// 415 for a POST that is not `application/json`, where the state asks for it.
async fn require_json(
    State(s): State<AdminState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if s.json_only && !is_json {
        return json(AdminReply {
            status: 415,
            body: serde_json::json!({
                "error": "POST on /admin needs Content-Type: application/json"
            }),
        });
    }
    next.run(request).await
}

/// Why a body was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unread {
    /// Declared, or found, larger than 64 KiB.
    TooLarge,
    /// Broken framing, or the connection went away.
    Broken,
    /// Not all there within the body-read timeout.
    TimedOut,
}

impl From<Unread> for skypay::protocol::wire::BodyError {
    fn from(unread: Unread) -> skypay::protocol::wire::BodyError {
        match unread {
            Unread::TooLarge => skypay::protocol::wire::BodyError::TooLarge,
            Unread::Broken | Unread::TimedOut => skypay::protocol::wire::BodyError::Incomplete,
        }
    }
}

/// A request body, at most 64 KiB: refused at a larger declared `Content-Length` before a byte
/// of it is read, stopped at 64 KiB when streamed, and bounded in time. SkyPay's routes in
/// skypay-local read their bodies with it too.
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    timeout: Duration,
) -> Result<Bytes, Unread> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(Unread::TooLarge);
    }
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => Err(Unread::TimedOut),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(Unread::TooLarge),
        Ok(Err(_)) => Err(Unread::Broken),
    }
}

fn json(reply: AdminReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(reply.body)).into_response()
}

/// An admin request's body, or the answer to one that could not be read.
async fn body_of(state: &AdminState, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    read_body(headers, body, state.body_timeout)
        .await
        .map_err(|unread| {
            let (status, message) = match unread {
                Unread::TooLarge => (413, "the body is larger than 64 KiB"),
                Unread::TimedOut => (408, "the body did not arrive in time"),
                Unread::Broken => (400, "the body could not be read"),
            };
            json(AdminReply {
                status,
                body: serde_json::json!({ "error": message }),
            })
        })
}

fn request_id() -> String {
    skypay::ledger::random_token()
}

async fn post_payout(State(s): State<AdminState>, headers: HeaderMap, body: Body) -> Response {
    let body = match body_of(&s, &headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    json(handlers::post_payout(&s.queue, s.retry.as_ref(), &body, &request_id()).await)
}

/// A path's number: a segment axum cannot read (not UTF-8) names no payout or contract, 404
/// in JSON. One extractor, its rejection written once.
struct Number(String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Number {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Number, Response> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(n)| Number(n))
            .map_err(|_: PathRejection| {
                json(AdminReply {
                    status: 404,
                    body: serde_json::json!({ "error": "no such number" }),
                })
            })
    }
}

/// A query string: one axum cannot read (a field twice, say) is a 400 in JSON like every other.
struct Valid<T>(T);

impl<T, S> axum::extract::FromRequestParts<S> for Valid<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Valid<T>, Response> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Valid(q))
            .map_err(|e: QueryRejection| {
                json(AdminReply {
                    status: 400,
                    body: serde_json::json!({
                        "error": format!("the query string is malformed: {}", e.body_text())
                    }),
                })
            })
    }
}

async fn get_payout(
    State(s): State<AdminState>,
    Number(number): Number,
    Valid(page): Valid<PageQuery>,
) -> Response {
    json(handlers::get_payout(&s.ledger, &number, &page, &request_id()).await)
}

async fn cancel_payout(State(s): State<AdminState>, Number(number): Number) -> Response {
    json(handlers::cancel_payout(&s.ledger, &s.config, &number, &request_id()).await)
}

async fn post_contract(State(s): State<AdminState>, headers: HeaderMap, body: Body) -> Response {
    let body = match body_of(&s, &headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    json(handlers::post_contract(&s.ledger, &s.config, &body, &request_id()).await)
}

async fn get_contract(
    State(s): State<AdminState>,
    Number(number): Number,
    Valid(page): Valid<PageQuery>,
) -> Response {
    json(handlers::get_contract(&s.ledger, &number, &page, &request_id()).await)
}

/// `?date=yyyy-MM-dd`.
#[derive(serde::Deserialize)]
struct DateQuery {
    date: Option<String>,
}

async fn get_finance(State(s): State<AdminState>, Valid(q): Valid<DateQuery>) -> Response {
    json(handlers::get_finance(&s.ledger, q.date.as_deref(), &request_id()).await)
}

async fn reconcile(State(s): State<AdminState>) -> Response {
    json(handlers::reconcile_payouts(s.reconciler.as_ref(), &request_id()).await)
}

async fn reconcile_daily(State(s): State<AdminState>, Valid(q): Valid<DateQuery>) -> Response {
    json(handlers::reconcile_daily(s.reconciler.as_ref(), q.date.as_deref(), &request_id()).await)
}

async fn get_reconciliation(State(s): State<AdminState>, Valid(q): Valid<DateQuery>) -> Response {
    json(handlers::get_reconciliation(&s.ledger, q.date.as_deref(), &request_id()).await)
}
