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
//! `unsafe_code` forbidden.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use openccm_pki::{HashAlgorithm, KeyAlgorithm, PkiError, PkiResult, Signer};
use zeroize::Zeroizing;

use crate::keyring::Keyring;
use crate::software::{KeyWrap, SoftwareKeyStore, WRAPPED};
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

/// The label of the token's wrapping key(s).
const WRAP_KEY_LABEL: &str = "openccm-wrap-key";
/// Length of the object ids we give (`CKA_ID`).
const ID_LEN: usize = 16;
/// AES-GCM nonce and tag lengths.
const IV_LEN: usize = 12;
const TAG_BITS: u64 = 128;

/// DER of the named-curve OIDs (`CKA_EC_PARAMS`): P-256 and P-384.
const P256_PARAMS: [u8; 10] = hex_literal::hex!("06082a8648ce3d030107");
const P384_PARAMS: [u8; 7] = hex_literal::hex!("06052b81040022");

fn p11(context: &str) -> impl Fn(P11Error) -> PkiError + '_ {
    move |e| PkiError::Key(format!("PKCS#11 {context}: {e}"))
}

fn ossl(err: openssl::error::ErrorStack) -> PkiError {
    PkiError::Key(err.to_string())
}

/// An open, logged-in token: the module, its slot and a pool of sessions
/// (a `Session` is not `Sync`; each call takes one, and the login, which
/// PKCS#11 keeps per application, covers them all).
struct Token {
    context: Pkcs11,
    slot: Slot,
    sessions: Mutex<Vec<Session>>,
    mechanisms: Vec<MechanismType>,
}

impl Token {
    fn open(config: &Pkcs11Config) -> PkiResult<Self> {
        let context = Pkcs11::new(&config.module).map_err(|e| {
            PkiError::Key(format!(
                "cannot load the PKCS#11 module {}: {e}",
                config.module.display()
            ))
        })?;
        match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(p11("initialisation")(e)),
        }
        let slots = context
            .get_slots_with_token()
            .map_err(p11("slot listing"))?;
        let mut chosen = None;
        for slot in slots {
            let info = context.get_token_info(slot).map_err(p11("token info"))?;
            if info.label().trim_end() == config.token_label {
                chosen = Some(slot);
                break;
            }
        }
        let slot = chosen.ok_or_else(|| {
            PkiError::Key(format!(
                "no PKCS#11 token is labelled {:?}",
                config.token_label
            ))
        })?;
        // Asked one by one: listing them all makes `cryptoki` log an error
        // for every vendor mechanism it has no name for.
        let mechanisms = [
            MechanismType::AES_KEY_GEN,
            MechanismType::AES_GCM,
            MechanismType::RSA_PKCS_KEY_PAIR_GEN,
            MechanismType::SHA256_RSA_PKCS,
            MechanismType::SHA384_RSA_PKCS,
            MechanismType::SHA512_RSA_PKCS,
            MechanismType::ECC_KEY_PAIR_GEN,
            MechanismType::ECDSA,
        ]
        .into_iter()
        .filter(|m| context.get_mechanism_info(slot, *m).is_ok())
        .collect();
        let session = context.open_rw_session(slot).map_err(p11("session"))?;
        let pin = AuthPin::new(config.pin.as_str().into());
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(p11("login")(e)),
        }
        Ok(Self {
            context,
            slot,
            sessions: Mutex::new(vec![session]),
            mechanisms,
        })
    }

    /// Runs `f` on a pooled session. A session that failed is closed rather
    /// than pooled again (it may be the one the error was about).
    fn with_session<T>(&self, f: impl FnOnce(&Session) -> PkiResult<T>) -> PkiResult<T> {
        let pooled = self.sessions.lock().ok().and_then(|mut s| s.pop());
        let session = match pooled {
            Some(s) => s,
            None => self
                .context
                .open_rw_session(self.slot)
                .map_err(p11("session"))?,
        };
        let result = f(&session);
        if result.is_ok() {
            if let Ok(mut pool) = self.sessions.lock() {
                pool.push(session);
            }
        } else if let Ok(pool) = self.sessions.lock() {
            // Keep at least one session open: closing the last one would
            // log the application out of the token.
            if pool.is_empty() {
                drop(pool);
                if let Ok(mut pool) = self.sessions.lock() {
                    pool.push(session);
                }
            }
        }
        result
    }

    fn supports(&self, mechanism: MechanismType) -> bool {
        self.mechanisms.contains(&mechanism)
    }
}

/// A fresh `CKA_ID`.
fn random_id() -> PkiResult<Vec<u8>> {
    let mut id = vec![0u8; ID_LEN];
    openssl::rand::rand_bytes(&mut id).map_err(ossl)?;
    Ok(id)
}

/// The object of `class` with `CKA_ID` `id`.
fn find_object(session: &Session, class: ObjectClass, id: &[u8]) -> PkiResult<ObjectHandle> {
    let found = session
        .find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])
        .map_err(p11("object search"))?;
    found
        .first()
        .copied()
        .ok_or_else(|| PkiError::Key("the key's object is missing from the PKCS#11 token".into()))
}

/// The AES key in the token that wraps exportable keys. A wrapped blob names
/// the key (`CKA_ID`) it was wrapped with, so a second key (made by another
/// server racing this one at first start) does no harm.
struct TokenWrap {
    token: Arc<Token>,
    id: Vec<u8>,
    handles: Mutex<HashMap<Vec<u8>, ObjectHandle>>,
}

impl TokenWrap {
    fn open_or_create(token: Arc<Token>) -> PkiResult<Self> {
        let id = token.with_session(|session| {
            let existing = session
                .find_objects(&[
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::Label(WRAP_KEY_LABEL.as_bytes().to_vec()),
                ])
                .map_err(p11("wrap key search"))?;
            if let Some(&object) = existing.first() {
                let attributes = session
                    .get_attributes(object, &[AttributeType::Id])
                    .map_err(p11("wrap key id"))?;
                for attribute in attributes {
                    if let Attribute::Id(id) = attribute {
                        return Ok(id);
                    }
                }
                return Err(PkiError::Key("the token's wrap key has no CKA_ID".into()));
            }
            let id = random_id()?;
            session
                .generate_key(
                    &Mechanism::AesKeyGen,
                    &[
                        Attribute::Token(true),
                        Attribute::Private(true),
                        Attribute::Sensitive(true),
                        Attribute::Extractable(false),
                        Attribute::Encrypt(true),
                        Attribute::Decrypt(true),
                        Attribute::ValueLen(32.into()),
                        Attribute::Label(WRAP_KEY_LABEL.as_bytes().to_vec()),
                        Attribute::Id(id.clone()),
                    ],
                )
                .map_err(p11("wrap key generation"))?;
            Ok(id)
        })?;
        Ok(Self {
            token,
            id,
            handles: Mutex::new(HashMap::new()),
        })
    }

    fn handle(&self, session: &Session, id: &[u8]) -> PkiResult<ObjectHandle> {
        if let Some(handle) = self.handles.lock().ok().and_then(|h| h.get(id).copied()) {
            return Ok(handle);
        }
        let handle = find_object(session, ObjectClass::SECRET_KEY, id)?;
        if let Ok(mut handles) = self.handles.lock() {
            handles.insert(id.to_vec(), handle);
        }
        Ok(handle)
    }
}

impl KeyWrap for TokenWrap {
    fn wrap(&self, plaintext: &[u8]) -> PkiResult<Vec<u8>> {
        let mut iv = [0u8; IV_LEN];
        openssl::rand::rand_bytes(&mut iv).map_err(ossl)?;
        let iv_copy = iv;
        let ciphertext = self.token.with_session(|session| {
            let key = self.handle(session, &self.id)?;
            let params = GcmParams::new(&mut iv, WRAPPED, TAG_BITS.into()).map_err(p11("GCM"))?;
            session
                .encrypt(&Mechanism::AesGcm(params), key, plaintext)
                .map_err(p11("wrap"))
        })?;
        Ok([WRAPPED, &self.id, &iv_copy, &ciphertext].concat())
    }

    fn unwrap(&self, wrapped: &[u8]) -> PkiResult<Zeroizing<Vec<u8>>> {
        let malformed = || PkiError::Key("a wrapped key is malformed".into());
        let body = wrapped.strip_prefix(WRAPPED).ok_or_else(malformed)?;
        if body.len() < ID_LEN + IV_LEN {
            return Err(malformed());
        }
        let (id, rest) = body.split_at(ID_LEN);
        let (iv, ciphertext) = rest.split_at(IV_LEN);
        let mut iv: [u8; IV_LEN] = iv.try_into().map_err(|_| malformed())?;
        self.token.with_session(|session| {
            let key = self.handle(session, id)?;
            let params = GcmParams::new(&mut iv, WRAPPED, TAG_BITS.into()).map_err(p11("GCM"))?;
            session
                .decrypt(&Mechanism::AesGcm(params), key, ciphertext)
                .map(Zeroizing::new)
                .map_err(p11("unwrap"))
        })
    }
}

/// A key pair inside the token, as a [`Signer`].
struct TokenKey {
    token: Arc<Token>,
    object: ObjectHandle,
    algorithm: KeyAlgorithm,
    public_key: Vec<u8>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Signer for TokenKey {
    fn key_algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key_der(&self) -> &[u8] {
        &self.public_key
    }

    fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> PkiResult<Vec<u8>> {
        hash.check_fits(self.algorithm)?;
        let signing = |e: P11Error| PkiError::Signing(format!("PKCS#11: {e}"));
        if self.algorithm.is_rsa() {
            let mechanism = match hash {
                HashAlgorithm::Sha256 => Mechanism::Sha256RsaPkcs,
                HashAlgorithm::Sha384 => Mechanism::Sha384RsaPkcs,
                HashAlgorithm::Sha512 => Mechanism::Sha512RsaPkcs,
                HashAlgorithm::Sm3 => {
                    return Err(PkiError::SignatureAlgorithm("RSA with SM3".to_owned()))
                }
            };
            return self.token.with_session(|session| {
                session
                    .sign(&mechanism, self.object, message)
                    .map_err(signing)
            });
        }
        // ECDSA: the token signs the digest and returns r || s; X.509 wants
        // the DER `Ecdsa-Sig-Value`.
        let digest = hash.ecdsa_digest(message)?;
        let raw = self.token.with_session(|session| {
            session
                .sign(&Mechanism::Ecdsa, self.object, &digest)
                .map_err(signing)
        })?;
        if raw.is_empty() || raw.len() % 2 != 0 {
            return Err(PkiError::Signing(
                "the token returned a malformed ECDSA signature".to_owned(),
            ));
        }
        let (r, s) = raw.split_at(raw.len() / 2);
        let r = openssl::bn::BigNum::from_slice(r).map_err(ossl)?;
        let s = openssl::bn::BigNum::from_slice(s).map_err(ossl)?;
        openssl::ecdsa::EcdsaSig::from_private_components(r, s)
            .and_then(|sig| sig.to_der())
            .map_err(ossl)
    }
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

    fn generation_mechanism(algorithm: KeyAlgorithm) -> Option<MechanismType> {
        match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                Some(MechanismType::RSA_PKCS_KEY_PAIR_GEN)
            }
            KeyAlgorithm::Ec256 | KeyAlgorithm::Ec384 => Some(MechanismType::ECC_KEY_PAIR_GEN),
            // PKCS#11 names no SM2 mechanism; vendor extensions differ.
            KeyAlgorithm::Sm2 => None,
        }
    }

    fn generate_in_token(
        &self,
        algorithm: KeyAlgorithm,
        owner: &str,
    ) -> PkiResult<(Vec<u8>, Arc<TokenKey>)> {
        let id = random_id()?;
        let label = owner.as_bytes().to_vec();
        let common = [
            Attribute::Token(true),
            Attribute::Id(id.clone()),
            Attribute::Label(label.clone()),
        ];
        let (mechanism, mut public, key_type) = match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => (
                Mechanism::RsaPkcsKeyPairGen,
                vec![
                    Attribute::ModulusBits(u64::from(algorithm.rsa_bits().unwrap_or(2048)).into()),
                    Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                ],
                KeyType::RSA,
            ),
            KeyAlgorithm::Ec256 => (
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(P256_PARAMS.to_vec())],
                KeyType::EC,
            ),
            KeyAlgorithm::Ec384 => (
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(P384_PARAMS.to_vec())],
                KeyType::EC,
            ),
            KeyAlgorithm::Sm2 => return Err(sm2_unsupported()),
        };
        public.extend(common.iter().cloned());
        public.push(Attribute::Verify(true));
        let mut private = common.to_vec();
        private.extend([
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::KeyType(key_type),
        ]);
        let key = self.token.with_session(|session| {
            let (public_object, private_object) = session
                .generate_key_pair(&mechanism, &public, &private)
                .map_err(p11("key generation"))?;
            let public_key = public_key_der(session, public_object, algorithm)?;
            Ok(Arc::new(TokenKey {
                token: self.token.clone(),
                object: private_object,
                algorithm,
                public_key,
            }))
        })?;
        Ok((id, key))
    }

    fn token_key(&self, id: &[u8]) -> PkiResult<Arc<TokenKey>> {
        if let Some(key) = self.signers.lock().ok().and_then(|s| s.get(id).cloned()) {
            return Ok(key);
        }
        let key = self.token.with_session(|session| {
            let private_object = find_object(session, ObjectClass::PRIVATE_KEY, id)?;
            let public_object = find_object(session, ObjectClass::PUBLIC_KEY, id)?;
            let public_key = public_key_der_any(session, public_object)?;
            let spki = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(&public_key)
                .map_err(|e| PkiError::Key(e.to_string()))?;
            Ok(Arc::new(TokenKey {
                token: self.token.clone(),
                object: private_object,
                algorithm: KeyAlgorithm::of_spki(&spki)?,
                public_key,
            }))
        })?;
        if let Ok(mut signers) = self.signers.lock() {
            signers.insert(id.to_vec(), key.clone());
        }
        Ok(key)
    }
}

fn sm2_unsupported() -> PkiError {
    PkiError::Key(
        "the PKCS#11 token cannot hold SM2 CA keys (PKCS#11 defines no SM2 mechanism): create SM2 CAs on a server without --pkcs11-module".to_owned(),
    )
}

/// The SubjectPublicKeyInfo DER of a token public key of `algorithm`.
fn public_key_der(
    session: &Session,
    object: ObjectHandle,
    algorithm: KeyAlgorithm,
) -> PkiResult<Vec<u8>> {
    let der = public_key_der_any(session, object)?;
    let spki = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(&der)
        .map_err(|e| PkiError::Key(e.to_string()))?;
    if KeyAlgorithm::of_spki(&spki)? != algorithm {
        return Err(PkiError::Key(
            "the token made a key of another algorithm".to_owned(),
        ));
    }
    Ok(der)
}

/// The SubjectPublicKeyInfo DER of a token public key (RSA or EC on the
/// curves we use), built by OpenSSL from the token's attributes.
fn public_key_der_any(session: &Session, object: ObjectHandle) -> PkiResult<Vec<u8>> {
    use openssl::ec::{EcGroup, EcKey, EcPoint};
    use openssl::nid::Nid;
    let attributes = session
        .get_attributes(
            object,
            &[
                AttributeType::KeyType,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
                AttributeType::EcParams,
                AttributeType::EcPoint,
            ],
        )
        .map_err(p11("public key"))?;
    let (mut key_type, mut modulus, mut exponent, mut params, mut point) =
        (None, None, None, None, None);
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(t) => key_type = Some(t),
            Attribute::Modulus(v) => modulus = Some(v),
            Attribute::PublicExponent(v) => exponent = Some(v),
            Attribute::EcParams(v) => params = Some(v),
            Attribute::EcPoint(v) => point = Some(v),
            _ => {}
        }
    }
    let missing = || PkiError::Key("a token public key lacks its attributes".to_owned());
    let pkey = match key_type {
        Some(KeyType::RSA) => {
            let n = openssl::bn::BigNum::from_slice(&modulus.ok_or_else(missing)?).map_err(ossl)?;
            let e =
                openssl::bn::BigNum::from_slice(&exponent.ok_or_else(missing)?).map_err(ossl)?;
            openssl::pkey::PKey::from_rsa(
                openssl::rsa::Rsa::from_public_components(n, e).map_err(ossl)?,
            )
            .map_err(ossl)?
        }
        Some(KeyType::EC) => {
            let params = params.ok_or_else(missing)?;
            let nid = if params == P256_PARAMS {
                Nid::X9_62_PRIME256V1
            } else if params == P384_PARAMS {
                Nid::SECP384R1
            } else {
                return Err(PkiError::Key(
                    "a token EC key is on another curve".to_owned(),
                ));
            };
            let group = EcGroup::from_curve_name(nid).map_err(ossl)?;
            // CKA_EC_POINT is a DER OCTET STRING around the point (some
            // modules give the raw point).
            let point = point.ok_or_else(missing)?;
            let raw = <der::asn1::OctetString as der::Decode>::from_der(&point)
                .map(|o| o.as_bytes().to_vec())
                .unwrap_or(point);
            let mut ctx = openssl::bn::BigNumContext::new().map_err(ossl)?;
            let point = EcPoint::from_bytes(&group, &raw, &mut ctx).map_err(ossl)?;
            openssl::pkey::PKey::from_ec_key(EcKey::from_public_key(&group, &point).map_err(ossl)?)
                .map_err(ossl)?
        }
        _ => return Err(PkiError::Key("a token key is of an unused type".to_owned())),
    };
    pkey.public_key_to_der().map_err(ossl)
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
        let Some(mechanism) = Self::generation_mechanism(algorithm) else {
            return Err(sm2_unsupported());
        };
        let signing = if algorithm.is_rsa() {
            MechanismType::SHA256_RSA_PKCS
        } else {
            MechanismType::ECDSA
        };
        for needed in [mechanism, signing] {
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
        let (id, key) = self.generate_in_token(algorithm, owner)?;
        let pointer = [crate::software::TOKEN_OBJECT, &id].concat();
        let handle = self.software.seal_token_pointer(owner, &pointer);
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

    fn destroy(&self, handle: &KeyHandle) -> PkiResult<()> {
        let Some(id) = self.software.token_pointer(handle)? else {
            return self.software.destroy(handle);
        };
        if let Ok(mut signers) = self.signers.lock() {
            signers.remove(&id);
        }
        self.token.with_session(|session| {
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
