//! The wire format of every endpoint SkyPay calls (SPEC section 2): body decoding in one place,
//! lenient field access, and the response envelope.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::protocol::crypto::Encryption;
use crate::protocol::crypto::{self, KeySlot, Keys};
use crate::protocol::rules::{self, Amount};
use crate::protocol::time::{self, SkyPayTime};

/// SPEC section 2: body size limit.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a body is not a usable JSON object (response code 2001).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is larger than 64 KiB")]
    TooLarge,
    /// The transport could not deliver it whole: broken framing, or not within the time.
    #[error("the body did not arrive whole")]
    Incomplete,
    #[error("the body is empty")]
    Empty,
    #[error("the body is not UTF-8")]
    NotUtf8,
    /// The message comes from our own visitors or serde_json's syntax errors: it never quotes
    /// the body, so it is safe to log and to return.
    #[error("the body is not a JSON object: {0}")]
    NotJson(String),
    /// Anything wrong inside the AES layer (not Base64, a bad length, bad padding, not UTF-8,
    /// not a JSON object): one description for all of them (SPEC 14.4), so that a chosen
    /// ciphertext tells an unauthenticated caller nothing about its padding or its plaintext.
    /// The detail is for the log line only.
    #[error("the body cannot be decrypted")]
    Undecryptable(Undecryptable),
    #[error("the body must be encrypted")]
    EncryptionRequired,
}

/// Why a body taken as ciphertext could not be read: for the log line, never for the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecryptable(pub String);

impl fmt::Display for Undecryptable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the body arrived, so the reply goes back the same way: in clear, or under the key that
/// opened it (the first key when none did).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Plain,
    Encrypted(KeySlot),
}

/// A decoded request body: the top-level members of one JSON object, each kept as its raw JSON
/// text so that numbers are read exactly (money never passes through a float).
pub struct Fields {
    members: BTreeMap<String, Box<RawValue>>,
}

// Bodies hold credentials and personal data: Debug lists member names only.
impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.members.keys()).finish()
    }
}

/// A field that is present but unusable, or missing when required (response code 2002, or a
/// seed code where one fits).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} {rule}")]
pub struct FieldError {
    pub field: &'static str,
    pub rule: String,
}

impl FieldError {
    pub fn new(field: &'static str, rule: impl Into<String>) -> FieldError {
        FieldError {
            field,
            rule: rule.into(),
        }
    }
    pub fn missing(field: &'static str) -> FieldError {
        FieldError::new(field, "is required")
    }
}

/// What a member holds, as the field rules see it.
enum Member {
    /// Absent, `null` or `""` (SPEC 12.6).
    Absent,
    Text(String),
    /// The exact text of a JSON number.
    Number(String),
    Other,
}

impl Fields {
    /// Decodes a body: size, optional AES layer, UTF-8, one JSON object, no duplicate keys at any
    /// depth. The transport is how the reply goes back, decided even when the body is refused
    /// (SPEC 13.1, 14.7): a body that begins with `{` is answered in clear (`{` never begins
    /// Base64, so its sender cannot read AES), and with a key configured anything else was taken
    /// as ciphertext and is answered encrypted, under the key that opened it.
    pub fn decode(body: &[u8], encryption: &Encryption) -> (Result<Fields, BodyError>, Transport) {
        Fields::decode_within(body, encryption, MAX_BODY_BYTES)
    }

    /// The same, with another size limit: SkyPay's answers to us (a report page) may be larger
    /// than the calls SkyPay makes.
    pub fn decode_within(
        body: &[u8],
        encryption: &Encryption,
        max_bytes: usize,
    ) -> (Result<Fields, BodyError>, Transport) {
        let looks_like_object = text_of(body).is_ok_and(|t| t.starts_with('{'));
        let plain = || {
            if body.len() > max_bytes {
                return Err(BodyError::TooLarge);
            }
            Fields::parse(non_empty(text_of(body)?)?)
        };
        match encryption {
            Encryption::Off => (plain(), Transport::Plain),
            Encryption::Auto(_) if looks_like_object => (plain(), Transport::Plain),
            Encryption::Required(_) if looks_like_object => {
                let refused = if body.len() > max_bytes {
                    BodyError::TooLarge
                } else {
                    BodyError::EncryptionRequired
                };
                (Err(refused), Transport::Plain)
            }
            Encryption::Auto(keys) | Encryption::Required(keys) => {
                let (opened, slot) = open(body, keys, max_bytes);
                (opened, Transport::Encrypted(slot))
            }
        }
    }
    /// Parses one JSON object.
    pub fn parse(text: &str) -> Result<Fields, BodyError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let members = de
            .deserialize_any(TopObject)
            .and_then(|m| de.end().map(|()| m))
            .map_err(|e| BodyError::NotJson(e.to_string()))?;
        Ok(Fields { members })
    }

    /// A list of objects (payoutQueryStatus's `controlNumbers`, a report's `result`), each
    /// read like a body. `None` when absent; an error when it is not a list of objects.
    pub fn objects(&self, field: &'static str) -> Result<Option<Vec<Fields>>, FieldError> {
        let Some(raw) = self.members.get(field) else {
            return Ok(None);
        };
        if raw.get() == "null" {
            return Ok(None);
        }
        let not_a_list = || FieldError::new(field, "must be a list of objects");
        let items: Vec<Box<RawValue>> =
            serde_json::from_str(raw.get()).map_err(|_| not_a_list())?;
        items
            .iter()
            .map(|item| Fields::parse(item.get()).map_err(|_| not_a_list()))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A true/false field: a JSON boolean, or the string `"true"` / `"false"`.
    pub fn flag(&self, field: &'static str) -> Result<Option<bool>, FieldError> {
        let Some(raw) = self.members.get(field) else {
            return Ok(None);
        };
        match raw.get() {
            "true" | "\"true\"" => Ok(Some(true)),
            "false" | "\"false\"" => Ok(Some(false)),
            "null" => Ok(None),
            _ => Err(FieldError::new(field, "must be true or false")),
        }
    }

    /// The members as a JSON value (for showing an answer; never logged).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.members
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        serde_json::from_str(v.get()).unwrap_or(serde_json::Value::Null),
                    )
                })
                .collect(),
        )
    }

    /// Whether the body has this member at all (even `null`).
    pub fn contains(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    fn member(&self, name: &str) -> Member {
        let Some(raw) = self.members.get(name) else {
            return Member::Absent;
        };
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') => match serde_json::from_str::<String>(text) {
                Ok(s) if s.is_empty() => Member::Absent,
                Ok(s) => Member::Text(s),
                Err(_) => Member::Other,
            },
            Some(b'n') => Member::Absent,
            Some(b'-' | b'0'..=b'9') => Member::Number(text.to_owned()),
            _ => Member::Other,
        }
    }

    /// A string field. A JSON integer is taken as its decimal text, so `77` and `"77"` are the
    /// same receipt; any other non-string (a float, a boolean, an object) is refused
    /// (SPEC 12.15).
    pub fn text(&self, field: &'static str) -> Result<Option<String>, FieldError> {
        match self.member(field) {
            Member::Absent => Ok(None),
            Member::Text(s) => Ok(Some(s)),
            Member::Number(s) if is_json_integer(&s) => Ok(Some(s)),
            Member::Number(_) | Member::Other => Err(FieldError::new(field, "must be a string")),
        }
    }

    /// An informational field (SPEC section 3, collectionCollect's `phone`): whatever was sent,
    /// as text (a non-string as its JSON), for the record. `None` when absent.
    pub fn informational(&self, field: &'static str) -> Option<String> {
        match self.member(field) {
            Member::Absent => None,
            Member::Text(s) => Some(s),
            Member::Number(_) | Member::Other => {
                self.members.get(field).map(|raw| raw.get().to_owned())
            }
        }
    }

    /// A SHA-256 of the members (names and values as sent, in name order), leaving out
    /// `authentication`: the same notification sent twice, even under a rotated key, has the
    /// same digest, and no digest is ever taken over the key.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for (name, value) in self.members.iter().filter(|(n, _)| *n != "authentication") {
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update(value.get().as_bytes());
            hash.update([0]);
        }
        hex::encode(hash.finalize())
    }

    /// A string field that must be present, within a length range (in characters).
    pub fn required_text(
        &self,
        field: &'static str,
        max_chars: usize,
    ) -> Result<String, FieldError> {
        let text = self.text(field)?.ok_or(FieldError::missing(field))?;
        if rules::within_length(&text, 1, max_chars) {
            Ok(text)
        } else {
            Err(FieldError::new(
                field,
                format!("must be at most {max_chars} characters"),
            ))
        }
    }

    /// An integer field: a JSON integer or a string of ASCII digits, within `min..=max`.
    pub fn integer(
        &self,
        field: &'static str,
        min: u32,
        max: u32,
    ) -> Result<Option<u32>, FieldError> {
        let text = match self.member(field) {
            Member::Absent => return Ok(None),
            Member::Text(s) | Member::Number(s) => s,
            Member::Other => String::new(),
        };
        rules::parse_integer(&text, min, max)
            .map(Some)
            .ok_or_else(|| {
                FieldError::new(field, format!("must be an integer from {min} to {max}"))
            })
    }

    pub fn required_integer(
        &self,
        field: &'static str,
        min: u32,
        max: u32,
    ) -> Result<u32, FieldError> {
        self.integer(field, min, max)?
            .ok_or(FieldError::missing(field))
    }

    /// An amount of money, read exactly: a string in plain decimal notation, or a JSON number
    /// taken by its value (SPEC 12.14).
    pub fn amount(&self, field: &'static str) -> Result<Option<Amount>, FieldError> {
        let parsed = match self.member(field) {
            Member::Absent => return Ok(None),
            Member::Text(s) => Amount::parse(&s),
            Member::Number(s) => Amount::parse_json_number(&s),
            Member::Other => Err("must be a decimal number"),
        };
        parsed
            .map(Some)
            .map_err(|rule| FieldError::new(field, rule))
    }

    /// Any exact decimal (a balance): a string in plain notation or a JSON number, no range.
    pub fn decimal(&self, field: &'static str) -> Result<Option<Decimal>, FieldError> {
        let parsed = match self.member(field) {
            Member::Absent => return Ok(None),
            Member::Text(s) => rules::exact_decimal(&s, false),
            Member::Number(s) => rules::exact_decimal(&s, true),
            Member::Other => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| FieldError::new(field, "must be a decimal number"))
    }

    pub fn required_amount(&self, field: &'static str) -> Result<Amount, FieldError> {
        self.amount(field)?.ok_or(FieldError::missing(field))
    }

    /// A SkyPay date-time (`yyyy-MM-dd HH:mm:ss`, Manila).
    pub fn time(&self, field: &'static str) -> Result<Option<SkyPayTime>, FieldError> {
        match self.text(field)? {
            None => Ok(None),
            Some(s) => SkyPayTime::parse(&s).map(Some).ok_or_else(|| {
                FieldError::new(field, "must be a real time written yyyy-MM-dd HH:mm:ss")
            }),
        }
    }

    pub fn required_time(&self, field: &'static str) -> Result<SkyPayTime, FieldError> {
        self.time(field)?.ok_or(FieldError::missing(field))
    }
}

/// The top level: one JSON object, members kept raw. Every non-object case is refused with our
/// own message, so no error ever quotes the body.
struct TopObject;

impl<'de> Visitor<'de> for TopObject {
    type Value = BTreeMap<String, Box<RawValue>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value: Box<RawValue> = map.next_value()?;
            if matches!(value.get().as_bytes().first(), Some(b'{' | b'[')) {
                // The member's name is not quoted: the body is never echoed back.
                serde_json::from_str::<NoDuplicates>(value.get())
                    .map_err(|e| de::Error::custom(format_args!("in a nested value: {e}")))?;
            }
            if members.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate key"));
            }
        }
        Ok(members)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(not_an_object())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(not_an_object())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(not_an_object())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(not_an_object())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(not_an_object())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(not_an_object())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(not_an_object())
    }
}

/// A body taken as ciphertext: opened with the first key under which it is a JSON object
/// (SPEC 14.4), and the slot of that key. Every failure past the size and emptiness checks is
/// the one [`BodyError::Undecryptable`], its detail (the first key's) for the log.
fn open(body: &[u8], keys: &Keys, max_bytes: usize) -> (Result<Fields, BodyError>, KeySlot) {
    if body.len() > max_bytes {
        return (Err(BodyError::TooLarge), KeySlot::First);
    }
    let text = match text_of(body) {
        Ok(text) => text,
        Err(_) => {
            let detail = Undecryptable("not UTF-8, so not Base64".to_owned());
            return (Err(BodyError::Undecryptable(detail)), KeySlot::First);
        }
    };
    if text.is_empty() {
        return (Err(BodyError::Empty), KeySlot::First);
    }
    let mut first_failure = None;
    for (slot, key) in keys.slots() {
        let inside = crypto::open(key, text)
            .map_err(|f| f.as_str().to_owned())
            .and_then(|plain| {
                let text = text_of(&plain).map_err(|e| format!("inside: {e}"))?;
                let text = non_empty(text).map_err(|e| format!("inside: {e}"))?;
                Fields::parse(text).map_err(|e| format!("inside: {e}"))
            });
        match inside {
            Ok(fields) => return (Ok(fields), slot),
            Err(detail) => {
                first_failure.get_or_insert(detail);
            }
        }
    }
    let detail = first_failure.unwrap_or_default();
    (
        Err(BodyError::Undecryptable(Undecryptable(detail))),
        KeySlot::First,
    )
}

/// A body's text, refused when there is none.
fn non_empty(text: &str) -> Result<&str, BodyError> {
    if text.is_empty() {
        Err(BodyError::Empty)
    } else {
        Ok(text)
    }
}

/// A body's text, the plain one or the one inside the AES layer: UTF-8, without a byte-order
/// mark or surrounding whitespace.
fn text_of(bytes: &[u8]) -> Result<&str, BodyError> {
    let text = std::str::from_utf8(bytes).map_err(|_| BodyError::NotUtf8)?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text).trim())
}

/// A JSON number written as an integer: an optional minus and digits, no fraction, no exponent.
fn is_json_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn not_an_object<E: de::Error>() -> E {
    E::custom("the top level is not an object")
}

/// Walks a nested value and refuses duplicate keys at any depth (SPEC 12.6). serde_json's
/// recursion limit bounds the depth.
struct NoDuplicates;

impl<'de> Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<NoDuplicates>()?;
            if !seen.insert(key) {
                return Err(de::Error::custom("duplicate key"));
            }
        }
        Ok(NoDuplicates)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E: de::Error>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
}

/// The response envelope, exactly as SkyPay's samples show it: `responseCode` is a JSON string
/// and the members come in this order.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub response_time: String,
    pub response_code: String,
    pub response_description: String,
}

impl Envelope {
    pub fn new(now: DateTime<Utc>, code: &str, description: &str) -> Envelope {
        Envelope {
            response_time: time::response_time(now),
            response_code: code.to_owned(),
            response_description: description.to_owned(),
        }
    }

    /// The reply body and its content type, encrypted when the request was.
    pub fn render(&self, transport: Transport, encryption: &Encryption) -> (String, &'static str) {
        self.render_with(&[], transport, encryption)
    }

    /// The same with the members an accepted call adds, after the envelope's three, in the
    /// given order (SPEC 13.2 and 13.3). Every value is a JSON string.
    pub fn render_with(
        &self,
        extra: &[(&str, String)],
        transport: Transport,
        encryption: &Encryption,
    ) -> (String, &'static str) {
        let members = [
            ("responseTime", self.response_time.as_str()),
            ("responseCode", self.response_code.as_str()),
            ("responseDescription", self.response_description.as_str()),
        ]
        .into_iter()
        .chain(extra.iter().map(|(k, v)| (*k, v.as_str())));
        let mut json = String::from("{");
        for (i, (name, value)) in members.enumerate() {
            if i > 0 {
                json.push(',');
            }
            // Display of a JSON string value escapes it and cannot fail.
            json.push_str(&Value::from(name).to_string());
            json.push(':');
            json.push_str(&Value::from(value).to_string());
        }
        json.push('}');
        match (transport, encryption) {
            (Transport::Encrypted(slot), Encryption::Auto(keys) | Encryption::Required(keys)) => (
                crypto::encrypt(keys.get(slot), json.as_bytes()),
                "text/plain",
            ),
            _ => (json, "application/json"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Fields, BodyError> {
        Fields::decode(text.as_bytes(), &Encryption::Off).0
    }

    #[test]
    fn numbers_arrive_as_numbers_or_strings() {
        let f = parse(
            r#"{"a": "3900.00", "b": 3400.00, "c": "1", "d": 1, "e": 12345678901234567890.12}"#,
        )
        .unwrap();
        assert_eq!(
            f.amount("a").unwrap().unwrap().value(),
            Decimal::new(3900, 0)
        );
        assert_eq!(
            f.amount("b").unwrap().unwrap().value(),
            Decimal::new(3400, 0)
        );
        assert_eq!(f.integer("c", 1, 9).unwrap(), Some(1));
        assert_eq!(f.integer("d", 1, 9).unwrap(), Some(1));
        assert!(f.amount("e").is_err());
    }

    #[test]
    fn money_is_read_exactly_not_through_a_float() {
        // 0.1 + 0.2 style: a float would not hold these exactly.
        let f = parse(r#"{"amount": 99999999.99, "other": 0.07}"#).unwrap();
        assert_eq!(
            f.amount("amount").unwrap().unwrap().value().to_string(),
            "99999999.99"
        );
        assert_eq!(
            f.amount("other").unwrap().unwrap().value().to_string(),
            "0.07"
        );
    }

    #[test]
    fn null_and_empty_count_as_absent() {
        let f = parse(r#"{"a": null, "b": ""}"#).unwrap();
        assert_eq!(f.text("a").unwrap(), None);
        assert_eq!(f.text("b").unwrap(), None);
        assert_eq!(f.required_text("b", 5), Err(FieldError::missing("b")));
    }

    #[test]
    fn wrong_types_are_field_errors() {
        let f =
            parse(r#"{"a": true, "b": {"x": 1}, "c": [1], "d": 9.0, "e": "٣", "f": -1}"#).unwrap();
        assert!(f.text("a").is_err());
        assert!(f.text("b").is_err());
        assert!(f.integer("c", 1, 9).is_err());
        assert!(f.integer("d", 1, 9).is_err());
        assert!(f.integer("e", 1, 9).is_err());
        assert!(f.integer("f", 1, 9).is_err());
        assert!(f.integer("a", 1, 9).is_err());
    }

    #[test]
    fn bodies_that_are_not_one_object_are_refused() {
        for bad in [
            "",
            "   ",
            "[]",
            "\"text\"",
            "12",
            "null",
            "{",
            "{\"a\":1}x",
            "{\"a\":NaN}",
            "{\"a\":1,\"a\":2}",
            "{\"a\":{\"b\":1,\"b\":2}}",
            "{\"a\":[{\"b\":1,\"b\":1}]}",
            "{'a':1}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            Fields::decode(&[0xff, 0xfe], &Encryption::Off)
                .0
                .unwrap_err(),
            BodyError::NotUtf8
        );
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        assert_eq!(parse(&big).unwrap_err(), BodyError::TooLarge);
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(20_000), "]".repeat(20_000));
        assert!(matches!(parse(&deep), Err(BodyError::NotJson(_))));
    }

    #[test]
    fn errors_never_quote_the_body() {
        let err = parse(r#""30AC21B2-9EAA-4503-B0F0-7BE5C277ED75""#).unwrap_err();
        assert!(!err.to_string().contains("30AC21B2"), "{err}");
        let err = parse(r#"[ "30AC21B2-9EAA" ]"#).unwrap_err();
        assert!(!err.to_string().contains("30AC21B2"), "{err}");
    }

    fn keys(k: &str) -> Keys {
        Keys::one(crate::protocol::crypto::derive_key(k.as_bytes()))
    }

    #[test]
    fn a_byte_order_mark_is_tolerated_inside_the_aes_layer_too() {
        let key = crate::protocol::crypto::derive_key(b"k");
        let sealed = crate::protocol::crypto::encrypt(&key, "\u{feff}{\"a\":1}".as_bytes());
        let (fields, transport) = Fields::decode(sealed.as_bytes(), &Encryption::Auto(keys("k")));
        assert!(fields.unwrap().contains("a"));
        assert_eq!(transport, Transport::Encrypted(KeySlot::First));
    }

    /// SPEC 14.4: everything that goes wrong inside the AES layer is one refusal with one
    /// description; what went wrong is only in the detail, for the log. An encrypted empty body
    /// is such a failure too (it decrypted: a caller must not learn that).
    #[test]
    fn every_failure_inside_the_aes_layer_is_one_refusal() {
        let key = crate::protocol::crypto::derive_key(b"k");
        let required = Encryption::Required(keys("k"));
        let inside = |plain: &str| crate::protocol::crypto::encrypt(&key, plain.as_bytes());
        let bodies: Vec<(String, &str)> = vec![
            ("not base64 !".to_owned(), "not Base64"),
            ("AAAA".to_owned(), "blocks"),
            (
                crate::protocol::crypto::encrypt(
                    &crate::protocol::crypto::derive_key(b"other"),
                    b"{\"a\":1}",
                ),
                "",
            ),
            (inside(""), "empty"),
            (inside("  "), "empty"),
            (inside("\u{feff}"), "empty"),
            (inside("[1]"), "JSON"),
            (inside("{\"a\":1,\"a\":2}"), "duplicate"),
            (inside("{\"a\":"), "JSON"),
        ];
        let mut descriptions = HashSet::new();
        for (body, detail) in bodies {
            let (fields, transport) = Fields::decode(body.as_bytes(), &required);
            let Err(BodyError::Undecryptable(Undecryptable(found))) = &fields else {
                panic!("{body:?}: {fields:?}");
            };
            assert!(found.contains(detail), "{found:?} for {body:?}");
            assert_eq!(transport, Transport::Encrypted(KeySlot::First));
            descriptions.insert(fields.unwrap_err().to_string());
        }
        let non_utf8 = Fields::decode(&[0xff, 0xfe], &required).0.unwrap_err();
        descriptions.insert(non_utf8.to_string());
        assert_eq!(
            descriptions.into_iter().collect::<Vec<_>>(),
            ["the body cannot be decrypted"]
        );
        // An empty body is empty, encrypted or not: it says nothing about a key.
        assert!(matches!(
            Fields::decode(b"", &required).0,
            Err(BodyError::Empty)
        ));
        assert!(matches!(
            Fields::decode(b"", &Encryption::Off).0,
            Err(BodyError::Empty)
        ));
    }

    /// SPEC 14.4: with two keys, a body under either is read, and the reply goes back under the
    /// key that opened it; everything we send uses the first.
    #[test]
    fn a_body_under_either_key_is_read_and_answered_under_it() {
        let old = crate::protocol::crypto::derive_key(b"old-key");
        let new = crate::protocol::crypto::derive_key(b"new-key");
        let both = Encryption::Required(Keys::two(new.clone(), old.clone()));
        for (key, slot) in [(&new, KeySlot::First), (&old, KeySlot::Second)] {
            let sealed = crate::protocol::crypto::encrypt(key, b"{\"a\":1}");
            let (fields, transport) = Fields::decode(sealed.as_bytes(), &both);
            assert!(fields.unwrap().contains("a"));
            assert_eq!(transport, Transport::Encrypted(slot));
            let (reply, _) = Envelope::new(Utc::now(), "1000", "Success").render(transport, &both);
            assert!(
                crate::protocol::crypto::decrypt(key, &reply).is_some(),
                "{slot:?}"
            );
        }
        assert_eq!(
            both.key().map(|k| format!("{k:?}")),
            Some(format!("{new:?}"))
        );
    }

    /// SPEC 13.1 and 14.7: with a key, whatever was taken as ciphertext is answered encrypted,
    /// even when it cannot be decrypted; a body that begins with `{` is answered in clear, even
    /// under `required` (its sender cannot read AES).
    #[test]
    fn the_reply_transport_is_decided_even_for_a_refused_body() {
        let auto = Encryption::Auto(keys("k"));
        let required = Encryption::Required(keys("k"));
        let encrypted = Transport::Encrypted(KeySlot::First);
        let rows: [(&[u8], &Encryption, bool, Transport); 8] = [
            (b"{\"a\":1}", &auto, true, Transport::Plain),
            (b"{\"a\":", &auto, false, Transport::Plain),
            (b"not ciphertext", &auto, false, encrypted),
            (b"", &auto, false, encrypted),
            (b"{\"a\":1}", &required, false, Transport::Plain),
            (b"not ciphertext", &required, false, encrypted),
            (b"not ciphertext", &Encryption::Off, false, Transport::Plain),
            (b"{\"a\":1}", &Encryption::Off, true, Transport::Plain),
        ];
        for (body, encryption, ok, transport) in rows {
            let (result, got) = Fields::decode(body, encryption);
            assert_eq!(result.is_ok(), ok, "{body:?}");
            assert_eq!(got, transport, "{body:?}");
        }
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let (result, transport) = Fields::decode(big.as_bytes(), &required);
        assert!(matches!(result, Err(BodyError::TooLarge)));
        assert_eq!(transport, Transport::Plain);
    }

    /// SPEC 12.15: a text field sent as a JSON integer is its decimal text; a float, a boolean
    /// or an object is not text. An informational field keeps whatever was sent.
    #[test]
    fn text_fields_take_strings_and_integers_only() {
        let f =
            parse(r#"{"a": 77, "b": "77", "c": 7.5, "d": true, "e": {"x":1}, "f": -3, "g": 1e2}"#)
                .unwrap();
        assert_eq!(f.text("a").unwrap().as_deref(), Some("77"));
        assert_eq!(f.text("a").unwrap(), f.text("b").unwrap());
        assert_eq!(f.text("f").unwrap().as_deref(), Some("-3"));
        for refused in ["c", "d", "e", "g"] {
            assert!(f.text(refused).is_err(), "{refused}");
        }
        assert_eq!(f.informational("d").as_deref(), Some("true"));
        assert_eq!(f.informational("c").as_deref(), Some("7.5"));
        assert_eq!(f.informational("b").as_deref(), Some("77"));
        assert_eq!(f.informational("missing"), None);
    }

    /// SPEC 12.14: an amount string is plain decimal notation; a JSON number is its value.
    #[test]
    fn amount_strings_take_no_exponent_but_numbers_may() {
        let f = parse(r#"{"s": "1e3", "n": 1e3, "p": "1000.00"}"#).unwrap();
        assert!(f.amount("s").is_err());
        assert_eq!(f.amount("n").unwrap(), f.amount("p").unwrap());
    }

    #[test]
    fn the_digest_ignores_the_key_and_layout_but_not_values() {
        let a = parse(r#"{"authentication":"k1","referenceNumber":"R","amount":1}"#).unwrap();
        let b = parse(r#"{ "amount":1, "referenceNumber":"R", "authentication":"k2" }"#).unwrap();
        let c = parse(r#"{"authentication":"k1","referenceNumber":"R","amount":2}"#).unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
    }

    #[test]
    fn extra_members_follow_the_three_in_order() {
        let now = DateTime::parse_from_rfc3339("2018-06-18T09:52:10.5211Z")
            .unwrap()
            .with_timezone(&Utc);
        let (body, _) = Envelope::new(now, "1000", "Success").render_with(
            &[
                ("zeta", "\"quoted\"".to_owned()),
                ("amount", "3900.00".to_owned()),
            ],
            Transport::Plain,
            &Encryption::Off,
        );
        assert_eq!(
            body,
            r#"{"responseTime":"2018-06-18 17:52:10.5211","responseCode":"1000","responseDescription":"Success","zeta":"\"quoted\"","amount":"3900.00"}"#
        );
    }

    #[test]
    fn nested_duplicates_do_not_echo_the_member_name() {
        let name = "\u{10ffff}".repeat(40);
        let body = format!("{{\"{name}\": {{\"a\":1,\"a\":2}}}}");
        let err = parse(&body).unwrap_err().to_string();
        assert!(
            !err.contains('\u{10ffff}') && !err.contains("10ffff"),
            "{err}"
        );
        assert!(err.chars().count() < 120, "{err}");
    }

    #[test]
    fn fields_debug_shows_names_only() {
        let f = parse(r#"{"authentication": "secret-key", "phone": "09270348095"}"#).unwrap();
        let debug = format!("{f:?}");
        assert!(
            !debug.contains("secret-key") && !debug.contains("0927"),
            "{debug}"
        );
    }

    #[test]
    fn envelope_matches_the_sample_shape() {
        let now = DateTime::parse_from_rfc3339("2018-06-18T09:52:10.5211Z")
            .unwrap()
            .with_timezone(&Utc);
        let (body, content_type) =
            Envelope::new(now, "1000", "Success").render(Transport::Plain, &Encryption::Off);
        assert_eq!(
            body,
            r#"{"responseTime":"2018-06-18 17:52:10.5211","responseCode":"1000","responseDescription":"Success"}"#
        );
        assert_eq!(content_type, "application/json");
    }
}
