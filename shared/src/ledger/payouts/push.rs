//! payout-queue's writes: registration (one conditional `PutItem`), the push lease for a
//! redelivery, and the push's outcome, conditional on still holding the lease (SPEC 7); and
//! the payout run's settlement of a push whose outcome is unknown (SPEC 14.3).
//!
//! A push's state on the payout item, besides `queueStatus` PENDING:
//!
//! | attribute | meaning | cleared by |
//! |---|---|---|
//! | `leaseToken`, `leaseUntil` | a push is in flight (or died in flight: a lease past `leaseUntil` that was never finished counts as in doubt) | the push's own outcome; the run's settlement; a callback that moves the payout (the push's answer no longer matters) |
//! | `pushInDoubt` | an attempt's outcome is unknown: SkyPay may have taken it | the run: listed by payoutQueryStatus, or unlisted twice 30 minutes apart; a callback that moves the payout (SkyPay holds it) |
//! | `pushHeld` | SkyPay refused for a reason about us (-1001, -1016, -1027, -1032) | the next accepted push; a callback that moves the payout; the loan system's cancel |
//! | `unlistedAt` | in doubt, and one payoutQueryStatus did not list it | a push; the settlement; a callback that moves the payout |

use std::collections::HashMap;

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};

use super::{
    PAYOUT_SK, Payout, PayoutStatus, UNPAID_RETENTION_DAYS, payout_key, payout_of, payout_pk,
};
use crate::ledger::conditional::{Conditional, Returns, conditional};
use crate::ledger::expr::bind;
use crate::ledger::item::{Attributes, Item, n, s, ss};
use crate::ledger::schema::{PARTITION_KEY, SORT_KEY};
use crate::ledger::{Ledger, LedgerError, WriteContext, reconcile};
use crate::protocol::mask::Private;
use crate::protocol::rules::{Amount, ControlNumber, PayoutChannel};
use crate::protocol::time::SkyPayTime;

/// A payout to register (payout-queue). Debug leaves out the instruction (names, phones,
/// account numbers).
#[derive(Clone, Debug)]
pub struct NewPayout {
    pub control_number: ControlNumber,
    pub amount: Amount,
    pub channel: PayoutChannel,
    pub expires_at: DateTime<Utc>,
    /// The validated instruction, canonical JSON: a re-post is compared with it by value.
    pub instruction: Private<String>,
    /// QUEUED for shop pickups; PENDING, with a push lease, for pushed channels.
    pub status: PayoutStatus,
    /// For pushed channels: how long this call holds the right to push.
    pub lease_seconds: Option<i64>,
}

#[derive(Clone, Debug)]
pub enum CreateOutcome {
    Created,
    /// The control number is taken. The view is `None` when only orphan callbacks hold it.
    Exists(Option<Box<Payout>>),
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
    /// This call may push now: its attempt number, and whether an earlier attempt's outcome
    /// was ever unknown (`doubtedAt`: then a -1008 is that attempt's success, SPEC 14.3).
    Acquired { attempts: u32, earlier_doubt: bool },
    /// The payout is not PENDING, holds a different instruction, is in doubt, held (for the
    /// loan system), reported on by SkyPay, or another push is in flight.
    Refused(Option<Box<Payout>>),
}

/// Who asks to push a PENDING payout again (SPEC 14.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushPolicy {
    /// The loan system (an SQS redelivery, a re-post): never a held payout.
    LoanSystem,
    /// The payout run: a held payout too, once per run.
    PayoutRun,
}

/// How a push ended, as payout-queue records it: SPEC 14.3's classes.
#[derive(Clone, Debug)]
pub enum PushOutcome {
    /// Accepted: QUEUED.
    Queued { code: String, description: String },
    /// Refused for a reason about the instruction: REJECTED, unless an attempt is in doubt.
    Rejected { code: String, description: String },
    /// Unknown: SkyPay may have taken it. PENDING and in doubt until payoutQueryStatus says.
    InDoubt { description: String },
    /// Held: refused for a reason about us (credentials, balance, limits). PENDING, held with
    /// the code; the payout run pushes it again.
    Held { code: String, description: String },
    /// Never sent (no connection): PENDING, the lease released, the next delivery may push.
    NotSent { description: String },
    /// No SkyPay to push to (`SKYPAY_API_URL` unset: skypay-local without a SkyPay): QUEUED
    /// without a push, and the attempt the registration counted is taken back (0 attempts).
    NoSkyPay { description: String },
}

impl PushOutcome {
    /// The payout's status once this outcome is recorded.
    pub fn status(&self) -> PayoutStatus {
        match self {
            PushOutcome::Queued { .. } | PushOutcome::NoSkyPay { .. } => PayoutStatus::Queued,
            PushOutcome::Rejected { .. } => PayoutStatus::Rejected,
            PushOutcome::InDoubt { .. }
            | PushOutcome::Held { .. }
            | PushOutcome::NotSent { .. } => PayoutStatus::Pending,
        }
    }

    /// SkyPay's code and description, as logged.
    pub fn answer(&self) -> (&str, &str) {
        match self {
            PushOutcome::Queued { code, description }
            | PushOutcome::Rejected { code, description }
            | PushOutcome::Held { code, description } => (code, description),
            PushOutcome::InDoubt { description }
            | PushOutcome::NotSent { description }
            | PushOutcome::NoSkyPay { description } => ("", description),
        }
    }

    /// The class's name, for the log line.
    pub fn class(&self) -> &'static str {
        match self {
            PushOutcome::Queued { .. } => "accepted",
            PushOutcome::Rejected { .. } => "refused",
            PushOutcome::InDoubt { .. } => "unknown",
            PushOutcome::Held { .. } => "held",
            PushOutcome::NotSent { .. } => "not sent",
            PushOutcome::NoSkyPay { .. } => "no SkyPay",
        }
    }
}

/// The payout run's settlement of a PENDING payout (SPEC 14.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// payoutQueryStatus listed it: SkyPay has it. QUEUED, doubt, hold and lease cleared; not
    /// written for a payout that was closed meanwhile (a cancel: the caller flags it).
    Listed,
    /// In doubt and not listed: the first such query is recorded (`unlistedAt`), only if no
    /// push happened since the index showed `last_push_at` (epoch seconds), the value the query
    /// was made against: a push after the query is not something the query could list.
    FirstUnlisted { last_push_at: i64 },
    /// In doubt and not listed again, 30 minutes after the first: the doubt is cleared, so
    /// that the payout may be pushed again.
    ClearDoubt,
}

impl Ledger {
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
            ("instruction".to_owned(), s(payout.instruction.as_str())),
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
        Ok(match conditional("PutItem", result)? {
            Conditional::Written(_) => CreateOutcome::Created,
            Conditional::Refused(old) => CreateOutcome::Exists(match old {
                Some(old) => payout_of(Item(&old), Vec::new())?.map(Box::new),
                None => None,
            }),
        })
    }

    /// Takes the right to push a PENDING payout again: the instruction must be the same, no
    /// other push may be in flight or have died in flight (a lease never finished is in
    /// doubt), no attempt may be in doubt, and SkyPay must never have reported on it (SPEC
    /// 14.3); the loan system may not push a held payout. One conditional `UpdateItem`.
    pub async fn acquire_push_lease(
        &self,
        control_number: &ControlNumber,
        instruction: &str,
        lease_seconds: i64,
        policy: PushPolicy,
        ctx: &WriteContext,
    ) -> Result<LeaseOutcome, LedgerError> {
        const PUSHABLE: &str = "#queueStatus = :PENDING AND #instruction = :instruction \
             AND attribute_not_exists(#paidAt) AND attribute_not_exists(#closedAs) \
             AND attribute_not_exists(#uploadedAt) AND attribute_not_exists(#lastEventAt) \
             AND attribute_not_exists(#leaseToken) AND attribute_not_exists(#pushInDoubt)";
        let condition = match policy {
            PushPolicy::LoanSystem => format!("{PUSHABLE} AND attribute_not_exists(#pushHeld)"),
            PushPolicy::PayoutRun => PUSHABLE.to_owned(),
        };
        let condition = condition.as_str();
        let update = "SET #leaseUntil = :leaseUntil, #leaseToken = :token, #updatedAt = :now, \
             #lastPushAt = :nowEpoch ADD #pushAttempts :one REMOVE #unlistedAt";
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
            .update_if(
                payout_key(control_number.as_str()),
                condition,
                update,
                bound,
                Returns::NewOrOld,
            )
            .await?;
        Ok(match result {
            Conditional::Written(out) => LeaseOutcome::Acquired {
                attempts: out
                    .attributes()
                    .map(|a| Item(a).u32("pushAttempts").unwrap_or(1))
                    .unwrap_or(1),
                earlier_doubt: out.attributes().is_some_and(|a| Item(a).has("doubtedAt")),
            },
            // Our own lease already (the registration's, or a lease whose answer was lost and
            // retried by the SDK): this call holds it and may push.
            Conditional::Refused(Some(old))
                if Item(&old).s("leaseToken") == Some(ctx.token.as_str())
                    && Item(&old).s("queueStatus") == Some("PENDING") =>
            {
                LeaseOutcome::Acquired {
                    attempts: Item(&old).u32("pushAttempts").unwrap_or(1),
                    earlier_doubt: Item(&old).has("doubtedAt"),
                }
            }
            Conditional::Refused(old) => LeaseOutcome::Refused(match old {
                Some(old) => payout_of(Item(&old), Vec::new())?.map(Box::new),
                None => None,
            }),
        })
    }

    /// Records how a push ended. Conditional on still holding the lease, so a late answer of an
    /// abandoned push cannot overwrite a newer one; a refusal is recorded only if no attempt
    /// is in doubt (SPEC 14.3).
    pub async fn finish_push(
        &self,
        control_number: &ControlNumber,
        outcome: &PushOutcome,
        ctx: &WriteContext,
    ) -> Result<PushRecord, LedgerError> {
        let held = "#leaseToken = :token AND #queueStatus = :PENDING";
        let not_in_doubt = "#leaseToken = :token AND #queueStatus = :PENDING \
             AND attribute_not_exists(#pushInDoubt)";
        let (condition, update) = match outcome {
            PushOutcome::Queued { .. } => (
                held,
                "SET #queueStatus = :status, #skypayCode = :code, \
                 #skypayDescription = :description, #pushedAt = :now, #updatedAt = :now \
                 REMOVE #leaseUntil, #leaseToken, #lastPushError, #pushInDoubt, #pushHeld, \
                 #unlistedAt",
            ),
            PushOutcome::Rejected { .. } => (
                not_in_doubt,
                "SET #queueStatus = :status, #skypayCode = :code, \
                 #skypayDescription = :description, #pushedAt = :now, #updatedAt = :now \
                 ADD #finals :rejectedSet REMOVE #leaseUntil, #leaseToken, #openPush, #pushHeld",
            ),
            PushOutcome::InDoubt { .. } => (
                held,
                "SET #pushInDoubt = :description, #lastPushError = :description, \
                 #doubtedAt = if_not_exists(#doubtedAt, :now), #updatedAt = :now \
                 REMOVE #leaseUntil, #leaseToken",
            ),
            PushOutcome::Held { .. } => (
                held,
                "SET #pushHeld = :code, #skypayCode = :code, #skypayDescription = :description, \
                 #lastPushError = :description, #updatedAt = :now REMOVE #leaseUntil, #leaseToken",
            ),
            PushOutcome::NotSent { .. } => (
                held,
                "SET #lastPushError = :description, #updatedAt = :now \
                 REMOVE #leaseUntil, #leaseToken",
            ),
            PushOutcome::NoSkyPay { .. } => (
                held,
                "SET #queueStatus = :status, #skypayCode = :code, \
                 #skypayDescription = :description, #updatedAt = :now \
                 ADD #pushAttempts :minusOne REMOVE #leaseUntil, #leaseToken",
            ),
        };
        let status = outcome.status().as_str();
        let (code, description) = outcome.answer();
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
                ("minusOne", n(-1)),
            ],
        );
        let result = self
            .update_if(
                payout_key(control_number.as_str()),
                condition,
                update,
                bound,
                Returns::Nothing,
            )
            .await?;
        Ok(match result {
            Conditional::Written(_) => PushRecord::Recorded,
            Conditional::Refused(_) => PushRecord::LeaseLost,
        })
    }

    /// The payout run's settlement of a PENDING pushed payout (SPEC 14.3), one conditional
    /// `UpdateItem`: true when written. Clearing a doubt requires the first unlisted query
    /// to be at least `min_unlisted_seconds` old and no live lease.
    pub async fn settle_push(
        &self,
        control_number: &str,
        settlement: Settlement,
        min_unlisted_seconds: i64,
        ctx: &WriteContext,
    ) -> Result<bool, LedgerError> {
        let (condition, update) = match settlement {
            Settlement::Listed => (
                "#queueStatus = :PENDING AND attribute_not_exists(#closedAs)",
                "SET #queueStatus = :QUEUED, #pushedAt = if_not_exists(#pushedAt, :now), \
                 #updatedAt = :now REMOVE #leaseUntil, #leaseToken, #pushInDoubt, #pushHeld, \
                 #unlistedAt, #lastPushError",
            ),
            Settlement::FirstUnlisted { .. } => (
                "#queueStatus = :PENDING AND attribute_not_exists(#unlistedAt) \
                 AND #lastPushAt = :queriedPush \
                 AND (attribute_exists(#pushInDoubt) OR attribute_exists(#leaseToken)) \
                 AND (attribute_not_exists(#leaseUntil) OR #leaseUntil < :nowEpoch)",
                "SET #unlistedAt = :nowEpoch, #updatedAt = :now",
            ),
            Settlement::ClearDoubt => (
                "#queueStatus = :PENDING AND #unlistedAt <= :unlistedBefore \
                 AND (attribute_not_exists(#leaseUntil) OR #leaseUntil < :nowEpoch)",
                "SET #doubtClearedAt = :now, #doubtedAt = if_not_exists(#doubtedAt, :now), \
                 #updatedAt = :now REMOVE #pushInDoubt, #leaseUntil, #leaseToken, #unlistedAt",
            ),
        };
        let bound = bind(
            &[condition, update],
            vec![
                ("PENDING", s("PENDING")),
                ("QUEUED", s("QUEUED")),
                ("now", s(ctx.now_text())),
                ("nowEpoch", n(ctx.now.timestamp())),
                (
                    "unlistedBefore",
                    n(ctx.now.timestamp() - min_unlisted_seconds),
                ),
                (
                    "queriedPush",
                    n(match settlement {
                        Settlement::FirstUnlisted { last_push_at } => last_push_at,
                        _ => 0,
                    }),
                ),
            ],
        );
        let result = self
            .update_if(
                payout_key(control_number),
                condition,
                update,
                bound,
                Returns::Nothing,
            )
            .await?;
        Ok(matches!(result, Conditional::Written(_)))
    }
}
