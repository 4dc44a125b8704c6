//! skypay-local as a ledger a lender can trust (issue 13): one test per finding of the
//! black-box durability test. Loops are bounded; the time bounds here are liveness bounds (a
//! missing timeout would hang for ever), never speed measures. Everything on 127.0.0.1.

use std::time::Duration;

use crate::process::{Process, Scratch, arg, run};
use serde_json::{Value, json};
use support::local::LocalServer;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound no working timeout comes near; a missing one would wait for ever.
const LIVENESS: Duration = Duration::from_secs(30);

fn pickup(cn: &str) -> Value {
    json!({"controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567",
           "amount": "3400.00", "withdrawChannel": 1})
}

async fn post(http: &reqwest::Client, url: String, body: &Value) -> (u16, Value) {
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Finding 1: the embedded ledger listened on an unannounced loopback port that took any
/// signature. Now the process listens on one port only, the one it was asked to, and the
/// ledger answers through it and nowhere else.
#[tokio::test]
async fn the_ledger_has_no_port_of_its_own() {
    let scratch = Scratch::new("port");
    let data = scratch.path("ledger.db");
    let server = Process::start(&["--data", &arg(&data)], None).expect("started");
    let http = reqwest::Client::new();
    let (status, _) = post(
        &http,
        format!("{}/admin/payouts", server.base),
        &pickup(&number(1)),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(server.listening_ports(), [server.port]);
    let memory = Process::start(&["--memory"], None).expect("started");
    assert_eq!(memory.listening_ports(), [memory.port]);
    assert!(server.stop().success());
}

/// Finding 2: a 0-byte file, a foreign SQLite file and a file that is not SQLite at all were
/// adopted as an empty ledger (and cash already collected was taken again). Now each stops the
/// start with what it is, and is left byte for byte as it was; `--init` turns an empty file
/// into a new ledger.
#[tokio::test]
async fn an_empty_or_foreign_data_file_is_refused_and_left_alone() {
    let scratch = Scratch::new("foreign");
    let empty = scratch.path("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let text = scratch.path("notes.db");
    std::fs::write(&text, b"payouts: none\n").unwrap();
    // A valid SQLite database of someone else's.
    let foreign = scratch.path("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');")
        .unwrap();
    let rows = [
        (&empty, "is empty (0 bytes)"),
        (&text, "not an SQLite database"),
        (&foreign, "not a skypay ledger"),
    ];
    for (path, reason) in rows {
        let before = std::fs::read(path).unwrap();
        let refused =
            LocalServer::try_start_with_file(path, skypay_local::Options::default()).await;
        let message = refused
            .err()
            .unwrap_or_else(|| panic!("{} adopted", path.display()));
        assert!(message.contains(reason), "{}: {message}", path.display());
        assert_eq!(
            std::fs::read(path).unwrap(),
            before,
            "{} changed",
            path.display()
        );
    }
    // A marked ledger opens; an empty file opens with --init and becomes one.
    let options = skypay_local::Options {
        init: true,
        ..skypay_local::Options::default()
    };
    let server = LocalServer::try_start_with_file(&empty, options)
        .await
        .expect("--init");
    let (status, _) = server.post("/admin/payouts", &pickup(&number(2))).await;
    assert_eq!(status, 201);
    server.stop().await;
    let again = LocalServer::start_with_file(&empty).await;
    assert_eq!(
        again.get(&format!("/admin/payouts/{}", number(2))).await.0,
        200
    );
    again.stop().await;
}

/// Finding 3: idle and slow connections were never closed, and 20,000 of them took every
/// descriptor. Now a slow header and an idle connection are closed within their timeouts, a
/// connection past the cap is closed at once, and a normal client keeps getting its answers.
#[tokio::test]
async fn slow_and_idle_clients_are_closed_while_others_are_served() {
    let limits = skypay_local::Limits {
        max_connections: 8,
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        body_timeout: Duration::from_secs(1),
        shutdown_timeout: Duration::from_secs(1),
    };
    let server = LocalServer::start_with_limits(limits).await;
    let addr = server.addr();
    // A slowloris: half a header, then nothing.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /payoutPayout HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // An idle connection that never sends a byte.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    // Meanwhile a normal client is served.
    let cn = number(3);
    let (status, _) = server.post("/admin/payouts", &pickup(&cn)).await;
    assert_eq!(status, 201);
    assert_eq!(
        server
            .skypay("payoutPayout", &payout_payout(&cn, json!({})))
            .await,
        "1000"
    );
    for (name, stream) in [("slow header", &mut slow), ("idle", &mut idle)] {
        let mut buf = [0u8; 1024];
        let read = tokio::time::timeout(LIVENESS, stream.read(&mut buf)).await;
        let closed = match read {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            // hyper may answer a timed-out header with a 408 before it closes.
            Ok(Ok(n)) => std::str::from_utf8(&buf[..n]).unwrap_or("").contains("408"),
            Err(_) => false,
        };
        assert!(closed, "the {name} connection was not closed");
    }
    // Past the cap: more connections than allowed are held; the server still answers once
    // they are closed, and those past the cap were closed at once.
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(LIVENESS, extra.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "past the cap: {read:?}"
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.get("/healthz").await.0, 200);
    server.stop().await;
}

/// Finding 4: bodies up to 10 MiB were read into memory before the 64 KiB check. Now a larger
/// declared Content-Length is refused before a byte of it is read, a streamed body is stopped
/// at 64 KiB, a body that stalls is cut off, and broken chunked framing is refused: every one
/// still gets SPEC 2's HTTP 200 and 2001 envelope.
#[tokio::test]
async fn oversized_stalled_and_broken_bodies_get_the_2001_envelope() {
    let limits = skypay_local::Limits {
        body_timeout: Duration::from_secs(1),
        ..skypay_local::Limits::default()
    };
    let server = LocalServer::start_with_limits(limits).await;
    let addr = server.addr();
    let head = |extra: &str| {
        format!("POST /payoutPayout HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n")
    };
    let rows: [(&str, Vec<u8>); 4] = [
        (
            "10 MiB declared, nothing sent",
            head("Content-Length: 10485760\r\n").into_bytes(),
        ),
        ("half a body, then nothing", {
            let mut r = head("Content-Length: 100\r\n").into_bytes();
            r.extend_from_slice(br#"{"userName":"#);
            r
        }),
        ("a streamed body past 64 KiB", {
            let mut r = head("Transfer-Encoding: chunked\r\n").into_bytes();
            for _ in 0..80 {
                r.extend_from_slice(format!("400\r\n{}\r\n", "x".repeat(1024)).as_bytes());
            }
            r
        }),
        (
            "broken chunked framing",
            [
                head("Transfer-Encoding: chunked\r\n").into_bytes(),
                b"zz\r\nnot a chunk\r\n0\r\n\r\n".to_vec(),
            ]
            .concat(),
        ),
    ];
    for (situation, request) in rows {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // The server may answer and close before all of it is written.
        let _ = stream.write_all(&request).await;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(LIVENESS, async {
            let mut buf = [0u8; 4096];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        answer.extend_from_slice(&buf[..n]);
                        if answer.windows(4).any(|w| w == b"\"}\r\n") || answer.ends_with(b"}") {
                            break;
                        }
                    }
                }
            }
        })
        .await;
        assert!(read.is_ok(), "{situation}: no answer");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 200"), "{situation}: {text}");
        assert!(
            text.contains(r#""responseCode":"2001""#),
            "{situation}: {text}"
        );
    }
    // /admin refuses a large body with 413, before reading it.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /admin/payouts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 10485760\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(LIVENESS, stream.read(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    server.stop().await;
}

/// Finding 5: SIGTERM waited for ever on a client holding a half-sent header. Now the process
/// stops within its shutdown timeout (5 s by default), answering what was in flight.
#[tokio::test]
async fn sigterm_with_a_half_sent_header_exits() {
    let mut server = Process::start(&["--memory"], None).expect("started");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", server.port).parse().unwrap();
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"POST /payoutPayout HTTP/1.1\r\nHost: x\r\nContent-")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.terminate();
    let status = server
        .wait_at_most(LIVENESS)
        .expect("skypay-local exited after SIGTERM");
    assert!(status.success(), "{status}");
}

/// Finding 6: two servers on one data file both started. Now the second is refused, clearly,
/// and the first goes on; once it stops, the file can be opened again.
#[tokio::test]
async fn a_second_server_on_the_same_file_is_refused() {
    let scratch = Scratch::new("lock");
    let data = scratch.path("ledger.db");
    let first = LocalServer::start_with_file(&data).await;
    let second = LocalServer::try_start_with_file(&data, skypay_local::Options::default()).await;
    let message = second.err().expect("the second server was refused");
    assert!(
        message.contains("in use by another skypay-local"),
        "{message}"
    );
    // As a process too.
    let refused = Process::start(&["--data", &arg(&data)], None)
        .err()
        .expect("refused");
    assert!(
        refused.contains("in use by another skypay-local"),
        "{refused}"
    );
    assert_eq!(first.get("/healthz").await.0, 200);
    first.stop().await;
    let again = LocalServer::start_with_file(&data).await;
    again.stop().await;
}

/// Finding 7: `/healthz` stayed 200 while every write failed. Here the disk fills up for
/// real (the process may write files of at most 2 MiB: `ulimit -f`), until writes fail; then
/// SkyPay's calls answer -1009 and `/healthz` says the ledger cannot be written.
#[tokio::test]
async fn healthz_turns_unhealthy_when_writes_fail() {
    let scratch = Scratch::new("full");
    let data = scratch.path("ledger.db");
    let server = Process::start(
        &["--data", &arg(&data)],
        Some("ulimit -f 2048; trap '' XFSZ"),
    )
    .expect("started");
    let http = reqwest::Client::new();
    let health = |http: reqwest::Client, base: String| async move {
        let response = http.get(format!("{base}/healthz")).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
        )
    };
    assert_eq!(health(http.clone(), server.base.clone()).await.0, 200);
    // Register payouts (with long names: the log fills faster) until the ledger refuses one.
    let mut failed_at = None;
    for i in 0..20_000u64 {
        let mut instruction = pickup(&number(10_000 + i));
        instruction["location"] = json!("L".repeat(450));
        let (status, _) = post(
            &http,
            format!("{}/admin/payouts", server.base),
            &instruction,
        )
        .await;
        if status == 503 {
            failed_at = Some(i);
            break;
        }
        assert_eq!(status, 201, "registration {i}");
    }
    let failed_at = failed_at.expect("the ledger never filled up");
    assert!(failed_at > 0, "the very first write failed");
    let (status, reply) = post(
        &http,
        format!("{}/payoutPayout", server.base),
        &payout_payout(&number(10_000), json!({})),
    )
    .await;
    assert_eq!(
        (status, reply["responseCode"].as_str()),
        (200, Some("-1009")),
        "{reply}"
    );
    let (status, body) = health(http.clone(), server.base.clone()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["ledger"], "not writable");
    drop(server);
}

/// Finding 9: a contract with 20,000 receipts was read whole on every GET. Now receipts and a
/// payout's events come a page at a time, each exactly once across the pages.
#[tokio::test]
async fn admin_reads_are_paginated() {
    let s = LocalServer::start(&[]).await;
    let contract = number(500);
    s.post(
        "/admin/contracts",
        &json!({"contractNumber": contract, "amountDue": "100000"}),
    )
    .await;
    for i in 0..250 {
        let body = collection_collect(&contract, &format!("R-{i:03}"), "1.00", json!({}));
        assert_eq!(s.skypay("collectionCollect", &body).await, "1000");
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => format!("/admin/contracts/{contract}?limit=100"),
            Some(c) => format!("/admin/contracts/{contract}?limit=100&cursor={c}"),
        };
        let (status, page) = s.get(&path).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        assert_eq!(page["receiptCount"], 250);
        assert_eq!(page["collectedTotal"], "250.00");
        for receipt in page["receipts"].as_array().unwrap() {
            seen.push(receipt["receiptNumber"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages <= 5, "the pages never end");
    }
    assert_eq!(pages, 3);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 250, "every receipt exactly once");

    // A payout's events too.
    let cn = number(501);
    s.post(
        "/admin/payouts",
        &json!({"controlNumber": cn, "name": "Cruz,Juan", "phone": "09171234567",
        "amount": "5", "withdrawChannel": 6, "accountNo": "09171234567"}),
    )
    .await;
    for minute in 0..7 {
        let event = payout_queue_payout(&cn, 6, &format!("2024-01-01 00:0{minute}:00"), json!({}));
        assert_eq!(s.skypay("payoutQueuePayout", &event).await, "1000");
    }
    let (_, first) = s.get(&format!("/admin/payouts/{cn}?limit=5")).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 5);
    let next = first["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (_, second) = s
        .get(&format!("/admin/payouts/{cn}?limit=5&cursor={next}"))
        .await;
    assert_eq!(second["events"].as_array().unwrap().len(), 2);
    assert!(second.get("nextCursor").is_none(), "{second}");
    // A cursor this server never gave is still a read inside the contract's receipts (a
    // schemathesis finding: a NUL cursor was a 503).
    for odd in ["?cursor=00", "?cursor=41", "?cursor="] {
        let (status, page) = s.get(&format!("/admin/contracts/{contract}{odd}")).await;
        assert_eq!(status, 200, "{odd}: {page}");
    }
    for bad in [
        "?limit=0",
        "?limit=1001",
        "?limit=x",
        "?cursor=zz",
        "?cursor=ffff",
        "?limit=1&limit=2",
    ] {
        let (status, _) = s.get(&format!("/admin/contracts/{contract}{bad}")).await;
        assert_eq!(status, 400, "{bad}");
    }
    s.stop().await;
}

/// Finding 10: a copy of `ledger.db` alone, taken while the server ran, lost acknowledged
/// payments (the rest was in the write-ahead log). Now `skypay-local backup` takes a
/// consistent copy while the server runs, and `restore` puts it back: every payout that was
/// acknowledged PAID is still PAID, and paying it again is -1026. The backup's folder is made
/// when missing (as the README's `backups/ledger-DATE.db` on a fresh clone); a restore of a file
/// that is not there says so; a second server through a symbolic link to the same file is
/// refused like one on the same path.
#[tokio::test]
async fn backup_then_restore_keeps_every_acknowledged_payout() {
    let scratch = Scratch::new("backup");
    let data = scratch.path("ledger.db");
    let copy = scratch.path("backups/backup.db");
    let server = Process::start(&["--data", &arg(&data)], None).expect("started");
    let http = reqwest::Client::new();
    let numbers: Vec<String> = (0..60).map(|i| number(20_000 + i)).collect();
    for cn in &numbers {
        let (status, _) = post(&http, format!("{}/admin/payouts", server.base), &pickup(cn)).await;
        assert_eq!(status, 201);
        let (_, reply) = post(
            &http,
            format!("{}/payoutPayout", server.base),
            &payout_payout(cn, json!({})),
        )
        .await;
        assert_eq!(reply["responseCode"], "1000");
    }
    let link = scratch.path("link.db");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let second = Process::start(&["--data", &arg(&link)], None)
        .err()
        .expect("a second server on the same ledger is refused");
    assert!(second.contains("in use"), "{second}");
    // While the server runs.
    let (ok, output) = run(&["backup", &arg(&copy), "--data", &arg(&data)]);
    assert!(ok, "{output}");
    let (ok, output) = run(&["backup", &arg(&copy), "--data", &arg(&data)]);
    assert!(!ok && output.contains("never overwrites"), "{output}");
    // A restore while the server holds the ledger is refused.
    let (ok, output) = run(&["restore", &arg(&copy), "--data", &arg(&data)]);
    assert!(!ok && output.contains("in use"), "{output}");
    assert!(server.stop().success());
    // The ledger is lost (truncated), and refused as it is.
    std::fs::write(&data, b"").unwrap();
    let refused = Process::start(&["--data", &arg(&data)], None)
        .err()
        .expect("refused");
    assert!(refused.contains("is empty"), "{refused}");
    let (ok, output) = run(&["restore", &arg(&copy), "--data", &arg(&data)]);
    assert!(ok, "{output}");
    // No such file: refused, and said so.
    let (ok, output) = run(&[
        "restore",
        &arg(&scratch.path("nothing.db")),
        "--data",
        &arg(&data),
    ]);
    assert!(!ok && output.contains("no such file"), "{output}");
    let server = Process::start(&["--data", &arg(&data)], None).expect("started");
    for cn in &numbers {
        let text = http
            .get(format!("{}/admin/payouts/{cn}", server.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let status: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(status["status"], "PAID", "{cn}");
        let (_, reply) = post(
            &http,
            format!("{}/payoutPayout", server.base),
            &payout_payout(cn, json!({})),
        )
        .await;
        assert_eq!(reply["responseCode"], "-1026", "{cn}");
    }
    assert!(server.stop().success());
}

/// A payout instruction as a web page would send it.
const CSRF_BODY: &str = r#"{"controlNumber":"SKY0100000666","name":"Cruz,Juan","phone":"09171234567","amount":"3400.00","withdrawChannel":1}"#;

/// SPEC 14.6: any web page the developer opens could POST to skypay-local (a `text/plain` form
/// post needs no preflight) and a DNS-rebinding one could even use a foreign `Host`. Before,
/// such a POST registered a payout and pushed it. Now: 415 without `application/json`, 403 for a
/// foreign `Origin` or a `Host` that is not this machine, and nothing is registered.
#[tokio::test]
async fn admin_refuses_cross_site_and_foreign_host_requests() {
    let s = support::local::LocalServer::start(&[]).await;
    let url = format!("{}/admin/payouts", s.base);
    let own_origin = format!("http://127.0.0.1:{}", s.addr().port());
    // (content type, Origin, Host, status)
    let rows: [(&str, Option<&str>, Option<&str>, u16); 6] = [
        (
            "text/plain",
            Some("http://evil.example"),
            Some("evil.example"),
            403,
        ),
        ("text/plain", None, None, 415),
        ("application/x-www-form-urlencoded", None, None, 415),
        ("application/json", Some("http://evil.example"), None, 403),
        ("application/json", Some("null"), None, 403),
        (
            "application/json",
            None,
            Some("rebound.evil.example:3000"),
            403,
        ),
    ];
    for (content_type, origin, host, status) in rows {
        let mut request = s
            .http
            .post(&url)
            .header("content-type", content_type)
            .body(CSRF_BODY);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(host) = host {
            request = request.header("host", host);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            status,
            "{content_type} {origin:?} {host:?}"
        );
        let body: serde_json::Value =
            serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
    let (status, _) = s.get("/admin/payouts/SKY0100000666").await;
    assert_eq!(status, 404, "nothing was registered");
    // A foreign origin cannot read either.
    let response = s
        .http
        .get(format!("{}/admin/payouts/SKY0100000666", s.base))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    // The server's own origin and JSON: registered.
    let response = s
        .http
        .post(&url)
        .header("content-type", "application/json; charset=utf-8")
        .header("origin", own_origin)
        .body(CSRF_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    // SkyPay's routes are not /admin: any content type, as SkyPay sends it.
    let inquiry = payout_inquiry("SKY0100000666", serde_json::json!({})).to_string();
    let response = s
        .http
        .post(format!("{}/payoutInquiry", s.base))
        .header("content-type", "text/plain")
        .body(inquiry)
        .send()
        .await
        .unwrap();
    let envelope: serde_json::Value =
        serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(envelope["responseCode"], "1000");
}

/// SPEC 14.6: `--listen` beyond loopback is refused unless `--allow-remote`, and then `/admin`
/// needs the bearer token; the built-in sample key is refused when SkyPay is not on loopback.
#[tokio::test]
async fn admin_beyond_this_machine_needs_allow_remote_and_a_token() {
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let refused = skypay_local::start(
            listen.parse().unwrap(),
            skypay_local::Store::Memory,
            config_with(&[]),
            skypay_local::Options::default(),
        )
        .await;
        let Err(message) = refused else {
            panic!("{listen} was served");
        };
        assert!(message.contains("--allow-remote"), "{message}");
    }
    let token = "a-long-enough-admin-token";
    let s = support::local::LocalServer::start_with_access(skypay_local::AdminAccess::Remote {
        token: skypay::protocol::mask::Private(token.to_owned()),
    })
    .await;
    let url = format!("{}/admin/payouts", s.base);
    for (authorization, status) in [
        (None, 401),
        (Some("Bearer wrong"), 401),
        (Some(format!("Bearer {token}").as_str()), 201),
    ] {
        let mut request = s
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("host", "devbox.lan:3000")
            .body(CSRF_BODY);
        if let Some(a) = authorization {
            request = request.header("authorization", a);
        }
        assert_eq!(
            request.send().await.unwrap().status().as_u16(),
            status,
            "{authorization:?}"
        );
    }

    // skypay-local's own defaults (the built-in sample key), SkyPay beyond loopback.
    let source = |name: &str| match name {
        "SKYPAY_API_URL" => Some("https://api.skypay.example/api/partner".to_owned()),
        "SKYPAY_SENDER" => Some("Lender App".to_owned()),
        _ => None,
    };
    let config = skypay::Config::load(
        &source as &dyn skypay::config::Source,
        skypay::config::Defaults::Local,
    )
    .unwrap();
    assert!(config.auth_keys_are_builtin_default);
    let refused = skypay_local::start(
        "127.0.0.1:0".parse().unwrap(),
        skypay_local::Store::Memory,
        config,
        skypay_local::Options::default(),
    )
    .await;
    let Err(message) = refused else {
        panic!("the sample key was sent to a SkyPay beyond loopback");
    };
    assert!(message.contains("SKYPAY_AUTH_KEYS"), "{message}");
}
