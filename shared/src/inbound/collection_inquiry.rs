//! collectionInquiry (SPEC 13.3): the cashier checks a contract before taking a repayment.
//!
//! Order of checks: the number (-1015 for a wrong prefix or a malformed number), then `amount`
//! and `phone` (2002 when either is missing or the amount is invalid; a malformed phone is
//! accepted and logged), then the ledger: -1015 unknown or UNREGISTERED, -1026 SETTLED, 1000
//! OPEN with the payer's details. No cash has changed hands yet, so unlike collectionCollect an
//! unregistered contract is refused. One `GetItem`; nothing is written.

use super::{Accepted, Admit, Apply, Endpoint, contract_number_text, informational_phone};
use crate::inbound::error::Rejection;
use crate::ledger::ContractInquiry;
use crate::protocol::rules::{Amount, ControlNumber};
use crate::protocol::wire::{FieldError, Fields};

/// The payer-address key: SkyPay's page writes `payer address` (and, through the same
/// translation accident as payoutInquiry's sender address, `payer添加ress`); SPEC 13.3 reads
/// it `payerAddress`. To confirm with SkyPay at onboarding, like the sender address.
pub const PAYER_ADDRESS_KEY: &str = "payerAddress";

#[derive(Clone, Debug)]
pub struct CollectionInquiry {
    pub contract_number: ControlNumber,
    pub amount: Amount,
}

impl Endpoint for CollectionInquiry {
    fn parse(fields: &Fields, cx: &mut Admit<'_>) -> Result<Self, Rejection> {
        let Admit { config, log } = cx;
        let prefix = &config.prefix;
        let text = contract_number_text(fields)?.ok_or(FieldError::missing("contractNumber"))?;
        let contract_number =
            ControlNumber::parse(&text, prefix).map_err(|_| Rejection::ContractNumberInvalid {
                reason: "not our prefix followed by 8-10 digits",
            })?;
        let amount = fields.required_amount("amount")?;
        informational_phone(fields, log)?;
        Ok(CollectionInquiry {
            contract_number,
            amount,
        })
    }

    async fn apply(&self, cx: &mut Apply<'_>) -> Result<Accepted, Rejection> {
        let Apply { ledger, log, .. } = cx;
        let payer = match ledger.inquire_contract(&self.contract_number).await? {
            ContractInquiry::Unknown => {
                return Err(Rejection::ContractNumberInvalid {
                    reason: "unknown contract number",
                });
            }
            ContractInquiry::Unregistered => {
                return Err(Rejection::ContractNumberInvalid {
                    reason: "the contract is not registered",
                });
            }
            ContractInquiry::Settled => return Err(Rejection::ContractSettled),
            ContractInquiry::Open(payer) => payer,
        };
        if self.amount.value() > payer.still_due {
            // SPEC 13.3 and 12.9: accepted, but worth a look.
            log.warnings.push(format!(
                "the amount asked, {}, is more than the {} still due",
                self.amount.two_decimals(),
                crate::protocol::rules::money(payer.still_due)
            ));
        }
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        Ok(Accepted {
            extra: vec![
                ("amount", self.amount.two_decimals()),
                ("payerName", text(&payer.name.0)),
                (PAYER_ADDRESS_KEY, text(&payer.address.0)),
                ("payerPhone", text(&payer.phone.0)),
            ],
            outcome: "payable",
        })
    }
}
