//! collectionCollect (seed 003; SPEC section 5): a cashier took a repayment.

use super::{Accepted, Admit, Apply, Endpoint, contract_number_text, informational_phone};
use crate::inbound::error::Rejection;
use crate::ledger::{CollectOutcome, Collection};
use crate::protocol::mask::Phone;
use crate::protocol::rules::{self, CHANNEL_RANGE, ControlNumber, NumberError};
use crate::protocol::wire::{FieldError, Fields};

#[derive(Clone, Debug)]
pub struct CollectionCollect {
    pub collection: Collection,
}

impl Endpoint for CollectionCollect {
    /// Fields in the SPEC's order: contractNumber (2004 / 2002), amount, phone, receiptNumber,
    /// collectedTime, payChannel.
    fn parse(fields: &Fields, cx: &mut Admit<'_>) -> Result<Self, Rejection> {
        let Admit { config, log } = cx;
        let prefix = &config.prefix;
        let text = contract_number_text(fields)?.ok_or(FieldError::missing("contractNumber"))?;
        let contract_number = ControlNumber::parse(&text, prefix).map_err(|e| match e {
            NumberError::Prefix => Rejection::ContractNumberPrefix {
                expected: prefix.as_str().to_owned(),
            },
            NumberError::Format => {
                FieldError::new("contractNumber", rules::number_rule(prefix)).into()
            }
        })?;
        let amount = fields.required_amount("amount")?;
        // Informational: a malformed phone does not refuse cash that has changed hands.
        let (phone, phone_normalised) = informational_phone(fields, log)?;
        let receipt_number = fields.required_text("receiptNumber", 50)?;
        let collected_time = fields.required_time("collectedTime")?;
        let (min, max) = CHANNEL_RANGE;
        let pay_channel = fields.required_integer("payChannel", min, max)?;
        Ok(CollectionCollect {
            collection: Collection {
                contract_number,
                amount,
                phone: Phone::from(phone),
                phone_normalised: phone_normalised.map(Phone::from),
                receipt_number,
                collected_time,
                pay_channel,
            },
        })
    }

    /// One atomic request: the receipt once, the total added once.
    async fn apply(&self, cx: &mut Apply<'_>) -> Result<Accepted, Rejection> {
        let Apply {
            ledger, ctx, log, ..
        } = cx;
        match ledger.collect(&self.collection, ctx).await? {
            CollectOutcome::Collected => Ok(Accepted::plain("collected")),
            CollectOutcome::DuplicateReceipt { same_amount } => {
                if !same_amount {
                    // SPEC 12.5: still -1015, but worth a look.
                    log.warnings
                        .push("a repeated receipt carries a different amount".to_owned());
                }
                Err(Rejection::AlreadyCollected)
            }
            CollectOutcome::Settled => Err(Rejection::ContractSettled),
        }
    }
}
