//! The keyring's tests: sealing, versions, rotation and reloads.
use super::*;

fn ring() -> Keyring {
    Keyring::from_keys(vec![(1, [7u8; 32])])
}

#[test]
fn sealed_secret_opens_with_the_same_aad() {
    let ring = ring();
    let sealed = ring.seal(b"sk:AK1", b"secret");
    assert_eq!(ring.open(b"sk:AK1", &sealed).unwrap().as_slice(), b"secret");
    assert_eq!(sealed.key_version(), Some(1));
}

#[test]
fn sealed_secret_does_not_open_for_another_record() {
    let ring = ring();
    let sealed = ring.seal(b"sk:AK1", b"secret");
    assert!(matches!(
        ring.open(b"sk:AK2", &sealed),
        Err(KeyringError::Corrupt)
    ));
}

#[test]
fn every_flipped_bit_is_detected() {
    let ring = ring();
    let sealed = ring.seal(b"a", b"secret");
    for i in 0..sealed.as_bytes().len() {
        let mut bytes = sealed.as_bytes().to_vec();
        bytes[i] ^= 1;
        assert!(
            ring.open(b"a", &SealedSecret::from_bytes(bytes)).is_err(),
            "byte {i}"
        );
    }
    let truncated = SealedSecret::from_bytes(sealed.as_bytes()[..20].to_vec());
    assert!(ring.open(b"a", &truncated).is_err());
}

#[test]
fn ciphertext_does_not_contain_the_plaintext_and_nonces_differ() {
    let ring = ring();
    let a = ring.seal(b"", b"plaintext-plaintext");
    let b = ring.seal(b"", b"plaintext-plaintext");
    assert_ne!(a, b);
    assert!(!a.as_bytes().windows(9).any(|w| w == b"plaintext"));
}

#[test]
fn old_versions_open_after_rotation_and_new_secrets_use_the_newest() {
    let old = Keyring::from_keys(vec![(1, [1u8; 32])]);
    let sealed = old.seal(b"x", b"v1 secret");
    let rotated = Keyring::from_keys(vec![(1, [1u8; 32]), (2, [2u8; 32])]);
    assert_eq!(
        rotated.open(b"x", &sealed).unwrap().as_slice(),
        b"v1 secret"
    );
    assert_eq!(rotated.seal(b"x", b"new").key_version(), Some(2));
    let only_new = Keyring::from_keys(vec![(2, [2u8; 32])]);
    assert!(matches!(
        only_new.open(b"x", &sealed),
        Err(KeyringError::UnknownVersion(1))
    ));
}

#[test]
fn key_file_is_created_0600_and_reloads_identically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let (ring, created) = Keyring::load_or_create(&path).unwrap();
    assert!(created);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let sealed = ring.seal(b"aad", b"data");
    let (again, created) = Keyring::load_or_create(&path).unwrap();
    assert!(!created);
    assert_eq!(again.open(b"aad", &sealed).unwrap().as_slice(), b"data");
    assert_eq!(ring.check_value(1), again.check_value(1));
}

#[test]
fn key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    Keyring::load_or_create(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        Keyring::load_or_create(&path),
        Err(KeyringError::InsecurePermissions { .. })
    ));
}

#[test]
fn malformed_key_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("empty", ""),
        ("no_colon", "abc\n"),
        ("short_key", "1:AAAA\n"),
        ("zero_version", &format!("0:{}\n", BASE64.encode([0u8; 32]))),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(
            matches!(
                Keyring::load_or_create(&path),
                Err(KeyringError::Malformed { .. })
            ),
            "{name}"
        );
    }
}

#[test]
fn tokens_open_only_with_the_token_key() {
    let ring = ring();
    let token = ring.seal_token(b"openccm token", b"payload");
    assert_eq!(
        ring.open_token(b"openccm token", &token)
            .unwrap()
            .as_slice(),
        b"payload"
    );
    // One kind of token is not another.
    assert!(ring.open_token(b"openccm security token", &token).is_err());
    // A token is not a stored secret: the master key itself does not open it,
    // and a stored secret is not a token.
    assert!(ring
        .open(b"openccm token", &SealedSecret::from_bytes(token.clone()))
        .is_err());
    let secret = ring.seal(b"openccm token", b"payload");
    assert!(ring
        .open_token(b"openccm token", secret.as_bytes())
        .is_err());
    let other = Keyring::from_keys(vec![(1, [8u8; 32])]);
    assert!(other.open_token(b"openccm token", &token).is_err());
}

#[test]
fn derived_keys_depend_on_purpose_and_key() {
    let a = Keyring::from_keys(vec![(1, [1u8; 32])]);
    let b = Keyring::from_keys(vec![(1, [2u8; 32])]);
    assert_ne!(
        *a.derive(1, "token").unwrap(),
        *a.derive(1, "other").unwrap()
    );
    assert_ne!(
        *a.derive(1, "token").unwrap(),
        *b.derive(1, "token").unwrap()
    );
    assert_eq!(
        *a.derive(1, "token").unwrap(),
        *a.derive(1, "token").unwrap()
    );
}

#[test]
fn a_new_version_is_written_picked_up_by_a_reload_and_rekeys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let (ring, _) = Keyring::load_or_create(&path).unwrap();
    let (other, _) = Keyring::load_or_create(&path).unwrap();
    let old = ring.seal(b"sk:AK1", b"secret");
    let token = ring.seal_token(b"t", b"payload");
    assert!(
        ring.rekey(b"sk:AK1", &old).unwrap().is_none(),
        "already current"
    );

    ring.add_version(&path, 2).unwrap();
    assert_eq!(ring.current_version(), 2);
    // Another process holding the file picks the version up.
    assert_eq!(other.current_version(), 1);
    assert_eq!(other.reload(&path).unwrap(), vec![2]);
    assert_eq!(other.reload(&path).unwrap(), Vec::<u32>::new());
    assert_eq!(other.current_version(), 2);
    assert_eq!(other.check_value(2), ring.check_value(2));

    let new = ring.rekey(b"sk:AK1", &old).unwrap().unwrap();
    assert_eq!(new.key_version(), Some(2));
    assert_eq!(other.open(b"sk:AK1", &new).unwrap().as_slice(), b"secret");
    assert!(
        ring.rekey(b"sk:AK1", &new).unwrap().is_none(),
        "already current"
    );
    assert!(ring.rekey(b"sk:AK2", &old).is_err(), "bound to its row");
    // Old tokens still open; new ones are sealed under version 2.
    assert_eq!(
        other.open_token(b"t", &token).unwrap().as_slice(),
        b"payload"
    );
    let newer = SealedSecret::from_bytes(other.seal_token(b"t", b"p"));
    assert_eq!(newer.key_version(), Some(2));
    // Only version 2 opens what was re-sealed.
    let (v2, _) = {
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("2:"))
            .unwrap()
            .to_owned();
        let only = dir.path().join("only-2.key");
        replace_private_file(&only, format!("{line}\n").as_bytes()).unwrap();
        Keyring::load_or_create(&only).unwrap()
    };
    assert_eq!(v2.open(b"sk:AK1", &new).unwrap().as_slice(), b"secret");
    assert!(v2.open(b"sk:AK1", &old).is_err());
}

#[test]
fn a_reload_never_drops_or_replaces_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let (ring, _) = Keyring::load_or_create(&path).unwrap();
    ring.add_version(&path, 2).unwrap();
    // A file that lost version 1, and one whose version 1 is another key.
    replace_private_file(
        &path,
        format!("2:{}\n", BASE64.encode([1u8; 32])).as_bytes(),
    )
    .unwrap();
    assert!(ring.reload(&path).is_err());
    replace_private_file(
        &path,
        format!(
            "1:{}\n2:{}\n",
            BASE64.encode([1u8; 32]),
            BASE64.encode([2u8; 32])
        )
        .as_bytes(),
    )
    .unwrap();
    assert!(ring.reload(&path).is_err());
    assert_eq!(ring.versions(), vec![1, 2]);
}

#[test]
fn a_version_named_by_a_secret_is_taken_up_from_the_file_if_it_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let (rotating, _) = Keyring::load_or_create(&path).unwrap();
    let (other, _) = Keyring::load_or_create(&path).unwrap();
    rotating.add_version(&path, 2).unwrap();
    let sealed = rotating.seal(b"aad", b"secret");
    let token = rotating.seal_token(b"t", b"payload");
    // Not reloaded by anyone: the secret's version sends it to the file.
    assert_eq!(other.open(b"aad", &sealed).unwrap().as_slice(), b"secret");
    assert_eq!(other.current_version(), 2);
    assert_eq!(
        other.open_token(b"t", &token).unwrap().as_slice(),
        b"payload"
    );

    // A made-up version costs one read a second, and takes nothing up.
    let (third, _) = Keyring::load_or_create(&path).unwrap();
    let mut forged = sealed.as_bytes().to_vec();
    forged[2..6].copy_from_slice(&9u32.to_be_bytes());
    let forged = SealedSecret::from_bytes(forged);
    assert!(matches!(
        third.open(b"aad", &forged),
        Err(KeyringError::UnknownVersion(9))
    ));
    assert_eq!(
        third.versions(),
        vec![1, 2],
        "the read took up what the file holds"
    );
    // A version whose key in the file does not open the secret is not
    // taken up: here a keyring whose file never had version 2.
    let lone = dir.path().join("lone.key");
    let (alone, _) = Keyring::load_or_create(&lone).unwrap();
    assert!(alone.open(b"aad", &sealed).is_err());
    assert_eq!(alone.versions(), vec![1]);
}

#[test]
fn two_rotations_never_overwrite_each_other_and_the_file_keeps_its_owner_and_link() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.key");
    let (first, _) = Keyring::load_or_create(&real).unwrap();
    // Served through a link, owned by another user when we may do so.
    let link = dir.path().join("master.key");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    if fs::metadata("/proc/self").unwrap().uid() == 0 {
        std::os::unix::fs::chown(&real, Some(65534), Some(65534)).unwrap();
    }
    let owner = fs::metadata(&real).unwrap().uid();
    let (second, _) = Keyring::load_or_create(&link).unwrap();
    first.add_version(&link, 2).unwrap();
    // The second rotation, begun from the same state, finds 2 taken.
    assert!(matches!(
        second.add_version(&link, 2),
        Err(KeyringError::VersionTaken {
            version: 2,
            highest: 2
        })
    ));
    assert_eq!(
        second.check_value(2),
        first.check_value(2),
        "it read the file again"
    );
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::metadata(&real).unwrap().uid(), owner);
    assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o600);
    assert_eq!(Keyring::load(&link).unwrap().versions(), vec![1, 2]);
}
