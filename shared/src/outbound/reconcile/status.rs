//! payoutQueryStatus's answers as facts (SPEC 13.6). An answer is applied through the same
//! ledger write as a callback ([`crate::ledger::Ledger::record_event`]), recorded as an event
//! with source `payoutQueryStatus`:
//!
//! | status | applied as | the event's time |
//! |---|---|---|
//! | 1 Completed | PAID (payType 2) | `payTime` (else `transactionDate`) |
//! | 2 Uploaded | uploaded (payType 1), with `referenceNo` | `transactionDate` |
//! | 3 Cancelled, with a `cancelTime` | CANCELLED (payType 3) | `cancelTime` |
//! | 3 Cancelled, no `cancelTime` | nothing: SkyPay counts a cancel only with one | |
//! | 4 Failed | FAILED (payType 4) | `transactionDate` (else `payTime`) |
//! | 0 Pending, 10, 11, anything else | nothing | |

use crate::ledger::{EventEffect, EventSource, PayoutEvent};
use crate::outbound::api::StatusAnswer;
use crate::protocol::time::SkyPayTime;

/// The callback an answer amounts to, or `None` when it changes nothing.
pub fn event_of(answer: &StatusAnswer) -> Option<PayoutEvent> {
    let (effect, pay_type, time) = match answer.status? {
        1 => (
            EventEffect::Paid,
            "2",
            answer
                .pay_time
                .as_ref()
                .or(answer.transaction_date.as_ref()),
        ),
        2 => (EventEffect::Uploaded, "1", answer.transaction_date.as_ref()),
        3 => (
            EventEffect::Cancelled,
            "3",
            Some(answer.cancel_time.as_ref()?),
        ),
        4 => (
            EventEffect::Failed,
            "4",
            answer
                .transaction_date
                .as_ref()
                .or(answer.pay_time.as_ref()),
        ),
        _ => return None,
    };
    let deal_time = time.cloned().unwrap_or_default();
    Some(PayoutEvent {
        source: EventSource::Query,
        control_number: answer.control_number.clone(),
        pay_type: pay_type.to_owned(),
        deal_time_utc: SkyPayTime::parse_with_fraction(&deal_time).map(|t| t.utc),
        deal_time,
        fail_description: None,
        reference_number: (effect == EventEffect::Uploaded)
            .then(|| answer.reference_no.clone())
            .flatten(),
        effect: Some(effect),
        issues: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: Option<u32>, pay: &str, cancel: &str) -> StatusAnswer {
        let text = |t: &str| (!t.is_empty()).then(|| t.to_owned());
        StatusAnswer {
            control_number: "SKY010000000001".to_owned(),
            status,
            status_desc: None,
            transaction_date: Some("2026-11-30 09:00:00.123".to_owned()),
            pay_time: text(pay),
            cancel_time: text(cancel),
            withdraw_channel: Some("GCash".to_owned()),
            reference_no: Some("GC-77".to_owned()),
            trace_no: None,
        }
    }

    /// (status, payTime, cancelTime) -> (payType, the event's time), or nothing.
    type Row = (
        Option<u32>,
        &'static str,
        &'static str,
        Option<(&'static str, &'static str)>,
    );

    /// SPEC 13.6's mapping, row by row.
    #[test]
    fn the_mapping_table() {
        let rows: [Row; 10] = [
            (Some(0), "", "", None),
            (
                Some(1),
                "2026-11-30 10:00:00",
                "",
                Some(("2", "2026-11-30 10:00:00")),
            ),
            (Some(1), "", "", Some(("2", "2026-11-30 09:00:00.123"))),
            (Some(2), "", "", Some(("1", "2026-11-30 09:00:00.123"))),
            (
                Some(3),
                "",
                "2026-11-30 11:00:00",
                Some(("3", "2026-11-30 11:00:00")),
            ),
            (Some(3), "", "", None),
            (Some(4), "", "", Some(("4", "2026-11-30 09:00:00.123"))),
            (Some(10), "", "", None),
            (Some(11), "", "", None),
            (None, "", "", None),
        ];
        for (status, pay, cancel, expected) in rows {
            let event = event_of(&answer(status, pay, cancel));
            let got = event
                .as_ref()
                .map(|e| (e.pay_type.as_str(), e.deal_time.as_str()));
            assert_eq!(got, expected, "status {status:?}");
            if let Some(e) = event {
                assert_eq!(e.source, EventSource::Query);
                assert!(e.deal_time_utc.is_some(), "{status:?}: the time is read");
                // Only the upload carries the reference into the payout's references.
                assert_eq!(e.reference_number.is_some(), e.pay_type == "1");
            }
        }
    }
}
