//! Reconciliation with SkyPay (SPEC 13.6): we ask SkyPay what became of our pushed payouts,
//! what our balance is, and what it paid and collected each day, and compare with the ledger.
//!
//! **The payout run** (every 30 minutes, `payout-reconcile`; locally `POST /admin/reconcile`):
//!
//! 1. takes the run gate (one run at a time);
//! 2. reads the open pushed payouts from the sparse index, one page per 1,000, oldest push
//!    first;
//! 3. queries those pushed at least 300 s ago with payoutQueryStatus, 50 per call, each batch
//!    no sooner than 30 minutes after the same numbers' last query (waiting up to
//!    [`MAX_WAIT`], else leaving them to the next run);
//! 4. applies each answer that changes something through the callbacks' write ([`status`]);
//!    settles PENDING payouts (SPEC 14.3): one SkyPay lists is QUEUED; one in doubt that two
//!    queries 30 minutes apart do not list has its doubt cleared and is pushed again; a held
//!    one, or one whose push never left, is pushed again (once per run, under the push lease);
//!    one SkyPay has reported on is never pushed again (an anomaly);
//! 5. reads the balance (balanceQuery);
//! 6. releases the gate, recording when it queried what, and writes one log line that is also
//!    CloudWatch metrics (EMF).
//!
//! **The daily run** (after midnight Manila; locally `POST /admin/reconcile/daily?date=`):
//! all pages of both reports for the day, compared with the day's payments and receipts
//! ([`daily`]); every difference is stored, logged at warn and counted in a metric.
//!
//! A failure to reach or read SkyPay stops a run with nothing changed for the numbers that call
//! was about; the run reports failure so that the next one tries again.

pub mod daily;
pub mod status;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::config::{Config, ConfigError};
use crate::ledger::{
    EventEffect, Gate, Ledger, LedgerError, OpenPush, PayoutLookup, PayoutStatus, PushPolicy,
    QueryHistory, ReconciliationView, Settlement, StoredDifference, WriteContext,
};
use crate::metrics;
use crate::outbound::api::{self, AnswerError, Report, ReportRow};
use crate::outbound::client::SkyPayClient;
use crate::outbound::push::{PayoutQueue, SubmitError, Submitted};
use crate::protocol::rules::money;
use crate::protocol::time::{self, Clock};
use daily::{Difference, DifferenceKind};

/// The function's name, the metrics' `Service` dimension.
pub const SERVICE: &str = "payout-reconcile";
/// How long a run may hold the gate: the function's timeout (template.yaml).
pub const RUN_LIMIT: Duration = Duration::from_secs(900);
/// How long a run waits for a batch whose numbers were queried less than 30 minutes ago
/// (the schedule's ticks come a little early or late): beyond it, they wait for the next run.
pub const MAX_WAIT: Duration = Duration::from_secs(300);
/// A report longer than this many pages is refused rather than read without end.
const MAX_REPORT_PAGES: u32 = 10_000;

fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// What a payout run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutRun {
    /// The run's number (the gate counts them).
    pub run: i64,
    pub started_at: String,
    /// Another run held the gate until then: nothing was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub busy_until: Option<String>,
    /// Open pushed payouts seen in the index, and those due (pushed at least 300 s ago).
    pub open: u64,
    pub due: u64,
    /// payoutQueryStatus calls made.
    pub queries: u64,
    /// Answers applied, by what they did.
    pub applied: BTreeMap<&'static str, u64>,
    /// Answers that changed nothing (pending, inquiry, already known).
    pub unchanged: u64,
    /// QUEUED or UPLOADED payouts SkyPay's answer did not list: left as they are.
    pub unlisted: u64,
    /// PENDING payouts SkyPay listed: its answer settled them, QUEUED (SPEC 14.3).
    pub settled: u64,
    /// PENDING payouts in doubt SkyPay did not list, waiting for a second query 30 minutes
    /// after the first.
    pub in_doubt: u64,
    /// ... not listed by two queries 30 minutes apart: the doubt cleared, pushed again.
    pub doubts_cleared: u64,
    /// PENDING payouts SkyPay did not list, pushed again (held, never sent, or cleared).
    pub repushed: u64,
    /// Payouts held (SkyPay refused the push for a reason about us) after this run: the
    /// `PushesHeld` alarm fires while there are any.
    pub held: u64,
    /// PENDING payouts SkyPay does not list although it reported on them: never pushed again,
    /// logged at error and counted as anomalies.
    pub anomalies: u64,
    /// ... not pushed again because another push held the lease.
    pub lease_held: u64,
    /// ... not pushed again because the instruction is no longer valid (expired): PENDING until
    /// the loan system cancels it (SkyPay never took it); `RepushesRefused` is alarmed.
    pub repush_refused: u64,
    /// Due, but queried less than 30 minutes ago: left to the next run.
    pub deferred: u64,
    pub waited_seconds: i64,
    /// Our balance at SkyPay, exact; written with two decimals, as SkyPay writes amounts.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "money_text")]
    pub balance: Option<Decimal>,
}

fn money_text<S: serde::Serializer>(balance: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match balance {
        Some(b) => s.serialize_str(&money(*b)),
        None => s.serialize_none(),
    }
}

/// A run that stopped: what it did before, and why it stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct RunFailure<R> {
    pub run: R,
    pub error: String,
}

/// What a daily run found.
pub type DailyRun = ReconciliationView;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Client(String),
}

/// The reconciliation service: configuration, ledger, SkyPay client and clock, built once.
#[derive(Clone, Debug)]
pub struct Reconciler {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    ledger: Ledger,
    queue: PayoutQueue,
    client: SkyPayClient,
    clock: Arc<dyn Clock>,
}

enum Failed {
    SkyPay(AnswerError),
    Ledger(LedgerError),
}

impl From<AnswerError> for Failed {
    fn from(e: AnswerError) -> Failed {
        Failed::SkyPay(e)
    }
}

impl From<LedgerError> for Failed {
    fn from(e: LedgerError) -> Failed {
        Failed::Ledger(e)
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::SkyPay(e) => e.fmt(f),
            Failed::Ledger(e) => e.fmt(f),
        }
    }
}

/// How one batch went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Batch {
    /// Queried, and every answer applied.
    Done,
    /// Its numbers were queried too recently, beyond what a run waits for: left to the next
    /// run, and so is every batch after it.
    Deferred,
}

impl Reconciler {
    /// Needs `SKYPAY_API_URL` (and so `SKYPAY_SENDER`).
    pub fn new(
        config: Config,
        ledger: Ledger,
        clock: Arc<dyn Clock>,
    ) -> Result<Reconciler, SetupError> {
        let api = config.require_skypay_api()?;
        let client = SkyPayClient::new(&api.url, api.timeout, config.encryption.clone())
            .map_err(|e| SetupError::Client(e.to_string()))?;
        let queue = PayoutQueue::with_clock(config.clone(), ledger.clone(), clock.clone())
            .map_err(|e| SetupError::Client(e.to_string()))?;
        Ok(Reconciler {
            inner: Arc::new(Inner {
                config,
                ledger,
                queue,
                client,
                clock,
            }),
        })
    }

    /// Yesterday in Manila: the day the daily run reads by default.
    pub fn yesterday(&self) -> NaiveDate {
        let today = self
            .inner
            .clock
            .now()
            .with_timezone(&time::manila())
            .date_naive();
        today.pred_opt().unwrap_or(today)
    }

    async fn ask(&self, body: &Value) -> Result<crate::protocol::wire::Fields, AnswerError> {
        self.inner
            .client
            .call(body)
            .await
            .map_err(AnswerError::Transport)
    }

    /// The payout run.
    pub async fn run_payouts(&self, request_id: &str) -> Result<PayoutRun, RunFailure<PayoutRun>> {
        let inner = &self.inner;
        let started = inner.clock.now();
        let token = crate::ledger::random_token();
        let interval = seconds(api::QUERY_INTERVAL);
        let cutoff = started.timestamp() - seconds(api::QUERY_AFTER_PUSH);
        let mut report = PayoutRun {
            started_at: time::iso_manila(started),
            ..PayoutRun::default()
        };
        let gate = inner
            .ledger
            .take_reconcile_gate(started, cutoff, seconds(RUN_LIMIT), interval, &token)
            .await;
        let (history, run) = match gate {
            Ok(Gate::Taken { history, run }) => (history, run),
            Ok(Gate::Busy { until }) => {
                report.busy_until = DateTime::from_timestamp(until, 0).map(time::iso_manila);
                tracing::info!(
                    busyUntil = report.busy_until.as_deref().unwrap_or(""),
                    "payout reconcile: another run holds the gate"
                );
                return Ok(report);
            }
            Err(e) => {
                return Err(RunFailure {
                    run: report,
                    error: e.to_string(),
                });
            }
        };
        report.run = run;
        let mut queried = QueryHistory::default();
        let mut outcome = self
            .query_open(&history, cutoff, run, &mut report, &mut queried, request_id)
            .await;
        if outcome.is_ok() {
            outcome = match self.ask(&api::balance_body(&inner.config)).await {
                Ok(fields) => api::read_balance(&fields)
                    .map(|b| report.balance = Some(b))
                    .map_err(Failed::from),
                Err(e) => Err(e.into()),
            };
        }
        let now = inner.clock.now();
        let mut next = history;
        next.entries.extend(queried.entries);
        next.repushes.extend(queried.repushes);
        let released = inner
            .ledger
            .finish_reconcile_gate(&token, &next.current(now.timestamp(), interval), now)
            .await;
        let error = match (&outcome, released) {
            (Err(e), _) => Some(e.to_string()),
            (Ok(()), Err(e)) => Some(e.to_string()),
            (Ok(()), Ok(false)) => Some("the run outlived its gate".to_owned()),
            (Ok(()), Ok(true)) => None,
        };
        self.log_payout_run(&report, error.as_deref(), request_id);
        match error {
            None => Ok(report),
            Some(error) => Err(RunFailure { run: report, error }),
        }
    }

    async fn query_open(
        &self,
        history: &QueryHistory,
        cutoff: i64,
        run: i64,
        report: &mut PayoutRun,
        queried: &mut QueryHistory,
        request_id: &str,
    ) -> Result<(), Failed> {
        let mut seen = HashSet::new();
        let mut batch: Vec<OpenPush> = Vec::with_capacity(api::MAX_QUERY_NUMBERS);
        let mut deferring = false;
        let mut start = None;
        loop {
            let page = self.inner.ledger.open_pushes(start).await?;
            for payout in page.payouts {
                // A payout pushed again during this run shows up again later in the index.
                if !seen.insert(payout.control_number.clone()) {
                    continue;
                }
                report.open += 1;
                if payout.last_push_at > cutoff {
                    continue;
                }
                report.due += 1;
                if deferring {
                    report.deferred += 1;
                    continue;
                }
                batch.push(payout);
                if batch.len() == api::MAX_QUERY_NUMBERS {
                    let full = std::mem::take(&mut batch);
                    deferring = self
                        .query_batch(history, &full, run, report, queried, request_id)
                        .await?
                        == Batch::Deferred;
                }
            }
            match page.next {
                Some(next) => start = Some(next),
                None => break,
            }
        }
        if !batch.is_empty() && !deferring {
            let _ = self
                .query_batch(history, &batch, run, report, queried, request_id)
                .await?;
        }
        Ok(())
    }

    /// Queries one batch (waiting for SkyPay's 30 minutes if need be) and applies the answer.
    async fn query_batch(
        &self,
        history: &QueryHistory,
        batch: &[OpenPush],
        run: i64,
        report: &mut PayoutRun,
        queried: &mut QueryHistory,
        request_id: &str,
    ) -> Result<Batch, Failed> {
        let inner = &self.inner;
        let allowed = batch
            .iter()
            .filter_map(|p| history.last_query(p.last_push_at))
            .max()
            .map(|last| last + seconds(api::QUERY_INTERVAL));
        if let Some(allowed) = allowed {
            let wait = allowed - inner.clock.now().timestamp();
            if wait > seconds(MAX_WAIT) {
                report.deferred += batch.len() as u64;
                return Ok(Batch::Deferred);
            }
            if wait > 0 {
                inner
                    .clock
                    .sleep(Duration::from_secs(wait.unsigned_abs()))
                    .await;
                report.waited_seconds += wait;
            }
        }
        let numbers: Vec<&str> = batch.iter().map(|p| p.control_number.as_str()).collect();
        let asked = self
            .ask(&api::query_status_body(&inner.config, &numbers))
            .await;
        // Recorded whatever came back: the call reached SkyPay, or may have.
        let up_to = batch.iter().map(|p| p.last_push_at).max().unwrap_or(0);
        let at = inner.clock.now().timestamp();
        queried.entries.push((run, up_to, at));
        report.queries += 1;
        let answers = api::read_status_answer(&asked?)?;
        // A PENDING payout this query did not list may be pushed again below: its new push
        // counts as queried now (QueryHistory). Until the batch is done, for as long as the
        // run may last; then for the seconds it took.
        let may_repush = batch
            .iter()
            .any(|p| p.pending && !answers.iter().any(|a| a.control_number == p.control_number));
        let repush_range = may_repush.then(|| {
            queried.repushes.push((at, at + seconds(RUN_LIMIT), at));
            queried.repushes.len() - 1
        });
        for payout in batch {
            let answer = answers
                .iter()
                .find(|a| a.control_number == payout.control_number);
            if answer.is_some() && payout.pending {
                // SkyPay lists it: it has the push, whatever our attempts' answers said.
                let ctx = WriteContext::at(request_id, inner.clock.now());
                let settled = inner
                    .ledger
                    .settle_push(&payout.control_number, Settlement::Listed, 0, &ctx)
                    .await?;
                report.settled += u64::from(settled);
                let status = match settled {
                    true => None,
                    false => inner.ledger.payout_status(&payout.control_number).await?,
                };
                if status == Some(PayoutStatus::Cancelled) {
                    // Cancelled as never taken (the index had not caught up), yet SkyPay has
                    // it: SkyPay may pay a payout the loan system was told is withdrawn.
                    tracing::error!(
                        number = payout.control_number.as_str(),
                        "payout reconcile: SkyPay lists a payout we cancelled as never taken"
                    );
                    report.anomalies += 1;
                }
            }
            match answer {
                Some(answer) => match status::event_of(answer) {
                    None => report.unchanged += 1,
                    Some(event)
                        if event.effect == Some(EventEffect::Uploaded) && payout.uploaded =>
                    {
                        report.unchanged += 1;
                    }
                    Some(event) => {
                        let ctx = WriteContext::at(request_id, inner.clock.now());
                        inner.ledger.record_event(&event, &ctx).await?;
                        let applied = match event.effect {
                            Some(EventEffect::Paid) => "paid",
                            Some(EventEffect::Uploaded) => "uploaded",
                            Some(EventEffect::Cancelled) => "cancelled",
                            Some(EventEffect::Failed) => "failed",
                            _ => "other",
                        };
                        *report.applied.entry(applied).or_insert(0) += 1;
                    }
                },
                None if payout.pending => self.repush(payout, report, request_id).await?,
                None => report.unlisted += 1,
            }
        }
        if let Some(range) = repush_range.and_then(|i| queried.repushes.get_mut(i)) {
            range.1 = inner.clock.now().timestamp();
        }
        Ok(Batch::Done)
    }

    /// A PENDING payout SkyPay does not list (SPEC 14.3): pushed again with the same number
    /// and instruction, through payout-queue's own path (the push lease of section 7), unless
    /// an attempt is in doubt (settled by two queries 30 minutes apart first), a push is in
    /// flight, or SkyPay has reported on it.
    async fn repush(
        &self,
        payout: &OpenPush,
        report: &mut PayoutRun,
        request_id: &str,
    ) -> Result<(), Failed> {
        let inner = &self.inner;
        let view = match inner.ledger.payout(&payout.control_number).await? {
            Some(PayoutLookup::Payout(view)) if view.status == PayoutStatus::Pending => view,
            _ => {
                report.unchanged += 1;
                return Ok(());
            }
        };
        let now = inner.clock.now();
        let ctx = WriteContext::at(request_id, now);
        if view.reported {
            tracing::error!(
                number = payout.control_number.as_str(),
                "payout reconcile: SkyPay does not list a PENDING payout it reported on; not \
                 pushed again (see GET /admin/payouts/{{controlNumber}})"
            );
            report.anomalies += 1;
            return Ok(());
        }
        if view.leased_at(now.timestamp()) {
            report.lease_held += 1;
            return Ok(());
        }
        if view.in_doubt_at(now.timestamp()) {
            let interval = seconds(api::QUERY_INTERVAL);
            let cleared = match view.unlisted_at {
                None => {
                    let first = Settlement::FirstUnlisted {
                        last_push_at: payout.last_push_at,
                    };
                    inner
                        .ledger
                        .settle_push(&view.control_number, first, 0, &ctx)
                        .await?;
                    false
                }
                Some(first) if now.timestamp() - first >= interval => {
                    inner
                        .ledger
                        .settle_push(&view.control_number, Settlement::ClearDoubt, interval, &ctx)
                        .await?
                }
                Some(_) => false,
            };
            if !cleared {
                report.in_doubt += 1;
                return Ok(());
            }
            report.doubts_cleared += 1;
            tracing::warn!(
                number = payout.control_number.as_str(),
                "payout reconcile: a push in doubt is not listed by two queries 30 minutes \
                 apart; pushed again"
            );
        }
        // Past its validity (the instruction's expiresAt, else PAYOUT_VALIDITY_HOURS after it
        // was registered) a payout SkyPay never took is not pushed again: the loan system may
        // have paid the borrower another way by now. It stays PENDING for a cancel.
        if view.expires_at <= now {
            tracing::warn!(
                number = payout.control_number.as_str(),
                expiresAt = time::iso_manila(view.expires_at).as_str(),
                "payout reconcile: a PENDING payout past its validity is not pushed again; \
                 cancel it (POST /admin/payouts/{{controlNumber}}/cancel)"
            );
            report.repush_refused += 1;
            report.held += u64::from(view.push_held.is_some());
            return Ok(());
        }
        let submitted = inner
            .queue
            .submit(
                view.instruction.as_bytes(),
                PushPolicy::PayoutRun,
                request_id,
            )
            .await;
        let was_held = view.push_held.is_some();
        match submitted {
            Ok(Submitted::Repushed(r) | Submitted::Created(r)) => {
                report.repushed += 1;
                // Held again, or left with its hold by an attempt that never left or is in
                // doubt (of the pushes, only an accepted one removes `pushHeld`).
                let still_held = r.status == PayoutStatus::Pending && (r.held || was_held);
                report.held += u64::from(still_held);
            }
            Ok(Submitted::Existing(view)) => {
                report.unchanged += 1;
                report.held += u64::from(view.push_held.is_some());
            }
            Err(SubmitError::InFlight(_)) => report.lease_held += 1,
            Err(SubmitError::Ledger(e)) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(
                    number = payout.control_number.as_str(),
                    error = %e,
                    "payout reconcile: a PENDING payout SkyPay does not list was not pushed again"
                );
                report.repush_refused += 1;
                report.held += u64::from(was_held);
            }
        }
        Ok(())
    }

    fn log_payout_run(&self, report: &PayoutRun, error: Option<&str>, request_id: &str) {
        let changed: u64 = report.applied.values().sum();
        let balance = report.balance.map(tracing::field::display);
        macro_rules! run_line {
            ($level:ident, $message:literal) => {
                tracing::$level!(
                    _emf = metrics::PAYOUT_RUN.name,
                    Service = SERVICE,
                    OpenPushedPayouts = report.open,
                    ReconcileQueries = report.queries,
                    ReconcileChanges = changed,
                    ReconcileRepushes = report.repushed,
                    PushesHeld = report.held,
                    PushesInDoubt = report.in_doubt,
                    RepushesRefused = report.repush_refused,
                    anomalies = report.anomalies,
                    ReconcileDeferred = report.deferred,
                    ReconcileFailures = u64::from(error.is_some()),
                    SkyPayBalance = balance,
                    requestId = request_id,
                    run = report.run,
                    busyUntil = report.busy_until.as_deref(),
                    due = report.due,
                    applied = ?report.applied,
                    unchanged = report.unchanged,
                    unlisted = report.unlisted,
                    settled = report.settled,
                    doubtsCleared = report.doubts_cleared,
                    leaseHeld = report.lease_held,
                    waitedSeconds = report.waited_seconds,
                    error,
                    $message
                )
            };
        }
        if error.is_some() {
            run_line!(error, "payout reconcile run");
        } else {
            run_line!(info, "payout reconcile run");
        }
    }

    /// All pages of one day's report.
    async fn report(&self, report: Report, day: NaiveDate) -> Result<Vec<ReportRow>, AnswerError> {
        let mut rows = Vec::new();
        for page in 1..=MAX_REPORT_PAGES {
            let fields = self
                .ask(&report.body(&self.inner.config, day, page))
                .await?;
            let read = api::read_report(&fields)?;
            let last = read.last_page || read.rows.is_empty();
            rows.extend(read.rows);
            if last {
                return Ok(rows);
            }
        }
        Err(AnswerError::Malformed(format!(
            "{} did not end within {MAX_REPORT_PAGES} pages",
            report.action()
        )))
    }

    /// The daily run for one Manila day.
    pub async fn run_daily(
        &self,
        day: NaiveDate,
        request_id: &str,
    ) -> Result<DailyRun, RunFailure<String>> {
        let date = day.format("%Y-%m-%d").to_string();
        let failed = |e: &dyn std::fmt::Display| {
            let error = e.to_string();
            tracing::error!(
                _emf = metrics::DAILY_RUN.name,
                Service = SERVICE,
                ReconcileFailures = 1_u64,
                date = date.as_str(),
                requestId = request_id,
                error = error.as_str(),
                "daily reconciliation failed"
            );
            RunFailure {
                run: date.clone(),
                error,
            }
        };
        let payouts = self
            .report(Report::Payouts, day)
            .await
            .map_err(|e| failed(&e))?;
        let collections = self
            .report(Report::Collections, day)
            .await
            .map_err(|e| failed(&e))?;
        let ledger = &self.inner.ledger;
        let paid = ledger.paid_on(day).await.map_err(|e| failed(&e))?;
        let receipts = ledger.collected_on(day).await.map_err(|e| failed(&e))?;
        let (mut differences, look_up) = daily::compare_payouts(&payouts, &paid);
        for row in look_up {
            let found = ledger
                .payout_fact(&row.control_no)
                .await
                .map_err(|e| failed(&e))?;
            differences.extend(daily::compare_elsewhere(row, found));
        }
        differences.extend(daily::compare_collections(&collections, &receipts));
        let now = self.inner.clock.now();
        let view = ReconciliationView {
            date: date.clone(),
            run_id: format!(
                "{}-{}",
                now.format("%Y%m%dT%H%M%SZ"),
                crate::ledger::random_token().get(..8).unwrap_or("")
            ),
            ran_at: time::iso_manila(now),
            skypay_payouts: count(payouts.len()),
            skypay_collections: count(collections.len()),
            ledger_payouts: count(paid.len()),
            ledger_collections: count(receipts.len()),
            differences: differences.iter().map(stored).collect(),
        };
        ledger
            .save_reconciliation(&view)
            .await
            .map_err(|e| failed(&e))?;
        log_daily(&view, request_id);
        Ok(view)
    }

    /// The scheduled function's event: `{"run": "payouts"}` or `{"run": "daily"}` (with an
    /// optional `"date": "yyyy-MM-dd"`; default yesterday in Manila). The answer is the run's
    /// summary; a failed run is an error, so that the invocation counts as failed.
    pub async fn handle(&self, event: &Value, request_id: &str) -> Result<Value, String> {
        let run = event.get("run").and_then(Value::as_str);
        match run {
            Some("payouts") => match self.run_payouts(request_id).await {
                Ok(report) => serde_json::to_value(report).map_err(|e| e.to_string()),
                Err(failure) => Err(failure.error),
            },
            Some("daily") => {
                let day = match event.get("date").and_then(Value::as_str) {
                    None => self.yesterday(),
                    Some(text) => time::parse_date(text)
                        .ok_or_else(|| "date must be yyyy-MM-dd".to_owned())?,
                };
                match self.run_daily(day, request_id).await {
                    Ok(view) => serde_json::to_value(view).map_err(|e| e.to_string()),
                    Err(failure) => Err(failure.error),
                }
            }
            _ => Err(r#"the event must be {"run": "payouts"} or {"run": "daily"}"#.to_owned()),
        }
    }
}

/// The daily run's lines: one warning per difference, and the run's EMF line.
fn log_daily(view: &ReconciliationView, request_id: &str) {
    for d in &view.differences {
        tracing::warn!(
            date = view.date.as_str(),
            difference = d.kind.as_str(),
            number = d.number.as_str(),
            skypayAmount = d.skypay_amount.as_deref().unwrap_or(""),
            ledgerAmount = d.ledger_amount.as_deref().unwrap_or(""),
            ledgerStatus = d.ledger_status.as_deref().unwrap_or(""),
            "reconciliation difference"
        );
    }
    let of_kind = |kind: DifferenceKind| {
        view.differences
            .iter()
            .filter(|d| d.kind == kind.as_str())
            .count()
    };
    tracing::info!(
        _emf = metrics::DAILY_RUN.name,
        Service = SERVICE,
        ReconciliationDifferences = view.differences.len() as u64,
        date = view.date.as_str(),
        runId = view.run_id.as_str(),
        requestId = request_id,
        skypayPayouts = view.skypay_payouts,
        skypayCollections = view.skypay_collections,
        ledgerPayouts = view.ledger_payouts,
        ledgerCollections = view.ledger_collections,
        paidAtSkyPayNotInLedger = of_kind(DifferenceKind::PaidAtSkyPayNotInLedger),
        paidInLedgerNotAtSkyPay = of_kind(DifferenceKind::PaidInLedgerNotAtSkyPay),
        amountDiffers = of_kind(DifferenceKind::AmountDiffers),
        collectionNotInLedger = of_kind(DifferenceKind::CollectionNotInLedger),
        collectionNotAtSkyPay = of_kind(DifferenceKind::CollectionNotAtSkyPay),
        "daily reconciliation"
    );
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn stored(d: &Difference) -> StoredDifference {
    StoredDifference {
        kind: d.kind.as_str().to_owned(),
        number: d.number.clone(),
        reference: d.reference.clone(),
        skypay_amount: d.skypay_amount.map(money),
        ledger_amount: d.ledger_amount.map(money),
        ledger_status: d.ledger_status.clone(),
    }
}
