//! ExportCertificate: the documented formats (pca-v1.md § Export formats).
//!
//! RSA/EC: JSON or zip for APACHE, NGINX, IIS (PKCS#12), TOMCAT (PKCS#12,
//! which `keytool` opens as a keystore) and OTHER. SM2 dual certificates:
//! only OTHER; the encryption key is plain PEM when the service generated the
//! signing key, and an SM2 envelope to the customer's signing key when the
//! customer brought a CSR. A `password` encrypts every exported key; PKCS#12
//! files without one get a fresh random password in `keystorePass.txt`.
//! With `is_sm_standard`, the SM2 encryption key comes as a GM/T 0009
//! envelope and as GM/T 0010 signed-and-enveloped data signed by the CA.

use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use openccm_custody::{KeyExport, KeyHandle, KeyStore};
use openccm_pki::pem::Eol;
use openccm_pki::{KeyAlgorithm, Signer};
use openccm_store::CertRecord;
use zeroize::Zeroizing;

use super::input::{ExportFormat, ExportRequest, Field};
use super::{ca_status, cert_status, Pca};
use crate::common::required_field;
use crate::error::{Error, Result};
use crate::iam::Caller;

/// The JSON export (fields that do not apply are `None`).
#[derive(Default, Clone)]
pub struct ExportFields {
    /// PEM private key (signing key for SM2).
    pub private_key: Option<Zeroizing<String>>,
    /// PEM certificate.
    pub certificate: Option<String>,
    /// PEM chain of the issuing CAs.
    pub certificate_chain: Option<String>,
    /// SM2 encryption certificate.
    pub enc_certificate: Option<String>,
    /// SM2 encryption key: PEM, or base64 envelope.
    pub enc_private_key: Option<Zeroizing<String>>,
    /// GM/T 0009 envelope, base64.
    pub enc_sm2_enveloped_key: Option<String>,
    /// GM/T 0010 signed-and-enveloped data, base64.
    pub signed_and_enveloped_data: Option<String>,
}

impl std::fmt::Debug for ExportFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportFields").finish_non_exhaustive()
    }
}

/// What an export produces.
#[derive(Debug)]
pub enum Exported {
    /// JSON fields.
    Json(ExportFields),
    /// A zip archive.
    Zip {
        /// `<certificate name>_<type>.zip`.
        file_name: String,
        /// The archive.
        bytes: Vec<u8>,
    },
}

fn check_password(password: Option<&str>) -> Result<Option<&str>> {
    match password {
        None => Ok(None),
        Some(p) if !p.is_empty() && p.len() <= 32 && p.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(p))
        }
        Some(_) => Err(Error::invalid(
            "password must be 1-32 bytes of letters, digits and special characters",
        )),
    }
}

fn random_password() -> Zeroizing<String> {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    Zeroizing::new(
        (0..20)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect(),
    )
}

/// A zip archive of `files` (deflated, fixed timestamps).
pub fn zip(files: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in files {
        writer
            .start_file(*name, options)
            .map_err(|e| Error::Internal(format!("zip: {e}")))?;
        writer
            .write_all(content)
            .map_err(|e| Error::Internal(format!("zip: {e}")))?;
    }
    let cursor = writer
        .finish()
        .map_err(|e| Error::Internal(format!("zip: {e}")))?;
    Ok(cursor.into_inner())
}

fn file_stem(common_name: &str) -> String {
    let stem: String = common_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() {
        "certificate".to_owned()
    } else {
        stem
    }
}

impl Pca {
    /// ExportCertificate. The request is checked and the records read here;
    /// the export itself (key decryption, PBKDF2 for passwords and keystores,
    /// SM2 envelopes) runs on the key-generation pool, off the executor.
    pub async fn export_certificate(
        &self,
        caller: &Caller,
        certificate_id: &openccm_store::CertId,
        req: ExportRequest,
    ) -> Result<Exported> {
        let compressed = required_field(req.compressed.as_ref(), "is_compressed")?;
        let kind = required_field(req.kind.as_ref(), "type")?;
        let sm_standard = req
            .sm_standard
            .as_ref()
            .map(Field::get)
            .transpose()?
            .unwrap_or(false);
        let password = check_password(req.password.as_deref())?;
        let record = self
            .load_certificate(
                caller,
                crate::iam::authz::actions::PCA_CERT_EXPORT,
                certificate_id,
            )
            .await?;
        let status = cert_status(&record, self.now());
        if status != openccm_store::CertStatus::Issued {
            return Err(Error::StatusForbids(
                crate::error::StatusRefusal::CertNotExportable(status),
            ));
        }
        let sm2_dual =
            record.key_algorithm == KeyAlgorithm::Sm2 && record.enc_certificate.is_some();
        if sm2_dual && kind != ExportFormat::Other {
            return Err(Error::invalid(
                "SM2 dual certificates export only as type OTHER",
            ));
        }
        let issuer = self
            .store
            .ca(&caller.domain_id, &record.issuer_id, i64::MIN)
            .await?
            .ok_or_else(|| {
                Error::Internal("the issuing CA of a certificate is missing".to_owned())
            })?;
        let chain = self.chain_from(&caller.domain_id, &issuer).await?;
        // The GM/T 0010 envelope is signed by the issuing CA: only an SM2 CA
        // that is active now signs one (a revoked, disabled or deleted CA's
        // key signs nothing more); otherwise the export leaves it out.
        let ca_signs = issuer.key_algorithm == KeyAlgorithm::Sm2
            && ca_status(&issuer, self.now()) == openccm_store::CaStatus::Active;
        let envelope_signer = if sm2_dual && sm_standard && ca_signs {
            let certificate = issuer
                .certificate
                .clone()
                .ok_or_else(|| Error::Internal("the issuing CA has no certificate".to_owned()))?;
            Some((self.signer(&issuer).await?, certificate))
        } else {
            None
        };
        let job = ExportJob {
            custody: self.custody.clone(),
            record,
            chain,
            kind,
            compressed,
            sm_standard,
            password: password.map(|p| Zeroizing::new(p.to_owned())),
            envelope_signer,
        };
        self.pools.keygen.run(move || job.build()).await?
    }
}

/// Everything an export needs, moved onto a pool thread.
struct ExportJob {
    custody: Arc<dyn KeyStore>,
    record: CertRecord,
    chain: Vec<Vec<u8>>,
    kind: ExportFormat,
    compressed: bool,
    sm_standard: bool,
    password: Option<Zeroizing<String>>,
    /// For SM2 dual certificates exported in the standard form: the issuing
    /// CA's signer and certificate (DER).
    envelope_signer: Option<(Arc<dyn Signer>, Vec<u8>)>,
}

impl ExportJob {
    /// The key behind `handle` as PEM (encrypted under `password`, if any).
    fn export_pem(&self, handle: &KeyHandle, password: Option<&str>) -> Result<Zeroizing<String>> {
        crate::common::secret_text(self.custody.export(handle, KeyExport::Pem { password })?)
    }

    fn build(self) -> Result<Exported> {
        let (record, chain, kind, compressed) =
            (&self.record, &self.chain, self.kind, self.compressed);
        let password = self.password.as_deref().map(String::as_str);
        let certificate = record
            .certificate
            .clone()
            .ok_or_else(|| Error::Internal("an issued certificate has no DER".to_owned()))?;
        let eol = if compressed { Eol::LF } else { Eol::CRLF };
        let cert_pem = openccm_pki::cert::der_to_pem(&certificate, eol)?;
        let chain_pem = chain
            .iter()
            .map(|der| openccm_pki::cert::der_to_pem(der, eol))
            .collect::<openccm_pki::PkiResult<String>>()?;
        let key = crate::common::row_key_handle(
            &format!("cert:{}", record.certificate_id),
            record.key_owner.as_deref(),
            record.sealed_key.as_ref(),
        )?;
        let sm2_pair =
            record.key_algorithm == KeyAlgorithm::Sm2 && record.enc_certificate.is_some();
        // A keystore export protects the key itself: no PEM (and no PBKDF2
        // work) for it.
        let keystore =
            compressed && matches!(kind, ExportFormat::Iis | ExportFormat::Tomcat) && !sm2_pair;
        let key_pem = match &key {
            Some(k) if !keystore => Some(self.export_pem(k, password)?),
            _ => None,
        };

        if sm2_pair {
            return self
                .export_sm2(cert_pem, chain_pem, key_pem, eol)
                .map(|fields| match fields {
                    Sm2Output::Json(f) => Exported::Json(f),
                    Sm2Output::Zip(bytes) => Exported::Zip {
                        file_name: format!(
                            "{}_{}.zip",
                            file_stem(&record.name.common_name),
                            ExportFormat::Other.file_suffix()
                        ),
                        bytes,
                    },
                });
        }

        let generated = key.is_some();
        if !compressed {
            if generated && matches!(kind, ExportFormat::Iis | ExportFormat::Tomcat) {
                return Err(Error::invalid(
                    "IIS and TOMCAT exports of a generated key are keystores: use is_compressed \"true\"",
                ));
            }
            return Ok(Exported::Json(ExportFields {
                private_key: key_pem,
                certificate: Some(cert_pem),
                certificate_chain: Some(chain_pem),
                ..ExportFields::default()
            }));
        }
        let file_name = format!(
            "{}_{}.zip",
            file_stem(&record.name.common_name),
            kind.file_suffix()
        );
        let full_chain = format!("{cert_pem}{chain_pem}");
        let bytes = match (kind, key, key_pem) {
            (ExportFormat::Apache, _, Some(k)) => zip(&[
                ("server.key", k.as_bytes()),
                ("chain.crt", chain_pem.as_bytes()),
                ("server.crt", cert_pem.as_bytes()),
            ])?,
            (ExportFormat::Nginx, _, Some(k)) => zip(&[
                ("server.key", k.as_bytes()),
                ("server.crt", full_chain.as_bytes()),
            ])?,
            (ExportFormat::Nginx, _, None) => zip(&[("server.crt", full_chain.as_bytes())])?,
            (ExportFormat::Other, _, Some(k)) => zip(&[
                ("server.key", k.as_bytes()),
                ("chain.pem", chain_pem.as_bytes()),
                ("server.pem", cert_pem.as_bytes()),
            ])?,
            (ExportFormat::Other, _, None) => zip(&[
                ("chain.pem", chain_pem.as_bytes()),
                ("cert.pem", cert_pem.as_bytes()),
            ])?,
            (ExportFormat::Iis | ExportFormat::Tomcat, Some(key), _) => {
                let generated_password;
                let store_password = if let Some(p) = password {
                    p
                } else {
                    generated_password = random_password();
                    generated_password.as_str()
                };
                let name = if kind == ExportFormat::Iis {
                    "server.pfx"
                } else {
                    "server.jks"
                };
                let p12 = self.custody.export(
                    &key,
                    KeyExport::Pkcs12 {
                        certificate: &certificate,
                        chain,
                        friendly_name: "server",
                        password: store_password,
                    },
                )?;
                if password.is_some() {
                    zip(&[(name, &p12)])?
                } else {
                    zip(&[
                        (name, &p12),
                        ("keystorePass.txt", store_password.as_bytes()),
                    ])?
                }
            }
            // CSR-issued certificates (no key): certificate and chain.
            _ => zip(&[
                ("chain.crt", chain_pem.as_bytes()),
                ("server.crt", cert_pem.as_bytes()),
            ])?,
        };
        Ok(Exported::Zip { file_name, bytes })
    }

    fn export_sm2(
        &self,
        cert_pem: String,
        chain_pem: String,
        key_pem: Option<Zeroizing<String>>,
        eol: Eol,
    ) -> Result<Sm2Output> {
        let (record, compressed, sm_standard) = (&self.record, self.compressed, self.sm_standard);
        let password = self.password.as_deref().map(String::as_str);
        let enc_der = record.enc_certificate.as_deref().unwrap_or_default();
        let enc_pem = openccm_pki::cert::der_to_pem(enc_der, eol)?;
        let enc_key = crate::common::row_key_handle(
            &format!("cert-enc:{}", record.certificate_id),
            record.enc_key_owner.as_deref(),
            record.enc_sealed_key.as_ref(),
        )?
        .ok_or_else(|| {
            Error::Internal("an SM2 dual certificate has no encryption key".to_owned())
        })?;
        // The envelope's recipient: the customer's signing key, or the
        // signing key the service generated.
        let certificate =
            openccm_pki::cert::parse_der(record.certificate.as_deref().unwrap_or_default())?;
        let recipient = record
            .csr_public_key
            .clone()
            .unwrap_or_else(|| certificate.public_key.clone());
        let envelope_b64 = || -> Result<String> {
            let envelope = self.custody.export(
                &enc_key,
                KeyExport::Sm2Enveloped {
                    recipient_public_key: &recipient,
                },
            )?;
            Ok(base64::engine::general_purpose::STANDARD.encode(envelope.as_slice()))
        };
        // GM/T 0010: addressed to the signing certificate, signed by the CA
        // (when the CA can sign it).
        let signed_and_enveloped_b64 = || -> Result<Option<String>> {
            let Some((signer, ca_der)) = self.envelope_signer.as_ref() else {
                return Ok(None);
            };
            let ca = openccm_pki::cert::parse_der(ca_der)?;
            let data = self.custody.export(
                &enc_key,
                KeyExport::Sm2SignedAndEnveloped {
                    recipient: &certificate.certificate,
                    signer: signer.as_ref(),
                    signer_certificate: &ca.certificate,
                },
            )?;
            Ok(Some(
                base64::engine::general_purpose::STANDARD.encode(data.as_slice()),
            ))
        };
        let customer_csr = record.gen_mode == openccm_store::GenMode::Csr;
        let enc_private = if customer_csr {
            // The customer generated the signing key: the encryption key reaches
            // them only inside the envelope (seed 000).
            Zeroizing::new(envelope_b64()?)
        } else {
            self.export_pem(&enc_key, password)?
        };
        if !compressed {
            let mut fields = ExportFields {
                private_key: key_pem,
                certificate: Some(cert_pem),
                certificate_chain: Some(chain_pem),
                enc_certificate: Some(enc_pem),
                ..ExportFields::default()
            };
            if sm_standard {
                fields.enc_sm2_enveloped_key = Some(envelope_b64()?);
                fields.signed_and_enveloped_data = signed_and_enveloped_b64()?;
            } else {
                fields.enc_private_key = Some(enc_private);
            }
            return Ok(Sm2Output::Json(fields));
        }
        let mut files: Vec<(&str, Vec<u8>)> = vec![("chain.pem", chain_pem.into_bytes())];
        if let Some(k) = &key_pem {
            files.push(("signCert.key", k.as_bytes().to_vec()));
        }
        files.push(("signCert.pem", cert_pem.into_bytes()));
        if sm_standard {
            files.push(("encSm2EnvelopedKey.key", envelope_b64()?.into_bytes()));
            if let Some(data) = signed_and_enveloped_b64()? {
                files.push(("signedAndEnvelopedData.key", data.into_bytes()));
            }
        } else {
            files.push(("encCert.key", enc_private.as_bytes().to_vec()));
        }
        files.push(("encCert.pem", enc_pem.into_bytes()));
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        Ok(Sm2Output::Zip(zip(&refs)?))
    }
}

enum Sm2Output {
    Json(ExportFields),
    Zip(Vec<u8>),
}
