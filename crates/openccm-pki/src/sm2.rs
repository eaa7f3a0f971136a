//! SM2 signatures sign `e = SM3(Z_A || M)`, where `Z_A` binds the signer's
//! identity and public key (GB/T 32918.2 §5.5). OpenSSL 3.0 computes `Z_A`
//! with an *empty* id unless told otherwise, so OpenCCM computes it itself
//! with the standard default id `1234567812345678` (GM/T 0009 §10) and lets
//! OpenSSL sign or verify the resulting digest.

use openssl::hash::{Hasher, MessageDigest};

use crate::{PkiError, PkiResult};

/// The default SM2 user id (GM/T 0009 §10).
pub const DEFAULT_USER_ID: &[u8] = b"1234567812345678";

// GB/T 32918.5 curve parameters.
const A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
const B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
const GX: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
const GY: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

fn sm3() -> PkiResult<Hasher> {
    Hasher::new(MessageDigest::sm3()).map_err(|e| PkiError::Signing(e.to_string()))
}

/// `Z_A` for the uncompressed public point `04 || X || Y` (65 bytes), with
/// every integer in its fixed 32-byte form, for the default user id.
pub fn z_a(public_point: &[u8]) -> PkiResult<[u8; 32]> {
    z_a_with_id(public_point, DEFAULT_USER_ID)
}

/// `Z_A` for `user_id`.
pub fn z_a_with_id(public_point: &[u8], user_id: &[u8]) -> PkiResult<[u8; 32]> {
    let (x, y) = match public_point {
        [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
        _ => return Err(PkiError::Key("not an uncompressed SM2 point".to_owned())),
    };
    let entl = u16::try_from(user_id.len() * 8)
        .map_err(|_| PkiError::Signing("user id too long".to_owned()))?;
    let mut h = sm3()?;
    let mut update = |data: &[u8]| h.update(data).map_err(|e| PkiError::Signing(e.to_string()));
    update(&entl.to_be_bytes())?;
    update(user_id)?;
    for constant in [A, B, GX, GY] {
        update(&hex::decode(constant).map_err(crate::encoding)?)?;
    }
    update(x)?;
    update(y)?;
    let digest = h.finish().map_err(|e| PkiError::Signing(e.to_string()))?;
    digest
        .as_ref()
        .try_into()
        .map_err(|_| PkiError::Signing("SM3 digest is not 32 bytes".to_owned()))
}

/// `e = SM3(Z_A || message)`: what the SM2 private key signs.
pub fn message_digest(public_point: &[u8], message: &[u8]) -> PkiResult<[u8; 32]> {
    message_digest_with_id(public_point, DEFAULT_USER_ID, message)
}

/// `e = SM3(Z_A || message)` for `user_id`.
pub fn message_digest_with_id(
    public_point: &[u8],
    user_id: &[u8],
    message: &[u8],
) -> PkiResult<[u8; 32]> {
    let z = z_a_with_id(public_point, user_id)?;
    let mut h = sm3()?;
    h.update(&z).map_err(|e| PkiError::Signing(e.to_string()))?;
    h.update(message)
        .map_err(|e| PkiError::Signing(e.to_string()))?;
    let digest = h.finish().map_err(|e| PkiError::Signing(e.to_string()))?;
    digest
        .as_ref()
        .try_into()
        .map_err(|_| PkiError::Signing("SM3 digest is not 32 bytes".to_owned()))
}

/// The uncompressed point of an SM2 SubjectPublicKeyInfo.
pub fn public_point(spki: &spki::SubjectPublicKeyInfoRef<'_>) -> PkiResult<Vec<u8>> {
    spki.subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| PkiError::Key("SM2 public key is not a whole number of bytes".to_owned()))
}
