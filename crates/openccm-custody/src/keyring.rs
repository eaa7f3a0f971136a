//! The master keyring: versioned 256-bit keys, AES-256-GCM sealing.
//!
//! File format (one key per line, mode 0600):
//!
//! ```text
//! # openccm master keyring
//! 1:<base64 of 32 random bytes>
//! ```
//!
//! The highest version seals; every listed version opens. Rotation (a later
//! issue) appends a line and re-seals, and old blobs keep opening meanwhile
//! because each sealed blob carries the version of the key that sealed it.
//!
//! Sealed blob layout: `b"ok" || version (u32 BE) || nonce (12) || ciphertext || tag (16)`.
//! The caller supplies associated data naming what the secret belongs to
//! (for example `b"sk:" || access key`), so a sealed blob copied into another
//! row does not open there.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

const MAGIC: &[u8; 2] = b"ok";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + 4 + NONCE_LEN;
const KEY_LEN: usize = 32;

/// Errors of the keyring.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The key file could not be read, created or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file exists but is not a keyring.
    #[error("master key file {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The key file is readable by group or others.
    #[error("master key file {path} has mode {mode:o}; it must be 0600 or stricter")]
    InsecurePermissions {
        /// The file.
        path: String,
        /// Its mode bits.
        mode: u32,
    },
    /// A sealed blob was sealed by a key version this keyring does not hold.
    #[error("secret sealed under master key version {0}, which the keyring does not hold")]
    UnknownVersion(u32),
    /// A sealed blob is truncated, was tampered with, or belongs to another record.
    #[error("sealed secret does not open (tampered, truncated or misplaced)")]
    Corrupt,
}

/// A secret sealed under the keyring, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(Vec<u8>);

impl SealedSecret {
    /// Wraps stored bytes. Nothing is checked until [`Keyring::open`].
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The version of the master key that sealed it, if the header is intact.
    pub fn key_version(&self) -> Option<u32> {
        let version = self.0.get(MAGIC.len()..MAGIC.len() + 4)?;
        Some(u32::from_be_bytes(version.try_into().ok()?))
    }
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealedSecret(v{:?}, {} bytes)",
            self.key_version(),
            self.0.len()
        )
    }
}

struct MasterKey([u8; KEY_LEN]);

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The versioned master keys.
pub struct Keyring {
    keys: BTreeMap<u32, MasterKey>,
    /// Per version, the subkey that seals bearer tokens (derived once: key
    /// separation keeps a token oracle from ever touching stored secrets).
    token_keys: BTreeMap<u32, MasterKey>,
    current: u32,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Reads the keyring at `path`, or creates it (mode 0600, one fresh key) when absent.
    ///
    /// Returns whether the file was created. Fails when the file is malformed,
    /// readable by others, or cannot be written.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), KeyringError> {
        let shown = path.display().to_string();
        let io = |source| KeyringError::Io {
            path: shown.clone(),
            source,
        };
        match fs::metadata(path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(KeyringError::InsecurePermissions { path: shown, mode });
                }
                let text = Zeroizing::new(fs::read_to_string(path).map_err(io)?);
                Ok((Self::parse(&text, &shown)?, false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; KEY_LEN];
                rand::rngs::OsRng.fill_bytes(&mut key);
                let ring = Self::from_keys(vec![(1, key)]);
                key.zeroize();
                let text = ring.to_file_text();
                write_new_private_file(path, text.as_bytes()).map_err(io)?;
                Ok((ring, true))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Builds a keyring from raw keys (tests, and rotation tooling later).
    pub fn from_keys(keys: Vec<(u32, [u8; KEY_LEN])>) -> Self {
        let mut map = BTreeMap::new();
        let mut token_keys = BTreeMap::new();
        for (version, key) in keys {
            token_keys.insert(version, MasterKey(*derive_from(&key, TOKEN_PURPOSE)));
            map.insert(version, MasterKey(key));
        }
        let current = map.keys().next_back().copied().unwrap_or(0);
        Self {
            keys: map,
            token_keys,
            current,
        }
    }

    fn parse(text: &str, shown: &str) -> Result<Self, KeyringError> {
        let malformed = |reason: &str| KeyringError::Malformed {
            path: shown.to_owned(),
            reason: reason.to_owned(),
        };
        let mut keys = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (version, encoded) = line
                .split_once(':')
                .ok_or_else(|| malformed("a line is not `version:base64`"))?;
            let version: u32 = version
                .parse()
                .map_err(|_| malformed("a version is not a number"))?;
            if version == 0 {
                return Err(malformed("versions start at 1"));
            }
            let raw = Zeroizing::new(
                BASE64
                    .decode(encoded.trim())
                    .map_err(|_| malformed("a key is not base64"))?,
            );
            let key: [u8; KEY_LEN] = raw
                .as_slice()
                .try_into()
                .map_err(|_| malformed("a key is not 32 bytes"))?;
            if keys.iter().any(|(v, _)| *v == version) {
                return Err(malformed("a version is listed twice"));
            }
            keys.push((version, key));
        }
        if keys.is_empty() {
            return Err(malformed("no key"));
        }
        Ok(Self::from_keys(keys))
    }

    fn to_file_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::from(
            "# openccm master keyring: the highest version seals, every version opens.\n\
             # Losing this file loses every secret in the database. Keep a copy offline.\n",
        ));
        for (version, key) in &self.keys {
            text.push_str(&version.to_string());
            text.push(':');
            text.push_str(&BASE64.encode(key.0));
            text.push('\n');
        }
        text
    }

    /// The version that seals new secrets.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Every version held, ascending.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// A value that identifies key `version` without revealing it:
    /// HMAC-SHA256(key, "openccm key check v1"). Stored in the database so a
    /// server started with the wrong key file refuses to run instead of
    /// failing on every secret.
    pub fn check_value(&self, version: u32) -> Option<[u8; 32]> {
        let key = self.keys.get(&version)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).ok()?;
        mac.update(b"openccm key check v1");
        Some(mac.finalize().into_bytes().into())
    }

    /// Seals `plaintext` under the current key, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> SealedSecret {
        seal_with(&self.keys, self.current, aad, plaintext)
    }

    /// Opens a sealed secret bound to `aad`.
    ///
    /// Fails when the key version is unknown, or the blob is truncated,
    /// tampered with or was sealed for other associated data.
    pub fn open(
        &self,
        aad: &[u8],
        sealed: &SealedSecret,
    ) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
        open_with(&self.keys, aad, sealed)
    }

    /// Seals a bearer-token payload under the current token subkey. `kind`
    /// (the AAD) names what the payload is, so that one kind of token is
    /// never accepted as another.
    pub fn seal_token(&self, kind: &[u8], payload: &[u8]) -> Vec<u8> {
        seal_with(&self.token_keys, self.current, kind, payload).0
    }

    /// Opens a token sealed by [`Keyring::seal_token`] with any held version.
    pub fn open_token(
        &self,
        kind: &[u8],
        token: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
        open_with(
            &self.token_keys,
            kind,
            &SealedSecret::from_bytes(token.to_vec()),
        )
    }

    /// Derives a 256-bit subkey of key `version` for `purpose` (HKDF-SHA256).
    pub fn derive(&self, version: u32, purpose: &str) -> Option<Zeroizing<[u8; 32]>> {
        Some(derive_from(&self.keys.get(&version)?.0, purpose))
    }
}

const TOKEN_PURPOSE: &str = "bearer token v1";

fn derive_from(key: &[u8; KEY_LEN], purpose: &str) -> Zeroizing<[u8; 32]> {
    let hk = Hkdf::<Sha256>::new(Some(b"openccm-derive-v1"), key);
    let mut out = Zeroizing::new([0u8; 32]);
    // HKDF-SHA256 expands up to 8160 bytes; 32 always succeeds.
    let _ = hk.expand(purpose.as_bytes(), out.as_mut());
    out
}

fn seal_with(
    keys: &BTreeMap<u32, MasterKey>,
    version: u32,
    aad: &[u8],
    plaintext: &[u8],
) -> SealedSecret {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&nonce);
    let full_aad = [out.as_slice(), aad].concat();
    // A keyring always holds its current version (parse refuses empty files),
    // and AES-GCM encryption fails only for inputs over 64 GiB; either way a
    // blob without ciphertext never opens, so nothing unsealed can leak.
    if let Some(key) = keys.get(&version) {
        let cipher = Aes256Gcm::new((&key.0).into());
        if let Ok(ciphertext) = cipher.encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &full_aad,
            },
        ) {
            out.extend_from_slice(&ciphertext);
        }
    }
    SealedSecret(out)
}

fn open_with(
    keys: &BTreeMap<u32, MasterKey>,
    aad: &[u8],
    sealed: &SealedSecret,
) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
    let bytes = sealed.as_bytes();
    if bytes.len() < HEADER_LEN + TAG_LEN || !bytes.starts_with(MAGIC) {
        return Err(KeyringError::Corrupt);
    }
    let version = sealed.key_version().ok_or(KeyringError::Corrupt)?;
    let key = keys
        .get(&version)
        .ok_or(KeyringError::UnknownVersion(version))?;
    let (header, ciphertext) = bytes.split_at(HEADER_LEN);
    let nonce = &header[MAGIC.len() + 4..];
    let full_aad = [header, aad].concat();
    let cipher = Aes256Gcm::new((&key.0).into());
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &full_aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| KeyringError::Corrupt)
}

/// Writes `contents` to a new file with mode 0600, atomically: the file
/// appears complete or not at all (write to a temporary sibling, fsync, rename,
/// fsync the directory). Fails if `path` already exists.
pub fn write_new_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "refusing to overwrite an existing file",
        ));
    }
    replace_private_file(path, contents)
}

/// Like [`write_new_private_file`], but replaces an existing file.
pub fn replace_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
}
