//! Certificates from OpenCCM's own private CA, and SCM's CSRs linked to
//! the imports of what they were issued for.

use super::*;

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
