//! Private CAs: the root lifecycle, creation errors, subordinates signed
//! now or later, externally signed certificates.

use super::*;

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
        // The messages name statuses as the API does.
        let msg = app
            .signed("DELETE", &path, None)
            .await
            .assert_error(400, "PCA.90030001");
        assert_eq!(msg, "Deletion is not allowed for a CA in status ACTIVED");
        ok(
            &app.signed("POST", &format!("{path}/disable"), None).await,
            204,
        );
        assert_eq!(ok(&get(&app, &path).await, 200)["status"], "DISABLED");
        let msg = issue(&app, &id, json!({}))
            .await
            .assert_error(400, "PCA.90030001");
        assert_eq!(msg, "the issuing CA is DISABLED, not ACTIVED");
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

both_backends!(
    a_malformed_issuer_id_is_refused_only_where_it_is_used,
    |app| async move {
        // The edge parses body ids; a malformed one is refused where the API
        // reads the field, as when the application parsed the text: a root
        // ignores issuer_id, a subordinate signed now needs it.
        let body = |ca_type: &str| {
            json!({"type": ca_type, "key_algorithm": "EC256", "signature_algorithm": "SHA256",
                "distinguished_name": dn("Malformed"), "validity": {"type": "YEAR", "value": 1},
                "issuer_id": "not-a-ca-id"})
        };
        ok(
            &post(&app, "/v1/private-certificate-authorities", body("ROOT")).await,
            200,
        );
        post(
            &app,
            "/v1/private-certificate-authorities",
            body("SUBORDINATE"),
        )
        .await
        .assert_error(400, "PCA.00020201");
        post(
            &app,
            "/v1/private-certificates",
            json!({"issuer_id": "not-a-ca-id", "key_algorithm": "EC256",
                "signature_algorithm": "SHA256", "distinguished_name": dn("leaf"),
                "validity": {"type": "DAY", "value": 1}}),
        )
        .await
        .assert_error(400, "PCA.00020201");
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
    // With several faults, the one the API checks first is reported: the
    // page, then the sort key, then the name, then the direction (the edge
    // parses them all, the application raises them in that order).
    for (query, reported) in [
        ("limit=1001&sort_key=serial", "limit"),
        ("sort_key=serial&name=", "sort_key"),
        ("sort_dir=UP&name=x&sort_key=serial", "sort_key"),
    ] {
        let r = get(
            &app,
            &format!("/v1/private-certificate-authorities?{query}"),
        )
        .await;
        let message = r.assert_error(400, "PCA.00020001");
        assert!(message.contains(reported), "{query}: {message}");
    }
    let long_name = "n".repeat(65);
    let r = get(
        &app,
        &format!("/v1/private-certificate-authorities?sort_dir=UP&name={long_name}"),
    )
    .await;
    assert!(r.assert_error(400, "PCA.00020001").contains("name"));
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
