//! The one interface to private keys: [`KeyStore`]. The application asks it
//! to generate, sign, export, decrypt and destroy, by [`KeyHandle`], and never
//! holds a private key itself. Two implementations:
//! [`crate::software::SoftwareKeyStore`] (keys sealed under the master
//! keyring) and [`crate::pkcs11::Pkcs11KeyStore`] (CA keys inside a PKCS#11
//! token, exportable keys in software wrapped by a token key).
//!
//! A customer's key that is still being checked (an SCM import, an uploaded
//! CSR's key) is a [`PendingKey`]: custody parses it and answers questions
//! about it, and it is stored only through [`KeyStore::import`].

use std::sync::Arc;

use openccm_pki::{KeyAlgorithm, PkiError, PkiResult, Signer};
use zeroize::Zeroizing;

use crate::keys::SoftwareKey;

/// Where a private key lives: an opaque sealed reference (a sealed PKCS#8
/// key, a sealed wrapped key, or a sealed pointer to a token object) and the
/// name of its owner, bound into the seal so a row moved to another owner
/// does not open.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyHandle {
    /// The owner (`ca:<id>`, `cert:<id>`, `cert-enc:<id>`, ...).
    pub owner: String,
    /// The sealed reference.
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for KeyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyHandle")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// What a key is for, which decides where it may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Signs and never leaves custody (CA keys): inside the token when there
    /// is one.
    Resident,
    /// Delivered to its owner on export (keys generated for certificates and
    /// CSRs): in software, sealed (and wrapped by a token key when there is
    /// a token).
    Exportable,
}

/// The forms an exportable key leaves custody in.
pub enum KeyExport<'a> {
    /// PEM PKCS#8, encrypted under the password when one is given.
    Pem {
        /// The password, if any.
        password: Option<&'a str>,
    },
    /// PKCS#12 with the certificate and its chain.
    Pkcs12 {
        /// The key's certificate, DER.
        certificate: &'a [u8],
        /// The chain, DER.
        chain: &'a [Vec<u8>],
        /// The key bag's friendly name.
        friendly_name: &'a str,
        /// The password.
        password: &'a str,
    },
    /// An SM2 key enveloped to `recipient_public_key` (GM/T 0009), DER.
    Sm2Enveloped {
        /// The recipient's SubjectPublicKeyInfo DER.
        recipient_public_key: &'a [u8],
    },
    /// An SM2 key in a GM/T 0010 `signedAndEnvelopedData`, DER.
    Sm2SignedAndEnveloped {
        /// The recipient's certificate.
        recipient: &'a x509_cert::Certificate,
        /// The signer (the issuing CA's key).
        signer: &'a dyn Signer,
        /// The signer's certificate.
        signer_certificate: &'a x509_cert::Certificate,
    },
}

/// Private-key custody. Every private-key operation of the service goes
/// through one of these. Calls may block (RSA generation, a token round
/// trip): run them on a blocking pool.
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// Where keys of `usage` live here, for logs and errors (`software`,
    /// `pkcs11`).
    fn backend(&self, usage: KeyUse) -> &'static str;

    /// Whether keys of `algorithm` can be made for `usage`; the error says
    /// why not (an SM2 CA key on a token without SM2, say).
    fn supports(&self, algorithm: KeyAlgorithm, usage: KeyUse) -> PkiResult<()>;

    /// Generates a key pair for `owner`; returns its handle and its signer.
    fn generate(
        &self,
        algorithm: KeyAlgorithm,
        owner: &str,
        usage: KeyUse,
    ) -> PkiResult<(KeyHandle, Arc<dyn Signer>)>;

    /// The signer of the key behind `handle` (cached).
    fn signer(&self, handle: &KeyHandle) -> PkiResult<Arc<dyn Signer>>;

    /// The signer of the key behind `handle` if it is at hand without
    /// blocking (no token round trip, no key to parse): callers on an async
    /// executor try this first and go to a blocking pool otherwise.
    fn cached_signer(&self, handle: &KeyHandle) -> Option<Arc<dyn Signer>>;

    /// Exports a generated exportable key. A resident key never leaves: the
    /// call fails.
    fn export(&self, handle: &KeyHandle, format: KeyExport<'_>) -> PkiResult<Zeroizing<Vec<u8>>>;

    /// Takes a customer's key material for `owner` in the form it was handed
    /// in (a PEM key, an SM2 envelope), to be given back as is.
    fn import(&self, owner: &str, material: &[u8]) -> PkiResult<KeyHandle>;

    /// What [`KeyStore::import`] took.
    fn imported(&self, handle: &KeyHandle) -> PkiResult<Zeroizing<Vec<u8>>>;

    /// Opens an SM2 envelope (GM/T 0009 `SM2EnvelopedKey`, DER) addressed to
    /// the generated key behind `recipient`.
    fn open_sm2_envelope(&self, recipient: &KeyHandle, envelope: &[u8]) -> PkiResult<PendingKey>;

    /// Destroys the key behind `handle` where it has a life of its own (a
    /// token object). A software key lives only in its sealed row, and goes
    /// with it. Call after the row is gone: a crash in between leaves an
    /// orphan object, never a row without its key.
    fn destroy(&self, handle: &KeyHandle) -> PkiResult<()>;

    /// `handle` sealed again under the master key's current version, or
    /// `None` when it already is (master-key rotation). What is sealed
    /// stays as it is: a key wrapped by a token stays wrapped, a pointer to
    /// a token object stays a pointer.
    fn reseal(&self, handle: &KeyHandle) -> PkiResult<Option<KeyHandle>>;
}

/// A customer's private key while custody checks it, before it is stored:
/// it can prove possession of a public key, open an SM2 envelope and be
/// written back as PEM, and nothing else leaves it.
pub struct PendingKey(SoftwareKey);

impl std::fmt::Debug for PendingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PendingKey").finish_non_exhaustive()
    }
}

impl PendingKey {
    /// Reads a PEM private key (PKCS#8, PKCS#1 or SEC1; size-bounded,
    /// unencrypted).
    pub fn from_pem(pem: &str) -> PkiResult<Self> {
        let parsed = openccm_pki::key::parse_private_key_pem(pem)?;
        SoftwareKey::from_pkcs8_der(&parsed.pkcs8).map(Self)
    }

    pub(crate) fn from_software(key: SoftwareKey) -> Self {
        Self(key)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.0.algorithm()
    }

    /// Whether this is the private half of `public_key` (SPKI DER), proven
    /// by a signature.
    pub fn proves_possession_of(&self, public_key: &[u8]) -> PkiResult<bool> {
        self.0.proves_possession_of(public_key)
    }

    /// Opens an SM2 envelope addressed to this key.
    pub fn open_sm2_envelope(&self, envelope: &[u8]) -> PkiResult<PendingKey> {
        crate::export::open_sm2_enveloped_key(&self.0, envelope).map(Self)
    }

    /// The key as unencrypted PEM PKCS#8 (to be imported).
    pub fn to_pem(&self) -> PkiResult<Zeroizing<String>> {
        crate::export::private_key_pem(&self.0, None)
    }
}

/// The error for a resident key asked to leave.
pub(crate) fn not_exportable(owner: &str) -> PkiError {
    PkiError::Key(format!("the key of {owner} never leaves custody"))
}

/// Writes `key` out in `format`.
pub(crate) fn export_software(
    key: &SoftwareKey,
    format: KeyExport<'_>,
) -> PkiResult<Zeroizing<Vec<u8>>> {
    use crate::export;
    Ok(match format {
        KeyExport::Pem { password } => {
            Zeroizing::new(export::private_key_pem(key, password)?.as_bytes().to_vec())
        }
        KeyExport::Pkcs12 {
            certificate,
            chain,
            friendly_name,
            password,
        } => Zeroizing::new(export::pkcs12(
            key,
            certificate,
            chain,
            friendly_name,
            password,
        )?),
        KeyExport::Sm2Enveloped {
            recipient_public_key,
        } => Zeroizing::new(export::sm2_enveloped_key(key, recipient_public_key)?),
        KeyExport::Sm2SignedAndEnveloped {
            recipient,
            signer,
            signer_certificate,
        } => Zeroizing::new(export::sm2_signed_and_enveloped_data(
            key,
            recipient,
            signer,
            signer_certificate,
        )?),
    })
}
