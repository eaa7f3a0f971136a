//! Authentication over HTTP: AK/SK signatures, tokens, passwords, discovery.

use axum::body::Body;
use axum::http::Request;
use openccm_testkit::sign::{Scheme, SdkRequest};
use openccm_testkit::{both_backends, TestApp};
use serde_json::json;

use crate::common::validate_token;

fn signed(
    app: &TestApp,
    scheme: Scheme,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> Request<Body> {
    SdkRequest::new(method, target, body)
        .domain_id(&app.admin.domain_id)
        .sign(
            scheme,
            &app.admin.access_key,
            &app.admin.secret_key,
            app.clock.now_ms(),
        )
}

both_backends!(
    sdk_signatures_authenticate_with_both_hmac_schemes,
    |app| async move {
        for scheme in [Scheme::HmacSha256, Scheme::HmacSm3] {
            let r = app
                .send(signed(&app, scheme, "GET", "/v3/auth/domains", None))
                .await;
            assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
            let json = r.json();
            assert_eq!(json["domains"][0]["id"], app.admin.domain_id);
            assert_eq!(json["domains"][0]["name"], "admin");
            assert_eq!(json["domains"].as_array().unwrap().len(), 1);
        }
    }
);

both_backends!(discovery_works_without_x_domain_id, |app| async move {
    // What the SDK sends when it has no domain id yet: no Content-Type, no X-Domain-Id.
    let mut request = SdkRequest::new("GET", "/v3/auth/domains", None);
    request = request.header("X-Unused", "1");
    let r = app
        .send(request.sign(
            Scheme::HmacSha256,
            &app.admin.access_key,
            &app.admin.secret_key,
            app.clock.now_ms(),
        ))
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .signed(
            "GET",
            &format!("/v3/projects?name={}", app.admin.region),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let projects = r.json()["projects"].as_array().unwrap().clone();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["id"], app.admin.project_id);
    assert_eq!(projects[0]["domain_id"], app.admin.domain_id);
    let r = app
        .signed("GET", "/v3/projects?name=elsewhere-9", None)
        .await;
    assert_eq!(r.json()["projects"].as_array().unwrap().len(), 0);
});

both_backends!(bad_signatures_are_401_in_huawei_format, |app| async move {
    let now = app.clock.now_ms();
    let ak = app.admin.access_key.clone();
    let sk = app.admin.secret_key.to_string();
    let cases: Vec<(&str, Request<Body>)> = vec![
        (
            "no credentials",
            Request::get("/v3/auth/domains")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "wrong secret key",
            SdkRequest::new("GET", "/v3/auth/domains", None).sign(
                Scheme::HmacSha256,
                &ak,
                &format!("{sk}x"),
                now,
            ),
        ),
        (
            "unknown access key",
            SdkRequest::new("GET", "/v3/auth/domains", None).sign(
                Scheme::HmacSha256,
                "NOSUCHAK000000000000",
                &sk,
                now,
            ),
        ),
        (
            "stale date",
            SdkRequest::new("GET", "/v3/auth/domains", None).sign(
                Scheme::HmacSha256,
                &ak,
                &sk,
                now - 16 * 60 * 1000,
            ),
        ),
        (
            "future date",
            SdkRequest::new("GET", "/v3/auth/domains", None).sign(
                Scheme::HmacSha256,
                &ak,
                &sk,
                now + 16 * 60 * 1000,
            ),
        ),
        (
            "malformed date",
            SdkRequest::new("GET", "/v3/auth/domains", None).sign_with_date(
                Scheme::HmacSha256,
                &ak,
                &sk,
                "2026-01-01T00:00:00Z",
            ),
        ),
        (
            "malformed authorization",
            Request::get("/v3/auth/domains")
                .header("authorization", "SDK-HMAC-SHA256 nonsense")
                .header("x-sdk-date", "20260101T000000Z")
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "unsupported scheme",
            Request::get("/v3/auth/domains")
                .header(
                    "authorization",
                    "V11-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00",
                )
                .body(Body::empty())
                .unwrap(),
        ),
        ("forged token", {
            Request::get("/v3/auth/domains")
                .header("x-auth-token", "A".repeat(123))
                .body(Body::empty())
                .unwrap()
        }),
    ];
    for (what, request) in cases {
        let r = app.send(request).await;
        let msg = r.assert_error(401, "APIGW.0301");
        assert!(
            msg.starts_with("Incorrect IAM authentication information"),
            "{what}: {msg}"
        );
        assert!(r.json()["request_id"].is_string(), "{what}");
    }
});

both_backends!(the_skew_window_is_fifteen_minutes, |app| async move {
    let now = app.clock.now_ms();
    for offset in [-14 * 60 * 1000, 14 * 60 * 1000] {
        let request = SdkRequest::new("GET", "/v3/auth/domains", None).sign(
            Scheme::HmacSha256,
            &app.admin.access_key,
            &app.admin.secret_key,
            now + offset,
        );
        assert_eq!(app.send(request).await.status, 200, "offset {offset}");
    }
});

both_backends!(tampered_requests_are_rejected, |app| async move {
    // Sign one request, then change the path, the query or a signed header.
    let base = signed(
        &app,
        Scheme::HmacSha256,
        "GET",
        "/v3/projects?name=local-1",
        None,
    );
    let (parts, _) = base.into_parts();
    let rebuild = |uri: &str, extra: Option<(&str, &str)>| {
        let mut b = Request::builder().method("GET").uri(uri);
        for (n, v) in &parts.headers {
            if extra.is_some_and(|(name, _)| n.as_str().eq_ignore_ascii_case(name)) {
                continue;
            }
            b = b.header(n, v);
        }
        if let Some((n, v)) = extra {
            b = b.header(n, v);
        }
        b.body(Body::empty()).unwrap()
    };
    assert_eq!(
        app.send(rebuild("/v3/projects?name=local-1", None))
            .await
            .status,
        200
    );
    for (what, request) in [
        ("query", rebuild("/v3/projects?name=local-2", None)),
        ("path", rebuild("/v3/auth/domains?name=local-1", None)),
        (
            "user agent",
            rebuild("/v3/projects?name=local-1", Some(("user-agent", "evil"))),
        ),
        (
            "content type",
            rebuild(
                "/v3/projects?name=local-1",
                Some(("content-type", "text/plain")),
            ),
        ),
    ] {
        app.send(request).await.assert_error(401, "APIGW.0301");
        let _ = what;
    }
});

both_backends!(a_foreign_domain_header_is_403, |app| async move {
    let request = SdkRequest::new("GET", "/v3/auth/domains", None)
        .domain_id("0123456789abcdef0123456789abcdef")
        .sign(
            Scheme::HmacSha256,
            &app.admin.access_key,
            &app.admin.secret_key,
            app.clock.now_ms(),
        );
    app.send(request).await.assert_error(403, "APIGW.0302");
    let request = SdkRequest::new("GET", "/v3/auth/domains", None)
        .header("X-Project-Id", "0123456789abcdef0123456789abcdef")
        .sign(
            Scheme::HmacSha256,
            &app.admin.access_key,
            &app.admin.secret_key,
            app.clock.now_ms(),
        );
    app.send(request).await.assert_error(403, "APIGW.0302");
    let request = SdkRequest::new("GET", "/v3/auth/domains", None)
        .header("X-Project-Id", &app.admin.project_id)
        .sign(
            Scheme::HmacSha256,
            &app.admin.access_key,
            &app.admin.secret_key,
            app.clock.now_ms(),
        );
    assert_eq!(app.send(request).await.status, 200);
});

both_backends!(password_tokens_work_and_expire, |app| async move {
    let token = app.admin_token().await;
    assert!(token.len() >= 32);
    let r = app
        .with_token(&token, "GET", "/v3/auth/domains", None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["domains"][0]["id"], app.admin.domain_id);
    // Valid until the last millisecond of its 24 hours, then refused.
    app.clock.advance(24 * 3600 * 1000 - 1);
    assert_eq!(
        app.with_token(&token, "GET", "/v3/auth/domains", None)
            .await
            .status,
        200
    );
    app.clock.advance(1);
    let r = app
        .with_token(&token, "GET", "/v3/auth/domains", None)
        .await;
    let msg = r.assert_error(401, "APIGW.0301");
    assert!(msg.contains("token expires"), "{msg}");
});

both_backends!(token_response_has_the_keystone_shape, |app| async move {
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "password": app.admin.password.as_str(), "domain": {"name": "admin"}}}},
        "scope": {"project": {"name": app.admin.region}}}});
    let r = app
        .send(
            Request::post("/v3/auth/tokens?nocatalog=true")
                .header("content-type", "application/json;charset=UTF-8")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 201);
    let t = &r.json()["token"];
    assert_eq!(t["methods"], json!(["password"]));
    assert_eq!(t["user"]["name"], "admin");
    assert_eq!(t["user"]["domain"]["id"], app.admin.domain_id);
    assert_eq!(t["project"]["id"], app.admin.project_id);
    assert!(
        t.get("catalog").is_none(),
        "nocatalog suppresses the catalog"
    );
    let expires = t["expires_at"].as_str().unwrap();
    assert_eq!(expires.len(), "2019-02-13T06:52:13.855000Z".len());
    assert!(expires.ends_with('Z'));
});

both_backends!(wrong_passwords_get_keystone_401s, |app| async move {
    for (user, password, domain) in [
        ("admin", "wrong", "admin"),
        ("nobody", app.admin.password.as_str(), "admin"),
        ("admin", app.admin.password.as_str(), "no-such-account"),
    ] {
        let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password, "domain": {"name": domain}}}}}});
        let r = app
            .send(
                Request::post("/v3/auth/tokens")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["error"]["code"], 401);
        assert!(r.header("x-subject-token").is_none());
    }
});

both_backends!(malformed_token_requests_are_400, |app| async move {
    for body in ["{", "[]", "{\"auth\": {}}", ""] {
        let r = app
            .send(
                Request::post("/v3/auth/tokens")
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json()["error"]["code"], 400);
    }
    let r = app
        .send(
            Request::post("/v3/auth/tokens")
                .header("content-type", "text/plain")
                .body(Body::from("hello"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 415);
});

both_backends!(
    an_aksk_signed_token_request_mints_a_token,
    |app| async move {
        let body = r#"{"auth": {"identity": {"methods": ["hw_ak_sk"]}}}"#;
        let r = app.signed("POST", "/v3/auth/tokens", Some(body)).await;
        assert_eq!(r.status, 201, "{:?}", String::from_utf8_lossy(&r.body));
        let token = r.header("x-subject-token").unwrap();
        assert_eq!(
            app.with_token(&token, "GET", "/v3/auth/domains", None)
                .await
                .status,
            200
        );
        // The same body unsigned is refused.
        let r = app
            .send(
                Request::post("/v3/auth/tokens")
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 401);
    }
);

both_backends!(tokens_can_be_validated_by_their_account, |app| async move {
    let token = app.admin_token().await;
    let r = validate_token(&app, &token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-subject-token").unwrap(), token);
    assert_eq!(r.json()["token"]["user"]["id"].as_str().unwrap().len(), 32);
    let r = app
        .send(
            Request::get("/v3/auth/tokens")
                .header("x-auth-token", &token)
                .header("x-subject-token", "garbage-token-garbage-token-garbage")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 404);
});

both_backends!(malformed_queries_get_json_errors, |app| async move {
    // A field given twice cannot become one value: refused in the route's
    // own error format, not as axum's plain text.
    let r = app
        .send(
            Request::post("/v3/auth/tokens?nocatalog=true&nocatalog=false")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 400);
    let body = r.json();
    assert_eq!(body["error"]["code"], 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed query string"),
        "{body}"
    );
    let r = app.signed("GET", "/v3/projects?name=a&name=b", None).await;
    assert_eq!(r.status, 400);
    let body = r.json();
    assert!(
        body["error_code"].as_str().unwrap().starts_with("APIGW."),
        "{body}"
    );
    assert!(
        body["error_msg"]
            .as_str()
            .unwrap()
            .contains("malformed query string"),
        "{body}"
    );
});
