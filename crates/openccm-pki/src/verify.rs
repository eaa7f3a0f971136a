//! Signature verification with OpenSSL: RSASSA-PKCS1-v1_5, ECDSA, and SM2
//! with SM3 over the standard `Z_A` (see [`crate::sm2`]).

use const_oid::ObjectIdentifier;

use der::{Decode as _, Encode as _};
use openssl::ec::{EcKey, EcPoint};
use openssl::pkey::{PKey, Public};
use spki::SubjectPublicKeyInfoRef;

use crate::algorithm::{parse_signature_oid, SignatureFamily};
use crate::{KeyAlgorithm, PkiError, PkiResult};

/// `RSAPublicKey` (RFC 8017 A.1.1).
#[derive(der::Sequence)]
struct RsaPublicKey<'a> {
    modulus: der::asn1::UintRef<'a>,
    public_exponent: der::asn1::UintRef<'a>,
}

/// The modulus and public exponent of an RSA SubjectPublicKeyInfo (big-endian).
pub fn rsa_components(spki: &SubjectPublicKeyInfoRef<'_>) -> PkiResult<(Vec<u8>, Vec<u8>)> {
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| PkiError::Key("malformed RSA public key".to_owned()))?;
    let key = RsaPublicKey::from_der(bits)
        .map_err(|_| PkiError::Key("malformed RSA public key".to_owned()))?;
    Ok((
        key.modulus.as_bytes().to_vec(),
        key.public_exponent.as_bytes().to_vec(),
    ))
}

fn ossl(e: openssl::error::ErrorStack) -> PkiError {
    PkiError::Signing(e.to_string())
}

/// Loads a SubjectPublicKeyInfo into OpenSSL.
///
/// The key is built from its components (an RSA modulus and exponent, an EC
/// or SM2 point on its curve), not by OpenSSL 3.0's SubjectPublicKeyInfo
/// decoder: the decoder costs about 100 µs a key, a third of an SM2
/// verification, and building costs about 2 µs. Only the algorithms of
/// [`KeyAlgorithm`] load; an SM2 point gives an SM2 key (OpenSSL types a
/// key on the SM2 curve as SM2).
pub fn public_key(spki_der: &[u8]) -> PkiResult<PKey<Public>> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|_| PkiError::Key("unreadable public key".to_owned()))?;
    public_key_of(&spki, KeyAlgorithm::of_spki(&spki)?)
}

/// [`public_key`] of a parsed SubjectPublicKeyInfo of `algorithm`.
fn public_key_of(
    spki: &SubjectPublicKeyInfoRef<'_>,
    algorithm: KeyAlgorithm,
) -> PkiResult<PKey<Public>> {
    let key = match algorithm {
        a if a.is_rsa() => {
            let (n, e) = rsa_components(spki)?;
            let rsa = openssl::rsa::Rsa::from_public_components(
                openssl::bn::BigNum::from_slice(&n).map_err(ossl)?,
                openssl::bn::BigNum::from_slice(&e).map_err(ossl)?,
            )
            .map_err(ossl)?;
            PKey::from_rsa(rsa)
        }
        curve => PKey::from_ec_key(ec_public_key(curve, spki)?),
    };
    key.map_err(|_| PkiError::Key("unreadable public key".to_owned()))
}

/// The EC (or SM2) public key of `spki`, on `curve`: its point must lie on
/// the curve.
fn ec_public_key(
    curve: KeyAlgorithm,
    spki: &SubjectPublicKeyInfoRef<'_>,
) -> PkiResult<EcKey<Public>> {
    let group = crate::algorithm::curve_group(curve)?;
    let point_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| PkiError::Key("malformed EC public key".to_owned()))?;
    let mut ctx = openssl::bn::BigNumContext::new().map_err(ossl)?;
    let point = EcPoint::from_bytes(group, point_bytes, &mut ctx)
        .map_err(|_| PkiError::Key("the EC public key is not a curve point".to_owned()))?;
    // The encoding 0x00 decodes to the point at infinity, under which an
    // ECDSA signature can be made without any private key.
    if point.is_infinity(group) {
        return Err(PkiError::Key(
            "the EC public key is the point at infinity".to_owned(),
        ));
    }
    EcKey::from_public_key(group, &point).map_err(ossl)
}

/// Verifies `signature` over `message` by the key `spki_der` under the
/// signature algorithm `algorithm` (none of the supported ones has parameters
/// that change verification).
///
/// Fails when the algorithm is unknown or does not fit the key, or the
/// signature does not verify.
pub fn verify(
    spki_der: &[u8],
    algorithm: ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> PkiResult<()> {
    verify_with_sm2_ids(
        spki_der,
        algorithm,
        message,
        signature,
        &[crate::sm2::DEFAULT_USER_ID],
    )
}

/// Like [`verify`], accepting an SM2 signature made over any of `sm2_ids`.
///
/// CSR self-signatures use this with the standard id and the empty id:
/// OpenSSL 3.0 signs SM2 CSRs over an empty id unless told otherwise, and a
/// CSR's signature only proves possession of the key, so either is accepted
/// there. Certificates and everything OpenCCM signs use the standard id only.
pub fn verify_with_sm2_ids(
    spki_der: &[u8],
    algorithm: ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
    sm2_ids: &[&[u8]],
) -> PkiResult<()> {
    let spki =
        SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|e| PkiError::Key(e.to_string()))?;
    let key_algorithm = KeyAlgorithm::of_spki(&spki)?;
    let (family, hash) = parse_signature_oid(algorithm).ok_or_else(|| {
        PkiError::SignatureAlgorithm(format!("unsupported signature algorithm {algorithm}"))
    })?;
    if !family.fits(key_algorithm) {
        return Err(PkiError::SignatureAlgorithm(format!(
            "a {key_algorithm} key cannot make a {} signature",
            family.display_name(hash)
        )));
    }
    let ok = match family {
        SignatureFamily::Sm2 => {
            let key = public_key_of(&spki, key_algorithm)?;
            let point = crate::sm2::public_point(&spki)?;
            let mut verified = false;
            for id in sm2_ids {
                let e = crate::sm2::message_digest_with_id(&point, id, message)?;
                let mut ctx = openssl::pkey_ctx::PkeyCtx::new(&key)
                    .map_err(|e| PkiError::Signing(e.to_string()))?;
                ctx.verify_init()
                    .map_err(|e| PkiError::Signing(e.to_string()))?;
                if ctx.verify(&e, signature).unwrap_or(false) {
                    verified = true;
                    break;
                }
            }
            verified
        }
        SignatureFamily::Rsa => {
            let key = public_key_of(&spki, key_algorithm)?;
            let mut verifier =
                openssl::sign::Verifier::new(hash.message_digest(), &key).map_err(ossl)?;
            verifier.verify_oneshot(signature, message).unwrap_or(false)
        }
        SignatureFamily::Ecdsa => {
            let key = ec_public_key(key_algorithm, &spki)?;
            let digest = hash.ecdsa_digest(message)?;
            openssl::ecdsa::EcdsaSig::from_der(signature)
                .and_then(|sig| sig.verify(&digest, &key))
                .unwrap_or(false)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(PkiError::Signing(
            "the signature does not verify".to_owned(),
        ))
    }
}

/// The DER of a SubjectPublicKeyInfo reference.
pub fn spki_der(spki: &SubjectPublicKeyInfoRef<'_>) -> PkiResult<Vec<u8>> {
    spki.to_der().map_err(crate::encoding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithm::oid;
    use openssl::ec::EcGroup;
    use openssl::nid::Nid;
    use openssl::pkey::Id;
    use openssl::pkey_ctx::PkeyCtx;

    /// Keys made by OpenSSL itself (SM2's through its SM2 key generation,
    /// the way a customer's tools make them).
    fn openssl_keys() -> Vec<(KeyAlgorithm, PKey<openssl::pkey::Private>)> {
        let ec = |nid| {
            PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(nid).unwrap()).unwrap())
                .unwrap()
        };
        let mut sm2 = PkeyCtx::new_id(Id::SM2).unwrap();
        sm2.keygen_init().unwrap();
        vec![
            (
                KeyAlgorithm::Rsa2048,
                PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap(),
            ),
            (KeyAlgorithm::Ec256, ec(Nid::X9_62_PRIME256V1)),
            (KeyAlgorithm::Ec384, ec(Nid::SECP384R1)),
            (KeyAlgorithm::Sm2, sm2.keygen().unwrap()),
        ]
    }

    /// A key built from its components is the key OpenSSL's decoder reads,
    /// and an SM2 point gives an SM2 key, not an ECDSA one.
    #[test]
    fn public_keys_built_from_components_are_openssls_own() {
        for (algorithm, private) in openssl_keys() {
            let spki = private.public_key_to_der().unwrap();
            let built = public_key(&spki).unwrap();
            assert_eq!(built.public_key_to_der().unwrap(), spki, "{algorithm}");
            assert!(
                built.public_eq(&PKey::public_key_from_der(&spki).unwrap()),
                "{algorithm}"
            );
            let expected = match algorithm {
                KeyAlgorithm::Sm2 => Id::SM2,
                a if a.is_rsa() => Id::RSA,
                _ => Id::EC,
            };
            assert_eq!(built.id(), expected, "{algorithm}");
        }
    }

    /// The point at infinity (encoded 0x00) is no public key.
    #[test]
    fn the_point_at_infinity_is_refused() {
        for (algorithm, curve) in [
            (KeyAlgorithm::Ec256, oid::P256),
            (KeyAlgorithm::Sm2, oid::SM2_CURVE),
        ] {
            let spki = spki::SubjectPublicKeyInfo {
                algorithm: spki::AlgorithmIdentifier {
                    oid: oid::EC_PUBLIC_KEY,
                    parameters: Some(der::Any::encode_from(&curve).unwrap()),
                },
                subject_public_key: der::asn1::BitString::from_bytes(&[0]).unwrap(),
            }
            .to_der()
            .unwrap();
            let err = public_key(&spki).unwrap_err();
            assert!(err.to_string().contains("infinity"), "{algorithm}: {err}");
        }
    }

    /// An SM2 signature from OpenSSL's SM2 key verifies, a changed message
    /// does not, and an ECDSA signature by the same key over the same digest
    /// (which a key built as ECDSA would accept) does not.
    #[test]
    fn an_sm2_signature_from_openssl_verifies_and_a_changed_one_does_not() {
        let (_, private) = openssl_keys().pop().unwrap();
        let spki = private.public_key_to_der().unwrap();
        let parsed = SubjectPublicKeyInfoRef::from_der(&spki).unwrap();
        let point = crate::sm2::public_point(&parsed).unwrap();
        let message = b"to be signed";
        let digest = crate::sm2::message_digest(&point, message).unwrap();
        let mut ctx = PkeyCtx::new(&private).unwrap();
        ctx.sign_init().unwrap();
        let mut signature = Vec::new();
        ctx.sign_to_vec(&digest, &mut signature).unwrap();
        verify(&spki, oid::SM2_WITH_SM3, message, &signature).unwrap();
        assert!(verify(&spki, oid::SM2_WITH_SM3, b"to be signeD", &signature).is_err());
        // The same key's ECDSA signature over the same digest is refused.
        let ecdsa = openssl::ecdsa::EcdsaSig::sign(&digest, &private.ec_key().unwrap())
            .unwrap()
            .to_der()
            .unwrap();
        assert!(verify(&spki, oid::SM2_WITH_SM3, message, &ecdsa).is_err());
    }
}
