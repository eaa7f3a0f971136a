//! Key and signature algorithms, named as the API names them.

use const_oid::ObjectIdentifier;
use der::asn1::Null;
use der::AnyRef;
use spki::AlgorithmIdentifierOwned;
use std::sync::OnceLock;

use openssl::ec::EcGroup;
use openssl::nid::Nid;

use crate::{PkiError, PkiResult};

/// OIDs used by the profile.
pub mod oid {
    use const_oid::ObjectIdentifier;

    /// rsaEncryption.
    pub const RSA_ENCRYPTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    /// sha256WithRSAEncryption.
    pub const SHA256_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
    /// sha384WithRSAEncryption.
    pub const SHA384_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
    /// sha512WithRSAEncryption.
    pub const SHA512_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
    /// id-ecPublicKey.
    pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    /// prime256v1 (P-256).
    pub const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1 (P-384).
    pub const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
    /// The SM2 curve (GM/T 0006).
    pub const SM2_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
    /// ecdsa-with-SHA256.
    pub const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
    /// ecdsa-with-SHA384.
    pub const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
    /// ecdsa-with-SHA512.
    pub const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
    /// SM2-with-SM3 (GM/T 0006).
    pub const SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
    /// SM4 (GM/T 0006).
    pub const SM4: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.104");
    /// SM3 (GM/T 0006).
    pub const SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.401");
}

/// The key algorithms of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSA, 2048-bit modulus.
    Rsa2048,
    /// RSA, 3072-bit modulus.
    Rsa3072,
    /// RSA, 4096-bit modulus.
    Rsa4096,
    /// ECDSA on P-256.
    Ec256,
    /// ECDSA on P-384.
    Ec384,
    /// SM2 (GB/T 32918).
    Sm2,
}

impl KeyAlgorithm {
    /// Every algorithm, in the API's order.
    pub const ALL: [Self; 6] = [
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
        Self::Ec256,
        Self::Ec384,
        Self::Sm2,
    ];

    /// Its name, for messages (the API's spelling of it, which
    /// `openccm-wire` owns, happens to be the same).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa2048 => "RSA2048",
            Self::Rsa3072 => "RSA3072",
            Self::Rsa4096 => "RSA4096",
            Self::Ec256 => "EC256",
            Self::Ec384 => "EC384",
            Self::Sm2 => "SM2",
        }
    }

    /// Whether this is an RSA key.
    pub fn is_rsa(self) -> bool {
        matches!(self, Self::Rsa2048 | Self::Rsa3072 | Self::Rsa4096)
    }

    /// The RSA modulus size, if RSA.
    pub fn rsa_bits(self) -> Option<u32> {
        match self {
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    /// The curve OID, if elliptic.
    pub fn curve(self) -> Option<ObjectIdentifier> {
        match self {
            Self::Ec256 => Some(oid::P256),
            Self::Ec384 => Some(oid::P384),
            Self::Sm2 => Some(oid::SM2_CURVE),
            _ => None,
        }
    }

    /// The key size in bits (for `key_algorithm_length`).
    pub fn bits(self) -> u32 {
        match self {
            Self::Rsa2048 => 2048,
            Self::Rsa3072 => 3072,
            Self::Rsa4096 => 4096,
            Self::Ec256 | Self::Sm2 => 256,
            Self::Ec384 => 384,
        }
    }

    /// The hash used when a request names none and the issuer's does not fit.
    pub fn default_hash(self) -> HashAlgorithm {
        match self {
            Self::Sm2 => HashAlgorithm::Sm3,
            Self::Ec384 => HashAlgorithm::Sha384,
            _ => HashAlgorithm::Sha256,
        }
    }

    /// Identifies the algorithm of a SubjectPublicKeyInfo.
    ///
    /// Fails for algorithms and sizes the API does not know.
    pub fn of_spki(spki: &spki::SubjectPublicKeyInfoRef<'_>) -> PkiResult<Self> {
        let alg = &spki.algorithm;
        if alg.oid == oid::RSA_ENCRYPTION {
            let (modulus, _) = crate::verify::rsa_components(spki)?;
            let bits =
                modulus.len() * 8 - modulus.first().map_or(8, |b| b.leading_zeros() as usize);
            return match bits {
                2048 => Ok(Self::Rsa2048),
                3072 => Ok(Self::Rsa3072),
                4096 => Ok(Self::Rsa4096),
                other => Err(PkiError::KeyAlgorithm(format!(
                    "RSA keys must be 2048, 3072 or 4096 bits, not {other}"
                ))),
            };
        }
        if alg.oid == oid::EC_PUBLIC_KEY {
            let curve: ObjectIdentifier = alg
                .parameters
                .as_ref()
                .ok_or_else(|| PkiError::KeyAlgorithm("EC key without a named curve".to_owned()))?
                .decode_as()
                .map_err(|_| PkiError::KeyAlgorithm("EC key without a named curve".to_owned()))?;
            return match curve {
                c if c == oid::P256 => Ok(Self::Ec256),
                c if c == oid::P384 => Ok(Self::Ec384),
                c if c == oid::SM2_CURVE => Ok(Self::Sm2),
                other => Err(PkiError::KeyAlgorithm(format!("unsupported curve {other}"))),
            };
        }
        Err(PkiError::KeyAlgorithm(format!(
            "unsupported public key algorithm {}",
            alg.oid
        )))
    }
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signature hash algorithms of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// SM3 (only with SM2 keys).
    Sm3,
}

impl HashAlgorithm {
    /// Its name, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA256",
            Self::Sha384 => "SHA384",
            Self::Sha512 => "SHA512",
            Self::Sm3 => "SM3",
        }
    }

    /// OpenSSL's digest.
    pub fn message_digest(self) -> openssl::hash::MessageDigest {
        match self {
            Self::Sha256 => openssl::hash::MessageDigest::sha256(),
            Self::Sha384 => openssl::hash::MessageDigest::sha384(),
            Self::Sha512 => openssl::hash::MessageDigest::sha512(),
            Self::Sm3 => openssl::hash::MessageDigest::sm3(),
        }
    }

    /// The digest of `message` that ECDSA signs (SHA-2; ECDSA with SM3 is
    /// refused).
    pub fn ecdsa_digest(self, message: &[u8]) -> PkiResult<Vec<u8>> {
        Ok(match self {
            Self::Sha256 => openssl::sha::sha256(message).to_vec(),
            Self::Sha384 => openssl::sha::sha384(message).to_vec(),
            Self::Sha512 => openssl::sha::sha512(message).to_vec(),
            Self::Sm3 => return Err(PkiError::SignatureAlgorithm("ECDSA with SM3".to_owned())),
        })
    }

    /// Checks that a key of `key` may sign with this hash: SM3 goes with SM2
    /// and only with SM2 (GM/T 0006).
    pub fn check_fits(self, key: KeyAlgorithm) -> PkiResult<()> {
        match (key, self) {
            (KeyAlgorithm::Sm2, Self::Sm3) => Ok(()),
            (KeyAlgorithm::Sm2, other) => Err(PkiError::SignatureAlgorithm(format!(
                "SM2 keys sign with SM3, not {}",
                other.as_str()
            ))),
            (_, Self::Sm3) => Err(PkiError::SignatureAlgorithm(format!(
                "SM3 signatures need an SM2 key, not {}",
                key.as_str()
            ))),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signatureAlgorithm OID for a signing key and hash.
pub fn signature_oid(key: KeyAlgorithm, hash: HashAlgorithm) -> PkiResult<ObjectIdentifier> {
    hash.check_fits(key)?;
    Ok(match (key.is_rsa(), key, hash) {
        (true, _, HashAlgorithm::Sha256) => oid::SHA256_WITH_RSA,
        (true, _, HashAlgorithm::Sha384) => oid::SHA384_WITH_RSA,
        (true, _, HashAlgorithm::Sha512) => oid::SHA512_WITH_RSA,
        (_, KeyAlgorithm::Sm2, _) => oid::SM2_WITH_SM3,
        (_, _, HashAlgorithm::Sha256) => oid::ECDSA_SHA256,
        (_, _, HashAlgorithm::Sha384) => oid::ECDSA_SHA384,
        (_, _, HashAlgorithm::Sha512) => oid::ECDSA_SHA512,
        (_, _, HashAlgorithm::Sm3) => {
            return Err(PkiError::SignatureAlgorithm("SM3 needs SM2".to_owned()))
        }
    })
}

/// The `AlgorithmIdentifier` of a signature: RSA carries an explicit NULL
/// parameter (RFC 4055 §5); ECDSA and SM2 carry none (RFC 5758 §3.2, GM/T 0015).
pub fn signature_algorithm_identifier(
    key: KeyAlgorithm,
    hash: HashAlgorithm,
) -> PkiResult<AlgorithmIdentifierOwned> {
    let oid = signature_oid(key, hash)?;
    let parameters = if key.is_rsa() {
        Some(der::Any::from(AnyRef::from(Null)))
    } else {
        None
    };
    Ok(AlgorithmIdentifierOwned { oid, parameters })
}

/// The (key family, hash) a signature algorithm identifier names; `None` if unknown.
pub fn parse_signature_oid(oid: ObjectIdentifier) -> Option<(SignatureFamily, HashAlgorithm)> {
    Some(match oid {
        o if o == oid::SHA256_WITH_RSA => (SignatureFamily::Rsa, HashAlgorithm::Sha256),
        o if o == oid::SHA384_WITH_RSA => (SignatureFamily::Rsa, HashAlgorithm::Sha384),
        o if o == oid::SHA512_WITH_RSA => (SignatureFamily::Rsa, HashAlgorithm::Sha512),
        o if o == oid::ECDSA_SHA256 => (SignatureFamily::Ecdsa, HashAlgorithm::Sha256),
        o if o == oid::ECDSA_SHA384 => (SignatureFamily::Ecdsa, HashAlgorithm::Sha384),
        o if o == oid::ECDSA_SHA512 => (SignatureFamily::Ecdsa, HashAlgorithm::Sha512),
        o if o == oid::SM2_WITH_SM3 => (SignatureFamily::Sm2, HashAlgorithm::Sm3),
        _ => return None,
    })
}

/// The family of a signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFamily {
    /// RSASSA-PKCS1-v1_5.
    Rsa,
    /// ECDSA.
    Ecdsa,
    /// SM2 with the default user id.
    Sm2,
}

impl SignatureFamily {
    /// Whether keys of `key` sign with this family.
    pub fn fits(self, key: KeyAlgorithm) -> bool {
        match self {
            Self::Rsa => key.is_rsa(),
            Self::Ecdsa => matches!(key, KeyAlgorithm::Ec256 | KeyAlgorithm::Ec384),
            Self::Sm2 => key == KeyAlgorithm::Sm2,
        }
    }

    /// The `signature_algorithm` text of ParseCertificateSigningRequest (`SHA256withRSA`).
    pub fn display_name(self, hash: HashAlgorithm) -> String {
        match self {
            Self::Rsa => format!("{}withRSA", hash.as_str()),
            Self::Ecdsa => format!("{}withECDSA", hash.as_str()),
            Self::Sm2 => "SM3withSM2".to_owned(),
        }
    }
}

/// The OpenSSL group of an EC or SM2 key's curve, built once (building one
/// costs about as much as hashing a certificate; key generation and
/// verification take it from here).
pub fn curve_group(key: KeyAlgorithm) -> PkiResult<&'static EcGroup> {
    static P256: OnceLock<Option<EcGroup>> = OnceLock::new();
    static P384: OnceLock<Option<EcGroup>> = OnceLock::new();
    static SM2: OnceLock<Option<EcGroup>> = OnceLock::new();
    let (cell, nid) = match key {
        KeyAlgorithm::Ec256 => (&P256, Nid::X9_62_PRIME256V1),
        KeyAlgorithm::Ec384 => (&P384, Nid::SECP384R1),
        KeyAlgorithm::Sm2 => (&SM2, Nid::SM2),
        _ => return Err(PkiError::Key("not an EC key".to_owned())),
    };
    cell.get_or_init(|| EcGroup::from_curve_name(nid).ok())
        .as_ref()
        .ok_or_else(|| PkiError::Key("OpenSSL lacks the curve".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_goes_with_sm2_only() {
        assert!(HashAlgorithm::Sm3.check_fits(KeyAlgorithm::Sm2).is_ok());
        assert!(HashAlgorithm::Sha256.check_fits(KeyAlgorithm::Sm2).is_err());
        assert!(HashAlgorithm::Sm3
            .check_fits(KeyAlgorithm::Rsa2048)
            .is_err());
        assert!(HashAlgorithm::Sha512
            .check_fits(KeyAlgorithm::Ec256)
            .is_ok());
    }

    #[test]
    fn rsa_identifiers_carry_null_and_ecdsa_none() {
        let rsa =
            signature_algorithm_identifier(KeyAlgorithm::Rsa2048, HashAlgorithm::Sha256).unwrap();
        assert_eq!(rsa.oid, oid::SHA256_WITH_RSA);
        assert!(rsa.parameters.is_some());
        let ec =
            signature_algorithm_identifier(KeyAlgorithm::Ec384, HashAlgorithm::Sha384).unwrap();
        assert_eq!(ec.oid, oid::ECDSA_SHA384);
        assert!(ec.parameters.is_none());
        let sm2 = signature_algorithm_identifier(KeyAlgorithm::Sm2, HashAlgorithm::Sm3).unwrap();
        assert_eq!(sm2.oid, oid::SM2_WITH_SM3);
    }
}
