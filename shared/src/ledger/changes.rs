//! The ledger's change events (SPEC 13.5): what the table's stream says, as domain events for
//! the loan system. Pure: an item's old and new image in, the events out; `functions/
//! ledger-events` puts them on EventBridge.
//!
//! Every event is a transition of a fact the ledger derives with the rules it answers SkyPay
//! by (`payouts::status_of`, `contracts::status_of`), so a write that changed nothing (a
//! duplicate callback, a repeated receipt refused) gives no event:
//!
//! | event | when |
//! |---|---|
//! | PayoutPaid, PayoutCancelled, PayoutFailed, PayoutRejected | a payout's status becomes PAID, CANCELLED, FAILED, REJECTED |
//! | PayoutAnomaly | a payout's `anomaly` becomes true (a final outcome contradicts another) |
//! | CollectionReceived | a receipt is recorded |
//! | ContractSettled | a contract's status becomes SETTLED |
//! | FinanceNotification | a finance notification (or a conflicting repeat) is stored |
//!
//! Each carries numbers, amounts (decimal strings) and times (ISO 8601 with the Manila offset),
//! never a name, a phone or an account number, and an `id` derived from the stream record and
//! the event's type: the same record always gives the same id, so a consumer can drop a
//! repeat (a stream batch is retried whole from its first failed record).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::contracts;
use super::item::{Attributes, Item};
use super::payouts::{self, PayoutStatus};
use crate::ledger::ContractStatus;
use crate::protocol::rules::money;
use crate::protocol::time;

/// The `source` of every event.
pub const SOURCE: &str = "skypay.ledger";
/// The detail-type of a payout whose final outcomes contradict each other.
pub const PAYOUT_ANOMALY: &str = "PayoutAnomaly";

/// One stream record, as the mapping needs it.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    /// The stream record's `eventID`: unique per record.
    pub record_id: &'a str,
    pub old: Option<&'a Attributes>,
    pub new: Option<&'a Attributes>,
    /// When the change was written (the record's approximate creation time).
    pub at: DateTime<Utc>,
}

/// A domain event, ready for EventBridge.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainEvent {
    pub detail_type: &'static str,
    pub detail: Value,
    pub time: DateTime<Utc>,
}

/// What a record gives.
#[derive(Clone, Debug, PartialEq)]
pub enum Mapped {
    /// The events of a ledger item (none for a write that changed nothing).
    Events(Vec<DomainEvent>),
    /// An item of no kind the ledger writes: skipped, and logged by the caller (never a
    /// failure: it would block the stream).
    Unknown(String),
}

/// The events one stream record gives.
pub fn domain_events(change: &Change<'_>) -> Mapped {
    let Some(image) = change.new.or(change.old) else {
        return Mapped::Unknown("a record without an image".to_owned());
    };
    let image = Item(image);
    let pk = image.s("pk").unwrap_or("");
    let sk = image.s("sk").unwrap_or("");
    let mut events = Vec::new();
    let mut emit = |detail_type: &'static str, mut detail: Value| {
        if let Some(map) = detail.as_object_mut() {
            map.insert(
                "id".to_owned(),
                Value::String(event_id(change.record_id, detail_type)),
            );
        }
        events.push(DomainEvent {
            detail_type,
            detail,
            time: change.at,
        });
    };
    match (pk.split('#').next().unwrap_or(""), sk) {
        // A deletion (TTL, never a SkyPay fact) gives nothing.
        _ if change.new.is_none() => {}
        ("PAYOUT", "PAYOUT") => payout_events(change, &mut emit),
        ("PAYOUT", sk) if sk.starts_with("EVENT#") => {}
        ("CONTRACT", "CONTRACT") => {
            let status = |i: Option<&Attributes>| i.map(|a| contracts::status_of(Item(a)).0);
            if status(change.old) != Some(ContractStatus::Settled)
                && status(change.new) == Some(ContractStatus::Settled)
                && let Some(new) = change.new.map(Item)
            {
                let (_, total, due) = contracts::status_of(new);
                emit(
                    "ContractSettled",
                    json!({
                        "contractNumber": new.s("contractNumber"),
                        "amountDue": due.map(money),
                        "collectedTotal": money(total),
                        "settledAt": time::iso_manila(change.at),
                    }),
                );
            }
        }
        ("CONTRACT", sk) if sk.starts_with("RECEIPT#") => {
            if change.old.is_none()
                && let Some(new) = change.new.map(Item)
            {
                emit(
                    "CollectionReceived",
                    json!({
                        "contractNumber": new.s("contractNumber"),
                        "receiptNumber": new.s("receiptNumber"),
                        "payChannel": new.u32("payChannel"),
                        "amount": new.decimal("amount").map(money),
                        "collectedTime": new.s("collectedTime"),
                        "collectedAt": new.s("collectedTimeUtc").map(time::iso_of_stored),
                        "recordedAt": new.s("recordedAt").map(time::iso_of_stored),
                    }),
                );
            }
        }
        ("FINANCE", _) => {
            if change.old.is_none()
                && let Some(new) = change.new.map(Item)
            {
                emit(
                    "FinanceNotification",
                    json!({
                        "referenceNumber": new.s("referenceNumber"),
                        "statementType": new.s("statementType"),
                        "signType": new.s("signType"),
                        "amount": new.decimal("amount").map(money).or_else(|| new.s("amountText").map(str::to_owned)),
                        "currency": new.s("currency"),
                        "transctionDate": new.s("transctionDate"),
                        "transactionAt": new.s("transactionUtc").map(time::iso_of_stored),
                        "conflict": new.bool("conflict").unwrap_or(false),
                        "malformed": !new.string_list("issues").is_empty(),
                    }),
                );
            }
        }
        // The day lists of finance notifications repeat what the notification says; the mark
        // is the ledger's own.
        ("FINANCEDAY", _) | ("LEDGER", _) => {}
        (kind, sk) => return Mapped::Unknown(format!("an item {kind}#…/{sk}")),
    }
    Mapped::Events(events)
}

fn payout_events(change: &Change<'_>, emit: &mut impl FnMut(&'static str, Value)) {
    let status = |i: Option<&Attributes>| i.and_then(|a| payouts::status_of(Item(a)));
    let anomaly = |i: Option<&Attributes>| i.is_some_and(|a| payouts::anomaly_of(Item(a)));
    let Some(new) = change.new.map(Item) else {
        return;
    };
    // Orphan callbacks (no registration) are not a payout of the loan system's.
    let Some(now) = status(change.new) else {
        return;
    };
    let before = status(change.old);
    let number = new.s("controlNumber");
    let amount = new.decimal("amount").map(money);
    let channel = new.u32("withdrawChannel");
    if before != Some(now) {
        let (detail_type, detail) = match now {
            PayoutStatus::Paid => (
                "PayoutPaid",
                json!({
                    "controlNumber": number, "amount": amount, "withdrawChannel": channel,
                    "paidChannel": new.u32("paidChannel"), "paidBy": new.s("paidBy"),
                    "payTime": new.s("payTime"),
                    "payTimeAt": new.s("payTimeUtc").map(time::iso_of_stored),
                    "paidAt": new.s("paidAt").map(time::iso_of_stored),
                }),
            ),
            PayoutStatus::Cancelled | PayoutStatus::Failed => (
                if now == PayoutStatus::Cancelled {
                    "PayoutCancelled"
                } else {
                    "PayoutFailed"
                },
                json!({
                    "controlNumber": number, "amount": amount, "withdrawChannel": channel,
                    "closedBy": new.s("closedBy"),
                    "closedAt": new.s("closedAt").map(time::iso_of_stored),
                }),
            ),
            PayoutStatus::Rejected => (
                "PayoutRejected",
                json!({
                    "controlNumber": number, "amount": amount, "withdrawChannel": channel,
                    "skypayCode": new.s("skypayCode"),
                    "rejectedAt": time::iso_manila(change.at),
                }),
            ),
            // PENDING, QUEUED, UPLOADED: progress the loan system reads when it needs it.
            _ => ("", Value::Null),
        };
        if !detail_type.is_empty() {
            emit(detail_type, detail);
        }
    }
    if !anomaly(change.old) && anomaly(change.new) {
        emit(
            PAYOUT_ANOMALY,
            json!({
                "controlNumber": number, "amount": amount, "status": now.as_str(),
                "outcomes": new.string_set("finals"),
                "at": time::iso_manila(change.at),
            }),
        );
    }
}

/// A stable id: the same stream record and event type always give the same one.
fn event_id(record_id: &str, detail_type: &str) -> String {
    let digest = Sha256::digest(format!("{record_id}|{detail_type}").as_bytes());
    hex::encode(digest.get(..16).unwrap_or_default())
}
