//! SCM over HTTP: every operation and documented error, on both stores.
//!
//! Certificates come from the `openssl` command line (an RSA root, an
//! intermediate, leaves with PKCS#1, SEC1 and PKCS#8 keys) and from
//! OpenCCM's own private CA (SM2 dual certificates, CSR issuance). The
//! shared material and helpers live here; the tests by topic in the
//! submodules.

mod imports;
mod private_ca;
mod tags_and_more;

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
