//! The certificates OpenCCM issues, one case each, as the application asks
//! for them (`crates/openccm-app/src/pca/ca/mod.rs` for CAs,
//! `crates/openccm-app/src/pca/certificate/mod.rs` for the rest).

use const_oid::ObjectIdentifier;
use der::asn1::{Ia5String, OctetString};
use openccm_pki::profile::{
    key_identifier, CertKind, ExtendedKeyUsageFlags, Intent, IssuerInfo, KeyUsageSet, Serial,
    TbsRequest,
};
use openccm_pki::san::{AltName, AltNameKind};
use openccm_pki::{DistinguishedName, HashAlgorithm, KeyAlgorithm};
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::name::Name;

/// 2026-01-01T00:00:00Z.
pub const JAN_2026: i64 = 1_767_225_600_000;
const DAY: i64 = 86_400_000;

/// A fixed public key (SubjectPublicKeyInfo DER).
pub fn spki(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/keys/{name}.spki.der",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn name(common_name: &str) -> Name {
    DistinguishedName {
        common_name: Some(common_name.to_owned()),
        country: Some("CN".to_owned()),
        organization: Some("OpenCCM".to_owned()),
        ..DistinguishedName::default()
    }
    .to_name()
    .unwrap()
}

/// One issuance: the issuer and the request.
pub struct Case {
    pub name: &'static str,
    pub issuer: IssuerInfo,
    pub request: TbsRequest,
}

impl Case {
    pub fn intent(&self) -> Intent<'_> {
        Intent {
            issuer: &self.issuer,
            kind: self.request.kind,
            hash: self.request.hash,
        }
    }
}

fn serial(n: u8) -> Serial {
    Serial::from_time_and_random(JAN_2026, [n; 10])
}

fn request(serial_no: u8, subject: Name, key: &str, hash: HashAlgorithm) -> TbsRequest {
    TbsRequest {
        serial: serial(serial_no),
        subject,
        subject_public_key: spki(key),
        hash,
        not_before: JAN_2026,
        not_after: JAN_2026 + 365 * DAY,
        kind: CertKind::EndEntity,
        key_usage: KeyUsageSet::default(),
        extended_key_usage: ExtendedKeyUsageFlags::default(),
        alt_names: Vec::new(),
        raw_alt_names: Vec::new(),
        custom_extension: None,
        crl_url: None,
        ocsp_url: None,
        ca_issuers_url: None,
        name_constraints: None,
    }
}

/// A root: its own issuer, ten years, the CA usages.
fn root(case: &'static str, cn: &str, key: &str, algorithm: KeyAlgorithm) -> Case {
    let subject = name(cn);
    let issuer = IssuerInfo {
        name: subject.clone(),
        key_identifier: key_identifier(&spki(key)).unwrap(),
        not_before: JAN_2026,
        not_after: JAN_2026 + 3650 * DAY,
        path_length: None,
        key_algorithm: algorithm,
    };
    let mut request = request(1, subject, key, algorithm.default_hash());
    request.kind = CertKind::Root;
    request.not_after = issuer.not_after;
    request.key_usage = KeyUsageSet::ca_default();
    Case {
        name: case,
        issuer,
        request,
    }
}

/// The issuer view of a case's certificate, for what it signs next.
fn issuer_of(case: &Case, algorithm: KeyAlgorithm) -> IssuerInfo {
    IssuerInfo {
        name: case.request.subject.clone(),
        key_identifier: key_identifier(&case.request.subject_public_key).unwrap(),
        not_before: case.request.not_before,
        not_after: case.request.not_after,
        path_length: match case.request.kind {
            CertKind::SubordinateCa { path_length } => Some(path_length),
            _ => None,
        },
        key_algorithm: algorithm,
    }
}

const CRL: &str = "http://pki.example.com/crl/ca.crl";
const OCSP: &str = "http://pki.example.com/ocsp";

pub fn root_rsa() -> Case {
    root(
        "root-rsa2048",
        "OpenCCM Golden Root RSA",
        "rsa2048",
        KeyAlgorithm::Rsa2048,
    )
}

/// A subordinate CA (P-256) under the RSA root, path length 0, with the
/// root's CRL and OCSP URLs and name constraints: what CreateCertificateAuthority
/// makes for a SUBORDINATE, and what an intermediate issued from a CSR
/// carrying constraints looks like.
pub fn subordinate_ec() -> Case {
    let parent = root_rsa();
    let mut request = request(
        2,
        name("OpenCCM Golden Sub EC"),
        "ec256",
        HashAlgorithm::Sha256,
    );
    request.kind = CertKind::SubordinateCa { path_length: 0 };
    request.not_after = JAN_2026 + 5 * 365 * DAY;
    request.key_usage = KeyUsageSet::ca_default();
    request.crl_url = Some(CRL.to_owned());
    request.ocsp_url = Some(OCSP.to_owned());
    request.name_constraints = Some(NameConstraints {
        permitted_subtrees: Some(vec![GeneralSubtree {
            base: GeneralName::DnsName(Ia5String::new("example.com").unwrap()),
            minimum: 0,
            maximum: None,
        }]),
        excluded_subtrees: Some(vec![GeneralSubtree {
            base: GeneralName::IpAddress(OctetString::new([10, 0, 0, 0, 255, 0, 0, 0]).unwrap()),
            minimum: 0,
            maximum: None,
        }]),
    });
    Case {
        name: "subordinate-ec256",
        issuer: issuer_of(&parent, KeyAlgorithm::Rsa2048),
        request,
    }
}

/// An end entity with a service-generated RSA key, every kind of
/// alternative name, two purposes, a custom extension and the CA's URLs.
pub fn end_entity_rsa() -> Case {
    let parent = subordinate_ec();
    let mut request = request(3, name("www.example.com"), "rsa2048", HashAlgorithm::Sha256);
    request.key_usage = KeyUsageSet::end_entity_default(KeyAlgorithm::Rsa2048);
    request.extended_key_usage = ExtendedKeyUsageFlags {
        server_auth: true,
        client_auth: true,
        ..ExtendedKeyUsageFlags::default()
    };
    request.alt_names = vec![
        AltName::parse(AltNameKind::Dns, "www.example.com").unwrap(),
        AltName::parse(AltNameKind::Ip, "192.0.2.7").unwrap(),
        AltName::parse(AltNameKind::Email, "ops@example.com").unwrap(),
        AltName::parse(AltNameKind::Uri, "https://www.example.com/").unwrap(),
    ];
    request.custom_extension = Some((
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.1"),
        "golden".to_owned(),
    ));
    request.crl_url = Some(CRL.to_owned());
    request.ocsp_url = Some(OCSP.to_owned());
    Case {
        name: "end-entity-rsa2048",
        issuer: issuer_of(&parent, KeyAlgorithm::Ec256),
        request,
    }
}

/// An end entity from a CSR with an empty subject: its alternative names
/// are copied from the CSR, and the extension is critical.
pub fn end_entity_from_csr() -> Case {
    let parent = subordinate_ec();
    let mut request = request(4, Name::default(), "ec384", HashAlgorithm::Sha256);
    request.key_usage = KeyUsageSet::end_entity_default(KeyAlgorithm::Ec384);
    request.raw_alt_names = vec![
        GeneralName::DnsName(Ia5String::new("api.example.com").unwrap()),
        GeneralName::IpAddress(OctetString::new([198, 51, 100, 1]).unwrap()),
    ];
    request.crl_url = Some(CRL.to_owned());
    Case {
        name: "end-entity-csr-ec384-empty-subject",
        issuer: issuer_of(&parent, KeyAlgorithm::Ec256),
        request,
    }
}

/// A time-stamping certificate: that purpose alone, critical.
pub fn time_stamping() -> Case {
    let parent = root_rsa();
    let mut request = request(
        5,
        name("OpenCCM Golden TSA"),
        "ec256",
        HashAlgorithm::Sha384,
    );
    request.key_usage = KeyUsageSet::of(&[x509_cert::ext::pkix::KeyUsages::DigitalSignature]);
    request.extended_key_usage = ExtendedKeyUsageFlags {
        time_stamping: true,
        ..ExtendedKeyUsageFlags::default()
    };
    Case {
        name: "end-entity-time-stamping",
        issuer: issuer_of(&parent, KeyAlgorithm::Rsa2048),
        request,
    }
}

pub fn root_ec384() -> Case {
    root(
        "root-ec384",
        "OpenCCM Golden Root EC",
        "ec384",
        KeyAlgorithm::Ec384,
    )
}

pub fn root_sm2() -> Case {
    root(
        "root-sm2",
        "OpenCCM Golden Root SM2",
        "sm2",
        KeyAlgorithm::Sm2,
    )
}

/// The two certificates of an SM2 dual issuance: signing and encryption,
/// same subject, under an SM2 root with SM3.
pub fn sm2_pair() -> [Case; 2] {
    let parent = root_sm2();
    let mut signing = request(6, name("tlcp.example.com"), "sm2", HashAlgorithm::Sm3);
    signing.key_usage = KeyUsageSet::end_entity_default(KeyAlgorithm::Sm2);
    signing.alt_names = vec![AltName::parse(AltNameKind::Dns, "tlcp.example.com").unwrap()];
    let mut encryption = signing.clone();
    encryption.serial = serial(7);
    encryption.subject_public_key = spki("sm2enc");
    encryption.key_usage = KeyUsageSet::sm2_encryption();
    [
        Case {
            name: "end-entity-sm2-signing",
            issuer: issuer_of(&parent, KeyAlgorithm::Sm2),
            request: signing,
        },
        Case {
            name: "end-entity-sm2-encryption",
            issuer: issuer_of(&parent, KeyAlgorithm::Sm2),
            request: encryption,
        },
    ]
}

/// Every kind of certificate issued.
pub fn all() -> Vec<Case> {
    let [signing, encryption] = sm2_pair();
    vec![
        root_rsa(),
        root_ec384(),
        root_sm2(),
        subordinate_ec(),
        end_entity_rsa(),
        end_entity_from_csr(),
        time_stamping(),
        signing,
        encryption,
    ]
}
