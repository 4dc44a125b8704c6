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
//! Status = PAID if paid, else the closing status if closed, else REJECTED if rejected, else
//! UPLOADED if uploaded, else the queue status. `anomaly` = more than one final outcome was
//! reported (PAID and CANCELLED, say), in whichever order they came.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::expr::bind;
use super::item::{Attributes, Item, n, s, ss};
use super::schema::{PARTITION_KEY, SORT_KEY};
use super::{Ledger, LedgerError, Page, WriteContext, failed_condition, key_part, reconcile};
use crate::mask::Private;
use crate::rules::{Amount, ControlNumber, PayoutChannel, money};
use crate::time::{self, SkyPayTime};

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

/// What payoutPayout may pay: registered, queued (or uploaded), not paid, not closed, not
/// expired. `status_of` below is the same rule read from an item.
const PAYABLE: &str = "attribute_not_exists(#paidAt) AND attribute_not_exists(#closedAs) \
     AND #expiresAt > :nowEpoch \
     AND (#queueStatus = :QUEUED OR (#queueStatus = :PENDING AND attribute_exists(#uploadedAt)))";

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
    } else if item.s("closedAs") == Some("CANCELLED") {
        PayoutStatus::Cancelled
    } else if item.s("closedAs") == Some("FAILED") {
        PayoutStatus::Failed
    } else if queue == "REJECTED" {
        PayoutStatus::Rejected
    } else if item.has("uploadedAt") {
        PayoutStatus::Uploaded
    } else if queue == "QUEUED" {
        PayoutStatus::Queued
    } else {
        PayoutStatus::Pending
    })
}

/// A cashier's payout, as payoutPayout reports it.
#[derive(Clone, Debug)]
pub struct Payment {
    pub channel: u32,
    pub pay_time: SkyPayTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayOutcome {
    /// Marked PAID by this call: 1000.
    Paid,
    /// Paid before: -1026.
    AlreadyPaid {
        pay_time: Option<String>,
        channel: Option<u32>,
    },
    /// Unknown, not yet payable, closed, rejected or expired: -1012.
    NotPayable { reason: &'static str },
}

/// What payoutInquiry finds.
#[derive(Clone, Debug)]
pub enum InquiryOutcome {
    /// A payoutPayout now would be paid: the details the cashier checks.
    Payable(Box<PayoutDetails>),
    /// A payoutPayout now would be refused, so is the inquiry: never [`PayOutcome::Paid`].
    Refused(PayOutcome),
}

/// A payable payout as payoutInquiry shows it to the cashier: its amount, the referenceNumber
/// known for it, and the fields of its instruction (identity, `contractNumber`, `location`).
#[derive(Clone, Debug)]
pub struct PayoutDetails {
    pub amount: Decimal,
    pub reference_number: Option<String>,
    /// The instruction as stored: names, phones and ID numbers, never shown by Debug.
    pub instruction: Private<serde_json::Map<String, serde_json::Value>>,
}

impl PayoutDetails {
    /// A string member of the instruction, `""` when it has none.
    pub fn field(&self, name: &str) -> String {
        match self.instruction.0.get(name) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    /// The amount with two decimals, as SkyPay writes amounts.
    pub fn amount_text(&self) -> String {
        money(self.amount)
    }
}

fn details_of(item: Item<'_>) -> Option<PayoutDetails> {
    let instruction = match item
        .s("instruction")
        .map(serde_json::from_str::<serde_json::Value>)
    {
        Some(Ok(serde_json::Value::Object(map))) => map,
        _ => serde_json::Map::new(),
    };
    Some(PayoutDetails {
        amount: item.decimal("amount")?,
        reference_number: reference_of(item),
        instruction: Private(instruction),
    })
}

/// What a cancel did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelOutcome {
    /// CANCELLED by this call: 200.
    Cancelled,
    /// Cancelled before by the loan system: 200, nothing changed.
    AlreadyCancelled,
    /// A pushed payout: SkyPay cancels only remit-store (V2) payouts, out of scope (SPEC 13.5):
    /// 409.
    Pushed(PayoutStatus),
    /// Paid (the cashier won the race), closed by a callback, or held by orphan callbacks: 409.
    Refused(PayoutStatus),
    /// No payout under the number: 404.
    Unknown,
}

/// Who told us about a payout's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSource {
    /// SkyPay's callback (SPEC section 6).
    Callback,
    /// SkyPay's answer to our payoutQueryStatus (SPEC 13.6), applied through the same write.
    Query,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Callback => "payoutQueuePayout",
            EventSource::Query => "payoutQueryStatus",
        }
    }
}

/// A payoutQueuePayout callback (or a payoutQueryStatus answer taken as one), as stored.
/// Values are kept as SkyPay sent them; the key is controlNumber + payType + dealTime as sent
/// (SPEC 12.4), and a query's events have keys of their own (`...#payoutQueryStatus`), so a
/// callback is never mistaken for a duplicate of a query's answer or the reverse.
#[derive(Clone, Debug)]
pub struct PayoutEvent {
    pub source: EventSource,
    pub control_number: String,
    pub pay_type: String,
    pub deal_time: String,
    pub deal_time_utc: Option<DateTime<Utc>>,
    pub fail_description: Option<String>,
    pub reference_number: Option<String>,
    /// What the event does to a registered payout; `None` when it is only recorded (payType 6,
    /// or an event too malformed to apply).
    pub effect: Option<EventEffect>,
    /// Why the event is malformed or unusual, for the record and the warn log.
    pub issues: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventEffect {
    /// payType 1
    Uploaded,
    /// payType 2
    Paid,
    /// payType 3
    Cancelled,
    /// payType 4
    Failed,
    /// payType 5: the new referenceNumber is read from the event itself.
    AmendedSuccess,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    Stored,
    Duplicate,
}

/// A payout to register (payout-queue). Debug leaves out the instruction (names, phones,
/// account numbers).
#[derive(Clone)]
pub struct NewPayout {
    pub control_number: ControlNumber,
    pub amount: Amount,
    pub channel: PayoutChannel,
    pub expires_at: DateTime<Utc>,
    /// The validated instruction, canonical JSON: a re-post is compared with it by value.
    pub instruction: String,
    /// QUEUED for shop pickups; PENDING, with a push lease, for pushed channels.
    pub status: PayoutStatus,
    /// For pushed channels: how long this call holds the right to push.
    pub lease_seconds: Option<i64>,
}

#[derive(Clone, Debug)]
pub enum CreateOutcome {
    Created,
    /// The control number is taken. The view is `None` when only orphan callbacks hold it.
    Exists(Option<Box<PayoutView>>),
}

/// Whether a push's outcome was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushRecord {
    /// Recorded: this attempt still held the lease.
    Recorded,
    /// Not recorded: the lease ran out during the push and another attempt took the payout
    /// over; its record stands.
    LeaseLost,
}

impl PushRecord {
    pub fn recorded(self) -> bool {
        self == PushRecord::Recorded
    }
}

#[derive(Clone, Debug)]
pub enum LeaseOutcome {
    /// This call may push now.
    Acquired { attempts: u32 },
    /// The payout is not PENDING, holds a different instruction, or another push is in flight.
    Refused(Option<Box<PayoutView>>),
}

/// How a push ended, as payout-queue records it.
#[derive(Clone, Debug)]
pub enum PushOutcome {
    Queued {
        code: String,
        description: String,
    },
    Rejected {
        code: String,
        description: String,
    },
    /// Still PENDING: the lease is released so that the next delivery can push again.
    Transient {
        description: String,
    },
}

/// A payout as the admin routes and the tests read it. Debug leaves out the instruction.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutView {
    pub control_number: String,
    pub status: PayoutStatus,
    pub amount: String,
    pub withdraw_channel: u32,
    /// Every time in a view is ISO 8601 with its offset (Manila, `+08:00`); a time SkyPay sent
    /// is also given as SkyPay wrote it (`payTime`, `dealTime`).
    pub expires_at: String,
    pub anomaly: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_description: Option<String>,
    /// When the cash went out, as SkyPay sent it (payoutPayout's `payTime`, or the paid
    /// callback's `dealTime`), and the same instant in ISO 8601.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_time_at: Option<String>,
    /// When the ledger recorded the payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_channel: Option<u32>,
    /// When the payout was closed (cancelled or failed), and by whom: `payoutQueuePayout` or
    /// `partner-api`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skypay_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skypay_description: Option<String>,
    pub push_attempts: u32,
    pub created_at: String,
    pub instruction: serde_json::Value,
    pub events: Vec<EventView>,
    /// Internal: the canonical instruction, compared by value on a re-post.
    #[serde(skip)]
    pub instruction_text: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// `payoutQueuePayout` (a callback) or `payoutQueryStatus` (our query's answer).
    pub source: String,
    pub pay_type: String,
    /// As SkyPay sent it, and the same instant in ISO 8601 when it could be read.
    pub deal_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deal_time_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_number: Option<String>,
    pub received_at: String,
    pub applied: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<String>,
}

impl std::fmt::Debug for NewPayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPayout")
            .field("control_number", &self.control_number)
            .field("amount", &self.amount)
            .field("channel", &self.channel)
            .field("expires_at", &self.expires_at)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PayoutView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayoutView")
            .field("control_number", &self.control_number)
            .field("status", &self.status)
            .field("amount", &self.amount)
            .field("withdraw_channel", &self.withdraw_channel)
            .field("expires_at", &self.expires_at)
            .field("anomaly", &self.anomaly)
            .field("skypay_code", &self.skypay_code)
            .field("push_attempts", &self.push_attempts)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// payoutPayout: marks a payable payout PAID with one conditional `UpdateItem`. A failed
    /// condition is classified from the item DynamoDB returns with it.
    pub async fn pay_out(
        &self,
        control_number: &ControlNumber,
        payment: &Payment,
        ctx: &WriteContext,
    ) -> Result<PayOutcome, LedgerError> {
        let update = "SET #paidAt = :now, #paidBy = :via, #payTime = :payTime, \
             #payTimeUtc = :payTimeUtc, #paidChannel = :channel, #paidRequestId = :requestId, \
             #paidToken = :token, #updatedAt = :now, #dailyKey = :paidDay \
             ADD #finals :paidSet REMOVE #ttl, #openPush";
        let bound = bind(
            &[update, PAYABLE],
            vec![
                ("now", s(ctx.now_text())),
                ("nowEpoch", n(ctx.now.timestamp())),
                ("via", s("payoutPayout")),
                ("payTime", s(&payment.pay_time.text)),
                ("payTimeUtc", s(payment.pay_time.utc.to_rfc3339())),
                (
                    "paidDay",
                    s(reconcile::paid_key(payment.pay_time.manila_date())),
                ),
                ("channel", n(payment.channel)),
                ("requestId", s(&ctx.request_id)),
                ("token", s(&ctx.token)),
                ("paidSet", ss(&["PAID"])),
                ("QUEUED", s("QUEUED")),
                ("PENDING", s("PENDING")),
            ],
        );
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(payout_key(control_number.as_str())))
            .update_expression(update)
            .condition_expression(PAYABLE)
            .set_expression_attribute_names(bound.names)
            .set_expression_attribute_values(bound.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(PayOutcome::Paid),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(classify_unpayable(failed.item().map(Item), ctx))
                }
                _ => Err(LedgerError::dynamo("UpdateItem", &e)),
            },
        }
    }

    /// payoutInquiry (SPEC 13.2): what a payoutPayout arriving now would get, from one
    /// strongly consistent `GetItem`; nothing is written.
    pub async fn inquire_payout(
        &self,
        control_number: &ControlNumber,
        now: DateTime<Utc>,
    ) -> Result<InquiryOutcome, LedgerError> {
        let found = self.get(payout_key(control_number.as_str())).await?;
        let item = found.as_ref().map(Item);
        Ok(match payability(item, now) {
            Payability::Payable => match item.map(details_of) {
                Some(Some(details)) => InquiryOutcome::Payable(Box::new(details)),
                _ => {
                    return Err(LedgerError::Malformed {
                        key: control_number.to_string(),
                        what: "a payable payout without an amount",
                    });
                }
            },
            Payability::Paid { paid, .. } => InquiryOutcome::Refused(paid),
            Payability::Refused(outcome) => InquiryOutcome::Refused(outcome),
        })
    }

    /// `POST /admin/payouts/{n}/cancel` (SPEC 13.5): a shop pickup (channel 1 or 9) not yet
    /// paid becomes CANCELLED, in one conditional `UpdateItem` on the same item payoutPayout
    /// writes: of a cashier's payment and the cancel, exactly one wins. A failed condition is
    /// classified from the item as it was.
    pub async fn cancel_payout(
        &self,
        control_number: &ControlNumber,
        ctx: &WriteContext,
    ) -> Result<CancelOutcome, LedgerError> {
        let condition = "attribute_exists(#queueStatus) \
             AND (#withdrawChannel = :one OR #withdrawChannel = :nine) \
             AND attribute_not_exists(#paidAt) AND attribute_not_exists(#closedAs)";
        let update = "SET #closedAs = :cancelled, #closedAt = :now, #closedBy = :via, \
             #cancelToken = :token, #updatedAt = :now ADD #finals :cancelledSet";
        let bound = bind(
            &[condition, update],
            vec![
                ("one", n(1)),
                ("nine", n(9)),
                ("cancelled", s("CANCELLED")),
                ("now", s(ctx.now_text())),
                ("via", s("partner-api")),
                ("token", s(&ctx.token)),
                ("cancelledSet", ss(&["CANCELLED"])),
            ],
        );
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(payout_key(control_number.as_str())))
            .condition_expression(condition)
            .update_expression(update)
            .set_expression_attribute_names(bound.names)
            .set_expression_attribute_values(bound.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let failed = match result {
            Ok(_) => return Ok(CancelOutcome::Cancelled),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    failed.item().cloned()
                }
                _ => return Err(LedgerError::dynamo("UpdateItem", &e)),
            },
        };
        let Some(old) = failed else {
            return Ok(CancelOutcome::Unknown);
        };
        let old = Item(&old);
        let Some(status) = status_of(old) else {
            return Ok(CancelOutcome::Refused(PayoutStatus::Orphan));
        };
        let pickup = matches!(old.u32("withdrawChannel"), Some(1 | 9));
        Ok(match status {
            PayoutStatus::Cancelled if old.s("cancelToken") == Some(ctx.token.as_str()) => {
                // The SDK retried a request whose first attempt was applied.
                CancelOutcome::Cancelled
            }
            PayoutStatus::Cancelled if old.s("closedBy") == Some("partner-api") => {
                CancelOutcome::AlreadyCancelled
            }
            _ if !pickup => CancelOutcome::Pushed(status),
            other => CancelOutcome::Refused(other),
        })
    }

    /// payoutQueuePayout: stores the event once and applies its effect, in one request.
    pub async fn record_event(
        &self,
        event: &PayoutEvent,
        ctx: &WriteContext,
    ) -> Result<EventOutcome, LedgerError> {
        let pk = payout_pk(or_dash(&event.control_number));
        let mut sk = format!(
            "{EVENT_PREFIX}{}#{}",
            key_part(or_dash(&event.pay_type)),
            key_part(or_dash(&event.deal_time))
        );
        if event.source == EventSource::Query {
            sk.push('#');
            sk.push_str(EventSource::Query.as_str());
        }
        let mut item: Attributes = HashMap::from([
            (PARTITION_KEY.to_owned(), s(&pk)),
            (SORT_KEY.to_owned(), s(sk)),
            ("kind".to_owned(), s("payoutEvent")),
            ("source".to_owned(), s(event.source.as_str())),
            ("controlNumber".to_owned(), s(&event.control_number)),
            ("payType".to_owned(), s(&event.pay_type)),
            ("dealTime".to_owned(), s(&event.deal_time)),
            ("receivedAt".to_owned(), s(ctx.now_text())),
            ("requestId".to_owned(), s(&ctx.request_id)),
            (
                "applied".to_owned(),
                AttributeValue::Bool(event.effect.is_some()),
            ),
        ]);
        if let Some(utc) = event.deal_time_utc {
            item.insert("dealTimeUtc".to_owned(), s(utc.to_rfc3339()));
        }
        if let Some(d) = &event.fail_description {
            item.insert("failDescription".to_owned(), s(d));
        }
        if let Some(r) = &event.reference_number {
            item.insert("referenceNumber".to_owned(), s(r));
        }
        if !event.issues.is_empty() {
            item.insert(
                "issues".to_owned(),
                AttributeValue::L(event.issues.iter().map(s).collect()),
            );
        }
        let new_only = "attribute_not_exists(#pk)";
        let names = bind(&[new_only], vec![]).names;

        let Some(effect) = event.effect else {
            // Recorded only: one conditional PutItem.
            let result = self
                .client
                .put_item()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression(new_only)
                .set_expression_attribute_names(names)
                .send()
                .await;
            return match result {
                Ok(_) => Ok(EventOutcome::Stored),
                Err(e) => match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(_)) => {
                        Ok(EventOutcome::Duplicate)
                    }
                    _ => Err(LedgerError::dynamo("PutItem", &e)),
                },
            };
        };

        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression(new_only)
            .set_expression_attribute_names(names)
            .build()
            .map_err(|e| LedgerError::build("Put", &e))?;

        let common = "#controlNumber = if_not_exists(#controlNumber, :cn), #updatedAt = :now, \
                      #lastEventAt = :now";
        // payType 1 and 5 carry ML's referenceNumber: added to the set `reference_of` reads.
        let reference = match (effect, event.reference_number.as_deref()) {
            (EventEffect::Uploaded, Some(r)) if !r.is_empty() => Some(("1", r)),
            (EventEffect::AmendedSuccess, Some(r)) if !r.is_empty() => Some(("5", r)),
            _ => None,
        };
        let add_ref = if reference.is_some() {
            " ADD #refs :ref"
        } else {
            ""
        };
        let update = match effect {
            EventEffect::Uploaded => {
                format!("SET {common}, #uploadedAt = if_not_exists(#uploadedAt, :now){add_ref}")
            }
            // Final: out of the open pushed payouts; into the day's payments.
            EventEffect::Paid => format!(
                "SET {common}, #paidAt = if_not_exists(#paidAt, :now), \
                 #paidBy = if_not_exists(#paidBy, :via), \
                 #payTime = if_not_exists(#payTime, :dealTime), \
                 #dailyKey = if_not_exists(#dailyKey, :paidDay) \
                 ADD #finals :final REMOVE #ttl, #openPush"
            ),
            EventEffect::Cancelled | EventEffect::Failed => {
                let describe = if event.fail_description.is_some() {
                    ", #failDescription = if_not_exists(#failDescription, :failDescription)"
                } else {
                    ""
                };
                format!(
                    "SET {common}, #closedAs = if_not_exists(#closedAs, :closing), \
                     #closedAt = if_not_exists(#closedAt, :now), \
                     #closedBy = if_not_exists(#closedBy, :via){describe} ADD #finals :final \
                     REMOVE #openPush"
                )
            }
            EventEffect::AmendedSuccess => format!("SET {common}{add_ref}"),
        };
        let ref_entry = reference
            .map(|(pay_type, r)| {
                format!(
                    "{pay_type}{REF_SEPARATOR}{}{REF_SEPARATOR}{r}",
                    event.deal_time
                )
            })
            .unwrap_or_default();
        let closing = match effect {
            EventEffect::Cancelled => "CANCELLED",
            EventEffect::Failed => "FAILED",
            _ => "PAID",
        };
        let bound = bind(
            &[&update],
            vec![
                ("cn", s(&event.control_number)),
                ("now", s(ctx.now_text())),
                ("via", s(event.source.as_str())),
                ("dealTime", s(&event.deal_time)),
                (
                    "paidDay",
                    s(reconcile::paid_key(reconcile::manila_day(
                        event.deal_time_utc.unwrap_or(ctx.now),
                    ))),
                ),
                ("final", ss(&[closing])),
                ("closing", s(closing)),
                (
                    "failDescription",
                    s(event.fail_description.clone().unwrap_or_default()),
                ),
                ("ref", AttributeValue::Ss(vec![ref_entry])),
            ],
        );
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(payout_key(&event.control_number)))
            .update_expression(update)
            .set_expression_attribute_names(bound.names)
            .set_expression_attribute_values(bound.values)
            .build()
            .map_err(|e| LedgerError::build("Update", &e))?;

        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(update).build(),
        ];
        match self.transact(items, ctx).await? {
            None => Ok(EventOutcome::Stored),
            // The event is already stored: a duplicate, a no-op (SPEC section 6).
            Some(reasons) if failed_condition(&reasons, 0).is_some() => Ok(EventOutcome::Duplicate),
            Some(_) => Err(LedgerError::Malformed {
                key: pk,
                what: "an unconditional update failed its condition",
            }),
        }
    }

    /// Registers a payout: one conditional `PutItem` (the control number must be new).
    pub async fn create_payout(
        &self,
        payout: &NewPayout,
        ctx: &WriteContext,
    ) -> Result<CreateOutcome, LedgerError> {
        let expires = payout.expires_at;
        let mut item: Attributes = HashMap::from([
            (
                PARTITION_KEY.to_owned(),
                s(payout_pk(payout.control_number.as_str())),
            ),
            (SORT_KEY.to_owned(), s(PAYOUT_SK)),
            ("kind".to_owned(), s("payout")),
            (
                "controlNumber".to_owned(),
                s(payout.control_number.as_str()),
            ),
            ("queueStatus".to_owned(), s(payout.status.as_str())),
            ("amount".to_owned(), n(payout.amount.value())),
            ("withdrawChannel".to_owned(), n(payout.channel.code())),
            ("expiresAt".to_owned(), n(expires.timestamp())),
            (
                "expiresAtText".to_owned(),
                s(SkyPayTime::from_utc(expires).text),
            ),
            ("instruction".to_owned(), s(&payout.instruction)),
            ("createdAt".to_owned(), s(ctx.now_text())),
            ("updatedAt".to_owned(), s(ctx.now_text())),
            ("requestId".to_owned(), s(&ctx.request_id)),
            (
                "ttl".to_owned(),
                n((expires + chrono::Duration::days(UNPAID_RETENTION_DAYS)).timestamp()),
            ),
        ]);
        if let Some(lease) = payout.lease_seconds {
            // A pushed payout: open until final (the index reconciliation reads).
            item.insert(reconcile::OPEN_PUSH.to_owned(), s(reconcile::OPEN));
            item.insert(reconcile::LAST_PUSH_AT.to_owned(), n(ctx.now.timestamp()));
            item.insert("pushAttempts".to_owned(), n(1));
            item.insert("leaseUntil".to_owned(), n(ctx.now.timestamp() + lease));
            item.insert("leaseToken".to_owned(), s(&ctx.token));
        } else {
            item.insert("pushAttempts".to_owned(), n(0));
        }
        let condition = "attribute_not_exists(#pk)";
        let result = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(bind(&[condition], vec![]).names)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let view = match failed.item() {
                        Some(old) => view_of(Item(old), Vec::new())?.map(Box::new),
                        None => None,
                    };
                    Ok(CreateOutcome::Exists(view))
                }
                _ => Err(LedgerError::dynamo("PutItem", &e)),
            },
        }
    }

    /// Takes the right to push a PENDING payout again (a redelivery): the instruction must be
    /// the same and no other push may be in flight. One conditional `UpdateItem`.
    pub async fn acquire_push_lease(
        &self,
        control_number: &ControlNumber,
        instruction: &str,
        lease_seconds: i64,
        ctx: &WriteContext,
    ) -> Result<LeaseOutcome, LedgerError> {
        let condition = "#queueStatus = :PENDING AND #instruction = :instruction \
             AND attribute_not_exists(#paidAt) AND attribute_not_exists(#closedAs) \
             AND (attribute_not_exists(#leaseUntil) OR #leaseUntil < :nowEpoch)";
        let update = "SET #leaseUntil = :leaseUntil, #leaseToken = :token, #updatedAt = :now, \
             #lastPushAt = :nowEpoch ADD #pushAttempts :one";
        let bound = bind(
            &[condition, update],
            vec![
                ("PENDING", s("PENDING")),
                ("instruction", s(instruction)),
                ("nowEpoch", n(ctx.now.timestamp())),
                ("leaseUntil", n(ctx.now.timestamp() + lease_seconds)),
                ("token", s(&ctx.token)),
                ("now", s(ctx.now_text())),
                ("one", n(1)),
            ],
        );
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(payout_key(control_number.as_str())))
            .condition_expression(condition)
            .update_expression(update)
            .set_expression_attribute_names(bound.names)
            .set_expression_attribute_values(bound.values)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(LeaseOutcome::Acquired {
                attempts: out
                    .attributes()
                    .map(|a| Item(a).u32("pushAttempts").unwrap_or(1))
                    .unwrap_or(1),
            }),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let view = match failed.item() {
                        Some(old) => view_of(Item(old), Vec::new())?.map(Box::new),
                        None => None,
                    };
                    Ok(LeaseOutcome::Refused(view))
                }
                _ => Err(LedgerError::dynamo("UpdateItem", &e)),
            },
        }
    }

    /// Records how a push ended. Conditional on still holding the lease, so a late answer of an
    /// abandoned push cannot overwrite a newer one.
    pub async fn finish_push(
        &self,
        control_number: &ControlNumber,
        outcome: &PushOutcome,
        ctx: &WriteContext,
    ) -> Result<PushRecord, LedgerError> {
        let condition = "#leaseToken = :token AND #queueStatus = :PENDING";
        let (update, status, code, description) = match outcome {
            PushOutcome::Queued { code, description } => (
                "SET #queueStatus = :status, #skypayCode = :code, \
                 #skypayDescription = :description, #pushedAt = :now, #updatedAt = :now \
                 REMOVE #leaseUntil, #leaseToken, #lastPushError",
                "QUEUED",
                code.as_str(),
                description.as_str(),
            ),
            PushOutcome::Rejected { code, description } => (
                "SET #queueStatus = :status, #skypayCode = :code, \
                 #skypayDescription = :description, #pushedAt = :now, #updatedAt = :now \
                 ADD #finals :rejectedSet REMOVE #leaseUntil, #leaseToken, #openPush",
                "REJECTED",
                code.as_str(),
                description.as_str(),
            ),
            PushOutcome::Transient { description } => (
                "SET #lastPushError = :description, #updatedAt = :now \
                 REMOVE #leaseUntil, #leaseToken",
                "PENDING",
                "",
                description.as_str(),
            ),
        };
        let bound = bind(
            &[condition, update],
            vec![
                ("token", s(&ctx.token)),
                ("PENDING", s("PENDING")),
                ("status", s(status)),
                ("code", s(code)),
                ("description", s(description)),
                ("now", s(ctx.now_text())),
                ("rejectedSet", ss(&["REJECTED"])),
            ],
        );
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(payout_key(control_number.as_str())))
            .condition_expression(condition)
            .update_expression(update)
            .set_expression_attribute_names(bound.names)
            .set_expression_attribute_values(bound.values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(PushRecord::Recorded),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => {
                    Ok(PushRecord::LeaseLost)
                }
                _ => Err(LedgerError::dynamo("UpdateItem", &e)),
            },
        }
    }

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
        let events: Vec<EventView> = items.iter().map(|a| event_view(Item(a))).collect();
        if meta.is_none() && events.is_empty() && page.after.is_none() {
            return Ok(None);
        }
        let view = match &meta {
            Some(item) => view_of(Item(item), events.clone())?,
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

/// One page of what is stored under a control number, and where the next page starts.
#[derive(Clone, Debug)]
pub struct PayoutPage {
    pub lookup: PayoutLookup,
    pub next: Option<String>,
}

/// What is stored under a control number.
#[derive(Clone, Debug)]
pub enum PayoutLookup {
    Payout(Box<PayoutView>),
    /// Only callbacks for a number we never registered.
    Orphan(Vec<EventView>),
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// Whether a payoutPayout arriving at `now` would be paid, read from the payout's item: the
/// rule `PAYABLE` states for DynamoDB, in the same order of answers. payoutInquiry answers
/// with it (SPEC 13.2); payoutPayout classifies a failed condition with it.
fn payability(item: Option<Item<'_>>, now: DateTime<Utc>) -> Payability {
    let Some(item) = item else {
        return Payability::Refused(PayOutcome::NotPayable {
            reason: "unknown control number",
        });
    };
    // SPEC 12.13: orphan callbacks reserve the number, whatever they said (even "paid").
    let Some(status) = status_of(item) else {
        return Payability::Refused(PayOutcome::NotPayable {
            reason: "reserved by callbacks for a number we never registered",
        });
    };
    let reason = match status {
        PayoutStatus::Paid => {
            return Payability::Paid {
                token: item.s("paidToken").map(str::to_owned),
                paid: PayOutcome::AlreadyPaid {
                    pay_time: item.s("payTime").map(str::to_owned),
                    channel: item
                        .u32("paidChannel")
                        .or_else(|| item.u32("withdrawChannel")),
                },
            };
        }
        PayoutStatus::Pending => "not yet queued at SkyPay",
        PayoutStatus::Cancelled => "cancelled",
        PayoutStatus::Failed => "failed",
        PayoutStatus::Rejected => "rejected by SkyPay",
        PayoutStatus::Orphan => "reserved by callbacks for a number we never registered",
        PayoutStatus::Queued | PayoutStatus::Uploaded => {
            if item.i64("expiresAt").is_none_or(|e| e <= now.timestamp()) {
                "expired"
            } else {
                return Payability::Payable;
            }
        }
    };
    Payability::Refused(PayOutcome::NotPayable { reason })
}

enum Payability {
    Payable,
    /// Paid before, with the token of the call that paid it.
    Paid {
        token: Option<String>,
        paid: PayOutcome,
    },
    Refused(PayOutcome),
}

/// Why payoutPayout's condition failed, from the item as it was.
fn classify_unpayable(item: Option<Item<'_>>, ctx: &WriteContext) -> PayOutcome {
    match payability(item, ctx.now) {
        // The SDK retried a request whose first attempt was applied: this call paid it.
        Payability::Paid { token, .. } if token.as_deref() == Some(ctx.token.as_str()) => {
            PayOutcome::Paid
        }
        Payability::Paid { paid, .. } => paid,
        Payability::Refused(outcome) => outcome,
        // The condition failed on an item the rule finds payable: only an item without the
        // attributes the condition reads (written by no code of ours) gets here.
        Payability::Payable => PayOutcome::NotPayable {
            reason: "not payable",
        },
    }
}

/// The referenceNumber known for a payout (SPEC 13.2 `referenceNo`): that of the newest
/// amended success (payType 5, by dealTime), else that of the upload (payType 1). Read from the
/// payout's `refs` set, which those events `ADD` to, so the answer takes one read and does not
/// depend on the order the callbacks came in.
fn reference_of(item: Item<'_>) -> Option<String> {
    let mut refs: Vec<(&str, &str, &str)> = item
        .string_set(REFS)
        .into_iter()
        .filter_map(|entry| {
            let mut parts = entry.splitn(3, REF_SEPARATOR);
            Some((parts.next()?, parts.next()?, parts.next()?))
        })
        .collect();
    refs.sort();
    let newest_amendment = refs.iter().rev().find(|(pay_type, _, _)| *pay_type == "5");
    let first_upload = refs.iter().find(|(pay_type, _, _)| *pay_type == "1");
    newest_amendment
        .or(first_upload)
        .map(|(_, _, reference)| (*reference).to_owned())
}

fn event_view(item: Item<'_>) -> EventView {
    EventView {
        source: item
            .s("source")
            .unwrap_or(EventSource::Callback.as_str())
            .to_owned(),
        pay_type: item.s("payType").unwrap_or_default().to_owned(),
        deal_time: item.s("dealTime").unwrap_or_default().to_owned(),
        deal_time_at: item.s("dealTimeUtc").map(time::iso_of_stored),
        fail_description: item.s("failDescription").map(str::to_owned),
        reference_number: item.s("referenceNumber").map(str::to_owned),
        received_at: time::iso_of_stored(item.s("receivedAt").unwrap_or_default()),
        applied: item.bool("applied").unwrap_or(false),
        issues: item
            .string_list("issues")
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }
}

/// The payout an item holds, or `None` for an orphan (callbacks only).
fn view_of(item: Item<'_>, mut events: Vec<EventView>) -> Result<Option<PayoutView>, LedgerError> {
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
    let reference_number = reference_of(item);
    let instruction_text = item.s("instruction").unwrap_or("{}").to_owned();
    Ok(Some(PayoutView {
        control_number: key.clone(),
        status,
        amount: money(amount),
        withdraw_channel: item
            .u32("withdrawChannel")
            .ok_or_else(|| corrupt("withdrawChannel"))?,
        expires_at: time::iso_manila(expires_at),
        anomaly: item.string_set("finals").len() > 1,
        reference_number,
        fail_description: item.s("failDescription").map(str::to_owned),
        pay_time: item.s("payTime").map(str::to_owned),
        pay_time_at: item.s("payTimeUtc").map(time::iso_of_stored).or_else(|| {
            item.s("payTime")
                .and_then(SkyPayTime::parse)
                .map(|t| time::iso_manila(t.utc))
        }),
        paid_at: item.s("paidAt").map(time::iso_of_stored),
        paid_channel: item.u32("paidChannel"),
        closed_at: item.s("closedAt").map(time::iso_of_stored),
        closed_by: item.s("closedBy").map(str::to_owned),
        skypay_code: item
            .s("skypayCode")
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        skypay_description: item.s("skypayDescription").map(str::to_owned),
        push_attempts: item.u32("pushAttempts").unwrap_or(0),
        created_at: time::iso_of_stored(item.s("createdAt").unwrap_or_default()),
        instruction: serde_json::from_str(&instruction_text).unwrap_or(serde_json::Value::Null),
        events,
        instruction_text,
    }))
}
