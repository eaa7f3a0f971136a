//! Bearer tokens: `X-Subject-Token` from `POST /v3/auth/tokens`, presented
//! back as `X-Auth-Token`.
//!
//! A token is the base64url form of claims sealed with AES-256-GCM under a
//! subkey of the master keyring, so it cannot be forged or altered, and every
//! server sharing the keyring accepts it without a database lookup of the
//! token itself. It names the user's `credentials_version`: changing a
//! password, disabling or deleting the user makes it useless at once. A
//! token minted by an AK/SK signature also names that access key: deleting
//! or disabling the key ends the token (checked in `Iam::authenticate_token`).
//!
//! Claims layout: the header of [`sealed`] (57 bytes) | flags (1: bit 0,
//! minted from temporary credentials) | access key (0–128 ASCII bytes:
//! absent for a password login).

use openccm_custody::Keyring;
use openccm_store::{AccessKeyId, DomainId, User, UserId};

use super::sealed;

/// Version 1 tokens did not name their access key, version 2 carried no
/// flags: neither opens, so a token minted before the key binding existed
/// cannot outlive its key.
const CLAIMS_VERSION: u8 = 3;
const FLAG_TEMPORARY: u8 = 1;
/// Longer input is not a token of ours; refuse it before decoding.
const MAX_TOKEN_LEN: usize = 512;
const AAD: &[u8] = b"openccm token";
const CONSOLE_AAD: &[u8] = b"openccm console session";

/// Whom a token is for. Each audience seals under its own associated data,
/// so a console session's token (kept in an HttpOnly cookie, ended by
/// sign-out) does not open as an `X-Auth-Token`, nor the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// `X-Auth-Token`.
    Api,
    /// The web console's session cookie.
    Console,
}

impl Audience {
    fn aad(self) -> &'static [u8] {
        match self {
            Self::Api => AAD,
            Self::Console => CONSOLE_AAD,
        }
    }
}

/// A freshly minted token.
#[derive(Clone)]
pub struct IssuedToken {
    /// The opaque token (`X-Subject-Token`).
    pub token: String,
    /// Epoch ms.
    pub issued_at: i64,
    /// Epoch ms.
    pub expires_at: i64,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Account.
    pub domain_id: DomainId,
    /// User.
    pub user_id: UserId,
    /// Epoch ms.
    pub issued_at: i64,
    /// Epoch ms.
    pub expires_at: i64,
    /// The user's credentials version when the token was minted.
    pub credentials_version: i64,
    /// The access key whose signature minted the token (directly, or through
    /// an earlier token or temporary credentials): the token dies with it.
    pub access_key: Option<AccessKeyId>,
    /// Minted (directly or not) from temporary credentials.
    pub temporary: bool,
}

/// Mints a token for `user`, valid from `now_ms` until `expires_at_ms`,
/// bound as `binding` says (the access key whose signature minted it, and
/// whether temporary credentials did).
pub fn issue(
    keyring: &Keyring,
    user: &User,
    binding: &super::Binding,
    now_ms: i64,
    expires_at_ms: i64,
) -> IssuedToken {
    issue_for(Audience::Api, keyring, user, binding, now_ms, expires_at_ms)
}

/// [`issue`], for `audience`.
pub fn issue_for(
    audience: Audience,
    keyring: &Keyring,
    user: &User,
    binding: &super::Binding,
    now_ms: i64,
    expires_at_ms: i64,
) -> IssuedToken {
    let ak = binding
        .access_key
        .as_ref()
        .map_or(&[][..], |ak| ak.as_str().as_bytes());
    let mut claims =
        sealed::Header::of(user, now_ms, expires_at_ms).claims(CLAIMS_VERSION, 1 + ak.len());
    claims.push(if binding.temporary { FLAG_TEMPORARY } else { 0 });
    claims.extend_from_slice(ak);
    IssuedToken {
        token: sealed::seal(keyring, audience.aad(), &claims),
        issued_at: now_ms,
        expires_at: expires_at_ms,
    }
}

/// Opens a token; `None` when it is not one of ours or was altered.
/// Expiry is the caller's check (it owns the clock).
pub fn open(keyring: &Keyring, token: &str) -> Option<Claims> {
    open_for(Audience::Api, keyring, token)
}

/// [`open`], for `audience`.
pub fn open_for(audience: Audience, keyring: &Keyring, token: &str) -> Option<Claims> {
    let claims = sealed::open(keyring, audience.aad(), token.as_bytes(), MAX_TOKEN_LEN)?;
    let (header, rest) = sealed::Header::read(&claims, CLAIMS_VERSION)?;
    let (flags, ak) = rest.split_first()?;
    Some(Claims {
        domain_id: header.domain_id,
        user_id: header.user_id,
        issued_at: header.issued_at,
        expires_at: header.expires_at,
        credentials_version: header.credentials_version,
        temporary: flags & FLAG_TEMPORARY != 0,
        access_key: sealed::access_key(ak).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        sealed::test_user(7)
    }

    #[test]
    fn a_console_session_does_not_open_as_an_api_token_nor_the_reverse() {
        let ring = Keyring::from_keys(vec![(1, [9; 32])]);
        let binding = super::super::Binding::default();
        let api = issue(&ring, &user(), &binding, 1000, 2000).token;
        let console = issue_for(Audience::Console, &ring, &user(), &binding, 1000, 2000).token;
        assert!(open(&ring, &api).is_some());
        assert!(open_for(Audience::Console, &ring, &console).is_some());
        assert!(open(&ring, &console).is_none());
        assert!(open_for(Audience::Console, &ring, &api).is_none());
    }

    #[test]
    fn tokens_round_trip_their_claims() {
        let ring = Keyring::from_keys(vec![(1, [9; 32])]);
        let t = issue(
            &ring,
            &user(),
            &super::super::Binding::default(),
            1000,
            2000,
        );
        assert!(
            t.token.len() >= 32,
            "SCM requires tokens of at least 32 chars"
        );
        let claims = open(&ring, &t.token).unwrap();
        assert_eq!(claims.user_id, user().user_id);
        assert_eq!(claims.domain_id, user().domain_id);
        assert_eq!(
            (
                claims.issued_at,
                claims.expires_at,
                claims.credentials_version
            ),
            (1000, 2000, 7)
        );
        assert_eq!(claims.access_key, None);
        let ak = AccessKeyId::parse("HPUAEXAMPLEAK0000001").unwrap();
        let binding = super::super::Binding {
            access_key: Some(ak.clone()),
            not_after: None,
            temporary: true,
        };
        let bound = open(&ring, &issue(&ring, &user(), &binding, 1000, 2000).token).unwrap();
        assert_eq!((bound.access_key, bound.temporary), (Some(ak), true));
        assert!(!claims.temporary);
    }

    #[test]
    fn altered_or_foreign_tokens_do_not_open() {
        let ring = Keyring::from_keys(vec![(1, [9; 32])]);
        let t = issue(
            &ring,
            &user(),
            &super::super::Binding::default(),
            1000,
            2000,
        )
        .token;
        let other = Keyring::from_keys(vec![(1, [8; 32])]);
        assert!(open(&other, &t).is_none());
        let mut bytes = t.clone().into_bytes();
        for i in 0..bytes.len() {
            let original = bytes[i];
            bytes[i] = if original == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes.clone()).unwrap();
            if altered != t {
                assert!(open(&ring, &altered).is_none(), "position {i}");
            }
            bytes[i] = original;
        }
        assert!(open(&ring, "").is_none());
        assert!(open(&ring, "not base64 !").is_none());
        assert!(open(&ring, &"A".repeat(10_000)).is_none());
    }
}
