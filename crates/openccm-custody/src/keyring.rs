//! The master keyring: versioned 256-bit keys, AES-256-GCM sealing.
//!
//! File format (one key per line, mode 0600):
//!
//! ```text
//! # openccm master keyring
//! 1:<base64 of 32 random bytes>
//! ```
//!
//! The highest version seals; every listed version opens. Rotation
//! ([`Keyring::add_version`]) appends a line, servers pick it up
//! ([`Keyring::reload`]), and every stored secret is re-sealed under it
//! ([`Keyring::rekey`]); old blobs keep opening meanwhile because each
//! sealed blob carries the version of the key that sealed it.
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
    /// A new version was to be added, and the file already holds it.
    #[error("master key version {version} is taken: the key file holds versions up to {highest}")]
    VersionTaken {
        /// The version asked for.
        version: u32,
        /// The highest the file holds.
        highest: u32,
    },
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

/// The versioned master keys. Shared by every part of a server, and
/// reloaded in place when the key file gains a version.
pub struct Keyring {
    ring: std::sync::RwLock<Ring>,
    /// The key file it was read from, read again when a secret names a
    /// version it does not hold yet (see [`Keyring::take_up`]).
    path: Option<std::path::PathBuf>,
    /// When the file was last read for that: at most once a second, so
    /// that blobs naming made-up versions cost no more than that.
    last_take_up: std::sync::Mutex<Option<std::time::Instant>>,
}

/// The keys held at one time.
struct Ring {
    keys: BTreeMap<u32, MasterKey>,
    /// Per version, the subkey that seals bearer tokens (derived once: key
    /// separation keeps a token oracle from ever touching stored secrets).
    token_keys: BTreeMap<u32, MasterKey>,
    /// The version that seals: the highest held that is at most `cap`.
    current: u32,
    /// The highest version allowed to seal: the store's newest known
    /// version ([`Keyring::seal_up_to`]). A version in the key file the
    /// store does not know yet (one added by `rotate-master-key --prepare`,
    /// not yet copied to every server) opens but never seals.
    cap: u32,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ring = self.read();
        f.debug_struct("Keyring")
            .field("versions", &ring.keys.keys().collect::<Vec<_>>())
            .field("current", &ring.current)
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
            Ok(_) => Ok((Self::read_file(path)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; KEY_LEN];
                rand::rngs::OsRng.fill_bytes(&mut key);
                let mut ring = Self::from_keys(vec![(1, key)]);
                key.zeroize();
                let text = ring.to_file_text();
                write_new_private_file(path, text.as_bytes()).map_err(io)?;
                ring.path = Some(path.to_path_buf());
                Ok((ring, true))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Builds a keyring from raw keys (tests).
    pub fn from_keys(keys: Vec<(u32, [u8; KEY_LEN])>) -> Self {
        Self {
            ring: std::sync::RwLock::new(Ring::from_keys(keys)),
            path: None,
            last_take_up: std::sync::Mutex::new(None),
        }
    }

    /// Reads an existing key file, refusing one that others can read.
    ///
    /// # Errors
    /// When the file is missing, malformed or readable by others.
    pub fn load(path: &Path) -> Result<Self, KeyringError> {
        Self::read_file(path)
    }

    fn read_file(path: &Path) -> Result<Self, KeyringError> {
        let shown = path.display().to_string();
        let io = |source| KeyringError::Io {
            path: shown.clone(),
            source,
        };
        let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyringError::InsecurePermissions { path: shown, mode });
        }
        let text = Zeroizing::new(fs::read_to_string(path).map_err(io)?);
        let mut ring = Self::parse(&text, &shown)?;
        ring.path = Some(path.to_path_buf());
        Ok(ring)
    }

    /// Reads the key file again for `version`, which a stored secret or a
    /// token names and this keyring does not hold (another server's
    /// rotation, not yet seen here), and takes it up if `opens` says the
    /// file's keys open what named it: the AES-GCM tag proves the file's
    /// key is the one that sealed it. Returns whether it was taken up.
    fn take_up(&self, version: u32, opens: impl Fn(&Ring) -> bool) -> bool {
        let Some(path) = &self.path else {
            return false;
        };
        {
            let Ok(mut last) = self.last_take_up.lock() else {
                return false;
            };
            if last.is_some_and(|at| at.elapsed() < std::time::Duration::from_secs(1)) {
                return false;
            }
            *last = Some(std::time::Instant::now());
        }
        let Ok(fresh) = Self::read_file(path) else {
            return false;
        };
        if !opens(&fresh.read()) {
            return false;
        }
        self.reload(path).is_ok() && self.read().keys.contains_key(&version)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Ring> {
        // A panic while holding the lock leaves a whole ring behind (a
        // reload swaps it in one assignment).
        self.ring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads the key file at `path` again and takes up the versions it
    /// gained; returns them (none when it is unchanged). Every version held
    /// must still be there, with the same key: a reload never drops or
    /// replaces a key that secrets may be sealed under.
    ///
    /// # Errors
    /// When the file cannot be read, or lost or changed a version.
    pub fn reload(&self, path: &Path) -> Result<Vec<u32>, KeyringError> {
        let fresh = Self::read_file(path)?;
        let mut fresh_ring = fresh
            .ring
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut ring = self
            .ring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (version, key) in &ring.keys {
            match fresh_ring.keys.get(version) {
                Some(same) if same.0 == key.0 => {}
                _ => {
                    return Err(KeyringError::Malformed {
                        path: path.display().to_string(),
                        reason: format!("master key version {version} is missing or changed"),
                    })
                }
            }
        }
        let added: Vec<u32> = fresh_ring
            .keys
            .keys()
            .filter(|v| !ring.keys.contains_key(v))
            .copied()
            .collect();
        if !added.is_empty() {
            fresh_ring.cap = ring.cap;
            fresh_ring.recompute();
            std::mem::swap(&mut *ring, &mut fresh_ring);
        }
        Ok(added)
    }

    /// Appends key version `version`, which must be one above the highest
    /// the key file at `path` holds, to that file, and takes it up: it
    /// seals from now on. The file must hold every version this keyring
    /// holds.
    ///
    /// Writers of one key file take turns (an exclusive lock on a sibling
    /// `.lock` file), and each reads the file again under the lock: two
    /// rotations at once never overwrite each other's key; the second
    /// finds `version` taken and fails. A symbolic link is followed (the
    /// file it names is replaced), and the file keeps its owner and group
    /// (a rotation run as root leaves it readable by the service's user).
    ///
    /// # Errors
    /// `VersionTaken` when the file already holds `version` or more; when
    /// the file cannot be read, locked or written.
    pub fn add_version(&self, path: &Path, version: u32) -> Result<(), KeyringError> {
        let shown = path.display().to_string();
        let io = |source| KeyringError::Io {
            path: shown.clone(),
            source,
        };
        let path = fs::canonicalize(path).map_err(io)?;
        let lock_path = path.with_file_name(format!(
            ".{}.lock",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let lock = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(io)?;
        lock.lock().map_err(io)?;
        let owner = {
            use std::os::unix::fs::MetadataExt as _;
            let meta = fs::metadata(&path).map_err(io)?;
            (meta.uid(), meta.gid())
        };
        self.reload(&path)?;
        let mut ring = self
            .ring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let highest = ring.highest();
        if highest.checked_add(1) != Some(version) {
            return Err(KeyringError::VersionTaken { version, highest });
        }
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        ring.token_keys
            .insert(version, MasterKey(*derive_from(&key, TOKEN_PURPOSE)));
        ring.keys.insert(version, MasterKey(key));
        key.zeroize();
        let (previous, previous_cap) = (ring.current, ring.cap);
        ring.current = version;
        ring.cap = version;
        let text = ring.to_file_text();
        if let Err(source) = replace_file(&path, text.as_bytes(), Some(owner)) {
            ring.keys.remove(&version);
            ring.token_keys.remove(&version);
            ring.current = previous;
            ring.cap = previous_cap;
            return Err(io(source));
        }
        // The lock goes with the file handle.
        drop(lock);
        Ok(())
    }

    /// `sealed` (bound to `aad`) sealed again under the current version, or
    /// `None` when it already is.
    ///
    /// # Errors
    /// When it does not open: an unknown version, or tampered, truncated
    /// or bound to other associated data.
    pub fn rekey(
        &self,
        aad: &[u8],
        sealed: &SealedSecret,
    ) -> Result<Option<SealedSecret>, KeyringError> {
        let ring = self.read();
        if sealed.key_version() == Some(ring.current) {
            return Ok(None);
        }
        let plaintext = open_with(&ring.keys, aad, sealed)?;
        Ok(Some(seal_with(&ring.keys, ring.current, aad, &plaintext)))
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

    /// The file's text: every version held.
    fn to_file_text(&self) -> Zeroizing<String> {
        self.read().to_file_text()
    }

    /// The version that seals new secrets.
    pub fn current_version(&self) -> u32 {
        self.read().current
    }

    /// The highest version held, sealing or not.
    pub fn highest_version(&self) -> u32 {
        self.read().highest()
    }

    /// Seals under the highest version held that is at most `version` from
    /// now on, and after every reload: `version` is the newest the store
    /// knows (servers call this at start and as the store learns versions).
    pub fn seal_up_to(&self, version: u32) {
        let mut ring = self
            .ring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ring.cap = version;
        ring.recompute();
    }

    /// Every version held, ascending.
    pub fn versions(&self) -> Vec<u32> {
        self.read().keys.keys().copied().collect()
    }

    /// A value that identifies key `version` without revealing it:
    /// HMAC-SHA256(key, "openccm key check v1"). Stored in the database so a
    /// server started with the wrong key file refuses to run instead of
    /// failing on every secret.
    pub fn check_value(&self, version: u32) -> Option<[u8; 32]> {
        let ring = self.read();
        let key = ring.keys.get(&version)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).ok()?;
        mac.update(b"openccm key check v1");
        Some(mac.finalize().into_bytes().into())
    }

    /// Seals `plaintext` under the current key, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> SealedSecret {
        let ring = self.read();
        seal_with(&ring.keys, ring.current, aad, plaintext)
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
        let opened = open_with(&self.read().keys, aad, sealed);
        match opened {
            Err(KeyringError::UnknownVersion(version))
                if self.take_up(version, |ring| open_with(&ring.keys, aad, sealed).is_ok()) =>
            {
                open_with(&self.read().keys, aad, sealed)
            }
            other => other,
        }
    }

    /// Seals a bearer-token payload under the current token subkey. `kind`
    /// (the AAD) names what the payload is, so that one kind of token is
    /// never accepted as another.
    pub fn seal_token(&self, kind: &[u8], payload: &[u8]) -> Vec<u8> {
        let ring = self.read();
        seal_with(&ring.token_keys, ring.current, kind, payload).0
    }

    /// Opens a token sealed by [`Keyring::seal_token`] with any held version.
    pub fn open_token(
        &self,
        kind: &[u8],
        token: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
        let token = SealedSecret::from_bytes(token.to_vec());
        let opened = open_with(&self.read().token_keys, kind, &token);
        match opened {
            Err(KeyringError::UnknownVersion(version))
                if self.take_up(version, |ring| {
                    open_with(&ring.token_keys, kind, &token).is_ok()
                }) =>
            {
                open_with(&self.read().token_keys, kind, &token)
            }
            other => other,
        }
    }

    /// Derives a 256-bit subkey of key `version` for `purpose` (HKDF-SHA256).
    pub fn derive(&self, version: u32, purpose: &str) -> Option<Zeroizing<[u8; 32]>> {
        Some(derive_from(&self.read().keys.get(&version)?.0, purpose))
    }
}

impl Ring {
    fn from_keys(keys: Vec<(u32, [u8; KEY_LEN])>) -> Self {
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
            cap: u32::MAX,
        }
    }

    fn highest(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or(0)
    }

    /// The sealing version: the highest held within the cap (the lowest
    /// held if none is).
    fn recompute(&mut self) {
        self.current = self
            .keys
            .keys()
            .copied()
            .filter(|v| *v <= self.cap)
            .max()
            .or_else(|| self.keys.keys().next().copied())
            .unwrap_or(0);
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
    replace_file(path, contents, None)
}

/// [`replace_private_file`], the new file given `owner` (uid, gid) first.
fn replace_file(path: &Path, contents: &[u8], owner: Option<(u32, u32)>) -> std::io::Result<()> {
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
        if let Some((uid, gid)) = owner {
            if let Err(e) = std::os::unix::fs::fchown(&file, Some(uid), Some(gid)) {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        }
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
mod tests;
