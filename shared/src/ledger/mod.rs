//! The DynamoDB ledger (SPEC section 8).
//!
//! One table holds these kinds of item, grouped so that one query by partition key reads
//! everything about one payout or one contract:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | payout | `PAYOUT#<controlNumber>` | `PAYOUT` |
//! | payout event (a payoutQueuePayout callback) | `PAYOUT#<controlNumber>` | `EVENT#<payType>#<dealTime>` |
//! | contract | `CONTRACT#<contractNumber>` | `CONTRACT` |
//! | receipt (a collectionCollect) | `CONTRACT#<contractNumber>` | `RECEIPT#<payChannel>#<receiptNumber>` |
//! | finance notification (and a conflicting repeat) | `FINANCE#<key>` | `NOTIFICATION` (`CONFLICT#<amount>`) |
//! | the day's list of finance notifications | `FINANCEDAY#<yyyy-MM-dd>` | `<key>` |
//! | the reconciliation run gate | `RECONCILE#PAYOUTS` | `GATE` |
//! | a day's reconciliation, and its differences | `RECON#<yyyy-MM-dd>` | `SUMMARY`, `RUN#<runId>#<n>` |
//!
//! Reconciliation (SPEC 13.6) also reads two sparse indexes, `OpenPushes` and `Daily`
//! ([`schema::INDEXES`]; see `reconcile`).
//!
//! Every write that SkyPay's calls cause is one conditional request: an `UpdateItem` for
//! payoutPayout, a `TransactWriteItems` of two items for collectionCollect and for a status
//! callback. A failed condition is classified from what DynamoDB returns with it
//! (`ReturnValuesOnConditionCheckFailure=ALL_OLD`, or the transaction's cancellation reasons),
//! never by a second read. See `docs/ledger.md` for the full item layout.

pub mod changes;
mod conditional;
mod contracts;
mod expr;
mod finance;
pub mod item;
mod payouts;
mod reconcile;
pub mod schema;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};
use chrono::{DateTime, Utc};

pub use contracts::ContractPage;
pub use contracts::{
    CollectOutcome, Collection, Contract, ContractInquiry, ContractRegistration, ContractStatus,
    Payer, Receipt, RegisterOutcome,
};
pub use finance::{Accounts, FinanceNotice, FinanceOutcome, FinanceRecord};
pub use payouts::PayoutPage;
pub use payouts::{
    CancelOutcome, CreateOutcome, EventEffect, EventOutcome, EventRecord, EventSource,
    InquiryOutcome, LeaseOutcome, NewPayout, PUSHED_AT_COUNTER, PayOutcome, Payment, Payout,
    PayoutDetails, PayoutEvent, PayoutFact, PayoutLookup, PayoutStatus, PushOutcome, PushPolicy,
    PushRecord, Settlement,
};
pub use reconcile::{
    DailyPayout, DailyReceipt, Gate, OPEN_PAGE, OpenPage, OpenPush, QueryHistory,
    ReconciliationView, StoredDifference,
};

/// A ledger failure: the endpoint is down, throttled or slow, or an item is not what the code
/// wrote. Answered -1009; the message is for the log only.
#[derive(Clone, Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("DynamoDB {operation} failed: {message}")]
    Dynamo {
        operation: &'static str,
        message: String,
    },
    #[error("could not build the {what} request: {message}")]
    Build { what: &'static str, message: String },
    /// An item, or DynamoDB's answer about one, is not what our writes leave: a bug or a hand
    /// edit, never SkyPay's input.
    #[error("ledger item {key} is malformed: {what}")]
    Malformed { key: String, what: &'static str },
}

impl LedgerError {
    pub(crate) fn dynamo<E, R>(operation: &'static str, error: &SdkError<E, R>) -> LedgerError
    where
        E: std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        LedgerError::Dynamo {
            operation,
            message: DisplayErrorContext(error).to_string(),
        }
    }

    pub(crate) fn build(what: &'static str, error: &dyn std::fmt::Display) -> LedgerError {
        LedgerError::Build {
            what,
            message: error.to_string(),
        }
    }
}

/// Who is writing, and when. `token` is unique to one call of ours (not to SkyPay's request:
/// SkyPay's retry is a new call); it is stored with the write so that when the SDK retries a
/// request whose first attempt was applied but not answered, we recognise our own write
/// instead of mistaking it for an earlier call.
#[derive(Clone, Debug)]
pub struct WriteContext {
    pub token: String,
    pub request_id: String,
    pub now: DateTime<Utc>,
}

impl WriteContext {
    pub fn new(request_id: impl Into<String>) -> WriteContext {
        WriteContext::at(request_id, Utc::now())
    }

    /// The same, at a given time (reconciliation's clock).
    pub fn at(request_id: impl Into<String>, now: DateTime<Utc>) -> WriteContext {
        WriteContext {
            token: random_token(),
            request_id: request_id.into(),
            now,
        }
    }

    pub(crate) fn now_text(&self) -> String {
        self.now
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

/// 128 random bits as 32 hex characters: fits DynamoDB's 36-character ClientRequestToken.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

#[derive(Clone)]
pub struct Ledger {
    client: Client,
    table: Arc<str>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("table", &self.table)
            .finish()
    }
}

/// How often a transaction is tried again when DynamoDB cancels it for a conflict with another
/// transaction on the same items (possible under concurrency on real DynamoDB).
const CONFLICT_ATTEMPTS: u32 = 3;

impl Ledger {
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Ledger {
        Ledger {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the table if missing (local server and tests; in AWS the template owns it).
    pub async fn ensure_table(&self, stream: schema::Stream) -> Result<(), LedgerError> {
        schema::ensure_table(&self.client, &self.table, stream).await
    }

    /// Every item of one partition, strongly consistent, all pages.
    pub(crate) async fn partition(&self, pk: String) -> Result<Vec<item::Attributes>, LedgerError> {
        self.query_all("#pk = :pk", vec![("pk", item::s(pk))]).await
    }

    /// The items of one partition whose sort key starts with `prefix`, all pages.
    pub(crate) async fn prefixed(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<item::Attributes>, LedgerError> {
        self.query_all(
            "#pk = :pk AND begins_with(#sk, :prefix)",
            vec![("pk", item::s(pk)), ("prefix", item::s(prefix))],
        )
        .await
    }

    async fn query_all(
        &self,
        condition: &str,
        values: Vec<(&str, aws_sdk_dynamodb::types::AttributeValue)>,
    ) -> Result<Vec<item::Attributes>, LedgerError> {
        self.query_pages(None, condition, values).await
    }

    /// Every item a key condition selects, all pages: on the table (strongly consistent) or,
    /// with `index`, on a global secondary index (which can only be read eventually
    /// consistent). The one paged-Query loop of the ledger.
    pub(crate) async fn query_pages(
        &self,
        index: Option<&str>,
        condition: &str,
        values: Vec<(&str, aws_sdk_dynamodb::types::AttributeValue)>,
    ) -> Result<Vec<item::Attributes>, LedgerError> {
        let bound = expr::bind(&[condition], values);
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(self.table())
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(condition)
                .set_expression_attribute_names(bound.names.clone())
                .set_expression_attribute_values(bound.values.clone())
                .consistent_read(index.is_none())
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| LedgerError::dynamo("Query", &e))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(items),
            }
        }
    }

    /// One item by its key, strongly consistent: the one read every inquiry and every admin
    /// read starts with.
    pub(crate) async fn get(
        &self,
        key: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    ) -> Result<Option<item::Attributes>, LedgerError> {
        Ok(self
            .client
            .get_item()
            .table_name(self.table())
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| LedgerError::dynamo("GetItem", &e))?
            .item)
    }

    /// An item at `sk` of partition `pk` (strongly consistent), and one page of the items
    /// whose sort key starts with `prefix` (the events of a payout, the receipts of a contract),
    /// in key order, after the page's cursor. Two requests, however many items the partition
    /// holds: an admin read stays bounded (a contract with 20,000 receipts took 1-2.6 s and
    /// 60 MB per read when it read them all).
    pub(crate) async fn head_and_page(
        &self,
        pk: String,
        sk: &str,
        prefix: &str,
        page: &Page,
    ) -> Result<
        (
            Option<item::Attributes>,
            Vec<item::Attributes>,
            Option<String>,
        ),
        LedgerError,
    > {
        use std::collections::HashMap;
        let key = HashMap::from([
            (schema::PARTITION_KEY.to_owned(), item::s(&pk)),
            (schema::SORT_KEY.to_owned(), item::s(sk)),
        ]);
        let head = self.get(key).await?;
        let condition = "#pk = :pk AND begins_with(#sk, :prefix)";
        let bound = expr::bind(
            &[condition],
            vec![("pk", item::s(&pk)), ("prefix", item::s(prefix))],
        );
        let start = page.after.as_ref().map(|after| {
            HashMap::from([
                (schema::PARTITION_KEY.to_owned(), item::s(&pk)),
                // Always inside the query's range (DynamoDB refuses a start key outside it),
                // whatever cursor a client sends.
                (
                    schema::SORT_KEY.to_owned(),
                    item::s(format!("{prefix}{after}")),
                ),
            ])
        });
        let found = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression(condition)
            .set_expression_attribute_names(bound.names)
            .set_expression_attribute_values(bound.values)
            .consistent_read(true)
            .limit(page.limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| LedgerError::dynamo("Query", &e))?;
        let next = found
            .last_evaluated_key()
            .and_then(|k| item::Item(k).s(schema::SORT_KEY))
            .map(|sk| Page::cursor_of(sk.strip_prefix(prefix).unwrap_or(sk)));
        Ok((head, found.items.unwrap_or_default(), next))
    }

    /// Runs one transaction. Returns the cancellation reasons when DynamoDB cancelled it for a
    /// failed condition; retries (a bounded number of times) when it cancelled it only for a
    /// conflict with a concurrent transaction.
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        ctx: &WriteContext,
    ) -> Result<Option<Vec<CancellationReason>>, LedgerError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&ctx.token)
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(None),
                Err(e) => e,
            };
            let reasons = match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    c.cancellation_reasons().to_vec()
                }
                _ => return Err(LedgerError::dynamo("TransactWriteItems", &error)),
            };
            let failed_condition = reasons
                .iter()
                .any(|r| r.code() == Some("ConditionalCheckFailed"));
            if failed_condition {
                return Ok(Some(reasons));
            }
            let conflict = reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"));
            if !conflict || attempt >= CONFLICT_ATTEMPTS {
                return Err(LedgerError::dynamo("TransactWriteItems", &error));
            }
            // A short, jittered pause before trying again.
            let pause = 10 * u64::from(attempt) + u64::from(rand::random::<u8>() % 10);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }
}

/// Which page of a payout's events or a contract's receipts to read (`GET /admin/...?limit=
/// &cursor=`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub limit: i32,
    /// Where the previous page ended: its last sort key, without the prefix the page reads
    /// (`EVENT#`, `RECEIPT#`), which the read adds back.
    pub after: Option<String>,
}

impl Page {
    pub const DEFAULT_LIMIT: i32 = 100;
    pub const MAX_LIMIT: i32 = 1000;

    /// The first page, of the default size.
    pub fn first() -> Page {
        Page {
            limit: Page::DEFAULT_LIMIT,
            after: None,
        }
    }

    /// From a request's `limit` (1 to 1,000, default 100) and `cursor` (a previous answer's
    /// `nextCursor`). The error says what is wrong, for a 400.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Page, String> {
        let limit = match limit {
            None => Page::DEFAULT_LIMIT,
            Some(text) => text
                .parse::<i32>()
                .ok()
                .filter(|n| (1..=Page::MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    format!("limit must be a whole number from 1 to {}", Page::MAX_LIMIT)
                })?,
        };
        let after = match cursor {
            None => None,
            Some(text) => Some(
                hex::decode(text)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or("cursor is not one this server gave")?,
            ),
        };
        Ok(Page { limit, after })
    }

    /// The cursor a page ending at `rest` (its last sort key after the prefix) hands out:
    /// opaque, URL-safe.
    fn cursor_of(rest: &str) -> String {
        hex::encode(rest)
    }
}

/// Key parts taken from what SkyPay sent. Keys have size limits and SkyPay's values do not, so
/// an overlong or odd value is replaced by its SHA-256 (the original is kept in the item).
pub(crate) fn key_part(text: &str) -> String {
    let plain =
        !text.is_empty() && text.len() <= 64 && text.chars().all(|c| !c.is_control() && c != '#');
    if plain {
        text.to_owned()
    } else {
        use sha2::Digest;
        format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        )
    }
}
