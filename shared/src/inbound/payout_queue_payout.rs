//! payoutQueuePayout (seed 004; SPEC section 6): SkyPay reports a pushed payout's progress.
//!
//! A notification: once user, key and action are right the answer is 1000 whatever the content,
//! and every event is stored (once), malformed ones with the reason. The one exception is a
//! failure to store it: -1009, so that nothing is acknowledged that was not recorded.

use super::{Accepted, Admit, Apply, Endpoint};
use crate::inbound::error::Rejection;
use crate::ledger::{EventEffect, EventOutcome, EventSource, PayoutEvent};
use crate::protocol::rules::{self, ControlNumber, NumberError};
use crate::protocol::time::SkyPayTime;
use crate::protocol::wire::Fields;

#[derive(Clone, Debug)]
pub struct PayoutQueuePayout {
    pub event: PayoutEvent,
}

impl Endpoint for PayoutQueuePayout {
    /// Never refuses: what is wrong becomes an issue stored with the event.
    fn parse(fields: &Fields, cx: &mut Admit<'_>) -> Result<Self, Rejection> {
        let prefix = cx.prefix();
        let mut issues = Vec::new();
        let mut text = |name: &'static str| match fields.text(name) {
            Ok(value) => value,
            Err(e) => {
                issues.push(e.to_string());
                None
            }
        };
        let control_number = text("controlNumber");
        let pay_type = text("payType");
        let deal_time = text("dealTime");
        let fail_description = text("failDescription");
        let reference_number = text("referenceNumber");

        let valid_number = match control_number.as_deref() {
            None => {
                issues.push("controlNumber is required".to_owned());
                false
            }
            Some(cn) => match ControlNumber::parse(cn, prefix) {
                Ok(_) => true,
                Err(NumberError::Prefix) => {
                    issues.push("controlNumber does not carry our prefix".to_owned());
                    false
                }
                Err(NumberError::Format) => {
                    issues.push(format!("controlNumber {}", rules::number_rule(prefix)));
                    false
                }
            },
        };
        let pay_type_value = pay_type
            .as_deref()
            .and_then(|p| rules::parse_integer(p, 1, 6));
        if pay_type_value.is_none() {
            issues.push("payType must be an integer from 1 to 6".to_owned());
        }
        let deal_time_utc = deal_time
            .as_deref()
            .and_then(SkyPayTime::parse)
            .map(|t| t.utc);
        if deal_time_utc.is_none() {
            // Still applied when controlNumber and payType are valid (SPEC 12.4).
            issues.push("dealTime must be a real time written yyyy-MM-dd HH:mm:ss".to_owned());
        }
        let effect = match (valid_number, pay_type_value) {
            (true, Some(1)) => Some(EventEffect::Uploaded),
            (true, Some(2)) => Some(EventEffect::Paid),
            (true, Some(3)) => Some(EventEffect::Cancelled),
            (true, Some(4)) => Some(EventEffect::Failed),
            (true, Some(5)) => Some(EventEffect::AmendedSuccess),
            // 6, amended failure, is recorded only.
            _ => None,
        };
        Ok(PayoutQueuePayout {
            event: PayoutEvent {
                source: EventSource::Callback,
                control_number: control_number.unwrap_or_default(),
                pay_type: pay_type.unwrap_or_default(),
                deal_time: deal_time.unwrap_or_default(),
                deal_time_utc,
                fail_description,
                reference_number,
                effect,
                issues,
            },
        })
    }

    async fn apply(&self, cx: &mut Apply<'_>) -> Result<Accepted, Rejection> {
        let Apply {
            ledger, ctx, log, ..
        } = cx;
        for issue in &self.event.issues {
            log.warnings.push(issue.clone());
        }
        let outcome = ledger.record_event(&self.event, ctx).await?;
        let outcome = match outcome {
            EventOutcome::Stored if self.event.effect.is_some() => "applied",
            EventOutcome::Stored => "recorded",
            EventOutcome::Duplicate => "duplicate",
        };
        Ok(Accepted::plain(outcome))
    }
}
