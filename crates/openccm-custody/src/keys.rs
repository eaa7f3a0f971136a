//! Software key pairs, held by OpenSSL: RSA operations are constant time
//! (blinded), unlike the pure-Rust `rsa` crate (RUSTSEC-2023-0071). Private
//! key memory is cleared by OpenSSL when the key is freed.

use openccm_pki::{HashAlgorithm, KeyAlgorithm, PkiError, PkiResult, Signer};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Rsa;
use zeroize::Zeroizing;

fn ossl(err: openssl::error::ErrorStack) -> PkiError {
    PkiError::Key(err.to_string())
}

/// A private key in memory.
pub struct SoftwareKey {
    pkey: PKey<Private>,
    algorithm: KeyAlgorithm,
    public_key: Vec<u8>,
    /// For ECDSA keys: the key as an `EC_KEY`, signed with directly. (OpenSSL
    /// 3.0's EVP layer looks the algorithm up under a lock on every call,
    /// which costs as much as the signature and serialises the signing threads.)
    ec: Option<EcKey<Private>>,
}

impl std::fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SoftwareKey {
    /// Generates a key pair (OpenSSL's CSPRNG). RSA4096 takes seconds: call
    /// from a blocking pool.
    pub fn generate(algorithm: KeyAlgorithm) -> PkiResult<Self> {
        let pkey = match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                let bits = algorithm.rsa_bits().unwrap_or(2048);
                PKey::from_rsa(Rsa::generate(bits).map_err(ossl)?).map_err(ossl)?
            }
            KeyAlgorithm::Ec256 | KeyAlgorithm::Ec384 => {
                let nid = if algorithm == KeyAlgorithm::Ec256 {
                    Nid::X9_62_PRIME256V1
                } else {
                    Nid::SECP384R1
                };
                let group = EcGroup::from_curve_name(nid).map_err(ossl)?;
                PKey::from_ec_key(EcKey::generate(&group).map_err(ossl)?).map_err(ossl)?
            }
            KeyAlgorithm::Sm2 => {
                let mut ctx = PkeyCtx::new_id(Id::SM2).map_err(ossl)?;
                ctx.keygen_init().map_err(ossl)?;
                ctx.keygen().map_err(ossl)?
            }
        };
        Self::from_pkey(pkey, Some(algorithm))
    }

    fn from_pkey(pkey: PKey<Private>, expected: Option<KeyAlgorithm>) -> PkiResult<Self> {
        let public_key = pkey.public_key_to_der().map_err(ossl)?;
        let spki = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(&public_key)
            .map_err(|e| PkiError::Key(e.to_string()))?;
        let algorithm = KeyAlgorithm::of_spki(&spki)?;
        if expected.is_some_and(|e| e != algorithm) {
            return Err(PkiError::Key(
                "the key is not of the expected algorithm".to_owned(),
            ));
        }
        let ec = match algorithm {
            KeyAlgorithm::Ec256 | KeyAlgorithm::Ec384 => Some(pkey.ec_key().map_err(ossl)?),
            _ => None,
        };
        Ok(Self {
            pkey,
            algorithm,
            public_key,
            ec,
        })
    }

    /// Reads an unencrypted PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> PkiResult<Self> {
        let pkey = PKey::private_key_from_pkcs8(der)
            .map_err(|_| PkiError::Key("unreadable private key".to_owned()))?;
        Self::from_pkey(pkey, None)
    }

    /// Reads a PEM private key: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE
    /// KEY`) or SEC1 (`EC PRIVATE KEY`). Encrypted keys are refused.
    pub fn from_pem(pem: &str) -> PkiResult<Self> {
        if pem.len() > 64 * 1024 {
            return Err(PkiError::Key("the private key is too large".to_owned()));
        }
        if pem.contains("ENCRYPTED") {
            return Err(PkiError::Key(
                "password-protected private keys are not accepted".to_owned(),
            ));
        }
        let pkey = PKey::private_key_from_pem(pem.as_bytes())
            .map_err(|_| PkiError::Key("unreadable private key".to_owned()))?;
        Self::from_pkey(pkey, None)
    }

    /// The SM2 key of a raw 32-byte private scalar (as an SM2 enveloped key
    /// carries it). Fails unless 0 < d < n - 1.
    pub(crate) fn from_sm2_scalar(scalar: &[u8]) -> PkiResult<Self> {
        use openssl::bn::{BigNum, BigNumContext};
        use openssl::ec::EcPoint;
        let group = EcGroup::from_curve_name(Nid::SM2).map_err(ossl)?;
        let mut ctx = BigNumContext::new().map_err(ossl)?;
        let d = BigNum::from_slice(scalar).map_err(ossl)?;
        let mut order = BigNum::new().map_err(ossl)?;
        group.order(&mut order, &mut ctx).map_err(ossl)?;
        let mut limit = BigNum::new().map_err(ossl)?;
        limit
            .checked_sub(&order, BigNum::from_u32(1).map_err(ossl)?.as_ref())
            .map_err(ossl)?;
        if d.num_bits() == 0 || d >= limit {
            return Err(PkiError::Key(
                "the SM2 private key is out of range".to_owned(),
            ));
        }
        let mut point = EcPoint::new(&group).map_err(ossl)?;
        point.mul_generator2(&group, &d, &mut ctx).map_err(ossl)?;
        let ec = EcKey::from_private_components(&group, &d, &point).map_err(ossl)?;
        ec.check_key().map_err(ossl)?;
        // Through PKCS#8 so that OpenSSL 3 types it as SM2, not as ECDSA.
        let pkcs8 = Zeroizing::new(
            PKey::from_ec_key(ec)
                .map_err(ossl)?
                .private_key_to_pkcs8()
                .map_err(ossl)?,
        );
        Self::from_pkcs8_der(&pkcs8)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The public key, SubjectPublicKeyInfo DER.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// Unencrypted PKCS#8 DER (to be sealed; never stored or sent as is).
    pub fn to_pkcs8_der(&self) -> PkiResult<Zeroizing<Vec<u8>>> {
        self.pkey
            .private_key_to_pkcs8()
            .map(Zeroizing::new)
            .map_err(ossl)
    }

    pub(crate) fn pkey(&self) -> &PKey<Private> {
        &self.pkey
    }

    /// The raw SM2 private scalar, 32 bytes (for the SM2 enveloped key).
    pub(crate) fn sm2_private_scalar(&self) -> PkiResult<Zeroizing<Vec<u8>>> {
        // OpenSSL 3 keeps SM2 keys as their own type, which the EC_KEY
        // accessors refuse; the SEC1 encoding reads back as an EC key.
        let sec1 = Zeroizing::new(self.pkey.private_key_to_der().map_err(ossl)?);
        let ec = EcKey::private_key_from_der(&sec1).map_err(ossl)?;
        ec.private_key()
            .to_vec_padded(32)
            .map(Zeroizing::new)
            .map_err(ossl)
    }

    /// Whether `public_key` (SPKI DER) is this key's public key.
    pub fn matches_public_key(&self, public_key: &[u8]) -> bool {
        self.public_key == public_key
    }

    /// Whether this key is the private half of `public_key` (SPKI DER, e.g. a
    /// certificate's), proven by signing a fresh challenge and verifying it
    /// with `public_key`. Comparing public parts alone would accept a key file
    /// whose private parts were tampered with.
    pub fn proves_possession_of(&self, public_key: &[u8]) -> PkiResult<bool> {
        let spki = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(public_key)
            .map_err(|e| PkiError::Key(e.to_string()))?;
        if KeyAlgorithm::of_spki(&spki).ok() != Some(self.algorithm) {
            return Ok(false);
        }
        let mut challenge = [0u8; 32];
        openssl::rand::rand_bytes(&mut challenge).map_err(ossl)?;
        let hash = self.algorithm.default_hash();
        let signature = self.sign(hash, &challenge)?;
        let oid = openccm_pki::algorithm::signature_oid(self.algorithm, hash)?;
        Ok(openccm_pki::verify::verify(public_key, oid, &challenge, &signature).is_ok())
    }
}

impl Signer for SoftwareKey {
    fn key_algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key_der(&self) -> &[u8] {
        &self.public_key
    }

    fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> PkiResult<Vec<u8>> {
        hash.check_fits(self.algorithm)?;
        let signing = |e: openssl::error::ErrorStack| PkiError::Signing(e.to_string());
        if self.algorithm == KeyAlgorithm::Sm2 {
            let spki =
                <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(&self.public_key)
                    .map_err(|e| PkiError::Key(e.to_string()))?;
            let point = openccm_pki::sm2::public_point(&spki)?;
            let e = openccm_pki::sm2::message_digest(&point, message)?;
            let mut ctx = PkeyCtx::new(&self.pkey).map_err(signing)?;
            ctx.sign_init().map_err(signing)?;
            let mut signature = Vec::new();
            ctx.sign_to_vec(&e, &mut signature).map_err(signing)?;
            return Ok(signature);
        }
        if let Some(ec) = &self.ec {
            let digest = hash.ecdsa_digest(message)?;
            return openssl::ecdsa::EcdsaSig::sign(&digest, ec)
                .and_then(|sig| sig.to_der())
                .map_err(signing);
        }
        let mut signer =
            openssl::sign::Signer::new(hash.message_digest(), &self.pkey).map_err(signing)?;
        signer.sign_oneshot_to_vec(message).map_err(signing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_generates_signs_and_verifies() {
        for algorithm in KeyAlgorithm::ALL {
            if algorithm == KeyAlgorithm::Rsa4096 || algorithm == KeyAlgorithm::Rsa3072 {
                continue; // slow; covered by the integration tests
            }
            let key = SoftwareKey::generate(algorithm).unwrap();
            assert_eq!(key.algorithm(), algorithm);
            let hash = algorithm.default_hash();
            let sig = key.sign(hash, b"message").unwrap();
            let oid = openccm_pki::algorithm::signature_oid(algorithm, hash).unwrap();
            openccm_pki::verify::verify(key.public_key(), oid, b"message", &sig).unwrap();
            assert!(openccm_pki::verify::verify(key.public_key(), oid, b"messagf", &sig).is_err());
            let again = SoftwareKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            assert_eq!(again.algorithm(), algorithm);
        }
    }

    #[test]
    fn possession_is_proven_only_for_the_matching_public_key() {
        for algorithm in [
            KeyAlgorithm::Ec256,
            KeyAlgorithm::Sm2,
            KeyAlgorithm::Rsa2048,
        ] {
            let key = SoftwareKey::generate(algorithm).unwrap();
            let other = SoftwareKey::generate(algorithm).unwrap();
            assert!(key.proves_possession_of(key.public_key()).unwrap());
            assert!(!key.proves_possession_of(other.public_key()).unwrap());
        }
        let ec = SoftwareKey::generate(KeyAlgorithm::Ec256).unwrap();
        let sm2 = SoftwareKey::generate(KeyAlgorithm::Sm2).unwrap();
        assert!(!ec.proves_possession_of(sm2.public_key()).unwrap());
    }

    #[test]
    fn sm2_keys_reload_as_sm2_and_sign_with_the_default_id() {
        let key = SoftwareKey::generate(KeyAlgorithm::Sm2).unwrap();
        let reloaded = SoftwareKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        let sig = reloaded.sign(HashAlgorithm::Sm3, b"m").unwrap();
        let oid = openccm_pki::algorithm::oid::SM2_WITH_SM3;
        openccm_pki::verify::verify(key.public_key(), oid, b"m", &sig).unwrap();
        assert!(reloaded.sign(HashAlgorithm::Sha256, b"m").is_err());
    }
}
