//! Authentication of SkyPay's calls (SPEC section 2).
//!
//! `userName` must equal the configured user name and `authentication` one of the configured
//! keys. Both sides are hashed with SHA-256 first, so the comparison is over fixed-length
//! digests: its time depends neither on where the first difference is nor on the length of what
//! was sent. Every key is compared, the user name always is, and the results are combined with
//! `subtle`'s constant-time operators, so nothing tells a caller which part failed.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// The keys SkyPay authenticates with. Several are live at once while SkyPay rotates them.
/// The list is never empty: the first key is held apart. Debug never shows them.
#[derive(Clone)]
pub struct AuthKeys {
    current: SecretString,
    others: Vec<SecretString>,
}

impl AuthKeys {
    pub fn new(keys: Vec<SecretString>) -> Option<AuthKeys> {
        let mut keys = keys.into_iter();
        let current = keys.next()?;
        Some(AuthKeys {
            current,
            others: keys.collect(),
        })
    }
    pub fn iter(&self) -> impl Iterator<Item = &SecretString> {
        std::iter::once(&self.current).chain(self.others.iter())
    }
    /// The key we present when we call SkyPay: the first one listed (SPEC 12.7).
    pub fn current(&self) -> &SecretString {
        &self.current
    }
    /// How many keys are live (at least one).
    pub fn count(&self) -> usize {
        1 + self.others.len()
    }
}

impl std::fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthKeys({} redacted)", self.count())
    }
}

/// The credentials we accept, hashed once at start.
pub struct Verifier {
    username: [u8; 32],
    keys: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Verifier({} keys, redacted)", self.keys.len())
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Verifier {
    pub fn new(username: &str, keys: &AuthKeys) -> Verifier {
        Verifier {
            username: digest(username.as_bytes()),
            keys: keys
                .iter()
                .map(|k| digest(k.expose_secret().as_bytes()))
                .collect(),
        }
    }

    /// True when both are present and right. A missing field is refused like a wrong one.
    pub fn verify(&self, username: Option<&str>, key: Option<&str>) -> bool {
        let present = Choice::from(u8::from(username.is_some() && key.is_some()));
        let user_ok = digest(username.unwrap_or("").as_bytes()).ct_eq(&self.username);
        let sent_key = digest(key.unwrap_or("").as_bytes());
        let key_ok = self
            .keys
            .iter()
            .fold(Choice::from(0), |any, k| any | sent_key.ct_eq(k));
        bool::from(present & user_ok & key_ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(keys: &str) -> Verifier {
        let keys = keys.split(',').map(|k| SecretString::from(k.to_owned()));
        let keys = AuthKeys::new(keys.collect()).expect("a key");
        Verifier::new("AppName@skypay", &keys)
    }

    #[test]
    fn table_of_credentials() {
        let v = verifier("old-key,new-key");
        let user = Some("AppName@skypay");
        let cases = [
            (user, Some("old-key"), true),
            (user, Some("new-key"), true),
            (user, Some("new-key "), false),
            (user, Some("NEW-KEY"), false),
            (user, Some("new"), false),
            (user, Some("new-key-and-more"), false),
            (user, Some(""), false),
            (user, None, false),
            (Some("Other@skypay"), Some("new-key"), false),
            (Some("appname@skypay"), Some("new-key"), false),
            (None, Some("new-key"), false),
            (None, None, false),
        ];
        for (u, k, expected) in cases {
            assert_eq!(v.verify(u, k), expected, "{u:?} {k:?}");
        }
    }

    #[test]
    fn debug_hides_the_keys() {
        let v = verifier("secret-one");
        assert!(!format!("{v:?}").contains("secret"));
    }
}
