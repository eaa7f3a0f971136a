//! The issuance pipeline, in one place: lint → intent → sign → complete.
//!
//! Every certificate the PCA issues passes here once its request was
//! checked and authorised ([`super::certificate`] for end entities,
//! [`super::ca`] for CA certificates):
//!
//! 1. **Lint.** Each TBS is built and linted (`openccm-pki`'s profile); only
//!    a linted TBS can be signed.
//! 2. **Intent.** An end entity's row is inserted as `PENDING`, its serials
//!    reserved under a unique constraint and the digests of the linted TBSs
//!    recorded, before anything is signed.
//! 3. **Sign.** On the signing pool, through custody's signer; a CSR's
//!    signature is checked there too.
//! 4. **Complete.** The signed certificates are stored in a durable commit;
//!    a failure after the intent fails it (its serials are never used, its
//!    quota is returned), and a crash leaves a `PENDING` row that startup
//!    marks `FAILED`: never a certificate without a record, never a reused
//!    serial.
//!
//! How the work is spread over threads (the store's writer, the runtime,
//! the signing pool) is this module's business alone: see [`Pca::issue_end_entity`].

use std::sync::Arc;

use openccm_pki::csr::UnverifiedCsr;
use openccm_pki::profile::{self, IssuerInfo, LintedTbs, TbsRequest};
use openccm_pki::Signer;
use openccm_store::{CaId, CertRecord, InsertOutcome, SerialReservation, Store, StoreResult};

use super::Pca;
use crate::error::{Error, Result};
use crate::pool;

/// An end-entity issuance whose request was checked and authorised.
pub(super) struct Order {
    /// The issuing CA.
    pub issuer_id: CaId,
    /// What the profile needs of it.
    pub issuer: Arc<IssuerInfo>,
    /// Its key.
    pub signer: Arc<dyn Signer>,
    /// The certificate.
    pub certificate: TbsRequest,
    /// An SM2 dual issuance's encryption certificate.
    pub encryption: Option<TbsRequest>,
    /// The row to record: everything but the serials, digests and
    /// certificates, which the pipeline fills in.
    pub record: CertRecord,
    /// The account's certificate quota.
    pub quota: i64,
    /// A customer's CSR, its signature not checked yet (it is on the
    /// signing pool, alongside the intent's commit).
    pub csr: Option<UnverifiedCsr>,
}

/// The completion of an issuance, queued for the store: `true` once durable,
/// `false` if reconciliation failed the intent first.
type Completion =
    pool::Driven<std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<bool>> + Send>>>;

/// What the signing task of an issuance holds.
struct SigningWork {
    store: Arc<dyn Store>,
    signer: Arc<dyn Signer>,
    linted: LintedTbs,
    enc: Option<LintedTbs>,
}

impl SigningWork {
    /// On a signing thread: checks the CSR's signature (if any), waits for
    /// the intent, signs, and queues the completion (returned, to be awaited
    /// by the request). A failure after the intent is recorded fails the
    /// intent.
    async fn run(
        self,
        csr: Option<UnverifiedCsr>,
        intent: impl std::future::Future<Output = Result<StoreResult<InsertOutcome>>>,
        mut record: CertRecord,
    ) -> Result<Completion> {
        let verified = csr.map(UnverifiedCsr::verify).transpose();
        match intent.await?? {
            InsertOutcome::Inserted => {}
            InsertOutcome::QuotaExceeded => {
                return Err(Error::QuotaExceeded(
                    "The certificate quota is used up.".to_owned(),
                ))
            }
            InsertOutcome::SerialTaken => {
                return Err(Error::Internal("serial number collision; retry".to_owned()))
            }
        }
        let Self {
            store,
            signer,
            linted,
            enc,
        } = self;
        let signed = verified.and_then(|_| {
            let main = linted.sign(signer.as_ref())?;
            let enc = enc.map(|l| l.sign(signer.as_ref())).transpose()?;
            Ok((main, enc))
        });
        match signed {
            Ok((main, enc)) => {
                record.certificate = Some(main.der);
                record.enc_certificate = enc.map(|e| e.der);
                let unpolled = store.writes_run_unpolled();
                Ok(pool::drive(
                    Box::pin(async move { store.complete_certificate(&record).await }),
                    unpolled,
                ))
            }
            Err(e) => {
                store.fail_certificate(&record).await?;
                Err(e.into())
            }
        }
    }
}

impl Pca {
    /// Issues an end-entity certificate (and an SM2 encryption certificate
    /// with it): lint, record the intent, sign, complete. Answers once the
    /// completion is durable.
    pub(super) async fn issue_end_entity(&self, order: Order) -> Result<()> {
        let Order {
            issuer_id,
            issuer,
            signer,
            certificate,
            encryption,
            mut record,
            quota,
            csr,
        } = order;
        let linted = profile::build(&issuer, &certificate)?;
        let enc = encryption
            .map(|request| profile::build(&issuer, &request).map(|l| (request.serial, l)))
            .transpose()?;
        let reserve = |serial: String, linted: &LintedTbs| SerialReservation {
            issuer_id: issuer_id.clone(),
            serial,
            tbs_digest: Some(linted.digest().to_vec()),
        };
        let mut serials = vec![reserve(certificate.serial.to_hex(), &linted)];
        record.serial_number = certificate.serial.to_hex();
        record.tbs_digest = linted.digest().to_vec();
        if let Some((serial, enc_linted)) = &enc {
            serials.push(reserve(serial.to_hex(), enc_linted));
            record.enc_serial_number = Some(serial.to_hex());
            record.enc_tbs_digest = Some(enc_linted.digest().to_vec());
        }

        // The intent is queued for the store's writer now (on PostgreSQL, its
        // transaction runs on the runtime). The signing task checks the
        // CSR's signature meanwhile (when there is one; else it starts only
        // once the writer wakes it), waits for the intent, signs, and queues
        // the completion, which this task awaits. Nothing is signed before
        // its intent is recorded; nothing is answered before its completion
        // is durable.
        let intent = pool::drive(
            {
                let (store, record) = (self.store.clone(), record.clone());
                async move {
                    store
                        .insert_certificate_intent(&record, &serials, Some(quota))
                        .await
                }
            },
            self.store.writes_run_unpolled(),
        );
        let work = SigningWork {
            store: self.store.clone(),
            signer,
            linted,
            enc: enc.map(|(_, l)| l),
        };
        let intent_record = record.clone();
        let signing = &self.pools.signing;
        let task = match csr {
            Some(csr) => {
                signing
                    .run_after(std::future::ready(()), move |()| {
                        work.run(Some(csr), intent, record)
                    })
                    .await
            }
            None => {
                signing
                    .run_after(intent, move |recorded| {
                        work.run(None, std::future::ready(recorded), record)
                    })
                    .await
            }
        };
        let completion = match task {
            Ok(outcome) => outcome?,
            Err(lost) => {
                // The task panicked or the pool is gone: give the serials and
                // the quota back now rather than at reconciliation.
                self.store.fail_certificate(&intent_record).await?;
                return Err(lost);
            }
        };
        if !completion.await?? {
            return Err(Error::Internal(
                "the issuance intent vanished before completion".to_owned(),
            ));
        }
        Ok(())
    }

    /// Issues a CA certificate: lint, sign. A CA has no intent row: its
    /// record is inserted after signing, with its serial reserved in the
    /// same transaction (`Store::insert_ca`), and a CA certificate whose
    /// insert fails was never seen by anyone.
    pub(super) async fn issue_ca_certificate(
        &self,
        issuer: &IssuerInfo,
        request: &TbsRequest,
        signer: Arc<dyn Signer>,
    ) -> Result<Vec<u8>> {
        let linted = profile::build(issuer, request)?;
        let signed = self
            .pools
            .signing
            .run(move || linted.sign(signer.as_ref()))
            .await??;
        Ok(signed.der)
    }
}
