//! Tags: the per-resource limit holds under concurrency.

use openccm_store::{TagOutcome, TaggedResource};
use openccm_testkit::Backend;

use crate::intents::setup;

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
