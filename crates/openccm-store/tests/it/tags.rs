//! Tags: the per-resource limit holds under concurrency; a count by one
//! tag, off `tag_counts` (`0013_search.sql`), says what the certificates
//! say.

use std::collections::BTreeMap;

use openccm_store::{
    CaRecord, CertFilter, ImportedCertificate, Page, SortDir, Store, TagFilter, TagOutcome,
    TaggedResource, Visibility,
};
use openccm_testkit::Backend;

use crate::intents::{cert, setup};

async fn concurrent_additions_never_pass_the_tag_limit(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let domain = ca.domain_id.clone();
    let id = ca.ca_id.to_string();
    // Two batches of 11 different keys: each fits the limit of 20 alone,
    // not both together.
    let batch = |prefix: &str| -> Vec<(String, String)> {
        (0..11)
            .map(|i| (format!("{prefix}{i}"), "v".to_owned()))
            .collect()
    };
    for round in 0..30 {
        let adders: Vec<_> = [batch(&format!("a{round}-")), batch(&format!("b{round}-"))]
            .into_iter()
            .map(|tags| {
                let (store, domain, id) = (store.clone(), domain.clone(), id.clone());
                tokio::spawn(async move {
                    store
                        .add_tags(&domain, TaggedResource::PcaCa, &id, &tags, 20)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for adder in adders {
            outcomes.push(adder.await.unwrap());
        }
        assert!(
            outcomes.contains(&TagOutcome::Done) && outcomes.contains(&TagOutcome::TooMany),
            "round {round}: {outcomes:?}"
        );
        let tags = store
            .tags_of(&domain, TaggedResource::PcaCa, std::slice::from_ref(&id))
            .await
            .unwrap();
        assert_eq!(tags.len(), 11, "round {round}");
        let keys: Vec<(String, Option<String>)> =
            tags.into_iter().map(|(_, k, _)| (k, None)).collect();
        assert_eq!(
            store
                .remove_tags(&domain, TaggedResource::PcaCa, &id, &keys)
                .await
                .unwrap(),
            TagOutcome::Done
        );
    }
}
openccm_testkit::both_backends!(concurrent_additions_never_pass_the_tag_limit);

/// Each certificate's tags, as the test made them.
pub(crate) type Tagged = BTreeMap<String, BTreeMap<String, String>>;

/// The total and pages of a list filtered on `key` (with one of `values`),
/// off the counters and the tags' own order, and as read off the
/// certificates (the issuer condition, which every certificate here meets,
/// makes the store count rows and walk the certificates); both must agree
/// with the model, and their pages, of every size and offset and in both
/// directions, with each other.
pub(crate) async fn check_tag_totals(store: &dyn Store, ca: &CaRecord, model: &Tagged) {
    let filters: [(&str, &[&str]); 6] = [
        ("team", &["a"]),
        ("team", &["b"]),
        ("team", &["a", "b", "a"]),
        ("team", &[]),
        ("env", &["prod"]),
        ("absent", &[]),
    ];
    let list = |filter: CertFilter, offset: i64, limit: i64| async move {
        let (total, found) = store
            .list_certificates(&ca.domain_id, &filter, Page { offset, limit }, 1_000_000)
            .await
            .unwrap();
        let ids: Vec<String> = found
            .into_iter()
            .map(|c| c.certificate_id.to_string())
            .collect();
        (usize::try_from(total).unwrap(), ids)
    };
    for (key, values) in filters {
        let mut expected: Vec<&String> = model
            .iter()
            .filter(|(_, tags)| {
                tags.get(key)
                    .is_some_and(|v| values.is_empty() || values.contains(&v.as_str()))
            })
            .map(|(id, _)| id)
            .collect();
        expected.sort();
        let tags = TagFilter {
            all: vec![(
                key.to_owned(),
                values.iter().map(|v| (*v).to_owned()).collect(),
            )],
            ..TagFilter::default()
        };
        for sort_dir in [SortDir::Desc, SortDir::Asc] {
            let counted = CertFilter {
                tags: tags.clone(),
                visibility: Visibility::everything(),
                sort_dir,
                ..CertFilter::default()
            };
            let read = CertFilter {
                issuer_id: Some(ca.ca_id.clone()),
                ..counted.clone()
            };
            let (total, walked) = list(read.clone(), 0, 100).await;
            assert_eq!(total, expected.len(), "{key} {values:?}");
            let mut found = walked.clone();
            found.sort();
            assert_eq!(
                found.iter().collect::<Vec<_>>(),
                expected,
                "{key} {values:?}"
            );
            for limit in [1, 2, 100] {
                for offset in 0..=i64::try_from(walked.len()).unwrap() {
                    let start = usize::try_from(offset).unwrap();
                    let end = (start + usize::try_from(limit).unwrap()).min(walked.len());
                    for filter in [counted.clone(), read.clone()] {
                        let (total, page) = list(filter, offset, limit).await;
                        assert_eq!(total, expected.len(), "{key} {values:?}");
                        assert_eq!(
                            page,
                            walked[start..end],
                            "{key} {values:?} {sort_dir:?} {offset}+{limit}"
                        );
                    }
                }
            }
        }
    }
}

async fn a_count_by_one_tag_follows_tagging_deletion_and_import(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let store = store.as_ref();
    let domain = ca.domain_id.clone();
    let resource = TaggedResource::PcaCertificate;
    let mut model = Tagged::new();
    let mut ids = Vec::new();
    for seed in 1..=6u8 {
        let mut c = cert(&ca, seed, &format!("t{seed}"), 1_000_000);
        // Creation times out of id order, two of them equal: pages follow
        // the time, then the id.
        c.create_time -= i64::from(seed % 3) * 1_000;
        crate::intents::issue(store, &ca, &c).await;
        model.insert(c.certificate_id.to_string(), BTreeMap::new());
        ids.push(c.certificate_id.to_string());
    }
    let tag = |model: &mut Tagged, id: &str, key: &str, value: Option<&str>| {
        let tags = model.get_mut(id).unwrap();
        match value {
            Some(value) => tags.insert(key.to_owned(), value.to_owned()),
            None => tags.remove(key),
        };
    };
    check_tag_totals(store, &ca, &model).await;
    for (id, tags) in [
        (&ids[0], vec![("team", "a"), ("env", "prod")]),
        (&ids[1], vec![("team", "a")]),
        (&ids[2], vec![("env", "prod"), ("team", "b")]),
        (&ids[3], vec![("team", "a")]),
    ] {
        let tags: Vec<(String, String)> = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let outcome = store
            .add_tags(&domain, resource, id, &tags, 20)
            .await
            .unwrap();
        assert!(matches!(outcome, TagOutcome::Done));
        for (key, value) in &tags {
            tag(&mut model, id, key, Some(value));
        }
    }
    check_tag_totals(store, &ca, &model).await;
    // A new value for a key, the same value again, a removal by key and
    // one by key and value.
    let retag = [("team".to_owned(), "b".to_owned())];
    store
        .add_tags(&domain, resource, &ids[1], &retag, 20)
        .await
        .unwrap();
    store
        .add_tags(&domain, resource, &ids[1], &retag, 20)
        .await
        .unwrap();
    tag(&mut model, &ids[1], "team", Some("b"));
    store
        .remove_tags(&domain, resource, &ids[3], &[("team".to_owned(), None)])
        .await
        .unwrap();
    tag(&mut model, &ids[3], "team", None);
    store
        .remove_tags(
            &domain,
            resource,
            &ids[2],
            &[("env".to_owned(), Some("prod".to_owned()))],
        )
        .await
        .unwrap();
    tag(&mut model, &ids[2], "env", None);
    // A removal of a value the resource does not have changes nothing.
    store
        .remove_tags(
            &domain,
            resource,
            &ids[0],
            &[("team".to_owned(), Some("b".to_owned()))],
        )
        .await
        .unwrap();
    check_tag_totals(store, &ca, &model).await;
    // Deleting a certificate takes its tags out of the counts.
    assert!(store
        .delete_certificate(&domain, &ca_cert_id(&ids[0]), 1_000_000)
        .await
        .unwrap());
    model.remove(&ids[0]);
    check_tag_totals(store, &ca, &model).await;
    // Imported certificates count with their tags; a deleted one does not.
    let imported: Vec<ImportedCertificate> = (0..3u8)
        .map(|i| {
            let mut c = cert(&ca, 40 + i, &format!("i{i}"), 1_000_000);
            c.create_time -= i64::from(i) * 1_500;
            if i == 2 {
                c.deleted_at = Some(1_000_000);
            } else {
                model.insert(
                    c.certificate_id.to_string(),
                    BTreeMap::from([("team".to_owned(), "a".to_owned())]),
                );
            }
            ImportedCertificate {
                record: c,
                tags: vec![("team".to_owned(), "a".to_owned())],
            }
        })
        .collect();
    store
        .import_certificates(&imported, 1_000_000)
        .await
        .unwrap();
    check_tag_totals(store, &ca, &model).await;
}
openccm_testkit::both_backends!(a_count_by_one_tag_follows_tagging_deletion_and_import);

/// A page of one tag is read in the tags' own order, not the
/// certificates': with one tag's creation time made wrong behind the
/// store's back, the page taken off the tags follows the tag, and the walk
/// (the issuer condition makes the list read the certificates) does not.
/// This is how the other tests know which way a list went.
async fn a_page_of_one_tag_is_read_off_the_tags(backend: Backend) {
    let (db, store, ca) = setup(backend).await;
    let domain = ca.domain_id.clone();
    let mut ids = Vec::new();
    for seed in 1..=3u8 {
        let mut c = cert(&ca, seed, &format!("o{seed}"), 1_000_000);
        c.create_time += i64::from(seed) * 1_000;
        crate::intents::issue(&*store, &ca, &c).await;
        let id = c.certificate_id.to_string();
        let tags = [("team".to_owned(), "a".to_owned())];
        store
            .add_tags(&domain, TaggedResource::PcaCertificate, &id, &tags, 20)
            .await
            .unwrap();
        ids.push(id);
    }
    let (oldest, newest) = (&ids[0], &ids[2]);
    let first = |filter: CertFilter| {
        let store = store.clone();
        let domain = domain.clone();
        async move {
            let page = Page {
                offset: 0,
                limit: 1,
            };
            let (_, found) = store
                .list_certificates(&domain, &filter, page, 1_000_000)
                .await
                .unwrap();
            found
                .into_iter()
                .map(|c| c.certificate_id.to_string())
                .collect::<Vec<_>>()
        }
    };
    let off_tags = CertFilter {
        tags: TagFilter {
            all: vec![("team".to_owned(), vec!["a".to_owned()])],
            ..TagFilter::default()
        },
        visibility: Visibility::everything(),
        ..CertFilter::default()
    };
    let walked = CertFilter {
        issuer_id: Some(ca.ca_id.clone()),
        ..off_tags.clone()
    };
    assert_eq!(first(off_tags.clone()).await, std::slice::from_ref(newest));
    assert_eq!(first(walked.clone()).await, std::slice::from_ref(newest));
    let wrong =
        format!("UPDATE tags SET resource_created = 9000000 WHERE resource_id = '{oldest}'");
    crate::execute(&db, &[&wrong]).await;
    assert_eq!(first(off_tags.clone()).await, std::slice::from_ref(oldest));
    assert_eq!(first(walked).await, std::slice::from_ref(newest));
    // A tag without a creation time (an older server's) is still read, and
    // placed by its certificate's.
    let unknown = format!("UPDATE tags SET resource_created = NULL WHERE resource_id = '{newest}'");
    crate::execute(&db, &[&unknown]).await;
    assert_eq!(first(off_tags).await, std::slice::from_ref(newest));
}
openccm_testkit::both_backends!(a_page_of_one_tag_is_read_off_the_tags);

fn ca_cert_id(id: &str) -> openccm_store::CertId {
    openccm_store::CertId::parse(id).unwrap()
}
