//! Figures over many rows, for the metrics: certificates about to expire.
//!
//! Each count reads one account's index range (live, unrevoked
//! certificates by notAfter), so its cost follows the certificates that
//! expire within the window, not the certificates stored.

use async_trait::async_trait;

use super::Sql;
use crate::db::{args, Backend, Weight};
use crate::ids::DomainId;
use crate::{ExpiringCounts, ReportStore, StoreResult};

/// Private certificates: the partial index `certificates_unmarked_expiry_idx`
/// (migration 0012) holds exactly the live, unrevoked, unmarked ones by
/// (domain_id, not_after).
const PRIVATE: &str =
    "SELECT COALESCE(SUM(CASE WHEN not_after <= $3 THEN 1 ELSE 0 END), 0) AS soon, \
     COUNT(*) AS later FROM certificates \
     WHERE domain_id = $1 AND state = 'ISSUED' AND deleted_at IS NULL \
     AND revoked_at IS NULL AND expired_at IS NULL \
     AND not_after > $2 AND not_after <= $4";

/// CAs that issue or may again (active or disabled); an account has few.
const CAS: &str = "SELECT COALESCE(SUM(CASE WHEN not_after <= $3 THEN 1 ELSE 0 END), 0) AS soon, \
     COUNT(*) AS later FROM cas \
     WHERE domain_id = $1 AND status IN ('ACTIVED', 'DISABLED') \
     AND not_after > $2 AND not_after <= $4";

/// SSL certificates: `scm_certificates_domain_not_after_idx`.
const SSL: &str = "SELECT COALESCE(SUM(CASE WHEN not_after <= $3 THEN 1 ELSE 0 END), 0) AS soon, \
     COUNT(*) AS later FROM scm_certificates \
     WHERE domain_id = $1 AND not_after > $2 AND not_after <= $4";

#[async_trait]
impl<B: Backend> ReportStore for Sql<B> {
    async fn expiring(
        &self,
        domain: &DomainId,
        now: i64,
        soon: i64,
        later: i64,
    ) -> StoreResult<ExpiringCounts> {
        let mut counts = [(0, 0); 3];
        for (sql, count) in [PRIVATE, CAS, SSL].into_iter().zip(counts.iter_mut()) {
            let rows = self
                .read(sql, args![domain.as_str(), now, soon, later], Weight::Scan)
                .await?;
            if let Some(row) = rows.first() {
                *count = (row.int("soon")?, row.int("later")?);
            }
        }
        let [private, cas, ssl] = counts;
        Ok(ExpiringCounts { private, cas, ssl })
    }
}
