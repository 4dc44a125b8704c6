//! Manila time (UTC+8, no daylight saving), the only zone SkyPay speaks (SPEC section 2).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

/// Manila is UTC+8 all year. Evaluated when the crate compiles: it cannot fail at run time.
#[allow(clippy::panic)]
const MANILA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// The Manila offset.
pub fn manila() -> FixedOffset {
    MANILA
}

/// The Manila day of an instant.
pub fn manila_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&manila()).date_naive()
}

/// What reconciliation reads the time from and waits with: the system clock in production, a
/// clock the test moves in tests (SkyPay's 300 s and 30 min limits are tested without sleeps).
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
    /// Waits `duration` (a test clock moves forward instead).
    fn sleep(
        &self,
        duration: std::time::Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep(
        &self,
        duration: std::time::Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// SkyPay's date-time layout: `yyyy-MM-dd HH:mm:ss`.
const DATE_TIME: &str = "%Y-%m-%d %H:%M:%S";
const DATE: &str = "%Y-%m-%d";

/// The years a real SkyPay time falls in: SkyPay's Java clocks write four-digit years, and
/// nothing we pay or collect happened before 1900 (SPEC 3: "a real calendar time").
const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// A time SkyPay sent (`payTime`, `dealTime`, `collectedTime`): the string exactly as sent and
/// the instant it names. Both are stored (SPEC section 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkyPayTime {
    pub text: String,
    pub utc: DateTime<Utc>,
}

impl SkyPayTime {
    /// Parses `yyyy-MM-dd HH:mm:ss` as Manila local time. The layout is checked strictly (chrono
    /// alone would also take one-digit months), and the time must exist on the calendar: no
    /// second 60 (chrono reads it as a leap second; SkyPay's Java clocks never write one) and
    /// a year from 1900 to 9999.
    pub fn parse(text: &str) -> Option<SkyPayTime> {
        if !has_shape(text, "dddd-dd-dd dd:dd:dd") {
            return None;
        }
        let naive = NaiveDateTime::parse_from_str(text, DATE_TIME).ok()?;
        if naive.nanosecond() >= 1_000_000_000 || !YEARS.contains(&naive.year()) {
            return None;
        }
        let local = manila().from_local_datetime(&naive).single()?;
        Some(SkyPayTime {
            text: text.to_owned(),
            utc: local.with_timezone(&Utc),
        })
    }

    /// The same, allowing a fraction of a second after the seconds (`.5211`, up to nine
    /// digits), as financeNotification's `transctionDate` carries in SkyPay's samples
    /// (SPEC 13.4). The text is kept as sent.
    pub fn parse_with_fraction(text: &str) -> Option<SkyPayTime> {
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let mut parsed = SkyPayTime::parse(whole)?;
        if let Some(fraction) = fraction {
            if fraction.is_empty()
                || fraction.len() > 9
                || !fraction.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let digits: u32 = fraction.parse().ok()?;
            let nanos = digits.checked_mul(10u32.pow(9 - u32::try_from(fraction.len()).ok()?))?;
            parsed.utc = parsed.utc.with_nanosecond(nanos)?;
            parsed.text = text.to_owned();
        }
        Some(parsed)
    }

    /// The Manila calendar day this time falls on.
    pub fn manila_date(&self) -> NaiveDate {
        self.utc.with_timezone(&manila()).date_naive()
    }

    /// The same instant written the way SkyPay writes times.
    pub fn from_utc(utc: DateTime<Utc>) -> SkyPayTime {
        SkyPayTime {
            text: utc.with_timezone(&manila()).format(DATE_TIME).to_string(),
            utc,
        }
    }
}

/// Parses a `yyyy-MM-dd` calendar date (payoutQueue's `birthday`).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    if !has_shape(text, "dddd-dd-dd") {
        return None;
    }
    NaiveDate::parse_from_str(text, DATE)
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
}

/// An instant as ISO 8601 in Manila time, with its offset: `2019-02-18T14:59:33.000+08:00`.
pub fn iso_manila(utc: DateTime<Utc>) -> String {
    utc.with_timezone(&manila())
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// A time the ledger stored (RFC 3339, UTC): the instant, or the text as stored when it cannot
/// be read, so that what is shown is never less than what is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored(Result<DateTime<Utc>, String>);

impl From<&str> for Stored {
    fn from(text: &str) -> Stored {
        Stored(
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| text.to_owned()),
        )
    }
}

impl Stored {
    /// The instant, when the text could be read.
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        self.0.as_ref().ok().copied()
    }

    /// As [`iso_manila`]; unreadable text as stored.
    pub fn iso(&self) -> String {
        match &self.0 {
            Ok(at) => iso_manila(*at),
            Err(text) => text.clone(),
        }
    }
}

/// A time the ledger stored as RFC 3339 (UTC), as [`iso_manila`]; unreadable text is kept.
pub fn iso_of_stored(text: &str) -> String {
    Stored::from(text).iso()
}

/// `responseTime`: Manila time as `yyyy-MM-dd HH:mm:ss.ffff` (four fractional digits).
pub fn response_time(now: DateTime<Utc>) -> String {
    let local = now.with_timezone(&manila());
    // chrono has no four-digit fraction specifier; a leap second's nanosecond field can reach
    // 1_999_999_999, so clamp to keep exactly four digits.
    let ten_thousandths = (local.nanosecond() / 100_000).min(9_999);
    format!("{}.{:04}", local.format(DATE_TIME), ten_thousandths)
}

/// True when `text` has exactly the layout of `shape`, where `d` stands for an ASCII digit
/// and every other character for itself.
fn has_shape(text: &str, shape: &str) -> bool {
    text.len() == shape.len()
        && text.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            other => c == other,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_manila_time_into_utc() {
        let t = SkyPayTime::parse("2019-02-18 14:59:33").unwrap();
        assert_eq!(t.utc.to_rfc3339(), "2019-02-18T06:59:33+00:00");
        assert_eq!(t.text, "2019-02-18 14:59:33");
    }

    #[test]
    fn refuses_loose_or_impossible_times() {
        for bad in [
            "2019-2-18 14:59:33",
            "2019-02-30 10:00:00",
            "2019-02-18T14:59:33",
            "2019-02-18 24:00:00",
            "2019-02-18 14:59:33 ",
            "",
            "２０１９-02-18 14:59:33",
            // SPEC 14.7: no leap second, no year outside 1900-9999.
            "2019-02-18 23:59:60",
            "0000-01-01 00:00:00",
            "1899-12-31 23:59:59",
        ] {
            assert!(SkyPayTime::parse(bad).is_none(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn response_time_has_four_fraction_digits_in_manila() {
        let now = DateTime::parse_from_rfc3339("2018-06-18T09:52:10.521187Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(response_time(now), "2018-06-18 17:52:10.5211");
    }

    #[test]
    fn iso_times_carry_the_manila_offset() {
        let t = SkyPayTime::parse("2019-02-18 14:59:33").unwrap();
        assert_eq!(iso_manila(t.utc), "2019-02-18T14:59:33.000+08:00");
    }

    #[test]
    fn the_edges_of_the_years_are_real() {
        assert!(SkyPayTime::parse("1900-01-01 00:00:00").is_some());
        assert!(SkyPayTime::parse("9999-12-31 23:59:59").is_some());
        assert!(SkyPayTime::parse_with_fraction("2019-02-18 23:59:60.5").is_none());
    }

    #[test]
    fn round_trips_through_utc() {
        let t = SkyPayTime::parse("2024-12-31 23:59:59").unwrap();
        assert_eq!(SkyPayTime::from_utc(t.utc), t);
    }

    #[test]
    fn transaction_dates_may_carry_a_fraction() {
        let t = SkyPayTime::parse_with_fraction("2023-12-04 17:52:10.5211").unwrap();
        assert_eq!(t.utc.to_rfc3339(), "2023-12-04T09:52:10.521100+00:00");
        assert_eq!(t.text, "2023-12-04 17:52:10.5211");
        assert!(SkyPayTime::parse_with_fraction("2023-12-04 17:52:10").is_some());
        for bad in [
            "2023-12-04 17:52:10.",
            "2023-12-04 17:52:10.1234567890",
            "2023-12-04 17:52:10.12a",
            "2023-12-04 17:52",
        ] {
            assert!(SkyPayTime::parse_with_fraction(bad).is_none(), "{bad:?}");
        }
        // 23:30 UTC is the next day in Manila.
        let late = SkyPayTime::from_utc(
            DateTime::parse_from_rfc3339("2023-12-04T23:30:00Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        assert_eq!(late.manila_date().to_string(), "2023-12-05");
    }

    #[test]
    fn birthday_is_a_real_date() {
        assert!(parse_date("1991-10-02").is_some());
        assert!(parse_date("1991-02-29").is_none());
        assert!(parse_date("1991-1-02").is_none());
        assert!(parse_date("0000-01-01").is_none());
        assert!(parse_date("1900-01-01").is_some());
        assert!(parse_date("9999-12-31").is_some());
    }
}
