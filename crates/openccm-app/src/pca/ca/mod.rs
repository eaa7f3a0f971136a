//! CA lifecycle: create (root, subordinate now or pending), activate, CSR
//! export and certificate import, export, enable/disable, delete/restore,
//! revoke, CRL and OCSP settings, quotas. Activation of a pending CA, CSR
//! export, certificate import and export are `activation.rs`.

use der::Encode as _;
use openccm_custody::{KeyHandle, KeyUse};
use openccm_pki::profile::{
    self, CertKind, ExtendedKeyUsageFlags, IssuerInfo, KeyUsageSet, Serial, TbsRequest,
};
use openccm_pki::HashAlgorithm;
use openccm_store::{
    CaFilter, CaId, CaRecord, CaState, CaStatus, CaType, CrlSettings, GenMode, InsertOutcome, Page,
    SerialReservation, UpdateOutcome,
};
use x509_cert::name::Name;

use super::input::{self, ActivateCa, CreateCa, CrlInput};
use super::{distinguished_name, name_fields, random_bytes, stored_name, CaView, Pca};
use crate::common::{enterprise_project_for_create, required, required_field};
use crate::error::{Error, Invalid, Result, StatusRefusal};
use crate::iam::authz::{actions, Action, RequestFacts};
use crate::iam::Caller;

mod activation;

/// Root CA validity limit (years).
const ROOT_MAX_YEARS: i64 = 30;
/// Subordinate CA and certificate validity limit (years).
pub(crate) const SUBORDINATE_MAX_YEARS: i64 = 20;
/// The `path_length` a root reads as (no limit in its certificate).
const ROOT_PATH_LENGTH: i64 = 7;

/// ListCertificateAuthority query.
#[derive(Debug, Clone, Default)]
pub struct ListCas {
    /// 0–1000, default 10.
    pub limit: Option<i64>,
    /// ≥ 0.
    pub offset: Option<i64>,
    /// CN substring.
    pub name: Option<String>,
    /// Status filter.
    pub status: Option<CaStatus>,
    /// Type filter.
    pub ca_type: Option<CaType>,
    /// Sort column (default creation time).
    pub sort_key: Option<crate::common::Field<openccm_store::CaSortKey>>,
    /// Direction (default descending).
    pub sort_dir: Option<crate::common::Field<openccm_store::SortDir>>,
}

/// Parses `limit` (0–`max`, default 10) and `offset` (≥ 0, default 0).
pub(crate) fn page(limit: Option<i64>, offset: Option<i64>, max: i64) -> Result<Page> {
    let limit = limit.unwrap_or(10);
    let offset = offset.unwrap_or(0);
    if !(0..=max).contains(&limit) {
        return Err(Error::invalid(format!("limit must be 0-{max}")));
    }
    if offset < 0 {
        return Err(Error::invalid("offset must be 0 or more"));
    }
    Ok(Page { offset, limit })
}

/// What signing a CA certificate needs.
struct CaCertPlan<'a> {
    subject: &'a Name,
    public_key: &'a [u8],
    hash: HashAlgorithm,
    validity: (i64, i64),
    kind: CertKind,
    key_usage: KeyUsageSet,
}

impl Pca {
    /// Signs a CA certificate under `parent` (or self-signs a root when
    /// `parent` is `None`, with `root_key` as the signer).
    async fn sign_ca_certificate(
        &self,
        parent: Option<&CaRecord>,
        root_key: Option<std::sync::Arc<dyn openccm_pki::Signer>>,
        plan: CaCertPlan<'_>,
    ) -> Result<(Vec<u8>, Serial)> {
        let serial = Serial::from_time_and_random(self.now(), random_bytes());
        let (issuer, signer, urls) = if let Some(parent) = parent {
            (
                IssuerInfo::clone(&*self.issuer_info(parent)?),
                self.signer(parent).await?,
                (self.crl_url(parent), self.ocsp_url(parent), None),
            )
        } else {
            let signer =
                root_key.ok_or_else(|| Error::Internal("a root needs its own key".to_owned()))?;
            let info = IssuerInfo {
                name: plan.subject.clone(),
                key_identifier: profile::key_identifier(plan.public_key)?,
                not_before: plan.validity.0,
                not_after: plan.validity.1,
                path_length: None,
                key_algorithm: signer.key_algorithm(),
            };
            (info, signer, (None, None, None))
        };
        let request = TbsRequest {
            serial: serial.clone(),
            subject: plan.subject.clone(),
            subject_public_key: plan.public_key.to_vec(),
            hash: plan.hash,
            not_before: plan.validity.0,
            not_after: plan.validity.1,
            kind: plan.kind,
            key_usage: plan.key_usage,
            extended_key_usage: ExtendedKeyUsageFlags::default(),
            alt_names: Vec::new(),
            raw_alt_names: Vec::new(),
            custom_extension: None,
            crl_url: urls.0,
            ocsp_url: urls.1,
            ca_issuers_url: urls.2,
            name_constraints: None,
        };
        let certificate = self.issue_ca_certificate(&issuer, &request, signer).await?;
        Ok((certificate, serial))
    }

    /// Loads an issuing parent: same account, active (not expired), holding its key.
    /// Loads an issuing parent for `action`, checked on the parent itself
    /// (its project): signing a subordinate uses the parent's key.
    async fn active_parent(&self, caller: &Caller, action: Action, id: &CaId) -> Result<CaRecord> {
        let parent = self.load_ca(caller, action, id).await?;
        let status = super::ca_status(&parent, self.now());
        if status != CaStatus::Active {
            return Err(Error::StatusForbids(
                crate::error::StatusRefusal::IssuerNotActive(status),
            ));
        }
        if parent.sealed_key.is_none() {
            return Err(Error::InvalidState(
                "the issuing CA's key is held outside OpenCCM: it cannot issue".to_owned(),
            ));
        }
        Ok(parent)
    }

    /// CreateCertificateAuthority.
    pub async fn create_ca(&self, caller: &Caller, req: CreateCa) -> Result<CaId> {
        self.authz.precheck(caller, actions::PCA_CA_CREATE).await?;
        if req.cloud_only {
            return Err(Error::invalid(
                "ca_id (prepaid CAs) and hsm_cluster_info are cloud-only and not supported",
            ));
        }
        let ca_type = required(req.ca_type, "type")?;
        let dn = required(req.distinguished_name.clone(), "distinguished_name")?;
        dn.validate_complete()?;
        let key_algorithm = required_field(req.key_algorithm.as_ref(), "key_algorithm")?;
        // Where CA keys live decides which algorithms a CA can have (a
        // PKCS#11 token without SM2, say): refused before anything is made.
        self.custody
            .supports(key_algorithm, KeyUse::Resident)
            .map_err(|e| Error::invalid_kind(Invalid::KeyAlgorithm, e.to_string()))?;
        let project = enterprise_project_for_create(req.enterprise_project_id.as_deref())?;
        self.authz
            .authorize(
                caller,
                actions::PCA_CA_CREATE,
                None,
                RequestFacts {
                    project: Some(&project),
                    ..RequestFacts::default()
                },
            )
            .await?;
        let crl = input::crl_settings(req.crl.as_ref())?;
        let now = self.now();
        let subject = dn.to_name()?;
        let subject_der = subject
            .to_der()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let ca_id = CaId::from_random(random_bytes());
        let owner = format!("ca:{ca_id}");

        let activate_now = ca_type == CaType::Root
            || (req.issuer_id.is_some()
                && req.signature_algorithm.is_some()
                && req.validity.is_some());
        // Validate everything before the (slow) key generation.
        let mut plan = None;
        if activate_now {
            let hash = required_field(req.signature_algorithm.as_ref(), "signature_algorithm")?;
            let validity_input = input::required_validity(req.validity.as_ref())?;
            if ca_type == CaType::Root {
                hash.check_fits(key_algorithm)?;
                let validity = input::validity(validity_input, now, ROOT_MAX_YEARS)?;
                plan = Some((
                    None,
                    hash,
                    validity,
                    CertKind::Root,
                    KeyUsageSet::ca_default(),
                ));
            } else {
                let parent = self
                    .active_parent(
                        caller,
                        actions::PCA_CA_CREATE,
                        &required_field(req.issuer_id.as_ref(), "issuer_id")?,
                    )
                    .await?;
                hash.check_fits(parent.key_algorithm)?;
                let validity = input::validity(validity_input, now, SUBORDINATE_MAX_YEARS)?;
                let path_length = input::path_length(req.path_length)?;
                let usage =
                    input::key_usages(req.key_usages.as_deref(), KeyUsageSet::ca_default())?;
                plan = Some((
                    Some(parent),
                    hash,
                    validity,
                    CertKind::SubordinateCa { path_length },
                    usage,
                ));
            }
        } else if let Some(usages) = &req.key_usages {
            KeyUsageSet::parse(usages)?;
        }
        if self.store.count_cas(&caller.domain_id, now).await? >= self.settings.ca_quota {
            return Err(Error::QuotaExceeded("The CA quota is used up.".to_owned()));
        }

        let custody = self.custody.clone();
        let owner_for_job = owner.clone();
        let (handle, key) = self
            .pools
            .keygen
            .run(move || custody.generate(key_algorithm, &owner_for_job, KeyUse::Resident))
            .await??;
        // Until the row is stored, an error or an abandoned request takes
        // the key along (a token object would otherwise be orphaned).
        let unstored = UnstoredKey::new(self.custody.clone(), handle.clone());
        let mut record = CaRecord {
            ca_id: ca_id.clone(),
            domain_id: caller.domain_id.clone(),
            ca_type,
            listed: true,
            status: CaState::Pending,
            issuer_id: None,
            issuer_name: None,
            path_length: 0,
            key_algorithm,
            signature_algorithm: None,
            key_usages: req
                .key_usages
                .as_deref()
                .map(KeyUsageSet::parse)
                .transpose()?
                .unwrap_or_else(KeyUsageSet::ca_default),
            gen_mode: GenMode::Generate,
            serial_number: None,
            name: name_fields(&dn),
            subject: subject_der,
            key_owner: Some(handle.owner.clone()),
            sealed_key: Some(handle.sealed.clone()),
            public_key: key.public_key_der().to_vec(),
            certificate: None,
            chain: None,
            not_before: None,
            not_after: None,
            create_time: now,
            delete_time: None,
            crl,
            ocsp_enabled: false,
            enterprise_project_id: project,
            revoked_at: None,
            revocation_reason: None,
        };
        let mut reservation = None;
        if let Some((parent, hash, validity, kind, usage)) = plan {
            let root_key: Option<std::sync::Arc<dyn openccm_pki::Signer>> = if parent.is_none() {
                Some(key.clone())
            } else {
                None
            };
            let (der, serial) = self
                .sign_ca_certificate(
                    parent.as_ref(),
                    root_key,
                    CaCertPlan {
                        subject: &subject,
                        public_key: key.public_key_der(),
                        hash,
                        validity,
                        kind,
                        key_usage: usage,
                    },
                )
                .await?;
            record.status = CaState::Active;
            record.certificate = Some(der);
            record.serial_number = Some(serial.to_hex());
            record.signature_algorithm = Some(hash);
            record.not_before = Some(validity.0);
            record.not_after = Some(validity.1);
            record.key_usages = usage;
            match (&parent, kind) {
                (Some(parent), CertKind::SubordinateCa { path_length }) => {
                    record.issuer_id = Some(parent.ca_id.clone());
                    record.issuer_name = Some(parent.name.common_name.clone());
                    record.path_length = i64::from(path_length);
                }
                _ => record.path_length = ROOT_PATH_LENGTH,
            }
            reservation = Some(SerialReservation {
                issuer_id: parent
                    .as_ref()
                    .map_or_else(|| ca_id.clone(), |p| p.ca_id.clone()),
                serial: serial.to_hex(),
                tbs_digest: None,
            });
        }
        // Whether a failed or abandoned insert committed cannot be known:
        // from here on the key stays (at worst an orphan object), unless the
        // store says for certain that nothing was written.
        unstored.keep();
        match self
            .store
            .insert_ca(
                &record,
                reservation.as_ref(),
                Some(self.settings.ca_quota),
                now,
            )
            .await?
        {
            InsertOutcome::Inserted => Ok(ca_id),
            InsertOutcome::QuotaExceeded => {
                drop(UnstoredKey::new(self.custody.clone(), handle));
                Err(Error::QuotaExceeded("The CA quota is used up.".to_owned()))
            }
            InsertOutcome::SerialTaken => {
                drop(UnstoredKey::new(self.custody.clone(), handle));
                Err(Error::Internal("serial number collision; retry".to_owned()))
            }
        }
    }

    /// ListCertificateAuthority.
    pub async fn list_cas(&self, caller: &Caller, query: ListCas) -> Result<(i64, Vec<CaView>)> {
        let visibility = self.authz.visibility(caller, actions::PCA_CA_LIST).await?;
        let page = page(query.limit, query.offset, 1000)?;
        let sort_key = query.sort_key.map(|k| k.get()).transpose()?;
        if query.name.as_ref().is_some_and(|n| n.chars().count() > 64) {
            return Err(Error::invalid("name is at most 64 characters"));
        }
        let filter = CaFilter {
            name: query.name.filter(|n| !n.is_empty()),
            status: query.status,
            ca_type: query.ca_type,
            visibility,
            tags: openccm_store::TagFilter::default(),
            sort_key: sort_key.unwrap_or_default(),
            sort_dir: query
                .sort_dir
                .map(|d| d.get())
                .transpose()?
                .unwrap_or_default(),
        };
        let now = self.now();
        let (total, records) = self
            .store
            .list_cas(&caller.domain_id, &filter, page, now)
            .await?;
        Ok((
            total,
            records.into_iter().map(|r| self.view(r, now)).collect(),
        ))
    }

    /// ShowCertificateAuthority.
    pub async fn show_ca(&self, caller: &Caller, id: &CaId) -> Result<CaView> {
        let ca = self.load_ca(caller, actions::PCA_CA_GET, id).await?;
        Ok(self.view(ca, self.now()))
    }

    async fn update(
        &self,
        record: &CaRecord,
        expected: &[CaState],
        serial: Option<&SerialReservation>,
    ) -> Result<()> {
        let outcome = self.store.update_ca(record, expected, serial).await?;
        self.changed(record, outcome)
    }

    /// The answer to a CA write; an applied one first empties the CA's CRL
    /// and OCSP caches (and, for a revoked CA, its issuer's), so that no
    /// answer after it shows the CA as it was.
    fn changed(&self, record: &CaRecord, outcome: UpdateOutcome) -> Result<()> {
        if outcome == UpdateOutcome::Updated {
            self.revocation.invalidate(&record.ca_id);
            if let Some(issuer) = record
                .issuer_id
                .as_ref()
                .filter(|_| record.revoked_at.is_some())
            {
                self.revocation.invalidate(issuer);
            }
        }
        match outcome {
            UpdateOutcome::Updated => Ok(()),
            UpdateOutcome::StateChanged => Err(Error::InvalidState(
                "the CA changed state meanwhile; retry".to_owned(),
            )),
            UpdateOutcome::SerialTaken => {
                Err(Error::Internal("serial number collision; retry".to_owned()))
            }
        }
    }

    fn require_status(
        &self,
        ca: &CaRecord,
        allowed: &[CaStatus],
        operation: &'static str,
    ) -> Result<CaStatus> {
        let status = super::ca_status(ca, self.now());
        if allowed.contains(&status) {
            Ok(status)
        } else {
            Err(Error::StatusForbids(StatusRefusal::Ca {
                operation,
                status,
            }))
        }
    }

    /// DisableCertificateAuthority: ACTIVED or EXPIRED → DISABLED.
    pub async fn disable_ca(&self, caller: &Caller, id: &CaId) -> Result<()> {
        let mut ca = self.load_ca(caller, actions::PCA_CA_DISABLE, id).await?;
        self.require_status(&ca, &[CaStatus::Active, CaStatus::Expired], "Disabling")?;
        ca.status = CaState::Disabled;
        self.update(&ca, &[CaState::Active], None).await
    }

    /// EnableCertificateAuthority: DISABLED → ACTIVED.
    pub async fn enable_ca(&self, caller: &Caller, id: &CaId) -> Result<()> {
        let mut ca = self.load_ca(caller, actions::PCA_CA_ENABLE, id).await?;
        self.require_status(&ca, &[CaStatus::Disabled], "Enabling")?;
        ca.status = CaState::Active;
        self.update(&ca, &[CaState::Disabled], None).await
    }

    /// DeleteCertificateAuthority: a pending CA goes at once; a disabled,
    /// expired or revoked one is scheduled for deletion in `pending_days`
    /// (7–30, default 30).
    pub async fn delete_ca(
        &self,
        caller: &Caller,
        id: &CaId,
        pending_days: Option<&str>,
    ) -> Result<()> {
        let days: i64 = match pending_days {
            None => 30,
            Some(text) => text
                .parse()
                .ok()
                .filter(|d| (7..=30).contains(d))
                .ok_or_else(|| Error::invalid("pending_days must be 7-30"))?,
        };
        let mut ca = self.load_ca(caller, actions::PCA_CA_DELETE, id).await?;
        let status = self.require_status(
            &ca,
            &[
                CaStatus::Pending,
                CaStatus::Disabled,
                CaStatus::Expired,
                CaStatus::Revoked,
            ],
            "Deletion",
        )?;
        if status == CaStatus::Pending {
            return if self
                .store
                .remove_ca(&caller.domain_id, id, &[CaState::Pending])
                .await?
            {
                // The row is gone: the key's token object (if it has one)
                // goes after it. A failure here leaves an orphan object
                // behind, which is logged, not an error to the caller.
                if let (Some(owner), Some(sealed)) = (ca.key_owner.take(), ca.sealed_key.take()) {
                    let custody = self.custody.clone();
                    let handle = KeyHandle { owner, sealed };
                    let destroyed = self
                        .pools
                        .keygen
                        .run(move || custody.destroy(&handle))
                        .await;
                    if !matches!(destroyed, Ok(Ok(()))) {
                        tracing::warn!(ca_id = %id, "the deleted CA's key object could not be destroyed");
                    }
                }
                Ok(())
            } else {
                Err(Error::InvalidState(
                    "the CA changed state meanwhile; retry".to_owned(),
                ))
            };
        }
        let stored = ca.status;
        ca.status = CaState::Deleted;
        ca.delete_time = Some(self.now() + days * 86_400_000);
        self.update(&ca, &[stored], None).await
    }

    /// RestoreCertificateAuthority: DELETED → DISABLED (REVOKED stays revoked).
    pub async fn restore_ca(&self, caller: &Caller, id: &CaId) -> Result<()> {
        let mut ca = self.load_ca(caller, actions::PCA_CA_RESTORE, id).await?;
        self.require_status(&ca, &[CaStatus::Deleted], "Restoring")?;
        ca.status = if ca.revoked_at.is_some() {
            CaState::Revoked
        } else {
            CaState::Disabled
        };
        ca.delete_time = None;
        self.update(&ca, &[CaState::Deleted], None).await
    }

    /// RevokeCertificateAuthority: subordinate CAs only; irreversible.
    pub async fn revoke_ca(
        &self,
        caller: &Caller,
        id: &CaId,
        reason: Option<openccm_store::RevocationReason>,
    ) -> Result<()> {
        let reason = reason.unwrap_or_default();
        let mut ca = self.load_ca(caller, actions::PCA_CA_REVOKE, id).await?;
        if ca.ca_type == CaType::Root {
            return Err(Error::InvalidState(
                "a root CA cannot be revoked".to_owned(),
            ));
        }
        self.require_status(
            &ca,
            &[CaStatus::Active, CaStatus::Expired, CaStatus::Disabled],
            "Revocation",
        )?;
        let stored = ca.status;
        ca.status = CaState::Revoked;
        ca.revoked_at = Some(self.now());
        ca.revocation_reason = Some(reason);
        let outcome = self.store.revoke_ca(&ca, &[stored]).await?;
        self.changed(&ca, outcome)
    }

    async fn change_settings(
        &self,
        caller: &Caller,
        action: Action,
        id: &CaId,
        change: impl FnOnce(&mut CaRecord) -> Result<()>,
    ) -> Result<()> {
        let mut ca = self.load_ca(caller, action, id).await?;
        self.require_status(
            &ca,
            &[
                CaStatus::Pending,
                CaStatus::Active,
                CaStatus::Expired,
                CaStatus::Disabled,
            ],
            "Changing CA settings",
        )?;
        let stored = ca.status;
        change(&mut ca)?;
        self.update(&ca, &[stored], None).await
    }

    /// EnableCertificateAuthorityCrl.
    pub async fn enable_crl(
        &self,
        caller: &Caller,
        ca_id: &CaId,
        crl_name: Option<String>,
        bucket: Option<String>,
        valid_days: Option<i64>,
    ) -> Result<()> {
        let settings = input::crl_settings(Some(&CrlInput {
            enabled: Some(true),
            crl_name,
            bucket,
            valid_days,
        }))?;
        self.change_settings(caller, actions::PCA_CA_ENABLE_CRL, ca_id, |ca| {
            ca.crl = settings;
            Ok(())
        })
        .await
    }

    /// DisableCertificateAuthorityCrl.
    pub async fn disable_crl(&self, caller: &Caller, ca_id: &CaId) -> Result<()> {
        self.change_settings(caller, actions::PCA_CA_DISABLE_CRL, ca_id, |ca| {
            ca.crl = CrlSettings {
                enabled: false,
                ..ca.crl.clone()
            };
            Ok(())
        })
        .await
    }

    /// UpdateOcspSwitch.
    pub async fn set_ocsp(&self, caller: &Caller, ca_id: &CaId, on: Option<bool>) -> Result<()> {
        let on = required(on, "ocsp_switch")?;
        self.change_settings(caller, actions::PCA_CA_OCSP, ca_id, |ca| {
            ca.ocsp_enabled = on;
            Ok(())
        })
        .await
    }

    /// ShowCertificateAuthorityQuota: (used, quota).
    pub async fn ca_quota(&self, caller: &Caller) -> Result<(i64, i64)> {
        self.authz.precheck(caller, actions::PCA_CA_QUOTA).await?;
        self.authz
            .authorize(caller, actions::PCA_CA_QUOTA, None, RequestFacts::default())
            .await?;
        Ok((
            self.store.count_cas(&caller.domain_id, self.now()).await?,
            self.settings.ca_quota,
        ))
    }

    /// ShowCertificateQuota: (used, quota).
    pub async fn certificate_quota(&self, caller: &Caller) -> Result<(i64, i64)> {
        self.authz.precheck(caller, actions::PCA_CERT_QUOTA).await?;
        self.authz
            .authorize(
                caller,
                actions::PCA_CERT_QUOTA,
                None,
                RequestFacts::default(),
            )
            .await?;
        Ok((
            self.store.count_certificates(&caller.domain_id).await?,
            self.settings.certificate_quota,
        ))
    }
}

/// The subject object of a CA.
pub fn ca_distinguished_name(ca: &CaRecord) -> openccm_pki::DistinguishedName {
    distinguished_name(&ca.name)
}

/// A CA key custody made for a CA row that is not stored (yet): dropped
/// while it still holds the handle, it destroys the key, off the executor
/// (destroying may be a token round trip). Software keys have nothing to
/// destroy.
struct UnstoredKey {
    custody: std::sync::Arc<dyn openccm_custody::KeyStore>,
    handle: Option<KeyHandle>,
}

impl UnstoredKey {
    fn new(custody: std::sync::Arc<dyn openccm_custody::KeyStore>, handle: KeyHandle) -> Self {
        Self {
            custody,
            handle: Some(handle),
        }
    }

    /// The key is to stay.
    fn keep(mut self) {
        self.handle = None;
    }
}

impl Drop for UnstoredKey {
    fn drop(&mut self) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        let custody = self.custody.clone();
        let destroy = move || {
            if custody.destroy(&handle).is_err() {
                tracing::warn!(owner = %handle.owner, "an unstored CA key could not be destroyed");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(destroy)),
            Err(_) => destroy(),
        }
    }
}
