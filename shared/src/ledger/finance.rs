//! financeNotification (SPEC 13.4): money moved on our account at SkyPay.
//!
//! Each notification is stored once under its key, referenceNumber + statementType + signType
//! (a transfer notifies both sides under one reference), in one `TransactWriteItems` of two
//! puts: the notification itself, and its entry in the day's list that
//! `GET /admin/finance?date=` reads with one query. A repeat is a no-op; a repeat with a
//! different amount is kept beside the first as a conflict.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | notification | `FINANCE#<key>` | `NOTIFICATION` |
//! | conflicting repeat | `FINANCE#<key>` | `CONFLICT#<amount>` |
//! | the day's entry for either | `FINANCEDAY#<yyyy-MM-dd>` | `<key>` or `<key>#CONFLICT#<amount>` |

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::conditional::failed_condition;
use super::expr::bind;
use super::item::{Attributes, Item, n, s};
use super::schema::{PARTITION_KEY, SORT_KEY};
use super::{Ledger, LedgerError, WriteContext, key_part};
use crate::protocol::mask::Private;
use crate::protocol::rules::{Amount, money};
use crate::protocol::time::{SkyPayTime, Stored};

const NOTIFICATION_SK: &str = "NOTIFICATION";
const CONFLICT: &str = "CONFLICT#";

/// A notification as SkyPay sent it, with what was wrong with it. Every value is kept as sent.
#[derive(Clone, Debug, Default)]
pub struct FinanceNotice {
    /// referenceNumber + statementType + signType (each a ledger key part, joined by `#`), or
    /// `sha256:<digest of the body>` when the notification has no usable referenceNumber.
    pub key: String,
    pub reference_number: Option<String>,
    pub statement_type: Option<String>,
    pub sign_type: Option<String>,
    /// The amount as sent, and its value when it follows the field rules.
    pub amount_text: Option<String>,
    pub amount: Option<Amount>,
    pub currency: Option<String>,
    pub transaction_date: Option<String>,
    pub transaction_time: Option<SkyPayTime>,
    pub company_prefix: Option<String>,
    pub company_name: Option<String>,
    /// Account numbers: Debug never shows them.
    pub accounts: Private<Accounts>,
    pub issues: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accounts {
    pub account_no: Option<String>,
    pub source_account_no: Option<String>,
    pub beneficiary_account_no: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinanceOutcome {
    Stored,
    /// Stored before with the same amount: a no-op.
    Duplicate,
    /// Stored before with another amount: kept beside it.
    Conflict,
}

/// One stored notification, as SkyPay sent it and as read.
#[derive(Clone, Debug)]
pub struct FinanceRecord {
    pub reference_number: Option<String>,
    pub statement_type: Option<String>,
    pub sign_type: Option<String>,
    /// The amount when it was valid; else the text as sent.
    pub amount: Option<Decimal>,
    pub amount_text: Option<String>,
    pub currency: Option<String>,
    /// As SkyPay sent it (Manila time), and the same instant when it could be read.
    pub transction_date: Option<String>,
    pub transaction_at: Option<Stored>,
    pub company_prefix: Option<String>,
    pub company_name: Option<String>,
    pub account_no: Option<String>,
    pub source_account_no: Option<String>,
    pub beneficiary_account_no: Option<String>,
    pub received_at: Stored,
    /// A repeat that carried a different amount than the notification stored first.
    pub conflict: bool,
    pub issues: Vec<String>,
}

fn notification_pk(key: &str) -> String {
    format!("FINANCE#{key}")
}

fn day_pk(day: NaiveDate) -> String {
    format!("FINANCEDAY#{}", day.format("%Y-%m-%d"))
}

impl FinanceNotice {
    /// The Manila day it is listed under: that of `transctionDate`, or of arrival when that is
    /// unreadable.
    pub fn day(&self, arrived: DateTime<Utc>) -> NaiveDate {
        self.transaction_time.as_ref().map_or_else(
            || SkyPayTime::from_utc(arrived).manila_date(),
            SkyPayTime::manila_date,
        )
    }

    fn attributes(&self, ctx: &WriteContext, pk: String, sk: String, day: NaiveDate) -> Attributes {
        let mut item: Attributes = HashMap::from([
            (PARTITION_KEY.to_owned(), s(pk)),
            (SORT_KEY.to_owned(), s(sk)),
            ("kind".to_owned(), s("financeNotification")),
            ("key".to_owned(), s(&self.key)),
            ("day".to_owned(), s(day.format("%Y-%m-%d").to_string())),
            ("receivedAt".to_owned(), s(ctx.now_text())),
            ("requestId".to_owned(), s(&ctx.request_id)),
            ("writeToken".to_owned(), s(&ctx.token)),
        ]);
        let accounts = &self.accounts.0;
        for (name, value) in [
            ("referenceNumber", &self.reference_number),
            ("statementType", &self.statement_type),
            ("signType", &self.sign_type),
            ("amountText", &self.amount_text),
            ("currency", &self.currency),
            ("transctionDate", &self.transaction_date),
            ("companyPrefix", &self.company_prefix),
            ("companyName", &self.company_name),
            ("accountNo", &accounts.account_no),
            ("sourceAccountNo", &accounts.source_account_no),
            ("beneficiaryAccountNo", &accounts.beneficiary_account_no),
        ] {
            if let Some(v) = value {
                item.insert(name.to_owned(), s(v));
            }
        }
        if let Some(amount) = self.amount {
            item.insert("amount".to_owned(), n(amount.value()));
        }
        if let Some(t) = &self.transaction_time {
            item.insert("transactionUtc".to_owned(), s(t.utc.to_rfc3339()));
        }
        if !self.issues.is_empty() {
            item.insert(
                "issues".to_owned(),
                AttributeValue::L(self.issues.iter().map(s).collect()),
            );
        }
        item
    }

    /// Whether a stored notification carries the same amount: by value when both are valid,
    /// else as sent.
    fn same_amount(&self, stored: Item<'_>) -> bool {
        match (self.amount, stored.decimal("amount")) {
            (Some(a), Some(b)) => a.value() == b,
            _ => stored.s("amountText") == self.amount_text.as_deref(),
        }
    }
}

impl Ledger {
    /// Stores a notification once (one `TransactWriteItems`); a repeat with another amount is
    /// kept as a conflict (a second one).
    pub async fn record_finance(
        &self,
        notice: &FinanceNotice,
        ctx: &WriteContext,
    ) -> Result<FinanceOutcome, LedgerError> {
        let day = notice.day(ctx.now);
        // Made of key parts already (financeNotification's `parse`).
        let key = notice.key.clone();
        let first = [
            notice.attributes(ctx, notification_pk(&key), NOTIFICATION_SK.to_owned(), day),
            notice.attributes(ctx, day_pk(day), key.clone(), day),
        ];
        let Some(reasons) = self.put_all_new(first, ctx).await? else {
            return Ok(FinanceOutcome::Stored);
        };
        let Some(old) = failed_condition(&reasons, 0).and_then(|r| r.item()) else {
            return Err(LedgerError::Malformed {
                key: notification_pk(&key),
                what: "a day entry without its notification",
            });
        };
        let old = Item(old);
        if old.s("writeToken") == Some(ctx.token.as_str()) {
            // Our own first attempt was applied but its answer lost; the SDK retried.
            return Ok(FinanceOutcome::Stored);
        }
        if notice.same_amount(old) {
            return Ok(FinanceOutcome::Duplicate);
        }
        // Keyed by the conflicting amount: the same conflicting repeat is kept once too.
        let amount = notice.amount.map_or_else(
            || key_part(notice.amount_text.as_deref().unwrap_or("-")),
            |a| money(a.value()),
        );
        let mut conflict = [
            notice.attributes(
                ctx,
                notification_pk(&key),
                format!("{CONFLICT}{amount}"),
                day,
            ),
            notice.attributes(ctx, day_pk(day), format!("{key}#{CONFLICT}{amount}"), day),
        ];
        for item in &mut conflict {
            item.insert("conflict".to_owned(), AttributeValue::Bool(true));
        }
        // Refused only when this conflicting amount is kept already.
        self.put_all_new(conflict, ctx).await?;
        Ok(FinanceOutcome::Conflict)
    }

    /// Puts items that must be new, in one transaction; the cancellation reasons when one
    /// exists (the first item's with its old image).
    async fn put_all_new(
        &self,
        items: [Attributes; 2],
        ctx: &WriteContext,
    ) -> Result<Option<Vec<aws_sdk_dynamodb::types::CancellationReason>>, LedgerError> {
        let new_only = "attribute_not_exists(#pk)";
        let mut writes = Vec::new();
        for item in items {
            let put = Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression(new_only)
                .set_expression_attribute_names(bind(&[new_only], vec![]).names)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(|e| LedgerError::build("Put", &e))?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        self.transact(writes, ctx).await
    }

    /// `GET /admin/finance?date=`: one Manila day's notifications, conflicts included, in key
    /// order (one strongly consistent query).
    pub async fn finance_day(&self, day: NaiveDate) -> Result<Vec<FinanceRecord>, LedgerError> {
        let items = self.partition(day_pk(day)).await?;
        Ok(items.iter().map(|attrs| finance_of(Item(attrs))).collect())
    }
}

fn finance_of(item: Item<'_>) -> FinanceRecord {
    let text = |name: &str| item.s(name).map(str::to_owned);
    FinanceRecord {
        reference_number: text("referenceNumber"),
        statement_type: text("statementType"),
        sign_type: text("signType"),
        amount: item.decimal("amount"),
        amount_text: text("amountText"),
        currency: text("currency"),
        transction_date: text("transctionDate"),
        transaction_at: item.s("transactionUtc").map(Stored::from),
        company_prefix: text("companyPrefix"),
        company_name: text("companyName"),
        account_no: text("accountNo"),
        source_account_no: text("sourceAccountNo"),
        beneficiary_account_no: text("beneficiaryAccountNo"),
        received_at: Stored::from(item.s("receivedAt").unwrap_or_default()),
        conflict: item.bool("conflict").unwrap_or(false),
        issues: item
            .string_list("issues")
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }
}
