//! Imports: byte-for-byte round trips, documented refusals, size limits,
//! duplicates, lists, concurrent imports.

use super::*;

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
