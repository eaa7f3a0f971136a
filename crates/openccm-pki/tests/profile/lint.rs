//! Each rule of the lint (`crates/openccm-pki/src/profile/lint.rs`) broken
//! on its own: a valid case is built, its DER decoded, one thing changed,
//! and the lint must refuse the re-encoded bytes with that rule's error.

use der::asn1::{BitString, Ia5String, ObjectIdentifier, OctetString, Utf8StringRef};
use der::{Decode as _, Encode};
use openccm_pki::profile::{
    build, lint, oid, CertKind, Intent, IssuerInfo, KeyUsageSet, LintedTbs,
};
use openccm_pki::{HashAlgorithm, PkiError, PkiResult};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, KeyUsages, NameConstraints, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use crate::cases::{self, Case};

/// The case's TBS, changed by `change`, linted with the case's intent.
fn lint_changed(case: &Case, change: impl FnOnce(&mut TbsCertificate)) -> PkiResult<LintedTbs> {
    let built = build(&case.issuer, &case.request).unwrap();
    let mut tbs = TbsCertificate::from_der(built.der()).unwrap();
    change(&mut tbs);
    lint(tbs.to_der().unwrap(), &case.intent())
}

fn ext_mut(tbs: &mut TbsCertificate, id: ObjectIdentifier) -> &mut Extension {
    tbs.extensions
        .as_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e.extn_id == id)
        .unwrap_or_else(|| panic!("no extension {id}"))
}

fn set_value(tbs: &mut TbsCertificate, id: ObjectIdentifier, value: &impl Encode) {
    ext_mut(tbs, id).extn_value = OctetString::new(value.to_der().unwrap()).unwrap();
}

fn set_critical(tbs: &mut TbsCertificate, id: ObjectIdentifier, critical: bool) {
    ext_mut(tbs, id).critical = critical;
}

fn remove(tbs: &mut TbsCertificate, id: ObjectIdentifier) {
    tbs.extensions.as_mut().unwrap().retain(|e| e.extn_id != id);
}

#[track_caller]
fn assert_lint(result: PkiResult<LintedTbs>, fragment: &str) {
    match result {
        Err(PkiError::Lint(message)) => {
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}")
        }
        other => panic!("expected a lint error with {fragment:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_refused(result: PkiResult<LintedTbs>, expected: impl Fn(&PkiError) -> bool) {
    match result {
        Err(e) if expected(&e) => {}
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[test]
fn every_case_passes_unchanged() {
    for case in cases::all() {
        let linted = lint_changed(&case, |_| {}).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(
            linted.der(),
            build(&case.issuer, &case.request).unwrap().der()
        );
    }
}

#[test]
fn the_tbs_must_decode_as_one_der_structure() {
    let case = cases::end_entity_rsa();
    let der = build(&case.issuer, &case.request).unwrap().der().to_vec();
    let mut trailing = der.clone();
    trailing.push(0);
    assert_lint(lint(trailing, &case.intent()), "does not decode");
    assert_lint(
        lint(der[..der.len() - 1].to_vec(), &case.intent()),
        "does not decode",
    );
    assert_lint(lint(Vec::new(), &case.intent()), "does not decode");
}

#[test]
fn the_subject_key_must_be_one_the_api_issues_for() {
    for key in ["rsa1024", "ec521"] {
        let result = lint_changed(&cases::end_entity_rsa(), |tbs| {
            tbs.subject_public_key_info =
                spki::SubjectPublicKeyInfoOwned::from_der(&cases::spki(key)).unwrap();
        });
        assert_refused(result, |e| matches!(e, PkiError::KeyAlgorithm(_)));
    }
}

#[test]
fn the_signature_algorithm_must_be_the_issuers_key_with_the_hash() {
    let case = cases::end_entity_rsa(); // EC256 issuer, SHA-256
    let result = lint_changed(&case, |tbs| {
        tbs.signature = openccm_pki::algorithm::signature_algorithm_identifier(
            openccm_pki::KeyAlgorithm::Ec256,
            HashAlgorithm::Sha384,
        )
        .unwrap();
    });
    assert_lint(result, "signature algorithm");
    // A hash that does not fit the issuer's key at all.
    let der = build(&case.issuer, &case.request).unwrap().der().to_vec();
    let intent = Intent {
        hash: HashAlgorithm::Sm3,
        ..case.intent()
    };
    assert_refused(lint(der, &intent), |e| {
        matches!(e, PkiError::SignatureAlgorithm(_))
    });
}

#[test]
fn each_extension_appears_once_and_decodes() {
    let case = cases::end_entity_rsa();
    assert_lint(
        lint_changed(&case, |tbs| {
            let copy = ext_mut(tbs, oid::SKI).clone();
            tbs.extensions.as_mut().unwrap().push(copy);
        }),
        "appears twice",
    );
    assert_lint(
        lint_changed(&case, |tbs| {
            ext_mut(tbs, oid::KEY_USAGE).extn_value = OctetString::new([0x05, 0x00]).unwrap();
        }),
        "keyUsage extension does not decode",
    );
}

fn dns_subtree(name: &str) -> GeneralSubtree {
    GeneralSubtree {
        base: GeneralName::DnsName(Ia5String::new(name).unwrap()),
        minimum: 0,
        maximum: None,
    }
}

#[test]
fn only_a_subordinate_carries_name_constraints_critical_and_supported() {
    let constraints = NameConstraints {
        permitted_subtrees: Some(vec![dns_subtree("example.com")]),
        excluded_subtrees: None,
    };
    let on_end_entity = lint_changed(&cases::end_entity_rsa(), |tbs| {
        tbs.extensions.as_mut().unwrap().push(Extension {
            extn_id: oid::NAME_CONSTRAINTS,
            critical: true,
            extn_value: OctetString::new(constraints.to_der().unwrap()).unwrap(),
        });
    });
    assert_refused(
        on_end_entity,
        |e| matches!(e, PkiError::Extension(m) if m.contains("only a subordinate")),
    );
    let sub = cases::subordinate_ec();
    assert_lint(
        lint_changed(&sub, |tbs| set_critical(tbs, oid::NAME_CONSTRAINTS, false)),
        "nameConstraints must be critical",
    );
    let with_maximum = NameConstraints {
        permitted_subtrees: Some(vec![GeneralSubtree {
            maximum: Some(3),
            ..dns_subtree("example.com")
        }]),
        excluded_subtrees: None,
    };
    assert_refused(
        lint_changed(&sub, |tbs| {
            set_value(tbs, oid::NAME_CONSTRAINTS, &with_maximum)
        }),
        |e| matches!(e, PkiError::Extension(m) if m.contains("name constraints")),
    );
}

#[test]
fn the_version_is_v3_without_unique_identifiers() {
    let case = cases::end_entity_rsa();
    assert_lint(
        lint_changed(&case, |tbs| tbs.version = Version::V2),
        "version must be v3",
    );
    assert_lint(
        lint_changed(&case, |tbs| {
            tbs.subject_unique_id = Some(BitString::from_bytes(&[1]).unwrap());
        }),
        "unique identifiers",
    );
}

#[test]
fn the_serial_is_positive_non_zero_and_at_most_20_octets() {
    let case = cases::end_entity_rsa();
    assert_lint(
        lint_changed(&case, |tbs| {
            tbs.serial_number = SerialNumber::new(&[0]).unwrap();
        }),
        "serial must be positive",
    );
    // A negative serial, and one of 21 octets: SerialNumber::new refuses to
    // make them, so the DER is edited. The serial is the first INTEGER
    // after the version ([0] { INTEGER 2 }); the TBS's length is long-form.
    let der = build(&case.issuer, &case.request).unwrap().der().to_vec();
    assert_eq!(der[1], 0x82, "a TBS this size has a two-octet length");
    let serial = case.request.serial.as_bytes();
    let at = der.windows(serial.len()).position(|w| w == serial).unwrap();
    assert_eq!(&der[at - 2..at], &[0x02, 16]);
    let mut negative = der.clone();
    negative[at] |= 0x80;
    assert_lint(lint(negative, &case.intent()), "serial must be positive");
    let mut long = der[..at - 1].to_vec();
    long.push(21);
    long.extend_from_slice(&[0x01; 21]);
    long.extend_from_slice(&der[at + serial.len()..]);
    let length = u16::from_be_bytes([der[2], der[3]]) + 5;
    long[2..4].copy_from_slice(&length.to_be_bytes());
    // The decoder already refuses more than 20 octets.
    assert!(matches!(lint(long, &case.intent()), Err(PkiError::Lint(_))));
}

#[test]
fn the_validity_is_ordered_and_within_the_issuers() {
    let case = cases::end_entity_rsa();
    assert_lint(
        lint_changed(&case, |tbs| {
            std::mem::swap(&mut tbs.validity.not_before, &mut tbs.validity.not_after);
        }),
        "notBefore must precede notAfter",
    );
    let beyond = lint_changed(&case, |tbs| {
        tbs.validity.not_after = openccm_pki::time::to_x509(case.issuer.not_after + 1000).unwrap();
    });
    assert_refused(beyond, |e| matches!(e, PkiError::Validity(_)));
    // A root is its own issuer: only the order applies.
    let mut root = cases::root_rsa();
    root.issuer.not_after = root.request.not_after - 86_400_000;
    assert!(lint_changed(&root, |_| {}).is_ok());
}

#[test]
fn the_issuer_name_is_the_issuing_cas_subject() {
    assert_lint(
        lint_changed(&cases::end_entity_rsa(), |tbs| {
            tbs.issuer = cases::name("Somebody Else");
        }),
        "issuer name",
    );
    assert_lint(
        lint_changed(&cases::root_rsa(), |tbs| {
            tbs.issuer = cases::name("Somebody Else");
        }),
        "issuer name",
    );
}

#[test]
fn a_certificate_names_a_subject_or_alternative_names() {
    let named = cases::end_entity_rsa();
    assert_lint(
        lint_changed(&named, |tbs| set_critical(tbs, oid::SAN, true)),
        "critical exactly when the subject is empty",
    );
    let unnamed = cases::end_entity_from_csr();
    assert_lint(
        lint_changed(&unnamed, |tbs| set_critical(tbs, oid::SAN, false)),
        "critical exactly when the subject is empty",
    );
    assert_lint(
        lint_changed(&unnamed, |tbs| remove(tbs, oid::SAN)),
        "needs a subject or an alternative name",
    );
    assert_lint(
        lint_changed(&unnamed, |tbs| {
            set_value(tbs, oid::SAN, &SubjectAltName(Vec::new()))
        }),
        "at least one name",
    );
    assert!(lint_changed(&named, |tbs| tbs.subject = Name::default()).is_err());
}

#[test]
fn key_usage_is_present_critical_and_fits_the_kind_and_key() {
    let ee = cases::end_entity_rsa();
    assert_lint(
        lint_changed(&ee, |tbs| remove(tbs, oid::KEY_USAGE)),
        "keyUsage must be present",
    );
    assert_lint(
        lint_changed(&ee, |tbs| set_critical(tbs, oid::KEY_USAGE, false)),
        "keyUsage must be critical",
    );
    assert_lint(
        lint_changed(&ee, |tbs| {
            set_value(tbs, oid::KEY_USAGE, &KeyUsage(KeyUsageSet::default().0));
        }),
        "at least one bit",
    );
    let usage = |flags: &[KeyUsages]| KeyUsage(KeyUsageSet::of(flags).0);
    let extension_error = |fragment: &'static str| move |e: &PkiError| matches!(e, PkiError::Extension(m) if m.contains(fragment));
    assert_refused(
        lint_changed(&ee, |tbs| {
            set_value(
                tbs,
                oid::KEY_USAGE,
                &usage(&[KeyUsages::DigitalSignature, KeyUsages::KeyCertSign]),
            );
        }),
        extension_error("only for CA certificates"),
    );
    // RSA keys never agree keys (RFC 3279).
    assert_refused(
        lint_changed(&ee, |tbs| {
            set_value(tbs, oid::KEY_USAGE, &usage(&[KeyUsages::KeyAgreement]));
        }),
        extension_error("keyAgreement"),
    );
    assert_refused(
        lint_changed(&cases::subordinate_ec(), |tbs| {
            set_value(
                tbs,
                oid::KEY_USAGE,
                &usage(&[KeyUsages::DigitalSignature, KeyUsages::CRLSign]),
            );
        }),
        extension_error("needs keyCertSign"),
    );
}

#[test]
fn basic_constraints_say_what_the_certificate_is() {
    let sub = cases::subordinate_ec();
    assert_lint(
        lint_changed(&sub, |tbs| remove(tbs, oid::BASIC_CONSTRAINTS)),
        "basicConstraints must be present",
    );
    assert_lint(
        lint_changed(&sub, |tbs| set_critical(tbs, oid::BASIC_CONSTRAINTS, false)),
        "must be critical in a CA",
    );
    assert_lint(
        lint_changed(&sub, |tbs| {
            set_value(
                tbs,
                oid::BASIC_CONSTRAINTS,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(1),
                },
            );
        }),
        "pathLenConstraint does not match",
    );
    assert_lint(
        lint_changed(&cases::end_entity_rsa(), |tbs| {
            set_value(
                tbs,
                oid::BASIC_CONSTRAINTS,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
            );
        }),
        "cA does not match",
    );
    // Deeper than the API allows.
    let deep = cases::subordinate_ec();
    let der = lint_changed(&deep, |tbs| {
        let seven = BasicConstraints {
            ca: true,
            path_len_constraint: Some(7),
        };
        set_value(tbs, oid::BASIC_CONSTRAINTS, &seven);
    })
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(der, PkiError::Lint(_)));
    let built = build(&deep.issuer, &deep.request).unwrap();
    let mut tbs = TbsCertificate::from_der(built.der()).unwrap();
    let seven = BasicConstraints {
        ca: true,
        path_len_constraint: Some(7),
    };
    set_value(&mut tbs, oid::BASIC_CONSTRAINTS, &seven);
    let intent = Intent {
        kind: CertKind::SubordinateCa { path_length: 7 },
        ..deep.intent()
    };
    assert_lint(
        lint(tbs.to_der().unwrap(), &intent),
        "path length must be 0-6",
    );
    // Deeper than the issuer's constraint leaves.
    let limited = IssuerInfo {
        path_length: Some(0),
        ..deep.issuer.clone()
    };
    let intent = Intent {
        issuer: &limited,
        ..deep.intent()
    };
    assert_refused(
        lint(built.der().to_vec(), &intent),
        |e| matches!(e, PkiError::Extension(m) if m.contains("does not allow")),
    );
}

#[test]
fn extended_key_usage_is_for_end_entities_and_time_stamping_stands_alone() {
    let eku = |oids: Vec<ObjectIdentifier>| ExtendedKeyUsage(oids);
    let tsa = cases::time_stamping();
    assert_refused(
        lint_changed(&tsa, |tbs| {
            set_value(
                tbs,
                oid::EKU,
                &eku(vec![oid::KP_TIME_STAMPING, oid::KP_SERVER_AUTH]),
            );
        }),
        |e| matches!(e, PkiError::Extension(m) if m.contains("only extended key usage")),
    );
    assert_lint(
        lint_changed(&tsa, |tbs| set_critical(tbs, oid::EKU, false)),
        "critical exactly for a time-stamping",
    );
    let ee = cases::end_entity_rsa();
    assert_lint(
        lint_changed(&ee, |tbs| set_critical(tbs, oid::EKU, true)),
        "critical exactly for a time-stamping",
    );
    assert_lint(
        lint_changed(&ee, |tbs| set_value(tbs, oid::EKU, &eku(Vec::new()))),
        "at least one purpose",
    );
    assert_refused(
        lint_changed(&cases::subordinate_ec(), |tbs| {
            tbs.extensions.as_mut().unwrap().push(Extension {
                extn_id: oid::EKU,
                critical: false,
                extn_value: OctetString::new(eku(vec![oid::KP_SERVER_AUTH]).to_der().unwrap())
                    .unwrap(),
            });
        }),
        |e| matches!(e, PkiError::Extension(m) if m.contains("CA certificates carry no")),
    );
}

#[test]
fn key_identifiers_link_subject_and_issuer_keys() {
    let ee = cases::end_entity_rsa();
    assert_lint(
        lint_changed(&ee, |tbs| remove(tbs, oid::SKI)),
        "subjectKeyIdentifier must be present",
    );
    assert_lint(
        lint_changed(&ee, |tbs| {
            set_value(
                tbs,
                oid::SKI,
                &SubjectKeyIdentifier(OctetString::new([7u8; 20]).unwrap()),
            );
        }),
        "not the subject key's identifier",
    );
    assert_lint(
        lint_changed(&ee, |tbs| remove(tbs, oid::AKI)),
        "authorityKeyIdentifier must be present",
    );
    let other = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new([7u8; 20]).unwrap()),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    assert_lint(
        lint_changed(&ee, |tbs| set_value(tbs, oid::AKI, &other)),
        "issuer's key identifier alone",
    );
    let with_serial = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(ee.issuer.key_identifier.clone()).unwrap()),
        authority_cert_issuer: None,
        authority_cert_serial_number: Some(SerialNumber::new(&[1]).unwrap()),
    };
    assert_lint(
        lint_changed(&ee, |tbs| set_value(tbs, oid::AKI, &with_serial)),
        "issuer's key identifier alone",
    );
}

#[test]
fn the_remaining_extensions_are_not_critical() {
    let ee = cases::end_entity_rsa();
    let custom = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.1");
    assert_lint(
        lint_changed(&ee, |tbs| set_critical(tbs, custom, true)),
        "must be non-critical",
    );
    assert_lint(
        lint_changed(&ee, |tbs| set_critical(tbs, oid::AIA, true)),
        "authorityInfoAccess must be non-critical",
    );
    assert_lint(
        lint_changed(&ee, |tbs| {
            set_value(tbs, oid::AIA, &AuthorityInfoAccessSyntax(Vec::new()))
        }),
        "authorityInfoAccess must be non-critical and not empty",
    );
    assert_lint(
        lint_changed(&ee, |tbs| set_critical(tbs, oid::CRL_DP, true)),
        "cRLDistributionPoints must be non-critical",
    );
    assert_lint(
        lint_changed(&ee, |tbs| {
            set_value(tbs, oid::CRL_DP, &CrlDistributionPoints(Vec::new()))
        }),
        "cRLDistributionPoints must be non-critical",
    );
    // A custom extension's value is the profile's UTF8String, but any
    // non-critical value passes: only criticality is the lint's business.
    assert!(lint_changed(&ee, |tbs| set_value(
        tbs,
        custom,
        &Utf8StringRef::new("x").unwrap()
    ))
    .is_ok());
}

#[test]
fn signing_is_refused_for_another_key_than_the_issuers() {
    // The lint's product remembers whose key it was built for.
    struct Sm2Signer(Vec<u8>);
    impl openccm_pki::Signer for Sm2Signer {
        fn key_algorithm(&self) -> openccm_pki::KeyAlgorithm {
            openccm_pki::KeyAlgorithm::Sm2
        }
        fn public_key_der(&self) -> &[u8] {
            &self.0
        }
        fn sign(&self, _: HashAlgorithm, _: &[u8]) -> PkiResult<Vec<u8>> {
            Ok(vec![0; 64])
        }
    }
    let case = cases::end_entity_rsa();
    let linted = lint_changed(&case, |_| {}).unwrap();
    assert!(matches!(
        linted.sign(&Sm2Signer(cases::spki("sm2"))),
        Err(PkiError::Signing(_))
    ));
}
