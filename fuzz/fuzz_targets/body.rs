//! Arbitrary bytes as a SkyPay request body, through the gateway's own pure pipeline
//! ([`skypay::Admission`]: decode with the AES layer, authenticate, `action`, each action's
//! field checks; then its reply), for every endpoint, and through each action's field step
//! ([`skypay::inbound::Request::parse`]) on the decoded body, so that bodies without the right
//! credentials still reach the field rules. Nothing here re-implements a step.
//!
//! Besides "never panics", it checks what the contract promises:
//! - a refusal before the ledger is one of the codes the endpoint documents
//!   (openapi/skypay.yaml);
//! - what a parser accepts satisfies the SPEC's field rules (section 3);
//! - the envelope is a JSON object starting with `responseTime`, `responseCode`,
//!   `responseDescription`, all strings, `responseTime` as `yyyy-MM-dd HH:mm:ss.ffff`;
//! - the encrypted reply decrypts to the same envelope, and an encrypted body is admitted
//!   exactly like the same body sent in clear (a body refusal: the same code, the one 2001
//!   text of the AES layer);
//! - a payout instruction's canonical form parses back to the same instruction;
//! - descriptions past authentication never contain the key;
//! - read as SkyPay's answers to our own calls (payoutQueryStatus, balanceQuery, the daily
//!   reports: payout-reconcile's readers), a body never panics, a status answer becomes at most
//!   the callback SPEC 13.6's table maps it to, a balance is an exact decimal, a report row has
//!   a number and an amount.

#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use skypay::config::{Defaults, Source};
use skypay::inbound::{Accepted, Admit, CallLog, Request};
use skypay::ledger::{EventEffect, EventSource};
use skypay::outbound::api;
use skypay::outbound::push::Instruction;
use skypay::outbound::reconcile::status;
use skypay::protocol::crypto::{self, Key, KeySlot};
use skypay::protocol::rules::{ControlNumber, Prefix};
use skypay::protocol::wire::{Fields, MAX_BODY_BYTES, Transport};
use skypay::{Action, Admission, Config, Rejection, ResponseCode};

/// The local defaults (SPEC section 9): what a call past authentication carries.
const PREFIX: &str = "SKY01";
const KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";
const ENCRYPTION_KEY: &str = "fuzz-encryption-key";
/// A fixed "now" (2026-01-01 00:00:00 UTC) for the instruction's expiry rule, so that every
/// finding reproduces.
const NOW_SECONDS: i64 = 1_767_225_600;
/// SkyPay's `responseDescription` column: 255 characters.
const MAX_DESCRIPTION_CHARS: usize = 255;

fn admission(mode: Option<&'static str>) -> Admission {
    let source = move |name: &str| match (name, mode) {
        ("SKYPAY_ENCRYPTION_KEY", Some(_)) => Some(ENCRYPTION_KEY.to_owned()),
        ("SKYPAY_ENCRYPTION", Some(mode)) => Some(mode.to_owned()),
        _ => None,
    };
    let config = Config::load(&source as &dyn Source, Defaults::Local).expect("the local config");
    Admission::new(config)
}

struct Setup {
    plain: Admission,
    auto: Admission,
    required: Admission,
    key: Key,
}

fn setup() -> &'static Setup {
    static SETUP: std::sync::OnceLock<Setup> = std::sync::OnceLock::new();
    SETUP.get_or_init(|| Setup {
        plain: admission(None),
        auto: admission(Some("auto")),
        required: admission(Some("required")),
        key: crypto::derive_key(ENCRYPTION_KEY.as_bytes()),
    })
}

fuzz_target!(|data: &[u8]| {
    let setup = setup();
    let now = DateTime::from_timestamp(NOW_SECONDS, 0).expect("a valid instant");
    let reply_time = reply_time(data);

    for action in Action::ALL {
        // The whole admit step, then the reply, as the gateway runs them.
        let mut log = CallLog::default();
        let admitted = setup.plain.admit(action, data, &mut log);
        assert_eq!(admitted.transport, Transport::Plain);
        let outcome = match &admitted.request {
            Ok(request) => {
                check_request(request);
                Ok(Accepted::plain("fuzzed"))
            }
            Err(rejection) => {
                check_refusal(action, rejection);
                Err(rejection.clone())
            }
        };
        check_reply(setup, action, &outcome, reply_time);

        // The AES layer: under `auto` a body that looks like an object is admitted exactly as
        // in clear; a body that begins with `{` is answered in clear even under `required`
        // (SPEC 14.7: its sender cannot read AES); anything else is answered encrypted; the
        // same body encrypted is admitted as the clear one.
        let auto = setup.auto.admit(action, data, &mut CallLog::default());
        let required = setup.required.admit(action, data, &mut CallLog::default());
        if looks_like_object(data) {
            assert_eq!(auto.request.is_ok(), admitted.request.is_ok());
            assert_eq!(auto.transport, Transport::Plain);
            assert_eq!(required.transport, Transport::Plain);
            assert!(required.request.is_err());
        } else {
            assert_eq!(auto.transport, Transport::Encrypted(KeySlot::First));
            assert_eq!(required.transport, Transport::Encrypted(KeySlot::First));
        }
        encrypted_body_is_admitted_like_plain(setup, action, data, &admitted.request);
    }

    // Each action's field step on the decoded body, whoever sent it.
    let Ok(fields) = Fields::decode(data, &skypay::protocol::crypto::Encryption::Off).0 else {
        return;
    };
    let config = setup.plain.config();
    for action in Action::ALL {
        let mut log = CallLog::default();
        let mut cx = Admit {
            config,
            log: &mut log,
        };
        match Request::parse(action, &fields, &mut cx) {
            Ok(request) => check_request(&request),
            Err(rejection) => check_refusal(action, &rejection),
        }
    }

    // A payout instruction (payout-queue and POST /admin/payouts): what it accepts follows the
    // SPEC, and its canonical form (what a re-post is compared with) parses back to itself.
    let prefix = Prefix::new(PREFIX).expect("the prefix is valid");
    match Instruction::parse(&fields, &prefix, now) {
        Ok(instruction) => {
            // SPEC 14.1: every accepted instruction names its control number.
            assert_number(instruction.control_number.as_str());
            if let Some(number) = &instruction.contract_number {
                assert_number(number.as_str());
            }
            assert_mobile(&instruction.phone);
            assert!(is_money(&instruction.amount.value().to_string()));
            assert!(matches!(instruction.channel.code(), 1 | 5 | 6 | 8 | 9 | 15));
            let canonical = instruction.canonical();
            let again = Fields::parse(&canonical).expect("the canonical form is one JSON object");
            let reparsed = Instruction::parse(&again, &prefix, now)
                .expect("the canonical form of a valid instruction is valid");
            assert!(reparsed == instruction, "{canonical}");
            assert_eq!(reparsed.canonical(), canonical);
        }
        Err(error) => {
            let (code, description) = Rejection::Field(error).response(Action::PayoutPayout);
            assert_eq!(code, ResponseCode::FieldInvalid);
            check_description(code, &description);
        }
    }

    check_skypay_answers(&fields);
});

/// The same body as SkyPay's answer to one of our calls (payout-reconcile's readers).
fn check_skypay_answers(fields: &Fields) {
    if let Ok(answers) = api::read_status_answer(fields) {
        for answer in &answers {
            assert!(!answer.control_number.is_empty());
            match (answer.status, status::event_of(answer)) {
                (_, None) => {}
                (Some(code), Some(event)) => {
                    let expected = match code {
                        1 => (EventEffect::Paid, "2"),
                        2 => (EventEffect::Uploaded, "1"),
                        3 => (EventEffect::Cancelled, "3"),
                        4 => (EventEffect::Failed, "4"),
                        other => panic!("status {other} became an event: {event:?}"),
                    };
                    assert_eq!(
                        (event.effect, event.pay_type.as_str()),
                        (Some(expected.0), expected.1)
                    );
                    assert_eq!(event.source, EventSource::Query);
                    assert_eq!(event.control_number, answer.control_number);
                    if code == 3 {
                        assert!(answer.cancel_time.as_deref().is_some_and(|t| !t.is_empty()));
                    }
                }
                (None, Some(event)) => panic!("no status, yet an event: {event:?}"),
            }
        }
    }
    if let Ok(balance) = api::read_balance(fields) {
        // Any exact decimal (0, negative, above an amount's maximum), written back plainly.
        let text = balance.to_string();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.'),
            "{text}"
        );
    }
    if let Ok(page) = api::read_report(fields) {
        for row in &page.rows {
            assert!(!row.control_no.is_empty());
            assert!(is_money(&row.amount.to_string()), "{}", row.amount);
        }
    }
}

/// What an admitted request holds satisfies the SPEC's field rules.
fn check_request(request: &Request) {
    match request {
        Request::PayoutPayout(call) => {
            assert_number(call.control_number.as_str());
            assert!((1..=99_999).contains(&call.payment.channel));
            assert_time(&call.payment.pay_time.text);
        }
        Request::PayoutInquiry(call) => assert_number(call.control_number.as_str()),
        Request::CollectionInquiry(call) => {
            assert_number(call.contract_number.as_str());
            assert!(
                is_money(&call.amount.value().to_string()),
                "{}",
                call.amount
            );
        }
        Request::CollectionCollect(call) => {
            let c = &call.collection;
            assert_number(c.contract_number.as_str());
            assert!(is_money(&c.amount.value().to_string()), "{}", c.amount);
            assert!((1..=50).contains(&c.receipt_number.chars().count()));
            assert!((1..=99_999).contains(&c.pay_channel));
            assert_time(&c.collected_time.text);
            assert!(!c.phone.is_empty());
            if let Some(phone) = &c.phone_normalised {
                assert_mobile(phone);
            }
        }
        Request::PayoutQueuePayout(call) => {
            // An event applies only when the number and payType are valid.
            let event = &call.event;
            let prefix = Prefix::new(PREFIX).expect("the prefix is valid");
            if let Some(effect) = event.effect {
                assert!(ControlNumber::parse(&event.control_number, &prefix).is_ok());
                let expected = match effect {
                    EventEffect::Uploaded => 1,
                    EventEffect::Paid => 2,
                    EventEffect::Cancelled => 3,
                    EventEffect::Failed => 4,
                    EventEffect::AmendedSuccess => 5,
                };
                assert_eq!(
                    skypay::protocol::rules::parse_integer(&event.pay_type, 1, 6),
                    Some(expected)
                );
            }
            if event.deal_time_utc.is_some() {
                assert_time(&event.deal_time);
            }
        }
        Request::FinanceNotification(call) => {
            // Stored under a key that is always a usable sort key, malformed or not.
            let notice = &call.notice;
            assert!(!notice.key.is_empty() && notice.key.len() <= 64 * 3 + 2);
            if let Some(amount) = notice.amount {
                assert!(is_money(&amount.value().to_string()));
            }
            let valid = notice.reference_number.is_some()
                && notice.amount.is_some()
                && notice.transaction_time.is_some()
                && matches!(notice.sign_type.as_deref(), Some("recharge" | "reduce"));
            if valid && notice.issues.is_empty() {
                assert!(!notice.key.starts_with("sha256:"));
            }
        }
    }
}

/// A refusal before the ledger: a code the endpoint documents, a description within the rules.
fn check_refusal(action: Action, rejection: &Rejection) {
    let (code, description) = rejection.response(action);
    assert!(
        action.codes().before_the_ledger.contains(&code),
        "{action:?} answered {code:?}"
    );
    check_description(code, &description);
}

/// The reply, plain and encrypted: the envelope's three members first, all strings, as sent.
fn check_reply(
    setup: &Setup,
    action: Action,
    outcome: &Result<Accepted, Rejection>,
    now: DateTime<Utc>,
) {
    let (code, reply) = setup.plain.reply(action, outcome, Transport::Plain, now);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, "application/json");
    let body = reply.body;
    let value: Value = serde_json::from_str(&body).expect("the envelope is JSON");
    let object = value.as_object().expect("the envelope is a JSON object");
    let member = |name: &str| {
        object
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} is not a string member: {body}"))
    };
    assert_eq!(member("responseCode"), code.as_str());
    check_description(code, member("responseDescription"));
    let time = member("responseTime");
    assert!(is_response_time(time), "responseTime {time:?}");
    // Member order as in SkyPay's samples, and no duplicate keys.
    assert!(body.starts_with(r#"{"responseTime":""#), "{body}");
    assert!(Fields::parse(&body).is_ok(), "{body}");

    let (_, encrypted) =
        setup
            .required
            .reply(action, outcome, Transport::Encrypted(KeySlot::First), now);
    assert_eq!(encrypted.content_type, "text/plain");
    let plain = crypto::decrypt(&setup.key, &encrypted.body).expect("the reply decrypts");
    assert_eq!(plain, body.as_bytes());
}

fn check_description(code: ResponseCode, description: &str) {
    assert!(!description.is_empty(), "{code:?} has no description");
    // Once a finding of this target: a 2001 description quoted a member name, whose escapes
    // could take it past 255 characters (fixed: names are not quoted, descriptions are capped).
    assert!(
        description.chars().count() <= MAX_DESCRIPTION_CHARS,
        "{code:?}: {} characters: {description}",
        description.chars().count()
    );
    // Past authentication the body carries the key: a field refusal must never quote it.
    // (2001 may name a member, and a member may be named anything.)
    if code != ResponseCode::BodyInvalid {
        assert!(!description.contains(KEY), "{code:?} quotes the key");
    }
}

/// A body sent encrypted is admitted exactly as the same body sent in clear, as long as the
/// ciphertext is within the size limit (a byte-order mark included: a finding of this target,
/// fixed).
fn encrypted_body_is_admitted_like_plain(
    setup: &Setup,
    action: Action,
    plain: &[u8],
    clear: &Result<Request, Rejection>,
) {
    let ciphertext = crypto::encrypt(&setup.key, plain);
    if ciphertext.len() > MAX_BODY_BYTES {
        return;
    }
    let sealed = setup
        .required
        .admit(action, ciphertext.as_bytes(), &mut CallLog::default());
    assert_eq!(sealed.transport, Transport::Encrypted(KeySlot::First));
    match (clear, &sealed.request) {
        (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}")),
        // Inside the AES layer every body failure is the one 2001 text (SPEC 14.4): the codes
        // agree, the descriptions may not.
        (Err(a), Err(b)) if a.response(action).0 == ResponseCode::BodyInvalid => {
            assert_eq!(b.response(action).0, ResponseCode::BodyInvalid);
        }
        (Err(a), Err(b)) => assert_eq!(a.response(action), b.response(action)),
        (a, b) => panic!(
            "in clear {:?}, encrypted {:?}",
            a.as_ref().map(|_| ()),
            b.as_ref().map(|_| ())
        ),
    }
}

/// What `Fields::decode` treats as "plain JSON" under `auto`.
fn looks_like_object(data: &[u8]) -> bool {
    std::str::from_utf8(data).is_ok_and(|text| {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text).trim();
        text.starts_with('{')
    })
}

/// The reply's clock: a leap second (`hh:mm:59` with up to 1,999,999,999 ns) picked from the
/// input, so the four-digit fraction is checked at its edges too.
fn reply_time(data: &[u8]) -> DateTime<Utc> {
    let mix = data
        .iter()
        .fold(0u32, |h, &b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let nanos = mix % 2_000_000_000;
    DateTime::from_timestamp(NOW_SECONDS + 59, nanos).expect("a valid instant")
}

/// `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{4}$`
fn is_response_time(text: &str) -> bool {
    has_shape(text, "dddd-dd-dd dd:dd:dd.dddd")
}

/// A SkyPay time as accepted: `yyyy-MM-dd HH:mm:ss`.
fn assert_time(text: &str) {
    assert!(has_shape(text, "dddd-dd-dd dd:dd:dd"), "{text:?}");
}

/// SPEC section 3: the prefix and 8-10 ASCII digits, 13-15 characters.
fn assert_number(text: &str) {
    let rest = text.strip_prefix(PREFIX).expect("our prefix");
    assert!((8..=10).contains(&rest.len()), "{text:?}");
    assert!(rest.bytes().all(|b| b.is_ascii_digit()), "{text:?}");
}

/// `^0[89][0-9]{9}$`
fn assert_mobile(text: &str) {
    let bytes = text.as_bytes();
    assert!(
        bytes.len() == 11
            && bytes.first() == Some(&b'0')
            && matches!(bytes.get(1), Some(b'8' | b'9'))
            && bytes.iter().all(u8::is_ascii_digit),
        "{text:?}"
    );
}

/// `d` stands for an ASCII digit, every other character for itself.
fn has_shape(text: &str, shape: &str) -> bool {
    text.len() == shape.len()
        && text.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            _ => c == s,
        })
}

/// Money as the SPEC allows it, judged on the normalised decimal's text: > 0, at most two
/// decimal places, at most 99,999,999.99.
fn is_money(text: &str) -> bool {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty()
        && int.len() <= 8
        && digits(int)
        && frac.len() <= 2
        && digits(frac)
        && text.bytes().any(|b| (b'1'..=b'9').contains(&b))
}
