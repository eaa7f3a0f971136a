//! The only ways a private key leaves the service: to its owner, on export.
//!
//! - PEM PKCS#8, encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) when
//!   the caller gives a password;
//! - PKCS#12 (IIS, and Tomcat: Java reads PKCS#12 keystores natively), with
//!   the same PBES2 for the key and the certificates and an HMAC-SHA256 MAC;
//! - the GM/T 0009 / GB/T 35276 `SM2EnvelopedKey`, for an SM2 encryption key
//!   generated on behalf of the owner of a signing key;
//! - the GM/T 0010 / GB/T 35275 `signedAndEnvelopedData` carrying the same
//!   key, signed by the issuing CA.

use der::asn1::{BitString, Int, OctetString};
use der::{Decode as _, Encode as _};
use openccm_pki::algorithm::oid;
use openccm_pki::{KeyAlgorithm, PkiError, PkiResult};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::PKey;
use openssl::pkey_ctx::PkeyCtx;
use openssl::stack::Stack;
use openssl::symm::{Cipher, Crypter, Mode};
use openssl::x509::X509;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use crate::keys::SoftwareKey;

/// PBKDF2-HMAC-SHA256 iterations of every password-protected export (the
/// PEM key; each PBES2 bag and the MAC of a PKCS#12 file). OpenSSL's default
/// is 2,048 and keytool's 10,000; 100,000 costs a guesser 10× keytool's work
/// per password while every reader still opens the file: OpenSSL and Java
/// take any count, and .NET/Windows refuse a PKCS#12 file whose KDFs add up
/// to more than 600,000 iterations (key bag + certificate bag + MAC =
/// 300,000 here).
pub const PBKDF2_ITERATIONS: u32 = 100_000;

fn ossl(err: openssl::error::ErrorStack) -> PkiError {
    PkiError::Key(err.to_string())
}

/// The private key as PEM: PKCS#8, encrypted under `password` if given
/// (PBES2: PBKDF2-HMAC-SHA256 with [`PBKDF2_ITERATIONS`], AES-256-CBC; the
/// OpenSSL binding cannot set the count, the `pkcs8` crate can).
pub fn private_key_pem(key: &SoftwareKey, password: Option<&str>) -> PkiResult<Zeroizing<String>> {
    let Some(password) = password else {
        let pem = key.pkey().private_key_to_pem_pkcs8().map_err(ossl)?;
        let text =
            String::from_utf8(pem).map_err(|_| PkiError::Key("PEM is not UTF-8".to_owned()))?;
        return Ok(Zeroizing::new(text));
    };
    let der = Zeroizing::new(key.pkey().private_key_to_pkcs8().map_err(ossl)?);
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt).map_err(ossl)?;
    openssl::rand::rand_bytes(&mut iv).map_err(ossl)?;
    let pkcs8_error = |e: pkcs8::Error| PkiError::Key(format!("cannot encrypt the key: {e}"));
    let params =
        pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
            .map_err(|e| pkcs8_error(e.into()))?;
    let encrypted = pkcs8::PrivateKeyInfo::try_from(der.as_slice())
        .map_err(pkcs8_error)?
        .encrypt_with_params(params, password.as_bytes())
        .map_err(pkcs8_error)?;
    let pem = encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
        .map_err(|e| pkcs8_error(e.into()))?;
    Ok(Zeroizing::new(pem.to_string()))
}

/// A PKCS#12 file holding the key, its certificate and the chain, protected
/// by `password`: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key and the
/// certificates, an HMAC-SHA256 MAC, each with [`PBKDF2_ITERATIONS`].
pub fn pkcs12(
    key: &SoftwareKey,
    certificate_der: &[u8],
    chain_der: &[Vec<u8>],
    friendly_name: &str,
    password: &str,
) -> PkiResult<Vec<u8>> {
    let cert = X509::from_der(certificate_der).map_err(ossl)?;
    let mut chain = Stack::new().map_err(ossl)?;
    for der in chain_der {
        chain
            .push(X509::from_der(der).map_err(ossl)?)
            .map_err(ossl)?;
    }
    let mut builder = Pkcs12::builder();
    builder
        .name(friendly_name)
        .pkey(key.pkey())
        .cert(&cert)
        .key_algorithm(Nid::AES_256_CBC)
        .cert_algorithm(Nid::AES_256_CBC)
        .key_iter(PBKDF2_ITERATIONS)
        .mac_iter(PBKDF2_ITERATIONS)
        .mac_md(MessageDigest::sha256());
    if !chain_der.is_empty() {
        builder.ca(chain);
    }
    builder
        .build2(password)
        .map_err(ossl)?
        .to_der()
        .map_err(ossl)
}

/// `SM2Cipher`, GM/T 0009 (C1 C3 C2): what OpenSSL's SM2 encryption emits.
#[derive(Debug, der::Sequence)]
pub struct Sm2Cipher {
    /// C1.x.
    pub x_coordinate: Int,
    /// C1.y.
    pub y_coordinate: Int,
    /// C3 = SM3(x2 || M || y2).
    pub hash: OctetString,
    /// C2.
    pub cipher_text: OctetString,
}

/// `SM2EnvelopedKey`, GB/T 35276-2017 §7.4 (GM/T 0009).
#[derive(Debug, der::Sequence)]
pub struct Sm2EnvelopedKey {
    /// The symmetric algorithm: SM4-ECB.
    pub sym_alg_id: AlgorithmIdentifierOwned,
    /// The SM4 key, SM2-encrypted to the recipient's signing public key.
    pub sym_encrypted_key: Sm2Cipher,
    /// The enveloped key pair's public key, `04 || X || Y`.
    pub sm2_public_key: BitString,
    /// The enveloped private scalar (32 bytes), SM4-ECB under the symmetric key.
    pub sm2_encrypted_private_key: BitString,
}

/// SM4 in ECB mode (GM/T 0006: 1.2.156.10197.1.104.1).
const SM4_ECB: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.156.10197.1.104.1");

/// Envelopes the SM2 key `enveloped` for the holder of the SM2 signing key
/// `recipient_public_key` (SPKI DER): a fresh random SM4 key encrypts the
/// 32-byte private scalar; SM2 encryption to the recipient protects the SM4
/// key. Returns the DER of `SM2EnvelopedKey`.
pub fn sm2_enveloped_key(
    enveloped: &SoftwareKey,
    recipient_public_key: &[u8],
) -> PkiResult<Vec<u8>> {
    if enveloped.algorithm() != KeyAlgorithm::Sm2 {
        return Err(PkiError::Key("only SM2 keys are enveloped".to_owned()));
    }
    let recipient = PKey::public_key_from_der(recipient_public_key).map_err(ossl)?;
    let mut sm4_key = Zeroizing::new([0u8; 16]);
    openssl::rand::rand_bytes(sm4_key.as_mut()).map_err(ossl)?;

    let mut ctx = PkeyCtx::new(&recipient).map_err(ossl)?;
    ctx.encrypt_init().map_err(ossl)?;
    let mut encrypted_key = Vec::new();
    ctx.encrypt_to_vec(sm4_key.as_ref(), &mut encrypted_key)
        .map_err(ossl)?;
    let sym_encrypted_key = Sm2Cipher::from_der(&encrypted_key)
        .map_err(|e| PkiError::Key(format!("SM2 ciphertext: {e}")))?;

    let scalar = enveloped.sm2_private_scalar()?;
    let mut crypter =
        Crypter::new(Cipher::sm4_ecb(), Mode::Encrypt, sm4_key.as_ref(), None).map_err(ossl)?;
    crypter.pad(false);
    let mut encrypted_private = vec![0u8; scalar.len() + 16];
    let mut n = crypter
        .update(&scalar, &mut encrypted_private)
        .map_err(ossl)?;
    n += crypter
        .finalize(&mut encrypted_private[n..])
        .map_err(ossl)?;
    encrypted_private.truncate(n);

    let spki = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(enveloped.public_key())
        .map_err(|e| PkiError::Key(e.to_string()))?;
    let point = openccm_pki::sm2::public_point(&spki)?;
    let envelope = Sm2EnvelopedKey {
        sym_alg_id: AlgorithmIdentifierOwned {
            oid: SM4_ECB,
            parameters: None,
        },
        sym_encrypted_key,
        sm2_public_key: BitString::from_bytes(&point)
            .map_err(|e| PkiError::Encoding(e.to_string()))?,
        sm2_encrypted_private_key: BitString::from_bytes(&encrypted_private)
            .map_err(|e| PkiError::Encoding(e.to_string()))?,
    };
    let _ = oid::SM4;
    envelope
        .to_der()
        .map_err(|e| PkiError::Encoding(e.to_string()))
}

/// GM/T 0010 / GB/T 35275 object identifiers.
mod gmt0010 {
    use const_oid::ObjectIdentifier;

    /// `data`.
    pub const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.6.1.4.2.1");
    /// `signedAndEnvelopedData`.
    pub const SIGNED_AND_ENVELOPED_DATA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.156.10197.6.1.4.2.4");
    /// SM4 in CBC mode (GM/T 0006); the parameter is the IV.
    pub const SM4_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.104.2");
    /// SM2-1, the signature scheme.
    pub const SM2_SIGN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301.1");
    /// SM2-3, public-key encryption.
    pub const SM2_ENCRYPT: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301.3");
    /// SM3.
    pub const SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.401");
}

/// `IssuerAndSerialNumber`: names a certificate.
#[derive(Debug, Clone, der::Sequence, der::ValueOrd)]
pub struct IssuerAndSerialNumber {
    /// The certificate's issuer.
    pub issuer: x509_cert::name::Name,
    /// Its serial number.
    pub serial_number: x509_cert::serial_number::SerialNumber,
}

impl IssuerAndSerialNumber {
    /// The issuer and serial of `certificate`.
    pub fn of(certificate: &x509_cert::Certificate) -> Self {
        Self {
            issuer: certificate.tbs_certificate.issuer.clone(),
            serial_number: certificate.tbs_certificate.serial_number.clone(),
        }
    }
}

/// `RecipientInfo` (GM/T 0010 §7.3).
#[derive(Debug, Clone, der::Sequence, der::ValueOrd)]
pub struct RecipientInfo {
    /// 1.
    pub version: u8,
    /// The recipient's certificate.
    pub issuer_and_serial_number: IssuerAndSerialNumber,
    /// SM2-3.
    pub key_encryption_algorithm: AlgorithmIdentifierOwned,
    /// The content-encryption key, SM2-encrypted (`SM2Cipher`, DER).
    pub encrypted_key: OctetString,
}

/// `EncryptedContentInfo` (GM/T 0010 §7.3).
#[derive(Debug, Clone, der::Sequence)]
pub struct EncryptedContentInfo {
    /// `data`.
    pub content_type: const_oid::ObjectIdentifier,
    /// SM4-CBC with its IV.
    pub content_encryption_algorithm: AlgorithmIdentifierOwned,
    /// The encrypted content.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub encrypted_content: Option<OctetString>,
}

/// `SignerInfo` (GM/T 0010 §7.2), without attributes: the signature is
/// over the content itself.
#[derive(Debug, Clone, der::Sequence, der::ValueOrd)]
pub struct SignerInfo {
    /// 1.
    pub version: u8,
    /// The signer's certificate.
    pub issuer_and_serial_number: IssuerAndSerialNumber,
    /// SM3.
    pub digest_algorithm: AlgorithmIdentifierOwned,
    /// SM2-1.
    pub digest_encryption_algorithm: AlgorithmIdentifierOwned,
    /// The SM2 signature (`SM2Signature`, DER) with the default user id.
    pub encrypted_digest: OctetString,
}

/// `SignedAndEnvelopedData` (GM/T 0010 §10).
#[derive(Debug, Clone, der::Sequence)]
pub struct SignedAndEnvelopedData {
    /// 1.
    pub version: u8,
    /// Who can open it.
    pub recipient_infos: der::asn1::SetOfVec<RecipientInfo>,
    /// SM3.
    pub digest_algorithms: der::asn1::SetOfVec<AlgorithmIdentifierOwned>,
    /// The encrypted key.
    pub encrypted_content_info: EncryptedContentInfo,
    /// The signer's certificate.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub certificates: Option<der::asn1::SetOfVec<x509_cert::Certificate>>,
    /// Who signed it.
    pub signer_infos: der::asn1::SetOfVec<SignerInfo>,
}

/// `ContentInfo` holding a `SignedAndEnvelopedData`.
#[derive(Debug, Clone, der::Sequence)]
pub struct SignedAndEnvelopedContentInfo {
    /// `signedAndEnvelopedData`.
    pub content_type: const_oid::ObjectIdentifier,
    /// The content.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub content: SignedAndEnvelopedData,
}

fn algorithm(oid: const_oid::ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

fn encoding(e: der::Error) -> PkiError {
    PkiError::Encoding(e.to_string())
}

/// GM/T 0010 `signedAndEnvelopedData` carrying the 32-byte private scalar
/// of the SM2 key `enveloped` to the holder of the signing certificate
/// `recipient` (its SM2 public key), signed by `signer` whose certificate is
/// `signer_certificate`: a fresh SM4 key encrypts the scalar (CBC, random
/// IV, PKCS#7 padding), SM2 encryption to the recipient protects that key,
/// and an SM2 signature (SM3, default user id) over the scalar proves who
/// made it. Returns the DER of the `ContentInfo`.
pub fn sm2_signed_and_enveloped_data(
    enveloped: &SoftwareKey,
    recipient: &x509_cert::Certificate,
    signer: &dyn openccm_pki::Signer,
    signer_certificate: &x509_cert::Certificate,
) -> PkiResult<Vec<u8>> {
    if enveloped.algorithm() != KeyAlgorithm::Sm2 || signer.key_algorithm() != KeyAlgorithm::Sm2 {
        return Err(PkiError::Key(
            "only SM2 keys are enveloped, and signed by an SM2 CA".to_owned(),
        ));
    }
    let recipient_spki = recipient
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(encoding)?;
    let recipient_key = PKey::public_key_from_der(&recipient_spki).map_err(ossl)?;
    let mut sm4_key = Zeroizing::new([0u8; 16]);
    openssl::rand::rand_bytes(sm4_key.as_mut()).map_err(ossl)?;
    let mut iv = [0u8; 16];
    openssl::rand::rand_bytes(&mut iv).map_err(ossl)?;

    let mut ctx = PkeyCtx::new(&recipient_key).map_err(ossl)?;
    ctx.encrypt_init().map_err(ossl)?;
    let mut encrypted_key = Vec::new();
    ctx.encrypt_to_vec(sm4_key.as_ref(), &mut encrypted_key)
        .map_err(ossl)?;

    let scalar = enveloped.sm2_private_scalar()?;
    let encrypted_content =
        openssl::symm::encrypt(Cipher::sm4_cbc(), sm4_key.as_ref(), Some(&iv), &scalar)
            .map_err(ossl)?;
    let signature = signer.sign(openccm_pki::HashAlgorithm::Sm3, &scalar)?;

    let iv_param = der::Any::encode_from(&OctetString::new(iv.to_vec()).map_err(encoding)?)
        .map_err(encoding)?;
    let mut recipient_infos = der::asn1::SetOfVec::new();
    recipient_infos
        .insert(RecipientInfo {
            version: 1,
            issuer_and_serial_number: IssuerAndSerialNumber::of(recipient),
            key_encryption_algorithm: algorithm(gmt0010::SM2_ENCRYPT),
            encrypted_key: OctetString::new(encrypted_key).map_err(encoding)?,
        })
        .map_err(encoding)?;
    let mut digest_algorithms = der::asn1::SetOfVec::new();
    digest_algorithms
        .insert(algorithm(gmt0010::SM3))
        .map_err(encoding)?;
    let mut certificates = der::asn1::SetOfVec::new();
    certificates
        .insert(signer_certificate.clone())
        .map_err(encoding)?;
    let mut signer_infos = der::asn1::SetOfVec::new();
    signer_infos
        .insert(SignerInfo {
            version: 1,
            issuer_and_serial_number: IssuerAndSerialNumber::of(signer_certificate),
            digest_algorithm: algorithm(gmt0010::SM3),
            digest_encryption_algorithm: algorithm(gmt0010::SM2_SIGN),
            encrypted_digest: OctetString::new(signature).map_err(encoding)?,
        })
        .map_err(encoding)?;
    SignedAndEnvelopedContentInfo {
        content_type: gmt0010::SIGNED_AND_ENVELOPED_DATA,
        content: SignedAndEnvelopedData {
            version: 1,
            recipient_infos,
            digest_algorithms,
            encrypted_content_info: EncryptedContentInfo {
                content_type: gmt0010::DATA,
                content_encryption_algorithm: AlgorithmIdentifierOwned {
                    oid: gmt0010::SM4_CBC,
                    parameters: Some(iv_param),
                },
                encrypted_content: Some(OctetString::new(encrypted_content).map_err(encoding)?),
            },
            certificates: Some(certificates),
            signer_infos,
        },
    }
    .to_der()
    .map_err(encoding)
}

/// The largest SM2 enveloped key accepted (DER); a real one is under 300 bytes.
pub const MAX_ENVELOPE_BYTES: usize = 4096;

/// Opens an `SM2EnvelopedKey` with the SM2 signing key it was made for: the
/// inverse of [`sm2_enveloped_key`]. Fails unless the envelope is well-formed
/// DER, its SM4 key decrypts under `recipient`, and the private key inside
/// belongs to the public key the envelope names.
pub fn open_sm2_enveloped_key(
    recipient: &SoftwareKey,
    envelope_der: &[u8],
) -> PkiResult<SoftwareKey> {
    let bad = |msg: &str| PkiError::Key(msg.to_owned());
    if recipient.algorithm() != KeyAlgorithm::Sm2 {
        return Err(bad("only an SM2 signing key opens an SM2 envelope"));
    }
    if envelope_der.len() > MAX_ENVELOPE_BYTES {
        return Err(bad("the SM2 enveloped key is too large"));
    }
    let envelope = Sm2EnvelopedKey::from_der(envelope_der)
        .map_err(|_| bad("not an SM2 enveloped key (GB/T 35276 SM2EnvelopedKey, DER)"))?;
    if envelope.sym_alg_id.oid != SM4_ECB {
        return Err(bad("the envelope's symmetric algorithm is not SM4-ECB"));
    }
    let cipher = envelope
        .sym_encrypted_key
        .to_der()
        .map_err(|e| PkiError::Encoding(e.to_string()))?;
    let mut ctx = PkeyCtx::new(recipient.pkey()).map_err(ossl)?;
    ctx.decrypt_init().map_err(ossl)?;
    let mut sm4_key = Zeroizing::new(Vec::new());
    ctx.decrypt_to_vec(&cipher, &mut sm4_key)
        .map_err(|_| bad("the envelope was not made for this signing key"))?;
    if sm4_key.len() != 16 {
        return Err(bad("the envelope's symmetric key is not an SM4 key"));
    }
    let encrypted = envelope
        .sm2_encrypted_private_key
        .as_bytes()
        .ok_or_else(|| bad("malformed encrypted private key"))?;
    // 32 bytes (GB/T 35276), or 64 with the scalar right-aligned (the SKF
    // 512-bit blob some toolkits use).
    if encrypted.len() != 32 && encrypted.len() != 64 {
        return Err(bad("the encrypted private key has the wrong size"));
    }
    let mut crypter =
        Crypter::new(Cipher::sm4_ecb(), Mode::Decrypt, &sm4_key, None).map_err(ossl)?;
    crypter.pad(false);
    let mut plain = Zeroizing::new(vec![0u8; encrypted.len() + 16]);
    let mut n = crypter.update(encrypted, &mut plain).map_err(ossl)?;
    n += crypter.finalize(&mut plain[n..]).map_err(ossl)?;
    plain.truncate(n);
    let scalar = match plain.len() {
        32 => &plain[..],
        64 if plain[..32].iter().all(|b| *b == 0) => &plain[32..],
        _ => return Err(bad("the enveloped private key is malformed")),
    };
    let key = SoftwareKey::from_sm2_scalar(scalar)?;
    let spki = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(key.public_key())
        .map_err(|e| PkiError::Key(e.to_string()))?;
    let point = openccm_pki::sm2::public_point(&spki)?;
    if envelope.sm2_public_key.as_bytes() != Some(point.as_slice()) {
        return Err(bad(
            "the enveloped private key does not match the envelope's public key",
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_encrypt_the_pem() {
        let key = SoftwareKey::generate(KeyAlgorithm::Ec256).unwrap();
        let plain = private_key_pem(&key, None).unwrap();
        assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----"));
        let encrypted = private_key_pem(&key, Some("s3cret")).unwrap();
        assert!(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let opened =
            PKey::private_key_from_pem_passphrase(encrypted.as_bytes(), b"s3cret").unwrap();
        assert_eq!(opened.public_key_to_der().unwrap(), key.public_key());
        assert!(PKey::private_key_from_pem_passphrase(encrypted.as_bytes(), b"wrong").is_err());
        // PBES2: PBKDF2-HMAC-SHA256 with our count, AES-256-CBC.
        let (label, der) = pkcs8::der::pem::decode_vec(encrypted.as_bytes()).unwrap();
        assert_eq!(label, "ENCRYPTED PRIVATE KEY");
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()).unwrap();
        let pkcs8::pkcs5::EncryptionScheme::Pbes2(params) = info.encryption_algorithm else {
            panic!("not PBES2");
        };
        let pkcs8::pkcs5::pbes2::Kdf::Pbkdf2(kdf) = params.kdf else {
            panic!("not PBKDF2");
        };
        assert_eq!(kdf.iteration_count, PBKDF2_ITERATIONS);
        assert_eq!(kdf.prf, pkcs8::pkcs5::pbes2::Pbkdf2Prf::HmacWithSha256);
        assert!(matches!(
            params.encryption,
            pkcs8::pkcs5::pbes2::EncryptionScheme::Aes256Cbc { .. }
        ));
    }

    #[test]
    fn the_envelope_has_the_documented_shape() {
        let recipient = SoftwareKey::generate(KeyAlgorithm::Sm2).unwrap();
        let enveloped = SoftwareKey::generate(KeyAlgorithm::Sm2).unwrap();
        let der = sm2_enveloped_key(&enveloped, recipient.public_key()).unwrap();
        let parsed = Sm2EnvelopedKey::from_der(&der).unwrap();
        assert_eq!(parsed.sym_alg_id.oid, SM4_ECB);
        assert_eq!(parsed.sym_encrypted_key.cipher_text.as_bytes().len(), 16);
        assert_eq!(parsed.sym_encrypted_key.hash.as_bytes().len(), 32);
        assert_eq!(parsed.sm2_public_key.raw_bytes().len(), 65);
        assert_eq!(parsed.sm2_encrypted_private_key.raw_bytes().len(), 32);
        // Not the plain scalar.
        let scalar = enveloped.sm2_private_scalar().unwrap();
        assert_ne!(
            parsed.sm2_encrypted_private_key.raw_bytes(),
            scalar.as_slice()
        );
        assert!(sm2_enveloped_key(
            &SoftwareKey::generate(KeyAlgorithm::Ec256).unwrap(),
            recipient.public_key()
        )
        .is_err());
    }

    #[test]
    fn envelopes_open_only_with_their_recipient_key() {
        let recipient = SoftwareKey::generate(KeyAlgorithm::Sm2).unwrap();
        let enveloped = SoftwareKey::generate(KeyAlgorithm::Sm2).unwrap();
        let der = sm2_enveloped_key(&enveloped, recipient.public_key()).unwrap();
        let opened = open_sm2_enveloped_key(&recipient, &der).unwrap();
        assert_eq!(opened.public_key(), enveloped.public_key());
        assert_eq!(opened.algorithm(), KeyAlgorithm::Sm2);
        // It signs as SM2 (with the default user id), not as ECDSA.
        let sig =
            openccm_pki::Signer::sign(&opened, openccm_pki::HashAlgorithm::Sm3, b"m").unwrap();
        openccm_pki::verify::verify(enveloped.public_key(), oid::SM2_WITH_SM3, b"m", &sig).unwrap();

        let stranger = SoftwareKey::generate(KeyAlgorithm::Sm2).unwrap();
        assert!(open_sm2_enveloped_key(&stranger, &der).is_err());
        assert!(open_sm2_enveloped_key(&recipient, b"garbage").is_err());
        // A tampered public key is noticed.
        let mut parsed = Sm2EnvelopedKey::from_der(&der).unwrap();
        let other = SoftwareKey::generate(KeyAlgorithm::Sm2).unwrap();
        let spki = <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(other.public_key())
            .unwrap();
        parsed.sm2_public_key =
            BitString::from_bytes(&openccm_pki::sm2::public_point(&spki).unwrap()).unwrap();
        assert!(open_sm2_enveloped_key(&recipient, &parsed.to_der().unwrap()).is_err());
    }
}
