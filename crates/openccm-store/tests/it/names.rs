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

/// Names of many shapes against substrings of every length, on both
/// stores: the list answers what `contains` answers. On SQLite this goes
/// through the suffix index (a selective keyword), past its 16 kept
/// characters (a longer keyword) and around it (a keyword whose suffixes
/// outnumber the account's certificates reads the account); on
/// PostgreSQL through windows and prefixes of them, with the characters
/// a tsquery would read as operators or quotes.
async fn a_name_search_answers_what_contains_answers(backend: Backend) {
    let (_db, store, ca) = setup(backend).await;
    let store = store.as_ref();
    let mut names: Vec<String> = (0..24)
        .map(|i| format!("host-{:09}.acct-{}.example.com", i * 37, i % 3))
        .collect();
    names.extend(
        [
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "a",
            "ab",
            "été-字符.example.org",
            "under_score%percent.example.net",
            "o'brien\\x:1 & b|c!(d)*<->.example.com",
            "x",
        ]
        .map(str::to_owned),
    );
    names.push("n".repeat(63) + "z");
    let mut live = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let seed = u8::try_from(i).unwrap() + 1;
        let mut c = cert(&ca, seed, &format!("s{seed}"), 1_000_000);
        c.name.common_name.clone_from(name);
        crate::intents::issue(store, &ca, &c).await;
        if i == 5 {
            assert!(store
                .delete_certificate(&ca.domain_id, &c.certificate_id, 1_000_000)
                .await
                .unwrap());
        } else {
            live.push(name.clone());
        }
    }
    let mut keywords: Vec<String> = Vec::new();
    for name in &names {
        let chars: Vec<char> = name.chars().collect();
        for (start, len) in [(0, chars.len()), (3, 17), (2, 16), (5, 9), (0, 1)] {
            let end = (start + len).min(chars.len());
            if start < end {
                keywords.push(chars[start..end].iter().collect());
            }
        }
    }
    keywords.extend(
        [
            "HOST-000000",
            "-000000111",
            "ACCT-2.EXAMPLE",
            "aaaaaaaaaaaaaaaaaaaa",
            "nz",
            "é-字",
            "_score%",
            "'brien\\x:1 &",
            "& b|c!(d)*<->",
            "'",
            "\\",
            ":*",
            "!(d)",
            "absent",
            ".",
            "z",
            "example.com",
            // The first 16 characters match a name, the rest do not.
            "-000000000.acct-1",
            "host-000000037.acct-0",
            "a".repeat(41).as_str(),
        ]
        .map(str::to_owned),
    );
    for keyword in keywords {
        let lowered = keyword.to_lowercase();
        let mut expected: Vec<String> = live
            .iter()
            .filter(|n| n.to_lowercase().contains(&lowered))
            .cloned()
            .collect();
        expected.sort();
        assert_eq!(
            names_matching(store, &ca, &keyword).await,
            expected,
            "{keyword}"
        );
    }
}
openccm_testkit::both_backends!(a_name_search_answers_what_contains_answers);

/// A store written before `0013_search.sql` gets its names indexed and its
/// tags counted and ordered by the migrations, which also drop the tags an
/// older import left on a deleted certificate (0013 writes the suffixes it
/// indexed at first; `0014_name_tokens.sql` replaces them with its own
/// index, from the certificates; `0015_tag_order.sql` gives the tags their
/// certificates' creation times).
async fn the_migration_indexes_names_and_counts_tags(backend: Backend) {
    let (db, store, ca) = setup(backend).await;
    let domain = ca.domain_id.clone();
    let mut tagged = crate::tags::Tagged::new();
    let mut deleted = None;
    // Sixteen, so that a one-match keyword goes through the suffix index
    // (which a list reads for at most an eighth of the account).
    for seed in 1..=16u8 {
        let mut c = cert(&ca, seed, &format!("m{seed}"), 1_000_000);
        // Out of id order, so that a page of a tag shows whether its tags
        // learnt their certificates' creation times.
        c.create_time -= i64::from(seed % 4) * 1_000;
        c.name.common_name = format!("node-{seed}.cluster.example.com");
        crate::intents::issue(&*store, &ca, &c).await;
        let id = c.certificate_id.to_string();
        if seed == 16 {
            assert!(store
                .delete_certificate(&domain, &c.certificate_id, 1_000_000)
                .await
                .unwrap());
            deleted = Some(id);
            continue;
        }
        let team = if seed == 1 { "b" } else { "a" };
        let tags = [("team".to_owned(), team.to_owned())];
        store
            .add_tags(
                &domain,
                openccm_store::TaggedResource::PcaCertificate,
                &id,
                &tags,
                20,
            )
            .await
            .unwrap();
        tagged.insert(id, tags.into_iter().collect());
    }
    store.close().await;
    drop(store);
    let stale = format!(
        "INSERT INTO tags (resource_type, resource_id, domain_id, tag_key, tag_value) \
         VALUES ('pca-cert', '{}', '{}', 'team', 'a')",
        deleted.unwrap(),
        domain.as_str()
    );
    let undo_tag_order = [
        "DROP INDEX tags_certificate_order_idx",
        "ALTER TABLE tags DROP COLUMN resource_created",
    ];
    crate::undo_migration(&db, 15, &undo_tag_order).await;
    let undo_tokens: &[&str] = match backend {
        Backend::Sqlite => &[
            "DROP TRIGGER certificates_indexed_by_name",
            "DROP TRIGGER certificates_renamed",
            "DROP TRIGGER certificates_unindexed",
            "DROP TABLE certificate_names",
        ],
        Backend::Postgres => &[
            "DROP INDEX certificates_live_name_windows_idx",
            "DROP FUNCTION certificate_name_windows(TEXT)",
        ],
    };
    crate::undo_migration(&db, 14, undo_tokens).await;
    let undo_search: Vec<&str> = match backend {
        Backend::Sqlite => vec![
            "DROP TRIGGER tags_counted_on_insert",
            "DROP TRIGGER tags_counted_on_delete",
            "DROP TRIGGER tags_counted_on_update",
            "DROP TABLE tag_counts",
            "DROP TABLE name_positions",
            "DROP INDEX certificates_seq_idx",
            "ALTER TABLE certificates DROP COLUMN seq",
            &stale,
        ],
        Backend::Postgres => vec![
            "DROP TRIGGER tags_counted ON tags",
            "DROP FUNCTION count_tags()",
            "DROP TABLE tag_counts",
            "DROP EXTENSION pg_trgm",
            &stale,
        ],
    };
    crate::undo_migration(&db, 13, &undo_search).await;
    let store = db.open().await;
    assert_eq!(
        names_matching(store.as_ref(), &ca, "node-2.CLUSTER").await,
        ["node-2.cluster.example.com"]
    );
    assert_eq!(
        names_matching(store.as_ref(), &ca, "cluster").await.len(),
        15
    );
    assert!(names_matching(store.as_ref(), &ca, "node-16")
        .await
        .is_empty());
    crate::tags::check_tag_totals(store.as_ref(), &ca, &tagged).await;
    // Certificates issued after the migration are found too.
    let mut c = cert(&ca, 99, "m99", 1_000_000);
    c.name.common_name = "node-99.cluster.example.com".to_owned();
    crate::intents::issue(&*store, &ca, &c).await;
    assert_eq!(
        names_matching(store.as_ref(), &ca, "cluster").await.len(),
        16
    );
    assert_eq!(
        names_matching(store.as_ref(), &ca, "node-99").await,
        ["node-99.cluster.example.com"]
    );
}
openccm_testkit::both_backends!(the_migration_indexes_names_and_counts_tags);
