//! Signing: the [`Signer`] custody implements, and [`LintedTbs`], the only
//! thing that can be signed into a certificate.

use der::asn1::BitString;
use der::Encode as _;
use spki::AlgorithmIdentifierOwned;
use x509_cert::certificate::{Certificate, TbsCertificate};

use crate::algorithm::{HashAlgorithm, KeyAlgorithm};
use crate::{PkiError, PkiResult};

/// Signs certificates: implemented by `openccm-custody` (software keys, HSMs).
pub trait Signer: Send + Sync {
    /// The key's algorithm.
    fn key_algorithm(&self) -> KeyAlgorithm;
    /// The public key (SubjectPublicKeyInfo DER).
    fn public_key_der(&self) -> &[u8];
    /// Signs `message` with `hash` (SM2: over `Z_A` with the default id).
    fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> PkiResult<Vec<u8>>;
}

/// A TBS certificate that passed the lint. Only [`super::lint`] makes one,
/// from the DER it checked; only [`LintedTbs::sign`] consumes it.
#[derive(Debug)]
pub struct LintedTbs {
    pub(super) tbs: TbsCertificate,
    pub(super) der: Vec<u8>,
    /// SHA-256 of `der`, computed once: the intent records it, the signed
    /// certificate carries it.
    pub(super) digest: [u8; 32],
    pub(super) signature_algorithm: AlgorithmIdentifierOwned,
    pub(super) issuer_key_algorithm: KeyAlgorithm,
    pub(super) hash: HashAlgorithm,
}

/// A signed certificate.
#[derive(Debug, Clone)]
pub struct SignedCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// SHA-256 of the TBS that was linted and signed.
    pub tbs_digest: [u8; 32],
}

impl LintedTbs {
    /// The DER of the linted TBS.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the TBS DER (recorded with the issuance intent).
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Signs with `signer` ([`sign_checked`]) and checks that the
    /// certificate carries exactly the linted TBS. Fails if the signer's key
    /// is not the issuer's the TBS was built for.
    pub fn sign(self, signer: &dyn Signer) -> PkiResult<SignedCertificate> {
        if signer.key_algorithm() != self.issuer_key_algorithm {
            return Err(PkiError::Signing(
                "the signer is not the issuing key".to_owned(),
            ));
        }
        let signature = sign_checked(signer, &self.signature_algorithm, self.hash, &self.der)?;
        let digest = self.digest;
        let certificate = Certificate {
            tbs_certificate: self.tbs,
            signature_algorithm: self.signature_algorithm,
            signature: BitString::from_bytes(&signature).map_err(crate::encoding)?,
        };
        let der = certificate.to_der().map_err(crate::encoding)?;
        // The certificate is SEQUENCE { tbs, algorithm, signature }: the bytes
        // right after the outer header must be the linted TBS, byte for byte.
        let mut reader = der::SliceReader::new(&der).map_err(crate::encoding)?;
        let header =
            <der::Header as der::Decode<'_>>::decode(&mut reader).map_err(crate::encoding)?;
        let start = usize::try_from(header.encoded_len().map_err(crate::encoding)?)
            .map_err(crate::encoding)?;
        if der.get(start..start + self.der.len()) != Some(self.der.as_slice()) {
            return Err(PkiError::Signing(
                "the signed TBS differs from the linted one".to_owned(),
            ));
        }
        Ok(SignedCertificate {
            der,
            tbs_digest: digest,
        })
    }
}

/// Signs `message` (a TBS) with `signer` for `algorithm` and, for RSA,
/// verifies the signature with the signer's public key before it leaves.
///
/// Why RSA only: a faulty RSA-CRT signature leaks a factor of the modulus
/// (Boneh-DeMillo-Lipton), so a signature must never leave unchecked, and
/// checking costs a fifteenth of signing. An ECDSA or SM2 fault yields an
/// invalid signature that relying parties refuse, with no such leak, and
/// checking would cost three times the signature.
///
/// Fails if signing fails or an RSA signature does not verify.
pub fn sign_checked(
    signer: &dyn Signer,
    algorithm: &AlgorithmIdentifierOwned,
    hash: HashAlgorithm,
    message: &[u8],
) -> PkiResult<Vec<u8>> {
    let signature = signer.sign(hash, message)?;
    if signer.key_algorithm().is_rsa() {
        crate::verify::verify(signer.public_key_der(), algorithm.oid, message, &signature)?;
    }
    Ok(signature)
}
