//! Certificates built by `openccm-pki` and signed by custody keys, checked by
//! OpenSSL's command line (an independent implementation of verification).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::pedantic
)]

mod pkcs11;

use std::process::Command;

use openccm_custody::SoftwareKey;
use openccm_pki::profile::{
    self, CertKind, ExtendedKeyUsageFlags, IssuerInfo, KeyUsageSet, Serial, TbsRequest,
};
use openccm_pki::san::{AltName, AltNameKind};
use openccm_pki::{DistinguishedName, KeyAlgorithm, Signer};

const NOW: i64 = 1_764_000_000_000;
const DAY: i64 = 86_400_000;

fn dn(cn: &str) -> DistinguishedName {
    DistinguishedName {
        common_name: Some(cn.into()),
        country: Some("CN".into()),
        state: Some("Guangdong".into()),
        locality: Some("Shenzhen".into()),
        organization: Some("示例组织".into()),
        organizational_unit: Some("IT".into()),
    }
}

fn serial(n: u8) -> Serial {
    Serial::from_random([n; 16])
}

fn chain_for(algorithm: KeyAlgorithm) -> (Vec<u8>, Vec<u8>) {
    let root_key = SoftwareKey::generate(algorithm).unwrap();
    let hash = algorithm.default_hash();
    let root_name = dn("Root CA").to_name().unwrap();
    let root_ski = profile::key_identifier(root_key.public_key()).unwrap();
    let root_info = IssuerInfo {
        name: root_name.clone(),
        key_identifier: root_ski.clone(),
        not_before: NOW,
        not_after: NOW + 3650 * DAY,
        path_length: None,
        key_algorithm: algorithm,
    };
    let root = profile::build(
        &root_info,
        &TbsRequest {
            serial: serial(1),
            subject: root_name.clone(),
            subject_public_key: root_key.public_key().to_vec(),
            hash,
            not_before: NOW,
            not_after: NOW + 3650 * DAY,
            kind: CertKind::Root,
            key_usage: KeyUsageSet::ca_default(),
            extended_key_usage: ExtendedKeyUsageFlags::default(),
            alt_names: vec![],
            raw_alt_names: vec![],
            custom_extension: None,
            crl_url: None,
            ocsp_url: None,
            ca_issuers_url: None,
            name_constraints: None,
        },
    )
    .unwrap()
    .sign(&root_key)
    .unwrap();
    let leaf_key = SoftwareKey::generate(algorithm).unwrap();
    let leaf = profile::build(
        &root_info,
        &TbsRequest {
            serial: serial(2),
            subject: dn("www.example.com").to_name().unwrap(),
            subject_public_key: leaf_key.public_key().to_vec(),
            hash,
            not_before: NOW,
            not_after: NOW + 365 * DAY,
            kind: CertKind::EndEntity,
            key_usage: KeyUsageSet::end_entity_default(algorithm),
            extended_key_usage: ExtendedKeyUsageFlags {
                server_auth: true,
                ..Default::default()
            },
            alt_names: vec![AltName::parse(AltNameKind::Dns, "www.example.com").unwrap()],
            raw_alt_names: vec![],
            custom_extension: None,
            crl_url: Some("http://pki.example/crl/root.crl".into()),
            ocsp_url: Some("http://pki.example/ocsp".into()),
            ca_issuers_url: None,
            name_constraints: None,
        },
    )
    .unwrap()
    .sign(&root_key)
    .unwrap();
    (root.der, leaf.der)
}

#[test]
fn openssl_verifies_chains_of_every_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Ec256,
        KeyAlgorithm::Ec384,
        KeyAlgorithm::Sm2,
    ] {
        let (root, leaf) = chain_for(algorithm);
        let root_path = dir.path().join(format!("{algorithm}-root.pem"));
        let leaf_path = dir.path().join(format!("{algorithm}-leaf.pem"));
        std::fs::write(
            &root_path,
            openccm_pki::cert::der_to_pem(&root, openccm_pki::pem::Eol::LF).unwrap(),
        )
        .unwrap();
        std::fs::write(
            &leaf_path,
            openccm_pki::cert::der_to_pem(&leaf, openccm_pki::pem::Eol::LF).unwrap(),
        )
        .unwrap();
        let mut cmd = Command::new("openssl");
        cmd.args([
            "verify",
            "-x509_strict",
            "-attime",
            &(NOW / 1000 + 60).to_string(),
        ]);
        if algorithm == KeyAlgorithm::Sm2 {
            // OpenSSL 3.0 verifies SM2 with an empty user id unless told the
            // standard one (GM/T 0009), which OpenCCM signs with.
            cmd.args(["-vfyopt", "distid:1234567812345678"]);
        }
        let out = cmd
            .arg("-CAfile")
            .arg(&root_path)
            .arg(&leaf_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{algorithm}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn sm2_signatures_use_the_standard_default_user_id() {
    // OpenSSL's dgst, told the id explicitly, must accept our signature; and
    // must refuse it under another id.
    let dir = tempfile::tempdir().unwrap();
    let key = SoftwareKey::generate(KeyAlgorithm::Sm2).unwrap();
    let sig = key
        .sign(openccm_pki::HashAlgorithm::Sm3, b"payload")
        .unwrap();
    std::fs::write(dir.path().join("msg"), b"payload").unwrap();
    std::fs::write(dir.path().join("sig"), &sig).unwrap();
    std::fs::write(
        dir.path().join("pub.pem"),
        openccm_pki::pem::encode("PUBLIC KEY", key.public_key(), openccm_pki::pem::Eol::LF)
            .unwrap(),
    )
    .unwrap();
    let run = |id: &str| {
        Command::new("openssl")
            .current_dir(dir.path())
            .args([
                "dgst",
                "-sm3",
                "-verify",
                "pub.pem",
                "-signature",
                "sig",
                "-sigopt",
            ])
            .arg(format!("distid:{id}"))
            .arg("msg")
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(run("1234567812345678"));
    assert!(!run("8765432187654321"));
}
