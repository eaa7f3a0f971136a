//! Issuance intents: reserved before signing, completed or failed after;
//! serials are never reused and quotas follow the outcome.

use openccm_store::{
    BootstrapOutcome, CaId, CaRecord, CertId, CertRecord, CrlSettings, DomainId, InsertOutcome,
    NameFields, SerialReservation, Store,
};
use openccm_testkit::{Backend, TestDb};

use crate::iam::plan;

fn ca(domain: &DomainId) -> CaRecord {
    CaRecord {
        ca_id: CaId::from_random([7; 16]),
        domain_id: domain.clone(),
        ca_type: openccm_store::CaType::Root,
        listed: true,
        status: openccm_store::CaState::Active,
        issuer_id: None,
        issuer_name: None,
        path_length: 7,
        key_algorithm: openccm_pki::KeyAlgorithm::Ec256,
        signature_algorithm: Some(openccm_pki::HashAlgorithm::Sha256),
        key_usages: openccm_pki::profile::KeyUsageSet::parse(&["keyCertSign".to_owned()]).unwrap(),
        gen_mode: openccm_store::GenMode::Generate,
        serial_number: Some("01".into()),
        name: NameFields {
            common_name: "Intent Root".into(),
            ..NameFields::default()
        },
        subject: vec![0x30, 0],
        key_owner: Some("ca".into()),
        sealed_key: Some(vec![1, 2, 3]),
        public_key: vec![4, 5, 6],
        certificate: Some(vec![0x30, 0]),
        chain: None,
        not_before: Some(0),
        not_after: Some(i64::MAX / 2),
        create_time: 1,
        delete_time: None,
        crl: CrlSettings::default(),
        ocsp_enabled: false,
        enterprise_project_id: "0".into(),
        revoked_at: None,
        revocation_reason: None,
    }
}

pub(crate) fn cert(ca: &CaRecord, seed: u8, serial: &str, now: i64) -> CertRecord {
    CertRecord {
        certificate_id: CertId::from_random([seed; 16]),
        domain_id: ca.domain_id.clone(),
        issuer_id: ca.ca_id.clone(),
        issuer_name: "Intent Root".into(),
        key_algorithm: openccm_pki::KeyAlgorithm::Ec256,
        signature_algorithm: openccm_pki::HashAlgorithm::Sha256,
        gen_mode: openccm_store::GenMode::Csr,
        serial_number: serial.into(),
        name: NameFields {
            common_name: format!("c{seed}.example.com"),
            ..NameFields::default()
        },
        tbs_digest: vec![seed; 32],
        certificate: Some(vec![0x30, 0, seed]),
        key_owner: None,
        sealed_key: None,
        enc_serial_number: None,
        enc_tbs_digest: None,
        enc_certificate: None,
        enc_key_owner: None,
        enc_sealed_key: None,
        csr_public_key: Some(vec![9]),
        not_before: now,
        not_after: now + 86_400_000,
        create_time: now,
        deleted_at: None,
        revoked_at: None,
        revocation_reason: None,
        enterprise_project_id: "0".into(),
    }
}

pub(crate) fn reservation(ca: &CaRecord, serial: &str) -> SerialReservation {
    SerialReservation {
        issuer_id: ca.ca_id.clone(),
        serial: serial.into(),
        tbs_digest: Some(vec![0; 32]),
    }
}

/// Issues `c` as the pipeline does: an intent with its serial reserved,
/// then its completion.
pub(crate) async fn issue(store: &dyn Store, ca: &CaRecord, c: &CertRecord) {
    store
        .insert_certificate_intent(c, &[reservation(ca, &c.serial_number)], None)
        .await
        .unwrap();
    assert!(store.complete_certificate(c).await.unwrap());
}

pub(crate) async fn setup(backend: Backend) -> (TestDb, std::sync::Arc<dyn Store>, CaRecord) {
    let db = TestDb::new(backend).await;
    let store = db.open().await;
    let plan = plan(31);
    let domain = plan.account.domain_id.clone();
    assert!(matches!(
        store
            .bootstrap(&plan, std::sync::Arc::new(|| Ok(())))
            .await
            .unwrap(),
        BootstrapOutcome::Created
    ));
    let ca = ca(&domain);
    assert_eq!(
        store.insert_ca(&ca, None, None, 1).await.unwrap(),
        InsertOutcome::Inserted
    );
    (db, store, ca)
}

async fn intents_complete_fail_and_never_reuse_a_serial(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let domain = ca.domain_id.clone();
    let now = 1_000_000;

    // Intent, then completion: the certificate appears and counts.
    let a = cert(&ca, 1, "0a", now);
    let outcome = store
        .insert_certificate_intent(&a, &[reservation(&ca, "0a")], Some(2))
        .await
        .unwrap();
    assert_eq!(outcome, InsertOutcome::Inserted);
    assert!(
        store
            .certificate(&domain, &a.certificate_id)
            .await
            .unwrap()
            .is_none(),
        "an intent is not a certificate"
    );
    assert_eq!(
        store.count_certificates(&domain).await.unwrap(),
        1,
        "the intent holds its quota"
    );
    assert!(store.complete_certificate(&a).await.unwrap());
    assert!(store
        .certificate(&domain, &a.certificate_id)
        .await
        .unwrap()
        .is_some());
    assert!(
        !store.complete_certificate(&a).await.unwrap(),
        "completes once"
    );

    // The serial of a completed issuance is taken.
    let reuse = cert(&ca, 2, "0a", now);
    let outcome = store
        .insert_certificate_intent(&reuse, &[reservation(&ca, "0a")], Some(10))
        .await
        .unwrap();
    assert_eq!(outcome, InsertOutcome::SerialTaken);
    assert_eq!(
        store.count_certificates(&domain).await.unwrap(),
        1,
        "a refused intent holds nothing"
    );

    // Quota: one left.
    let b = cert(&ca, 3, "0b", now);
    assert_eq!(
        store
            .insert_certificate_intent(&b, &[reservation(&ca, "0b")], Some(2))
            .await
            .unwrap(),
        InsertOutcome::Inserted
    );
    let c = cert(&ca, 4, "0c", now);
    assert_eq!(
        store
            .insert_certificate_intent(&c, &[reservation(&ca, "0c")], Some(2))
            .await
            .unwrap(),
        InsertOutcome::QuotaExceeded
    );

    // A failed signing gives the quota back; its serial stays taken.
    store.fail_certificate(&b).await.unwrap();
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 1);
    assert!(
        !store.complete_certificate(&b).await.unwrap(),
        "a failed intent never completes"
    );
    assert!(store
        .certificate(&domain, &b.certificate_id)
        .await
        .unwrap()
        .is_none());
    let again = cert(&ca, 5, "0b", now);
    assert_eq!(
        store
            .insert_certificate_intent(&again, &[reservation(&ca, "0b")], Some(10))
            .await
            .unwrap(),
        InsertOutcome::SerialTaken
    );

    // An intent left by a crash: reconciliation drops the old ones only.
    let old = cert(&ca, 6, "0d", now);
    let young = cert(&ca, 7, "0e", now + 10_000);
    for (record, serial) in [(&old, "0d"), (&young, "0e")] {
        assert_eq!(
            store
                .insert_certificate_intent(record, &[reservation(&ca, serial)], None)
                .await
                .unwrap(),
            InsertOutcome::Inserted
        );
    }
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 3);
    assert_eq!(store.fail_stale_intents(now + 5_000).await.unwrap(), 1);
    assert_eq!(
        store.fail_stale_intents(now + 5_000).await.unwrap(),
        0,
        "once"
    );
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 2);
    assert!(
        !store.complete_certificate(&old).await.unwrap(),
        "a signature after reconciliation is not stored"
    );
    assert!(store.complete_certificate(&young).await.unwrap());
    let after = cert(&ca, 8, "0d", now);
    assert_eq!(
        store
            .insert_certificate_intent(&after, &[reservation(&ca, "0d")], None)
            .await
            .unwrap(),
        InsertOutcome::SerialTaken,
        "a serial of a crashed issuance is never reused"
    );
    // The intent refused for the quota reserved its serial first, and gave
    // it back with everything else.
    let free = cert(&ca, 9, "0c", now);
    assert_eq!(
        store
            .insert_certificate_intent(&free, &[reservation(&ca, "0c")], None)
            .await
            .unwrap(),
        InsertOutcome::Inserted,
        "a serial of an intent refused for the quota is not kept"
    );
}
openccm_testkit::both_backends!(intents_complete_fail_and_never_reuse_a_serial);

/// A bulk import writes what completed issuances write: rows, serials,
/// quota (deleted ones aside), revocations under the issuer, tags; and a
/// serial already taken refuses the whole batch.
async fn imported_certificates_read_like_issued_ones(backend: Backend) {
    use openccm_store::{
        CertFilter, CertStatus, ImportedCertificate, Page, RevocationReason, TaggedResource,
        Visibility,
    };
    let (_db, store, ca) = setup(backend).await;
    let domain = ca.domain_id.clone();
    let now = 1_000_000;
    let plain = cert(&ca, 1, "1a", now);
    let mut revoked = cert(&ca, 2, "1b", now);
    revoked.revoked_at = Some(now + 10);
    revoked.revocation_reason = Some(RevocationReason::Superseded);
    let mut deleted = cert(&ca, 3, "1c", now);
    deleted.deleted_at = Some(now + 20);
    let batch = vec![
        ImportedCertificate {
            record: plain.clone(),
            tags: vec![("env".into(), "prod".into())],
        },
        ImportedCertificate {
            record: revoked.clone(),
            tags: Vec::new(),
        },
        ImportedCertificate {
            record: deleted.clone(),
            tags: Vec::new(),
        },
    ];
    store.import_certificates(&batch, now).await.unwrap();

    let shown = store
        .certificate(&domain, &plain.certificate_id)
        .await
        .unwrap()
        .expect("imported");
    assert_eq!(shown.certificate, plain.certificate);
    assert!(store
        .certificate(&domain, &deleted.certificate_id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 2);
    let filter = CertFilter {
        status: Some(CertStatus::Revoked),
        visibility: Visibility::everything(),
        ..CertFilter::default()
    };
    let (total, page) = store
        .list_certificates(
            &domain,
            &filter,
            Page {
                offset: 0,
                limit: 10,
            },
            now + 100,
        )
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(page[0].certificate_id, revoked.certificate_id);
    let counters = store.crl_counters(&ca.ca_id).await.unwrap();
    assert_eq!(counters.revocation_seq, 1, "the revocation is under its CA");
    let tags = store
        .tags_of(
            &domain,
            TaggedResource::PcaCertificate,
            &[plain.certificate_id.to_string()],
        )
        .await
        .unwrap();
    assert_eq!(tags.len(), 1);

    // A taken serial refuses the whole batch: nothing of it is written.
    let fresh = cert(&ca, 4, "1d", now);
    let clash = cert(&ca, 5, "1a", now);
    let refused = store
        .import_certificates(
            &[
                ImportedCertificate {
                    record: fresh.clone(),
                    tags: Vec::new(),
                },
                ImportedCertificate {
                    record: clash,
                    tags: Vec::new(),
                },
            ],
            now,
        )
        .await;
    assert!(refused.is_err());
    assert!(store
        .certificate(&domain, &fresh.certificate_id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 2);
}
openccm_testkit::both_backends!(imported_certificates_read_like_issued_ones);

/// Concurrent issuances of one account, their certificates spread over
/// every quota slot, never take more than the quota together, and take all
/// of it (`src/queries/pca/quota.rs`): on PostgreSQL they run at once, some
/// on the fast path and the last few exactly.
async fn concurrent_issuances_take_exactly_the_quota(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let domain = ca.domain_id.clone();
    let attempt = |seeds: std::ops::Range<u8>, quota: i64| {
        let tasks: Vec<_> = seeds
            .map(|seed| {
                let (store, ca) = (store.clone(), ca.clone());
                tokio::spawn(async move {
                    let c = cert(&ca, seed, &format!("{seed:02x}"), 10);
                    let outcome = store
                        .insert_certificate_intent(
                            &c,
                            &[reservation(&ca, &c.serial_number)],
                            Some(quota),
                        )
                        .await
                        .unwrap();
                    (outcome, c)
                })
            })
            .collect();
        async move {
            let mut taken = Vec::new();
            for task in tasks {
                let (outcome, c) = task.await.unwrap();
                match outcome {
                    InsertOutcome::Inserted => taken.push(c),
                    InsertOutcome::QuotaExceeded => {}
                    other => panic!("{other:?}"),
                }
            }
            taken
        }
    };
    let taken = attempt(16..80, 20).await;
    assert_eq!(taken.len(), 20);
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 20);
    // Three given back: exactly three more.
    for c in &taken[..3] {
        store.fail_certificate(c).await.unwrap();
    }
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 17);
    let more = attempt(80..144, 20).await;
    assert_eq!(more.len(), 3);
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 20);
    // Far from the quota, every one is taken.
    let all = attempt(144..208, 1_000).await;
    assert_eq!(all.len(), 64);
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 84);
}
openccm_testkit::both_backends!(concurrent_issuances_take_exactly_the_quota);

/// Migration 16 carries an account's quota count over from the one row it
/// replaces, and the quota holds on it.
async fn the_quota_count_survives_its_migration(backend: Backend) {
    let (db, store, ca) = setup(backend).await;
    let domain = ca.domain_id.clone();
    for seed in 1..=4 {
        issue(
            store.as_ref(),
            &ca,
            &cert(&ca, seed, &format!("{seed:02x}"), 10),
        )
        .await;
    }
    store.close().await;
    drop(store);
    let old_count = format!(
        "INSERT INTO usage (domain_id, resource, used) VALUES ('{}', 'certificate', 7)",
        domain.as_str()
    );
    crate::undo_migration(
        &db,
        16,
        &[
            "DROP TABLE quota_slots",
            "CREATE TABLE usage (domain_id TEXT NOT NULL, resource TEXT NOT NULL, used BIGINT NOT NULL, \
             PRIMARY KEY (domain_id, resource))",
            &old_count,
        ],
    )
    .await;
    let store = db.open().await;
    // The old row's count (7, not the 4 certificates: the row is what is
    // carried over), and the quota holds on it.
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 7);
    let fifth = cert(&ca, 5, "05", 10);
    let sixth = cert(&ca, 6, "06", 10);
    for (c, outcome) in [
        (&fifth, InsertOutcome::Inserted),
        (&sixth, InsertOutcome::QuotaExceeded),
    ] {
        assert_eq!(
            store
                .insert_certificate_intent(c, &[reservation(&ca, &c.serial_number)], Some(8))
                .await
                .unwrap(),
            outcome
        );
    }
    assert_eq!(store.count_certificates(&domain).await.unwrap(), 8);
}
openccm_testkit::both_backends!(the_quota_count_survives_its_migration);
