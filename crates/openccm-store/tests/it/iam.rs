//! IAM records, key checks and the bootstrap.

use std::sync::Arc;

use openccm_store::{
    AccessKey, AccessKeyId, Account, BootstrapOutcome, BootstrapPlan, DomainId, Project, ProjectId,
    Store, StoreError, User, UserId,
};
use openccm_testkit::{Backend, TestDb};

pub(crate) fn plan(seed: u8) -> BootstrapPlan {
    let domain_id = DomainId::from_random([seed; 16]);
    let user_id = UserId::from_random([seed.wrapping_add(1); 16]);
    BootstrapPlan {
        account: Account {
            domain_id: domain_id.clone(),
            name: format!("account-{seed}"),
            enabled: true,
            created_at: 1,
        },
        user: User {
            user_id: user_id.clone(),
            domain_id: domain_id.clone(),
            name: "admin".into(),
            password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$x$y".into()),
            is_root: true,
            enabled: true,
            credentials_version: 0,
            created_at: 1,
        },
        access_key: AccessKey {
            access_key: AccessKeyId::from_random([seed; 20]),
            user_id,
            domain_id: domain_id.clone(),
            sealed_secret: vec![seed, 1, 2, 3],
            enabled: true,
            description: "d".into(),
            created_at: 1,
        },
        project: Project {
            project_id: ProjectId::from_random([seed.wrapping_add(2); 16]),
            domain_id,
            name: "local-1".into(),
            created_at: 1,
        },
    }
}

async fn fresh(backend: Backend) -> (TestDb, Arc<dyn Store>) {
    let db = TestDb::new(backend).await;
    let store = db.open().await;
    (db, store)
}

async fn bootstrap_writes_every_record_once(backend: Backend) {
    let (_db, store) = fresh(backend).await;
    let p = plan(1);
    assert_eq!(
        store
            .bootstrap(&p, std::sync::Arc::new(|| Ok(())))
            .await
            .unwrap(),
        BootstrapOutcome::Created
    );
    assert_eq!(
        store
            .bootstrap(&plan(2), std::sync::Arc::new(|| Ok(())))
            .await
            .unwrap(),
        BootstrapOutcome::AlreadyDone {
            domain_id: p.account.domain_id.clone()
        }
    );
    assert_eq!(
        store.account(&p.account.domain_id).await.unwrap().unwrap(),
        p.account
    );
    assert_eq!(
        store.account_by_name("account-1").await.unwrap().unwrap(),
        p.account
    );
    assert!(store.account_by_name("account-2").await.unwrap().is_none());
    assert_eq!(store.user(&p.user.user_id).await.unwrap().unwrap(), p.user);
    assert_eq!(
        store
            .user_by_name(&p.account.domain_id, "admin")
            .await
            .unwrap()
            .unwrap(),
        p.user
    );
    assert_eq!(
        store
            .access_key(&p.access_key.access_key)
            .await
            .unwrap()
            .unwrap(),
        p.access_key
    );
    assert_eq!(
        store.projects(&p.account.domain_id, None).await.unwrap(),
        vec![p.project.clone()]
    );
    assert_eq!(
        store
            .projects(&p.account.domain_id, Some("local-1"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .projects(&p.account.domain_id, Some("other"))
        .await
        .unwrap()
        .is_empty());
}
openccm_testkit::both_backends!(bootstrap_writes_every_record_once);

async fn a_failing_hook_leaves_nothing_behind(backend: Backend) {
    let (_db, store) = fresh(backend).await;
    let p = plan(3);
    let err = store
        .bootstrap(&p, std::sync::Arc::new(|| Err("disk full".into())))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Aborted(ref m) if m == "disk full"),
        "{err}"
    );
    assert!(store.account(&p.account.domain_id).await.unwrap().is_none());
    assert!(store.user(&p.user.user_id).await.unwrap().is_none());
    assert!(store
        .access_key(&p.access_key.access_key)
        .await
        .unwrap()
        .is_none());
    // And a later attempt succeeds.
    assert_eq!(
        store
            .bootstrap(&p, std::sync::Arc::new(|| Ok(())))
            .await
            .unwrap(),
        BootstrapOutcome::Created
    );
}
openccm_testkit::both_backends!(a_failing_hook_leaves_nothing_behind);

async fn racing_bootstraps_create_exactly_one_administrator(backend: Backend) {
    let db = TestDb::new(backend).await;
    // Separate stores: separate pools, as separate server processes would have.
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(db.open().await);
    }
    let mut tasks = Vec::new();
    for (i, store) in stores.iter().enumerate() {
        let store = store.clone();
        let p = plan(10 + u8::try_from(i).unwrap() * 4);
        tasks.push(tokio::spawn(async move {
            store.bootstrap(&p, std::sync::Arc::new(|| Ok(()))).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() == BootstrapOutcome::Created {
            created += 1;
        }
    }
    assert_eq!(created, 1);
}
openccm_testkit::both_backends!(racing_bootstraps_create_exactly_one_administrator);

async fn key_checks_are_recorded_once_per_version(backend: Backend) {
    let (_db, store) = fresh(backend).await;
    assert!(store.key_checks().await.unwrap().is_empty());
    store.add_key_check(1, &[1; 32], 5).await.unwrap();
    store.add_key_check(1, &[2; 32], 6).await.unwrap();
    store.add_key_check(2, &[3; 32], 7).await.unwrap();
    assert_eq!(
        store.key_checks().await.unwrap(),
        vec![(1, vec![1; 32]), (2, vec![3; 32])]
    );
}
openccm_testkit::both_backends!(key_checks_are_recorded_once_per_version);

async fn reopening_keeps_the_data_and_migrations_are_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let p = plan(5);
    {
        let store = db.open().await;
        store
            .bootstrap(&p, std::sync::Arc::new(|| Ok(())))
            .await
            .unwrap();
        store.close().await;
    }
    let store = db.open().await;
    assert_eq!(store.user(&p.user.user_id).await.unwrap().unwrap(), p.user);
}
openccm_testkit::both_backends!(reopening_keeps_the_data_and_migrations_are_idempotent);

#[tokio::test]
async fn unknown_url_schemes_are_refused() {
    for url in ["mysql://localhost/x", "file:/tmp/x", "", "sqlite"] {
        assert!(
            matches!(
                openccm_store::open(url, 1).await,
                Err(StoreError::InvalidUrl(_))
            ),
            "{url}"
        );
    }
}

async fn failed_logins_count_atomically_and_lock_once(backend: Backend) {
    use openccm_store::LockoutRule;
    let (_db, store) = fresh(backend).await;
    let user = UserId::from_random([7; 16]).to_string();
    let rule = LockoutRule {
        max_failures: 5,
        window_ms: 1_000,
        lock_ms: 10_000,
    };
    assert!(store.login_failures(&user).await.unwrap().is_none());
    // Twenty failures at once, as from several servers: every one counts,
    // and exactly one of them locks (the others arrive while locked or
    // after the lock restarted the count).
    let attempts = (0..20).map(|_| {
        let store = store.clone();
        let user = user.clone();
        tokio::spawn(async move { store.record_login_failure(&user, 100, rule).await })
    });
    let mut locks = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        let state = attempt.await.unwrap().unwrap();
        locks += usize::from(state.newly_locked);
    }
    assert_eq!(locks, 1);
    let state = store.login_failures(&user).await.unwrap().unwrap();
    assert_eq!(state.locked_until, 100 + rule.lock_ms);
    // While locked nothing changes; after, the window has passed: a new count.
    let during = store
        .record_login_failure(&user, 5_000, rule)
        .await
        .unwrap();
    assert_eq!((during.failures, during.newly_locked), (0, false));
    let after = store
        .record_login_failure(&user, 100 + rule.lock_ms, rule)
        .await
        .unwrap();
    assert_eq!((after.failures, after.newly_locked), (1, false));
    store.clear_login_failures(&user).await.unwrap();
    assert!(store.login_failures(&user).await.unwrap().is_none());
}
openccm_testkit::both_backends!(failed_logins_count_atomically_and_lock_once);
