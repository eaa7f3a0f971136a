//! SSL certificate manager: certificates that exist already (imported,
//! possibly issued by OpenCCM's private CA), their keys, CSRs, tags and
//! expiry-notification settings.
//!
//! What is imported is kept exactly as given (PEM text, private keys in the
//! form they came in, sealed at rest) so that an export returns the same
//! bytes; everything is validated before anything is stored.
//!
//! Submodules: [`certificate`] (import, list, show, export, delete),
//! [`csr`] (CSR management), [`tags`] (tags and tag queries),
//! [`notification`] (expiry notification settings).

pub mod certificate;
pub mod csr;
pub mod notification;
pub mod tags;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use openccm_custody::KeyStore;
use openccm_store::{ScmCertId, ScmCertRecord, Store};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::iam::authz::{Action, Authorizer, RequestFacts, ResourceKind, Target};
use crate::iam::Caller;
use crate::pool::CryptoPools;

/// SCM settings.
#[derive(Debug, Clone)]
pub struct ScmSettings {
    /// Tags one certificate may carry.
    pub max_tags_per_resource: usize,
}

impl Default for ScmSettings {
    fn default() -> Self {
        Self {
            max_tags_per_resource: 20,
        }
    }
}

/// A certificate as callers see it: the record and its status.
#[derive(Debug, Clone)]
pub struct ScmCertView {
    /// The record (PEM and keys empty in lists).
    pub record: ScmCertRecord,
    /// Imported, or expired once notAfter has passed.
    pub status: ScmCertStatus,
    /// Its tags (lists by tag only).
    pub tags: Vec<(String, String)>,
}

/// The statuses an imported certificate can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScmCertStatus {
    /// Imported and unexpired.
    Uploaded,
    /// Past its notAfter.
    Expired,
}

/// What a certificate list is filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScmStatusFilter {
    /// Every certificate (the default).
    #[default]
    All,
    /// Only certificates with this status.
    Only(ScmCertStatus),
    /// A status of the cloud's purchase flow, which no imported certificate
    /// has: the list is empty.
    PurchaseFlow,
}

/// The status of an imported certificate at `now`.
pub fn cert_status(record: &ScmCertRecord, now: i64) -> ScmCertStatus {
    if record.not_after <= now {
        ScmCertStatus::Expired
    } else {
        ScmCertStatus::Uploaded
    }
}

/// Hands out `scs` + 13-digit ids: the millisecond clock, bumped past the
/// last id given, so ids of one process never repeat; the store's primary
/// key catches the rare clash between processes (the caller then asks again).
#[derive(Debug, Default)]
pub struct IdSequence {
    last: AtomicU64,
}

impl IdSequence {
    /// The next id at `now_ms`.
    pub fn next(&self, now_ms: i64) -> Result<ScmCertId> {
        let now = u64::try_from(now_ms).unwrap_or(0);
        let previous = self
            .last
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        ScmCertId::from_number(now.max(previous + 1))
            .ok_or_else(|| Error::Internal("the certificate id space is exhausted".to_owned()))
    }

    /// Moves past a clash with another process by a random step.
    pub fn skip_after_clash(&self) {
        use rand::Rng as _;
        let step = rand::rngs::OsRng.gen_range(1..=1000);
        self.last.fetch_add(step, Ordering::SeqCst);
    }
}

/// The SCM service.
#[derive(Debug, Clone)]
pub struct Scm {
    store: Arc<dyn Store>,
    custody: Arc<dyn KeyStore>,
    clock: Arc<dyn Clock>,
    pools: CryptoPools,
    settings: ScmSettings,
    ids: Arc<IdSequence>,
    authz: Arc<Authorizer>,
}

impl Scm {
    /// Hands a customer's key material to custody for `owner` (off the
    /// executor: custody may be a token round trip).
    async fn import_material(
        &self,
        owner: String,
        material: zeroize::Zeroizing<String>,
    ) -> Result<openccm_custody::KeyHandle> {
        let custody = self.custody.clone();
        Ok(self
            .pools
            .signing
            .run(move || custody.import(&owner, material.as_bytes()))
            .await??)
    }

    /// Builds the service.
    pub fn new(
        store: Arc<dyn Store>,
        custody: Arc<dyn KeyStore>,
        clock: Arc<dyn Clock>,
        pools: CryptoPools,
        settings: ScmSettings,
        authz: Arc<Authorizer>,
    ) -> Self {
        Self {
            store,
            custody,
            clock,
            pools,
            settings,
            ids: Arc::default(),
            authz,
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Loads a certificate of the caller's account for `action`: refused
    /// before the read when no policy could allow the action, and after it
    /// unless the policies allow it on this certificate (project, tags), with
    /// `request_tags` for tag operations.
    pub(super) async fn load_for(
        &self,
        caller: &Caller,
        action: Action,
        id: &ScmCertId,
        request_tags: Option<&[(String, String)]>,
    ) -> Result<ScmCertRecord> {
        self.authz.precheck(caller, action).await?;
        let record = self
            .store
            .scm_certificate(&caller.domain_id, id)
            .await?
            .ok_or_else(not_found_cert)?;
        let tags: Vec<(String, String)> = if caller.is_root {
            Vec::new()
        } else {
            self.store
                .tags_of(
                    &caller.domain_id,
                    openccm_store::TaggedResource::ScmCertificate,
                    &[id.to_string()],
                )
                .await?
                .into_iter()
                .map(|(_, k, v)| (k, v))
                .collect()
        };
        self.authz
            .authorize(
                caller,
                action,
                Some(Target {
                    kind: ResourceKind::ScmCert,
                    id: id.as_str(),
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

    /// Checks `action` on a CSR (CSRs carry no project or tags).
    pub(super) async fn authorize_csr(
        &self,
        caller: &Caller,
        action: Action,
        id: Option<&str>,
    ) -> Result<()> {
        self.authz.precheck(caller, action).await?;
        self.authz
            .authorize(
                caller,
                action,
                id.map(|id| Target {
                    kind: ResourceKind::ScmCsr,
                    id,
                    project: None,
                    tags: &[],
                }),
                RequestFacts::default(),
            )
            .await
    }
}

/// A certificate id from the path: malformed ids are unknown ids (404), as
/// the seed's status table has no 400.
/// Parses an SCM certificate id (the HTTP edge does, once); a malformed one
/// is a certificate that does not exist.
pub fn cert_id(text: &str) -> Result<ScmCertId> {
    ScmCertId::parse(text).ok_or_else(not_found_cert)
}

fn not_found_cert() -> Error {
    Error::NotFound("The certificate does not exist.".to_owned())
}

/// `YYYY-MM-DD HH:MM:SS.0` (UTC), the form the cloud shows SCM times in.
pub fn scm_time(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second].0");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// A page size and offset: `limit` in `min..=max` (default 10), `offset` ≥ 0.
fn page(
    limit: Option<i64>,
    offset: Option<i64>,
    min: i64,
    max: i64,
) -> Result<openccm_store::Page> {
    let limit = limit.unwrap_or(10);
    if !(min..=max).contains(&limit) {
        return Err(Error::invalid(format!("limit must be from {min} to {max}")));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(Error::invalid("offset must not be negative"));
    }
    Ok(openccm_store::Page { offset, limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_never_repeat_in_one_process() {
        let ids = IdSequence::default();
        let a = ids.next(1_590_053_258_704).unwrap();
        let b = ids.next(1_590_053_258_704).unwrap();
        let c = ids.next(1_590_053_258_000).unwrap();
        assert_eq!(a.as_str(), "scs1590053258704");
        assert!(b.number() > a.number() && c.number() > b.number());
        ids.skip_after_clash();
        assert!(ids.next(0).unwrap().number() > c.number());
    }

    #[test]
    fn ids_are_unique_across_threads() {
        let ids = Arc::new(IdSequence::default());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let ids = ids.clone();
                std::thread::spawn(move || {
                    (0..1000)
                        .map(|_| ids.next(1_700_000_000_000).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<ScmCertId> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 4000);
    }

    #[test]
    fn times_are_shown_as_the_cloud_shows_them() {
        assert_eq!(scm_time(1_622_102_399_000), "2021-05-27 07:59:59.0");
    }
}
