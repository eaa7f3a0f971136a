//! The OCSP responder: every kind of question.

use super::*;

both_backends!(
    ocsp_answers_every_kind_of_question_correctly,
    |app| async move {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = publishing_root(&app, d, "EC256", "SHA256", "ocsp").await;
        let cert = issued_pem(&app, d, &ca, "EC256", "SHA256").await;
        std::fs::copy(d.join("ca.pem"), d.join("first-ca.pem")).unwrap();
        let other = publishing_root(&app, d, "EC256", "SHA256", "other").await;
        std::fs::copy(d.join("first-ca.pem"), d.join("ca.pem")).unwrap();
        let status = |body: &[u8]| {
            x509_ocsp::OcspResponse::from_der(body)
                .unwrap()
                .response_status
        };

        // Garbage, an empty body, a truncated request: malformedRequest.
        for body in [b"garbage".to_vec(), Vec::new(), vec![0x30, 0x82, 0x01]] {
            let r = public(&app, "POST", &format!("/pca/ocsp/{ca}"), body, &[]).await;
            assert_eq!(r.status, 200);
            assert_eq!(
                status(&r.body),
                x509_ocsp::OcspResponseStatus::MalformedRequest
            );
        }
        // A question about this CA's certificate sent to another CA's URL, or an unknown CA: unauthorized.
        openssl(
            d,
            &[
                "ocsp",
                "-issuer",
                "ca.pem",
                "-cert",
                &format!("{cert}.pem"),
                "-reqout",
                "q.der",
                "-no_nonce",
            ],
        );
        let question = std::fs::read(d.join("q.der")).unwrap();
        for path in [
            format!("/pca/ocsp/{other}"),
            "/pca/ocsp/00000000-0000-0000-0000-000000000000".to_owned(),
        ] {
            let r = public(&app, "POST", &path, question.clone(), &[]).await;
            assert_eq!(
                status(&r.body),
                x509_ocsp::OcspResponseStatus::Unauthorized,
                "{path}"
            );
        }
        // A serial this CA never issued: unknown (SHA-256 CertID this time).
        openssl(
            d,
            &[
                "ocsp",
                "-issuer",
                "ca.pem",
                "-sha256",
                "-serial",
                "0x0102030405",
                "-reqout",
                "u.der",
            ],
        );
        let r = public(
            &app,
            "POST",
            &format!("/pca/ocsp/{ca}"),
            std::fs::read(d.join("u.der")).unwrap(),
            &[],
        )
        .await;
        std::fs::write(d.join("u-resp.der"), &r.body).unwrap();
        let (_, text) = run(
            d,
            "openssl",
            &[
                "ocsp",
                "-respin",
                "u-resp.der",
                "-CAfile",
                "ca.pem",
                "-resp_text",
                "-noverify",
            ],
        );
        assert!(
            text.contains("Cert Status: unknown") && text.contains("Hash Algorithm: sha256"),
            "{text}"
        );
        // The nonce is echoed (OpenSSL refuses a response without it: ocsp_status sends one).
        assert_eq!(ocsp_status(&app, d, "EC256", &ca, &cert).await, "good");

        // GET (RFC 5019): cacheable, revalidates, and a revoke changes it at once.
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&question);
        let path = format!(
            "/pca/ocsp/{ca}/{}",
            encoded
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        );
        let first = public_get(&app, &path, &[]).await;
        assert_eq!(first.status, 200);
        let cache = first.header("cache-control").unwrap();
        assert!(
            cache.contains("max-age=") && !cache.contains("no-store"),
            "{cache}"
        );
        assert!(first.header("last-modified").is_some());
        let etag = first.header("etag").unwrap();
        let second = public_get(&app, &path, &[]).await;
        assert_eq!(
            second.body, first.body,
            "a cached status is served as signed"
        );
        let unpadded = format!(
            "/pca/ocsp/{ca}/{}",
            encoded
                .trim_end_matches('=')
                .replace('+', "%2B")
                .replace('/', "%2F")
        );
        assert_eq!(public_get(&app, &unpadded, &[]).await.body, first.body);
        assert_eq!(
            public_get(&app, &path, &[("if-none-match", &etag)])
                .await
                .status,
            304
        );
        revoke(&app, &cert, "PRIVILEGE_WITHDRAWN").await;
        let after = public_get(&app, &path, &[("if-none-match", &etag)]).await;
        assert_eq!(after.status, 200);
        let single = &basic_response(&after.body).tbs_response_data.responses[0];
        match single.cert_status {
            x509_ocsp::CertStatus::Revoked(info) => {
                assert_eq!(
                    info.revocation_reason,
                    Some(x509_cert::ext::pkix::crl::CrlReason::PrivilegeWithdrawn)
                );
            }
            other => panic!("{other:?}"),
        }
        // A GET with a nonce is answered for that client alone.
        openssl(
            d,
            &[
                "ocsp",
                "-issuer",
                "ca.pem",
                "-cert",
                &format!("{cert}.pem"),
                "-reqout",
                "n.der",
            ],
        );
        let nonced = base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(d.join("n.der")).unwrap());
        let r = public_get(
            &app,
            &format!(
                "/pca/ocsp/{ca}/{}",
                nonced
                    .replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
            ),
            &[],
        )
        .await;
        assert_eq!(r.header("cache-control").unwrap(), "no-store");
        // Bad base64 in the path: malformedRequest.
        let r = public_get(&app, &format!("/pca/ocsp/{ca}/%%%%"), &[]).await;
        assert_ne!(r.status, 500);
        let r = public_get(&app, &format!("/pca/ocsp/{ca}/bm90IGRlcg=="), &[]).await;
        assert_eq!(
            status(&r.body),
            x509_ocsp::OcspResponseStatus::MalformedRequest
        );

        // OCSP switched off: unauthorized.
        ok(
            &post(
                &app,
                &format!("/v1/private-certificate-authorities/{ca}/ocsp/switch"),
                json!({"ocsp_switch": false}),
            )
            .await,
            204,
        );
        let r = public(&app, "POST", &format!("/pca/ocsp/{ca}"), question, &[]).await;
        assert_eq!(status(&r.body), x509_ocsp::OcspResponseStatus::Unauthorized);
    }
);
