//! The web console's files and sessions (`crates/openccm-http/src/console/`):
//! what the browser is served, the session cookie and its anti-forgery
//! header, sign-out on every server, and what the console may show a user.
//! The console in a real browser is `crates/openccm-server/tests/it/console.rs`.

use axum::body::Body;
use axum::http::Request;
use openccm_http::HttpSettings;
use openccm_testkit::{both_backends, TestApp, TestResponse};
use serde_json::{json, Value};

use crate::common::ok;
use crate::policies::{attach, member, policy};

const COOKIE: &str = "openccm_session";

async fn sign_in(app: &TestApp, user: &str, password: &str) -> TestResponse {
    app.send(
        Request::post("/console/session")
            .header("content-type", "application/json")
            .header("x-openccm-csrf", "sign-in")
            .body(Body::from(
                json!({"domain": app.admin.domain_name, "user": user, "password": password})
                    .to_string(),
            ))
            .unwrap(),
    )
    .await
}

/// The session cookie's value in a sign-in answer, and its attributes.
fn session_cookie(r: &TestResponse, name: &str) -> (String, String) {
    let set = r.header("set-cookie").expect("a Set-Cookie header");
    let (pair, attributes) = set.split_once(';').unwrap();
    let (cookie_name, value) = pair.split_once('=').unwrap();
    assert_eq!(cookie_name, name);
    (value.to_owned(), attributes.to_owned())
}

/// A call with a session cookie and, if given, an anti-forgery value.
async fn with_session(
    app: &TestApp,
    method: &str,
    uri: &str,
    cookie: &str,
    csrf: Option<&str>,
) -> TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("cookie", format!("theme=dark; {COOKIE}={cookie}"));
    if let Some(csrf) = csrf {
        request = request.header("x-openccm-csrf", csrf);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// A JSON POST made with a console session: its cookie and anti-forgery
/// value.
async fn session_post(
    app: &TestApp,
    uri: &str,
    cookie: &str,
    csrf: &str,
    body: &serde_json::Value,
) -> TestResponse {
    app.send(
        Request::post(uri)
            .header("cookie", format!("{COOKIE}={cookie}"))
            .header("x-openccm-csrf", csrf)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// `value` with its last character changed.
fn altered(value: &str) -> String {
    let (head, last) = value.split_at(value.len() - 1);
    format!("{head}{}", if last == "A" { "B" } else { "A" })
}

async fn get_plain(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = Request::get(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

both_backends!(
    the_console_is_served_from_the_binary_under_a_strict_policy,
    |app| async move {
        let page = get_plain(&app, "/console/", &[]).await;
        assert_eq!(page.status, 200);
        assert_eq!(
            page.header("content-type").unwrap(),
            "text/html; charset=utf-8"
        );
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(page.header("x-frame-options").unwrap(), "DENY");
        assert_eq!(page.header("x-content-type-options").unwrap(), "nosniff");
        let body = String::from_utf8(page.body.clone()).unwrap();
        assert!(body.contains("/console/app.js"));
        // Every file the page loads is here; none comes from elsewhere.
        let script = get_plain(&app, "/console/app.js", &[]).await;
        assert_eq!(script.status, 200);
        assert!(script
            .header("content-type")
            .unwrap()
            .starts_with("text/javascript"));
        let text = String::from_utf8(script.body.clone()).unwrap();
        assert!(!text.contains("http://") && !text.contains("https://"));
        // Revalidated by ETag.
        let etag = script.header("etag").unwrap();
        let again = get_plain(&app, "/console/app.js", &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
        // Unknown files are the API's 404; /console goes to /console/.
        get_plain(&app, "/console/../v3/users", &[])
            .await
            .assert_error(404, "APIGW.0101");
        get_plain(&app, "/console/secret.toml", &[])
            .await
            .assert_error(404, "APIGW.0101");
        let redirect = get_plain(&app, "/console", &[]).await;
        assert_eq!(redirect.status, 308);
        assert_eq!(redirect.header("location").unwrap(), "/console/");
    }
);

both_backends!(
    a_session_lives_in_a_cookie_and_needs_its_header,
    |app| async move {
        // Nobody signed in: no refusal, nothing recorded.
        let nobody = get_plain(&app, "/console/session", &[]).await;
        assert_eq!(nobody.status, 204);
        assert_eq!(nobody.header("cache-control").unwrap(), "no-store");

        // Only the console's own page signs in: the header (which a page of
        // another origin cannot send without a preflight) and no cross-site
        // fetch metadata.
        let form = json!({"domain": app.admin.domain_name, "user": app.admin.user_name,
            "password": app.admin.password.as_str()})
        .to_string();
        let bare = app
            .send(
                Request::post("/console/session")
                    .header("content-type", "application/json")
                    .body(Body::from(form.clone()))
                    .unwrap(),
            )
            .await;
        bare.assert_error(401, "APIGW.0301");
        assert!(bare.header("set-cookie").is_none());
        let sibling = app
            .send(
                Request::post("/console/session")
                    .header("content-type", "application/json")
                    .header("x-openccm-csrf", "sign-in")
                    .header("sec-fetch-site", "same-site")
                    .body(Body::from(form))
                    .unwrap(),
            )
            .await;
        sibling.assert_error(401, "APIGW.0301");
        // A wrong password: the API's 401, no cookie.
        let refused = sign_in(&app, &app.admin.user_name, "Wrong-123").await;
        refused.assert_error(401, "APIGW.0301");
        assert!(refused.header("set-cookie").is_none());

        let r = sign_in(&app, &app.admin.user_name, &app.admin.password).await;
        let session = ok(&r, 200);
        assert_eq!(r.header("cache-control").unwrap(), "no-store");
        let (cookie, attributes) = session_cookie(&r, COOKIE);
        for attribute in ["Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=86400"] {
            assert!(attributes.contains(attribute), "{attributes}");
        }
        // Plain HTTP: not Secure (the browser would drop it).
        assert!(!attributes.contains("Secure"));
        let csrf = session["csrf"].as_str().unwrap().to_owned();
        assert_eq!(csrf.len(), 43);
        assert_eq!(session["user_name"], app.admin.user_name.as_str());
        assert_eq!(session["is_admin"], true);
        assert_eq!(session["may"]["pca:ca:issueCert"], true);

        let cas = "/v1/private-certificate-authorities";
        // The cookie alone, or with a wrong value, is refused.
        with_session(&app, "GET", cas, &cookie, None)
            .await
            .assert_error(401, "APIGW.0301");
        let wrong = altered(&csrf);
        with_session(&app, "GET", cas, &cookie, Some(&wrong))
            .await
            .assert_error(401, "APIGW.0301");
        ok(
            &with_session(&app, "GET", cas, &cookie, Some(&csrf)).await,
            200,
        );
        // Writes too: the console acts through the API as the user.
        let created = session_post(
            &app,
            "/v1/private-certificates/csr/parse",
            &cookie,
            &csrf,
            &json!({"csr": "not a csr"}),
        )
        .await;
        assert_eq!(
            created.status, 400,
            "authenticated, then refused as a bad CSR"
        );

        // The session's token is no X-Auth-Token, and an API token no session
        // (even with the value that would go with it).
        app.with_token(&cookie, "GET", cas, None)
            .await
            .assert_error(401, "APIGW.0301");
        let token = app.admin_token().await;
        let token_csrf = app.iam.console_csrf(&token);
        with_session(&app, "GET", cas, &token, Some(&token_csrf))
            .await
            .assert_error(401, "APIGW.0301");
        // A page of another site or origin is refused even with the value.
        let cross = app
            .send(
                Request::get(cas)
                    .header("cookie", format!("{COOKIE}={cookie}"))
                    .header("x-openccm-csrf", &csrf)
                    .header("sec-fetch-site", "same-site")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        cross.assert_error(401, "APIGW.0301");
        // A console session mints no temporary credentials (they would outlive
        // its sign-out).
        let sts = session_post(
            &app,
            "/v3.0/OS-CREDENTIAL/securitytokens",
            &cookie,
            &csrf,
            &json!({"auth": {"identity": {"methods": ["token"],
                "token": {"duration_seconds": 900}}}}),
        )
        .await;
        assert!(
            sts.status == 403 && String::from_utf8_lossy(&sts.body).contains("console session"),
            "{} {}",
            sts.status,
            String::from_utf8_lossy(&sts.body)
        );
        with_session(&app, "GET", "/console/session", &token, None)
            .await
            .assert_error(401, "APIGW.0301");

        // A reloaded page asks who is signed in, and gets the value again.
        let again = ok(
            &with_session(&app, "GET", "/console/session", &cookie, None).await,
            200,
        );
        assert_eq!(again["csrf"], csrf.as_str());
        assert_eq!(again["expires_at"], session["expires_at"]);

        // Signing out needs the header, then ends the session everywhere.
        with_session(&app, "DELETE", "/console/session", &cookie, None)
            .await
            .assert_error(401, "APIGW.0301");
        let out = with_session(&app, "DELETE", "/console/session", &cookie, Some(&csrf)).await;
        assert_eq!(out.status, 204);
        let (cleared, attributes) = session_cookie(&out, COOKIE);
        assert!(cleared.is_empty() && attributes.contains("Max-Age=0"));
        with_session(&app, "GET", cas, &cookie, Some(&csrf))
            .await
            .assert_error(401, "APIGW.0301");
        let stale = with_session(&app, "GET", "/console/session", &cookie, None).await;
        stale.assert_error(401, "APIGW.0301");
        // The browser is told to drop the dead cookie.
        let (dropped, attributes) = session_cookie(&stale, COOKIE);
        assert!(dropped.is_empty() && attributes.contains("Max-Age=0"));
        // No other spelling of the signed-out token brings it back.
        for spelling in [
            format!(" {cookie}"),
            format!("{cookie} "),
            format!("{cookie}\t"),
        ] {
            let value = app.iam.console_csrf(&spelling);
            with_session(&app, "GET", cas, &spelling, Some(&value))
                .await
                .assert_error(401, "APIGW.0301");
        }
        // Another session of the same user goes on.
        let r = sign_in(&app, &app.admin.user_name, &app.admin.password).await;
        let (other, _) = session_cookie(&r, COOKIE);
        let other_csrf = ok(&r, 200)["csrf"].as_str().unwrap().to_owned();
        assert_ne!(other_csrf, csrf);
        ok(
            &with_session(&app, "GET", cas, &other, Some(&other_csrf)).await,
            200,
        );

        // Sign-ins, refused or not, and sign-outs are in the audit trail.
        let mut events = Vec::new();
        for _ in 0..50 {
            events = app.store.audit_events(0, 10_000).await.unwrap();
            if events
                .iter()
                .filter(|e| e.event.action == "POST /console/session")
                .count()
                >= 5
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let results: Vec<(&str, &str)> = events
            .iter()
            .filter(|e| e.event.action.ends_with(" /console/session"))
            .map(|e| (e.event.action.as_str(), e.event.result.as_str()))
            .collect();
        assert_eq!(
            results,
            [
                ("POST /console/session", "401 APIGW.0301"),
                ("POST /console/session", "401 APIGW.0301"),
                ("POST /console/session", "401 APIGW.0301"),
                ("POST /console/session", "200"),
                // The API token presented as a session: refused, so recorded.
                ("GET /console/session", "401 APIGW.0301"),
                ("DELETE /console/session", "401 APIGW.0301"),
                ("DELETE /console/session", "204"),
                ("GET /console/session", "401 APIGW.0301"),
                ("POST /console/session", "200"),
            ]
        );
        let signed_out = events
            .iter()
            .find(|e| e.event.action == "DELETE /console/session" && e.event.result == "204")
            .unwrap();
        assert_eq!(signed_out.event.domain_id, app.admin.domain_id);
    }
);

both_backends!(
    the_console_shows_what_the_policies_allow,
    |app| async move {
        let reader = member(&app, "reader").await;
        let reads = policy(
            &app,
            "certificate-reader",
            json!([{"Effect": "Allow", "Action": ["pca:cert:get", "pca:cert:list"]}]),
        )
        .await;
        attach(&app, &reads, &reader).await;
        let r = sign_in(&app, "reader", "Secret-123").await;
        let session = ok(&r, 200);
        assert_eq!(session["is_admin"], false);
        let may = &session["may"];
        assert_eq!(may["pca:cert:list"], true);
        for refused in [
            "pca:ca:issueCert",
            "pca:ca:issueCertByCsr",
            "pca:cert:revoke",
            "pca:ca:create",
        ] {
            assert_eq!(may[refused], false, "{refused}");
        }
        // And the API refuses what the console does not offer.
        let (cookie, _) = session_cookie(&r, COOKIE);
        let csrf = session["csrf"].as_str().unwrap();
        let issue = session_post(
            &app,
            "/v1/private-certificates",
            &cookie,
            csrf,
            &json!({"issuer_id": "00000000-0000-0000-0000-000000000000",
                "distinguished_name": {"common_name": "x"},
                "validity": {"type": "DAY", "value": 1}}),
        )
        .await;
        issue.assert_error(403, "PCA.90010003");
        // A password change ends the session, as it ends tokens.
        let changed: Value = ok(
            &app.signed(
                "PATCH",
                &format!("/v3/users/{}", reader.user_id),
                Some(&json!({"user": {"password": "Changed-456"}}).to_string()),
            )
            .await,
            200,
        );
        assert_eq!(changed["user"]["id"], reader.user_id.as_str());
        with_session(&app, "GET", "/v1/private-certificates", &cookie, Some(csrf))
            .await
            .assert_error(401, "APIGW.0301");
    }
);

async fn secure_cookies_over_tls(backend: openccm_testkit::Backend) {
    let app = TestApp::with_settings(
        backend,
        HttpSettings {
            secure_cookies: true,
            ..HttpSettings::default()
        },
    )
    .await;
    let r = sign_in(&app, &app.admin.user_name, &app.admin.password).await;
    let (cookie, attributes) = session_cookie(&r, "__Host-openccm_session");
    assert!(attributes.contains("Secure") && attributes.contains("Path=/"));
    let csrf = ok(&r, 200)["csrf"].as_str().unwrap().to_owned();
    // A cookie of the plain name (planted by a subdomain over HTTP, say)
    // is not read.
    assert_eq!(
        with_session(&app, "GET", "/console/session", &cookie, None)
            .await
            .status,
        204
    );
    with_session(
        &app,
        "GET",
        "/v1/private-certificate-authorities",
        &cookie,
        Some(&csrf),
    )
    .await
    .assert_error(401, "APIGW.0301");
    let r = app
        .send(
            Request::get("/v1/private-certificate-authorities")
                .header("cookie", format!("__Host-openccm_session={cookie}"))
                .header("x-openccm-csrf", &csrf)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    ok(&r, 200);
}

both_backends!(secure_cookies_over_tls);

both_backends!(
    the_decoded_certificate_is_shown_to_who_may_show_it,
    |app| async move {
        let r = crate::common::post(
            &app,
            "/v1/private-certificate-authorities",
            json!({"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
                "distinguished_name": {"common_name": "Decoded Root", "country": "CN",
                    "state": "GD", "locality": "SZ", "organization": "O", "organizational_unit": "OU"},
                "validity": {"type": "YEAR", "value": 1}}),
        )
        .await;
        let ca = ok(&r, 200)["ca_id"].as_str().unwrap().to_owned();
        let r = crate::common::post(
            &app,
            "/v1/private-certificates",
            json!({"issuer_id": ca, "distinguished_name": {"common_name": "decoded.example"},
                "subject_alternative_names": [{"type": "DNS", "value": "decoded.example"}],
                "validity": {"type": "DAY", "value": 30}}),
        )
        .await;
        let cert = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let path = format!("/console/certificates/{cert}");

        // Any credential of the account's that may show it (here the
        // administrator's signature): OpenSSL's text, never the key or PEM.
        let r = crate::common::get(&app, &path).await;
        let body = ok(&r, 200);
        assert_eq!(r.header("cache-control").unwrap(), "no-store");
        let text = body["text"].as_str().unwrap();
        assert!(
            text.contains("CN=decoded.example") && text.contains("DNS:decoded.example"),
            "{text}"
        );
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
        assert!(!text.contains("PRIVATE KEY") && !text.contains("BEGIN CERTIFICATE"));

        // A user whose policies do not allow showing it: 403; with
        // pca:cert:get: 200 (revoked certificates too).
        let reader = member(&app, "decoder").await;
        reader
            .call(&app, "GET", &path, None)
            .await
            .assert_error(403, "PCA.90010003");
        let gets = policy(
            &app,
            "cert-getter",
            json!([{"Effect": "Allow", "Action": ["pca:cert:get"]}]),
        )
        .await;
        attach(&app, &gets, &reader).await;
        ok(&reader.call(&app, "GET", &path, None).await, 200);
        let r = crate::common::post(
            &app,
            &format!("/v1/private-certificates/{cert}/revoke"),
            json!({}),
        )
        .await;
        assert_eq!(r.status, 204);
        ok(&reader.call(&app, "GET", &path, None).await, 200);

        // Another account learns nothing; unknown and malformed ids.
        let b = app.iam.create_account("tenant-b").await.unwrap();
        app.signed_as(
            &b.access_key,
            &b.secret_key,
            &b.domain_id,
            "GET",
            &path,
            None,
        )
        .await
        .assert_error(404, "PCA.10010002");
        crate::common::get(
            &app,
            "/console/certificates/00000000-0000-4000-8000-000000000001",
        )
        .await
        .assert_error(404, "PCA.10010002");
        crate::common::get(&app, "/console/certificates/nope")
            .await
            .assert_error(400, "PCA.90020001");
        // Unauthenticated: the gateway's 401.
        get_plain(&app, &path, &[])
            .await
            .assert_error(401, "APIGW.0301");
    }
);
