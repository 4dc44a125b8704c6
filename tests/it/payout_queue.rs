//! SPEC section 7: pushing payouts to SkyPay, against skypay-sim on loopback.

use std::time::Duration;

use serde_json::{Value, json};
use skypay_sim::{Fault, Sim};
use support::local::LocalServer;
use support::*;

async fn with_skypay() -> (LocalServer, Sim) {
    let skypay = skypay_sim(&[]).await;
    let server = LocalServer::start(&[
        ("SKYPAY_API_URL", skypay.url.as_str()),
        ("SKYPAY_SENDER", "Lender App"),
        ("SKYPAY_API_TIMEOUT_SECONDS", "1"),
    ])
    .await;
    (server, skypay)
}

fn gcash(control_number: &str) -> Value {
    json!({
        "controlNumber": control_number,
        "name": "Lardizabal,Mary Annalou B.,Berja,",
        "phone": "+639270348095",
        "amount": 3400,
        "withdrawChannel": "6",
        "accountNo": "09270348095",
        "idType": "TIN",
        "birthday": "1991-10-02",
    })
}

#[tokio::test]
async fn the_exact_json_we_send() {
    let (s, skypay) = with_skypay().await;
    let cn = number(11);
    let (status, payout) = s.post("/admin/payouts", &gcash(&cn)).await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(payout["status"], "QUEUED");
    assert_eq!(payout["skypayCode"], "1000");
    let sent = skypay.received();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0],
        json!({
            "userName": USER,
            "action": "payoutQueue",
            "authentication": KEY,
            "sender": "Lender App",
            "controlNumber": cn,
            "name": "Lardizabal,Mary Annalou B.,Berja,",
            "phone": "09270348095",
            "amount": "3400.00",
            "withdrawChannel": 6,
            "accountNo": "09270348095",
            "idType": "TIN",
            "birthday": "1991-10-02",
        })
    );

    // A bank payout carries bankNo; everything but the channel is a string.
    let bank = json!({"controlNumber": number(12), "name": "Cruz,Juan", "phone": "09171234567", "amount": "10.5",
        "withdrawChannel": 5, "bankNo": "BDO", "accountNo": "001234567890", "provinceId": 47, "cityId": "996"});
    let (status, _) = s.post("/admin/payouts", &bank).await;
    assert_eq!(status, 201);
    let sent = &skypay.received()[1];
    assert_eq!(sent["amount"], "10.50");
    assert_eq!(sent["provinceId"], "47");
    assert_eq!(sent["cityId"], "996");
    assert_eq!(sent["withdrawChannel"], 5);
}

#[tokio::test]
async fn shop_pickups_are_registered_without_a_push() {
    let (s, skypay) = with_skypay().await;
    let (status, payout) = s
        .post("/admin/payouts", &json!({"controlNumber": number(50), "name": "Cruz,Juan", "phone": "09171234567", "amount": "1", "withdrawChannel": 9}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(payout["status"], "QUEUED");
    assert!(
        payout["controlNumber"]
            .as_str()
            .unwrap()
            .starts_with(PREFIX)
    );
    assert_eq!(payout["controlNumber"].as_str().unwrap().len(), 15);
    assert!(skypay.received().is_empty());
}

/// SPEC 14.3's four classes, one row per answer: accepted, unknown (in doubt), held (about us),
/// refused (about the instruction). -1008 on a first attempt is unknown, not refused (a
/// deviation, on the safe side: see `classify`).
#[tokio::test]
async fn each_outcome_class() {
    let (s, skypay) = with_skypay().await;
    let code = |c: &str| Some(Fault::Code(c.to_owned()));
    // (what SkyPay does, status, skypayCode, pushInDoubt, pushHeld); `None`: SkyPay accepts.
    type Row = (
        Option<Fault>,
        &'static str,
        Option<&'static str>,
        bool,
        Option<&'static str>,
    );
    let mut rows: Vec<Row> = vec![
        (None, "QUEUED", Some("1000"), false, None),
        (code("-1008"), "PENDING", None, true, None),
        (code("-9999"), "PENDING", None, true, None),
        (code("-1009"), "PENDING", None, true, None),
        (Some(Fault::Http(502)), "PENDING", None, true, None),
        (Some(Fault::Http(404)), "PENDING", None, true, None),
        (Some(Fault::Garbage), "PENDING", None, true, None),
        (
            Some(Fault::Stall(Duration::from_millis(1500))),
            "PENDING",
            None,
            true,
            None,
        ),
    ];
    for held in ["-1001", "-1016", "-1027", "-1032"] {
        rows.push((code(held), "PENDING", Some(held), false, Some(held)));
    }
    for refused in ["-1000", "-1020", "-1021", "-1022", "-1028"] {
        rows.push((code(refused), "REJECTED", Some(refused), false, None));
    }
    for (i, (behaviour, status, code, in_doubt, held)) in rows.into_iter().enumerate() {
        let cn = number(100 + i as u64);
        skypay.script(behaviour.clone());
        let (http, payout) = s.post("/admin/payouts", &gcash(&cn)).await;
        assert_eq!(http, 201, "{behaviour:?}: {payout}");
        assert_eq!(payout["status"], status, "{behaviour:?}: {payout}");
        assert_eq!(
            payout["skypayCode"].as_str(),
            code,
            "{behaviour:?}: {payout}"
        );
        assert_eq!(
            payout["pushInDoubt"].as_bool().unwrap_or(false),
            in_doubt,
            "{behaviour:?}: {payout}"
        );
        assert_eq!(payout["pushHeld"].as_str(), held, "{behaviour:?}: {payout}");
        if status == "REJECTED" {
            assert!(!payout["skypayDescription"].as_str().unwrap().is_empty());
        }
    }
}

/// SPEC 14.1: the same number with the same instruction is the same payout, 200 as it stands,
/// whatever its status; pushed again only when no attempt may have reached SkyPay. A different
/// instruction for the number is 409.
#[tokio::test]
async fn a_repost_is_the_same_payout_and_never_other_data() {
    let (s, skypay) = with_skypay().await;
    let cn = number(200);
    skypay.script([Fault::Http(503)]);
    let (status, first) = s.post("/admin/payouts", &gcash(&cn)).await;
    assert_eq!((status, first["status"].as_str()), (201, Some("PENDING")));
    assert_eq!(first["pushInDoubt"], true, "{first}");
    // A different instruction for the same control number: 409, nothing pushed.
    let mut other = gcash(&cn);
    other["amount"] = json!("3500.00");
    assert_eq!(s.post("/admin/payouts", &other).await.0, 409);
    assert_eq!(skypay.received().len(), 1);
    // The same instruction (by value: 3400 and "3400.00" are the same amount): the payout as
    // it stands, in doubt, and not pushed again: SkyPay may have it (SPEC 14.3).
    let mut same = gcash(&cn);
    same["amount"] = json!("3400.00");
    let (status, again) = s.post("/admin/payouts", &same).await;
    assert_eq!(
        (status, again["status"].as_str()),
        (200, Some("PENDING")),
        "{again}"
    );
    assert_eq!(again["pushAttempts"], 1);
    assert_eq!(skypay.received().len(), 1, "no push while in doubt");

    // Accepted, then posted again: 200 with the payout as it stands (not 409), no push.
    let queued = number(201);
    let (status, _) = s.post("/admin/payouts", &gcash(&queued)).await;
    assert_eq!(status, 201);
    let (status, again) = s.post("/admin/payouts", &gcash(&queued)).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("QUEUED")));
    assert_eq!(skypay.received().len(), 2);
}

#[tokio::test]
async fn without_skypay_api_url_pushed_payouts_are_queued_without_a_call() {
    let s = LocalServer::start(&[]).await;
    let (status, payout) = s.post("/admin/payouts", &gcash(&number(300))).await;
    assert_eq!(status, 201);
    assert_eq!(payout["status"], "QUEUED");
    assert_eq!(
        payout["skypayDescription"],
        "not pushed: SKYPAY_API_URL is not set"
    );
    // Never pushed, so no attempt (the registration's lease counted one, taken back).
    assert_eq!(payout["pushAttempts"], 0, "{payout}");
}

#[tokio::test]
async fn refused_connections_leave_the_payout_pending() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/api/payoutQueue", l.local_addr().unwrap())
    };
    let s = LocalServer::start(&[
        ("SKYPAY_API_URL", closed.as_str()),
        ("SKYPAY_SENDER", "Lender App"),
    ])
    .await;
    let (status, payout) = s.post("/admin/payouts", &gcash(&number(301))).await;
    assert_eq!((status, payout["status"].as_str()), (201, Some("PENDING")));
    // Never sent (SPEC 14.3): not in doubt, so a re-post pushes again.
    assert!(payout.get("pushInDoubt").is_none(), "{payout}");
    let (status, again) = s.post("/admin/payouts", &gcash(&number(301))).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("PENDING")));
    assert_eq!(again["pushAttempts"], 2, "{again}");
}

/// SPEC 13.1: with a key, the push is encrypted (`text/plain`) and SkyPay's encrypted answer
/// is read; a plain answer is read too. `contractNumber` (SPEC 13.2) is ours and never pushed.
#[tokio::test]
async fn the_push_is_encrypted_and_the_encrypted_answer_read() {
    let skypay = skypay_sim(&[("SKYPAY_ENCRYPTION_KEY", "SkyPay-Partner-Secret")]).await;
    let s = LocalServer::start(&[
        ("SKYPAY_API_URL", skypay.url.as_str()),
        ("SKYPAY_SENDER", "Lender App"),
        ("SKYPAY_API_TIMEOUT_SECONDS", "1"),
        ("SKYPAY_ENCRYPTION_KEY", "SkyPay-Partner-Secret"),
    ])
    .await;
    let mut instruction = gcash(&number(90));
    instruction["contractNumber"] = json!(number(91));
    let (status, payout) = s.post("/admin/payouts", &instruction).await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(payout["status"], "QUEUED");
    assert_eq!(payout["skypayCode"], "1000");
    skypay.script([Fault::Code("-1022".to_owned())]);
    let (status, payout) = s.post("/admin/payouts", &gcash(&number(92))).await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(payout["status"], "REJECTED");
    assert_eq!(payout["skypayCode"], "-1022");
    assert_eq!(skypay.content_types(), ["text/plain", "text/plain"]);
    let sent = skypay.received();
    assert_eq!(sent[0]["action"], "payoutQueue");
    assert_eq!(sent[0]["controlNumber"], number(90));
    assert!(sent[0].get("contractNumber").is_none(), "{}", sent[0]);

    // Without the key the same SkyPay cannot read us (an HTTP 400): every push stays PENDING
    // (transient), never REJECTED for a problem of our own transport.
    let plain = LocalServer::start(&[
        ("SKYPAY_API_URL", skypay.url.as_str()),
        ("SKYPAY_SENDER", "Lender App"),
        ("SKYPAY_API_TIMEOUT_SECONDS", "1"),
    ])
    .await;
    let (status, payout) = plain.post("/admin/payouts", &gcash(&number(93))).await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(payout["status"], "PENDING");
}

/// A plain JSON answer is accepted with a key configured (SPEC 13.1).
#[tokio::test]
async fn a_plain_answer_is_accepted_with_a_key() {
    let skypay = skypay_sim_with(&[("SKYPAY_ENCRYPTION_KEY", "SkyPay-Partner-Secret")], |c| {
        skypay_sim::SimConfig {
            plain_answers: true,
            ..c
        }
    })
    .await;
    let s = LocalServer::start(&[
        ("SKYPAY_API_URL", skypay.url.as_str()),
        ("SKYPAY_SENDER", "Lender App"),
        ("SKYPAY_API_TIMEOUT_SECONDS", "1"),
        ("SKYPAY_ENCRYPTION_KEY", "SkyPay-Partner-Secret"),
    ])
    .await;
    let (status, payout) = s.post("/admin/payouts", &gcash(&number(94))).await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(payout["status"], "QUEUED");
    // What it received was ciphertext, which it decrypted; it answered in the clear.
    assert_eq!(skypay.received()[0]["action"], "payoutQueue");
    assert_eq!(skypay.content_types(), ["text/plain"]);
}

/// SPEC 14.1, the review's first double payout: the same body posted twice to
/// `POST /admin/payouts` (a loan system whose request timed out retries it) is one payout,
/// pushed once. Before, with no controlNumber each post drew a number: two QUEUED payouts,
/// both answered 1000 by SkyPay. Now a body without one is 400 and pushes nothing.
#[tokio::test]
async fn the_same_instruction_posted_twice_is_one_payout_pushed_once() {
    let (s, skypay) = with_skypay().await;
    let mut unnamed = gcash("");
    unnamed.as_object_mut().unwrap().remove("controlNumber");
    for _ in 0..2 {
        let (status, answer) = s.post("/admin/payouts", &unnamed).await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .starts_with("controlNumber is required"),
            "{answer}"
        );
    }
    assert!(skypay.received().is_empty(), "nothing pushed");

    let cn = number(700);
    let (first, a) = s.post("/admin/payouts", &gcash(&cn)).await;
    let (second, b) = s.post("/admin/payouts", &gcash(&cn)).await;
    assert_eq!((first, second), (201, 200));
    assert_eq!(
        (a["status"].as_str(), b["status"].as_str()),
        (Some("QUEUED"), Some("QUEUED"))
    );
    assert_eq!(a["controlNumber"], b["controlNumber"]);
    assert_eq!(skypay.received().len(), 1, "one push");
}
