//! Private certificates: issue (service-generated key or customer CSR), parse
//! a CSR, list, show, revoke, delete.
//!
//! Issuance checks and authorises the request here, then hands it to the
//! pipeline in `issuance.rs` (lint, intent, sign, complete). Certificates
//! once issued (list, show, revoke, delete) are `issued.rs`.

use std::sync::Arc;

use der::Encode as _;
use openccm_custody::{KeyHandle, KeyUse};
use openccm_pki::csr::UnverifiedCsr;
use openccm_pki::profile::{
    CertKind, ExtendedKeyUsageFlags, IssuerInfo, KeyUsageSet, Serial, TbsRequest,
};
use openccm_pki::san::AltName;
use openccm_pki::{HashAlgorithm, KeyAlgorithm, Signer};
use openccm_store::{
    CaId, CaRecord, CertFilter, CertId, CertRecord, CertStatus, DomainId, GenMode, InsertOutcome,
    NameFields, SerialReservation, TaggedResource,
};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use super::ca::{page, SUBORDINATE_MAX_YEARS};
use super::input::{self, CreateCertificate, CreateCertificateByCsr};
use super::issuance::Order;
use super::{cert_status, name_fields, not_found_cert, random_bytes, CertView, Pca};
use crate::common::{enterprise_project_for_create, required, required_field};
use crate::error::{Error, Invalid, Result};
use crate::iam::authz::{actions, Action, RequestFacts, ResourceKind, Target};
use crate::iam::Caller;

mod issued;

/// ListCertificate query.
#[derive(Debug, Clone, Default)]
pub struct ListCertificates {
    /// 0–1000, default 10.
    pub limit: Option<i64>,
    /// ≥ 0.
    pub offset: Option<i64>,
    /// CN substring.
    pub name: Option<String>,
    /// `ISSUED` | `REVOKED` | `EXPIRED`.
    pub status: Option<CertStatus>,
    /// Only certificates of this CA (an OpenCCM extension: the console's
    /// issuer filter).
    pub issuer_id: Option<String>,
    /// Only certificates with this key algorithm (an OpenCCM extension).
    pub key_algorithm: Option<openccm_pki::KeyAlgorithm>,
    /// Only certificates with this tag key, and value if given (an OpenCCM
    /// extension: the console's tag filter).
    pub tag: Option<(String, Option<String>)>,
    /// Only certificates whose validity ends before this, epoch ms (an
    /// OpenCCM extension: the console's count of what expires soon).
    pub expires_before: Option<i64>,
    /// Sort column (default creation time).
    pub sort_key: Option<crate::common::Field<openccm_store::CertSortKey>>,
    /// Direction (default descending).
    pub sort_dir: Option<crate::common::Field<openccm_store::SortDir>>,
}

/// What ParseCertificateSigningRequest reports.
#[derive(Debug, Clone)]
pub struct CsrInfo {
    /// `RSA` | `EC` | `SM2`.
    pub key_algorithm: String,
    /// Bits.
    pub key_bits: i64,
    /// e.g. `SHA256withRSA`.
    pub signature_algorithm: String,
    /// PEM public key (CRLF).
    pub public_key_pem: String,
    /// Subject.
    pub distinguished_name: openccm_pki::DistinguishedName,
}

/// A planned issuance, checked and ready to record and sign.
struct Issuance {
    issuer: CaRecord,
    issuer_info: Arc<IssuerInfo>,
    signer: Arc<dyn Signer>,
    hash: HashAlgorithm,
    subject: Name,
    name: NameFields,
    public_key: Vec<u8>,
    key_algorithm: KeyAlgorithm,
    validity: (i64, i64),
    key_usage: KeyUsageSet,
    extended_key_usage: ExtendedKeyUsageFlags,
    alt_names: Vec<AltName>,
    raw_alt_names: Vec<GeneralName>,
    custom_extension: Option<(const_oid::ObjectIdentifier, String)>,
    gen_mode: GenMode,
    key: Option<KeyHandle>,
    /// SM2 dual certificate: the encryption key pair the CA generated.
    enc_key: Option<(KeyHandle, Vec<u8>)>,
    csr_public_key: Option<Vec<u8>>,
    project: String,
    /// The CSR whose signature the signing job checks before it signs.
    unverified_csr: Option<UnverifiedCsr>,
}

/// What an issuance shows identity policies besides the action and the CA.
#[derive(Debug, Default)]
struct IssueFacts<'a> {
    /// Every name the certificate will carry (common name and alternative names).
    names: &'a [String],
    /// A subordinate CA's path length.
    path_length: Option<u8>,
    /// The DNS names a subordinate CA's name constraints permit.
    permitted_dns_names: &'a [String],
}

impl Pca {
    /// The issuing CA of a certificate request: same account, ACTIVED and
    /// unexpired, holding its key.
    ///
    /// `issuer_key` learns the CA's key algorithm as soon as the CA is found
    /// (for the issuance metrics, which count a refusal by its status too).
    async fn issuing_ca(
        &self,
        caller: &Caller,
        issuer_id: Option<&input::Field<CaId>>,
        issuer_key: &mut Option<KeyAlgorithm>,
    ) -> Result<(CaRecord, Arc<IssuerInfo>, Arc<dyn Signer>)> {
        let id = required_field(issuer_id, "issuer_id")?;
        let ca = self.load_ca_unchecked(caller, &id).await?;
        *issuer_key = Some(ca.key_algorithm);
        let status = super::ca_status(&ca, self.now());
        if status != openccm_store::CaStatus::Active {
            return Err(Error::StatusForbids(
                crate::error::StatusRefusal::IssuerNotActive(status),
            ));
        }
        let signer = self.signer(&ca).await?;
        let info = self.issuer_info(&ca)?;
        Ok((ca, info, signer))
    }

    /// The hash an issuing CA signs with: the requested one, else the CA's
    /// own when it fits the CA's key, else the key's default.
    fn issuing_hash(
        ca: &CaRecord,
        requested: Option<&input::Field<HashAlgorithm>>,
        fallback: HashAlgorithm,
    ) -> Result<HashAlgorithm> {
        let ca_key = ca.key_algorithm;
        if let Some(name) = requested {
            let hash = name.get()?;
            hash.check_fits(ca_key)?;
            return Ok(hash);
        }
        if fallback.check_fits(ca_key).is_ok() {
            return Ok(fallback);
        }
        Ok(ca_key.default_hash())
    }

    /// CreateCertificate: the service generates the key (and, for SM2, the
    /// encryption key pair of a dual certificate).
    pub async fn create_certificate(
        &self,
        caller: &Caller,
        req: CreateCertificate,
    ) -> Result<CertId> {
        let mut issuer_key = None;
        let result = self.generate_and_issue(caller, req, &mut issuer_key).await;
        count_issuance(issuer_key, &result);
        result
    }

    /// CreateCertificate, telling `issuer_key` the issuing CA's key
    /// algorithm once it is known.
    async fn generate_and_issue(
        &self,
        caller: &Caller,
        req: CreateCertificate,
        issuer_key: &mut Option<KeyAlgorithm>,
    ) -> Result<CertId> {
        self.authz.precheck(caller, actions::PCA_ISSUE).await?;
        let (ca, issuer_info, signer) = self
            .issuing_ca(caller, req.issuer_id.as_ref(), issuer_key)
            .await?;
        let key_algorithm = match &req.key_algorithm {
            Some(field) => field.get()?,
            None => ca.key_algorithm,
        };
        let ca_hash = ca
            .signature_algorithm
            .unwrap_or_else(|| key_algorithm.default_hash());
        let hash = Self::issuing_hash(&ca, req.signature_algorithm.as_ref(), ca_hash)?;
        let requested = required(req.distinguished_name.clone(), "distinguished_name")?;
        if requested.common_name.is_none() {
            return Err(Error::invalid_kind(
                Invalid::DistinguishedName,
                "distinguished_name.common_name is required",
            ));
        }
        requested.validate()?;
        let dn = requested.inherit_from(&super::distinguished_name(&ca.name));
        dn.validate()?;
        let validity = input::validity(
            input::required_validity(req.validity.as_ref())?,
            self.now(),
            SUBORDINATE_MAX_YEARS,
        )?;
        let key_usage = input::key_usages(
            req.key_usages.as_deref(),
            KeyUsageSet::end_entity_default(key_algorithm),
        )?;
        key_usage.check_fits(key_algorithm)?;
        let alt_names = input::alt_names(req.alt_names.as_deref())?;
        let custom_extension = input::custom_extension(req.custom_extension.as_ref())?;
        let project = enterprise_project_for_create(req.enterprise_project_id.as_deref())?;
        let mut names: Vec<String> = dn
            .common_name
            .iter()
            .map(|cn| openccm_pki::san::common_name_for_policy(cn))
            .collect();
        names.extend(
            alt_names
                .iter()
                .map(AltName::to_general_name)
                .collect::<openccm_pki::PkiResult<Vec<_>>>()?
                .iter()
                .filter_map(openccm_pki::san::general_name_text),
        );
        let facts = IssueFacts {
            names: &names,
            ..IssueFacts::default()
        };
        self.authorize_issue(caller, actions::PCA_ISSUE, &ca, &project, &facts)
            .await?;
        self.check_certificate_quota(caller).await?;

        let cert_id = CertId::from_time_and_random(self.now(), random_bytes());
        let custody = self.custody.clone();
        let (sign_owner, enc_owner) = (format!("cert:{cert_id}"), format!("cert-enc:{cert_id}"));
        let (key, enc) = self
            .pools
            .keygen
            .run(move || -> openccm_pki::PkiResult<_> {
                let (handle, key) =
                    custody.generate(key_algorithm, &sign_owner, KeyUse::Exportable)?;
                let enc = if key_algorithm == KeyAlgorithm::Sm2 {
                    let (enc_handle, enc_key) =
                        custody.generate(KeyAlgorithm::Sm2, &enc_owner, KeyUse::Exportable)?;
                    Some((enc_handle, enc_key.public_key_der().to_vec()))
                } else {
                    None
                };
                Ok(((handle, key.public_key_der().to_vec()), enc))
            })
            .await??;
        self.issue(
            &caller.domain_id,
            cert_id,
            Issuance {
                issuer: ca,
                issuer_info,
                signer,
                hash,
                subject: dn.to_name()?,
                name: name_fields(&dn),
                public_key: key.1,
                key_algorithm,
                validity,
                key_usage,
                extended_key_usage: req.extended_key_usage,
                alt_names,
                raw_alt_names: Vec::new(),
                custom_extension,
                gen_mode: GenMode::Generate,
                key: Some(key.0),
                enc_key: enc,
                csr_public_key: None,
                project,
                unverified_csr: None,
            },
        )
        .await
    }

    /// Issuing is an action on the issuing CA (checked with the CA's own
    /// project) that places a certificate in `project` (checked with that
    /// project), for every one of the certificate's names: `pca:CommonName`
    /// is checked for the common name and for each alternative name of
    /// every type (DNS, IP, email, URI), so no name escapes a pattern the
    /// common name obeys. A subordinate CA also shows its path length
    /// (`pca:PathLength`) and the DNS names its name constraints permit
    /// (`pca:PermittedDnsName`), so that a policy can require them.
    async fn authorize_issue(
        &self,
        caller: &Caller,
        action: Action,
        ca: &CaRecord,
        project: &str,
        facts: &IssueFacts<'_>,
    ) -> Result<()> {
        let mut names: Vec<&str> = facts.names.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            names.push("");
        }
        let path_length = facts.path_length.map(|p| p.to_string());
        let ca_tags = self
            .resource_tags(caller, TaggedResource::PcaCa, ca.ca_id.as_str())
            .await?;
        for name in names {
            let mut extra = vec![("pca:CommonName", name)];
            if let Some(path_length) = &path_length {
                extra.push(("pca:PathLength", path_length));
            }
            let lists = [("pca:PermittedDnsName", facts.permitted_dns_names)];
            let ca_target = Target {
                kind: ResourceKind::PcaCa,
                id: ca.ca_id.as_str(),
                project: Some(&ca.enterprise_project_id),
                tags: &ca_tags,
            };
            self.authz
                .authorize(
                    caller,
                    action,
                    Some(ca_target),
                    RequestFacts {
                        extra: &extra,
                        lists: &lists,
                        ..RequestFacts::default()
                    },
                )
                .await?;
            self.authz
                .authorize(
                    caller,
                    action,
                    Some(Target {
                        project: None,
                        ..ca_target
                    }),
                    RequestFacts {
                        project: Some(project),
                        tags: None,
                        extra: &extra,
                        lists: &lists,
                    },
                )
                .await?;
        }
        Ok(())
    }

    async fn check_certificate_quota(&self, caller: &Caller) -> Result<()> {
        if self.store.count_certificates(&caller.domain_id).await?
            >= self.settings.certificate_quota
        {
            return Err(Error::QuotaExceeded(
                "The certificate quota is used up.".to_owned(),
            ));
        }
        Ok(())
    }

    /// CreateCertificateByCsr: an end-entity certificate (`ENTITY_CERT`) or a
    /// subordinate CA whose key stays with the customer (`INTERMEDIATE_CA`,
    /// whose CA id is returned). Subject and key come only from the CSR.
    pub async fn create_certificate_by_csr(
        &self,
        caller: &Caller,
        req: CreateCertificateByCsr,
    ) -> Result<String> {
        let mut issuer_key = None;
        let result = self.issue_for_csr(caller, req, &mut issuer_key).await;
        count_issuance(issuer_key, &result);
        result
    }

    /// CreateCertificateByCsr, telling `issuer_key` the issuing CA's key
    /// algorithm once it is known.
    async fn issue_for_csr(
        &self,
        caller: &Caller,
        req: CreateCertificateByCsr,
        issuer_key: &mut Option<KeyAlgorithm>,
    ) -> Result<String> {
        self.authz
            .precheck(caller, actions::PCA_ISSUE_BY_CSR)
            .await?;
        let csr_text = required(req.csr, "csr")?;
        let (ca, issuer_info, signer) = self
            .issuing_ca(caller, req.issuer_id.as_ref(), issuer_key)
            .await?;
        // Parsing is bounded and cheap; checking the CSR's signature is
        // public-key work, done off the executor: by the signing job of an
        // end-entity issuance (right before it signs), else below.
        let unverified = openccm_pki::csr::parse_pem_unverified(&csr_text)?;
        let csr = unverified.request();
        let dn = &csr.distinguished_name;
        let common_name = dn
            .common_name
            .clone()
            .filter(|cn| (1..=64).contains(&cn.chars().count()))
            .ok_or_else(|| {
                Error::invalid_kind(
                    Invalid::Csr,
                    "the CSR's subject needs a common name of 1-64 characters",
                )
            })?;
        let validity = input::validity(
            input::required_validity(req.validity.as_ref())?,
            self.now(),
            SUBORDINATE_MAX_YEARS,
        )?;
        let project = enterprise_project_for_create(req.enterprise_project_id.as_deref())?;
        let mut names = vec![openccm_pki::san::common_name_for_policy(&common_name)];
        names.extend(
            csr.alt_names
                .iter()
                .filter_map(openccm_pki::san::general_name_text),
        );
        let kind = req.kind.as_deref().unwrap_or("ENTITY_CERT");
        let intermediate = kind == "INTERMEDIATE_CA";
        let path_length = if intermediate {
            Some(input::path_length(req.path_length)?)
        } else {
            None
        };
        let permitted = match (&csr.name_constraints, intermediate) {
            (Some(constraints), true) => openccm_pki::profile::permitted_dns_names(constraints),
            _ => Vec::new(),
        };
        let facts = IssueFacts {
            names: &names,
            path_length,
            permitted_dns_names: &permitted,
        };
        self.authorize_issue(caller, actions::PCA_ISSUE_BY_CSR, &ca, &project, &facts)
            .await?;
        // The documented default for CSR issuance is SHA-384 (SM3 under an SM2 CA).
        let hash = Self::issuing_hash(&ca, None, HashAlgorithm::Sha384)?;
        match kind {
            "ENTITY_CERT" => {}
            "INTERMEDIATE_CA" => {
                let csr = self
                    .pools
                    .signing
                    .run(move || unverified.verify())
                    .await??;
                return self
                    .issue_intermediate(
                        caller,
                        ca,
                        issuer_info,
                        signer,
                        &csr,
                        hash,
                        validity,
                        path_length.unwrap_or(0),
                        project,
                    )
                    .await
                    .map(|id| id.to_string());
            }
            _ => {
                return Err(Error::invalid(
                    "type must be ENTITY_CERT or INTERMEDIATE_CA",
                ))
            }
        }
        let key_usage = match csr.key_usage {
            Some(requested) if !requested.is_empty() => {
                if requested.contains(x509_cert::ext::pkix::KeyUsages::KeyCertSign)
                    || requested.contains(x509_cert::ext::pkix::KeyUsages::CRLSign)
                {
                    return Err(Error::invalid_kind(
                        Invalid::Csr,
                        "an entity certificate cannot have keyCertSign or cRLSign",
                    ));
                }
                requested
            }
            _ => KeyUsageSet::end_entity_default(csr.key_algorithm),
        };
        key_usage.check_fits(csr.key_algorithm)?;
        let cert_id = CertId::from_time_and_random(self.now(), random_bytes());
        let enc_key = if csr.key_algorithm == KeyAlgorithm::Sm2 {
            let custody = self.custody.clone();
            let owner = format!("cert-enc:{cert_id}");
            let (handle, key) = self
                .pools
                .keygen
                .run(move || custody.generate(KeyAlgorithm::Sm2, &owner, KeyUse::Exportable))
                .await??;
            Some((handle, key.public_key_der().to_vec()))
        } else {
            None
        };
        let mut name = name_fields(dn);
        name.common_name = common_name;
        self.issue(
            &caller.domain_id,
            cert_id,
            Issuance {
                issuer: ca,
                issuer_info,
                signer,
                hash,
                subject: csr.subject.clone(),
                name,
                public_key: csr.public_key.clone(),
                key_algorithm: csr.key_algorithm,
                validity,
                key_usage,
                extended_key_usage: ExtendedKeyUsageFlags::default(),
                alt_names: Vec::new(),
                raw_alt_names: csr.alt_names.clone(),
                custom_extension: None,
                gen_mode: GenMode::Csr,
                key: None,
                csr_public_key: enc_key.as_ref().map(|_| csr.public_key.clone()),
                enc_key,
                project,
                unverified_csr: Some(unverified),
            },
        )
        .await
        .map(|id| id.to_string())
    }

    #[allow(clippy::too_many_arguments)]
    async fn issue_intermediate(
        &self,
        caller: &Caller,
        parent: CaRecord,
        issuer_info: Arc<IssuerInfo>,
        signer: Arc<dyn Signer>,
        csr: &openccm_pki::csr::ParsedCsr,
        hash: HashAlgorithm,
        validity: (i64, i64),
        path_length: u8,
        project: String,
    ) -> Result<CaId> {
        let ca_id = CaId::from_random(random_bytes());
        let serial = Serial::from_time_and_random(self.now(), random_bytes());
        let request = TbsRequest {
            serial: serial.clone(),
            subject: csr.subject.clone(),
            subject_public_key: csr.public_key.clone(),
            hash,
            not_before: validity.0,
            not_after: validity.1,
            kind: CertKind::SubordinateCa { path_length },
            key_usage: KeyUsageSet::ca_default(),
            extended_key_usage: ExtendedKeyUsageFlags::default(),
            alt_names: Vec::new(),
            raw_alt_names: Vec::new(),
            custom_extension: None,
            crl_url: self.crl_url(&parent),
            ocsp_url: self.ocsp_url(&parent),
            ca_issuers_url: None,
            name_constraints: csr.name_constraints.clone(),
        };
        let certificate = self
            .issue_ca_certificate(&issuer_info, &request, signer)
            .await?;
        let now = self.now();
        let record = CaRecord {
            ca_id: ca_id.clone(),
            domain_id: caller.domain_id.clone(),
            ca_type: openccm_store::CaType::Subordinate,
            listed: false,
            status: openccm_store::CaState::Active,
            issuer_id: Some(parent.ca_id.clone()),
            issuer_name: Some(parent.name.common_name.clone()),
            path_length: i64::from(path_length),
            key_algorithm: csr.key_algorithm,
            signature_algorithm: Some(hash),
            key_usages: KeyUsageSet::ca_default(),
            gen_mode: GenMode::Csr,
            serial_number: Some(serial.to_hex()),
            name: name_fields(&csr.distinguished_name),
            subject: csr
                .subject
                .to_der()
                .map_err(|e| Error::Internal(e.to_string()))?,
            key_owner: None,
            sealed_key: None,
            public_key: csr.public_key.clone(),
            certificate: Some(certificate),
            chain: None,
            not_before: Some(validity.0),
            not_after: Some(validity.1),
            create_time: now,
            delete_time: None,
            crl: openccm_store::CrlSettings::default(),
            ocsp_enabled: false,
            enterprise_project_id: project,
            revoked_at: None,
            revocation_reason: None,
        };
        let reservation = SerialReservation {
            issuer_id: parent.ca_id.clone(),
            serial: serial.to_hex(),
            tbs_digest: None,
        };
        match self
            .store
            .insert_ca(&record, Some(&reservation), None, now)
            .await?
        {
            InsertOutcome::Inserted => Ok(ca_id),
            _ => Err(Error::Internal("serial number collision; retry".to_owned())),
        }
    }

    fn tbs_request(
        &self,
        plan: &Issuance,
        serial: Serial,
        public_key: &[u8],
        usage: KeyUsageSet,
        eku: ExtendedKeyUsageFlags,
    ) -> TbsRequest {
        TbsRequest {
            serial,
            subject: plan.subject.clone(),
            subject_public_key: public_key.to_vec(),
            hash: plan.hash,
            not_before: plan.validity.0,
            not_after: plan.validity.1,
            kind: CertKind::EndEntity,
            key_usage: usage,
            extended_key_usage: eku,
            alt_names: plan.alt_names.clone(),
            raw_alt_names: plan.raw_alt_names.clone(),
            custom_extension: plan.custom_extension.clone(),
            crl_url: self.crl_url(&plan.issuer),
            ocsp_url: self.ocsp_url(&plan.issuer),
            ca_issuers_url: None,
            name_constraints: None,
        }
    }

    /// Hands a checked plan to the issuance pipeline ([`super::issuance`]).
    async fn issue(&self, domain: &DomainId, cert_id: CertId, plan: Issuance) -> Result<CertId> {
        let now = self.now();
        let certificate = self.tbs_request(
            &plan,
            Serial::from_time_and_random(now, random_bytes()),
            &plan.public_key,
            plan.key_usage,
            plan.extended_key_usage,
        );
        let encryption = plan.enc_key.as_ref().map(|(_, enc_public)| {
            self.tbs_request(
                &plan,
                Serial::from_time_and_random(now, random_bytes()),
                enc_public,
                KeyUsageSet::sm2_encryption(),
                plan.extended_key_usage,
            )
        });
        let record = CertRecord {
            certificate_id: cert_id.clone(),
            domain_id: domain.clone(),
            issuer_id: plan.issuer.ca_id.clone(),
            issuer_name: plan.issuer.name.common_name.clone(),
            key_algorithm: plan.key_algorithm,
            signature_algorithm: plan.hash,
            gen_mode: plan.gen_mode,
            // The pipeline fills in the serials and digests.
            serial_number: String::new(),
            name: plan.name.clone(),
            tbs_digest: Vec::new(),
            certificate: None,
            key_owner: plan.key.as_ref().map(|k| k.owner.clone()),
            sealed_key: plan.key.as_ref().map(|k| k.sealed.clone()),
            enc_serial_number: None,
            enc_tbs_digest: None,
            enc_certificate: None,
            enc_key_owner: plan.enc_key.as_ref().map(|(k, _)| k.owner.clone()),
            enc_sealed_key: plan.enc_key.as_ref().map(|(k, _)| k.sealed.clone()),
            csr_public_key: plan.csr_public_key.clone(),
            not_before: openccm_pki::time::truncate_to_seconds(plan.validity.0),
            not_after: openccm_pki::time::truncate_to_seconds(plan.validity.1),
            create_time: now,
            deleted_at: None,
            revoked_at: None,
            revocation_reason: None,
            enterprise_project_id: plan.project.clone(),
        };
        self.issue_end_entity(Order {
            issuer_id: plan.issuer.ca_id.clone(),
            issuer: plan.issuer_info.clone(),
            signer: plan.signer.clone(),
            certificate,
            encryption,
            record,
            quota: self.settings.certificate_quota,
            csr: plan.unverified_csr,
        })
        .await?;
        Ok(cert_id)
    }

    /// Issues an ACME order's certificate from its CSR (whose names the
    /// ACME server checked against the order): a TLS server and client
    /// certificate for `alt_names`, named `common_name` and nothing else of
    /// the CSR's subject (nothing else was validated), in the CA's account.
    /// The CSR's signature is checked by the signing job.
    pub(in crate::pca) async fn issue_for_acme(
        &self,
        ca: CaRecord,
        csr: UnverifiedCsr,
        common_name: String,
        alt_names: Vec<AltName>,
        validity: (i64, i64),
    ) -> Result<CertId> {
        let mut issuer_key = Some(ca.key_algorithm);
        let result = async {
            let status = super::ca_status(&ca, self.now());
            if status != openccm_store::CaStatus::Active {
                return Err(Error::StatusForbids(
                    crate::error::StatusRefusal::IssuerNotActive(status),
                ));
            }
            let signer = self.signer(&ca).await?;
            let issuer_info = self.issuer_info(&ca)?;
            // The CA's own signature hash, as its other certificates carry.
            let hash = Self::issuing_hash(
                &ca,
                None,
                ca.signature_algorithm.unwrap_or(HashAlgorithm::Sha256),
            )?;
            let request = csr.request();
            let key_algorithm = request.key_algorithm;
            let public_key = request.public_key.clone();
            let dn = openccm_pki::DistinguishedName {
                common_name: Some(common_name.clone()),
                ..openccm_pki::DistinguishedName::default()
            };
            let domain = ca.domain_id.clone();
            let cert_id = CertId::from_time_and_random(self.now(), random_bytes());
            self.issue(
                &domain,
                cert_id,
                Issuance {
                    issuer: ca,
                    issuer_info,
                    signer,
                    hash,
                    subject: dn.to_name()?,
                    name: name_fields(&dn),
                    public_key,
                    key_algorithm,
                    validity,
                    key_usage: KeyUsageSet::end_entity_default(key_algorithm),
                    extended_key_usage: ExtendedKeyUsageFlags {
                        server_auth: true,
                        client_auth: true,
                        ..ExtendedKeyUsageFlags::default()
                    },
                    alt_names,
                    raw_alt_names: Vec::new(),
                    custom_extension: None,
                    gen_mode: GenMode::Csr,
                    key: None,
                    enc_key: None,
                    csr_public_key: None,
                    project: "0".to_owned(),
                    unverified_csr: Some(csr),
                },
            )
            .await
        }
        .await;
        count_issuance(issuer_key.take(), &result);
        result
    }

    /// ParseCertificateSigningRequest.
    pub async fn parse_csr(&self, caller: &Caller, csr: Option<&str>) -> Result<CsrInfo> {
        self.authz.precheck(caller, actions::PCA_PARSE_CSR).await?;
        self.authz
            .authorize(
                caller,
                actions::PCA_PARSE_CSR,
                None,
                RequestFacts::default(),
            )
            .await?;
        // The signature check is public-key work: off the executor.
        let unverified = openccm_pki::csr::parse_pem_unverified(required(csr, "csr")?)?;
        let parsed = self
            .pools
            .signing
            .run(move || unverified.verify())
            .await??;
        let family = match parsed.key_algorithm {
            KeyAlgorithm::Sm2 => "SM2",
            a if a.is_rsa() => "RSA",
            _ => "EC",
        };
        Ok(CsrInfo {
            key_algorithm: family.to_owned(),
            key_bits: i64::from(parsed.key_algorithm.bits()),
            signature_algorithm: parsed.signature_family.display_name(parsed.signature_hash),
            public_key_pem: openccm_pki::pem::encode(
                "PUBLIC KEY",
                &parsed.public_key,
                openccm_pki::pem::Eol::CRLF,
            )?,
            distinguished_name: parsed.distinguished_name,
        })
    }
}

/// Counts an issuance that ended, under its CA's key algorithm; one whose
/// CA was never found (a missing or foreign issuer, a caller without the
/// action at all) is the request metrics' to count, not an issuance.
///
/// The HTTP edge runs every write call as a task of its own
/// (`crates/openccm-http/src/audit.rs`): a client that hangs up does not
/// cut the call short, so its issuance is counted too.
fn count_issuance<T>(issuer_key: Option<KeyAlgorithm>, result: &Result<T>) {
    use crate::metrics::IssuanceResult;
    let Some(algorithm) = issuer_key else {
        return;
    };
    let ended = match result {
        Ok(_) => IssuanceResult::Issued,
        // A uniqueness clash in the store is ours, never the request's.
        Err(Error::Internal(_) | Error::Conflict(_)) => IssuanceResult::Failed,
        Err(_) => IssuanceResult::Refused,
    };
    crate::metrics::issuance(algorithm.as_str(), ended);
}
