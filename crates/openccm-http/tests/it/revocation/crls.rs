//! CRLs: revoked certificates of every key family on the CRLs (and in
//! OCSP), growing numbers and revalidation, no expired CRL served,
//! concurrent revocations, revoked subordinate CAs.

use super::*;

both_backends!(
    revoked_certificates_are_on_the_crls_and_ocsp_says_so_for_every_key_family,
    |app| async move {
        let mut later = Vec::new();
        for (alg, hash) in FAMILIES {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            let ca =
                publishing_root(&app, d, alg, hash, &format!("{}-ca", alg.to_lowercase())).await;
            let name = format!("{}-ca", alg.to_lowercase());
            let live = issued_pem(&app, d, &ca, alg, hash).await;
            let doomed = issued_pem(&app, d, &ca, alg, hash).await;

            // The certificate carries the URLs that answer.
            let text = openssl(
                d,
                &["x509", "-in", &format!("{doomed}.pem"), "-noout", "-text"],
            );
            assert!(
                text.contains(&format!("URI:http://openccm.test/pca/crl/{ca}/{name}.crl")),
                "{text}"
            );
            assert!(
                text.contains(&format!("OCSP - URI:http://openccm.test/pca/ocsp/{ca}")),
                "{text}"
            );

            assert_eq!(ocsp_status(&app, d, alg, &ca, &doomed).await, "good");
            let before = fetch_crl(&app, d, &ca, &format!("{name}.crl")).await;
            assert!(serials(&before).is_empty());

            revoke(&app, &doomed, "KEY_COMPROMISE").await;
            // At once: no clock moves, nothing waits.
            assert_eq!(ocsp_status(&app, d, alg, &ca, &doomed).await, "revoked");
            assert_eq!(ocsp_status(&app, d, alg, &ca, &live).await, "good");
            let full = fetch_crl(&app, d, &ca, &format!("{name}.crl")).await;
            let delta = fetch_crl(&app, d, &ca, &format!("{name}-delta.crl")).await;
            let doomed_serial = serial_of(d, &doomed);
            // Full CRLs are not re-signed per revoke: the delta lists it.
            assert_eq!(serials(&full), Vec::<String>::new());
            // An SM2 dual certificate is revoked with its encryption certificate.
            let listed = serials(&delta);
            assert_eq!(listed.len(), if alg == "SM2" { 2 } else { 1 }, "{listed:?}");
            assert_eq!(listed[0], doomed_serial);
            let entry = &delta.tbs_cert_list.revoked_certificates.as_ref().unwrap()[0];
            let reason = &entry.crl_entry_extensions.as_ref().unwrap()[0];
            assert_eq!(
                reason.extn_value.as_bytes(),
                &[0x0a, 0x01, 0x01],
                "keyCompromise"
            );
            for (file, crl) in [
                (format!("{name}.crl"), &full),
                (format!("{name}-delta.crl"), &delta),
            ] {
                check_crl_signature(d, alg, &file, crl);
                pkilint(d, "lint_crl", &["lint", "-t", "CRL", "-p", "PKIX", &file]);
            }
            if alg != "SM2" {
                // A relying party that combines the full CRL with its delta.
                std::fs::write(
                    d.join("crls.pem"),
                    [
                        std::fs::read(d.join(format!("{name}.crl.pem"))).unwrap(),
                        std::fs::read(d.join(format!("{name}-delta.crl.pem"))).unwrap(),
                    ]
                    .concat(),
                )
                .unwrap();
                let verify = |cert: &str| {
                    run(
                        d,
                        "openssl",
                        &[
                            "verify",
                            "-crl_check",
                            "-extended_crl",
                            "-use_deltas",
                            "-CAfile",
                            "ca.pem",
                            "-CRLfile",
                            "crls.pem",
                            &format!("{cert}.pem"),
                        ],
                    )
                };
                let (accepted, text) = verify(&live);
                assert!(accepted, "{text}");
                let (accepted, text) = verify(&doomed);
                assert!(!accepted && text.contains("certificate revoked"), "{text}");
            }

            later.push((dir, alg, ca, name, doomed));
        }
        // After the refresh interval the full CRLs list them too: the stale
        // one is served (its delta covers the rest) while one background
        // task rebuilds it.
        app.clock.advance(3_600_000 + 1000);
        let at = (app.clock.now_ms() / 1000).to_string();
        for (dir, alg, ca, name, doomed) in later {
            let d = dir.path();
            let stale = fetch_crl(&app, d, &ca, &format!("{name}.crl")).await;
            let mut full = stale;
            for _ in 0..100 {
                if !serials(&full).is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                full = fetch_crl(&app, d, &ca, &format!("{name}.crl")).await;
            }
            let listed = serials(&full);
            assert_eq!(listed.len(), if alg == "SM2" { 2 } else { 1 }, "{listed:?}");
            assert_eq!(listed[0], serial_of(d, &doomed));
            let delta = fetch_crl(&app, d, &ca, &format!("{name}-delta.crl")).await;
            assert!(serials(&delta).is_empty());
            check_crl_signature(d, alg, &format!("{name}.crl"), &full);
            if alg != "SM2" {
                let (accepted, text) = run(
                    d,
                    "openssl",
                    &[
                        "verify",
                        "-attime",
                        &at,
                        "-crl_check",
                        "-CAfile",
                        "ca.pem",
                        "-CRLfile",
                        &format!("{name}.crl.pem"),
                        &format!("{doomed}.pem"),
                    ],
                );
                assert!(!accepted && text.contains("certificate revoked"), "{text}");
            }
        }
    }
);

both_backends!(crl_numbers_grow_and_caches_revalidate, |app| async move {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = publishing_root(&app, d, "EC256", "SHA256", "numbers").await;
    let number = |crl: &x509_cert::crl::CertificateList| {
        let ext = crl
            .tbs_cert_list
            .crl_extensions
            .as_ref()
            .unwrap()
            .iter()
            .find(|e| e.extn_id.to_string() == "2.5.29.20")
            .unwrap()
            .clone();
        der::asn1::Uint::from_der(ext.extn_value.as_bytes())
            .unwrap()
            .as_bytes()
            .to_vec()
    };
    let full = fetch_crl(&app, d, &ca, "numbers.crl").await;
    let first_delta = fetch_crl(&app, d, &ca, "numbers-delta.crl").await;
    let cert = issued_pem(&app, d, &ca, "EC256", "SHA256").await;
    revoke(&app, &cert, "SUPERSEDED").await;
    let second_delta = fetch_crl(&app, d, &ca, "numbers-delta.crl").await;
    assert!(number(&first_delta) > number(&full));
    assert!(number(&second_delta) > number(&first_delta));
    // The delta names its base.
    let indicator = second_delta
        .tbs_cert_list
        .crl_extensions
        .as_ref()
        .unwrap()
        .iter()
        .find(|e| e.extn_id.to_string() == "2.5.29.27")
        .unwrap();
    assert!(indicator.critical);
    assert_eq!(
        der::asn1::Uint::from_der(indicator.extn_value.as_bytes())
            .unwrap()
            .as_bytes(),
        number(&full)
    );

    // A conditional request for the version held gets 304; after a change, the new one.
    let r = public_get(&app, &format!("/pca/crl/{ca}/numbers-delta.crl"), &[]).await;
    let etag = r.header("etag").unwrap();
    let again = public_get(
        &app,
        &format!("/pca/crl/{ca}/numbers-delta.crl"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let since = public_get(
        &app,
        &format!("/pca/crl/{ca}/numbers.crl"),
        &[("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")],
    )
    .await;
    // Whole-second dates from each server's clock validate nothing: only
    // the tag does.
    assert_eq!(since.status, 200);
    assert!(r.header("cache-control").unwrap().contains("max-age=0"));
    let other = issued_pem(&app, d, &ca, "EC256", "SHA256").await;
    revoke(&app, &other, "CESSATION_OF_OPERATION").await;
    let changed = public_get(
        &app,
        &format!("/pca/crl/{ca}/numbers-delta.crl"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag").unwrap(), etag);

    // Unknown CAs, other names and CAs that do not publish: 404.
    for path in [
        format!("/pca/crl/{ca}/other.crl"),
        format!("/pca/crl/{ca}/numbers"),
        "/pca/crl/not-a-ca/numbers.crl".to_owned(),
        "/pca/crl/00000000-0000-0000-0000-000000000000/numbers.crl".to_owned(),
    ] {
        assert_eq!(public_get(&app, &path, &[]).await.status, 404, "{path}");
    }
    ok(
        &post(
            &app,
            &format!("/v1/private-certificate-authorities/{ca}/crl/disable"),
            json!({}),
        )
        .await,
        204,
    );
    assert_eq!(
        public_get(&app, &format!("/pca/crl/{ca}/numbers.crl"), &[])
            .await
            .status,
        404
    );
});

both_backends!(an_expired_crl_is_never_served, |app| async move {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = publishing_root(&app, d, "EC256", "SHA256", "aging").await;
    let cert = issued_pem(&app, d, &ca, "EC256", "SHA256").await;
    revoke(&app, &cert, "SUPERSEDED").await;
    let serial = serial_of(d, &cert);
    let mut listed = false;
    // Eight days in steps: past the 7-day validity of the first CRLs.
    for _ in 0..16 {
        let full = fetch_crl(&app, d, &ca, "aging.crl").await;
        let delta = fetch_crl(&app, d, &ca, "aging-delta.crl").await;
        let all: Vec<String> = serials(&full).into_iter().chain(serials(&delta)).collect();
        assert_eq!(all, vec![serial.clone()], "listed exactly once");
        listed = true;
        app.clock.advance(DAY / 2);
    }
    assert!(listed);
    // Once the certificate expires (30 days), it leaves the CRLs.
    app.clock.advance(31 * DAY);
    let full = fetch_crl(&app, d, &ca, "aging.crl").await;
    let delta = fetch_crl(&app, d, &ca, "aging-delta.crl").await;
    assert!(serials(&full).is_empty() && serials(&delta).is_empty());
});

both_backends!(
    concurrent_revocations_are_all_in_the_next_crl_exactly_once,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = publishing_root(&app, d, "EC256", "SHA256", "busy").await;
        let mut ids = Vec::new();
        for _ in 0..200 {
            ids.push(
                ok(
                    &post(
                        &app,
                        "/v1/private-certificates",
                        json!({"issuer_id": ca, "key_algorithm": "EC256", "distinguished_name": {"common_name": "x.example.com"},
                               "validity": {"type": "DAY", "value": 30}}),
                    )
                    .await,
                    200,
                )["certificate_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        // The base CRL is built before the revocations start.
        fetch_crl(&app, d, &ca, "busy.crl").await;
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for id in &ids {
            let (app, id, ca) = (app.clone(), id.clone(), ca.clone());
            tasks.push(tokio::spawn(async move {
                revoke(&app, &id, "AFFILIATION_CHANGED").await;
                // Crawlers fetch the delta while revocations commit.
                let r = public_get(&app, &format!("/pca/crl/{ca}/busy-delta.crl"), &[]).await;
                assert_eq!(r.status, 200);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let mut expected = Vec::new();
        for id in &ids {
            let r = get(&app, &format!("/v1/private-certificates/{id}")).await;
            expected.push(
                ok(&r, 200)["serial_number"]
                    .as_str()
                    .unwrap()
                    .to_lowercase(),
            );
        }
        expected.sort();
        let full = fetch_crl(&app, d, &ca, "busy.crl").await;
        let delta = fetch_crl(&app, d, &ca, "busy-delta.crl").await;
        let mut served: Vec<String> = serials(&full).into_iter().chain(serials(&delta)).collect();
        served.sort();
        assert_eq!(served, expected);
        // The self-check agrees.
        let report = app.pca.check_crls().await.unwrap();
        assert!(
            report
                .iter()
                .any(|l| l.contains(&ca) && l.contains(" 200 unexpired")),
            "{report:?}"
        );
        // A revocation that never reached the CRLs' table is caught: the
        // check reads the certificate records.
        let lost = issued_pem(&app, d, &ca, "EC256", "SHA256").await;
        revoke(&app, &lost, "SUPERSEDED").await;
        let serial = serial_of(d, &lost);
        let sql = format!("DELETE FROM revocations WHERE serial = '{serial}'");
        match app.db.backend {
            openccm_testkit::Backend::Sqlite => {
                let path = app.db.url.strip_prefix("sqlite:").unwrap();
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute_batch(&sql)
                    .unwrap();
            }
            openccm_testkit::Backend::Postgres => {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&app.db.url)
                    .await
                    .unwrap();
                sqlx::query(&sql).execute(&mut conn).await.unwrap();
            }
        }
        let err = app.pca.check_crls().await.unwrap_err().to_string();
        assert!(err.contains("missing from its CRLs"), "{err}");
    }
);

both_backends!(
    a_revoked_subordinate_ca_is_on_its_issuers_crl,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let root = publishing_root(&app, d, "EC256", "SHA256", "root").await;
        let sub = ok(
        &post(
            &app,
            "/v1/private-certificate-authorities",
            json!({"type": "SUBORDINATE", "key_algorithm": "EC256", "signature_algorithm": "SHA256", "issuer_id": root,
                   "path_length": 0, "distinguished_name": {"common_name": "Sub", "country": "CN", "state": "Guangdong",
                   "locality": "Shenzhen", "organization": "Example", "organizational_unit": "IT"},
                   "validity": {"type": "YEAR", "value": 5}}),
        )
        .await,
        200,
    )["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
        let sub_ca = ok(
            &get(&app, &format!("/v1/private-certificate-authorities/{sub}")).await,
            200,
        );
        let serial = sub_ca["serial_number"].as_str().unwrap().to_lowercase();
        let pem = ok(
            &post(
                &app,
                &format!("/v1/private-certificate-authorities/{sub}/export"),
                json!({}),
            )
            .await,
            200,
        )["certificate"]
            .as_str()
            .unwrap()
            .to_owned();
        std::fs::write(d.join("sub.pem"), pem).unwrap();
        assert_eq!(ocsp_status(&app, d, "EC256", &root, "sub").await, "good");
        ok(
            &post(
                &app,
                &format!("/v1/private-certificate-authorities/{sub}/revoke"),
                json!({"reason": "CERTIFICATE_AUTHORITY_COMPROMISE"}),
            )
            .await,
            204,
        );
        assert_eq!(ocsp_status(&app, d, "EC256", &root, "sub").await, "revoked");
        // The root's first CRL is built now: the full CRL lists it.
        let full = fetch_crl(&app, d, &root, "root.crl").await;
        assert_eq!(serials(&full), vec![serial]);
        let reason = &full.tbs_cert_list.revoked_certificates.as_ref().unwrap()[0]
            .crl_entry_extensions
            .as_ref()
            .unwrap()[0];
        assert_eq!(
            reason.extn_value.as_bytes(),
            &[0x0a, 0x01, 0x02],
            "cACompromise"
        );
    }
);
