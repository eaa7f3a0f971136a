//! Certificate list totals come off counters kept by every write
//! (`0012_certificate_counts.sql`); they must say what counting the rows
//! says, for every status, at any time, and after the migration that
//! introduced them.

use openccm_store::{
    CaRecord, CertFilter, CertRecord, CertStatus, ImportedCertificate, Page, RevocationReason,
    Store, Visibility,
};
use openccm_testkit::Backend;

use crate::intents::{cert, reservation, setup};

const DAY: i64 = 86_400_000;

/// The total shown for `status` at `at` (off the counters), and the one a
/// filter that must count rows finds (every certificate has this issuer).
async fn totals(
    store: &dyn Store,
    ca: &CaRecord,
    status: Option<CertStatus>,
    at: i64,
) -> (i64, i64) {
    let plain = CertFilter {
        status,
        visibility: Visibility::everything(),
        ..CertFilter::default()
    };
    let counted = CertFilter {
        issuer_id: Some(ca.ca_id.clone()),
        ..plain.clone()
    };
    let page = Page {
        offset: 0,
        limit: 1,
    };
    let (a, _) = store
        .list_certificates(&ca.domain_id, &plain, page, at)
        .await
        .unwrap();
    let (b, _) = store
        .list_certificates(&ca.domain_id, &counted, page, at)
        .await
        .unwrap();
    (a, b)
}

async fn assert_totals_agree(store: &dyn Store, ca: &CaRecord, times: &[i64]) {
    for &at in times {
        for status in [
            None,
            Some(CertStatus::Issued),
            Some(CertStatus::Revoked),
            Some(CertStatus::Expired),
        ] {
            let (shown, rows) = totals(store, ca, status, at).await;
            assert_eq!(shown, rows, "{status:?} at {at}");
        }
    }
}

fn expiring(ca: &CaRecord, seed: u8, serial: &str, now: i64, not_after: i64) -> CertRecord {
    let mut c = cert(ca, seed, serial, now);
    c.not_after = not_after;
    c
}

async fn issue(store: &dyn Store, ca: &CaRecord, c: &CertRecord) {
    store
        .insert_certificate_intent(c, &[reservation(ca, &c.serial_number)], None)
        .await
        .unwrap();
    assert!(store.complete_certificate(c).await.unwrap());
}

async fn totals_follow_issuance_import_revocation_deletion_and_time(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let now = 40 * DAY + 1_000;
    // Expiries: earlier today, later today, tomorrow, next week.
    let ends = [now - 500, now + 500, now + DAY, now + 7 * DAY];
    for (i, end) in ends.iter().enumerate() {
        let seed = u8::try_from(i).unwrap() + 1;
        issue(
            store.as_ref(),
            &ca,
            &expiring(&ca, seed, &format!("a{seed}"), now - DAY, *end),
        )
        .await;
    }
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
            ImportedCertificate {
                record: c,
                tags: Vec::new(),
            }
        })
        .collect();
    store.import_certificates(&imported).await.unwrap();
    let times = [
        now - DAY,
        now,
        now + DAY - 1,
        now + DAY,
        now + 3 * DAY,
        now + 30 * DAY,
    ];
    assert_totals_agree(store.as_ref(), &ca, &times).await;

    // Revoke one, delete it; delete an unrevoked one; revoke another.
    let domain = ca.domain_id.clone();
    let first = expiring(&ca, 3, "a3", now - DAY, now + DAY).certificate_id;
    assert!(store
        .revoke_certificate(&domain, &first, RevocationReason::Superseded, now)
        .await
        .unwrap());
    assert_totals_agree(store.as_ref(), &ca, &times).await;
    assert!(store
        .delete_certificate(&domain, &first, now)
        .await
        .unwrap());
    let second = expiring(&ca, 4, "a4", now - DAY, now + 7 * DAY).certificate_id;
    assert!(store
        .delete_certificate(&domain, &second, now)
        .await
        .unwrap());
    let third = expiring(&ca, 2, "a2", now - DAY, now + 500).certificate_id;
    assert!(store
        .revoke_certificate(&domain, &third, RevocationReason::Unspecified, now)
        .await
        .unwrap());
    assert_totals_agree(store.as_ref(), &ca, &times).await;
    let (all, _) = totals(store.as_ref(), &ca, None, now).await;
    assert_eq!(
        all,
        4 + 5 - 2,
        "four issued, five imported alive, two deleted"
    );
}
openccm_testkit::both_backends!(totals_follow_issuance_import_revocation_deletion_and_time);

/// A store written before the counters existed gets them filled in.
async fn the_migration_counts_existing_certificates(backend: Backend) {
    let (db, store, ca) = setup(backend).await;
    let now = 40 * DAY;
    for i in 0..5u8 {
        let c = expiring(
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
        }
        if i == 3 {
            store
                .delete_certificate(&ca.domain_id, &c.certificate_id, now)
                .await
                .unwrap();
        }
    }
    store.close().await;
    drop(store);
    crate::undo_migration(
        &db,
        12,
        &[
            "DROP TABLE certificate_counts",
            "DROP TABLE certificate_expiry_counts",
            "DROP INDEX certificates_live_create_idx",
            "DROP INDEX certificates_live_cn_idx",
            "DROP INDEX certificates_live_issuer_name_idx",
            "DROP INDEX certificates_live_not_after_idx",
            "CREATE INDEX certificates_domain_create_idx ON certificates (domain_id, create_time)",
            "CREATE INDEX certificates_domain_not_after_idx ON certificates (domain_id, not_after)",
            "CREATE INDEX certificates_domain_cn_idx ON certificates (domain_id, common_name)",
        ],
    )
    .await;
    let store = db.open().await;
    assert_totals_agree(
        store.as_ref(),
        &ca,
        &[now - DAY, now, now + DAY, now + 3 * DAY],
    )
    .await;
    let (all, _) = totals(store.as_ref(), &ca, None, now).await;
    assert_eq!(all, 4);
}
openccm_testkit::both_backends!(the_migration_counts_existing_certificates);
