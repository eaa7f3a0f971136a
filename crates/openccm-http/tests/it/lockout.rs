//! Password guessing: a user locked after consecutive failures (answered like
//! any failed login, other users untouched), an address blocked after many.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use openccm_testkit::{both_backends, TestApp, TestResponse};
use serde_json::json;

use crate::common::{ok, post};

const MINUTE: i64 = 60_000;

/// A password login of `user` from `from`.
async fn login(app: &TestApp, user: &str, password: &str, from: &str) -> TestResponse {
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": app.admin.domain_name}}}}}});
    let mut request = Request::post("/v3/auth/tokens")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let peer: SocketAddr = format!("{from}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    app.send(request).await
}

async fn user(app: &TestApp, name: &str) {
    let r = post(
        app,
        "/v3/users",
        json!({"user": {"name": name, "password": "Secret-123"}}),
    )
    .await;
    ok(&r, 201);
}

/// The status and body of a refused login, which must not tell why.
fn refusal(r: &TestResponse) -> (u16, Vec<u8>) {
    assert!(r.header("x-subject-token").is_none());
    (r.status, r.body.clone())
}

both_backends!(
    five_failures_lock_the_user_and_only_that_user,
    |app| async move {
        user(&app, "alice").await;
        user(&app, "bob").await;
        let wrong = refusal(&login(&app, "alice", "Wrong-123", "192.0.2.1").await);
        assert_eq!(wrong.0, 401);
        for _ in 0..4 {
            let r = login(&app, "alice", "Wrong-123", "192.0.2.1").await;
            assert_eq!(refusal(&r), wrong);
        }
        assert_eq!(app.iam.lockout_counters().users_locked(), 1);
        // Locked: the right password is answered like a wrong one, from anywhere.
        let r = login(&app, "alice", "Secret-123", "198.51.100.7").await;
        assert_eq!(refusal(&r), wrong);
        // Bob is not affected, even from the same address.
        assert_eq!(
            login(&app, "bob", "Secret-123", "192.0.2.1").await.status,
            201
        );
        // The lock lasts 15 minutes.
        app.clock.advance(14 * MINUTE);
        assert_eq!(
            login(&app, "alice", "Secret-123", "198.51.100.7")
                .await
                .status,
            401
        );
        app.clock.advance(MINUTE + 1);
        assert_eq!(
            login(&app, "alice", "Secret-123", "198.51.100.7")
                .await
                .status,
            201
        );
    }
);

both_backends!(
    a_burst_of_parallel_guesses_checks_at_most_five_passwords,
    |app| async move {
        user(&app, "erin").await;
        let before = app.iam.lockout_counters().passwords_checked();
        let guesses = (0..40).map(|i| {
            let app = &app;
            async move {
                login(
                    app,
                    "erin",
                    &format!("Guess-{i}"),
                    &format!("198.51.100.{i}"),
                )
                .await
            }
        });
        for r in futures_util::future::join_all(guesses).await {
            assert_eq!(r.status, 401);
        }
        let checked = app.iam.lockout_counters().passwords_checked() - before;
        assert_eq!(
            checked, 5,
            "every attempt is counted before its password is checked"
        );
        assert_eq!(
            login(&app, "erin", "Secret-123", "198.51.100.200")
                .await
                .status,
            401
        );
    }
);

both_backends!(
    only_consecutive_failures_within_the_window_count,
    |app| async move {
        user(&app, "carol").await;
        for _ in 0..4 {
            assert_eq!(
                login(&app, "carol", "Wrong-123", "192.0.2.1").await.status,
                401
            );
        }
        // A success resets the count.
        assert_eq!(
            login(&app, "carol", "Secret-123", "192.0.2.1").await.status,
            201
        );
        for _ in 0..4 {
            assert_eq!(
                login(&app, "carol", "Wrong-123", "192.0.2.1").await.status,
                401
            );
        }
        // Failures older than the window start a new count.
        app.clock.advance(16 * MINUTE);
        for _ in 0..4 {
            assert_eq!(
                login(&app, "carol", "Wrong-123", "192.0.2.1").await.status,
                401
            );
        }
        assert_eq!(
            login(&app, "carol", "Secret-123", "192.0.2.1").await.status,
            201
        );
        assert_eq!(app.iam.lockout_counters().users_locked(), 0);
    }
);

both_backends!(
    an_address_guessing_many_users_is_blocked,
    |app| async move {
        // Twenty failures spread over users that exist or not, none locked.
        for i in 0..20 {
            let r = login(&app, &format!("nobody-{i}"), "Wrong-123", "203.0.113.9").await;
            assert_eq!(r.status, 401);
        }
        assert_eq!(app.iam.lockout_counters().addresses_blocked(), 1);
        let name = app.admin.user_name.clone();
        let password = app.admin.password.to_string();
        let r = login(&app, &name, &password, "203.0.113.9").await;
        assert_eq!(r.status, 401, "the blocked address is refused");
        assert_eq!(
            login(&app, &name, &password, "203.0.113.10").await.status,
            201
        );
        app.clock.advance(15 * MINUTE + 1);
        assert_eq!(
            login(&app, &name, &password, "203.0.113.9").await.status,
            201
        );
    }
);

both_backends!(
    an_administrator_setting_a_new_password_ends_the_lock,
    |app| async move {
        let r = post(
            &app,
            "/v3/users",
            json!({"user": {"name": "dave", "password": "Secret-123"}}),
        )
        .await;
        let id = ok(&r, 201)["user"]["id"].as_str().unwrap().to_owned();
        for _ in 0..5 {
            login(&app, "dave", "Wrong-123", "192.0.2.1").await;
        }
        assert_eq!(
            login(&app, "dave", "Secret-123", "192.0.2.1").await.status,
            401
        );
        let r = app
            .signed(
                "PATCH",
                &format!("/v3/users/{id}"),
                Some(&json!({"user": {"password": "Another-456"}}).to_string()),
            )
            .await;
        ok(&r, 200);
        assert_eq!(
            login(&app, "dave", "Another-456", "192.0.2.1").await.status,
            201
        );
    }
);

both_backends!(
    parallel_logins_with_the_right_password_all_succeed,
    |app| async move {
        user(&app, "frank").await;
        let logins = (0..12).map(|i| {
            let app = &app;
            async move { login(app, "frank", "Secret-123", &format!("198.51.100.{i}")).await }
        });
        for r in futures_util::future::join_all(logins).await {
            assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        }
        assert_eq!(app.iam.lockout_counters().users_locked(), 0);
    }
);
