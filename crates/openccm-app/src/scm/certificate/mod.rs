//! SSL certificates: import (validated completely before anything is
//! stored: `import.rs`), list, show, export (seed 000), delete.

use openccm_custody::{KeyHandle, KeyStore};
use openccm_store::{ScmCertFilter, ScmCertId, ScmSortKey, SortDir};
use zeroize::Zeroizing;

use super::{cert_status, not_found_cert, page, Scm, ScmCertStatus, ScmCertView, ScmStatusFilter};
use crate::common::{is_project_uuid, Field, DEFAULT_PROJECT};
use crate::error::{Error, Result};
use crate::iam::authz::actions;
use crate::iam::Caller;

mod import;

/// Field bounds of ImportCertificate and ExportCertificate (seed 000).
pub mod bounds {
    /// `certificate`.
    pub const CERTIFICATE: usize = 4096;
    /// `certificate_chain`.
    pub const CHAIN: usize = 8192;
    /// `private_key`.
    pub const PRIVATE_KEY: usize = 4096;
    /// `enc_certificate`, `enc_private_key`.
    pub const ENC: usize = 4096;
    /// `name`.
    pub const NAME: std::ops::RangeInclusive<usize> = 3..=63;
}

/// The most certificates a list counts (`total_count` is documented 0–10000).
pub const TOTAL_COUNT_CAP: i64 = 10_000;

/// ImportCertificate input.
#[derive(Clone, Default)]
pub struct ImportCertificate {
    /// Name.
    pub name: Option<String>,
    /// Certificate PEM (maybe followed by the chain).
    pub certificate: Option<String>,
    /// Chain PEM.
    pub certificate_chain: Option<String>,
    /// Private key PEM.
    pub private_key: Option<String>,
    /// Refuse a certificate the account holds already.
    pub duplicate_check: Option<bool>,
    /// Enterprise project.
    pub enterprise_project_id: Option<String>,
    /// SM2 encryption certificate.
    pub enc_certificate: Option<String>,
    /// SM2 encryption key: PEM, or a base64 SM2 enveloped key.
    pub enc_private_key: Option<String>,
}

impl std::fmt::Debug for ImportCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("ImportCertificate")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// ListCertificates query.
#[derive(Debug, Clone, Default)]
pub struct ListCertificates {
    /// 10–50, default 10.
    pub limit: Option<i64>,
    /// ≥ 0.
    pub offset: Option<i64>,
    /// Direction (default descending).
    pub sort_dir: Option<Field<SortDir>>,
    /// Sort column (default last update).
    pub sort_key: Option<Field<ScmSortKey>>,
    /// Status filter (default every status).
    pub status: Option<Field<ScmStatusFilter>>,
    /// `all` (default), `0` or a project id.
    pub enterprise_project_id: Option<String>,
    /// Only deployable certificates.
    pub deploy_support: Option<bool>,
    /// Only the caller's own (no certificate is shared in OpenCCM).
    pub owned_by_self: Option<bool>,
    /// Only certificates valid or expired at most this many days ago.
    pub expired_days_since: Option<i64>,
    /// Name or domain keyword.
    pub content: Option<String>,
}

/// What ExportCertificate returns (seed 000).
#[derive(Clone)]
pub struct ExportedCertificate {
    /// Certificate followed by its chain.
    pub entire_certificate: String,
    /// The certificate.
    pub certificate: String,
    /// The chain, if any.
    pub certificate_chain: Option<String>,
    /// The private key PEM as imported.
    pub private_key: Zeroizing<String>,
    /// SM: the encryption certificate.
    pub enc_certificate: Option<String>,
    /// SM: the encryption key, plain PEM or the envelope.
    pub enc_private_key: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for ExportedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportedCertificate")
            .finish_non_exhaustive()
    }
}

fn too_long(field: &str, max: usize) -> Error {
    Error::invalid(format!("{field} must not be longer than {max} characters"))
}

impl Scm {
    /// Lists the account's certificates.
    pub async fn list_certificates(
        &self,
        caller: &Caller,
        query: ListCertificates,
    ) -> Result<(i64, Vec<ScmCertView>)> {
        let visibility = self.authz.visibility(caller, actions::SCM_LIST).await?;
        let page = page(query.limit, query.offset, 10, 50)?;
        let sort_dir = query.sort_dir.map(|d| d.get()).transpose()?;
        let sort_key = query.sort_key.map(|k| k.get()).transpose()?;
        let mut filter = ScmCertFilter {
            sort_key: sort_key.unwrap_or_default(),
            sort_dir: sort_dir.unwrap_or_default(),
            visibility: (!visibility.is_everything()).then_some(visibility),
            ..ScmCertFilter::default()
        };
        match query
            .status
            .map(|s| s.get())
            .transpose()?
            .unwrap_or_default()
        {
            ScmStatusFilter::All => {}
            ScmStatusFilter::Only(ScmCertStatus::Uploaded) => filter.expired = Some(false),
            ScmStatusFilter::Only(ScmCertStatus::Expired) => filter.expired = Some(true),
            ScmStatusFilter::PurchaseFlow => filter.nothing = true,
        }
        filter.projects = projects_filter(query.enterprise_project_id.as_deref())?;
        if let Some(content) = query.content.filter(|c| !c.is_empty()) {
            if content.chars().count() > 255 {
                return Err(too_long("content", 255));
            }
            filter.content = Some(content);
        }
        let now = self.now();
        if let Some(days) = query.expired_days_since {
            if !(0..=1095).contains(&days) {
                return Err(Error::invalid("expired_days_since must be from 0 to 1095"));
            }
            filter.not_after_from = Some(now - days * 86_400_000);
        }
        if query.deploy_support == Some(true) {
            // Deployment to cloud services does not exist here.
            filter.nothing = true;
        }
        let _ = query.owned_by_self;
        self.list_filtered(caller, &filter, page, now).await
    }

    pub(super) async fn list_filtered(
        &self,
        caller: &Caller,
        filter: &ScmCertFilter,
        page: openccm_store::Page,
        now: i64,
    ) -> Result<(i64, Vec<ScmCertView>)> {
        let total = self
            .store
            .count_scm_certificates(&caller.domain_id, filter, now, TOTAL_COUNT_CAP)
            .await?;
        let records = if total > page.offset {
            self.store
                .list_scm_certificates(&caller.domain_id, filter, page, now)
                .await?
        } else {
            Vec::new()
        };
        Ok((
            total,
            records
                .into_iter()
                .map(|record| ScmCertView {
                    status: cert_status(&record, now),
                    record,
                    tags: Vec::new(),
                })
                .collect(),
        ))
    }

    /// One certificate.
    pub async fn show_certificate(&self, caller: &Caller, id: &ScmCertId) -> Result<ScmCertView> {
        let record = self.load_for(caller, actions::SCM_GET, id, None).await?;
        Ok(ScmCertView {
            status: cert_status(&record, self.now()),
            record,
            tags: Vec::new(),
        })
    }

    /// Exports a certificate with its chain and keys (seed 000).
    pub async fn export_certificate(
        &self,
        caller: &Caller,
        id: &ScmCertId,
    ) -> Result<ExportedCertificate> {
        let record = self.load_for(caller, actions::SCM_EXPORT, id, None).await?;
        // Custody may be a token round trip: off the executor.
        let custody = self.custody.clone();
        // The owners are the certificate's own, whatever the row says (the
        // seals are bound to them).
        let key = crate::common::row_key_handle(
            &format!("scm-cert:{}", record.certificate_id),
            Some(&record.key_owner),
            Some(&record.sealed_key),
        )?
        .ok_or_else(|| Error::Internal("an SCM certificate has no key".to_owned()))?;
        let enc_key = crate::common::row_key_handle(
            &format!("scm-cert-enc:{}", record.certificate_id),
            record.enc_key_owner.as_deref(),
            record.enc_sealed_key.as_ref(),
        )?;
        let (private_key, enc_private_key) = self
            .pools
            .signing
            .run(move || -> Result<_> {
                let private_key = imported_text(custody.as_ref(), &key)?;
                let enc_private_key = enc_key
                    .map(|handle| imported_text(custody.as_ref(), &handle))
                    .transpose()?;
                Ok((private_key, enc_private_key))
            })
            .await??;
        let mut entire = record.certificate.clone();
        if let Some(chain) = &record.certificate_chain {
            if !entire.ends_with('\n') {
                entire.push('\n');
            }
            entire.push_str(chain);
        }
        Ok(ExportedCertificate {
            entire_certificate: entire,
            certificate: record.certificate,
            certificate_chain: record.certificate_chain,
            private_key,
            enc_certificate: record.enc_certificate,
            enc_private_key,
        })
    }

    /// Deletes a certificate (with its tags and notification settings).
    pub async fn delete_certificate(&self, caller: &Caller, id: &ScmCertId) -> Result<()> {
        let id = self
            .load_for(caller, actions::SCM_DELETE, id, None)
            .await?
            .certificate_id;
        if self
            .store
            .delete_scm_certificate(&caller.domain_id, &id)
            .await?
        {
            Ok(())
        } else {
            Err(not_found_cert())
        }
    }
}

/// The project filter of a query: `all` (or absent) → every project.
pub(super) fn projects_filter(value: Option<&str>) -> Result<Option<Vec<String>>> {
    match value {
        None | Some("all" | "") => Ok(None),
        Some(DEFAULT_PROJECT) => Ok(Some(vec![DEFAULT_PROJECT.to_owned()])),
        Some(id) if is_project_uuid(id) => Ok(Some(vec![id.to_owned()])),
        Some(_) => Err(Error::invalid(
            "enterprise_project_id must be \"all\", \"0\" or a project id",
        )),
    }
}

/// The key material an import stored, as the text it was handed in as.
fn imported_text(custody: &dyn KeyStore, handle: &KeyHandle) -> Result<Zeroizing<String>> {
    let bytes = custody
        .imported(handle)
        .map_err(|e| Error::Internal(e.to_string()))?;
    crate::common::secret_text(bytes)
}
