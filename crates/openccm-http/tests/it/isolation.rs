//! Tenant isolation, on both stores: a second account, over every PCA and
//! SCM route with an id, gets for the first account's ids exactly what it
//! gets for ids that do not exist; its lists, counts and tags show none of
//! the first account's resources; and nothing it tries changes them.

use crate::common::{ok, post};
use openccm_testkit::{both_backends, TestApp};
use serde_json::{json, Value};

/// The first account's resources.
struct Owned {
    ca: String,
    pending_ca: String,
    cert: String,
    scm: String,
    csr: String,
}

async fn resources(app: &TestApp) -> Owned {
    let dn = |cn: &str| {
        json!({"common_name": cn, "country": "CN", "state": "GD", "locality": "SZ",
                               "organization": "O", "organizational_unit": "U"})
    };
    let r = post(app, "/v1/private-certificate-authorities", json!({"type": "ROOT", "key_algorithm": "EC256",
        "signature_algorithm": "SHA256", "distinguished_name": dn("A Root"), "validity": {"type": "YEAR", "value": 5}})).await;
    let ca = ok(&r, 200)["ca_id"].as_str().unwrap().to_owned();
    let r = post(
        app,
        "/v1/private-certificate-authorities",
        json!({"type": "SUBORDINATE", "key_algorithm": "EC256",
        "distinguished_name": dn("A Pending")}),
    )
    .await;
    let pending_ca = ok(&r, 200)["ca_id"].as_str().unwrap().to_owned();
    let r = post(app, "/v1/private-certificates", json!({"issuer_id": ca, "key_algorithm": "EC256",
        "distinguished_name": {"common_name": "a.example.com"}, "validity": {"type": "DAY", "value": 30}})).await;
    let cert = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
    let e = ok(
        &post(
            app,
            &format!("/v1/private-certificates/{cert}/export"),
            json!({"is_compressed": "false", "type": "OTHER"}),
        )
        .await,
        200,
    );
    let r = post(
        app,
        "/v3/scm/certificates/import",
        json!({"name": "a-cert", "certificate": e["certificate"],
        "certificate_chain": e["certificate_chain"], "private_key": e["private_key"]}),
    )
    .await;
    let scm = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
    ok(
        &post(
            app,
            &format!("/v3/scm/{scm}/tags"),
            json!({"tag": {"key": "owner", "value": "a"}}),
        )
        .await,
        200,
    );
    for path in [
        format!("/v1/private-certificate-authorities/{ca}/tags"),
        format!("/v1/private-certificates/{cert}/tags"),
    ] {
        let r = post(app, &path, json!({"tag": {"key": "owner", "value": "a"}})).await;
        assert_eq!(r.status, 204, "{path}");
    }
    let r = post(
        app,
        "/v3/scm/csr",
        json!({"name": "a-csr", "domain_name": "a.example.com",
        "private_key_algo": "EC_P256", "usage": "PERSONAL"}),
    )
    .await;
    let csr = ok(&r, 201)["id"].as_str().unwrap().to_owned();
    Owned {
        ca,
        pending_ca,
        cert,
        scm,
        csr,
    }
}

both_backends!(
    another_account_sees_learns_and_changes_nothing,
    |app| async move {
        let a = resources(&app).await;
        let b = app.iam.create_account("tenant-b").await.unwrap();
        let as_b = |method: &'static str, path: String, body: Option<Value>| {
            let app = &app;
            let b = &b;
            async move {
                let body = body.map(|v| v.to_string());
                app.signed_as(
                    &b.access_key,
                    &b.secret_key,
                    &b.domain_id,
                    method,
                    &path,
                    body.as_deref(),
                )
                .await
            }
        };
        let unknown_ca = "00000000-0000-4000-8000-000000000000";
        let unknown_cert = "00000000-0000-4000-8000-000000000001";
        let unknown_scm = "scs0000000000001";
        let unknown_csr = "00000000000000000000000000000000";
        let pem = ok(
            &post(
                &app,
                &format!("/v1/private-certificate-authorities/{}/export", a.ca),
                json!({}),
            )
            .await,
            200,
        )["certificate"]
            .clone();

        // An ACME EAB key of the first account.
        let eab = ok(
            &post(
                &app,
                &format!("/v1/private-certificate-authorities/{}/acme/eab-keys", a.ca),
                json!({}),
            )
            .await,
            201,
        )["key_id"]
            .as_str()
            .unwrap()
            .to_owned();

        // (method, path with {} for the id, body, the first account's id, an unknown id)
        let cases: Vec<(&str, String, Option<Value>, &str, &str)> = vec![
            (
                "GET",
                "/v1/private-certificate-authorities/{}/acme".into(),
                None,
                &a.ca,
                unknown_ca,
            ),
            (
                "PUT",
                "/v1/private-certificate-authorities/{}/acme".into(),
                Some(json!({"enabled": true})),
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/acme/eab-keys".into(),
                Some(json!({})),
                &a.ca,
                unknown_ca,
            ),
            (
                "GET",
                "/v1/private-certificate-authorities/{}/acme/eab-keys".into(),
                None,
                &a.ca,
                unknown_ca,
            ),
            (
                "DELETE",
                format!("/v1/private-certificate-authorities/{{}}/acme/eab-keys/{eab}"),
                None,
                &a.ca,
                unknown_ca,
            ),
            (
                "GET",
                "/v1/private-certificate-authorities/{}".into(),
                None,
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/export".into(),
                Some(json!({})),
                &a.ca,
                unknown_ca,
            ),
            (
                "GET",
                "/v1/private-certificate-authorities/{}/csr".into(),
                None,
                &a.pending_ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/activate".into(),
                Some(
                    json!({"issuer_id": unknown_ca, "signature_algorithm": "SHA256", "validity": {"type": "YEAR", "value": 1}}),
                ),
                &a.pending_ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/import".into(),
                Some(json!({"certificate": pem})),
                &a.pending_ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/disable".into(),
                Some(json!({})),
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/enable".into(),
                Some(json!({})),
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/restore".into(),
                Some(json!({})),
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/revoke".into(),
                Some(json!({"reason": "KEY_COMPROMISE"})),
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/crl/enable".into(),
                Some(json!({"crl_name": "x", "valid_days": 7})),
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/crl/disable".into(),
                Some(json!({})),
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/ocsp/switch".into(),
                Some(json!({"ocsp_switch": true})),
                &a.ca,
                unknown_ca,
            ),
            (
                "DELETE",
                "/v1/private-certificate-authorities/{}?pending_days=7".into(),
                None,
                &a.ca,
                unknown_ca,
            ),
            (
                "GET",
                "/v1/private-certificates/{}".into(),
                None,
                &a.cert,
                unknown_cert,
            ),
            (
                "POST",
                "/v1/private-certificates/{}/export".into(),
                Some(json!({"is_compressed": "false", "type": "OTHER"})),
                &a.cert,
                unknown_cert,
            ),
            (
                "POST",
                "/v1/private-certificates/{}/revoke".into(),
                Some(json!({"reason": "KEY_COMPROMISE"})),
                &a.cert,
                unknown_cert,
            ),
            (
                "DELETE",
                "/v1/private-certificates/{}".into(),
                None,
                &a.cert,
                unknown_cert,
            ),
            (
                "GET",
                "/v3/scm/certificates/{}".into(),
                None,
                &a.scm,
                unknown_scm,
            ),
            (
                "POST",
                "/v3/scm/certificates/{}/export".into(),
                None,
                &a.scm,
                unknown_scm,
            ),
            (
                "DELETE",
                "/v3/scm/certificates/{}".into(),
                None,
                &a.scm,
                unknown_scm,
            ),
            ("GET", "/v3/scm/{}/tags".into(), None, &a.scm, unknown_scm),
            (
                "POST",
                "/v3/scm/{}/tags".into(),
                Some(json!({"tag": {"key": "k", "value": "v"}})),
                &a.scm,
                unknown_scm,
            ),
            (
                "POST",
                "/v3/scm/{}/tags/action".into(),
                Some(json!({"action": "delete", "tags": [{"key": "owner"}]})),
                &a.scm,
                unknown_scm,
            ),
            (
                "GET",
                "/v1/private-certificate-authorities/{}/tags".into(),
                None,
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/tags".into(),
                Some(json!({"tag": {"key": "k", "value": "v"}})),
                &a.ca,
                unknown_ca,
            ),
            (
                "POST",
                "/v1/private-certificate-authorities/{}/tags/create".into(),
                Some(json!({"tags": [{"key": "k", "value": "v"}]})),
                &a.ca,
                unknown_ca,
            ),
            (
                "DELETE",
                "/v1/private-certificate-authorities/{}/tags/delete".into(),
                Some(json!({"tags": [{"key": "owner"}]})),
                &a.ca,
                unknown_ca,
            ),
            (
                "GET",
                "/v1/private-certificates/{}/tags".into(),
                None,
                &a.cert,
                unknown_cert,
            ),
            (
                "POST",
                "/v1/private-certificates/{}/tags".into(),
                Some(json!({"tag": {"key": "k", "value": "v"}})),
                &a.cert,
                unknown_cert,
            ),
            (
                "POST",
                "/v1/private-certificates/{}/tags/create".into(),
                Some(json!({"tags": [{"key": "k", "value": "v"}]})),
                &a.cert,
                unknown_cert,
            ),
            (
                "DELETE",
                "/v1/private-certificates/{}/tags/delete".into(),
                Some(json!({"tags": [{"key": "owner"}]})),
                &a.cert,
                unknown_cert,
            ),
            ("GET", "/v3/scm/csr/{}".into(), None, &a.csr, unknown_csr),
            (
                "PUT",
                "/v3/scm/csr/{}".into(),
                Some(json!({"name": "stolen"})),
                &a.csr,
                unknown_csr,
            ),
            (
                "GET",
                "/v3/scm/csr/{}/private-key".into(),
                None,
                &a.csr,
                unknown_csr,
            ),
            ("DELETE", "/v3/scm/csr/{}".into(), None, &a.csr, unknown_csr),
        ];
        for (method, template, body, foreign, unknown) in &cases {
            let theirs = as_b(method, template.replace("{}", foreign), body.clone()).await;
            let none = as_b(method, template.replace("{}", unknown), body.clone()).await;
            assert!(
                theirs.status >= 400,
                "{method} {template}: {}",
                String::from_utf8_lossy(&theirs.body)
            );
            assert_eq!(
                (theirs.status, theirs.json()["error_code"].clone()),
                (none.status, none.json()["error_code"].clone()),
                "{method} {template}: a foreign id must answer like an unknown one"
            );
            assert!(
                !String::from_utf8_lossy(&theirs.body).contains(foreign),
                "{method} {template} echoes the id"
            );
        }
        // Issuing under, and notifying for, another account's resources.
        for (path, body) in [
            (
                "/v1/private-certificates",
                json!({"issuer_id": a.ca, "key_algorithm": "EC256",
                "distinguished_name": {"common_name": "b.example.com"}, "validity": {"type": "DAY", "value": 1}}),
            ),
            (
                "/v3/scm/notification/enable",
                json!([{"resource_id": a.scm, "notice_type": ["CERT_EXPIRED"]}]),
            ),
        ] {
            let theirs = as_b("POST", path.to_owned(), Some(body.clone())).await;
            let unknown_body = body
                .to_string()
                .replace(&a.ca, unknown_ca)
                .replace(&a.scm, unknown_scm);
            let none = as_b(
                "POST",
                path.to_owned(),
                Some(serde_json::from_str(&unknown_body).unwrap()),
            )
            .await;
            assert_eq!(
                (theirs.status, theirs.json()["error_code"].clone()),
                (none.status, none.json()["error_code"].clone()),
                "{path}"
            );
            assert_eq!(theirs.status, 404, "{path}");
        }

        // Lists, counts and tags: empty for the second account.
        let empty = [
            ("/v1/private-certificate-authorities", "total"),
            ("/v1/private-certificates", "total"),
            ("/v3/scm/certificates", "total_count"),
            ("/v3/scm/csr", "total"),
        ];
        for (path, field) in empty {
            let r = ok(&as_b("GET", path.to_owned(), None).await, 200);
            assert_eq!(r[field], 0, "{path}");
        }
        for path in [
            "/v3/scm/tags",
            "/v1/private-certificate-authorities/tags",
            "/v1/private-certificates/tags",
        ] {
            let r = ok(&as_b("GET", path.to_owned(), None).await, 200);
            assert!(r["tags"].as_array().unwrap().is_empty(), "{path}");
        }
        for path in [
            "/v1/private-certificate-authorities/resource-instances/filter",
            "/v1/private-certificate-authorities/resource-instances/count",
            "/v1/private-certificates/resource-instances/filter",
            "/v1/private-certificates/resource-instances/count",
        ] {
            let r = ok(&as_b("POST", path.to_owned(), Some(json!({}))).await, 200);
            assert_eq!(r["total_count"], 0, "{path}");
        }
        let r = ok(
            &as_b(
                "POST",
                "/v3/scm/resource_instances/action".to_owned(),
                Some(json!({"action": "count"})),
            )
            .await,
            200,
        );
        assert_eq!(r["total_count"], 0);
        let r = ok(
            &as_b("GET", "/v1/private-certificates/quotas".to_owned(), None).await,
            200,
        );
        assert_eq!(r["quotas"]["resources"][0]["used"], 0, "{r}");
        let r = ok(
            &as_b(
                "GET",
                "/v1/private-certificate-authorities/quotas".to_owned(),
                None,
            )
            .await,
            200,
        );
        assert_eq!(r["quotas"]["resources"][0]["used"], 0, "{r}");
        // Its own domain discovery names only itself.
        let r = ok(&as_b("GET", "/v3/auth/domains".to_owned(), None).await, 200);
        assert_eq!(r["domains"].as_array().unwrap().len(), 1);
        assert_eq!(r["domains"][0]["id"], b.domain_id);
        // And its X-Domain-Id must be its own.
        let r = app
            .signed_as(
                &b.access_key,
                &b.secret_key,
                &app.admin.domain_id,
                "GET",
                "/v3/scm/certificates",
                None,
            )
            .await;
        assert!(r.status == 401 || r.status == 403, "{}", r.status);

        // Nothing of the first account changed.
        let ca = ok(
            &app.signed(
                "GET",
                &format!("/v1/private-certificate-authorities/{}", a.ca),
                None,
            )
            .await,
            200,
        );
        assert_eq!(ca["status"], "ACTIVED");
        assert_eq!(ca["crl_configuration"]["enabled"], false);
        let cert = ok(
            &app.signed("GET", &format!("/v1/private-certificates/{}", a.cert), None)
                .await,
            200,
        );
        assert_eq!(cert["status"], "ISSUED");
        ok(
            &app.signed("GET", &format!("/v3/scm/certificates/{}", a.scm), None)
                .await,
            200,
        );
        let tags = ok(
            &app.signed("GET", &format!("/v3/scm/{}/tags", a.scm), None)
                .await,
            200,
        );
        assert_eq!(tags["tags"], json!([{"key": "owner", "value": "a"}]));
        for path in [
            format!("/v1/private-certificate-authorities/{}/tags", a.ca),
            format!("/v1/private-certificates/{}/tags", a.cert),
        ] {
            let tags = ok(&app.signed("GET", &path, None).await, 200);
            assert_eq!(
                tags["tags"],
                json!([{"key": "owner", "value": "a"}]),
                "{path}"
            );
        }
        let csr = ok(
            &app.signed("GET", &format!("/v3/scm/csr/{}", a.csr), None)
                .await,
            200,
        );
        assert_eq!(csr["name"], "a-csr");
        // ACME stayed off, and the one EAB key is still there.
        let path = format!("/v1/private-certificate-authorities/{}/acme", a.ca);
        let acme = ok(&app.signed("GET", &path, None).await, 200);
        assert_eq!(acme["acme"]["enabled"], false);
        let keys = ok(
            &app.signed("GET", &format!("{path}/eab-keys"), None).await,
            200,
        );
        assert_eq!(keys["eab_keys"].as_array().unwrap().len(), 1);
        assert_eq!(keys["eab_keys"][0]["key_id"], eab.as_str());
        // The first account's lists do not show the second's either.
        let r = post(
            &app,
            "/v3/scm/csr",
            json!({"name": "mine", "domain_name": "a2.example.com",
            "private_key_algo": "EC_P256", "usage": "PERSONAL"}),
        )
        .await;
        ok(&r, 201);
        let r = ok(&as_b("GET", "/v3/scm/csr".to_owned(), None).await, 200);
        assert_eq!(r["total"], 0);
    }
);
