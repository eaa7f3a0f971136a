//! Software custody: every key is sealed under the master keyring with
//! associated data naming its owner, and opened on demand into a bounded
//! cache. With a [`KeyWrap`] (a PKCS#11 token's AES key), what is sealed is
//! first wrapped by the token, so the key file alone opens nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use openccm_pki::{KeyAlgorithm, PkiError, PkiResult, Signer};
use zeroize::Zeroizing;

use crate::keyring::{Keyring, SealedSecret};
use crate::keys::SoftwareKey;
use crate::store::{export_software, KeyExport, KeyHandle, KeyStore, KeyUse, PendingKey};

/// The first bytes of a sealed plaintext that is wrapped by a token key. A
/// PKCS#8 key starts with a DER SEQUENCE (0x30) and imported material with
/// PEM or base64 text, never with a NUL.
pub(crate) const WRAPPED: &[u8] = b"\0OCW1";
/// The first bytes of a sealed plaintext that points at a token object.
pub(crate) const TOKEN_OBJECT: &[u8] = b"\0OCP1";
/// The first bytes of a resident key's sealed PKCS#8 (a software CA key):
/// custody refuses to export it. (CA keys sealed before this marker carry
/// none; no caller exports a CA key.)
const RESIDENT: &[u8] = b"\0OCR1";

/// Encryption of key material under a key that never leaves its device.
pub trait KeyWrap: Send + Sync {
    /// `plaintext` wrapped; the result starts with [`WRAPPED`].
    fn wrap(&self, plaintext: &[u8]) -> PkiResult<Vec<u8>>;
    /// What [`KeyWrap::wrap`] wrapped.
    fn unwrap(&self, wrapped: &[u8]) -> PkiResult<Zeroizing<Vec<u8>>>;
}

/// The most opened keys kept in memory.
const CACHE_CAPACITY: usize = 1024;

/// Key custody for software keys.
pub struct SoftwareKeyStore {
    keyring: Arc<Keyring>,
    wrap: Option<Arc<dyn KeyWrap>>,
    opened: Mutex<HashMap<String, Arc<SoftwareKey>>>,
}

impl std::fmt::Debug for SoftwareKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKeyStore")
            .field("wrapped", &self.wrap.is_some())
            .finish_non_exhaustive()
    }
}

fn key_aad(owner: &str) -> Vec<u8> {
    [b"key:".as_slice(), owner.as_bytes()].concat()
}

fn secret_aad(owner: &str) -> Vec<u8> {
    [b"secret:".as_slice(), owner.as_bytes()].concat()
}

impl SoftwareKeyStore {
    /// Custody under `keyring`.
    pub fn new(keyring: Arc<Keyring>) -> Self {
        Self {
            keyring,
            wrap: None,
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// Custody under `keyring`, with everything sealed from now on first
    /// wrapped by `wrap`. Keys sealed before (unwrapped) still open.
    pub fn wrapped(keyring: Arc<Keyring>, wrap: Arc<dyn KeyWrap>) -> Self {
        Self {
            keyring,
            wrap: Some(wrap),
            opened: Mutex::new(HashMap::new()),
        }
    }

    fn seal(&self, aad: &[u8], owner: &str, plaintext: &[u8]) -> PkiResult<KeyHandle> {
        let wrapped;
        let plaintext = match &self.wrap {
            Some(wrap) => {
                wrapped = wrap.wrap(plaintext)?;
                wrapped.as_slice()
            }
            None => plaintext,
        };
        Ok(self.seal_as_is(aad, owner, plaintext))
    }

    fn seal_as_is(&self, aad: &[u8], owner: &str, plaintext: &[u8]) -> KeyHandle {
        KeyHandle {
            owner: owner.to_owned(),
            sealed: self.keyring.seal(aad, plaintext).as_bytes().to_vec(),
        }
    }

    /// The sealed plaintext of a key handle, as sealed (a wrapped key or a
    /// token pointer is returned as it is).
    fn open_as_is(&self, aad: &[u8], handle: &KeyHandle) -> PkiResult<Zeroizing<Vec<u8>>> {
        self.keyring
            .open(aad, &SealedSecret::from_bytes(handle.sealed.clone()))
            .map_err(|e| {
                PkiError::Key(format!("the key of {} cannot be opened: {e}", handle.owner))
            })
    }

    fn open(&self, aad: &[u8], handle: &KeyHandle) -> PkiResult<Zeroizing<Vec<u8>>> {
        let plaintext = self.open_as_is(aad, handle)?;
        if plaintext.starts_with(WRAPPED) {
            let wrap = self.wrap.as_ref().ok_or_else(|| {
                PkiError::Key(format!(
                    "the key of {} is wrapped by a PKCS#11 token: start the server with its --pkcs11-module",
                    handle.owner
                ))
            })?;
            return wrap.unwrap(&plaintext);
        }
        if plaintext.starts_with(TOKEN_OBJECT) {
            return Err(PkiError::Key(format!(
                "the key of {} lives in a PKCS#11 token: start the server with its --pkcs11-module",
                handle.owner
            )));
        }
        Ok(plaintext)
    }

    /// Seals a pointer to a token object for `owner` (never wrapped: it is
    /// no secret, and the token may be the only way to unwrap).
    pub(crate) fn seal_token_pointer(&self, owner: &str, pointer: &[u8]) -> KeyHandle {
        self.seal_as_is(&key_aad(owner), owner, pointer)
    }

    /// The token pointer behind `handle`, if it is one.
    pub(crate) fn token_pointer(&self, handle: &KeyHandle) -> PkiResult<Option<Vec<u8>>> {
        let plaintext = self.open_as_is(&key_aad(&handle.owner), handle)?;
        Ok(plaintext.strip_prefix(TOKEN_OBJECT).map(<[u8]>::to_vec))
    }

    /// Seals `key` for `owner`.
    pub(crate) fn seal_key(
        &self,
        key: &SoftwareKey,
        owner: &str,
        usage: KeyUse,
    ) -> PkiResult<KeyHandle> {
        let pkcs8 = key.to_pkcs8_der()?;
        match usage {
            KeyUse::Exportable => self.seal(&key_aad(owner), owner, &pkcs8),
            KeyUse::Resident => {
                let marked = Zeroizing::new([RESIDENT, pkcs8.as_slice()].concat());
                self.seal(&key_aad(owner), owner, &marked)
            }
        }
    }

    /// The PKCS#8 of the key behind `handle`, and whether it is resident.
    fn open_pkcs8(&self, handle: &KeyHandle) -> PkiResult<(Zeroizing<Vec<u8>>, KeyUse)> {
        let plaintext = self.open(&key_aad(&handle.owner), handle)?;
        Ok(match plaintext.strip_prefix(RESIDENT) {
            Some(pkcs8) => (Zeroizing::new(pkcs8.to_vec()), KeyUse::Resident),
            None => (plaintext, KeyUse::Exportable),
        })
    }

    /// Opens the key behind `handle` (cached).
    ///
    /// Fails when the seal does not open (wrong key file, tampered row, or a
    /// handle moved to another owner).
    pub(crate) fn open_key(&self, handle: &KeyHandle) -> PkiResult<Arc<SoftwareKey>> {
        let cache_key = cache_key(handle);
        if let Ok(cache) = self.opened.lock() {
            if let Some(key) = cache.get(&cache_key) {
                return Ok(key.clone());
            }
        }
        let (pkcs8, _) = self.open_pkcs8(handle)?;
        let key = Arc::new(SoftwareKey::from_pkcs8_der(&pkcs8)?);
        if let Ok(mut cache) = self.opened.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(cache_key, key.clone());
        }
        Ok(key)
    }
}

impl KeyStore for SoftwareKeyStore {
    fn backend(&self, _usage: KeyUse) -> &'static str {
        "software"
    }

    fn supports(&self, _algorithm: KeyAlgorithm, _usage: KeyUse) -> PkiResult<()> {
        Ok(())
    }

    fn generate(
        &self,
        algorithm: KeyAlgorithm,
        owner: &str,
        usage: KeyUse,
    ) -> PkiResult<(KeyHandle, Arc<dyn Signer>)> {
        let key = SoftwareKey::generate(algorithm)?;
        let handle = self.seal_key(&key, owner, usage)?;
        Ok((handle, Arc::new(key)))
    }

    fn signer(&self, handle: &KeyHandle) -> PkiResult<Arc<dyn Signer>> {
        Ok(self.open_key(handle)?)
    }

    fn cached_signer(&self, handle: &KeyHandle) -> Option<Arc<dyn Signer>> {
        let cache_key = cache_key(handle);
        let key = self.opened.lock().ok()?.get(&cache_key).cloned()?;
        Some(key)
    }

    fn export(&self, handle: &KeyHandle, format: KeyExport<'_>) -> PkiResult<Zeroizing<Vec<u8>>> {
        let (pkcs8, usage) = self.open_pkcs8(handle)?;
        if usage == KeyUse::Resident {
            return Err(crate::store::not_exportable(&handle.owner));
        }
        export_software(&SoftwareKey::from_pkcs8_der(&pkcs8)?, format)
    }

    fn import(&self, owner: &str, material: &[u8]) -> PkiResult<KeyHandle> {
        self.seal(&secret_aad(owner), owner, material)
    }

    fn imported(&self, handle: &KeyHandle) -> PkiResult<Zeroizing<Vec<u8>>> {
        self.open(&secret_aad(&handle.owner), handle)
            .map_err(|_| PkiError::Key(format!("the secret of {} cannot be opened", handle.owner)))
    }

    fn open_sm2_envelope(&self, recipient: &KeyHandle, envelope: &[u8]) -> PkiResult<PendingKey> {
        let key = self.open_key(recipient)?;
        crate::export::open_sm2_enveloped_key(&key, envelope).map(PendingKey::from_software)
    }

    fn destroy(&self, handle: &KeyHandle) -> PkiResult<()> {
        if let Ok(mut cache) = self.opened.lock() {
            cache.remove(&cache_key(handle));
        }
        Ok(())
    }

    fn reseal(&self, handle: &KeyHandle) -> PkiResult<Option<KeyHandle>> {
        let sealed = SealedSecret::from_bytes(handle.sealed.clone());
        // A generated key is sealed for `key:`, imported material for
        // `secret:`; the wrong one does not open (AES-GCM checks it).
        for aad in [key_aad(&handle.owner), secret_aad(&handle.owner)] {
            match self.keyring.rekey(&aad, &sealed) {
                Ok(None) => return Ok(None),
                Ok(Some(resealed)) => {
                    return Ok(Some(KeyHandle {
                        owner: handle.owner.clone(),
                        sealed: resealed.as_bytes().to_vec(),
                    }))
                }
                Err(crate::keyring::KeyringError::Corrupt) => {}
                Err(e) => {
                    return Err(PkiError::Key(format!(
                        "the key of {} cannot be opened: {e}",
                        handle.owner
                    )))
                }
            }
        }
        Err(PkiError::Key(format!(
            "the key of {} does not open (tampered, or sealed for another owner)",
            handle.owner
        )))
    }
}

/// The cache entry of an opened key: its owner and the fingerprint of its
/// seal.
fn cache_key(handle: &KeyHandle) -> String {
    format!("{}:{}", handle.owner, hex_prefix(&handle.sealed))
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
        let custody = SoftwareKeyStore::new(ring.clone());
        let (handle, key) = custody
            .generate(KeyAlgorithm::Ec256, "cert:one", KeyUse::Exportable)
            .unwrap();
        assert_eq!(
            custody.signer(&handle).unwrap().public_key_der(),
            key.public_key_der()
        );
        let moved = KeyHandle {
            owner: "cert:two".into(),
            sealed: handle.sealed.clone(),
        };
        assert!(custody.signer(&moved).is_err());
        let other = SoftwareKeyStore::new(Arc::new(Keyring::from_keys(vec![(1, [4; 32])])));
        assert!(other.signer(&handle).is_err());
        // The sealed bytes do not contain the PKCS#8 key.
        let pem = custody
            .export(&handle, KeyExport::Pem { password: None })
            .unwrap();
        let pkcs8 = openccm_pki::key::parse_private_key_pem(std::str::from_utf8(&pem).unwrap())
            .unwrap()
            .pkcs8;
        assert!(!handle
            .sealed
            .windows(16)
            .any(|w| pkcs8.windows(16).any(|p| p == w)));
    }

    #[test]
    fn ca_keys_never_leave() {
        let custody = SoftwareKeyStore::new(Arc::new(Keyring::from_keys(vec![(1, [6; 32])])));
        let (handle, _) = custody
            .generate(KeyAlgorithm::Ec256, "ca:one", KeyUse::Resident)
            .unwrap();
        assert!(custody
            .export(&handle, KeyExport::Pem { password: None })
            .is_err());
        assert!(custody.signer(&handle).is_ok());
    }

    #[test]
    fn imports_open_only_for_their_owner_and_never_as_keys() {
        let custody = SoftwareKeyStore::new(Arc::new(Keyring::from_keys(vec![(1, [5; 32])])));
        let handle = custody
            .import("scm-cert:scs1", b"-----BEGIN PRIVATE KEY-----")
            .unwrap();
        assert_eq!(
            custody.imported(&handle).unwrap().as_slice(),
            b"-----BEGIN PRIVATE KEY-----"
        );
        let moved = KeyHandle {
            owner: "scm-cert:scs2".into(),
            sealed: handle.sealed.clone(),
        };
        assert!(custody.imported(&moved).is_err());
        // Imported material is not a sealed key, and the other way round.
        assert!(custody.signer(&handle).is_err());
        let (key_handle, _) = custody
            .generate(KeyAlgorithm::Ec256, "scm-cert:scs1", KeyUse::Exportable)
            .unwrap();
        assert!(custody.imported(&key_handle).is_err());
    }

    /// A stand-in wrap with a fixed XOR: enough to see that what is sealed
    /// is the wrapped form and that opening goes back through the wrap.
    struct Xor;
    impl KeyWrap for Xor {
        fn wrap(&self, plaintext: &[u8]) -> PkiResult<Vec<u8>> {
            Ok([
                WRAPPED,
                &plaintext.iter().map(|b| b ^ 0x5a).collect::<Vec<_>>(),
            ]
            .concat())
        }
        fn unwrap(&self, wrapped: &[u8]) -> PkiResult<Zeroizing<Vec<u8>>> {
            let body = wrapped.strip_prefix(WRAPPED).unwrap();
            Ok(Zeroizing::new(body.iter().map(|b| b ^ 0x5a).collect()))
        }
    }

    #[test]
    fn a_wrapped_store_seals_wrapped_and_still_opens_older_keys() {
        let ring = Arc::new(Keyring::from_keys(vec![(1, [7; 32])]));
        let plain = SoftwareKeyStore::new(ring.clone());
        let wrapped = SoftwareKeyStore::wrapped(ring.clone(), Arc::new(Xor));
        let (old, _) = plain
            .generate(KeyAlgorithm::Ec256, "cert:old", KeyUse::Exportable)
            .unwrap();
        let (new, key) = wrapped
            .generate(KeyAlgorithm::Ec256, "cert:new", KeyUse::Exportable)
            .unwrap();
        assert!(wrapped.signer(&old).is_ok());
        assert_eq!(
            wrapped.signer(&new).unwrap().public_key_der(),
            key.public_key_der()
        );
        // Without the wrap, the new key does not open, and says why.
        let err = plain.signer(&new).err().unwrap().to_string();
        assert!(err.contains("PKCS#11"), "{err}");
        let text = wrapped.import("scm-cert:x", b"text").unwrap();
        assert_eq!(wrapped.imported(&text).unwrap().as_slice(), b"text");
        assert!(plain.imported(&text).is_err());
    }
}
