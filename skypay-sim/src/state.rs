//! What the simulator knows: the payouts it was sent and how far each has gone, the
//! collections it confirmed, and the partner's balance. Every answer it gives is computed from
//! this state, never scripted.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;
use skypay::protocol::time::{SkyPayTime, manila_day};

/// payoutQueryStatus's `status` (SPEC 13.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimStatus {
    Pending,
    Completed,
    Uploaded,
    Cancelled,
    Failed,
    InquirySuccess,
    InquiryFailure,
}

impl SimStatus {
    pub fn code(self) -> u32 {
        match self {
            SimStatus::Pending => 0,
            SimStatus::Completed => 1,
            SimStatus::Uploaded => 2,
            SimStatus::Cancelled => 3,
            SimStatus::Failed => 4,
            SimStatus::InquirySuccess => 10,
            SimStatus::InquiryFailure => 11,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            SimStatus::Pending => "Pending",
            SimStatus::Completed => "Completed",
            SimStatus::Uploaded => "Uploaded",
            SimStatus::Cancelled => "Cancelled",
            SimStatus::Failed => "Failed",
            SimStatus::InquirySuccess => "Inquiry Success",
            SimStatus::InquiryFailure => "Inquiry Failure",
        }
    }
}

/// A payout the simulator holds (pushed to it, or placed by a test).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPayout {
    pub control_number: String,
    pub amount: Decimal,
    pub withdraw_channel: u32,
    pub phone: String,
    pub status: SimStatus,
    pub transaction_date: DateTime<Utc>,
    pub pay_time: Option<DateTime<Utc>>,
    pub cancel_time: Option<DateTime<Utc>>,
    pub reference_no: String,
}

/// A repayment SkyPay confirmed (the shop flow, or placed by a test).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimCollection {
    pub contract_number: String,
    pub amount: Decimal,
    /// The receiptNumber the shop's collectionCollect carried.
    pub reference_no: String,
    pub phone: String,
    pub collected_time: DateTime<Utc>,
}

/// A callback the simulator made to the gateway, and what the gateway answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackRecord {
    pub control_number: String,
    pub pay_type: u32,
    /// The gateway's responseCode, or why there was none.
    pub answer: Result<String, String>,
}

#[derive(Debug, Default)]
pub struct State {
    pub payouts: BTreeMap<String, SimPayout>,
    /// Numbers the simulator holds but leaves out of payoutQueryStatus answers (an answer that
    /// lists only some of the numbers).
    pub hidden: BTreeSet<String>,
    pub collections: Vec<SimCollection>,
    pub balance: Decimal,
    /// Requests by action (after transport and authentication).
    pub calls: BTreeMap<String, u64>,
    /// Every body received, decrypted, in order.
    pub received: Vec<serde_json::Value>,
    pub content_types: Vec<String>,
    pub callbacks: Vec<CallbackRecord>,
    /// When each number was last asked about in a payoutQueryStatus.
    pub last_queried: BTreeMap<String, DateTime<Utc>>,
    /// Every time the partner broke one of SkyPay's own rules (SPEC 13.6 and 14.3): a number
    /// queried sooner than 300 s after its push or within 30 min of the last query, a number
    /// SkyPay holds pushed again. SkyPay answers as usual; the simulation's invariant is that
    /// this stays empty.
    pub rule_breaks: Vec<String>,
}

/// SkyPay's name for a payout channel, as payoutQueryStatus writes `withdrawChannel`.
pub fn channel_name(code: u32) -> String {
    match code {
        1 => "MLhuillier".to_owned(),
        5 => "Bank".to_owned(),
        6 => "GCash".to_owned(),
        8 => "Paymaya".to_owned(),
        9 => "RD Pawnshop".to_owned(),
        15 => "GrabPay".to_owned(),
        other => other.to_string(),
    }
}

fn time_text(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| SkyPayTime::from_utc(t).text).unwrap_or_default()
}

/// An amount as a JSON number written from its decimal text (SkyPay's reports and balance use
/// numbers): no float on the way.
fn number(value: Decimal) -> Box<RawValue> {
    RawValue::from_string(value.normalize().to_string()).unwrap_or_default()
}

/// One element of a payoutQueryStatus answer, shaped as SkyPay's sample: `status` a string,
/// `withdrawChannel` a name.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusElement {
    control_number: String,
    transaction_date: String,
    status: String,
    status_desc: &'static str,
    pay_time: String,
    cancel_time: String,
    withdraw_channel: String,
    reference_no: String,
    trace_no: String,
}

impl SimPayout {
    pub fn status_element(&self) -> StatusElement {
        StatusElement {
            control_number: self.control_number.clone(),
            transaction_date: SkyPayTime::from_utc(self.transaction_date).text,
            status: self.status.code().to_string(),
            status_desc: self.status.description(),
            pay_time: time_text(self.pay_time),
            cancel_time: time_text(self.cancel_time),
            withdraw_channel: channel_name(self.withdraw_channel),
            reference_no: self.reference_no.clone(),
            trace_no: String::new(),
        }
    }
}

/// A report row (getReportPayout and getReportCollection share the layout; collections add
/// `status`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    create_date: String,
    pay_time: String,
    control_no: String,
    amount: Box<RawValue>,
    phone: String,
    reference_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

/// A report page as SkyPay's sample shows it: no envelope.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportPage {
    total_transaction: usize,
    last_page: bool,
    result: Vec<ReportRow>,
}

/// Which date a report selects by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateType {
    CreateDate,
    PayTime,
    CollectedTime,
}

impl DateType {
    pub fn parse(text: &str) -> Option<DateType> {
        match text {
            "CreateDate" => Some(DateType::CreateDate),
            "PayTime" => Some(DateType::PayTime),
            "CollectedTime" => Some(DateType::CollectedTime),
            _ => None,
        }
    }
}

/// The days a report covers, and the page asked for.
#[derive(Clone, Copy, Debug)]
pub struct ReportQuery {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub date_type: DateType,
    /// From 1.
    pub page: usize,
    pub page_size: usize,
}

impl ReportQuery {
    fn covers(&self, t: DateTime<Utc>) -> bool {
        let day = manila_day(t);
        self.start <= day && day <= self.end
    }
}

fn page_of(rows: Vec<ReportRow>, query: &ReportQuery) -> ReportPage {
    let total = rows.len();
    let start = query.page.saturating_sub(1).saturating_mul(query.page_size);
    let result: Vec<ReportRow> = rows.into_iter().skip(start).take(query.page_size).collect();
    ReportPage {
        total_transaction: total,
        last_page: start.saturating_add(query.page_size) >= total,
        result,
    }
}

impl State {
    /// Records a payoutQueryStatus of `number` at `now`, and the rule it breaks, if any: asked
    /// sooner than 300 s after SkyPay took its push, or within 30 min of the last query of it.
    pub fn check_query(&mut self, number: &str, now: DateTime<Utc>) {
        let after_push = skypay::outbound::api::QUERY_AFTER_PUSH;
        let interval = skypay::outbound::api::QUERY_INTERVAL;
        let since = |then: DateTime<Utc>| (now - then).to_std().unwrap_or_default();
        if let Some(payout) = self.payouts.get(number) {
            let age = since(payout.transaction_date);
            if age < after_push {
                self.rule_breaks.push(format!(
                    "{number}: queried {} s after its push (SkyPay: no sooner than {} s)",
                    age.as_secs(),
                    after_push.as_secs()
                ));
            }
        }
        if let Some(last) = self.last_queried.insert(number.to_owned(), now) {
            let gap = since(last);
            if gap < interval {
                self.rule_breaks.push(format!(
                    "{number}: queried again {} s after the last query (SkyPay: every {} min at most)",
                    gap.as_secs(),
                    interval.as_secs() / 60
                ));
            }
        }
    }

    /// getReportPayout: the completed payouts (by pay time or creation date), in number order.
    pub fn payout_report(&self, query: &ReportQuery) -> ReportPage {
        let rows = self
            .payouts
            .values()
            .filter(|p| p.status == SimStatus::Completed)
            .filter(|p| match query.date_type {
                DateType::CreateDate => query.covers(p.transaction_date),
                DateType::PayTime | DateType::CollectedTime => {
                    p.pay_time.is_some_and(|t| query.covers(t))
                }
            })
            .map(|p| ReportRow {
                create_date: SkyPayTime::from_utc(p.transaction_date).text,
                pay_time: time_text(p.pay_time),
                control_no: p.control_number.clone(),
                amount: number(p.amount),
                phone: p.phone.clone(),
                reference_no: p.reference_no.clone(),
                status: None,
            })
            .collect();
        page_of(rows, query)
    }

    /// getReportCollection: the confirmed collections of those days, in the order taken.
    pub fn collection_report(&self, query: &ReportQuery) -> ReportPage {
        let rows = self
            .collections
            .iter()
            .filter(|c| query.covers(c.collected_time))
            .map(|c| ReportRow {
                create_date: SkyPayTime::from_utc(c.collected_time).text,
                pay_time: SkyPayTime::from_utc(c.collected_time).text,
                control_no: c.contract_number.clone(),
                amount: number(c.amount),
                phone: c.phone.clone(),
                reference_no: c.reference_no.clone(),
                status: Some("Confirmed"),
            })
            .collect();
        page_of(rows, query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payout(n: &str, status: SimStatus, paid: Option<&str>) -> SimPayout {
        SimPayout {
            control_number: n.to_owned(),
            amount: Decimal::new(130_000, 2),
            withdraw_channel: 6,
            phone: "09171234567".to_owned(),
            status,
            transaction_date: SkyPayTime::parse("2026-11-30 09:00:00")
                .map(|t| t.utc)
                .unwrap(),
            pay_time: paid.and_then(SkyPayTime::parse).map(|t| t.utc),
            cancel_time: None,
            reference_no: "9006565379735".to_owned(),
        }
    }

    fn query(page: usize, page_size: usize) -> ReportQuery {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        ReportQuery {
            start: day,
            end: day,
            date_type: DateType::PayTime,
            page,
            page_size,
        }
    }

    #[test]
    fn reports_page_through_the_completed_payouts_of_the_day() {
        let mut state = State::default();
        for i in 0..5 {
            let n = format!("SKY01000000000{i}");
            state.payouts.insert(
                n.clone(),
                payout(&n, SimStatus::Completed, Some("2026-11-30 23:59:59")),
            );
        }
        // Another day (Manila), and one not completed.
        state.payouts.insert(
            "SKY010000000009".into(),
            payout(
                "SKY010000000009",
                SimStatus::Completed,
                Some("2026-12-01 00:00:00"),
            ),
        );
        state.payouts.insert(
            "SKY010000000008".into(),
            payout("SKY010000000008", SimStatus::Uploaded, None),
        );
        let pages: Vec<serde_json::Value> = (1..=3)
            .map(|p| serde_json::to_value(state.payout_report(&query(p, 2))).unwrap())
            .collect();
        let sizes: Vec<usize> = pages
            .iter()
            .map(|p| p["result"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, [2, 2, 1]);
        let last: Vec<bool> = pages
            .iter()
            .map(|p| p["lastPage"].as_bool().unwrap())
            .collect();
        assert_eq!(last, [false, false, true]);
        assert_eq!(pages[0]["totalTransaction"], 5);
        // Amounts are JSON numbers, written exactly.
        let text = serde_json::to_string(&state.payout_report(&query(1, 1))).unwrap();
        assert!(text.contains(r#""amount":1300"#), "{text}");
    }

    #[test]
    fn status_elements_look_like_skypays_sample() {
        let element = serde_json::to_value(
            payout("SKY010000000001", SimStatus::Failed, None).status_element(),
        )
        .unwrap();
        assert_eq!(element["status"], "4");
        assert_eq!(element["statusDesc"], "Failed");
        assert_eq!(element["withdrawChannel"], "GCash");
        assert_eq!(element["payTime"], "");
        assert_eq!(element["transactionDate"], "2026-11-30 09:00:00");
    }
}
