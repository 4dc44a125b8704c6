//! payoutPayout (seeds 000, 002; SPEC section 4): a cashier handed out a shop-pickup payout.

use crate::error::Rejection;
use crate::ledger::{Ledger, PayOutcome, Payment, WriteContext};
use crate::rules::{CHANNEL_RANGE, ControlNumber, NumberError, Prefix};
use crate::wire::{FieldError, Fields};

#[derive(Clone, Debug)]
pub struct PayoutPayout {
    pub control_number: ControlNumber,
    pub payment: Payment,
}

impl PayoutPayout {
    /// Fields in the SPEC's order: controlNumber (-1014 / -1012), withdrawChannel, payTime.
    pub fn parse(fields: &Fields, prefix: &Prefix) -> Result<Self, Rejection> {
        let text = fields
            .text("controlNumber")?
            .ok_or(FieldError::missing("controlNumber"))?;
        let control_number = ControlNumber::parse(&text, prefix).map_err(|e| match e {
            NumberError::Prefix => Rejection::ControlNumberPrefix,
            NumberError::Format => Rejection::ControlNumberInvalid {
                reason: "not the prefix followed by 8-10 digits",
            },
        })?;
        let (min, max) = CHANNEL_RANGE;
        let channel = fields.required_integer("withdrawChannel", min, max)?;
        let pay_time = fields.required_time("payTime")?;
        Ok(PayoutPayout {
            control_number,
            payment: Payment { channel, pay_time },
        })
    }

    /// One conditional write: PAID once, whatever SkyPay retries.
    pub async fn apply(&self, ledger: &Ledger, ctx: &WriteContext) -> Result<(), Rejection> {
        match ledger
            .pay_out(&self.control_number, &self.payment, ctx)
            .await?
        {
            PayOutcome::Paid => Ok(()),
            PayOutcome::AlreadyPaid { pay_time, channel } => {
                Err(Rejection::AlreadyPaid { pay_time, channel })
            }
            PayOutcome::NotPayable { reason } => Err(Rejection::ControlNumberInvalid { reason }),
        }
    }
}
