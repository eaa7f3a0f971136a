//! PKCS#11 custody: CA keys (resident) are generated inside the token as
//! sensitive, non-extractable objects and sign there; exportable keys stay in
//! software, sealed under the keyring as before but first wrapped (AES-GCM)
//! by an AES key that lives in the token, so the master key file alone opens
//! none of them.
//!
//! A resident key's row holds a sealed pointer (`TOKEN_OBJECT` + the
//! object's `CKA_ID`), bound to its owner like any sealed key; the object's
//! `CKA_LABEL` is the owner, for an operator reading the token.
//!
//! The module is loaded through `cryptoki`, so this crate keeps
//! `unsafe_code` forbidden. [`token`] holds the session pool and recovery,
//! [`keys`] the key objects.

mod keys;
mod token;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cryptoki::mechanism::MechanismType;
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use openccm_pki::{KeyAlgorithm, PkiError, PkiResult, Signer};
use zeroize::Zeroizing;

use self::keys::{TokenKey, TokenWrap};
use self::token::{p11, Kind, Token};
use crate::keyring::Keyring;
use crate::software::{SoftwareKeyStore, TOKEN_OBJECT};
use crate::store::{KeyExport, KeyHandle, KeyStore, KeyUse, PendingKey};

/// Where the token is and how to log in.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// The PKCS#11 module (a shared library).
    pub module: PathBuf,
    /// The label of the token to use.
    pub token_label: String,
    /// The user PIN.
    pub pin: Zeroizing<String>,
}

impl std::fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .finish_non_exhaustive()
    }
}

/// What a token says of one of its private keys (for operators and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKeyInfo {
    /// `CKA_LABEL`: the key's owner.
    pub label: String,
    /// `CKA_SENSITIVE`.
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE`.
    pub extractable: bool,
}

fn sm2_unsupported() -> PkiError {
    PkiError::Key(
        "the PKCS#11 token cannot hold SM2 CA keys (PKCS#11 defines no SM2 mechanism): create SM2 CAs on a server without --pkcs11-module".to_owned(),
    )
}

/// Custody with a PKCS#11 token: resident keys in the token, exportable
/// keys in software wrapped by the token.
pub struct Pkcs11KeyStore {
    token: Arc<Token>,
    software: SoftwareKeyStore,
    signers: Mutex<HashMap<Vec<u8>, Arc<TokenKey>>>,
}

impl std::fmt::Debug for Pkcs11KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11KeyStore").finish_non_exhaustive()
    }
}

impl Pkcs11KeyStore {
    /// Opens and logs in to the token, and finds (or, on first use, makes)
    /// its wrapping key.
    pub fn open(config: &Pkcs11Config, keyring: Arc<Keyring>) -> PkiResult<Self> {
        let token = Arc::new(Token::open(config)?);
        for needed in [MechanismType::AES_KEY_GEN, MechanismType::AES_GCM] {
            if !token.supports(needed) {
                return Err(PkiError::Key(format!(
                    "the PKCS#11 token lacks {needed}, which wraps exportable keys"
                )));
            }
        }
        let wrap = Arc::new(TokenWrap::open_or_create(token.clone())?);
        Ok(Self {
            token,
            software: SoftwareKeyStore::wrapped(keyring, wrap),
            signers: Mutex::new(HashMap::new()),
        })
    }

    /// The token's private keys, as the token describes them.
    pub fn private_keys(&self) -> PkiResult<Vec<TokenKeyInfo>> {
        self.token.with_session(|session| {
            let objects = session
                .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
                .map_err(p11("object search"))?;
            let mut keys = Vec::new();
            for object in objects {
                let mut info = TokenKeyInfo {
                    label: String::new(),
                    sensitive: false,
                    extractable: true,
                };
                for attribute in session
                    .get_attributes(
                        object,
                        &[
                            AttributeType::Label,
                            AttributeType::Sensitive,
                            AttributeType::Extractable,
                        ],
                    )
                    .map_err(p11("attributes"))?
                {
                    match attribute {
                        Attribute::Label(label) => {
                            info.label = String::from_utf8_lossy(&label).into_owned();
                        }
                        Attribute::Sensitive(v) => info.sensitive = v,
                        Attribute::Extractable(v) => info.extractable = v,
                        _ => {}
                    }
                }
                keys.push(info);
            }
            Ok(keys)
        })
    }

    /// Logs out of the token, as an HSM restart does: the next call finds
    /// itself logged out and recovers (tests use this).
    ///
    /// # Errors
    /// When the module refuses.
    pub fn log_out(&self) -> PkiResult<()> {
        self.token.log_out()
    }

    fn token_key(&self, id: &[u8]) -> PkiResult<Arc<TokenKey>> {
        if let Some(key) = self.signers.lock().ok().and_then(|s| s.get(id).cloned()) {
            return Ok(key);
        }
        let public_key = self.token.with_session(|session| {
            let public_object = self.token.object(session, Kind::Public, id)?;
            keys::public_key_der(session, public_object)
        })?;
        let spki = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(&public_key)
            .map_err(|e| PkiError::Key(e.to_string()))?;
        let key = Arc::new(TokenKey {
            token: self.token.clone(),
            id: id.to_vec(),
            algorithm: KeyAlgorithm::of_spki(&spki)?,
            public_key,
        });
        if let Ok(mut signers) = self.signers.lock() {
            signers.insert(id.to_vec(), key.clone());
        }
        Ok(key)
    }
}

impl KeyStore for Pkcs11KeyStore {
    fn backend(&self, usage: KeyUse) -> &'static str {
        match usage {
            KeyUse::Resident => "pkcs11",
            KeyUse::Exportable => "software (wrapped by the PKCS#11 token)",
        }
    }

    fn supports(&self, algorithm: KeyAlgorithm, usage: KeyUse) -> PkiResult<()> {
        if usage == KeyUse::Exportable {
            return Ok(());
        }
        let (generation, signing) = match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => (
                MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                MechanismType::RSA_PKCS,
            ),
            KeyAlgorithm::Ec256 | KeyAlgorithm::Ec384 => {
                (MechanismType::ECC_KEY_PAIR_GEN, MechanismType::ECDSA)
            }
            // PKCS#11 names no SM2 mechanism; vendor extensions differ.
            KeyAlgorithm::Sm2 => return Err(sm2_unsupported()),
        };
        for needed in [generation, signing] {
            if !self.token.supports(needed) {
                return Err(PkiError::Key(format!(
                    "the PKCS#11 token lacks {needed}, needed for {} CA keys",
                    algorithm.as_str()
                )));
            }
        }
        Ok(())
    }

    fn generate(
        &self,
        algorithm: KeyAlgorithm,
        owner: &str,
        usage: KeyUse,
    ) -> PkiResult<(KeyHandle, Arc<dyn Signer>)> {
        if usage == KeyUse::Exportable {
            return self.software.generate(algorithm, owner, usage);
        }
        self.supports(algorithm, usage)?;
        let (id, public_key) = keys::generate_pair(&self.token, algorithm, owner)?;
        let handle = self
            .software
            .seal_token_pointer(owner, &[TOKEN_OBJECT, &id].concat());
        let key = Arc::new(TokenKey {
            token: self.token.clone(),
            id: id.clone(),
            algorithm,
            public_key,
        });
        if let Ok(mut signers) = self.signers.lock() {
            signers.insert(id, key.clone());
        }
        Ok((handle, key))
    }

    fn signer(&self, handle: &KeyHandle) -> PkiResult<Arc<dyn Signer>> {
        match self.software.token_pointer(handle)? {
            Some(id) => Ok(self.token_key(&id)?),
            None => self.software.signer(handle),
        }
    }

    fn cached_signer(&self, handle: &KeyHandle) -> Option<Arc<dyn Signer>> {
        match self.software.token_pointer(handle).ok()? {
            Some(id) => {
                let key = self.signers.lock().ok()?.get(&id).cloned()?;
                Some(key)
            }
            None => self.software.cached_signer(handle),
        }
    }

    fn export(&self, handle: &KeyHandle, format: KeyExport<'_>) -> PkiResult<Zeroizing<Vec<u8>>> {
        if self.software.token_pointer(handle)?.is_some() {
            return Err(crate::store::not_exportable(&handle.owner));
        }
        self.software.export(handle, format)
    }

    fn import(&self, owner: &str, material: &[u8]) -> PkiResult<KeyHandle> {
        self.software.import(owner, material)
    }

    fn imported(&self, handle: &KeyHandle) -> PkiResult<Zeroizing<Vec<u8>>> {
        self.software.imported(handle)
    }

    fn open_sm2_envelope(&self, recipient: &KeyHandle, envelope: &[u8]) -> PkiResult<PendingKey> {
        self.software.open_sm2_envelope(recipient, envelope)
    }

    fn reseal(&self, handle: &KeyHandle) -> PkiResult<Option<KeyHandle>> {
        // Wrapped keys and token pointers are sealed like software keys.
        self.software.reseal(handle)
    }

    fn destroy(&self, handle: &KeyHandle) -> PkiResult<()> {
        let Some(id) = self.software.token_pointer(handle)? else {
            return self.software.destroy(handle);
        };
        if let Ok(mut signers) = self.signers.lock() {
            signers.remove(&id);
        }
        self.token.forget(&id);
        self.token.with_session(|session| {
            // The private half first: if the call fails between the two, a
            // public key is all that is left behind.
            for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
                for object in session
                    .find_objects(&[Attribute::Class(class), Attribute::Id(id.clone())])
                    .map_err(p11("object search"))?
                {
                    session
                        .destroy_object(object)
                        .map_err(p11("key destruction"))?;
                }
            }
            Ok(())
        })
    }
}
