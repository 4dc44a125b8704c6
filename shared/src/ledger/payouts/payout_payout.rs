//! payoutPayout, the cashier's payment: paid once, by one conditional `UpdateItem`;
//! payoutInquiry, the same rule read from one `GetItem`; and partner-api's cancel, which races
//! the payment on the same item and the same facts (SPEC 4, 13.2, 13.5).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{PayoutStatus, payout_key, reference_of, status_of};
use crate::ledger::conditional::{Conditional, Returns};
use crate::ledger::expr::bind;
use crate::ledger::item::{Item, n, s, ss};
use crate::ledger::{Ledger, LedgerError, WriteContext, reconcile};
use crate::protocol::mask::Private;
use crate::protocol::rules::{ControlNumber, money};
use crate::protocol::time::SkyPayTime;

/// What payoutPayout may pay: registered for a shop pickup (channel 1 or 9: a pushed payout
/// is never paid at a counter, SPEC 14.2), queued (or uploaded), not paid, not closed, not
/// expired. `payability` below is the same rule read from an item.
const PAYABLE: &str = "(#withdrawChannel = :one OR #withdrawChannel = :nine) \
     AND attribute_not_exists(#paidAt) AND attribute_not_exists(#closedAs) \
     AND #expiresAt > :nowEpoch \
     AND (#queueStatus = :QUEUED OR (#queueStatus = :PENDING AND attribute_exists(#uploadedAt)))";

/// Why a pushed payout (channel 5, 6, 8, 15) is refused at a counter, in every state: -1012,
/// logged at warn and counted as an anomaly (SPEC 14.2).
pub const PUSHED_AT_COUNTER: &str = "a pushed payout asked at a counter";

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
    /// A pushed payout SkyPay has (QUEUED or later): SkyPay cancels only remit-store (V2)
    /// payouts, out of scope (SPEC 13.5): 409.
    Pushed(PayoutStatus),
    /// A PENDING pushed payout whose push outcome is unknown: SkyPay may have it (SPEC 14.3):
    /// 409 until payoutQueryStatus settles it.
    PushInDoubt,
    /// A PENDING pushed payout being pushed right now: 409, try again.
    PushInFlight,
    /// Paid (the cashier won the race), closed by a callback, or held by orphan callbacks: 409.
    Refused(PayoutStatus),
    /// No payout under the number: 404.
    Unknown,
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
                ("one", n(1)),
                ("nine", n(9)),
            ],
        );
        let result = self
            .update_if(
                payout_key(control_number.as_str()),
                PAYABLE,
                update,
                bound,
                Returns::OldOnRefusal,
            )
            .await?;
        Ok(match result {
            Conditional::Written(_) => PayOutcome::Paid,
            Conditional::Refused(old) => classify_unpayable(old.as_ref().map(Item), ctx),
        })
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

    /// `POST /admin/payouts/{n}/cancel` (SPEC 13.5, 14.3): a shop pickup (channel 1 or 9) not
    /// yet paid, or a PENDING pushed payout SkyPay never took (no attempt in doubt, no push in
    /// flight, nothing reported by SkyPay), becomes CANCELLED, in one conditional `UpdateItem`
    /// on the same item payoutPayout and the push write: of a cashier's payment (or a push)
    /// and the cancel, exactly one wins. A failed condition is classified from the item as it
    /// was. A hold (SkyPay refused the push for a reason about us) ends with the payout: the
    /// last refusal stays in `lastPushError`.
    pub async fn cancel_payout(
        &self,
        control_number: &ControlNumber,
        ctx: &WriteContext,
    ) -> Result<CancelOutcome, LedgerError> {
        let condition = "attribute_exists(#queueStatus) \
             AND attribute_not_exists(#paidAt) AND attribute_not_exists(#closedAs) \
             AND ((#withdrawChannel = :one OR #withdrawChannel = :nine) \
               OR (#queueStatus = :PENDING AND attribute_not_exists(#pushInDoubt) \
                   AND attribute_not_exists(#leaseToken) AND attribute_not_exists(#uploadedAt) \
                   AND attribute_not_exists(#lastEventAt)))";
        let update = "SET #closedAs = :cancelled, #closedAt = :now, #closedBy = :via, \
             #cancelToken = :token, #updatedAt = :now ADD #finals :cancelledSet \
             REMOVE #openPush, #pushHeld";
        let bound = bind(
            &[condition, update],
            vec![
                ("one", n(1)),
                ("nine", n(9)),
                ("PENDING", s("PENDING")),
                ("cancelled", s("CANCELLED")),
                ("now", s(ctx.now_text())),
                ("via", s("partner-api")),
                ("token", s(&ctx.token)),
                ("cancelledSet", ss(&["CANCELLED"])),
            ],
        );
        let result = self
            .update_if(
                payout_key(control_number.as_str()),
                condition,
                update,
                bound,
                Returns::OldOnRefusal,
            )
            .await?;
        let failed = match result {
            Conditional::Written(_) => return Ok(CancelOutcome::Cancelled),
            Conditional::Refused(old) => old,
        };
        let Some(old) = failed else {
            return Ok(CancelOutcome::Unknown);
        };
        let old = Item(&old);
        let Some(status) = status_of(old) else {
            return Ok(CancelOutcome::Refused(PayoutStatus::Orphan));
        };
        let pickup = matches!(old.u32("withdrawChannel"), Some(1 | 9));
        let lease_until = old
            .has("leaseToken")
            .then(|| old.i64("leaseUntil").unwrap_or(0));
        Ok(match status {
            PayoutStatus::Cancelled if old.s("cancelToken") == Some(ctx.token.as_str()) => {
                // The SDK retried a request whose first attempt was applied.
                CancelOutcome::Cancelled
            }
            PayoutStatus::Cancelled if old.s("closedBy") == Some("partner-api") => {
                CancelOutcome::AlreadyCancelled
            }
            // SkyPay has reported on it: it has it, whatever our pushes heard.
            PayoutStatus::Pending if !pickup && old.has("lastEventAt") => {
                CancelOutcome::Pushed(status)
            }
            PayoutStatus::Pending if !pickup && old.has("pushInDoubt") => {
                CancelOutcome::PushInDoubt
            }
            PayoutStatus::Pending if !pickup => match lease_until {
                Some(until) if until >= ctx.now.timestamp() => CancelOutcome::PushInFlight,
                // A push that died in flight: in doubt.
                _ => CancelOutcome::PushInDoubt,
            },
            _ if !pickup => CancelOutcome::Pushed(status),
            other => CancelOutcome::Refused(other),
        })
    }
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
    // SPEC 14.2: before the state, so that a pushed payout paid by SkyPay is not -1026 either.
    if !matches!(item.u32("withdrawChannel"), Some(1 | 9)) {
        return Payability::Refused(PayOutcome::NotPayable {
            reason: PUSHED_AT_COUNTER,
        });
    }
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
