//! SkyPay's API as we call it (seed 001, SPEC 13.6): the name of every action, the members
//! every call starts with, and SkyPay's answers read into types. The transport (encryption,
//! timeouts) is [`crate::outbound::client`].

use std::time::Duration;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::protocol::wire::{FieldError, Fields};

/// Pushes a bank or e-wallet payout (seed 001).
pub const PAYOUT_QUEUE: &str = "payoutQueue";
/// The status of pushed payouts, at most [`MAX_QUERY_NUMBERS`] per call.
pub const PAYOUT_QUERY_STATUS: &str = "payoutQueryStatus";
/// Our balance at SkyPay.
pub const BALANCE_QUERY: &str = "balanceQuery";
/// A day's payouts. SkyPay's page titles it "getRepoertPayout" and its sample sends
/// "generate711Barcode": this is the page's best reading (SPEC 13.6); confirm it with SkyPay.
pub const GET_REPORT_PAYOUT: &str = "getReportPayout";
/// A day's collections ("getRerpotCollection" on the page; its sample sends "getReportPayout").
pub const GET_REPORT_COLLECTION: &str = "getReportCollection";

/// SkyPay's limits on payoutQueryStatus (SPEC 13.6).
pub const MAX_QUERY_NUMBERS: usize = 50;
/// No query sooner than this after a number's push.
pub const QUERY_AFTER_PUSH: Duration = Duration::from_secs(300);
/// No number queried more often than this.
pub const QUERY_INTERVAL: Duration = Duration::from_secs(30 * 60);
/// The largest report page SkyPay serves.
pub const MAX_REPORT_PAGE_SIZE: usize = 100;

/// The members every call to SkyPay starts with: `userName`, `action` and `authentication`
/// (the first, current key; SPEC 12.7).
pub fn request(config: &Config, action: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("userName".to_owned(), json!(config.username));
    map.insert("action".to_owned(), json!(action));
    map.insert(
        "authentication".to_owned(),
        json!(config.auth_keys.current().expose_secret()),
    );
    map
}

/// A payoutQueryStatus request for at most [`MAX_QUERY_NUMBERS`] numbers (the caller splits).
pub fn query_status_body(config: &Config, numbers: &[&str]) -> Value {
    let mut map = request(config, PAYOUT_QUERY_STATUS);
    let listed: Vec<Value> = numbers
        .iter()
        .take(MAX_QUERY_NUMBERS)
        .map(|n| json!({"controlNumber": n}))
        .collect();
    map.insert("controlNumbers".to_owned(), Value::Array(listed));
    Value::Object(map)
}

pub fn balance_body(config: &Config) -> Value {
    Value::Object(request(config, BALANCE_QUERY))
}

/// The two daily reports, and the date each selects by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// getReportPayout by `PayTime`.
    Payouts,
    /// getReportCollection by `CollectedTime`.
    Collections,
}

impl Report {
    pub fn action(self) -> &'static str {
        match self {
            Report::Payouts => GET_REPORT_PAYOUT,
            Report::Collections => GET_REPORT_COLLECTION,
        }
    }

    fn date_type(self) -> &'static str {
        match self {
            Report::Payouts => "PayTime",
            Report::Collections => "CollectedTime",
        }
    }

    /// One page (from 1) of one Manila day's report.
    pub fn body(self, config: &Config, day: NaiveDate, page: u32) -> Value {
        let mut map = request(config, self.action());
        let date = day.format("%Y-%m-%d").to_string();
        map.insert("startDate".to_owned(), json!(date));
        map.insert("endDate".to_owned(), json!(date));
        map.insert("dateType".to_owned(), json!(self.date_type()));
        map.insert("pagination".to_owned(), json!(page));
        map.insert("pageSize".to_owned(), json!(MAX_REPORT_PAGE_SIZE));
        Value::Object(map)
    }
}

/// Why an answer of SkyPay's cannot be used. Nothing is changed on any of these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// No readable answer: down, slow, not 200, not JSON, not decryptable.
    #[error("SkyPay did not answer readably: {0}")]
    Transport(String),
    /// A readable refusal.
    #[error("SkyPay answered {code} {description}")]
    Code { code: String, description: String },
    /// An answer with a 1000 but not the members it should carry.
    #[error("SkyPay's answer is malformed: {0}")]
    Malformed(String),
}

impl From<FieldError> for AnswerError {
    fn from(e: FieldError) -> AnswerError {
        AnswerError::Malformed(e.to_string())
    }
}

/// The code of an answer that carries the envelope: 1000 or the refusal.
fn success(fields: &Fields) -> Result<(), AnswerError> {
    match fields.text("responseCode")? {
        Some(code) if code == "1000" => Ok(()),
        Some(code) => Err(AnswerError::Code {
            code,
            description: fields
                .text("responseDescription")
                .ok()
                .flatten()
                .unwrap_or_default(),
        }),
        None => Err(AnswerError::Malformed("no responseCode".to_owned())),
    }
}

/// One element of a payoutQueryStatus answer. SkyPay's sample writes `status` as a string and
/// `withdrawChannel` as a channel's name; both are read as text, the status as a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusAnswer {
    pub control_number: String,
    /// `None` when it is missing or not a number: such an element changes nothing.
    pub status: Option<u32>,
    pub status_desc: Option<String>,
    pub transaction_date: Option<String>,
    pub pay_time: Option<String>,
    pub cancel_time: Option<String>,
    pub withdraw_channel: Option<String>,
    pub reference_no: Option<String>,
    pub trace_no: Option<String>,
}

/// The elements of a payoutQueryStatus answer (1000 and a `controlNumbers` list; an element
/// without a control number is left out).
pub fn read_status_answer(fields: &Fields) -> Result<Vec<StatusAnswer>, AnswerError> {
    success(fields)?;
    let elements = fields
        .objects("controlNumbers")?
        .ok_or_else(|| AnswerError::Malformed("no controlNumbers list".to_owned()))?;
    Ok(elements
        .iter()
        .filter_map(|e| {
            let text = |name: &'static str| e.text(name).ok().flatten();
            Some(StatusAnswer {
                control_number: text("controlNumber")?,
                status: e.integer("status", 0, 99).ok().flatten(),
                status_desc: text("statusDesc"),
                transaction_date: text("transactionDate"),
                pay_time: text("payTime"),
                cancel_time: text("cancelTime"),
                withdraw_channel: text("withdrawChannel"),
                reference_no: text("referenceNo"),
                trace_no: text("traceNo"),
            })
        })
        .collect())
}

/// balanceQuery's balance: `balance` in SkyPay's sample, `Balance` in its table. Any exact
/// decimal: an empty account (0.00) is the answer the low-balance alarm exists for, and a
/// lender's float may be larger than any single amount.
pub fn read_balance(fields: &Fields) -> Result<Decimal, AnswerError> {
    success(fields)?;
    match fields.decimal("balance")? {
        Some(balance) => Ok(balance),
        None => fields
            .decimal("Balance")?
            .ok_or_else(|| AnswerError::Malformed("no balance".to_owned())),
    }
}

/// One row of a daily report (the phone SkyPay includes is not kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    /// `controlNo`: the payout's control number, or the contract a collection repaid.
    pub control_no: String,
    pub amount: Decimal,
    pub pay_time: Option<String>,
    pub create_date: Option<String>,
    pub reference_no: Option<String>,
    /// Collections: `Confirmed`.
    pub status: Option<String>,
}

/// One page of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPage {
    pub rows: Vec<ReportRow>,
    pub last_page: bool,
    pub total: Option<u32>,
}

/// A report page: SkyPay's sample has no envelope, so a `responseCode` is checked only when
/// there is one. A row without a number or an amount makes the page unusable: a row skipped
/// would be a difference missed.
pub fn read_report(fields: &Fields) -> Result<ReportPage, AnswerError> {
    if fields.contains("responseCode") {
        success(fields)?;
    }
    let rows = fields
        .objects("result")?
        .ok_or_else(|| AnswerError::Malformed("no result list".to_owned()))?;
    let last_page = fields
        .flag("lastPage")?
        .ok_or_else(|| AnswerError::Malformed("no lastPage".to_owned()))?;
    let rows = rows
        .iter()
        .map(|row| {
            Ok(ReportRow {
                control_no: row
                    .text("controlNo")?
                    .ok_or_else(|| AnswerError::Malformed("a row without controlNo".to_owned()))?,
                amount: row.required_amount("amount")?.value(),
                pay_time: row.text("payTime")?,
                create_date: row.text("createDate")?,
                reference_no: row.text("referenceNo")?,
                status: row.text("status")?,
            })
        })
        .collect::<Result<Vec<_>, AnswerError>>()?;
    Ok(ReportPage {
        rows,
        last_page,
        total: fields.integer("totalTransaction", 0, u32::MAX)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Fields {
        Fields::parse(text).unwrap()
    }

    #[test]
    fn reads_skypays_status_sample() {
        let answer = fields(
            r#"{"responseTime":"2019-01-14 15:47:13.0000","responseCode":"1000","responseDescription":"Success",
                "controlNumbers":[{"controlNumber":"SK0XXXXXXXXXX","transactionDate":"2019-01-14 15:47:13","status":"4","statusDesc":"Failed","payTime":"","cancelTime":"","withdrawChannel":"Bank","referenceNo":""},
                                  {"controlNumber":"SK01234567890","status":1,"payTime":"2019-01-14 16:00:00"},
                                  {"status":"2"}]}"#,
        );
        let elements = read_status_answer(&answer).unwrap();
        assert_eq!(elements.len(), 2);
        assert_eq!(elements[0].status, Some(4));
        assert_eq!(elements[0].pay_time, None);
        assert_eq!(elements[0].withdraw_channel.as_deref(), Some("Bank"));
        assert_eq!(elements[1].status, Some(1));
        assert_eq!(elements[1].pay_time.as_deref(), Some("2019-01-14 16:00:00"));
        let refused =
            fields(r#"{"responseCode":"-1000","responseDescription":"Post context is not valid"}"#);
        assert!(
            matches!(read_status_answer(&refused), Err(AnswerError::Code { code, .. }) if code == "-1000")
        );
        assert!(matches!(
            read_status_answer(&fields(r#"{"responseCode":"1000"}"#)),
            Err(AnswerError::Malformed(_))
        ));
    }

    #[test]
    fn a_balance_may_be_zero_or_larger_than_any_amount_but_never_a_guess() {
        for (answer, balance) in [
            (r#"{"responseCode":"1000","balance":0}"#, "0"),
            (r#"{"responseCode":"1000","balance":"0.00"}"#, "0.00"),
            (
                r#"{"responseCode":"1000","balance":250000000.50}"#,
                "250000000.50",
            ),
            (r#"{"responseCode":"1000","balance":-12.5}"#, "-12.5"),
        ] {
            let read = read_balance(&fields(answer)).unwrap();
            assert_eq!(read, balance.parse::<Decimal>().unwrap(), "{answer}");
        }
        for answer in [
            r#"{"responseCode":"1000","balance":"1e3"}"#,
            r#"{"responseCode":"1000","balance":"lots"}"#,
            r#"{"responseCode":"1000","balance":true}"#,
            r#"{"responseCode":"1000"}"#,
        ] {
            assert!(
                matches!(
                    read_balance(&fields(answer)),
                    Err(AnswerError::Malformed(_))
                ),
                "{answer}"
            );
        }
    }

    #[test]
    fn reads_the_balance_under_either_spelling() {
        for text in [
            r#"{"responseCode":"1000","balance":726718.00}"#,
            r#"{"responseCode":"1000","Balance":"726718.00"}"#,
        ] {
            assert_eq!(
                read_balance(&fields(text)).unwrap(),
                Decimal::new(72_671_800, 2)
            );
        }
        assert!(read_balance(&fields(r#"{"responseCode":"1000"}"#)).is_err());
    }

    #[test]
    fn reads_skypays_report_sample_without_an_envelope() {
        let page = read_report(&fields(
            r#"{"totalTransaction":4383,"lastPage":false,"result":[{"createDate":"2022-11-02 11:55:35","payTime":"2022-11-02 11:55:49","controlNo":"SK98162998034","amount":1300.0,"phone":"09XXXXXXXXX","referenceNo":"9006565379735"}]}"#,
        ))
        .unwrap();
        assert!(!page.last_page);
        assert_eq!(page.total, Some(4383));
        assert_eq!(page.rows[0].control_no, "SK98162998034");
        assert_eq!(page.rows[0].amount, Decimal::new(1300, 0));
        // A row SkyPay sent that cannot be read is not skipped.
        assert!(read_report(&fields(r#"{"lastPage":true,"result":[{"controlNo":"X"}]}"#)).is_err());
        assert!(read_report(&fields(r#"{"responseCode":"-1009","result":[]}"#)).is_err());
    }
}
