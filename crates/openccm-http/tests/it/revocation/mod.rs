//! CRLs and OCSP over HTTP, on both stores: what relying parties see,
//! checked with OpenSSL's own tools, pkilint, and (SM2) RustCrypto's `sm2`,
//! which shares no code with the signing path (OpenSSL). The relying-party
//! helpers live here; the tests by topic in the submodules.

mod crls;
mod deltas;
mod ocsp;

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
