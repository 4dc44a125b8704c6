//! The SPEC's field rules (section 3), one function or type per rule, used by every action.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

/// The partner's 5-character control-number prefix (`CONTROL_NUMBER_PREFIX`, e.g. `SKY01`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefix(String);

impl Prefix {
    pub fn new(text: &str) -> Option<Prefix> {
        (text.len() == 5 && text.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Prefix(text.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A control number (payouts) or contract number (collections): our prefix and 8-10 digits,
/// 13-15 characters in all.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ControlNumber(String);

/// Why a control or contract number was refused. The two cases map to different codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// The first five characters are not our prefix.
    Prefix,
    /// The prefix is ours but the rest is not 8-10 ASCII digits.
    Format,
}

impl ControlNumber {
    pub fn parse(text: &str, prefix: &Prefix) -> Result<ControlNumber, NumberError> {
        let rest = text
            .strip_prefix(prefix.as_str())
            .ok_or(NumberError::Prefix)?;
        if (8..=10).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_digit()) {
            Ok(ControlNumber(text.to_owned()))
        } else {
            Err(NumberError::Format)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ControlNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The rule text for a control or contract number, for `2002` descriptions.
pub fn number_rule(prefix: &Prefix) -> String {
    format!(
        "must be the prefix {} followed by 8-10 digits",
        prefix.as_str()
    )
}

/// The largest amount SkyPay's `10.2` column holds: 99,999,999.99 (9,999,999,999 hundredths
/// = 2 * 2^32 + 1,410,065,407).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_410_065_407, 2, 0, false, 2);

/// An amount of money: > 0, at most two decimal places (judged by value: `10.100` is 10.10),
/// at most 99,999,999.99. Never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(Decimal);

impl Amount {
    /// Parses an amount sent as a string: plain decimal notation only, digits with an optional
    /// fractional part (`3400`, `3400.5`, `3400.00`; `-1` is refused by value). No exponent
    /// (SPEC 12.14), no `+`, no spaces, no separators.
    pub fn parse(text: &str) -> Result<Amount, &'static str> {
        let value = parse_decimal(text, Notation::Plain).ok_or(PLAIN_DECIMAL)?;
        Amount::new(value)
    }

    /// Parses the text of a JSON number: taken by its value, exponent or not (SPEC 12.14).
    pub fn parse_json_number(text: &str) -> Result<Amount, &'static str> {
        let value = parse_decimal(text, Notation::JsonNumber).ok_or("must be a decimal number")?;
        Amount::new(value)
    }

    pub fn new(value: Decimal) -> Result<Amount, &'static str> {
        let value = value.normalize();
        if value <= Decimal::ZERO {
            return Err("must be greater than 0");
        }
        if value.scale() > 2 {
            return Err("must have at most 2 decimal places");
        }
        if value > MAX_AMOUNT {
            return Err("must be at most 99999999.99");
        }
        Ok(Amount(value))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// Exactly two decimals, as we send amounts to SkyPay (SPEC 12.7): `3400.00`.
    pub fn two_decimals(self) -> String {
        money(self.0)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// What an amount refused for its notation is told.
const PLAIN_DECIMAL: &str =
    "must be a plain decimal number (digits, an optional fraction, no exponent)";

/// How an amount was written: a string takes plain decimal notation only, a JSON number may
/// carry an exponent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Notation {
    Plain,
    JsonNumber,
}

/// Money as a decimal string with exactly two places (`3400.00`): how amounts are sent to SkyPay
/// and shown to the loan system. The one money formatter.
pub fn money(value: Decimal) -> String {
    let mut v = value;
    v.rescale(2);
    v.to_string()
}

/// Any exact decimal, with an amount's notation rules but none of its range: a balance, which
/// may be 0, negative or above an amount's maximum. `json_number`: the text of a JSON number
/// (an exponent allowed), else of a string (plain notation only).
pub fn exact_decimal(text: &str, json_number: bool) -> Option<Decimal> {
    let notation = if json_number {
        Notation::JsonNumber
    } else {
        Notation::Plain
    };
    parse_decimal(text, notation)
}

/// Plain decimal notation, or for a JSON number optionally with an exponent. `rust_decimal`'s
/// own parser is more forgiving (underscores, a leading `+`), so the shape is checked first.
fn parse_decimal(text: &str, notation: Notation) -> Option<Decimal> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(_) if notation == Notation::Plain => return None,
        Some(at) => (text.get(..at)?, Some(text.get(at + 1..)?)),
        None => (text, None),
    };
    let digits = mantissa.strip_prefix('-').unwrap_or(mantissa);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    match exponent {
        None => Decimal::from_str_exact(mantissa).ok(),
        Some(exp) => {
            let exp_digits = exp.strip_prefix(['-', '+']).unwrap_or(exp);
            if !all_digits(exp_digits) || exp_digits.len() > 3 {
                return None;
            }
            Decimal::from_scientific(text).ok()
        }
    }
}

/// Parses a non-negative integer written with ASCII digits only (SPEC 12.6: no `9.0`, no
/// signs, no other scripts' digits) and checks its range.
pub fn parse_integer(text: &str, min: u32, max: u32) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    u64::from_str(text)
        .ok()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (min..=max).contains(n))
}

/// Channel numbers (`withdrawChannel`, `payChannel`): 1..=99999.
pub const CHANNEL_RANGE: (u32, u32) = (1, 99_999);

/// Payout channels SkyPay's payoutQueue takes (SPEC section 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayoutChannel {
    /// 1 M Lhuillier, 9 RD Pawnshop: the borrower collects at a shop; SkyPay calls payoutPayout.
    ShopPickup(u32),
    /// 5 Bank.
    Bank,
    /// 6 GCash, 8 PayMaya, 15 GrabPay.
    EWallet(u32),
}

impl PayoutChannel {
    pub fn from_code(code: u32) -> Option<PayoutChannel> {
        match code {
            1 | 9 => Some(PayoutChannel::ShopPickup(code)),
            5 => Some(PayoutChannel::Bank),
            6 | 8 | 15 => Some(PayoutChannel::EWallet(code)),
            _ => None,
        }
    }
    pub fn code(self) -> u32 {
        match self {
            PayoutChannel::ShopPickup(c) | PayoutChannel::EWallet(c) => c,
            PayoutChannel::Bank => 5,
        }
    }
    /// Pushed channels go to SkyPay's payoutQueue; shop pickups are only registered.
    pub fn is_pushed(self) -> bool {
        !matches!(self, PayoutChannel::ShopPickup(_))
    }
}

/// A Philippine mobile number: `+63XXXXXXXXXX` and `63XXXXXXXXXX` are normalised to
/// `0XXXXXXXXXX`, which must then match `^0[89][0-9]{9}$`.
pub fn normalise_phone(text: &str) -> Option<String> {
    let local = if let Some(rest) = text
        .strip_prefix("+63")
        .or_else(|| text.strip_prefix("63").filter(|rest| rest.len() == 10))
    {
        format!("0{rest}")
    } else {
        text.to_owned()
    };
    let bytes = local.as_bytes();
    let valid = bytes.len() == 11
        && bytes.first() == Some(&b'0')
        && matches!(bytes.get(1), Some(b'8' | b'9'))
        && bytes.iter().all(u8::is_ascii_digit);
    valid.then_some(local)
}

/// payoutQueue's `name`: `Last,First[,Middle[,Suffix]]`, Last and First non-empty, at most 50
/// characters.
pub fn valid_payout_name(name: &str) -> Result<(), &'static str> {
    if name.chars().count() > 50 {
        return Err("must be at most 50 characters");
    }
    let parts: Vec<&str> = name.split(',').collect();
    if !(2..=4).contains(&parts.len()) {
        return Err("must be Last,First[,Middle[,Suffix]]");
    }
    if parts.iter().take(2).any(|p| p.trim().is_empty()) {
        return Err("Last and First must not be empty");
    }
    Ok(())
}

/// A string within a length range, counted in characters.
pub fn within_length(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix() -> Prefix {
        Prefix::new("SKY01").unwrap()
    }

    #[test]
    fn control_numbers_follow_section_3() {
        let p = prefix();
        assert!(ControlNumber::parse("SKY0112345678", &p).is_ok());
        assert!(ControlNumber::parse("SKY011234567890", &p).is_ok());
        assert_eq!(
            ControlNumber::parse("SKY02123456789", &p),
            Err(NumberError::Prefix)
        );
        assert_eq!(
            ControlNumber::parse("sky0112345678", &p),
            Err(NumberError::Prefix)
        );
        assert_eq!(ControlNumber::parse("SKY0", &p), Err(NumberError::Prefix));
        assert_eq!(
            ControlNumber::parse("SKY011234567", &p),
            Err(NumberError::Format)
        );
        assert_eq!(
            ControlNumber::parse("SKY0112345678901", &p),
            Err(NumberError::Format)
        );
        assert_eq!(
            ControlNumber::parse("SKY011234567a", &p),
            Err(NumberError::Format)
        );
        assert_eq!(ControlNumber::parse("SKY01", &p), Err(NumberError::Format));
        assert_eq!(
            ControlNumber::parse("SKY01١٢٣٤٥٦٧٨", &p),
            Err(NumberError::Format)
        );
    }

    #[test]
    fn amounts_follow_section_3() {
        assert_eq!(
            Amount::parse("3400.00").unwrap().value(),
            Decimal::new(3400, 0)
        );
        assert_eq!(
            Amount::parse("10.100").unwrap().value(),
            Decimal::new(1010, 2)
        );
        assert_eq!(Amount::parse("0.01").unwrap().value(), Decimal::new(1, 2));
        assert_eq!(Amount::parse("99999999.99").unwrap().value(), MAX_AMOUNT);
        // SPEC 12.14: a string takes no exponent; a JSON number is taken by its value.
        for exponent in ["1e3", "1.5E1", "1E+2"] {
            assert_eq!(Amount::parse(exponent), Err(PLAIN_DECIMAL), "{exponent}");
        }
        assert_eq!(
            Amount::parse_json_number("1e3").unwrap().value(),
            Decimal::new(1000, 0)
        );
        assert_eq!(
            Amount::parse_json_number("1.5E1").unwrap().value(),
            Decimal::new(15, 0)
        );
        assert!(Amount::parse_json_number("1e999").is_err());
        for bad in [
            "0",
            "0.00",
            "-1",
            "10.123",
            "100000000",
            "99999999.991",
            "",
            "+1",
            "1_000",
            " 1",
            "1,000.00",
            "abc",
            ".5",
            "5.",
            "1e999",
            "NaN",
            "Infinity",
            "0x10",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn amounts_are_sent_with_two_decimals() {
        assert_eq!(Amount::parse("3400").unwrap().two_decimals(), "3400.00");
        assert_eq!(Amount::parse("10.5").unwrap().two_decimals(), "10.50");
    }

    #[test]
    fn integers_are_ascii_digits_in_range() {
        assert_eq!(parse_integer("1", 1, 99_999), Some(1));
        assert_eq!(parse_integer("99999", 1, 99_999), Some(99_999));
        for bad in [
            "0",
            "100000",
            "-1",
            "9.0",
            "1e2",
            "",
            " 1",
            "٣",
            "99999999999999999999",
        ] {
            assert_eq!(parse_integer(bad, 1, 99_999), None, "{bad:?}");
        }
    }

    #[test]
    fn phones_are_normalised_then_checked() {
        assert_eq!(
            normalise_phone("09270348095").as_deref(),
            Some("09270348095")
        );
        assert_eq!(
            normalise_phone("+639270348095").as_deref(),
            Some("09270348095")
        );
        assert_eq!(
            normalise_phone("639270348095").as_deref(),
            Some("09270348095")
        );
        assert_eq!(
            normalise_phone("08123456789").as_deref(),
            Some("08123456789")
        );
        // SkyPay's own collectionCollect sample: one digit short.
        assert_eq!(normalise_phone("6392210083333"), None);
        for bad in [
            "07123456789",
            "0927034809",
            "092703480951",
            "+63927034809",
            "0927034809a",
        ] {
            assert_eq!(normalise_phone(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn payout_names_need_last_and_first() {
        assert!(valid_payout_name("Lardizabal,Mary Annalou B.,Berja,").is_ok());
        assert!(valid_payout_name("Cruz,Juan").is_ok());
        assert!(valid_payout_name("Cruz").is_err());
        assert!(valid_payout_name(",Juan").is_err());
        assert!(valid_payout_name("Cruz, ").is_err());
        assert!(valid_payout_name("a,b,c,d,e").is_err());
        assert!(valid_payout_name(&format!("{},Juan", "x".repeat(50))).is_err());
    }

    #[test]
    fn channels_split_into_pickup_and_pushed() {
        assert!(!PayoutChannel::from_code(1).unwrap().is_pushed());
        assert!(!PayoutChannel::from_code(9).unwrap().is_pushed());
        assert_eq!(PayoutChannel::from_code(5), Some(PayoutChannel::Bank));
        for c in [6, 8, 15] {
            assert!(PayoutChannel::from_code(c).unwrap().is_pushed());
        }
        for c in [0, 2, 3, 13, 99] {
            assert!(PayoutChannel::from_code(c).is_none());
        }
    }
}
