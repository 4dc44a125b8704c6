//! Test support: a real DynamoDB API for every test, and helpers that speak SkyPay's protocol.
//!
//! By default each test gets its own embedded dynoxide (in memory, served over HTTP on an
//! ephemeral loopback port) and talks to it through the production `aws-sdk-dynamodb` code.
//! With `SKYPAY_TEST_DYNAMODB_ENDPOINT` set (moto_server in CI), every test uses that server
//! instead, with a table of its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fake_eventbridge;
pub mod local;
pub mod proxy;
pub mod streams;

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use skypay::config::{Defaults, Source};
use skypay::ledger::{NewPayout, PayoutStatus, WriteContext};
use skypay::rules::{Amount, ControlNumber, PayoutChannel, Prefix};
use skypay::wire::Envelope;
use skypay::{Action, Call, Config, Gateway, Ledger};
use tokio::sync::oneshot;

/// SkyPay's sample credentials, as the seeds print them.
pub const USER: &str = "AppName@skypay";
pub const KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";
/// A second live key, as during a rotation.
pub const NEW_KEY: &str = "9F1B7C2E-0D44-4E51-A7B3-2C6E1D0F8A99";
pub const PREFIX: &str = "SKY01";

/// An embedded dynoxide serving the DynamoDB API on loopback until dropped.
pub struct Dynoxide {
    pub endpoint: String,
    /// The emulator itself, for what only it can tell (its stream records).
    pub db: dynoxide::Database,
    stop: Option<oneshot::Sender<()>>,
}

impl Dynoxide {
    pub async fn start() -> Dynoxide {
        let db = dynoxide::Database::memory().expect("in-memory dynoxide");
        Dynoxide::serve(db).await
    }

    pub async fn serve(db: dynoxide::Database) -> Dynoxide {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(dynoxide::server::serve_with_shutdown(
            listener,
            db.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        Dynoxide {
            endpoint,
            db,
            stop: Some(stop),
        }
    }
}

/// Serves `app` on `listener` in the background until the returned sender is used or dropped.
pub(crate) fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    stop
}

/// An external server keeps every table it is given: each test's table is deleted when the
/// test ends, so a long run does not grow the server without bound.
impl Drop for Backend {
    fn drop(&mut self) {
        if self._embedded.is_some() {
            return;
        }
        let endpoint = self.endpoint.clone();
        let table = self.table.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let client = skypay::dynamo::client_for_endpoint(&endpoint);
                let _ = client.delete_table().table_name(table).send().await;
            });
        })
        .join();
    }
}

impl Drop for Dynoxide {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Where this test's DynamoDB is.
pub struct Backend {
    pub endpoint: String,
    pub table: String,
    _embedded: Option<Dynoxide>,
}

static TABLES: AtomicU32 = AtomicU32::new(0);

/// True when the tests run against an external DynamoDB API (moto_server in CI).
pub fn external_backend() -> bool {
    std::env::var("SKYPAY_TEST_DYNAMODB_ENDPOINT").is_ok_and(|e| !e.is_empty())
}

pub const PATIENT: skypay::dynamo::Timeouts = skypay::dynamo::Timeouts {
    connect: std::time::Duration::from_secs(10),
    attempt: std::time::Duration::from_secs(60),
    operation: std::time::Duration::from_secs(120),
};

impl Backend {
    pub async fn start() -> Backend {
        capture_logs();
        match std::env::var("SKYPAY_TEST_DYNAMODB_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => {
                let n = TABLES.fetch_add(1, Ordering::Relaxed);
                Backend {
                    endpoint,
                    table: format!(
                        "t{}-{}-{n}",
                        std::process::id(),
                        skypay::ledger::random_token()
                    ),
                    _embedded: None,
                }
            }
            _ => {
                let embedded = Dynoxide::start().await;
                Backend {
                    endpoint: embedded.endpoint.clone(),
                    table: "skypay-ledger".to_owned(),
                    _embedded: Some(embedded),
                }
            }
        }
    }

    /// The ledger as the tests use it: production code, with time limits patient enough for an
    /// emulator under 256 concurrent calls on a loaded 2-core machine (a test must not depend
    /// on machine speed). The fault tests use the production limits.
    pub async fn ledger(&self) -> Ledger {
        self.ledger_with(skypay::ledger::schema::Stream::Off).await
    }

    /// The ledger on a table with (or without) a stream, as template.yaml declares it.
    pub async fn ledger_with(&self, stream: skypay::ledger::schema::Stream) -> Ledger {
        let client = skypay::dynamo::client_for_endpoint_with(&self.endpoint, PATIENT);
        let ledger = Ledger::new(client, self.table.as_str());
        ledger.ensure_table(stream).await.expect("table created");
        ledger
    }

    /// The embedded emulator, when this backend is one (not moto).
    pub fn embedded(&self) -> Option<&Dynoxide> {
        self._embedded.as_ref()
    }
}

/// With `SKYPAY_TEST_LOG_FILE` set, every log line of the whole suite is written there as
/// the functions write it (`skypay::telemetry`'s JSON lines), so CI can check that no key and no full phone number ever reached a log. Without it
/// the lines go nowhere, but a global subscriber at INFO is installed all the same: tracing's
/// global level hint then never filters INFO out, which a test that captures its own lines
/// (`logs.rs`, with a scoped subscriber) relies on when other tests run beside it.
pub fn capture_logs() {
    use std::sync::OnceLock;
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let file = std::env::var_os("SKYPAY_TEST_LOG_FILE").and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        });
        let writer: Box<dyn std::io::Write + Send> = match file {
            Some(file) => Box::new(file),
            None => Box::new(std::io::sink()),
        };
        use tracing_subscriber::prelude::*;
        let _ = tracing_subscriber::registry()
            .with(skypay::telemetry::layer(std::sync::Mutex::new(writer)))
            .with(tracing_subscriber::filter::LevelFilter::INFO)
            .try_init();
    });
}

/// Log lines captured as the functions write them (`skypay::telemetry`'s JSON lines), for a
/// test that reads its own lines.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Captures this thread's lines (at INFO) until the guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        use tracing_subscriber::prelude::*;
        let subscriber = tracing_subscriber::registry()
            .with(skypay::telemetry::layer(self.clone()))
            .with(tracing_subscriber::filter::LevelFilter::INFO);
        tracing::subscriber::set_default(subscriber)
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Every line, parsed (each must be one JSON object).
    pub fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.bytes())
            .expect("UTF-8 lines")
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("every line is JSON"))
            .collect()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// A line CloudWatch turns into metrics: `_aws` names the namespace, the dimension sets and the
/// metrics; every dimension named is a string member of the line, every metric a number member,
/// and the timestamp is epoch milliseconds.
pub fn assert_valid_emf(line: &Value) {
    let aws = &line["_aws"];
    assert!(aws["Timestamp"].is_i64(), "{line}");
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics");
    assert_eq!(directives.len(), 1, "{line}");
    let directive = &directives[0];
    assert_eq!(directive["Namespace"], "SkyPayGateway");
    let sets = directive["Dimensions"].as_array().expect("Dimensions");
    assert!(!sets.is_empty());
    for set in sets {
        for dimension in set.as_array().expect("a dimension set") {
            let name = dimension.as_str().expect("a dimension name");
            assert!(
                line[name].is_string(),
                "dimension {name} is not a member: {line}"
            );
        }
    }
    let metrics = directive["Metrics"].as_array().expect("Metrics");
    assert!(!metrics.is_empty());
    for metric in metrics {
        let name = metric["Name"].as_str().expect("a metric name");
        assert!(
            line[name].is_number(),
            "metric {name} is not a number: {line}"
        );
        assert!(
            ["Count", "Microseconds", "Milliseconds", "None"]
                .contains(&metric["Unit"].as_str().unwrap()),
            "{metric}"
        );
    }
}

/// The configuration the tests run with: the seed's user, two live keys, prefix SKY01.
pub fn config_with(extra: &[(&str, &str)]) -> Config {
    let mut vars: Vec<(String, String)> = vec![
        ("TABLE_NAME".into(), "skypay-ledger".into()),
        ("SKYPAY_USERNAME".into(), USER.into()),
        ("SKYPAY_AUTH_KEYS".into(), format!("{KEY},{NEW_KEY}")),
        ("CONTROL_NUMBER_PREFIX".into(), PREFIX.into()),
    ];
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        vars.push(((*k).to_owned(), (*v).to_owned()));
    }
    let source = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    Config::load(&source as &dyn Source, Defaults::None).expect("test configuration")
}

/// A gateway on its own DynamoDB.
pub struct TestGateway {
    pub gateway: Gateway,
    pub backend: Backend,
}

impl TestGateway {
    pub async fn start() -> TestGateway {
        TestGateway::start_with(&[]).await
    }

    pub async fn start_with(extra: &[(&str, &str)]) -> TestGateway {
        TestGateway::start_on(extra, skypay::ledger::schema::Stream::Off).await
    }

    /// On a table with a stream (the ledger-events tests read it).
    pub async fn start_with_stream() -> TestGateway {
        TestGateway::start_on(&[], skypay::ledger::schema::Stream::On).await
    }

    async fn start_on(
        extra: &[(&str, &str)],
        stream: skypay::ledger::schema::Stream,
    ) -> TestGateway {
        let backend = Backend::start().await;
        let ledger = backend.ledger_with(stream).await;
        let mut config = config_with(extra);
        config.table_name = backend.table.clone();
        TestGateway {
            gateway: Gateway::new(config, ledger),
            backend,
        }
    }

    pub fn ledger(&self) -> &Ledger {
        self.gateway.ledger()
    }

    /// Calls `action` with a raw body; returns the parsed envelope.
    pub async fn call_raw(&self, action: Action, body: &[u8]) -> Envelope {
        let reply = self
            .gateway
            .handle(
                action,
                Call {
                    body,
                    source_ip: Some("203.0.113.10".parse().unwrap()),
                    request_id: "test-request",
                },
            )
            .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.content_type, "application/json");
        parse_envelope(&reply.body)
    }

    pub async fn call(&self, action: Action, body: &Value) -> Envelope {
        self.call_raw(action, body.to_string().as_bytes()).await
    }

    /// Calls `action`; returns the envelope and the members after it (an inquiry's details).
    pub async fn call_reply(
        &self,
        action: Action,
        body: &Value,
    ) -> (Envelope, Vec<(String, String)>) {
        let reply = self.handle(action, body.to_string().as_bytes()).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.content_type, "application/json");
        parse_reply(&reply.body)
    }

    /// The gateway's raw reply.
    pub async fn handle(&self, action: Action, body: &[u8]) -> skypay::Reply {
        self.gateway
            .handle(
                action,
                Call {
                    body,
                    source_ip: Some("203.0.113.10".parse().unwrap()),
                    request_id: "test-request",
                },
            )
            .await
    }

    /// Every item of the table, as text: to prove a call wrote nothing.
    pub async fn snapshot(&self) -> Vec<String> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .ledger()
                .client()
                .scan()
                .table_name(self.ledger().table())
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            for item in page.items() {
                let mut fields: Vec<String> =
                    item.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                fields.sort();
                items.push(fields.join(","));
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        items.sort();
        items
    }

    /// Registers a payout the way payout-queue would, directly in the ledger.
    pub async fn register_payout(&self, spec: PayoutSpec) {
        let prefix = Prefix::new(PREFIX).unwrap();
        let control_number = ControlNumber::parse(&spec.control_number, &prefix).unwrap();
        let payout = NewPayout {
            control_number,
            amount: Amount::parse(&spec.amount).unwrap(),
            channel: PayoutChannel::from_code(spec.channel).unwrap(),
            expires_at: Utc::now() + spec.expires_in,
            instruction: skypay::mask::Private(
                json!({"controlNumber": spec.control_number}).to_string(),
            ),
            status: spec.status,
            lease_seconds: None,
        };
        let outcome = self
            .ledger()
            .create_payout(&payout, &WriteContext::new("setup"))
            .await
            .expect("payout registered");
        assert!(matches!(outcome, skypay::ledger::CreateOutcome::Created));
    }

    /// Registers a payout from an instruction, as payout-queue and `POST /admin/payouts` do
    /// (no SkyPay address: a pushed channel is marked QUEUED without a push).
    pub async fn register_instruction(&self, instruction: &Value) {
        let queue = skypay::actions::payout_queue::PayoutQueue::new(
            self.gateway.config().clone(),
            self.ledger().clone(),
        )
        .unwrap();
        let submitted = queue
            .submit(
                instruction.to_string().as_bytes(),
                skypay::ledger::PushPolicy::LoanSystem,
                "setup",
            )
            .await
            .expect("instruction registered");
        assert!(
            matches!(
                submitted,
                skypay::actions::payout_queue::Submitted::Created(_)
            ),
            "{submitted:?}"
        );
    }

    /// Registers a contract, directly in the ledger.
    pub async fn register_contract(&self, contract_number: &str, amount_due: &str) {
        self.register_contract_with(contract_number, amount_due, None)
            .await;
    }

    /// Registers a contract with its payer (name, address, phone).
    pub async fn register_contract_with(
        &self,
        contract_number: &str,
        amount_due: &str,
        payer: Option<(&str, &str, &str)>,
    ) {
        let prefix = Prefix::new(PREFIX).unwrap();
        let registration = skypay::ledger::ContractRegistration {
            contract_number: ControlNumber::parse(contract_number, &prefix).unwrap(),
            amount_due: Amount::parse(amount_due).unwrap(),
            name: payer.map(|p| p.0.to_owned().into()),
            address: skypay::mask::Private(payer.map(|p| p.1.to_owned())),
            phone: payer.map(|p| p.2.to_owned().into()),
        };
        self.ledger()
            .register_contract(&registration, &WriteContext::new("setup"))
            .await
            .expect("contract registered");
    }
}

/// A payout to register.
pub struct PayoutSpec {
    pub control_number: String,
    pub amount: String,
    pub channel: u32,
    pub status: PayoutStatus,
    pub expires_in: Duration,
}

impl PayoutSpec {
    /// A shop pickup on M Lhuillier, QUEUED, valid for a week.
    pub fn pickup(control_number: &str) -> PayoutSpec {
        PayoutSpec {
            control_number: control_number.to_owned(),
            amount: "3400.00".to_owned(),
            channel: 1,
            status: PayoutStatus::Queued,
            expires_in: Duration::hours(168),
        }
    }

    /// A GCash payout, as registered before its push (PENDING).
    pub fn pushed(control_number: &str) -> PayoutSpec {
        PayoutSpec {
            channel: 6,
            status: PayoutStatus::Pending,
            ..PayoutSpec::pickup(control_number)
        }
    }
}

/// A reply with the members an accepted call adds (SPEC 13.2, 13.3): the envelope's three first,
/// in the sample's order, then the extra members in order, every value a string.
pub fn parse_reply(body: &str) -> (Envelope, Vec<(String, String)>) {
    let Ordered(members) =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not a JSON object ({e}): {body}"));
    let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names.get(..3),
        Some(&["responseTime", "responseCode", "responseDescription"][..]),
        "{body}"
    );
    let envelope: Envelope = serde_json::from_str(body).unwrap();
    let extra = members
        .into_iter()
        .skip(3)
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => panic!("{k} is not a string but {other}: {body}"),
        })
        .collect();
    (envelope, extra)
}

/// A JSON object's members in the order they were written (serde_json's map sorts them).
struct Ordered(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    members.push(entry);
                }
                Ok(Ordered(members))
            }
        }
        d.deserialize_map(Members)
    }
}

pub fn parse_envelope(body: &str) -> Envelope {
    let envelope: Envelope =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not an envelope ({e}): {body}"));
    // Exactly the three members, in the sample's order.
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(body)
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 3, "{body}");
    assert!(
        body.starts_with(r#"{"responseTime":""#) && body.contains(r#"","responseCode":""#),
        "members out of order: {body}"
    );
    envelope
}

/// A payoutPayout body with the seed's field values and the given overrides (a `null`
/// override removes the field).
pub fn payout_payout(control_number: &str, overrides: Value) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "payoutPayout",
            "authentication": KEY,
            "controlNumber": control_number,
            "withdrawChannel": "1",
            "payTime": "2019-02-18 14:59:33",
        }),
        overrides,
    )
}

/// A payoutInquiry body (SPEC 13.2).
pub fn payout_inquiry(control_number: &str, overrides: Value) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "payoutInquiry",
            "authentication": KEY,
            "controlNumber": control_number,
        }),
        overrides,
    )
}

/// A collectionInquiry body (SPEC 13.3), spelled as the SPEC spells the action.
pub fn collection_inquiry(contract_number: &str, amount: &str, overrides: Value) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "collectionInquiry",
            "authentication": KEY,
            "contractNumber": contract_number,
            "amount": amount,
            "phone": "09270348095",
        }),
        overrides,
    )
}

/// A financeNotification body with SkyPay's sample values (SPEC 13.4).
pub fn finance_notification(reference_number: &str, overrides: Value) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "financeNotification",
            "authentication": KEY,
            "transctionDate": "2023-06-18 17:52:10",
            "companyPrefix": "SKY98",
            "companyName": "SKYPAY",
            "accountNo": "091234567899",
            "sourceAccountNo": "",
            "beneficiaryAccountNo": "001234567899",
            "statementType": "1",
            "signType": "recharge",
            "amount": 12_000_000,
            "currency": "PHP",
            "referenceNumber": reference_number,
        }),
        overrides,
    )
}

pub fn collection_collect(
    contract_number: &str,
    receipt: &str,
    amount: &str,
    overrides: Value,
) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "collectionCollect",
            "authentication": KEY,
            "contractNumber": contract_number,
            "amount": amount,
            "phone": "09270348095",
            "receiptNumber": receipt,
            "collectedTime": "2019-02-18 15:01:02",
            "payChannel": "10",
        }),
        overrides,
    )
}

pub fn payout_queue_payout(
    control_number: &str,
    pay_type: u32,
    deal_time: &str,
    overrides: Value,
) -> Value {
    with_overrides(
        json!({
            "userName": USER,
            "action": "payoutQueuePayout",
            "authentication": KEY,
            "controlNumber": control_number,
            "payType": pay_type.to_string(),
            "dealTime": deal_time,
        }),
        overrides,
    )
}

fn with_overrides(mut base: Value, overrides: Value) -> Value {
    if let (Some(map), Value::Object(changes)) = (base.as_object_mut(), overrides) {
        for (k, v) in changes {
            if v.is_null() {
                map.remove(&k);
            } else {
                map.insert(k, v);
            }
        }
    }
    base
}

/// An API Gateway HTTP API (payload 2.0) event carrying `body`, as API Gateway sends it.
pub fn api_gateway_event(route: &str, body: &str, base64: bool, source_ip: &str) -> String {
    use std::fmt::Write;
    let encoded = if base64 {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        body.to_owned()
    };
    let mut event = String::new();
    write!(
        event,
        "{}",
        json!({
            "version": "2.0",
            "routeKey": format!("POST /{route}"),
            "rawPath": format!("/{route}"),
            "rawQueryString": "",
            "headers": {"content-type": "application/json", "host": "api.example.com"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "skypayapi",
                "domainName": "api.example.com",
                "domainPrefix": "api",
                "http": {
                    "method": "POST",
                    "path": format!("/{route}"),
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": "SkyPay"
                },
                "requestId": "JKJaXmPLvHcESHA=",
                "routeKey": format!("POST /{route}"),
                "stage": "$default",
                "time": "18/Feb/2019:06:59:33 +0000",
                "timeEpoch": 1_550_473_173_000_i64
            },
            "body": encoded,
            "isBase64Encoded": base64
        })
    )
    .unwrap();
    event
}

/// A control number with our prefix and `n` as its digits.
pub fn number(n: u64) -> String {
    format!("{PREFIX}{n:010}")
}

/// A clock the test moves (reconciliation's limits are tested without sleeping): `sleep`
/// moves it forward and returns at once.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl ManualClock {
    pub fn at(now: chrono::DateTime<chrono::Utc>) -> std::sync::Arc<ManualClock> {
        std::sync::Arc::new(ManualClock(std::sync::Mutex::new(now)))
    }

    pub fn set(&self, now: chrono::DateTime<chrono::Utc>) {
        *self.0.lock().unwrap() = now;
    }

    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl skypay::time::Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }

    fn sleep(
        &self,
        duration: std::time::Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        let by = chrono::Duration::from_std(duration).unwrap();
        Box::pin(async move { self.advance(by) })
    }
}

/// skypay-sim on loopback, playing SkyPay for the partner `config_with(extra)` describes (its
/// user and keys, and its AES key when `SKYPAY_ENCRYPTION_KEY` is among `extra`). Accepted
/// payouts stay pending; nothing is called back.
pub async fn skypay_sim(extra: &[(&str, &str)]) -> skypay_sim::Sim {
    skypay_sim_with(extra, |c| c).await
}

/// The same, with the simulator's configuration changed by `tweak`.
pub async fn skypay_sim_with(
    extra: &[(&str, &str)],
    tweak: impl FnOnce(skypay_sim::SimConfig) -> skypay_sim::SimConfig,
) -> skypay_sim::Sim {
    let config = tweak(skypay_sim::SimConfig::new(config_with(extra)));
    skypay_sim::Sim::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("skypay-sim started")
}
