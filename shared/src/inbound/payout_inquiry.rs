//! payoutInquiry (SPEC 13.2): the cashier checks a control number before paying out.
//!
//! It answers exactly what a payoutPayout arriving at that instant would get, by the same rule
//! (-1014, -1012, -1026, 1000), from one strongly consistent `GetItem`, and writes nothing. A
//! 1000 carries the details the cashier checks the borrower's ID against, every key always
//! present (`""` when unknown), all strings.

use super::{Accepted, Admit, Apply, Endpoint};
use super::payout_payout::{answer, control_number};
use crate::config::Config;
use crate::inbound::error::Rejection;
use crate::ledger::{InquiryOutcome, PayoutDetails};
use crate::protocol::rules::ControlNumber;
use crate::protocol::wire::Fields;

/// The sender-address key. SkyPay's page spells it through a translation accident
/// (`sender添加ress`, later `sender address`); this is our reading, to confirm with SkyPay at
/// onboarding (docs/deploy.md).
pub const SENDER_ADDRESS_KEY: &str = "senderAddress";

/// The instruction fields a 1000 carries, under the same names (SPEC 13.2), after
/// `controlNumber`, `referenceNo`, `sender` and the sender address.
const INSTRUCTION_KEYS: [&str; 9] = [
    "name",
    "birthday",
    "identificationId",
    "idType",
    "phone",
    "idcardPicType",
    "idcardPicUrl",
    "contractNumber",
    "location",
];

#[derive(Clone, Debug)]
pub struct PayoutInquiry {
    pub control_number: ControlNumber,
}

impl Endpoint for PayoutInquiry {
    /// controlNumber only: -1014 for another prefix, -1012 when malformed.
    fn parse(fields: &Fields, cx: &mut Admit<'_>) -> Result<Self, Rejection> {
        Ok(PayoutInquiry {
            control_number: control_number(fields, cx.prefix())?,
        })
    }

    async fn apply(&self, cx: &mut Apply<'_>) -> Result<Accepted, Rejection> {
        match cx.ledger.inquire_payout(&self.control_number, cx.ctx.now).await? {
            InquiryOutcome::Payable(details) => Ok(self.details(&details, cx.config)),
            // A refused inquiry is never "paid" (answer's only Ok): an error in practice.
            InquiryOutcome::Refused(outcome) => {
                answer(outcome).map(|()| Accepted::plain("payable"))
            }
        }
    }

}

impl PayoutInquiry {
    fn details(&self, details: &PayoutDetails, config: &Config) -> Accepted {
        let mut extra = vec![
            ("controlNumber", self.control_number.as_str().to_owned()),
            (
                "referenceNo",
                details.reference_number.clone().unwrap_or_default(),
            ),
            ("sender", config.sender.clone().unwrap_or_default()),
            (
                SENDER_ADDRESS_KEY,
                config.sender_address.clone().unwrap_or_default(),
            ),
        ];
        extra.extend(INSTRUCTION_KEYS.iter().map(|k| (*k, details.field(k))));
        extra.push(("amount", details.amount_text()));
        Accepted {
            extra,
            outcome: "payable",
        }
    }
}
