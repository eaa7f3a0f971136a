//! Fuzzing the parsers of untrusted input (proptest): CSRs, certificates,
//! private keys, PEM, OCSP requests. Each takes arbitrary bytes and valid
//! inputs with bytes flipped, inserted, deleted or cut off, and must answer
//! with a value or an error: never a panic.
//!
//! CI runs a short pass (proptest's default 256 cases per property); a long
//! run: `PROPTEST_CASES=200000 cargo test --release -p openccm-pki --test fuzz`
//! (README, Fuzzing).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::pedantic)]

use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509Name, X509Req, X509};
use proptest::prelude::*;

struct Seeds {
    csr: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: std::sync::OnceLock<Seeds> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let mut name = X509Name::builder().unwrap();
        name.append_entry_by_text("CN", "fuzz.example.com").unwrap();
        let name = name.build();
        let mut req = X509Req::builder().unwrap();
        req.set_subject_name(&name).unwrap();
        req.set_pubkey(&key).unwrap();
        let mut extensions = openssl::stack::Stack::new().unwrap();
        let san = SubjectAlternativeName::new()
            .dns("a.example.com")
            .ip("192.0.2.1")
            .email("ops@example.com")
            .build(&req.x509v3_context(None))
            .unwrap();
        extensions.push(san).unwrap();
        req.add_extensions(&extensions).unwrap();
        req.sign(&key, MessageDigest::sha256()).unwrap();
        let mut cert = X509::builder().unwrap();
        cert.set_version(2).unwrap();
        cert.set_subject_name(&name).unwrap();
        cert.set_issuer_name(&name).unwrap();
        cert.set_pubkey(&key).unwrap();
        cert.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        cert.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        cert.sign(&key, MessageDigest::sha256()).unwrap();
        Seeds {
            csr: req.build().to_der().unwrap(),
            cert: cert.build().to_der().unwrap(),
            key: key.private_key_to_pkcs8().unwrap(),
        }
    })
}

/// An edit of a valid input.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
    ];
    proptest::collection::vec(edit, 1..6)
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for edit in edits {
        let len = out.len().max(1);
        match *edit {
            Edit::Flip(i, b) => {
                if !out.is_empty() {
                    out[i % len] ^= b;
                }
            }
            Edit::Insert(i, b) => out.insert(i % (out.len() + 1), b),
            Edit::Delete(i) => {
                if !out.is_empty() {
                    out.remove(i % len);
                }
            }
            Edit::Truncate(i) => out.truncate(i % len),
        }
    }
    out
}

fn pem(label: &str, der: &[u8]) -> String {
    openccm_pki::pem::encode(label, der, openccm_pki::pem::Eol::LF).unwrap()
}

fn noise() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..512)
}

/// Text made of what PEM is made of, and a few things it is not.
fn pem_like_text() -> impl Strategy<Value = String> {
    let alphabet = vec![
        '-', 'B', 'E', 'G', 'I', 'N', ' ', 'D', 'C', 'R', 'T', '\n', '\r', 'A', '=', '+', '/', 'é',
        '\0',
    ];
    proptest::collection::vec(prop::sample::select(alphabet), 0..400).prop_map(String::from_iter)
}

proptest! {
    #[test]
    fn csrs_never_panic(edits in edits(), noise in noise()) {
        let edited = apply(&seeds().csr, &edits);
        let _ = openccm_pki::csr::parse_der(&edited);
        let _ = openccm_pki::csr::parse_der(&noise);
        let _ = openccm_pki::csr::parse_pem(&pem("CERTIFICATE REQUEST", &edited));
        if let Ok(unverified) = openccm_pki::csr::parse_der_unverified(&edited) {
            let _ = unverified.verify();
        }
    }

    #[test]
    fn certificates_never_panic(edits in edits(), noise in noise()) {
        let edited = apply(&seeds().cert, &edits);
        let _ = openccm_pki::cert::parse_der(&edited);
        let _ = openccm_pki::cert::parse_der(&noise);
        let chain = format!("{}{}", pem("CERTIFICATE", &edited), pem("CERTIFICATE", &seeds().cert));
        let _ = openccm_pki::cert::parse_pem_chain(&chain);
    }

    #[test]
    fn private_keys_never_panic(edits in edits(), noise in noise()) {
        let edited = apply(&seeds().key, &edits);
        let _ = openccm_pki::key::parse_pkcs8_der(&edited);
        let _ = openccm_pki::key::parse_pkcs8_der(&noise);
        let _ = openccm_pki::key::parse_private_key_pem(&pem("PRIVATE KEY", &edited));
        let _ = openccm_pki::key::parse_private_key_pem(&pem("EC PRIVATE KEY", &edited));
    }

    #[test]
    fn pem_text_never_panics(text in pem_like_text()) {
        let _ = openccm_pki::pem::decode_all(&text);
        let framed = format!("-----BEGIN CERTIFICATE-----\n{text}\n-----END CERTIFICATE-----\n");
        let _ = openccm_pki::pem::decode_all(&framed);
        let _ = openccm_pki::cert::parse_pem_chain(&framed);
        let _ = openccm_pki::csr::parse_pem(&framed.replace("CERTIFICATE", "CERTIFICATE REQUEST"));
        let _ = openccm_pki::key::parse_private_key_pem(&framed.replace("CERTIFICATE", "PRIVATE KEY"));
    }

    #[test]
    fn ocsp_requests_never_panic(noise in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = openccm_pki::ocsp::parse_request(&noise);
    }
}

#[test]
fn the_seeds_are_valid_so_edits_start_from_real_input() {
    let seeds = seeds();
    assert!(openccm_pki::csr::parse_der(&seeds.csr).is_ok());
    assert!(openccm_pki::cert::parse_der(&seeds.cert).is_ok());
    assert!(openccm_pki::key::parse_pkcs8_der(&seeds.key).is_ok());
}
