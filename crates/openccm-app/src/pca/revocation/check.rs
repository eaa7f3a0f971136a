//! `openccm admin crl check` and the publisher: which CAs publish a CRL, and
//! whether each serves exactly the revocations its records hold.

use der::Decode as _;

use super::{crl_name, CaId, CaRecord, Error, Pca, Result};

impl Pca {
    /// Every CA that publishes a CRL: (CA id, CRL name).
    pub async fn crl_publishers(&self) -> Result<Vec<(CaId, String)>> {
        Ok(self
            .store
            .crl_issuing_cas(self.now())
            .await?
            .iter()
            .map(|ca| (ca.ca_id.clone(), crl_name(ca)))
            .collect())
    }
    /// Checks that every CRL-publishing CA serves every unexpired revoked
    /// serial exactly once (its full and delta CRL together, as a relying
    /// party combines them) and nothing that was never revoked: the
    /// expected set is rebuilt from the certificate and CA records. Returns one line per CA; fails
    /// with `Internal` naming the first CA whose CRLs are wrong.
    pub async fn check_crls(&self) -> Result<Vec<String>> {
        let mut report = Vec::new();
        for record in self.store.crl_issuing_cas(self.now()).await? {
            // A revocation committed between serving and reading the store
            // shows as missing: the second look serves it.
            let mut outcome = self.check_crl(&record).await;
            if outcome.is_err() {
                outcome = self.check_crl(&record).await;
            }
            report.push(outcome?);
        }
        Ok(report)
    }

    async fn check_crl(&self, record: &CaRecord) -> Result<String> {
        let id = &record.ca_id;
        let name = record
            .crl
            .crl_name
            .clone()
            .unwrap_or_else(|| id.to_string());
        let full = self.published_crl(Some(id), &format!("{name}.crl")).await?;
        let delta = self
            .published_crl(Some(id), &format!("{name}-delta.crl"))
            .await?;
        let in_full = served_serials(&full.der)?;
        let in_delta = served_serials(&delta.der)?;
        let (full_entries, delta_entries) = (in_full.len(), in_delta.len());
        let mut served: Vec<String> = in_full.into_iter().chain(in_delta).collect();
        served.sort_unstable();
        served.dedup();
        if served.len() != full_entries + delta_entries {
            return Err(Error::Internal(format!(
                "CA {id}: a serial is listed more than once"
            )));
        }
        // What the certificate and CA records say was revoked: not the
        // revocations table the CRLs are built from.
        let revoked = self.store.revoked_in_records(id).await?;
        let unexpired: Vec<&str> = revoked
            .iter()
            .filter(|(_, not_after)| *not_after >= delta.this_update)
            .map(|(serial, _)| serial.as_str())
            .collect();
        let missing = unexpired
            .iter()
            .filter(|s| served.binary_search_by(|x| x.as_str().cmp(s)).is_err())
            .count();
        if missing > 0 {
            return Err(Error::Internal(format!(
                "CA {id}: {missing} unexpired revoked serial(s) are missing from its CRLs"
            )));
        }
        let mut ever: Vec<&str> = revoked.iter().map(|(serial, _)| serial.as_str()).collect();
        ever.sort_unstable();
        if let Some(stray) = served
            .iter()
            .find(|s| ever.binary_search(&s.as_str()).is_err())
        {
            return Err(Error::Internal(format!(
                "CA {id}: its CRLs list {stray}, which was never revoked"
            )));
        }
        Ok(format!(
            "{id}: ok, {} unexpired revoked serial(s) served: full CRL #{} ({full_entries} entries), delta CRL #{} ({delta_entries} entries)",
            unexpired.len(),
            full.number,
            delta.number,
        ))
    }
}

/// The serials (lower-case hex) a CRL lists.
fn served_serials(der: &[u8]) -> Result<Vec<String>> {
    let crl = x509_cert::crl::CertificateList::from_der(der)
        .map_err(|e| Error::Internal(format!("a served CRL does not parse: {e}")))?;
    Ok(crl
        .tbs_cert_list
        .revoked_certificates
        .unwrap_or_default()
        .iter()
        .map(|r| hex::encode(r.serial_number.as_bytes()))
        .collect())
}
