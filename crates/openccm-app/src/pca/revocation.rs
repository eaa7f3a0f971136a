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
//! - OCSP answers are signed by the CA's key; without a nonce, the answer for
//!   one serial is kept for half its validity.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use der::Decode as _;
use openccm_pki::crl::{CrlBuilder, CrlHeader, CrlKind};
use openccm_pki::ocsp::{self, CertIdHash, IssuerHashes, ParsedRequest, Refusal, Status};
use openccm_pki::{HashAlgorithm, KeyAlgorithm, Signer};
use openccm_store::{CaId, CaRecord, SerialStatus, StoreEvent, StoredCrl};
use x509_cert::name::Name;

use super::Pca;
use crate::error::{Error, Result};

const DAY_MS: i64 = 86_400_000;

/// Revocations read from the store per page while a CRL is built.
const PAGE: i64 = 10_000;

/// OCSP answers kept per CA before the CA's cache is emptied.
const MAX_CACHED_OCSP: usize = 100_000;

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
}

impl OcspAnswer {
    fn new(der: Vec<u8>, validity: Option<(i64, i64)>) -> Self {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(&der);
        Self {
            etag: hex::encode(digest.get(..16).unwrap_or_default()),
            der: Bytes::from(der),
            validity,
        }
    }

    fn refused(refusal: Refusal) -> Self {
        Self::new(refusal.response(), None)
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

#[derive(Default)]
struct Slot {
    /// Grows with every change of the CA: an answer computed from reads
    /// started under an older generation is not kept.
    generation: u64,
    issuer: Option<Arc<Issuer>>,
    ocsp: HashMap<(CertIdHash, Vec<u8>), OcspAnswer>,
    full: Option<Arc<CachedFull>>,
    delta: Option<Arc<CachedDelta>>,
}

/// The per-CA caches, and a lock per CA that orders CRL builds.
#[derive(Default)]
pub(crate) struct RevocationCache {
    slots: Mutex<HashMap<CaId, Slot>>,
    builds: Mutex<HashMap<CaId, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for RevocationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationCache").finish_non_exhaustive()
    }
}

impl RevocationCache {
    fn with_slot<T>(&self, ca: &CaId, f: impl FnOnce(&mut Slot) -> T) -> T {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(slots.entry(ca.clone()).or_default())
    }

    /// Forgets what was cached about `ca` except its full CRL, which stays a
    /// valid base (it is checked against the CA's settings when served).
    pub(crate) fn invalidate(&self, ca: &CaId) {
        self.with_slot(ca, |slot| {
            slot.generation += 1;
            slot.issuer = None;
            slot.ocsp.clear();
            slot.delta = None;
        });
    }

    /// Forgets everything (changes may have been missed).
    fn clear(&self) {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for slot in slots.values_mut() {
            slot.generation += 1;
            slot.issuer = None;
            slot.ocsp.clear();
            slot.delta = None;
            slot.full = None;
        }
    }

    fn build_lock(&self, ca: &CaId) -> Arc<tokio::sync::Mutex<()>> {
        self.builds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(ca.clone())
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

/// What a CRL URL's file name asks for.
enum CrlFile {
    Full,
    Delta,
}

fn not_found() -> Error {
    Error::NotFound("no such CRL".to_owned())
}

impl Pca {
    /// The URL of a CA's delta CRLs (beside its full CRL's).
    fn delta_url(&self, ca: &CaRecord) -> Option<String> {
        self.crl_url(ca)
            .and_then(|url| url.strip_suffix(".crl").map(|u| format!("{u}-delta.crl")))
    }

    /// The CA as an issuer of CRLs and OCSP answers: `None` when it is
    /// unknown, gone, pending, or its key is held outside OpenCCM.
    async fn issuer(&self, ca_id: &CaId) -> Result<Option<(Arc<Issuer>, u64)>> {
        let now = self.now();
        let (cached, generation) = self
            .revocation
            .with_slot(ca_id, |slot| (slot.issuer.clone(), slot.generation));
        if let Some(issuer) = cached {
            // A scheduled deletion takes effect by time alone.
            if issuer.record.delete_time.is_none_or(|t| t > now)
                || issuer.record.status != "DELETED"
            {
                return Ok(Some((issuer, generation)));
            }
            return Ok(None);
        }
        let Some(record) = self.store.issuing_ca(ca_id, now).await? else {
            return Ok(None);
        };
        let (Some(certificate), Some(_)) = (&record.certificate, &record.sealed_key) else {
            return Ok(None);
        };
        let parsed = openccm_pki::cert::parse_der(certificate)?;
        let signer = self.signer(&record)?;
        let key_algorithm = KeyAlgorithm::parse(&record.key_algorithm)?;
        let hash = match &record.signature_algorithm {
            Some(name) => HashAlgorithm::parse(name)?,
            None => key_algorithm.default_hash(),
        };
        let issuer = Arc::new(Issuer {
            name: Name::from_der(&record.subject)
                .map_err(|e| Error::Internal(format!("stored subject: {e}")))?,
            key_identifier: parsed.key_identifier()?,
            hashes: IssuerHashes::new(&record.subject, &record.public_key)?,
            key_hash: ocsp::key_hash(&record.public_key)?,
            key_algorithm,
            hash,
            signer,
            record,
        });
        self.revocation.with_slot(ca_id, |slot| {
            if slot.generation == generation {
                slot.issuer = Some(issuer.clone());
            }
        });
        Ok(Some((issuer, generation)))
    }

    /// `GET /pca/crl/{ca_id}/{file}`: the CA's full CRL at the name its
    /// certificates carry, its delta CRL at that name with `-delta`.
    ///
    /// Fails with `NotFound` for an unknown CA, a CA that does not publish a
    /// CRL, or another name; with `Internal` when no CRL can be built.
    pub async fn published_crl(&self, ca_id: &str, file: &str) -> Result<ServedCrl> {
        let id = CaId::parse(ca_id).ok_or_else(not_found)?;
        let (issuer, _) = self.issuer(&id).await?.ok_or_else(not_found)?;
        if !issuer.record.crl.enabled {
            return Err(not_found());
        }
        let name = issuer
            .record
            .crl
            .crl_name
            .clone()
            .unwrap_or_else(|| id.to_string());
        let kind = match file.strip_suffix(".crl") {
            Some(stem) if stem == name => CrlFile::Full,
            Some(stem) if stem.strip_suffix("-delta") == Some(name.as_str()) => CrlFile::Delta,
            _ => return Err(not_found()),
        };
        match kind {
            CrlFile::Full => Ok(self.full_crl(&issuer).await?.served.clone()),
            CrlFile::Delta => Ok(self.delta_crl(&issuer).await?.served.clone()),
        }
    }

    /// The CA's current full CRL: the cached one while it is fresh, the
    /// stored one if another server built a fresher one, else a new one.
    async fn full_crl(&self, issuer: &Arc<Issuer>) -> Result<Arc<CachedFull>> {
        let id = &issuer.record.ca_id;
        let freshest = self.delta_url(&issuer.record);
        let cached = self.revocation.with_slot(id, |slot| slot.full.clone());
        if let Some(full) = &cached {
            if self.full_is_fresh(full, freshest.as_ref(), id).await? {
                return Ok(full.clone());
            }
        }
        let lock = self.revocation.build_lock(id);
        let _building = lock.lock().await;
        // Someone (this server or another) may have built it meanwhile.
        if let Some(stored) = self.store.full_crl(id, false).await? {
            let known = self
                .revocation
                .with_slot(id, |slot| slot.full.as_ref().map(|f| f.served.number));
            let candidate = if known == Some(stored.crl_number) {
                self.revocation.with_slot(id, |slot| slot.full.clone())
            } else {
                self.store
                    .full_crl(id, true)
                    .await?
                    .map(|crl| Arc::new(cached_full(crl, freshest.clone())))
            };
            if let Some(full) = candidate {
                if self.full_is_fresh(&full, freshest.as_ref(), id).await? {
                    self.revocation
                        .with_slot(id, |slot| slot.full = Some(full.clone()));
                    return Ok(full);
                }
            }
        }
        let full = Arc::new(self.build_full_crl(issuer, freshest).await?);
        self.revocation
            .with_slot(id, |slot| slot.full = Some(full.clone()));
        Ok(full)
    }

    /// Whether a full CRL can still be served as the CA's newest: built for
    /// the CA's current delta URL, within the first half of its validity,
    /// and not older than the refresh interval while revocations followed it
    /// (nor followed by more than the delta limit).
    async fn full_is_fresh(
        &self,
        full: &CachedFull,
        freshest: Option<&String>,
        id: &CaId,
    ) -> Result<bool> {
        let now = self.now();
        let served = &full.served;
        if full.freshest.as_ref() != freshest
            || now >= served.this_update + (served.next_update - served.this_update) / 2
        {
            return Ok(false);
        }
        let counters = self.store.crl_counters(id).await?;
        if counters.revocation_seq == full.revocation_seq {
            return Ok(true);
        }
        if now >= served.this_update + self.settings.revocation.full_crl_refresh_ms {
            return Ok(false);
        }
        let since = self
            .store
            .count_revocations(id, full.revocation_seq, counters.revocation_seq)
            .await?;
        Ok(since < self.settings.revocation.delta_limit)
    }

    /// Builds, signs and stores a full CRL of every unexpired revocation.
    async fn build_full_crl(
        &self,
        issuer: &Arc<Issuer>,
        freshest: Option<String>,
    ) -> Result<CachedFull> {
        let id = &issuer.record.ca_id;
        let valid_days = issuer.record.crl.valid_days.unwrap_or(7).clamp(1, 30);
        let this_update = openccm_pki::time::truncate_to_seconds(self.now());
        let next_update = this_update + valid_days * DAY_MS;
        let counters = self.store.next_crl_number(id).await?;
        let (der, _) = self
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
        let stored = StoredCrl {
            crl_number: counters.crl_number,
            revocation_seq: counters.revocation_seq,
            this_update,
            next_update,
            der,
        };
        self.store.save_full_crl(id, &stored).await?;
        tracing::info!(ca_id = %id, crl_number = stored.crl_number, bytes = stored.der.len(), "built a full CRL");
        Ok(cached_full(stored, freshest))
    }

    /// The CA's delta CRL against its current full CRL: the cached one
    /// until the CA changes, else a new one.
    async fn delta_crl(&self, issuer: &Arc<Issuer>) -> Result<Arc<CachedDelta>> {
        let id = &issuer.record.ca_id;
        let full = self.full_crl(issuer).await?;
        let now = self.now();
        let generation = self.revocation.with_slot(id, |slot| {
            let fresh = slot.delta.as_ref().filter(|d| {
                d.base == full.served.number && now < d.served.next_update - d.lifetime_margin()
            });
            fresh.cloned().ok_or(slot.generation)
        });
        let generation = match generation {
            Ok(delta) => return Ok(delta),
            Err(generation) => generation,
        };
        let this_update = openccm_pki::time::truncate_to_seconds(now);
        let next_update =
            (this_update + self.settings.revocation.delta_validity_ms).min(full.served.next_update);
        let counters = self.store.next_crl_number(id).await?;
        let (der, entries) = self
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
        self.revocation.with_slot(id, |slot| {
            if slot.generation == generation {
                slot.delta = Some(delta.clone());
            }
        });
        if i64::try_from(entries).unwrap_or(i64::MAX) >= self.settings.revocation.delta_limit {
            // The next request rebuilds the full CRL (full_is_fresh counts
            // the entries since it); this one still gets a complete answer.
            tracing::info!(ca_id = %id, entries, "the delta CRL reached its limit");
        }
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
                builder.push(&serial, entry.revoked_at, &entry.reason)?;
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

    /// The OCSP responder of a CA (`POST /pca/ocsp/{ca_id}`, and GET with
    /// the request in the path). Never fails: every failure is an OCSP
    /// refusal (malformedRequest, unauthorized, internalError).
    pub async fn ocsp(&self, ca_id: &str, request: &[u8]) -> OcspAnswer {
        match self.answer_ocsp(ca_id, request).await {
            Ok(answer) => answer,
            Err(err) => {
                tracing::error!(error = %err, ca_id, "OCSP answer failed");
                OcspAnswer::refused(Refusal::Internal)
            }
        }
    }

    async fn answer_ocsp(&self, ca_id: &str, request: &[u8]) -> Result<OcspAnswer> {
        let parsed = match ocsp::parse_request(request) {
            Ok(parsed) => parsed,
            Err(refusal) => return Ok(OcspAnswer::refused(refusal)),
        };
        let Some(id) = CaId::parse(ca_id) else {
            return Ok(OcspAnswer::refused(Refusal::Unauthorized));
        };
        let Some((issuer, generation)) = self.issuer(&id).await? else {
            return Ok(OcspAnswer::refused(Refusal::Unauthorized));
        };
        if !issuer.record.ocsp_enabled
            || !parsed
                .questions
                .iter()
                .all(|q| issuer.hashes.asks_about_me(q))
        {
            return Ok(OcspAnswer::refused(Refusal::Unauthorized));
        }
        let now = self.now();
        let key = cache_key(&parsed);
        if let Some(key) = &key {
            let cached = self.revocation.with_slot(&id, |slot| {
                (slot.generation == generation)
                    .then(|| slot.ocsp.get(key).cloned())
                    .flatten()
            });
            let validity = self.settings.revocation.ocsp_validity_ms;
            if let Some(answer) = cached.filter(|a| {
                a.validity
                    .is_some_and(|(this_update, _)| now < this_update + validity / 2)
            }) {
                return Ok(answer);
            }
        }
        let mut statuses = Vec::with_capacity(parsed.questions.len());
        for question in &parsed.questions {
            statuses.push(
                match self
                    .store
                    .serial_status(&id, &question.serial_hex())
                    .await?
                {
                    SerialStatus::Good => Status::Good,
                    SerialStatus::Unknown => Status::Unknown,
                    SerialStatus::Revoked { revoked_at, reason } => Status::Revoked {
                        at: revoked_at,
                        reason: openccm_pki::crl::reason_code(&reason),
                    },
                },
            );
        }
        let this_update = openccm_pki::time::truncate_to_seconds(now);
        let next_update = this_update + self.settings.revocation.ocsp_validity_ms;
        let signing = issuer.clone();
        let der = self
            .pools
            .signing
            .run(move || {
                let answers: Vec<ocsp::Answer<'_>> = parsed
                    .questions
                    .iter()
                    .zip(statuses)
                    .map(|(q, status)| ocsp::Answer {
                        cert_id: &q.cert_id,
                        status,
                    })
                    .collect();
                ocsp::sign_response(
                    &ocsp::Responder {
                        key_algorithm: signing.key_algorithm,
                        hash: signing.hash,
                        key_hash: &signing.key_hash,
                    },
                    &answers,
                    this_update,
                    next_update,
                    parsed.nonce.as_ref(),
                    signing.signer.as_ref(),
                )
            })
            .await??;
        let answer = OcspAnswer::new(der, Some((this_update, next_update)));
        if let Some(key) = key {
            self.revocation.with_slot(&id, |slot| {
                if slot.generation == generation {
                    if slot.ocsp.len() >= MAX_CACHED_OCSP {
                        slot.ocsp.clear();
                    }
                    slot.ocsp.insert(key, answer.clone());
                }
            });
        }
        Ok(answer)
    }

    /// Every CA that publishes a CRL: (CA id, CRL name).
    pub async fn crl_publishers(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .store
            .crl_issuing_cas()
            .await?
            .into_iter()
            .map(|ca| {
                let name = ca
                    .crl
                    .crl_name
                    .clone()
                    .unwrap_or_else(|| ca.ca_id.to_string());
                (ca.ca_id.to_string(), name)
            })
            .collect())
    }

    /// Checks that every CRL-publishing CA serves every unexpired revoked
    /// serial exactly once (its full and delta CRL together, as a relying
    /// party combines them) and nothing that was never revoked: the
    /// expected set is rebuilt from the store. Returns one line per CA; fails
    /// with `Internal` naming the first CA whose CRLs are wrong.
    pub async fn check_crls(&self) -> Result<Vec<String>> {
        let mut report = Vec::new();
        for record in self.store.crl_issuing_cas().await? {
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
        let full = self
            .published_crl(id.as_str(), &format!("{name}.crl"))
            .await?;
        let delta = self
            .published_crl(id.as_str(), &format!("{name}-delta.crl"))
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
        let mut revoked = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .revocations(id, after, i64::MAX, i64::MIN, PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            revoked.extend(page);
        }
        let unexpired: Vec<&str> = revoked
            .iter()
            .filter(|e| e.not_after >= delta.this_update)
            .map(|e| e.serial.as_str())
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
        let mut ever: Vec<&str> = revoked.iter().map(|e| e.serial.as_str()).collect();
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

impl CachedDelta {
    /// A delta is rebuilt shortly before its nextUpdate, never served after.
    fn lifetime_margin(&self) -> i64 {
        (self.served.next_update - self.served.this_update) / 10
    }
}

fn cached_full(crl: StoredCrl, freshest: Option<String>) -> CachedFull {
    CachedFull {
        served: ServedCrl {
            der: Bytes::from(crl.der),
            number: crl.crl_number,
            this_update: crl.this_update,
            next_update: crl.next_update,
            delta: false,
        },
        revocation_seq: crl.revocation_seq,
        freshest,
    }
}

/// Requests for one certificate without a nonce share one cached answer.
fn cache_key(parsed: &ParsedRequest) -> Option<(CertIdHash, Vec<u8>)> {
    match (parsed.questions.as_slice(), &parsed.nonce) {
        ([question], None) => question
            .hash
            .map(|hash| (hash, question.cert_id.serial_number.as_bytes().to_vec())),
        _ => None,
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
