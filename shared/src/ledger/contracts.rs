//! Contracts and receipts: collectionCollect's "collected once".
//!
//! A contract is OPEN while its collected total is below `amountDue` and SETTLED once it
//! reaches it; a contract SkyPay collects for before we registered it is UNREGISTERED (the cash
//! has changed hands, so it is recorded anyway). The status is never written: DynamoDB compares
//! `collectedTotal < amountDue` in the condition itself.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use rust_decimal::Decimal;
use serde::Serialize;

use super::conditional::{Conditional, Returns, failed_condition};
use super::expr::bind;
use super::item::{Attributes, Item, n, s};
use super::schema::{PARTITION_KEY, SORT_KEY};
use super::{Ledger, LedgerError, Page, WriteContext, key_part};
use crate::protocol::mask::{Name, Phone, Private};
use crate::protocol::rules::{Amount, ControlNumber};
use crate::protocol::time::{SkyPayTime, Stored};

const CONTRACT_SK: &str = "CONTRACT";
const RECEIPT_PREFIX: &str = "RECEIPT#";

fn contract_pk(contract_number: &str) -> String {
    format!("CONTRACT#{}", key_part(contract_number))
}

fn contract_key(contract_number: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(contract_pk(contract_number))),
        (SORT_KEY.to_owned(), s(CONTRACT_SK)),
    ])
}

/// One page of a contract's receipts, and where the next page starts.
#[derive(Clone, Debug)]
pub struct ContractPage {
    pub contract: Contract,
    pub next: Option<String>,
}

/// A repayment a cashier took, as collectionCollect reports it. Debug masks the phone.
#[derive(Clone, Debug)]
pub struct Collection {
    pub contract_number: ControlNumber,
    pub amount: Amount,
    /// The phone as SkyPay sent it, and its normal form when it is valid (an informational
    /// field: a malformed one is recorded and flagged, SPEC section 3).
    pub phone: Phone,
    pub phone_normalised: Option<Phone>,
    pub receipt_number: String,
    pub collected_time: SkyPayTime,
    pub pay_channel: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CollectOutcome {
    /// Recorded by this call: 1000.
    Collected,
    /// Same contract + payChannel + receiptNumber recorded before: -1015.
    DuplicateReceipt { same_amount: bool },
    /// The contract's collected total had already reached amountDue: -1026.
    Settled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContractStatus {
    Open,
    Settled,
    Unregistered,
}

/// `POST /admin/contracts` (SPEC 13.3: with the payer's name, address and phone, which
/// collectionInquiry gives SkyPay for the regulator). Debug masks the payer.
#[derive(Clone, Debug)]
pub struct ContractRegistration {
    pub contract_number: ControlNumber,
    pub amount_due: Amount,
    pub name: Option<Name>,
    pub address: Private<Option<String>>,
    pub phone: Option<Phone>,
}

/// What collectionInquiry finds (SPEC 13.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContractInquiry {
    Unknown,
    Unregistered,
    Settled,
    Open(Box<Payer>),
}

/// A registered contract's payer, and what is still due. Debug never shows the payer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payer {
    pub still_due: Decimal,
    pub name: Private<Option<String>>,
    pub address: Private<Option<String>>,
    pub phone: Private<Option<String>>,
}

#[derive(Clone, Debug)]
pub enum RegisterOutcome {
    /// Registered now (new, or an UNREGISTERED contract adopted): 201.
    Registered,
    /// Registered before with the same values: 200.
    Identical,
    /// Registered before with different values: 409.
    Conflict,
}

/// A contract as the ledger holds it. Debug leaves out the name and phone.
#[derive(Clone, Debug)]
pub struct Contract {
    pub contract_number: String,
    pub status: ContractStatus,
    pub amount_due: Option<Decimal>,
    pub collected_total: Decimal,
    pub name: Option<Name>,
    pub address: Option<Private<String>>,
    pub phone: Option<Phone>,
    /// How many receipts the contract holds in all.
    pub receipt_count: u32,
    /// One page of them (see [`Ledger::contract_page`]).
    pub receipts: Vec<Receipt>,
}

impl Contract {
    /// Collected beyond amountDue (SPEC 12.9: accepted and noted).
    pub fn overpaid_by(&self) -> Option<Decimal> {
        self.amount_due
            .filter(|due| self.collected_total > *due)
            .map(|due| self.collected_total - due)
    }
}

/// One receipt. Debug masks the phone.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub receipt_number: String,
    pub pay_channel: u32,
    pub amount: Decimal,
    pub phone: Phone,
    pub phone_valid: bool,
    /// As SkyPay sent it, and the same instant when it could be read.
    pub collected_time: String,
    pub collected_time_at: Option<Stored>,
    pub recorded_at: Stored,
}

impl Ledger {
    /// collectionCollect: records the receipt and adds its amount to the contract's total,
    /// atomically, in one `TransactWriteItems`. The receipt must be new; the contract must not
    /// be settled.
    pub async fn collect(
        &self,
        c: &Collection,
        ctx: &WriteContext,
    ) -> Result<CollectOutcome, LedgerError> {
        let number = c.contract_number.as_str();
        let mut receipt: Attributes = HashMap::from([
            (PARTITION_KEY.to_owned(), s(contract_pk(number))),
            (
                SORT_KEY.to_owned(),
                s(format!(
                    "{RECEIPT_PREFIX}{}#{}",
                    c.pay_channel,
                    key_part(&c.receipt_number)
                )),
            ),
            ("kind".to_owned(), s("receipt")),
            ("contractNumber".to_owned(), s(number)),
            ("receiptNumber".to_owned(), s(&c.receipt_number)),
            ("payChannel".to_owned(), n(c.pay_channel)),
            ("amount".to_owned(), n(c.amount.value())),
            ("phone".to_owned(), s(c.phone.as_str())),
            (
                "phoneValid".to_owned(),
                AttributeValue::Bool(c.phone_normalised.is_some()),
            ),
            ("collectedTime".to_owned(), s(&c.collected_time.text)),
            (
                "collectedTimeUtc".to_owned(),
                s(c.collected_time.utc.to_rfc3339()),
            ),
            ("recordedAt".to_owned(), s(ctx.now_text())),
            ("requestId".to_owned(), s(&ctx.request_id)),
            ("writeToken".to_owned(), s(&ctx.token)),
            // The day's collections, for reconciliation with SkyPay's report (SPEC 13.6).
            (
                super::reconcile::DAILY_KEY.to_owned(),
                s(super::reconcile::collected_key(
                    c.collected_time.manila_date(),
                )),
            ),
        ]);
        if let Some(p) = &c.phone_normalised {
            receipt.insert("phoneNormalised".to_owned(), s(p.as_str()));
        }
        let new_receipt = "attribute_not_exists(#pk)";
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(receipt))
            .condition_expression(new_receipt)
            .set_expression_attribute_names(bind(&[new_receipt], vec![]).names)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| LedgerError::build("Put", &e))?;

        let not_settled = "attribute_not_exists(#amountDue) OR #collectedTotal < #amountDue";
        let add = "SET #contractNumber = if_not_exists(#contractNumber, :cn), \
             #createdAt = if_not_exists(#createdAt, :now), #kind = :kind, \
             #updatedAt = :now, #lastCollectedAt = :now \
             ADD #collectedTotal :amount, #receiptCount :one";
        let bound = bind(
            &[not_settled, add],
            vec![
                ("cn", s(number)),
                ("now", s(ctx.now_text())),
                ("kind", s("contract")),
                ("amount", n(c.amount.value())),
                ("one", n(1)),
            ],
        );
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(contract_key(number)))
            .condition_expression(not_settled)
            .update_expression(add)
            .set_expression_attribute_names(bound.names)
            .set_expression_attribute_values(bound.values)
            .build()
            .map_err(|e| LedgerError::build("Update", &e))?;

        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(update).build(),
        ];
        let Some(reasons) = self.transact(items, ctx).await? else {
            return Ok(CollectOutcome::Collected);
        };
        // SPEC 12.5: the duplicate receipt is checked before the settled contract.
        if let Some(reason) = failed_condition(&reasons, 0) {
            let old = reason.item().map(Item);
            if old.and_then(|o| o.s("writeToken")) == Some(ctx.token.as_str()) {
                // Our own first attempt was applied but its answer lost; the SDK retried.
                return Ok(CollectOutcome::Collected);
            }
            let same_amount = old.and_then(|o| o.decimal("amount")) == Some(c.amount.value());
            return Ok(CollectOutcome::DuplicateReceipt { same_amount });
        }
        if failed_condition(&reasons, 1).is_some() {
            return Ok(CollectOutcome::Settled);
        }
        Err(LedgerError::Malformed {
            key: contract_pk(number),
            what: "a cancelled transaction without a failed condition",
        })
    }

    /// Registers a contract, or adopts an UNREGISTERED one (SPEC 12.9). One conditional
    /// `UpdateItem`; a re-post is compared by value with what is stored.
    pub async fn register_contract(
        &self,
        r: &ContractRegistration,
        ctx: &WriteContext,
    ) -> Result<RegisterOutcome, LedgerError> {
        let number = r.contract_number.as_str();
        let condition = "attribute_not_exists(#amountDue)";
        let mut set = vec![
            "#amountDue = :amountDue",
            "#contractNumber = if_not_exists(#contractNumber, :cn)",
            "#createdAt = if_not_exists(#createdAt, :now)",
            "#collectedTotal = if_not_exists(#collectedTotal, :zero)",
            "#receiptCount = if_not_exists(#receiptCount, :zero)",
            "#registeredAt = :now",
            "#updatedAt = :now",
            "#kind = :kind",
        ];
        if r.name.is_some() {
            set.push("#name = :name");
        }
        if r.address.is_some() {
            set.push("#address = :address");
        }
        if r.phone.is_some() {
            set.push("#phone = :phone");
        }
        let update = format!("SET {}", set.join(", "));
        let bound = bind(
            &[condition, &update],
            vec![
                ("amountDue", n(r.amount_due.value())),
                ("cn", s(number)),
                ("now", s(ctx.now_text())),
                ("zero", n(0)),
                ("kind", s("contract")),
                ("name", s(r.name.as_deref().unwrap_or_default())),
                ("address", s(r.address.as_deref().unwrap_or_default())),
                ("phone", s(r.phone.as_deref().unwrap_or_default())),
            ],
        );
        let result = self
            .update_if(
                contract_key(number),
                condition,
                &update,
                bound,
                Returns::OldOnRefusal,
            )
            .await?;
        let old = match result {
            Conditional::Written(_) => return Ok(RegisterOutcome::Registered),
            Conditional::Refused(old) => old,
        };
        let Some(old) = old.as_ref().map(Item) else {
            return Err(LedgerError::Malformed {
                key: contract_pk(number),
                what: "registration refused without the item",
            });
        };
        let identical = old.decimal("amountDue") == Some(r.amount_due.value())
            && old.s("name") == r.name.as_deref()
            && old.s("address") == r.address.as_deref()
            && old.s("phone") == r.phone.as_deref();
        Ok(if identical {
            RegisterOutcome::Identical
        } else {
            RegisterOutcome::Conflict
        })
    }

    /// A contract with the first page of its receipts.
    pub async fn contract(&self, contract_number: &str) -> Result<Option<Contract>, LedgerError> {
        Ok(self
            .contract_page(contract_number, &Page::first())
            .await?
            .map(|page| page.contract))
    }

    /// A contract with one page of its receipts (in key order: payChannel, then
    /// receiptNumber), and the cursor of the next page.
    pub async fn contract_page(
        &self,
        contract_number: &str,
        page: &Page,
    ) -> Result<Option<ContractPage>, LedgerError> {
        let (meta, items, next) = self
            .head_and_page(
                contract_pk(contract_number),
                CONTRACT_SK,
                RECEIPT_PREFIX,
                page,
            )
            .await?;
        let Some(meta) = meta else { return Ok(None) };
        let meta = Item(&meta);
        let receipts = items
            .iter()
            .map(|attrs| {
                let item = Item(attrs);
                Receipt {
                    receipt_number: item.s("receiptNumber").unwrap_or_default().to_owned(),
                    pay_channel: item.u32("payChannel").unwrap_or(0),
                    amount: item.decimal("amount").unwrap_or_default(),
                    phone: Phone::from(item.s("phone").unwrap_or_default().to_owned()),
                    phone_valid: item.bool("phoneValid").unwrap_or(false),
                    collected_time: item.s("collectedTime").unwrap_or_default().to_owned(),
                    collected_time_at: item.s("collectedTimeUtc").map(Stored::from),
                    recorded_at: Stored::from(item.s("recordedAt").unwrap_or_default()),
                }
            })
            .collect();
        let (status, total, due) = status_of(meta);
        let contract = Contract {
            contract_number: meta
                .s("contractNumber")
                .unwrap_or(contract_number)
                .to_owned(),
            status,
            amount_due: due,
            collected_total: total,
            name: meta.s("name").map(|n| Name::from(n.to_owned())),
            address: meta.s("address").map(|a| Private(a.to_owned())),
            phone: meta.s("phone").map(|p| Phone::from(p.to_owned())),
            receipt_count: meta.u32("receiptCount").unwrap_or(0),
            receipts,
        };
        Ok(Some(ContractPage { contract, next }))
    }

    /// collectionInquiry (SPEC 13.3): the contract's status and payer, from one `GetItem`;
    /// nothing is written.
    pub async fn inquire_contract(
        &self,
        contract_number: &ControlNumber,
    ) -> Result<ContractInquiry, LedgerError> {
        let found = self.get(contract_key(contract_number.as_str())).await?;
        let Some(item) = found.as_ref().map(Item) else {
            return Ok(ContractInquiry::Unknown);
        };
        let (status, total, due) = status_of(item);
        let text = |name: &str| Private(item.s(name).map(str::to_owned));
        Ok(match status {
            ContractStatus::Unregistered => ContractInquiry::Unregistered,
            ContractStatus::Settled => ContractInquiry::Settled,
            ContractStatus::Open => ContractInquiry::Open(Box::new(Payer {
                still_due: due.unwrap_or_default() - total,
                name: text("name"),
                address: text("address"),
                phone: text("phone"),
            })),
        })
    }
}

/// A contract's status from its item: UNREGISTERED without `amountDue`, SETTLED once the
/// collected total reaches it, else OPEN (the rule collectionCollect's condition states for
/// DynamoDB). With the total and the amount due.
pub(crate) fn status_of(item: Item<'_>) -> (ContractStatus, Decimal, Option<Decimal>) {
    let total = item.decimal("collectedTotal").unwrap_or(Decimal::ZERO);
    let due = item.decimal("amountDue");
    let status = match due {
        None => ContractStatus::Unregistered,
        Some(d) if total >= d => ContractStatus::Settled,
        Some(_) => ContractStatus::Open,
    };
    (status, total, due)
}
