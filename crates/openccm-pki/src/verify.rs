//! Signature verification with OpenSSL: RSASSA-PKCS1-v1_5, ECDSA, and SM2
//! with SM3 over the standard `Z_A` (see [`crate::sm2`]).

use const_oid::ObjectIdentifier;
use der::{Decode as _, Encode as _};
use openssl::pkey::{PKey, Public};
use spki::SubjectPublicKeyInfoRef;

use crate::algorithm::{parse_signature_oid, SignatureFamily};
use crate::{KeyAlgorithm, PkiError, PkiResult};

/// Loads a SubjectPublicKeyInfo into OpenSSL.
pub fn public_key(spki_der: &[u8]) -> PkiResult<PKey<Public>> {
    PKey::public_key_from_der(spki_der)
        .map_err(|_| PkiError::Key("unreadable public key".to_owned()))
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
    let key = public_key(spki_der)?;
    let ok = match family {
        SignatureFamily::Sm2 => {
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
        SignatureFamily::Rsa | SignatureFamily::Ecdsa => {
            let mut verifier = openssl::sign::Verifier::new(hash.message_digest(), &key)
                .map_err(|e| PkiError::Signing(e.to_string()))?;
            verifier.verify_oneshot(signature, message).unwrap_or(false)
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
