//! The loan system's `/admin` routes (SPEC sections 9 and 13.5), as plain functions from a
//! request to a status and a JSON body. The router in this crate's root serves them, in `skypay-local` and in the partner-api Lambda behind its IAM-only API; they
//! are never on SkyPay's API. The rules they apply are the same code the Lambdas run.

use serde_json::{Value, json};

use crate::PendingRetry;
use crate::out::{ContractOut, EventOut, FinanceOut, PayoutOut};

use skypay::config::Config;
use skypay::ledger::{
    CancelOutcome, ContractRegistration, Ledger, Page, PayoutLookup, PayoutStatus, PushPolicy,
    RegisterOutcome, WriteContext,
};
use skypay::outbound::push::{PayoutQueue, Registered, SubmitError, Submitted};
use skypay::protocol::crypto::Encryption;
use skypay::protocol::mask::{Name, Phone, Private};
use skypay::protocol::rules::{self, ControlNumber, NumberError};
use skypay::protocol::wire::{FieldError, Fields};

/// An admin answer: HTTP status and JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct AdminReply {
    pub status: u16,
    pub body: Value,
}

fn reply(status: u16, body: impl serde::Serialize) -> AdminReply {
    AdminReply {
        status,
        body: serde_json::to_value(body).unwrap_or_else(|_| json!({"error": "unserialisable"})),
    }
}

fn error(status: u16, message: impl std::fmt::Display) -> AdminReply {
    reply(status, json!({ "error": message.to_string() }))
}

fn ledger_down(e: &skypay::ledger::LedgerError, request_id: &str) -> AdminReply {
    tracing::error!(requestId = request_id, error = %e, "admin request failed in the ledger");
    error(
        503,
        "the ledger is unavailable; nothing was changed, try again",
    )
}

/// `POST /admin/payouts`: a payout instruction, its `controlNumber` required (SPEC 14.1); the
/// push happens inside the request. The same instruction again is the same payout: 200 with
/// the payout as it stands. A payout left PENDING because the push never left is handed to
/// `retry` as well, when there is one; one left in doubt or held is the payout run's (14.3).
pub async fn post_payout(
    queue: &PayoutQueue,
    retry: Option<&PendingRetry>,
    body: &[u8],
    request_id: &str,
) -> AdminReply {
    let answer = |r, status| registered(queue.ledger(), retry, r, status, request_id);
    match queue.submit(body, PushPolicy::LoanSystem, request_id).await {
        Ok(Submitted::Created(r)) => answer(r, 201).await,
        Ok(Submitted::Repushed(r)) => answer(r, 200).await,
        Ok(Submitted::Existing(payout)) => reply(200, PayoutOut::from(&*payout)),
        Err(e @ (SubmitError::Body(_) | SubmitError::Invalid(_))) => error(400, e),
        Err(e @ (SubmitError::Conflict(_) | SubmitError::InFlight(_))) => error(409, e),
        Err(SubmitError::Ledger(e)) => ledger_down(&e, request_id),
    }
}

/// The reply to a registration: the payout as the ledger now has it (the Lambda path does not
/// read it back). Should that read fail, the registration still happened: the status our own
/// writes left, never an error that would invite a different instruction.
async fn registered(
    ledger: &Ledger,
    retry: Option<&PendingRetry>,
    registered: Registered,
    status: u16,
    request_id: &str,
) -> AdminReply {
    match ledger.payout(registered.control_number.as_str()).await {
        Ok(Some(PayoutLookup::Payout(view))) => {
            let pending = view.status == PayoutStatus::Pending && registered.retry;
            let instruction = view.instruction.clone();
            let mut body = serde_json::to_value(PayoutOut::from(&*view)).unwrap_or(Value::Null);
            if let (true, Some(retry)) = (pending, retry) {
                let queued = match retry.enqueue(&instruction).await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(
                            requestId = request_id,
                            number = registered.control_number.as_str(),
                            error = %e,
                            "a PENDING payout could not be put on the payout queue; post it again"
                        );
                        false
                    }
                };
                if let Some(map) = body.as_object_mut() {
                    map.insert("retryQueued".to_owned(), Value::Bool(queued));
                }
            }
            reply(status, body)
        }
        other => {
            tracing::warn!(
                requestId = request_id,
                number = registered.control_number.as_str(),
                read = ?other.map(|found| found.is_some()),
                "registered, but the payout could not be read back"
            );
            reply(
                status,
                json!({
                    "controlNumber": registered.control_number.as_str(),
                    "status": registered.status.as_str(),
                }),
            )
        }
    }
}

/// `POST /admin/payouts/{controlNumber}/cancel` (SPEC 13.5): a shop pickup not yet paid becomes
/// CANCELLED (200, with the payout); a cancel that loses the race with a cashier's payment, or
/// meets a pushed or closed payout, is 409; an unknown number 404.
pub async fn cancel_payout(
    ledger: &Ledger,
    config: &Config,
    control_number: &str,
    request_id: &str,
) -> AdminReply {
    let Ok(number) = ControlNumber::parse(control_number, &config.prefix) else {
        return error(404, "unknown control number");
    };
    let outcome = match ledger
        .cancel_payout(&number, &WriteContext::new(request_id))
        .await
    {
        Ok(o) => o,
        Err(e) => return ledger_down(&e, request_id),
    };
    let refused = |status: PayoutStatus, why: &str| {
        error(
            409,
            format!("payout {control_number} is {}: {why}", status.as_str()),
        )
    };
    match outcome {
        CancelOutcome::Cancelled | CancelOutcome::AlreadyCancelled => {
            match ledger.payout(control_number).await {
                Ok(Some(PayoutLookup::Payout(payout))) => reply(200, PayoutOut::from(&*payout)),
                Ok(_) => error(500, "the payout just cancelled cannot be read back"),
                Err(e) => ledger_down(&e, request_id),
            }
        }
        CancelOutcome::Pushed(status) => refused(
            status,
            "SkyPay has this pushed payout and cancels only remit-store payouts",
        ),
        CancelOutcome::PushInDoubt => refused(
            PayoutStatus::Pending,
            "a push's outcome is unknown (SkyPay may have taken it); the payout run settles it \
             with payoutQueryStatus, try again after it",
        ),
        CancelOutcome::PushInFlight => refused(
            PayoutStatus::Pending,
            "a push is in flight; try again in a minute",
        ),
        CancelOutcome::Refused(status) => refused(status, "it can no longer be cancelled"),
        CancelOutcome::Unknown => error(404, "unknown control number"),
    }
}

/// `?limit=&cursor=` on the admin reads: one page of a payout's events or a contract's
/// receipts.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl PageQuery {
    fn page(&self) -> Result<Page, AdminReply> {
        Page::parse(self.limit.as_deref(), self.cursor.as_deref()).map_err(|e| error(400, e))
    }
}

/// Adds `nextCursor` to a reply that has a next page.
fn with_next(mut body: Value, next: Option<String>) -> Value {
    if let (Some(next), Some(map)) = (next, body.as_object_mut()) {
        map.insert("nextCursor".to_owned(), Value::String(next));
    }
    body
}

/// `GET /admin/payouts/{controlNumber}?limit=&cursor=`: the payout and one page of its events.
/// A number only orphan callbacks hold is shown with status ORPHAN and its events (SPEC
/// 12.13).
pub async fn get_payout(
    ledger: &Ledger,
    control_number: &str,
    page: &PageQuery,
    request_id: &str,
) -> AdminReply {
    let page = match page.page() {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    match ledger.payout_page(control_number, &page).await {
        Ok(Some(found)) => {
            let body = match found.lookup {
                PayoutLookup::Payout(payout) => {
                    serde_json::to_value(PayoutOut::from(&*payout)).unwrap_or(Value::Null)
                }
                PayoutLookup::Orphan(events) => json!({
                    "controlNumber": control_number,
                    "status": "ORPHAN",
                    "anomaly": false,
                    "events": events.iter().map(EventOut::from).collect::<Vec<_>>(),
                }),
            };
            reply(200, with_next(body, found.next))
        }
        Ok(None) => error(404, "unknown control number"),
        Err(e) => ledger_down(&e, request_id),
    }
}

/// `POST /admin/contracts` `{contractNumber, amountDue, name?, address?, phone?}`.
pub async fn post_contract(
    ledger: &Ledger,
    config: &Config,
    body: &[u8],
    request_id: &str,
) -> AdminReply {
    let registration = match parse_contract(body, config) {
        Ok(r) => r,
        Err(e) => return error(400, e),
    };
    let number = registration.contract_number.as_str().to_owned();
    let outcome = match ledger
        .register_contract(&registration, &WriteContext::new(request_id))
        .await
    {
        Ok(o) => o,
        Err(e) => return ledger_down(&e, request_id),
    };
    let status = match outcome {
        RegisterOutcome::Registered => 201,
        RegisterOutcome::Identical => 200,
        RegisterOutcome::Conflict => {
            return error(
                409,
                format!("contract {number} is registered with different values"),
            );
        }
    };
    match ledger.contract(&number).await {
        Ok(Some(contract)) => reply(status, ContractOut::from(&contract)),
        Ok(None) => error(500, "the contract just registered cannot be read back"),
        Err(e) => ledger_down(&e, request_id),
    }
}

fn parse_contract(body: &[u8], config: &Config) -> Result<ContractRegistration, String> {
    let fields = Fields::decode(body, &Encryption::Off)
        .0
        .map_err(|e| e.to_string())?;
    let field = |e: FieldError| e.to_string();
    let text = fields
        .text("contractNumber")
        .map_err(field)?
        .ok_or("contractNumber is required")?;
    let contract_number = ControlNumber::parse(&text, &config.prefix).map_err(|e| match e {
        NumberError::Prefix => format!(
            "contractNumber must start with our prefix {}",
            config.prefix.as_str()
        ),
        NumberError::Format => format!("contractNumber {}", rules::number_rule(&config.prefix)),
    })?;
    let amount_due = fields.required_amount("amountDue").map_err(field)?;
    // SkyPay's collectionInquiry columns: payerName and payer address, 255 characters each.
    let bounded = |name: &'static str| match fields.text(name) {
        Err(e) => Err(e.to_string()),
        Ok(Some(v)) if !rules::within_length(&v, 1, 255) => {
            Err(format!("{name} must be at most 255 characters"))
        }
        Ok(v) => Ok(v),
    };
    let name = bounded("name")?;
    let address = bounded("address")?;
    let phone = match fields.text("phone").map_err(field)? {
        None => None,
        Some(p) => Some(
            rules::normalise_phone(&p).ok_or("phone must be 11 digits starting with 08 or 09")?,
        ),
    };
    Ok(ContractRegistration {
        contract_number,
        amount_due,
        name: name.map(Name::from),
        address: Private(address),
        phone: phone.map(Phone::from),
    })
}

/// `GET /admin/contracts/{contractNumber}?limit=&cursor=`: the contract and one page of its
/// receipts.
pub async fn get_contract(
    ledger: &Ledger,
    contract_number: &str,
    page: &PageQuery,
    request_id: &str,
) -> AdminReply {
    let page = match page.page() {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    match ledger.contract_page(contract_number, &page).await {
        Ok(Some(found)) => reply(
            200,
            with_next(
                serde_json::to_value(ContractOut::from(&found.contract)).unwrap_or(Value::Null),
                found.next,
            ),
        ),
        Ok(None) => error(404, "unknown contract number"),
        Err(e) => ledger_down(&e, request_id),
    }
}

/// `GET /admin/finance?date=yyyy-MM-dd`: one Manila day's financeNotifications (SPEC 13.4).
pub async fn get_finance(ledger: &Ledger, date: Option<&str>, request_id: &str) -> AdminReply {
    let Some(day) = date.and_then(skypay::protocol::time::parse_date) else {
        return error(400, "date is required, written yyyy-MM-dd");
    };
    match ledger.finance_day(day).await {
        Ok(notifications) => reply(
            200,
            json!({
                "date": day.format("%Y-%m-%d").to_string(),
                "notifications": notifications.iter().map(FinanceOut::from).collect::<Vec<_>>(),
            }),
        ),
        Err(e) => ledger_down(&e, request_id),
    }
}

/// `POST /admin/reconcile` (SPEC 13.6): one payout run now. 200 with what it did (a run
/// another one blocked says `busyUntil`); 502 when the run failed, SkyPay or the ledger (with
/// what it did before); 404 where no run is served here (in AWS
/// it is the payout-reconcile function).
pub async fn reconcile_payouts(
    reconciler: Option<&skypay::outbound::reconcile::Reconciler>,
    request_id: &str,
) -> AdminReply {
    let Some(reconciler) = reconciler else {
        return not_reconciling();
    };
    match reconciler.run_payouts(request_id).await {
        Ok(run) => reply(200, run),
        Err(failure) => reply(502, json!({"error": failure.error, "run": failure.run})),
    }
}

/// `POST /admin/reconcile/daily?date=yyyy-MM-dd` (default yesterday, Manila): the day's
/// reports compared with the ledger. 200 with the differences; 502 on SkyPay; 400 on the date.
pub async fn reconcile_daily(
    reconciler: Option<&skypay::outbound::reconcile::Reconciler>,
    date: Option<&str>,
    request_id: &str,
) -> AdminReply {
    let Some(reconciler) = reconciler else {
        return not_reconciling();
    };
    let day = match date {
        None => reconciler.yesterday(),
        Some(text) => match skypay::protocol::time::parse_date(text) {
            Some(day) => day,
            None => return error(400, "date must be written yyyy-MM-dd"),
        },
    };
    match reconciler.run_daily(day, request_id).await {
        Ok(view) => reply(200, view),
        Err(failure) => error(502, failure.error),
    }
}

fn not_reconciling() -> AdminReply {
    error(
        404,
        "reconciliation does not run here: it needs SKYPAY_API_URL (in AWS, the payout-reconcile \
         function runs it)",
    )
}

/// `GET /admin/reconciliation?date=yyyy-MM-dd`: the day's latest reconciliation and its
/// differences; 404 before one ran.
pub async fn get_reconciliation(
    ledger: &Ledger,
    date: Option<&str>,
    request_id: &str,
) -> AdminReply {
    let Some(day) = date.and_then(skypay::protocol::time::parse_date) else {
        return error(400, "date is required, written yyyy-MM-dd");
    };
    match ledger.reconciliation(day).await {
        Ok(Some(view)) => reply(200, view),
        Ok(None) => error(404, "no reconciliation has run for that date"),
        Err(e) => ledger_down(&e, request_id),
    }
}
