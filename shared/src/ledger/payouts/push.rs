//! payout-queue's writes: registration (one conditional `PutItem`), the push lease for a
//! redelivery, and the push's outcome, conditional on still holding the lease (SPEC 7).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};

use super::{
    PAYOUT_SK, PayoutStatus, PayoutView, UNPAID_RETENTION_DAYS, payout_key, payout_pk, view_of,
};
use crate::ledger::conditional::{Conditional, Returns, conditional};
use crate::ledger::expr::bind;
use crate::ledger::item::{Attributes, Item, n, s, ss};
use crate::ledger::schema::{PARTITION_KEY, SORT_KEY};
use crate::ledger::{Ledger, LedgerError, WriteContext, reconcile};
use crate::mask::Private;
use crate::rules::{Amount, ControlNumber, PayoutChannel};
use crate::time::SkyPayTime;

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
                Some(old) => view_of(Item(&old), Vec::new())?.map(Box::new),
                None => None,
            }),
        })
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
            },
            Conditional::Refused(old) => LeaseOutcome::Refused(match old {
                Some(old) => view_of(Item(&old), Vec::new())?.map(Box::new),
                None => None,
            }),
        })
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
}
