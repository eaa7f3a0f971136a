//! ImportCertificate: a certificate, its chain and key (and an SM2
//! encryption pair) checked and stored.

use base64::Engine as _;
use openccm_custody::{KeyHandle, KeyStore, PendingKey};
use openccm_pki::cert::ParsedCertificate;
use openccm_pki::KeyAlgorithm;
use openccm_store::{CsrId, CsrRecord, ScmCertId, ScmCertRecord, ScmInsertOutcome};
use zeroize::Zeroizing;

use super::{bounds, too_long, ImportCertificate, Scm};
use crate::common::{enterprise_project_for_create, required};
use crate::error::{Error, Invalid, Result};
use crate::iam::authz::{actions, RequestFacts};
use crate::iam::Caller;

const BEGIN_CERT: &str = "-----BEGIN CERTIFICATE-----";
const END_CERT: &str = "-----END CERTIFICATE-----";

/// Checks the PEM framing of certificate text (SCM.0053 / SCM.0054) and
/// parses it (SCM.0053 for content that is not a certificate).
fn parse_certificates(text: &str, field: &str) -> Result<Vec<ParsedCertificate>> {
    let trimmed = text.trim();
    if !trimmed.starts_with(BEGIN_CERT) || !trimmed.ends_with(END_CERT) {
        return Err(Error::invalid_kind(
            Invalid::PemFormat,
            format!("{field} must begin with {BEGIN_CERT} and end with {END_CERT}"),
        ));
    }
    if trimmed.split(BEGIN_CERT).skip(1).any(|block| {
        block
            .split(END_CERT)
            .next()
            .is_none_or(|b| b.trim().is_empty())
    }) {
        return Err(Error::invalid_kind(
            Invalid::EmptyCertificate,
            format!("{field} has no content between the PEM markers"),
        ));
    }
    openccm_pki::cert::parse_pem_chain(text).map_err(|e| {
        Error::invalid_kind(Invalid::Certificate, format!("{field} is not valid: {e}"))
    })
}

/// Splits text holding several PEM certificates after the first one: the
/// leaf exactly as given, and the rest exactly as given.
fn split_leaf(text: &str) -> (String, Option<String>) {
    match text.find(END_CERT) {
        Some(end) => {
            let mut cut = end + END_CERT.len();
            // Keep the line break that ends the leaf with it.
            if text[cut..].starts_with("\r\n") {
                cut += 2;
            } else if text[cut..].starts_with('\n') {
                cut += 1;
            }
            let rest = &text[cut..];
            let rest = (!rest.trim().is_empty()).then(|| rest.trim_start().to_owned());
            (text[..cut].to_owned(), rest)
        }
        None => (text.to_owned(), None),
    }
}

fn check_name(name: &str) -> Result<()> {
    let chars = name.chars().count();
    if !bounds::NAME.contains(&chars)
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Error::invalid(
            "name must be 3 to 63 letters, digits, underscores, hyphens or dots",
        ));
    }
    Ok(())
}

/// The parts of a certificate SCM records about it.
struct Facts {
    domain: String,
    alt_names: Vec<String>,
    key_algorithm: KeyAlgorithm,
    signature_algorithm: String,
    fingerprint: String,
}

fn facts(leaf: &ParsedCertificate) -> Result<Facts> {
    let key_algorithm = leaf.key_algorithm.ok_or_else(|| {
        Error::invalid_kind(
            Invalid::KeyAlgorithm,
            "the certificate's key is not RSA 2048/3072/4096, EC P-256/P-384 or SM2",
        )
    })?;
    let names = leaf.alt_names()?;
    let cn = leaf
        .distinguished_name
        .common_name
        .clone()
        .filter(|cn| !cn.is_empty());
    let domain = cn
        .clone()
        .or_else(|| names.first().cloned())
        .unwrap_or_default();
    let alt_names = names.into_iter().filter(|n| *n != domain).collect();
    Ok(Facts {
        domain,
        alt_names,
        key_algorithm,
        signature_algorithm: leaf.signature_algorithm_name(),
        fingerprint: hex::encode(<sha1::Sha1 as sha2::Digest>::digest(&leaf.der)),
    })
}

/// The signing key an import uses, and where it came from.
struct SigningKey {
    key: PendingKey,
    /// Custody's handle of the key, when the service generated it.
    handle: Option<KeyHandle>,
    /// The PEM text exported as `private_key`.
    pem: Zeroizing<String>,
    /// The CSR it belongs to, if any.
    csr_id: Option<CsrId>,
    /// Whether the service generated it (CreateCsr).
    generated: bool,
}

/// The encryption key of an SM2 dual certificate, as it will be stored.
struct EncKey {
    text: Zeroizing<String>,
    enveloped: bool,
}

impl Scm {
    /// Imports a certificate with its chain and private key. Validates
    /// everything first (framing, content, bounds, chain links, key match);
    /// nothing is stored on any failure.
    pub async fn import_certificate(
        &self,
        caller: &Caller,
        input: ImportCertificate,
    ) -> Result<ScmCertId> {
        self.authz.precheck(caller, actions::SCM_UPLOAD).await?;
        let name = required(input.name, "name")?;
        check_name(&name)?;
        let certificate = required(input.certificate, "certificate")?;
        if certificate.chars().count() > bounds::CERTIFICATE {
            return Err(too_long("certificate", bounds::CERTIFICATE));
        }
        if let Some(chain) = &input.certificate_chain {
            if chain.chars().count() > bounds::CHAIN {
                return Err(too_long("certificate_chain", bounds::CHAIN));
            }
        }
        if let Some(key) = &input.private_key {
            if key.chars().count() > bounds::PRIVATE_KEY {
                return Err(too_long("private_key", bounds::PRIVATE_KEY));
            }
        }
        for (field, value) in [
            ("enc_certificate", &input.enc_certificate),
            ("enc_private_key", &input.enc_private_key),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > bounds::ENC)
            {
                return Err(too_long(field, bounds::ENC));
            }
        }
        let project = enterprise_project_for_create(input.enterprise_project_id.as_deref())?;
        self.authz
            .authorize(
                caller,
                actions::SCM_UPLOAD,
                None,
                RequestFacts {
                    project: Some(&project),
                    ..RequestFacts::default()
                },
            )
            .await?;

        let certs = parse_certificates(&certificate, "certificate")?;
        let (leaf_text, chain_text) = match (&input.certificate_chain, certs.len()) {
            (Some(chain), 1) if !chain.trim().is_empty() => {
                (certificate.clone(), Some(chain.clone()))
            }
            (Some(chain), _) if !chain.trim().is_empty() => {
                return Err(Error::invalid_kind(
                    Invalid::Certificate,
                    "certificate must hold one certificate when certificate_chain is given",
                ))
            }
            _ => split_leaf(&certificate),
        };
        let mut certs = certs.into_iter();
        let leaf = certs
            .next()
            .ok_or_else(|| Error::invalid_kind(Invalid::EmptyCertificate, "no certificate"))?;
        let chain = match &input.certificate_chain {
            Some(text) if !text.trim().is_empty() => parse_certificates(text, "certificate_chain")?,
            _ => certs.collect(),
        };
        let facts = facts(&leaf)?;
        let enc = match (&input.enc_certificate, &input.enc_private_key) {
            (None, None) => None,
            (Some(c), Some(k)) if !c.trim().is_empty() && !k.trim().is_empty() => {
                Some((c.clone(), k.clone()))
            }
            _ => {
                return Err(Error::invalid(
                    "an SM dual certificate needs both enc_certificate and enc_private_key",
                ))
            }
        };
        if enc.is_some() && facts.key_algorithm != KeyAlgorithm::Sm2 {
            return Err(Error::invalid(
                "enc_certificate and enc_private_key belong to SM2 certificates only",
            ));
        }

        // The signing key: given, or the one of a CSR made here.
        let public_key_sha256 =
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&leaf.public_key));
        let csrs = self
            .store
            .csrs_by_public_key(&caller.domain_id, &public_key_sha256)
            .await?;
        let csr = csrs.into_iter().find(|c| c.sealed_key.is_some());
        let given_key = input.private_key.filter(|k| !k.trim().is_empty());
        if given_key.is_none() && csr.is_none() {
            return Err(Error::invalid(
                "private_key is required (unless the certificate is for a CSR created in SCM)",
            ));
        }
        if given_key.is_none() {
            if let Some(csr) = &csr {
                // The certificate takes the CSR's private key, which its export
                // hands out: the caller must be allowed to read that key.
                self.authorize_csr(caller, actions::SCM_GET_CSR_KEY, Some(csr.csr_id.as_str()))
                    .await?;
            }
        }

        // Everything cryptographic runs off the executor.
        let custody = self.custody.clone();
        let leaf_copy = leaf.clone();
        let checked = self
            .pools
            .signing
            .run(
                move || -> Result<(SigningKey, Option<(ParsedCertificate, EncKey)>)> {
                    let leaf = leaf_copy;
                    check_chain(&leaf, &chain)?;
                    let signing = signing_key(custody.as_ref(), given_key, csr.as_ref(), &leaf)?;
                    let enc = enc
                        .map(|(cert_text, key_text)| {
                            check_enc(
                                custody.as_ref(),
                                &signing,
                                &leaf,
                                &chain,
                                &cert_text,
                                &key_text,
                            )
                        })
                        .transpose()?;
                    Ok((signing, enc))
                },
            )
            .await??;
        let (signing, enc) = checked;

        let now = self.now();
        let duplicate_check = input.duplicate_check.unwrap_or(false);
        for _ in 0..8 {
            let id = self.ids.next(now)?;
            let key_owner = format!("scm-cert:{id}");
            let sealed = self
                .import_material(key_owner.clone(), signing.pem.clone())
                .await?;
            let (enc_certificate, enc_key_owner, enc_sealed_key, enc_key_enveloped) = match &enc {
                Some((_, key)) => {
                    let owner = format!("scm-cert-enc:{id}");
                    let sealed = self
                        .import_material(owner.clone(), key.text.clone())
                        .await?;
                    (
                        Some(input.enc_certificate.clone().unwrap_or_default()),
                        Some(owner),
                        Some(sealed.sealed),
                        key.enveloped,
                    )
                }
                None => (None, None, None, false),
            };
            let record = ScmCertRecord {
                certificate_id: id.clone(),
                domain_id: caller.domain_id.clone(),
                enterprise_project_id: project.clone(),
                name: name.clone(),
                domain: facts.domain.clone(),
                alt_names: facts.alt_names.clone(),
                key_algorithm: facts.key_algorithm,
                signature_algorithm: facts.signature_algorithm.clone(),
                fingerprint: facts.fingerprint.clone(),
                serial_number: leaf.serial_hex.clone(),
                not_before: leaf.not_before,
                not_after: leaf.not_after,
                certificate: leaf_text.clone(),
                certificate_chain: chain_text.clone(),
                key_owner,
                sealed_key: sealed.sealed,
                enc_certificate,
                enc_key_owner,
                enc_sealed_key,
                enc_key_enveloped,
                csr_id: signing.csr_id.clone(),
                create_time: now,
                update_time: now,
            };
            match self
                .store
                .insert_scm_certificate(&record, duplicate_check)
                .await?
            {
                ScmInsertOutcome::Inserted => return Ok(id),
                ScmInsertOutcome::Duplicate => {
                    return Err(Error::Conflict(
                        "this certificate is stored already (duplicate_check is on)".to_owned(),
                    ))
                }
                ScmInsertOutcome::IdTaken => self.ids.skip_after_clash(),
            }
        }
        Err(Error::Internal(
            "no free certificate id after 8 attempts".to_owned(),
        ))
    }
}

/// The chain must link up in order: each certificate issued by the next,
/// and every chain certificate a CA.
fn check_chain(leaf: &ParsedCertificate, chain: &[ParsedCertificate]) -> Result<()> {
    let mut child = leaf;
    for (i, parent) in chain.iter().enumerate() {
        if !parent.is_ca {
            return Err(Error::invalid_kind(
                Invalid::Chain,
                format!("certificate {} of the chain is not a CA certificate", i + 1),
            ));
        }
        child.verify_issued_by_any_sm2_id(parent).map_err(|_| {
            Error::invalid_kind(
                Invalid::Chain,
                format!(
                    "the chain does not link up: certificate {} of the chain did not issue the one before it",
                    i + 1
                ),
            )
        })?;
        child = parent;
    }
    Ok(())
}

/// The signing key: the one given (checked against the certificate), or
/// the key of the CSR the certificate was issued for.
fn signing_key(
    custody: &dyn KeyStore,
    given: Option<String>,
    csr: Option<&CsrRecord>,
    leaf: &ParsedCertificate,
) -> Result<SigningKey> {
    let mismatch = || {
        Error::invalid_kind(
            Invalid::PrivateKey,
            "the private key does not belong to the certificate",
        )
    };
    if let Some(pem) = given {
        let key = PendingKey::from_pem(&pem)?;
        if !key.proves_possession_of(&leaf.public_key)? {
            return Err(mismatch());
        }
        return Ok(SigningKey {
            key,
            handle: None,
            pem: Zeroizing::new(pem),
            csr_id: csr.map(|c| c.csr_id.clone()),
            generated: false,
        });
    }
    let csr = csr.ok_or_else(|| Error::invalid("private_key is required"))?;
    let (key, pem, handle) = crate::scm::csr::open_csr_key(custody, csr)?;
    if !key.proves_possession_of(&leaf.public_key)? {
        return Err(mismatch());
    }
    Ok(SigningKey {
        key,
        handle,
        pem,
        csr_id: Some(csr.csr_id.clone()),
        generated: csr.generated,
    })
}

/// Checks an SM2 encryption certificate and its key. The key is a PEM key,
/// or an SM2 enveloped key (base64 DER) for the signing key, which must open
/// it. Returns the text to store: as given, except that an envelope around a
/// key the service generated is stored opened (the owner of a CSR made here
/// never had to open it).
fn check_enc(
    custody: &dyn KeyStore,
    signing: &SigningKey,
    leaf: &ParsedCertificate,
    chain: &[ParsedCertificate],
    cert_text: &str,
    key_text: &str,
) -> Result<(ParsedCertificate, EncKey)> {
    let certs = parse_certificates(cert_text, "enc_certificate")?;
    let [enc_cert] = certs.as_slice() else {
        return Err(Error::invalid_kind(
            Invalid::Certificate,
            "enc_certificate must hold exactly one certificate",
        ));
    };
    if enc_cert.key_algorithm != Some(KeyAlgorithm::Sm2) {
        return Err(Error::invalid_kind(
            Invalid::Certificate,
            "enc_certificate must carry an SM2 key",
        ));
    }
    if enc_cert.issuer != leaf.issuer {
        return Err(Error::invalid_kind(
            Invalid::Chain,
            "enc_certificate and certificate must have the same issuer",
        ));
    }
    if let Some(parent) = chain.first() {
        enc_cert.verify_issued_by_any_sm2_id(parent).map_err(|_| {
            Error::invalid_kind(Invalid::Chain, "the chain did not issue enc_certificate")
        })?;
    }
    let mismatch = || {
        Error::invalid_kind(
            Invalid::PrivateKey,
            "enc_private_key does not belong to enc_certificate",
        )
    };
    if openccm_pki::key::is_pem_framed(key_text) {
        let key = PendingKey::from_pem(key_text)?;
        if !key.proves_possession_of(&enc_cert.public_key)? {
            return Err(mismatch());
        }
        return Ok((
            enc_cert.clone(),
            EncKey {
                text: Zeroizing::new(key_text.to_owned()),
                enveloped: false,
            },
        ));
    }
    let compact: String = key_text.chars().filter(|c| !c.is_whitespace()).collect();
    let der = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| {
                Error::invalid_kind(
                    Invalid::PrivateKeyFormat,
                    "enc_private_key must be a PEM private key or a base64 SM2 enveloped key",
                )
            })?,
    );
    // The envelope opens in custody: by the stored key's handle when the
    // service holds it, else by the key the caller handed in.
    let opened = match &signing.handle {
        Some(handle) => custody.open_sm2_envelope(handle, &der),
        None => signing.key.open_sm2_envelope(&der),
    }
    .map_err(|e| Error::invalid_kind(Invalid::PrivateKey, format!("enc_private_key: {e}")))?;
    if !opened.proves_possession_of(&enc_cert.public_key)? {
        return Err(mismatch());
    }
    if signing.generated {
        let pem = opened.to_pem()?;
        return Ok((
            enc_cert.clone(),
            EncKey {
                text: pem,
                enveloped: false,
            },
        ));
    }
    Ok((
        enc_cert.clone(),
        EncKey {
            text: Zeroizing::new(key_text.to_owned()),
            enveloped: true,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_combined_certificate_splits_after_the_leaf_exactly() {
        let text = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBB==\n-----END CERTIFICATE-----\n";
        let (leaf, rest) = split_leaf(text);
        assert_eq!(
            leaf,
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
        );
        assert_eq!(
            rest.as_deref(),
            Some("-----BEGIN CERTIFICATE-----\nBB==\n-----END CERTIFICATE-----\n")
        );
        let (leaf, rest) =
            split_leaf("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----");
        assert!(leaf.ends_with(END_CERT));
        assert!(rest.is_none());
    }

    #[test]
    fn names_follow_the_documented_rules() {
        assert!(check_name("www_example-com.v1").is_ok());
        assert!(check_name("ab").is_err());
        assert!(check_name(&"a".repeat(64)).is_err());
        assert!(check_name("has space").is_err());
        assert!(check_name("证书名称").is_ok());
    }

    #[test]
    fn framing_and_emptiness_have_their_own_kinds() {
        let kind = |r: Result<Vec<ParsedCertificate>>| match r {
            Err(Error::InvalidArgument { kind, .. }) => kind,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            kind(parse_certificates("garbage", "certificate")),
            Invalid::PemFormat
        );
        assert_eq!(
            kind(parse_certificates(
                "-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----",
                "certificate"
            )),
            Invalid::EmptyCertificate
        );
        assert_eq!(
            kind(parse_certificates(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "certificate"
            )),
            Invalid::Certificate
        );
    }
}
