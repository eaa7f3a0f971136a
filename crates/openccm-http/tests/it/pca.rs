//! PCA over HTTP: every operation and documented error, on both stores.

use std::process::Command;

use crate::common::{get, ok, post, run};
use openccm_testkit::{both_backends, TestApp, TestResponse};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

fn dn(cn: &str) -> Value {
    json!({"common_name": cn, "country": "CN", "state": "Guangdong", "locality": "Shenzhen",
           "organization": "示例组织", "organizational_unit": "IT"})
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

/// Issues with `issue` (which must succeed) and returns the certificate id.
async fn issued(app: &TestApp, issuer: &str, extra: Value) -> String {
    ok(&issue(app, issuer, extra).await, 200)["certificate_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn openssl(dir: &std::path::Path, args: &[&str]) -> String {
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

pub(crate) fn csr(
    dir: &std::path::Path,
    keyspec: &[&str],
    subject: &str,
    extra: &[&str],
) -> String {
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

both_backends!(subordinates_are_signed_now_or_later, |app| async move {
    let root = create_root(&app, "RSA2048", "SHA256").await;
    // Signed at once.
    let sub = ok(&create_sub(&app, &root, "EC256", "SHA384", 1).await, 200)["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = ok(
        &get(&app, &format!("/v1/private-certificate-authorities/{sub}")).await,
        200,
    );
    assert_eq!(shown["status"], "ACTIVED");
    assert_eq!(shown["type"], "SUBORDINATE");
    assert_eq!(shown["issuer_id"], root);
    assert_eq!(shown["issuer_name"], "RSA2048 Root");
    assert_eq!(shown["path_length"], 1);
    assert_eq!(shown["signature_algorithm"], "SHA384");
    let exported = ok(
        &post(
            &app,
            &format!("/v1/private-certificate-authorities/{sub}/export"),
            json!({}),
        )
        .await,
        200,
    );
    let root_pem = ok(
        &post(
            &app,
            &format!("/v1/private-certificate-authorities/{root}/export"),
            json!({}),
        )
        .await,
        200,
    )["certificate"]
        .clone();
    assert_eq!(
        exported["certificate_chain"], root_pem,
        "a subordinate's chain is its parent"
    );
    // Path length: the sub (1) may sign a sub with 0, which may sign none.
    let sub2 = ok(&create_sub(&app, &sub, "EC256", "SHA256", 0).await, 200)["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    create_sub(&app, &sub, "EC256", "SHA256", 1)
        .await
        .assert_error(400, "PCA.00020001");
    create_sub(&app, &sub2, "EC256", "SHA256", 0)
        .await
        .assert_error(400, "PCA.00020001");
    create_sub(&app, &root, "EC256", "SHA256", 7)
        .await
        .assert_error(400, "PCA.00020001");
    // The parent's key decides the hash: an RSA parent cannot sign with SM3.
    create_sub(&app, &root, "SM2", "SM3", 0)
        .await
        .assert_error(400, "PCA.00020103");
    // Validity beyond the parent's is refused.
    let too_long = post(
        &app,
        "/v1/private-certificate-authorities",
        json!({"type": "SUBORDINATE", "key_algorithm": "EC256",
        "signature_algorithm": "SHA256", "issuer_id": sub, "distinguished_name": dn("Long"),
        "validity": {"type": "YEAR", "value": 6}}),
    )
    .await;
    too_long.assert_error(400, "PCA.00020109");
    // Unknown and malformed parents.
    create_sub(
        &app,
        "00000000-0000-4000-8000-000000000000",
        "EC256",
        "SHA256",
        0,
    )
    .await
    .assert_error(404, "PCA.10010002");
    create_sub(&app, "not-a-ca", "EC256", "SHA256", 0)
        .await
        .assert_error(400, "PCA.00020201");

    // Left pending, then activated by a parent.
    let pending = ok(
        &post(
            &app,
            "/v1/private-certificate-authorities",
            json!({"type": "SUBORDINATE", "key_algorithm": "EC384",
        "distinguished_name": dn("Pending Sub")}),
        )
        .await,
        200,
    )["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/private-certificate-authorities/{pending}");
    let shown = ok(&get(&app, &path).await, 200);
    assert_eq!(shown["status"], "PENDING");
    assert!(shown["not_after"].is_null() && shown["serial_number"].is_null());
    post(&app, &format!("{path}/export"), json!({}))
        .await
        .assert_error(400, "PCA.90030001");
    let csr = ok(&get(&app, &format!("{path}/csr")).await, 200)["csr"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----\r\n"));
    let parsed = ok(
        &post(
            &app,
            "/v1/private-certificates/csr/parse",
            json!({"csr": csr}),
        )
        .await,
        200,
    );
    assert_eq!(parsed["key_algorithm"], "EC");
    assert_eq!(parsed["key_algorithm_length"], 384);
    assert_eq!(parsed["signature_algorithm"], "SHA384withECDSA");
    assert_eq!(parsed["distinguished_name"]["common_name"], "Pending Sub");
    post(
        &app,
        &format!("{path}/activate"),
        json!({"issuer_id": root, "signature_algorithm": "SHA256"}),
    )
    .await
    .assert_error(400, "PCA.00020109");
    ok(
        &post(
            &app,
            &format!("{path}/activate"),
            json!({"issuer_id": root, "signature_algorithm": "SHA256",
        "validity": {"type": "YEAR", "value": 2}, "path_length": 0}),
        )
        .await,
        204,
    );
    let shown = ok(&get(&app, &path).await, 200);
    assert_eq!(shown["status"], "ACTIVED");
    assert_eq!(shown["issuer_id"], root);
    get(&app, &format!("{path}/csr"))
        .await
        .assert_error(400, "PCA.90030001");
    post(
        &app,
        &format!("{path}/activate"),
        json!({"issuer_id": root, "signature_algorithm": "SHA256",
        "validity": {"type": "YEAR", "value": 2}}),
    )
    .await
    .assert_error(400, "PCA.90030001");
    // A pending CA is deleted at once.
    let gone = ok(
        &post(
            &app,
            "/v1/private-certificate-authorities",
            json!({"type": "SUBORDINATE", "key_algorithm": "EC256",
        "distinguished_name": dn("Short-lived")}),
        )
        .await,
        200,
    )["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &app.signed(
            "DELETE",
            &format!("/v1/private-certificate-authorities/{gone}"),
            None,
        )
        .await,
        204,
    );
    get(&app, &format!("/v1/private-certificate-authorities/{gone}"))
        .await
        .assert_error(404, "PCA.10010002");

    // Listing: filters, sorting, pagination.
    let all = ok(
        &get(&app, "/v1/private-certificate-authorities?limit=100").await,
        200,
    );
    assert_eq!(all["total"], 4);
    let roots = ok(
        &get(&app, "/v1/private-certificate-authorities?type=ROOT").await,
        200,
    );
    assert_eq!(roots["total"], 1);
    let page = ok(&get(&app, "/v1/private-certificate-authorities?limit=2&offset=1&sort_key=common_name&sort_dir=ASC").await, 200);
    assert_eq!(page["total"], 4);
    let names: Vec<&str> = page["certificate_authorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["distinguished_name"]["common_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["EC256 Sub", "Pending Sub"]);
    let by_name = ok(
        &get(&app, "/v1/private-certificate-authorities?name=pending").await,
        200,
    );
    assert_eq!(by_name["total"], 1);
    let none = ok(
        &get(&app, "/v1/private-certificate-authorities?name=%25").await,
        200,
    );
    assert_eq!(none["total"], 0, "LIKE wildcards in the filter are literal");
    for bad in [
        "limit=1001",
        "limit=-1",
        "offset=-1",
        "limit=ten",
        "status=SLEEPING",
        "type=LEAF",
        "sort_key=serial",
        "sort_dir=UP",
    ] {
        let r = get(&app, &format!("/v1/private-certificate-authorities?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let quota = ok(
        &get(&app, "/v1/private-certificate-authorities/quotas").await,
        200,
    );
    assert_eq!(
        quota["quotas"]["resources"][0]["type"],
        "CERTIFICATE_AUTHORITY"
    );
    assert_eq!(quota["quotas"]["resources"][0]["used"], 4);
    assert_eq!(quota["quotas"]["resources"][0]["quota"], 100);
});

both_backends!(
    an_externally_signed_certificate_is_imported_only_when_it_fits,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let pending = ok(
            &post(
                &app,
                "/v1/private-certificate-authorities",
                json!({"type": "SUBORDINATE", "key_algorithm": "RSA2048",
        "distinguished_name": dn("Imported Sub")}),
            )
            .await,
            200,
        )["ca_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/v1/private-certificate-authorities/{pending}");
        let csr = ok(&get(&app, &format!("{path}/csr")).await, 200)["csr"]
            .as_str()
            .unwrap()
            .to_owned();
        std::fs::write(d.join("sub.csr"), &csr).unwrap();
        // An external root (OpenSSL) signs the CSR as a CA.
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ext.key",
                "-out",
                "ext.pem",
                "-days",
                "3650",
                "-subj",
                "/CN=External Root",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        std::fs::write(d.join("ca.cnf"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n").unwrap();
        std::fs::write(d.join("leaf.cnf"), "basicConstraints=critical,CA:FALSE\n").unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "sub.csr",
                "-CA",
                "ext.pem",
                "-CAkey",
                "ext.key",
                "-CAcreateserial",
                "-days",
                "365",
                "-extfile",
                "ca.cnf",
                "-out",
                "sub.pem",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "sub.csr",
                "-CA",
                "ext.pem",
                "-CAkey",
                "ext.key",
                "-CAcreateserial",
                "-days",
                "365",
                "-extfile",
                "leaf.cnf",
                "-out",
                "notca.pem",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "other.key",
                "-out",
                "other.pem",
                "-days",
                "30",
                "-subj",
                "/CN=Other",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
            ],
        );
        let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
        let import = |cert: String, chain: Option<String>| {
            let mut body = json!({"certificate": cert});
            if let Some(c) = chain {
                body["certificate_chain"] = json!(c);
            }
            body
        };
        // Not a CA, another key, a chain that does not link, no chain, garbage.
        post(
            &app,
            &format!("{path}/import"),
            import(read("notca.pem"), Some(read("ext.pem"))),
        )
        .await
        .assert_error(400, "PCA.90020003");
        post(
            &app,
            &format!("{path}/import"),
            import(read("other.pem"), Some(read("other.pem"))),
        )
        .await
        .assert_error(400, "PCA.90020003");
        post(
            &app,
            &format!("{path}/import"),
            import(read("sub.pem"), Some(read("other.pem"))),
        )
        .await
        .assert_error(400, "PCA.90020003");
        post(
            &app,
            &format!("{path}/import"),
            import(read("sub.pem"), None),
        )
        .await
        .assert_error(400, "PCA.00020001");
        post(
            &app,
            &format!("{path}/import"),
            import("garbage".into(), Some(read("ext.pem"))),
        )
        .await
        .assert_error(400, "PCA.90020003");
        assert_eq!(ok(&get(&app, &path).await, 200)["status"], "PENDING");
        // The right one.
        ok(
            &post(
                &app,
                &format!("{path}/import"),
                import(read("sub.pem"), Some(read("ext.pem"))),
            )
            .await,
            204,
        );
        let shown = ok(&get(&app, &path).await, 200);
        assert_eq!(shown["status"], "ACTIVED");
        assert_eq!(shown["issuer_name"], "External Root");
        assert_eq!(shown["path_length"], 0);
        // It issues, and its certificates chain up to the external root. (OpenSSL
        // dated it by the wall clock, a moment after the fake clock's start.)
        app.clock.advance(5_000);
        let cert = issued(&app, &pending, json!({"key_algorithm": "EC256"})).await;
        let exported = ok(
            &post(
                &app,
                &format!("/v1/private-certificates/{cert}/export"),
                json!({"is_compressed": "false", "type": "OTHER"}),
            )
            .await,
            200,
        );
        std::fs::write(
            d.join("leaf.pem"),
            exported["certificate"].as_str().unwrap(),
        )
        .unwrap();
        std::fs::write(
            d.join("chain.pem"),
            exported["certificate_chain"].as_str().unwrap(),
        )
        .unwrap();
        let chain = read("chain.pem");
        assert_eq!(
            chain.matches("BEGIN CERTIFICATE").count(),
            2,
            "sub and external root"
        );
        let at = (app.clock.now_ms() / 1000 + 1).to_string();
        openssl(
            d,
            &[
                "verify",
                "-x509_strict",
                "-attime",
                &at,
                "-CAfile",
                "chain.pem",
                "leaf.pem",
            ],
        );
    }
);

/// The seed 003 ShowCertificate contract: every field present with its type.
fn assert_seed_shape(cert: &Value) {
    let fields = [
        "certificate_id",
        "status",
        "issuer_id",
        "issuer_name",
        "key_algorithm",
        "signature_algorithm",
        "freeze_flag",
        "gen_mode",
        "serial_number",
        "create_time",
        "delete_time",
        "not_before",
        "not_after",
        "distinguished_name",
        "enc_cert_info",
        "enterprise_project_id",
    ];
    let obj = cert.as_object().unwrap();
    for f in fields {
        assert!(obj.contains_key(f), "missing {f}");
    }
    assert_eq!(
        obj.len(),
        fields.len(),
        "no undocumented fields: {:?}",
        obj.keys()
    );
    assert_eq!(cert["certificate_id"].as_str().unwrap().len(), 36);
    assert_eq!(cert["issuer_id"].as_str().unwrap().len(), 36);
    assert!((1..=64).contains(&cert["issuer_name"].as_str().unwrap().chars().count()));
    assert!((1..=64).contains(&cert["serial_number"].as_str().unwrap().len()));
    assert!(cert["freeze_flag"].is_i64());
    for t in ["create_time", "not_before", "not_after"] {
        assert!(
            cert[t].as_i64().unwrap() > 1_600_000_000_000,
            "{t} is epoch ms"
        );
    }
    assert!(cert["delete_time"].is_null());
    assert!(["ISSUED", "EXPIRED", "REVOKED"].contains(&cert["status"].as_str().unwrap()));
    assert!(["GENERATE", "CSR", "IMPORT"].contains(&cert["gen_mode"].as_str().unwrap()));
    let dn = cert["distinguished_name"].as_object().unwrap();
    for f in [
        "common_name",
        "country",
        "state",
        "locality",
        "organization",
        "organizational_unit",
    ] {
        assert!(dn.contains_key(f), "distinguished_name.{f}");
    }
}

both_backends!(
    certificates_of_every_algorithm_are_issued_shown_and_verified,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (root_alg, root_hash, leaf_alg) in [
            ("EC256", "SHA256", "EC256"),
            ("EC384", "SHA384", "RSA2048"),
            ("RSA2048", "SHA512", "EC384"),
            ("RSA2048", "SHA256", "RSA3072"),
            ("SM2", "SM3", "SM2"),
        ] {
            let root = create_root(&app, root_alg, root_hash).await;
            let r = issue(&app, &root, json!({"key_algorithm": leaf_alg,
            "subject_alternative_names": [{"type": "DNS", "value": "www.example.com"}, {"type": "IP", "value": "192.0.2.10"},
                {"type": "IP", "value": "2001:db8::1"}, {"type": "EMAIL", "value": "ops@example.com"}, {"type": "URI", "value": "https://example.com/a"}],
            "extended_key_usage": {"server_auth": true, "client_auth": true},
            "customized_extension": {"object_identifier": "1.3.6.1.4.1.2011.4.99", "value": "hello"}})).await;
            let id = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
            let cert = ok(
                &get(&app, &format!("/v1/private-certificates/{id}")).await,
                200,
            );
            assert_seed_shape(&cert);
            assert_eq!(cert["status"], "ISSUED");
            assert_eq!(cert["key_algorithm"], leaf_alg);
            assert_eq!(
                cert["signature_algorithm"], root_hash,
                "the issuer's hash by default"
            );
            assert_eq!(cert["gen_mode"], "GENERATE");
            assert_eq!(cert["issuer_id"], root);
            assert_eq!(cert["distinguished_name"]["common_name"], "www.example.com");
            assert_eq!(
                cert["distinguished_name"]["organization"], "示例组织",
                "inherited from the issuer"
            );
            if leaf_alg == "SM2" {
                assert_eq!(
                    cert["enc_cert_info"]["enc_serial_number"]
                        .as_str()
                        .unwrap()
                        .len(),
                    32
                );
                assert_ne!(
                    cert["enc_cert_info"]["enc_serial_number"],
                    cert["serial_number"]
                );
            } else {
                assert!(cert["enc_cert_info"].is_null());
            }
            let exported = ok(
                &post(
                    &app,
                    &format!("/v1/private-certificates/{id}/export"),
                    json!({"is_compressed": "false", "type": "OTHER"}),
                )
                .await,
                200,
            );
            std::fs::write(
                d.join("leaf.pem"),
                exported["certificate"].as_str().unwrap(),
            )
            .unwrap();
            std::fs::write(
                d.join("chain.pem"),
                exported["certificate_chain"].as_str().unwrap(),
            )
            .unwrap();
            let mut verify = vec!["verify", "-x509_strict"];
            if leaf_alg == "SM2" {
                verify.extend(["-vfyopt", "distid:1234567812345678"]);
            }
            verify.extend(["-CAfile", "chain.pem", "leaf.pem"]);
            openssl(d, &verify);
            let text = openssl(
                d,
                &["x509", "-in", "leaf.pem", "-noout", "-text", "-serial"],
            );
            for expected in [
                "DNS:www.example.com",
                "IP Address:192.0.2.10",
                "IP Address:2001:DB8:0:0:0:0:0:1",
                "email:ops@example.com",
                "URI:https://example.com/a",
                "TLS Web Server Authentication",
                "TLS Web Client Authentication",
                "1.3.6.1.4.1.2011.4.99",
            ] {
                assert!(
                    text.contains(expected),
                    "{leaf_alg}: missing {expected} in\n{text}"
                );
            }
            let serial = cert["serial_number"].as_str().unwrap().to_ascii_uppercase();
            assert!(
                text.contains(&format!("serial={serial}")),
                "the API serial is the certificate's"
            );
            // The private key belongs to the certificate.
            std::fs::write(
                d.join("leaf.key"),
                exported["private_key"].as_str().unwrap(),
            )
            .unwrap();
            let cert_pub = openssl(d, &["x509", "-in", "leaf.pem", "-noout", "-pubkey"]);
            let key_pub = openssl(d, &["pkey", "-in", "leaf.key", "-pubout"]);
            assert_eq!(cert_pub, key_pub);
        }
        let list = ok(&get(&app, "/v1/private-certificates?limit=100").await, 200);
        assert_eq!(list["total"], 5);
        for c in list["certificates"].as_array().unwrap() {
            assert_seed_shape(c);
        }
    }
);

both_backends!(
    certificate_request_errors_have_their_documented_codes,
    |app| async move {
        let root = create_root(&app, "EC256", "SHA256").await;
        let cases = [
            (json!({"issuer_id": "nope"}), "PCA.00020201"),
            (json!({"key_algorithm": "DSA"}), "PCA.00020102"),
            (json!({"signature_algorithm": "SM3"}), "PCA.00020103"),
            (
                json!({"validity": {"type": "YEAR", "value": 21}}),
                "PCA.00020109",
            ),
            (
                json!({"validity": {"type": "YEAR", "value": 11}}),
                "PCA.00020109",
            ),
            (
                json!({"validity": {"type": "DAY", "value": 1, "start_from": 1}}),
                "PCA.00020109",
            ),
            (json!({"validity": null}), "PCA.00020109"),
            (
                json!({"distinguished_name": {"country": "CN"}}),
                "PCA.00020101",
            ),
            (
                json!({"distinguished_name": {"common_name": "bad|name"}}),
                "PCA.00020101",
            ),
            (
                json!({"subject_alternative_names": [{"type": "DNS", "value": "bad domain"}]}),
                "PCA.00020110",
            ),
            (
                json!({"subject_alternative_names": [{"type": "IP", "value": "300.1.1.1"}]}),
                "PCA.00020111",
            ),
            (
                json!({"subject_alternative_names": [{"type": "X400", "value": "x"}]}),
                "PCA.00020112",
            ),
            (
                json!({"key_usages": ["digitalSignature", "fly"]}),
                "PCA.00020001",
            ),
            (json!({"key_usages": ["keyCertSign"]}), "PCA.00020001"),
            (
                json!({"key_algorithm": "RSA2048", "key_usages": ["keyAgreement"]}),
                "PCA.00020001",
            ),
            (
                json!({"key_algorithm": "EC256", "key_usages": ["keyEncipherment"]}),
                "PCA.00020001",
            ),
            (
                json!({"customized_extension": {"object_identifier": "2.5.29.17", "value": "x"}}),
                "PCA.00020001",
            ),
            (
                json!({"customized_extension": {"object_identifier": "not.an.oid", "value": "x"}}),
                "PCA.00020001",
            ),
            (
                json!({"extended_key_usage": {"time_stamping": true, "server_auth": true}}),
                "PCA.00020001",
            ),
        ];
        for (extra, code) in cases {
            let mut body = json!({"issuer_id": root, "distinguished_name": {"common_name": "www.example.com"},
            "validity": {"type": "DAY", "value": 30}});
            for (k, v) in extra.as_object().unwrap() {
                if v.is_null() {
                    body.as_object_mut().unwrap().remove(k);
                } else {
                    body[k] = v.clone();
                }
            }
            post(&app, "/v1/private-certificates", body.clone())
                .await
                .assert_error(400, code);
        }
        let many: Vec<Value> = (0..21)
            .map(|i| json!({"type": "DNS", "value": format!("h{i}.example.com")}))
            .collect();
        issue(&app, &root, json!({"subject_alternative_names": many}))
            .await
            .assert_error(400, "PCA.00020112");
        issue(&app, "00000000-0000-4000-8000-000000000000", json!({}))
            .await
            .assert_error(404, "PCA.10010002");
        // Nothing was issued, no serial was burnt into a visible certificate.
        assert_eq!(
            ok(&get(&app, "/v1/private-certificates").await, 200)["total"],
            0
        );
        // Reads with bad ids.
        get(&app, "/v1/private-certificates/short")
            .await
            .assert_error(400, "PCA.90020001");
        get(
            &app,
            "/v1/private-certificates/00000000-0000-4000-8000-000000000000",
        )
        .await
        .assert_error(404, "PCA.10010002");
        get(
            &app,
            "/v1/private-certificates/00000000-0000-4000-8000-00000000000G",
        )
        .await
        .assert_error(400, "PCA.90020001");
    }
);

both_backends!(certificates_are_issued_from_csrs, |app| async move {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = create_root(&app, "RSA2048", "SHA256").await;
    let csr_pem = csr(
        d,
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/C=CN/O=Customer/CN=api.example.com",
        &[
            "-addext",
            "subjectAltName=DNS:api.example.com,IP:10.0.0.1",
            "-addext",
            "keyUsage=digitalSignature",
        ],
    );
    let parsed = ok(
        &post(
            &app,
            "/v1/private-certificates/csr/parse",
            json!({"csr": csr_pem}),
        )
        .await,
        200,
    );
    assert_eq!(parsed["key_algorithm"], "EC");
    assert_eq!(parsed["key_algorithm_length"], 256);
    assert_eq!(parsed["signature_algorithm"], "SHA256withECDSA");
    assert!(parsed["public_key"].as_str().unwrap().contains("\r\n"));
    assert_eq!(parsed["distinguished_name"]["organization"], "Customer");
    let id = ok(
        &post(
            &app,
            "/v1/private-certificates/csr",
            json!({"issuer_id": root, "csr": csr_pem,
        "validity": {"type": "MONTH", "value": 2}}),
        )
        .await,
        200,
    )["certificate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cert = ok(
        &get(&app, &format!("/v1/private-certificates/{id}")).await,
        200,
    );
    assert_seed_shape(&cert);
    assert_eq!(cert["gen_mode"], "CSR");
    assert_eq!(cert["key_algorithm"], "EC256");
    assert_eq!(
        cert["signature_algorithm"], "SHA384",
        "the documented default for CSR issuance"
    );
    assert_eq!(cert["distinguished_name"]["common_name"], "api.example.com");
    let exported = ok(
        &post(
            &app,
            &format!("/v1/private-certificates/{id}/export"),
            json!({"is_compressed": "false", "type": "NGINX"}),
        )
        .await,
        200,
    );
    assert!(
        exported.get("private_key").is_none(),
        "the service never held the key"
    );
    std::fs::write(
        d.join("leaf.pem"),
        exported["certificate"].as_str().unwrap(),
    )
    .unwrap();
    std::fs::write(
        d.join("chain.pem"),
        exported["certificate_chain"].as_str().unwrap(),
    )
    .unwrap();
    openssl(
        d,
        &["verify", "-x509_strict", "-CAfile", "chain.pem", "leaf.pem"],
    );
    let text = openssl(d, &["x509", "-in", "leaf.pem", "-noout", "-text"]);
    assert!(
        text.contains("DNS:api.example.com") && text.contains("IP Address:10.0.0.1"),
        "SANs come from the CSR"
    );
    let cert_pub = openssl(d, &["x509", "-in", "leaf.pem", "-noout", "-pubkey"]);
    let key_pub = openssl(d, &["pkey", "-in", "csr.key", "-pubout"]);
    assert_eq!(cert_pub, key_pub);
    // IIS and TOMCAT of a CSR certificate: certificate and chain only.
    let iis = ok(
        &post(
            &app,
            &format!("/v1/private-certificates/{id}/export"),
            json!({"is_compressed": "false", "type": "IIS"}),
        )
        .await,
        200,
    );
    assert!(iis.get("private_key").is_none() && iis["certificate"].is_string());

    // An intermediate CA whose key stays with the customer.
    let ca_csr = csr(
        d,
        &["-newkey", "rsa:2048"],
        "/C=CN/O=Customer/CN=Customer Issuing CA",
        &[],
    );
    let ca_id = ok(
        &post(
            &app,
            "/v1/private-certificates/csr",
            json!({"issuer_id": root, "csr": ca_csr, "type": "INTERMEDIATE_CA",
        "path_length": 0, "validity": {"type": "YEAR", "value": 3}}),
        )
        .await,
        200,
    )["certificate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ca = ok(
        &get(
            &app,
            &format!("/v1/private-certificate-authorities/{ca_id}"),
        )
        .await,
        200,
    );
    assert_eq!(ca["gen_mode"], "CSR");
    assert_eq!(ca["path_length"], 0);
    assert_eq!(ca["issuer_id"], root);
    let listed = ok(&get(&app, "/v1/private-certificate-authorities").await, 200);
    assert_eq!(listed["total"], 1, "an INTERMEDIATE_CA is not listed");
    let exported = ok(
        &post(
            &app,
            &format!("/v1/private-certificate-authorities/{ca_id}/export"),
            json!({}),
        )
        .await,
        200,
    );
    std::fs::write(d.join("ica.pem"), exported["certificate"].as_str().unwrap()).unwrap();
    std::fs::write(
        d.join("root.pem"),
        exported["certificate_chain"].as_str().unwrap(),
    )
    .unwrap();
    openssl(
        d,
        &["verify", "-x509_strict", "-CAfile", "root.pem", "ica.pem"],
    );
    assert!(
        openssl(d, &["x509", "-in", "ica.pem", "-noout", "-text"]).contains("CA:TRUE, pathlen:0")
    );
    issue(&app, &ca_id, json!({}))
        .await
        .assert_error(400, "PCA.90030001");

    // Broken CSRs.
    let mut tampered = csr_pem.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    for bad in [
        String::from_utf8(tampered).unwrap(),
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n".to_owned(),
        "garbage".to_owned(),
    ] {
        post(
            &app,
            "/v1/private-certificates/csr",
            json!({"issuer_id": root, "csr": bad, "validity": {"type": "DAY", "value": 1}}),
        )
        .await
        .assert_error(400, "PCA.90020002");
        post(
            &app,
            "/v1/private-certificates/csr/parse",
            json!({"csr": bad}),
        )
        .await
        .assert_error(400, "PCA.90020002");
    }
    // Well-formed DER whose self-signature does not verify: checked by the
    // signing task after the intent is recorded, which must then leave no
    // certificate and give its quota back. RSA, EC and SM2 requests.
    let before = ok(&get(&app, "/v1/private-certificates?limit=1").await, 200)["total"].clone();
    let used = || async {
        ok(&get(&app, "/v1/private-certificates/quotas").await, 200)["quotas"]["resources"][0]
            ["used"]
            .clone()
    };
    let used_before = used().await;
    for (keyspec, extra) in [
        (&["-newkey", "rsa:2048"][..], &[][..]),
        (
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
            &[][..],
        ),
        (
            &["-newkey", "sm2"][..],
            &["-sm3", "-sigopt", "distid:1234567812345678"][..],
        ),
    ] {
        csr(d, keyspec, "/CN=forged.example.com", extra);
        openssl(
            d,
            &[
                "req", "-in", "csr.pem", "-outform", "DER", "-out", "csr.der",
            ],
        );
        let mut der = std::fs::read(d.join("csr.der")).unwrap();
        *der.last_mut().unwrap() ^= 0x01;
        std::fs::write(d.join("forged.der"), &der).unwrap();
        let forged = openssl(d, &["req", "-inform", "DER", "-in", "forged.der"]);
        // Still a request openssl reads, yet its signature fails.
        assert!(Command::new("openssl")
            .current_dir(d)
            .args([
                "req",
                "-inform",
                "DER",
                "-in",
                "forged.der",
                "-verify",
                "-noout"
            ])
            .output()
            .map(|o| !o.status.success() || String::from_utf8_lossy(&o.stderr).contains("fail"))
            .unwrap());
        post(
            &app,
            "/v1/private-certificates/csr",
            json!({"issuer_id": root, "csr": forged, "validity": {"type": "DAY", "value": 1}}),
        )
        .await
        .assert_error(400, "PCA.90020002");
    }
    assert_eq!(
        ok(&get(&app, "/v1/private-certificates?limit=1").await, 200)["total"],
        before
    );
    assert_eq!(used().await, used_before);
    let small = csr(d, &["-newkey", "rsa:1024"], "/CN=weak", &[]);
    post(
        &app,
        "/v1/private-certificates/csr",
        json!({"issuer_id": root, "csr": small, "validity": {"type": "DAY", "value": 1}}),
    )
    .await
    .assert_error(400, "PCA.90020002");
    post(&app, "/v1/private-certificates/csr", json!({"issuer_id": root, "csr": csr_pem, "validity": {"type": "DAY", "value": 1}, "type": "OTHER"})).await.assert_error(400, "PCA.00020001");
});

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read as _;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut out = Vec::new();
            f.read_to_end(&mut out).unwrap();
            (f.name().to_owned(), out)
        })
        .collect()
}

both_backends!(exports_follow_the_documented_formats, |app| async move {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = create_root(&app, "EC256", "SHA256").await;
    let id = issued(&app, &root, json!({"key_algorithm": "RSA2048"})).await;
    let export = |body: Value| {
        let app = &app;
        let id = id.clone();
        async move { post(app, &format!("/v1/private-certificates/{id}/export"), body).await }
    };
    for t in ["APACHE", "NGINX", "OTHER"] {
        let raw = export(json!({"is_compressed": "false", "type": t})).await;
        assert_eq!(raw.header("cache-control").as_deref(), Some("no-store"));
        let r = ok(&raw, 200);
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            vec!["certificate", "certificate_chain", "private_key"],
            "{t} (sorted)"
        );
        assert!(r["private_key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----"));
    }
    for t in ["IIS", "TOMCAT"] {
        export(json!({"is_compressed": "false", "type": t}))
            .await
            .assert_error(400, "PCA.00020001");
    }
    // A password encrypts the key.
    let r = ok(
        &export(json!({"is_compressed": "false", "type": "OTHER", "password": "s3cret,.+-_#"}))
            .await,
        200,
    );
    let encrypted = r["private_key"].as_str().unwrap();
    assert!(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    std::fs::write(d.join("enc.key"), encrypted).unwrap();
    openssl(
        d,
        &[
            "pkey",
            "-in",
            "enc.key",
            "-passin",
            "pass:s3cret,.+-_#",
            "-noout",
        ],
    );
    // PBES2: PBKDF2-HMAC-SHA256 with 100,000 (0x0186A0) iterations, AES-256-CBC.
    let structure = openssl(d, &["asn1parse", "-in", "enc.key"]);
    for expected in [
        "PBES2",
        "PBKDF2",
        ":0186A0",
        "hmacWithSHA256",
        "aes-256-cbc",
    ] {
        assert!(structure.contains(expected), "{expected} in {structure}");
    }
    assert!(
        Command::new("openssl")
            .current_dir(d)
            .args(["pkey", "-in", "enc.key", "-passin", "pass:wrong", "-noout"])
            .output()
            .unwrap()
            .status
            .code()
            != Some(0)
    );
    export(json!({"is_compressed": "false", "type": "OTHER", "password": "x".repeat(33)}))
        .await
        .assert_error(400, "PCA.00020001");
    export(json!({"is_compressed": "false", "type": "OTHER", "password": ""}))
        .await
        .assert_error(400, "PCA.00020001");
    export(json!({"is_compressed": "maybe", "type": "OTHER"}))
        .await
        .assert_error(400, "PCA.00020001");
    export(json!({"type": "OTHER"}))
        .await
        .assert_error(400, "PCA.00020001");
    export(json!({"is_compressed": "false", "type": "JBOSS"}))
        .await
        .assert_error(400, "PCA.00020001");
    // Zips, file by file.
    let expected: [(&str, &[&str]); 5] = [
        ("APACHE", &["server.key", "chain.crt", "server.crt"]),
        ("NGINX", &["server.key", "server.crt"]),
        ("IIS", &["server.pfx", "keystorePass.txt"]),
        ("TOMCAT", &["server.jks", "keystorePass.txt"]),
        ("OTHER", &["server.key", "chain.pem", "server.pem"]),
    ];
    for (t, files) in expected {
        let r = export(json!({"is_compressed": "true", "type": t})).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type").unwrap(), "application/zip");
        assert_eq!(
            r.header("content-disposition").unwrap(),
            format!(
                "attachment; filename=\"www.example.com_{}.zip\"",
                t.to_lowercase()
            )
        );
        let entries = unzip(&r.body);
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, files, "{t}");
        if t == "IIS" || t == "TOMCAT" {
            let store = &entries[0].1;
            let pass = String::from_utf8(entries[1].1.clone()).unwrap();
            assert!(pass.len() >= 16, "a random keystore password");
            std::fs::write(d.join("store.p12"), store).unwrap();
            let listing = openssl(
                d,
                &[
                    "pkcs12",
                    "-in",
                    "store.p12",
                    "-passin",
                    &format!("pass:{pass}"),
                    "-nokeys",
                    "-info",
                ],
            );
            assert_eq!(
                listing.matches("BEGIN CERTIFICATE").count(),
                2,
                "certificate and chain"
            );
            // Key and certificates under PBES2/AES-256, the MAC over SHA-256,
            // each with 100,000 PBKDF2 iterations; Java opens it.
            let (_, info) = run(
                d,
                "openssl",
                &[
                    "pkcs12",
                    "-in",
                    "store.p12",
                    "-passin",
                    &format!("pass:{pass}"),
                    "-info",
                    "-noout",
                ],
            );
            assert!(info.contains("MAC: sha256, Iteration 100000"), "{info}");
            let pbes2 = "PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256";
            assert!(
                info.contains(&format!("Shrouded Keybag: {pbes2}")),
                "{info}"
            );
            assert!(
                info.contains(&format!("PKCS7 Encrypted data: {pbes2}")),
                "{info}"
            );
            let (opened, listing) = run(
                d,
                "keytool",
                &[
                    "-list",
                    "-keystore",
                    "store.p12",
                    "-storetype",
                    "PKCS12",
                    "-storepass",
                    &pass,
                ],
            );
            assert!(opened && listing.contains("PrivateKeyEntry"), "{listing}");
        }
        if t == "NGINX" {
            let crt = String::from_utf8(entries[1].1.clone()).unwrap();
            assert_eq!(
                crt.matches("BEGIN CERTIFICATE").count(),
                2,
                "certificate followed by its chain"
            );
            assert!(!crt.contains('\r'), "files use LF");
        }
    }
    // With a password: no keystorePass.txt; the store opens with it alone.
    let r = export(json!({"is_compressed": "true", "type": "IIS", "password": "pfx-pass"})).await;
    let entries = unzip(&r.body);
    assert_eq!(entries.len(), 1);
    std::fs::write(d.join("given.pfx"), &entries[0].1).unwrap();
    openssl(
        d,
        &[
            "pkcs12",
            "-in",
            "given.pfx",
            "-passin",
            "pass:pfx-pass",
            "-nokeys",
            "-noout",
        ],
    );
});

both_backends!(revocation_and_deletion_are_final, |app| async move {
    let root = create_root(&app, "EC256", "SHA256").await;
    let id = issued(&app, &root, json!({})).await;
    let path = format!("/v1/private-certificates/{id}");
    app.signed("POST", &format!("{path}/revoke"), None)
        .await
        .assert_error(400, "PCA.00020001");
    post(&app, &format!("{path}/revoke"), json!({"reason": "BORED"}))
        .await
        .assert_error(400, "PCA.00020001");
    ok(
        &post(
            &app,
            &format!("{path}/revoke"),
            json!({"reason": "KEY_COMPROMISE"}),
        )
        .await,
        204,
    );
    assert_eq!(ok(&get(&app, &path).await, 200)["status"], "REVOKED");
    post(&app, &format!("{path}/revoke"), json!({}))
        .await
        .assert_error(400, "PCA.90030001");
    post(
        &app,
        &format!("{path}/export"),
        json!({"is_compressed": "false", "type": "OTHER"}),
    )
    .await
    .assert_error(400, "PCA.90030001");
    let revoked = ok(
        &get(&app, "/v1/private-certificates?status=REVOKED").await,
        200,
    );
    assert_eq!(revoked["total"], 1);
    assert_eq!(
        ok(
            &get(&app, "/v1/private-certificates?status=ISSUED").await,
            200
        )["total"],
        0
    );
    ok(&app.signed("DELETE", &path, None).await, 204);
    get(&app, &path).await.assert_error(404, "PCA.10010002");
    app.signed("DELETE", &path, None)
        .await
        .assert_error(404, "PCA.10010002");
    // Expiry is computed from time.
    let short = issued(
        &app,
        &root,
        json!({"validity": {"type": "HOUR", "value": 1}}),
    )
    .await;
    app.clock.advance(3_600_000);
    assert_eq!(
        ok(
            &get(&app, &format!("/v1/private-certificates/{short}")).await,
            200
        )["status"],
        "EXPIRED"
    );
    assert_eq!(
        ok(
            &get(&app, "/v1/private-certificates?status=EXPIRED").await,
            200
        )["total"],
        1
    );
    post(
        &app,
        &format!("/v1/private-certificates/{short}/revoke"),
        json!({}),
    )
    .await
    .assert_error(400, "PCA.90030001");
    let quota = ok(&get(&app, "/v1/private-certificates/quotas").await, 200);
    assert_eq!(quota["quotas"]["resources"][0]["type"], "CERTIFICATE");
    assert_eq!(quota["quotas"]["resources"][0]["used"], 1);
    assert_eq!(quota["quotas"]["resources"][0]["quota"], 100_000);
});

both_backends!(certificate_lists_filter_sort_and_page, |app| async move {
    let root = create_root(&app, "EC256", "SHA256").await;
    for cn in [
        "charlie.example.com",
        "alpha.example.com",
        "bravo.example.com",
    ] {
        ok(
            &issue(
                &app,
                &root,
                json!({"distinguished_name": {"common_name": cn}}),
            )
            .await,
            200,
        );
        app.clock.advance(1000);
    }
    let names = |v: &Value| -> Vec<String> {
        v["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                c["distinguished_name"]["common_name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let all = ok(&get(&app, "/v1/private-certificates").await, 200);
    assert_eq!(
        names(&all),
        [
            "bravo.example.com",
            "alpha.example.com",
            "charlie.example.com"
        ],
        "newest first by default"
    );
    let asc = ok(
        &get(
            &app,
            "/v1/private-certificates?sort_key=common_name&sort_dir=ASC&limit=2",
        )
        .await,
        200,
    );
    assert_eq!(asc["total"], 3);
    assert_eq!(names(&asc), ["alpha.example.com", "bravo.example.com"]);
    let page2 = ok(
        &get(
            &app,
            "/v1/private-certificates?sort_key=common_name&sort_dir=ASC&limit=2&offset=2",
        )
        .await,
        200,
    );
    assert_eq!(names(&page2), ["charlie.example.com"]);
    assert_eq!(
        ok(&get(&app, "/v1/private-certificates?name=BRAVO").await, 200)["total"],
        1
    );
    assert_eq!(
        ok(&get(&app, "/v1/private-certificates?limit=0").await, 200)["certificates"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    for bad in ["status=LOST", "sort_key=serial", "limit=1001", "offset=x"] {
        assert_eq!(
            get(&app, &format!("/v1/private-certificates?{bad}"))
                .await
                .status,
            400,
            "{bad}"
        );
    }
});

both_backends!(
    concurrent_issuance_never_repeats_a_serial,
    |app| async move {
        let root = create_root(&app, "EC256", "SHA256").await;
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for i in 0..40 {
            let app = app.clone();
            let root = root.clone();
            tasks.push(tokio::spawn(async move {
                let r = issue(
                    &app,
                    &root,
                    json!({"distinguished_name": {"common_name": format!("host{i}.example.com")}}),
                )
                .await;
                ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned()
            }));
        }
        let mut ids = std::collections::HashSet::new();
        for t in tasks {
            ids.insert(t.await.unwrap());
        }
        assert_eq!(ids.len(), 40);
        let list = ok(&get(&app, "/v1/private-certificates?limit=100").await, 200);
        assert_eq!(list["total"], 40);
        let serials: std::collections::HashSet<String> = list["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["serial_number"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(serials.len(), 40);
    }
);

both_backends!(
    crl_and_ocsp_settings_are_stored_and_used,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let root = create_root(&app, "EC256", "SHA256").await;
        let path = format!("/v1/private-certificate-authorities/{root}");
        post(
            &app,
            &format!("{path}/crl/enable"),
            json!({"valid_days": 7}),
        )
        .await
        .assert_error(400, "PCA.00020001");
        post(
            &app,
            &format!("{path}/crl/enable"),
            json!({"obs_bucket_name": "b", "valid_days": 31}),
        )
        .await
        .assert_error(400, "PCA.00020001");
        ok(
            &post(
                &app,
                &format!("{path}/crl/enable"),
                json!({"obs_bucket_name": "crl-bucket", "valid_days": 7, "crl_name": "root-crl"}),
            )
            .await,
            204,
        );
        ok(
            &post(
                &app,
                &format!("{path}/ocsp/switch"),
                json!({"ocsp_switch": true}),
            )
            .await,
            204,
        );
        post(&app, &format!("{path}/ocsp/switch"), json!({}))
            .await
            .assert_error(400, "PCA.00020001");
        let ca = ok(&get(&app, &path).await, 200);
        assert_eq!(ca["crl_configuration"]["enabled"], true);
        assert_eq!(ca["crl_configuration"]["valid_days"], 7);
        assert_eq!(ca["crl_configuration"]["obs_bucket_name"], "crl-bucket");
        let url = format!("http://openccm.test/pca/crl/{root}/root-crl.crl");
        assert_eq!(ca["crl_configuration"]["crl_dis_point"], url);
        let id = issued(&app, &root, json!({})).await;
        let exported = ok(
            &post(
                &app,
                &format!("/v1/private-certificates/{id}/export"),
                json!({"is_compressed": "false", "type": "OTHER"}),
            )
            .await,
            200,
        );
        std::fs::write(
            d.join("leaf.pem"),
            exported["certificate"].as_str().unwrap(),
        )
        .unwrap();
        let text = openssl(d, &["x509", "-in", "leaf.pem", "-noout", "-text"]);
        assert!(text.contains(&format!("URI:{url}")), "{text}");
        assert!(
            text.contains(&format!("OCSP - URI:http://openccm.test/pca/ocsp/{root}")),
            "{text}"
        );
        ok(
            &app.signed("POST", &format!("{path}/crl/disable"), None)
                .await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &path).await, 200)["crl_configuration"]["enabled"],
            false
        );
        // Revoking CAs: never a root; a subordinate for good.
        post(&app, &format!("{path}/revoke"), json!({}))
            .await
            .assert_error(400, "PCA.90030001");
        let sub = ok(&create_sub(&app, &root, "EC256", "SHA256", 0).await, 200)["ca_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let sub_path = format!("/v1/private-certificate-authorities/{sub}");
        ok(
            &post(
                &app,
                &format!("{sub_path}/revoke"),
                json!({"reason": "SUPERSEDED"}),
            )
            .await,
            204,
        );
        assert_eq!(ok(&get(&app, &sub_path).await, 200)["status"], "REVOKED");
        app.signed("POST", &format!("{sub_path}/enable"), None)
            .await
            .assert_error(400, "PCA.90030001");
        issue(&app, &sub, json!({}))
            .await
            .assert_error(400, "PCA.90030001");
        ok(&app.signed("DELETE", &sub_path, None).await, 204);
        ok(
            &app.signed("POST", &format!("{sub_path}/restore"), None)
                .await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &sub_path).await, 200)["status"],
            "REVOKED",
            "restoring never un-revokes"
        );
        // Cloud-only operations say so.
        post(&app, "/v1/private-certificate-authorities/order", json!({}))
            .await
            .assert_error(400, "PCA.90020005");
        get(&app, "/v1/private-certificate-authorities/obs/buckets")
            .await
            .assert_error(400, "PCA.90020005");
        let console = ok(&get(&app, "/v1/pca/config/console").await, 200);
        assert_eq!(console["is_support_sm2"], true);
    }
);

async fn delete_with(app: &TestApp, path: &str, body: Value) -> TestResponse {
    app.signed("DELETE", path, Some(&body.to_string())).await
}

fn resource_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

both_backends!(
    cas_and_certificates_carry_tags_and_filter_by_them,
    |app| async move {
        let cas = "/v1/private-certificate-authorities";
        let certs = "/v1/private-certificates";
        let ca = create_root(&app, "EC256", "SHA256").await;
        let other_ca = create_root(&app, "EC384", "SHA384").await;
        let a = issued(
            &app,
            &ca,
            json!({"distinguished_name": {"common_name": "tagged-a.example.com"}}),
        )
        .await;
        let b = issued(
            &app,
            &ca,
            json!({"distinguished_name": {"common_name": "tagged-b.example.com"}}),
        )
        .await;
        let c = issued(
            &app,
            &ca,
            json!({"distinguished_name": {"common_name": "plain-c.example.com"}}),
        )
        .await;

        // One tag, then a batch; one value per key, the later one wins.
        let r = post(
            &app,
            &format!("{cas}/{ca}/tags"),
            json!({"tag": {"key": "env", "value": "prod"}}),
        )
        .await;
        assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
        assert!(r.body.is_empty());
        ok(&post(&app, &format!("{cas}/{ca}/tags/create"),
        json!({"tags": [{"key": "team", "value": "pki"}, {"key": "env", "value": "staging"}]})).await, 204);
        let tags = ok(&get(&app, &format!("{cas}/{ca}/tags")).await, 200);
        assert_eq!(
            tags["tags"],
            json!([{"key": "env", "value": "staging"}, {"key": "team", "value": "pki"}])
        );
        assert_eq!(
            ok(&get(&app, &format!("{cas}/{other_ca}/tags")).await, 200)["tags"],
            json!([])
        );

        ok(
            &post(
                &app,
                &format!("{certs}/{a}/tags"),
                json!({"tag": {"key": "env", "value": "prod"}}),
            )
            .await,
            204,
        );
        ok(
            &post(
                &app,
                &format!("{certs}/{a}/tags/create"),
                json!({"tags": [{"key": "team", "value": "web"}]}),
            )
            .await,
            204,
        );
        ok(&post(&app, &format!("{certs}/{b}/tags/create"),
        json!({"tags": [{"key": "env", "value": "dev"}, {"key": "owner", "value": "ops@example.com"}]})).await, 204);
        assert_eq!(
            ok(&get(&app, &format!("{certs}/{a}/tags")).await, 200)["tags"],
            json!([{"key": "env", "value": "prod"}, {"key": "team", "value": "web"}])
        );

        // The account's keys: CA tags and certificate tags are apart.
        assert_eq!(
            ok(&get(&app, &format!("{cas}/tags")).await, 200)["tags"],
            json!([{"key": "env", "values": ["staging"]}, {"key": "team", "values": ["pki"]}])
        );
        assert_eq!(
            ok(&get(&app, &format!("{certs}/tags")).await, 200)["tags"],
            json!([{"key": "env", "values": ["dev", "prod"]}, {"key": "owner", "values": ["ops@example.com"]},
               {"key": "team", "values": ["web"]}])
        );

        // Filter: keys ANDed, values of one key ORed, no values = any value.
        let filter = |body: Value| {
            let app = &app;
            async move {
                ok(
                    &post(app, &format!("{certs}/resource-instances/filter"), body).await,
                    200,
                )
            }
        };
        let r = filter(json!({"tags": [{"key": "env", "values": ["prod"]}]})).await;
        assert_eq!(resource_ids(&r), vec![a.clone()]);
        assert_eq!(r["total_count"], 1);
        let found = &r["resources"][0];
        assert_eq!(found["resource_name"], "tagged-a.example.com");
        assert_eq!(
            found["tags"],
            json!([{"key": "env", "value": "prod"}, {"key": "team", "value": "web"}])
        );
        // The detail is the certificate as ShowCertificate shows it.
        let shown = ok(&get(&app, &format!("{certs}/{a}")).await, 200);
        assert_eq!(found["resource_detail"], shown);
        let r = filter(json!({"tags": [{"key": "env", "values": []}]})).await;
        assert_eq!(resource_ids(&r), sorted(vec![a.clone(), b.clone()]));
        let r = filter(json!({"tags": [{"key": "env", "values": ["prod", "dev"]}, {"key": "owner", "values": []}]})).await;
        assert_eq!(resource_ids(&r), vec![b.clone()]);
        let r = filter(json!({})).await;
        assert_eq!(
            resource_ids(&r),
            sorted(vec![a.clone(), b.clone(), c.clone()])
        );
        assert_eq!(
            r["resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["resource_id"] == c.as_str())
                .unwrap()["tags"],
            json!([])
        );
        let r = filter(json!({"matches": [{"key": "resource_name", "value": "tagged"}]})).await;
        assert_eq!(resource_ids(&r), sorted(vec![a.clone(), b.clone()]));
        let r = filter(json!({"limit": 10, "offset": 2})).await;
        assert_eq!(r["total_count"], 3);
        assert_eq!(r["resources"].as_array().unwrap().len(), 1);
        let r = ok(
            &post(
                &app,
                &format!("{certs}/resource-instances/count"),
                json!({"tags": [{"key": "env", "values": []}], "limit": 10, "offset": 5}),
            )
            .await,
            200,
        );
        assert_eq!(r, json!({"total_count": 2}));

        let r = ok(
            &post(
                &app,
                &format!("{cas}/resource-instances/filter"),
                json!({"tags": [{"key": "team", "values": ["pki"]}]}),
            )
            .await,
            200,
        );
        assert_eq!(resource_ids(&r), vec![ca.clone()]);
        assert_eq!(
            r["resources"][0]["resource_detail"],
            ok(&get(&app, &format!("{cas}/{ca}")).await, 200)
        );
        assert_eq!(r["resources"][0]["resource_name"], "EC256 Root");
        let r = ok(
            &post(&app, &format!("{cas}/resource-instances/count"), json!({})).await,
            200,
        );
        assert_eq!(r["total_count"], 2);

        // Batch delete: by key and value, or by key alone.
        ok(
            &delete_with(
                &app,
                &format!("{cas}/{ca}/tags/delete"),
                json!({"tags": [{"key": "env", "value": "other"}, {"key": "team"}]}),
            )
            .await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &format!("{cas}/{ca}/tags")).await, 200)["tags"],
            json!([{"key": "env", "value": "staging"}]),
            "a value that differs removes nothing"
        );
        ok(
            &delete_with(
                &app,
                &format!("{cas}/{ca}/tags/delete"),
                json!({"tags": [{"key": "env", "value": "staging"}]}),
            )
            .await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &format!("{cas}/{ca}/tags")).await, 200)["tags"],
            json!([])
        );

        // A deleted certificate's tags go with it.
        ok(
            &app.signed("DELETE", &format!("{certs}/{b}"), None).await,
            204,
        );
        assert_eq!(
            ok(&get(&app, &format!("{certs}/tags")).await, 200)["tags"],
            json!([{"key": "env", "values": ["prod"]}, {"key": "team", "values": ["web"]}])
        );
        post(
            &app,
            &format!("{certs}/{b}/tags"),
            json!({"tag": {"key": "k", "value": "v"}}),
        )
        .await
        .assert_error(404, "PCA.10010002");

        // At most 20 tags on one resource; nothing of a refused batch is kept.
        let twenty: Vec<Value> = (0..19)
            .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
            .collect();
        ok(
            &post(
                &app,
                &format!("{certs}/{c}/tags/create"),
                json!({"tags": twenty}),
            )
            .await,
            204,
        );
        ok(
            &post(
                &app,
                &format!("{certs}/{c}/tags"),
                json!({"tag": {"key": "k19", "value": "v"}}),
            )
            .await,
            204,
        );
        post(
            &app,
            &format!("{certs}/{c}/tags/create"),
            json!({"tags": [{"key": "k20", "value": "v"}, {"key": "k0", "value": "w"}]}),
        )
        .await
        .assert_error(400, "PCA.90020006");
        let tags = ok(&get(&app, &format!("{certs}/{c}/tags")).await, 200);
        assert_eq!(tags["tags"].as_array().unwrap().len(), 20);
        assert!(tags["tags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["value"] == "v"));

        // Documented errors.
        let missing_ca = "9f0f3a2e-1111-4c3b-8d55-4b2b0f1e2d3c";
        let missing_cert = "9f0f3a2e-2222-4c3b-8d55-4b2b0f1e2d3c";
        for (path, body, status, code) in [
            (
                format!("{cas}/{ca}/tags"),
                json!({"tag": {"key": "bad/key", "value": "v"}}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{ca}/tags"),
                json!({"tag": {"key": "_sys_x", "value": "v"}}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{ca}/tags"),
                json!({"tag": {"key": "k", "value": "a*b"}}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{ca}/tags"),
                json!({"tag": {"value": "v"}}),
                400,
                "PCA.90020006",
            ),
            (format!("{cas}/{ca}/tags"), json!({}), 400, "PCA.90020006"),
            (
                format!("{cas}/{ca}/tags/create"),
                json!({"tags": []}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{ca}/tags/create"),
                json!({"tags": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{cas}/{missing_ca}/tags"),
                json!({"tag": {"key": "k", "value": "v"}}),
                404,
                "PCA.10010002",
            ),
            (
                format!("{cas}/not-a-uuid/tags"),
                json!({"tag": {"key": "k", "value": "v"}}),
                400,
                "PCA.00020201",
            ),
            (
                format!("{certs}/{missing_cert}/tags/create"),
                json!({"tags": [{"key": "k", "value": "v"}]}),
                404,
                "PCA.10010002",
            ),
            (
                format!("{certs}/resource-instances/filter"),
                json!({"limit": 15}),
                400,
                "PCA.00020001",
            ),
            (
                format!("{certs}/resource-instances/filter"),
                json!({"tags": [{"values": ["x"]}]}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{certs}/resource-instances/filter"),
                json!({"tags": [{"key": "env", "values": []}, {"key": "env", "values": ["x"]}]}),
                400,
                "PCA.90020006",
            ),
            (
                format!("{certs}/resource-instances/filter"),
                json!({"matches": [{"key": "serial", "value": "x"}]}),
                400,
                "PCA.00020001",
            ),
            (
                format!("{cas}/resource-instances/count"),
                json!({"tags": "env"}),
                400,
                "PCA.00020001",
            ),
        ] {
            post(&app, &path, body).await.assert_error(status, code);
        }
        get(&app, &format!("{cas}/{missing_ca}/tags"))
            .await
            .assert_error(404, "PCA.10010002");
        delete_with(
            &app,
            &format!("{certs}/{c}/tags/delete"),
            json!({"tags": []}),
        )
        .await
        .assert_error(400, "PCA.90020006");

        // A CA whose scheduled deletion has passed is gone, its tags with it.
        let has_doomed = |v: &Value| {
            v["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["key"] == "doomed")
        };
        ok(
            &post(
                &app,
                &format!("{cas}/{other_ca}/tags"),
                json!({"tag": {"key": "doomed", "value": "yes"}}),
            )
            .await,
            204,
        );
        assert!(has_doomed(&ok(
            &get(&app, &format!("{cas}/tags")).await,
            200
        )));
        ok(
            &app.signed("POST", &format!("{cas}/{other_ca}/disable"), None)
                .await,
            204,
        );
        ok(
            &app.signed("DELETE", &format!("{cas}/{other_ca}?pending_days=7"), None)
                .await,
            204,
        );
        assert!(
            has_doomed(&ok(&get(&app, &format!("{cas}/tags")).await, 200)),
            "still restorable"
        );
        app.clock.advance(8 * DAY);
        assert!(!has_doomed(&ok(
            &get(&app, &format!("{cas}/tags")).await,
            200
        )));
        let r = ok(
            &post(&app, &format!("{cas}/resource-instances/count"), json!({})).await,
            200,
        );
        assert_eq!(r["total_count"], 1);
    }
);
