//! SM2 signatures sign `e = SM3(Z_A || M)`, where `Z_A` binds the signer's
//! identity and public key (GB/T 32918.2 §5.5). OpenSSL 3.0 computes `Z_A`
//! with an *empty* id unless told otherwise, so OpenCCM computes it itself
//! with the standard default id `1234567812345678` (GM/T 0009 §10) and lets
//! OpenSSL sign or verify the resulting digest.

use openssl::hash::{Hasher, MessageDigest};

use crate::{PkiError, PkiResult};

/// The default SM2 user id (GM/T 0009 §10).
pub const DEFAULT_USER_ID: &[u8] = b"1234567812345678";

/// The GB/T 32918.5 curve parameters a, b, x_G, y_G, in their fixed 32-byte
/// forms, as `Z_A` hashes them (after the id, before the public point).
const CURVE_PARAMETERS: [u8; 128] = [
    // a
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc,
    // b
    0x28, 0xe9, 0xfa, 0x9e, 0x9d, 0x9f, 0x5e, 0x34, 0x4d, 0x5a, 0x9e, 0x4b, 0xcf, 0x65, 0x09, 0xa7,
    0xf3, 0x97, 0x89, 0xf5, 0x15, 0xab, 0x8f, 0x92, 0xdd, 0xbc, 0xbd, 0x41, 0x4d, 0x94, 0x0e, 0x93,
    // x_G
    0x32, 0xc4, 0xae, 0x2c, 0x1f, 0x19, 0x81, 0x19, 0x5f, 0x99, 0x04, 0x46, 0x6a, 0x39, 0xc9, 0x94,
    0x8f, 0xe3, 0x0b, 0xbf, 0xf2, 0x66, 0x0b, 0xe1, 0x71, 0x5a, 0x45, 0x89, 0x33, 0x4c, 0x74, 0xc7,
    // y_G
    0xbc, 0x37, 0x36, 0xa2, 0xf4, 0xf6, 0x77, 0x9c, 0x59, 0xbd, 0xce, 0xe3, 0x6b, 0x69, 0x21, 0x53,
    0xd0, 0xa9, 0x87, 0x7c, 0xc6, 0x2a, 0x47, 0x40, 0x02, 0xdf, 0x32, 0xe5, 0x21, 0x39, 0xf0, 0xa0,
];

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
    update(&CURVE_PARAMETERS)?;
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
    message_digest_with_z(&z_a_with_id(public_point, user_id)?, message)
}

/// `e = SM3(Z_A || message)` for a `Z_A` computed before: a signing key's
/// is the same for every message it signs.
pub fn message_digest_with_z(z: &[u8; 32], message: &[u8]) -> PkiResult<[u8; 32]> {
    let mut h = sm3()?;
    h.update(z).map_err(|e| PkiError::Signing(e.to_string()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hashed_curve_parameters_are_openssls_sm2_curve() {
        let group = crate::algorithm::curve_group(crate::KeyAlgorithm::Sm2).unwrap();
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        let (mut p, mut a, mut b) = (
            openssl::bn::BigNum::new().unwrap(),
            openssl::bn::BigNum::new().unwrap(),
            openssl::bn::BigNum::new().unwrap(),
        );
        group
            .components_gfp(&mut p, &mut a, &mut b, &mut ctx)
            .unwrap();
        let generator = group
            .generator_opt()
            .unwrap()
            .to_bytes(
                group,
                openssl::ec::PointConversionForm::UNCOMPRESSED,
                &mut ctx,
            )
            .unwrap();
        let mut expected = a.to_vec_padded(32).unwrap();
        expected.extend(b.to_vec_padded(32).unwrap());
        expected.extend(&generator[1..]);
        assert_eq!(CURVE_PARAMETERS.to_vec(), expected);
    }

    #[test]
    fn a_digest_over_a_kept_z_is_the_digest_over_the_point() {
        let point = [[0x04].as_slice(), &CURVE_PARAMETERS[64..]].concat();
        let z = z_a(&point).unwrap();
        assert_eq!(
            message_digest_with_z(&z, b"tbs").unwrap(),
            message_digest(&point, b"tbs").unwrap()
        );
        assert_ne!(z, z_a_with_id(&point, b"").unwrap());
    }
}
