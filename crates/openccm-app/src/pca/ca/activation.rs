//! A pending CA becomes active: a subordinate signed by one of the account's
//! CAs (IssueCertificateAuthorityCertificate), or an externally signed
//! certificate imported with its chain after the CA's CSR was exported;
//! and a CA certificate exported with its chain.

use der::Encode as _;
use openccm_pki::profile::{CertKind, KeyUsageSet};
use openccm_store::{CaId, CaState, CaStatus, SerialReservation};

use super::{
    input, name_fields, stored_name, ActivateCa, CaCertPlan, Pca, ROOT_PATH_LENGTH,
    SUBORDINATE_MAX_YEARS,
};
use crate::common::{required, required_field};
use crate::error::{Error, Invalid, Result};
use crate::iam::authz::actions;
use crate::iam::Caller;

impl Pca {
    /// IssueCertificateAuthorityCertificate: a pending subordinate is signed
    /// by one of the account's active CAs.
    pub async fn activate_ca(&self, caller: &Caller, id: &CaId, req: ActivateCa) -> Result<()> {
        let mut ca = self.load_ca(caller, actions::PCA_CA_ACTIVATE, id).await?;
        self.require_status(&ca, &[CaStatus::Pending], "Activation")?;
        let parent = self
            .active_parent(
                caller,
                actions::PCA_CA_ACTIVATE,
                &required_field(req.issuer_id.as_ref(), "issuer_id")?,
            )
            .await?;
        if parent.ca_id == ca.ca_id {
            return Err(Error::invalid("a CA cannot sign itself"));
        }
        let hash = required_field(req.signature_algorithm.as_ref(), "signature_algorithm")?;
        hash.check_fits(parent.key_algorithm)?;
        let validity = input::validity(
            input::required_validity(req.validity.as_ref())?,
            self.now(),
            SUBORDINATE_MAX_YEARS,
        )?;
        let path_length = input::path_length(req.path_length)?;
        let usage = input::key_usages(req.key_usages.as_deref(), KeyUsageSet::ca_default())?;
        if let Some(crl) = &req.crl {
            ca.crl = input::crl_settings(Some(crl))?;
        }
        let subject = stored_name(&ca.subject)?;
        let (der, serial) = self
            .sign_ca_certificate(
                Some(&parent),
                None,
                CaCertPlan {
                    subject: &subject,
                    public_key: &ca.public_key,
                    hash,
                    validity,
                    kind: CertKind::SubordinateCa { path_length },
                    key_usage: usage,
                },
            )
            .await?;
        ca.status = CaState::Active;
        ca.certificate = Some(der);
        ca.serial_number = Some(serial.to_hex());
        ca.signature_algorithm = Some(hash);
        ca.not_before = Some(validity.0);
        ca.not_after = Some(validity.1);
        ca.key_usages = usage;
        ca.issuer_id = Some(parent.ca_id.clone());
        ca.issuer_name = Some(parent.name.common_name.clone());
        ca.path_length = i64::from(path_length);
        let reservation = SerialReservation {
            issuer_id: parent.ca_id.clone(),
            serial: serial.to_hex(),
            tbs_digest: None,
        };
        self.update(&ca, &[CaState::Pending], Some(&reservation))
            .await
    }

    /// ExportCertificateAuthorityCsr (pending CAs): a CSR signed by the CA's key.
    pub async fn export_ca_csr(&self, caller: &Caller, id: &CaId) -> Result<String> {
        let ca = self.load_ca(caller, actions::PCA_CA_EXPORT_CSR, id).await?;
        self.require_status(&ca, &[CaStatus::Pending], "CSR export")?;
        let signer = self.signer(&ca).await?;
        let subject = stored_name(&ca.subject)?;
        let hash = ca.key_algorithm.default_hash();
        let der = self
            .pools
            .signing
            .run(move || openccm_pki::csr::build(&subject, signer.as_ref(), hash))
            .await??;
        Ok(openccm_pki::pem::encode(
            "CERTIFICATE REQUEST",
            &der,
            openccm_pki::pem::Eol::CRLF,
        )?)
    }

    /// ImportCertificateAuthorityCertificate: the externally signed
    /// certificate of a pending CA, verified to carry the CA's key, to be a CA
    /// certificate, and to chain up through `certificate_chain` to a root.
    pub async fn import_ca_certificate(
        &self,
        caller: &Caller,
        id: &CaId,
        certificate: Option<&str>,
        chain: Option<&str>,
    ) -> Result<()> {
        let mut ca = self.load_ca(caller, actions::PCA_CA_IMPORT, id).await?;
        self.require_status(&ca, &[CaStatus::Pending], "Certificate import")?;
        let certificate = required(certificate, "certificate")?;
        let chain_text = required(
            chain,
            "certificate_chain (needed to verify the certificate chains up)",
        )?;
        let mut parsed = openccm_pki::cert::parse_pem_chain(certificate)?;
        if parsed.len() != 1 {
            return Err(Error::invalid_kind(
                Invalid::Certificate,
                "certificate must hold exactly one certificate",
            ));
        }
        let cert = parsed.remove(0);
        if cert.public_key != ca.public_key {
            return Err(Error::invalid_kind(
                Invalid::Certificate,
                "the certificate does not carry this CA's public key",
            ));
        }
        if !cert.is_ca {
            return Err(Error::invalid_kind(
                Invalid::Certificate,
                "the certificate is not a CA certificate",
            ));
        }
        let now = self.now();
        if cert.not_after <= now || cert.not_before > now + 5 * 60 * 1000 {
            return Err(Error::invalid_kind(
                Invalid::Certificate,
                "the certificate is not currently valid",
            ));
        }
        let chain = openccm_pki::cert::parse_pem_chain(chain_text)?;
        let Some(first) = chain.first() else {
            return Err(Error::invalid_kind(
                Invalid::Chain,
                "certificate_chain is empty",
            ));
        };
        cert.verify_issued_by(first)
            .map_err(|e| Error::invalid_kind(Invalid::Chain, e.to_string()))?;
        for pair in chain.windows(2) {
            pair[0]
                .verify_issued_by(&pair[1])
                .map_err(|e| Error::invalid_kind(Invalid::Chain, e.to_string()))?;
            if !pair[1].is_ca {
                return Err(Error::invalid_kind(
                    Invalid::Chain,
                    "a chain certificate is not a CA certificate",
                ));
            }
        }
        let root = chain.last().unwrap_or(first);
        if !first.is_ca || root.subject != root.issuer {
            return Err(Error::invalid_kind(
                Invalid::Chain,
                "certificate_chain must end with a self-signed root CA certificate",
            ));
        }
        root.verify_issued_by(root)
            .map_err(|e| Error::invalid_kind(Invalid::Chain, e.to_string()))?;

        let dn = cert.distinguished_name.clone();
        let hash =
            openccm_pki::algorithm::parse_signature_oid(cert.certificate.signature_algorithm.oid)
                .map(|(_, h)| h);
        ca.status = CaState::Active;
        ca.name = name_fields(&dn);
        ca.subject = cert
            .subject
            .to_der()
            .map_err(|e| Error::Internal(e.to_string()))?;
        ca.serial_number = Some(cert.serial_hex.clone());
        ca.signature_algorithm = hash;
        ca.not_before = Some(cert.not_before);
        ca.not_after = Some(cert.not_after);
        ca.path_length = cert.path_length.map_or(ROOT_PATH_LENGTH, i64::from);
        ca.issuer_id = None;
        ca.issuer_name = openccm_pki::DistinguishedName::from_name(&first.subject)
            .ok()
            .and_then(|d| d.common_name);
        ca.chain = Some(
            chain
                .iter()
                .map(|c| c.to_pem(openccm_pki::pem::Eol::LF))
                .collect::<openccm_pki::PkiResult<String>>()?,
        );
        ca.certificate = Some(cert.der);
        self.update(&ca, &[CaState::Pending], None).await
    }

    /// ExportCertificateAuthorityCertificate: PEM certificate and chain (CRLF).
    pub async fn export_ca_certificate(
        &self,
        caller: &Caller,
        id: &CaId,
    ) -> Result<(String, String)> {
        let ca = self.load_ca(caller, actions::PCA_CA_EXPORT, id).await?;
        self.require_status(
            &ca,
            &[CaStatus::Active, CaStatus::Expired],
            "Certificate export",
        )?;
        let chain = self.chain_from(&caller.domain_id, &ca).await?;
        let pem = |der: &Vec<u8>| openccm_pki::cert::der_to_pem(der, openccm_pki::pem::Eol::CRLF);
        let certificate = chain.first().map(pem).transpose()?.unwrap_or_default();
        let above: &[Vec<u8>] = if chain.len() > 1 { &chain[1..] } else { &chain };
        let chain_pem = above
            .iter()
            .map(pem)
            .collect::<openccm_pki::PkiResult<String>>()?;
        Ok((certificate, chain_pem))
    }
}
