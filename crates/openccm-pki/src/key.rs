//! Private keys as customers hand them in (SCM import, CSR upload): PEM
//! framing first, then strict DER through the RustCrypto parsers (PKCS#1,
//! SEC1, PKCS#8), so that no unvalidated byte reaches OpenSSL. The result is
//! the same key as unencrypted PKCS#8, which custody loads.
//!
//! Whether the key matches a certificate is custody's question (it needs the
//! key's arithmetic); this module only says what the key is.

use const_oid::ObjectIdentifier;
use der::asn1::AnyRef;
use der::{Decode as _, Encode as _};
use pkcs8::PrivateKeyInfo;
use sec1::{EcParameters, EcPrivateKey};
use spki::AlgorithmIdentifierRef;
use zeroize::{Zeroize as _, Zeroizing};

use crate::algorithm::{oid, KeyAlgorithm};
use crate::{PkiError, PkiResult};

/// The largest private key accepted (PEM text): an RSA-4096 PKCS#8 key is
/// about 3.3 KB.
pub const MAX_KEY_PEM_BYTES: usize = 16 * 1024;

/// How a private key was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEncoding {
    /// `RSA PRIVATE KEY` (RFC 8017).
    Pkcs1,
    /// `EC PRIVATE KEY` (RFC 5915).
    Sec1,
    /// `PRIVATE KEY` (RFC 5208/5958).
    Pkcs8,
}

/// A validated private key.
pub struct ParsedPrivateKey {
    /// How it was encoded.
    pub encoding: KeyEncoding,
    /// Its algorithm.
    pub algorithm: KeyAlgorithm,
    /// The key as unencrypted PKCS#8 DER.
    pub pkcs8: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ParsedPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedPrivateKey")
            .field("encoding", &self.encoding)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

fn content(msg: impl Into<String>) -> PkiError {
    PkiError::Key(msg.into())
}

/// Whether `text` is framed as PEM at all (a BEGIN line first, an END line
/// after it): framing errors and content errors have different codes.
pub fn is_pem_framed(text: &str) -> bool {
    let trimmed = text.trim();
    trimmed.starts_with("-----BEGIN ")
        && trimmed.ends_with("-----")
        && trimmed.contains("-----END ")
}

/// Parses a PEM private key: PKCS#1, SEC1 (an `EC PARAMETERS` block before
/// it is allowed, as `openssl ecparam -genkey` writes) or PKCS#8.
///
/// Fails with [`PkiError::KeyFormat`] when the text is not PEM, and with
/// [`PkiError::Key`] (or [`PkiError::KeyAlgorithm`]) when it is PEM but not
/// a usable key: encrypted, malformed, several keys, or an algorithm or size
/// OpenCCM does not support.
pub fn parse_private_key_pem(text: &str) -> PkiResult<ParsedPrivateKey> {
    if text.len() > MAX_KEY_PEM_BYTES {
        return Err(content(format!(
            "the private key is larger than {MAX_KEY_PEM_BYTES} bytes"
        )));
    }
    if !is_pem_framed(text) {
        return Err(PkiError::KeyFormat(
            "the private key must be PEM, from -----BEGIN ... PRIVATE KEY----- to -----END ... PRIVATE KEY-----"
                .to_owned(),
        ));
    }
    if text.contains("ENCRYPTED") {
        return Err(content(
            "password-protected private keys are not accepted: remove the password first",
        ));
    }
    let mut blocks =
        crate::pem::decode_all(text).map_err(|_| content("the private key PEM is malformed"))?;
    let result = (|| {
        let keys: Vec<&crate::pem::Block> = blocks
            .iter()
            .filter(|b| b.label != "EC PARAMETERS")
            .collect();
        let [block] = keys.as_slice() else {
            return Err(content("expected exactly one private key"));
        };
        match block.label.as_str() {
            "RSA PRIVATE KEY" => from_pkcs1(&block.der),
            "EC PRIVATE KEY" => from_sec1(&block.der, None, KeyEncoding::Sec1),
            "PRIVATE KEY" => from_pkcs8(&block.der),
            other => Err(PkiError::KeyFormat(format!(
                "a {other} block is not a private key"
            ))),
        }
    })();
    for block in &mut blocks {
        block.der.zeroize();
    }
    result
}

/// Parses an unencrypted PKCS#8 DER private key.
pub fn parse_pkcs8_der(der: &[u8]) -> PkiResult<ParsedPrivateKey> {
    from_pkcs8(der)
}

fn rsa_algorithm(key: &pkcs1::RsaPrivateKey<'_>) -> PkiResult<KeyAlgorithm> {
    if key.other_prime_infos.is_some() {
        return Err(content("multi-prime RSA keys are not supported"));
    }
    let modulus = key.modulus.as_bytes();
    let bits = modulus.len() * 8 - modulus.first().map_or(8, |b| b.leading_zeros() as usize);
    match bits {
        2048 => Ok(KeyAlgorithm::Rsa2048),
        3072 => Ok(KeyAlgorithm::Rsa3072),
        4096 => Ok(KeyAlgorithm::Rsa4096),
        other => Err(PkiError::KeyAlgorithm(format!(
            "RSA keys must be 2048, 3072 or 4096 bits, not {other}"
        ))),
    }
}

fn pkcs8_of(
    algorithm_oid: ObjectIdentifier,
    parameters: AnyRef<'_>,
    private_key: &[u8],
) -> PkiResult<Zeroizing<Vec<u8>>> {
    let info = PrivateKeyInfo {
        algorithm: AlgorithmIdentifierRef {
            oid: algorithm_oid,
            parameters: Some(parameters),
        },
        private_key,
        public_key: None,
    };
    info.to_der().map(Zeroizing::new).map_err(crate::encoding)
}

fn from_pkcs1(der: &[u8]) -> PkiResult<ParsedPrivateKey> {
    let key = pkcs1::RsaPrivateKey::from_der(der)
        .map_err(|e| content(format!("not a PKCS#1 RSA private key: {e}")))?;
    let algorithm = rsa_algorithm(&key)?;
    Ok(ParsedPrivateKey {
        encoding: KeyEncoding::Pkcs1,
        algorithm,
        pkcs8: pkcs8_of(oid::RSA_ENCRYPTION, AnyRef::NULL, der)?,
    })
}

fn curve_algorithm(curve: ObjectIdentifier) -> PkiResult<KeyAlgorithm> {
    match curve {
        c if c == oid::P256 => Ok(KeyAlgorithm::Ec256),
        c if c == oid::P384 => Ok(KeyAlgorithm::Ec384),
        c if c == oid::SM2_CURVE => Ok(KeyAlgorithm::Sm2),
        other => Err(PkiError::KeyAlgorithm(format!(
            "unsupported curve {other}: P-256, P-384 and SM2 are"
        ))),
    }
}

fn from_sec1(
    der: &[u8],
    outer_curve: Option<ObjectIdentifier>,
    encoding: KeyEncoding,
) -> PkiResult<ParsedPrivateKey> {
    let key =
        EcPrivateKey::from_der(der).map_err(|e| content(format!("not an EC private key: {e}")))?;
    let inner_curve = key.parameters.map(|EcParameters::NamedCurve(curve)| curve);
    let curve = match (inner_curve, outer_curve) {
        (Some(inner), Some(outer)) if inner != outer => {
            return Err(content("the key names two different curves"))
        }
        (Some(curve), _) | (None, Some(curve)) => curve,
        (None, None) => return Err(content("EC private key without a named curve")),
    };
    let algorithm = curve_algorithm(curve)?;
    let field_bytes = if algorithm == KeyAlgorithm::Ec384 {
        48
    } else {
        32
    };
    if key.private_key.len() != field_bytes || key.private_key.iter().all(|b| *b == 0) {
        return Err(content("the EC private key has the wrong size"));
    }
    let curve_der = curve.to_der().map_err(crate::encoding)?;
    let parameters = AnyRef::from_der(&curve_der).map_err(crate::encoding)?;
    Ok(ParsedPrivateKey {
        encoding,
        algorithm,
        pkcs8: pkcs8_of(oid::EC_PUBLIC_KEY, parameters, der)?,
    })
}

fn from_pkcs8(der: &[u8]) -> PkiResult<ParsedPrivateKey> {
    let info = PrivateKeyInfo::from_der(der)
        .map_err(|e| content(format!("not a PKCS#8 private key: {e}")))?;
    let alg = info.algorithm;
    if alg.oid == oid::RSA_ENCRYPTION {
        let key = pkcs1::RsaPrivateKey::from_der(info.private_key)
            .map_err(|e| content(format!("not an RSA private key: {e}")))?;
        let algorithm = rsa_algorithm(&key)?;
        return Ok(ParsedPrivateKey {
            encoding: KeyEncoding::Pkcs8,
            algorithm,
            pkcs8: pkcs8_of(oid::RSA_ENCRYPTION, AnyRef::NULL, info.private_key)?,
        });
    }
    if alg.oid == oid::EC_PUBLIC_KEY {
        let curve: ObjectIdentifier = alg
            .parameters
            .ok_or_else(|| content("EC private key without a named curve"))?
            .decode_as()
            .map_err(|_| content("EC private key without a named curve"))?;
        return from_sec1(info.private_key, Some(curve), KeyEncoding::Pkcs8);
    }
    if alg.oid == oid::SM2_CURVE {
        // Some SM toolkits put the SM2 curve in the algorithm field itself.
        return from_sec1(info.private_key, Some(oid::SM2_CURVE), KeyEncoding::Pkcs8);
    }
    Err(PkiError::KeyAlgorithm(format!(
        "unsupported private key algorithm {}",
        alg.oid
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;

    fn pem_string(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn every_encoding_of_every_algorithm_parses_to_the_same_key() {
        let rsa = Rsa::generate(2048).unwrap();
        let rsa_pkey = PKey::from_rsa(rsa.clone()).unwrap();
        let pkcs1 = pem_string(rsa.private_key_to_pem().unwrap());
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let parsed = parse_private_key_pem(&pkcs1).unwrap();
        assert_eq!(parsed.encoding, KeyEncoding::Pkcs1);
        assert_eq!(parsed.algorithm, KeyAlgorithm::Rsa2048);
        let reloaded = PKey::private_key_from_pkcs8(&parsed.pkcs8).unwrap();
        assert!(reloaded.public_eq(&rsa_pkey));
        let pkcs8 = pem_string(rsa_pkey.private_key_to_pem_pkcs8().unwrap());
        let parsed = parse_private_key_pem(&pkcs8).unwrap();
        assert_eq!(parsed.encoding, KeyEncoding::Pkcs8);

        for (nid, algorithm) in [
            (Nid::X9_62_PRIME256V1, KeyAlgorithm::Ec256),
            (Nid::SECP384R1, KeyAlgorithm::Ec384),
            (Nid::SM2, KeyAlgorithm::Sm2),
        ] {
            let group = EcGroup::from_curve_name(nid).unwrap();
            let ec = EcKey::generate(&group).unwrap();
            let sec1 = pem_string(ec.private_key_to_pem().unwrap());
            let parsed = parse_private_key_pem(&sec1).unwrap();
            assert_eq!(parsed.encoding, KeyEncoding::Sec1);
            assert_eq!(parsed.algorithm, algorithm);
            let reloaded = PKey::private_key_from_pkcs8(&parsed.pkcs8).unwrap();
            let original = PKey::from_ec_key(ec.clone()).unwrap();
            assert_eq!(
                reloaded.public_key_to_der().unwrap(),
                original.public_key_to_der().unwrap()
            );
            let pkcs8 = pem_string(original.private_key_to_pem_pkcs8().unwrap());
            let parsed = parse_private_key_pem(&pkcs8).unwrap();
            assert_eq!(parsed.encoding, KeyEncoding::Pkcs8);
            assert_eq!(parsed.algorithm, algorithm);
        }
    }

    #[test]
    fn ec_parameters_before_the_key_are_skipped() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let ec = EcKey::generate(&group).unwrap();
        let params =
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
        let text = format!("{params}{}", pem_string(ec.private_key_to_pem().unwrap()));
        assert_eq!(
            parse_private_key_pem(&text).unwrap().algorithm,
            KeyAlgorithm::Ec256
        );
    }

    #[test]
    fn bad_keys_are_refused_with_the_right_kind() {
        assert!(matches!(
            parse_private_key_pem("not a key"),
            Err(PkiError::KeyFormat(_))
        ));
        assert!(matches!(
            parse_private_key_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n"),
            Err(PkiError::KeyFormat(_))
        ));
        assert!(matches!(
            parse_private_key_pem("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----"),
            Err(PkiError::Key(_))
        ));
        assert!(matches!(
            parse_private_key_pem(
                "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----"
            ),
            Err(PkiError::Key(_))
        ));
        let rsa = Rsa::generate(2048).unwrap();
        let encrypted = pem_string(
            PKey::from_rsa(rsa.clone())
                .unwrap()
                .private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_128_cbc(), b"pw")
                .unwrap(),
        );
        assert!(matches!(
            parse_private_key_pem(&encrypted),
            Err(PkiError::Key(_))
        ));
        let legacy = pem_string(
            rsa.private_key_to_pem_passphrase(openssl::symm::Cipher::aes_128_cbc(), b"pw")
                .unwrap(),
        );
        assert!(matches!(
            parse_private_key_pem(&legacy),
            Err(PkiError::Key(_))
        ));
        let small = pem_string(Rsa::generate(1024).unwrap().private_key_to_pem().unwrap());
        assert!(matches!(
            parse_private_key_pem(&small),
            Err(PkiError::KeyAlgorithm(_))
        ));
        let two = format!(
            "{}{}",
            pem_string(rsa.private_key_to_pem().unwrap()),
            pem_string(rsa.private_key_to_pem().unwrap())
        );
        assert!(matches!(parse_private_key_pem(&two), Err(PkiError::Key(_))));
        let cert_label = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----";
        assert!(matches!(
            parse_private_key_pem(cert_label),
            Err(PkiError::KeyFormat(_))
        ));
    }
}
