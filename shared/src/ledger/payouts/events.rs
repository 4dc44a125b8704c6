//! payoutQueuePayout's callbacks, and payout-reconcile's payoutQueryStatus answers taken as
//! callbacks: each event stored once, its facts applied, in one request (SPEC 6, 13.6).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::{EVENT_PREFIX, REF_SEPARATOR, or_dash, payout_key, payout_pk};
use crate::ledger::conditional::failed_condition;
use crate::ledger::expr::bind;
use crate::ledger::item::{Attributes, s, ss};
use crate::ledger::schema::{PARTITION_KEY, SORT_KEY};
use crate::ledger::{Ledger, LedgerError, WriteContext, key_part, reconcile};

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

impl Ledger {
    /// payoutQueuePayout: stores the event once and applies its effect, in one request: the
    /// event's `Put` (new only) and the payout's `Update`, in one transaction.
    pub async fn record_event(
        &self,
        event: &PayoutEvent,
        ctx: &WriteContext,
    ) -> Result<EventOutcome, LedgerError> {
        let pk = payout_pk(or_dash(&event.control_number));
        let put = self.event_put(event, ctx, &pk)?;
        let update = payout_update(event);
        let bound = bind(&[&update], update_values(event, ctx));
        self.store_event_bound(put, update, bound, event, ctx, pk)
            .await
    }

    /// The event's own item, written only if new: its key is controlNumber + payType +
    /// dealTime as sent (a query's answer has keys of its own).
    fn event_put(
        &self,
        event: &PayoutEvent,
        ctx: &WriteContext,
        pk: &str,
    ) -> Result<Put, LedgerError> {
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
            (PARTITION_KEY.to_owned(), s(pk)),
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
        Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression(new_only)
            .set_expression_attribute_names(bind(&[new_only], vec![]).names)
            .build()
            .map_err(|e| LedgerError::build("Put", &e))
    }

    async fn store_event_bound(
        &self,
        put: Put,
        update: String,
        bound: crate::ledger::expr::Bound,
        event: &PayoutEvent,
        ctx: &WriteContext,
        pk: String,
    ) -> Result<EventOutcome, LedgerError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(payout_key(or_dash(&event.control_number))))
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
}

/// payType 1 and 5 carry ML's referenceNumber: added to the set `reference_of` reads.
fn reference_of_event(event: &PayoutEvent) -> Option<(&'static str, &str)> {
    match (event.effect, event.reference_number.as_deref()) {
        (Some(EventEffect::Uploaded), Some(r)) if !r.is_empty() => Some(("1", r)),
        (Some(EventEffect::AmendedSuccess), Some(r)) if !r.is_empty() => Some(("5", r)),
        _ => None,
    }
}

/// The payout item's update for an event. Every event, applied or only recorded, touches it:
/// `lastEventAt` says SkyPay has seen the number (it is never pushed again, SPEC 14.3), and for
/// a number we never registered the item reserves it (SPEC 12.13, 14.7: whatever the payType).
/// An event with an effect is SkyPay reporting on the number: it holds the payout, which
/// settles a push left in doubt or held as surely as payoutQueryStatus listing it does, so
/// the doubt goes (found by the simulation: a payout paid after a lost push answer stayed
/// `pushInDoubt` for ever, the run never looking at a closed payout again). So does a push's
/// lease: a push still in flight then finds its lease gone and records nothing over what
/// SkyPay reported (an expired lease would otherwise read as in doubt), and `lastEventAt`
/// keeps every later push away.
fn payout_update(event: &PayoutEvent) -> String {
    let common = "#controlNumber = if_not_exists(#controlNumber, :cn), #updatedAt = :now, \
                  #lastEventAt = :now";
    let settled = "#pushInDoubt, #unlistedAt, #pushHeld, #leaseUntil, #leaseToken";
    let add_ref = if reference_of_event(event).is_some() {
        " ADD #refs :ref"
    } else {
        ""
    };
    match event.effect {
        None => format!("SET {common}"),
        Some(EventEffect::Uploaded) => {
            format!(
                "SET {common}, #uploadedAt = if_not_exists(#uploadedAt, :now){add_ref} \
                 REMOVE {settled}"
            )
        }
        // Final: out of the open pushed payouts; into the day's payments.
        Some(EventEffect::Paid) => format!(
            "SET {common}, #paidAt = if_not_exists(#paidAt, :now), \
             #paidBy = if_not_exists(#paidBy, :via), \
             #payTime = if_not_exists(#payTime, :dealTime), \
             #dailyKey = if_not_exists(#dailyKey, :paidDay) \
             ADD #finals :final REMOVE #ttl, #openPush, {settled}"
        ),
        Some(EventEffect::Cancelled | EventEffect::Failed) => {
            let describe = if event.fail_description.is_some() {
                ", #failDescription = if_not_exists(#failDescription, :failDescription)"
            } else {
                ""
            };
            format!(
                "SET {common}, #closedAs = if_not_exists(#closedAs, :closing), \
                 #closedAt = if_not_exists(#closedAt, :now), \
                 #closedBy = if_not_exists(#closedBy, :via){describe} ADD #finals :final \
                 REMOVE #openPush, {settled}"
            )
        }
        Some(EventEffect::AmendedSuccess) => format!("SET {common}{add_ref}"),
    }
}

/// Every value [`payout_update`] may name (`bind` keeps the ones it does).
fn update_values(event: &PayoutEvent, ctx: &WriteContext) -> Vec<(&'static str, AttributeValue)> {
    let ref_entry = reference_of_event(event)
        .map(|(pay_type, r)| {
            format!(
                "{pay_type}{REF_SEPARATOR}{}{REF_SEPARATOR}{r}",
                event.deal_time
            )
        })
        .unwrap_or_default();
    let closing = match event.effect {
        Some(EventEffect::Cancelled) => "CANCELLED",
        Some(EventEffect::Failed) => "FAILED",
        _ => "PAID",
    };
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
    ]
}
