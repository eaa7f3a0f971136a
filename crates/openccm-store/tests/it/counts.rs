//! Certificate list totals come off counters kept by every write, and the
//! status filters read expiry as marked (`0012_certificate_counts.sql`);
//! both must say what the certificates say, for every status, as time
//! passes, and after the migration that introduced them.

use std::collections::BTreeMap;

use openccm_store::{
    CaRecord, CertFilter, CertId, CertRecord, CertStatus, ImportedCertificate, Page,
    RevocationReason, Store, Visibility,
};
use openccm_testkit::Backend;

use crate::intents::{cert, issue, setup};

const DAY: i64 = 86_400_000;

/// What the test knows of each certificate: notAfter, revoked, deleted.
#[derive(Default)]
struct Model(BTreeMap<String, (i64, bool, bool)>);

impl Model {
    fn expected(&self, status: Option<CertStatus>, at: i64) -> i64 {
        let n = self
            .0
            .values()
            .filter(|(not_after, revoked, deleted)| {
                !deleted
                    && match status {
                        None => true,
                        Some(CertStatus::Revoked) => *revoked,
                        Some(CertStatus::Expired) => !revoked && *not_after <= at,
                        Some(CertStatus::Issued) => !revoked && *not_after > at,
                    }
            })
            .count();
        i64::try_from(n).unwrap()
    }

    fn add(&mut self, c: &CertRecord) {
        self.0.insert(
            c.certificate_id.to_string(),
            (c.not_after, c.revoked_at.is_some(), c.deleted_at.is_some()),
        );
    }
}

/// Lists `status` at `at` with no filter but the status (the total comes
/// off the counters) and with one that makes the store count rows (every
/// certificate has this issuer); both totals and pages must match the model.
async fn check(store: &dyn Store, ca: &CaRecord, model: &Model, at: i64) {
    for status in [
        None,
        Some(CertStatus::Issued),
        Some(CertStatus::Revoked),
        Some(CertStatus::Expired),
    ] {
        let plain = CertFilter {
            status,
            visibility: Visibility::everything(),
            ..CertFilter::default()
        };
        let counted = CertFilter {
            issuer_id: Some(ca.ca_id.clone()),
            ..plain.clone()
        };
        let expected = model.expected(status, at);
        for filter in [&plain, &counted] {
            let page = Page {
                offset: 0,
                limit: 100,
            };
            let (total, rows) = store
                .list_certificates(&ca.domain_id, filter, page, at)
                .await
                .unwrap();
            assert_eq!(total, expected, "{status:?} at {at}");
            assert_eq!(
                i64::try_from(rows.len()).unwrap(),
                expected,
                "{status:?} page at {at}"
            );
        }
    }
}

fn expiring(ca: &CaRecord, seed: u8, serial: &str, now: i64, not_after: i64) -> CertRecord {
    let mut c = cert(ca, seed, serial, now);
    c.not_after = not_after;
    c
}

fn id(ca: &CaRecord, seed: u8) -> CertId {
    cert(ca, seed, "", 0).certificate_id
}

async fn totals_follow_issuance_import_revocation_deletion_and_time(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let store = store.as_ref();
    let domain = ca.domain_id.clone();
    let now = 40 * DAY + 1_000;
    let mut model = Model::default();
    // Issued: expiring earlier today, later today, tomorrow, next week.
    for (i, end) in [now - 500, now + 500, now + DAY, now + 7 * DAY]
        .iter()
        .enumerate()
    {
        let seed = u8::try_from(i).unwrap() + 1;
        let c = expiring(&ca, seed, &format!("a{seed}"), now - DAY, *end);
        issue(store, &ca, &c).await;
        model.add(&c);
    }
    // Imported: some expired already, some revoked, one deleted.
    let imported: Vec<ImportedCertificate> = (0..6u8)
        .map(|i| {
            let mut c = expiring(
                &ca,
                20 + i,
                &format!("b{i}"),
                now - 2 * DAY,
                now - DAY + i64::from(i) * DAY,
            );
            if i % 3 == 0 {
                c.revoked_at = Some(now - 2 * DAY + 1);
                c.revocation_reason = Some(RevocationReason::KeyCompromise);
            }
            if i == 4 {
                c.deleted_at = Some(now - 1);
            }
            model.add(&c);
            ImportedCertificate {
                record: c,
                tags: Vec::new(),
            }
        })
        .collect();
    store.import_certificates(&imported, now).await.unwrap();
    check(store, &ca, &model, now).await;

    // Revoke one and delete it; delete an unrevoked one; revoke another.
    assert!(store
        .revoke_certificate(&domain, &id(&ca, 3), RevocationReason::Superseded, now)
        .await
        .unwrap());
    model.0.get_mut(id(&ca, 3).as_str()).unwrap().1 = true;
    check(store, &ca, &model, now + 1).await;
    assert!(store
        .delete_certificate(&domain, &id(&ca, 3), now + 1)
        .await
        .unwrap());
    model.0.get_mut(id(&ca, 3).as_str()).unwrap().2 = true;
    assert!(store
        .delete_certificate(&domain, &id(&ca, 4), now + 1)
        .await
        .unwrap());
    model.0.get_mut(id(&ca, 4).as_str()).unwrap().2 = true;
    assert!(store
        .revoke_certificate(&domain, &id(&ca, 2), RevocationReason::Unspecified, now + 1)
        .await
        .unwrap());
    model.0.get_mut(id(&ca, 2).as_str()).unwrap().1 = true;
    // Time passes: certificates expire without a write, at their notAfter.
    for at in [
        now + 2,
        now + DAY - 1,
        now + DAY,
        now + DAY + 1,
        now + 3 * DAY,
        now + 30 * DAY,
    ] {
        check(store, &ca, &model, at).await;
    }
    // A marked, expired certificate deleted leaves the counts right.
    assert!(store
        .delete_certificate(&domain, &id(&ca, 1), now + 30 * DAY)
        .await
        .unwrap());
    model.0.get_mut(id(&ca, 1).as_str()).unwrap().2 = true;
    check(store, &ca, &model, now + 31 * DAY).await;
}
openccm_testkit::both_backends!(totals_follow_issuance_import_revocation_deletion_and_time);

/// A store written before the counters existed gets them, and its expired
/// certificates marked, by the migration.
async fn the_migration_counts_existing_certificates(backend: Backend) {
    let (db, store, ca) = setup(backend).await;
    // Real time: the migration marks what has expired by the clock.
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let mut model = Model::default();
    for i in 0..5u8 {
        let mut c = expiring(
            &ca,
            i + 1,
            &format!("c{i}"),
            now - DAY,
            now - DAY / 2 + i64::from(i) * DAY / 2,
        );
        issue(store.as_ref(), &ca, &c).await;
        if i == 1 {
            store
                .revoke_certificate(
                    &ca.domain_id,
                    &c.certificate_id,
                    RevocationReason::Superseded,
                    now - DAY,
                )
                .await
                .unwrap();
            c.revoked_at = Some(now - DAY);
        }
        if i == 3 {
            store
                .delete_certificate(&ca.domain_id, &c.certificate_id, now)
                .await
                .unwrap();
            c.deleted_at = Some(now);
        }
        model.add(&c);
    }
    store.close().await;
    drop(store);
    crate::undo_migration(
        &db,
        12,
        &[
            "DROP TABLE certificate_counts",
            "DROP INDEX certificates_live_create_idx",
            "DROP INDEX certificates_live_cn_idx",
            "DROP INDEX certificates_live_issuer_name_idx",
            "DROP INDEX certificates_live_not_after_idx",
            "DROP INDEX certificates_expired_create_idx",
            "DROP INDEX certificates_unmarked_expiry_idx",
            "ALTER TABLE certificates DROP COLUMN expired_at",
            "CREATE INDEX certificates_domain_create_idx ON certificates (domain_id, create_time)",
            "CREATE INDEX certificates_domain_not_after_idx ON certificates (domain_id, not_after)",
            "CREATE INDEX certificates_domain_cn_idx ON certificates (domain_id, common_name)",
        ],
    )
    .await;
    let store = db.open().await;
    for at in [now + 1_000, now + DAY, now + 3 * DAY] {
        check(store.as_ref(), &ca, &model, at).await;
    }
}
openccm_testkit::both_backends!(the_migration_counts_existing_certificates);

/// A certificate already marked expired (by a list with a later clock,
/// another server's say) is not revoked by a revocation with an earlier
/// one: it stays counted once, as expired.
async fn a_marked_certificate_is_not_revoked(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let store = store.as_ref();
    let now = 40 * DAY;
    let mut model = Model::default();
    let c = expiring(&ca, 1, "d1", now - DAY, now + 500);
    issue(store, &ca, &c).await;
    model.add(&c);
    check(store, &ca, &model, now + 1_000).await;
    assert!(!store
        .revoke_certificate(
            &ca.domain_id,
            &c.certificate_id,
            RevocationReason::Superseded,
            now + 1
        )
        .await
        .unwrap());
    check(store, &ca, &model, now + 1_000).await;
}
openccm_testkit::both_backends!(a_marked_certificate_is_not_revoked);

/// What expires within a week and a month: live, unrevoked private
/// certificates whose notAfter is after now; revoked, deleted and expired
/// ones, and another account's, are not counted.
async fn expiring_counts_what_will_expire(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let store = store.as_ref();
    let now = 40 * DAY;
    let (week, month) = (now + 7 * DAY, now + 30 * DAY);
    // Expired, within the week (twice, one of them at its very end), within
    // the month, after the month.
    for (seed, end) in [
        (1u8, now - 1),
        (2, now + DAY),
        (3, week),
        (4, now + 20 * DAY),
        (5, now + 31 * DAY),
    ] {
        issue(
            store,
            &ca,
            &expiring(&ca, seed, &format!("e{seed}"), now - DAY, end),
        )
        .await;
    }
    let counts = store
        .expiring(&ca.domain_id, now, week, month)
        .await
        .unwrap();
    assert_eq!(counts.private, (2, 3));
    assert_eq!(counts.cas, (0, 0), "the CA expires far later");
    assert_eq!(counts.ssl, (0, 0));

    // A revoked and a deleted certificate no longer count.
    for (seed, end) in [(6u8, now + DAY), (7, now + 2 * DAY)] {
        issue(
            store,
            &ca,
            &expiring(&ca, seed, &format!("e{seed}"), now - DAY, end),
        )
        .await;
    }
    assert_eq!(
        store
            .expiring(&ca.domain_id, now, week, month)
            .await
            .unwrap()
            .private,
        (4, 5)
    );
    assert!(store
        .revoke_certificate(
            &ca.domain_id,
            &id(&ca, 6),
            RevocationReason::Superseded,
            now
        )
        .await
        .unwrap());
    assert!(store
        .delete_certificate(&ca.domain_id, &id(&ca, 7), now)
        .await
        .unwrap());
    assert_eq!(
        store
            .expiring(&ca.domain_id, now, week, month)
            .await
            .unwrap()
            .private,
        (2, 3)
    );
    // Another account has none.
    let other = openccm_store::DomainId::parse("0123456789abcdef0123456789abcdef").unwrap();
    assert_eq!(
        store.expiring(&other, now, week, month).await.unwrap(),
        openccm_store::ExpiringCounts::default()
    );
}
openccm_testkit::both_backends!(expiring_counts_what_will_expire);

/// A CA record read before a master-key rotation re-sealed the CA's key,
/// and written back by a change (disabling it, say), keeps the stored seal:
/// a CA's key is never set by a change.
async fn a_ca_change_never_writes_its_key_back(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let store = store.as_ref();
    let fresh = vec![b'o', b'k', 0, 0, 0, 2, 9, 9];
    let mut stale = store
        .ca(&ca.domain_id, &ca.ca_id, 1)
        .await
        .unwrap()
        .unwrap();
    let stored = stale.sealed_key.clone().expect("the test CA has a key");
    assert_eq!(
        store
            .replace_sealed(
                openccm_store::SealedColumn::CaKey,
                vec![(ca.ca_id.to_string(), stored, fresh.clone())],
            )
            .await
            .unwrap(),
        1
    );
    stale.status = openccm_store::CaState::Disabled;
    assert!(matches!(
        store
            .update_ca(&stale, &[openccm_store::CaState::Active], None)
            .await
            .unwrap(),
        openccm_store::UpdateOutcome::Updated
    ));
    let now = store
        .ca(&ca.domain_id, &ca.ca_id, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, openccm_store::CaState::Disabled);
    assert_eq!(now.sealed_key, Some(fresh));
}
openccm_testkit::both_backends!(a_ca_change_never_writes_its_key_back);

/// Expiry notices: what expires (SSL certificates with their owner's
/// choices), a notice queued once, and claimed by one sender at a time.
async fn notices_are_found_queued_once_and_claimed_once(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let store = store.as_ref();
    let now = 40 * DAY;
    for (seed, end) in [(1u8, now + 2 * DAY), (2, now - DAY), (3, now + 40 * DAY)] {
        issue(
            store,
            &ca,
            &expiring(&ca, seed, &format!("n{seed}"), now - 2 * DAY, end),
        )
        .await;
    }
    let found = store
        .expiring_between(&ca.domain_id, now - 7 * DAY, now + 30 * DAY, 100)
        .await
        .unwrap();
    let mut ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    let mut expected = vec![id(&ca, 1).to_string(), id(&ca, 2).to_string()];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(found
        .iter()
        .all(|r| r.resource_type == "private-certificate" && r.wants.is_none()));

    let entry = |event: &str| openccm_store::OutboxEntry {
        event_id: event.to_owned(),
        domain_id: ca.domain_id.clone(),
        channel: "webhook".to_owned(),
        notice_type: "CERT_EXPIRING".to_owned(),
        resource_type: "private-certificate".to_owned(),
        resource_id: id(&ca, 1).to_string(),
        resource_name: "c1.example.com".to_owned(),
        not_after: now + 2 * DAY,
        days_before: 7,
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
    };
    assert_eq!(
        store
            .enqueue_notices(vec![entry("e1"), entry("e2")])
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.enqueue_notices(vec![entry("e1")]).await.unwrap(),
        0,
        "queued once"
    );
    // Two senders at once: each notice goes to one of them.
    let (a, b) = tokio::join!(
        store.claim_due_notices(now, now + 60_000, 10),
        store.claim_due_notices(now, now + 60_000, 10)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 2, "{a:?} {b:?}");
    assert!(
        store
            .claim_due_notices(now + 1, now + 60_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    store
        .notice_failed("e1", now + 60_000, now + 5, "receiver down")
        .await
        .unwrap();
    store
        .notice_delivered("e2", now + 60_000, now + 1)
        .await
        .unwrap();
    let again = store
        .claim_due_notices(now + 5, now + 70_000, 10)
        .await
        .unwrap();
    assert_eq!(
        again
            .iter()
            .map(|e| e.event_id.as_str())
            .collect::<Vec<_>>(),
        vec!["e1"]
    );
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].last_error.as_deref(), Some("receiver down"));
    // A sender whose lease ran out (another claimed the notice since)
    // marks nothing.
    store
        .notice_delivered("e1", now + 60_000, now + 6)
        .await
        .unwrap();
    assert!(store
        .notices(&ca.domain_id, 10)
        .await
        .unwrap()
        .iter()
        .any(|(e, delivered)| e.event_id == "e1" && delivered.is_none()));
    store
        .notice_delivered("e1", now + 70_000, now + 6)
        .await
        .unwrap();
    let listed = store.notices(&ca.domain_id, 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|(_, delivered)| delivered.is_some()));
    // Pruned once what they are about expired past every lookback.
    assert_eq!(store.prune_notices(now).await.unwrap(), 0);
    assert_eq!(store.prune_notices(now + 3 * DAY).await.unwrap(), 2);
    assert!(store.notices(&ca.domain_id, 10).await.unwrap().is_empty());
}
openccm_testkit::both_backends!(notices_are_found_queued_once_and_claimed_once);
