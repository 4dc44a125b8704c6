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

use crate::config::crypto_key::Key;

type Encryptor = ecb::Encryptor<Aes128>;
type Decryptor = ecb::Decryptor<Aes128>;

/// The AES key from `SKYPAY_ENCRYPTION_KEY`.
pub fn derive_key(secret: &[u8]) -> Key {
    let twice = Sha1::digest(Sha1::digest(secret));
    let mut key = [0u8; 16];
    for (k, d) in key.iter_mut().zip(twice.iter()) {
        *k = *d;
    }
    Key(SecretBox::new(Box::new(key)))
}

pub fn encrypt(key: &Key, plain: &[u8]) -> String {
    let key: &[u8; 16] = key.0.expose_secret();
    let cipher = Encryptor::new(&(*key).into());
    STANDARD.encode(cipher.encrypt_padded_vec_mut::<Pkcs7>(plain))
}

/// `None` for anything that is not Base64 of a whole number of blocks with valid padding.
pub fn decrypt(key: &Key, text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD.decode(compact).ok()?;
    if bytes.is_empty() || bytes.len() % 16 != 0 {
        return None;
    }
    let key: &[u8; 16] = key.0.expose_secret();
    Decryptor::new(&(*key).into())
        .decrypt_padded_vec_mut::<Pkcs7>(&bytes)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
