//! Exports in every documented format.

use super::*;

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
