//! Revocation as relying parties see it: CRLs (full and delta) and the OCSP
//! responder, at the URLs the certificates carry. No credentials: relying
//! parties name a CA by id, and what they learn is public by design.
//!
//! What is served comes from the store ([`openccm_store::RevocationStore`])
//! and is cached here per CA. A cached answer lives until the CA changes: a
//! revocation under it, its settings or its status. This server forgets at
//! once, before the revoke answers; the others when the store's feed tells
//! them (PostgreSQL `NOTIFY`, milliseconds). Answers computed while a change
//! was committing carry the CA's generation from before it and are not kept
//! (see [`Slot::generation`]).
//!
//! - Full CRLs are built by streaming the CA's revocations, stored for every
//!   server, and rebuilt on a schedule ([`RevocationSettings::full_crl_refresh_ms`]),
//!   when half their validity has passed, or when the delta grows past
//!   [`RevocationSettings::delta_limit`] entries — never once per revoke.
//! - Delta CRLs list what was revoked since the newest full CRL; one is
//!   built (by whichever server is asked) after every change.
//! - A CRL lists an entry while the certificate is unexpired at its
//!   thisUpdate; an expired certificate leaves with the next CRL.
//! - OCSP answers are signed by the CA's key; an answer to one question
//!   without a nonce is kept, under the request's exact bytes, for half its
//!   validity (`unknown` answers are not kept: anyone can ask about any
//!   serial).
//! - Caches exist only for CAs that exist: an unknown id costs a read, never
//!   memory.
//!
//! Here: the caches and the CRLs. The OCSP responder is `responder.rs`;
//! which CAs publish and `admin crl check` are `check.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use der::Decode as _;
use openccm_pki::crl::{CrlBuilder, CrlHeader, CrlKind};
use openccm_pki::ocsp::{IssuerHashes, Refusal, Status};
use openccm_pki::{HashAlgorithm, KeyAlgorithm, Signer};
use openccm_store::{CaId, CaRecord, SerialStatus, StoreEvent, StoredCrl};
use x509_cert::name::Name;

use super::{crl_name, Pca};

mod check;
mod responder;
use crate::error::{Error, Result};

const DAY_MS: i64 = 86_400_000;

/// Revocations read from the store per page while a CRL is built.
const PAGE: i64 = 10_000;

/// OCSP answers kept, over every CA: about 1 KB each with its key. Past it,
/// answers are still given, just not kept.
const MAX_CACHED_OCSP: usize = 100_000;

/// Largest OCSP request kept as a cache key.
const MAX_CACHED_REQUEST: usize = 512;

/// Settings of the CRL and OCSP publication.
#[derive(Debug, Clone)]
pub struct RevocationSettings {
    /// A full CRL with revocations after it is rebuilt once it is this old.
    pub full_crl_refresh_ms: i64,
    /// A delta CRL with this many entries makes the next request rebuild
    /// the full CRL.
    pub delta_limit: i64,
    /// How long an OCSP answer is valid (its nextUpdate).
    pub ocsp_validity_ms: i64,
    /// How long a delta CRL is valid at most (its nextUpdate), within its
    /// base's validity.
    pub delta_validity_ms: i64,
}

impl Default for RevocationSettings {
    fn default() -> Self {
        Self {
            full_crl_refresh_ms: 3_600_000,
            delta_limit: 1_000,
            ocsp_validity_ms: 3_600_000,
            delta_validity_ms: DAY_MS,
        }
    }
}

/// A CRL as served.
#[derive(Debug, Clone)]
pub struct ServedCrl {
    /// DER.
    pub der: Bytes,
    /// Its CRL number (unique per CA across servers: the `ETag`).
    pub number: i64,
    /// thisUpdate, epoch ms.
    pub this_update: i64,
    /// nextUpdate, epoch ms.
    pub next_update: i64,
    /// Whether it is a delta CRL.
    pub delta: bool,
}

/// An OCSP answer as served.
#[derive(Debug, Clone)]
pub struct OcspAnswer {
    /// The OCSPResponse DER.
    pub der: Bytes,
    /// thisUpdate and nextUpdate of a successful answer (epoch ms): what a
    /// cache may rely on. `None` for a refusal.
    pub validity: Option<(i64, i64)>,
    /// A tag of the content (hex of its SHA-256's first 16 bytes): two
    /// answers within one second differ in content, not in thisUpdate.
    pub etag: String,
    /// Whether any client asking the same may be given this answer (one
    /// question, no nonce): what HTTP caches may keep.
    pub shared: bool,
}

impl OcspAnswer {
    fn new(der: Vec<u8>, validity: Option<(i64, i64)>, shared: bool) -> Self {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(&der);
        Self {
            etag: hex::encode(digest.get(..16).unwrap_or_default()),
            der: Bytes::from(der),
            validity,
            shared,
        }
    }

    fn refused(refusal: Refusal) -> Self {
        Self::new(refusal.response(), None, false)
    }

    /// The answer to a request that is not one (malformedRequest).
    pub fn malformed() -> Self {
        Self::refused(Refusal::Malformed)
    }
}

/// What answering for a CA needs, read from its record once per change.
struct Issuer {
    record: CaRecord,
    name: Name,
    key_identifier: Vec<u8>,
    hashes: IssuerHashes,
    key_hash: [u8; 20],
    key_algorithm: KeyAlgorithm,
    hash: HashAlgorithm,
    signer: Arc<dyn Signer>,
}

impl Issuer {
    /// A CA scheduled for deletion is gone once its time has come.
    fn is_gone(&self, now: i64) -> bool {
        self.record.status == openccm_store::CaState::Deleted
            && self.record.delete_time.is_some_and(|t| t <= now)
    }
}

/// A cached full CRL with what it was built as.
struct CachedFull {
    served: ServedCrl,
    revocation_seq: i64,
    freshest: Option<String>,
}

/// A cached delta CRL with its base.
struct CachedDelta {
    served: ServedCrl,
    base: i64,
}

impl CachedDelta {
    /// A delta is rebuilt shortly before its nextUpdate, never served after.
    fn is_current(&self, base: i64, now: i64) -> bool {
        let margin = (self.served.next_update - self.served.this_update) / 10;
        self.base == base && now < self.served.next_update - margin
    }
}

/// When a cached value was read: a value read under another stamp than the
/// slot's when it is stored is not stored (the CA changed meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    /// Grows when everything is forgotten.
    epoch: u64,
    /// Grows with every change of the CA.
    generation: u64,
}

#[derive(Default)]
struct Slot {
    generation: u64,
    issuer: Option<Arc<Issuer>>,
    /// By the exact request bytes (one question, no nonce).
    ocsp: HashMap<Vec<u8>, OcspAnswer>,
    full: Option<Arc<CachedFull>>,
    delta: Option<Arc<CachedDelta>>,
}

impl Slot {
    /// Forgets what may show the CA as it was; the full CRL stays a valid
    /// base unless `everything` (it is checked against the CA's settings
    /// when served).
    /// Returns how many OCSP answers it dropped.
    fn forget(&mut self, everything: bool) -> usize {
        self.generation += 1;
        self.issuer = None;
        let dropped = self.ocsp.len();
        self.ocsp.clear();
        self.delta = None;
        if everything {
            self.full = None;
        }
        dropped
    }
}

/// Which CRL a build lock orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Build {
    Full,
    Delta,
}

/// The per-CA caches, and per-CA locks that make CRL builds single-flight.
#[derive(Default)]
pub(crate) struct RevocationCache {
    epoch: std::sync::atomic::AtomicU64,
    /// OCSP answers kept, over every slot.
    ocsp_entries: std::sync::atomic::AtomicUsize,
    slots: Mutex<HashMap<CaId, Slot>>,
    builds: Mutex<HashMap<(CaId, Build), BuildLock>>,
}

/// Held while a CA's CRL of one kind is built.
type BuildLock = Arc<tokio::sync::Mutex<()>>;

impl std::fmt::Debug for RevocationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationCache").finish_non_exhaustive()
    }
}

impl RevocationCache {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<CaId, Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Reads from a CA's slot without creating one.
    fn peek<T>(&self, ca: &CaId, f: impl FnOnce(Option<&Slot>) -> T) -> T {
        f(self.slots().get(ca))
    }

    /// The stamp to read under.
    fn stamp(&self, ca: &CaId) -> Stamp {
        // The epoch first: a clear() between the two reads then shows.
        let epoch = self.epoch();
        Stamp {
            epoch,
            generation: self.peek(ca, |slot| slot.map_or(0, |s| s.generation)),
        }
    }

    /// Stores into a CA's slot (created for a CA that exists) if nothing
    /// changed since `stamp`.
    fn store_if(&self, ca: &CaId, stamp: Stamp, f: impl FnOnce(&mut Slot)) {
        let mut slots = self.slots();
        if self.epoch() != stamp.epoch {
            return;
        }
        let slot = slots.entry(ca.clone()).or_default();
        if slot.generation == stamp.generation {
            f(slot);
        }
    }

    /// Forgets what was cached about `ca` but its full CRL. The slot is
    /// created if missing: a first answer for the CA whose reads began before
    /// this change (its stamp saw no slot, generation 0) must find the
    /// generation moved and not be kept. Only changes of CAs that exist
    /// come here.
    pub(crate) fn invalidate(&self, ca: &CaId) {
        let dropped = self.slots().entry(ca.clone()).or_default().forget(false);
        self.ocsp_entries
            .fetch_sub(dropped, std::sync::atomic::Ordering::SeqCst);
    }

    /// Forgets everything (changes may have been missed).
    fn clear(&self) {
        let mut slots = self.slots();
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        for slot in slots.values_mut() {
            let dropped = slot.forget(true);
            self.ocsp_entries
                .fetch_sub(dropped, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn build_lock(&self, ca: &CaId, build: Build) -> BuildLock {
        self.builds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((ca.clone(), build))
            .or_default()
            .clone()
    }

    /// Applies the store's feed until the store closes it.
    pub(crate) async fn follow(
        self: Arc<Self>,
        mut events: tokio::sync::broadcast::Receiver<StoreEvent>,
    ) {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(StoreEvent::CaChanged(ca)) => self.invalidate(&ca),
                Ok(StoreEvent::Resync) | Err(RecvError::Lagged(_)) => self.clear(),
                Err(RecvError::Closed) => return,
            }
        }
    }
}

fn not_found() -> Error {
    Error::NotFound("no such CRL".to_owned())
}

/// Whether a full CRL can still be served as the CA's newest.
enum Freshness {
    Fresh,
    /// Due for a rebuild, but still valid meanwhile.
    Stale,
    /// Built for another delta URL, or expired: never served.
    Unusable,
}

impl Pca {
    /// The URL of a CA's delta CRLs (beside its full CRL's).
    fn delta_url(&self, ca: &CaRecord) -> Option<String> {
        self.crl_url(ca)
            .and_then(|url| url.strip_suffix(".crl").map(|u| format!("{u}-delta.crl")))
    }

    /// The CA as an issuer of CRLs and OCSP answers: `None` when it is
    /// unknown, gone, pending, or its key is held outside OpenCCM.
    async fn issuer(&self, ca_id: &CaId) -> Result<Option<Arc<Issuer>>> {
        let now = self.now();
        let stamp = self.revocation.stamp(ca_id);
        if let Some(issuer) = self
            .revocation
            .peek(ca_id, |slot| slot.and_then(|s| s.issuer.clone()))
        {
            return Ok((!issuer.is_gone(now)).then_some(issuer));
        }
        let Some(record) = self.store.issuing_ca(ca_id, now).await? else {
            return Ok(None);
        };
        let (Some(certificate), Some(_)) = (&record.certificate, &record.sealed_key) else {
            return Ok(None);
        };
        let parsed = openccm_pki::cert::parse_der(certificate)?;
        let signer = self.signer(&record).await?;
        let key_algorithm = record.key_algorithm;
        let hash = record
            .signature_algorithm
            .unwrap_or_else(|| key_algorithm.default_hash());
        let hashes = IssuerHashes::new(&record.subject, &record.public_key)?;
        let issuer = Arc::new(Issuer {
            name: Name::from_der(&record.subject)
                .map_err(|e| Error::Internal(format!("stored subject: {e}")))?,
            key_identifier: parsed.key_identifier()?,
            key_hash: hashes.sha1_key(),
            hashes,
            key_algorithm,
            hash,
            signer,
            record,
        });
        self.revocation
            .store_if(ca_id, stamp, |slot| slot.issuer = Some(issuer.clone()));
        Ok(Some(issuer))
    }

    /// `GET /pca/crl/{ca_id}/{file}`: the CA's full CRL at the name its
    /// certificates carry, its delta CRL at that name with `-delta`.
    ///
    /// Fails with `NotFound` for an unknown CA, a CA that does not publish a
    /// CRL, or another name; with `Internal` when no CRL can be built.
    /// `ca_id` is `None` when the path names no CA id at all.
    pub async fn published_crl(&self, ca_id: Option<&CaId>, file: &str) -> Result<ServedCrl> {
        let id = ca_id.ok_or_else(not_found)?;
        let issuer = self.issuer(id).await?.ok_or_else(not_found)?;
        if !issuer.record.crl.enabled {
            return Err(not_found());
        }
        let name = crl_name(&issuer.record);
        let served = match file.strip_suffix(".crl") {
            Some(stem) if stem == name => self.full_crl(&issuer).await?.served.clone(),
            Some(stem) if stem.strip_suffix("-delta") == Some(name.as_str()) => {
                self.delta_crl(&issuer).await?.served.clone()
            }
            _ => return Err(not_found()),
        };
        crate::metrics::crl_served(
            id.as_str(),
            if served.delta { "delta" } else { "full" },
            served.this_update,
        );
        Ok(served)
    }

    /// The CA's current full CRL. A fresh cached one is served as it is; a
    /// stale one while a single background task replaces it (a large CA's
    /// rebuild takes seconds, and its deltas keep being served meanwhile);
    /// without a usable one, the caller waits for the build.
    async fn full_crl(&self, issuer: &Arc<Issuer>) -> Result<Arc<CachedFull>> {
        let id = &issuer.record.ca_id;
        let cached = self
            .revocation
            .peek(id, |slot| slot.and_then(|s| s.full.clone()));
        if let Some(full) = cached {
            match self.freshness(&full, issuer).await? {
                Freshness::Fresh => return Ok(full),
                Freshness::Stale => {
                    if let Ok(guard) = self.revocation.build_lock(id, Build::Full).try_lock_owned()
                    {
                        let (this, issuer) = (self.clone(), issuer.clone());
                        tokio::spawn(async move {
                            let _building = guard;
                            if let Err(err) = this.refresh_full(&issuer).await {
                                tracing::error!(error = %err, ca_id = %issuer.record.ca_id, "cannot rebuild a full CRL");
                            }
                        });
                    }
                    return Ok(full);
                }
                Freshness::Unusable => {}
            }
        }
        let lock = self.revocation.build_lock(id, Build::Full);
        let _building = lock.lock().await;
        self.refresh_full(issuer).await
    }

    /// With the CA's full-CRL build lock held: the newest usable full CRL —
    /// cached, stored by any server, or built now — cached for next time.
    async fn refresh_full(&self, issuer: &Arc<Issuer>) -> Result<Arc<CachedFull>> {
        let id = &issuer.record.ca_id;
        let stamp = self.revocation.stamp(id);
        let cached = self
            .revocation
            .peek(id, |slot| slot.and_then(|s| s.full.clone()));
        let mut candidate = cached.clone();
        // Another task or server may have built a newer one meanwhile.
        if let Some(stored) = self.store.full_crl(id, false).await? {
            if cached
                .as_ref()
                .is_none_or(|c| c.served.number < stored.crl_number)
            {
                candidate = self
                    .store
                    .full_crl(id, true)
                    .await?
                    .map(|crl| Arc::new(cached_full(crl)));
            }
        }
        let full = match candidate {
            Some(full) if matches!(self.freshness(&full, issuer).await?, Freshness::Fresh) => full,
            _ => Arc::new(self.build_full_crl(issuer).await?),
        };
        self.revocation.store_if(id, stamp, |slot| {
            if slot
                .full
                .as_ref()
                .is_none_or(|f| f.served.number < full.served.number)
            {
                slot.full = Some(full.clone());
            }
        });
        Ok(full)
    }

    /// Whether a full CRL can be served as the CA's newest: built for the
    /// CA's current delta URL and unexpired; fresh within the first half of
    /// its validity, unless revocations followed it for longer than the
    /// refresh interval or past the delta limit.
    async fn freshness(&self, full: &CachedFull, issuer: &Issuer) -> Result<Freshness> {
        let now = self.now();
        let served = &full.served;
        if full.freshest != self.delta_url(&issuer.record) || now >= served.next_update {
            return Ok(Freshness::Unusable);
        }
        if now >= served.this_update + (served.next_update - served.this_update) / 2 {
            return Ok(Freshness::Stale);
        }
        let id = &issuer.record.ca_id;
        let counters = self.store.crl_counters(id).await?;
        if counters.revocation_seq == full.revocation_seq {
            return Ok(Freshness::Fresh);
        }
        if now >= served.this_update + self.settings.revocation.full_crl_refresh_ms {
            return Ok(Freshness::Stale);
        }
        let since = self
            .store
            .count_revocations(id, full.revocation_seq, counters.revocation_seq)
            .await?;
        Ok(if since < self.settings.revocation.delta_limit {
            Freshness::Fresh
        } else {
            Freshness::Stale
        })
    }

    /// Builds, signs and stores a full CRL of every unexpired revocation;
    /// when another server stored a newer one meanwhile, that one.
    async fn build_full_crl(&self, issuer: &Arc<Issuer>) -> Result<CachedFull> {
        let id = &issuer.record.ca_id;
        let freshest = self.delta_url(&issuer.record);
        let valid_days = issuer.record.crl.valid_days.unwrap_or(7).clamp(1, 30);
        let this_update = openccm_pki::time::truncate_to_seconds(self.now());
        let next_update = this_update + valid_days * DAY_MS;
        let counters = self.store.next_crl_number(id).await?;
        let (der, entries) = self
            .stream_crl(
                issuer,
                counters.crl_number,
                CrlKind::Full {
                    freshest: freshest.clone(),
                },
                0,
                counters.revocation_seq,
                this_update,
                next_update,
            )
            .await?;
        let (stored, crl) = self
            .store
            .save_full_crl(
                id,
                StoredCrl {
                    crl_number: counters.crl_number,
                    revocation_seq: counters.revocation_seq,
                    this_update,
                    next_update,
                    der,
                    freshest_url: freshest,
                },
            )
            .await?;
        if !stored {
            if let Some(newer) = self.store.full_crl(id, true).await? {
                return Ok(cached_full(newer));
            }
        }
        tracing::info!(ca_id = %id, crl_number = crl.crl_number, entries, bytes = crl.der.len(), "built a full CRL");
        Ok(cached_full(crl))
    }

    /// The CA's delta CRL against its current full CRL: the cached one
    /// until the CA changes, else one built now (one build at a time per CA;
    /// who waited for it takes it).
    async fn delta_crl(&self, issuer: &Arc<Issuer>) -> Result<Arc<CachedDelta>> {
        let id = &issuer.record.ca_id;
        let full = self.full_crl(issuer).await?;
        let current = || {
            let now = self.now();
            self.revocation.peek(id, |slot| {
                slot.and_then(|s| s.delta.clone())
                    .filter(|d| d.is_current(full.served.number, now))
            })
        };
        if let Some(delta) = current() {
            return Ok(delta);
        }
        let lock = self.revocation.build_lock(id, Build::Delta);
        let _building = lock.lock().await;
        if let Some(delta) = current() {
            return Ok(delta);
        }
        let stamp = self.revocation.stamp(id);
        let this_update = openccm_pki::time::truncate_to_seconds(self.now());
        let next_update =
            (this_update + self.settings.revocation.delta_validity_ms).min(full.served.next_update);
        let counters = self.store.next_crl_number(id).await?;
        let (der, _) = self
            .stream_crl(
                issuer,
                counters.crl_number,
                CrlKind::Delta {
                    base: u64::try_from(full.served.number).unwrap_or_default(),
                },
                full.revocation_seq,
                counters.revocation_seq,
                this_update,
                next_update,
            )
            .await?;
        let delta = Arc::new(CachedDelta {
            served: ServedCrl {
                der: Bytes::from(der),
                number: counters.crl_number,
                this_update,
                next_update,
                delta: true,
            },
            base: full.served.number,
        });
        self.revocation
            .store_if(id, stamp, |slot| slot.delta = Some(delta.clone()));
        Ok(delta)
    }

    /// Streams the CA's revocations with a seq in `(after_seq, up_to_seq]`
    /// that are unexpired at `this_update` into a CRL and signs it on the
    /// signing pool. Returns the DER and the number of entries.
    #[allow(clippy::too_many_arguments)]
    async fn stream_crl(
        &self,
        issuer: &Arc<Issuer>,
        number: i64,
        kind: CrlKind,
        after_seq: i64,
        up_to_seq: i64,
        this_update: i64,
        next_update: i64,
    ) -> Result<(Vec<u8>, u64)> {
        let mut builder = CrlBuilder::new(CrlHeader {
            issuer: issuer.name.clone(),
            key_identifier: issuer.key_identifier.clone(),
            key_algorithm: issuer.key_algorithm,
            hash: issuer.hash,
            number: u64::try_from(number).unwrap_or_default(),
            this_update,
            next_update,
            kind,
        })?;
        // Sized once: a large CRL's buffer never doubles (and copies) on
        // the way.
        let expected = self
            .store
            .count_revocations(&issuer.record.ca_id, after_seq, up_to_seq)
            .await?;
        builder.reserve(usize::try_from(expected).unwrap_or_default());
        let mut after = after_seq;
        loop {
            let page = self
                .store
                .revocations(&issuer.record.ca_id, after, up_to_seq, this_update, PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let full_page = page.len() == usize::try_from(PAGE).unwrap_or(usize::MAX);
            for entry in &page {
                let serial = hex::decode(&entry.serial)
                    .map_err(|_| Error::Internal(format!("stored serial {}", entry.serial)))?;
                builder.push(&serial, entry.revoked_at, entry.reason.crl_code())?;
            }
            if !full_page {
                break;
            }
        }
        let unsigned = builder.finish()?;
        let entries = unsigned.len();
        let signer = issuer.signer.clone();
        let der = self
            .pools
            .signing
            .run(move || unsigned.sign(signer.as_ref()))
            .await??;
        Ok((der, entries))
    }
}

fn cached_full(crl: StoredCrl) -> CachedFull {
    CachedFull {
        served: ServedCrl {
            der: Bytes::from(crl.der),
            number: crl.crl_number,
            this_update: crl.this_update,
            next_update: crl.next_update,
            delta: false,
        },
        revocation_seq: crl.revocation_seq,
        freshest: crl.freshest_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca() -> CaId {
        CaId::from_random([1; 16])
    }

    fn remember(cache: &RevocationCache, stamp: Stamp) {
        cache.store_if(&ca(), stamp, |slot| {
            slot.ocsp
                .insert(vec![1], OcspAnswer::refused(Refusal::Unauthorized));
        });
    }

    fn remembered(cache: &RevocationCache) -> bool {
        cache.peek(&ca(), |slot| slot.is_some_and(|s| !s.ocsp.is_empty()))
    }

    #[test]
    fn an_answer_read_before_a_change_is_not_kept() {
        // Nothing cached yet for the CA: the first answer's reads begin, the
        // CA changes, then the answer comes back.
        let cache = RevocationCache::default();
        let stamp = cache.stamp(&ca());
        cache.invalidate(&ca());
        remember(&cache, stamp);
        assert!(!remembered(&cache));

        // The same with a slot in place, and across a Resync.
        let stamp = cache.stamp(&ca());
        cache.invalidate(&ca());
        remember(&cache, stamp);
        assert!(!remembered(&cache));
        let stamp = cache.stamp(&ca());
        cache.clear();
        remember(&cache, stamp);
        assert!(!remembered(&cache));

        // Without a change in between it is kept, until the next change.
        let stamp = cache.stamp(&ca());
        remember(&cache, stamp);
        assert!(remembered(&cache));
        cache.invalidate(&ca());
        assert!(!remembered(&cache));
    }

    #[test]
    fn unknown_cas_leave_no_slot_behind() {
        let cache = RevocationCache::default();
        let _ = cache.stamp(&ca());
        assert!(cache.peek(&ca(), |slot| slot.is_none()));
        assert!(cache.slots().is_empty());
    }
}
