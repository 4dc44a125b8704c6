//! financeNotification (SPEC 13.4): SkyPay reports money moving on our account (recharges,
//! collection settlements, transfers between our accounts, withdrawals).
//!
//! A notification, like payoutQueuePayout: once user, key and action are right the answer is
//! 1000 whatever the content, and every notification is stored once, a malformed one with the
//! reason. The one exception: -1009 when it could not be stored durably, so that nothing is
//! acknowledged that was not recorded.

use super::{Accepted, Admit, Apply, Endpoint};
use crate::inbound::error::Rejection;
use crate::ledger::{Accounts, FinanceNotice, FinanceOutcome, key_part};
use crate::protocol::mask::Private;
use crate::protocol::rules::{self, Amount};
use crate::protocol::time::SkyPayTime;
use crate::protocol::wire::Fields;

/// `signType` values.
const SIGN_TYPES: [&str; 2] = ["recharge", "reduce"];

#[derive(Clone, Debug)]
pub struct FinanceNotification {
    pub notice: FinanceNotice,
}

impl Endpoint for FinanceNotification {
    /// Never refuses: what is wrong becomes an issue stored with the notification.
    fn parse(fields: &Fields, _: &mut Admit<'_>) -> Result<Self, Rejection> {
        let mut issues = Vec::new();
        // SkyPay's page spells some names two ways (SPEC 13.4): the first spelling found wins.
        let sent = |names: &[&'static str]| names.iter().find_map(|n| fields.informational(n));

        let reference_number = sent(&["referenceNumber"]);
        let statement_type = sent(&["statementType"]);
        let sign_type = sent(&["signType"]);
        let amount_text = sent(&["amount", "Amount"]);
        let transaction_date = sent(&["transctionDate", "transactionDate"]);

        let usable_reference = match reference_number.as_deref() {
            Some(r) if fields.text("referenceNumber").is_ok() => Some(r),
            Some(_) => {
                issues.push("referenceNumber must be a string".to_owned());
                None
            }
            None => {
                issues.push("referenceNumber is required".to_owned());
                None
            }
        };
        if statement_type
            .as_deref()
            .and_then(|t| rules::parse_integer(t, 1, 6))
            .is_none()
        {
            issues.push("statementType must be an integer from 1 to 6".to_owned());
        }
        if !sign_type
            .as_deref()
            .is_some_and(|t| SIGN_TYPES.contains(&t))
        {
            issues.push("signType must be recharge or reduce".to_owned());
        }
        // SPEC 14.7: both spellings with different values is malformed: recorded and flagged,
        // never silently one of them.
        let mut amounts_differ = false;
        if let (Some(lower), Some(upper)) = (
            fields.informational("amount"),
            fields.informational("Amount"),
        ) {
            let value = |n: &'static str| fields.amount(n).ok().flatten().map(|a| a.value());
            let same = match (value("amount"), value("Amount")) {
                (Some(a), Some(b)) => a == b,
                _ => lower == upper,
            };
            if !same {
                amounts_differ = true;
                issues.push(format!(
                    "amount {lower:?} and Amount {upper:?} differ: neither is taken"
                ));
            }
        }
        let amount = match ["amount", "Amount"]
            .into_iter()
            .find(|n| fields.informational(n).is_some())
            .map(|n| fields.amount(n))
        {
            Some(Ok(_)) if amounts_differ => None,
            Some(Ok(amount)) => amount,
            Some(Err(e)) => {
                issues.push(e.to_string());
                None
            }
            None => {
                issues.push("amount is required".to_owned());
                None
            }
        };
        let transaction_time = transaction_date
            .as_deref()
            .and_then(SkyPayTime::parse_with_fraction);
        if transaction_time.is_none() {
            issues.push(
                "transctionDate must be a real time written yyyy-MM-dd HH:mm:ss[.ffff]".to_owned(),
            );
        }
        // Stored once under referenceNumber + statementType + signType; without a usable
        // reference, under a digest of the body.
        let key = match usable_reference {
            Some(reference) => [
                Some(reference),
                statement_type.as_deref(),
                sign_type.as_deref(),
            ]
            .iter()
            .map(|part| key_part(part.unwrap_or("-")))
            .collect::<Vec<_>>()
            .join("#"),
            None => format!("sha256:{}", fields.digest()),
        };
        Ok(FinanceNotification {
            notice: FinanceNotice {
                key,
                reference_number,
                statement_type,
                sign_type,
                // Both texts are in the issue; neither is shown as the amount.
                amount_text: if amounts_differ { None } else { amount_text },
                amount,
                currency: sent(&["currency", "Currency"]),
                transaction_date,
                transaction_time,
                company_prefix: sent(&["companyPrefix"]),
                company_name: sent(&["companyName"]),
                accounts: Private(Accounts {
                    account_no: sent(&["accountNo"]),
                    source_account_no: sent(&["sourceAccountNo"]),
                    beneficiary_account_no: sent(&["beneficiaryAccountNo"]),
                }),
                issues,
            },
        })
    }

    async fn apply(&self, cx: &mut Apply<'_>) -> Result<Accepted, Rejection> {
        let Apply {
            ledger, ctx, log, ..
        } = cx;
        log.warnings.extend(self.notice.issues.iter().cloned());
        if let Some(reference) = &self.notice.reference_number {
            log.subject(reference);
        }
        let outcome = ledger.record_finance(&self.notice, ctx).await?;
        let outcome = match outcome {
            FinanceOutcome::Stored => "recorded",
            FinanceOutcome::Duplicate => "duplicate",
            FinanceOutcome::Conflict => {
                log.warnings.push(format!(
                    "a repeat of {} carries another amount ({}); kept beside the first",
                    self.notice.key,
                    self.notice
                        .amount
                        .map_or_else(|| "unreadable".to_owned(), Amount::two_decimals)
                ));
                "conflict"
            }
        };
        Ok(Accepted::plain(outcome))
    }
}
