//! Revocations as CRLs and OCSP read them: numbered in commit order under
//! their issuer, both serials of a pair, CRL numbers that only grow, stored
//! full CRLs that never go back, and the change feed.

use openccm_store::{CrlCounters, RevocationReason, SerialStatus, StoreEvent, StoredCrl};
use openccm_testkit::Backend;

use crate::intents::{cert, reservation, setup};

async fn revocations_are_numbered_and_read_back(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let mut events = store.subscribe();
    let now = 1_000_000;
    let mut ids = Vec::new();
    for (seed, serial) in [(1u8, "0a"), (2, "0b"), (3, "0c")] {
        let mut c = cert(&ca, seed, serial, now);
        if seed == 3 {
            // An SM2 pair: the encryption certificate's serial too.
            c.enc_serial_number = Some("0d".into());
        }
        let mut serials = vec![reservation(&ca, serial)];
        if seed == 3 {
            serials.push(reservation(&ca, "0d"));
        }
        store
            .insert_certificate_intent(&c, &serials, None)
            .await
            .unwrap();
        assert!(store.complete_certificate(&c).await.unwrap());
        ids.push(c.certificate_id.clone());
    }
    assert_eq!(
        store.serial_status(&ca.ca_id, "0a").await.unwrap(),
        SerialStatus::Good
    );
    assert_eq!(
        store.serial_status(&ca.ca_id, "ff").await.unwrap(),
        SerialStatus::Unknown
    );
    assert_eq!(
        store.crl_counters(&ca.ca_id).await.unwrap(),
        CrlCounters::default()
    );

    for (id, reason) in [
        (&ids[2], RevocationReason::KeyCompromise),
        (&ids[0], RevocationReason::Superseded),
    ] {
        assert!(store
            .revoke_certificate(&ca.domain_id, id, reason, now + 5)
            .await
            .unwrap());
        // Announced after the commit, on this store's feed (PostgreSQL's
        // listener may first say it (re)started listening).
        let event = loop {
            match events.recv().await.unwrap() {
                StoreEvent::Resync => continue,
                event => break event,
            }
        };
        assert_eq!(event, StoreEvent::CaChanged(ca.ca_id.clone()));
    }
    assert!(!store
        .revoke_certificate(
            &ca.domain_id,
            &ids[0],
            RevocationReason::Superseded,
            now + 6
        )
        .await
        .unwrap());
    assert_eq!(
        store.serial_status(&ca.ca_id, "0d").await.unwrap(),
        SerialStatus::Revoked {
            revoked_at: now + 5,
            reason: RevocationReason::KeyCompromise
        }
    );
    assert_eq!(
        store.serial_status(&ca.ca_id, "0b").await.unwrap(),
        SerialStatus::Good
    );

    // Commit order: the pair first (seq 1, 2), then 0a (3).
    let all = store
        .revocations(&ca.ca_id, 0, i64::MAX, 0, 100)
        .await
        .unwrap();
    let order: Vec<(&str, i64)> = all.iter().map(|e| (e.serial.as_str(), e.seq)).collect();
    assert_eq!(order, [("0c", 1), ("0d", 2), ("0a", 3)]);
    // Paged by seq; a range; expired entries left out.
    let page = store
        .revocations(&ca.ca_id, 1, i64::MAX, 0, 1)
        .await
        .unwrap();
    assert_eq!(page[0].serial, "0d");
    let delta = store.revocations(&ca.ca_id, 2, 3, 0, 100).await.unwrap();
    assert_eq!(delta.len(), 1);
    assert!(store
        .revocations(&ca.ca_id, 0, i64::MAX, now + 86_400_001, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.count_revocations(&ca.ca_id, 1, 3).await.unwrap(), 2);

    // CRL numbers only grow, and come with the seq of the last revocation.
    let first = store.next_crl_number(&ca.ca_id).await.unwrap();
    let second = store.next_crl_number(&ca.ca_id).await.unwrap();
    assert_eq!(
        first,
        CrlCounters {
            crl_number: 1,
            revocation_seq: 3
        }
    );
    assert_eq!(second.crl_number, 2);
}

async fn a_stored_full_crl_never_goes_back(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    assert!(store.full_crl(&ca.ca_id, true).await.unwrap().is_none());
    let crl = |number: i64, der: u8| StoredCrl {
        crl_number: number,
        revocation_seq: number * 10,
        this_update: number * 1000,
        next_update: number * 1000 + 500,
        der: vec![der; 64],
        freshest_url: Some(format!("http://x/{number}-delta.crl")),
    };
    let (stored, back) = store.save_full_crl(&ca.ca_id, crl(5, 5)).await.unwrap();
    assert!(stored);
    assert_eq!(back.der, vec![5; 64], "the DER comes back to the caller");
    // Another server's older build loses; a newer one wins.
    assert!(!store.save_full_crl(&ca.ca_id, crl(4, 4)).await.unwrap().0);
    assert!(!store.save_full_crl(&ca.ca_id, crl(5, 6)).await.unwrap().0);
    assert_eq!(
        store.full_crl(&ca.ca_id, true).await.unwrap().unwrap(),
        crl(5, 5)
    );
    assert!(store.save_full_crl(&ca.ca_id, crl(6, 6)).await.unwrap().0);
    let meta = store.full_crl(&ca.ca_id, false).await.unwrap().unwrap();
    assert_eq!((meta.crl_number, meta.der.len()), (6, 0), "metadata alone");
    assert_eq!(meta.freshest_url.as_deref(), Some("http://x/6-delta.crl"));
}

async fn a_revoked_subordinate_is_listed_under_its_issuer(backend: Backend) {
    let (_db, store, root) = setup(backend).await;
    let mut sub = root.clone();
    sub.ca_id = openccm_store::CaId::from_random([9; 16]);
    sub.ca_type = openccm_store::CaType::Subordinate;
    sub.issuer_id = Some(root.ca_id.clone());
    sub.serial_number = Some("5e".into());
    store
        .insert_ca(&sub, Some(&reservation(&root, "5e")), None, 1)
        .await
        .unwrap();
    let mut revoked = sub.clone();
    revoked.status = openccm_store::CaState::Revoked;
    revoked.revoked_at = Some(77);
    revoked.revocation_reason = Some(RevocationReason::CaCompromise);
    assert_eq!(
        store
            .revoke_ca(&revoked, &[openccm_store::CaState::Active])
            .await
            .unwrap(),
        openccm_store::UpdateOutcome::Updated
    );
    assert_eq!(
        store.serial_status(&root.ca_id, "5e").await.unwrap(),
        SerialStatus::Revoked {
            revoked_at: 77,
            reason: RevocationReason::CaCompromise
        }
    );
    // A second revocation finds the state changed and lists nothing twice.
    assert_eq!(
        store
            .revoke_ca(&revoked, &[openccm_store::CaState::Active])
            .await
            .unwrap(),
        openccm_store::UpdateOutcome::StateChanged
    );
    assert_eq!(
        store
            .revocations(&root.ca_id, 0, i64::MAX, 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

openccm_testkit::both_backends!(revocations_are_numbered_and_read_back);
openccm_testkit::both_backends!(a_stored_full_crl_never_goes_back);
openccm_testkit::both_backends!(a_revoked_subordinate_is_listed_under_its_issuer);

/// Migration 0008 lists what was revoked before it: rolled back by hand
/// (its tables dropped, its version forgotten) and applied again on open.
async fn the_migration_lists_earlier_revocations(backend: Backend) {
    let (db, store, ca) = setup(backend).await;
    let now = 1_000_000;
    let mut pair = cert(&ca, 1, "0a", now);
    pair.enc_serial_number = Some("0b".into());
    store
        .insert_certificate_intent(
            &pair,
            &[reservation(&ca, "0a"), reservation(&ca, "0b")],
            None,
        )
        .await
        .unwrap();
    assert!(store.complete_certificate(&pair).await.unwrap());
    let single = cert(&ca, 2, "0c", now);
    store
        .insert_certificate_intent(&single, &[reservation(&ca, "0c")], None)
        .await
        .unwrap();
    assert!(store.complete_certificate(&single).await.unwrap());
    for (c, at) in [(&single, now + 1), (&pair, now + 2)] {
        assert!(store
            .revoke_certificate(
                &ca.domain_id,
                &c.certificate_id,
                RevocationReason::Superseded,
                at
            )
            .await
            .unwrap());
    }
    store.close().await;
    drop(store);
    crate::undo_migration(
        &db,
        8,
        &[
            "DROP TABLE revocations",
            "DROP TABLE crl_counters",
            "DROP TABLE crls",
        ],
    )
    .await;
    let store = db.open().await;
    let listed: Vec<(String, i64, i64)> = store
        .revocations(&ca.ca_id, 0, i64::MAX, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.serial, e.seq, e.revoked_at))
        .collect();
    assert_eq!(
        listed,
        [
            ("0c".into(), 1, now + 1),
            ("0a".into(), 2, now + 2),
            ("0b".into(), 3, now + 2)
        ]
    );
    assert_eq!(
        store.crl_counters(&ca.ca_id).await.unwrap(),
        CrlCounters {
            crl_number: 0,
            revocation_seq: 3
        }
    );
    // Numbering goes on from there.
    let third = cert(&ca, 3, "0d", now);
    store
        .insert_certificate_intent(&third, &[reservation(&ca, "0d")], None)
        .await
        .unwrap();
    assert!(store.complete_certificate(&third).await.unwrap());
    assert!(store
        .revoke_certificate(
            &ca.domain_id,
            &third.certificate_id,
            RevocationReason::Superseded,
            now + 3
        )
        .await
        .unwrap());
    assert_eq!(
        store.crl_counters(&ca.ca_id).await.unwrap().revocation_seq,
        4
    );
}

openccm_testkit::both_backends!(the_migration_lists_earlier_revocations);
