//! A bounded soak against `skypay-local` over HTTP: thousands of mixed calls from many
//! concurrent clients, with duplicates and callbacks out of order, each retried on -1009 as
//! SkyPay would. Afterwards the ledger must agree with what was acknowledged: no payout paid
//! twice, no receipt recorded twice, every acknowledged collection counted exactly once.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use support::local::LocalServer;
use support::*;
use tokio::sync::{Mutex, Semaphore};

const CLIENTS: usize = 32;
const PICKUPS: u64 = 100;
const PAYOUT_REPEATS: usize = 5;
const CONTRACTS: u64 = 40;
const RECEIPTS_PER_CONTRACT: u64 = 10;
const RECEIPT_REPEATS: usize = 3;
const PUSHED: u64 = 60;

/// A tiny deterministic generator (xorshift), so a failing soak can be replayed exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[derive(Clone)]
enum Work {
    Pay(String),
    Collect {
        contract: String,
        receipt: String,
        amount: &'static str,
    },
    Callback {
        control_number: String,
        pay_type: u32,
    },
}

/// Every answer (after retries of -1009) and whether any attempt saw a -1009.
#[derive(Default)]
struct Answers {
    finals: HashMap<String, Vec<String>>,
    unsure: HashMap<String, bool>,
}

async fn send(s: &LocalServer, route: &str, body: &Value) -> (String, bool) {
    let mut saw_1009 = false;
    for _ in 0..20 {
        let code = s.skypay(route, body).await;
        if code != "-1009" {
            return (code, saw_1009);
        }
        saw_1009 = true;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ("-1009".to_owned(), true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_mixed_calls_leave_a_ledger_that_matches_the_answers() {
    let s = Arc::new(LocalServer::start(&[]).await);
    let mut work = Vec::new();

    for i in 0..PICKUPS {
        let cn = number(10_000 + i);
        let (status, _) = s
            .post("/admin/payouts", &json!({"controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567", "amount": "100.00", "withdrawChannel": 1}))
            .await;
        assert_eq!(status, 201);
        for _ in 0..PAYOUT_REPEATS {
            work.push(Work::Pay(cn.clone()));
        }
    }
    for c in 0..CONTRACTS {
        let contract = number(20_000 + c);
        // 10 receipts of 100 or 150 against 1,000 due: some contracts settle part-way.
        let (status, _) = s
            .post(
                "/admin/contracts",
                &json!({"contractNumber": contract, "amountDue": "1000.00"}),
            )
            .await;
        assert_eq!(status, 201);
        for r in 0..RECEIPTS_PER_CONTRACT {
            let amount = if (c + r) % 3 == 0 { "150.00" } else { "100.00" };
            for _ in 0..RECEIPT_REPEATS {
                work.push(Work::Collect {
                    contract: contract.clone(),
                    receipt: format!("R{r}"),
                    amount,
                });
            }
        }
    }
    for p in 0..PUSHED {
        let cn = number(30_000 + p);
        let (status, _) = s
            .post("/admin/payouts", &json!({"controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567", "amount": "50", "withdrawChannel": 6, "accountNo": "09171234567"}))
            .await;
        assert_eq!(status, 201);
        // Every payType, some twice; payouts with an odd number skip the payment.
        for pay_type in [1, 2, 3, 4, 5, 6, 1, 4] {
            if pay_type == 2 && p % 2 == 1 {
                continue;
            }
            work.push(Work::Callback {
                control_number: cn.clone(),
                pay_type,
            });
        }
    }
    Rng(0x5eed_1234_abcd_9876).shuffle(&mut work);
    let total_calls = work.len();
    assert!(total_calls > 2_000, "{total_calls}");

    let answers = Arc::new(Mutex::new(Answers::default()));
    let slots = Arc::new(Semaphore::new(CLIENTS));
    let mut tasks = Vec::new();
    for item in work {
        let s = s.clone();
        let answers = answers.clone();
        let permit = slots.clone().acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let (key, route, body) = match &item {
                Work::Pay(cn) => (
                    format!("pay/{cn}"),
                    "payoutPayout",
                    payout_payout(cn, json!({})),
                ),
                Work::Collect {
                    contract,
                    receipt,
                    amount,
                } => (
                    format!("collect/{contract}/{receipt}"),
                    "collectionCollect",
                    collection_collect(contract, receipt, amount, json!({})),
                ),
                Work::Callback {
                    control_number,
                    pay_type,
                } => (
                    format!("callback/{control_number}/{pay_type}"),
                    "payoutQueuePayout",
                    payout_queue_payout(
                        control_number,
                        *pay_type,
                        &format!("2024-03-0{pay_type} 10:00:00"),
                        json!({"failDescription": "x"}),
                    ),
                ),
            };
            let (code, unsure) = send(&s, route, &body).await;
            let mut a = answers.lock().await;
            a.finals.entry(key.clone()).or_default().push(code);
            *a.unsure.entry(key).or_default() |= unsure;
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let answers = answers.lock().await;

    // Payouts: at most one 1000 each; PAID exactly when acknowledged (or when an attempt
    // timed out after DynamoDB applied it, which SkyPay then saw as -1026).
    let mut paid = 0;
    for i in 0..PICKUPS {
        let cn = number(10_000 + i);
        let codes = &answers.finals[&format!("pay/{cn}")];
        let acks = codes.iter().filter(|c| *c == "1000").count();
        assert!(acks <= 1, "{cn} paid {acks} times: {codes:?}");
        assert!(
            codes.iter().all(|c| c == "1000" || c == "-1026"),
            "{cn}: {codes:?}"
        );
        let (_, view) = s.get(&format!("/admin/payouts/{cn}")).await;
        assert_eq!(view["status"], "PAID", "{cn}");
        if acks == 0 {
            assert!(
                answers.unsure[&format!("pay/{cn}")],
                "{cn} is PAID but nobody was told"
            );
        }
        paid += acks;
    }

    // Contracts: no receipt twice; the total is the sum of the recorded receipts; a receipt
    // is recorded iff it was acknowledged (or an attempt was unsure).
    for c in 0..CONTRACTS {
        let contract = number(20_000 + c);
        let (_, view) = s.get(&format!("/admin/contracts/{contract}")).await;
        let receipts = view["receipts"].as_array().unwrap();
        let mut recorded: HashMap<String, rust_decimal::Decimal> = HashMap::new();
        for r in receipts {
            let number = r["receiptNumber"].as_str().unwrap().to_owned();
            let amount: rust_decimal::Decimal = r["amount"].as_str().unwrap().parse().unwrap();
            assert!(
                recorded.insert(number.clone(), amount).is_none(),
                "{contract}/{number} recorded twice"
            );
        }
        let total: rust_decimal::Decimal = recorded.values().copied().sum();
        assert_eq!(
            view["collectedTotal"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap(),
            total,
            "{contract}"
        );
        for r in 0..RECEIPTS_PER_CONTRACT {
            let key = format!("collect/{contract}/R{r}");
            let codes = &answers.finals[&key];
            let acks = codes.iter().filter(|c| *c == "1000").count();
            assert!(acks <= 1, "{key}: {codes:?}");
            let is_recorded = recorded.contains_key(&format!("R{r}"));
            if acks == 1 {
                assert!(is_recorded, "{key} acknowledged but not recorded");
            } else if is_recorded {
                assert!(
                    answers.unsure[&key],
                    "{key} recorded but never acknowledged: {codes:?}"
                );
            }
        }
        // Accepted only while below the amount due: the last accepted one may overshoot.
        let due = rust_decimal::Decimal::new(100_000, 2);
        let largest = recorded.values().copied().max().unwrap_or_default();
        assert!(total < due + largest, "{contract}: {total}");
    }

    // Callbacks: all acknowledged; final states are the order-independent ones.
    for p in 0..PUSHED {
        let cn = number(30_000 + p);
        for pay_type in [1, 3, 4, 5, 6] {
            assert!(
                answers.finals[&format!("callback/{cn}/{pay_type}")]
                    .iter()
                    .all(|c| c == "1000")
            );
        }
        let (_, view) = s.get(&format!("/admin/payouts/{cn}")).await;
        if p % 2 == 0 {
            assert_eq!(view["status"], "PAID", "{cn}");
        } else {
            // Without a payment, whichever of cancel and failure came first.
            assert!(
                matches!(view["status"].as_str(), Some("CANCELLED" | "FAILED")),
                "{cn}: {view}"
            );
        }
        assert_eq!(
            view["anomaly"], true,
            "{cn}: both a cancel and a failure (and maybe a payment)"
        );
        assert_eq!(
            view["events"].as_array().unwrap().len(),
            if p % 2 == 0 { 6 } else { 5 },
            "{cn}"
        );
    }
    let unsure = answers.unsure.values().filter(|u| **u).count();
    eprintln!(
        "soak: {total_calls} calls; {paid} payouts acknowledged once each; {unsure} calls retried after -1009"
    );
}
