//! PCA over HTTP: every operation and documented error, on both stores.

use std::process::Command;

use openccm_testkit::{both_backends, TestApp, TestResponse};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

fn dn(cn: &str) -> Value {
    json!({"common_name": cn, "country": "CN", "state": "Guangdong", "locality": "Shenzhen",
           "organization": "示例组织", "organizational_unit": "IT"})
}

async fn post(app: &TestApp, path: &str, body: Value) -> TestResponse {
    app.signed("POST", path, Some(&body.to_string())).await
}

async fn get(app: &TestApp, path: &str) -> TestResponse {
    app.signed("GET", path, None).await
}

fn ok(r: &TestResponse, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    if r.body.is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

async fn create_root(app: &TestApp, alg: &str, hash: &str) -> String {
    let r = post(
        app,
        "/v1/private-certificate-authorities",
        json!({"type": "ROOT", "key_algorithm": alg, "signature_algorithm": hash,
               "distinguished_name": dn(&format!("{alg} Root")), "validity": {"type": "YEAR", "value": 10}}),
    )
    .await;
    ok(&r, 200)["ca_id"].as_str().unwrap().to_owned()
}

async fn create_sub(
    app: &TestApp,
    parent: &str,
    alg: &str,
    hash: &str,
    path_length: i64,
) -> TestResponse {
    post(
        app,
        "/v1/private-certificate-authorities",
        json!({"type": "SUBORDINATE", "key_algorithm": alg, "signature_algorithm": hash, "issuer_id": parent,
               "path_length": path_length, "distinguished_name": dn(&format!("{alg} Sub")),
               "validity": {"type": "YEAR", "value": 5}}),
    )
    .await
}

async fn issue(app: &TestApp, issuer: &str, extra: Value) -> TestResponse {
    let mut body = json!({"issuer_id": issuer, "distinguished_name": {"common_name": "www.example.com"},
                          "validity": {"type": "DAY", "value": 30}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    post(app, "/v1/private-certificates", body).await
}

fn openssl(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn csr(dir: &std::path::Path, keyspec: &[&str], subject: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "req", "-new", "-nodes", "-keyout", "csr.key", "-out", "csr.pem", "-subj", subject,
    ];
    args.extend_from_slice(keyspec);
    args.extend_from_slice(extra);
    openssl(dir, &args);
    std::fs::read_to_string(dir.join("csr.pem")).unwrap()
}

both_backends!(
    a_root_ca_goes_through_its_whole_lifecycle,
    |app| async move {
        let id = create_root(&app, "EC256", "SHA256").await;
        let ca = ok(
            &get(&app, &format!("/v1/private-certificate-authorities/{id}")).await,
            200,
        );
        assert_eq!(ca["ca_id"], id);
        assert_eq!(ca["type"], "ROOT");
        assert_eq!(ca["status"], "ACTIVED");
        assert_eq!(ca["path_length"], 7);
        assert!(ca["issuer_id"].is_null() && ca["issuer_name"].is_null());
        assert_eq!(ca["key_algorithm"], "EC256");
        assert_eq!(ca["signature_algorithm"], "SHA256");
        assert_eq!(ca["gen_mode"], "GENERATE");
        assert_eq!(ca["freeze_flag"], 0);
        assert_eq!(ca["distinguished_name"]["organization"], "示例组织");
        assert_eq!(ca["domain_id"], app.admin.domain_id);
        assert_eq!(ca["enterprise_project_id"], "0");
        assert!(ca["delete_time"].is_null());
        assert_eq!(ca["crl_configuration"]["enabled"], false);
        let nb = ca["not_before"].as_i64().unwrap();
        assert_eq!(nb % 1000, 0, "whole seconds");
        assert!(ca["not_after"].as_i64().unwrap() > nb + 3650 * DAY);
        assert_eq!(ca["serial_number"].as_str().unwrap().len(), 32);

        let exported = ok(
            &post(
                &app,
                &format!("/v1/private-certificate-authorities/{id}/export"),
                json!({}),
            )
            .await,
            200,
        );
        let pem = exported["certificate"].as_str().unwrap();
        assert!(
            pem.starts_with("-----BEGIN CERTIFICATE-----\r\n"),
            "CRLF line breaks"
        );
        assert_eq!(
            exported["certificate_chain"], exported["certificate"],
            "a root's chain is itself"
        );

        // ACTIVED → DISABLED → ACTIVED; an active CA cannot be deleted.
        let path = format!("/v1/private-certificate-authorities/{id}");
        app.signed("DELETE", &path, None)
            .await
            .assert_error(400, "PCA.90030001");
        ok(
            &app.signed("POST", &format!("{path}/disable"), None).await,
            204,
        );
        assert_eq!(ok(&get(&app, &path).await, 200)["status"], "DISABLED");
        issue(&app, &id, json!({}))
            .await
            .assert_error(400, "PCA.90030001");
        ok(
            &app.signed("POST", &format!("{path}/enable"), None).await,
            204,
        );
        assert_eq!(ok(&get(&app, &path).await, 200)["status"], "ACTIVED");
        app.signed("POST", &format!("{path}/enable"), None)
            .await
            .assert_error(400, "PCA.90030001");
        // Scheduled deletion and restore.
        ok(
            &app.signed("POST", &format!("{path}/disable"), None).await,
            204,
        );
        app.signed("DELETE", &format!("{path}?pending_days=6"), None)
            .await
            .assert_error(400, "PCA.00020001");
        ok(
            &app.signed("DELETE", &format!("{path}?pending_days=7"), None)
                .await,
            204,
        );
        let deleted = ok(&get(&app, &path).await, 200);
        assert_eq!(deleted["status"], "DELETED");
        assert_eq!(
            deleted["delete_time"].as_i64().unwrap(),
            app.clock.now_ms() + 7 * DAY
        );
        ok(
            &app.signed("POST", &format!("{path}/restore"), None).await,
            204,
        );
        assert_eq!(ok(&get(&app, &path).await, 200)["status"], "DISABLED");
        // Once the deletion time passes, the CA is gone.
        ok(&app.signed("DELETE", &path, None).await, 204);
        app.clock.advance(30 * DAY + 1);
        get(&app, &path).await.assert_error(404, "PCA.10010002");
        let list = ok(&get(&app, "/v1/private-certificate-authorities").await, 200);
        assert_eq!(list["total"], 0);
    }
);

both_backends!(
    create_ca_errors_have_their_documented_codes,
    |app| async move {
        let root = |overrides: Value| {
            let mut body = json!({"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
            "distinguished_name": dn("Root"), "validity": {"type": "YEAR", "value": 10}});
            for (k, v) in overrides.as_object().unwrap() {
                if v.is_null() {
                    body.as_object_mut().unwrap().remove(k);
                } else {
                    body[k] = v.clone();
                }
            }
            body
        };
        let cases = [
            (root(json!({"type": null})), "PCA.00020001"),
            (root(json!({"type": "MIDDLE"})), "PCA.00020202"),
            (root(json!({"key_algorithm": "RSA1024"})), "PCA.00020102"),
            (root(json!({"signature_algorithm": "MD5"})), "PCA.00020103"),
            (
                root(json!({"key_algorithm": "SM2", "signature_algorithm": "SHA256"})),
                "PCA.00020103",
            ),
            (
                root(json!({"key_algorithm": "EC256", "signature_algorithm": "SM3"})),
                "PCA.00020103",
            ),
            (
                root(json!({"validity": {"type": "YEAR", "value": 31}})),
                "PCA.00020109",
            ),
            (
                root(json!({"validity": {"type": "FORTNIGHT", "value": 1}})),
                "PCA.00020109",
            ),
            (root(json!({"distinguished_name": null})), "PCA.00020001"),
            (
                root(
                    json!({"distinguished_name": {"common_name": "x", "country": "CHN", "state": "s", "locality": "l", "organization": "o", "organizational_unit": "u"}}),
                ),
                "PCA.00020101",
            ),
            (
                root(
                    json!({"distinguished_name": {"common_name": "a/b", "country": "CN", "state": "s", "locality": "l", "organization": "o", "organizational_unit": "u"}}),
                ),
                "PCA.00020101",
            ),
            (
                root(json!({"enterprise_project_id": "all"})),
                "PCA.00020001",
            ),
            (root(json!({"ca_id": "prepaid"})), "PCA.00020001"),
            (
                root(
                    json!({"crl_configuration": {"enabled": true, "valid_days": 3, "obs_bucket_name": "b"}}),
                ),
                "PCA.00020001",
            ),
        ];
        for (body, code) in cases {
            post(&app, "/v1/private-certificate-authorities", body.clone())
                .await
                .assert_error(400, code);
        }
        // Malformed JSON, wrong types, a non-JSON body.
        app.signed(
            "POST",
            "/v1/private-certificate-authorities",
            Some("{not json"),
        )
        .await
        .assert_error(400, "PCA.00020001");
        app.signed(
            "POST",
            "/v1/private-certificate-authorities",
            Some("{\"type\": 5}"),
        )
        .await
        .assert_error(400, "PCA.00020001");
        let r = app
            .send(
                openccm_testkit::sign::SdkRequest::new(
                    "POST",
                    "/v1/private-certificate-authorities",
                    Some("type=ROOT"),
                )
                .header("Content-Type", "text/plain")
                .domain_id(&app.admin.domain_id)
                .sign(
                    openccm_testkit::sign::Scheme::HmacSha256,
                    &app.admin.access_key,
                    &app.admin.secret_key,
                    app.clock.now_ms(),
                ),
            )
            .await;
        r.assert_error(415, "APIGW.9415");
        // Nothing was created by any of the refused requests.
        let list = ok(&get(&app, "/v1/private-certificate-authorities").await, 200);
        assert_eq!(list["total"], 0);
    }
);
