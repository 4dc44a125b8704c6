//! The gateway as a test drives it: the configuration, the ledger, registrations.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use skypay::config::{Defaults, Source};
use skypay::ledger::{NewPayout, PayoutStatus, WriteContext};
use skypay::protocol::rules::{Amount, ControlNumber, PayoutChannel, Prefix};
use skypay::protocol::wire::Envelope;
use skypay::{Action, Call, Config, Gateway, Ledger};

use crate::*;

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
        let reply = self.handle(action, body).await;
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
            instruction: skypay::protocol::mask::Private(
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
        let queue = skypay::outbound::push::PayoutQueue::new(
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
            matches!(submitted, skypay::outbound::push::Submitted::Created(_)),
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
            address: skypay::protocol::mask::Private(payer.map(|p| p.1.to_owned())),
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
