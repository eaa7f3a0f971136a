//! The PKCS#11 key store on a real SoftHSM2 token. One test function: the
//! module is loaded once per process and reads its configuration from the
//! environment, so the steps share one token in order.

use std::sync::Arc;

use openccm_custody::{
    KeyExport, KeyStore, KeyUse, Keyring, Pkcs11Config, Pkcs11KeyStore, SoftwareKeyStore,
};
use openccm_pki::{KeyAlgorithm, Signer};
use openccm_testkit::softhsm::{SoftHsm, PIN};
use zeroize::Zeroizing;

fn verifies(signer: &dyn Signer, message: &[u8]) -> bool {
    let hash = signer.key_algorithm().default_hash();
    let signature = signer.sign(hash, message).unwrap();
    let oid = openccm_pki::algorithm::signature_oid(signer.key_algorithm(), hash).unwrap();
    openccm_pki::verify::verify(signer.public_key_der(), oid, message, &signature).is_ok()
}

#[test]
fn a_softhsm_token_holds_ca_keys_and_wraps_exportable_ones() {
    let dir = tempfile::tempdir().unwrap();
    let hsm = SoftHsm::new(dir.path(), "openccm-custody");
    let (name, value) = hsm.env();
    std::env::set_var(name, value);
    let config = Pkcs11Config {
        module: hsm.module.clone(),
        token_label: hsm.label.clone(),
        pin: Zeroizing::new(PIN.to_owned()),
    };
    let keyring = Arc::new(Keyring::from_keys(vec![(1, [9; 32])]));

    // A wrong PIN or label is refused with a clear error.
    let wrong_label = Pkcs11Config {
        token_label: "no-such-token".into(),
        ..config.clone()
    };
    let err = Pkcs11KeyStore::open(&wrong_label, keyring.clone()).unwrap_err();
    assert!(err.to_string().contains("no PKCS#11 token"), "{err}");

    let store = Pkcs11KeyStore::open(&config, keyring.clone()).unwrap();
    // CA keys of every algorithm a token can hold sign inside it.
    let mut handles = Vec::new();
    for algorithm in [
        KeyAlgorithm::Ec256,
        KeyAlgorithm::Ec384,
        KeyAlgorithm::Rsa2048,
    ] {
        let owner = format!("ca:{}", algorithm.as_str());
        let (handle, signer) = store.generate(algorithm, &owner, KeyUse::Resident).unwrap();
        assert_eq!(signer.key_algorithm(), algorithm);
        assert!(verifies(signer.as_ref(), b"to be signed"));
        // Every hash the key may sign with: the digest (DigestInfo for RSA,
        // cut to the order for ECDSA) is made here, the token signs it.
        for hash in [
            openccm_pki::HashAlgorithm::Sha256,
            openccm_pki::HashAlgorithm::Sha384,
            openccm_pki::HashAlgorithm::Sha512,
        ] {
            let message = vec![7u8; 100_000];
            let signature = signer.sign(hash, &message).unwrap();
            let oid = openccm_pki::algorithm::signature_oid(algorithm, hash).unwrap();
            openccm_pki::verify::verify(signer.public_key_der(), oid, &message, &signature)
                .unwrap_or_else(|e| panic!("{algorithm:?} with {hash:?}: {e}"));
        }
        // A resident key never leaves.
        let refused = store
            .export(&handle, KeyExport::Pem { password: None })
            .unwrap_err();
        assert!(refused.to_string().contains("never leaves"), "{refused}");
        // The software store (no token) cannot use the handle, and says why.
        let software = SoftwareKeyStore::new(keyring.clone());
        let err = software.signer(&handle).err().unwrap().to_string();
        assert!(err.contains("PKCS#11"), "{err}");
        handles.push((handle, signer.public_key_der().to_vec()));
    }
    // SM2 CA keys: a clear refusal, before anything is made.
    let err = store
        .supports(KeyAlgorithm::Sm2, KeyUse::Resident)
        .unwrap_err()
        .to_string();
    assert!(err.contains("SM2"), "{err}");
    assert!(store
        .generate(KeyAlgorithm::Sm2, "ca:sm2", KeyUse::Resident)
        .is_err());

    // The token's private keys are sensitive and not extractable, labelled
    // with their owners.
    let keys = store.private_keys().unwrap();
    assert_eq!(keys.len(), 3, "{keys:?}");
    for key in &keys {
        assert!(key.sensitive && !key.extractable, "{key:?}");
        assert!(key.label.starts_with("ca:"), "{key:?}");
    }

    // Exportable keys stay in software, wrapped by the token: they export,
    // and the key file alone does not open them.
    let (leaf, leaf_signer) = store
        .generate(KeyAlgorithm::Sm2, "cert:leaf", KeyUse::Exportable)
        .unwrap();
    assert!(verifies(leaf_signer.as_ref(), b"leaf"));
    let pem = store
        .export(&leaf, KeyExport::Pem { password: None })
        .unwrap();
    assert!(std::str::from_utf8(&pem)
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    let software = SoftwareKeyStore::new(keyring.clone());
    assert!(software.signer(&leaf).is_err());
    assert!(software
        .export(&leaf, KeyExport::Pem { password: None })
        .is_err());
    let imported = store.import("scm-cert:x", b"-----BEGIN").unwrap();
    assert_eq!(store.imported(&imported).unwrap().as_slice(), b"-----BEGIN");
    assert!(software.imported(&imported).is_err());
    // Still no exportable key in the token.
    assert_eq!(store.private_keys().unwrap().len(), 3);

    // A new process (here: a new store) finds every key again.
    drop(store);
    let store = Pkcs11KeyStore::open(&config, keyring.clone()).unwrap();
    for (handle, public_key) in &handles {
        let signer = store.signer(handle).unwrap();
        assert_eq!(signer.public_key_der(), public_key.as_slice());
        assert!(verifies(signer.as_ref(), b"after a restart"));
    }
    assert!(store.signer(&leaf).is_ok());
    assert!(store
        .export(&leaf, KeyExport::Pem { password: None })
        .is_ok());

    // The token "restarts": the login is gone; the next calls find
    // themselves logged out, reopen, log in again and succeed.
    store.log_out().unwrap();
    let signer = store.signer(&handles[1].0).unwrap();
    assert!(verifies(signer.as_ref(), b"after the sessions were closed"));
    store.log_out().unwrap();
    if let Err(e) = store.export(&leaf, KeyExport::Pem { password: None }) {
        panic!("export after a logout: {e}");
    }

    // A handle moved to another owner does not open.
    let moved = openccm_custody::KeyHandle {
        owner: "ca:other".into(),
        sealed: handles[0].0.sealed.clone(),
    };
    assert!(store.signer(&moved).is_err());

    // Destroying a CA key removes its token objects.
    store.destroy(&handles[0].0).unwrap();
    assert_eq!(store.private_keys().unwrap().len(), 2);
    assert!(store.signer(&handles[0].0).is_err());
}
