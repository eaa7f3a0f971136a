//! ACME revocation (RFC 8555 §7.6) and renewal information (RFC 9773).
//!
//! A revocation through ACME is the PCA's own: the certificate is revoked
//! in the store and the CA's CRL and OCSP caches learn it before the
//! answer, exactly as RevokeCertificate does.

use openccm_store::{CertRecord, RevocationReason};

use super::problem::{AcmeResult, Problem, ProblemKind};
use super::server::{AcmeServer, RequestSigner, SignedRequest};
use crate::pca::cert_status;

/// How often clients should ask for renewal information again, seconds.
pub const RENEWAL_INFO_RETRY_SECONDS: u64 = 6 * 3600;

/// What renewalInfo answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalWindow {
    /// Renew from, epoch ms.
    pub start: i64,
    /// Renew before, epoch ms.
    pub end: i64,
}

/// The reasons RFC 8555 lets a client give (RFC 5280 codes; the CA's own
/// reasons and certificateHold are the CA's to use).
fn client_reason(code: Option<u8>) -> AcmeResult<RevocationReason> {
    Ok(match code {
        None | Some(0) => RevocationReason::Unspecified,
        Some(1) => RevocationReason::KeyCompromise,
        Some(3) => RevocationReason::AffiliationChanged,
        Some(4) => RevocationReason::Superseded,
        Some(5) => RevocationReason::CessationOfOperation,
        Some(9) => RevocationReason::PrivilegeWithdrawn,
        Some(other) => {
            return Err(Problem::new(
                ProblemKind::BadRevocationReason,
                format!("reason {other} is not one a subscriber may give (0, 1, 3, 4, 5, 9)"),
            ))
        }
    })
}

impl AcmeServer {
    /// The certificate of this CA that `der` is, or `None`.
    async fn issued_here(
        &self,
        request: &SignedRequest,
        der: &[u8],
    ) -> AcmeResult<Option<(openccm_pki::cert::ParsedCertificate, CertRecord)>> {
        let Ok(parsed) = openccm_pki::cert::parse_der(der) else {
            return Ok(None);
        };
        let ca = &request.ca.record;
        let Some(record) = self
            .pca
            .store
            .certificate_by_serial(&ca.domain_id, &ca.ca_id, &parsed.serial_hex)
            .await?
        else {
            return Ok(None);
        };
        // The serial is this CA's: the bytes must be the very certificate.
        if record.certificate.as_deref() != Some(der) {
            return Ok(None);
        }
        Ok(Some((parsed, record)))
    }

    /// revokeCert: by the account that ordered the certificate, or signed
    /// with the certificate's own key.
    pub async fn revoke(
        &self,
        request: &SignedRequest,
        certificate_der: &[u8],
        reason: Option<u8>,
    ) -> AcmeResult<()> {
        let reason = client_reason(reason)?;
        let unknown = || Problem::not_found("the certificate (of this CA)");
        let (parsed, record) = self
            .issued_here(request, certificate_der)
            .await?
            .ok_or_else(unknown)?;
        let allowed = match &request.signer {
            RequestSigner::Account(account) => self
                .pca
                .store
                .acme_order_of_certificate(&account.ca_id, &record.certificate_id)
                .await?
                .is_some_and(|o| o.account_id == account.account_id),
            RequestSigner::Key(key) => key.same_key_as(&parsed.public_key),
        };
        if !allowed {
            return Err(Problem::unauthorized(
                "only the ordering account or the certificate's key may revoke it",
            ));
        }
        let now = self.now();
        if record.revoked_at.is_some() {
            return Err(Problem::new(
                ProblemKind::AlreadyRevoked,
                "the certificate is revoked already",
            ));
        }
        if cert_status(&record, now) != openccm_store::CertStatus::Issued {
            return Err(Problem::unauthorized("the certificate has expired"));
        }
        if !self
            .pca
            .store
            .revoke_certificate(&record.domain_id, &record.certificate_id, reason, now)
            .await?
        {
            return Err(Problem::new(
                ProblemKind::AlreadyRevoked,
                "the certificate is revoked already",
            ));
        }
        // Before the answer: no cached CRL or OCSP answer of this server may
        // still show the certificate as good.
        self.pca.revocation.invalidate(&record.issuer_id);
        Ok(())
    }

    /// renewalInfo (RFC 9773): when to renew the certificate an ARI id
    /// (`base64url(AKI keyIdentifier) "." base64url(serial)`) names. A
    /// revoked certificate should be replaced at once; any other from two
    /// thirds to five sixths of its lifetime.
    pub async fn renewal_info(
        &self,
        ca_id: &openccm_store::CaId,
        ari_id: &str,
    ) -> AcmeResult<RenewalWindow> {
        let ca = self.acme_ca(ca_id).await?;
        let record = self.certificate_of_ari_id(&ca, ari_id).await?;
        let now = self.now();
        if record.revoked_at.is_some() {
            return Ok(RenewalWindow {
                start: now - 3_600_000,
                end: now,
            });
        }
        let lifetime = record.not_after - record.not_before;
        Ok(RenewalWindow {
            start: record.not_before + lifetime * 2 / 3,
            end: record.not_before + lifetime * 5 / 6,
        })
    }

    /// The certificate of `ca` an ARI id names (RFC 9773 §4.1).
    pub(super) async fn certificate_of_ari_id(
        &self,
        ca: &super::server::AcmeCa,
        ari_id: &str,
    ) -> AcmeResult<CertRecord> {
        let missing = || Problem::not_found("the certificate");
        let (aki, serial) = ari_id
            .split_once('.')
            .ok_or_else(|| Problem::malformed("a renewal-info id is <AKI>.<serial>"))?;
        let decode = |part: &str| {
            openccm_pki::jws::b64url_decode(part, "renewal-info id")
                .map_err(|_| Problem::malformed("the renewal-info id is not base64url"))
        };
        let (aki, serial) = (decode(aki)?, decode(serial)?);
        let issuer = self.pca.issuer_info(&ca.record)?;
        if aki != issuer.key_identifier {
            return Err(missing());
        }
        // DER INTEGER content: the stored hex is of the unsigned value.
        let significant = serial.iter().position(|b| *b != 0).unwrap_or(serial.len());
        let serial_hex = hex::encode(&serial[significant..]);
        self.pca
            .store
            .certificate_by_serial(&ca.record.domain_id, &ca.record.ca_id, &serial_hex)
            .await?
            .ok_or_else(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_give_their_own_reasons_only() {
        assert_eq!(client_reason(None).unwrap(), RevocationReason::Unspecified);
        assert_eq!(
            client_reason(Some(1)).unwrap(),
            RevocationReason::KeyCompromise
        );
        for refused in [2, 6, 7, 8, 10, 11] {
            assert_eq!(
                client_reason(Some(refused)).unwrap_err().kind,
                ProblemKind::BadRevocationReason
            );
        }
    }
}
