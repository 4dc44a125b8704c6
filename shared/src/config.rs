//! Configuration from the environment (SPEC section 10).
//!
//! Everything is read and checked once, at start. A missing or invalid variable is an error that
//! names the variable, so a function stops at init instead of failing requests one by one.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

use crate::protocol::auth::AuthKeys;
use crate::protocol::crypto::{Encryption, Keys};
use crate::protocol::rules::Prefix;

pub const TABLE_NAME: &str = "TABLE_NAME";
pub const SKYPAY_USERNAME: &str = "SKYPAY_USERNAME";
pub const SKYPAY_AUTH_KEYS: &str = "SKYPAY_AUTH_KEYS";
pub const CONTROL_NUMBER_PREFIX: &str = "CONTROL_NUMBER_PREFIX";
pub const SKYPAY_ENCRYPTION_KEY: &str = "SKYPAY_ENCRYPTION_KEY";
pub const SKYPAY_ENCRYPTION: &str = "SKYPAY_ENCRYPTION";
pub const ALLOWED_SOURCE_CIDRS: &str = "ALLOWED_SOURCE_CIDRS";
pub const PAYOUT_VALIDITY_HOURS: &str = "PAYOUT_VALIDITY_HOURS";
pub const SKYPAY_API_URL: &str = "SKYPAY_API_URL";
pub const SKYPAY_SENDER: &str = "SKYPAY_SENDER";
pub const SKYPAY_SENDER_ADDRESS: &str = "SKYPAY_SENDER_ADDRESS";
pub const SKYPAY_API_TIMEOUT_SECONDS: &str = "SKYPAY_API_TIMEOUT_SECONDS";

/// Defaults for the local server (SPEC section 9). The Lambda functions have none.
pub mod local_defaults {
    pub const TABLE_NAME: &str = "skypay-ledger";
    pub const USERNAME: &str = "AppName@skypay";
    /// The key of SkyPay's own samples. Printed at start only when it is in use.
    pub const AUTH_KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";
    pub const PREFIX: &str = "SKY01";
}

const DEFAULT_PAYOUT_VALIDITY_HOURS: u32 = 168;
/// `SKYPAY_API_TIMEOUT_SECONDS` when unset: the one default for every call we make to SkyPay.
pub const DEFAULT_API_TIMEOUT_SECONDS: u64 = 10;
/// Ten years: longer than any loan product needs, short enough that `expiresAt` stays far from
/// chrono's and DynamoDB's limits.
const MAX_PAYOUT_VALIDITY_HOURS: u32 = 24 * 366 * 10;

/// A configuration error: always names the variable.
#[derive(thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not set")]
    Missing { name: &'static str },
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

// `main` returning `Err` prints the Debug form: make it the readable message.
impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// SkyPay's one address for every call we make (`SKYPAY_API_URL`, SPEC 13.1).
#[derive(Clone, Debug)]
pub struct SkyPayApi {
    pub url: String,
    /// The whole exchange with SkyPay, answer included (`SKYPAY_API_TIMEOUT_SECONDS`,
    /// default 10).
    pub timeout: std::time::Duration,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    pub username: String,
    pub auth_keys: AuthKeys,
    /// True when the keys are the built-in development default (local server only): only then
    /// may the key be printed (SPEC 12.12).
    pub auth_keys_are_builtin_default: bool,
    pub prefix: Prefix,
    pub encryption: Encryption,
    pub allowed_sources: Vec<IpNet>,
    pub payout_validity: chrono::Duration,
    /// Our sender name (`SKYPAY_SENDER`): in every payoutQueue push, and in payoutInquiry's
    /// answer. Required whenever `SKYPAY_API_URL` is set.
    pub sender: Option<String>,
    /// Our remittance address (`SKYPAY_SENDER_ADDRESS`), in payoutInquiry's answer.
    pub sender_address: Option<String>,
    pub skypay_api: Option<SkyPayApi>,
}

/// Where configuration values come from: the process environment, or a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Environment;

impl Source for Environment {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F: Fn(&str) -> Option<String>> Source for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Whether absent variables fall back to the local server's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defaults {
    /// Lambda: every required variable must be set.
    None,
    /// `skypay-local`: SPEC section 9's development defaults.
    Local,
}

impl Config {
    /// The Lambda configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::load(&Environment, Defaults::None)
    }

    /// Every variable, in the order of the table in docs (one named step each); the first
    /// missing or invalid one stops the process with its name.
    pub fn load(source: &dyn Source, defaults: Defaults) -> Result<Config, ConfigError> {
        let vars = Vars {
            source,
            local: defaults == Defaults::Local,
        };
        let table_name = vars.table_name()?;
        let username = vars.username()?;
        let (auth_keys, auth_keys_are_builtin_default) = vars.auth_keys()?;
        let prefix = vars.prefix()?;
        let encryption = load_encryption(&|name: &str| vars.get(name))?;
        let allowed_sources = match vars.get(ALLOWED_SOURCE_CIDRS) {
            None => Vec::new(),
            Some(list) => parse_cidrs(&list)?,
        };
        let payout_validity_hours = vars.payout_validity_hours()?;
        let sender = vars.bounded(SKYPAY_SENDER, 100)?;
        let sender_address = vars.bounded(SKYPAY_SENDER_ADDRESS, 255)?;
        let skypay_api = vars.skypay_api(sender.is_some())?;
        Ok(Config {
            table_name,
            username,
            auth_keys,
            auth_keys_are_builtin_default,
            prefix,
            encryption,
            allowed_sources,
            payout_validity: chrono::Duration::hours(i64::from(payout_validity_hours)),
            sender,
            sender_address,
            skypay_api,
        })
    }

    /// payout-queue in Lambda pushes for real: it refuses to start without SkyPay's address,
    /// rather than marking payouts QUEUED that nobody pushed.
    pub fn require_skypay_api(&self) -> Result<&SkyPayApi, ConfigError> {
        self.skypay_api.as_ref().ok_or(ConfigError::Missing {
            name: SKYPAY_API_URL,
        })
    }

    /// `ALLOWED_SOURCE_CIDRS`: empty allows any source; otherwise the caller's address must be
    /// known and inside one of the ranges.
    pub fn source_allowed(&self, source: Option<IpAddr>) -> bool {
        if self.allowed_sources.is_empty() {
            return true;
        }
        let Some(ip) = source else { return false };
        // An IPv4 address may reach us written as IPv4-mapped IPv6.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.allowed_sources.iter().any(|net| net.contains(&ip))
    }
}

/// Whether an http(s) URL names this machine (`localhost`, `127.0.0.0/8`, `::1`).
pub fn url_is_loopback(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // No user info: `http://127.0.0.1@evil.example/` is not loopback.
    if authority.contains('@') {
        return false;
    }
    authority_is_loopback(authority)
}

/// Whether a URL authority or an HTTP `Host` (`host`, `host:port`, `[v6]:port`) names this
/// machine: `localhost` or a loopback address.
pub fn authority_is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The variables as [`Config::load`] reads them: an empty value counts as unset, and with
/// skypay-local's defaults a required one falls back to SPEC section 9's.
struct Vars<'a> {
    source: &'a dyn Source,
    local: bool,
}

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.source.get(name).filter(|v| !v.trim().is_empty())
    }

    fn required(&self, name: &'static str, default: &str) -> Result<String, ConfigError> {
        match self.get(name) {
            Some(v) => Ok(v.trim().to_owned()),
            None if self.local => Ok(default.to_owned()),
            None => Err(ConfigError::Missing { name }),
        }
    }

    /// An optional text of at most `max` characters.
    fn bounded(&self, name: &'static str, max: usize) -> Result<Option<String>, ConfigError> {
        match self.get(name).map(|v| v.trim().to_owned()) {
            Some(v) if v.chars().count() > max => {
                Err(invalid(name, format!("longer than {max} characters")))
            }
            other => Ok(other),
        }
    }

    fn table_name(&self) -> Result<String, ConfigError> {
        let table_name = self.required(TABLE_NAME, local_defaults::TABLE_NAME)?;
        if !valid_table_name(&table_name) {
            return Err(invalid(
                TABLE_NAME,
                "a DynamoDB table name is 3-255 of A-Z a-z 0-9 _ - .",
            ));
        }
        Ok(table_name)
    }

    fn username(&self) -> Result<String, ConfigError> {
        let username = self.required(SKYPAY_USERNAME, local_defaults::USERNAME)?;
        if username.chars().count() > 50 {
            return Err(invalid(SKYPAY_USERNAME, "longer than 50 characters"));
        }
        Ok(username)
    }

    /// The keys, and whether they are the built-in development default.
    fn auth_keys(&self) -> Result<(AuthKeys, bool), ConfigError> {
        let raw_keys = self.get(SKYPAY_AUTH_KEYS);
        let builtin = raw_keys.is_none() && self.local;
        let raw_keys = match raw_keys {
            Some(v) => SecretString::from(v),
            None if self.local => SecretString::from(local_defaults::AUTH_KEY.to_owned()),
            None => {
                return Err(ConfigError::Missing {
                    name: SKYPAY_AUTH_KEYS,
                });
            }
        };
        let keys = key_list(SKYPAY_AUTH_KEYS, raw_keys.expose_secret())?
            .into_iter()
            .map(|key| SecretString::from(key.to_owned()))
            .collect();
        let keys =
            AuthKeys::new(keys).ok_or_else(|| invalid(SKYPAY_AUTH_KEYS, "no key in the list"))?;
        Ok((keys, builtin))
    }

    fn prefix(&self) -> Result<Prefix, ConfigError> {
        let text = self.required(CONTROL_NUMBER_PREFIX, local_defaults::PREFIX)?;
        Prefix::new(&text).ok_or_else(|| {
            invalid(
                CONTROL_NUMBER_PREFIX,
                "must be exactly 5 ASCII letters or digits",
            )
        })
    }

    fn payout_validity_hours(&self) -> Result<u32, ConfigError> {
        match self.get(PAYOUT_VALIDITY_HOURS) {
            None => Ok(DEFAULT_PAYOUT_VALIDITY_HOURS),
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|h| (1..=MAX_PAYOUT_VALIDITY_HOURS).contains(h))
                .ok_or_else(|| {
                    invalid(
                        PAYOUT_VALIDITY_HOURS,
                        format!(
                            "must be a whole number of hours from 1 to {MAX_PAYOUT_VALIDITY_HOURS}"
                        ),
                    )
                }),
        }
    }

    /// `SKYPAY_API_URL` and its timeout; the sender is required with it (SPEC 12.7).
    fn skypay_api(&self, has_sender: bool) -> Result<Option<SkyPayApi>, ConfigError> {
        let Some(url) = self.get(SKYPAY_API_URL) else {
            return Ok(None);
        };
        let url = url.trim().to_owned();
        // The SkyPay client parses it fully when payout-queue starts; this check keeps the URL
        // parser out of the other functions' binaries.
        let host = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .and_then(|rest| rest.split(['/', '?', '#']).next())
            .unwrap_or("");
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(invalid(SKYPAY_API_URL, "must be an http(s) URL"));
        }
        // SPEC 14.4: in Lambda our calls to SkyPay carry the keys, so only over TLS; plain
        // http stays for a simulator on this machine.
        if !self.local && !url.starts_with("https://") && !url_is_loopback(&url) {
            return Err(invalid(
                SKYPAY_API_URL,
                "must be https:// (http:// only to a loopback address)",
            ));
        }
        if !has_sender {
            return Err(ConfigError::Missing {
                name: SKYPAY_SENDER,
            });
        }
        let timeout = match self.get(SKYPAY_API_TIMEOUT_SECONDS) {
            None => DEFAULT_API_TIMEOUT_SECONDS,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=60).contains(s))
                .ok_or_else(|| {
                    invalid(
                        SKYPAY_API_TIMEOUT_SECONDS,
                        "must be whole seconds from 1 to 60",
                    )
                })?,
        };
        Ok(Some(SkyPayApi {
            url,
            timeout: std::time::Duration::from_secs(timeout),
        }))
    }
}

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn parse_cidrs(list: &str) -> Result<Vec<IpNet>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| invalid(ALLOWED_SOURCE_CIDRS, format!("{s:?} is not a CIDR range")))
        })
        .collect()
}

/// `SKYPAY_ENCRYPTION_KEY`: one key, or two comma-separated during SkyPay's rotation (SPEC
/// 14.4), the one we send under first.
/// A comma-separated list of keys (`SKYPAY_AUTH_KEYS`, `SKYPAY_ENCRYPTION_KEY`): each trimmed,
/// none empty, none longer than 255 characters.
fn key_list<'a>(name: &'static str, text: &'a str) -> Result<Vec<&'a str>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .map(|key| {
            if key.is_empty() {
                Err(invalid(name, "an empty key in the list"))
            } else if key.chars().count() > 255 {
                Err(invalid(name, "a key longer than 255 characters"))
            } else {
                Ok(key)
            }
        })
        .collect()
}

fn encryption_keys(text: &str) -> Result<Keys, ConfigError> {
    let mut keys = key_list(SKYPAY_ENCRYPTION_KEY, text)?
        .into_iter()
        .map(|key| crate::protocol::crypto::derive_key(key.as_bytes()));
    match (keys.next(), keys.next(), keys.next()) {
        (Some(first), None, _) => Ok(Keys::one(first)),
        (Some(first), Some(second), None) => Ok(Keys::two(first, second)),
        _ => Err(invalid(
            SKYPAY_ENCRYPTION_KEY,
            "one key, or two during a rotation (comma-separated)",
        )),
    }
}

fn load_encryption(get: &dyn Fn(&str) -> Option<String>) -> Result<Encryption, ConfigError> {
    let mode = get(SKYPAY_ENCRYPTION).map(|m| m.trim().to_ascii_lowercase());
    let key = get(SKYPAY_ENCRYPTION_KEY)
        .map(|k| encryption_keys(&k))
        .transpose()?;
    match (mode.as_deref(), key) {
        (Some("off"), _) => Ok(Encryption::Off),
        (None | Some("auto"), None) => Ok(Encryption::Off),
        (None | Some("auto"), Some(key)) => Ok(Encryption::Auto(key)),
        (Some("required"), Some(key)) => Ok(Encryption::Required(key)),
        (Some("required"), None) => Err(ConfigError::Missing {
            name: SKYPAY_ENCRYPTION_KEY,
        }),
        (Some(_), _) => Err(invalid(SKYPAY_ENCRYPTION, "must be auto, required or off")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lambda_env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = [
            (TABLE_NAME, "ledger"),
            (SKYPAY_USERNAME, "AppName@skypay"),
            (SKYPAY_AUTH_KEYS, "key-one,key-two"),
            (CONTROL_NUMBER_PREFIX, "SKY01"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            map.insert(k.to_string(), v.to_string());
        }
        Config::load(&|name: &str| map.get(name).cloned(), Defaults::None)
    }

    fn error_names(result: Result<Config, ConfigError>, var: &str) {
        let err = result.expect_err("configuration should be refused");
        assert!(
            err.to_string().starts_with(var),
            "error {err} does not name {var}"
        );
    }

    #[test]
    fn lambda_requires_every_variable_and_names_it() {
        for var in [
            TABLE_NAME,
            SKYPAY_USERNAME,
            SKYPAY_AUTH_KEYS,
            CONTROL_NUMBER_PREFIX,
        ] {
            error_names(lambda_env(&[(var, "")]), var);
        }
    }

    #[test]
    fn invalid_values_name_their_variable() {
        error_names(
            lambda_env(&[(CONTROL_NUMBER_PREFIX, "SKY1")]),
            CONTROL_NUMBER_PREFIX,
        );
        error_names(lambda_env(&[(SKYPAY_AUTH_KEYS, "a,,b")]), SKYPAY_AUTH_KEYS);
        error_names(
            lambda_env(&[(PAYOUT_VALIDITY_HOURS, "0")]),
            PAYOUT_VALIDITY_HOURS,
        );
        error_names(
            lambda_env(&[(PAYOUT_VALIDITY_HOURS, "1.5")]),
            PAYOUT_VALIDITY_HOURS,
        );
        error_names(
            lambda_env(&[(ALLOWED_SOURCE_CIDRS, "10.0.0.0/33")]),
            ALLOWED_SOURCE_CIDRS,
        );
        error_names(
            lambda_env(&[(SKYPAY_ENCRYPTION, "sometimes")]),
            SKYPAY_ENCRYPTION,
        );
        error_names(
            lambda_env(&[(SKYPAY_ENCRYPTION, "required")]),
            SKYPAY_ENCRYPTION_KEY,
        );
        error_names(lambda_env(&[(SKYPAY_API_URL, "ftp://x")]), SKYPAY_API_URL);
        // SPEC 14.4: https only in Lambda, but for a loopback simulator.
        error_names(
            lambda_env(&[
                (SKYPAY_API_URL, "http://api.skypay.ph/services/partner"),
                (SKYPAY_SENDER, "Lender"),
            ]),
            SKYPAY_API_URL,
        );
        for url in [
            "https://api.skypay.ph/services/partner",
            "http://127.0.0.1:9000/services/partner",
            "http://localhost/services/partner",
            "http://[::1]:9/services/partner",
        ] {
            assert!(
                lambda_env(&[(SKYPAY_API_URL, url), (SKYPAY_SENDER, "Lender")]).is_ok(),
                "{url}"
            );
        }
        assert!(!url_is_loopback("http://127.0.0.1@evil.example/"));
        assert!(!url_is_loopback("http://localhost.evil.example/"));
        error_names(
            lambda_env(&[(SKYPAY_ENCRYPTION_KEY, "a,b,c")]),
            SKYPAY_ENCRYPTION_KEY,
        );
        error_names(
            lambda_env(&[(SKYPAY_ENCRYPTION_KEY, "a,")]),
            SKYPAY_ENCRYPTION_KEY,
        );
        error_names(
            lambda_env(&[(SKYPAY_API_URL, "https://skypay.example/api")]),
            SKYPAY_SENDER,
        );
        error_names(lambda_env(&[(TABLE_NAME, "a b")]), TABLE_NAME);
        error_names(
            lambda_env(&[(SKYPAY_SENDER_ADDRESS, &"x".repeat(256))]),
            SKYPAY_SENDER_ADDRESS,
        );
    }

    #[test]
    fn several_keys_are_live_and_none_is_shown_by_debug() {
        let config = lambda_env(&[]).unwrap();
        assert_eq!(config.auth_keys.count(), 2);
        assert_eq!(config.auth_keys.current().expose_secret(), "key-one");
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("key-one") && !debug.contains("key-two"),
            "{debug}"
        );
        assert!(!config.auth_keys_are_builtin_default);
    }

    #[test]
    fn local_defaults_follow_the_spec() {
        let config = Config::load(&|_: &str| None, Defaults::Local).unwrap();
        assert_eq!(config.table_name, "skypay-ledger");
        assert_eq!(config.username, "AppName@skypay");
        assert_eq!(config.prefix.as_str(), "SKY01");
        assert!(config.auth_keys_are_builtin_default);
        assert_eq!(config.payout_validity, chrono::Duration::hours(168));
    }

    #[test]
    fn source_cidrs_allow_and_refuse() {
        let config =
            lambda_env(&[(ALLOWED_SOURCE_CIDRS, "203.0.113.0/24, 2001:db8::/32")]).unwrap();
        assert!(config.source_allowed(Some("203.0.113.9".parse().unwrap())));
        assert!(config.source_allowed(Some("::ffff:203.0.113.9".parse().unwrap())));
        assert!(config.source_allowed(Some("2001:db8::1".parse().unwrap())));
        assert!(!config.source_allowed(Some("198.51.100.1".parse().unwrap())));
        assert!(!config.source_allowed(None));
        let open = lambda_env(&[]).unwrap();
        assert!(open.source_allowed(None));
    }
}
