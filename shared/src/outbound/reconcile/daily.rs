//! A day's comparison of SkyPay's reports with the ledger (SPEC 13.6): pure functions from
//! both lists to the differences.
//!
//! | difference | when |
//! |---|---|
//! | `paidAtSkyPayNotInLedger` | SkyPay's payout report lists it; the ledger has it unpaid, unknown, or only as orphan callbacks |
//! | `paidInLedgerNotAtSkyPay` | the ledger paid it that day; SkyPay's report does not list it |
//! | `amountDiffers` | both have it, for different amounts |
//! | `collectionNotInLedger` | SkyPay confirmed a collection the ledger has no receipt for |
//! | `collectionNotAtSkyPay` | the ledger has a receipt of that day SkyPay's report does not list |
//!
//! Payouts are matched by control number. Collections by contract and receipt number first
//! (SkyPay's `referenceNo` against the shop's `receiptNumber`), then, for what is left of one
//! contract, by amount; one left on each side is an amount that differs.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::Serialize;

use crate::ledger::{DailyPayout, DailyReceipt, PayoutFact, PayoutStatus};
use crate::outbound::api::ReportRow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DifferenceKind {
    PaidAtSkyPayNotInLedger,
    PaidInLedgerNotAtSkyPay,
    AmountDiffers,
    CollectionNotInLedger,
    CollectionNotAtSkyPay,
}

impl DifferenceKind {
    pub const ALL: [DifferenceKind; 5] = [
        DifferenceKind::PaidAtSkyPayNotInLedger,
        DifferenceKind::PaidInLedgerNotAtSkyPay,
        DifferenceKind::AmountDiffers,
        DifferenceKind::CollectionNotInLedger,
        DifferenceKind::CollectionNotAtSkyPay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DifferenceKind::PaidAtSkyPayNotInLedger => "paidAtSkyPayNotInLedger",
            DifferenceKind::PaidInLedgerNotAtSkyPay => "paidInLedgerNotAtSkyPay",
            DifferenceKind::AmountDiffers => "amountDiffers",
            DifferenceKind::CollectionNotInLedger => "collectionNotInLedger",
            DifferenceKind::CollectionNotAtSkyPay => "collectionNotAtSkyPay",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub kind: DifferenceKind,
    /// The payout's control number, or the contract's number.
    pub number: String,
    /// A collection's receipt (SkyPay's `referenceNo`, or the ledger's receipt number).
    pub reference: Option<String>,
    pub skypay_amount: Option<Decimal>,
    pub ledger_amount: Option<Decimal>,
    /// The payout's status in the ledger, for `paidAtSkyPayNotInLedger`.
    pub ledger_status: Option<String>,
}

/// SkyPay's payout rows against the ledger's payments of the same day. Rows whose number the
/// day's payments lack are returned apart: the caller looks each up (paid another day, unpaid,
/// unknown) before it is a difference.
pub fn compare_payouts<'a>(
    skypay: &'a [ReportRow],
    ledger: &[DailyPayout],
) -> (Vec<Difference>, Vec<&'a ReportRow>) {
    let paid: HashMap<&str, &DailyPayout> = ledger
        .iter()
        .map(|p| (p.control_number.as_str(), p))
        .collect();
    let mut differences = Vec::new();
    let mut look_up = Vec::new();
    let mut listed = HashSet::new();
    for row in skypay {
        if !listed.insert(row.control_no.as_str()) {
            continue;
        }
        match paid.get(row.control_no.as_str()) {
            Some(p) if !p.registered => differences.push(Difference {
                kind: DifferenceKind::PaidAtSkyPayNotInLedger,
                number: row.control_no.clone(),
                reference: None,
                skypay_amount: Some(row.amount),
                ledger_amount: None,
                ledger_status: Some("ORPHAN".to_owned()),
            }),
            Some(p) if p.amount != Some(row.amount) => differences.push(Difference {
                kind: DifferenceKind::AmountDiffers,
                number: row.control_no.clone(),
                reference: None,
                skypay_amount: Some(row.amount),
                ledger_amount: p.amount,
                ledger_status: None,
            }),
            Some(_) => {}
            None => look_up.push(row),
        }
    }
    for p in ledger {
        if !listed.contains(p.control_number.as_str()) {
            differences.push(Difference {
                kind: DifferenceKind::PaidInLedgerNotAtSkyPay,
                number: p.control_number.clone(),
                reference: None,
                skypay_amount: None,
                ledger_amount: p.amount,
                ledger_status: None,
            });
        }
    }
    (differences, look_up)
}

/// A row of SkyPay's payout report that the day's payments lack, against what the ledger holds
/// under its number (`None`: nothing, or only orphan callbacks): paid another day, only the
/// amount can differ; unpaid or unknown, SkyPay paid what the ledger did not.
pub fn compare_elsewhere(row: &ReportRow, found: Option<PayoutFact>) -> Option<Difference> {
    let ledger_amount = found.as_ref().map(|f| f.amount);
    match found {
        Some(fact) if fact.status == PayoutStatus::Paid => {
            (fact.amount != row.amount).then(|| Difference {
                kind: DifferenceKind::AmountDiffers,
                number: row.control_no.clone(),
                reference: None,
                skypay_amount: Some(row.amount),
                ledger_amount,
                ledger_status: None,
            })
        }
        other => Some(Difference {
            kind: DifferenceKind::PaidAtSkyPayNotInLedger,
            number: row.control_no.clone(),
            reference: None,
            skypay_amount: Some(row.amount),
            ledger_amount,
            ledger_status: Some(other.map_or("UNKNOWN", |f| f.status.as_str()).to_owned()),
        }),
    }
}

/// SkyPay's confirmed collections against the ledger's receipts of the same day.
pub fn compare_collections(skypay: &[ReportRow], ledger: &[DailyReceipt]) -> Vec<Difference> {
    let confirmed: Vec<&ReportRow> = skypay
        .iter()
        .filter(|r| {
            r.status
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case("confirmed"))
        })
        .collect();
    let mut ours: Vec<Option<&DailyReceipt>> = ledger.iter().map(Some).collect();
    let mut theirs: Vec<Option<&ReportRow>> = Vec::new();
    let mut differences = Vec::new();
    // 1. The same receipt.
    for row in confirmed {
        let found = ours.iter_mut().find(|r| {
            r.is_some_and(|r| {
                r.contract_number == row.control_no
                    && row.reference_no.as_deref() == Some(r.receipt_number.as_str())
            })
        });
        match found {
            Some(slot) => {
                if let Some(r) = slot.take()
                    && r.amount != row.amount
                {
                    differences.push(Difference {
                        kind: DifferenceKind::AmountDiffers,
                        number: row.control_no.clone(),
                        reference: Some(r.receipt_number.clone()),
                        skypay_amount: Some(row.amount),
                        ledger_amount: Some(r.amount),
                        ledger_status: None,
                    });
                }
            }
            None => theirs.push(Some(row)),
        }
    }
    // 2. What is left of one contract, by amount.
    for slot in theirs.iter_mut() {
        let Some(row) = *slot else { continue };
        if let Some(ours_slot) = ours.iter_mut().find(|r| {
            r.is_some_and(|r| r.contract_number == row.control_no && r.amount == row.amount)
        }) {
            *ours_slot = None;
            *slot = None;
        }
    }
    // 3. One left on each side of a contract: the same collection, for another amount.
    let left_ours = |contract: &str, ours: &[Option<&DailyReceipt>]| {
        ours.iter()
            .flatten()
            .filter(|r| r.contract_number == contract)
            .count()
    };
    let contracts: Vec<String> = theirs
        .iter()
        .flatten()
        .map(|r| r.control_no.clone())
        .collect();
    for contract in contracts {
        let theirs_left: Vec<usize> = theirs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_some_and(|r| r.control_no == contract))
            .map(|(i, _)| i)
            .collect();
        if let ([i], 1) = (theirs_left.as_slice(), left_ours(&contract, &ours))
            && let Some(row) = theirs.get_mut(*i).and_then(Option::take)
            && let Some(r) = ours
                .iter_mut()
                .find(|r| r.is_some_and(|r| r.contract_number == contract))
                .and_then(Option::take)
        {
            differences.push(Difference {
                kind: DifferenceKind::AmountDiffers,
                number: contract.clone(),
                reference: Some(r.receipt_number.clone()),
                skypay_amount: Some(row.amount),
                ledger_amount: Some(r.amount),
                ledger_status: None,
            });
        }
    }
    for row in theirs.into_iter().flatten() {
        differences.push(Difference {
            kind: DifferenceKind::CollectionNotInLedger,
            number: row.control_no.clone(),
            reference: row.reference_no.clone(),
            skypay_amount: Some(row.amount),
            ledger_amount: None,
            ledger_status: None,
        });
    }
    for r in ours.into_iter().flatten() {
        differences.push(Difference {
            kind: DifferenceKind::CollectionNotAtSkyPay,
            number: r.contract_number.clone(),
            reference: Some(r.receipt_number.clone()),
            skypay_amount: None,
            ledger_amount: Some(r.amount),
            ledger_status: None,
        });
    }
    differences
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(number: &str, amount: i64, reference: &str) -> ReportRow {
        ReportRow {
            control_no: number.to_owned(),
            amount: Decimal::new(amount, 0),
            pay_time: None,
            create_date: None,
            reference_no: Some(reference.to_owned()),
            status: Some("Confirmed".to_owned()),
        }
    }

    fn paid(number: &str, amount: Option<i64>, registered: bool) -> DailyPayout {
        DailyPayout {
            control_number: number.to_owned(),
            amount: amount.map(|a| Decimal::new(a, 0)),
            registered,
            pay_time: None,
        }
    }

    fn receipt(contract: &str, receipt: &str, amount: i64) -> DailyReceipt {
        DailyReceipt {
            contract_number: contract.to_owned(),
            receipt_number: receipt.to_owned(),
            amount: Decimal::new(amount, 0),
            collected_time: None,
        }
    }

    fn kinds(differences: &[Difference]) -> Vec<(DifferenceKind, &str)> {
        let mut k: Vec<_> = differences
            .iter()
            .map(|d| (d.kind, d.number.as_str()))
            .collect();
        k.sort();
        k
    }

    #[test]
    fn payouts_each_class() {
        let skypay = [
            row("A", 100, ""),
            row("B", 200, ""),
            row("C", 300, ""),
            row("O", 50, ""),
        ];
        let ledger = [
            paid("A", Some(100), true),
            paid("B", Some(250), true),
            paid("D", Some(400), true),
            paid("O", None, false),
        ];
        let (differences, look_up) = compare_payouts(&skypay, &ledger);
        assert_eq!(
            kinds(&differences),
            [
                (DifferenceKind::PaidAtSkyPayNotInLedger, "O"),
                (DifferenceKind::PaidInLedgerNotAtSkyPay, "D"),
                (DifferenceKind::AmountDiffers, "B"),
            ]
        );
        // C is not among the day's payments: looked up before it counts.
        assert_eq!(
            look_up
                .iter()
                .map(|r| r.control_no.as_str())
                .collect::<Vec<_>>(),
            ["C"]
        );
    }

    #[test]
    fn collections_each_class() {
        let skypay = [
            row("K1", 100, "R1"),   // same receipt, same amount
            row("K2", 200, "SKP9"), // another reference, same amount: matched by amount
            row("K3", 300, "R3"),   // same receipt, another amount
            row("K4", 400, "SKP4"), // one left on each side: another amount
            row("K5", 500, "SKP5"), // never recorded
            ReportRow {
                status: Some("Pending".to_owned()),
                ..row("K6", 600, "R6")
            },
        ];
        let ledger = [
            receipt("K1", "R1", 100),
            receipt("K2", "B6C13B76E4BF", 200),
            receipt("K3", "R3", 330),
            receipt("K4", "R4", 440),
            receipt("K7", "R7", 700), // not in SkyPay's report
            receipt("K6", "R6", 600), // SkyPay has it, not confirmed
        ];
        assert_eq!(
            kinds(&compare_collections(&skypay, &ledger)),
            [
                (DifferenceKind::AmountDiffers, "K3"),
                (DifferenceKind::AmountDiffers, "K4"),
                (DifferenceKind::CollectionNotInLedger, "K5"),
                (DifferenceKind::CollectionNotAtSkyPay, "K6"),
                (DifferenceKind::CollectionNotAtSkyPay, "K7"),
            ]
        );
    }

    /// A row the day's payments lack, against what the ledger holds under its number.
    #[test]
    fn a_row_paid_elsewhere_or_not_at_all() {
        let fact = |status, amount| {
            Some(PayoutFact {
                status,
                amount: Decimal::new(amount, 0),
            })
        };
        let r = row("SKY0100000001", 100, "x");
        // (what the ledger holds, the difference, its ledger status)
        let cases = [
            (fact(PayoutStatus::Paid, 100), None, None),
            (
                fact(PayoutStatus::Paid, 90),
                Some(DifferenceKind::AmountDiffers),
                None,
            ),
            (
                fact(PayoutStatus::Queued, 100),
                Some(DifferenceKind::PaidAtSkyPayNotInLedger),
                Some("QUEUED"),
            ),
            (
                None,
                Some(DifferenceKind::PaidAtSkyPayNotInLedger),
                Some("UNKNOWN"),
            ),
        ];
        for (found, kind, status) in cases {
            let difference = compare_elsewhere(&r, found);
            assert_eq!(difference.as_ref().map(|d| d.kind), kind, "{found:?}");
            assert_eq!(
                difference.as_ref().and_then(|d| d.ledger_status.as_deref()),
                status,
                "{found:?}"
            );
        }
    }
}
