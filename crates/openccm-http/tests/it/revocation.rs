//! CRLs and OCSP over HTTP, on both stores: what relying parties see,
//! checked with OpenSSL's own tools, pkilint, and (SM2) RustCrypto's `sm2`,
//! which shares no code with the signing path (OpenSSL).

use std::path::Path;

use crate::common::{get, ok, post, run};
use axum::body::Body;
use axum::http::Request;
use der::{Decode as _, Encode as _};
use openccm_testkit::{both_backends, TestApp, TestResponse};
use serde_json::json;

const DAY: i64 = 86_400_000;

/// The three key families, as (key algorithm, signature hash).
const FAMILIES: [(&str, &str); 3] = [("EC256", "SHA256"), ("RSA2048", "SHA256"), ("SM2", "SM3")];

/// An unauthenticated GET, as a relying party sends it.
async fn public_get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    public(app, "GET", path, Vec::new(), headers).await
}

/// An unauthenticated request, as a relying party sends it.
async fn public(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> TestResponse {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "openccm.test");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    app.send(builder.body(Body::from(body)).unwrap()).await
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let (success, text) = run(dir, "openssl", args);
    assert!(success, "openssl {args:?}: {text}");
    text
}

fn pkilint(dir: &Path, tool: &str, args: &[&str]) {
    let python = std::env::var("OPENCCM_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("OPENCCM_TEST_PYTHON is not set: run the suite with scripts/test, which builds the virtualenv with pkilint")
    });
    let linter = Path::new(&python).with_file_name(tool);
    let (success, text) = run(dir, linter.to_str().unwrap(), args);
    assert!(
        success && text.trim().is_empty(),
        "{tool} {args:?} found:\n{text}"
    );
}

/// A root CA of `alg` that publishes a CRL named `name` and answers OCSP;
/// its id, and its certificate written to `ca.pem`.
async fn publishing_root(app: &TestApp, dir: &Path, alg: &str, hash: &str, name: &str) -> String {
    let id = ok(
        &post(
            app,
            "/v1/private-certificate-authorities",
            json!({"type": "ROOT", "key_algorithm": alg, "signature_algorithm": hash,
                   "distinguished_name": {"common_name": format!("{alg} Revocation Root"), "country": "CN",
                       "state": "Guangdong", "locality": "Shenzhen", "organization": "Example", "organizational_unit": "IT"},
                   "validity": {"type": "YEAR", "value": 10},
                   "crl_configuration": {"enabled": true, "obs_bucket_name": "bucket", "valid_days": 7, "crl_name": name}}),
        )
        .await,
        200,
    )["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &post(
            app,
            &format!("/v1/private-certificate-authorities/{id}/ocsp/switch"),
            json!({"ocsp_switch": true}),
        )
        .await,
        204,
    );
    let pem = ok(
        &post(
            app,
            &format!("/v1/private-certificate-authorities/{id}/export"),
            json!({}),
        )
        .await,
        200,
    )["certificate"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(dir.join("ca.pem"), pem).unwrap();
    id
}

/// Issues a certificate under `ca` and writes it to `<id>.pem`; its id.
async fn issued_pem(app: &TestApp, dir: &Path, ca: &str, alg: &str, hash: &str) -> String {
    let id = ok(
        &post(
            app,
            "/v1/private-certificates",
            json!({"issuer_id": ca, "key_algorithm": alg, "signature_algorithm": hash,
                   "distinguished_name": {"common_name": "www.example.com"}, "validity": {"type": "DAY", "value": 30}}),
        )
        .await,
        200,
    )["certificate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pem = ok(
        &post(
            app,
            &format!("/v1/private-certificates/{id}/export"),
            json!({"is_compressed": "false", "type": "OTHER"}),
        )
        .await,
        200,
    )["certificate"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(dir.join(format!("{id}.pem")), pem).unwrap();
    id
}

async fn revoke(app: &TestApp, cert: &str, reason: &str) {
    ok(
        &post(
            app,
            &format!("/v1/private-certificates/{cert}/revoke"),
            json!({"reason": reason}),
        )
        .await,
        204,
    );
}

/// Fetches a CRL, checks the response, writes it as `<file>` (DER) and
/// `<file>.pem`; the parsed CRL.
async fn fetch_crl(
    app: &TestApp,
    dir: &Path,
    ca: &str,
    file: &str,
) -> x509_cert::crl::CertificateList {
    let r = public_get(app, &format!("/pca/crl/{ca}/{file}"), &[]).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type").unwrap(), "application/pkix-crl");
    assert!(r.header("etag").is_some() && r.header("last-modified").is_some());
    let crl = x509_cert::crl::CertificateList::from_der(&r.body).unwrap();
    // Never served past its nextUpdate, and caches keep it no longer.
    let next = openccm_pki::time::from_x509(crl.tbs_cert_list.next_update.as_ref().unwrap());
    assert!(next > app.clock.now_ms(), "an expired CRL was served");
    let cache = r.header("cache-control").unwrap();
    let max_age: i64 = cache
        .split(", ")
        .find_map(|d| d.strip_prefix("max-age="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        max_age * 1000 <= next - openccm_pki::time::truncate_to_seconds(app.clock.now_ms()) + 1000
    );
    std::fs::write(dir.join(file), &r.body).unwrap();
    openssl(
        dir,
        &[
            "crl",
            "-inform",
            "DER",
            "-in",
            file,
            "-out",
            &format!("{file}.pem"),
        ],
    );
    crl
}

fn serials(crl: &x509_cert::crl::CertificateList) -> Vec<String> {
    crl.tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .map(|r| hex::encode(r.serial_number.as_bytes()))
        .collect()
}

fn serial_of(dir: &Path, cert: &str) -> String {
    let text = openssl(
        dir,
        &["x509", "-in", &format!("{cert}.pem"), "-noout", "-serial"],
    );
    text.trim().trim_start_matches("serial=").to_lowercase()
}

/// Verifies an SM2-with-SM3 signature over `message` with the CA
/// certificate's key and the standard user id, by RustCrypto's `sm2`.
fn sm2_verifies(ca_pem: &str, message: &[u8], signature: &[u8]) -> bool {
    use sm2::dsa::signature::Verifier as _;
    let (_, der) = pem_rfc7468_decode(ca_pem);
    let ca = x509_cert::Certificate::from_der(&der).unwrap();
    let point = ca
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let key = sm2::dsa::VerifyingKey::from_sec1_bytes("1234567812345678", point).unwrap();
    // SM2Signature ::= SEQUENCE { r INTEGER, s INTEGER } (GM/T 0009), read
    // with `der` and handed to `sm2` as the fixed 64-byte r || s.
    #[derive(der::Sequence)]
    struct Sm2Signature {
        r: der::asn1::Uint,
        s: der::asn1::Uint,
    }
    let Ok(parsed) = Sm2Signature::from_der(signature) else {
        return false;
    };
    let mut fixed = [0u8; 64];
    for (half, value) in [(0, &parsed.r), (32, &parsed.s)] {
        let bytes = value.as_bytes();
        if bytes.len() > 32 {
            return false;
        }
        fixed[half + 32 - bytes.len()..half + 32].copy_from_slice(bytes);
    }
    let Ok(signature) = sm2::dsa::Signature::from_slice(&fixed) else {
        return false;
    };
    key.verify(message, &signature).is_ok()
}

fn pem_rfc7468_decode(pem: &str) -> (String, Vec<u8>) {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    use base64::Engine as _;
    (
        "CERTIFICATE".to_owned(),
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap(),
    )
}

/// Checks a CRL's signature: OpenSSL for RSA and ECDSA; RustCrypto's `sm2`
/// for SM2 (OpenSSL 3.0's command line verifies SM2 with an empty user id).
fn check_crl_signature(dir: &Path, alg: &str, file: &str, crl: &x509_cert::crl::CertificateList) {
    if alg == "SM2" {
        let ca = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
        let tbs = crl.tbs_cert_list.to_der().unwrap();
        assert!(
            sm2_verifies(&ca, &tbs, crl.signature.raw_bytes()),
            "SM2 CRL signature"
        );
        let mut forged = tbs.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert!(!sm2_verifies(&ca, &forged, crl.signature.raw_bytes()));
    } else {
        let text = openssl(
            dir,
            &[
                "crl",
                "-in",
                &format!("{file}.pem"),
                "-CAfile",
                "ca.pem",
                "-noout",
                "-verify",
            ],
        );
        assert!(text.contains("verify OK"), "{text}");
    }
}

/// Asks the responder about `cert` by POST (OpenSSL's request) and returns
/// what `openssl ocsp` reads in the answer: `good`, `revoked` or `unknown`.
async fn ocsp_status(app: &TestApp, dir: &Path, alg: &str, ca: &str, cert: &str) -> String {
    openssl(
        dir,
        &[
            "ocsp",
            "-issuer",
            "ca.pem",
            "-cert",
            &format!("{cert}.pem"),
            "-reqout",
            "req.der",
        ],
    );
    let request = std::fs::read(dir.join("req.der")).unwrap();
    let r = public(
        app,
        "POST",
        &format!("/pca/ocsp/{ca}"),
        request,
        &[("content-type", "application/ocsp-request")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").unwrap(),
        "application/ocsp-response"
    );
    std::fs::write(dir.join("resp.der"), &r.body).unwrap();
    pkilint(dir, "lint_ocsp_response", &["lint", "resp.der"]);
    let basic = basic_response(&r.body);
    if alg == "SM2" {
        let ca_pem = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
        let tbs = basic.tbs_response_data.to_der().unwrap();
        assert!(
            sm2_verifies(&ca_pem, &tbs, basic.signature.raw_bytes()),
            "SM2 OCSP signature"
        );
    }
    // The nonce OpenSSL sent comes back (RFC 8954).
    let asked =
        x509_ocsp::OcspRequest::from_der(&std::fs::read(dir.join("req.der")).unwrap()).unwrap();
    assert!(asked.nonce().is_some());
    assert_eq!(basic.nonce(), asked.nonce());
    // OpenSSL matches the CertID and (but for SM2) checks the signature.
    let mut args = vec![
        "ocsp",
        "-respin",
        "resp.der",
        "-issuer",
        "ca.pem",
        "-CAfile",
        "ca.pem",
        "-no_nonce",
    ];
    if alg == "SM2" {
        args.push("-noverify");
    }
    let cert_path = format!("{cert}.pem");
    args.extend(["-cert", &cert_path]);
    let text = openssl(dir, &args);
    if alg != "SM2" {
        assert!(text.contains("Response verify OK"), "{text}");
    }
    let line = text.lines().find(|l| l.starts_with(&cert_path)).unwrap();
    line.rsplit(": ").next().unwrap().trim().to_owned()
}

fn basic_response(der: &[u8]) -> x509_ocsp::BasicOcspResponse {
    let response = x509_ocsp::OcspResponse::from_der(der).unwrap();
    assert_eq!(
        response.response_status,
        x509_ocsp::OcspResponseStatus::Successful
    );
    x509_ocsp::BasicOcspResponse::from_der(response.response_bytes.unwrap().response.as_bytes())
        .unwrap()
}

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

both_backends!(
    openssl_combines_a_full_crl_with_a_newer_empty_delta,
    |app| async move {
        // The full CRL lists the revoked certificate; its delta, built
        // seconds later, lists nothing new. OpenSSL must use the full CRL as
        // the complete one: with -use_deltas alone, OpenSSL 3.0 may pick the
        // newer delta as "complete" (get_crl_score only skips deltas under
        // -extended_crl), which is why the README gives both flags.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = publishing_root(&app, d, "EC256", "SHA256", "skew").await;
        let cert = issued_pem(&app, d, &ca, "EC256", "SHA256").await;
        revoke(&app, &cert, "KEY_COMPROMISE").await;
        let full = fetch_crl(&app, d, &ca, "skew.crl").await;
        assert_eq!(serials(&full), vec![serial_of(d, &cert)]);
        app.clock.advance(2_000);
        let delta = fetch_crl(&app, d, &ca, "skew-delta.crl").await;
        assert!(serials(&delta).is_empty());
        assert!(
            openccm_pki::time::from_x509(&delta.tbs_cert_list.this_update)
                > openccm_pki::time::from_x509(&full.tbs_cert_list.this_update)
        );
        std::fs::write(
            d.join("crls.pem"),
            [
                std::fs::read(d.join("skew.crl.pem")).unwrap(),
                std::fs::read(d.join("skew-delta.crl.pem")).unwrap(),
            ]
            .concat(),
        )
        .unwrap();
        let at = (app.clock.now_ms() / 1000).to_string();
        let (accepted, text) = run(
            d,
            "openssl",
            &[
                "verify",
                "-attime",
                &at,
                "-crl_check",
                "-extended_crl",
                "-use_deltas",
                "-CAfile",
                "ca.pem",
                "-CRLfile",
                "crls.pem",
                &format!("{cert}.pem"),
            ],
        );
        assert!(!accepted && text.contains("certificate revoked"), "{text}");
    }
);

/// A full CRL is not re-signed per revoke: the delta carries revocations
/// until it reaches the limit, and then the full CRL is rebuilt.
async fn the_full_crl_is_rebuilt_when_the_delta_reaches_its_limit(
    backend: openccm_testkit::Backend,
) {
    let mut pca = openccm_app::pca::PcaSettings {
        public_url: "http://openccm.test".to_owned(),
        ..openccm_app::pca::PcaSettings::default()
    };
    pca.revocation.delta_limit = 3;
    let app = TestApp::with_all_settings(backend, openccm_http::HttpSettings::default(), pca).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = publishing_root(&app, d, "EC256", "SHA256", "limit").await;
    let first = fetch_crl(&app, d, &ca, "limit.crl").await;
    let mut certs = Vec::new();
    for _ in 0..3 {
        certs.push(issued_pem(&app, d, &ca, "EC256", "SHA256").await);
    }
    for cert in &certs[..2] {
        revoke(&app, cert, "SUPERSEDED").await;
        let full = fetch_crl(&app, d, &ca, "limit.crl").await;
        assert_eq!(full, first, "below the limit the full CRL stays");
    }
    let delta = fetch_crl(&app, d, &ca, "limit-delta.crl").await;
    assert_eq!(serials(&delta).len(), 2);
    revoke(&app, &certs[2], "SUPERSEDED").await;
    // At the limit: the stale full CRL is served while it is rebuilt.
    let mut full = fetch_crl(&app, d, &ca, "limit.crl").await;
    for _ in 0..100 {
        if serials(&full).len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        full = fetch_crl(&app, d, &ca, "limit.crl").await;
    }
    assert_eq!(serials(&full).len(), 3);
    assert!(serials(&fetch_crl(&app, d, &ca, "limit-delta.crl").await).is_empty());
}

mod the_full_crl_is_rebuilt_when_the_delta_reaches_its_limit {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::the_full_crl_is_rebuilt_when_the_delta_reaches_its_limit(
            openccm_testkit::Backend::Sqlite,
        )
        .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::the_full_crl_is_rebuilt_when_the_delta_reaches_its_limit(
            openccm_testkit::Backend::Postgres,
        )
        .await;
    }
}
