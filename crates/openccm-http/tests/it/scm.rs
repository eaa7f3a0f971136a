//! SCM over HTTP: every operation and documented error, on both stores.
//!
//! Certificates come from the `openssl` command line (an RSA root, an
//! intermediate, leaves with PKCS#1, SEC1 and PKCS#8 keys) and from
//! OpenCCM's own private CA (SM2 dual certificates, CSR issuance).

use std::process::Command;
use std::sync::OnceLock;

use crate::common::{get, ok, post};
use openccm_store::ScmCertId;
use openccm_testkit::{both_backends, TestApp, TestResponse};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

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

fn read(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// Certificates and keys made once per test binary with the openssl CLI.
struct Material {
    root: String,
    intermediate: String,
    other_root: String,
    /// RSA-2048 leaf (PKCS#1 key), 30 days.
    rsa: (String, String),
    /// EC P-256 leaf (SEC1 key), 1 day.
    ec256: (String, String),
    /// EC P-384 leaf (PKCS#8 key), 90 days.
    ec384: (String, String),
    /// A second RSA leaf, 60 days, and its (password-protected) key.
    rsa2: (String, String),
    rsa2_encrypted_key: String,
    /// SHA-1 fingerprint of the RSA leaf, lower hex.
    rsa_fingerprint: String,
}

fn material() -> &'static Material {
    static MATERIAL: OnceLock<Material> = OnceLock::new();
    MATERIAL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("ca.ext"),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
        )
        .unwrap();
        std::fs::write(
            d.join("leaf.ext"),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n\
             subjectAltName=DNS:www.example.com,DNS:api.example.com,IP:10.0.0.1\n",
        )
        .unwrap();
        openssl(d, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.pem",
                     "-subj", "/CN=SCM Test Root", "-days", "3650",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        openssl(d, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.pem",
                     "-subj", "/CN=SCM Test Intermediate", "-days", "3650",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        openssl(d, &["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "inter.key", "-out", "inter.csr",
                     "-subj", "/CN=SCM Test Intermediate"]);
        openssl(d, &["x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
                     "-days", "1825", "-extfile", "ca.ext", "-out", "inter.pem"]);
        let leaf = |name: &str, days: &str| {
            openssl(d, &["req", "-new", "-key", &format!("{name}.key"), "-subj", "/CN=www.example.com",
                         "-out", &format!("{name}.csr")]);
            openssl(d, &["x509", "-req", "-in", &format!("{name}.csr"), "-CA", "inter.pem", "-CAkey", "inter.key",
                         "-CAcreateserial", "-days", days, "-extfile", "leaf.ext", "-out", &format!("{name}.pem")]);
            (read(d, &format!("{name}.pem")), read(d, &format!("{name}.key")))
        };
        openssl(d, &["genrsa", "-traditional", "-out", "rsa.key", "2048"]);
        openssl(d, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec256.key"]);
        openssl(d, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "ec384.key"]);
        openssl(d, &["genrsa", "-out", "rsa2.key", "2048"]);
        openssl(d, &["pkey", "-in", "rsa2.key", "-aes256", "-passout", "pass:secret", "-out", "rsa2.enc.key"]);
        let rsa = leaf("rsa", "30");
        let fingerprint = openssl(d, &["x509", "-in", "rsa.pem", "-noout", "-fingerprint", "-sha1"]);
        let material = Material {
            root: read(d, "root.pem"),
            intermediate: read(d, "inter.pem"),
            other_root: read(d, "other.pem"),
            rsa,
            ec256: leaf("ec256", "1"),
            ec384: leaf("ec384", "90"),
            rsa2: leaf("rsa2", "60"),
            rsa2_encrypted_key: read(d, "rsa2.enc.key"),
            rsa_fingerprint: fingerprint
                .trim()
                .rsplit('=')
                .next()
                .unwrap()
                .replace(':', "")
                .to_lowercase(),
        };
        assert!(material.rsa.1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert!(material.ec256.1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        assert!(material.ec384.1.starts_with("-----BEGIN PRIVATE KEY-----"));
        material
    })
}

async fn import(app: &TestApp, body: Value) -> TestResponse {
    post(app, "/v3/scm/certificates/import", body).await
}

async fn import_ok(app: &TestApp, name: &str, cert: &(String, String), chain: &str) -> String {
    let r = import(
        app,
        json!({"name": name, "certificate": cert.0, "certificate_chain": chain, "private_key": cert.1}),
    )
    .await;
    ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned()
}

async fn total(app: &TestApp) -> i64 {
    ok(&get(app, "/v3/scm/certificates?limit=50").await, 200)["total_count"]
        .as_i64()
        .unwrap()
}

fn chain(m: &Material) -> String {
    format!("{}{}", m.intermediate, m.root)
}

both_backends!(
    imported_certificates_round_trip_byte_for_byte,
    |app| async move {
        let m = material();
        for (name, cert) in [
            ("rsa-pkcs1", &m.rsa),
            ("ec256-sec1", &m.ec256),
            ("ec384-pkcs8", &m.ec384),
        ] {
            let id = import_ok(&app, name, cert, &chain(m)).await;
            assert!(ScmCertId::parse(&id).is_some(), "{id}");
            let r = post(
                &app,
                &format!("/v3/scm/certificates/{id}/export"),
                json!({}),
            )
            .await;
            assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
            let e = ok(&r, 200);
            assert_eq!(e["certificate"], cert.0.as_str());
            assert_eq!(e["certificate_chain"], chain(m).as_str());
            assert_eq!(
                e["private_key"],
                cert.1.as_str(),
                "the key comes back in the form it came in"
            );
            assert_eq!(
                e["entire_certificate"],
                format!("{}{}", cert.0, chain(m)).as_str()
            );
            assert!(e.get("enc_certificate").is_none() && e.get("enc_private_key").is_none());
            for (field, max) in [
                ("entire_certificate", 12288),
                ("certificate", 4096),
                ("certificate_chain", 8192),
                ("private_key", 4096),
            ] {
                let n = e[field].as_str().unwrap().chars().count();
                assert!((1..=max).contains(&n), "{field} is {n} long");
            }
        }
        // The body-less POST the SDK sends works too.
        let id = import_ok(&app, "rsa-again", &m.rsa, &chain(m)).await;
        let r = app
            .signed("POST", &format!("/v3/scm/certificates/{id}/export"), None)
            .await;
        assert_eq!(ok(&r, 200)["certificate"], m.rsa.0.as_str());

        let shown = ok(&get(&app, &format!("/v3/scm/certificates/{id}")).await, 200);
        assert_eq!(shown["id"], id);
        assert_eq!(shown["status"], "UPLOAD");
        assert_eq!(shown["name"], "rsa-again");
        assert_eq!(shown["domain"], "www.example.com");
        assert_eq!(shown["sans"], "api.example.com;10.0.0.1");
        assert_eq!(shown["domain_type"], "MULTI_DOMAIN");
        assert_eq!(shown["domain_count"], 3);
        assert_eq!(shown["fingerprint"], m.rsa_fingerprint.as_str());
        assert_eq!(shown["signature_algorithm"], "SHA256WITHRSA");
        assert_eq!(shown["push_support"], "OFF");
        assert_eq!(shown["enterprise_project_id"], "0");
        assert!(
            shown["order_id"].is_null() && shown["authentification"].as_array().unwrap().is_empty()
        );
        assert_eq!(
            shown["not_after"].as_str().unwrap().len(),
            21,
            "yyyy-MM-dd HH:mm:ss.0"
        );
        assert!(shown["validity_period"].as_i64().unwrap() >= 1);

        let list = ok(&get(&app, "/v3/scm/certificates").await, 200);
        assert_eq!(list["total_count"], 4);
        let first = &list["certificates"][0];
        assert_eq!(first["id"], id, "newest first");
        assert_eq!(first["domain_id"], app.admin.domain_id);
        assert_eq!(first["deploy_support"], false);
        assert_eq!(first["status"], "UPLOAD");

        // The chain may come inside `certificate`: the first block is the leaf.
        let combined = format!("{}{}", m.rsa.0, chain(m));
        let r = import(
            &app,
            json!({"name": "combined", "certificate": combined, "private_key": m.rsa.1}),
        )
        .await;
        let id = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let e = ok(
            &post(
                &app,
                &format!("/v3/scm/certificates/{id}/export"),
                json!({}),
            )
            .await,
            200,
        );
        assert_eq!(e["certificate"], m.rsa.0.as_str());
        assert_eq!(e["certificate_chain"], chain(m).as_str());

        // A self-signed certificate has no chain: the field is left out.
        let root_key_cert = {
            let dir = tempfile::tempdir().unwrap();
            openssl(
                dir.path(),
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-keyout",
                    "k.pem",
                    "-out",
                    "c.pem",
                    "-subj",
                    "/CN=self.example.com",
                    "-days",
                    "10",
                ],
            );
            (read(dir.path(), "c.pem"), read(dir.path(), "k.pem"))
        };
        let r = import(&app, json!({"name": "self-signed", "certificate": root_key_cert.0, "private_key": root_key_cert.1})).await;
        let id = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let e = ok(
            &post(
                &app,
                &format!("/v3/scm/certificates/{id}/export"),
                json!({}),
            )
            .await,
            200,
        );
        assert!(e.get("certificate_chain").is_none());
        assert_eq!(e["entire_certificate"], root_key_cert.0.as_str());

        // Delete: 204, then gone.
        let r = app
            .signed("DELETE", &format!("/v3/scm/certificates/{id}"), None)
            .await;
        assert_eq!(r.status, 204);
        get(&app, &format!("/v3/scm/certificates/{id}"))
            .await
            .assert_error(404, "SCM.0021");
        app.signed("DELETE", &format!("/v3/scm/certificates/{id}"), None)
            .await
            .assert_error(404, "SCM.0021");
    }
);

both_backends!(
    bad_imports_get_their_documented_code_and_store_nothing,
    |app| async move {
        let m = material();
        let good = json!({"name": "good", "certificate": m.rsa.0, "certificate_chain": chain(m), "private_key": m.rsa.1});
        let with = |field: &str, value: Value| {
            let mut body = good.clone();
            body[field] = value;
            body
        };
        let pem_body = m
            .rsa
            .0
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n");
        let cases: Vec<(Value, u16, &str)> = vec![
            (with("certificate", json!("garbage")), 400, "SCM.0053"),
            (with("certificate", json!(pem_body)), 400, "SCM.0053"),
            (
                with(
                    "certificate",
                    json!("-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n"),
                ),
                400,
                "SCM.0054",
            ),
            (
                with(
                    "certificate",
                    json!("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"),
                ),
                400,
                "SCM.0053",
            ),
            (
                with("certificate_chain", json!("not a chain")),
                400,
                "SCM.0053",
            ),
            (
                with("certificate_chain", json!(m.other_root)),
                400,
                "SCM.0079",
            ),
            (
                with(
                    "certificate_chain",
                    json!(format!("{}{}", m.root, m.intermediate)),
                ),
                400,
                "SCM.0079",
            ),
            (with("certificate_chain", json!(m.rsa2.0)), 400, "SCM.0079"),
            (with("private_key", json!(m.rsa2.1)), 400, "SCM.0012"),
            (with("private_key", json!(m.ec256.1)), 400, "SCM.0012"),
            (
                with("private_key", json!(m.rsa2_encrypted_key)),
                400,
                "SCM.0012",
            ),
            (
                with("private_key", json!("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")),
                400,
                "SCM.0114",
            ),
            (
                with(
                    "private_key",
                    json!("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"),
                ),
                400,
                "SCM.0012",
            ),
            (with("name", json!("ab")), 400, "SCM.9001"),
            (with("name", json!("no spaces allowed")), 400, "SCM.9001"),
            (
                with(
                    "certificate",
                    json!(format!("{}{}", m.rsa.0, "x".repeat(4096))),
                ),
                400,
                "SCM.9001",
            ),
            (
                with("certificate_chain", json!(chain(m).repeat(4))),
                400,
                "SCM.9001",
            ),
            (with("enterprise_project_id", json!("all")), 400, "SCM.9001"),
            (with("enc_certificate", json!(m.rsa.0)), 400, "SCM.9001"),
            (json!({"name": "nothing"}), 400, "SCM.9001"),
            (
                json!({"name": "no-key", "certificate": m.rsa.0}),
                400,
                "SCM.9001",
            ),
        ];
        for (body, status, code) in cases {
            let r = import(&app, body.clone()).await;
            let msg = r.assert_error(status, code);
            assert!(!msg.is_empty(), "{body}");
            for key in [&m.rsa.1, &m.rsa2.1, &m.ec256.1] {
                let line = key.lines().nth(1).unwrap();
                assert!(
                    !msg.contains(&line[..32]),
                    "no key material in errors: {msg}"
                );
            }
        }
        // Not JSON, and not a JSON object.
        let r = app
            .signed("POST", "/v3/scm/certificates/import", Some("{not json"))
            .await;
        r.assert_error(400, "SCM.9001");
        assert_eq!(total(&app).await, 0, "nothing was stored");

        // Ids of the wrong length or shape are unknown ids.
        for id in [
            "scs123",
            "scs12345678901234",
            "abc1234567890123",
            "scs123456789012x",
        ] {
            get(&app, &format!("/v3/scm/certificates/{id}"))
                .await
                .assert_error(404, "SCM.0021");
            post(
                &app,
                &format!("/v3/scm/certificates/{id}/export"),
                json!({}),
            )
            .await
            .assert_error(404, "SCM.0021");
        }
        get(&app, "/v3/scm/certificates/scs0000000000001")
            .await
            .assert_error(404, "SCM.0021");

        // The good one goes in.
        ok(&import(&app, good).await, 200);
        assert_eq!(total(&app).await, 1);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_before_parsing() {
    {
        let small = TestApp::with_settings(
            openccm_testkit::Backend::Sqlite,
            openccm_http::HttpSettings {
                max_body_bytes: 16 * 1024,
                ..openccm_http::HttpSettings::default()
            },
        )
        .await;
        let body = json!({"name": "big", "certificate": "x".repeat(32 * 1024), "private_key": "k"})
            .to_string();
        let r = small
            .signed("POST", "/v3/scm/certificates/import", Some(&body))
            .await;
        assert_eq!(r.status, 413);
        assert_eq!(r.json()["error_code"], "APIGW.0201");
        assert_eq!(total(&small).await, 0);
    }
}

both_backends!(
    duplicate_check_refuses_a_stored_certificate,
    |app| async move {
        let m = material();
        let body = json!({"name": "dup", "certificate": m.ec384.0, "private_key": m.ec384.1,
                          "certificate_chain": chain(m), "duplicate_check": true});
        ok(&import(&app, body.clone()).await, 200);
        import(&app, body.clone())
            .await
            .assert_error(400, "SCM.9002");
        let mut allowed = body.clone();
        allowed["duplicate_check"] = json!(false);
        ok(&import(&app, allowed).await, 200);
        assert_eq!(total(&app).await, 2);
    }
);

both_backends!(lists_filter_sort_page_and_expire, |app| async move {
    let m = material();
    let project = "0d0b1c4e-7a3f-4c7b-9c5e-0123456789ab";
    let a = import_ok(&app, "alpha-30d", &m.rsa, &chain(m)).await;
    let b = import_ok(&app, "bravo-1d", &m.ec256, &chain(m)).await;
    let r = import(&app, json!({"name": "charlie-90d", "certificate": m.ec384.0, "private_key": m.ec384.1,
                                   "certificate_chain": chain(m), "enterprise_project_id": project})).await;
    let c = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
    let ids = |v: &Value| -> Vec<String> {
        v["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let l = ok(
        &get(
            &app,
            "/v3/scm/certificates?sort_key=certExpiredTime&sort_dir=ASC",
        )
        .await,
        200,
    );
    assert_eq!(ids(&l), vec![b.clone(), a.clone(), c.clone()]);
    let l = ok(
        &get(
            &app,
            "/v3/scm/certificates?sort_key=certExpiredTime&sort_dir=DESC",
        )
        .await,
        200,
    );
    assert_eq!(ids(&l), vec![c.clone(), a.clone(), b.clone()]);
    let l = ok(
        &get(
            &app,
            &format!("/v3/scm/certificates?enterprise_project_id={project}"),
        )
        .await,
        200,
    );
    assert_eq!(ids(&l), vec![c.clone()]);
    let l = ok(
        &get(&app, "/v3/scm/certificates?enterprise_project_id=0").await,
        200,
    );
    assert_eq!(l["total_count"], 2);
    let l = ok(&get(&app, "/v3/scm/certificates?content=BRAVO").await, 200);
    assert_eq!(ids(&l), vec![b.clone()]);
    let l = ok(
        &get(&app, "/v3/scm/certificates?content=www.example").await,
        200,
    );
    assert_eq!(l["total_count"], 3, "the domain matches too");
    let l = ok(
        &get(
            &app,
            "/v3/scm/certificates?limit=10&offset=2&sort_key=certExpiredTime&sort_dir=ASC",
        )
        .await,
        200,
    );
    assert_eq!(ids(&l), vec![c.clone()]);
    assert_eq!(l["total_count"], 3, "the total counts every match");
    let l = ok(&get(&app, "/v3/scm/certificates?status=ISSUED").await, 200);
    assert_eq!(l["total_count"], 0, "imported certificates are UPLOAD");
    let l = ok(
        &get(&app, "/v3/scm/certificates?deploy_support=true").await,
        200,
    );
    assert_eq!(l["total_count"], 0);

    // Three days later the 1-day certificate has expired (two days ago).
    app.clock.advance(3 * DAY);
    let l = ok(&get(&app, "/v3/scm/certificates?status=EXPIRED").await, 200);
    assert_eq!(ids(&l), vec![b.clone()]);
    assert_eq!(l["certificates"][0]["status"], "EXPIRED");
    let l = ok(&get(&app, "/v3/scm/certificates?status=UPLOAD").await, 200);
    assert_eq!(l["total_count"], 2);
    let shown = ok(&get(&app, &format!("/v3/scm/certificates/{b}")).await, 200);
    assert_eq!(shown["status"], "EXPIRED");
    let l = ok(
        &get(
            &app,
            "/v3/scm/certificates?sort_key=certStatus&sort_dir=ASC",
        )
        .await,
        200,
    );
    assert_eq!(ids(&l)[0], b, "EXPIRED sorts before UPLOAD");
    let l = ok(
        &get(&app, "/v3/scm/certificates?expired_days_since=1").await,
        200,
    );
    assert_eq!(l["total_count"], 2, "expired two days ago");
    let l = ok(
        &get(&app, "/v3/scm/certificates?expired_days_since=5").await,
        200,
    );
    assert_eq!(l["total_count"], 3);

    for bad in [
        "limit=5",
        "limit=51",
        "limit=x",
        "offset=-1",
        "sort_key=name",
        "sort_dir=UP",
        "status=NOPE",
        "enterprise_project_id=bad",
        "expired_days_since=1096",
        "deploy_support=maybe",
    ] {
        get(&app, &format!("/v3/scm/certificates?{bad}"))
            .await
            .assert_error(400, "SCM.9001");
    }
});

both_backends!(concurrent_imports_get_unique_ids, |app| async move {
    let m = material();
    let app = std::sync::Arc::new(app);
    let mut handles = Vec::new();
    for i in 0..16 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
                let r = import(&app, json!({"name": format!("parallel-{i}"), "certificate": m.ec256.0,
                                           "private_key": m.ec256.1, "certificate_chain": chain(m)})).await;
                ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned()
            }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16);
    assert!(ids.iter().all(|id| ScmCertId::parse(id).is_some()));
    assert_eq!(total(&app).await, 16);
});

async fn pca_root(app: &TestApp, alg: &str, hash: &str) -> String {
    let r = post(app, "/v1/private-certificate-authorities", json!({
        "type": "ROOT", "key_algorithm": alg, "signature_algorithm": hash,
        "distinguished_name": {"common_name": format!("{alg} SCM Root"), "country": "CN", "state": "GD",
                               "locality": "SZ", "organization": "OpenCCM", "organizational_unit": "PKI"},
        "validity": {"type": "YEAR", "value": 5}})).await;
    ok(&r, 200)["ca_id"].as_str().unwrap().to_owned()
}

async fn pca_chain(app: &TestApp, ca: &str) -> String {
    let r = post(
        app,
        &format!("/v1/private-certificate-authorities/{ca}/export"),
        json!({}),
    )
    .await;
    ok(&r, 200)["certificate"].as_str().unwrap().to_owned()
}

both_backends!(private_ca_certificates_come_into_scm, |app| async move {
    // An RSA and an SM2 dual certificate issued by OpenCCM's private CA,
    // exported as PEM, imported into SCM, exported again unchanged.
    for (alg, hash) in [("RSA2048", "SHA256"), ("SM2", "SM3")] {
        let ca = pca_root(&app, alg, hash).await;
        let r = post(
            &app,
            "/v1/private-certificates",
            json!({
                "issuer_id": ca, "key_algorithm": alg, "signature_algorithm": hash,
                "distinguished_name": {"common_name": "pca.example.com"},
                "subject_alternative_names": [{"type": "DNS", "value": "pca.example.com"}],
                "validity": {"type": "DAY", "value": 30}}),
        )
        .await;
        let cert_id = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let r = post(
            &app,
            &format!("/v1/private-certificates/{cert_id}/export"),
            json!({"is_compressed": "false", "type": "OTHER"}),
        )
        .await;
        let exported = ok(&r, 200);
        let mut body = json!({"name": format!("from-pca-{}", alg.to_lowercase()),
                                  "certificate": exported["certificate"], "certificate_chain": exported["certificate_chain"],
                                  "private_key": exported["private_key"]});
        if alg == "SM2" {
            body["enc_certificate"] = exported["enc_certificate"].clone();
            body["enc_private_key"] = exported["enc_private_key"].clone();
        }
        let id = ok(&import(&app, body.clone()).await, 200)["certificate_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let e = ok(
            &post(
                &app,
                &format!("/v3/scm/certificates/{id}/export"),
                json!({}),
            )
            .await,
            200,
        );
        for field in ["certificate", "certificate_chain", "private_key"] {
            assert_eq!(e[field], body[field], "{alg} {field}");
        }
        if alg == "SM2" {
            assert_eq!(e["enc_certificate"], body["enc_certificate"]);
            assert_eq!(e["enc_private_key"], body["enc_private_key"]);
            let shown = ok(&get(&app, &format!("/v3/scm/certificates/{id}")).await, 200);
            assert_eq!(shown["signature_algorithm"], "SM3WITHSM2");
            // The encryption key must belong to the encryption certificate.
            let mut swapped = body.clone();
            swapped["enc_private_key"] = body["private_key"].clone();
            import(&app, swapped).await.assert_error(400, "SCM.0012");
            // An SM2 certificate from another CA is not this pair's encryption certificate.
            let mut foreign = body.clone();
            foreign["enc_certificate"] = json!(pca_chain(&app, &ca).await);
            let r = import(&app, foreign).await;
            assert_eq!(r.status, 400);
        } else {
            assert!(e.get("enc_certificate").is_none());
        }
    }
});

both_backends!(
    csrs_are_managed_and_link_their_keys_to_imports,
    |app| async move {
        let r = post(&app, "/v3/scm/csr", json!({"name": "web csr", "domain_name": "shop.example.com",
            "sans": "www.shop.example.com;10.1.2.3", "private_key_algo": "EC_P256", "usage": "ENTERPRISE",
            "company_country": "CN", "company_province": "Guangdong", "company_city": "Shenzhen",
            "company_name": "示例公司"})).await;
        let csr = ok(&r, 201);
        let csr_id = csr["id"].as_str().unwrap().to_owned();
        assert_eq!(csr_id.len(), 32);
        assert_eq!(csr["private_key_algo"], "EC_P256");
        assert_eq!(csr["domain_name"], "shop.example.com");
        assert_eq!(csr["sans"], "www.shop.example.com;10.1.2.3");
        assert_eq!(csr["usage"], "ENTERPRISE");
        assert_eq!(csr["create_time"].as_i64().unwrap().to_string().len(), 13);
        assert!(
            csr.get("csr").is_none(),
            "CreateCsrResponse has no csr field (ShowCsr has it)"
        );
        let pem = ok(&get(&app, &format!("/v3/scm/csr/{csr_id}")).await, 200)["csr"]
            .as_str()
            .unwrap()
            .to_owned();
        // OpenSSL reads the CSR, its signature verifies, and it asks for the SANs.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("r.csr"), &pem).unwrap();
        let text = openssl(
            dir.path(),
            &["req", "-in", "r.csr", "-noout", "-verify", "-text"],
        );
        assert!(
            text.contains("DNS:www.shop.example.com") && text.contains("IP Address:10.1.2.3"),
            "{text}"
        );
        assert!(
            text.contains("CN = shop.example.com") || text.contains("CN=shop.example.com"),
            "{text}"
        );

        // Show, list, rename.
        let shown = ok(&get(&app, &format!("/v3/scm/csr/{csr_id}")).await, 200);
        assert_eq!(shown["csr"], pem.as_str());
        let list = ok(
            &get(&app, "/v3/scm/csr?limit=10&private_key_algo=EC_P256").await,
            200,
        );
        assert_eq!(list["total"], 1);
        let list = ok(&get(&app, "/v3/scm/csr?name=nomatch").await, 200);
        assert_eq!(list["total"], 0);
        let r = app
            .signed(
                "PUT",
                &format!("/v3/scm/csr/{csr_id}"),
                Some(&json!({"name": "renamed"}).to_string()),
            )
            .await;
        assert_eq!(ok(&r, 200)["name"], "renamed");
        let key = ok(
            &get(&app, &format!("/v3/scm/csr/{csr_id}/private-key")).await,
            200,
        )["private_key"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));

        // The private CA issues for the CSR; SCM imports it without a key.
        let ca = pca_root(&app, "EC256", "SHA256").await;
        let r = post(
            &app,
            "/v1/private-certificates/csr",
            json!({"issuer_id": ca, "csr": pem,
            "validity": {"type": "DAY", "value": 30}}),
        )
        .await;
        let issued = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let exported = ok(
            &post(
                &app,
                &format!("/v1/private-certificates/{issued}/export"),
                json!({"is_compressed": "false", "type": "OTHER"}),
            )
            .await,
            200,
        );
        let r = import(
            &app,
            json!({"name": "for-csr", "certificate": exported["certificate"],
                                   "certificate_chain": exported["certificate_chain"]}),
        )
        .await;
        let id = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let e = ok(
            &post(
                &app,
                &format!("/v3/scm/certificates/{id}/export"),
                json!({}),
            )
            .await,
            200,
        );
        assert_eq!(e["private_key"], key.as_str(), "the CSR's key");
        // Deleting the CSR does not take the certificate's key away.
        assert_eq!(
            app.signed("DELETE", &format!("/v3/scm/csr/{csr_id}"), None)
                .await
                .status,
            204
        );
        get(&app, &format!("/v3/scm/csr/{csr_id}"))
            .await
            .assert_error(404, "SCM.0021");
        let e = ok(
            &post(
                &app,
                &format!("/v3/scm/certificates/{id}/export"),
                json!({}),
            )
            .await,
            200,
        );
        assert_eq!(e["private_key"], key.as_str());

        // Upload a customer CSR with its key; a key of another CSR is refused.
        let dir = tempfile::tempdir().unwrap();
        openssl(
            dir.path(),
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "c.key",
                "-out",
                "c.csr",
                "-subj",
                "/C=CN/O=Customer/CN=customer.example.com",
            ],
        );
        let customer_csr = read(dir.path(), "c.csr");
        let customer_key = read(dir.path(), "c.key");
        let r = post(
            &app,
            "/v3/scm/csr/upload",
            json!({"name": "customer", "csr": customer_csr, "private_key": customer_key}),
        )
        .await;
        let up = ok(&r, 200);
        assert_eq!(up["name"], "customer");
        let up_id = up["id"].as_str().unwrap().to_owned();
        let shown = ok(&get(&app, &format!("/v3/scm/csr/{up_id}")).await, 200);
        assert_eq!(shown["private_key_algo"], "RSA_2048");
        assert_eq!(shown["usage"], "ENTERPRISE");
        assert_eq!(shown["company_name"], "Customer");
        let k = ok(
            &get(&app, &format!("/v3/scm/csr/{up_id}/private-key")).await,
            200,
        );
        assert_eq!(k["private_key"], customer_key.as_str(), "kept as uploaded");
        post(
            &app,
            "/v3/scm/csr/upload",
            json!({"name": "mismatch", "csr": customer_csr, "private_key": material().rsa.1}),
        )
        .await
        .assert_error(400, "SCM.0012");
        post(
            &app,
            "/v3/scm/csr/upload",
            json!({"name": "junk", "csr": "junk"}),
        )
        .await
        .assert_error(400, "SCM.9006");
        let r = post(
            &app,
            "/v3/scm/csr/upload",
            json!({"name": "no-key", "csr": customer_csr}),
        )
        .await;
        let no_key = ok(&r, 200)["id"].as_str().unwrap().to_owned();
        get(&app, &format!("/v3/scm/csr/{no_key}/private-key"))
            .await
            .assert_error(400, "SCM.9002");

        // CreateCsr rules.
        for (body, code) in [
            (
                json!({"name": "x", "domain_name": "a.example.com", "private_key_algo": "RSA2048", "usage": "PERSONAL"}),
                "SCM.9008",
            ),
            (
                json!({"name": "x", "domain_name": "not a domain", "private_key_algo": "RSA_2048", "usage": "PERSONAL"}),
                "SCM.9001",
            ),
            (
                json!({"name": "x", "domain_name": "a.example.com", "private_key_algo": "RSA_2048", "usage": "ENTERPRISE"}),
                "SCM.9001",
            ),
            (
                json!({"name": "x", "domain_name": "a.example.com", "private_key_algo": "RSA_2048", "usage": "NOBODY"}),
                "SCM.9001",
            ),
            (
                json!({"domain_name": "a.example.com", "private_key_algo": "RSA_2048", "usage": "PERSONAL"}),
                "SCM.9001",
            ),
            (
                json!({"name": "x", "domain_name": "a.example.com", "private_key_algo": "SM2", "usage": "PERSONAL", "sans": "bad name"}),
                "SCM.9001",
            ),
        ] {
            post(&app, "/v3/scm/csr", body)
                .await
                .assert_error(400, code);
        }
        for id in ["short", "474a519e2c884c34a2d01033a6493b3c"] {
            get(&app, &format!("/v3/scm/csr/{id}"))
                .await
                .assert_error(404, "SCM.0021");
        }
        get(&app, "/v3/scm/csr?limit=0")
            .await
            .assert_error(400, "SCM.9001");
    }
);

both_backends!(
    sm2_csr_flows_return_the_encryption_key_as_the_seed_says,
    |app| async move {
        let ca = pca_root(&app, "SM2", "SM3").await;
        // 1. CSR generated by the service: the envelope opens here, the
        //    export carries the plain encryption key.
        let csr = ok(
            &post(
                &app,
                "/v3/scm/csr",
                json!({"name": "sm2", "domain_name": "sm2.example.com",
            "private_key_algo": "SM2", "usage": "PERSONAL"}),
            )
            .await,
            201,
        );
        let csr = ok(
            &get(
                &app,
                &format!("/v3/scm/csr/{}", csr["id"].as_str().unwrap()),
            )
            .await,
            200,
        );
        let r = post(
            &app,
            "/v1/private-certificates/csr",
            json!({"issuer_id": ca, "csr": csr["csr"],
            "validity": {"type": "DAY", "value": 30}}),
        )
        .await;
        let issued = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let plain = ok(
            &post(
                &app,
                &format!("/v1/private-certificates/{issued}/export"),
                json!({"is_compressed": "false", "type": "OTHER"}),
            )
            .await,
            200,
        );
        let sm = ok(
            &post(
                &app,
                &format!("/v1/private-certificates/{issued}/export"),
                json!({"is_compressed": "false", "type": "OTHER", "is_sm_standard": "true"}),
            )
            .await,
            200,
        );
        let envelope = sm["enc_sm2_enveloped_key"].as_str().unwrap().to_owned();
        let r = import(&app, json!({"name": "sm2-service-csr", "certificate": plain["certificate"],
            "certificate_chain": plain["certificate_chain"], "enc_certificate": plain["enc_certificate"],
            "enc_private_key": envelope})).await;
        let id = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let e = ok(
            &post(
                &app,
                &format!("/v3/scm/certificates/{id}/export"),
                json!({}),
            )
            .await,
            200,
        );
        let enc_key = e["enc_private_key"].as_str().unwrap();
        assert!(
            enc_key.starts_with("-----BEGIN PRIVATE KEY-----"),
            "plain: {enc_key}"
        );
        // The plain key is the encryption certificate's key (checked by OpenSSL).
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("enc.key"), enc_key).unwrap();
        std::fs::write(
            dir.path().join("enc.pem"),
            e["enc_certificate"].as_str().unwrap(),
        )
        .unwrap();
        let from_key = openssl(dir.path(), &["pkey", "-in", "enc.key", "-pubout"]);
        let from_cert = openssl(dir.path(), &["x509", "-in", "enc.pem", "-noout", "-pubkey"]);
        assert_eq!(from_key, from_cert);

        // 2. The customer's own key: the envelope is kept and exported as given.
        let dir = tempfile::tempdir().unwrap();
        openssl(
            dir.path(),
            &["genpkey", "-algorithm", "SM2", "-out", "own.key"],
        );
        openssl(
            dir.path(),
            &[
                "req",
                "-new",
                "-key",
                "own.key",
                "-sm3",
                "-sigopt",
                "distid:1234567812345678",
                "-subj",
                "/CN=own.example.com",
                "-out",
                "own.csr",
            ],
        );
        let own_key = read(dir.path(), "own.key");
        let r = post(
            &app,
            "/v1/private-certificates/csr",
            json!({"issuer_id": ca, "csr": read(dir.path(), "own.csr"),
            "validity": {"type": "DAY", "value": 30}}),
        )
        .await;
        let issued = ok(&r, 200)["certificate_id"].as_str().unwrap().to_owned();
        let plain = ok(
            &post(
                &app,
                &format!("/v1/private-certificates/{issued}/export"),
                json!({"is_compressed": "false", "type": "OTHER"}),
            )
            .await,
            200,
        );
        let sm = ok(
            &post(
                &app,
                &format!("/v1/private-certificates/{issued}/export"),
                json!({"is_compressed": "false", "type": "OTHER", "is_sm_standard": "true"}),
            )
            .await,
            200,
        );
        let envelope = sm["enc_sm2_enveloped_key"].as_str().unwrap().to_owned();
        let body = json!({"name": "sm2-own-key", "certificate": plain["certificate"],
            "certificate_chain": plain["certificate_chain"], "private_key": own_key,
            "enc_certificate": plain["enc_certificate"], "enc_private_key": envelope});
        let id = ok(&import(&app, body.clone()).await, 200)["certificate_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let e = ok(
            &post(
                &app,
                &format!("/v3/scm/certificates/{id}/export"),
                json!({}),
            )
            .await,
            200,
        );
        assert_eq!(
            e["enc_private_key"],
            envelope.as_str(),
            "the envelope, as given"
        );
        assert_eq!(e["private_key"], own_key.as_str());
        // An envelope that does not open with the signing key is refused.
        let mut wrong = body.clone();
        let other = ok(
            &post(
                &app,
                "/v3/scm/csr",
                json!({"name": "other", "domain_name": "o.example.com",
            "private_key_algo": "SM2", "usage": "PERSONAL"}),
            )
            .await,
            201,
        );
        let other_key = ok(
            &get(
                &app,
                &format!("/v3/scm/csr/{}/private-key", other["id"].as_str().unwrap()),
            )
            .await,
            200,
        );
        wrong["private_key"] = other_key["private_key"].clone();
        import(&app, wrong).await.assert_error(400, "SCM.0012");
        let mut garbage = body.clone();
        garbage["enc_private_key"] = json!("bm90IGFuIGVudmVsb3Bl");
        import(&app, garbage).await.assert_error(400, "SCM.0012");
    }
);

both_backends!(tags_are_managed_and_filter_certificates, |app| async move {
    let m = material();
    let a = import_ok(&app, "tagged-a", &m.rsa, &chain(m)).await;
    let b = import_ok(&app, "tagged-b", &m.ec256, &chain(m)).await;
    let c = import_ok(&app, "plain-c", &m.ec384, &chain(m)).await;
    let r = post(
        &app,
        &format!("/v3/scm/{a}/tags"),
        json!({"tag": {"key": "env", "value": "prod"}}),
    )
    .await;
    assert_eq!(ok(&r, 200)["desc"], "success");
    let r = post(
        &app,
        &format!("/v3/scm/{a}/tags/action"),
        json!({"action": "create",
            "tags": [{"key": "team", "value": "web"}, {"key": "env", "value": "staging"}]}),
    )
    .await;
    ok(&r, 200);
    let r = post(&app, &format!("/v3/scm/{b}/tags/action"), json!({"action": "create",
            "tags": [{"key": "env", "value": "prod"}, {"key": "owner", "value": "ops@example.com"}]})).await;
    ok(&r, 200);
    let tags = ok(&get(&app, &format!("/v3/scm/{a}/tags")).await, 200);
    assert_eq!(
        tags["tags"],
        json!([{"key": "env", "value": "staging"}, {"key": "team", "value": "web"}]),
        "one value per key: the later one wins"
    );
    let all = ok(&get(&app, "/v3/scm/tags").await, 200);
    assert_eq!(
        all["tags"],
        json!([{"key": "env", "values": ["prod", "staging"]},
                                        {"key": "owner", "values": ["ops@example.com"]},
                                        {"key": "team", "values": ["web"]}])
    );

    let by = |body: Value| {
        let app = &app;
        async move {
            ok(
                &post(app, "/v3/scm/resource_instances/action", body).await,
                200,
            )
        }
    };
    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["resource_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let r = by(json!({"action": "filter", "tags": [{"key": "env", "values": ["prod"]}]})).await;
    assert_eq!(ids(&r), vec![b.clone()]);
    assert_eq!(r["total_count"], 1);
    assert_eq!(r["resources"][0]["tags"].as_array().unwrap().len(), 2);
    assert_eq!(
        r["resources"][0]["resource_detail"]["order_status"],
        "UPLOAD"
    );
    let r = by(json!({"tags": [{"key": "env", "values": []}]})).await;
    assert_eq!(ids(&r), sorted(vec![a.clone(), b.clone()]));
    let r = by(json!({"tags": [{"key": "env", "values": ["prod", "staging"]}, {"key": "team", "values": []}]})).await;
    assert_eq!(ids(&r), vec![a.clone()]);
    let r =
        by(json!({"tags_any": [{"key": "team", "values": []}, {"key": "owner", "values": []}]}))
            .await;
    assert_eq!(ids(&r), sorted(vec![a.clone(), b.clone()]));
    let r = by(json!({"not_tags": [{"key": "env", "values": ["prod"]}]})).await;
    assert_eq!(ids(&r), sorted(vec![a.clone(), c.clone()]));
    let r =
        by(json!({"not_tags_any": [{"key": "team", "values": []}, {"key": "env", "values": []}]}))
            .await;
    assert_eq!(ids(&r), sorted(vec![b.clone(), c.clone()]));
    let r = by(json!({"without_any_tag": true})).await;
    assert_eq!(ids(&r), vec![c.clone()]);
    let r = by(json!({"matches": [{"key": "resource_name", "value": "tagged"}]})).await;
    assert_eq!(ids(&r), sorted(vec![a.clone(), b.clone()]));
    let r = by(json!({"action": "count", "tags": [{"key": "env", "values": []}]})).await;
    assert_eq!(r["total_count"], 2);
    assert!(r.get("resources").is_none());
    let r = by(json!({"limit": 1, "offset": 1})).await;
    assert_eq!(r["total_count"], 3);
    assert_eq!(r["resources"].as_array().unwrap().len(), 1);

    // Delete by key.
    let r = post(
        &app,
        &format!("/v3/scm/{a}/tags/action"),
        json!({"action": "delete", "tags": [{"key": "team"}]}),
    )
    .await;
    ok(&r, 200);
    let tags = ok(&get(&app, &format!("/v3/scm/{a}/tags")).await, 200);
    assert_eq!(tags["tags"], json!([{"key": "env", "value": "staging"}]));

    // Errors.
    for (path, body, status, code) in [
        (
            format!("/v3/scm/{a}/tags"),
            json!({"tag": {"key": "bad/key", "value": "v"}}),
            400,
            "SCM.9007",
        ),
        (
            format!("/v3/scm/{a}/tags"),
            json!({"tag": {"key": "_sys_x", "value": "v"}}),
            400,
            "SCM.9007",
        ),
        (
            format!("/v3/scm/{a}/tags"),
            json!({"tag": {"value": "v"}}),
            400,
            "SCM.9007",
        ),
        (format!("/v3/scm/{a}/tags"), json!({}), 400, "SCM.9007"),
        (
            format!("/v3/scm/{a}/tags/action"),
            json!({"action": "upsert", "tags": [{"key": "k"}]}),
            400,
            "SCM.9001",
        ),
        (
            format!("/v3/scm/{a}/tags/action"),
            json!({"action": "create", "tags": []}),
            400,
            "SCM.9007",
        ),
        (
            "/v3/scm/scs0000000000001/tags".to_owned(),
            json!({"tag": {"key": "k", "value": "v"}}),
            404,
            "SCM.0021",
        ),
        (
            "/v3/scm/resource_instances/action".to_owned(),
            json!({"action": "delete"}),
            400,
            "SCM.9001",
        ),
        (
            "/v3/scm/resource_instances/action".to_owned(),
            json!({"tags": [{"values": ["x"]}]}),
            400,
            "SCM.9007",
        ),
    ] {
        post(&app, &path, body).await.assert_error(status, code);
    }
    ok(
        &post(
            &app,
            &format!("/v3/scm/{c}/tags"),
            json!({"tag": {"key": "extra", "value": ""}}),
        )
        .await,
        200,
    );
    let many: Vec<Value> = (0..20)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    post(
        &app,
        &format!("/v3/scm/{c}/tags/action"),
        json!({"action": "create", "tags": many}),
    )
    .await
    .assert_error(400, "SCM.9007");
    assert_eq!(
        ok(&get(&app, &format!("/v3/scm/{c}/tags")).await, 200)["tags"],
        json!([{"key": "extra", "value": ""}]),
        "over the limit of 20: nothing written"
    );
    get(&app, "/v3/scm/scs0000000000001/tags")
        .await
        .assert_error(404, "SCM.0021");

    // Deleting a certificate takes its tags along.
    assert_eq!(
        app.signed("DELETE", &format!("/v3/scm/certificates/{b}"), None)
            .await
            .status,
        204
    );
    let all = ok(&get(&app, "/v3/scm/tags").await, 200);
    assert_eq!(
        all["tags"],
        json!([{"key": "env", "values": ["staging"]}, {"key": "extra", "values": [""]}])
    );
});

both_backends!(notification_settings_are_stored, |app| async move {
    let m = material();
    let a = import_ok(&app, "notify-a", &m.rsa, &chain(m)).await;
    let r = post(
        &app,
        "/v3/scm/notification/enable",
        json!([{"resource_id": a, "notice_type": ["CERT_EXPIRING", "CERT_EXPIRED"]}]),
    )
    .await;
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    let domain = openccm_store::DomainId::parse(&app.admin.domain_id).unwrap();
    let id = ScmCertId::parse(&a).unwrap();
    assert_eq!(
        app.store.notifications(&domain, &id).await.unwrap(),
        vec![
            ("CERT_EXPIRED".to_owned(), true),
            ("CERT_EXPIRING".to_owned(), true)
        ]
    );
    let r = post(
        &app,
        "/v3/scm/notification/disable",
        json!([{"resource_id": a, "notice_type": ["CERT_EXPIRED"]}]),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        app.store.notifications(&domain, &id).await.unwrap(),
        vec![
            ("CERT_EXPIRED".to_owned(), false),
            ("CERT_EXPIRING".to_owned(), true)
        ]
    );
    // All or nothing: one unknown certificate and nothing changes.
    post(
        &app,
        "/v3/scm/notification/disable",
        json!([{"resource_id": a, "notice_type": ["CERT_EXPIRING"]},
            {"resource_id": "scs0000000000001", "notice_type": ["CERT_EXPIRING"]}]),
    )
    .await
    .assert_error(404, "SCM.0021");
    assert_eq!(
        app.store.notifications(&domain, &id).await.unwrap()[1],
        ("CERT_EXPIRING".to_owned(), true)
    );
    post(
        &app,
        "/v3/scm/notification/enable",
        json!([{"resource_id": a, "notice_type": ["SOON"]}]),
    )
    .await
    .assert_error(400, "SCM.9001");
    post(&app, "/v3/scm/notification/enable", json!([]))
        .await
        .assert_error(400, "SCM.9001");
    post(
        &app,
        "/v3/scm/notification/enable",
        json!({"resource_id": a}),
    )
    .await
    .assert_error(400, "SCM.9001");
});

both_backends!(cloud_only_operations_say_so, |app| async move {
    for (method, path) in [
        ("POST", "/v3/scm/certificates/scs1590053258704/push"),
        ("POST", "/v3/scm/certificates/scs1590053258704/batch-push"),
        ("POST", "/v3/scm/certificates/scs1590053258704/deploy"),
        ("POST", "/v3/scm/deployed-resources"),
        ("POST", "/v3/scm/certificates/buy"),
        ("POST", "/v3/scm/certificates/scs1590053258704/apply"),
        ("POST", "/v3/scm/certificates/scs1590053258704/cancel-cert"),
        (
            "DELETE",
            "/v3/scm/certificates/scs1590053258704/unsubscribe",
        ),
    ] {
        let r = app.signed(method, path, Some("{}")).await;
        r.assert_error(400, "SCM.9009");
    }
    // Without credentials, SCM routes answer 401 like every other.
    let r = app
        .send(
            axum::http::Request::builder()
                .uri("/v3/scm/certificates")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    r.assert_error(401, "APIGW.0301");
});
