//! SkyPay's optional AES layer (SPEC section 2, the v1.37 protocol): Base64 of
//! AES-128-ECB/PKCS#7 ciphertext, key = the first 16 bytes of SHA1(SHA1(key bytes)).
//!
//! ECB is SkyPay's choice, not ours; it is implemented only to speak their protocol, with
//! RustCrypto's maintained primitives.

use aes::Aes128;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretBox};
use sha1::{Digest, Sha1};

/// The 16-byte AES key derived from `SKYPAY_ENCRYPTION_KEY`. Debug never shows it.
pub struct Key(SecretBox<[u8; 16]>);

impl Clone for Key {
    fn clone(&self) -> Key {
        Key(SecretBox::new(Box::new(*self.0.expose_secret())))
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(redacted)")
    }
}

type Encryptor = ecb::Encryptor<Aes128>;
type Decryptor = ecb::Decryptor<Aes128>;

/// The AES key from `SKYPAY_ENCRYPTION_KEY`: the first 16 bytes of SHA1(SHA1(its UTF-8 bytes)).
pub fn derive_key(secret: &[u8]) -> Key {
    let twice = Sha1::digest(Sha1::digest(secret));
    let mut key = [0u8; 16];
    for (k, d) in key.iter_mut().zip(twice.iter()) {
        *k = *d;
    }
    Key(SecretBox::new(Box::new(key)))
}

/// The one or two AES keys of `SKYPAY_ENCRYPTION_KEY` (SPEC 14.4): SkyPay's "CC Change Key"
/// rotation enables a new key about five minutes before it is used, so for a while a body may
/// come under either. We send under the first. Debug never shows them.
#[derive(Clone, Debug)]
pub struct Keys {
    first: Key,
    second: Option<Key>,
}

/// Which of the configured keys opened a body; the reply goes back under the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySlot {
    First,
    Second,
}

impl Keys {
    pub fn one(key: Key) -> Keys {
        Keys {
            first: key,
            second: None,
        }
    }

    pub fn two(first: Key, second: Key) -> Keys {
        Keys {
            first,
            second: Some(second),
        }
    }

    /// The key everything we send is encrypted with.
    pub fn first(&self) -> &Key {
        &self.first
    }

    /// The key in a slot; the first when the slot is empty.
    pub fn get(&self, slot: KeySlot) -> &Key {
        match (slot, &self.second) {
            (KeySlot::Second, Some(second)) => second,
            _ => &self.first,
        }
    }

    /// The keys in order, with their slots.
    pub fn slots(&self) -> impl Iterator<Item = (KeySlot, &Key)> {
        std::iter::once((KeySlot::First, &self.first))
            .chain(self.second.iter().map(|k| (KeySlot::Second, k)))
    }
}

/// Why a ciphertext could not be opened: for the log line only. Every one of them is answered
/// with the same description (SPEC 14.4), so a caller learns nothing from a chosen ciphertext
/// about its padding or where its plaintext stops being JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AesFailure {
    NotBase64,
    /// Empty, or not a whole number of 16-byte blocks.
    BadLength,
    BadPadding,
}

impl AesFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            AesFailure::NotBase64 => "not Base64",
            AesFailure::BadLength => "not a whole number of AES blocks",
            AesFailure::BadPadding => "bad PKCS#7 padding (a wrong key, or a damaged body)",
        }
    }
}

pub fn encrypt(key: &Key, plain: &[u8]) -> String {
    let key: &[u8; 16] = key.0.expose_secret();
    let cipher = Encryptor::new(&(*key).into());
    STANDARD.encode(cipher.encrypt_padded_vec_mut::<Pkcs7>(plain))
}

/// The plaintext of Base64 of a whole number of blocks with valid padding; `None` for anything
/// else.
pub fn decrypt(key: &Key, text: &str) -> Option<Vec<u8>> {
    open(key, text).ok()
}

/// The same, saying why it failed (for the log).
pub fn open(key: &Key, text: &str) -> Result<Vec<u8>, AesFailure> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| AesFailure::NotBase64)?;
    if bytes.is_empty() || bytes.len() % 16 != 0 {
        return Err(AesFailure::BadLength);
    }
    let key: &[u8; 16] = key.0.expose_secret();
    Decryptor::new(&(*key).into())
        .decrypt_padded_vec_mut::<Pkcs7>(&bytes)
        .map_err(|_| AesFailure::BadPadding)
}

/// SPEC section 2's optional AES layer, with one or two live keys (SPEC 14.4).
#[derive(Clone, Debug)]
pub enum Encryption {
    /// Plain JSON only.
    Off,
    /// Plain JSON, or an encrypted body when it is not a JSON object.
    Auto(Keys),
    /// Encrypted bodies only.
    Required(Keys),
}

impl Encryption {
    /// The key everything we send is encrypted with (the first), when the layer is on (SPEC
    /// 13.1: `off` turns it off in both directions).
    pub fn key(&self) -> Option<&Key> {
        self.keys().map(Keys::first)
    }

    /// Every live key, when the layer is on.
    pub fn keys(&self) -> Option<&Keys> {
        match self {
            Encryption::Off => None,
            Encryption::Auto(keys) | Encryption::Required(keys) => Some(keys),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with an independent implementation:
    //   key=$(python3 -c "import hashlib;print(hashlib.sha1(hashlib.sha1(b'SkyPay-Partner-Secret')
    //         .digest()).hexdigest()[:32])")        # 666d8369bc49d079e16b0eb254e712ed
    //   printf '%s' hello | openssl enc -aes-128-ecb -K $key -nosalt -base64 -A
    const OPENSSL_HELLO: &str = "L4zPrqccOivAPxkex6J0vg==";
    const OPENSSL_PAYOUT: &str = "2ssT1WRwnmQVfTxhXjGw76tncKvhua233XxET0RyNdUIEG+MKVBPasIAAgWu0wnCZa6Y/hONMlViIaOvbQ2BX6ru4H3RsKCAQop4nkO+IKk3QNio9Jj5RjlUp22+peRqWU2xffihowB+99XG9aWt8bpMbIYlXYIKHWCeUA7TJ2qAfFsyKyXCFIWSiBwQ271qS1Ph4guqfz+01NxXCuYc2cAkPFm99lDjWHkRR8B4cf9zM6nf9Okb3z+e/vvDZcFxC/KjK05A+mwRCRx7alnTJA==";

    #[test]
    fn matches_openssl() {
        let key = derive_key(b"SkyPay-Partner-Secret");
        assert_eq!(encrypt(&key, b"hello"), OPENSSL_HELLO);
        let plain = decrypt(&key, OPENSSL_PAYOUT).unwrap();
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            r#"{"userName":"AppName@skypay","action":"payoutPayout","authentication":"30AC21B2-9EAA-4503-B0F0-7BE5C277ED75","controlNumber":"SKY0112345678","withdrawChannel":"1","payTime":"2019-02-18 14:59:33"}"#
        );
    }

    #[test]
    fn round_trips() {
        let key = derive_key(b"partner-secret");
        let sealed = encrypt(&key, br#"{"a":1}"#);
        assert_eq!(decrypt(&key, &sealed).unwrap(), br#"{"a":1}"#);
    }

    #[test]
    fn refuses_garbage_and_wrong_keys() {
        let key = derive_key(b"partner-secret");
        assert!(decrypt(&key, "not base64 !").is_none());
        assert!(decrypt(&key, "").is_none());
        assert!(decrypt(&key, "AAAA").is_none());
        let sealed = encrypt(&key, b"hello world, long enough");
        let other = derive_key(b"another-secret");
        // A wrong key almost always breaks the padding; when it does not, the text is garbage.
        assert_ne!(
            decrypt(&other, &sealed).as_deref(),
            Some(&b"hello world, long enough"[..])
        );
    }
}
