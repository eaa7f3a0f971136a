//! What bearer tokens ([`super::token`]) and security tokens ([`super::sts`])
//! share: claims sealed with AES-256-GCM under the keyring's token subkey
//! (the AAD names the kind), in base64url, opening with a common header.
//!
//! Header layout (57 bytes): version (1) | domain id (16) | user id (16) |
//! issued at ms (8, BE) | expires at ms (8, BE) | credentials version (8, BE).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openccm_custody::Keyring;
use openccm_store::{AccessKeyId, DomainId, User, UserId};
use zeroize::Zeroizing;

/// The header's length.
pub(crate) const HEADER_LEN: usize = 57;

/// Who a sealed credential belongs to and when it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub domain_id: DomainId,
    pub user_id: UserId,
    pub issued_at: i64,
    pub expires_at: i64,
    pub credentials_version: i64,
}

fn id_bytes(hex_id: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    // Ids are validated 32-hex newtypes, so decoding cannot fail.
    let _ = hex::decode_to_slice(hex_id, &mut out);
    out
}

impl Header {
    /// The header of a credential of `user`.
    pub fn of(user: &User, issued_at: i64, expires_at: i64) -> Self {
        Self {
            domain_id: user.domain_id.clone(),
            user_id: user.user_id.clone(),
            issued_at,
            expires_at,
            credentials_version: user.credentials_version,
        }
    }

    /// Starts claims of `version` with this header.
    pub fn claims(&self, version: u8, capacity: usize) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(HEADER_LEN + capacity));
        out.push(version);
        out.extend_from_slice(&id_bytes(self.domain_id.as_str()));
        out.extend_from_slice(&id_bytes(self.user_id.as_str()));
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.extend_from_slice(&self.credentials_version.to_be_bytes());
        out
    }

    /// The header of `claims` if they are of `version`, and what follows it.
    pub fn read(claims: &[u8], version: u8) -> Option<(Self, &[u8])> {
        if claims.first() != Some(&version) {
            return None;
        }
        let i64_at = |at: usize| -> Option<i64> {
            Some(i64::from_be_bytes(claims.get(at..at + 8)?.try_into().ok()?))
        };
        let id_at = |at: usize| -> Option<[u8; 16]> { claims.get(at..at + 16)?.try_into().ok() };
        let header = Self {
            domain_id: DomainId::from_random(id_at(1)?),
            user_id: UserId::from_random(id_at(17)?),
            issued_at: i64_at(33)?,
            expires_at: i64_at(41)?,
            credentials_version: i64_at(49)?,
        };
        Some((header, claims.get(HEADER_LEN..)?))
    }
}

/// Seals `claims` as a `kind` token.
pub(crate) fn seal(keyring: &Keyring, kind: &[u8], claims: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(keyring.seal_token(kind, claims))
}

/// Opens a `kind` token of at most `max_len` characters; `None` when it is
/// not one of ours or was altered.
pub(crate) fn open(
    keyring: &Keyring,
    kind: &[u8],
    token: &[u8],
    max_len: usize,
) -> Option<Zeroizing<Vec<u8>>> {
    if token.len() > max_len {
        return None;
    }
    let sealed = URL_SAFE_NO_PAD.decode(token.trim_ascii()).ok()?;
    keyring.open_token(kind, &sealed).ok()
}

/// A user for the token tests, at credentials version `version`.
#[cfg(test)]
pub(crate) fn test_user(version: i64) -> User {
    User {
        user_id: UserId::from_random([2; 16]),
        domain_id: DomainId::from_random([1; 16]),
        name: "alice".into(),
        password_hash: None,
        is_root: false,
        enabled: true,
        credentials_version: version,
        created_at: 0,
    }
}

/// An optional access key stored as its ASCII bytes (empty: none); `Err`
/// when the bytes are not an access key.
pub(crate) fn access_key(bytes: &[u8]) -> Result<Option<AccessKeyId>, ()> {
    match bytes {
        [] => Ok(None),
        ak => std::str::from_utf8(ak)
            .ok()
            .and_then(AccessKeyId::parse)
            .map(Some)
            .ok_or(()),
    }
}
