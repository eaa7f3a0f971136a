//! JSON Web Signatures as ACME uses them (RFC 8555 §6.2): the flattened
//! JSON serialization with one signature and a protected header only, keys
//! as JWKs (RFC 7517) with their thumbprints (RFC 7638), and the
//! algorithms ACME clients sign with: ES256, ES384, RS256 and EdDSA
//! (Ed25519, RFC 8037), plus HS256 for external account binding.
//!
//! Parsing is strict: base64url without padding, every member a string,
//! no unprotected header, no second signature, no `crit`. Keys are checked
//! before use: EC points on their curve at full length, RSA moduli of
//! 2048–8192 bits with a small odd exponent (a huge one would make each
//! verification cost a private-key operation), Ed25519 points canonical
//! and not of small order. ECDSA and RSA signatures are checked by OpenSSL,
//! Ed25519 strictly by `ed25519-dalek` (`verify_strict`), the MAC by `hmac`
//! in constant time; no primitive is implemented here.

use base64::Engine as _;
use hmac::Mac as _;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use openssl::sign::Verifier;
use serde_json::{Map, Value};
use sha2::Digest as _;

use crate::{PkiError, PkiResult};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: u32 = 2048;
/// The largest RSA modulus accepted, in bits (a bound on verification work,
/// with [`MAX_RSA_EXPONENT`]).
pub const MAX_RSA_BITS: u32 = 8192;
/// The largest RSA public exponent accepted (65537 is what every client
/// uses).
pub const MAX_RSA_EXPONENT: u64 = (1 << 32) - 1;
/// The shortest HS256 key accepted, in bytes (EAB keys are 32).
pub const MIN_MAC_KEY: usize = 16;

fn malformed(msg: impl Into<String>) -> PkiError {
    PkiError::Jws(msg.into())
}

/// Base64url without padding, as JOSE writes it; anything else (padding,
/// the standard alphabet, whitespace) is refused.
pub fn b64url_decode(text: &str, what: &str) -> PkiResult<Vec<u8>> {
    B64.decode(text)
        .map_err(|_| malformed(format!("{what} is not base64url without padding")))
}

/// Base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// A JWS algorithm (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// Ed25519.
    EdDsa,
    /// HMAC with SHA-256 (external account binding only).
    Hs256,
}

impl JwsAlgorithm {
    /// The algorithm an `alg` header names; `none` and every other name
    /// are refused.
    pub fn parse(alg: &str) -> Option<Self> {
        Some(match alg {
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            "RS256" => Self::Rs256,
            "EdDSA" => Self::EdDsa,
            "HS256" => Self::Hs256,
            _ => return None,
        })
    }

    /// Its `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
            Self::Hs256 => "HS256",
        }
    }
}

/// The curves of EC keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcCurve {
    /// P-256.
    P256,
    /// P-384.
    P384,
}

impl EcCurve {
    fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        }
    }

    /// The length of a coordinate, and of each half of a signature.
    fn size(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }

    /// The curve's OpenSSL group, built once.
    fn group(self) -> PkiResult<&'static EcGroup> {
        crate::algorithm::curve_group(match self {
            Self::P256 => crate::KeyAlgorithm::Ec256,
            Self::P384 => crate::KeyAlgorithm::Ec384,
        })
    }
}

/// A public key as a JWK, its members decoded and checked.
#[derive(Clone, PartialEq, Eq)]
pub enum Jwk {
    /// `"kty": "EC"`.
    Ec {
        /// The curve.
        curve: EcCurve,
        /// The x coordinate, full length.
        x: Vec<u8>,
        /// The y coordinate, full length.
        y: Vec<u8>,
    },
    /// `"kty": "RSA"`.
    Rsa {
        /// The modulus, without leading zeros.
        n: Vec<u8>,
        /// The public exponent, without leading zeros.
        e: Vec<u8>,
    },
    /// `"kty": "OKP", "crv": "Ed25519"`.
    Ed25519 {
        /// The public key.
        x: Vec<u8>,
    },
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jwk({})", self.thumbprint())
    }
}

fn member<'a>(object: &'a Map<String, Value>, name: &str) -> PkiResult<&'a str> {
    object
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(format!("the JWK has no string \"{name}\"")))
}

impl Jwk {
    /// A public JWK. Private members (`d`, `p`, ...) are refused: a client
    /// that sends its private key has lost it.
    pub fn from_json(value: &Value) -> PkiResult<Self> {
        let object = value
            .as_object()
            .ok_or_else(|| malformed("the JWK is not an object"))?;
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            if object.contains_key(private) {
                return Err(malformed(format!(
                    "the JWK carries the private member \"{private}\""
                )));
            }
        }
        let jwk = match member(object, "kty")? {
            "EC" => {
                let curve = match member(object, "crv")? {
                    "P-256" => EcCurve::P256,
                    "P-384" => EcCurve::P384,
                    other => return Err(malformed(format!("unsupported curve {other:?}"))),
                };
                let x = b64url_decode(member(object, "x")?, "the JWK's x")?;
                let y = b64url_decode(member(object, "y")?, "the JWK's y")?;
                if x.len() != curve.size() || y.len() != curve.size() {
                    return Err(malformed("the JWK's coordinates are not full length"));
                }
                Self::Ec { curve, x, y }
            }
            "RSA" => {
                let n = b64url_decode(member(object, "n")?, "the JWK's n")?;
                let e = b64url_decode(member(object, "e")?, "the JWK's e")?;
                if n.first() == Some(&0) || e.first() == Some(&0) || e.is_empty() {
                    return Err(malformed("the JWK's n or e has leading zeros"));
                }
                let bits =
                    BigNum::from_slice(&n).map_or(0, |n| u32::try_from(n.num_bits()).unwrap_or(0));
                if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                    return Err(malformed(format!(
                        "RSA keys of {MIN_RSA_BITS} to {MAX_RSA_BITS} bits only"
                    )));
                }
                let exponent = if e.len() <= 8 {
                    e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
                } else {
                    u64::MAX
                };
                if !(3..=MAX_RSA_EXPONENT).contains(&exponent)
                    || exponent % 2 == 0
                    || n.last().is_some_and(|b| b % 2 == 0)
                {
                    return Err(malformed(
                        "the RSA key needs an odd modulus and an odd exponent from 3 to 2^32-1",
                    ));
                }
                Self::Rsa { n, e }
            }
            "OKP" => {
                if member(object, "crv")? != "Ed25519" {
                    return Err(malformed("only Ed25519 OKP keys"));
                }
                let x = b64url_decode(member(object, "x")?, "the JWK's x")?;
                let bytes: [u8; 32] = x
                    .as_slice()
                    .try_into()
                    .map_err(|_| malformed("an Ed25519 key is 32 bytes"))?;
                // On the curve, encoded canonically (one key, one
                // thumbprint), and not of small order (anyone could sign
                // for such a key).
                let point = curve25519_dalek::edwards::CompressedEdwardsY(bytes)
                    .decompress()
                    .filter(|p| p.compress().to_bytes() == bytes)
                    .ok_or_else(|| malformed("the Ed25519 key is not a canonical curve point"))?;
                if point.is_small_order() {
                    return Err(malformed("the Ed25519 key is of small order"));
                }
                Self::Ed25519 { x }
            }
            other => return Err(malformed(format!("unsupported key type {other:?}"))),
        };
        // An EC point must be on its curve (OpenSSL checks it).
        if matches!(jwk, Self::Ec { .. }) {
            jwk.openssl_key()?;
        }
        Ok(jwk)
    }

    /// The RFC 7638 thumbprint: base64url(SHA-256) of the required
    /// members, in lexicographic order, without whitespace.
    pub fn thumbprint(&self) -> String {
        b64url(&sha2::Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// The key's required members as JSON, in lexicographic order and
    /// without whitespace (RFC 7638 §3): how a key is stored, and what its
    /// thumbprint is taken of.
    pub fn canonical_json(&self) -> String {
        match self {
            Self::Ec { curve, x, y } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                curve.name(),
                b64url(x),
                b64url(y)
            ),
            Self::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64url(e), b64url(n))
            }
            Self::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64url(x))
            }
        }
    }

    /// Whether `spki_der` (a CSR's or certificate's SubjectPublicKeyInfo)
    /// holds this very key, however it is encoded (a compressed point, RSA
    /// parameters written another way). EC and RSA; an Ed25519 key, which
    /// no certificate here carries, is never the same.
    pub fn same_key_as(&self, spki_der: &[u8]) -> bool {
        let (Ok(ours), Ok(theirs)) = (self.openssl_key(), PKey::public_key_from_der(spki_der))
        else {
            return false;
        };
        ours.public_eq(&theirs)
    }

    /// Whether `alg` is the algorithm this key signs with.
    pub fn fits(&self, alg: JwsAlgorithm) -> bool {
        matches!(
            (self, alg),
            (
                Self::Ec {
                    curve: EcCurve::P256,
                    ..
                },
                JwsAlgorithm::Es256
            ) | (
                Self::Ec {
                    curve: EcCurve::P384,
                    ..
                },
                JwsAlgorithm::Es384
            ) | (Self::Rsa { .. }, JwsAlgorithm::Rs256)
                | (Self::Ed25519 { .. }, JwsAlgorithm::EdDsa)
        )
    }

    /// The key as OpenSSL takes it (EC and RSA; Ed25519 keys verify through
    /// ed25519-dalek).
    fn openssl_key(&self) -> PkiResult<PKey<Public>> {
        let bad = |e: openssl::error::ErrorStack| malformed(format!("the JWK does not load: {e}"));
        match self {
            Self::Ec { curve, x, y } => {
                let group = curve.group()?;
                // The uncompressed point: decoding it checks that it lies on
                // the curve, which for P-256 and P-384 (cofactor 1) is all a
                // public key must satisfy (the point at infinity has no such
                // encoding). EC_KEY_check_key's multiplication by the group
                // order would add nothing but a point multiplication for
                // every request verified.
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                let mut ctx = BigNumContext::new().map_err(bad)?;
                let point = EcPoint::from_bytes(group, &point, &mut ctx).map_err(bad)?;
                let key = EcKey::from_public_key(group, &point).map_err(bad)?;
                PKey::from_ec_key(key).map_err(bad)
            }
            Self::Rsa { n, e } => {
                let key = Rsa::from_public_components(
                    BigNum::from_slice(n).map_err(bad)?,
                    BigNum::from_slice(e).map_err(bad)?,
                )
                .map_err(bad)?;
                PKey::from_rsa(key).map_err(bad)
            }
            Self::Ed25519 { .. } => Err(malformed("Ed25519 keys verify through ed25519-dalek")),
        }
    }

    /// Checks `signature` over `input` made with `alg` by this key.
    pub fn verify(&self, alg: JwsAlgorithm, input: &[u8], signature: &[u8]) -> PkiResult<()> {
        if !self.fits(alg) {
            return Err(malformed(format!(
                "{} is not the algorithm of this key",
                alg.name()
            )));
        }
        let failed = || PkiError::Jws("the signature does not verify".to_owned());
        let ok = match self {
            Self::Ed25519 { x } => {
                let key: [u8; 32] = x.as_slice().try_into().map_err(|_| failed())?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| failed())?;
                let signature =
                    ed25519_dalek::Signature::from_slice(signature).map_err(|_| failed())?;
                key.verify_strict(input, &signature).is_ok()
            }
            Self::Ec { curve, .. } => {
                // JWS writes R || S, each full length; OpenSSL takes DER.
                let size = curve.size();
                if signature.len() != 2 * size {
                    return Err(failed());
                }
                let der = EcdsaSig::from_private_components(
                    BigNum::from_slice(&signature[..size]).map_err(|_| failed())?,
                    BigNum::from_slice(&signature[size..]).map_err(|_| failed())?,
                )
                .and_then(|s| s.to_der())
                .map_err(|_| failed())?;
                let digest = match curve {
                    EcCurve::P256 => MessageDigest::sha256(),
                    EcCurve::P384 => MessageDigest::sha384(),
                };
                let key = self.openssl_key()?;
                let mut verifier = Verifier::new(digest, &key).map_err(|_| failed())?;
                verifier.update(input).map_err(|_| failed())?;
                verifier.verify(&der).unwrap_or(false)
            }
            Self::Rsa { .. } => {
                let key = self.openssl_key()?;
                let mut verifier =
                    Verifier::new(MessageDigest::sha256(), &key).map_err(|_| failed())?;
                verifier
                    .set_rsa_padding(openssl::rsa::Padding::PKCS1)
                    .map_err(|_| failed())?;
                verifier.update(input).map_err(|_| failed())?;
                verifier.verify(signature).unwrap_or(false)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(failed())
        }
    }
}

/// A flattened JWS (RFC 7515 §7.2.2) as ACME sends it, parsed and not yet
/// verified. Read-only: what was signed cannot change after parsing.
#[derive(Clone)]
pub struct FlattenedJws {
    header: Map<String, Value>,
    payload: Vec<u8>,
    signature: Vec<u8>,
    alg: JwsAlgorithm,
    /// `protected` + `.` + `payload`, as received.
    signing_input: Vec<u8>,
}

impl std::fmt::Debug for FlattenedJws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The payload may carry contacts or a CSR: not for logs.
        f.debug_struct("FlattenedJws")
            .field("alg", &self.alg)
            .field("payload_bytes", &self.payload.len())
            .finish_non_exhaustive()
    }
}

impl FlattenedJws {
    /// Parses a request body. Refused: anything but an object of exactly
    /// `protected`, `payload` and `signature` strings; a protected header
    /// that is not a JSON object with a known `alg`.
    pub fn parse(body: &[u8]) -> PkiResult<Self> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| malformed("the body is not JSON"))?;
        let object = value
            .as_object()
            .ok_or_else(|| malformed("the JWS is not a JSON object"))?;
        for name in object.keys() {
            if !matches!(name.as_str(), "protected" | "payload" | "signature") {
                // An unprotected header or a general serialization with
                // several signatures (RFC 8555 §6.2).
                return Err(malformed(format!("the JWS has a member \"{name}\"")));
            }
        }
        let part = |name: &str| {
            object
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(format!("the JWS has no string \"{name}\"")))
        };
        let (protected, payload, signature) =
            (part("protected")?, part("payload")?, part("signature")?);
        let header: Value = serde_json::from_slice(&b64url_decode(protected, "protected")?)
            .map_err(|_| malformed("the protected header is not JSON"))?;
        let Value::Object(header) = header else {
            return Err(malformed("the protected header is not a JSON object"));
        };
        if header.contains_key("crit") {
            // No extension is understood here (RFC 7515 §4.1.11).
            return Err(malformed("the protected header lists critical extensions"));
        }
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(JwsAlgorithm::parse)
            .ok_or_else(|| malformed("the protected header's alg is missing or not supported"))?;
        Ok(Self {
            payload: b64url_decode(payload, "payload")?,
            signature: b64url_decode(signature, "signature")?,
            alg,
            signing_input: [protected.as_bytes(), b".", payload.as_bytes()].concat(),
            header,
        })
    }

    /// A string member of the protected header.
    pub fn header_text(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// The protected header.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The algorithm the header names.
    pub fn alg(&self) -> JwsAlgorithm {
        self.alg
    }

    /// The payload (empty for POST-as-GET).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Checks the signature with `key` (an account key, or the JWK of the
    /// header); HS256 is refused here.
    pub fn verify(&self, key: &Jwk) -> PkiResult<()> {
        key.verify(self.alg, &self.signing_input, &self.signature)
    }

    /// Checks an HS256 MAC under `secret` (an EAB key), in constant time.
    pub fn verify_hs256(&self, secret: &[u8]) -> PkiResult<()> {
        if self.alg != JwsAlgorithm::Hs256 {
            return Err(malformed(
                "an external account binding is signed with HS256",
            ));
        }
        if secret.len() < MIN_MAC_KEY {
            return Err(malformed("the MAC key is too short"));
        }
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
            .map_err(|_| malformed("an unusable MAC key"))?;
        mac.update(&self.signing_input);
        mac.verify_slice(&self.signature)
            .map_err(|_| PkiError::Jws("the MAC does not verify".to_owned()))
    }
}

#[cfg(test)]
mod tests;
