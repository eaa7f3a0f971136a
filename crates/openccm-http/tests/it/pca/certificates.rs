//! Private certificates: the ShowCertificate contract, every algorithm,
//! request errors, CSR issuance, revocation and deletion, lists, serials.

use super::*;

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
    let msg = post(&app, &format!("{path}/revoke"), json!({}))
        .await
        .assert_error(400, "PCA.90030001");
    assert_eq!(msg, "a REVOKED certificate cannot be revoked");
    let msg = post(
        &app,
        &format!("{path}/export"),
        json!({"is_compressed": "false", "type": "OTHER"}),
    )
    .await
    .assert_error(400, "PCA.90030001");
    assert_eq!(msg, "only ISSUED certificates can be exported, not REVOKED");
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
    the_list_filters_by_issuer_and_tag_as_openccm_extensions,
    |app| async move {
        let root = create_root(&app, "EC256", "SHA256").await;
        let sub = ok(&create_sub(&app, &root, "EC256", "SHA256", 0).await, 200)["ca_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let by_root = issued(&app, &root, json!({})).await;
        let by_sub = issued(&app, &sub, json!({})).await;
        let tagged = issued(&app, &sub, json!({})).await;
        let r = super::post(
            &app,
            &format!("/v1/private-certificates/{tagged}/tags"),
            json!({"tag": {"key": "env", "value": "prod"}}),
        )
        .await;
        assert!(r.status == 204 || r.status == 200, "{}", r.status);
        let ids = |r: &openccm_testkit::TestResponse| -> Vec<String> {
            let page = ok(r, 200);
            let mut ids: Vec<String> = page["certificates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["certificate_id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            assert_eq!(page["total"], ids.len());
            ids
        };
        let list = |q: String| {
            let app = &app;
            async move { super::get(app, &format!("/v1/private-certificates?{q}")).await }
        };
        assert_eq!(
            ids(&list(format!("issuer_id={root}")).await),
            [by_root.as_str()]
        );
        let mut of_sub = vec![by_sub.clone(), tagged.clone()];
        of_sub.sort();
        assert_eq!(ids(&list(format!("issuer_id={sub}")).await), of_sub);
        assert_eq!(
            ids(&list("tag_key=env".to_owned()).await),
            [tagged.as_str()]
        );
        assert_eq!(
            ids(&list("tag_key=env&tag_value=prod".to_owned()).await),
            [tagged.as_str()]
        );
        assert!(ids(&list("tag_key=env&tag_value=dev".to_owned()).await).is_empty());
        assert_eq!(
            ids(&list(format!("issuer_id={root}&tag_key=env")).await),
            Vec::<String>::new()
        );
        // With Huawei's own filters: a name, a status.
        assert_eq!(
            ids(&list("tag_key=env&name=www&status=ISSUED".to_owned()).await),
            [tagged.as_str()]
        );
        assert!(ids(&list("tag_key=env&status=REVOKED".to_owned()).await).is_empty());
        list("tag_value=prod".to_owned())
            .await
            .assert_error(400, "PCA.00020001");
        list("tag_key=_sys_x".to_owned())
            .await
            .assert_error(400, "PCA.90020006");
        // By key algorithm.
        let rsa = issued(&app, &root, json!({"key_algorithm": "RSA2048"})).await;
        assert_eq!(
            ids(&list("key_algorithm=RSA2048".to_owned()).await),
            [rsa.as_str()]
        );
        assert_eq!(ids(&list("key_algorithm=EC256".to_owned()).await).len(), 3);
        list("key_algorithm=DSA".to_owned())
            .await
            .assert_error(400, "PCA.00020102");
        // By expiry: all four end in 30 days.
        let day = 24 * 3600 * 1000;
        let now = app.clock.now_ms();
        let soon = |days: i64| format!("expires_before={}", now + days * day);
        assert_eq!(ids(&list(soon(31)).await).len(), 4);
        assert!(ids(&list(soon(29)).await).is_empty());
        let mut of_root = vec![by_root.clone(), rsa.clone()];
        of_root.sort();
        assert_eq!(
            ids(&list(format!("{}&issuer_id={root}", soon(31))).await),
            of_root
        );
        list("expires_before=soon".to_owned())
            .await
            .assert_error(400, "PCA.00020001");
        // Without them, everything; a malformed id is the API's 400.
        assert_eq!(ids(&list("limit=50".to_owned()).await).len(), 4);
        list("issuer_id=not-an-id".to_owned())
            .await
            .assert_error(400, "PCA.00020201");
    }
);
