//! `skypay-sim`: SkyPay's side of every call the gateway makes (SPEC 13.6 and section 7), for
//! the local run (`skypay-local --simulate-skypay`) and for the tests.
//!
//! - It serves SkyPay's one address, `POST /services/{callerName}`, with the transport of SPEC
//!   13.1: with the partner's AES key every body is ciphertext both ways.
//! - It authenticates us with the gateway's own [`skypay::protocol::auth::Verifier`], and takes
//!   `payoutQueue` (1000; -1008 for a number it already holds), `payoutQueryStatus` (at most
//!   50 numbers), `balanceQuery`, `getReportPayout` and `getReportCollection`, every answer
//!   computed from its own [`State`].
//! - It calls the gateway back (`payoutQueuePayout`): uploaded, then paid, failed or cancelled,
//!   after a configurable delay.
//! - It can go wrong on purpose, one [`Fault`] per request: down, slow, garbage, a given code.
//! - Its [`Player`] plays the shops' flows against a gateway: inquiry then payout, inquiry then
//!   collect.

pub mod cli;
mod player;
mod state;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use skypay::outbound::api;
use skypay::outbound::client::SkyPayClient;
use skypay::protocol::auth::Verifier;
use skypay::protocol::crypto;
use skypay::protocol::time::SkyPayTime;
use skypay::protocol::wire::Fields;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use player::{Answered, Played, Player};
pub use state::{
    CallbackRecord, DateType, ReportQuery, SimCollection, SimPayout, SimStatus, State, channel_name,
};

/// What goes wrong with the next request (one fault per request, in order; then none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 200 with this responseCode; nothing is stored.
    Code(String),
    /// This HTTP status with an HTML body: SkyPay down behind its load balancer.
    Http(u16),
    /// HTTP 200 with a body that is neither JSON nor ciphertext.
    Garbage,
    /// Wait this long, then answer as usual: slow (a timeout, when longer than the client's).
    Stall(Duration),
    /// Take the request as usual (a payoutQueue is stored), then wait this long before
    /// answering: the push took effect and its answer is lost, when longer than the client's
    /// timeout (SPEC 14.3).
    TakeThenStall(Duration),
    /// Take the request as usual, then answer this HTTP status instead of the answer: SkyPay
    /// took the push and what came back was a load balancer's error page (a 504 after the
    /// backend's answer was late). The push took effect; the answer is lost, at once.
    TakeThenHttp(u16),
}

/// Where a payout SkyPay accepted ends up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Uploaded, then paid.
    Paid,
    /// Uploaded, then failed.
    Failed,
    /// Uploaded, then cancelled.
    Cancelled,
    /// Uploaded, and no further.
    Uploaded,
    /// Left pending: a test (or nobody) moves it on.
    Pending,
}

impl Outcome {
    /// What happens to a push, in words (skypay-local's banner).
    pub fn describe(self) -> &'static str {
        match self {
            Outcome::Paid => "uploaded and paid by callbacks",
            Outcome::Failed => "uploaded, then failed by callbacks",
            Outcome::Cancelled => "uploaded, then cancelled by callbacks",
            Outcome::Uploaded => "uploaded by a callback, and no further",
            Outcome::Pending => {
                "left pending at SkyPay: no callback; a run finds it listed Pending"
            }
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;
    fn from_str(text: &str) -> Result<Outcome, String> {
        match text {
            "paid" => Ok(Outcome::Paid),
            "failed" => Ok(Outcome::Failed),
            "cancelled" => Ok(Outcome::Cancelled),
            "uploaded" => Ok(Outcome::Uploaded),
            "pending" => Ok(Outcome::Pending),
            _ => Err("one of paid, failed, cancelled, uploaded, pending".to_owned()),
        }
    }
}

/// How the simulator behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The `{callerName}` of `/services/{callerName}`.
    pub caller_name: String,
    /// The partner as the gateway is configured: user name, keys, AES key.
    pub partner: skypay::Config,
    /// The gateway's base URL: callbacks go to `{gateway}/payoutQueuePayout`. `None`: the
    /// simulator moves its payouts on without calling anyone.
    pub gateway: Option<String>,
    /// Between acceptance and the upload, and between the upload and the outcome.
    pub delay: Duration,
    pub outcome: Outcome,
    /// The partner's balance at the start; every completed payout takes its amount off.
    pub balance: Decimal,
    /// Answer in plain JSON even though the requests are encrypted (SPEC 13.1: we read either).
    pub plain_answers: bool,
    /// What the simulator reads the time from when a push arrives and when a number is queried
    /// (the rules in [`State::rule_breaks`]). Its own callbacks (`outcome`) and its answers'
    /// `responseTime` keep the system clock.
    pub clock: Arc<dyn skypay::protocol::time::Clock>,
}

impl SimConfig {
    /// The simulator for `partner`: payouts left pending, no callbacks, a balance of
    /// 1,000,000.00.
    pub fn new(partner: skypay::Config) -> SimConfig {
        SimConfig {
            caller_name: "partner".to_owned(),
            partner,
            gateway: None,
            delay: Duration::from_secs(2),
            outcome: Outcome::Pending,
            balance: Decimal::new(100_000_000, 2),
            plain_answers: false,
            clock: Arc::new(skypay::protocol::time::SystemClock),
        }
    }
}

struct Shared {
    config: SimConfig,
    verifier: Verifier,
    state: Mutex<State>,
    script: Mutex<VecDeque<Fault>>,
    /// Calls the gateway back (`None` without a gateway).
    callback: Option<SkyPayClient>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn key(&self) -> Option<&crypto::Key> {
        self.config.partner.encryption.key()
    }

    fn seal(&self, text: String) -> String {
        match self.key() {
            Some(key) if !self.config.plain_answers => crypto::encrypt(key, text.as_bytes()),
            _ => text,
        }
    }
}

/// A running simulator.
pub struct Sim {
    /// `http://{addr}/services/{callerName}`: what the gateway's `SKYPAY_API_URL` is set to.
    pub url: String,
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Sim {
    /// Listens on `listen` (port 0: any free port).
    pub async fn start(listen: SocketAddr, config: SimConfig) -> Result<Sim, String> {
        let callback = match &config.gateway {
            Some(base) => Some(
                SkyPayClient::new(
                    &format!("{}/payoutQueuePayout", base.trim_end_matches('/')),
                    Duration::from_secs(10),
                    config.partner.encryption.clone(),
                )
                .map_err(|e| e.to_string())?,
            ),
            None => None,
        };
        let shared = Arc::new(Shared {
            verifier: Verifier::new(&config.partner.username, &config.partner.auth_keys),
            state: Mutex::new(State {
                balance: config.balance,
                ..State::default()
            }),
            script: Mutex::new(VecDeque::new()),
            callback,
            config,
        });
        let app = Router::new()
            .route("/services/{caller}", post(answer))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "skypay-sim stopped serving");
            }
        });
        Ok(Sim {
            url: format!("http://{addr}/services/{}", shared.config.caller_name),
            addr,
            shared,
            stop: Some(stop),
            task,
        })
    }

    /// The next requests' faults, in order.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.shared.script).extend(faults);
    }

    /// Drops the faults no request has met yet, and says how many there were.
    pub fn unscript(&self) -> usize {
        let mut script = lock(&self.shared.script);
        let left = script.len();
        script.clear();
        left
    }

    /// Reads or changes the state directly (tests place payouts and collections this way).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut lock(&self.shared.state))
    }

    /// How many authenticated requests named `action`.
    pub fn calls(&self, action: &str) -> u64 {
        self.with_state(|s| s.calls.get(action).copied().unwrap_or(0))
    }

    /// Every body received so far, decrypted.
    pub fn received(&self) -> Vec<Value> {
        self.with_state(|s| s.received.clone())
    }

    /// The content type of every body received so far.
    pub fn content_types(&self) -> Vec<String> {
        self.with_state(|s| s.content_types.clone())
    }

    pub fn payout(&self, control_number: &str) -> Option<SimPayout> {
        self.with_state(|s| s.payouts.get(control_number).cloned())
    }

    /// Moves a payout on, as SkyPay's side would: a completion sets the pay time and takes
    /// the amount off the balance; a cancel sets the cancel time. No callback is made.
    pub fn set_status(&self, control_number: &str, status: SimStatus, at: DateTime<Utc>) {
        self.with_state(|s| advance(s, control_number, status, at));
    }

    /// Forgets a payout: as if the push never reached SkyPay.
    pub fn forget(&self, control_number: &str) {
        self.with_state(|s| s.payouts.remove(control_number));
    }

    /// Keeps a payout but leaves it out of payoutQueryStatus answers.
    pub fn hide(&self, control_number: &str) {
        self.with_state(|s| s.hidden.insert(control_number.to_owned()));
    }

    pub fn balance(&self) -> Decimal {
        self.with_state(|s| s.balance)
    }

    /// Sets the partner's balance (a top-up, or an account run dry): a payoutQueue larger than
    /// it is answered -1016.
    pub fn set_balance(&self, balance: Decimal) {
        self.with_state(|s| s.balance = balance);
    }

    /// Every rule of SkyPay's the partner broke so far ([`State::rule_breaks`]).
    pub fn rule_breaks(&self) -> Vec<String> {
        self.with_state(|s| s.rule_breaks.clone())
    }

    /// The callbacks made so far, with the gateway's answers.
    pub fn callbacks(&self) -> Vec<CallbackRecord> {
        self.with_state(|s| s.callbacks.clone())
    }

    /// A player of the shops' flows against the gateway; what it collects is confirmed in this
    /// simulator's collection report, and what it pays out in its payout report.
    pub fn player(&self, gateway: &str) -> Player {
        Player::new(gateway, self.shared.config.partner.clone()).recording(self.shared.clone())
    }

    /// Stops serving (requests in flight finish).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn advance(state: &mut State, control_number: &str, status: SimStatus, at: DateTime<Utc>) {
    let Some(payout) = state.payouts.get_mut(control_number) else {
        return;
    };
    if payout.status == SimStatus::Completed {
        return;
    }
    payout.status = status;
    match status {
        SimStatus::Completed => {
            payout.pay_time = Some(at);
            let amount = payout.amount;
            state.balance -= amount;
        }
        SimStatus::Cancelled => payout.cancel_time = Some(at),
        _ => {}
    }
}

/// The envelope of SkyPay's answers, then `extra` members (each `(name, JSON text)`).
fn envelope(code: &str, description: &str, extra: &[(&str, String)]) -> String {
    let mut text = json!({
        "responseTime": skypay::protocol::time::response_time(Utc::now()),
        "responseCode": code,
        "responseDescription": description,
    })
    .to_string();
    text.pop();
    for (name, value) in extra {
        text.push_str(&format!(",{}:{value}", Value::String((*name).to_owned())));
    }
    text.push('}');
    text
}

const NOT_VALID: &str = "Post context is not valid";

/// SkyPay's wording of its codes (SkyPay's code table).
fn description_of(code: &str) -> &'static str {
    match code {
        "1000" => "Success",
        "-1000" => NOT_VALID,
        "-1008" => "Control number is already exists",
        "-1009" => "Unpredictable exception occur/Merchant is not available",
        "-1016" => "Insufficient balance",
        "-1021" => "Bank No is incorrect",
        "-1022" => "Invalid Accountnumber",
        "-1027" => "balance limit exceeded",
        "-9999" => "Service not available/Connection error",
        _ => "Scripted",
    }
}

async fn answer(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(caller): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    lock(&shared.state).content_types.push(content_type);
    if caller != shared.config.caller_name {
        return (StatusCode::NOT_FOUND, "<html>Not Found</html>").into_response();
    }
    // With a key, only ciphertext is taken, as real SkyPay does. Every body is recorded, even
    // one a fault then answers.
    let plain = match shared.key() {
        Some(key) => std::str::from_utf8(&body)
            .ok()
            .and_then(|t| crypto::decrypt(key, t.trim())),
        None => Some(body.to_vec()),
    };
    lock(&shared.state).received.push(
        plain
            .as_deref()
            .and_then(|p| serde_json::from_slice(p).ok())
            .unwrap_or(Value::Null),
    );
    let fault = lock(&shared.script).pop_front();
    match fault {
        Some(Fault::Http(status)) => {
            return (
                StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                "<html><body>Service Unavailable</body></html>",
            )
                .into_response();
        }
        Some(Fault::Garbage) => return (StatusCode::OK, "Service Unavailable").into_response(),
        Some(Fault::Stall(wait)) => tokio::time::sleep(wait).await,
        Some(Fault::Code(_) | Fault::TakeThenStall(_) | Fault::TakeThenHttp(_)) | None => {}
    }
    // A body that is not the ciphertext the key was configured for is an HTTP 400: a transport
    // problem of ours must not read as SkyPay refusing the payout.
    let Some(plain) = plain else {
        return (StatusCode::BAD_REQUEST, "<html>Bad Request</html>").into_response();
    };
    let stall_after = match &fault {
        Some(Fault::TakeThenStall(wait)) => Some(*wait),
        _ => None,
    };
    let lost_to = match &fault {
        Some(Fault::TakeThenHttp(status)) => Some(*status),
        _ => None,
    };
    let text = answer_text(&shared, &plain, fault);
    if let Some(wait) = stall_after {
        tokio::time::sleep(wait).await;
    }
    if let Some(status) = lost_to {
        return (
            StatusCode::from_u16(status).unwrap_or(StatusCode::GATEWAY_TIMEOUT),
            "<html><body>Gateway Timeout</body></html>",
        )
            .into_response();
    }
    (StatusCode::OK, shared.seal(text)).into_response()
}

/// The answer's JSON to one decrypted body.
fn answer_text(shared: &Arc<Shared>, plain: &[u8], fault: Option<Fault>) -> String {
    let Ok(fields) = std::str::from_utf8(plain)
        .map_err(|_| ())
        .and_then(|t| Fields::parse(t).map_err(|_| ()))
    else {
        return envelope("-1000", NOT_VALID, &[]);
    };
    let mut state = lock(&shared.state);
    let user = fields.text("userName").ok().flatten();
    let key = fields.text("authentication").ok().flatten();
    if !shared.verifier.verify(user.as_deref(), key.as_deref()) {
        return envelope("-1000", "Authentication failed", &[]);
    }
    let action = fields.text("action").ok().flatten().unwrap_or_default();
    *state.calls.entry(action.clone()).or_insert(0) += 1;
    if let Some(Fault::Code(code)) = fault {
        return envelope(&code, description_of(&code), &[]);
    }
    let now = shared.config.clock.now();
    match action.as_str() {
        api::PAYOUT_QUEUE => match payout_queue(&mut state, &fields, now) {
            Ok(number) => {
                drop(state);
                progress(shared.clone(), number);
                envelope("1000", "Success", &[])
            }
            Err(answer) => answer,
        },
        api::PAYOUT_QUERY_STATUS => query_status(&mut state, &fields, now),
        api::BALANCE_QUERY => envelope(
            "1000",
            "Success",
            &[("balance", state.balance.normalize().to_string())],
        ),
        api::GET_REPORT_PAYOUT => report(&state, &fields, State::payout_report),
        api::GET_REPORT_COLLECTION => report(&state, &fields, State::collection_report),
        _ => envelope("-1000", NOT_VALID, &[]),
    }
}

fn payout_queue(state: &mut State, fields: &Fields, now: DateTime<Utc>) -> Result<String, String> {
    let invalid = |_| envelope("-1000", NOT_VALID, &[]);
    let number = fields
        .text("controlNumber")
        .map_err(invalid)?
        .ok_or_else(|| envelope("-1000", NOT_VALID, &[]))?;
    let amount = fields.required_amount("amount").map_err(invalid)?;
    let channel = fields
        .required_integer("withdrawChannel", 1, 99_999)
        .map_err(invalid)?;
    fields.required_text("sender", 100).map_err(invalid)?;
    fields.required_text("name", 50).map_err(invalid)?;
    let phone = fields.required_text("phone", 50).map_err(invalid)?;
    if let Some(held) = state.payouts.get(&number) {
        let status = held.status.description();
        state.rule_breaks.push(format!(
            "{number}: pushed again while {status} at SkyPay (SPEC 14.3: never push a number SkyPay holds)"
        ));
        return Err(envelope("-1008", "Control number is already exists", &[]));
    }
    // What SkyPay's pages say of a payout larger than the partner's balance.
    if amount.value() > state.balance {
        return Err(envelope("-1016", "Insufficient balance", &[]));
    }
    state.payouts.insert(
        number.clone(),
        SimPayout {
            control_number: number.clone(),
            amount: amount.value(),
            withdraw_channel: channel,
            phone,
            status: SimStatus::Pending,
            transaction_date: now,
            pay_time: None,
            cancel_time: None,
            reference_no: String::new(),
        },
    );
    Ok(number)
}

fn query_status(state: &mut State, fields: &Fields, now: DateTime<Utc>) -> String {
    let Ok(Some(asked)) = fields.objects("controlNumbers") else {
        return envelope("-1000", NOT_VALID, &[]);
    };
    if asked.len() > api::MAX_QUERY_NUMBERS {
        return envelope("-1000", "A maximum quantity of 50 transactions", &[]);
    }
    let asked: Vec<String> = asked
        .iter()
        .filter_map(|f| f.text("controlNumber").ok().flatten())
        .collect();
    for number in &asked {
        state.check_query(number, now);
    }
    let elements: Vec<Value> = asked
        .into_iter()
        .filter(|n| !state.hidden.contains(n))
        .filter_map(|n| state.payouts.get(&n))
        .filter_map(|p| serde_json::to_value(p.status_element()).ok())
        .collect();
    envelope(
        "1000",
        "Success",
        &[("controlNumbers", Value::Array(elements).to_string())],
    )
}

fn report(
    state: &State,
    fields: &Fields,
    select: fn(&State, &ReportQuery) -> state::ReportPage,
) -> String {
    let date = |name: &'static str| {
        fields
            .text(name)
            .ok()
            .flatten()
            .and_then(|t| skypay::protocol::time::parse_date(&t))
    };
    let query = (|| {
        Some(ReportQuery {
            start: date("startDate")?,
            end: date("endDate")?,
            date_type: DateType::parse(&fields.text("dateType").ok().flatten()?)?,
            page: usize::try_from(fields.integer("pagination", 1, 1_000_000).ok().flatten()?)
                .ok()?,
            page_size: usize::try_from(
                fields
                    .integer(
                        "pageSize",
                        1,
                        u32::try_from(api::MAX_REPORT_PAGE_SIZE).ok()?,
                    )
                    .ok()
                    .flatten()?,
            )
            .ok()?,
        })
    })();
    match query {
        Some(query) => serde_json::to_string(&select(state, &query))
            .unwrap_or_else(|_| envelope("-1009", "Unpredictable exception occur", &[])),
        None => envelope("-1000", NOT_VALID, &[]),
    }
}

/// Moves an accepted payout on (uploaded, then its outcome), calling the gateway back at each
/// step when there is one.
fn progress(shared: Arc<Shared>, number: String) {
    let outcome = shared.config.outcome;
    if outcome == Outcome::Pending {
        return;
    }
    let delay = shared.config.delay;
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let reference = format!("SIM{:010}", rand::random::<u64>() % 10_000_000_000);
        let uploaded = {
            let mut state = lock(&shared.state);
            match state.payouts.get_mut(&number) {
                Some(p) if p.status == SimStatus::Pending => {
                    p.status = SimStatus::Uploaded;
                    p.reference_no = reference.clone();
                    true
                }
                _ => false,
            }
        };
        if !uploaded {
            return;
        }
        callback(
            &shared,
            &number,
            1,
            Utc::now(),
            Some(("referenceNumber", &reference)),
        )
        .await;
        let (status, pay_type) = match outcome {
            Outcome::Paid => (SimStatus::Completed, 2),
            Outcome::Failed => (SimStatus::Failed, 4),
            Outcome::Cancelled => (SimStatus::Cancelled, 3),
            Outcome::Uploaded | Outcome::Pending => return,
        };
        tokio::time::sleep(delay).await;
        let at = Utc::now();
        let moved = {
            let mut state = lock(&shared.state);
            let open = state
                .payouts
                .get(&number)
                .is_some_and(|p| p.status == SimStatus::Uploaded);
            if open {
                advance(&mut state, &number, status, at);
            }
            open
        };
        if moved {
            let extra = (pay_type == 4).then_some(("failDescription", "Account is invalid"));
            callback(&shared, &number, pay_type, at, extra).await;
        }
    });
}

/// One payoutQueuePayout to the gateway, tried up to three times until it answers 1000.
async fn callback(
    shared: &Shared,
    number: &str,
    pay_type: u32,
    at: DateTime<Utc>,
    extra: Option<(&str, &str)>,
) {
    let Some(client) = &shared.callback else {
        return;
    };
    let partner = &shared.config.partner;
    let mut body = json!({
        "userName": partner.username,
        "action": "payoutQueuePayout",
        "authentication": partner.auth_keys.current().expose_secret(),
        "controlNumber": number,
        "payType": pay_type.to_string(),
        "dealTime": SkyPayTime::from_utc(at).text,
    });
    if let (Some((name, value)), Some(map)) = (extra, body.as_object_mut()) {
        map.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    let mut answer = Err("not sent".to_owned());
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        answer = match client.call(&body).await {
            Ok(fields) => match fields.text("responseCode") {
                Ok(Some(code)) => Ok(code),
                _ => Err("no responseCode".to_owned()),
            },
            Err(e) => Err(e),
        };
        if answer.as_deref() == Ok("1000") {
            break;
        }
    }
    tracing::info!(
        controlNumber = number,
        payType = pay_type,
        answer = ?answer,
        "skypay-sim called the gateway back"
    );
    lock(&shared.state).callbacks.push(CallbackRecord {
        control_number: number.to_owned(),
        pay_type,
        answer,
    });
}
