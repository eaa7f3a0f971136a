//! Key custody: keys are addressed by handle, sealed at rest under the master
//! keyring with associated data naming their owner, and opened on demand into
//! a bounded cache. Every use of a CA key goes through [`KeyCustody::signer`],
//! the one interface a PKCS#11 implementation will provide later.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use openccm_pki::{KeyAlgorithm, PkiError, PkiResult, Signer};
use zeroize::Zeroizing;

use crate::keyring::{Keyring, SealedSecret};
use crate::keys::SoftwareKey;

/// Where a private key lives: for software keys, its sealed PKCS#8 and the
/// name of its owner (bound into the seal).
#[derive(Clone, PartialEq, Eq)]
pub struct KeyHandle {
    /// The owner (`ca:<id>`, `cert:<id>`, `cert-enc:<id>`, ...).
    pub owner: String,
    /// The sealed key.
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for KeyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyHandle")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// The most opened keys kept in memory.
const CACHE_CAPACITY: usize = 1024;

/// Key custody for software keys.
pub struct KeyCustody {
    keyring: Arc<Keyring>,
    opened: Mutex<HashMap<String, Arc<SoftwareKey>>>,
}

impl std::fmt::Debug for KeyCustody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCustody").finish_non_exhaustive()
    }
}

fn aad(owner: &str) -> Vec<u8> {
    [b"key:".as_slice(), owner.as_bytes()].concat()
}

impl KeyCustody {
    /// Custody under `keyring`.
    pub fn new(keyring: Arc<Keyring>) -> Self {
        Self {
            keyring,
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// Generates a key for `owner` and returns its handle and the key. Slow
    /// for RSA: run on a blocking pool.
    pub fn generate(
        &self,
        algorithm: KeyAlgorithm,
        owner: &str,
    ) -> PkiResult<(KeyHandle, Arc<SoftwareKey>)> {
        let key = SoftwareKey::generate(algorithm)?;
        let handle = self.seal(&key, owner)?;
        Ok((handle, Arc::new(key)))
    }

    /// Seals `key` for `owner`.
    pub fn seal(&self, key: &SoftwareKey, owner: &str) -> PkiResult<KeyHandle> {
        let pkcs8 = key.to_pkcs8_der()?;
        Ok(KeyHandle {
            owner: owner.to_owned(),
            sealed: self.keyring.seal(&aad(owner), &pkcs8).as_bytes().to_vec(),
        })
    }

    /// Opens the key behind `handle` (cached).
    ///
    /// Fails when the seal does not open (wrong key file, tampered row, or a
    /// handle moved to another owner).
    pub fn open(&self, handle: &KeyHandle) -> PkiResult<Arc<SoftwareKey>> {
        let cache_key = format!("{}:{}", handle.owner, hex_prefix(&handle.sealed));
        if let Ok(cache) = self.opened.lock() {
            if let Some(key) = cache.get(&cache_key) {
                return Ok(key.clone());
            }
        }
        let pkcs8 = self
            .keyring
            .open(
                &aad(&handle.owner),
                &SealedSecret::from_bytes(handle.sealed.clone()),
            )
            .map_err(|e| {
                PkiError::Key(format!("the key of {} cannot be opened: {e}", handle.owner))
            })?;
        let key = Arc::new(SoftwareKey::from_pkcs8_der(&pkcs8)?);
        if let Ok(mut cache) = self.opened.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(cache_key, key.clone());
        }
        Ok(key)
    }

    /// The signer of a CA key.
    pub fn signer(&self, handle: &KeyHandle) -> PkiResult<Arc<dyn Signer>> {
        Ok(self.open(handle)?)
    }

    /// Seals key material that is kept in the form its owner handed it in
    /// (an imported PEM private key, an SM2 envelope), for `owner`.
    pub fn seal_secret(&self, owner: &str, plaintext: &[u8]) -> KeyHandle {
        KeyHandle {
            owner: owner.to_owned(),
            sealed: self
                .keyring
                .seal(&secret_aad(owner), plaintext)
                .as_bytes()
                .to_vec(),
        }
    }

    /// Opens what [`KeyCustody::seal_secret`] sealed.
    pub fn open_secret(&self, handle: &KeyHandle) -> PkiResult<Zeroizing<Vec<u8>>> {
        self.keyring
            .open(
                &secret_aad(&handle.owner),
                &SealedSecret::from_bytes(handle.sealed.clone()),
            )
            .map_err(|e| {
                PkiError::Key(format!(
                    "the secret of {} cannot be opened: {e}",
                    handle.owner
                ))
            })
    }
}

fn secret_aad(owner: &str) -> Vec<u8> {
    [b"secret:".as_slice(), owner.as_bytes()].concat()
}

/// A short, non-secret fingerprint of sealed bytes (the nonce part), so a
/// re-sealed key under the same owner is a new cache entry.
fn hex_prefix(sealed: &[u8]) -> String {
    sealed
        .get(6..18)
        .map(|nonce| {
            nonce.iter().fold(String::new(), |mut out, b| {
                use std::fmt::Write as _;
                let _ = write!(out, "{b:02x}");
                out
            })
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_for_their_owner() {
        let ring = Arc::new(Keyring::from_keys(vec![(1, [3; 32])]));
        let custody = KeyCustody::new(ring.clone());
        let (handle, key) = custody.generate(KeyAlgorithm::Ec256, "ca:one").unwrap();
        assert_eq!(
            custody.open(&handle).unwrap().public_key(),
            key.public_key()
        );
        let moved = KeyHandle {
            owner: "ca:two".into(),
            sealed: handle.sealed.clone(),
        };
        assert!(custody.open(&moved).is_err());
        let other = KeyCustody::new(Arc::new(Keyring::from_keys(vec![(1, [4; 32])])));
        assert!(other.open(&handle).is_err());
        // The sealed bytes do not contain the PKCS#8 key.
        let pkcs8 = key.to_pkcs8_der().unwrap();
        assert!(!handle
            .sealed
            .windows(16)
            .any(|w| pkcs8.windows(16).any(|p| p == w)));
    }

    #[test]
    fn secrets_open_only_for_their_owner_and_never_as_keys() {
        let custody = KeyCustody::new(Arc::new(Keyring::from_keys(vec![(1, [5; 32])])));
        let handle = custody.seal_secret("scm-cert:scs1", b"-----BEGIN PRIVATE KEY-----");
        assert_eq!(
            custody.open_secret(&handle).unwrap().as_slice(),
            b"-----BEGIN PRIVATE KEY-----"
        );
        let moved = KeyHandle {
            owner: "scm-cert:scs2".into(),
            sealed: handle.sealed.clone(),
        };
        assert!(custody.open_secret(&moved).is_err());
        // A sealed secret is not a sealed key, and the other way round.
        assert!(custody.open(&handle).is_err());
        let (key_handle, _) = custody
            .generate(KeyAlgorithm::Ec256, "scm-cert:scs1")
            .unwrap();
        assert!(custody.open_secret(&key_handle).is_err());
    }
}
