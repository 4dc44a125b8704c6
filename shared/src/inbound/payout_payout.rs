//! payoutPayout (seeds 000, 002; SPEC section 4): a cashier handed out a shop-pickup payout.

use super::{Accepted, Admit, Apply, Endpoint};
use crate::inbound::error::Rejection;
use crate::ledger::{PayOutcome, Payment};
use crate::protocol::rules::{CHANNEL_RANGE, ControlNumber, NumberError, Prefix};
use crate::protocol::wire::{FieldError, Fields};

#[derive(Clone, Debug)]
pub struct PayoutPayout {
    pub control_number: ControlNumber,
    pub payment: Payment,
}

impl Endpoint for PayoutPayout {
    /// Fields in the SPEC's order: controlNumber (-1014 / -1012), withdrawChannel, payTime.
    fn parse(fields: &Fields, cx: &mut Admit<'_>) -> Result<Self, Rejection> {
        let control_number = control_number(fields, cx.prefix())?;
        let (min, max) = CHANNEL_RANGE;
        let channel = fields.required_integer("withdrawChannel", min, max)?;
        let pay_time = fields.required_time("payTime")?;
        Ok(PayoutPayout {
            control_number,
            payment: Payment { channel, pay_time },
        })
    }

    /// One conditional write: PAID once, whatever SkyPay retries.
    async fn apply(&self, cx: &mut Apply<'_>) -> Result<Accepted, Rejection> {
        let outcome = cx
            .ledger
            .pay_out(&self.control_number, &self.payment, cx.ctx)
            .await?;
        answer(outcome).map(|()| Accepted::plain("paid"))
    }
}

/// The control number of a payoutPayout or a payoutInquiry: -1014 when the prefix is not ours,
/// -1012 when the rest is not 8-10 digits (SPEC 4 and 13.2).
pub(crate) fn control_number(fields: &Fields, prefix: &Prefix) -> Result<ControlNumber, Rejection> {
    let text = fields
        .text("controlNumber")?
        .ok_or(FieldError::missing("controlNumber"))?;
    ControlNumber::parse(&text, prefix).map_err(|e| match e {
        NumberError::Prefix => Rejection::ControlNumberPrefix,
        NumberError::Format => Rejection::ControlNumberInvalid {
            reason: "not the prefix followed by 8-10 digits",
        },
    })
}

/// What the ledger's verdict on paying means for the cashier: the codes of SPEC section 4,
/// shared by payoutPayout and payoutInquiry (SPEC 13.2 answers by the same rule).
pub(crate) fn answer(outcome: PayOutcome) -> Result<(), Rejection> {
    match outcome {
        PayOutcome::Paid => Ok(()),
        PayOutcome::AlreadyPaid { pay_time, channel } => {
            Err(Rejection::AlreadyPaid { pay_time, channel })
        }
        PayOutcome::NotPayable { reason } => Err(Rejection::ControlNumberInvalid { reason }),
    }
}
