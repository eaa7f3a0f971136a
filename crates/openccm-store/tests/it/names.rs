//! ListCertificate's `name` filter: a substring of the common name,
//! case-insensitive, with `%`, `_` and `"` taken literally, short
//! substrings too, deleted certificates left out; the total agrees with
//! the page.

use openccm_store::{CaRecord, CertFilter, Page, Store, Visibility};
use openccm_testkit::Backend;

use crate::intents::{cert, reservation, setup};

const NAMES: [&str; 6] = [
    "Web-01.Example.com",
    "web-02.example.com",
    "mail.example.org",
    "100%_sure.example.com",
    "quote\"d.example.com",
    "gone-web.example.com",
];

async fn names_matching(store: &dyn Store, ca: &CaRecord, keyword: &str) -> Vec<String> {
    let filter = CertFilter {
        name: Some(keyword.to_owned()),
        visibility: Visibility::everything(),
        ..CertFilter::default()
    };
    let (total, page) = store
        .list_certificates(
            &ca.domain_id,
            &filter,
            Page {
                offset: 0,
                limit: 100,
            },
            1_000_000,
        )
        .await
        .unwrap();
    let mut names: Vec<String> = page.into_iter().map(|c| c.name.common_name).collect();
    names.sort();
    assert_eq!(usize::try_from(total).unwrap(), names.len(), "{keyword}");
    names
}

async fn fill(store: &dyn Store, ca: &CaRecord) {
    for (i, name) in NAMES.iter().enumerate() {
        let seed = u8::try_from(i).unwrap() + 1;
        let mut c = cert(ca, seed, &format!("n{seed}"), 1_000_000);
        c.name.common_name = (*name).to_owned();
        store
            .insert_certificate_intent(&c, &[reservation(ca, &c.serial_number)], None)
            .await
            .unwrap();
        assert!(store.complete_certificate(&c).await.unwrap());
        if name.starts_with("gone") {
            assert!(store
                .delete_certificate(&ca.domain_id, &c.certificate_id, 1_000_000)
                .await
                .unwrap());
        }
    }
}

async fn check(store: &dyn Store, ca: &CaRecord) {
    assert_eq!(
        names_matching(store, ca, "WEB").await,
        ["Web-01.Example.com", "web-02.example.com"]
    );
    assert_eq!(names_matching(store, ca, "example.co").await.len(), 4);
    assert_eq!(
        names_matching(store, ca, "%_s").await,
        ["100%_sure.example.com"]
    );
    assert!(
        names_matching(store, ca, "0_s").await.is_empty(),
        "`_` is literal"
    );
    assert_eq!(
        names_matching(store, ca, "e\"d").await,
        ["quote\"d.example.com"]
    );
    assert_eq!(names_matching(store, ca, "il").await, ["mail.example.org"]);
    assert!(names_matching(store, ca, "gone").await.is_empty());
    assert!(names_matching(store, ca, "absent.example").await.is_empty());
}

async fn a_name_substring_finds_exactly_the_like_matches(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    fill(store.as_ref(), &ca).await;
    check(store.as_ref(), &ca).await;
}
openccm_testkit::both_backends!(a_name_substring_finds_exactly_the_like_matches);
