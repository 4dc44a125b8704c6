//! What reconciliation with SkyPay reads and keeps (SPEC 13.6):
//!
//! - the **open pushed payouts**, through the sparse index `OpenPushes`: a pushed payout carries
//!   `openPush` from its registration until it is final (paid, cancelled, failed, rejected), and
//!   `lastPushAt`, the time of its last push, as the index's sort key;
//! - the **days' paid payouts and receipts**, through the index `Daily` on `dailyKey`
//!   (`PAID#yyyy-MM-dd`, `COLLECTED#yyyy-MM-dd`, Manila days), written with the payment;
//! - the **run gate**, one item: which run holds the right to query SkyPay, and when each
//!   number was last queried, as ranges (see [`QueryHistory`]), so that SkyPay's "at most once
//!   every 30 minutes" holds per number without a write per payout;
//! - the **reconciliation items** of each day's comparison of SkyPay's reports with the ledger.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | run gate | `RECONCILE#PAYOUTS` | `GATE` |
//! | a day's reconciliation | `RECON#<yyyy-MM-dd>` | `SUMMARY` |
//! | one difference | `RECON#<yyyy-MM-dd>` | `RUN#<runId>#<nnnnn>` |

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::conditional::{Conditional, Returns};
use super::expr::bind;
use super::item::{Attributes, Item, n, s};
use super::schema::{DAILY, OPEN_PUSHES, PARTITION_KEY, SORT_KEY};
use super::{Ledger, LedgerError};

/// The attribute that puts a payout in `OpenPushes`, and its one value.
pub(crate) const OPEN_PUSH: &str = "openPush";
pub(crate) const OPEN: &str = "OPEN";
/// The index's sort key: epoch seconds of the payout's last push.
pub(crate) const LAST_PUSH_AT: &str = "lastPushAt";
/// The attribute that puts a payment or a receipt in `Daily`.
pub(crate) const DAILY_KEY: &str = "dailyKey";

/// `dailyKey` of a payout paid on `day` (Manila).
pub(crate) fn paid_key(day: NaiveDate) -> String {
    format!("PAID#{}", day.format("%Y-%m-%d"))
}

/// `dailyKey` of a receipt collected on `day` (Manila).
pub(crate) fn collected_key(day: NaiveDate) -> String {
    format!("COLLECTED#{}", day.format("%Y-%m-%d"))
}

pub(crate) use crate::protocol::time::manila_day;

/// How many open payouts one index page holds.
pub const OPEN_PAGE: i32 = 1000;

/// A pushed payout that is not final, as the index shows it (eventually consistent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenPush {
    pub control_number: String,
    /// Still PENDING: SkyPay's answer to the push is not known.
    pub pending: bool,
    pub uploaded: bool,
    pub last_push_at: i64,
}

/// One page of `OpenPushes`, oldest push first, and where the next starts.
#[derive(Clone, Debug, Default)]
pub struct OpenPage {
    pub payouts: Vec<OpenPush>,
    pub next: Option<Attributes>,
}

/// A payout of the day's payments, as `Daily` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyPayout {
    pub control_number: String,
    /// `None` for callbacks on a number we never registered (an orphan).
    pub amount: Option<Decimal>,
    pub registered: bool,
    pub pay_time: Option<String>,
}

/// A receipt of the day's collections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyReceipt {
    pub contract_number: String,
    pub receipt_number: String,
    pub amount: Decimal,
    pub collected_time: Option<String>,
}

/// When numbers were last queried, without a record per number: each run queries the open
/// payouts in the index's order (by `lastPushAt`), 50 at a time, so each batch is a range of
/// `lastPushAt` and one time. An entry `(run, upTo, at)` says: run `run` queried, at `at`, a
/// batch whose last number was pushed at `upTo`. A run that stopped without finishing counts
/// as one entry covering everything it could have queried, at the latest time it could have.
/// Entries older than the query interval are dropped.
///
/// A payout the run pushes again (SkyPay did not list it) gets a new `lastPushAt`, later than
/// every batch's `upTo`: the entries above would say it was never queried, and the next run
/// would ask about it sooner than SkyPay's 30 minutes after the query that found it unlisted
/// (found by the simulation). So `repushes` adds ranges `(from, to, at)`: the numbers whose
/// `lastPushAt` falls in `[from, to]` were last queried at `at`. A range covers the seconds the
/// run spent pushing again after that query; a payout-queue push in the same seconds waits 30
/// minutes for its first query instead of 300 s, which is on the safe side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryHistory {
    pub entries: Vec<(i64, i64, i64)>,
    pub repushes: Vec<(i64, i64, i64)>,
}

impl QueryHistory {
    /// The latest time a number pushed at `pushed_at` may have been queried (`None`: not within
    /// the history). Within a run, batches go in push order, so the bound is the time of the
    /// first batch reaching past `pushed_at` (or, when none does, of the last one reaching it:
    /// numbers pushed in the same second may straddle two batches).
    pub fn last_query(&self, pushed_at: i64) -> Option<i64> {
        let mut runs: Vec<i64> = self.entries.iter().map(|(run, _, _)| *run).collect();
        runs.sort_unstable();
        runs.dedup();
        runs.into_iter()
            .filter_map(|run| {
                let mut batches: Vec<(i64, i64)> = self
                    .entries
                    .iter()
                    .filter(|(r, _, _)| *r == run)
                    .map(|(_, up_to, at)| (*up_to, *at))
                    .collect();
                batches.sort_unstable();
                batches
                    .iter()
                    .find(|(up_to, _)| *up_to > pushed_at)
                    .or_else(|| batches.iter().rev().find(|(up_to, _)| *up_to == pushed_at))
                    .map(|(_, at)| *at)
            })
            .chain(
                self.repushes
                    .iter()
                    .filter(|(from, to, _)| (*from..=*to).contains(&pushed_at))
                    .map(|(_, _, at)| *at),
            )
            .max()
    }

    /// Without the entries that no longer restrict anything at `now`.
    pub fn current(&self, now: i64, interval: i64) -> QueryHistory {
        let live = |entries: &[(i64, i64, i64)]| {
            entries
                .iter()
                .copied()
                .filter(|(_, _, at)| at + interval > now)
                .collect()
        };
        QueryHistory {
            entries: live(&self.entries),
            repushes: live(&self.repushes),
        }
    }

    fn to_attribute(&self) -> AttributeValue {
        triples(&self.entries)
    }

    fn repushes_attribute(&self) -> AttributeValue {
        triples(&self.repushes)
    }

    fn from_item(item: Item<'_>) -> QueryHistory {
        QueryHistory {
            entries: triples_of(item, "history"),
            repushes: triples_of(item, "repushHistory"),
        }
    }
}

fn triples(list: &[(i64, i64, i64)]) -> AttributeValue {
    AttributeValue::L(
        list.iter()
            .map(|(a, b, c)| AttributeValue::L(vec![n(a), n(b), n(c)]))
            .collect(),
    )
}

fn triples_of(item: Item<'_>, name: &str) -> Vec<(i64, i64, i64)> {
    let Some(AttributeValue::L(list)) = item.0.get(name) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|entry| match entry {
            AttributeValue::L(parts) => {
                let number = |i: usize| match parts.get(i) {
                    Some(AttributeValue::N(v)) => v.parse::<i64>().ok(),
                    _ => None,
                };
                Some((number(0)?, number(1)?, number(2)?))
            }
            _ => None,
        })
        .collect()
}

/// Whether a run may start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// This run holds the gate until it finishes (or `busy_until`); the history says when
    /// numbers were last queried.
    Taken { history: QueryHistory, run: i64 },
    /// Another run holds it until then.
    Busy { until: i64 },
}

const GATE_PK: &str = "RECONCILE#PAYOUTS";
const GATE_SK: &str = "GATE";

fn gate_key() -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(GATE_PK)),
        (SORT_KEY.to_owned(), s(GATE_SK)),
    ])
}

/// One difference between SkyPay's report and the ledger, as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredDifference {
    pub kind: String,
    /// The payout's control number, or the contract's number.
    pub number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skypay_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger_status: Option<String>,
}

/// A day's reconciliation, as `GET /admin/reconciliation?date=` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconciliationView {
    pub date: String,
    pub run_id: String,
    pub ran_at: String,
    pub skypay_payouts: u32,
    pub skypay_collections: u32,
    pub ledger_payouts: u32,
    pub ledger_collections: u32,
    pub differences: Vec<StoredDifference>,
}

impl Ledger {
    /// One page of the open pushed payouts, oldest push first: one `Query` of `OpenPushes`.
    pub async fn open_pushes(&self, start: Option<Attributes>) -> Result<OpenPage, LedgerError> {
        let condition = "#openPush = :open";
        let bound = bind(&[condition], vec![("open", s(OPEN))]);
        let page = self
            .client
            .query()
            .table_name(self.table())
            .index_name(OPEN_PUSHES.name)
            .key_condition_expression(condition)
            .set_expression_attribute_names(bound.names)
            .set_expression_attribute_values(bound.values)
            .limit(OPEN_PAGE)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| LedgerError::dynamo("Query", &e))?;
        let payouts = page
            .items()
            .iter()
            .filter_map(|a| {
                let item = Item(a);
                Some(OpenPush {
                    control_number: item.s("controlNumber")?.to_owned(),
                    pending: item.s("queueStatus") == Some("PENDING"),
                    uploaded: item.has("uploadedAt"),
                    last_push_at: item.i64(LAST_PUSH_AT)?,
                })
            })
            .collect();
        Ok(OpenPage {
            payouts,
            next: page.last_evaluated_key().filter(|k| !k.is_empty()).cloned(),
        })
    }

    /// Every item of `Daily` under one key, all pages.
    async fn daily(&self, key: String) -> Result<Vec<Attributes>, LedgerError> {
        self.query_pages(Some(DAILY.name), "#dailyKey = :key", vec![("key", s(key))])
            .await
    }

    /// The payouts paid on a Manila day (by the pay time SkyPay gave).
    pub async fn paid_on(&self, day: NaiveDate) -> Result<Vec<DailyPayout>, LedgerError> {
        Ok(self
            .daily(paid_key(day))
            .await?
            .iter()
            .filter_map(|a| {
                let item = Item(a);
                Some(DailyPayout {
                    control_number: item.s("controlNumber")?.to_owned(),
                    amount: item.decimal("amount"),
                    registered: item.has("queueStatus"),
                    pay_time: item.s("payTime").map(str::to_owned),
                })
            })
            .collect())
    }

    /// The receipts collected on a Manila day (by SkyPay's collectedTime).
    pub async fn collected_on(&self, day: NaiveDate) -> Result<Vec<DailyReceipt>, LedgerError> {
        Ok(self
            .daily(collected_key(day))
            .await?
            .iter()
            .filter_map(|a| {
                let item = Item(a);
                Some(DailyReceipt {
                    contract_number: item.s("contractNumber")?.to_owned(),
                    receipt_number: item.s("receiptNumber")?.to_owned(),
                    amount: item.decimal("amount")?,
                    collected_time: item.s("collectedTime").map(str::to_owned),
                })
            })
            .collect())
    }

    /// Takes the run gate: one strongly consistent `GetItem`, then one `UpdateItem` conditional
    /// on nothing having changed since (optimistic locking on `version`). A run left unfinished
    /// (its holder stopped) is folded into the history as having queried everything up to its
    /// cutoff at the latest moment it could have.
    pub async fn take_reconcile_gate(
        &self,
        now: DateTime<Utc>,
        cutoff: i64,
        busy_seconds: i64,
        interval: i64,
        token: &str,
    ) -> Result<Gate, LedgerError> {
        let found = self.get(gate_key()).await?;
        let item = found.as_ref().map(Item);
        let now_s = now.timestamp();
        let version = item.and_then(|i| i.i64("version"));
        let mut history = item.map(QueryHistory::from_item).unwrap_or_default();
        if let Some(running) = item.filter(|i| i.has("runToken")) {
            let until = running.i64("busyUntil").unwrap_or(0);
            if until > now_s {
                return Ok(Gate::Busy { until });
            }
            if let (Some(run), Some(run_cutoff)) = (running.i64("run"), running.i64("runCutoff")) {
                history.entries.push((run, run_cutoff, until));
            }
            // And whatever it may have pushed again after a query.
            if let Some(started) = running.i64("runStartedAt") {
                history.repushes.push((started, until, until));
            }
        }
        let history = history.current(now_s, interval);
        let run = item.and_then(|i| i.i64("run")).unwrap_or(0) + 1;
        let condition = match version {
            Some(_) => "#version = :seen",
            None => "attribute_not_exists(#pk)",
        };
        let update = "SET #version = :next, #run = :run, #runToken = :token, \
             #runStartedAt = :now, #busyUntil = :busy, #runCutoff = :cutoff, \
             #history = :history, #repushHistory = :repushes, #kind = :kind";
        let bound = bind(
            &[condition, update],
            vec![
                ("seen", n(version.unwrap_or(0))),
                ("next", n(version.unwrap_or(0) + 1)),
                ("run", n(run)),
                ("token", s(token)),
                ("now", n(now_s)),
                ("busy", n(now_s + busy_seconds)),
                ("cutoff", n(cutoff)),
                ("history", history.to_attribute()),
                ("repushes", history.repushes_attribute()),
                ("kind", s("reconcileGate")),
            ],
        );
        let result = self
            .update_if(gate_key(), condition, update, bound, Returns::OldOnRefusal)
            .await?;
        match result {
            Conditional::Written(_) => Ok(Gate::Taken { history, run }),
            Conditional::Refused(old) => {
                let old = old.as_ref().map(Item);
                // The SDK retried a request whose first attempt was applied: ours.
                if old.and_then(|o| o.s("runToken")) == Some(token) {
                    return Ok(Gate::Taken { history, run });
                }
                Ok(Gate::Busy {
                    until: old.and_then(|o| o.i64("busyUntil")).unwrap_or(now_s),
                })
            }
        }
    }

    /// Releases the gate and records when this run queried what: one `UpdateItem`, conditional
    /// on this run still holding it. False when it does not (it outlived its time).
    pub async fn finish_reconcile_gate(
        &self,
        token: &str,
        history: &QueryHistory,
        now: DateTime<Utc>,
    ) -> Result<bool, LedgerError> {
        let condition = "#runToken = :token";
        let update = "SET #history = :history, #repushHistory = :repushes, \
             #lastFinishedAt = :now, #version = #version + :one \
             REMOVE #runToken, #busyUntil, #runCutoff";
        let bound = bind(
            &[condition, update],
            vec![
                ("token", s(token)),
                ("history", history.to_attribute()),
                ("repushes", history.repushes_attribute()),
                ("now", n(now.timestamp())),
                ("one", n(1)),
            ],
        );
        let result = self
            .update_if(gate_key(), condition, update, bound, Returns::Nothing)
            .await?;
        Ok(matches!(result, Conditional::Written(_)))
    }

    /// Stores a day's reconciliation: the differences first (one `PutItem` each, under this
    /// run's id), then the summary that points at them, so a run that stops half-way leaves
    /// the previous summary in place. Running a day again replaces what it shows.
    pub async fn save_reconciliation(&self, view: &ReconciliationView) -> Result<(), LedgerError> {
        let pk = format!("RECON#{}", view.date);
        let retention = n((Utc::now() + chrono::Duration::days(400)).timestamp());
        for (i, d) in view.differences.iter().enumerate() {
            let mut item: Attributes = HashMap::from([
                (PARTITION_KEY.to_owned(), s(&pk)),
                (
                    SORT_KEY.to_owned(),
                    s(format!("RUN#{}#{i:05}", view.run_id)),
                ),
                ("kind".to_owned(), s("reconciliationItem")),
                ("difference".to_owned(), s(&d.kind)),
                ("number".to_owned(), s(&d.number)),
                ("ttl".to_owned(), retention.clone()),
            ]);
            let optional = [
                ("reference", &d.reference),
                ("skypayAmount", &d.skypay_amount),
                ("ledgerAmount", &d.ledger_amount),
                ("ledgerStatus", &d.ledger_status),
            ];
            for (name, value) in optional {
                if let Some(v) = value {
                    item.insert(name.to_owned(), s(v));
                }
            }
            self.client
                .put_item()
                .table_name(self.table())
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| LedgerError::dynamo("PutItem", &e))?;
        }
        let summary: Attributes = HashMap::from([
            (PARTITION_KEY.to_owned(), s(&pk)),
            (SORT_KEY.to_owned(), s("SUMMARY")),
            ("kind".to_owned(), s("reconciliation")),
            ("date".to_owned(), s(&view.date)),
            ("runId".to_owned(), s(&view.run_id)),
            ("ranAt".to_owned(), s(&view.ran_at)),
            ("skypayPayouts".to_owned(), n(view.skypay_payouts)),
            ("skypayCollections".to_owned(), n(view.skypay_collections)),
            ("ledgerPayouts".to_owned(), n(view.ledger_payouts)),
            ("ledgerCollections".to_owned(), n(view.ledger_collections)),
            ("differences".to_owned(), n(view.differences.len())),
            ("ttl".to_owned(), retention),
        ]);
        self.client
            .put_item()
            .table_name(self.table())
            .set_item(Some(summary))
            .send()
            .await
            .map_err(|e| LedgerError::dynamo("PutItem", &e))?;
        Ok(())
    }

    /// A day's latest reconciliation, with its differences.
    pub async fn reconciliation(
        &self,
        day: NaiveDate,
    ) -> Result<Option<ReconciliationView>, LedgerError> {
        let date = day.format("%Y-%m-%d").to_string();
        let pk = format!("RECON#{date}");
        let Some(summary) = self
            .get(HashMap::from([
                (PARTITION_KEY.to_owned(), s(&pk)),
                (SORT_KEY.to_owned(), s("SUMMARY")),
            ]))
            .await?
        else {
            return Ok(None);
        };
        let summary = Item(&summary);
        let run_id = summary.s("runId").unwrap_or_default().to_owned();
        let items = self.prefixed(pk, &format!("RUN#{run_id}#")).await?;
        let differences = items
            .iter()
            .map(|a| {
                let item = Item(a);
                let text = |name: &str| item.s(name).map(str::to_owned);
                StoredDifference {
                    kind: text("difference").unwrap_or_default(),
                    number: text("number").unwrap_or_default(),
                    reference: text("reference"),
                    skypay_amount: text("skypayAmount"),
                    ledger_amount: text("ledgerAmount"),
                    ledger_status: text("ledgerStatus"),
                }
            })
            .collect();
        let count = |name: &str| summary.u32(name).unwrap_or(0);
        Ok(Some(ReconciliationView {
            date,
            run_id,
            ran_at: summary.s("ranAt").unwrap_or_default().to_owned(),
            skypay_payouts: count("skypayPayouts"),
            skypay_collections: count("skypayCollections"),
            ledger_payouts: count("ledgerPayouts"),
            ledger_collections: count("ledgerCollections"),
            differences,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_query_of_a_number_is_its_batchs_time() {
        // Run 7 queried three batches: pushes up to 100 at 1000, up to 200 at 1001, up to 200
        // (the same second straddling two batches) at 1002.
        let history = QueryHistory {
            entries: vec![(7, 100, 1000), (7, 200, 1001), (7, 200, 1002)],
            repushes: Vec::new(),
        };
        assert_eq!(history.last_query(50), Some(1000));
        assert_eq!(history.last_query(100), Some(1001));
        assert_eq!(history.last_query(150), Some(1001));
        assert_eq!(history.last_query(200), Some(1002));
        // Pushed later than anything run 7 queried.
        assert_eq!(history.last_query(201), None);
        // A run that stopped unfinished covers its whole range at its latest moment.
        let with_crash = QueryHistory {
            entries: vec![(7, 100, 1000), (8, 150, 2900)],
            repushes: Vec::new(),
        };
        assert_eq!(with_crash.last_query(50), Some(2900));
        assert_eq!(with_crash.last_query(120), Some(2900));
        assert_eq!(
            with_crash.current(1000 + 1800, 1800).entries,
            vec![(8, 150, 2900)]
        );
    }

    #[test]
    fn a_number_pushed_again_by_a_run_counts_as_queried_when_its_query_was() {
        // Run 7 queried pushes up to 100 at 1000, and pushed again at 1000-1003 what it did
        // not list.
        let history = QueryHistory {
            entries: vec![(7, 100, 1000)],
            repushes: vec![(1000, 1003, 1000)],
        };
        assert_eq!(history.last_query(1002), Some(1000));
        // A push after the run's re-pushes is new.
        assert_eq!(history.last_query(1004), None);
        // Dropped with the entries once 30 minutes have passed.
        assert!(history.current(1000 + 1800, 1800).repushes.is_empty());
        assert_eq!(
            history.current(1000 + 1799, 1800).repushes,
            vec![(1000, 1003, 1000)]
        );
    }
}
