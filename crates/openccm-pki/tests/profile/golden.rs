//! Golden DER: each kind of certificate OpenCCM issues, built from fixed
//! inputs, must match `tests/fixtures/golden/<case>.tbs.der` byte for byte.
//! A change in the bytes a relying party reads then shows as a failing test
//! and a binary diff in review, never silently.
//!
//! After a deliberate profile change, rewrite the files with
//! `OPENCCM_BLESS=1 cargo test -p openccm-pki --test profile golden`, look
//! at them (`openssl asn1parse -inform DER -in <file>`), and commit them
//! with the change.

use der::{Decode as _, Encode as _};
use openccm_pki::profile::{build, lint};
use x509_cert::certificate::TbsCertificate;

use crate::cases;

fn golden_path(case: &str) -> String {
    format!(
        "{}/tests/fixtures/golden/{case}.tbs.der",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn every_kind_of_certificate_builds_its_golden_der() {
    let bless = std::env::var_os("OPENCCM_BLESS").is_some();
    let mut differing = Vec::new();
    for case in cases::all() {
        let built = build(&case.issuer, &case.request)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name))
            .der()
            .to_vec();
        let path = golden_path(case.name);
        if bless {
            std::fs::write(&path, &built).unwrap();
            continue;
        }
        let golden = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        if golden != built {
            differing.push(case.name);
        }
    }
    assert!(
        differing.is_empty(),
        "the DER of {differing:?} differs from its golden file (tests/profile/golden.rs says how to rewrite them after a deliberate change)"
    );
}

#[test]
fn the_lint_accepts_every_golden_certificate_as_stored() {
    // The stored bytes, not freshly built ones: a lint that starts refusing
    // what we issue fails here even if the builder changed along with it.
    for case in cases::all() {
        let golden = std::fs::read(golden_path(case.name)).unwrap();
        let linted =
            lint(golden.clone(), &case.intent()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(linted.der(), golden.as_slice());
    }
}

#[test]
fn golden_certificates_carry_what_their_kind_needs() {
    // A reading of the files independent of the lint: the extensions each
    // kind must carry, by OID, with their criticality.
    use openccm_pki::profile::oid;
    for case in cases::all() {
        let tbs =
            TbsCertificate::from_der(&std::fs::read(golden_path(case.name)).unwrap()).unwrap();
        assert_eq!(
            tbs.to_der().unwrap(),
            std::fs::read(golden_path(case.name)).unwrap()
        );
        let ext = |id| {
            tbs.extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == id)
                .map(|e| e.critical)
        };
        let is_ca = case.name.starts_with("root") || case.name.starts_with("subordinate");
        assert_eq!(ext(oid::BASIC_CONSTRAINTS), Some(is_ca), "{}", case.name);
        assert_eq!(ext(oid::KEY_USAGE), Some(true), "{}", case.name);
        assert_eq!(ext(oid::SKI), Some(false), "{}", case.name);
        assert_eq!(ext(oid::AKI), Some(false), "{}", case.name);
        assert_eq!(
            ext(oid::NAME_CONSTRAINTS),
            case.name.starts_with("subordinate").then_some(true),
            "{}",
            case.name
        );
        let empty_subject = tbs.subject.0.is_empty();
        if ext(oid::SAN).is_some() {
            assert_eq!(ext(oid::SAN), Some(empty_subject), "{}", case.name);
        }
        if case.name.contains("time-stamping") {
            assert_eq!(ext(oid::EKU), Some(true));
        }
        if case.name.starts_with("root") {
            assert_eq!(tbs.issuer, tbs.subject);
            assert_eq!(ext(oid::CRL_DP), None);
        } else {
            assert_ne!(tbs.issuer, tbs.subject);
        }
    }
}
