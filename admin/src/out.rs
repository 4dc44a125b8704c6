//! What the `/admin` routes answer: the ledger's records rendered as the loan system reads
//! them (camelCase JSON; amounts with two decimals; every time ISO 8601 with its offset,
//! Manila `+08:00`, and a time SkyPay sent also as SkyPay wrote it). The ledger's own types are
//! typed (`Decimal`, `DateTime<Utc>`) and are never serialised directly.

use serde::Serialize;
use serde_json::Value;
use skypay::ledger::{
    Contract, ContractStatus, EventRecord, FinanceRecord, Payout, PayoutStatus, Receipt,
};
use skypay::protocol::mask::{Name, Phone, Private};
use skypay::protocol::rules::money;
use skypay::protocol::time::iso_manila;

/// A payout. Debug leaves out the instruction.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutOut {
    pub control_number: String,
    pub status: PayoutStatus,
    pub amount: String,
    pub withdraw_channel: u32,
    pub expires_at: String,
    pub anomaly: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_time_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_channel: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skypay_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skypay_description: Option<String>,
    pub push_attempts: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub push_in_doubt: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_held: Option<String>,
    pub created_at: String,
    pub instruction: Private<Value>,
    pub events: Vec<EventOut>,
}

impl From<&Payout> for PayoutOut {
    fn from(p: &Payout) -> PayoutOut {
        PayoutOut {
            control_number: p.control_number.clone(),
            status: p.status,
            amount: money(p.amount),
            withdraw_channel: p.withdraw_channel,
            expires_at: iso_manila(p.expires_at),
            anomaly: p.anomaly,
            reference_number: p.reference_number.clone(),
            fail_description: p.fail_description.clone(),
            pay_time: p.pay_time.clone(),
            pay_time_at: p.pay_time_at.map(iso_manila),
            paid_at: p.paid_at.as_ref().map(|t| t.iso()),
            paid_channel: p.paid_channel,
            closed_at: p.closed_at.as_ref().map(|t| t.iso()),
            closed_by: p.closed_by.clone(),
            skypay_code: p.skypay_code.clone(),
            skypay_description: p.skypay_description.clone(),
            push_attempts: p.push_attempts,
            push_in_doubt: p.push_in_doubt,
            push_held: p.push_held.clone(),
            created_at: p.created_at.iso(),
            instruction: Private(serde_json::from_str(&p.instruction).unwrap_or(Value::Null)),
            events: p.events.iter().map(EventOut::from).collect(),
        }
    }
}

/// One callback or query answer stored under a payout.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventOut {
    pub source: String,
    pub pay_type: String,
    pub deal_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deal_time_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_number: Option<String>,
    pub received_at: String,
    pub applied: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<String>,
}

impl From<&EventRecord> for EventOut {
    fn from(e: &EventRecord) -> EventOut {
        EventOut {
            source: e.source.clone(),
            pay_type: e.pay_type.clone(),
            deal_time: e.deal_time.clone(),
            deal_time_at: e.deal_time_at.as_ref().map(|t| t.iso()),
            fail_description: e.fail_description.clone(),
            reference_number: e.reference_number.clone(),
            received_at: e.received_at.iso(),
            applied: e.applied,
            issues: e.issues.clone(),
        }
    }
}

/// A contract. Debug leaves out the name and phone.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractOut {
    pub contract_number: String,
    pub status: ContractStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_due: Option<String>,
    pub collected_total: String,
    /// Collected beyond amountDue (SPEC 12.9: accepted and noted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overpaid_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Private<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    pub receipt_count: u32,
    pub receipts: Vec<ReceiptOut>,
}

impl From<&Contract> for ContractOut {
    fn from(c: &Contract) -> ContractOut {
        ContractOut {
            contract_number: c.contract_number.clone(),
            status: c.status,
            amount_due: c.amount_due.map(money),
            collected_total: money(c.collected_total),
            overpaid_by: c.overpaid_by().map(money),
            name: c.name.clone(),
            address: c.address.clone(),
            phone: c.phone.clone(),
            receipt_count: c.receipt_count,
            receipts: c.receipts.iter().map(ReceiptOut::from).collect(),
        }
    }
}

/// One receipt. Debug masks the phone.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptOut {
    pub receipt_number: String,
    pub pay_channel: u32,
    pub amount: String,
    pub phone: Phone,
    pub phone_valid: bool,
    pub collected_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collected_time_at: Option<String>,
    pub recorded_at: String,
}

impl From<&Receipt> for ReceiptOut {
    fn from(r: &Receipt) -> ReceiptOut {
        ReceiptOut {
            receipt_number: r.receipt_number.clone(),
            pay_channel: r.pay_channel,
            amount: money(r.amount),
            phone: r.phone.clone(),
            phone_valid: r.phone_valid,
            collected_time: r.collected_time.clone(),
            collected_time_at: r.collected_time_at.as_ref().map(|t| t.iso()),
            recorded_at: r.recorded_at.iso(),
        }
    }
}

/// One financeNotification as `GET /admin/finance` lists it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FinanceOut {
    pub reference_number: Option<String>,
    pub statement_type: Option<String>,
    pub sign_type: Option<String>,
    /// A decimal string with two places when the amount was valid, else as sent.
    pub amount: Option<String>,
    pub currency: Option<String>,
    /// As SkyPay sent it (Manila time).
    pub transction_date: Option<String>,
    /// The same instant, ISO 8601 with its offset.
    pub transaction_at: Option<String>,
    pub company_prefix: Option<String>,
    pub company_name: Option<String>,
    pub account_no: Option<String>,
    pub source_account_no: Option<String>,
    pub beneficiary_account_no: Option<String>,
    pub received_at: String,
    /// A repeat that carried a different amount than the notification stored first.
    pub conflict: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<String>,
}

impl From<&FinanceRecord> for FinanceOut {
    fn from(f: &FinanceRecord) -> FinanceOut {
        FinanceOut {
            reference_number: f.reference_number.clone(),
            statement_type: f.statement_type.clone(),
            sign_type: f.sign_type.clone(),
            amount: f.amount.map(money).or_else(|| f.amount_text.clone()),
            currency: f.currency.clone(),
            transction_date: f.transction_date.clone(),
            transaction_at: f.transaction_at.as_ref().map(|t| t.iso()),
            company_prefix: f.company_prefix.clone(),
            company_name: f.company_name.clone(),
            account_no: f.account_no.clone(),
            source_account_no: f.source_account_no.clone(),
            beneficiary_account_no: f.beneficiary_account_no.clone(),
            received_at: f.received_at.iso(),
            conflict: f.conflict,
            issues: f.issues.clone(),
        }
    }
}
