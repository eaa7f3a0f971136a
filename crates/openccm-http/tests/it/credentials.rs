//! Credentials that end when they should: tokens bound to the access key that
//! minted them, tokens that cannot extend their own life, and the token call
//! that trusts only the credential its method names.

use axum::body::Body;
use axum::http::Request;
use openccm_testkit::sign::{Scheme, SdkRequest};
use openccm_testkit::{both_backends, TestApp, TestResponse};
use serde_json::json;

use crate::common::{ok, validate_token};

/// A fresh access key of the administrator: (AK, SK).
async fn new_admin_key(app: &TestApp) -> (String, String) {
    let token = app.admin_token().await;
    let me = validate_token(app, &token).await;
    let user_id = ok(&me, 200)["token"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"credential": {"user_id": user_id}}).to_string();
    let r = app
        .signed("POST", "/v3.0/OS-CREDENTIAL/credentials", Some(&body))
        .await;
    let c = &ok(&r, 201)["credential"];
    (
        c["access"].as_str().unwrap().to_owned(),
        c["secret"].as_str().unwrap().to_owned(),
    )
}

/// `POST /v3/auth/tokens` signed with (`ak`, `sk`).
async fn token_by_signature(app: &TestApp, ak: &str, sk: &str) -> TestResponse {
    let body = r#"{"auth": {"identity": {"methods": ["hw_ak_sk"]}}}"#;
    app.signed_as(
        ak,
        sk,
        &app.admin.domain_id,
        "POST",
        "/v3/auth/tokens",
        Some(body),
    )
    .await
}

async fn works(app: &TestApp, token: &str) -> bool {
    let r = app.with_token(token, "GET", "/v3/auth/domains", None).await;
    match r.status {
        200 => true,
        401 => false,
        other => panic!("unexpected {other}: {}", String::from_utf8_lossy(&r.body)),
    }
}

both_backends!(
    deleting_an_access_key_ends_the_tokens_it_minted,
    |app| async move {
        let (ak, sk) = new_admin_key(&app).await;
        let r = token_by_signature(&app, &ak, &sk).await;
        let token = ok(&r, 201);
        assert_eq!(token["token"]["methods"], json!(["hw_ak_sk"]));
        let token = r.header("x-subject-token").unwrap();
        // A token minted from that token carries the same binding.
        let r = app
            .with_token(
                &token,
                "POST",
                "/v3/auth/tokens",
                Some(r#"{"auth": {"identity": {"methods": ["token"]}}}"#),
            )
            .await;
        ok(&r, 201);
        let child = r.header("x-subject-token").unwrap();
        let password_token = app.admin_token().await;
        assert!(works(&app, &token).await && works(&app, &child).await);

        let r = app
            .signed(
                "DELETE",
                &format!("/v3.0/OS-CREDENTIAL/credentials/{ak}"),
                None,
            )
            .await;
        ok(&r, 204);
        assert!(
            !works(&app, &token).await,
            "the key is gone, so is its token"
        );
        assert!(!works(&app, &child).await, "and the token minted from it");
        assert!(
            works(&app, &password_token).await,
            "a password token does not depend on the key"
        );
    }
);

both_backends!(
    disabling_an_access_key_ends_its_tokens_until_enabled_again,
    |app| async move {
        let (ak, sk) = new_admin_key(&app).await;
        let r = token_by_signature(&app, &ak, &sk).await;
        ok(&r, 201);
        let token = r.header("x-subject-token").unwrap();
        let path = format!("/v3.0/OS-CREDENTIAL/credentials/{ak}");
        let set = |status: &'static str| {
            let body = json!({"credential": {"status": status}}).to_string();
            let app = &app;
            let path = path.clone();
            async move { ok(&app.signed("PUT", &path, Some(&body)).await, 200) }
        };
        set("inactive").await;
        assert!(!works(&app, &token).await);
        set("active").await;
        assert!(works(&app, &token).await);
    }
);

both_backends!(
    a_token_for_a_token_never_outlives_the_original,
    |app| async move {
        let token = app.admin_token().await;
        let original = ok(&validate_token(&app, &token).await, 200)["token"]["expires_at"]
            .as_str()
            .unwrap()
            .to_owned();
        app.clock.advance(3_600_000);
        // By header and by `identity.token.id`.
        let bodies = [
            json!({"auth": {"identity": {"methods": ["token"]}}}),
            json!({"auth": {"identity": {"methods": ["token"], "token": {"id": token}}}}),
        ];
        for body in bodies {
            let r = app
                .with_token(&token, "POST", "/v3/auth/tokens", Some(&body.to_string()))
                .await;
            let renewed = ok(&r, 201);
            assert_eq!(renewed["token"]["methods"], json!(["token"]));
            assert_eq!(renewed["token"]["expires_at"], original.as_str());
        }
        // Once the original has expired, it mints nothing.
        app.clock.advance(24 * 3_600_000);
        let r = app
            .with_token(
                &token,
                "POST",
                "/v3/auth/tokens",
                Some(r#"{"auth": {"identity": {"methods": ["token"]}}}"#),
            )
            .await;
        assert_eq!(r.status, 401);
        assert!(r.header("x-subject-token").is_none());
    }
);

both_backends!(
    the_signature_method_is_not_satisfied_by_a_token,
    |app| async move {
        let token = app.admin_token().await;
        // An X-Auth-Token beside a worthless Authorization header.
        let r = app
            .send(
                Request::post("/v3/auth/tokens")
                    .header("content-type", "application/json")
                    .header("x-auth-token", &token)
                    .header(
                        "authorization",
                        "SDK-HMAC-SHA256 Access=X, SignedHeaders=host;x-sdk-date, Signature=00",
                    )
                    .body(Body::from(
                        r#"{"auth": {"identity": {"methods": ["hw_ak_sk"]}}}"#,
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));
        assert!(r.header("x-subject-token").is_none());
        // A real signature with a token beside it: the signature counts.
        let request = SdkRequest::new(
            "POST",
            "/v3/auth/tokens",
            Some(r#"{"auth": {"identity": {"methods": ["hw_ak_sk"]}}}"#),
        )
        .domain_id(&app.admin.domain_id)
        .header("X-Auth-Token", "not-a-token")
        .sign(
            Scheme::HmacSha256,
            &app.admin.access_key,
            &app.admin.secret_key,
            app.clock.now_ms(),
        );
        ok(&app.send(request).await, 201);
    }
);

both_backends!(
    every_answer_carrying_a_secret_is_no_store,
    |app| async move {
        let no_store = |r: &TestResponse, what: &str| {
            assert_eq!(
                r.header("cache-control").as_deref(),
                Some("no-store"),
                "{what}: {}",
                String::from_utf8_lossy(&r.body)
            );
        };
        // A token (X-Subject-Token), by password and by signature.
        let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": app.admin.user_name, "password": app.admin.password.as_str(),
            "domain": {"name": app.admin.domain_name}}}}}});
        let r = app
            .send(
                Request::post("/v3/auth/tokens")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await;
        no_store(&r, "password token");
        let token = r.header("x-subject-token").unwrap();
        let r = token_by_signature(&app, &app.admin.access_key, &app.admin.secret_key).await;
        no_store(&r, "signed token");
        let r = validate_token(&app, &token).await;
        no_store(&r, "token validation");
        // A secret key.
        let me = r.json()["token"]["user"]["id"].as_str().unwrap().to_owned();
        let r = app
            .signed(
                "POST",
                "/v3.0/OS-CREDENTIAL/credentials",
                Some(&json!({"credential": {"user_id": me}}).to_string()),
            )
            .await;
        assert_eq!(r.status, 201);
        no_store(&r, "credential creation");
        // Refusals too.
        let r = app
            .with_token("forged-token", "GET", "/v3/auth/domains", None)
            .await;
        assert_eq!(r.status, 401);
        no_store(&r, "refusal");
    }
);

/// Temporary credentials: (AK, SK, security token, expires_at).
struct Temporary {
    ak: String,
    sk: String,
    token: String,
    expires_at: String,
}

async fn temporary_by_signature(app: &TestApp, ak: &str, sk: &str, duration: i64) -> TestResponse {
    let body = json!({"auth": {"identity": {"methods": ["token"],
        "token": {"duration_seconds": duration}}}});
    app.signed_as(
        ak,
        sk,
        &app.admin.domain_id,
        "POST",
        "/v3.0/OS-CREDENTIAL/securitytokens",
        Some(&body.to_string()),
    )
    .await
}

fn temporary_of(r: &TestResponse) -> Temporary {
    let c = &ok(r, 201)["credential"];
    Temporary {
        ak: c["access"].as_str().unwrap().to_owned(),
        sk: c["secret"].as_str().unwrap().to_owned(),
        token: c["securitytoken"].as_str().unwrap().to_owned(),
        expires_at: c["expires_at"].as_str().unwrap().to_owned(),
    }
}

/// A GET signed with temporary credentials; `security_token` as given.
async fn with_temporary(
    app: &TestApp,
    t: &Temporary,
    security_token: Option<&str>,
    path: &str,
) -> TestResponse {
    let mut request = SdkRequest::new("GET", path, None).domain_id(&app.admin.domain_id);
    if let Some(token) = security_token {
        request = request.header("X-Security-Token", token);
    }
    app.send(request.sign(Scheme::HmacSha256, &t.ak, &t.sk, app.clock.now_ms()))
        .await
}

const CAS: &str = "/v1/private-certificate-authorities";

both_backends!(
    temporary_credentials_work_only_with_their_security_token,
    |app| async move {
        // By signature, and by token.
        let r =
            temporary_by_signature(&app, &app.admin.access_key, &app.admin.secret_key, 900).await;
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        let t = temporary_of(&r);
        assert_eq!((t.ak.len(), t.sk.len()), (20, 40));
        assert_ne!(t.ak, app.admin.access_key);
        assert!(t.expires_at.ends_with('Z'));
        let token = app.admin_token().await;
        let by_token = app
            .with_token(
                &token,
                "POST",
                "/v3.0/OS-CREDENTIAL/securitytokens",
                Some(r#"{"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 3600}}}}"#),
            )
            .await;
        let other = temporary_of(&by_token);

        assert_eq!(
            with_temporary(&app, &t, Some(&t.token), CAS).await.status,
            200
        );
        // Without its token, with another's, with a forged one: refused.
        with_temporary(&app, &t, None, CAS)
            .await
            .assert_error(401, "APIGW.0301");
        with_temporary(&app, &t, Some(&other.token), CAS)
            .await
            .assert_error(401, "APIGW.0301");
        let mut forged = t.token.clone().into_bytes();
        forged[30] = if forged[30] == b'A' { b'B' } else { b'A' };
        with_temporary(&app, &t, Some(std::str::from_utf8(&forged).unwrap()), CAS)
            .await
            .assert_error(401, "APIGW.0301");
        // The security token is not a bearer token.
        assert!(!works(&app, &t.token).await);
        // Expiry: 900 s.
        app.clock.advance(899_000);
        assert_eq!(
            with_temporary(&app, &t, Some(&t.token), CAS).await.status,
            200
        );
        app.clock.advance(1_000);
        let msg = with_temporary(&app, &t, Some(&t.token), CAS)
            .await
            .assert_error(401, "APIGW.0301");
        assert!(msg.contains("expired"), "{msg}");
        assert_eq!(
            with_temporary(&app, &other, Some(&other.token), CAS)
                .await
                .status,
            200
        );
    }
);

both_backends!(
    temporary_credentials_end_with_their_origin,
    |app| async move {
        // Minted with a key that is then deleted.
        let (ak, sk) = new_admin_key(&app).await;
        let t = temporary_of(&temporary_by_signature(&app, &ak, &sk, 900).await);
        assert_eq!(
            with_temporary(&app, &t, Some(&t.token), CAS).await.status,
            200
        );
        let r = app
            .signed(
                "DELETE",
                &format!("/v3.0/OS-CREDENTIAL/credentials/{ak}"),
                None,
            )
            .await;
        ok(&r, 204);
        with_temporary(&app, &t, Some(&t.token), CAS)
            .await
            .assert_error(401, "APIGW.0301");
        // A user whose password changes.
        let r = app
            .signed(
                "POST",
                "/v3/users",
                Some(&json!({"user": {"name": "erin", "password": "Secret-123"}}).to_string()),
            )
            .await;
        let erin = ok(&r, 201)["user"]["id"].as_str().unwrap().to_owned();
        let r = app
            .signed(
                "POST",
                "/v3.0/OS-CREDENTIAL/credentials",
                Some(&json!({"credential": {"user_id": erin}}).to_string()),
            )
            .await;
        let c = ok(&r, 201)["credential"].clone();
        let (eak, esk) = (c["access"].as_str().unwrap(), c["secret"].as_str().unwrap());
        let t = temporary_of(&temporary_by_signature(&app, eak, esk, 900).await);
        assert_eq!(
            with_temporary(&app, &t, Some(&t.token), "/v3/auth/domains")
                .await
                .status,
            200
        );
        let r = app
            .signed(
                "PATCH",
                &format!("/v3/users/{erin}"),
                Some(&json!({"user": {"password": "Changed-456"}}).to_string()),
            )
            .await;
        ok(&r, 200);
        let msg = with_temporary(&app, &t, Some(&t.token), "/v3/auth/domains")
            .await
            .assert_error(401, "APIGW.0301");
        assert!(msg.contains("revoked"), "{msg}");
    }
);

both_backends!(
    temporary_credentials_are_bounded_and_extend_nothing,
    |app| async move {
        let (ak, sk) = (
            app.admin.access_key.clone(),
            app.admin.secret_key.to_string(),
        );
        for bad in [899, 86_401, 0, -5] {
            temporary_by_signature(&app, &ak, &sk, bad)
                .await
                .assert_error(400, "IAM.9001");
        }
        let narrowed =
            json!({"auth": {"identity": {"methods": ["token"], "policy": {"Version": "1.1"}}}});
        let r = app
            .signed(
                "POST",
                "/v3.0/OS-CREDENTIAL/securitytokens",
                Some(&narrowed.to_string()),
            )
            .await;
        assert_eq!(r.status, 400, "a narrowing policy is refused, not ignored");
        let t = temporary_of(&temporary_by_signature(&app, &ak, &sk, 900).await);
        // Temporary credentials mint no temporary credentials...
        let body = json!({"auth": {"identity": {"methods": ["token"]}}}).to_string();
        let request = SdkRequest::new("POST", "/v3.0/OS-CREDENTIAL/securitytokens", Some(&body))
            .domain_id(&app.admin.domain_id)
            .header("X-Security-Token", &t.token)
            .sign(Scheme::HmacSha256, &t.ak, &t.sk, app.clock.now_ms());
        assert_eq!(app.send(request).await.status, 403);
        // ...and a token minted with them expires with them.
        let body = r#"{"auth": {"identity": {"methods": ["hw_ak_sk"]}}}"#;
        let request = SdkRequest::new("POST", "/v3/auth/tokens", Some(body))
            .domain_id(&app.admin.domain_id)
            .header("X-Security-Token", &t.token)
            .sign(Scheme::HmacSha256, &t.ak, &t.sk, app.clock.now_ms());
        let r = app.send(request).await;
        assert_eq!(ok(&r, 201)["token"]["expires_at"], t.expires_at.as_str());
        // ...and that token mints no temporary credentials either.
        let derived = r.header("x-subject-token").unwrap();
        let sts_body = json!({"auth": {"identity": {"methods": ["token"]}}}).to_string();
        let r = app
            .with_token(
                &derived,
                "POST",
                "/v3.0/OS-CREDENTIAL/securitytokens",
                Some(&sts_body),
            )
            .await;
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        // Nor lasting credentials: no user, no access key, no password.
        let me = ok(&validate_token(&app, &derived).await, 200)["token"]["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let lasting = [
            (
                "POST",
                "/v3.0/OS-CREDENTIAL/credentials".to_owned(),
                json!({"credential": {"user_id": me}}),
            ),
            (
                "POST",
                "/v3/users".to_owned(),
                json!({"user": {"name": "mallory", "password": "Secret-123"}}),
            ),
            (
                "PATCH",
                format!("/v3/users/{me}"),
                json!({"user": {"password": "Another-456"}}),
            ),
        ];
        for (method, path, body) in lasting {
            let body = body.to_string();
            let signed_request = SdkRequest::new(method, &path, Some(&body))
                .domain_id(&app.admin.domain_id)
                .header("X-Security-Token", &t.token)
                .sign(Scheme::HmacSha256, &t.ak, &t.sk, app.clock.now_ms());
            let r = app.send(signed_request).await;
            assert_eq!(
                r.status,
                403,
                "{method} {path}: {}",
                String::from_utf8_lossy(&r.body)
            );
            let r = app.with_token(&derived, method, &path, Some(&body)).await;
            assert_eq!(
                r.status,
                403,
                "{method} {path} by token: {}",
                String::from_utf8_lossy(&r.body)
            );
        }
    }
);
