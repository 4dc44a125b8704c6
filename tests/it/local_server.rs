//! SPEC section 9: `skypay-local` driven over HTTP, as a user (or SkyPay) would.

use serde_json::{Value, json};
use support::local::LocalServer;
use support::*;

#[tokio::test]
async fn a_shop_pickup_from_registration_to_a_repeated_payout() {
    let s = LocalServer::start(&[]).await;
    let cn = number(1);
    let (status, payout) = s
        .post(
            "/admin/payouts",
            &json!({"controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567", "amount": "3400.00", "withdrawChannel": 1}),
        )
        .await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(payout["status"], "QUEUED");
    assert_eq!(payout["amount"], "3400.00");
    assert_eq!(payout["withdrawChannel"], 1);
    assert_eq!(payout["anomaly"], false);
    // SPEC 13.5's one form: ISO 8601 with the Manila offset.
    let expires = payout["expiresAt"].as_str().unwrap();
    assert!(
        expires.len() == 29 && expires.ends_with("+08:00"),
        "{expires}"
    );

    let upload = payout_queue_payout(
        &cn,
        1,
        "2024-05-01 09:00:00",
        json!({"referenceNumber": "MLA1"}),
    );
    assert_eq!(s.skypay("payoutQueuePayout", &upload).await, "1000");
    assert_eq!(
        s.get(&format!("/admin/payouts/{cn}")).await.1["status"],
        "UPLOADED"
    );

    let pay = payout_payout(&cn, json!({}));
    assert_eq!(s.skypay("payoutPayout", &pay).await, "1000");
    assert_eq!(s.skypay("payoutPayout", &pay).await, "-1026");
    let (status, view) = s.get(&format!("/admin/payouts/{cn}")).await;
    assert_eq!(status, 200);
    assert_eq!(view["status"], "PAID");
    assert_eq!(view["events"].as_array().unwrap().len(), 1);
    assert_eq!(view["events"][0]["payType"], "1");

    // A bad key changes nothing and says only "Verification error".
    let (_, refused) = s
        .post(
            "/payoutPayout",
            &payout_payout(&cn, json!({"authentication": "guess"})),
        )
        .await;
    assert_eq!(refused["responseCode"], "-1001");
    assert_eq!(refused["responseDescription"], "Verification error");
    s.stop().await;
}

#[tokio::test]
async fn an_expired_payout_is_1012() {
    let s = LocalServer::start(&[]).await;
    let cn = number(2);
    let (status, payout) = s
        .post(
            "/admin/payouts",
            &json!({"controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567", "amount": "100", "withdrawChannel": "9", "expiresAt": "2020-01-01 00:00:00"}),
        )
        .await;
    assert_eq!(status, 201, "{payout}");
    assert_eq!(payout["expiresAt"], "2020-01-01T00:00:00.000+08:00");
    assert_eq!(
        s.skypay("payoutPayout", &payout_payout(&cn, json!({})))
            .await,
        "-1012"
    );
    // SPEC 12.3: a pushed channel with a past expiry is refused, naming the field.
    let (status, body) = s
        .post(
            "/admin/payouts",
            &json!({"controlNumber": number(3), "name": "Cruz,Juan", "phone": "09171234567", "amount": "100", "withdrawChannel": 6, "accountNo": "09171234567", "expiresAt": "2020-01-01 00:00:00"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().starts_with("expiresAt"),
        "{body}"
    );
}

#[tokio::test]
async fn a_contract_from_registration_to_settled() {
    let s = LocalServer::start(&[]).await;
    let cn = number(4);
    let registration = json!({"contractNumber": cn, "amountDue": "5000.00", "name": "Cruz,Juan"});
    let (status, contract) = s.post("/admin/contracts", &registration).await;
    assert_eq!(status, 201, "{contract}");
    assert_eq!(contract["status"], "OPEN");
    assert_eq!(contract["amountDue"], "5000.00");
    assert_eq!(contract["collectedTotal"], "0.00");
    // An identical re-post is 200; a different one 409.
    assert_eq!(s.post("/admin/contracts", &registration).await.0, 200);
    let (status, _) = s
        .post(
            "/admin/contracts",
            &json!({"contractNumber": cn, "amountDue": "5000.01"}),
        )
        .await;
    assert_eq!(status, 409);

    assert_eq!(
        s.skypay(
            "collectionCollect",
            &collection_collect(&cn, "R1", "1000.00", json!({}))
        )
        .await,
        "1000"
    );
    assert_eq!(
        s.skypay(
            "collectionCollect",
            &collection_collect(&cn, "R1", "1000.00", json!({}))
        )
        .await,
        "-1015"
    );
    let (_, partial) = s.get(&format!("/admin/contracts/{cn}")).await;
    assert_eq!(
        (
            partial["status"].as_str(),
            partial["collectedTotal"].as_str()
        ),
        (Some("OPEN"), Some("1000.00"))
    );
    assert_eq!(
        s.skypay(
            "collectionCollect",
            &collection_collect(&cn, "R2", "4000", json!({}))
        )
        .await,
        "1000"
    );
    assert_eq!(
        s.skypay(
            "collectionCollect",
            &collection_collect(&cn, "R3", "1", json!({}))
        )
        .await,
        "-1026"
    );
    let (status, settled) = s.get(&format!("/admin/contracts/{cn}")).await;
    assert_eq!(status, 200);
    assert_eq!(settled["status"], "SETTLED");
    assert_eq!(settled["collectedTotal"], "5000.00");
    assert_eq!(settled["receipts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_unregistered_contract_is_adopted_by_registration() {
    let s = LocalServer::start(&[]).await;
    let cn = number(5);
    assert_eq!(
        s.skypay(
            "collectionCollect",
            &collection_collect(&cn, "R1", "600", json!({}))
        )
        .await,
        "1000"
    );
    let (_, before) = s.get(&format!("/admin/contracts/{cn}")).await;
    assert_eq!(before["status"], "UNREGISTERED");
    let (status, adopted) = s
        .post(
            "/admin/contracts",
            &json!({"contractNumber": cn, "amountDue": "500"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(adopted["status"], "SETTLED");
    assert_eq!(adopted["overpaidBy"], "100.00");
}

#[tokio::test]
async fn unknown_numbers_are_404_and_health_is_200() {
    let s = LocalServer::start(&[]).await;
    assert_eq!(s.get(&format!("/admin/payouts/{}", number(6))).await.0, 404);
    assert_eq!(
        s.get(&format!("/admin/contracts/{}", number(6))).await.0,
        404
    );
    let (status, _) = s.get("/healthz").await;
    assert_eq!(status, 200);
    // SPEC 12.13: orphan callbacks reserve the number: shown as ORPHAN with its events, and
    // neither payoutInquiry nor payoutPayout will pay it, even after a "paid" callback.
    let orphan = payout_queue_payout(&number(7), 2, "2024-01-01 00:00:00", json!({}));
    assert_eq!(s.skypay("payoutQueuePayout", &orphan).await, "1000");
    let (status, body) = s.get(&format!("/admin/payouts/{}", number(7))).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ORPHAN");
    assert_eq!(body["events"].as_array().unwrap().len(), 1);
    let inquiry = payout_inquiry(&number(7), json!({}));
    assert_eq!(s.skypay("payoutInquiry", &inquiry).await, "-1012");
    let pay = payout_payout(&number(7), json!({}));
    assert_eq!(s.skypay("payoutPayout", &pay).await, "-1012");
    let (status, _) = s
        .post(
            "/admin/payouts",
            &json!({"controlNumber": number(7), "name": "Cruz,Juan", "phone": "09171234567",
                    "amount": "100", "withdrawChannel": 1}),
        )
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn invalid_instructions_are_400_naming_the_field() {
    let s = LocalServer::start(&[]).await;
    let base = json!({"controlNumber": number(600), "name": "Cruz,Juan", "phone": "09171234567", "amount": "100.00", "withdrawChannel": 5, "bankNo": "BDO", "accountNo": "001234567890"});
    let rows = [
        // SPEC 14.1: the loan system names every payout.
        (json!({"controlNumber": null}), "controlNumber"),
        (json!({"controlNumber": ""}), "controlNumber"),
        (json!({"withdrawChannel": 2}), "withdrawChannel"),
        (json!({"withdrawChannel": null}), "withdrawChannel"),
        (json!({"name": "Cruz"}), "name"),
        (json!({"name": ",Juan"}), "name"),
        (json!({"phone": "0717123456"}), "phone"),
        (json!({"amount": "0"}), "amount"),
        (json!({"amount": "1.234"}), "amount"),
        // SPEC 12.14: an amount string with an exponent is 400 on /admin.
        (json!({"amount": "1e3"}), "amount"),
        (
            json!({"contractNumber": "SKY02123456789"}),
            "contractNumber",
        ),
        (json!({"bankNo": null}), "bankNo"),
        (json!({"bankNo": "BDOX"}), "bankNo"),
        (json!({"accountNo": null}), "accountNo"),
        (json!({"idType": "TIN"}), "idType"),
        (json!({"birthday": "1991-02-30"}), "birthday"),
        (json!({"controlNumber": "SKY02123456789"}), "controlNumber"),
        (
            json!({"withdrawChannel": 6, "bankNo": null, "accountNo": "12345"}),
            "accountNo",
        ),
        (
            json!({"withdrawChannel": 6, "accountNo": "09171234567"}),
            "bankNo",
        ),
        (
            json!({"withdrawChannel": 8, "bankNo": null, "accountNo": "09171234567", "provinceId": 47}),
            "provinceId",
        ),
    ];
    for (change, field) in rows {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let (status, answer) = s.post("/admin/payouts", &body).await;
        assert_eq!(status, 400, "{change} -> {answer}");
        assert!(
            answer["error"].as_str().unwrap().starts_with(field),
            "{change} -> {answer}"
        );
    }
    let (status, _) = s.post_raw("/admin/payouts", "not json").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn data_survives_a_restart_with_a_data_file() {
    let dir =
        std::env::temp_dir().join(format!("skypay-restart-{}", skypay::ledger::random_token()));
    let file = dir.join("ledger.db");
    let cn = number(8);
    let s = LocalServer::start_with_file(&file).await;
    let (status, _) = s
        .post("/admin/payouts", &json!({"controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567", "amount": "3400.00", "withdrawChannel": 1}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        s.skypay("payoutPayout", &payout_payout(&cn, json!({})))
            .await,
        "1000"
    );
    s.stop().await;

    let again = LocalServer::start_with_file(&file).await;
    let (status, view) = again.get(&format!("/admin/payouts/{cn}")).await;
    assert_eq!(status, 200);
    assert_eq!(view["status"], "PAID");
    assert_eq!(
        again
            .skypay("payoutPayout", &payout_payout(&cn, json!({})))
            .await,
        "-1026"
    );
    again.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn oversized_bodies_get_the_envelope_not_a_bare_413() {
    let s = LocalServer::start(&[]).await;
    let (status, envelope) = s.post_raw("/payoutPayout", "x".repeat(70 * 1024)).await;
    assert_eq!(status, 200);
    assert_eq!(envelope["responseCode"], "2001");
}

#[test]
fn the_banner_prints_the_key_only_when_it_is_the_development_default() {
    use skypay::config::{Defaults, Source};
    let nothing = |_: &str| -> Option<String> { None };
    let default = skypay::Config::load(&nothing as &dyn Source, Defaults::Local).unwrap();
    let addr = "127.0.0.1:3000".parse().unwrap();
    let store = skypay_local::Store::Memory;
    let banner = skypay_local::banner(addr, &store, &default, None);
    assert!(banner.contains("30AC21B2-9EAA-4503-B0F0-7BE5C277ED75"));
    assert!(banner.contains("Ctrl-C stops it; the ledger goes with it."));
    let on_file = skypay_local::Store::File(".skypay/ledger.db".into());
    let kept = skypay_local::banner(addr, &on_file, &default, None);
    assert!(
        kept.contains("Ctrl-C stops it; the ledger is kept."),
        "{kept}"
    );
    assert!(banner.contains("AppName@skypay") && banner.contains("SKY01"));
    for action in skypay::Action::ALL {
        let curl = format!("curl -s http://127.0.0.1:3000/{} -d", action.name());
        assert!(banner.contains(&curl), "no curl for {action:?}: {banner}");
    }
    let given = |name: &str| (name == "SKYPAY_AUTH_KEYS").then(|| "a-real-key-from-aws".to_owned());
    let configured = skypay::Config::load(&given as &dyn Source, Defaults::Local).unwrap();
    let banner = skypay_local::banner(addr, &store, &configured, None);
    assert!(!banner.contains("a-real-key-from-aws"));
    assert!(!banner.contains("30AC21B2"));
}

/// The banner's "Try it" curls, pasted into a shell with the user's own key in `SKYPAY_KEY`,
/// answer as they promise (every SkyPay endpoint 1000, every registration 201), and again
/// after a restart on the same kept ledger: each start prints numbers of its own. Before, the
/// key sat inside single quotes (every call -1001), and the second start's curls met the
/// first's payout and contract (409, -1026, -1015).
#[tokio::test]
async fn the_banners_curls_answer_as_shown_twice_on_a_kept_ledger() {
    let dir = std::env::temp_dir().join(format!("skypay-banner-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("ledger.db");
    let own_key = "my-own-key-from-the-shell";
    for start in 0..2 {
        let s = LocalServer::start_with_file_and(&data, &[("SKYPAY_AUTH_KEYS", own_key)]).await;
        let banner = s.banner(None);
        let curls: Vec<&str> = banner
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("curl "))
            .collect();
        assert!(curls.len() >= 10, "{banner}");
        for curl in curls {
            let output = tokio::process::Command::new("sh")
                .args(["-c", curl])
                .env("SKYPAY_KEY", own_key)
                .output()
                .await
                .expect("sh and curl run");
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "{curl}: {text}");
            let answer: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("start {start}: {curl}: {e}: {text}"));
            if curl.contains("/admin/") && curl.contains(" -d ") {
                assert!(
                    answer.get("error").is_none(),
                    "start {start}: {curl}: {answer}"
                );
            } else if !curl.contains("/admin/") && !curl.contains("/healthz") {
                assert_eq!(
                    answer["responseCode"], "1000",
                    "start {start}: {curl}: {answer}"
                );
            }
        }
        s.stop().await;
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// SPEC 13.2 and 13.3 over HTTP, as the cashier's flows run: inquiry then payout, inquiry then
/// collect; every row of both tables.
#[tokio::test]
async fn the_inquiry_tables_over_http() {
    let s = LocalServer::start(&[("SKYPAY_SENDER", "Lender App")]).await;
    let pickup = |cn: &str, extra: Value| {
        let mut body = json!({"controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567",
            "amount": "3400.00", "withdrawChannel": 1, "idType": "UMID"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let register = |body: Value| {
        let s = &s;
        async move {
            let (status, reply) = s.post("/admin/payouts", &body).await;
            assert_eq!(status, 201, "{reply}");
        }
    };
    // payoutInquiry rows (the pushed one is QUEUED without a push: no SKYPAY_API_URL).
    let queued = number(401);
    register(pickup(&queued, json!({}))).await;
    let uploaded = number(402);
    register(pickup(&uploaded, json!({}))).await;
    let upload = payout_queue_payout(&uploaded, 1, "2024-01-01 00:00:00", json!({}));
    assert_eq!(s.skypay("payoutQueuePayout", &upload).await, "1000");
    let cancelled = number(403);
    register(pickup(
        &cancelled,
        json!({"withdrawChannel": 6, "accountNo": "09171234567", "idType": null}),
    ))
    .await;
    let cancel = payout_queue_payout(&cancelled, 3, "2024-01-01 00:00:00", json!({}));
    assert_eq!(s.skypay("payoutQueuePayout", &cancel).await, "1000");
    let expired = number(404);
    register(pickup(
        &expired,
        json!({"expiresAt": "2020-01-01 00:00:00"}),
    ))
    .await;
    let rows = [
        ("wrong prefix", "SKY0212345678".to_owned(), "-1014"),
        ("malformed", "SKY01123".to_owned(), "-1012"),
        ("unknown", number(499), "-1012"),
        ("CANCELLED", cancelled, "-1012"),
        ("expired", expired, "-1012"),
        ("QUEUED", queued.clone(), "1000"),
        ("UPLOADED", uploaded, "1000"),
    ];
    for (state, cn, code) in rows {
        let inquiry = s
            .skypay("payoutInquiry", &payout_inquiry(&cn, json!({})))
            .await;
        assert_eq!(inquiry, code, "payoutInquiry {state}");
        let pay = s
            .skypay("payoutPayout", &payout_payout(&cn, json!({})))
            .await;
        assert_eq!(pay, code, "payoutPayout after the inquiry, {state}");
    }
    let (_, reply) = s
        .post("/payoutInquiry", &payout_inquiry(&queued, json!({})))
        .await;
    assert_eq!(reply["responseCode"], "-1026", "PAID");

    // The details of a 1000, over HTTP.
    let fresh = number(405);
    register(pickup(&fresh, json!({"contractNumber": number(406)}))).await;
    let (_, reply) = s
        .post("/payoutInquiry", &payout_inquiry(&fresh, json!({})))
        .await;
    assert_eq!(reply["responseCode"], "1000");
    assert_eq!(reply["sender"], "Lender App");
    assert_eq!(reply["name"], "Cruz,Juan");
    assert_eq!(reply["idType"], "UMID");
    assert_eq!(reply["contractNumber"], number(406));
    assert_eq!(reply["amount"], "3400.00");
    assert_eq!(reply["senderAddress"], "");

    // collectionInquiry rows, then the collection.
    let open = number(410);
    let (status, _) = s
        .post(
            "/admin/contracts",
            &json!({"contractNumber": open, "amountDue": "5000.00", "name": "Cruz,Juan",
                    "address": "1740 Mabini St,Malate,Manila", "phone": "+639171234567"}),
        )
        .await;
    assert_eq!(status, 201);
    let settled = number(411);
    s.post(
        "/admin/contracts",
        &json!({"contractNumber": settled, "amountDue": "10"}),
    )
    .await;
    let all = collection_collect(&settled, "R-1", "10", json!({}));
    assert_eq!(s.skypay("collectionCollect", &all).await, "1000");
    let unregistered = number(412);
    let early = collection_collect(&unregistered, "R-2", "10", json!({}));
    assert_eq!(s.skypay("collectionCollect", &early).await, "1000");
    let rows = [
        (
            "wrong prefix",
            collection_inquiry("SKY0212345678", "1", json!({})),
            "-1015",
        ),
        (
            "malformed",
            collection_inquiry("SKY0112", "1", json!({})),
            "-1015",
        ),
        (
            "unknown",
            collection_inquiry(&number(499), "1", json!({})),
            "-1015",
        ),
        (
            "UNREGISTERED",
            collection_inquiry(&unregistered, "1", json!({})),
            "-1015",
        ),
        (
            "SETTLED",
            collection_inquiry(&settled, "1", json!({})),
            "-1026",
        ),
        (
            "amount missing",
            collection_inquiry(&open, "1", json!({"amount": null})),
            "2002",
        ),
        (
            "amount invalid",
            collection_inquiry(&open, "0", json!({})),
            "2002",
        ),
        (
            "OPEN",
            collection_inquiry(&open, "1000.00", json!({})),
            "1000",
        ),
    ];
    for (state, body, code) in rows {
        assert_eq!(s.skypay("collectionInquiry", &body).await, code, "{state}");
    }
    let (_, reply) = s
        .post(
            "/collectionInquiry",
            &collection_inquiry(&open, "1000", json!({})),
        )
        .await;
    assert_eq!(reply["amount"], "1000.00");
    assert_eq!(reply["payerName"], "Cruz,Juan");
    assert_eq!(reply["payerAddress"], "1740 Mabini St,Malate,Manila");
    assert_eq!(reply["payerPhone"], "09171234567");
    let collect = collection_collect(&open, "R-3", "1000.00", json!({}));
    assert_eq!(s.skypay("collectionCollect", &collect).await, "1000");
    let (_, contract) = s.get(&format!("/admin/contracts/{open}")).await;
    assert_eq!(contract["address"], "1740 Mabini St,Malate,Manila");
    assert_eq!(contract["collectedTotal"], "1000.00");
}

/// SPEC 13.4: a financeNotification over HTTP, read back through `GET /admin/finance?date=`.
#[tokio::test]
async fn finance_notifications_are_listed_by_day() {
    let s = LocalServer::start(&[]).await;
    let sample = finance_notification("D-20231204-001", json!({}));
    assert_eq!(s.skypay("financeNotification", &sample).await, "1000");
    let (status, listed) = s.get("/admin/finance?date=2023-06-18").await;
    assert_eq!(status, 200);
    assert_eq!(listed["date"], "2023-06-18");
    let notifications = listed["notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0]["referenceNumber"], "D-20231204-001");
    assert_eq!(notifications[0]["amount"], "12000000.00");
    let (status, listed) = s.get("/admin/finance?date=2023-06-19").await;
    assert_eq!(
        (status, listed["notifications"].as_array().unwrap().len()),
        (200, 0)
    );
    for bad in [
        "/admin/finance",
        "/admin/finance?date=2023-6-18",
        "/admin/finance?date=x",
    ] {
        let (status, body) = s.get(bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

/// SPEC 13.5: every time in an admin reply is ISO 8601 with its offset, plus SkyPay's text where
/// SkyPay sent it; every amount a decimal string.
#[tokio::test]
async fn admin_replies_have_one_form_for_times_and_amounts() {
    let s = LocalServer::start(&[]).await;
    let cn = number(600);
    s.post(
        "/admin/payouts",
        &json!({"controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567",
        "amount": "5", "withdrawChannel": 6, "accountNo": "09171234567"}),
    )
    .await;
    let callback = payout_queue_payout(&cn, 2, "2024-05-01 09:00:00", json!({}));
    assert_eq!(s.skypay("payoutQueuePayout", &callback).await, "1000");
    let (_, payout) = s.get(&format!("/admin/payouts/{cn}")).await;
    let iso = |v: &Value, what: &str| {
        let t = v
            .as_str()
            .unwrap_or_else(|| panic!("{what} missing in {payout}"));
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with("+08:00"),
            "{what}: {t}"
        );
    };
    iso(&payout["createdAt"], "createdAt");
    iso(&payout["expiresAt"], "expiresAt");
    iso(&payout["paidAt"], "paidAt");
    assert_eq!(payout["payTime"], "2024-05-01 09:00:00");
    assert_eq!(payout["payTimeAt"], "2024-05-01T09:00:00.000+08:00");
    assert_eq!(payout["amount"], "5.00");
    let event = &payout["events"][0];
    assert_eq!(event["dealTime"], "2024-05-01 09:00:00");
    assert_eq!(event["dealTimeAt"], "2024-05-01T09:00:00.000+08:00");
    iso(&event["receivedAt"], "receivedAt");

    let contract = number(601);
    s.post(
        "/admin/contracts",
        &json!({"contractNumber": contract, "amountDue": "10"}),
    )
    .await;
    let collect = collection_collect(&contract, "R", "2.5", json!({}));
    assert_eq!(s.skypay("collectionCollect", &collect).await, "1000");
    let (_, view) = s.get(&format!("/admin/contracts/{contract}")).await;
    assert_eq!(view["amountDue"], "10.00");
    assert_eq!(view["collectedTotal"], "2.50");
    let receipt = &view["receipts"][0];
    assert_eq!(receipt["amount"], "2.50");
    assert_eq!(receipt["collectedTime"], "2019-02-18 15:01:02");
    assert_eq!(receipt["collectedTimeAt"], "2019-02-18T15:01:02.000+08:00");
    iso(&receipt["recordedAt"], "recordedAt");
}

/// The router's bad input: malformed JSON 400 naming what is wrong, an unknown route 404, a
/// body over 64 KiB 413.
#[tokio::test]
async fn the_admin_router_refuses_bad_input_clearly() {
    let s = LocalServer::start(&[]).await;
    let (status, body) = s.post_raw("/admin/payouts", "{\"name\": ").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a JSON object"),
        "{body}"
    );
    let (status, body) = s
        .post_raw("/admin/contracts", r#"{"contractNumber": 5}"#)
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("contractNumber"),
        "{body}"
    );
    for path in ["/admin/nothing", "/admin/payouts/SKY0100000001/refund"] {
        let (status, body) = s.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024));
    let (status, body) = s.post_raw("/admin/payouts", big).await;
    assert_eq!(status, 413, "{body}");
}
