//! Keys inside the token: CA key pairs (generated there, signing there) and
//! the AES key that wraps exportable keys.

use std::sync::Arc;

use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use der::asn1::{Null, OctetString};
use der::Encode as _;
use openccm_pki::{HashAlgorithm, KeyAlgorithm, PkiError, PkiResult, Signer};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::token::{p11, Failure, Kind, Token};
use crate::software::{KeyWrap, WRAPPED};

/// Length of the object ids we give (`CKA_ID`).
pub(super) const ID_LEN: usize = 16;
/// AES-GCM nonce and tag lengths.
const IV_LEN: usize = 12;
const TAG_BITS: u64 = 128;
/// The label of the token's wrapping key(s).
const WRAP_KEY_LABEL: &str = "openccm-wrap-key";

/// DER of the named-curve OIDs (`CKA_EC_PARAMS`): P-256 and P-384.
pub(super) const P256_PARAMS: [u8; 10] = hex_literal::hex!("06082a8648ce3d030107");
pub(super) const P384_PARAMS: [u8; 7] = hex_literal::hex!("06052b81040022");

pub(super) fn ossl(err: openssl::error::ErrorStack) -> PkiError {
    PkiError::Key(err.to_string())
}

/// A fresh `CKA_ID`.
pub(super) fn random_id() -> PkiResult<Vec<u8>> {
    let mut id = vec![0u8; ID_LEN];
    openssl::rand::rand_bytes(&mut id).map_err(ossl)?;
    Ok(id)
}

/// The AES key in the token that wraps exportable keys. A wrapped blob names
/// the key (`CKA_ID`) it was wrapped with, so a second key (made by another
/// server racing this one at first start) does no harm.
pub(super) struct TokenWrap {
    token: Arc<Token>,
    id: Vec<u8>,
}

impl TokenWrap {
    /// Finds the wrap key (or makes it, on first use) and proves it wraps
    /// and unwraps, so a token that cannot is refused at start rather than
    /// found out at the first export.
    pub(super) fn open_or_create(token: Arc<Token>) -> PkiResult<Self> {
        let id = token.with_session(|session| {
            let existing = session
                .find_objects(&[
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::Label(WRAP_KEY_LABEL.as_bytes().to_vec()),
                ])
                .map_err(p11("wrap key search"))?;
            for object in existing {
                let mut id = None;
                let mut aes = false;
                for attribute in session
                    .get_attributes(object, &[AttributeType::Id, AttributeType::KeyType])
                    .map_err(p11("wrap key attributes"))?
                {
                    match attribute {
                        Attribute::Id(v) => id = Some(v),
                        Attribute::KeyType(t) => aes = t == KeyType::AES,
                        _ => {}
                    }
                }
                // Blobs record the id in ID_LEN bytes: a key labelled like
                // ours but made otherwise is not ours.
                if let Some(id) = id.filter(|id| aes && id.len() == ID_LEN) {
                    return Ok(id);
                }
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
        let wrap = Self { token, id };
        let probe = wrap.wrap(b"openccm wrap self-test")?;
        if wrap.unwrap(&probe)?.as_slice() != b"openccm wrap self-test" {
            return Err(PkiError::Key(
                "the PKCS#11 token's wrap key does not give back what it wrapped".into(),
            ));
        }
        Ok(wrap)
    }
}

impl KeyWrap for TokenWrap {
    fn wrap(&self, plaintext: &[u8]) -> PkiResult<Vec<u8>> {
        let (iv, ciphertext) = self.token.with_session(|session| {
            let key = self.token.object(session, Kind::Secret, &self.id)?;
            let mut iv = [0u8; IV_LEN];
            openssl::rand::rand_bytes(&mut iv).map_err(ossl)?;
            let params = GcmParams::new(&mut iv, WRAPPED, TAG_BITS.into()).map_err(p11("GCM"))?;
            let ciphertext = session
                .encrypt(&Mechanism::AesGcm(params), key, plaintext)
                .map_err(p11("wrap"))?;
            // Some modules choose the IV themselves and write it back into
            // the parameters: what is stored is what was used.
            Ok((iv, ciphertext))
        })?;
        Ok([WRAPPED, &self.id, &iv, &ciphertext].concat())
    }

    fn unwrap(&self, wrapped: &[u8]) -> PkiResult<Zeroizing<Vec<u8>>> {
        let malformed = || PkiError::Key("a wrapped key is malformed".into());
        let body = wrapped.strip_prefix(WRAPPED).ok_or_else(malformed)?;
        if body.len() < ID_LEN + IV_LEN {
            return Err(malformed());
        }
        let (id, rest) = body.split_at(ID_LEN);
        let (iv, ciphertext) = rest.split_at(IV_LEN);
        let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| malformed())?;
        self.token.with_session(|session| {
            let key = self.token.object(session, Kind::Secret, id)?;
            let mut iv = iv;
            let params = GcmParams::new(&mut iv, WRAPPED, TAG_BITS.into()).map_err(p11("GCM"))?;
            session
                .decrypt(&Mechanism::AesGcm(params), key, ciphertext)
                .map(Zeroizing::new)
                .map_err(p11("unwrap"))
        })
    }
}

/// A key pair inside the token, as a [`Signer`]. It names its objects by
/// `CKA_ID`; the handles come from the token's cache, which a recovery
/// refreshes.
pub(super) struct TokenKey {
    pub(super) token: Arc<Token>,
    pub(super) id: Vec<u8>,
    pub(super) algorithm: KeyAlgorithm,
    pub(super) public_key: Vec<u8>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// `DigestInfo` (RFC 8017 §9.2): what PKCS#1 v1.5 signs.
#[derive(der::Sequence)]
struct DigestInfo {
    digest_algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

fn digest_info(hash: HashAlgorithm, message: &[u8]) -> PkiResult<Vec<u8>> {
    use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
    let oid = match hash {
        HashAlgorithm::Sha256 => ID_SHA_256,
        HashAlgorithm::Sha384 => ID_SHA_384,
        HashAlgorithm::Sha512 => ID_SHA_512,
        HashAlgorithm::Sm3 => return Err(PkiError::SignatureAlgorithm("RSA with SM3".to_owned())),
    };
    let digest = openssl::hash::hash(hash.message_digest(), message).map_err(ossl)?;
    DigestInfo {
        digest_algorithm: AlgorithmIdentifierOwned {
            oid,
            parameters: Some(der::Any::from(der::asn1::AnyRef::from(Null))),
        },
        digest: OctetString::new(digest.to_vec()).map_err(|e| PkiError::Key(e.to_string()))?,
    }
    .to_der()
    .map_err(|e| PkiError::Key(e.to_string()))
}

impl Signer for TokenKey {
    fn key_algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key_der(&self) -> &[u8] {
        &self.public_key
    }

    /// The message is hashed here and only the digest goes to the token:
    /// tokens cap single-part input (a large CRL would not fit), and the
    /// hash needs no secret.
    fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> PkiResult<Vec<u8>> {
        hash.check_fits(self.algorithm)?;
        // A signing error, still recoverable when the session was the cause.
        let signing = |e| {
            let mut failure = p11("signing")(e);
            failure.error = PkiError::Signing(failure.error.to_string());
            failure
        };
        if self.algorithm.is_rsa() {
            let info = digest_info(hash, message)?;
            return self.token.with_session(|session| {
                let key = self.token.object(session, Kind::Private, &self.id)?;
                session
                    .sign(&Mechanism::RsaPkcs, key, &info)
                    .map_err(signing)
            });
        }
        // ECDSA signs the digest cut to the group order's length (FIPS
        // 186-4 §6.4; byte-aligned for P-256 and P-384), which some tokens
        // will not do themselves; it answers r || s, and X.509 wants the
        // DER `Ecdsa-Sig-Value`.
        let mut digest = hash.ecdsa_digest(message)?;
        digest.truncate(if self.algorithm == KeyAlgorithm::Ec384 {
            48
        } else {
            32
        });
        let raw = self.token.with_session(|session| {
            let key = self.token.object(session, Kind::Private, &self.id)?;
            session
                .sign(&Mechanism::Ecdsa, key, &digest)
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

/// Generates a CA key pair of `algorithm` in the token, labelled `owner`,
/// under a fresh `CKA_ID`; returns the id and the public key (SPKI DER).
pub(super) fn generate_pair(
    token: &Token,
    algorithm: KeyAlgorithm,
    owner: &str,
) -> PkiResult<(Vec<u8>, Vec<u8>)> {
    let id = random_id()?;
    let label = owner.as_bytes().to_vec();
    let common = [
        Attribute::Token(true),
        Attribute::Id(id.clone()),
        Attribute::Label(label),
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
        KeyAlgorithm::Sm2 => return Err(super::sm2_unsupported()),
    };
    public.extend(common.iter().cloned());
    public.push(Attribute::Verify(true));
    let mut private = common.to_vec();
    // A CA key signs and does nothing else.
    private.extend([
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::KeyType(key_type),
    ]);
    let public_key = token.with_session(|session| {
        let (public_object, _) = session
            .generate_key_pair(&mechanism, &public, &private)
            .map_err(p11("key generation"))?;
        public_key_der(session, public_object)
    })?;
    let spki = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(&public_key)
        .map_err(|e| PkiError::Key(e.to_string()))?;
    if KeyAlgorithm::of_spki(&spki)? != algorithm {
        return Err(PkiError::Key(
            "the token made a key of another algorithm".to_owned(),
        ));
    }
    Ok((id, public_key))
}

/// The SubjectPublicKeyInfo DER of a token public key (RSA, or EC on the
/// curves we use), built by OpenSSL from the token's attributes.
pub(super) fn public_key_der(session: &Session, object: ObjectHandle) -> Result<Vec<u8>, Failure> {
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
                return Err(PkiError::Key("a token EC key is on another curve".to_owned()).into());
            };
            let group = EcGroup::from_curve_name(nid).map_err(ossl)?;
            let mut ctx = openssl::bn::BigNumContext::new().map_err(ossl)?;
            // CKA_EC_POINT is a DER OCTET STRING around the point; some
            // modules give the raw point, whose first byte (04) is also the
            // OCTET STRING tag: whichever reading is a curve point wins.
            let point = point.ok_or_else(missing)?;
            let wrapped = <OctetString as der::Decode>::from_der(&point)
                .ok()
                .and_then(|o| EcPoint::from_bytes(&group, o.as_bytes(), &mut ctx).ok());
            let point = match wrapped {
                Some(p) => p,
                None => EcPoint::from_bytes(&group, &point, &mut ctx).map_err(ossl)?,
            };
            openssl::pkey::PKey::from_ec_key(EcKey::from_public_key(&group, &point).map_err(ossl)?)
                .map_err(ossl)?
        }
        _ => return Err(PkiError::Key("a token key is of an unused type".to_owned()).into()),
    };
    Ok(pkey.public_key_to_der().map_err(ossl)?)
}
