//! SCM records: alternative names are a list, and migration 0011 split the
//! `;`-joined text earlier versions stored.

use openccm_store::{CsrId, CsrRecord, Store};
use openccm_testkit::Backend;

use crate::intents::setup;

fn csr(domain: &openccm_store::DomainId, alt_names: &[&str]) -> CsrRecord {
    CsrRecord {
        csr_id: CsrId::from_random([7; 16]),
        domain_id: domain.clone(),
        name: "csr".into(),
        csr: "-----BEGIN CERTIFICATE REQUEST-----".into(),
        domain_name: Some("www.example.com".into()),
        alt_names: alt_names.iter().map(|n| (*n).to_owned()).collect(),
        key_algorithm: openccm_pki::KeyAlgorithm::Ec256,
        usage: Some(openccm_store::CsrUsage::Personal),
        company_country: None,
        company_province: None,
        company_city: None,
        company_name: None,
        public_key: vec![1, 2, 3],
        public_key_sha256: "00".repeat(32),
        generated: true,
        key_owner: None,
        sealed_key: None,
        create_time: 1,
        update_time: 1,
    }
}

async fn stored_names(store: &dyn Store, record: &CsrRecord) -> Vec<String> {
    store
        .csr(&record.domain_id, &record.csr_id)
        .await
        .unwrap()
        .unwrap()
        .alt_names
}

async fn alternative_names_are_stored_as_a_list(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    // Names the old ';'-joined text could not hold, and none at all.
    for names in [
        &["a.example.com", "10.0.0.1"][..],
        &["odd;name", "quote\"d", "back\\slash"][..],
        &[][..],
    ] {
        let record = CsrRecord {
            csr_id: CsrId::from_random([names.len() as u8; 16]),
            ..csr(&ca.domain_id, names)
        };
        store.insert_csr(&record).await.unwrap();
        assert_eq!(stored_names(store.as_ref(), &record).await, names);
    }
}

async fn the_migration_splits_earlier_joined_names(backend: Backend) {
    let (db, store, ca) = setup(backend).await;
    let record = csr(&ca.domain_id, &[]);
    store.insert_csr(&record).await.unwrap();
    store.close().await;
    drop(store);
    // Back to the schema before migration 0011, with what that version
    // wrote: names joined by ';' (an empty one included, as a stray
    // separator would leave).
    crate::undo_migration(
        &db,
        11,
        &[
            "ALTER TABLE scm_csrs ADD COLUMN sans TEXT",
            "UPDATE scm_csrs SET sans = 'x.example.com;;we\"ird;10.0.0.1'",
            "ALTER TABLE scm_csrs DROP COLUMN alt_names",
            "ALTER TABLE scm_certificates ADD COLUMN sans TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE scm_certificates DROP COLUMN alt_names",
        ],
    )
    .await;
    let store = db.open().await;
    assert_eq!(
        stored_names(store.as_ref(), &record).await,
        ["x.example.com", "we\"ird", "10.0.0.1"]
    );
}

openccm_testkit::both_backends!(alternative_names_are_stored_as_a_list);
openccm_testkit::both_backends!(the_migration_splits_earlier_joined_names);
