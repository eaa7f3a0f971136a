//! Certificates once issued: list, show, revoke, delete, and the
//! reconciliation of issuances a crash left pending.

use super::{
    actions, cert_status, not_found_cert, page, Action, Caller, CertFilter, CertId, CertRecord,
    CertStatus, CertView, Error, ListCertificates, Pca, RequestFacts, ResourceKind, Result,
    TaggedResource, Target,
};

impl Pca {
    /// ListCertificate.
    pub async fn list_certificates(
        &self,
        caller: &Caller,
        query: ListCertificates,
    ) -> Result<(i64, Vec<CertView>)> {
        let visibility = self
            .authz
            .visibility(caller, actions::PCA_CERT_LIST)
            .await?;
        let page = page(query.limit, query.offset, 1000)?;
        let sort_key = query.sort_key.map(|k| k.get()).transpose()?;
        if query.name.as_ref().is_some_and(|n| n.chars().count() > 64) {
            return Err(Error::invalid("name is at most 64 characters"));
        }
        let issuer_id = query
            .issuer_id
            .as_deref()
            .map(crate::pca::input::ca_id)
            .transpose()?;
        let mut tags = openccm_store::TagFilter::default();
        if let Some((key, value)) = query.tag {
            crate::tags::check_key(&key)?;
            if let Some(value) = &value {
                crate::tags::check_value(value)?;
            }
            tags.all.push((key, value.into_iter().collect()));
        }
        let filter = CertFilter {
            name: query.name.filter(|n| !n.is_empty()),
            status: query.status,
            issuer_id,
            expires_before: query.expires_before,
            key_algorithm: query.key_algorithm,
            visibility,
            tags,
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
            .list_certificates(&caller.domain_id, &filter, page, now)
            .await?;
        Ok((
            total,
            records
                .into_iter()
                .map(|record| CertView {
                    status: cert_status(&record, now),
                    record,
                })
                .collect(),
        ))
    }

    /// Loads a certificate of the caller's account for `action` (checked
    /// before the read and on the certificate's project and tags).
    pub(crate) async fn load_certificate(
        &self,
        caller: &Caller,
        action: Action,
        certificate_id: &CertId,
    ) -> Result<CertRecord> {
        self.load_certificate_for(caller, action, certificate_id, None)
            .await
    }

    /// [`Self::load_certificate`] for a request that sets `request_tags`.
    pub(crate) async fn load_certificate_for(
        &self,
        caller: &Caller,
        action: Action,
        id: &CertId,
        request_tags: Option<&[(String, String)]>,
    ) -> Result<CertRecord> {
        self.authz.precheck(caller, action).await?;
        let record = self
            .store
            .certificate(&caller.domain_id, id)
            .await?
            .ok_or_else(not_found_cert)?;
        let tags = self
            .resource_tags(
                caller,
                TaggedResource::PcaCertificate,
                record.certificate_id.as_str(),
            )
            .await?;
        self.authz
            .authorize(
                caller,
                action,
                Some(Target {
                    kind: ResourceKind::PcaCert,
                    id: record.certificate_id.as_str(),
                    project: Some(&record.enterprise_project_id),
                    tags: &tags,
                }),
                RequestFacts {
                    tags: request_tags,
                    ..RequestFacts::default()
                },
            )
            .await?;
        Ok(record)
    }

    /// ShowCertificate (seed 003).
    pub async fn show_certificate(
        &self,
        caller: &Caller,
        certificate_id: &CertId,
    ) -> Result<CertView> {
        let record = self
            .load_certificate(caller, actions::PCA_CERT_GET, certificate_id)
            .await?;
        Ok(CertView {
            status: cert_status(&record, self.now()),
            record,
        })
    }

    /// RevokeCertificate: ISSUED → REVOKED, irreversibly.
    pub async fn revoke_certificate(
        &self,
        caller: &Caller,
        certificate_id: &CertId,
        reason: Option<openccm_store::RevocationReason>,
    ) -> Result<()> {
        let reason = reason.unwrap_or_default();
        let record = self
            .load_certificate(caller, actions::PCA_CERT_REVOKE, certificate_id)
            .await?;
        let status = cert_status(&record, self.now());
        if status != CertStatus::Issued {
            return Err(Error::StatusForbids(
                crate::error::StatusRefusal::CertNotRevocable(status),
            ));
        }
        if self
            .store
            .revoke_certificate(
                &caller.domain_id,
                &record.certificate_id,
                reason,
                self.now(),
            )
            .await?
        {
            // Before the revoke is answered, no cached OCSP answer or CRL of
            // this server may still show the certificate as good.
            self.revocation.invalidate(&record.issuer_id);
            Ok(())
        } else {
            Err(Error::InvalidState(
                "the certificate changed state meanwhile".to_owned(),
            ))
        }
    }

    /// DeleteCertificate.
    pub async fn delete_certificate(&self, caller: &Caller, certificate_id: &CertId) -> Result<()> {
        let id = self
            .load_certificate(caller, actions::PCA_CERT_DELETE, certificate_id)
            .await?
            .certificate_id;
        if self
            .store
            .delete_certificate(&caller.domain_id, &id, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(not_found_cert())
        }
    }

    /// Marks issuance intents left by a crash (older than `age_ms`) as failed.
    pub async fn fail_stale_intents(&self, age_ms: i64) -> Result<u64> {
        Ok(self.store.fail_stale_intents(self.now() - age_ms).await?)
    }
}
