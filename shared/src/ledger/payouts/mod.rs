//! Payouts: registration, payoutPayout's "paid once", and the status callbacks.
//!
//! A payout's status is derived from a handful of *facts* on its item, each written at most
//! once and never taken back, so that every callback is one request whatever the payout's
//! current state, and the result does not depend on arrival order:
//!
//! | fact | written by |
//! |---|---|
//! | `queueStatus` PENDING / QUEUED / REJECTED | payout-queue (registration and push outcome) |
//! | `uploadedAt` | payType 1 |
//! | `paidAt` (+ `payTime`, `paidChannel`, `paidBy`) | payoutPayout, payType 2 |
//! | `closedAs` CANCELLED / FAILED, first one wins | payType 3, 4 |
//! | `finals`, the set of final outcomes reported | payoutPayout, payType 2, 3, 4, REJECTED |
//!
//! Status = PAID if paid, else REJECTED if rejected (final, like a closing: SPEC 14.7), else
//! the closing status if closed, else UPLOADED if uploaded, else the queue status. `anomaly` =
//! more than one final outcome was reported (PAID and CANCELLED, say), in whichever order they
//! came, or SkyPay reported an upload of a payout it refused.
//!
//! The writers live apart, one module each; this module holds the keys, the status rule and
//! the reads they share:
//!
//! | module | writer |
//! |---|---|
//! | `payout_payout` | the cashier's payment (payoutPayout), payoutInquiry's read of the same rule, and partner-api's cancel, which races it on the same facts |
//! | `events` | payoutQueuePayout's callbacks and payout-reconcile's query answers |
//! | `push` | payout-queue: registration, the push lease and the push's outcome |

mod events;
mod payout_payout;
mod push;

pub use events::{EventEffect, EventOutcome, EventSource, PayoutEvent};
pub use payout_payout::{
    CancelOutcome, InquiryOutcome, PUSHED_AT_COUNTER, PayOutcome, Payment, PayoutDetails,
};
pub use push::{
    CreateOutcome, LeaseOutcome, NewPayout, PushOutcome, PushPolicy, PushRecord, Settlement,
};

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::item::{Item, s};
use super::schema::{PARTITION_KEY, SORT_KEY};
use super::{Ledger, LedgerError, Page, key_part};
use crate::protocol::mask::Private;
use crate::protocol::time::{SkyPayTime, Stored};

const PAYOUT_SK: &str = "PAYOUT";
const EVENT_PREFIX: &str = "EVENT#";
/// The payout's set of known referenceNumbers: `payType|dealTime|referenceNumber` entries.
const REFS: &str = "refs";
const REF_SEPARATOR: char = '|';
/// Unpaid payouts may be deleted this long after they expire; paid ones never are.
const UNPAID_RETENTION_DAYS: i64 = 400;

pub(crate) fn payout_pk(control_number: &str) -> String {
    format!("PAYOUT#{}", key_part(control_number))
}

fn payout_key(control_number: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(payout_pk(control_number))),
        (SORT_KEY.to_owned(), s(PAYOUT_SK)),
    ])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PayoutStatus {
    Pending,
    Queued,
    Uploaded,
    Paid,
    Cancelled,
    Failed,
    Rejected,
    /// Only callbacks for a number we never registered (SPEC 12.13).
    Orphan,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "PENDING",
            PayoutStatus::Queued => "QUEUED",
            PayoutStatus::Uploaded => "UPLOADED",
            PayoutStatus::Paid => "PAID",
            PayoutStatus::Cancelled => "CANCELLED",
            PayoutStatus::Failed => "FAILED",
            PayoutStatus::Rejected => "REJECTED",
            PayoutStatus::Orphan => "ORPHAN",
        }
    }
}

/// The status an item's facts give; `None` for an item that only holds callbacks for a control
/// number we never registered (an orphan).
pub(crate) fn status_of(item: Item<'_>) -> Option<PayoutStatus> {
    let queue = item.s("queueStatus")?;
    Some(if item.has("paidAt") {
        PayoutStatus::Paid
    } else if queue == "REJECTED" {
        PayoutStatus::Rejected
    } else if item.s("closedAs") == Some("CANCELLED") {
        PayoutStatus::Cancelled
    } else if item.s("closedAs") == Some("FAILED") {
        PayoutStatus::Failed
    } else if item.has("uploadedAt") {
        PayoutStatus::Uploaded
    } else if queue == "QUEUED" {
        PayoutStatus::Queued
    } else {
        PayoutStatus::Pending
    })
}

/// More than one final outcome, or an upload of a payout SkyPay refused (SPEC 12.4, 14.7).
pub(crate) fn anomaly_of(item: Item<'_>) -> bool {
    let mut finals = item.string_set("finals");
    let rejected = item.s("queueStatus") == Some("REJECTED");
    if rejected && !finals.contains(&"REJECTED") {
        finals.push("REJECTED");
    }
    finals.len() > 1 || (rejected && item.has("uploadedAt"))
}

/// A payout as the ledger holds it, typed (the admin routes render it as JSON). Debug leaves
/// out the instruction.
#[derive(Clone, Debug)]
pub struct Payout {
    pub control_number: String,
    pub status: PayoutStatus,
    pub amount: Decimal,
    pub withdraw_channel: u32,
    pub expires_at: DateTime<Utc>,
    pub anomaly: bool,
    pub reference_number: Option<String>,
    pub fail_description: Option<String>,
    /// When the cash went out, as SkyPay sent it (payoutPayout's `payTime`, or the paid
    /// callback's `dealTime`), and the same instant when it could be read.
    pub pay_time: Option<String>,
    pub pay_time_at: Option<DateTime<Utc>>,
    /// When the ledger recorded the payment.
    pub paid_at: Option<Stored>,
    pub paid_channel: Option<u32>,
    /// When the payout was closed (cancelled or failed), and by whom: `payoutQueuePayout` or
    /// `partner-api`.
    pub closed_at: Option<Stored>,
    pub closed_by: Option<String>,
    pub skypay_code: Option<String>,
    pub skypay_description: Option<String>,
    pub push_attempts: u32,
    /// SPEC 14.3: an attempt's outcome is unknown (SkyPay may have taken it); only
    /// payoutQueryStatus settles it. See also [`Payout::in_doubt_at`].
    pub push_in_doubt: bool,
    /// SPEC 14.3: SkyPay held the push for a reason about us (its code); the payout run pushes
    /// it again.
    pub push_held: Option<String>,
    /// A push holds the lease until then (epoch seconds); past it, a lease never finished is a
    /// push in doubt.
    pub lease_until: Option<i64>,
    /// SkyPay has reported on this payout (a callback or a query answer is stored).
    pub reported: bool,
    /// When a payoutQueryStatus first did not list it while in doubt (epoch seconds).
    pub unlisted_at: Option<i64>,
    pub created_at: Stored,
    /// The canonical instruction, compared by value on a re-post.
    pub instruction: Private<String>,
    /// One page of its events, by dealTime then payType.
    pub events: Vec<EventRecord>,
}

/// One callback or query answer stored under a payout.
#[derive(Clone, Debug)]
pub struct EventRecord {
    /// `payoutQueuePayout` (a callback) or `payoutQueryStatus` (our query's answer).
    pub source: String,
    pub pay_type: String,
    /// As SkyPay sent it, and the same instant when it could be read.
    pub deal_time: String,
    pub deal_time_at: Option<Stored>,
    pub fail_description: Option<String>,
    pub reference_number: Option<String>,
    pub received_at: Stored,
    pub applied: bool,
    pub issues: Vec<String>,
}

impl Ledger {
    /// A payout with the first page of its callbacks. `Ok(None)` when nothing is stored under
    /// the number.
    pub async fn payout(&self, control_number: &str) -> Result<Option<PayoutLookup>, LedgerError> {
        Ok(self
            .payout_page(control_number, &Page::first())
            .await?
            .map(|page| page.lookup))
    }

    /// A payout with one page of its callbacks (in key order: payType, then dealTime), and the
    /// cursor of the next page. `Ok(None)` when nothing is stored under the number.
    pub async fn payout_page(
        &self,
        control_number: &str,
        page: &Page,
    ) -> Result<Option<PayoutPage>, LedgerError> {
        let (meta, items, next) = self
            .head_and_page(payout_pk(control_number), PAYOUT_SK, EVENT_PREFIX, page)
            .await?;
        let events: Vec<EventRecord> = items.iter().map(|a| event_record(Item(a))).collect();
        if meta.is_none() && events.is_empty() && page.after.is_none() {
            return Ok(None);
        }
        let view = match &meta {
            Some(item) => payout_of(Item(item), events.clone())?,
            None => None,
        };
        let lookup = match view {
            Some(view) => PayoutLookup::Payout(Box::new(view)),
            None => PayoutLookup::Orphan(events),
        };
        Ok(Some(PayoutPage { lookup, next }))
    }

    /// A payout's status alone (one strongly consistent `GetItem`); `None` for a number no
    /// payout holds.
    pub async fn payout_status(
        &self,
        control_number: &str,
    ) -> Result<Option<PayoutStatus>, LedgerError> {
        let found = self.get(payout_key(control_number)).await?;
        Ok(found.as_ref().map(Item).and_then(status_of))
    }
}

/// A registered payout's status and amount, typed: what the daily comparison needs of a number
/// SkyPay paid and the day's payments lack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayoutFact {
    pub status: PayoutStatus,
    pub amount: rust_decimal::Decimal,
}

impl Ledger {
    /// A registered payout's status and amount (one strongly consistent `GetItem`); `None` for
    /// a number no payout holds (nothing, or only orphan callbacks).
    pub async fn payout_fact(
        &self,
        control_number: &str,
    ) -> Result<Option<PayoutFact>, LedgerError> {
        let found = self.get(payout_key(control_number)).await?;
        let Some(item) = found.as_ref().map(Item) else {
            return Ok(None);
        };
        let Some(status) = status_of(item) else {
            return Ok(None);
        };
        let amount = item
            .decimal("amount")
            .ok_or_else(|| LedgerError::Malformed {
                key: control_number.to_owned(),
                what: "amount",
            })?;
        Ok(Some(PayoutFact { status, amount }))
    }
}

/// One page of what is stored under a control number, and where the next page starts.
#[derive(Clone, Debug)]
pub struct PayoutPage {
    pub lookup: PayoutLookup,
    pub next: Option<String>,
}

/// What is stored under a control number.
#[derive(Clone, Debug)]
pub enum PayoutLookup {
    Payout(Box<Payout>),
    /// Only callbacks for a number we never registered.
    Orphan(Vec<EventRecord>),
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// The referenceNumber known for a payout (SPEC 13.2 `referenceNo`, 14.7): that of the newest
/// event by dealTime among uploads (payType 1) and amended successes (payType 5): a second
/// upload with another reference means the shop re-issued it. Read from the payout's `refs`
/// set, which those events `ADD` to, so the answer takes one read and does not depend on the
/// order the callbacks came in. dealTime is compared as an instant when it can be read (else
/// as sent); on a tie, the amendment wins.
fn reference_of(item: Item<'_>) -> Option<String> {
    item.string_set(REFS)
        .into_iter()
        .filter_map(|entry| {
            let mut parts = entry.splitn(3, REF_SEPARATOR);
            let (pay_type, deal_time, reference) = (parts.next()?, parts.next()?, parts.next()?);
            let instant = SkyPayTime::parse(deal_time).map(|t| t.utc);
            Some(((instant, deal_time, pay_type), reference))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, reference)| reference.to_owned())
}

fn event_record(item: Item<'_>) -> EventRecord {
    EventRecord {
        source: item
            .s("source")
            .unwrap_or(EventSource::Callback.as_str())
            .to_owned(),
        pay_type: item.s("payType").unwrap_or_default().to_owned(),
        deal_time: item.s("dealTime").unwrap_or_default().to_owned(),
        deal_time_at: item.s("dealTimeUtc").map(Stored::from),
        fail_description: item.s("failDescription").map(str::to_owned),
        reference_number: item.s("referenceNumber").map(str::to_owned),
        received_at: Stored::from(item.s("receivedAt").unwrap_or_default()),
        applied: item.bool("applied").unwrap_or(false),
        issues: item
            .string_list("issues")
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }
}

impl Payout {
    /// Whether a push holds the lease at `now` (epoch seconds).
    pub fn leased_at(&self, now: i64) -> bool {
        self.lease_until.is_some_and(|until| until >= now)
    }

    /// Whether SkyPay may have a push we never heard the outcome of: marked in doubt, or a
    /// push that died in flight (its lease ran out and was never finished).
    pub fn in_doubt_at(&self, now: i64) -> bool {
        self.push_in_doubt || self.lease_until.is_some_and(|until| until < now)
    }
}

/// The payout an item holds, or `None` for an orphan (callbacks only).
pub(crate) fn payout_of(
    item: Item<'_>,
    mut events: Vec<EventRecord>,
) -> Result<Option<Payout>, LedgerError> {
    let Some(status) = status_of(item) else {
        return Ok(None);
    };
    let key = item.s("controlNumber").unwrap_or_default().to_owned();
    let corrupt = |what| LedgerError::Malformed {
        key: key.clone(),
        what,
    };
    let amount = item.decimal("amount").ok_or_else(|| corrupt("amount"))?;
    let expires_at = item.i64("expiresAt").ok_or_else(|| corrupt("expiresAt"))?;
    let expires_at = DateTime::from_timestamp(expires_at, 0).ok_or_else(|| corrupt("expiresAt"))?;
    events.sort_by(|a, b| (&a.deal_time, &a.pay_type).cmp(&(&b.deal_time, &b.pay_type)));
    Ok(Some(Payout {
        control_number: key.clone(),
        status,
        amount,
        withdraw_channel: item
            .u32("withdrawChannel")
            .ok_or_else(|| corrupt("withdrawChannel"))?,
        expires_at,
        anomaly: anomaly_of(item),
        reference_number: reference_of(item),
        fail_description: item.s("failDescription").map(str::to_owned),
        pay_time: item.s("payTime").map(str::to_owned),
        pay_time_at: item
            .s("payTimeUtc")
            .and_then(|t| Stored::from(t).instant())
            .or_else(|| item.s("payTime").and_then(SkyPayTime::parse).map(|t| t.utc)),
        paid_at: item.s("paidAt").map(Stored::from),
        paid_channel: item.u32("paidChannel"),
        closed_at: item.s("closedAt").map(Stored::from),
        closed_by: item.s("closedBy").map(str::to_owned),
        skypay_code: item
            .s("skypayCode")
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        skypay_description: item.s("skypayDescription").map(str::to_owned),
        push_attempts: item.u32("pushAttempts").unwrap_or(0),
        push_in_doubt: item.has("pushInDoubt"),
        push_held: item.s("pushHeld").map(str::to_owned),
        lease_until: item
            .has("leaseToken")
            .then(|| item.i64("leaseUntil").unwrap_or(0)),
        reported: item.has("lastEventAt"),
        unlisted_at: item.i64("unlistedAt"),
        created_at: Stored::from(item.s("createdAt").unwrap_or_default()),
        instruction: Private(item.s("instruction").unwrap_or("{}").to_owned()),
        events,
    }))
}
